"""Frames as a nanosecond pcap file with virtual timestamps, for Wireshark and tshark.

Two ways in, one format out:

* during a run (``mintactors run --pcap FILE``): :class:`PcapRecorder` is attached
  to the generator and the receiving application as an observer and writes each
  frame as it is built or received intact;
* from a trace (``mintactors trace export pcap``): :func:`export_pcap` reads the
  frame bytes that ``simulation.trace_frames = true`` puts in the
  ``PacketGenerated`` and ``PacketReceived`` notes.

Timestamps are the virtual time of the event (the generator's entry into the system
call; the application's receipt), written with dpkt's writer in nanosecond mode.
dpkt takes the wall clock when no timestamp is given, so one is always passed, as an
exact :class:`~decimal.Decimal` number of seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import IO, Literal

import dpkt

from mintactors.notes import NoteKind
from mintactors.traces._reader import TraceError, TraceReader

__all__ = ["FRAME_CHOICES", "FrameChoice", "PcapRecorder", "export_pcap"]

FrameChoice = Literal["delivered", "generated", "both"]
#: Which frames a pcap holds.
FRAME_CHOICES: tuple[FrameChoice, ...] = ("delivered", "generated", "both")
#: Large enough for the largest frame mintactors builds (14 + 65535 bytes).
SNAPLEN = 262144

_NOTE_KINDS: dict[FrameChoice, frozenset[str]] = {
    "delivered": frozenset({NoteKind.PACKET_RECEIVED}),
    "generated": frozenset({NoteKind.PACKET_GENERATED}),
    "both": frozenset({NoteKind.PACKET_RECEIVED, NoteKind.PACKET_GENERATED}),
}


def _seconds(t_ns: int) -> Decimal:
    """Virtual nanoseconds as exact seconds (a float would round at large times)."""
    return Decimal(t_ns).scaleb(-9)


class PcapRecorder:
    """Writes frames to a nanosecond pcap stream as they are handed to it.

    Args:
        stream: a binary stream, positioned at its start.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._writer = dpkt.pcap.Writer(stream, snaplen=SNAPLEN, nano=True)
        self.frames = 0

    def record(self, seq: int, t_ns: int, frame: bytes) -> None:
        """Append ``frame`` with virtual timestamp ``t_ns`` (``seq`` is unused)."""
        self._writer.writepkt(frame, ts=_seconds(t_ns))
        self.frames += 1


def export_pcap(
    reader: TraceReader,
    stream: IO[bytes],
    frames: FrameChoice = "delivered",
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the frames carried by the rest of ``reader``'s trace; return how many.

    Raises:
        TraceError: the trace is not ``full`` level, or carries no frame bytes.
    """
    if reader.level != "full":
        raise TraceError(
            reader.path,
            None,
            f"a {reader.level}-level trace carries no frames; rerun with --trace full "
            "--set simulation.trace_frames=true, or use mintactors run --pcap FILE",
        )
    kinds = _NOTE_KINDS[frames]
    recorder = PcapRecorder(stream)
    without = 0
    for event in reader.events():
        if event["kind"] in kinds:
            hexed = event.get("frame")
            if not isinstance(hexed, str):
                without += 1
                continue
            try:
                frame = bytes.fromhex(hexed)
            except ValueError:
                raise TraceError(
                    reader.path, None, f"{event['kind']} at t={event['t_ns']}: frame is not hex"
                ) from None
            recorder.record(int(event.get("seq", -1)), event["t_ns"], frame)
            if progress is not None:
                progress(event["t_ns"])
    if without:
        raise TraceError(
            reader.path,
            None,
            f"{without} {' / '.join(sorted(kinds))} events carry no frame bytes: rerun with "
            "--set simulation.trace_frames=true, or write the pcap during the run with "
            "mintactors run --pcap FILE",
        )
    return recorder.frames
