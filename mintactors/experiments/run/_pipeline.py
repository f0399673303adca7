"""One run: build the machine, run it under the oracles, account, write the outputs.

:func:`run_config` and :func:`record_run` are one pipeline. They differ only in
what a broken run means: for :func:`run_config` (``mintactors run``, sweeps) a
component crash or an accounting failure is an error and no output is written;
for :func:`record_run` (exploration, replay) it is a finding, reported as a
violation of the pseudo-oracle ``crash`` or of ``conservation``, and the trace is
kept, since that is exactly the run someone wants to read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import attrs

from mintactors.config import Config
from mintactors.errors import ActorCrashed
from mintactors.experiments.run.outputs import atomic_outputs, write_json
from mintactors.experiments.run.results import AccountingError, RunResults, collect_results
from mintactors.machine import Machine, build_machine
from mintactors.oracles import OracleMonitor, Violation
from mintactors.runtime import RunResult

__all__ = [
    "ObserverFactory",
    "RecordedRun",
    "RunObserver",
    "RunOutcome",
    "config_echo",
    "record_run",
    "run_config",
]


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
    with atomic_outputs(out_dir) as outputs:
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
        hook = (lambda t: progress(machine, t)) if progress is not None else None
        watcher = observer(outputs) if observer is not None else None
        stop_when = monitor if watcher is None else _then(monitor, watcher.attach(machine, monitor))
        try:
            run = machine.simulation.run_sync(
                until_ns=config.simulation.until_ns, progress=hook, stop_when=stop_when
            )
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
