"""Capture files: exact timestamps from pcap and pcapng, and their replay through the machine."""

from __future__ import annotations

import io
import itertools
import struct
from pathlib import Path
from typing import Any

import dpkt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mintactors.captures import CaptureError, parse_capture, pcap_bytes, pcapng_bytes, read_capture
from mintactors.config import load_config
from mintactors.errors import ConfigError
from mintactors.experiments import run_config
from mintactors.machine import build_machine
from mintactors.packets import FlowAddress, FrameFactory
from mintactors.testing import read_trace
from tests._paths import ROOT

SAMPLE = ROOT / "configs" / "scenarios" / "captures" / "mixed-traffic.pcapng"

FRAMES = [bytes([i]) * (60 + 10 * i) for i in range(4)]
STAMPS = [
    1_700_000_000_123_456_789,
    1_700_000_000_123_457_001,
    1_700_000_000_123_457_001,
    1_700_000_002_000_000_005,
]


@pytest.mark.parametrize("writer", [pcap_bytes, pcapng_bytes])
def test_nanosecond_timestamps_are_read_exactly(writer: Any) -> None:
    """Nanosecond pcap and pcapng timestamps come back to the nanosecond, frames byte for byte."""
    capture = parse_capture(writer(FRAMES, STAMPS))
    assert capture.timestamps_ns == tuple(STAMPS)
    assert capture.frames == tuple(FRAMES)


def test_microsecond_pcap_and_other_pcapng_resolutions() -> None:
    """Microsecond pcap and 10^-6 pcapng give whole microseconds; the reader scales ticks."""
    micro = [ts // 1000 * 1000 for ts in STAMPS]
    assert parse_capture(pcap_bytes(FRAMES, STAMPS, nano=False)).timestamps_ns == tuple(micro)
    assert parse_capture(pcapng_bytes(FRAMES, STAMPS, resolution=6)).timestamps_ns == tuple(micro)


def test_reader_agrees_with_dpkts_own_readers_on_the_sample() -> None:
    """On the shipped sample, the frames equal dpkt's and the times match its floats to 1 us."""
    capture = read_capture(SAMPLE)
    with SAMPLE.open("rb") as stream:
        theirs = list(dpkt.pcapng.Reader(stream))
    assert capture.frames == tuple(bytes(buf) for _, buf in theirs)
    for ns, (seconds, _) in zip(capture.timestamps_ns, theirs, strict=True):
        assert abs(ns / 1e9 - seconds) < 1e-6


def test_big_endian_pcap_is_read() -> None:
    """A big-endian microsecond pcap (magic a1b2c3d4 written big-endian) reads the same."""
    header = bytes(dpkt.pcap.FileHdr(linktype=1, snaplen=65535))
    body = b"".join(
        bytes(
            dpkt.pcap.PktHdr(
                tv_sec=ts // 10**9, tv_usec=ts % 10**9 // 1000, caplen=len(f), len=len(f)
            )
        )
        + f
        for f, ts in zip(FRAMES, STAMPS, strict=True)
    )
    capture = parse_capture(header + body)
    assert capture.timestamps_ns == tuple(ts // 1000 * 1000 for ts in STAMPS)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"hello world, not a capture", "not a pcap or pcapng"),
        (b"\xd4\xc3", "too short"),
        (pcap_bytes([], []), "no frames"),
        (pcap_bytes(FRAMES, STAMPS)[:-5], "truncated"),
    ],
)
def test_unusable_captures_are_refused_with_a_reason(data: bytes, problem: str) -> None:
    """Garbage, empty and truncated files are refused, saying why."""
    with pytest.raises(CaptureError, match=problem):
        parse_capture(data)


def test_non_ethernet_captures_are_refused() -> None:
    """A capture of another link type (here raw IP, 101) cannot be replayed into an Ethernet NIC."""
    data = bytearray(pcap_bytes(FRAMES, STAMPS))
    struct.pack_into("<I", data, 20, 101)
    with pytest.raises(CaptureError, match="link type 101"):
        parse_capture(bytes(data))


@settings(max_examples=30, deadline=None)
@given(gaps=st.lists(st.integers(0, 10**7), min_size=1, max_size=20))
def test_any_gaps_survive_a_pcapng_round_trip(gaps: list[int]) -> None:
    """Whatever the inter-arrival times, writing and reading a pcapng keeps them exactly."""
    stamps = list(itertools.accumulate([1_600_000_000 * 10**9, *gaps]))
    frames = [bytes(60)] * len(stamps)
    assert parse_capture(pcapng_bytes(frames, stamps)).gaps_ns() == tuple(gaps)


