"""Time travel: any component's state at any instant of a recorded run, and watchpoints.

A deterministic run can be re-executed exactly from its trace header. ``inspect``
does that up to a target (a time, a trace line, a packet's hop, the first oracle
violation), checks on the way that the re-execution writes the recorded trace
line for line, and returns every component's snapshot there. A watch reads one
field after every delivery and lists its changes; the last change before an
instant is a reverse step. Checkpoints taken during a run (``run --checkpoints
N``) let a seek start near its target. The command is ``mintactors inspect``;
docs/inspect.md is the reference.
"""

from mintactors.experiments.inspect._checkpoints import (
    CHECKPOINT_DIR,
    CheckpointInfo,
    CheckpointRefused,
    CheckpointSet,
    CheckpointWriter,
    quiescent,
)
from mintactors.experiments.inspect._fields import Field, field_paths, resolve_field
from mintactors.experiments.inspect._seek import Inspection, Instant, Seeker, inspect
from mintactors.experiments.inspect._session import TraceDiverged
from mintactors.experiments.inspect._targets import (
    PACKET_STEPS,
    TARGET_FORMS,
    AtEvent,
    AtHop,
    AtTime,
    AtViolation,
    InspectError,
    Target,
    parse_target,
)
from mintactors.experiments.inspect._watch import Change, WatchReport, last_change, watch

__all__ = [
    "AtEvent",
    "AtHop",
    "AtTime",
    "AtViolation",
    "CHECKPOINT_DIR",
    "Change",
    "CheckpointInfo",
    "CheckpointRefused",
    "CheckpointSet",
    "CheckpointWriter",
    "Field",
    "InspectError",
    "Inspection",
    "Instant",
    "PACKET_STEPS",
    "Seeker",
    "TARGET_FORMS",
    "Target",
    "TraceDiverged",
    "WatchReport",
    "field_paths",
    "inspect",
    "last_change",
    "parse_target",
    "quiescent",
    "resolve_field",
    "watch",
]
