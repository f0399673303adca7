"""The hops of one packet's path, as components note them (linked by ``seq``).

Paper, "one packet's path": the generator builds the frame, the system call copies
it into a receive buffer and sets the descriptor, the ICR write sends the IPI, the
target core takes it, the driver's handler takes the frame into an skb, the socket
queues it and the application receives it.
"""

from __future__ import annotations

from typing import Any

from mintactors.notes import NoteKind

__all__ = ["HOP_LABELS", "PLACE_AFTER", "packet_seq"]

#: Note kind -> the hop's name in a timeline.
HOP_LABELS = {
    NoteKind.PACKET_GENERATED: "generated",
    NoteKind.SYSCALL_ENTERED: "system call entered",
    NoteKind.FRAME_COPIED: "frame copied to RX buffer",
    NoteKind.DESCRIPTOR_DONE: "descriptor done (DD set)",
    NoteKind.RING_FULL: "ring full",
    NoteKind.ICR_WRITTEN: "ICR written",
    NoteKind.IPI_SENT: "IPI sent",
    NoteKind.IPI_DELIVERED: "IPI delivered (IRR set)",
    NoteKind.IPI_MERGED: "IPI merged into pending IRR",
    NoteKind.INTERRUPT_TAKEN: "interrupt taken",
    NoteKind.HANDLER_ENTERED: "handler entered",
    NoteKind.FRAME_TAKEN: "taken from ring",
    NoteKind.SKB_BACKLOGGED: "queued on the CPU's backlog (netif_rx)",
    NoteKind.SKB_QUEUED: "skb queued on socket",
    NoteKind.SKB_DEQUEUED: "skb taken by app",
    NoteKind.PACKET_RECEIVED: "received by app",
    NoteKind.PACKET_DROPPED: "dropped",
}

#: Note kind -> where a packet is after that hop (for "in flight at ..." counts).
PLACE_AFTER = {
    NoteKind.PACKET_GENERATED: "system call",
    NoteKind.SYSCALL_ENTERED: "ring engine",
    NoteKind.FRAME_COPIED: "ring engine",
    NoteKind.DESCRIPTOR_DONE: "ring (waiting for the driver)",
    NoteKind.FRAME_TAKEN: "driver (handing up)",
    NoteKind.SKB_BACKLOGGED: "backlog (waiting for NET_RX)",
    NoteKind.SKB_QUEUED: "socket queue",
    NoteKind.SKB_DEQUEUED: "application",
}


def packet_seq(event: dict[str, Any]) -> int | None:
    """The packet sequence number an event is about, if any.

    Notes carry ``seq``; the skb-carrying deliveries carry it as ``skb.seq``. IPI
    events carry the seq of the packet whose send wrote the ICR (-1: none).
    """
    seq = event.get("seq")
    if seq is None:
        skb = event.get("skb")
        if isinstance(skb, dict):
            seq = skb.get("seq")
    return seq if type(seq) is int and seq >= 0 else None
