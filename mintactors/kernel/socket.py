"""The receiving UDP socket's queue: skbs charged by truesize against ``rcvbuf``.

Linux charges each queued skb's ``truesize`` to the socket's ``sk_rmem_alloc`` and
refuses a new one once ``sk_rmem_alloc >= sk_rcvbuf`` (``sock_queue_rcv_skb``),
counting the drop in both ``UDP_MIB_RCVBUFERRORS`` and ``UDP_MIB_INERRORS``
("an ENOMEM error is charged twice", ``__udp_queue_rcv_skb``; domain.md 2.3). The
charge is released when the application takes the skb. The default ``rcvbuf`` is
212992 bytes (``SK_RMEM_MAX`` on x86-64).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Protocol

import attrs

from mintactors.effects import Effect, Note, Send, TraceLevel
from mintactors.errors import IllegalValue, UnexpectedMessage, unexpected
from mintactors.kernel.snapshots import SocketSnapshot, skb_snapshot
from mintactors.messages import NetifReceive, Recv, SkbDelivered, SocketBuffer, SocketInput
from mintactors.notes import NoteKind

__all__ = ["DEFAULT_RCVBUF", "SocketStatistics", "UdpSocket", "skb_truesize"]

DEFAULT_RCVBUF = 212992


def skb_truesize(frame_len: int) -> int:
    """What the socket is charged for an skb holding ``frame_len`` bytes (x86-64).

    Follows ``__netdev_alloc_skb`` and ``SKB_TRUESIZE``: the data area is the frame
    plus ``NET_SKB_PAD`` (64) and ``NET_IP_ALIGN`` (2) plus ``skb_shared_info``
    (320 bytes), each rounded to a 64-byte cache line, then rounded up to the
    kmalloc size class (a power of two); ``struct sk_buff`` (232 bytes, aligned to
    256) comes on top. A 1514-byte frame costs 2304 bytes, so the default 212992-byte
    receive buffer holds 92 of them.
    """
    data = -(-(frame_len + 64 + 2) // 64) * 64 + 320
    slab = 1 << (data - 1).bit_length()
    return slab + 256


@attrs.frozen
class SocketStatistics:
    """Counters as ``/proc/net/snmp`` would show them, plus high-water marks.

    ``first_queued_ns`` and ``last_queued_ns`` are when the first and the last skb
    were queued (None before any), for measuring the rate the stack delivers at.
    """

    queued: int
    taken: int
    rcvbuf_errors: int
    in_errors: int
    rmem_high_water: int
    queue_high_water: int
    first_queued_ns: int | None = None
    last_queued_ns: int | None = None


class WaitingReader(Protocol):
    """A reader whose thread, blocked in ``recv``, the socket wakes by a direct call.

    Waking a thread is queueing its work on its core (``sk_data_ready`` ->
    ``try_to_wake_up``), which the socket's own delivery does in Linux; the reader
    takes nothing else while it waits, so nothing could tell the call from a message.
    """

    def woken(self, skb: SocketBuffer, now_ns: int) -> Sequence[Effect]:
        """``recv`` has ``skb`` for it: the reader's effects (its work queued on its core)."""
        ...


