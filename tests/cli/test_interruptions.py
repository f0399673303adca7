"""Ctrl-C and SIGTERM: one line, the conventional status, nothing left behind.

These tests start real ``mintactors`` processes in a session of their own, wait for
an event that shows the command is under way (a progress line, the worker
processes), send the signal, and then look for any process of that session still
alive.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from tests._paths import CONFIGS
from tests._processes import living, read_stderr_until, signal_and_wait, start, stop, wait_until

QUICKSTART = str(CONFIGS / "quickstart.toml")
#: Every process a command started must be gone this soon after the signal.
CLEANUP_S = 2.0
SIGNALS = [
    pytest.param(signal.SIGINT, 130, "interrupted", id="SIGINT"),
    pytest.param(signal.SIGTERM, 143, "terminated", id="SIGTERM"),
]

SWEEP = """
[simulation]
trace = "off"
[generator]
count = 1_000_000
[sweep]
grid = { "generator.interval_ns" = [3000, 4000, 5000, 6000] }
"""


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp") or p.name.endswith(".lock")]


@pytest.mark.parametrize(("signum", "status", "verb"), SIGNALS)
def test_a_signal_during_a_run_writes_nothing_and_says_when(
    tmp_path: Path, signum: int, status: int, verb: str
) -> None:
    """run: exit 128+N, one line with the virtual time, no files, no directory it made."""
    out = tmp_path / "made" / "by-run"
    process = start(
        [
            *("run", QUICKSTART, "--out", str(out), "--trace", "full"),
            *("--set", "generator.count=5000000"),
        ],
        MINTACTORS_PROGRESS_SECONDS="0.05",
    )
    try:
        # A progress line: the simulation is running (not still importing).
        read_stderr_until(process, "mintactors: sending:")
        elapsed, stdout, stderr = signal_and_wait(process, signum)
    finally:
        stop(process)
    assert process.returncode == status
    lines = [line for line in stderr.splitlines() if not line.startswith("mintactors: sending")]
    assert len(lines) == 1, stderr
    assert re.fullmatch(rf"mintactors: {verb} at t = \d+\.\d{{3}} us; no outputs written", lines[0])
    assert stdout == ""
    assert not (tmp_path / "made").exists()
    assert _leftovers(tmp_path) == []
    assert elapsed < CLEANUP_S + 5  # the command returns promptly (a loaded machine: slack)


@pytest.mark.parametrize(("signum", "status", "verb"), SIGNALS)
@pytest.mark.parametrize("group", [False, True], ids=["process", "group"])
def test_a_signal_during_a_sweep_stops_every_worker(
    tmp_path: Path, signum: int, status: int, verb: str, group: bool
) -> None:
    """sweep: workers, forkserver and all gone within 2 s; no output, no temporary file.

    ``group`` sends the signal to every process of the command, as a terminal's
    Ctrl-C does; otherwise only the command gets it (``kill PID``).
    """
    config = tmp_path / "sweep.toml"
    config.write_text(SWEEP)
    out = tmp_path / "out"
    process = start(
        ["sweep", str(config), "--jobs", "2", "--out", str(out), "--save-runs"],
        MINTACTORS_PROGRESS_SECONDS="0",
    )
    try:
        # The command, the forkserver and two workers: the runs are under way.
        assert wait_until(lambda: len(living(process.pid)) >= 4)
        elapsed, _, stderr = signal_and_wait(process, signum, group=group)
        remaining = living(process.pid)
    finally:
        stop(process)
    assert process.returncode == status
    assert stderr.strip() == f"mintactors: {verb}; no outputs written"
    assert remaining == []
    assert elapsed < CLEANUP_S
    assert not out.exists()
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(("signum", "status", "verb"), SIGNALS)
def test_a_signal_during_paper_stops_every_worker(
    tmp_path: Path, signum: int, status: int, verb: str
) -> None:
    """paper: the same promise as sweep, and no table written."""
    out = tmp_path / "paper"
    args = ["paper", "all", "--quick", "--jobs", "2", "--out", str(out)]
    process = start(args, MINTACTORS_PROGRESS_SECONDS="0")
    try:
        assert wait_until(lambda: len(living(process.pid)) >= 4)
        elapsed, _, stderr = signal_and_wait(process, signum)
        remaining = living(process.pid)
    finally:
        stop(process)
    assert process.returncode == status
    assert stderr.strip() == f"mintactors: {verb}; no outputs written"
    assert remaining == []
    assert elapsed < CLEANUP_S
    assert not out.exists()


@pytest.mark.parametrize(("signum", "status", "verb"), SIGNALS)
def test_a_signal_during_explore_stops_every_worker(
    tmp_path: Path, signum: int, status: int, verb: str
) -> None:
    """explore: the same promise as sweep."""
    out = tmp_path / "explore"
    args = ["explore", QUICKSTART, "--runs", "20", "--jobs", "2", "--out", str(out)]
    process = start([*args, "--set", "generator.count=1000000"], MINTACTORS_PROGRESS_SECONDS="0")
    try:
        assert wait_until(lambda: len(living(process.pid)) >= 4)
        elapsed, _, stderr = signal_and_wait(process, signum)
        remaining = living(process.pid)
    finally:
        stop(process)
    assert process.returncode == status
    assert stderr.strip() == f"mintactors: {verb}; no outputs written"
    assert remaining == []
    assert elapsed < CLEANUP_S
    assert not out.exists()


@pytest.mark.parametrize(("signum", "status", "verb"), SIGNALS)
def test_a_signal_during_explore_on_dask_cancels_and_exits(
    tmp_path: Path, signum: int, status: int, verb: str, dask_scheduler: str
) -> None:
    """explore on a cluster: the same line and status, promptly, nothing written.

    The cluster's workers are not the command's; its runs on them are cancelled
    (each run here is short, so the shared test cluster is soon free again).
    """
    out = tmp_path / "explore"
    args = ["explore", QUICKSTART, "--runs", "20", "--out", str(out)]
    dask = ["--executor", "dask", "--scheduler", dask_scheduler]
    process = start(
        [*args, *dask, "--set", "generator.count=5000"], MINTACTORS_PROGRESS_SECONDS="0.05"
    )
    try:
        # A progress line: connected, and runs handed to the cluster.
        read_stderr_until(process, "mintactors: explore:")
        elapsed, _, stderr = signal_and_wait(process, signum)
        remaining = living(process.pid)
    finally:
        stop(process)
    assert process.returncode == status
    lines = [line for line in stderr.splitlines() if not line.startswith("mintactors: explore:")]
    assert lines == [f"mintactors: {verb}; no outputs written"]
    assert remaining == []
    assert elapsed < CLEANUP_S
    assert not out.exists()
