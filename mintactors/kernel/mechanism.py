"""The debug-support mechanism: the system call in the debug-support OS's kernel.

For each frame the generator passes in (paper, steps 4-7):

1. enter the kernel (``syscall_entry_ns``);
2. copy the frame into a receive buffer in shared memory and set its receive
   descriptor, DD last: the CPU plays the NIC's DMA engine, so this is a
   :class:`PostFrame` to the ring with the memcpy's cost;
3. write the local APIC's ICR to send the IPI to the target core
   (``icr_write_ns``; the APIC is the core's own, so this is a register write the
   APIC takes at that instant, not a message);
4. return to the generator (``syscall_exit_ns``).

With no free descriptor the ring refuses the frame (under the ``drop`` policy): the
packet is dropped with reason ``no_descriptor``, no IPI is sent, and the call
returns the error, as a NIC that counts a missed packet raises no receive interrupt
for it. The time from entry to return is the paper's "send processing time".

Interrupt masking (for drivers that mask their interrupt, such as NAPI). An e1000
latches every cause in ICR and raises its interrupt only for causes enabled in IMS
(domain.md 1.2-1.4). With :class:`InterruptMaskRegisters` given, the mechanism
emulates that in the shared register block: the ring's write-back has latched RXT0
in ICR; the mechanism loads IMS, and if RXT0 is enabled writes the APIC's ICR as
before, otherwise sends no IPI. An IPI is an edge with no latched state, so unlike
a real e1000 nothing re-asserts the interrupt when the driver unmasks (domain.md
2.1 [inf]): a driver must re-check its ring after unmasking. ``nic.reassert_on_unmask``
gives the device's behaviour instead: the register block reports an unmasked
latched cause (:class:`LatchedCauseUnmasked`) and the mechanism raises the IPI
then. Without the registers (the paper's driver never masks), nothing is read and
the costs are the paper's.

Memory model ``tso``. The mechanism's code runs on the debug core, so its stores
(the copy and the descriptor write-back with its ICR latch, which the ring engine
makes for it) go through that core's store buffer and its IMS load forwards from
it. Posting
the frame then checking the mask is "store DD, load IMS": against the driver's
"store IMS, load DD" it is the store-buffering (SB) pattern, which needs a full
barrier on both sides (domain.md 7). With ``barrier`` the mechanism issues one
(``smp_mb()``) between the two: it waits until the core's buffer has drained
before it loads IMS. Its cost is that wait: no ``mb_ns`` is added, because the
system call's costs are the fitted ones of the profile (docs/model.md). Writing the
ICR (x2APIC ``WRMSR``) is preceded by Linux's ``weak_wrmsr_fence()`` (``mfence``),
so the IPI leaves only after the frame's stores have drained.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Protocol

import attrs

from mintactors.effects import Effect, Note, Send, SetTimer, TraceLevel
from mintactors.errors import IllegalValue, UnexpectedMessage, unexpected
from mintactors.hardware.apic import LocalApic
from mintactors.hardware.memory import PhysicalMemory
from mintactors.hardware.registers import ICR_RXT0
from mintactors.hardware.store_buffer import StoreBuffer
from mintactors.kernel.snapshots import MechanismSnapshot, SyscallSnapshot
from mintactors.messages import (
    FramePosted,
    FrameRefused,
    LatchedCauseUnmasked,
    MechanismInput,
    MechanismStep,
    MechanismStepKind,
    PostFrame,
    SystemCall,
    SystemCallReturn,
)
from mintactors.notes import NoteKind

__all__ = ["DebugSupportMechanism", "InterruptMaskRegisters", "MechanismStatistics"]


@attrs.frozen
class InterruptMaskRegisters:
    """Where the emulated IMS lives, and how to reach it.

    Attributes:
        memory: the memory component (IMS is loaded from it).
        node: the OS node the mechanism runs in.
        ims: address of IMS (interrupt mask set: reads the enabled causes).
        load_ns: the latency of the IMS load.
    """

    memory: PhysicalMemory
    node: int
    ims: int
    load_ns: int


@attrs.frozen
class MechanismStatistics:
    """Counters of the system call: calls, frames posted, drops, IPIs requested.

    ``ipis_masked`` counts frames whose interrupt was held back because the driver
    had masked it (the cause stays latched in ICR); ``ipis_reasserted`` counts
    IPIs raised because the driver unmasked a latched cause (``reassert_on_unmask``).
    """

    calls: int
    posted: int
    dropped_no_descriptor: int
    icr_writes: int
    ipis_masked: int = 0
    ipis_reasserted: int = 0


_NAME = "DebugSupportMechanism"


class DirectCaller(Protocol):
    """A caller whose thread nothing else can wake while it is inside the call.

    The call returns into it as a direct call, as it was entered, rather than as a
    ``SystemCallReturn`` message: nothing could tell the two apart.
    """

    def returned(self, message: SystemCallReturn, now_ns: int, after_ns: int) -> Sequence[Effect]:
        """The call returns ``after_ns`` from now; the caller's effects, dated from now."""
        ...


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
        store_buffer: the debug core's store buffer (memory model ``tso``); None: ``sc``.
        barrier: a full barrier between posting the frame and loading IMS.
        trace_level: full-level notes are built only at ``FULL``.
    """

    def __init__(
        self,
        *,
        name: str,
        ring: str,
        apic: LocalApic,
        vector: int,
        destination: int,
        copy_ns: Callable[[int], int],
        syscall_entry_ns: int,
        icr_write_ns: int,
        syscall_exit_ns: int,
        mask_registers: InterruptMaskRegisters | None = None,
        store_buffer: StoreBuffer | None = None,
        barrier: bool = True,
        trace_level: TraceLevel = TraceLevel.FULL,
    ) -> None:
        self.full = trace_level >= TraceLevel.FULL
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
        self.store_buffer = store_buffer
        self.barrier = barrier
        self.call: tuple[SystemCall, int] | None = None  # the call in progress, entry time
        self.fencing: tuple[int, int] | None = None  # (seq, since) while its barrier waits
        self._calls = self._posted = self._dropped = self._icr = self._masked = 0
        self._reasserted = 0
        self.direct: dict[str, DirectCaller] = {}

    def return_directly(self, name: str, caller: DirectCaller) -> None:
        """Return from calls made by actor ``name`` into ``caller`` directly (see DirectCaller)."""
        self.direct[name] = caller

    @property
    def icr_writes(self) -> int:
        """ICR writes so far: IPIs asked for (cheap; for monitors)."""
        return self._icr

    def statistics(self) -> MechanismStatistics:
        """The counters so far."""
        return MechanismStatistics(
            calls=self._calls,
            posted=self._posted,
            dropped_no_descriptor=self._dropped,
            icr_writes=self._icr,
            ipis_masked=self._masked,
            ipis_reasserted=self._reasserted,
        )

    def snapshot(self) -> MechanismSnapshot:
        """The call in progress and the IPIs asked for so far (for inspection)."""
        call = None
        if self.call is not None:
            entered, at = self.call
            call = SyscallSnapshot(entered.seq, len(entered.frame), at)
        return MechanismSnapshot(
            call=call,
            reads_ims=self.mask_registers is not None,
            icr_writes=self._icr,
            ipis_masked=self._masked,
        )

    def handle(self, message: MechanismInput, now_ns: int) -> Sequence[Effect]:
        """Take the ring's answer and finish the call, or raise an unmasked latched cause.

        Raises:
            IllegalValue: IMS cannot be loaded as this node.
            UnexpectedMessage: a second call while one is in progress, an answer
                for another frame or not awaited now, or a message the mechanism
                does not take.
        """
        match message:
            case FramePosted(seq=seq):
                self._check_answer(message, seq)
                return self._posted_frame(seq, now_ns)
            case FrameRefused(seq=seq, reason=reason):
                self._check_answer(message, seq)
                return self._refused(seq, reason, now_ns)
            case LatchedCauseUnmasked(causes=causes):
                # The device would assert its interrupt now; the doorbell is an IPI.
                self._icr += 1
                self._reasserted += 1
                return (
                    *self.apic.write_icr(self.vector, self.destination, -1, self.icr_write_ns),
                    Note(NoteKind.IRQ_REASSERTED, {"cause": causes}),
                )
            case MechanismStep(step=MechanismStepKind.FENCED):
                if self.fencing is None:
                    raise UnexpectedMessage(_NAME, message, "no barrier waits")
                seq, since = self.fencing
                self.fencing = None
                return self._fenced(seq, since, now_ns)
            case _:
                raise unexpected(_NAME, message)

    def _check_answer(self, message: FramePosted | FrameRefused, seq: int) -> None:
        """The ring's answer must be for the frame of the call in progress."""
        if self.call is None or self.call[0].seq != seq:
            raise UnexpectedMessage(_NAME, message, "no call awaits this frame's answer")

    def enter(self, call: SystemCall, now_ns: int, after_ns: int = 0) -> Sequence[Effect]:
        """The calling thread enters the system call ``after_ns`` from now.

        The call runs in the caller's thread on the caller's core, so entering it is
        a direct call, not a message; its effects carry this mechanism's name.

        Raises:
            UnexpectedMessage: a call is already in progress.
        """
        if self.call is not None:
            raise UnexpectedMessage(_NAME, call, f"in the call for packet {self.call[0].seq}")
        self.call = (call, now_ns + after_ns)
        self._calls += 1
        post = PostFrame(call.seq, call.frame, self.copy_ns(len(call.frame)), self.name)
        send = Send(self.ring, post, after_ns + self.syscall_entry_ns, actor=self.name)
        if not self.full:
            return (send,)
        entered = {"seq": call.seq, "length": len(call.frame)}
        return (Note(NoteKind.SYSCALL_ENTERED, entered, delay_ns=after_ns, actor=self.name), send)

    def _posted_frame(self, seq: int, now_ns: int) -> Sequence[Effect]:
        self._posted += 1
        registers = self.mask_registers
        if registers is None:
            return self._send_ipi(seq, 0, now_ns)
        buffer = self.store_buffer
        if buffer is not None and self.barrier and buffer.holds(now_ns):
            until = buffer.drained_by(now_ns)
            if until > now_ns:  # smp_mb(): wait for the frame's stores to drain
                self.fencing = (seq, now_ns)
                return (SetTimer("fence", until - now_ns, MechanismStep(MechanismStepKind.FENCED)),)
        return self._fenced(seq, now_ns, now_ns)

    def _fenced(self, seq: int, since: int, now_ns: int) -> Sequence[Effect]:
        """After the barrier (if any): whatever of the buffer is due is applied, then IMS."""
        buffer = self.store_buffer
        effects: list[Effect] = []
        if buffer is not None and self.barrier:
            registers = self.mask_registers
            assert registers is not None
            effects += registers.memory.drain(buffer, now_ns)
            effects += buffer.fenced(self.name, "smp_mb", since, now_ns, now_ns)
        effects += self._check_mask(seq, now_ns)
        return effects

    def _check_mask(self, seq: int, now_ns: int) -> Sequence[Effect]:
        """Load IMS: the IPI if RXT0 is enabled, else latch the cause in ICR (ICS)."""
        registers = self.mask_registers
        assert registers is not None
        buffer = self.store_buffer
        data = registers.memory.load(registers.node, registers.ims, 4, now_ns)
        if data is None:
            raise IllegalValue(_NAME, FramePosted(seq, 0, 0), "IMS cannot be read as this node")
        if buffer is not None:
            data = buffer.forward(registers.ims, 4, data, now_ns)
        loaded = Note(NoteKind.LOADED, {"addr": registers.ims, "length": 4, "data": data})
        if struct.unpack("<I", data)[0] & ICR_RXT0:
            return (loaded, *self._send_ipi(seq, registers.load_ns, now_ns))
        self._masked += 1
        return (
            loaded,
            Note(NoteKind.IPI_MASKED, {"seq": seq, "cause": ICR_RXT0}, delay_ns=registers.load_ns),
            *self._return(seq, "ok", registers.load_ns, now_ns),
        )

    def _send_ipi(self, seq: int, after_ns: int, now_ns: int) -> Sequence[Effect]:
        self._icr += 1
        fence: list[Effect] = []
        buffer = self.store_buffer
        if buffer is not None:
            # weak_wrmsr_fence() before the x2APIC ICR write: the IPI leaves only
            # once the frame's stores are visible to the core it wakes.
            at = now_ns + after_ns
            until = buffer.drained_by(at)
            fence = buffer.fenced(self.name, "weak_wrmsr_fence", at, until, now_ns)
            after_ns = until - now_ns
        written = after_ns + self.icr_write_ns
        icr = self.apic.write_icr(self.vector, self.destination, seq, written)
        returned = self._return(seq, "ok", written, now_ns)
        if not self.full:
            return (*fence, *icr, *returned)
        noted = Note(NoteKind.ICR_WRITTEN, {"seq": seq, "vector": self.vector}, delay_ns=after_ns)
        return (*fence, *icr, noted, *returned)

    def _refused(self, seq: int, reason: str, now_ns: int) -> Sequence[Effect]:
        self._dropped += 1
        drop = Note(NoteKind.PACKET_DROPPED, {"seq": seq, "reason": reason}, TraceLevel.SUMMARY)
        return (drop, *self._return(seq, reason, 0, now_ns))

    def _return(self, seq: int, result: str, after_ns: int, now_ns: int) -> Sequence[Effect]:
        assert self.call is not None
        call, entered = self.call
        self.call = None
        delay = after_ns + self.syscall_exit_ns
        message = SystemCallReturn(seq, result, entered)
        caller = self.direct.get(call.caller)
        if caller is None:
            return (Send(call.caller, message, delay),)
        if not self.full:
            return caller.returned(message, now_ns, delay)
        fields = {"seq": seq, "result": result, "entered_ns": entered, "caller": call.caller}
        returned = Note(NoteKind.SYSCALL_RETURNED, fields, delay_ns=delay)
        return (returned, *caller.returned(message, now_ns, delay))
