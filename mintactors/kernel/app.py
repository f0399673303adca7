"""The receiving application on the debug-target OS: reads and checks every frame.

It loops on a blocking receive. Each skb costs ``recv_ns`` plus a copy of the frame
to user space, run as task work on the node's core (so the driver's interrupts
pre-empt it), and is then checked: IP and UDP checksums, lengths, pktgen magic,
and sequence number. A frame that fails is dropped with reason ``malformed``;
a repeated sequence number is counted as a duplicate, a lower one than the last of
the same flow (IPv4 5-tuple) as reordered. Latency is now minus the send time in
the payload header.

Frames without a pktgen header (a replayed capture) are identified through a
:class:`~mintactors.kernel.frames.FrameLedger` instead: when the app has one, it
looks every frame up by its bytes, which also proves the frame intact. Every
fault found is kept in :attr:`ReceivingApp.problems` with its time, for the
oracles (:mod:`mintactors.oracles`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from mintactors.effects import Effect, Note, Send, TraceLevel
from mintactors.errors import UnexpectedMessage, unexpected
from mintactors.histogram import Histogram
from mintactors.kernel.frames import FrameLedger, flow_of
from mintactors.kernel.snapshots import AppSnapshot, skb_snapshot
from mintactors.kernel.socket import UdpSocket
from mintactors.messages import (
    AppInput,
    Recv,
    RunTask,
    SkbDelivered,
    SocketBuffer,
    Start,
    TaskDone,
    TaskLabel,
)
from mintactors.notes import NoteKind
from mintactors.packets import FrameCheck, parse_pktgen_header, verify_frame

__all__ = ["AppStatistics", "FrameObserver", "ReceivingApp"]

#: Called with (seq, now_ns, frame) when a frame is generated or received intact.
FrameObserver = Callable[[int, int, bytes], None]


@attrs.frozen
class AppStatistics:
    """What the application received: counts, faults and per-packet latencies.

    ``latencies_ns`` is a bounded-memory :class:`~mintactors.histogram.Histogram`
    of the latencies (exact count, mean and max; percentiles within its documented
    precision), so a long run does not keep one number per packet.
    """

    received: int
    bytes_received: int
    malformed: int
    duplicates: int
    reordered: int
    latencies_ns: Histogram
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
        ledger: identify frames through this ledger instead of their payload header.
        note_frames: put each received frame's bytes (hex) in its ``PacketReceived``
            note, so the trace alone can be exported as a pcap.
        trace_level: full-level notes are built only at ``FULL``.

    Attributes:
        on_receive: optional observer called with (seq, now_ns, frame) for each frame
            received intact (a pcap writer during the run); it only records.
    """

    def __init__(
        self,
        *,
        name: str,
        core: str,
        socket: str,
        recv_ns: int,
        copy_ns: Callable[[int], int],
        verify: bool = True,
        ledger: FrameLedger | None = None,
        note_frames: bool = False,
        trace_level: TraceLevel = TraceLevel.FULL,
    ) -> None:
        self.full = trace_level >= TraceLevel.FULL
        self.name = name
        self.core = core
        self.socket = socket
        self.recv_ns = recv_ns
        self.copy_ns = copy_ns
        self.verify = verify
        self.ledger = ledger
        self.note_frames = note_frames
        self.on_receive: FrameObserver | None = None
        #: The socket object, when ``recv`` is entered by a direct call (it runs in
        #: this thread); None: by a ``Recv`` message.
        self.socket_calls: UdpSocket | None = None
        self.holding: SocketBuffer | None = None
        self.seen = bytearray()  # one byte per sequence number: received already?
        self.highest_in_flow: dict[bytes, int] = {}
        #: Faults found, in order: (t_ns, kind, detail); kind is ``malformed``,
        #: ``duplicate`` or ``reordered``.
        self.problems: list[tuple[int, str, dict[str, object]]] = []
        self._received = self._bytes = self._malformed = self._dup = self._reordered = 0
        self._latencies = Histogram()
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
            latencies_ns=self._latencies.copy(),
            last_receive_ns=self._last,
        )

    def snapshot(self) -> AppSnapshot:
        """The skb being processed and what has been received (for inspection)."""
        return AppSnapshot(
            holding=skb_snapshot(self.holding) if self.holding is not None else None,
            received=self._received,
            malformed=self._malformed,
            last_receive_ns=self._last,
        )

    def handle(self, message: AppInput, now_ns: int) -> Sequence[Effect]:
        """Start reading, take an skb, or finish processing one.

        Raises:
            UnexpectedMessage: an skb while one is being processed, the end of
                processing with none held, or a message the app does not take.
        """
        match message:
            case Start():
                return self._recv(now_ns)
            case SkbDelivered(skb=skb):
                return self._take(skb, message)
            case TaskDone(label=label):
                if label != TaskLabel.RECV or self.holding is None:
                    raise UnexpectedMessage("ReceivingApp", message, "no skb being processed")
                return self._check(now_ns)
            case _:
                raise unexpected("ReceivingApp", message)

    def woken(self, skb: SocketBuffer, now_ns: int) -> Sequence[Effect]:
        """The socket wakes this thread with ``skb`` (a direct call, see WaitingReader).

        Raises:
            UnexpectedMessage: an skb while one is being processed.
        """
        return self._take(skb, SkbDelivered(skb), actor=self.name)

    def _take(
        self, skb: SocketBuffer, message: object, actor: str | None = None
    ) -> Sequence[Effect]:
        """``recv`` copies ``skb`` out in this thread: its CPU time on the core."""
        if self.holding is not None:
            raise UnexpectedMessage("ReceivingApp", message, "still processing an skb")
        cost = self.recv_ns + self.copy_ns(len(skb.data))
        self.holding = skb
        return (Send(self.core, RunTask(self.name, cost, TaskLabel.RECV), actor=actor),)

    def _identify(self, data: bytes) -> tuple[int, int] | str:
        """``(seq, send_ns)`` of a received frame, or what is wrong with it."""
        if self.ledger is not None:
            return self.ledger.claim(data)
        if self.verify:
            check = verify_frame(data)
        else:  # trust the checksums; read only the payload header
            header = parse_pktgen_header(data)
            check = FrameCheck(*header) if header else FrameCheck(None, None, "bad_magic")
        if not check.ok or check.seq is None or check.send_ns is None:
            return check.problem or "bad_header"
        return check.seq, check.send_ns

    def _check(self, now_ns: int) -> Sequence[Effect]:
        skb, self.holding = self.holding, None
        assert skb is not None
        identity = self._identify(skb.data)
        effects: list[Effect] = []
        if identity == "duplicate":
            # Every sent copy of these bytes was received already: one more than sent.
            self._dup += 1
            self._received += 1
            self._bytes += len(skb.data)
            self._last = now_ns
            self.problems.append((now_ns, "duplicate", {"seq": skb.seq}))
            effects.append(Note(NoteKind.PACKET_RECEIVED, {"seq": skb.seq, "latency_ns": None}))
        elif isinstance(identity, str):
            self._malformed += 1
            self.dropped["malformed"] = self.dropped.get("malformed", 0) + 1
            fields: dict[str, object] = {"seq": skb.seq, "reason": "malformed", "problem": identity}
            self.problems.append((now_ns, "malformed", fields))
            effects.append(Note(NoteKind.PACKET_DROPPED, fields, TraceLevel.SUMMARY))
        else:
            seq, send_ns = identity
            if seq >= len(self.seen):
                self.seen.extend(bytes(seq + 1 - len(self.seen)))
            if self.seen[seq]:
                self._dup += 1
                self.problems.append((now_ns, "duplicate", {"seq": seq}))
            self.seen[seq] = 1
            flow = flow_of(skb.data)
            highest = self.highest_in_flow.get(flow, -1)
            if seq < highest:
                self._reordered += 1
                self.problems.append(
                    (now_ns, "reordered", {"seq": seq, "after": highest, "flow": flow.hex()})
                )
            self.highest_in_flow[flow] = max(highest, seq)
            latency = now_ns - send_ns
            self._received += 1
            self._bytes += len(skb.data)
            self._latencies.add(latency)
            self._last = now_ns
            if self.full:
                received: dict[str, object] = {"seq": seq, "latency_ns": latency}
                if self.note_frames:
                    received["frame"] = skb.data
                effects.append(Note(NoteKind.PACKET_RECEIVED, received))
            if self.on_receive is not None:
                self.on_receive(seq, now_ns, skb.data)
        effects += self._recv(now_ns)
        return effects

    def _recv(self, now_ns: int) -> Sequence[Effect]:
        """Call ``recv`` again: the thread enters the socket's code."""
        socket = self.socket_calls
        if socket is None:
            return (Send(self.socket, Recv()),)
        return socket.recv(now_ns)