class UdpSocket:
    """One UDP socket's receive queue.

    Args:
        reader: the application actor that reads from it.
        rcvbuf: ``SO_RCVBUF`` in bytes.
        name: this actor's name.
        trace_level: full-level notes are built only at ``FULL``.
    """

    def __init__(
        self,
        *,
        reader: str,
        rcvbuf: int = DEFAULT_RCVBUF,
        name: str = "socket",
        trace_level: TraceLevel = TraceLevel.FULL,
    ) -> None:
        self.name = name
        self.full = trace_level >= TraceLevel.FULL
        self.reader = reader
        self.rcvbuf = rcvbuf
        self.queue: deque[SocketBuffer] = deque()
        self.rmem = 0
        self.reader_waiting = False
        #: The reader's thread, if it is woken by a direct call (see WaitingReader).
        self.waiting_reader: WaitingReader | None = None
        self._queued = self._taken = self._errors = 0
        self._rmem_high = self._queue_high = 0
        self._first_queued: int | None = None
        self._last_queued: int | None = None

    def statistics(self) -> SocketStatistics:
        """The counters so far."""
        return SocketStatistics(
            queued=self._queued,
            taken=self._taken,
            rcvbuf_errors=self._errors,
            in_errors=self._errors,
            rmem_high_water=self._rmem_high,
            queue_high_water=self._queue_high,
            first_queued_ns=self._first_queued,
            last_queued_ns=self._last_queued,
        )

    def snapshot(self) -> SocketSnapshot:
        """The queue and its charge against rcvbuf (for inspection)."""
        return SocketSnapshot(
            rmem=self.rmem,
            rcvbuf=self.rcvbuf,
            queue=tuple(skb_snapshot(skb) for skb in self.queue),
            reader_waiting=self.reader_waiting,
            rcvbuf_errors=self._errors,
        )

    def handle(self, message: SocketInput, now_ns: int) -> Sequence[Effect]:
        """Queue an arriving skb, or serve the reader.

        Raises:
            IllegalValue: an skb whose truesize does not cover its data.
            UnexpectedMessage: a receive while the reader already waits, or a
                message the socket does not take.
        """
        match message:
            case NetifReceive(skb=skb):
                if skb.truesize < len(skb.data):
                    # SKB_TRUESIZE counts the data area and the sk_buff itself, so a
                    # smaller charge would let the queue outgrow rcvbuf unnoticed.
                    problem = f"truesize {skb.truesize} < {len(skb.data)} bytes of data"
                    raise IllegalValue("UdpSocket", message, problem)
                queued = self._queued
                effects = self._enqueue(skb, now_ns)
                if self._queued != queued:
                    if self._first_queued is None:
                        self._first_queued = now_ns
                    self._last_queued = now_ns
                return effects
            case Recv():
                return tuple(self._recv(message, now_ns))
            case _:
                raise unexpected("UdpSocket", message)

    def recv(self, now_ns: int) -> Sequence[Effect]:
        """The reader's thread enters ``recv``: a direct call, made in the reader's delivery.

        A system call runs in the caller's thread, so entering it needs no message
        (as the generator enters the debug-support call); the socket's own effects
        are named after it.

        Raises:
            UnexpectedMessage: the reader already waits.
        """
        effects = self._recv(Recv(), now_ns)
        for effect in effects:
            if isinstance(effect, Note | Send) and effect.actor is None:
                effect.actor = self.name
        return effects

    def _recv(self, message: Recv, now_ns: int) -> list[Effect]:
        if self.reader_waiting:
            raise UnexpectedMessage("UdpSocket", message, "the reader already waits")
        if self.queue:
            return self._deliver(now_ns)
        self.reader_waiting = True
        return []

    def _enqueue(self, skb: SocketBuffer, now_ns: int) -> Sequence[Effect]:
        if self.rmem >= self.rcvbuf:
            self._errors += 1
            fields = {"seq": skb.seq, "reason": "rcvbuf_full", "rmem": self.rmem}
            return (Note(NoteKind.PACKET_DROPPED, fields, TraceLevel.SUMMARY),)
        self.queue.append(skb)
        self.rmem += skb.truesize
        self._queued += 1
        self._rmem_high = max(self._rmem_high, self.rmem)
        self._queue_high = max(self._queue_high, len(self.queue))
        effects: list[Effect] = []
        if self.full:
            queued = {"seq": skb.seq, "truesize": skb.truesize, "rmem": self.rmem}
            effects.append(Note(NoteKind.SKB_QUEUED, queued))
        if self.reader_waiting:
            self.reader_waiting = False
            effects += self._deliver(now_ns)
        return effects

    def _deliver(self, now_ns: int) -> list[Effect]:
        skb = self.queue.popleft()
        self.rmem -= skb.truesize
        self._taken += 1
        notes: list[Effect] = []
        if self.full:
            notes.append(Note(NoteKind.SKB_DEQUEUED, {"seq": skb.seq, "rmem": self.rmem}))
        if self.waiting_reader is not None:
            return [*notes, *self.waiting_reader.woken(skb, now_ns)]
        return [Send(self.reader, SkbDelivered(skb)), *notes]
