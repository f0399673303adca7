"""One run: build the machine, run it under the oracles, account, write the outputs.

:func:`run_config` and :func:`record_run` are one pipeline. They differ only in
what a broken run means: for :func:`run_config` (``mintactors run``, sweeps) a
component crash or an accounting failure is an error and no output is written;
for :func:`record_run` (exploration, replay) it is a finding, reported as a
violation of the pseudo-oracle ``crash`` or of ``conservation``, and the trace is
kept, since that is exactly the run someone wants to read.

Either way, an interruption (Ctrl-C, or SIGTERM where the command line handles it)
ends the run as :class:`RunInterrupted` with the virtual time reached, and a failure
to write an output as :class:`~mintactors.experiments.run.outputs.OutputError`;
neither leaves a file behind.

An interruption is never let loose inside Trio: raised wherever the signal lands,
it can corrupt Trio's own bookkeeping (a ``TrioInternalError``). While the
simulation runs, SIGINT and SIGTERM only note the signal
(:class:`_DeferredInterrupts`); the run's progress hook, called between deliveries
(every 4096), raises :class:`RunInterrupted` there, where an actor raising is the
ordinary way a run stops.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import attrs

from mintactors.config import Config
from mintactors.errors import ActorCrashed
from mintactors.experiments.run.outputs import OutputError, atomic_outputs, write_json
from mintactors.experiments.run.results import AccountingError, RunResults, collect_results
from mintactors.machine import Machine, build_machine
from mintactors.oracles import OracleMonitor, Violation
from mintactors.runtime import RunResult, StopWhen

__all__ = [
    "RUN_OUTPUTS",
    "ObserverFactory",
    "RecordedRun",
    "RunInterrupted",
    "RunObserver",
    "RunOutcome",
    "config_echo",
    "record_run",
    "run_config",
]

#: The files a run writes into its directory; a rerun removes those it did not write.
RUN_OUTPUTS = ("results.json", "trace.jsonl")


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by an interruption; nothing was written.

    A ``KeyboardInterrupt``, so that everything that cleans up after Ctrl-C (output
    files, worker pools) does so for it too.

    Attributes:
        t_ns: the virtual time the run had reached.
    """

    def __init__(self, t_ns: int, signum: int = signal.SIGINT) -> None:
        super().__init__(t_ns)
        self.t_ns = t_ns
        self.signum = signum


class _DeferredInterrupts:
    """While the simulation runs, SIGINT and SIGTERM are noted, not raised.

    Only signals with a Python handler are deferred (Python's Ctrl-C handler, the
    command line's SIGTERM handler): an ignored SIGINT stays ignored and a default
    SIGTERM still ends the process, as they would without a run. Only the main
    thread can install handlers; elsewhere nothing is deferred.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def _note(self, signum: int, frame: object) -> None:
        if self.signum is None:
            self.signum = signum

    def __enter__(self) -> _DeferredInterrupts:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous = signal.getsignal(signum)
                if callable(previous):
                    self._previous[signum] = previous
                    signal.signal(signum, self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def check(self, t_ns: int) -> None:
        """Raise :class:`RunInterrupted` if a signal came."""
        if self.signum is not None:
            raise RunInterrupted(t_ns, self.signum)


def _interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` is, or (from Trio's nursery) groups, a KeyboardInterrupt.

    Trio raises the interrupt in whichever task was running, so it can arrive grouped
    with the errors it caused in the others: the interrupt is the cause of them all.
    """
    if isinstance(exc, KeyboardInterrupt):
        return True
    return isinstance(exc, BaseExceptionGroup) and exc.subgroup(KeyboardInterrupt) is not None


def _output_failure(exc: BaseException) -> OutputError | None:
    """The output write failure ``exc`` is, or holds (directly or as a crash's cause)."""
    if isinstance(exc, OutputError):
        return exc
    if isinstance(exc, ActorCrashed) and isinstance(exc.cause, OutputError):
        return exc.cause
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _output_failure(inner)
            if found is not None:
                return found
    return None


