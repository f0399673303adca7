"""The receiving application on the debug-target OS: reads and checks every frame.

It loops on a blocking receive. Each skb costs ``recv_ns`` plus a copy of the frame
to user space, run as task work on the node's core (so the driver's interrupts
pre-empt it), and is then checked: IP and UDP checksums, lengths, pktgen magic,
and sequence number. A frame that fails is dropped with reason ``malformed``;
a repeated sequence number is counted as a duplicate, a lower one than the last as
reordered. Latency is now minus the send time in the payload header.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from mintactors.errors import UnexpectedMessage
from mintactors.messages import Recv, RunTask, SkbDelivered, SocketBuffer, Start, TaskDone
from mintactors.packets import FrameCheck, parse_pktgen_header, verify_frame
from mintactors.runtime import Effect, Note, Send, TraceLevel

__all__ = ["AppStatistics", "FrameObserver", "ReceivingApp"]

#: Called with (seq, now_ns, frame) when a frame is generated or received intact.
FrameObserver = Callable[[int, int, bytes], None]


@attrs.frozen
class AppStatistics:
    """What the application received: counts, faults and per-packet latencies."""

    received: int
    bytes_received: int
    malformed: int
    duplicates: int
    reordered: int
    latencies_ns: tuple[int, ...]
    last_receive_ns: int | None


class ReceivingApp:
    """The receiving application.

    Args:
        name: this actor's name.
        core: the core it runs on.
        socket: the socket it reads.
        recv_ns: fixed cost of one ``recvmsg``.
        copy_ns: cost of copying a frame to user space, by length.
        verify: check lengths and checksums (True) or read only the payload header
            (False, faster for long sweeps where frames are known good).
        note_frames: put each received frame's bytes (hex) in its ``PacketReceived``
            note, so the trace alone can be exported as a pcap.

    Attributes:
        on_receive: optional observer called with (seq, now_ns, frame) for each frame
            received intact (a pcap writer during the run); it only records.
    """

    def __init__(
        self,
        name: str,
        core: str,
        socket: str,
        recv_ns: int,
        copy_ns: Callable[[int], int],
        verify: bool = True,
        note_frames: bool = False,
    ) -> None:
        self.name = name
        self.core = core
        self.socket = socket
        self.recv_ns = recv_ns
        self.copy_ns = copy_ns
        self.verify = verify
        self.note_frames = note_frames
        self.on_receive: FrameObserver | None = None
        self.holding: SocketBuffer | None = None
        self.seen = bytearray()  # one byte per sequence number: received already?
        self.highest = -1
        self._received = self._bytes = self._malformed = self._dup = self._reordered = 0
        self._latencies: list[int] = []
        self._last: int | None = None
        self.dropped: dict[str, int] = {}

    def statistics(self) -> AppStatistics:
        """The counters so far."""
        return AppStatistics(
            received=self._received,
            bytes_received=self._bytes,
            malformed=self._malformed,
            duplicates=self._dup,
            reordered=self._reordered,
            latencies_ns=tuple(self._latencies),
            last_receive_ns=self._last,
        )

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        """Start reading, take an skb, or finish processing one."""
        match message:
            case Start():
                return (Send(self.socket, Recv()),)
            case SkbDelivered(skb=skb) if self.holding is None:
                self.holding = skb
                cost = self.recv_ns + self.copy_ns(len(skb.data))
                return (Send(self.core, RunTask(self.name, cost, "recv")),)
            case TaskDone(label="recv") if self.holding is not None:
                return self._check(now_ns)
            case _:
                raise UnexpectedMessage("ReceivingApp", message)

    def _check(self, now_ns: int) -> Sequence[Effect]:
        skb, self.holding = self.holding, None
        assert skb is not None
        if self.verify:
            check = verify_frame(skb.data)
        else:  # trust the checksums; read only the payload header
            header = parse_pktgen_header(skb.data)
            check = FrameCheck(*header) if header else FrameCheck(None, None, "bad_magic")
        effects: list[Effect] = []
        if not check.ok or check.seq is None or check.send_ns is None:
            self._malformed += 1
            self.dropped["malformed"] = self.dropped.get("malformed", 0) + 1
            fields = {"seq": skb.seq, "reason": "malformed", "problem": check.problem}
            effects.append(Note("PacketDropped", fields, TraceLevel.SUMMARY))
        else:
            seq = check.seq
            if seq >= len(self.seen):
                self.seen.extend(bytes(seq + 1 - len(self.seen)))
            if self.seen[seq]:
                self._dup += 1
            self.seen[seq] = 1
            if seq < self.highest:
                self._reordered += 1
            self.highest = max(self.highest, seq)
            latency = now_ns - check.send_ns
            self._received += 1
            self._bytes += len(skb.data)
            self._latencies.append(latency)
            self._last = now_ns
            received: dict[str, object] = {"seq": seq, "latency_ns": latency}
            if self.note_frames:
                received["frame"] = skb.data
            effects.append(Note("PacketReceived", received))
            if self.on_receive is not None:
                self.on_receive(seq, now_ns, skb.data)
        effects.append(Send(self.socket, Recv()))
        return effects
