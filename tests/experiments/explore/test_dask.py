"""explore on a Dask cluster: the local answer, the local runs.csv, and a clear refusal."""

from __future__ import annotations

import operator
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mintactors.cli import main
from mintactors.config import read_toml
from mintactors.experiments.explore.explore import ExploreTask, explore, run_task, variations
from mintactors.experiments.sweep import executors
from mintactors.experiments.sweep.executors import DaskExecutor
from mintactors.testing import pinned_cost_assignments
from tests._paths import CONFIGS

LOST_WAKEUP = str(CONFIGS / "scenarios" / "driver-lost-wakeup.toml")
SETS = [arg for a in pinned_cost_assignments() for arg in ("--set", a)]
ARGS = ["explore", LOST_WAKEUP, "--runs", "20", "--seed", "1", "--jitter", "100", *SETS]


def test_explore_on_a_dask_cluster_finds_the_local_answer(
    tmp_path: Path, dask_scheduler: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Same failing run, same report, same runs.csv and recorded trace as one local process."""
    dask_out, local_out = tmp_path / "dask", tmp_path / "local"
    dask = ["--executor", "dask", "--scheduler", dask_scheduler, "--out", str(dask_out)]
    assert main([*ARGS, *dask]) == 1
    on_dask = capsys.readouterr().out
    assert main([*ARGS, "--jobs", "1", "--out", str(local_out)]) == 1
    local = capsys.readouterr().out
    assert f"on the Dask cluster at {dask_scheduler} (2 worker threads)" in on_dask
    # Everything after the first line (which says where the runs went) is the same,
    # up to the output directory's name.
    assert on_dask.splitlines()[1:] == local.replace(str(local_out), str(dask_out)).splitlines()[1:]
    assert (dask_out / "runs.csv").read_bytes() == (local_out / "runs.csv").read_bytes()
    (seed,) = [p.name for p in local_out.glob("seed-*")]
    trace = (dask_out / seed / "trace.jsonl").read_bytes()
    assert trace == (local_out / seed / "trace.jsonl").read_bytes()


def test_until_distinct_on_dask_stops_where_a_local_run_does(dask_scheduler: str) -> None:
    """The stop depends on run order, not on which worker finished first."""
    tie, napi = str(CONFIGS / "scenarios" / "lost-wakeup-tie.toml"), ['driver.kind="napi"']
    plan = variations(40, 1, "pct")
    local = explore(tie, napi, plan, jobs=1, until_distinct=6)
    on_dask = explore(tie, napi, plan, executor=DaskExecutor(dask_scheduler), until_distinct=6)
    assert on_dask.verdicts == local.verdicts
    assert on_dask.stopped == "distinct"


def test_a_worker_needs_neither_the_config_file_nor_the_driver_file(tmp_path: Path) -> None:
    """A task carries the config's table and the driver's bytes: it runs where neither exists."""
    scenarios = tmp_path / "scenarios"
    shutil.copytree(CONFIGS / "scenarios", scenarios)
    config = scenarios / "my-rx.toml"
    driver = scenarios / "drivers" / "my_rx.py"
    (variation,) = variations(1, 1, "random")
    task = ExploreTask(
        read_toml(config),
        str(config),
        str(scenarios),
        {"drivers/my_rx.py:MyRx": driver.read_bytes()},
        variation,
    )
    expected = run_task(task)
    shutil.rmtree(scenarios)
    assert run_task(task) == expected


def test_an_unreachable_scheduler_exits_2_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nobody listening at the address: status 2, one line naming it, no output directory."""
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 0.5)
    out = tmp_path / "out"
    dask = ["--executor", "dask", "--scheduler", "tcp://127.0.0.1:9", "--out", str(out)]
    assert main([*ARGS, *dask]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith(
        "mintactors: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9"
    )
    assert not out.exists()


def test_dask_takes_tasks_as_results_come_back_and_cancels_the_rest(dask_scheduler: str) -> None:
    """With a window, tasks are taken lazily; closing early cancels every future still out."""
    pulled: list[float] = []

    def tasks() -> Iterator[float]:
        for seconds in (0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0):
            pulled.append(seconds)
            yield seconds

    submitted: list[Any] = []
    with DaskExecutor(dask_scheduler) as executor:
        client = executor._client
        submit = client.submit

        def recording_submit(*args: Any, **kwargs: Any) -> Any:
            future = submit(*args, **kwargs)
            submitted.append(future)
            return future

        client.submit = recording_submit
        results = executor.map_unordered(time.sleep, tasks(), window=3)
        assert next(results) is None
        assert len(pulled) <= 4  # the window's three, and one more for the result handed back
        results.close()  # type: ignore[attr-defined]
        unfinished = [f for f in submitted if f.status != "finished"]
        assert unfinished
        assert all(f.status == "cancelled" for f in unfinished)
    assert len(pulled) < 8


def test_dask_maps_every_task_once_when_read_to_the_end(dask_scheduler: str) -> None:
    """Read to the end, a windowed map gives one result per task."""
    with DaskExecutor(dask_scheduler) as executor:
        results = sorted(executor.map_unordered(operator.neg, range(10), window=3))
    assert results == [-i for i in reversed(range(10))]
