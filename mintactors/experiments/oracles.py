"""Oracles: properties every run must keep, checked while it runs and at its end.

``conservation``
    every packet sent is delivered, dropped with a named reason, or in flight
    (:func:`~mintactors.experiments.results.account`).
``intact_once``
    every frame the application receives is intact (checksums and payload header,
    or byte-identical to the frame sent, for a replayed capture) and arrives once.
``lost_wakeup``
    no frame sits in the ring for longer than ``stranded_bound_ns`` while nothing
    will take it: the driver idle (not in its handler, no poll scheduled or
    running), no interrupt pending for the target core (none in flight on the bus,
    none in the APIC's IRR or ISR, INTR not raised), and no system call under way
    that may still send one. A frame stranded when the run ends idle never leaves.
``flow_order``
    within each flow (IPv4 5-tuple), sequence numbers arrive in increasing order.

:class:`OracleMonitor` is called after every delivery (the simulation's
``stop_when`` hook) and reads the components' state; it costs a few attribute
reads per delivery. The conditions change only when a message is handled, so
checking after each delivery sees every change at its exact virtual time.
"""

from __future__ import annotations

from typing import Any

import attrs

from mintactors.machine import Machine
from mintactors.packets import MIN_FRAME_LEN, parse_pktgen_header
from mintactors.runtime import RunResult

__all__ = ["ORACLES", "OracleMonitor", "Violation"]

#: The oracles, in the order they are reported.
ORACLES = ("conservation", "intact_once", "lost_wakeup", "flow_order")

_PROBLEM_ORACLE = {
    "malformed": "intact_once",
    "duplicate": "intact_once",
    "reordered": "flow_order",
}


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


class OracleMonitor:
    """Watches a machine's run for oracle violations.

    Args:
        machine: the built machine, before its run.
        stranded_bound_ns: how long a frame may be stranded (see ``lost_wakeup``).
        stop_on_violation: make the run stop at the end of the instant the first
            violation is found (exploration wants the verdict, not the rest).
    """

    def __init__(
        self, machine: Machine, stranded_bound_ns: int, *, stop_on_violation: bool = False
    ) -> None:
        self.machine = machine
        self.bound_ns = stranded_bound_ns
        self.stop_on_violation = stop_on_violation
        config = machine.config.machine
        target = config.node(config.target_node).cores[0]
        self._core = machine.cores[target]
        self._apic = machine.apics[target]
        self._ring_size = machine.config.nic.ring_size
        self._driver = machine.driver
        self._ring = machine.ring
        self._mechanism = machine.mechanism
        self._app = machine.app
        self._simulation = machine.simulation
        self.violations: list[Violation] = []
        self._problems_seen = 0
        self._stranded_since: int | None = None
        self._stranded_desc = -1
        self.stranded_episodes = 0
        self.longest_stranded_ns = 0

    # -- during the run -------------------------------------------------------------

    def stranded(self) -> bool:
        """True when a frame waits in the ring and nothing will come for it."""
        driver, core, apic = self._driver, self._core, self._apic
        if driver.busy or core.in_handler is not None or core.intr_pending is not None:
            return False
        if apic.irr or apic.isr or self._mechanism.call is not None:
            return False
        if self._ring.frames_posted <= driver.frames_taken:
            return False
        injector = self.machine.injector
        injected = injector.ipis_injected if injector is not None else 0
        sent = self._mechanism.statistics().icr_writes + injected
        return sent <= apic.statistics().ipi_received

    def __call__(self) -> bool:
        """Check after one delivery; true asks the run to stop (see ``stop_on_violation``)."""
        problems = self._app.problems
        if len(problems) > self._problems_seen:
            for t_ns, kind, detail in problems[self._problems_seen :]:
                self._record_problem(t_ns, kind, detail)
            self._problems_seen = len(problems)
        if self.stranded():
            if self._stranded_since is None:
                self._stranded_since = self._simulation.now_ns
                self._stranded_desc = self._driver.next_to_clean % self._ring_size
        elif self._stranded_since is not None:
            self._end_stranding(self._simulation.now_ns, forever=False)
        return self.stop_on_violation and bool(self.violations)

    def _record_problem(self, t_ns: int, kind: str, detail: dict[str, object]) -> None:
        oracle = _PROBLEM_ORACLE[kind]
        seq = detail.get("seq")
        match kind:
            case "malformed":
                message = f"frame seq {seq} reached the application damaged ({detail['problem']})"
            case "duplicate":
                message = f"frame seq {seq} reached the application twice"
            case _:
                message = f"frame seq {seq} arrived after seq {detail['after']} of the same flow"
        self.violations.append(Violation(oracle, t_ns, t_ns, message, dict(detail)))

    def _stranded_seq(self, desc: int) -> int | None:
        """The pktgen sequence number of the frame in descriptor ``desc``'s buffer."""
        machine = self.machine
        layout = machine.config.layout
        frame = machine.memory.peek(layout.buffer(desc), MIN_FRAME_LEN)
        header = parse_pktgen_header(frame)
        return header[0] if header else None

    def _end_stranding(self, now: int, *, forever: bool) -> None:
        since = self._stranded_since
        assert since is not None
        self._stranded_since = None
        duration = now - since
        self.longest_stranded_ns = max(self.longest_stranded_ns, duration)
        if not forever and duration <= self.bound_ns:
            return
        self.stranded_episodes += 1
        desc = self._stranded_desc
        seq = self._stranded_seq(desc)
        how_long = "from then until the run ended" if forever else f"for {duration} ns"
        message = (
            f"frame seq {seq} sat in the ring at descriptor {desc} {how_long} with the driver "
            f"idle and no interrupt pending (bound {self.bound_ns} ns): a lost wakeup"
        )
        detail = {"seq": seq, "desc": desc, "stranded_ns": duration, "forever": forever}
        detected = None if forever else since + self.bound_ns
        self.violations.append(Violation("lost_wakeup", since, detected, message, detail))

    # -- at the end -------------------------------------------------------------------

    def finish(self, run: RunResult, accounting_error: str | None = None) -> None:
        """Close open episodes and add the end-of-run checks."""
        self()
        if self._stranded_since is not None:
            if run.reason == "idle":
                self._end_stranding(run.now_ns, forever=True)
            else:
                self._end_stranding(run.now_ns, forever=False)
        if accounting_error is not None:
            self.violations.append(
                Violation("conservation", run.now_ns, None, accounting_error, {})
            )

    def first(self) -> Violation | None:
        """The violation that began first (ties: the order they were found)."""
        if not self.violations:
            return None
        return min(self.violations, key=lambda v: v.t_ns)

    def report(self) -> dict[str, Any]:
        """Per oracle: passed or not, how many violations, the first one."""
        out: dict[str, Any] = {}
        for oracle in ORACLES:
            mine = [v for v in self.violations if v.oracle == oracle]
            first = min(mine, key=lambda v: v.t_ns) if mine else None
            out[oracle] = {
                "ok": not mine,
                "violations": len(mine),
                "first": first.to_json() if first else None,
            }
        out["lost_wakeup"]["bound_ns"] = self.bound_ns
        out["lost_wakeup"]["longest_stranded_ns"] = self.longest_stranded_ns
        return out
