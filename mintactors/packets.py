"""Real Ethernet/IPv4/UDP frames with a pktgen-style payload header.

The generator's frames are built with dpkt, so every header field and checksum is
the packet library's, not ours. Building a 16 KB frame and checksumming it from
scratch for each of thousands of packets would dominate a run, so a
:class:`FrameFactory` builds one template frame per (flow, size) with dpkt and then,
per packet, writes the IPv4 identification and the payload header and adjusts the
IPv4 and UDP checksums incrementally (RFC 1624). Tests check every patched frame
against a full dpkt rebuild.

The IPv4 header is the one pktgen writes (``fill_packet_ipv4`` in
net/core/pktgen.c): TTL 32, no DF, TOS 0, and an identification that counts up by
one per packet built (``iph->id = htons(pkt_dev->ip_id); pkt_dev->ip_id++``, from 0),
so packet ``seq`` carries ID ``seq mod 2**16``. pktgen leaves the UDP checksum 0
unless its UDPCSUM flag is set; the model always fills it in, so a receiver can
check every byte of the payload.

Payload layout (network byte order), following Linux pktgen's ``struct pktgen_hdr``
(net/core/pktgen.c) and extending it by one field:

====== ====== ============================================================
offset bytes  field
====== ====== ============================================================
0      4      magic ``0xbe9be955``
4      4      sequence number
8      4      send time, seconds (``tv_sec``)
12     4      send time, microseconds within the second (``tv_usec``)
16     8      send time in virtual nanoseconds (our extension: pktgen's
              microseconds are too coarse for microsecond-scale latencies)
====== ====== ============================================================

The rest of the payload is a fixed byte pattern, so a corrupted byte anywhere
shows up as a checksum failure.
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Final

import attrs
import dpkt

__all__ = [
    "ETH_HEADER_LEN",
    "IPV4_HEADER_LEN",
    "MIN_FRAME_LEN",
    "PKTGEN_HEADER_LEN",
    "PKTGEN_MAGIC",
    "PKTGEN_TTL",
    "UDP_HEADER_LEN",
    "FlowAddress",
    "FrameCheck",
    "FrameFactory",
    "internet_checksum",
    "parse_pktgen_header",
    "verify_frame",
]

PKTGEN_MAGIC: Final = 0xBE9BE955
ETH_HEADER_LEN: Final = 14
IPV4_HEADER_LEN: Final = 20
UDP_HEADER_LEN: Final = 8
PKTGEN_HEADER_LEN: Final = 24
_PAYLOAD_OFFSET: Final = ETH_HEADER_LEN + IPV4_HEADER_LEN + UDP_HEADER_LEN
#: Smallest frame that holds the headers and the payload header.
MIN_FRAME_LEN: Final = _PAYLOAD_OFFSET + PKTGEN_HEADER_LEN
#: Largest frame: the IPv4 total-length field is 16 bits.
MAX_FRAME_LEN: Final = ETH_HEADER_LEN + 0xFFFF
_UDP_CSUM_OFFSET: Final = ETH_HEADER_LEN + IPV4_HEADER_LEN + 6
_IP_ID_OFFSET: Final = ETH_HEADER_LEN + 4
_IP_CSUM_OFFSET: Final = ETH_HEADER_LEN + 10
#: pktgen's TTL (``iph->ttl = 32`` in ``fill_packet_ipv4``).
PKTGEN_TTL: Final = 32
_PKTGEN = struct.Struct("!IIIIQ")
#: One big-endian 16-bit word.
_U16 = struct.Struct("!H")


@attrs.frozen
class FlowAddress:
    """The addresses of one flow: MACs, IPv4 addresses and UDP ports."""

    src_mac: str = "02:00:00:00:00:01"
    dst_mac: str = "02:00:00:00:00:02"
    src_ip: str = "10.0.0.1"
    dst_ip: str = "10.0.0.2"
    src_port: int = 9
    dst_port: int = 9


def _mac(text: str) -> bytes:
    return bytes(int(part, 16) for part in text.split(":"))


def internet_checksum(data: bytes) -> int:
    """The RFC 1071 ones'-complement checksum of ``data``.

    Summing 16-bit words in ones' complement is summing modulo 0xFFFF, and since
    2**16 = 1 (mod 0xFFFF), the big-endian integer of the whole buffer modulo 0xFFFF
    is that sum: one C-speed big-integer operation instead of a Python loop.
    """
    if len(data) % 2:
        data += b"\0"
    total = int.from_bytes(data, "big") % 0xFFFF
    if total == 0 and any(data):
        total = 0xFFFF  # ones' complement has two zeros; a nonzero sum is "negative zero"
    return ~total & 0xFFFF


def _patched_checksum(checksum: int, old: bytes, new: bytes) -> int:
    """RFC 1624 eqn. 3, ``HC' = ~(~HC + ~m + m')``, over the 16-bit words ``old`` -> ``new``.

    Summed as :func:`internet_checksum` sums: modulo 0xFFFF a buffer's big-endian
    integer is the ones'-complement sum of its words, and ``~m`` is ``-m``.
    """
    acc = ~checksum & 0xFFFF
    total = (acc - int.from_bytes(old, "big") + int.from_bytes(new, "big")) % 0xFFFF
    # The sum is +0 only if every term is: no change at all to a checksum of 0xFFFF.
    if total == 0 and (acc or old != b"\xff" * len(old) or any(new)):
        total = 0xFFFF
    return ~total & 0xFFFF


class FrameFactory:
    """Builds frames of one size for one flow, each with its own IP ID and payload header.

    Args:
        size: frame length in bytes, Ethernet header included, FCS excluded
            (pktgen's ``pkt_size`` convention).
        flow: addresses and ports.

    Raises:
        ValueError: ``size`` is outside ``MIN_FRAME_LEN..MAX_FRAME_LEN``.
    """

    def __init__(self, size: int, flow: FlowAddress | None = None) -> None:
        if not MIN_FRAME_LEN <= size <= MAX_FRAME_LEN:
            raise ValueError(f"frame size {size} outside {MIN_FRAME_LEN}..{MAX_FRAME_LEN}")
        self.size = size
        self.flow = flow or FlowAddress()
        filler_len = size - MIN_FRAME_LEN
        filler = bytes((i * 7 + 3) & 0xFF for i in range(filler_len))
        blank_header = _PKTGEN.pack(PKTGEN_MAGIC, 0, 0, 0, 0)
        self._template = bytearray(self._build(blank_header + filler, ip_id=0))
        self._template_csum = struct.unpack_from("!H", self._template, _UDP_CSUM_OFFSET)[0]
        self._template_ip_csum = struct.unpack_from("!H", self._template, _IP_CSUM_OFFSET)[0]
        # The blank header, for the incremental update.
        self._blank_header = blank_header

    def _build(self, payload: bytes, ip_id: int) -> bytes:
        flow = self.flow
        udp = dpkt.udp.UDP(sport=flow.src_port, dport=flow.dst_port, data=payload)
        udp.ulen = UDP_HEADER_LEN + len(payload)
        ip = dpkt.ip.IP(
            src=ipaddress.IPv4Address(flow.src_ip).packed,
            dst=ipaddress.IPv4Address(flow.dst_ip).packed,
            p=dpkt.ip.IP_PROTO_UDP,
            ttl=PKTGEN_TTL,
            id=ip_id,
            data=udp,
        )
        ip.len = IPV4_HEADER_LEN + udp.ulen
        frame = dpkt.ethernet.Ethernet(
            src=_mac(flow.src_mac), dst=_mac(flow.dst_mac), type=dpkt.ethernet.ETH_TYPE_IP, data=ip
        )
        return bytes(frame)

    def build_reference(self, seq: int, send_ns: int) -> bytes:
        """The same frame as :meth:`frame`, built and checksummed from scratch by dpkt."""
        header = _pktgen_header(seq, send_ns)
        return self._build(header + bytes(self._template[MIN_FRAME_LEN:]), ip_id=seq & 0xFFFF)

    def frame(self, seq: int, send_ns: int) -> bytes:
        """The frame for packet ``seq`` sent at virtual time ``send_ns``.

        The template is patched in place of a rebuild, as a kernel loop reusing one
        built skb would: the IP ID (``seq`` mod 2**16) with the IPv4 header
        checksum, and the payload header with the UDP checksum (the IP ID is not in
        the UDP pseudo-header, so it leaves the UDP checksum alone).
        """
        header = _pktgen_header(seq, send_ns)
        ip_id = seq & 0xFFFF
        # The template's ID is 0; the IPv4 checksum covers the header only.
        ip_csum = _patched_checksum(self._template_ip_csum, b"\0\0", _U16.pack(ip_id))
        csum = _patched_checksum(self._template_csum, self._blank_header, header)
        if csum == 0:
            csum = 0xFFFF  # UDP sends a computed zero as all ones (RFC 768)
        out = bytearray(self._template)
        _U16.pack_into(out, _IP_ID_OFFSET, ip_id)
        _U16.pack_into(out, _IP_CSUM_OFFSET, ip_csum)
        out[_PAYLOAD_OFFSET:MIN_FRAME_LEN] = header
        _U16.pack_into(out, _UDP_CSUM_OFFSET, csum)
        return bytes(out)


def _pktgen_header(seq: int, send_ns: int) -> bytes:
    seconds, rest = divmod(send_ns, 1_000_000_000)
    return _PKTGEN.pack(PKTGEN_MAGIC, seq & 0xFFFFFFFF, seconds & 0xFFFFFFFF, rest // 1000, send_ns)


def parse_pktgen_header(frame: bytes) -> tuple[int, int] | None:
    """Return ``(seq, send_ns)`` from a frame's payload header, or None if absent."""
    if len(frame) < MIN_FRAME_LEN:
        return None
    magic, seq, _, _, send_ns = _PKTGEN.unpack_from(frame, _PAYLOAD_OFFSET)
    if magic != PKTGEN_MAGIC:
        return None
    return seq, send_ns


@attrs.define(slots=True, unsafe_hash=True)  # a value; not frozen, as it is made per frame
class FrameCheck:
    """The verdict on one received frame (read-only by convention).

    ``problem`` is empty for a good frame, otherwise it names the first fault found
    (``truncated``, ``not_ipv4_udp``, ``ip_checksum``, ``udp_checksum``,
    ``length_mismatch``, ``bad_magic``).
    """

    seq: int | None
    send_ns: int | None
    problem: str = ""

    @property
    def ok(self) -> bool:
        """True when the frame passed every check."""
        return not self.problem


#: Ethertype, version/IHL, flags/fragment offset and protocol: an unfragmented
#: IPv4/UDP frame with no VLAN tag and no IP options reads 0x0800, 0x45, offset 0, 17.
_PLAIN = struct.Struct("!12xHB5xHxB")
#: The IP total length; the UDP length and checksum of such a frame.
_LENGTHS = struct.Struct("!16xH20xHH")


def _udp_fields(frame: bytes) -> tuple[int, int, int] | None:
    """(IP total length, UDP length, UDP checksum), or None if not IPv4/UDP.

    The model's own frames (plain IPv4/UDP) are read with two struct unpacks, as
    dpkt would read them; anything else (a VLAN tag, IP options, a fragment, a
    short UDP header) goes through dpkt's parser.
    """
    ethertype, version_ihl, fragment, protocol = _PLAIN.unpack_from(frame)
    if ethertype == 0x0800 and version_ihl == 0x45 and not fragment & 0x1FFF and protocol == 17:
        ip_len, ulen, checksum = _LENGTHS.unpack_from(frame)
        available = len(frame) - ETH_HEADER_LEN
        segment = (min(ip_len, available) if ip_len else available) - IPV4_HEADER_LEN
        if segment >= UDP_HEADER_LEN:
            return ip_len, ulen, checksum
    try:
        eth = dpkt.ethernet.Ethernet(frame)
    except dpkt.UnpackError:
        return None
    ip = eth.data
    if not isinstance(ip, dpkt.ip.IP) or not isinstance(ip.data, dpkt.udp.UDP):
        return None
    return ip.len, ip.data.ulen, ip.data.sum


def _udp_sum(frame: bytes, ip_bytes: bytes) -> int:
    """The checksum over the UDP pseudo-header and segment (0 when it verifies).

    The same sum as :func:`internet_checksum` of the two joined, without joining
    them: the 12-byte pseudo-header ends on a 16-bit boundary, so the two big
    integers add modulo 0xFFFF (2**16 = 1 there), and an odd segment is padded.
    The pseudo-header's words are the addresses, the protocol and the length, so
    modulo 0xFFFF it is their sum.
    """
    segment = memoryview(frame)[ETH_HEADER_LEN + IPV4_HEADER_LEN :]
    length = len(segment)
    pseudo = int.from_bytes(ip_bytes[12:20], "big") + dpkt.ip.IP_PROTO_UDP + length
    data = int.from_bytes(segment, "big") << (8 * (length % 2))
    total = (pseudo + data) % 0xFFFF
    # The protocol word is never zero, so neither is the sum: 0 here is 0xFFFF.
    return ~(total or 0xFFFF) & 0xFFFF


def verify_frame(frame: bytes) -> FrameCheck:
    """Check a received frame's headers, lengths, checksums and payload header."""
    if len(frame) < MIN_FRAME_LEN:
        return FrameCheck(None, None, "truncated")
    fields = _udp_fields(frame)
    if fields is None:
        return FrameCheck(None, None, "not_ipv4_udp")
    ip_len, ulen, udp_checksum = fields
    ip_bytes = frame[ETH_HEADER_LEN : ETH_HEADER_LEN + IPV4_HEADER_LEN]
    if ip_len != len(frame) - ETH_HEADER_LEN or ulen != ip_len - IPV4_HEADER_LEN:
        return FrameCheck(None, None, "length_mismatch")
    if internet_checksum(ip_bytes) != 0:
        return FrameCheck(None, None, "ip_checksum")
    if udp_checksum != 0 and _udp_sum(frame, ip_bytes) != 0:
        return FrameCheck(None, None, "udp_checksum")
    header = parse_pktgen_header(frame)
    if header is None:
        return FrameCheck(None, None, "bad_magic")
    return FrameCheck(header[0], header[1])
