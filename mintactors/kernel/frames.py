"""Where the generator's frames come from, and how the receiver recognises them.

Generated traffic carries a pktgen-style header in its payload (magic, sequence
number, send time; :mod:`mintactors.packets`), so the receiving application reads
a frame's identity from the frame itself. A replayed capture carries the
capture's own frames, byte for byte, with no such header. For those the sequence
number travels *out of band*: the :class:`FrameLedger` records, for every frame
the generator sends, its bytes, sequence number and send time, and the receiving
application looks a received frame up by its bytes.

The lookup is also the integrity check: a received foreign frame must be
byte-identical to a frame that was sent and not yet received. That is stronger
than checking the IP and UDP checksums, which a capture often holds wrong anyway
(frames captured on the sending host before checksum offload). Two identical
frames in a capture cannot be told apart by a receiver, so the ledger hands out
their sequence numbers in send order; a duplicate delivery is one more copy than
was sent.

The ledger is shared by the generator and the receiving application; the
runtime runs one actor at a time in a fixed order, so sharing it is deterministic.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Protocol

from mintactors.packets import FrameFactory

__all__ = [
    "CaptureFrames",
    "FrameLedger",
    "FrameSource",
    "PktgenFrames",
    "RecordedFrames",
    "flow_of",
]

_ETH_TYPE_IPV4 = b"\x08\x00"
_PROTOCOLS_WITH_PORTS = (6, 17, 132)  # TCP, UDP, SCTP


def flow_of(frame: bytes) -> bytes:
    """A key naming the frame's flow: the IPv4 5-tuple, or the MAC pair otherwise.

    Reads fixed offsets (no full parse), since it runs for every received frame.
    """
    if len(frame) >= 34 and frame[12:14] == _ETH_TYPE_IPV4:
        header_len = (frame[14] & 0x0F) * 4
        protocol = frame[23]
        addresses = frame[26:34]
        ports_at = 14 + header_len
        if protocol in _PROTOCOLS_WITH_PORTS and len(frame) >= ports_at + 4:
            return bytes([protocol]) + addresses + frame[ports_at : ports_at + 4]
        return bytes([protocol]) + addresses
    return frame[:12]


class FrameSource(Protocol):
    """Makes the frame for one send."""

    def frame(self, index: int, seq: int, now_ns: int) -> bytes:
        """The frame for planned send ``index``, numbered ``seq``, sent at ``now_ns``."""
        ...

    def templates(self) -> int:
        """Frames a kernel loop builds before its first send (then patches per send)."""
        ...


class PktgenFrames:
    """Generated frames: one :class:`FrameFactory` per flow, flow ``seq % flows``."""

    def __init__(self, factories: Sequence[FrameFactory]) -> None:
        if not factories:
            raise ValueError("the generator needs at least one flow")
        self.factories = tuple(factories)

    def frame(self, index: int, seq: int, now_ns: int) -> bytes:
        """A pktgen frame carrying ``seq`` and the send time."""
        return self.factories[seq % len(self.factories)].frame(seq, now_ns)

    def templates(self) -> int:
        """One frame per flow."""
        return len(self.factories)


class FrameLedger:
    """Out-of-band identities of frames that carry no pktgen header."""

    def __init__(self) -> None:
        self._unclaimed: dict[bytes, deque[tuple[int, int]]] = {}
        self._sent_copies: dict[bytes, int] = {}

    def record(self, frame: bytes, seq: int, now_ns: int) -> None:
        """The generator sends ``frame`` as packet ``seq`` at ``now_ns``."""
        self._unclaimed.setdefault(frame, deque()).append((seq, now_ns))
        self._sent_copies[frame] = self._sent_copies.get(frame, 0) + 1

    def claim(self, frame: bytes) -> tuple[int, int] | str:
        """Identify a received frame: ``(seq, send_ns)``, or a problem.

        The problem is ``duplicate`` (every sent copy of these bytes was received
        already) or ``unknown_frame`` (no frame with these bytes was sent: it was
        damaged on the way).
        """
        waiting = self._unclaimed.get(frame)
        if waiting:
            return waiting.popleft()
        return "duplicate" if frame in self._sent_copies else "unknown_frame"


class CaptureFrames:
    """A capture's frames, replayed in order."""

    def __init__(self, frames: Sequence[bytes]) -> None:
        self.frames = tuple(frames)

    def frame(self, index: int, seq: int, now_ns: int) -> bytes:
        """Capture frame ``index``, as captured."""
        return self.frames[index]

    def templates(self) -> int:
        """None: a capture's frames are built already, byte for byte."""
        return 0


class RecordedFrames:
    """Frames from ``inner``, each recorded in ``ledger`` as it is sent."""

    def __init__(self, inner: FrameSource, ledger: FrameLedger) -> None:
        self.inner = inner
        self.ledger = ledger

    def frame(self, index: int, seq: int, now_ns: int) -> bytes:
        """The inner source's frame, recorded as packet ``seq`` sent at ``now_ns``."""
        data = self.inner.frame(index, seq, now_ns)
        self.ledger.record(data, seq, now_ns)
        return data

    def templates(self) -> int:
        """The inner source's."""
        return self.inner.templates()
