"""The debug-support mechanism: the system call in the debug-support OS's kernel.

For each frame the generator passes in (paper, steps 4-7):

1. enter the kernel (``syscall_entry_ns``);
2. copy the frame into a receive buffer in shared memory and set its receive
   descriptor, DD last: the CPU plays the NIC's DMA engine, so this is a
   :class:`PostFrame` to the ring with the memcpy's cost;
3. write the local APIC's ICR to send the IPI to the target core
   (``icr_write_ns``);
4. return to the generator (``syscall_exit_ns``).

With no free descriptor the ring refuses the frame (under the ``drop`` policy): the
packet is dropped with reason ``no_descriptor``, no IPI is sent, and the call
returns the error, as a NIC that counts a missed packet raises no receive interrupt
for it. The time from entry to return is the paper's "send processing time".

Interrupt masking (for drivers that mask their interrupt, such as NAPI). An e1000
raises its interrupt only for causes enabled in IMS, and latches every cause in
ICR (domain.md 1.2-1.4). With :class:`InterruptMaskRegisters` given, the
mechanism emulates that in the shared register block: after posting the frame it
reads IMS; if RXT0 is enabled it writes the APIC's ICR as before, otherwise it
latches RXT0 in ICR and sends no IPI. An IPI is an edge with no latched state, so
unlike a real e1000 nothing re-asserts the interrupt when the driver unmasks
(domain.md 2.1 [inf]): a driver must re-check its ring after unmasking. Without
the registers (the paper's driver never masks), nothing is read and the costs are
the paper's.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

import attrs

from mintactors.effects import Effect, Note, Send, TraceLevel
from mintactors.errors import IllegalValue, UnexpectedMessage, unexpected
from mintactors.hardware import ICR_RXT0
from mintactors.messages import (
    FramePosted,
    FrameRefused,
    MechanismInput,
    MemoryData,
    MemoryRead,
    MemoryWrite,
    PostFrame,
    SystemCall,
    SystemCallReturn,
    WriteIcr,
)
from mintactors.notes import NoteKind

__all__ = ["DebugSupportMechanism", "InterruptMaskRegisters", "MechanismStatistics"]


@attrs.frozen
class InterruptMaskRegisters:
    """Where the emulated IMS and ICR live, and who reads them.

    Attributes:
        memory: the memory actor.
        node: the OS node the mechanism runs in.
        ims: address of IMS (interrupt mask set: 1 = cause enabled).
        icr: address of ICR (interrupt cause read: latched causes).
    """

    memory: str
    node: int
    ims: int
    icr: int


@attrs.frozen
class MechanismStatistics:
    """Counters of the system call: calls, frames posted, drops, IPIs requested.

    ``ipis_masked`` counts frames whose interrupt was held back because the driver
    had masked it (the cause was latched in ICR instead).
    """

    calls: int
    posted: int
    dropped_no_descriptor: int
    icr_writes: int
    ipis_masked: int = 0


_NAME = "DebugSupportMechanism"


class DebugSupportMechanism:
    """The system call, as a pure component.

    Args:
        name: this actor's name (the ring replies to it).
        ring: the RX ring actor.
        apic: the local APIC of the core the call runs on.
        vector: the IPI vector the target's handler is registered for.
        destination: the target core's APIC ID.
        copy_ns: memcpy cost on this core, by byte count.
        syscall_entry_ns / icr_write_ns / syscall_exit_ns: costs of the other steps.
        mask_registers: emulate IMS/ICR (see the module docstring); None: never masked.
    """

    def __init__(
        self,
        *,
        name: str,
        ring: str,
        apic: str,
        vector: int,
        destination: int,
        copy_ns: Callable[[int], int],
        syscall_entry_ns: int,
        icr_write_ns: int,
        syscall_exit_ns: int,
        mask_registers: InterruptMaskRegisters | None = None,
    ) -> None:
        self.name = name
        self.ring = ring
        self.apic = apic
        self.vector = vector
        self.destination = destination
        self.copy_ns = copy_ns
        self.syscall_entry_ns = syscall_entry_ns
        self.icr_write_ns = icr_write_ns
        self.syscall_exit_ns = syscall_exit_ns
        self.mask_registers = mask_registers
        self.call: tuple[SystemCall, int] | None = None  # the call in progress, entry time
        self.reading_ims = False
        self._calls = self._posted = self._dropped = self._icr = self._masked = 0

    def statistics(self) -> MechanismStatistics:
        """The counters so far."""
        return MechanismStatistics(
            calls=self._calls,
            posted=self._posted,
            dropped_no_descriptor=self._dropped,
            icr_writes=self._icr,
            ipis_masked=self._masked,
        )

    def handle(self, message: MechanismInput, now_ns: int) -> Sequence[Effect]:
        """Enter the call, or take the ring's answer and finish it.

        Raises:
            IllegalValue: an IMS read that did not return the register's 4 bytes.
            UnexpectedMessage: a second call while one is in progress, an answer
                for another frame or not awaited now, or a message the mechanism
                does not take.
        """
        match message:
            case SystemCall():
                if self.call is not None:
                    raise UnexpectedMessage(
                        _NAME, message, f"in the call for packet {self.call[0].seq}"
                    )
                return self._enter(message, now_ns)
            case FramePosted(seq=seq):
                self._check_answer(message, seq)
                return self._posted_frame(seq)
            case FrameRefused(seq=seq, reason=reason):
                self._check_answer(message, seq)
                return self._refused(seq, reason)
            case MemoryData(tag=tag, chunks=chunks):
                if tag != "ims" or self.call is None or not self.reading_ims:
                    raise UnexpectedMessage(_NAME, message, "not reading IMS")
                if len(chunks) != 1 or len(chunks[0]) != 4:
                    raise IllegalValue(_NAME, message, "IMS is one 4-byte register")
                return self._mask_read(self.call[0].seq, chunks[0])
            case _:
                raise unexpected(_NAME, message)

    def _check_answer(self, message: FramePosted | FrameRefused, seq: int) -> None:
        """The ring's answer must be for the frame of the call in progress, and awaited."""
        if self.call is None or self.call[0].seq != seq or self.reading_ims:
            raise UnexpectedMessage(_NAME, message, "no call awaits this frame's answer")

    def _enter(self, call: SystemCall, now_ns: int) -> Sequence[Effect]:
        self.call = (call, now_ns)
        self._calls += 1
        post = PostFrame(call.seq, call.frame, self.copy_ns(len(call.frame)), self.name)
        return (
            Note(NoteKind.SYSCALL_ENTERED, {"seq": call.seq, "length": len(call.frame)}),
            Send(self.ring, post, self.syscall_entry_ns),
        )

    def _posted_frame(self, seq: int) -> Sequence[Effect]:
        self._posted += 1
        registers = self.mask_registers
        if registers is None:
            return self._send_ipi(seq)
        self.reading_ims = True
        read = MemoryRead(registers.node, ((registers.ims, 4),), self.name, "ims")
        return (Send(registers.memory, read),)

    def _mask_read(self, seq: int, ims: bytes) -> Sequence[Effect]:
        self.reading_ims = False
        registers = self.mask_registers
        assert registers is not None
        if struct.unpack("<I", ims)[0] & ICR_RXT0:
            return self._send_ipi(seq)
        self._masked += 1
        latch = MemoryWrite(registers.node, ((registers.icr, struct.pack("<I", ICR_RXT0)),))
        return (
            Send(registers.memory, latch),
            Note(NoteKind.IPI_MASKED, {"seq": seq, "cause": ICR_RXT0}),
            *self._return(seq, "ok", 0),
        )

    def _send_ipi(self, seq: int) -> Sequence[Effect]:
        self._icr += 1
        icr = WriteIcr(self.vector, self.destination, seq)
        return (
            Send(self.apic, icr, self.icr_write_ns),
            Note(NoteKind.ICR_WRITTEN, {"seq": seq, "vector": self.vector}),
            *self._return(seq, "ok", self.icr_write_ns),
        )

    def _refused(self, seq: int, reason: str) -> Sequence[Effect]:
        self._dropped += 1
        drop = Note(NoteKind.PACKET_DROPPED, {"seq": seq, "reason": reason}, TraceLevel.SUMMARY)
        return (drop, *self._return(seq, reason, 0))

    def _return(self, seq: int, result: str, after_ns: int) -> Sequence[Effect]:
        assert self.call is not None
        call, entered = self.call
        self.call = None
        delay = after_ns + self.syscall_exit_ns
        return (Send(call.caller, SystemCallReturn(seq, result, entered), delay),)
