"""Watchpoints: every change of one field over a run, and the last change before an instant.

The field is read after every delivery of a re-execution (the runtime's
``stop_when`` hook), so a watch needs no trace of its own and sees each change at
the delivery that made it: a component's state changes only while it handles a
message, and a load with a side effect (ICR's read-to-clear) happens inside one.

The last change before an instant is a reverse step. Without checkpoints it is a
watch from the start to the instant. With them it runs the stretch from the
latest checkpoint to the instant first and, only if the field did not change
there, the stretch before, and so on back: usually one short re-execution.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from mintactors.experiments.inspect._check import LineTrackingSink
from mintactors.experiments.inspect._checkpoints import CheckpointInfo
from mintactors.experiments.inspect._fields import Field, resolve_field
from mintactors.experiments.inspect._seek import Instant, Seeker
from mintactors.experiments.inspect._session import Observer, Stop
from mintactors.experiments.inspect._targets import Target
from mintactors.machine import Machine

__all__ = ["Change", "WatchReport", "last_change", "watch"]


@attrs.frozen
class Change:
    """One change of a watched field.

    Attributes:
        t_ns: when.
        before: the value before.
        after: the value after.
        delivery: the number of the delivery that made it (1 is the run's first).
        actor: that delivery's receiver.
        kind: its message kind.
        source: its sender.
        line: its line in the recorded trace (full traces; None otherwise).
    """

    t_ns: int
    before: object
    after: object
    delivery: int
    actor: str
    kind: str
    source: str
    line: int | None


@attrs.frozen
class WatchReport:
    """What a watch saw.

    Attributes:
        field: the field's path.
        start_ns: changes before this were not listed (None: from the start).
        end: where the watch ended.
        initial: the value when the listing began.
        changes: the changes listed, in order.
        final: the value at the end.
        cpu_s: CPU time of the re-executions.
        segments: re-executions made (a reverse step may need several).
    """

    field: str
    start_ns: int | None
    end: Instant
    initial: object
    changes: tuple[Change, ...]
    final: object
    cpu_s: float
    segments: int = 1


class _Watcher:
    """Reads a field after every delivery and keeps its changes."""

    def __init__(self, field: Field, start_ns: int | None) -> None:
        self.field = field
        self.start_ns = start_ns
        self.changes: list[Change] = []
        self.initial: object = None
        self.value: object = None
        self._sink: LineTrackingSink | None = None
        self._read: Callable[[], object] = lambda: None

    def attach(self, machine: Machine, sink: LineTrackingSink | None) -> Observer:
        self._read = self.field.bind(machine)
        self.initial = self.value = self._read()
        self._sink = sink
        return self.after_delivery

    def after_delivery(self, machine: Machine) -> None:
        value = self._read()
        if value == self.value:
            return
        sim = machine.simulation
        delivery = sim.last_delivery
        assert delivery is not None
        if self.start_ns is not None and delivery.t_ns < self.start_ns:
            self.initial = value  # the value the window opens with
        else:
            sink = self._sink
            line = sink.delivery_line if sink is not None and sink.delivery_line else None
            self.changes.append(
                Change(
                    delivery.t_ns,
                    self.value,
                    value,
                    sim.delivered,
                    delivery.actor,
                    delivery.kind,
                    delivery.source,
                    line,
                )
            )
        self.value = value


def _field(seeker: Seeker, text: str) -> Field:
    """Check ``text`` against a freshly built machine, before any long re-execution."""
    return resolve_field(seeker.fresh(), text)


def watch(
    seeker: Seeker, field: str, *, start_ns: int | None = None, end: Target | str | None = None
) -> WatchReport:
    """Every change of ``field`` from ``start_ns`` (default: the start) to ``end`` (the end)."""
    checked = _field(seeker, field)
    recorded = seeker.recorded
    instant = (
        seeker.resolve(end)
        if end is not None
        else Instant(recorded.end_ns, None, f"the end of the run ({recorded.end_ns} ns)")
    )
    start: CheckpointInfo | None = None
    if start_ns is not None and seeker.checkpoints is not None:
        start = seeker.checkpoints.before(t_ns=start_ns)
    watcher = _Watcher(checked, start_ns)
    done = seeker.reexecute(instant.stop(), start=start, observer=watcher.attach)
    if done.crash is not None:
        raise done.crash
    return WatchReport(
        checked.path,
        start_ns,
        instant,
        watcher.initial,
        tuple(watcher.changes),
        watcher.value,
        done.cpu_s,
    )


def last_change(seeker: Seeker, field: str, end: Target | str) -> WatchReport:
    """The last change of ``field`` at or before ``end``, found stretch by stretch backwards.

    The report's ``changes`` holds that one change (none if the field never changed).
    """
    checked = _field(seeker, field)
    instant = seeker.resolve(end)
    starts: list[CheckpointInfo | None] = []
    if seeker.checkpoints is not None:
        usable = [
            info
            for info in seeker.checkpoints.checkpoints
            if (instant.after is None and info.t_ns <= instant.t_ns)
            or (instant.after is not None and info.delivered <= instant.after)
        ]
        usable.sort(key=lambda info: info.delivered, reverse=True)
        starts += usable
    starts.append(None)
    stop = instant.stop()
    cpu = 0.0
    final: object = None
    for number, start in enumerate(starts, 1):
        watcher = _Watcher(checked, None)
        done = seeker.reexecute(stop, start=start, observer=watcher.attach)
        if done.crash is not None:
            raise done.crash
        cpu += done.cpu_s
        if number == 1:
            final = watcher.value
        if watcher.changes or start is None:
            last = watcher.changes[-1:]
            initial = last[0].before if last else watcher.initial
            return WatchReport(
                checked.path, None, instant, initial, tuple(last), final, cpu, number
            )
        assert start is not None  # the run's start is the last stretch, handled above
        stop = Stop(after=start.delivered)
    raise AssertionError("the run's start is always the last stretch")
