"""Toy components that exercise the runtime without any hardware model."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from mintactors.effects import Effect, Note, Send, TraceLevel

__all__ = ["Ball", "Echo", "Fan", "Rally", "Recorder", "Reply", "Tick"]


@attrs.frozen
class Ball:
    """A ball in a rally; ``n`` counts the hits so far."""

    n: int


@attrs.frozen
class Tick:
    """A bare event, for fans and timers."""

    label: str


@attrs.frozen
class Reply:
    """What an :class:`Echo` sends back: who answered, to which tick."""

    sender: str
    label: str


@attrs.define
class Rally:
    """Hits the ball back to ``partner`` after ``delay_ns`` until ``hits`` is reached."""

    partner: str
    delay_ns: int
    hits: int

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        assert isinstance(message, Ball)
        if message.n >= self.hits:
            return (Note("RallyOver", {"hits": message.n}, TraceLevel.SUMMARY),)
        return (Send(self.partner, Ball(message.n + 1), self.delay_ns),)


@attrs.define
class Fan:
    """On any message, sends a :class:`Tick` to each of ``targets`` at the same instant."""

    targets: tuple[str, ...]
    delay_ns: int = 0

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        return tuple(Send(t, Tick(f"to-{t}"), self.delay_ns) for t in self.targets)


@attrs.define
class Echo:
    """Answers every :class:`Tick` with a :class:`Reply` to ``collector``."""

    name: str
    collector: str
    delay_ns: int = 0

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        assert isinstance(message, Tick)
        return (Send(self.collector, Reply(self.name, message.label), self.delay_ns),)


@attrs.define
class Recorder:
    """Keeps every message it is handed, with the time, and does nothing else."""

    seen: list[tuple[int, object]] = attrs.field(factory=list)

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        self.seen.append((now_ns, message))
        return ()