def config_echo(config: Config) -> dict[str, Any]:
    """The config as the trace header and results.json echo it."""
    echo: dict[str, Any] = json.loads(json.dumps(dict(config.raw), default=str))
    return echo


@attrs.frozen
class RunOutcome:
    """A finished run: its results, the machine, and the files written."""

    results: RunResults
    machine: Machine
    paths: dict[str, Path]


@attrs.frozen
class RecordedRun:
    """What a recorded run found.

    Attributes:
        violations: every oracle violation, in the order found.
        first: the one that began first, if any.
        results: the results record (``None`` when the run crashed or its packets
            did not add up).
        machine: the machine after its run.
        run: how the simulation ended (``None`` when it crashed).
        fingerprint: the schedule's fingerprint, when the run was asked for it
            (also after a crash: the schedule up to the crash).
        ties_broken: decisions the tie-break policy made.
    """

    violations: tuple[Violation, ...]
    first: Violation | None
    results: RunResults | None
    machine: Machine
    run: RunResult | None = None
    fingerprint: str | None = None
    ties_broken: int = 0


Progress = Callable[[Machine, int], None]
ExtraOutputs = Callable[[atomic_outputs, Machine], None]


def _simulate(machine: Machine, stop_when: StopWhen, progress: Progress | None) -> RunResult:
    """Run the machine's simulation; interruptions and output failures come out as ours.

    Raises:
        RunInterrupted: Ctrl-C or SIGTERM (handled between deliveries).
        OutputError: the trace or a pcap could not be written.
        ActorCrashed: a component failed.
    """
    deferred = _DeferredInterrupts()

    def hook(t_ns: int) -> None:
        deferred.check(t_ns)
        if progress is not None:
            progress(machine, t_ns)

    until = machine.config.simulation.until_ns
    try:
        with deferred:
            run = machine.simulation.run_sync(until_ns=until, progress=hook, stop_when=stop_when)
        deferred.check(machine.simulation.now_ns)  # a signal in the last deliveries
    except RunInterrupted:
        raise
    except BaseException as exc:
        if _interrupted(exc):
            signum = deferred.signum or signal.SIGINT
            raise RunInterrupted(machine.simulation.now_ns, signum) from None
        failed = _output_failure(exc)
        if failed is not None:
            # The trace (or a pcap) could not be written: not the model's failure.
            raise failed from None
        raise
    return run


class RunObserver(Protocol):
    """Something that looks at the machine after every delivery (checkpoints, say)."""

    def attach(self, machine: Machine, monitor: OracleMonitor) -> Callable[[], None]:
        """Start on ``machine`` (its oracles: ``monitor``); returns the after-delivery hook."""
        ...

    def finish(self) -> None:
        """The run succeeded: write what is left."""
        ...


#: Makes the run's observer, given the run's atomic outputs (its files appear with
#: the trace, or not at all).
ObserverFactory = Callable[[atomic_outputs], RunObserver]


def _then(monitor: OracleMonitor, after: Callable[[], None]) -> Callable[[], bool]:
    """The oracles, then the observer (which then sees what they have found)."""

    def stop_when() -> bool:
        stop = monitor()
        after()
        return stop

    return stop_when


