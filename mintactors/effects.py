"""Effects: what a component asks the runtime to do, as plain values.

A component's ``handle(message, now_ns)`` returns a sequence of these. The runtime
performs them after ``handle`` returns, in order, so a component never touches the
scheduler, the clock or the trace directly (sans-I/O, in the manner of h11).

This module is the contract between the model and the runtime, so it sits beside
both and imports neither: ``hardware/`` and ``kernel/`` use it without loading
Trio, and ``mintactors.runtime`` re-exports it.

The effect records are values: compared by their fields, hashable, never changed
after they are made. They are nevertheless plain (not frozen) slotted attrs classes,
because a run makes one or more per delivery and a frozen class's ``__init__``
(``object.__setattr__`` per field) costs about three times as much; treat every
field as read-only.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from enum import IntEnum
from typing import Any, Protocol, TypeAlias

import attrs

__all__ = [
    "CancelTimer",
    "Component",
    "Effect",
    "Note",
    "Send",
    "SetTimer",
    "Stop",
    "TraceLevel",
    "dated_later",
]


class TraceLevel(IntEnum):
    """How much a run writes to its trace.

    ``OFF`` writes nothing; ``SUMMARY`` writes the header, the notes components mark
    as summary-worthy and the end line; ``FULL`` adds every note and every message
    delivery.
    """

    OFF = 0
    SUMMARY = 1
    FULL = 2


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class Send:
    """Deliver ``message`` to actor ``to`` after ``delay_ns`` of virtual time.

    Among deliveries due at the same nanosecond, a lower ``priority`` goes first;
    the tie-break policy orders deliveries equal in both. ``actor`` names the sender
    when it is not the actor whose ``handle`` returned the effect (a core's APIC
    acting inside the core's delivery, say).
    """

    to: str
    message: object
    delay_ns: int = 0
    priority: int = 0
    actor: str | None = None


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class SetTimer:
    """Deliver ``message`` to the asking actor after ``delay_ns``, unless cancelled.

    Setting a timer under a ``key`` that is already armed re-arms it: only the newest
    one fires.
    """

    key: Hashable
    delay_ns: int
    message: object
    priority: int = 0
    #: The actor the timer belongs to, when not the one whose ``handle`` returned it.
    actor: str | None = None


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class CancelTimer:
    """Disarm the asking actor's timer ``key``; cancelling an idle timer is harmless."""

    key: Hashable
    #: The actor the timer belongs to, when not the one whose ``handle`` returned it.
    actor: str | None = None


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class Note:
    """Write one event to the trace, ``delay_ns`` from now, under the asking actor.

    ``kind`` names the event (past tense for facts: ``PacketDropped``); ``fields``
    are its data. With ``level=TraceLevel.SUMMARY`` the note also appears in
    summary traces. A component whose costs run ahead of its deliveries (driver
    code spending time it has not slept through) dates its note ``delay_ns`` later;
    the trace still comes out in time order. ``actor`` as for :class:`Send`.
    """

    kind: str
    fields: Mapping[str, object] = attrs.field(factory=dict)
    level: TraceLevel = TraceLevel.FULL
    delay_ns: int = 0
    actor: str | None = None


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class Stop:
    """End the run after the current message, with ``reason`` in the result."""

    reason: str


Effect: TypeAlias = Send | SetTimer | CancelTimer | Note | Stop


class Component(Protocol):
    """A pure, synchronous state machine the runtime wraps as an actor.

    ``handle`` must not block, sleep, read the wall clock or draw from global
    randomness; everything it wants done it returns as effects.
    """

    def handle(self, message: Any, now_ns: int) -> Sequence[Effect] | None:
        """Take one message at virtual time ``now_ns`` and return the effects.

        The parameter is ``Any`` so that each component can declare the union of
        the messages it takes (``handle(self, message: ApicInput, ...)``) and still
        be a ``Component``.
        """
        ...


def dated_later(effect: Effect, delay_ns: int, actor: str | None = None) -> Effect:
    """``effect``, just made and shared with no one, dated ``delay_ns`` later (in place).

    For a component that works out now what it will do at a later instant (a
    direct call's return, a lookahead): its sends, timers and notes move by
    ``delay_ns`` and, given ``actor``, name it unless they name their own. A
    ``CancelTimer`` or ``Stop`` has no date and is returned as it is.
    """
    if isinstance(effect, Send | SetTimer | Note):
        effect.delay_ns += delay_ns
        if actor is not None and effect.actor is None:
            effect.actor = actor
    return effect
