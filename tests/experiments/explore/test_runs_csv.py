"""--out DIR/runs.csv: one row per run in run order, the same bytes whatever the workers."""

from __future__ import annotations

import csv
import importlib
from pathlib import Path

import pytest

from mintactors.cli import main
from mintactors.experiments.explore.explore import explore, variations
from mintactors.experiments.explore.runs_csv import RUNS_COLUMNS
from mintactors.experiments.run import OutputError
from mintactors.plots import read_explore
from mintactors.testing import pinned_cost_assignments
from tests._paths import CONFIGS

LOST_WAKEUP = str(CONFIGS / "scenarios" / "driver-lost-wakeup.toml")
PINNED = pinned_cost_assignments()
RUNS = 20


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as stream:
        return list(csv.DictReader(stream))


def test_runs_csv_holds_the_runs_up_to_the_answer_in_run_order(tmp_path: Path) -> None:
    """Rows 0..failing, each with its seed, schedule, verdict and counts; nothing after."""
    outcome = explore(LOST_WAKEUP, PINNED, variations(RUNS, 1, "random"), jobs=2, out_dir=tmp_path)
    failing = outcome.failing
    assert failing is not None
    assert failing.violation is not None
    assert outcome.runs_csv == tmp_path / "runs.csv"
    table = rows(tmp_path / "runs.csv")
    assert [int(r["run"]) for r in table] == list(range(failing.run + 1))
    assert [int(r["seed"]) for r in table] == [v.seed for v in outcome.verdicts]
    assert [r["fingerprint"] for r in table] == [v.fingerprint for v in outcome.verdicts]
    assert [r["verdict"] for r in table] == ["ok"] * failing.run + ["violation"]
    last = table[-1]
    assert (last["oracle"], last["violation_t_ns"]) == ("lost_wakeup", str(failing.violation.t_ns))
    assert (int(last["sent"]), int(last["delivered"])) == (failing.sent, failing.delivered)
    assert all(r["oracle"] == r["violation_t_ns"] == "" for r in table[:-1])
    assert all(int(r["sent"]) >= int(r["delivered"]) > 0 for r in table)


def test_runs_csv_is_the_same_bytes_for_one_worker_or_two(tmp_path: Path) -> None:
    """Which run finishes first never shows in the file."""
    plan = variations(RUNS, 1, "random")
    explore(LOST_WAKEUP, PINNED, plan, jobs=1, out_dir=tmp_path / "one")
    explore(LOST_WAKEUP, PINNED, plan, jobs=2, out_dir=tmp_path / "two")
    one = (tmp_path / "one" / "runs.csv").read_bytes()
    assert one == (tmp_path / "two" / "runs.csv").read_bytes()
    assert one.startswith(b"run,seed,fingerprint,verdict,oracle,sent,delivered,violation_t_ns\n")


def test_the_plot_reads_the_columns_explore_writes(tmp_path: Path) -> None:
    """mintactors plot explore draws a real runs.csv: its runs, violations and schedules."""
    plots = importlib.import_module("mintactors.plots")
    assert RUNS_COLUMNS == plots.RUNS_COLUMNS
    outcome = explore(LOST_WAKEUP, PINNED, variations(RUNS, 1, "random"), jobs=1, out_dir=tmp_path)
    data = read_explore(tmp_path / "runs.csv")
    assert data.runs == len(outcome.verdicts)
    assert data.violations.value == 1
    assert data.distinct.value == outcome.coverage.distinct
    png = tmp_path / "coverage.png"
    assert main(["plot", "explore", str(tmp_path / "runs.csv"), "-o", str(png)]) == 0
    assert png.stat().st_size > 0


def test_a_passing_exploration_lists_every_run_and_keeps_no_old_failure(tmp_path: Path) -> None:
    """Every run of the plan is a row; a failure recorded there before is removed."""
    explore(LOST_WAKEUP, PINNED, variations(RUNS, 1, "random"), jobs=1, out_dir=tmp_path)
    assert list(tmp_path.glob("seed-*"))
    napi = [*PINNED, 'driver.kind="napi"']
    explore(LOST_WAKEUP, napi, variations(5, 1, "random"), jobs=1, out_dir=tmp_path)
    assert [r["verdict"] for r in rows(tmp_path / "runs.csv")] == ["ok"] * 5
    assert not list(tmp_path.glob("seed-*"))


def test_an_output_directory_that_cannot_be_made_writes_nothing(tmp_path: Path) -> None:
    """A file where the directory should be: OutputError, and the runs are not made."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OutputError):
        explore(LOST_WAKEUP, PINNED, variations(2, 1, "random"), jobs=1, out_dir=blocker / "out")
