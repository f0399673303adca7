"""Pcap output: exactly the delivered frames, valid checksums, virtual nanosecond times."""

from __future__ import annotations

import stat
import struct
from collections.abc import Callable
from pathlib import Path

import dpkt
import pytest

from mintactors.cli import main

from .conftest import QUICKSTART, Frame, Run

PCAP_NANO_MAGIC = 0xA1B23C4D


def ones_complement_sum(data: bytes) -> int:
    """The Internet checksum (RFC 1071), written out here rather than borrowed."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def read_pcap(path: Path) -> tuple[int, list[tuple[int, bytes]]]:
    """The file's magic and its records as (nanoseconds, frame), parsed by hand."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    records, offset = [], 24
    while offset < len(data):
        sec, frac, caplen, length = struct.unpack("<IIII", data[offset : offset + 16])
        assert caplen == length
        records.append((sec * 1_000_000_000 + frac, data[offset + 16 : offset + 16 + caplen]))
        offset += 16 + caplen
    return magic, records


def assert_valid_udp_frame(frame: bytes) -> None:
    eth = dpkt.ethernet.Ethernet(frame)
    ip = eth.data
    assert isinstance(ip, dpkt.ip.IP)
    header = bytes(frame[14 : 14 + ip.hl * 4])
    assert ones_complement_sum(header) == 0xFFFF
    udp = bytes(frame[14 + ip.hl * 4 : 14 + ip.len])
    pseudo = ip.src + ip.dst + struct.pack("!BBH", 0, ip.p, len(udp))
    assert ones_complement_sum(pseudo + udp) == 0xFFFF


def assert_pcap_holds(path: Path, frames: tuple[Frame, ...]) -> None:
    magic, records = read_pcap(path)
    assert magic == PCAP_NANO_MAGIC
    assert records == [(t_ns, frame) for _, t_ns, frame in frames]
    with path.open("rb") as stream:
        dpkt_frames = [bytes(buf) for _, buf in dpkt.pcap.Reader(stream)]
    assert dpkt_frames == [frame for _, _, frame in frames]
    for frame in dpkt_frames:
        assert_valid_udp_frame(frame)


@pytest.mark.parametrize("scenario", ["merging", "drops"])
def test_run_pcap_holds_the_delivered_frames_in_order(
    runs: Callable[..., Run], scenario: str
) -> None:
    """run --pcap writes each delivered frame once, in order, at its virtual receive time."""
    run = runs(scenario)
    assert len(run.delivered) == run.results["delivered"] > 0
    assert_pcap_holds(run.pcap, run.delivered)