def write_capture_config(
    tmp_path: Path, frames: list[bytes], stamps: list[int], **gen: Any
) -> Path:
    (tmp_path / "caps").mkdir()
    (tmp_path / "caps" / "in.pcap").write_bytes(pcap_bytes(frames, stamps))
    extra = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in gen.items())
    text = (
        '[simulation]\ntrace = "full"\n[generator]\npattern = "capture"\n'
        f'capture = "caps/in.pcap"\nstart_ns = 5000\n{extra}'
    )
    path = tmp_path / "replay.toml"
    path.write_text(text)
    return path


def sent_at(trace: str) -> list[int]:
    """When the generator began each send (a capture's frames need no building)."""
    return [e["t_ns"] for e in read_trace(trace) if e["kind"] == "PacketGenerated"]


def test_capture_replay_reproduces_the_inter_arrival_times(tmp_path: Path) -> None:
    """The generator's sends are the capture's gaps, shifted to start_ns, and scaled."""
    flow = FrameFactory(200, FlowAddress())
    frames = [flow.frame(i, 0) for i in range(5)]
    stamps = [
        10**18,
        10**18 + 40_000,
        10**18 + 40_000 + 123_457,
        10**18 + 300_001,
        10**18 + 900_000,
    ]
    path = write_capture_config(tmp_path, frames, stamps)
    out = io.StringIO()
    build_machine(load_config(path), out).simulation.run_sync()
    assert sent_at(out.getvalue()) == [5000 + ts - stamps[0] for ts in stamps]
    out = io.StringIO()
    build_machine(load_config(path, ["generator.time_scale=0.25"]), out).simulation.run_sync()
    assert sent_at(out.getvalue()) == [5000 + round((ts - stamps[0]) * 0.25) for ts in stamps]
    # A user-space loop builds each frame (200 ns) before its call, even a captured one.
    out = io.StringIO()
    build_machine(load_config(path, ["generator.build=per-send"]), out).simulation.run_sync()
    assert sent_at(out.getvalue()) == [5200 + ts - stamps[0] for ts in stamps]


def test_capture_frames_arrive_byte_for_byte_and_are_accounted(tmp_path: Path) -> None:
    """Every frame of the mixed sample (ARP, TCP, IPv6, a repeat) is delivered intact, once."""
    capture = read_capture(SAMPLE)
    path = tmp_path / "sample.toml"
    path.write_text(f'[generator]\npattern = "capture"\ncapture = "{SAMPLE}"\n')
    outcome = run_config(load_config(path))
    results = outcome.results
    assert results.sent == len(capture.frames) == results.delivered
    assert all(verdict["ok"] for verdict in results.oracles.values())
    ledger = outcome.machine.app.ledger
    assert ledger is not None
    assert all(ledger.claim(frame) == "duplicate" for frame in capture.frames)


def test_a_damaged_capture_frame_is_caught_as_malformed(tmp_path: Path) -> None:
    """A frame that changes on its way no longer matches anything sent: intact_once fails."""
    frames = [bytes(range(60)), bytes(range(1, 61))]
    path = write_capture_config(tmp_path, frames, [0, 100_000])
    config = load_config(path, ['simulation.trace="off"'])
    machine = build_machine(config)
    poke = machine.memory.poke
    buffers = range(config.layout.buffers_base, config.layout.end)

    def corrupt(addr: int, data: bytes) -> None:
        # A stuck bit in the receive buffer: every frame's first byte lands flipped.
        poke(addr, bytes([data[0] ^ 1]) + data[1:] if addr in buffers else data)

    machine.memory.poke = corrupt  # type: ignore[method-assign]
    machine.simulation.run_sync()
    assert machine.app.statistics().malformed == 2
    assert [kind for _, kind, _ in machine.app.problems] == ["malformed", "malformed"]


def test_capture_config_errors_name_the_key(tmp_path: Path) -> None:
    """A missing capture file, or a count beyond the capture, is a ConfigError on its key."""
    path = write_capture_config(tmp_path, FRAMES[:2], STAMPS[:2])
    with pytest.raises(ConfigError) as info:
        load_config(path, ['generator.capture="caps/missing.pcap"'])
    assert info.value.key == "generator.capture"
    with pytest.raises(ConfigError) as info:
        load_config(path, ["generator.count=3"])
    assert info.value.key == "generator.count"
    assert load_config(path).generator.count == 2
