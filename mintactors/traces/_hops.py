"""The hops of one packet's path, as components note them (linked by ``seq``).

Paper, "one packet's path": the generator builds the frame, the system call copies
it into a receive buffer and sets the descriptor, the ICR write sends the IPI, the
target core takes it, the driver's handler takes the frame into an skb, the socket
queues it and the application receives it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HOP_LABELS", "PLACE_AFTER", "packet_seq"]

#: Note kind -> the hop's name in a timeline.
HOP_LABELS = {
    "PacketGenerated": "generated",
    "SyscallEntered": "system call entered",
    "FrameCopied": "frame copied to RX buffer",
    "DescriptorDone": "descriptor done (DD set)",
    "RingFull": "ring full",
    "IcrWritten": "ICR written",
    "IpiSent": "IPI sent",
    "IpiDelivered": "IPI delivered (IRR set)",
    "IpiMerged": "IPI merged into pending IRR",
    "InterruptTaken": "interrupt taken",
    "HandlerEntered": "handler entered",
    "FrameTaken": "taken from ring",
    "SkbQueued": "skb queued on socket",
    "SkbDequeued": "skb taken by app",
    "PacketReceived": "received by app",
    "PacketDropped": "dropped",
}

#: Note kind -> where a packet is after that hop (for "in flight at ..." counts).
PLACE_AFTER = {
    "PacketGenerated": "system call",
    "SyscallEntered": "ring engine",
    "FrameCopied": "ring engine",
    "DescriptorDone": "ring (waiting for the driver)",
    "FrameTaken": "driver (handing up)",
    "SkbQueued": "socket queue",
    "SkbDequeued": "application",
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
