"""mintactors: a deterministic simulator of the Mint interrupt-debugging environment."""

from mintactors._version import __version__
from mintactors.config import Config, load_config, parse_config
from mintactors.costs import CostProfile, load_profile
from mintactors.errors import (
    ActorCrashed,
    ConfigError,
    DuplicateActorError,
    IllegalValue,
    MintactorsError,
    SimulationError,
    UnexpectedMessage,
    UnknownActorError,
)
from mintactors.experiments import AccountingError, RunOutcome, run_config
from mintactors.machine import Machine, build_machine
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
    "AccountingError",
    "ActorCrashed",
    "CancelTimer",
    "Component",
    "Config",
    "ConfigError",
    "CostProfile",
    "DuplicateActorError",
    "Effect",
    "IllegalValue",
    "Machine",
    "MintactorsError",
    "Note",
    "RunOutcome",
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
    "build_machine",
    "load_config",
    "load_profile",
    "parse_config",
    "policy_names",
    "rng_stream",
    "run_config",
]
