"""Schedule exploration: many seeded variations of one config, stopping at the first bug.

Run ``i`` of an exploration is the config with ``simulation.seed = first_seed + i``,
the chosen tie-break policy and, optionally, IPI latency jitter, all written as
config overrides so that the run's trace header says exactly what ran. A new seed
changes every random stream at once: the tie-break order, the IPI latencies and
any seeded timing pattern.

Runs go to an executor (:mod:`mintactors.experiments.sweep.executors`: this
process, local worker processes, or a Dask cluster) in seed order, a few more than
there are workers at a time. Results come back in any order; they are *taken* in
run order, and only taken runs decide anything. The exploration stops at the first
taken run that violates an oracle, or (with ``until_distinct``) that brings the
distinct schedules to the number asked for, or at the end of the plan. So the
answer is the lowest-numbered failing run and the verdicts before it, whatever the
worker count or the finishing order. Once the answer is known, the runs still out
are cancelled, and no later run is handed out: a run numbered above a failure
already seen is of no use.

Every run records its schedule's fingerprint and its tie decisions
(:mod:`~mintactors.experiments.explore.coverage`). The failing run is then recorded
again with a full trace, which is what ``mintactors replay`` reproduces.

The output directory belongs to the exploration while it runs (locked against a
second command). It receives ``runs.csv``
(:mod:`~mintactors.experiments.explore.runs_csv`) and the failing run's
``seed-<S>``; the ``seed-*`` directories an earlier exploration recorded there are
removed, so the directory never shows a failure this exploration did not find.
Nothing is written if the exploration is interrupted.

A worker builds its run's config from the config's TOML table, read once here,
and the bytes of a driver file the config names, so a Dask worker needs neither
the config file nor the driver file (it does need any capture or cost-profile file
the config names by path, as for sweeps).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs

from mintactors.config import Config, apply_overrides, parse_config, read_toml
from mintactors.distributions import Exponential, Fixed, Normal, Uniform
from mintactors.errors import ConfigError, MintactorsError, SimulationError
from mintactors.experiments.explore.coverage import Coverage, CoverageTally, PctBound
from mintactors.experiments.explore.runs_csv import RUNS_CSV, runs_csv_text
from mintactors.experiments.run import (
    RUN_OUTPUTS,
    atomic_outputs,
    claimed_directory,
    prune_outputs,
    record_run,
)
from mintactors.experiments.sweep.executors import Executor, LocalExecutor
from mintactors.oracles import Violation
from mintactors.runtime import PctPolicy

__all__ = [
    "ExploreOutcome",
    "ExploreRunFailed",
    "ExploreTask",
    "RunVerdict",
    "StopReason",
    "Variation",
    "explore",
    "jitter_assignment",
    "run_task",
    "variations",
]

#: Why an exploration stopped: a violation, enough distinct schedules, or the plan's end.
StopReason = Literal["violation", "distinct", "plan"]
#: Runs out per worker: enough to keep every worker busy while results travel back.
WINDOW_PER_WORKER = 2


class ExploreRunFailed(SimulationError):
    """A run of an exploration could not be made (not a violation: the run never ran)."""


@attrs.frozen
class Variation:
    """One run of an exploration: its number, seed and config overrides."""

    run: int
    seed: int
    assignments: tuple[str, ...]


@attrs.frozen
class RunVerdict:
    """What one run found: its first violation, or none, and its schedule.

    Attributes:
        run: the run's number (0, 1, ...).
        seed: its seed.
        violation: the first oracle violation, if any (the run stopped there).
        sent: packets sent, up to where the run stopped.
        delivered: packets delivered, likewise.
        fingerprint: the schedule's fingerprint (16 hex digits).
        decisions: the tie decisions the run's policy made.
        threads: for ``pct``, the sending actors that met in ties (PCT's ``n``); else 0.
    """

    run: int
    seed: int
    violation: Violation | None
    sent: int
    delivered: int
    fingerprint: str = ""
    decisions: int = 0
    threads: int = 0


@attrs.frozen
class ExploreOutcome:
    """An exploration's result.

    Attributes:
        verdicts: the runs taken, in run order, up to and including the one the
            exploration stopped at.
        failing: the lowest-numbered run that violated an oracle, if any.
        recorded: the directory holding that run's full trace and results.
        coverage: the schedules the verdicts tried.
        stopped: why the exploration stopped.
        policy: the runs' tie-break policy.
        pct: the PCT bound, when the policy is ``pct``.
        runs_csv: the runs.csv written (None without an output directory).
    """

    verdicts: tuple[RunVerdict, ...]
    failing: RunVerdict | None
    recorded: Path | None
    coverage: Coverage
    stopped: StopReason
    policy: str
    pct: PctBound | None = None
    runs_csv: Path | None = None


@attrs.frozen
class ExploreTask:
    """Everything a worker needs for one run: plain data, so it pickles.

    Attributes:
        raw: the config's TOML table, ``--set`` overrides applied.
        source: the config file's name (for messages and the trace header).
        base_dir: the directory relative paths in the config start from.
        driver_files: a driver file's bytes by ``driver.kind`` (empty for a built-in).
        variation: the run.
    """

    raw: Mapping[str, Any]
    source: str
    base_dir: str | None
    driver_files: Mapping[str, bytes]
    variation: Variation

    def config(self, trace: str) -> Config:
        """The run's config, at trace level ``trace``.

        Raises:
            ConfigError: the variation's overrides make the config invalid.
        """
        assignments = [*self.variation.assignments, f'simulation.trace="{trace}"']
        raw = apply_overrides(dict(self.raw), assignments)
        base_dir = Path(self.base_dir) if self.base_dir is not None else None
        return parse_config(raw, self.source, base_dir, driver_files=self.driver_files or None)


def _mean_latency(config: Config) -> float:
    latency = config.apic.ipi_latency
    match latency:
        case None:
            return float(config.costs_profile.ipi_latency_ns)
        case Fixed(ns=ns):
            return float(ns)
        case Uniform(low_ns=low, high_ns=high):
            return (low + high) / 2
        case Normal(mean_ns=mean) | Exponential(mean_ns=mean):
            return float(mean)
    raise AssertionError(latency)


def jitter_assignment(config: Config, spec: str) -> str:
    """The ``apic.ipi_latency`` override for a ``--jitter`` spec.

    ``N`` makes the IPI latency uniform in ``mean - N .. mean + N`` ns;
    ``normal:SD`` makes it normal around the mean with standard deviation ``SD``
    (never below 0). The mean is the config's IPI latency (its distribution's mean).

    Raises:
        ConfigError: a spec that is neither form.
    """
    mean = round(_mean_latency(config))
    kind, _, amount = spec.partition(":") if ":" in spec else ("uniform", "", spec)
    try:
        width = int(amount)
    except ValueError:
        width = -1
    if kind not in ("uniform", "normal") or width < 0:
        raise ConfigError(
            "--jitter", spec, "must be N (uniform +-N ns) or normal:SD (ns), N and SD >= 0"
        )
    if kind == "normal":
        table = f'{{ dist = "normal", mean_ns = {mean}, sd_ns = {width}, min_ns = 0 }}'
    else:
        table = f'{{ dist = "uniform", low_ns = {max(0, mean - width)}, high_ns = {mean + width} }}'
    return f"apic.ipi_latency={table}"


def variations(
    runs: int,
    first_seed: int,
    policy: str,
    jitter: str | None = None,
    extra: Sequence[str] = (),
) -> list[Variation]:
    """The ``runs`` variations: seeds ``first_seed ..``, one policy, the jitter override.

    ``extra``: more overrides for every run (``simulation.pct_depth=...``).
    """
    out = []
    for run in range(runs):
        seed = first_seed + run
        assignments = [f"simulation.seed={seed}", f'simulation.policy="{policy}"', *extra]
        if jitter is not None:
            assignments.append(jitter)
        out.append(Variation(run, seed, tuple(assignments)))
    return out


def run_task(task: ExploreTask) -> RunVerdict:
    """Make one run with tracing off; stop at its first violation.

    A top-level function of plain-data arguments, so worker processes and Dask
    workers can run it.

    Raises:
        ExploreRunFailed: the run could not be made (its text carries the cause:
            some of the project's errors do not survive the trip back from a worker).
    """
    variation = task.variation
    try:
        recorded = record_run(task.config("off"), None, stop_on_violation=True, fingerprint=True)
    except MintactorsError as exc:
        raise ExploreRunFailed(
            f"run {variation.run} (seed {variation.seed}): {type(exc).__name__}: {exc}"
        ) from None
    machine = recorded.machine
    policy = machine.simulation.policy
    return RunVerdict(
        variation.run,
        variation.seed,
        recorded.first,
        machine.generator.statistics().sent,
        machine.app.statistics().received,
        recorded.fingerprint or "",
        recorded.ties_broken,
        policy.threads if isinstance(policy, PctPolicy) else 0,
    )


class _RunOrder:
    """Verdicts as they finish, taken in run order; decides where the exploration stops."""

    def __init__(self, until_distinct: int | None) -> None:
        self.until_distinct = until_distinct
        self.waiting: dict[int, RunVerdict] = {}
        self.taken: list[RunVerdict] = []
        self.tally = CoverageTally()
        self.stopped: StopReason | None = None
        #: The lowest run seen to fail, taken or not: no run above it is of use.
        self.lowest_failing: int | None = None

    def add(self, verdict: RunVerdict) -> None:
        failed = verdict.violation is not None
        if failed and (self.lowest_failing is None or verdict.run < self.lowest_failing):
            self.lowest_failing = verdict.run
        self.waiting[verdict.run] = verdict
        while self.stopped is None and len(self.taken) in self.waiting:
            taken = self.waiting.pop(len(self.taken))
            self.taken.append(taken)
            self.tally.add(taken.fingerprint, taken.decisions, taken.threads)
            if taken.violation is not None:
                self.stopped = "violation"
            elif self.until_distinct is not None and self.tally.distinct >= self.until_distinct:
                self.stopped = "distinct"

    def wanted(self, run: int) -> bool:
        """Whether run number ``run`` can still change the answer."""
        return self.stopped is None and (self.lowest_failing is None or run < self.lowest_failing)


def _driver_files(config: Config) -> dict[str, bytes]:
    source = config.driver.source
    if source is None or source.content is None:
        return {}
    return {config.driver.kind: source.content}


def _explore_runs(
    executor: Executor,
    tasks: Sequence[ExploreTask],
    order: _RunOrder,
    progress: Callable[[RunVerdict], None],
) -> None:
    def handed_out() -> Iterator[ExploreTask]:
        for task in tasks:
            if not order.wanted(task.variation.run):
                return
            yield task

    window = WINDOW_PER_WORKER * max(1, executor.workers)
    results = executor.map_unordered(run_task, handed_out(), window=window)
    try:
        for verdict in results:
            order.add(verdict)
            progress(verdict)
            if order.stopped is not None:
                break  # the answer is known: the runs still out are cancelled below
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
    if order.stopped is None:
        order.stopped = "plan"


def explore(
    path: str,
    base: Sequence[str],
    plan: Sequence[Variation],
    *,
    jobs: int | None = None,
    executor: Executor | None = None,
    out_dir: Path | None = None,
    progress: Callable[[RunVerdict], None] | None = None,
    until_distinct: int | None = None,
) -> ExploreOutcome:
    """Run ``plan`` until the first violation; record the failing run in ``out_dir``.

    Args:
        path: the config file.
        base: ``--set`` overrides applied to every run.
        plan: the variations, runs numbered 0, 1, ... (:func:`variations`).
        jobs: local worker processes, when no ``executor`` is given (default: one
            per core; 1 runs in this process).
        executor: where the runs execute (entered and left here).
        out_dir: where ``runs.csv`` and the failing run's ``seed-<S>`` go.
        progress: called with each verdict as it arrives (any order).
        until_distinct: stop also once the runs taken have tried this many
            distinct schedules.

    Raises:
        ConfigError: the config, or the first variation of it, is invalid.
        ExploreRunFailed: a run could not be made.
    """
    if not plan or any(v.run != i for i, v in enumerate(plan)):
        raise ValueError("an exploration's plan numbers its runs 0, 1, 2, ... in order")
    raw = read_toml(path, base)
    source, base_dir = str(path), Path(path).parent
    first = parse_config(apply_overrides(raw, plan[0].assignments), source, base_dir)
    files = _driver_files(first)
    tasks = [ExploreTask(raw, source, str(base_dir), files, v) for v in plan]
    report = progress or (lambda verdict: None)
    order = _RunOrder(until_distinct)
    runner = executor if executor is not None else LocalExecutor(jobs)
    claimed = claimed_directory(out_dir) if out_dir is not None else contextlib.nullcontext()
    with claimed:
        with runner:
            _explore_runs(runner, tasks, order, report)
        verdicts = tuple(order.taken)
        failing = next((v for v in verdicts if v.violation is not None), None)
        recorded = runs_csv = None
        if out_dir is not None:
            if failing is not None:
                recorded = out_dir / f"seed-{failing.seed}"
                record_run(tasks[failing.run].config("full"), recorded)
            with atomic_outputs(out_dir) as outputs:
                outputs.open(RUNS_CSV).write(runs_csv_text(verdicts))
            runs_csv = out_dir / RUNS_CSV
            written = [recorded.name] if recorded is not None else []
            prune_outputs(out_dir, recorded_runs(out_dir), written)
    coverage = order.tally.frozen()
    simulation = first.simulation
    pct = None
    if simulation.policy == "pct":
        pct = coverage.pct(simulation.pct_depth, simulation.pct_steps)
    assert order.stopped is not None
    return ExploreOutcome(
        verdicts, failing, recorded, coverage, order.stopped, simulation.policy, pct, runs_csv
    )


_SEED_DIR = re.compile(r"seed-\d+")


def recorded_runs(out_dir: Path) -> list[str]:
    """The ``seed-<S>`` directories an exploration recorded in ``out_dir``, by name."""
    try:
        entries = sorted(out_dir.iterdir())
    except OSError:
        return []
    return [
        entry.name
        for entry in entries
        if _SEED_DIR.fullmatch(entry.name)
        and entry.is_dir()
        and any((entry / name).exists() for name in RUN_OUTPUTS)
    ]
