"""The worked example of docs/drivers.md ("Debug your own driver") does what it says:
MyRx loads a descriptor's length before its status, explore finds the stale length,
the fixed MyRx passes, and the regression config pins the race."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mintactors.cli import main
from mintactors.config import load_config
from mintactors.costs import COST_FIELDS
from mintactors.experiments.explore.explore import explore, variations
from mintactors.experiments.run import RecordedRun, record_run
from mintactors.testing import read_trace
from tests._paths import CONFIGS

SCENARIOS = CONFIGS / "scenarios"
EXPLORED = SCENARIOS / "my-rx.toml"
FIXED = SCENARIOS / "my-rx-fixed.toml"
REGRESSION = SCENARIOS / "my-rx-regression.toml"
FIXED_KIND = 'driver.kind="drivers/my_rx_fixed.py:MyRx"'

#: Runs the tests explore, from seed 1, as docs/drivers.md does.
RUNS = 20

LENGTH_OFFSET, STATUS_OFFSET = 8, 12  # of a legacy e1000 receive descriptor


def run(path: Path, *assignments: str, out_dir: Path | None = None) -> RecordedRun:
    return record_run(load_config(path, assignments), out_dir)


def test_one_run_of_the_buggy_driver_passes() -> None:
    """Seed 1 never hits the window: a plain run says every oracle holds."""
    recorded = run(EXPLORED)
    assert recorded.violations == ()
    assert recorded.results is not None
    assert recorded.results.delivered == 100


def test_explore_finds_the_stale_length_where_the_doc_shows() -> None:
    """Exploring 20 runs from seed 1 finds intact_once violated at run 5 (seed 6)."""
    outcome = explore(str(EXPLORED), [], variations(RUNS, 1, "random"), jobs=1)
    failing = outcome.failing
    assert failing is not None
    assert failing.violation is not None
    assert failing.violation.oracle == "intact_once"
    assert "truncated" in failing.violation.message
    assert (failing.run, failing.seed) == (5, 6)


def test_the_fixed_driver_passes_the_same_runs() -> None:
    """The same 20 variations with the status loaded first: no oracle is violated."""
    outcome = explore(str(FIXED), [], variations(RUNS, 1, "random"), jobs=1)
    assert outcome.failing is None
    assert len(outcome.verdicts) == RUNS


def test_the_failing_run_hands_up_an_empty_frame_read_across_a_write_back(
    tmp_path: Path,
) -> None:
    """In seed 6 the driver loads a descriptor's length (0), the descriptor is written back,
    the driver loads its status (DD set) and takes a frame of length 0."""
    assignments = ["simulation.seed=6", 'simulation.policy="random"', 'simulation.trace="full"']
    recorded = run(EXPLORED, *assignments, out_dir=tmp_path)
    events = read_trace(tmp_path / "trace.jsonl")
    taken = next(e for e in events if e["kind"] == "FrameTaken" and e["length"] == 0)
    address = recorded.machine.config.layout.descriptor(taken["desc"])
    done = next(e for e in events if e["kind"] == "DescriptorDone" and e["desc"] == taken["desc"])
    loads = [e for e in events if e["kind"] == "Loaded" and e["actor"] == "driver"]
    length = [
        e for e in loads if e["addr"] == address + LENGTH_OFFSET and e["t_ns"] <= done["t_ns"]
    ]
    status = [e for e in loads if e["addr"] == address + STATUS_OFFSET and e["t_ns"] > done["t_ns"]]
    assert length[-1]["data"] == "0000"
    assert length[-1]["t_ns"] < done["t_ns"] < status[0]["t_ns"] < taken["t_ns"]
    assert int(status[0]["data"], 16) & 0x01  # DD


@pytest.mark.parametrize("policy", ["fifo", "random", "pct"])
def test_the_regression_config_fails_whatever_the_seed(policy: str) -> None:
    """The write-back lands inside the window, not at its edges: every seed, every policy."""
    for seed in range(1, 6):
        recorded = run(REGRESSION, f"simulation.seed={seed}", f'simulation.policy="{policy}"')
        assert recorded.first is not None, seed
        assert recorded.first.oracle == "intact_once", seed
        assert recorded.results is not None
        assert (recorded.results.delivered, recorded.results.dropped) == (1, {"malformed": 1})


@pytest.mark.parametrize("policy", ["fifo", "random", "pct"])
def test_the_regression_config_passes_with_the_fixed_driver(policy: str) -> None:
    """With the status loaded first both frames arrive intact, whatever the seed."""
    for seed in range(1, 6):
        recorded = run(
            REGRESSION, FIXED_KIND, f"simulation.seed={seed}", f'simulation.policy="{policy}"'
        )
        assert recorded.violations == (), seed
        assert recorded.results is not None
        assert recorded.results.delivered == 2


def test_the_regression_config_pins_every_cost() -> None:
    """It gives every cost field itself, so a recalibrated profile cannot move the window."""
    costs = tomllib.loads(REGRESSION.read_text())["costs"]
    assert set(costs) == {"profile", *COST_FIELDS}


def test_explore_prints_a_replay_command_that_runs_the_users_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The printed command names the driver file with --driver, and it reproduces the run."""
    args = ["explore", str(REGRESSION), "--runs", "1", "--jobs", "1", "--out", str(tmp_path)]
    assert main(args) == 1
    printed = capsys.readouterr().out
    command = printed.split("reproduce it:\n", 1)[1].splitlines()[0].split()
    assert command[:2] == ["mintactors", "replay"]
    assert command[3:] == ["--driver", str(SCENARIOS / "drivers" / "my_rx.py")]
    assert main(command[1:]) == 0
    assert "byte-identical" in capsys.readouterr().out
