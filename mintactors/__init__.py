"""mintactors: a deterministic simulator of the Mint interrupt-debugging environment.

The names below are the curated public API. They are loaded on first use (PEP
562), so that importing a part of the package (``mintactors.hardware``, say)
loads only what that part needs: the pure model never pulls in Trio, structlog or
the experiment tools through this module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mintactors._version import __version__

if TYPE_CHECKING:
    from mintactors.config import Config, load_config, parse_config
    from mintactors.costs import CostProfile, load_profile
    from mintactors.effects import CancelTimer, Component, Effect, Note, Send, SetTimer, Stop
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
    from mintactors.experiments import AccountingError, RunOutcome, RunResults, run_config
    from mintactors.experiments.inspect import inspect
    from mintactors.machine import Machine, MachineSnapshot, build_machine
    from mintactors.runtime import (
        RunResult,
        Simulation,
        TraceLevel,
        TraceSink,
        policy_names,
        rng_stream,
    )

#: Public name -> the module that defines it.
_LAZY = {
    "AccountingError": "mintactors.experiments",
    "ActorCrashed": "mintactors.errors",
    "CancelTimer": "mintactors.effects",
    "Component": "mintactors.effects",
    "Config": "mintactors.config",
    "ConfigError": "mintactors.errors",
    "CostProfile": "mintactors.costs",
    "DuplicateActorError": "mintactors.errors",
    "Effect": "mintactors.effects",
    "IllegalValue": "mintactors.errors",
    "Machine": "mintactors.machine",
    "MachineSnapshot": "mintactors.machine",
    "MintactorsError": "mintactors.errors",
    "Note": "mintactors.effects",
    "RunOutcome": "mintactors.experiments",
    "RunResult": "mintactors.runtime",
    "RunResults": "mintactors.experiments",
    "Send": "mintactors.effects",
    "SetTimer": "mintactors.effects",
    "Simulation": "mintactors.runtime",
    "SimulationError": "mintactors.errors",
    "Stop": "mintactors.effects",
    "TraceLevel": "mintactors.effects",
    "TraceSink": "mintactors.runtime",
    "UnexpectedMessage": "mintactors.errors",
    "UnknownActorError": "mintactors.errors",
    "build_machine": "mintactors.machine",
    "inspect": "mintactors.experiments.inspect",
    "load_config": "mintactors.config",
    "load_profile": "mintactors.costs",
    "parse_config": "mintactors.config",
    "policy_names": "mintactors.runtime",
    "rng_stream": "mintactors.runtime",
    "run_config": "mintactors.experiments",
}

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
    "MachineSnapshot",
    "MintactorsError",
    "Note",
    "RunOutcome",
    "RunResult",
    "RunResults",
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
    "inspect",
    "load_config",
    "load_profile",
    "parse_config",
    "policy_names",
    "rng_stream",
    "run_config",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mintactors' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
