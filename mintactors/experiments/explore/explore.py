"""Schedule exploration: many seeded variations of one config, stopping at the first bug.

Run ``i`` of an exploration is the config with ``simulation.seed = first_seed + i``,
the chosen tie-break policy and, optionally, IPI latency jitter, all written as
config overrides so that the run's trace header says exactly what ran. A new seed
changes every random stream at once: the tie-break order, the IPI latencies and
any seeded timing pattern.

Runs go to worker processes in seed order; the exploration stops once it knows
the lowest-numbered run that violates an oracle (every run before it has
passed), so the answer does not depend on how many workers there are or which
finished first. That run is then recorded again with a full trace, which is what
``mintactors replay`` reproduces.

The output directory belongs to the exploration while it runs (locked against a
second command); the failing run goes to ``seed-<S>`` in it, and the ``seed-*``
directories an earlier exploration recorded there are removed, so the directory
never shows a failure this exploration did not find. The worker processes are a
:class:`~mintactors.experiments.sweep.executors.WorkerPool`: they end with the
command, however it ends, and the runs still going once the answer is known are
stopped rather than waited for.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from mintactors.config import Config, load_config
from mintactors.distributions import Exponential, Fixed, Normal, Uniform
from mintactors.errors import ConfigError
from mintactors.experiments.run import RUN_OUTPUTS, claimed_directory, prune_outputs, record_run
from mintactors.experiments.sweep.executors import WorkerPool
from mintactors.oracles import Violation

__all__ = [
    "ExploreOutcome",
    "RunVerdict",
    "Variation",
    "explore",
    "jitter_assignment",
    "variations",
]


@attrs.frozen
class Variation:
    """One run of an exploration: its number, seed and config overrides."""

    run: int
    seed: int
    assignments: tuple[str, ...]


@attrs.frozen
class RunVerdict:
    """What one run found: its first violation, or none."""

    run: int
    seed: int
    violation: Violation | None
    sent: int
    delivered: int


@attrs.frozen
class ExploreOutcome:
    """An exploration's result.

    Attributes:
        verdicts: the runs made, in run order, up to and including the failing one.
        failing: the lowest-numbered run that violated an oracle, if any.
        recorded: the directory holding that run's full trace and results.
    """

    verdicts: tuple[RunVerdict, ...]
    failing: RunVerdict | None
    recorded: Path | None


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
    runs: int, first_seed: int, policy: str, jitter: str | None = None
) -> list[Variation]:
    """The ``runs`` variations: seeds ``first_seed ..``, one policy, the jitter override."""
    out = []
    for run in range(runs):
        seed = first_seed + run
        assignments = [f"simulation.seed={seed}", f'simulation.policy="{policy}"']
        if jitter is not None:
            assignments.append(jitter)
        out.append(Variation(run, seed, tuple(assignments)))
    return out


def run_variation(path: str, base: Sequence[str], variation: Variation) -> RunVerdict:
    """Run one variation with tracing off; stop at its first violation.

    A top-level function, so worker processes can run it.
    """
    config = load_config(path, [*base, *variation.assignments, 'simulation.trace="off"'])
    recorded = record_run(config, None, stop_on_violation=True)
    stats = recorded.machine.generator.statistics()
    delivered = recorded.machine.app.statistics().received
    return RunVerdict(variation.run, variation.seed, recorded.first, stats.sent, delivered)


def _explore_inline(
    path: str,
    base: Sequence[str],
    plan: Sequence[Variation],
    progress: Callable[[RunVerdict], None],
) -> list[RunVerdict]:
    verdicts = []
    for variation in plan:
        verdict = run_variation(path, base, variation)
        verdicts.append(verdict)
        progress(verdict)
        if verdict.violation is not None:
            break
    return verdicts


def _explore_parallel(
    path: str,
    base: Sequence[str],
    plan: Sequence[Variation],
    jobs: int,
    progress: Callable[[RunVerdict], None],
) -> list[RunVerdict]:
    done: dict[int, RunVerdict] = {}
    failing: int | None = None
    pending: dict[concurrent.futures.Future[RunVerdict], int] = {}
    next_run = 0
    window = 2 * jobs
    with WorkerPool(jobs) as pool:
        while True:
            while (
                next_run < len(plan)
                and len(pending) < window
                and (failing is None or next_run < failing)
            ):
                future = pool.submit(run_variation, path, base, plan[next_run])
                pending[future] = next_run
                next_run += 1
            if not pending:
                break
            finished, _ = concurrent.futures.wait(
                pending, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in finished:
                pending.pop(future)
                verdict = future.result()
                done[verdict.run] = verdict
                progress(verdict)
                if verdict.violation is not None and (failing is None or verdict.run < failing):
                    failing = verdict.run
            if failing is not None and all(r in done for r in range(failing)):
                # The answer is known: later runs are of no use, stop them now.
                pool.close(abort=bool(pending))
                break
    last = failing if failing is not None else len(plan) - 1
    return [done[r] for r in range(last + 1)]


def explore(
    path: str,
    base: Sequence[str],
    plan: Sequence[Variation],
    *,
    jobs: int | None = None,
    out_dir: Path | None = None,
    progress: Callable[[RunVerdict], None] | None = None,
) -> ExploreOutcome:
    """Run ``plan`` until the first violation; record the failing run in ``out_dir``.

    Args:
        path: the config file.
        base: ``--set`` overrides applied to every run.
        plan: the variations, in run order.
        jobs: worker processes (default: one per core; 1 runs in this process).
        out_dir: where the failing run's directory ``seed-<S>`` goes.
        progress: called with each verdict as it arrives (any order).
    """
    jobs = jobs or os.cpu_count() or 1
    report = progress or (lambda verdict: None)
    with claimed_directory(out_dir) if out_dir is not None else contextlib.nullcontext():
        if jobs == 1 or len(plan) <= 1:
            verdicts = _explore_inline(path, base, plan, report)
        else:
            verdicts = _explore_parallel(path, base, plan, jobs, report)
        failing = next((v for v in verdicts if v.violation is not None), None)
        recorded = None
        if failing is not None and out_dir is not None:
            variation = plan[failing.run]
            config = load_config(path, [*base, *variation.assignments, 'simulation.trace="full"'])
            recorded = out_dir / f"seed-{failing.seed}"
            record_run(config, recorded)
        if out_dir is not None:
            written = [recorded.name] if recorded is not None else []
            prune_outputs(out_dir, recorded_runs(out_dir), written)
    return ExploreOutcome(tuple(verdicts), failing, recorded)


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


def verdict_summary(verdict: RunVerdict) -> dict[str, Any]:
    """One run's verdict as a plain record."""
    violation = verdict.violation
    return {
        "run": verdict.run,
        "seed": verdict.seed,
        "ok": violation is None,
        "violation": violation.to_json() if violation is not None else None,
    }
