"""Frames: real Ethernet/IPv4/UDP bytes, correct checksums, pktgen payload header."""

from __future__ import annotations

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mintactors.packets import (
    MIN_FRAME_LEN,
    PKTGEN_MAGIC,
    PKTGEN_TTL,
    FlowAddress,
    FrameFactory,
    internet_checksum,
    parse_pktgen_header,
    verify_frame,
)


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(MIN_FRAME_LEN, 16384),
    seq=st.integers(0, 2**32 - 1),
    send_ns=st.integers(0, 2**63 - 1),
)
def test_patched_frames_equal_a_full_dpkt_rebuild(size: int, seq: int, send_ns: int) -> None:
    """Every frame the factory patches is byte-identical to one dpkt builds from scratch."""
    factory = FrameFactory(size)
    assert factory.frame(seq, send_ns) == factory.build_reference(seq, send_ns)


@given(st.binary(max_size=300))
def test_internet_checksum_matches_dpkt(data: bytes) -> None:
    """Our big-integer checksum agrees with dpkt's word-by-word one."""
    assert internet_checksum(data) == dpkt.in_cksum(data)


def test_frame_fields_read_back_with_dpkt() -> None:
    """dpkt parses our frame into the configured addresses, ports and payload header."""
    flow = FlowAddress(src_ip="192.168.1.5", dst_ip="192.168.1.9", src_port=1234, dst_port=9)
    raw = FrameFactory(1514, flow).frame(seq=77, send_ns=3_000_001_500)
    eth = dpkt.ethernet.Ethernet(raw)
    ip, udp = eth.data, eth.data.data
    assert len(raw) == 1514
    assert (ip.src, ip.dst) == (bytes([192, 168, 1, 5]), bytes([192, 168, 1, 9]))
    assert (udp.sport, udp.dport, udp.ulen) == (1234, 9, 1514 - 34)
    assert int.from_bytes(udp.data[:4], "big") == PKTGEN_MAGIC
    assert int.from_bytes(udp.data[4:8], "big") == 77
    assert int.from_bytes(udp.data[8:12], "big") == 3  # tv_sec
    assert int.from_bytes(udp.data[12:16], "big") == 1  # tv_usec
    assert parse_pktgen_header(raw) == (77, 3_000_001_500)
    # Checksums valid by dpkt's own arithmetic.
    assert dpkt.in_cksum(raw[14:34]) == 0
    assert verify_frame(raw).ok


@pytest.mark.parametrize(
    ("offset", "problem"),
    [
        (16, "length_mismatch"),
        (22, "ip_checksum"),
        (40, "udp_checksum"),
        (200, "udp_checksum"),
        (12, "not_ipv4_udp"),
    ],
)
def test_a_flipped_byte_is_caught(offset: int, problem: str) -> None:
    """Corrupting any byte of headers or payload makes verification fail with a reason."""
    raw = bytearray(FrameFactory(512).frame(5, 10))
    raw[offset] ^= 0x40
    check = verify_frame(bytes(raw))
    assert not check.ok
    assert check.problem == problem


def test_truncated_frame_is_caught() -> None:
    """A frame cut short fails with a length fault, not an exception."""
    raw = FrameFactory(512).frame(5, 10)
    assert verify_frame(raw[:40]).problem == "truncated"
    assert verify_frame(raw[:300]).problem == "length_mismatch"


def test_sizes_outside_the_valid_range_are_refused() -> None:
    """Frames too small for the headers or too big for IPv4 cannot be built."""
    with pytest.raises(ValueError, match="outside"):
        FrameFactory(MIN_FRAME_LEN - 1)
    with pytest.raises(ValueError, match="outside"):
        FrameFactory(14 + 65536)


def test_frames_carry_pktgen_ttl_and_a_counting_ip_id() -> None:
    """As pktgen's fill_packet_ipv4: TTL 32, no DF, and the IP ID counts up per packet."""
    factory = FrameFactory(1514)
    frames = [factory.frame(seq, 1_000 * seq) for seq in (0, 1, 2, 65535, 65536, 65537)]
    ips = [dpkt.ethernet.Ethernet(raw).data for raw in frames]
    assert {ip.ttl for ip in ips} == {PKTGEN_TTL} == {32}
    assert {ip.df for ip in ips} == {0}
    assert [ip.id for ip in ips] == [0, 1, 2, 65535, 0, 1]  # a 16-bit counter wraps
    for raw in frames:
        assert dpkt.in_cksum(raw[14:34]) == 0  # the IPv4 header checksum, patched
        assert verify_frame(raw).ok  # and the UDP checksum over the payload


@settings(max_examples=60, deadline=None)
@given(seq=st.integers(0, 2**32 - 1))
def test_the_patched_ip_checksum_is_valid_for_every_id(seq: int) -> None:
    """Whatever the ID, the incrementally patched IPv4 checksum verifies (RFC 1624)."""
    raw = FrameFactory(MIN_FRAME_LEN).frame(seq, 0)
    assert internet_checksum(raw[14:34]) == 0
    assert raw[18:20] == (seq & 0xFFFF).to_bytes(2, "big")


def _dpkt_verdict(frame: bytes) -> str:
    """What a received frame is, judged by dpkt's parser and checksum alone (a reference)."""
    if len(frame) < MIN_FRAME_LEN:
        return "truncated"
    try:
        ip = dpkt.ethernet.Ethernet(frame).data
    except dpkt.UnpackError:
        return "not_ipv4_udp"
    if not isinstance(ip, dpkt.ip.IP) or not isinstance(ip.data, dpkt.udp.UDP):
        return "not_ipv4_udp"
    if ip.len != len(frame) - 14 or ip.data.ulen != ip.len - 20:
        return "length_mismatch"
    if dpkt.in_cksum(frame[14:34]) != 0:
        return "ip_checksum"
    segment = frame[34:]
    pseudo = frame[26:34] + bytes([0, 17]) + len(segment).to_bytes(2, "big")
    if ip.data.sum != 0 and dpkt.in_cksum(pseudo + segment) != 0:
        return "udp_checksum"
    return "" if parse_pktgen_header(frame) else "bad_magic"


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(MIN_FRAME_LEN, 600),
    flips=st.lists(st.tuples(st.integers(0, 599), st.integers(1, 255)), max_size=3),
    cut=st.integers(0, 600),
)
def test_verification_agrees_with_dpkt_on_damaged_frames(
    size: int, flips: list[tuple[int, int]], cut: int
) -> None:
    """The struct fast path reaches dpkt's verdict whatever bytes are flipped or cut."""
    raw = bytearray(FrameFactory(size).frame(9, 1_000))
    for offset, mask in flips:
        if offset < len(raw):
            raw[offset] ^= mask
    frame = bytes(raw[: max(cut, 1)])
    assert verify_frame(frame).problem == _dpkt_verdict(frame)
