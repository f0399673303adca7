"""Errors raised by mintactors.

Every error a user can provoke derives from :class:`MintactorsError`, so a caller
can catch the project's errors without catching its bugs.
"""

from __future__ import annotations

from typing import Never

__all__ = [
    "ActorCrashed",
    "ConfigError",
    "DuplicateActorError",
    "IllegalValue",
    "MintactorsError",
    "SimulationError",
    "UnexpectedMessage",
    "UnknownActorError",
    "unexpected",
    "unknown_step",
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


class IllegalValue(MintactorsError, ValueError):
    """A component was handed a message of a kind it takes, carrying a value it cannot.

    A reserved interrupt vector, an APIC ID nobody has, a negative cost: what the
    hardware or kernel would reject, or what would corrupt the component's state.
    Like :class:`UnexpectedMessage` it is raised *before* any state changes. It is
    also a ``ValueError``, since that is what it is.

    Attributes:
        component: the component's class name.
        message: the message that carried the value.
        problem: what was wrong and what is allowed.
    """

    def __init__(self, component: str, message: object, problem: str) -> None:
        super().__init__(f"{component} cannot take {type(message).__name__}: {problem}")
        self.component = component
        self.message = message
        self.problem = problem


def unexpected(component: str, message: Never) -> UnexpectedMessage:
    """The error refusing a message outside ``component``'s input union.

    Raised in the last arm of a component's ``match``
    (``case _: raise unexpected("LocalApic", message)``): there mypy has narrowed
    ``message`` to ``Never`` when every member of the union has its own arm, so a
    new message kind that a handler ignores is a type error. At run time a
    mis-wired machine can still deliver any message, and it is refused. (It
    returns the error rather than raising it so that the ``raise`` is visible to
    readers and to linters that check every path returns.)
    """
    return UnexpectedMessage(component, message)


def unknown_step(component: str, message: object, step: Never) -> UnexpectedMessage:
    """The error refusing a step message whose ``step`` is none of its enum's members.

    The same check as :func:`unexpected`, one level down: ``step`` is the narrowed
    enum value, ``message`` the step message that carried it.
    """
    return UnexpectedMessage(component, message, f"unknown step {step!r}")


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
