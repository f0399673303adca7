"""The actor runtime: virtual clock, scheduler, actor shell, mailboxes and trace sink.

It knows nothing about hardware; it is the only package that imports Trio.
"""

from mintactors.effects import (
    CancelTimer,
    Component,
    Effect,
    Note,
    Send,
    SetTimer,
    Stop,
    TraceLevel,
)
from mintactors.runtime._fingerprint import ScheduleFingerprint, fingerprint_of
from mintactors.runtime._pct import PCT_DEPTH, PCT_STEPS, PctPolicy
from mintactors.runtime._policies import (
    FifoPolicy,
    PendingDelivery,
    RandomPolicy,
    TieBreakPolicy,
    make_policy,
    policy_names,
    register_policy,
)
from mintactors.runtime._queue import EventQueue, QueuedDelivery
from mintactors.runtime._rng import rng_stream
from mintactors.runtime._simulation import (
    Delivery,
    RunResult,
    RuntimeState,
    Simulation,
    StopWhen,
)
from mintactors.runtime._trace import TRACE_FORMAT, DatedNote, TraceSink, to_jsonable

register_policy("pct", lambda seed: PctPolicy(rng_stream(seed, "scheduler.tie-break")))

__all__ = [
    "CancelTimer",
    "Component",
    "DatedNote",
    "Delivery",
    "Effect",
    "EventQueue",
    "FifoPolicy",
    "Note",
    "PCT_DEPTH",
    "PCT_STEPS",
    "PctPolicy",
    "PendingDelivery",
    "QueuedDelivery",
    "RandomPolicy",
    "RunResult",
    "RuntimeState",
    "ScheduleFingerprint",
    "Send",
    "SetTimer",
    "Simulation",
    "Stop",
    "StopWhen",
    "TRACE_FORMAT",
    "TieBreakPolicy",
    "TraceLevel",
    "TraceSink",
    "fingerprint_of",
    "make_policy",
    "policy_names",
    "register_policy",
    "rng_stream",
    "to_jsonable",
]
