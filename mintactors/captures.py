"""Reading packet captures (pcap and pcapng) for replay through the generator.

The capture's frames and their arrival times become the generator's packets and
planned send instants (``generator.pattern = "capture"``). Headers are decoded
with dpkt's record classes; timestamps are kept as exact integer nanoseconds
(dpkt's readers return float seconds, which cannot hold nanoseconds at today's
epoch), so a replay reproduces the capture's inter-arrival times exactly.

Only Ethernet captures (link type 1, ``DLT_EN10MB``) can be replayed: the
emulated NIC receives Ethernet frames. A frame cut short by the capture's snap
length is replayed as captured.
"""

from __future__ import annotations

import hashlib
import itertools
import struct
from collections.abc import Sequence
from pathlib import Path

import attrs
import dpkt

__all__ = ["Capture", "CaptureError", "parse_capture", "pcap_bytes", "pcapng_bytes", "read_capture"]

LINKTYPE_ETHERNET = dpkt.pcap.DLT_EN10MB

_PCAP_NANO = (dpkt.pcap.TCPDUMP_MAGIC_NANO, dpkt.pcap.PMUDPCT_MAGIC_NANO)
_PCAP_LITTLE = (dpkt.pcap.PMUDPCT_MAGIC, dpkt.pcap.PMUDPCT_MAGIC_NANO)
_PCAP_MAGICS = (
    dpkt.pcap.TCPDUMP_MAGIC,
    dpkt.pcap.TCPDUMP_MAGIC_NANO,
    dpkt.pcap.PMUDPCT_MAGIC,
    dpkt.pcap.PMUDPCT_MAGIC_NANO,
)


class CaptureError(ValueError):
    """A capture file that cannot be replayed, and why."""


@attrs.frozen
class Capture:
    """The frames of a capture and when each arrived.

    Attributes:
        frames: the captured bytes of each frame, in file order.
        timestamps_ns: each frame's arrival time in integer nanoseconds.
        file_format: ``pcap`` or ``pcapng``.
        sha256: digest of the file's bytes, so a replay can tell it is the same file.
    """

    frames: tuple[bytes, ...]
    timestamps_ns: tuple[int, ...]
    file_format: str
    sha256: str

    def gaps_ns(self) -> tuple[int, ...]:
        """Inter-arrival times: ``timestamps[k+1] - timestamps[k]``."""
        ts = self.timestamps_ns
        return tuple(b - a for a, b in itertools.pairwise(ts))


