"""The two lost-wakeup configs of docs/debugging.md (sections 4 and 5) do what it says."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mintactors.config import load_config
from mintactors.costs import COST_FIELDS, load_profile
from mintactors.experiments.explore.explore import explore, variations
from mintactors.experiments.run import RecordedRun, record_run
from mintactors.testing import read_trace
from tests._paths import CONFIGS

SCENARIOS = CONFIGS / "scenarios"
REGRESSION = SCENARIOS / "lost-wakeup-regression.toml"
TIE = SCENARIOS / "lost-wakeup-tie.toml"

STATUS_OFFSET = 12  # the status byte of a legacy e1000 RX descriptor (DD is bit 0)


def run(path: Path, *assignments: str, out_dir: Path | None = None) -> RecordedRun:
    return record_run(load_config(path, assignments), out_dir)


def second_frame_timing(out_dir: Path) -> tuple[list[int], int, int]:
    """When the driver loaded frame 1's descriptor, when its DD byte was written, and
    when the driver's unmask reached IMS (all as they reached memory)."""
    events = read_trace(out_dir / "trace.jsonl")
    done = next(e for e in events if e["kind"] == "DescriptorDone" and e["seq"] == 1)
    writes = [e for e in events if e["actor"] == "memory" and e["kind"] == "MemoryWrite"]
    dd_write = next(w for w in writes if w["src"] == "rx_ring" and w["t_ns"] == done["t_ns"])
    status_addr = next(addr for addr, data in dd_write["writes"] if data == "07")
    desc_addr = status_addr - STATUS_OFFSET
    loads = [
        e["t_ns"]
        for e in events
        if e["kind"] == "Loaded" and e["actor"] == "driver" and e["addr"] == desc_addr
    ]
    ims_addr = next(
        e["addr"] for e in events if e["kind"] == "Loaded" and e["actor"] == "mechanism"
    )
    unmask = next(
        w["t_ns"]
        for w in writes
        if w["src"] == "driver"
        and [ims_addr, "9d000000"] in w["writes"]  # IMS: e1000's IMS_ENABLE_MASK
        and w["t_ns"] >= done["t_ns"]
    )
    return loads, dd_write["t_ns"], unmask


def test_regression_config_strands_the_second_frame_with_the_lost_wakeup_driver() -> None:
    """Frame 1 is posted while the interrupt is masked and is never taken: lost_wakeup."""
    recorded = run(REGRESSION)
    first = recorded.first
    assert first is not None
    assert first.oracle == "lost_wakeup"
    assert first.detail["seq"] == 1
    assert recorded.machine.mechanism.statistics().ipis_masked == 1
    assert recorded.results is not None
    assert (recorded.results.delivered, recorded.results.in_flight) == (1, 1)


def test_regression_config_writes_the_descriptor_inside_the_window(tmp_path: Path) -> None:
    """DD lands after the poll's only read of that descriptor and before the unmask."""
    run(REGRESSION, 'simulation.trace="full"', out_dir=tmp_path)
    reads, dd_written, unmasked = second_frame_timing(tmp_path)
    assert len(reads) == 1  # the driver never looks at it again
    assert reads[0] < dd_written < unmasked
    assert dd_written - reads[0] == 28  # as docs/debugging.md section 2 reads the trace


@pytest.mark.parametrize("policy", ["fifo", "random", "pct"])
def test_regression_config_hits_the_window_whatever_the_seed(policy: str) -> None:
    """Nothing ties in it, so every seed under every policy strands frame 1."""
    for seed in range(1, 11):
        recorded = run(REGRESSION, f"simulation.seed={seed}", f'simulation.policy="{policy}"')
        assert recorded.first is not None, seed
        assert recorded.first.oracle == "lost_wakeup", seed


def test_regression_config_passes_with_the_napi_driver() -> None:
    """The re-check after unmasking finds frame 1 at once; every oracle holds."""
    recorded = run(REGRESSION, 'driver.kind="napi"')
    stats = recorded.machine.driver.statistics()
    assert stats.rechecks_found == 1
    assert recorded.violations == ()
    assert recorded.results is not None
    assert recorded.results.delivered == 2


def test_tie_config_puts_the_dd_write_and_the_polls_read_in_one_nanosecond(
    tmp_path: Path,
) -> None:
    """The poll's read of descriptor 1 and the ring engine's DD write reach memory
    at the same instant; fifo delivers the write first, so the poll sees the frame."""
    recorded = run(TIE, 'simulation.trace="full"', out_dir=tmp_path)
    reads, dd_written, _ = second_frame_timing(tmp_path)
    assert reads[0] == dd_written
    assert recorded.violations == ()


def test_tie_config_passes_under_fifo_for_every_seed() -> None:
    """fifo orders the tie the same way whatever the seed: 20 runs, no violation."""
    outcome = explore(str(TIE), [], variations(20, 1, "fifo"), jobs=1)
    assert outcome.failing is None
    assert len(outcome.verdicts) == 20


@pytest.mark.parametrize(("policy", "failing_run"), [("random", 1), ("pct", 2)])
def test_tie_config_is_found_by_random_and_pct_where_the_doc_shows(
    policy: str, failing_run: int
) -> None:
    """Exploring 20 runs from seed 1 finds the lost wakeup at the run docs/debugging.md prints."""
    outcome = explore(str(TIE), [], variations(20, 1, policy), jobs=1)
    failing = outcome.failing
    assert failing is not None
    assert failing.violation is not None
    assert failing.violation.oracle == "lost_wakeup"
    assert (failing.run, failing.seed) == (failing_run, failing_run + 1)


@pytest.mark.parametrize("path", [REGRESSION, TIE], ids=lambda p: p.name)
def test_the_configs_pin_every_cost(path: Path) -> None:
    """Each config gives every cost field itself, so no profile value reaches the run."""
    costs = tomllib.loads(path.read_text())["costs"]
    assert set(costs) == {"profile", *COST_FIELDS}


def test_a_recalibrated_profile_does_not_move_the_regression(tmp_path: Path) -> None:
    """Behind a profile whose every cost differs, the regression strands frame 1 as before."""
    base = load_profile("paper-2014")
    lines = ["[profile]", 'name = "recalibrated"', "version = 99", 'description = "test"']
    doubled = [[size, ns * 2] for size, ns in base.copy_points]
    lines += [f"copy_points = {doubled}", f"recv_copy_points = {doubled}"]
    scalars = [name for name in COST_FIELDS if not name.endswith("copy_points")]
    lines += [f"{name} = {getattr(base, name) * 2 + 7}" for name in scalars]
    profile = tmp_path / "recalibrated.toml"
    profile.write_text("\n".join(lines) + "\n")
    pinned = run(REGRESSION)
    moved = run(REGRESSION, f'costs.profile="{profile}"')
    assert moved.machine.config.costs_profile.name == "recalibrated"
    assert moved.first is not None
    assert pinned.first is not None
    assert (moved.first.oracle, moved.first.t_ns) == (pinned.first.oracle, pinned.first.t_ns)
