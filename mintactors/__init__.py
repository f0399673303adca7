"""mintactors: a deterministic simulator of the Mint interrupt-debugging environment."""

from mintactors._version import __version__
from mintactors.errors import (
    ActorCrashed,
    ConfigError,
    DuplicateActorError,
    MintactorsError,
    SimulationError,
    UnexpectedMessage,
    UnknownActorError,
)
from mintactors.runtime import (
    CancelTimer,
    Component,
    Effect,
    Note,
    RunResult,
    Send,
    SetTimer,
    Simulation,
    Stop,
    TraceLevel,
    TraceSink,
    policy_names,
    rng_stream,
)

__all__ = [
    "ActorCrashed",
    "CancelTimer",
    "Component",
    "ConfigError",
    "DuplicateActorError",
    "Effect",
    "MintactorsError",
    "Note",
    "RunResult",
    "Send",
    "SetTimer",
    "Simulation",
    "SimulationError",
    "Stop",
    "TraceLevel",
    "TraceSink",
    "UnexpectedMessage",
    "UnknownActorError",
    "__version__",
    "policy_names",
    "rng_stream",
]
