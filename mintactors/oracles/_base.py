"""What an oracle is, the registry of them, and the monitor that runs them all.

An oracle is a property every run must keep. Each is one class registered in
:data:`ORACLES`: its attrs fields are its ``[oracles]`` keys (with their checks),
and :meth:`Oracle.watch` starts watching a built machine. The watch is told after
every delivery (when the oracle needs to look during the run) and once at the end;
it adds what it finds to the run's list of violations, and reports its verdict.

:class:`OracleMonitor` is the simulation's ``stop_when`` hook: it runs every
oracle's watch. The conditions change only when a message is handled, so looking
after each delivery sees every change at its exact virtual time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import attrs

from mintactors.registry import Registry

if TYPE_CHECKING:
    from mintactors.machine import Machine
    from mintactors.runtime import RunResult

__all__ = ["ORACLES", "Oracle", "OracleMonitor", "Violation", "Watch"]


@attrs.frozen
class Violation:
    """One breach of an oracle.

    Attributes:
        oracle: which oracle.
        t_ns: when the fault began (for a lost wakeup, when the frame was stranded).
        detected_ns: when it was known to be a breach (``None``: at the end of the run).
        message: one sentence for people.
        detail: the facts, for results.json.
    """

    oracle: str
    t_ns: int
    detected_ns: int | None
    message: str
    detail: dict[str, Any] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The violation as results.json holds it."""
        return {
            "oracle": self.oracle,
            "t_ns": self.t_ns,
            "detected_ns": self.detected_ns,
            "message": self.message,
            "detail": self.detail,
        }


class Watch(Protocol):
    """One oracle watching one run."""

    #: Whether :meth:`after_delivery` must be called after every delivery.
    during_run: bool
    #: The actors whose deliveries can change what :meth:`after_delivery` reads
    #: (None: any); after a delivery to another actor it is not called.
    reads: frozenset[str] | None

    def after_delivery(self, now_ns: int) -> None:
        """Look at the machine after one delivery."""
        ...

    def finish(self, run: RunResult, accounting_error: str | None) -> None:
        """Look once more at the end of the run."""
        ...

    def report(self) -> dict[str, Any]:
        """Extra fields of this oracle's verdict in results.json."""
        ...


class Oracle(Protocol):
    """An entry of :data:`ORACLES`; its attrs fields are its ``[oracles]`` keys."""

    name: ClassVar[str]
    #: One line saying what the oracle promises.
    description: ClassVar[str]

    def watch(self, machine: Machine, found: list[Violation]) -> Watch:
        """Start watching ``machine``; violations go to ``found`` as they are found."""
        ...


#: Oracles by name, in the order their verdicts are reported.
ORACLES: Registry[type[Oracle]] = Registry("oracle")


class OracleMonitor:
    """Runs every oracle over one machine's run.

    Args:
        machine: the built machine, before its run.
        oracles: the configured oracles by name (``config.oracles.entries``); an
            oracle not given runs with its defaults.
        stop_on_violation: make the run stop at the end of the instant the first
            violation is found (exploration wants the verdict, not the rest).
    """

    def __init__(
        self,
        machine: Machine,
        oracles: Mapping[str, Oracle] | None = None,
        *,
        stop_on_violation: bool = False,
    ) -> None:
        given = oracles or {}
        self.stop_on_violation = stop_on_violation
        self.violations: list[Violation] = []
        self.oracles = {name: given.get(name) or cls() for name, cls in ORACLES.items()}
        self.watches = {
            name: oracle.watch(machine, self.violations) for name, oracle in self.oracles.items()
        }
        during = [w for w in self.watches.values() if w.during_run]
        self._during = tuple(w.after_delivery for w in during)
        sim = self._simulation = machine.simulation
        # Per actor, the checks a delivery to it can concern, in the oracles' order.
        self._checks = {
            actor: tuple(w.after_delivery for w in during if w.reads is None or actor in w.reads)
            for actor in sim.actor_names
        }

    def __call__(self) -> bool:
        """Check after one delivery; true asks the run to stop (see ``stop_on_violation``)."""
        sim = self._simulation
        now = sim.now_ns
        for check in self._checks.get(sim.last_actor, self._during):
            check(now)
        return self.stop_on_violation and bool(self.violations)

    def by_actor(self) -> dict[str, Callable[[], bool]]:
        """What :meth:`__call__` checks, as one function per actor, for the mapping
        form of ``Simulation.run``'s ``stop_when``: no dispatch on every delivery."""
        return {actor: self._after(checks) for actor, checks in self._checks.items() if checks}

    def _after(self, checks: tuple[Callable[[int], None], ...]) -> Callable[[], bool]:
        sim, violations, stop = self._simulation, self.violations, self.stop_on_violation
        if len(checks) == 1:  # most actors: only the lost-wakeup watch reads them
            (check,) = checks

            def after_one() -> bool:
                check(sim.now_ns)
                return stop and bool(violations)

            return after_one

        def after_all() -> bool:
            now = sim.now_ns
            for each in checks:
                each(now)
            return stop and bool(violations)

        return after_all

    def finish(self, run: RunResult, accounting_error: str | None = None) -> None:
        """Close open episodes and add the end-of-run checks."""
        now = self._simulation.now_ns
        for check in self._during:
            check(now)
        for watch in self.watches.values():
            watch.finish(run, accounting_error)

    def first(self) -> Violation | None:
        """The violation that began first (ties: the order they were found)."""
        if not self.violations:
            return None
        return min(self.violations, key=lambda v: v.t_ns)

    def report(self) -> dict[str, Any]:
        """Per oracle: passed or not, how many violations, the first one, its extras."""
        out: dict[str, Any] = {}
        for name, watch in self.watches.items():
            mine = [v for v in self.violations if v.oracle == name]
            first = min(mine, key=lambda v: v.t_ns) if mine else None
            out[name] = {
                "ok": not mine,
                "violations": len(mine),
                "first": first.to_json() if first else None,
                **watch.report(),
            }
        return out
