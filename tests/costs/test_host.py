"""The host profile: measured on this machine, written as TOML, usable by any config."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any

import pytest

from mintactors.config import parse_config
from mintactors.costs import host, load_profile
from mintactors.costs.host import (
    HostMeasurement,
    ImplausibleMeasurement,
    host_profile_toml,
    measure_copy_ns,
)
from tests._paths import ROOT


def test_measured_copy_points_cover_the_sizes_and_never_decrease() -> None:
    """Every asked size gets a positive cost, and a larger copy never costs less."""
    points = measure_copy_ns([1024, 256, 16384, 4096], repeat=2, batch_bytes=1 << 16)
    assert [size for size, _ in points] == [256, 1024, 4096, 16384]
    costs = [ns for _, ns in points]
    assert costs == sorted(costs)
    assert costs[0] >= 1


def test_a_written_host_profile_is_named_by_a_config_path(tmp_path: Path) -> None:
    """The TOML loads as a profile with the measured fields; a config can name its path."""
    measured = HostMeasurement(((1024, 40), (16384, 700)), 300, "test cpu")
    (tmp_path / "mine.toml").write_text(host_profile_toml(measured, "mine", "paper-2014"))
    profile = load_profile(str(tmp_path / "mine.toml"))
    base = load_profile("paper-2014")
    assert profile.name == "mine"
    assert profile.copy_points == ((1024, 40), (16384, 700))
    assert profile.syscall_entry_ns + profile.syscall_exit_ns == 300
    assert profile.stack_ns == base.stack_ns  # not measurable: from the base
    assert "copy_points, syscall_entry_ns, syscall_exit_ns" in profile.description
    config = parse_config({"costs": {"profile": "mine.toml"}}, "cfg.toml", tmp_path)
    assert config.costs_profile == profile


@pytest.mark.parametrize(
    "points",
    [((64, 1), (1514, 100)), ((64, 12), (16384, 85))],
    ids=["64 B in 1 ns", "193 GB/s"],
)
def test_impossible_copy_figures_make_no_profile(points: tuple[tuple[int, int], ...]) -> None:
    """A copy faster than any real one (timer noise, a cache-resident loop) is refused."""
    measured = HostMeasurement(points, 300, "test cpu")
    with pytest.raises(ImplausibleMeasurement, match="faster than any real one"):
        host_profile_toml(measured)


def test_copies_go_to_slots_across_the_working_set_and_arrive_intact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each copy goes to its own slot of the working set, and every slot is checked after.

    (The figures themselves depend on the machine and its load, so they are not
    asserted here; :func:`check_plausible` is tested on given figures.)
    """
    slots: list[int] = []
    real = host._copies

    def spy(source: memoryview, size: int, working_set: int, rng: Any) -> Any:
        target, pairs = real(source, size, working_set, rng)
        slots.append(len(pairs))
        return target, pairs

    monkeypatch.setattr(host, "_copies", spy)
    points = measure_copy_ns([256, 4096], repeat=1, batch_bytes=1 << 15, working_set=1 << 16)
    assert [size for size, _ in points] == [256, 4096]
    assert slots == [(1 << 16) // 256, (1 << 16) // 4096]


def test_a_copy_that_does_not_arrive_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A slot that does not hold its source's bytes after the timing is an error.

    Two copies made to overlap (the second lands on the first's slot) stand for a
    copy that went wrong.
    """
    real = host._copies

    def overlapping(source: memoryview, size: int, working_set: int, rng: Any) -> Any:
        target, pairs = real(source, size, working_set, rng)
        pairs[1] = (pairs[0][0], pairs[1][1])
        return target, pairs

    monkeypatch.setattr(host, "_copies", overlapping)
    with pytest.raises(ImplausibleMeasurement, match="did not arrive intact"):
        measure_copy_ns([256], repeat=1, batch_bytes=1 << 12, working_set=1 << 12)


def test_calibrate_host_refuses_to_write_an_impossible_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tool exits 2 with the figure at fault and writes no file."""
    tool = runpy.run_path(str(ROOT / "tools" / "calibrate_host.py"), run_name="calibrate_host")
    impossible = HostMeasurement(((64, 1), (1514, 100)), None, "test cpu")
    monkeypatch.setitem(tool["main"].__globals__, "measure_host", lambda *a: impossible)
    out = tmp_path / "host.toml"
    monkeypatch.setattr(sys, "argv", ["calibrate_host.py", "--out", str(out)])
    assert tool["main"]() == 2
    assert "64-byte copy measured at 1 ns" in capsys.readouterr().err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
