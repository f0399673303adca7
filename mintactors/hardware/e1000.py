"""A real 8254x (e1000) NIC's receive side: MAC, DMA into the ring, throttled interrupts.

This is the hardware the Mint environment stands in for, modelled so the same
driver can run behind it (the paper's Table 2 compares the two at 1.5 KB). It reuses
:class:`~mintactors.hardware.rx_ring.RxRing` as its DMA engine, so descriptors,
buffers, DD-last write-back and the no-buffer drop are exactly the Mint path's.
What differs is where frames come from and how the driver is told:

* Frames arrive from the wire (:class:`~mintactors.messages.FrameArrived`, see
  :mod:`mintactors.hardware.ethernet`), already checked and stripped of their FCS.
* Each is DMA'd into the ring (:class:`PostFrame`) at the bus's speed
  (``dma_ns(length)``), not copied by a CPU. Frames wait in arrival order while
  an earlier one is being written: the RX packet FIFO (the model does not bound
  it; at 1 Gb/s the bus drains it far faster than the wire fills it).
* A frame that finds no free descriptor is missed: MPC and RNBC count it and the
  cause RXO is latched; RXO is not in the Linux driver's interrupt mask
  (``IMS_ENABLE_MASK``), so it raises no interrupt.
* A frame written back latches the cause RXT0 (receive timer; with ``RDTR = 0``,
  the driver's default, it fires at once). RXT0 is in the mask, so the NIC sends an
  interrupt message to the target core's local APIC, subject to interrupt
  throttling:

Interrupt throttling (``ITR``, in 256 ns units; domain.md 1.2-1.3, QEMU
``e1000_mit_timer``): after an interrupt is sent, no other is sent for
``itr x 256`` ns. A cause latched meanwhile is held; when the interval ends, one
interrupt covers everything held, and the interval starts again. With nothing
held, the timer stops and the next cause interrupts at once. ``itr = 0`` turns
throttling off. Linux's default ``InterruptThrottleRate = 3`` settles at 4000
interrupts/s for bulk traffic, i.e. ``ITR = 10**9 / (4000 x 256) = 976``.

The Mint-modified driver never reads ICR, so the model does not emulate ICR's
read-to-clear register: each interrupt message consumes the causes it reports.
The ICR-driven parts of e1000 (RXDMT0, link-status changes) are not modelled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from mintactors.effects import Effect, Note, Send, SetTimer, TraceLevel
from mintactors.errors import UnexpectedMessage, unexpected, unknown_step
from mintactors.hardware.registers import ICR_RXO, ICR_RXT0, IMS_ENABLE_MASK, ITR_UNIT_NS
from mintactors.hardware.snapshots import CAUSE_BITS, E1000Snapshot, bit_names
from mintactors.messages import (
    DeviceInterrupt,
    FrameArrived,
    FramePosted,
    FrameRefused,
    NicInput,
    NicStep,
    NicStepKind,
    PostFrame,
)
from mintactors.notes import NoteKind

__all__ = ["E1000Receiver", "E1000Statistics", "dma_time"]


@attrs.frozen
class _DmaTime:
    """Nanoseconds to move ``nbytes`` at ``dma_mb_s`` (a value, so a checkpoint keeps it)."""

    dma_mb_s: int

    def __call__(self, nbytes: int) -> int:
        return -(-nbytes * 1000 // self.dma_mb_s)


def dma_time(dma_mb_s: int) -> Callable[[int], int]:
    """The DMA cost function of a bus moving ``dma_mb_s`` MB/s (10**6 bytes per second)."""
    if dma_mb_s <= 0:
        raise ValueError(f"DMA bandwidth must be positive, not {dma_mb_s} MB/s")
    return _DmaTime(dma_mb_s)


@attrs.frozen
class E1000Statistics:
    """Counters of the NIC, named after the 8254x statistics where there is one.

    ``gprc``: good packets received (Good Packets Received Count); ``mpc``: frames
    missed for want of a descriptor; ``interrupts``: interrupt messages sent;
    ``causes_held``: RXT0 causes latched while the throttle timer ran (covered by
    the interrupt at the interval's end).
    """

    gprc: int
    frames_written: int
    mpc: int
    interrupts: int
    causes_held: int
    dropped_no_descriptor: int


class E1000Receiver:
    """The NIC's receive MAC, DMA and interrupt logic, as a pure component.

    Args:
        name: this actor's name (the ring answers it).
        ring: the RX ring actor that writes buffers and descriptors.
        apic: the local APIC of the core the interrupt is routed to.
        vector: the interrupt vector the driver's handler is registered for.
        dma_ns: the bus's cost of moving a frame, by length.
        itr: the throttle interval in 256 ns units (0: no throttling).
        interrupt_latency_ns: from the NIC sending the interrupt message until the
            APIC has it.
    """

    def __init__(
        self,
        *,
        name: str,
        ring: str,
        apic: str,
        vector: int,
        dma_ns: Callable[[int], int],
        itr: int,
        interrupt_latency_ns: int = 0,
    ) -> None:
        if itr < 0:
            raise ValueError(f"ITR must be at least 0, not {itr}")
        self.name = name
        self.ring = ring
        self.apic = apic
        self.vector = vector
        self.dma_ns = dma_ns
        self.itr = itr
        self.interrupt_latency_ns = interrupt_latency_ns
        self.timer_running = False
        self.held = 0  # causes latched while throttled
        self.icr_latched = 0
        self._gprc = self._written = self._mpc = self._interrupts = self._held_total = 0

    def statistics(self) -> E1000Statistics:
        """The counters so far."""
        return E1000Statistics(
            gprc=self._gprc,
            frames_written=self._written,
            mpc=self._mpc,
            interrupts=self._interrupts,
            causes_held=self._held_total,
            dropped_no_descriptor=self._mpc,
        )

    def snapshot(self) -> E1000Snapshot:
        """The causes latched and the throttle now (for inspection)."""
        return E1000Snapshot(
            icr_latched=self.icr_latched,
            icr_causes=bit_names(self.icr_latched, CAUSE_BITS),
            throttling=self.timer_running,
            held=self.held,
        )

    @property
    def throttle_ns(self) -> int:
        """The minimum time between two interrupt messages."""
        return self.itr * ITR_UNIT_NS

    def handle(self, message: NicInput, now_ns: int) -> Sequence[Effect]:
        """A frame from the wire, the ring's answer, or the throttle timer.

        Raises:
            UnexpectedMessage: a throttle expiry with no throttle timer running, or
                a message the NIC does not take.
        """
        match message:
            case FrameArrived(seq=seq, frame=frame):
                self._gprc += 1
                return (Send(self.ring, PostFrame(seq, frame, self.dma_ns(len(frame)), self.name)),)
            case FramePosted(seq=seq):
                self._written += 1
                return self._raise_cause(ICR_RXT0, seq)
            case FrameRefused(seq=seq, reason=reason):
                self._mpc += 1
                fields = {"seq": seq, "reason": reason}
                drop = Note(NoteKind.PACKET_DROPPED, fields, TraceLevel.SUMMARY)
                return (drop, *self._raise_cause(ICR_RXO, seq))
            case NicStep():
                return self._timer(message)
            case _:
                raise unexpected("E1000Receiver", message)

    def _timer(self, message: NicStep) -> Sequence[Effect]:
        step = message.step
        match step:
            case NicStepKind.THROTTLE_EXPIRED:
                if not self.timer_running:
                    raise UnexpectedMessage("E1000Receiver", message, "no throttle timer")
                return self._throttle_expired()
            case _:
                raise unknown_step("E1000Receiver", message, step)

    def _raise_cause(self, cause: int, seq: int) -> Sequence[Effect]:
        self.icr_latched |= cause
        if not cause & IMS_ENABLE_MASK:
            return ()
        if self.timer_running:
            self.held += 1
            self._held_total += 1
            return ()
        return self._interrupt(seq)

    def _interrupt(self, seq: int) -> list[Effect]:
        causes, self.icr_latched = self.icr_latched, 0
        self.held = 0
        self._interrupts += 1
        effects: list[Effect] = [
            Send(self.apic, DeviceInterrupt(self.vector, self.name), self.interrupt_latency_ns),
            Note(NoteKind.INTERRUPT_SENT, {"vector": self.vector, "icr": causes, "seq": seq}),
        ]
        if self.itr:
            self.timer_running = True
            expired = NicStep(NicStepKind.THROTTLE_EXPIRED)
            effects.append(SetTimer("itr", self.throttle_ns, expired))
        return effects

    def _throttle_expired(self) -> Sequence[Effect]:
        if self.held:
            return self._interrupt(-1)
        self.timer_running = False
        return ()
