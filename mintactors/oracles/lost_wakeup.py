"""``lost_wakeup``: no frame waits in the ring while nothing will come for it.

A frame is *stranded* while it sits in the ring (the ring posted more frames than
the driver took) and nothing will take it: the driver idle (not in its handler,
no poll scheduled or running), no interrupt pending for the target core (none in
flight on the bus, none in the APIC's IRR or ISR, INTR not raised), and the NIC
source doing nothing that may still raise one (a system call under way, a held
interrupt cause). Stranded longer than ``stranded_bound_ns`` is a violation; a
frame stranded when the run ends idle never leaves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from mintactors.fields import checked, duration_ns
from mintactors.oracles._base import ORACLES, Violation
from mintactors.packets import MIN_FRAME_LEN, parse_pktgen_header

if TYPE_CHECKING:
    from mintactors.machine import Machine
    from mintactors.runtime import RunResult

__all__ = ["LostWakeup"]


class _LostWakeupWatch:
    during_run = True
    #: Any delivery: the condition also moves with time (a write-back landing, a
    #: system call entered), and an episode is dated by the delivery that saw it.
    reads: frozenset[str] | None = None

    def __init__(self, machine: Machine, bound_ns: int, found: list[Violation]) -> None:
        self.machine = machine
        self.bound_ns = bound_ns
        self.found = found
        target = machine.target_core
        self._core = machine.cores[target]
        self._apic = machine.apics[target]
        self._ring_size = machine.config.nic.ring_size
        self._driver = machine.driver
        self._ring = machine.ring
        self._source = machine.source
        self._stranded_since: int | None = None
        self._stranded_desc = -1
        self._stranded_written: int | None = None
        self.episodes = 0
        self.longest_ns = 0

    def stranded(self, now_ns: int) -> bool:
        """True when a frame waits in the ring and nothing will come for it."""
        driver, core, apic = self._driver, self._core, self._apic
        # Cheapest first: most deliveries happen with no frame waiting at all, and
        # most of the rest while its interrupt is still on its way.
        if self._ring.frames_landed(now_ns) <= driver.frames_taken:
            return False
        injector = self.machine.injector
        injected = injector.ipis_injected if injector is not None else 0
        if self._source.interrupts_raised() + injected > apic.interrupts_received:
            return False
        if driver.busy or core.in_handler is not None or core.intr_pending is not None:
            return False
        return not (apic.irr or apic.isr or self._source.may_raise(now_ns))

    def after_delivery(self, now_ns: int) -> None:
        """Open or close a stranding episode."""
        if self._stranded_since is None and (
            self._ring.frames_landed(now_ns) <= self._driver.frames_taken
        ):
            return  # no frame waits and no episode is open: the commonest case
        if self.stranded(now_ns):
            if self._stranded_since is None:
                self._stranded_since = now_ns
                self._stranded_desc = desc = self._driver.next_to_clean % self._ring_size
                self._stranded_written = self._ring.written_ns[desc]
        elif self._stranded_since is not None:
            self._end(now_ns, forever=False)

    def _seq_in(self, desc: int) -> int | None:
        """The pktgen sequence number of the frame in descriptor ``desc``'s buffer."""
        layout = self.machine.config.layout
        header = parse_pktgen_header(self.machine.memory.peek(layout.buffer(desc), MIN_FRAME_LEN))
        return header[0] if header else None

    def _end(self, now: int, *, forever: bool) -> None:
        since = self._stranded_since
        assert since is not None
        self._stranded_since = None
        duration = now - since
        self.longest_ns = max(self.longest_ns, duration)
        if not forever and duration <= self.bound_ns:
            return
        self.episodes += 1
        desc = self._stranded_desc
        seq = self._seq_in(desc)
        how_long = "from then until the run ended" if forever else f"for {duration} ns"
        message = (
            f"frame seq {seq} sat in the ring at descriptor {desc} {how_long} with the driver "
            f"idle and no interrupt pending (bound {self.bound_ns} ns): a lost wakeup"
        )
        detail = {
            "seq": seq,
            "desc": desc,
            "stranded_ns": duration,
            "forever": forever,
            # When the frame landed: the moment its interrupt was lost.
            "written_ns": self._stranded_written,
        }
        detected = None if forever else since + self.bound_ns
        self.found.append(Violation("lost_wakeup", since, detected, message, detail))

    def finish(self, run: RunResult, accounting_error: str | None) -> None:
        """An episode open at the end lasts forever if the run ended idle."""
        self.after_delivery(run.now_ns)
        if self._stranded_since is not None:
            self._end(run.now_ns, forever=run.reason == "idle")

    def report(self) -> dict[str, Any]:
        """The bound and the longest stranding seen."""
        return {"bound_ns": self.bound_ns, "longest_stranded_ns": self.longest_ns}


@ORACLES.register("lost_wakeup")
@attrs.frozen
class LostWakeup:
    """No frame is stranded in the ring for longer than ``stranded_bound_ns``."""

    name: ClassVar[str] = "lost_wakeup"
    description: ClassVar[str] = (
        "no frame sits in the ring longer than the bound while nothing will take it"
    )

    #: How long a frame may wait in the ring with nothing coming for it.
    stranded_bound_ns: int = checked(10_000, duration_ns(1))

    def watch(self, machine: Machine, found: list[Violation]) -> _LostWakeupWatch:
        """Watch the driver, the target core and APIC, the ring and the source."""
        return _LostWakeupWatch(machine, self.stranded_bound_ns, found)
