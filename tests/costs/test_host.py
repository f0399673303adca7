"""The host profile: measured on this machine, written as TOML, usable by any config."""

from __future__ import annotations

from pathlib import Path

from mintactors.config import parse_config
from mintactors.costs import load_profile
from mintactors.costs.host import (
    HostMeasurement,
    host_profile_toml,
    measure_copy_ns,
)


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
