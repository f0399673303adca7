"""Where a sweep's runs execute: this process, local worker processes, or a Dask cluster.

An executor takes a list of independent tasks and a picklable function, and yields
``fn(task)`` for every task in whatever order they finish. Callers put results back
in task order themselves, so the outcome never depends on the executor.

* :class:`LocalExecutor` with ``jobs == 1`` runs tasks one after another in this
  process (no pickling; easiest to debug). With more jobs it keeps a
  :class:`~concurrent.futures.ProcessPoolExecutor` of worker processes started by
  the ``forkserver`` method (a fork of a clean server process: fast, and safe even
  when this process has threads, as progress bars and Dask clients do).
* :class:`DaskExecutor` submits tasks to a Dask distributed scheduler; the workers
  need mintactors installed (``pip install 'mintactors[dask]'``) and must see any
  cost-profile file a config names by path.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from types import TracebackType
from typing import Any, Protocol, TypeVar

from mintactors.errors import MintactorsError

__all__ = [
    "DaskExecutor",
    "EXECUTOR_NAMES",
    "Executor",
    "ExecutorError",
    "LocalExecutor",
    "default_jobs",
    "make_executor",
]

T = TypeVar("T")
R = TypeVar("R")

EXECUTOR_NAMES = ("local", "dask")


class ExecutorError(MintactorsError):
    """An executor cannot be set up (a bad job count, Dask missing or unreachable)."""


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Executor(Protocol):
    """Runs independent tasks; a context manager owning its workers."""

    workers: int

    def map_unordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """``fn(task)`` for every task, in completion order."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class LocalExecutor:
    """Tasks in this process (``jobs == 1``) or in ``jobs`` worker processes."""

    def __init__(self, jobs: int | None = None) -> None:
        jobs = default_jobs() if jobs is None else jobs
        if jobs < 1:
            raise ExecutorError(f"--jobs must be at least 1, not {jobs}")
        self.workers = jobs
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            # On an error or Ctrl-C, queued tasks are dropped rather than run.
            self._pool.shutdown(wait=True, cancel_futures=kind is not None)
            self._pool = None

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["mintactors.experiments.sweep.runner"])
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
        return self._pool

    def map_unordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """``fn(task)`` for each task, as the tasks finish."""
        if self.workers == 1 or len(tasks) <= 1:
            for task in tasks:
                yield fn(task)
            return
        pool = self._ensure_pool()
        pending: set[Future[R]] = {pool.submit(fn, task) for task in tasks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()


class DaskExecutor:
    """Tasks on a Dask distributed cluster reached at ``address``.

    Raises:
        ExecutorError: Dask is not installed, or no scheduler answers within ``timeout_s``.
    """

    def __init__(self, address: str, timeout_s: float = 10.0) -> None:
        try:
            # An optional extra: imported only when this executor is chosen.
            distributed: Any = importlib.import_module("distributed")
        except ImportError:
            raise ExecutorError(
                "the dask executor needs the optional extra: pip install 'mintactors[dask]'"
            ) from None
        self._distributed = distributed
        try:
            self._client: Any = distributed.Client(address, timeout=f"{timeout_s}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        workers = self._client.scheduler_info().get("workers", {})
        self.workers = sum(w.get("nthreads", 1) for w in workers.values()) or 1

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._client.close()

    def map_unordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        """``fn(task)`` for each task, as the cluster finishes them."""
        # pure=False: two equal tasks are still two runs, never one cached result.
        futures = [self._client.submit(fn, task, pure=False) for task in tasks]
        try:
            for future in self._distributed.as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def make_executor(name: str, jobs: int | None = None, scheduler: str | None = None) -> Executor:
    """The executor ``name`` (``local`` or ``dask``).

    Raises:
        ExecutorError: an unknown name, a bad job count, or Dask without a scheduler.
    """
    if name == "local":
        return LocalExecutor(jobs)
    if name == "dask":
        if not scheduler:
            raise ExecutorError("--executor dask needs --scheduler ADDRESS (tcp://host:8786)")
        return DaskExecutor(scheduler)
    raise ExecutorError(f"unknown executor {name!r}; allowed: {', '.join(EXECUTOR_NAMES)}")
