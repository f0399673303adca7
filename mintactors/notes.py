"""The kinds of trace note the model's components write, in one place.

A note is a fact a component records (past tense: ``IpiDelivered``); its kind is
the ``kind`` field of its trace line. Components write ``Note(NoteKind.IPI_SENT,
...)`` and the trace tools match on the same constants, so a renamed or new kind
is one edit here, and a tool can never look for a kind nobody writes.
:class:`NoteKind` is a ``StrEnum``: a member *is* its string, so it is written to
the trace, compared with a parsed line's ``kind`` and hashed exactly as the plain
string would be.

The lines the runtime itself writes (``trace_header``, ``run_end``) and the
message deliveries of a ``full`` trace (kind = the message's class name) are not
notes; see ``docs/trace-format.md``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["NOTE_DESCRIPTIONS", "NoteKind"]


class NoteKind(StrEnum):
    """Every note kind a component may write."""

    # generator and link partner
    PACKET_GENERATED = "PacketGenerated"
    # debug-support mechanism
    SYSCALL_ENTERED = "SyscallEntered"
    SYSCALL_RETURNED = "SyscallReturned"
    ICR_WRITTEN = "IcrWritten"
    IPI_MASKED = "IpiMasked"
    IRQ_REASSERTED = "IrqReasserted"
    # ring engine
    FRAME_COPIED = "FrameCopied"
    DESCRIPTOR_DONE = "DescriptorDone"
    RING_FULL = "RingFull"
    # real NIC
    INTERRUPT_SENT = "InterruptSent"
    # local APIC
    IPI_SENT = "IpiSent"
    IPI_DELIVERED = "IpiDelivered"
    IPI_MERGED = "IpiMerged"
    INTERRUPT_DELIVERED = "InterruptDelivered"
    INTERRUPT_MERGED = "InterruptMerged"
    # CPU core
    INTERRUPT_TAKEN = "InterruptTaken"
    INTERRUPT_RETURNED = "InterruptReturned"
    # memory
    ACCESS_VIOLATION = "AccessViolation"
    LOADED = "Loaded"
    # store buffers (memory model "tso"), written under the core's name
    STORE_BUFFERED = "StoreBuffered"
    STORE_DRAINED = "StoreDrained"
    STORE_STALLED = "StoreStalled"
    FENCED = "Fenced"
    # driver
    DRIVER_INITIALISED = "DriverInitialised"
    HANDLER_ENTERED = "HandlerEntered"
    HANDLER_EXITED = "HandlerExited"
    FRAME_TAKEN = "FrameTaken"
    DESCRIPTOR_RETURNED = "DescriptorReturned"
    IRQ_MASKED = "IrqMasked"
    IRQ_UNMASKED = "IrqUnmasked"
    NAPI_MISSED = "NapiMissed"
    POLL_STARTED = "PollStarted"
    POLL_COMPLETED = "PollCompleted"
    BUDGET_EXHAUSTED = "BudgetExhausted"
    RECHECK_FOUND = "RecheckFound"
    # the kernel's receive path (softirq, backlog, ksoftirqd)
    SKB_BACKLOGGED = "SkbBacklogged"
    SOFTIRQ_STARTED = "SoftirqStarted"
    SOFTIRQ_ENDED = "SoftirqEnded"
    TIME_SQUEEZE = "TimeSqueeze"
    KSOFTIRQD_WOKEN = "KsoftirqdWoken"
    # injections
    INJECTION_FIRED = "InjectionFired"
    # socket and application
    SKB_QUEUED = "SkbQueued"
    SKB_DEQUEUED = "SkbDequeued"
    PACKET_RECEIVED = "PacketReceived"
    # anywhere a packet is lost
    PACKET_DROPPED = "PacketDropped"


#: One line per kind, for ``docs/trace-format.md`` and ``trace events --kind`` help.
NOTE_DESCRIPTIONS: dict[NoteKind, str] = {
    NoteKind.PACKET_GENERATED: "the generator (or link partner) made a frame and sent it",
    NoteKind.SYSCALL_ENTERED: "the debug-support system call was entered with a frame",
    NoteKind.SYSCALL_RETURNED: "the debug-support system call returned to its caller",
    NoteKind.ICR_WRITTEN: "the mechanism wrote the ICR: the IPI for this frame is on its way",
    NoteKind.IPI_MASKED: "the driver had masked its interrupt: the cause was latched, no IPI",
    NoteKind.IRQ_REASSERTED: "unmasking found a latched cause; the emulated NIC raised the IPI",
    NoteKind.FRAME_COPIED: "the frame's bytes are in the receive buffer(s)",
    NoteKind.DESCRIPTOR_DONE: "the frame's descriptors were written back with DD set",
    NoteKind.RING_FULL: "no free descriptor: the frame was refused",
    NoteKind.INTERRUPT_SENT: "the real NIC sent an interrupt message",
    NoteKind.IPI_SENT: "an APIC sent a fixed IPI",
    NoteKind.IPI_DELIVERED: "an IPI set its vector's IRR bit",
    NoteKind.IPI_MERGED: "an IPI found its IRR bit set and merged into it",
    NoteKind.INTERRUPT_DELIVERED: "a device interrupt set its vector's IRR bit",
    NoteKind.INTERRUPT_MERGED: "a device interrupt merged into a set IRR bit",
    NoteKind.INTERRUPT_TAKEN: "a core acknowledged an interrupt and entered its handler",
    NoteKind.INTERRUPT_RETURNED: "a core finished iret: IF=1 again",
    NoteKind.ACCESS_VIOLATION: "a node touched memory it does not own; refused",
    NoteKind.LOADED: "software (or a device) loaded shared memory at this instant (full level)",
    NoteKind.STORE_BUFFERED: "a store entered its core's store buffer (tso; full level)",
    NoteKind.STORE_DRAINED: "a buffered store reached memory, oldest first (tso; full level)",
    NoteKind.STORE_STALLED: "a store waited for room in a full store buffer (tso; full level)",
    NoteKind.FENCED: "a full barrier or locked access waited for its core's buffer to drain (tso)",
    NoteKind.DRIVER_INITIALISED: "the driver set up its ring",
    NoteKind.HANDLER_ENTERED: "the driver's interrupt handler started",
    NoteKind.HANDLER_EXITED: "the driver's interrupt handler returned",
    NoteKind.FRAME_TAKEN: "the driver took a frame out of the ring into an skb",
    NoteKind.DESCRIPTOR_RETURNED: "the driver cleared a descriptor's status (gave it back)",
    NoteKind.IRQ_MASKED: "the driver masked its interrupt (IMC)",
    NoteKind.IRQ_UNMASKED: "the driver unmasked its interrupt (IMS)",
    NoteKind.NAPI_MISSED: "a hard IRQ found a poll already scheduled (NAPI_STATE_MISSED)",
    NoteKind.POLL_STARTED: "a NAPI poll began",
    NoteKind.POLL_COMPLETED: "a NAPI poll ended (napi_complete_done)",
    NoteKind.BUDGET_EXHAUSTED: "a NAPI poll used its whole budget",
    NoteKind.RECHECK_FOUND: "the re-check after unmasking found a frame",
    NoteKind.SKB_BACKLOGGED: "netif_rx queued an skb on the CPU's backlog",
    NoteKind.SOFTIRQ_STARTED: "__do_softirq began, at a hard IRQ's exit or in ksoftirqd",
    NoteKind.SOFTIRQ_ENDED: "__do_softirq returned",
    NoteKind.TIME_SQUEEZE: "net_rx_action stopped at its packet budget or time limit",
    NoteKind.KSOFTIRQD_WOKEN: "the softirq hit its restart limit and woke ksoftirqd",
    NoteKind.INJECTION_FIRED: "an [[inject]] entry fired at a driver step",
    NoteKind.SKB_QUEUED: "an skb was queued on the socket",
    NoteKind.SKB_DEQUEUED: "the application took an skb off the socket",
    NoteKind.PACKET_RECEIVED: "the application received and checked a frame",
    NoteKind.PACKET_DROPPED: "a packet was lost, with a named reason",
}