def test_export_from_trace_is_byte_identical_to_the_run_pcap(
    runs: Callable[..., Run], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A trace with frame bytes exports the same pcap the run wrote."""
    run = runs("merging")
    out = tmp_path / "sub" / "delivered.pcap"
    assert main(["trace", "export", "pcap", str(run.trace), "-o", str(out)]) == 0
    assert out.read_bytes() == run.pcap.read_bytes()
    assert f"{run.results['delivered']} delivered frames" in capsys.readouterr().out


def test_export_of_generated_frames_has_one_per_packet_sent(
    runs: Callable[..., Run], tmp_path: Path
) -> None:
    """--frames generated writes every frame the generator built, at its build time."""
    run = runs("drops")
    out = tmp_path / "generated.pcap"
    assert (
        main(["trace", "export", "pcap", str(run.trace), "-o", str(out), "--frames", "generated"])
        == 0
    )
    assert len(run.generated) == run.results["sent"]
    assert_pcap_holds(out, run.generated)


def test_export_of_both_interleaves_in_time_order(runs: Callable[..., Run], tmp_path: Path) -> None:
    """--frames both holds generated and delivered frames, times never going back."""
    run = runs("merging")
    out = tmp_path / "both.pcap"
    assert (
        main(["trace", "export", "pcap", str(run.trace), "-o", str(out), "--frames", "both"]) == 0
    )
    _, records = read_pcap(out)
    assert len(records) == len(run.generated) + len(run.delivered)
    times = [t for t, _ in records]
    assert times == sorted(times)


def test_a_trace_without_frame_bytes_cannot_be_exported_and_leaves_no_file(
    runs: Callable[..., Run], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without trace_frames the export exits 2, says how to get frames, and writes nothing."""
    run = runs("sparse", frames=False)
    out = tmp_path / "none.pcap"
    assert main(["trace", "export", "pcap", str(run.trace), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "trace_frames" in err
    assert "run --pcap" in err
    assert list(tmp_path.iterdir()) == []


def test_cli_run_pcap_writes_a_capture(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """mintactors run --pcap writes the capture next to the other outputs it lists."""
    pcap = tmp_path / "capture.pcap"
    argv = [
        "run",
        str(QUICKSTART),
        "--set",
        "generator.count=4",
        "--trace",
        "off",
        "--out",
        str(tmp_path / "out"),
        "--pcap",
        str(pcap),
    ]
    assert main(argv) == 0
    assert str(pcap) in capsys.readouterr().out
    _, records = read_pcap(pcap)
    assert len(records) == 4
    for _, frame in records:
        assert_valid_udp_frame(frame)


def test_export_to_stdout_writes_the_same_bytes(
    runs: Callable[..., Run], capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """-o - writes the capture to stdout (for a pipe into tshark) and reports on stderr."""
    run = runs("merging")
    assert main(["trace", "export", "pcap", str(run.trace), "-o", "-"]) == 0
    captured = capsysbinary.readouterr()
    assert captured.out == run.pcap.read_bytes()
    assert b"delivered frames" in captured.err


def test_a_device_as_output_is_written_not_replaced(
    runs: Callable[..., Run], tmp_path: Path
) -> None:
    """Writing to /dev/null leaves /dev/null a character device (no rename over it)."""
    run = runs("sparse")
    null = Path("/dev/null")
    assert main(["trace", "export", "pcap", str(run.trace), "-o", str(null)]) == 0
    assert (
        main(
            [
                "run",
                str(QUICKSTART),
                "--set",
                "generator.count=2",
                "--trace",
                "off",
                "--out",
                str(tmp_path),
                "--pcap",
                str(null),
            ]
        )
        == 0
    )
    assert stat.S_ISCHR(null.stat().st_mode)


def test_a_directory_as_output_is_a_clear_error(
    runs: Callable[..., Run], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An output path that is a directory exits 2 with 'cannot write', for export and run."""
    run = runs("sparse")
    assert main(["trace", "export", "pcap", str(run.trace), "-o", str(tmp_path)]) == 2
    assert "cannot write" in capsys.readouterr().err
    assert (
        main(
            [
                "run",
                str(QUICKSTART),
                "--set",
                "generator.count=2",
                "--trace",
                "off",
                "--out",
                str(tmp_path / "out"),
                "--pcap",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert "cannot write" in capsys.readouterr().err
    assert not (tmp_path / "out" / "results.json").exists()


def test_run_pcap_frames_both_holds_every_generated_and_delivered_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--pcap-frames both records each frame when built and again when received."""
    pcap = tmp_path / "both.pcap"
    argv = [
        "run",
        str(QUICKSTART),
        "--set",
        "generator.count=6",
        "--set",
        "generator.interval_ns=300",
        "--trace",
        "off",
        "--out",
        str(tmp_path / "out"),
        "--pcap",
        str(pcap),
        "--pcap-frames",
        "both",
    ]
    assert main(argv) == 0
    capsys.readouterr()
    _, records = read_pcap(pcap)
    frames = [frame for _, frame in records]
    assert len(frames) == 12
    assert all(frames.count(frame) == 2 for frame in frames)
    times = [t for t, _ in records]
    assert times == sorted(times)
