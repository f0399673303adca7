"""Errors raised by mintactors.

Every error a user can provoke derives from :class:`MintactorsError`, so a caller
can catch the project's errors without catching its bugs.
"""

from __future__ import annotations

__all__ = [
    "ActorCrashed",
    "ConfigError",
    "DuplicateActorError",
    "MintactorsError",
    "SimulationError",
    "UnexpectedMessage",
    "UnknownActorError",
]


class MintactorsError(Exception):
    """Base class of every error mintactors raises on purpose."""


class SimulationError(MintactorsError):
    """The runtime could not carry a run on."""


class DuplicateActorError(SimulationError):
    """Two actors were given the same name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"an actor named {name!r} already exists")
        self.name = name


class UnknownActorError(SimulationError):
    """A message was addressed to an actor the simulation does not have."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        listing = ", ".join(known) if known else "none"
        super().__init__(f"no actor named {name!r} (actors: {listing})")
        self.name = name
        self.known = known


class UnexpectedMessage(MintactorsError):
    """A component was handed a message it cannot take in its present state.

    Components raise it *before* changing any state, so the component is left as it
    was; the runtime then stops the run with :class:`ActorCrashed`.
    """

    def __init__(self, component: str, message: object, state: str = "") -> None:
        where = f" in state {state}" if state else ""
        super().__init__(f"{component} cannot take {type(message).__name__}{where}")
        self.component = component
        self.message = message
        self.state = state


class ActorCrashed(SimulationError):
    """An actor's component raised while handling a message; the run was stopped.

    The original exception is chained as ``__cause__``.
    """

    def __init__(
        self, actor: str, t_ns: int, message: object, seed: int, cause: BaseException
    ) -> None:
        super().__init__(
            f"actor {actor!r} failed at t={t_ns} ns while handling {message!r} "
            f"(seed {seed}): {type(cause).__name__}: {cause}"
        )
        self.actor = actor
        self.t_ns = t_ns
        self.message = message
        self.seed = seed
        self.cause = cause


class ConfigError(MintactorsError):
    """A configuration file, key or value is not acceptable.

    Attributes:
        source: the file (or ``<command line>``) the bad value came from.
        key: the dotted key path, or ``""`` when the whole file is at fault.
        problem: what was wrong and what is allowed.
    """

    def __init__(self, source: str, key: str, problem: str) -> None:
        where = f"{source}: {key}" if key else source
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.key = key
        self.problem = problem
