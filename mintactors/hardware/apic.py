"""The local APIC of one core: sending fixed IPIs, and IRR/ISR for receiving them.

Theory of operation (Intel SDM Vol. 3A 10.6 and 10.8; QEMU ``hw/intc/apic.c``):

* Software on the core writes the ICR (:meth:`LocalApic.write_icr`); the APIC
  sends a fixed IPI to the destination APIC, which receives it ``latency`` later
  (domain.md 3.3: about 0.5-2 us on bare metal; configurable).
* An arriving fixed IPI sets ``IRR[vector]``. If that bit is already set, the new
  IPI merges into it and is counted as merged (SDM 10.8.4: "additional interrupts
  ... are collapsed into the single bit in the IRR"). So at most one interrupt per
  vector waits in IRR while another is in service in ISR.
* A device's interrupt message (:class:`DeviceInterrupt`, a real NIC's MSI) sets
  and merges into IRR the same way, and is counted apart from IPIs.
* The APIC raises INTR to its core for the highest IRR vector whose priority class
  (``vector >> 4``) is above the processor priority class ``max(TPR, highest ISR)
  >> 4`` (:meth:`LocalApic.deliverable`).
* The core acknowledges when its IF flag allows (:meth:`LocalApic.acknowledge`):
  the bit moves from IRR to ISR.
* The EOI write (:meth:`LocalApic.eoi`) clears the highest ISR bit; a waiting IRR
  bit may then be raised to the core.

One chip, two actors. The bus side (IPIs and device interrupts arriving) is
messages, because it crosses between chips and takes time. The core side (INTR,
the acknowledge cycle, EOI and ICR writes by the core's own instructions) is wired
inside the chip and takes effect at the instant of the instruction: it is a direct
call between the APIC and its :class:`~mintactors.hardware.cpu.CpuCore`, made
during a delivery the scheduler has ordered against every other one of that
instant, and each side's effects carry its own actor name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from mintactors.distributions import Sampler
from mintactors.effects import Effect, Note, Send, TraceLevel
from mintactors.errors import IllegalValue, UnexpectedMessage, unexpected
from mintactors.hardware.snapshots import ApicSnapshot, vectors
from mintactors.messages import (
    AcceptInterrupt,
    ApicInput,
    DeviceInterrupt,
    IpiMessage,
    WriteEoi,
    WriteIcr,
)
from mintactors.notes import NoteKind

if TYPE_CHECKING:
    from mintactors.hardware.cpu import CpuCore

__all__ = ["ApicStatistics", "LocalApic"]

#: Vectors 0-31 belong to CPU exceptions, but the APIC itself refuses only 0-15: it
#: reports a fixed interrupt of vector 0-15, sent or received, as an illegal vector
#: in the ESR and does not deliver it (SDM Vol. 3A 10.5.3, 10.6.1).
_FIRST_VECTOR = 16
_LAST_VECTOR = 255


@attrs.frozen
class ApicStatistics:
    """Counters of one local APIC.

    ``ipi_merged`` counts IPIs that arrived while their vector's IRR bit was set;
    ``device_received`` and ``device_merged`` count device interrupt messages
    (a real NIC's) the same way.
    """

    ipi_sent: int
    ipi_received: int
    ipi_merged: int
    interrupts_accepted: int
    eoi: int
    device_received: int = 0
    device_merged: int = 0


def _highest(bits: int) -> int:
    return bits.bit_length() - 1


class LocalApic:
    """One core's local APIC.

    Args:
        apic_id: this APIC's ID (the core number).
        name: this APIC's actor name.
        peers: APIC ID to actor name, for IPI destinations.
        latency: delay of one IPI on the bus, per IPI.
        tpr: task-priority register; interrupts of class <= TPR class stay pending.
        trace_level: full-level notes are built only at ``FULL``.
    """

    def __init__(
        self,
        *,
        apic_id: int,
        name: str,
        peers: Mapping[int, str],
        latency: Sampler,
        tpr: int = 0,
        trace_level: TraceLevel = TraceLevel.FULL,
    ) -> None:
        self.apic_id = apic_id
        self.full = trace_level >= TraceLevel.FULL
        self.name = name
        self.peers = dict(peers)
        self.latency = latency
        self.tpr = tpr
        self.core: CpuCore | None = None  # wired by CpuCore: the same chip
        self.irr = 0  # 256-bit request register, one bit per vector
        self.isr = 0  # 256-bit in-service register
        self._sent = self._received = self._merged = self._accepted = self._eoi = 0
        self._device_received = self._device_merged = 0

    @property
    def interrupts_received(self) -> int:
        """IPIs and device interrupts received so far (cheap; for monitors)."""
        return self._received + self._device_received

    def statistics(self) -> ApicStatistics:
        """The counters so far."""
        return ApicStatistics(
            ipi_sent=self._sent,
            ipi_received=self._received,
            ipi_merged=self._merged,
            interrupts_accepted=self._accepted,
            eoi=self._eoi,
            device_received=self._device_received,
            device_merged=self._device_merged,
        )

    def snapshot(self) -> ApicSnapshot:
        """IRR, ISR and the priorities now, vectors listed (for inspection)."""
        return ApicSnapshot(
            apic_id=self.apic_id,
            irr=vectors(self.irr),
            isr=vectors(self.isr),
            tpr=self.tpr,
            ppr=self.processor_priority,
            intr=self.deliverable(),
        )

    @property
    def processor_priority(self) -> int:
        """PPR: max of TPR and the highest in-service vector (SDM 10.8.3.1)."""
        return max(self.tpr, _highest(self.isr) if self.isr else 0)

    # -- the bus: IPIs and device interrupts arriving ----------------------------------

    def handle(self, message: ApicInput, now_ns: int) -> Sequence[Effect]:
        """An IPI or a device's interrupt message arrives from the bus.

        Raises:
            IllegalValue: a reserved vector.
            UnexpectedMessage: a message the APIC does not take.
        """
        match message:
            case IpiMessage():
                self._check_vector(message, message.vector)
                return self._receive(message, now_ns)
            case DeviceInterrupt():
                self._check_vector(message, message.vector)
                return self._receive_device(message, now_ns)
            case _:
                raise unexpected("LocalApic", message)

    def _check_vector(self, message: object, vector: int) -> None:
        if not _FIRST_VECTOR <= vector <= _LAST_VECTOR:
            problem = f"vector {vector} is reserved (allowed {_FIRST_VECTOR}..{_LAST_VECTOR})"
            raise IllegalValue("LocalApic", message, problem)
        if isinstance(message, IpiMessage | DeviceInterrupt) and self.core is not None:
            # Checked before the IPI is latched, so a refusal changes nothing.
            self.core.check_vector(message, vector)

    def _receive(self, message: IpiMessage, now_ns: int) -> Sequence[Effect]:
        self._received += 1
        bit = 1 << message.vector
        merged = bool(self.irr & bit)
        self._merged += merged
        self.irr |= bit
        raised = () if merged else self._raise(now_ns)
        if not self.full:
            return raised
        fields = {"vector": message.vector, "source": message.source, "seq": message.seq}
        kind = NoteKind.IPI_MERGED if merged else NoteKind.IPI_DELIVERED
        return (Note(kind, fields), *raised)

    def _receive_device(self, message: DeviceInterrupt, now_ns: int) -> Sequence[Effect]:
        """A device's edge interrupt message: IRR like an IPI, counted apart."""
        self._device_received += 1
        bit = 1 << message.vector
        fields = {"vector": message.vector, "device": message.device}
        if self.irr & bit:
            self._device_merged += 1
            return (Note(NoteKind.INTERRUPT_MERGED, fields),)
        self.irr |= bit
        return (Note(NoteKind.INTERRUPT_DELIVERED, fields), *self._raise(now_ns))

    def _raise(self, now_ns: int) -> Sequence[Effect]:
        """INTR: tell the core a vector may be deliverable; it takes it if IF allows."""
        if self.core is None or self.deliverable() is None:
            return ()
        return self.core.intr(now_ns)

    # -- the core's side, inside the chip ---------------------------------------------

    def deliverable(self) -> int | None:
        """The vector INTR is raised for: the highest in IRR above the processor priority."""
        if not self.irr:
            return None
        vector = _highest(self.irr)
        return vector if vector >> 4 > self.processor_priority >> 4 else None

    def acknowledge(self, vector: int) -> None:
        """The interrupt-acknowledge cycle: ``vector`` moves from IRR to ISR.

        Raises:
            UnexpectedMessage: INTR is not raised for ``vector``.
        """
        if self.deliverable() != vector:
            raise UnexpectedMessage("LocalApic", AcceptInterrupt(vector), "INTR not raised")
        bit = 1 << vector
        self.irr &= ~bit
        self.isr |= bit
        self._accepted += 1

    def eoi(self) -> None:
        """The EOI write: clear the highest in-service bit.

        Raises:
            UnexpectedMessage: nothing is in service.
        """
        if not self.isr:
            raise UnexpectedMessage("LocalApic", WriteEoi(), "no interrupt in service")
        self.isr &= ~(1 << _highest(self.isr))
        self._eoi += 1

    def write_icr(
        self, vector: int, destination: int, seq: int = -1, after_ns: int = 0
    ) -> Sequence[Effect]:
        """Software on this core writes the ICR ``after_ns`` from now: send a fixed IPI.

        ``seq`` is instrumentation, not hardware: the packet whose send caused the
        write, carried along so the trace can follow one packet to its handler.

        Raises:
            IllegalValue: a reserved vector, or an APIC ID nobody has.
        """
        write = WriteIcr(vector, destination, seq)
        self._check_vector(write, vector)
        target = self.peers.get(destination)
        if target is None:
            problem = f"no APIC with ID {destination} (IDs: {sorted(self.peers)})"
            raise IllegalValue("LocalApic", write, problem)
        self._sent += 1
        delay = self.latency()
        ipi = IpiMessage(vector, self.apic_id, seq)
        if not self.full:
            return (Send(target, ipi, after_ns + delay, actor=self.name),)
        fields = {"vector": vector, "destination": destination, "latency_ns": delay, "seq": seq}
        return (
            Send(target, ipi, after_ns + delay, actor=self.name),
            Note(NoteKind.IPI_SENT, fields, delay_ns=after_ns, actor=self.name),
        )
