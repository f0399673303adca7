"""An Ethernet link and the host at its far end, sending frames into the NIC.

This is the traffic a real NIC sees, for comparing the Mint path with real hardware
(the paper's Table 2 has one such row: a 1 Gb/s NIC at MTU-sized frames). The host
at the other end of the cable (the *link partner*) sends the configured frames at
the configured instants, but never faster than the wire allows.

On the wire each frame is preceded by the 7-byte preamble and the start-of-frame
delimiter (8 bytes), carries its 4-byte FCS, and is followed by at least the
12-byte inter-frame gap (IEEE 802.3 clauses 3.1.1 and 4.4.2). So at 1 Gb/s
(8 ns a byte) a 1514-byte frame occupies the wire for (8 + 1514 + 4 + 12) x 8 =
12304 ns, and MTU-sized frames arrive at most once every 12.304 us, which carries
1514 x 8 / 12304 = 0.984 Gb/s of frames.

The receiving MAC has the frame when its last bit (the FCS) is in:
``(8 + len + 4)`` byte times after the preamble began. Cable propagation
(about 5 ns/m) is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Final, Protocol

import attrs

from mintactors.effects import Effect, Note, Send, SetTimer
from mintactors.errors import IllegalValue, UnexpectedMessage, unexpected
from mintactors.hardware.snapshots import LinkSnapshot
from mintactors.messages import FrameArrived, LinkInput, SendPacket, Start
from mintactors.notes import NoteKind

__all__ = [
    "FCS_LEN",
    "FrameMaker",
    "IFG_LEN",
    "LinkPartner",
    "LinkStatistics",
    "PREAMBLE_SFD_LEN",
    "byte_times_ns",
]

PREAMBLE_SFD_LEN: Final = 8  # 7 bytes of preamble and the start-of-frame delimiter
FCS_LEN: Final = 4  # the frame check sequence (CRC-32)
IFG_LEN: Final = 12  # the minimum inter-frame gap, 96 bit times


class FrameMaker(Protocol):
    """Makes the frame for one send (the generator's frame sources fit)."""

    def frame(self, index: int, seq: int, now_ns: int) -> bytes:
        """The frame for planned send ``index``, numbered ``seq``, sent at ``now_ns``."""
        ...


def byte_times_ns(nbytes: int, link_mbps: int) -> int:
    """How long ``nbytes`` take on a ``link_mbps`` Mb/s link, rounded up to whole ns."""
    return -(-nbytes * 8 * 1000 // link_mbps)


@attrs.frozen
class LinkStatistics:
    """What the link partner sent.

    ``waited_for_wire`` counts frames whose planned instant came while the previous
    frame (or its inter-frame gap) still occupied the wire.
    """

    sent: int
    bytes_sent: int
    waited_for_wire: int
    first_send_ns: int | None
    last_send_ns: int | None
    wire_busy_ns: int


class LinkPartner:
    """The far host and the link: frames onto the wire, each arriving at ``nic``.

    Args:
        nic: the receiving NIC's actor.
        frames: where the frames come from (pktgen frames, a capture's).
        instants: planned start times, nondecreasing, one per frame.
        count: how many frames.
        link_mbps: the link speed in Mb/s.
        note_frames: put each frame's bytes in its ``PacketGenerated`` note.

    Attributes:
        on_generate: optional observer called with (seq, now_ns, frame) for each frame
            put on the wire (a pcap writer during the run); it only records.
    """

    def __init__(
        self,
        *,
        nic: str,
        frames: FrameMaker,
        instants: Iterator[int],
        count: int,
        link_mbps: int = 1000,
        note_frames: bool = False,
    ) -> None:
        if link_mbps <= 0:
            raise ValueError(f"link speed must be positive, not {link_mbps} Mb/s")
        self.nic = nic
        self.frames = frames
        self.instants = instants
        self.count = count
        self.link_mbps = link_mbps
        self.note_frames = note_frames
        self.on_generate: Callable[[int, int, bytes], None] | None = None
        self.next_seq = 0
        self.wire_free_ns = 0
        self._sent = self._bytes = self._waited = self._busy = 0
        self._first: int | None = None
        self._last: int | None = None

    def statistics(self) -> LinkStatistics:
        """The counters so far."""
        return LinkStatistics(
            sent=self._sent,
            bytes_sent=self._bytes,
            waited_for_wire=self._waited,
            first_send_ns=self._first,
            last_send_ns=self._last,
            wire_busy_ns=self._busy,
        )

    def snapshot(self) -> LinkSnapshot:
        """How far the traffic has got (for inspection)."""
        return LinkSnapshot(
            planned=self.next_seq, count=self.count, sent=self._sent, wire_free_ns=self.wire_free_ns
        )

    def wire_ns(self, frame_len: int) -> tuple[int, int]:
        """(last bit arrives, wire free again) after the start of a ``frame_len`` frame."""
        arrive = byte_times_ns(PREAMBLE_SFD_LEN + frame_len + FCS_LEN, self.link_mbps)
        free = byte_times_ns(PREAMBLE_SFD_LEN + frame_len + FCS_LEN + IFG_LEN, self.link_mbps)
        return arrive, free

    def handle(self, message: LinkInput, now_ns: int) -> Sequence[Effect]:
        """Start sending, or put the next frame on the wire.

        Raises:
            IllegalValue: the planned instants ran out before ``count`` frames.
            UnexpectedMessage: a second start, a send timer for another frame than
                the one planned, or a message the link does not take.
        """
        match message:
            case Start():
                if self.next_seq:
                    raise UnexpectedMessage("LinkPartner", message, "already started")
                return self._plan(self._next_instant(message), now_ns)
            case SendPacket(seq=seq):
                if seq != self.next_seq - 1:
                    planned = f"frame {self.next_seq - 1} planned"
                    raise UnexpectedMessage("LinkPartner", message, planned)
                return self._transmit(message, now_ns)
            case _:
                raise unexpected("LinkPartner", message)

    def _next_instant(self, message: LinkInput) -> int | None:
        """The next frame's planned start (None: all planned), checked before any change."""
        if self.next_seq >= self.count:
            return None
        planned = next(self.instants, None)
        if planned is None:
            problem = f"the planned instants ran out after {self.next_seq} of {self.count} frames"
            raise IllegalValue("LinkPartner", message, problem)
        return planned

    def _plan(self, planned: int | None, now_ns: int) -> Sequence[Effect]:
        if planned is None:
            return ()
        seq = self.next_seq
        self.next_seq += 1
        start = max(planned, self.wire_free_ns, now_ns)
        if start > planned:
            self._waited += 1
        return (SetTimer("send", start - now_ns, SendPacket(seq)),)

    def _transmit(self, message: SendPacket, now_ns: int) -> Sequence[Effect]:
        seq = message.seq
        upcoming = self._next_instant(message)
        frame = self.frames.frame(seq, seq, now_ns)
        arrive, free = self.wire_ns(len(frame))
        self.wire_free_ns = now_ns + free
        self._sent += 1
        self._bytes += len(frame)
        self._busy += free
        if self._first is None:
            self._first = now_ns
        self._last = now_ns
        # The same note as the Mint generator's, so trace tools count the frame as sent.
        fields: dict[str, object] = {"seq": seq, "size": len(frame), "wire_ns": free}
        if self.note_frames:
            fields["frame"] = frame
        if self.on_generate is not None:
            self.on_generate(seq, now_ns, frame)
        return (
            Note(NoteKind.PACKET_GENERATED, fields),
            Send(self.nic, FrameArrived(seq, frame), arrive),
            *self._plan(upcoming, now_ns),
        )