def read_capture(path: str | Path) -> Capture:
    """Read and decode the capture at ``path``.

    Raises:
        CaptureError: unreadable, not pcap/pcapng, not Ethernet, or empty.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CaptureError(f"cannot be read: {exc.strerror or exc}") from None
    return parse_capture(data)


def parse_capture(data: bytes) -> Capture:
    """Decode a pcap or pcapng file held in memory.

    Raises:
        CaptureError: not pcap/pcapng, a link type other than Ethernet, a block
            without a timestamp, a truncated record, or no frames at all.
    """
    if len(data) < 4:
        raise CaptureError("is too short to be a pcap or pcapng file")
    first = struct.unpack(">I", data[:4])[0]
    try:
        if first in _PCAP_MAGICS:
            frames, stamps = _read_pcap(data, first)
            file_format = "pcap"
        elif first == dpkt.pcapng.PCAPNG_BT_SHB:
            frames, stamps = _read_pcapng(data)
            file_format = "pcapng"
        else:
            raise CaptureError(f"is not a pcap or pcapng file (first word {first:#010x})")
    except (dpkt.UnpackError, struct.error) as exc:
        raise CaptureError(f"is damaged: {exc}") from None
    if not frames:
        raise CaptureError("holds no frames")
    return Capture(tuple(frames), tuple(stamps), file_format, hashlib.sha256(data).hexdigest())


def _check_linktype(linktype: int) -> None:
    if linktype != LINKTYPE_ETHERNET:
        raise CaptureError(
            f"has link type {linktype}; only Ethernet captures (link type 1) can be replayed"
        )


def _read_pcap(data: bytes, magic: int) -> tuple[list[bytes], list[int]]:
    little = magic in _PCAP_LITTLE
    header_cls = dpkt.pcap.LEFileHdr if little else dpkt.pcap.FileHdr
    record_cls = dpkt.pcap.LEPktHdr if little else dpkt.pcap.PktHdr
    file_header = header_cls(data[: header_cls.__hdr_len__])
    _check_linktype(file_header.linktype)
    scale = 1 if magic in _PCAP_NANO else 1000  # sub-second field in ns or us
    frames: list[bytes] = []
    stamps: list[int] = []
    offset = header_cls.__hdr_len__
    while offset < len(data):
        end_of_header = offset + record_cls.__hdr_len__
        if end_of_header > len(data):
            raise CaptureError(f"is truncated in the record header of frame {len(frames)}")
        record = record_cls(data[offset:end_of_header])
        end = end_of_header + record.caplen
        if end > len(data):
            raise CaptureError(f"is truncated in the data of frame {len(frames)}")
        frames.append(data[end_of_header:end])
        stamps.append(record.tv_sec * 1_000_000_000 + record.tv_usec * scale)
        offset = end
    return frames, stamps


def _ticks_to_ns(ticks: int, resolution: int) -> int:
    """pcapng ``if_tsresol``: MSB clear, 10^-n s per tick; MSB set, 2^-n s per tick."""
    exponent = resolution & 0x7F
    if resolution & 0x80:
        return (ticks * 1_000_000_000 + (1 << exponent >> 1)) >> exponent
    if exponent <= 9:
        return ticks * int(10 ** (9 - exponent))
    divisor = int(10 ** (exponent - 9))
    return (ticks + divisor // 2) // divisor


def _read_pcapng(data: bytes) -> tuple[list[bytes], list[int]]:
    png = dpkt.pcapng
    frames: list[bytes] = []
    stamps: list[int] = []
    # Per interface: (resolution byte, offset in seconds), reset by each section.
    interfaces: list[tuple[int, int]] = []
    little = False
    offset = 0
    while offset + 8 <= len(data):
        block_type = struct.unpack_from(">I", data, offset)[0]
        if block_type == png.PCAPNG_BT_SHB:
            bom = struct.unpack_from(">I", data, offset + 8)[0]
            if bom not in (png.BYTE_ORDER_MAGIC, png.BYTE_ORDER_MAGIC_LE):
                raise CaptureError("has a section header with an unknown byte order")
            little = bom == png.BYTE_ORDER_MAGIC_LE
            interfaces = []
        fmt = "<I" if little else ">I"
        block_type = struct.unpack_from(fmt, data, offset)[0]
        length = struct.unpack_from(fmt, data, offset + 4)[0]
        if length < 12 or offset + length > len(data):
            raise CaptureError(f"is truncated in a block at byte {offset}")
        block = data[offset : offset + length]
        if block_type == png.PCAPNG_BT_IDB:
            idb = (png.InterfaceDescriptionBlockLE if little else png.InterfaceDescriptionBlock)(
                block
            )
            _check_linktype(idb.linktype)
            resolution, shift = 6, 0
            for opt in idb.opts:
                if opt.code == png.PCAPNG_OPT_IF_TSRESOL:
                    resolution = opt.data[0]
                elif opt.code == png.PCAPNG_OPT_IF_TSOFFSET:
                    shift = struct.unpack("<q" if little else ">q", opt.data)[0]
            interfaces.append((resolution, shift))
        elif block_type in (png.PCAPNG_BT_EPB, png.PCAPNG_BT_PB):
            cls = (
                (png.EnhancedPacketBlockLE if little else png.EnhancedPacketBlock)
                if block_type == png.PCAPNG_BT_EPB
                else (png.PacketBlockLE if little else png.PacketBlock)
            )
            packet = cls(block)
            iface = packet.iface_id
            if iface >= len(interfaces):
                raise CaptureError(f"has a frame on interface {iface}, which is not described")
            resolution, shift = interfaces[iface]
            ticks = (packet.ts_high << 32) | packet.ts_low
            frames.append(bytes(packet.pkt_data))
            stamps.append(shift * 1_000_000_000 + _ticks_to_ns(ticks, resolution))
        elif block_type == png.PCAPNG_BT_SPB:
            raise CaptureError("holds simple packet blocks, which carry no timestamp")
        offset += length
    return frames, stamps


def pcap_bytes(
    frames: Sequence[bytes], timestamps_ns: Sequence[int], *, nano: bool = True
) -> bytes:
    """A little-endian pcap file of Ethernet ``frames`` at ``timestamps_ns``.

    ``nano`` writes nanosecond timestamps (magic ``0xa1b23c4d``); otherwise
    microseconds, truncating the nanoseconds.
    """
    magic = dpkt.pcap.TCPDUMP_MAGIC_NANO if nano else dpkt.pcap.TCPDUMP_MAGIC
    out = [bytes(dpkt.pcap.LEFileHdr(magic=magic, snaplen=262144, linktype=LINKTYPE_ETHERNET))]
    for frame, ts in zip(frames, timestamps_ns, strict=True):
        seconds, rest = divmod(ts, 1_000_000_000)
        sub = rest if nano else rest // 1000
        record = dpkt.pcap.LEPktHdr(tv_sec=seconds, tv_usec=sub, caplen=len(frame), len=len(frame))
        out += [bytes(record), frame]
    return b"".join(out)


def pcapng_bytes(
    frames: Sequence[bytes], timestamps_ns: Sequence[int], *, resolution: int = 9
) -> bytes:
    """A little-endian pcapng file, one Ethernet interface with ``if_tsresol`` 10^-resolution.

    Timestamps are written in the interface's ticks (rounded down).
    """
    png = dpkt.pcapng
    options = [
        png.PcapngOptionLE(code=png.PCAPNG_OPT_IF_TSRESOL, data=bytes([resolution])),
        png.PcapngOptionLE(code=png.PCAPNG_OPT_ENDOFOPT),
    ]
    idb = png.InterfaceDescriptionBlockLE(linktype=LINKTYPE_ETHERNET, snaplen=262144, opts=options)
    out = [bytes(png.SectionHeaderBlockLE()), bytes(idb)]
    for frame, ts in zip(frames, timestamps_ns, strict=True):
        ticks = ts * 10**resolution // 1_000_000_000
        epb = png.EnhancedPacketBlockLE(
            ts_high=ticks >> 32, ts_low=ticks & 0xFFFFFFFF, pkt_data=frame
        )
        out.append(bytes(epb))
    return b"".join(out)
