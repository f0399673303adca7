"""The local APIC of one core: sending fixed IPIs, and IRR/ISR for receiving them.

Theory of operation (Intel SDM Vol. 3A 10.6 and 10.8; QEMU ``hw/intc/apic.c``):

* Software writes the ICR (:class:`WriteIcr`); the APIC sends a fixed IPI to the
  destination APIC, which receives it ``latency`` later (domain.md 3.3: about
  0.5-2 us on bare metal; configurable).
* An arriving fixed IPI sets ``IRR[vector]``. If that bit is already set, the new
  IPI merges into it and is counted as merged (SDM 10.8.4: "additional interrupts
  ... are collapsed into the single bit in the IRR"). So at most one interrupt per
  vector waits in IRR while another is in service in ISR.
* A device's interrupt message (:class:`DeviceInterrupt`, a real NIC's MSI) sets
  and merges into IRR the same way, and is counted apart from IPIs.
* The APIC raises INTR to its core (:class:`InterruptPending`) for the highest IRR
  vector whose priority class (``vector >> 4``) is above the processor priority
  class ``max(TPR, highest ISR) >> 4``.
* The core acknowledges when its IF flag allows (:class:`AcceptInterrupt`): the bit
  moves from IRR to ISR.
* The handler's EOI (:class:`WriteEoi`) clears the highest ISR bit; a waiting IRR
  bit may then be raised to the core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from mintactors.distributions import Sampler
from mintactors.effects import Effect, Note, Send
from mintactors.errors import IllegalValue, UnexpectedMessage, unexpected
from mintactors.messages import (
    AcceptInterrupt,
    ApicInput,
    DeviceInterrupt,
    InterruptPending,
    IpiMessage,
    WriteEoi,
    WriteIcr,
)
from mintactors.notes import NoteKind

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
        core: name of the actor for the core this APIC interrupts.
        peers: APIC ID to actor name, for IPI destinations.
        latency: delay of one IPI on the bus, per IPI.
        tpr: task-priority register; interrupts of class <= TPR class stay pending.
    """

    def __init__(
        self,
        *,
        apic_id: int,
        core: str,
        peers: Mapping[int, str],
        latency: Sampler,
        tpr: int = 0,
    ) -> None:
        self.apic_id = apic_id
        self.core = core
        self.peers = dict(peers)
        self.latency = latency
        self.tpr = tpr
        self.irr = 0  # 256-bit request register, one bit per vector
        self.isr = 0  # 256-bit in-service register
        self._raised: int | None = None  # vector INTR is raised for, not yet accepted
        self._sent = self._received = self._merged = self._accepted = self._eoi = 0
        self._device_received = self._device_merged = 0

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

    @property
    def processor_priority(self) -> int:
        """PPR: max of TPR and the highest in-service vector (SDM 10.8.3.1)."""
        return max(self.tpr, _highest(self.isr) if self.isr else 0)

    def handle(self, message: ApicInput, now_ns: int) -> Sequence[Effect]:
        """Take an ICR write, an arriving IPI, an acknowledge or an EOI.

        Raises:
            IllegalValue: a reserved vector, or an IPI to an APIC ID nobody has.
            UnexpectedMessage: an acknowledge of a vector INTR is not raised for, an
                EOI with nothing in service, or a message the APIC does not take.
        """
        match message:
            case WriteIcr():
                return self._send(message)
            case IpiMessage():
                self._check_vector(message, message.vector)
                return self._receive(message)
            case DeviceInterrupt():
                self._check_vector(message, message.vector)
                return self._receive_device(message)
            case AcceptInterrupt():
                return self._accept(message)
            case WriteEoi():
                return self._end_of_interrupt(message)
            case _:
                raise unexpected("LocalApic", message)

    @staticmethod
    def _check_vector(message: ApicInput, vector: int) -> None:
        if not _FIRST_VECTOR <= vector <= _LAST_VECTOR:
            problem = f"vector {vector} is reserved (allowed {_FIRST_VECTOR}..{_LAST_VECTOR})"
            raise IllegalValue("LocalApic", message, problem)

    def _send(self, message: WriteIcr) -> Sequence[Effect]:
        self._check_vector(message, message.vector)
        vector, destination, seq = message.vector, message.destination, message.seq
        target = self.peers.get(destination)
        if target is None:
            problem = f"no APIC with ID {destination} (IDs: {sorted(self.peers)})"
            raise IllegalValue("LocalApic", message, problem)
        self._sent += 1
        delay = self.latency()
        fields = {"vector": vector, "destination": destination, "latency_ns": delay, "seq": seq}
        return (
            Send(target, IpiMessage(vector, self.apic_id, seq), delay),
            Note(NoteKind.IPI_SENT, fields),
        )

    def _receive(self, message: IpiMessage) -> Sequence[Effect]:
        self._received += 1
        bit = 1 << message.vector
        fields = {"vector": message.vector, "source": message.source, "seq": message.seq}
        if self.irr & bit:
            self._merged += 1
            return (Note(NoteKind.IPI_MERGED, fields),)
        self.irr |= bit
        return (Note(NoteKind.IPI_DELIVERED, fields), *self._raise())

    def _receive_device(self, message: DeviceInterrupt) -> Sequence[Effect]:
        """A device's edge interrupt message: IRR like an IPI, counted apart."""
        self._device_received += 1
        bit = 1 << message.vector
        fields = {"vector": message.vector, "device": message.device}
        if self.irr & bit:
            self._device_merged += 1
            return (Note(NoteKind.INTERRUPT_MERGED, fields),)
        self.irr |= bit
        return (Note(NoteKind.INTERRUPT_DELIVERED, fields), *self._raise())

    def _accept(self, message: AcceptInterrupt) -> Sequence[Effect]:
        vector = message.vector
        # INTR is only raised for a valid vector, so once it matches, the shift is safe.
        if self._raised != vector or not self.irr & (1 << vector):
            raise UnexpectedMessage("LocalApic", message, "INTR not raised")
        bit = 1 << vector
        self.irr &= ~bit
        self.isr |= bit
        self._raised = None
        self._accepted += 1
        return self._raise()

    def _end_of_interrupt(self, message: WriteEoi) -> Sequence[Effect]:
        if not self.isr:
            raise UnexpectedMessage("LocalApic", message, "no interrupt in service")
        self.isr &= ~(1 << _highest(self.isr))
        self._eoi += 1
        return self._raise()

    def _raise(self) -> Sequence[Effect]:
        """Raise INTR for the best deliverable vector, if it is not raised already."""
        if not self.irr or self._raised is not None:
            return ()
        vector = _highest(self.irr)
        if vector >> 4 <= self.processor_priority >> 4:
            return ()
        self._raised = vector
        return (Send(self.core, InterruptPending(vector)),)