def _execute(
    config: Config,
    out_dir: Path | None,
    *,
    strict: bool,
    stop_on_violation: bool = False,
    progress: Progress | None = None,
    instants: Iterator[int] | None = None,
    extra_outputs: ExtraOutputs | None = None,
    fingerprint: bool = False,
    observer: ObserverFactory | None = None,
) -> tuple[RecordedRun, dict[str, Path]]:
    paths: dict[str, Path] = {}
    with atomic_outputs(out_dir, owned=RUN_OUTPUTS, lock=True) as outputs:
        stream = None
        if out_dir is not None and config.simulation.trace != "off":
            stream = outputs.open("trace.jsonl")
            paths["trace"] = out_dir / "trace.jsonl"
        echo = config_echo(config)
        machine = build_machine(config, stream, {"config": echo}, instants, fingerprint=fingerprint)
        if extra_outputs is not None:
            extra_outputs(outputs, machine)
        monitor = OracleMonitor(
            machine, config.oracles.entries, stop_on_violation=stop_on_violation
        )
        watcher = observer(outputs) if observer is not None else None
        stop_when: StopWhen = (
            monitor.by_actor()
            if watcher is None
            else _then(monitor, watcher.attach(machine, monitor))
        )
        try:
            run = _simulate(machine, stop_when, progress)
        except ActorCrashed as exc:
            if strict:
                raise
            monitor.violations.append(
                Violation("crash", exc.t_ns, exc.t_ns, str(exc), {"actor": exc.actor})
            )
            sim = machine.simulation
            recorded = RecordedRun(
                tuple(monitor.violations),
                monitor.first(),
                None,
                machine,
                None,
                sim.fingerprint,
                sim.ties_broken,
            )
            return recorded, paths
        error = None
        results: RunResults | None = None
        try:
            results = collect_results(machine, run)
        except AccountingError as exc:
            if strict:
                raise
            error = str(exc)
        monitor.finish(run, error)
        report = monitor.report()
        if results is not None:
            results = attrs.evolve(results, oracles=report, config=echo)
            written: dict[str, Any] = results.to_json()
        else:
            end = {"reason": run.reason}
            written = {"seed": config.simulation.seed, "end": end, "oracles": report}
            written["config"] = echo
        if out_dir is not None:
            write_json(outputs.open("results.json"), written)
            paths["results"] = out_dir / "results.json"
        if watcher is not None:
            watcher.finish()
    violations = tuple(monitor.violations)
    sim = machine.simulation
    recorded = RecordedRun(
        violations, monitor.first(), results, machine, run, sim.fingerprint, sim.ties_broken
    )
    return recorded, paths


def run_config(
    config: Config,
    out_dir: Path | None = None,
    *,
    progress: Progress | None = None,
    instants: Iterator[int] | None = None,
    extra_outputs: ExtraOutputs | None = None,
    observer: ObserverFactory | None = None,
) -> RunOutcome:
    """Build the machine, run it, account for every packet and write the outputs.

    Args:
        config: the experiment.
        out_dir: where ``results.json`` and ``trace.jsonl`` go (None: nowhere).
        progress: called now and then with the machine and the virtual time.
        instants: planned send times overriding the config's timing pattern.
        extra_outputs: hook to open more output files before the run.
        observer: makes an observer called after every delivery (checkpoints).

    Raises:
        ActorCrashed: a component failed.
        AccountingError: the packets do not add up.
    """
    recorded, paths = _execute(
        config,
        out_dir,
        strict=True,
        progress=progress,
        instants=instants,
        extra_outputs=extra_outputs,
        observer=observer,
    )
    assert recorded.results is not None  # strict: a broken run raised instead
    return RunOutcome(recorded.results, recorded.machine, paths)


def record_run(
    config: Config,
    out_dir: Path | None = None,
    *,
    stop_on_violation: bool = False,
    fingerprint: bool = False,
) -> RecordedRun:
    """Run ``config`` with its oracles; write trace.jsonl and results.json to ``out_dir``.

    A component crash is reported as a violation of the pseudo-oracle ``crash``; a
    conservation failure as one of ``conservation``. Either way the trace is kept.
    With ``fingerprint``, the run records its schedule's fingerprint
    (:attr:`RecordedRun.fingerprint`); results.json is the same either way.
    """
    recorded, _ = _execute(
        config,
        out_dir,
        strict=False,
        stop_on_violation=stop_on_violation,
        fingerprint=fingerprint,
    )
    return recorded
