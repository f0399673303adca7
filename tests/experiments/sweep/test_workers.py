"""Worker processes end with their command: an error or an interruption stops them all.

Runs can take minutes; once nobody waits for their results the workers are
terminated, not waited for. These tests use stand-in tasks that sleep, so a worker
left running would be seen.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mintactors.experiments.sweep.executors import LocalExecutor, WorkerPool
from tests._processes import wait_until

#: How soon every worker must be gone (the issue's promise).
CLEANUP_S = 2.0


def sleep_then(seconds: float, fail: bool = False, note: str | None = None) -> int:
    """A stand-in run: note the worker's pid in directory ``note``, then fail or sleep."""
    if note is not None:
        Path(note, str(os.getpid())).touch()
    if fail:
        time.sleep(0.5)  # while the others are surely running
        raise RuntimeError("this run failed")
    time.sleep(seconds)
    return os.getpid()


def _task(task: tuple[float, bool, str | None]) -> int:
    return sleep_then(*task)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _sweep(tasks: list[tuple[float, bool, str]]) -> None:
    with LocalExecutor(2) as executor:
        for _ in executor.map_unordered(_task, tasks):
            pass


def test_an_error_in_a_run_stops_every_worker(tmp_path: Path) -> None:
    """One task fails while another sleeps for a minute: every worker is gone within 2 s."""
    note = str(tmp_path)
    with pytest.raises(RuntimeError, match="this run failed"):
        _sweep([(60.0, False, note), (0.0, True, note), (60.0, False, note)])
    failed = time.monotonic()
    workers = [int(p.name) for p in tmp_path.iterdir()]
    assert workers
    assert wait_until(lambda: not any(_alive(pid) for pid in workers), timeout=CLEANUP_S)
    assert time.monotonic() - failed < CLEANUP_S


def _interrupted(pool: WorkerPool) -> None:
    with pool:
        raise KeyboardInterrupt


def test_an_interruption_stops_every_worker(tmp_path: Path) -> None:
    """KeyboardInterrupt (Ctrl-C, or SIGTERM turned into one) aborts the pool at once."""
    pool = WorkerPool(2)
    futures = [pool.submit(sleep_then, 60.0, False, str(tmp_path)) for _ in range(3)]
    assert wait_until(lambda: any(f.running() for f in futures), timeout=30)
    assert wait_until(lambda: len(list(tmp_path.iterdir())) == 2, timeout=30)
    workers = [int(p.name) for p in tmp_path.iterdir()]
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        _interrupted(pool)
    assert wait_until(lambda: not any(_alive(pid) for pid in workers), timeout=CLEANUP_S)
    assert time.monotonic() - started < CLEANUP_S


def test_a_successful_pool_waits_for_its_work() -> None:
    """Closed after a success, the pool finishes what it was given."""
    with WorkerPool(2) as pool:
        futures = [pool.submit(sleep_then, 0.05) for _ in range(4)]
    assert all(f.done() and not f.cancelled() for f in futures)


def test_a_window_takes_tasks_only_as_results_come_back() -> None:
    """With a window of 2, the third task is taken only once a result has been handed back."""
    pulled: list[int] = []

    def tasks() -> Iterator[tuple[float, bool, str | None]]:
        for i in range(6):
            pulled.append(i)
            yield (0.0, False, None)

    with LocalExecutor(2) as executor:
        results = executor.map_unordered(_task, tasks(), window=2)
        next(results)
        assert len(pulled) == 2
        assert len(list(results)) == 5
    assert pulled == list(range(6))


def test_closing_the_results_early_ends_the_runs_still_out(tmp_path: Path) -> None:
    """An exploration that knows its answer closes the results: running workers end at once."""
    note = str(tmp_path)
    tasks = [(0.0, False, None), (60.0, False, note), (60.0, False, note)]
    with LocalExecutor(2) as executor:
        results = executor.map_unordered(_task, tasks, window=3)
        next(results)
        assert wait_until(lambda: len(list(tmp_path.iterdir())) >= 1, timeout=30)
        workers = [int(p.name) for p in tmp_path.iterdir()]
        closed = time.monotonic()
        results.close()  # type: ignore[attr-defined]
        assert wait_until(lambda: not any(_alive(pid) for pid in workers), timeout=CLEANUP_S)
        assert time.monotonic() - closed < CLEANUP_S
