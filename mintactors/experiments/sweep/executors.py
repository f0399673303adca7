"""Where a sweep's runs execute: this process, local worker processes, or a Dask cluster.

An executor takes independent tasks and a picklable function, and yields
``fn(task)`` for every task in whatever order they finish. Callers put results back
in task order themselves, so the outcome never depends on the executor.

Tasks may come from a lazy iterable with a ``window``: the executor then keeps at
most that many tasks out at once and asks for the next only after handing a result
back, so a caller that learns it needs no more tasks (an exploration that found its
answer) simply stops yielding them. Closing the result iterator early cancels the
tasks still out: queued ones never start, and running ones are stopped (local
worker processes are ended; Dask futures are cancelled).

* :class:`LocalExecutor` with ``jobs == 1`` runs tasks one after another in this
  process (no pickling; easiest to debug). With more jobs it keeps a
  :class:`WorkerPool` of worker processes started by the ``forkserver`` method (a
  fork of a clean server process: fast, and safe even when this process has
  threads, as progress bars and Dask clients do).
* :class:`DaskExecutor` submits tasks to a Dask distributed scheduler; the workers
  need mintactors installed (``pip install 'mintactors[dask]'``) and must see any
  cost-profile file a config names by path.

Worker processes never outlive the command (:class:`WorkerPool`): on every exit
path that is not a plain success (an error in a run, Ctrl-C, SIGTERM, which the
command line turns into the same interruption) the workers are terminated at once
rather than left to finish the runs they hold; they ignore Ctrl-C themselves (the
terminal sends it to the whole process group; the parent decides), and they ask
the kernel to end them if the forkserver that started them goes away, which it
does when this process exits, however it exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    InvalidStateError,
    ProcessPoolExecutor,
    wait,
)
from multiprocessing import forkserver
from types import TracebackType
from typing import Any, ParamSpec, Protocol, TypeVar

from mintactors.errors import MintactorsError

__all__ = [
    "DaskExecutor",
    "CONNECT_TIMEOUT_S",
    "EXECUTOR_NAMES",
    "Executor",
    "ExecutorError",
    "LocalExecutor",
    "WorkerPool",
    "default_jobs",
    "make_executor",
]

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")

#: Modules the forkserver imports once, so each worker starts with them loaded.
PRELOAD = ("mintactors.experiments.sweep.runner", "mintactors.experiments.explore.explore")
#: Seconds a terminated worker gets to exit before it is killed.
TERMINATE_GRACE_S = 1.0
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

EXECUTOR_NAMES = ("local", "dask")
#: Seconds a Dask client waits for the scheduler to answer before giving up.
CONNECT_TIMEOUT_S = 10.0


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

    def map_unordered(
        self, fn: Callable[[T], R], tasks: Iterable[T], *, window: int | None = None
    ) -> Iterator[R]:
        """``fn(task)`` for every task, in completion order.

        With ``window``, at most that many tasks are out at once, and the next task
        is taken from ``tasks`` only after a result has been handed back. Closing
        the iterator early cancels the tasks still out.
        """
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def _worker_setup() -> None:
    """In each worker: leave Ctrl-C to the parent; die with the forkserver.

    The terminal sends Ctrl-C to every process in its foreground group, workers
    included; a worker that raised KeyboardInterrupt would print its own traceback
    while the parent cleans up. ``PR_SET_PDEATHSIG`` (Linux) makes the kernel send
    SIGTERM when the worker's parent, the forkserver, exits, which it does as soon
    as this command's process is gone, even when that process was killed outright.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@contextlib.contextmanager
def _signals_deferred(*, ignore_interrupt: bool = False) -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the block; deliver any that came at its end.

    With ``ignore_interrupt``, SIGINT is ignored instead (a Ctrl-C in the block is
    lost): a process started in the block then starts with SIGINT ignored, which
    a held signal's handler cannot give it (a handler does not survive ``exec``).
    Only the main thread can change handlers; elsewhere the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: object) -> None:
        caught.append(signum)

    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN if ignore_interrupt else hold),
        signal.SIGTERM: signal.signal(signal.SIGTERM, hold),
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)
        for held in dict.fromkeys(caught):
            signal.raise_signal(held)


def _ignore_cancelled_in_manager(args: threading.ExceptHookArgs) -> None:
    """A ``threading.excepthook`` that drops one CPython 3.11 error and passes on the rest.

    When workers end while futures are being cancelled, 3.11's pool manager thread
    sets an exception on an already-cancelled future and dies with
    ``InvalidStateError`` (3.12 ignores it). The pool is being torn down on purpose
    then, so the traceback would only hide the command's own one-line message.
    """
    thread_module = type(args.thread).__module__ if args.thread is not None else ""
    if args.exc_type is InvalidStateError and thread_module == "concurrent.futures.process":
        return
    _PREVIOUS_EXCEPTHOOK(args)


_PREVIOUS_EXCEPTHOOK = threading.excepthook


class WorkerPool:
    """Worker processes that never outlive their command.

    A :class:`~concurrent.futures.ProcessPoolExecutor` (``forkserver`` start method)
    whose :meth:`close` either waits for the workers (after a success) or
    terminates them at once (on an error or an interruption: a run may take
    minutes, and nobody is waiting for its result any more). Use as a context
    manager: leaving the block by an exception aborts.

    Args:
        jobs: the number of worker processes.
    """

    def __init__(self, jobs: int) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(PRELOAD))
        self.jobs = jobs
        # The forkserver (and every worker it forks) should ignore Ctrl-C from its
        # first instruction: a terminal's Ctrl-C reaches the whole process group,
        # and one arriving while the forkserver imports its preload would print a
        # traceback. An ignored signal is inherited across exec; so start it now.
        with _signals_deferred(ignore_interrupt=True):
            forkserver.ensure_running()
        # Workers may die before the pool is closed (a signal to the whole group).
        threading.excepthook = _ignore_cancelled_in_manager
        self._pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            jobs, mp_context=context, initializer=_worker_setup
        )

    def submit(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        """Run ``fn(*args, **kwargs)`` in a worker."""
        assert self._pool is not None, "the pool is closed"
        # A submit may start a worker; an interruption halfway through would leave
        # the new process reading a half-sent start-up message (and printing a
        # traceback), so Ctrl-C and SIGTERM wait until the submit is done.
        with _signals_deferred():
            return self._pool.submit(fn, *args, **kwargs)

    def close(self, *, abort: bool = False) -> None:
        """Shut the workers down: wait for them, or with ``abort`` terminate them now."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if not abort:
            pool.shutdown(wait=True)
            return
        # The executor offers no way to stop a running task (before Python 3.14's
        # terminate_workers), so the processes are taken from its table and ended.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(OSError, ValueError, AttributeError):
                process.terminate()
        deadline = time.monotonic() + TERMINATE_GRACE_S
        for process in processes:
            with contextlib.suppress(OSError, ValueError, AttributeError, AssertionError):
                process.join(max(0.0, deadline - time.monotonic()))
                if process.is_alive():
                    process.kill()
                    process.join(TERMINATE_GRACE_S)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(abort=kind is not None)


class LocalExecutor:
    """Tasks in this process (``jobs == 1``) or in ``jobs`` worker processes."""

    def __init__(self, jobs: int | None = None) -> None:
        jobs = default_jobs() if jobs is None else jobs
        if jobs < 1:
            raise ExecutorError(f"--jobs must be at least 1, not {jobs}")
        self.workers = jobs
        self._pool: WorkerPool | None = None

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            # On an error or Ctrl-C, queued tasks are dropped and running ones ended.
            self._pool.close(abort=kind is not None)
            self._pool = None

    def _ensure_pool(self) -> WorkerPool:
        if self._pool is None:
            self._pool = WorkerPool(self.workers)
        return self._pool

    def map_unordered(
        self, fn: Callable[[T], R], tasks: Iterable[T], *, window: int | None = None
    ) -> Iterator[R]:
        """``fn(task)`` for each task, as the tasks finish (see :class:`Executor`)."""
        if self.workers == 1 or (isinstance(tasks, list | tuple) and len(tasks) <= 1):
            for task in tasks:
                yield fn(task)
            return
        pool = self._ensure_pool()
        source = iter(tasks)
        pending: set[Future[R]] = set()

        def refill() -> None:
            room = None if window is None else max(0, window - len(pending))
            for task in itertools.islice(source, room):
                pending.add(pool.submit(fn, task))

        try:
            refill()
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
                    refill()
        finally:
            running = [f for f in pending if not f.cancel() and not f.done()]
            if running:
                # Nobody will read these results: end the workers rather than wait.
                pool.close(abort=True)
                self._pool = None


class DaskExecutor:
    """Tasks on a Dask distributed cluster reached at ``address``.

    Raises:
        ExecutorError: Dask is not installed, or no scheduler answers within ``timeout_s``.
    """

    def __init__(self, address: str, timeout_s: float | None = None) -> None:
        timeout_s = CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
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

    def map_unordered(
        self, fn: Callable[[T], R], tasks: Iterable[T], *, window: int | None = None
    ) -> Iterator[R]:
        """``fn(task)`` for each task, as the cluster finishes them (see :class:`Executor`)."""
        source = iter(tasks)
        pending: set[Any] = set()
        finished = self._distributed.as_completed()

        def refill() -> None:
            room = None if window is None else max(0, window - len(pending))
            for task in itertools.islice(source, room):
                # pure=False: two equal tasks are still two runs, never one cached result.
                future = self._client.submit(fn, task, pure=False)
                pending.add(future)
                finished.add(future)

        try:
            refill()
            for future in finished:
                pending.discard(future)
                yield future.result()
                refill()
        finally:
            if pending:
                # Queued tasks are dropped; a task already running on a worker runs
                # to its end there (Dask cannot stop it), and its result is discarded.
                self._client.cancel(list(pending))


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
