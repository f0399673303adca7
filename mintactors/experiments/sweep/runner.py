"""Running a sweep: one task per run, on any executor, rows back in run order.

A worker gets the base config's TOML table and the run's overrides, builds the
:class:`~mintactors.config.Config` itself (:func:`~mintactors.experiments.sweep.point_raw`
and :func:`~mintactors.config.parse_config`), runs it with
:func:`~mintactors.experiments.run.run_config`, and sends back one flat row: the
results' scalar fields, dotted (``dropped.no_descriptor``, ``latency_ns.p99``,
``statistics.driver.handler_runs``), plus whatever an optional ``measure``
function computes from the finished run. The config echo is left out (the swept
values already say what differs).

Rows are put back in run order whatever order the runs finish in, and values are
written with ``repr``-exact floats, so the same sweep gives the same CSV file byte
for byte, serially or in parallel. A drop counter a run never counted
(``dropped.<reason>`` appears in a run's results only once it drops a packet for
that reason) is written as 0, not left empty.

:func:`sweep_into` writes a sweep into a directory it owns: ``sweep.csv`` and, with
``save_runs``, each run's files in ``runs/NNNN``. The runs are written into a
staging directory that replaces ``runs/`` only when the whole sweep succeeded, so
an interrupted or failed sweep leaves the previous outputs as they were and no
partial ones.
"""

from __future__ import annotations

import contextlib
import csv
import fnmatch
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from mintactors.config import parse_config
from mintactors.errors import MintactorsError, SimulationError
from mintactors.experiments.progress import Progress
from mintactors.experiments.run import (
    OutputError,
    RunOutcome,
    atomic_outputs,
    claimed_directory,
    run_config,
)
from mintactors.experiments.sweep.columns import COUNTER_PREFIXES, Scalar, flatten_results
from mintactors.experiments.sweep.executors import Executor
from mintactors.experiments.sweep.spec import Overrides, Sweep, point_raw

__all__ = [
    "SWEEP_OUTPUTS",
    "Measure",
    "SweepRunFailed",
    "SweepTable",
    "SweepTask",
    "TaskOutcome",
    "flatten_results",
    "format_value",
    "run_sweep",
    "run_task",
    "sweep_into",
    "write_csv",
]

#: What a sweep owns in its output directory; a rerun removes what it did not write.
SWEEP_OUTPUTS = ("sweep.csv", "runs")

#: Extra figures computed in the worker from a finished run (must be picklable:
#: a module-level function).
Measure = Callable[[RunOutcome], Mapping[str, Scalar]]


class SweepRunFailed(SimulationError):
    """One run of a sweep failed; the sweep stops and writes nothing."""


@attrs.frozen
class SweepTask:
    """Everything a worker needs for one run (picklable)."""

    index: int
    raw: Mapping[str, Any]
    source: str
    base_dir: str | None
    overrides: Overrides
    out_dir: str | None = None
    measure: Measure | None = None


@attrs.frozen
class TaskOutcome:
    """A worker's answer: the run's flat row, or what went wrong.

    ``output_path`` is set when what went wrong is an output that could not be
    written (then ``error`` is the system's reason): not a failure of the run.
    """

    index: int
    row: dict[str, Scalar] | None
    error: str | None = None
    output_path: str | None = None


@attrs.frozen
class SweepTable:
    """A finished sweep: its columns and one row per run, in run order."""

    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]

    def column(self, name: str) -> list[Any]:
        """Every run's value of ``name`` (None where a run lacks it)."""
        return [row.get(name) for row in self.rows]


def run_task(task: SweepTask) -> TaskOutcome:
    """Run one sweep task (in a worker process, or here)."""
    try:
        raw = point_raw(task.raw, task.overrides)
        base_dir = Path(task.base_dir) if task.base_dir is not None else None
        config = parse_config(raw, task.source, base_dir)
        out_dir = Path(task.out_dir) if task.out_dir is not None else None
        outcome = run_config(config, out_dir)
        row = flatten_results(outcome.results.to_json())
        if task.measure is not None:
            row.update(task.measure(outcome))
    except OutputError as exc:
        return TaskOutcome(task.index, None, exc.reason, exc.path)
    except MintactorsError as exc:
        # Exceptions with custom constructors do not survive pickling; send the text.
        return TaskOutcome(task.index, None, f"{type(exc).__name__}: {exc}")
    return TaskOutcome(task.index, row)


def format_value(value: Any) -> str:
    """A CSV cell: empty for None, lower-case booleans, exact floats, JSON for tables."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _select(names: Sequence[str], patterns: Sequence[str]) -> list[str]:
    if not patterns:
        return list(names)
    return [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]


def run_sweep(
    sweep: Sweep,
    executor: Executor,
    *,
    measure: Measure | None = None,
    runs_dir: Path | None = None,
    progress: bool | None = None,
    label: str = "runs",
) -> SweepTable:
    """Run every point of ``sweep`` on ``executor`` and gather the rows in run order.

    Args:
        sweep: the checked sweep.
        executor: where the runs execute.
        measure: extra figures to compute from each run in its worker.
        runs_dir: if given, each run writes its ``results.json`` (and trace, per its
            config) to ``runs_dir/<index>``.
        progress: show a progress bar (default: when stderr is a terminal).
        label: the progress bar's text.

    Raises:
        SweepRunFailed: a run failed; the message names it and its swept values.
    """
    tasks = [
        SweepTask(
            index=p.index,
            raw=sweep.raw,
            source=sweep.source,
            base_dir=sweep.base_dir,
            overrides=p.overrides,
            out_dir=str(runs_dir / f"{p.index:04d}") if runs_dir is not None else None,
            measure=measure,
        )
        for p in sweep.points
    ]
    results: dict[int, dict[str, Scalar]] = {}
    with Progress(label, len(tasks), "runs", enabled=progress) as bar:
        for outcome in executor.map_unordered(run_task, tasks):
            if outcome.output_path is not None:
                raise OutputError(outcome.output_path, outcome.error or "cannot be written")
            if outcome.row is None:
                values = sweep.points[outcome.index].values()
                shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
                raise SweepRunFailed(
                    f"{sweep.source}: sweep run {outcome.index} ({shown}) failed: {outcome.error}"
                )
            results[outcome.index] = outcome.row
            bar.update(len(results))
    result_names: list[str] = []
    seen: set[str] = set()
    for index in range(len(tasks)):  # first-appearance order, in run order: deterministic
        for name in results[index]:
            if name not in seen:
                seen.add(name)
                result_names.append(name)
    result_names = [n for n in _select(result_names, sweep.columns) if n not in sweep.keys]
    columns = ("run", *sweep.keys, *result_names)
    counters = {n for n in result_names if n.startswith(COUNTER_PREFIXES)}
    rows = tuple(
        {
            "run": p.index,
            **p.values(),
            **{n: results[p.index].get(n, 0 if n in counters else None) for n in result_names},
        }
        for p in sweep.points
    )
    return SweepTable(columns, rows)


@contextlib.contextmanager
def _staged_runs(out: Path, save: bool) -> Iterator[Path | None]:
    """A fresh directory for the runs' files, removed unless :func:`_publish_runs` took it."""
    if not save:
        yield None
        return
    try:
        staging = Path(tempfile.mkdtemp(prefix=".runs.", suffix=".partial", dir=out))
    except OSError as exc:
        raise OutputError(out / "runs", exc) from None
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish_runs(out: Path, staging: Path) -> None:
    """Put the staged runs in place of ``out/runs`` (the old ones go only once it is done)."""
    target = out / "runs"
    old = None
    try:
        if target.exists() or target.is_symlink():
            old = Path(tempfile.mkdtemp(prefix=".runs.", suffix=".old", dir=out))
            target.replace(old / "runs")
        staging.replace(target)
    except OSError as exc:
        raise OutputError(target, exc) from None
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def sweep_into(
    out: Path,
    sweep: Sweep,
    executor: Executor,
    *,
    save_runs: bool = False,
    label: str = "sweep",
) -> tuple[SweepTable, Path]:
    """Run ``sweep`` and write ``out/sweep.csv`` (and ``out/runs/NNNN`` with ``save_runs``).

    The directory is locked for the sweep's duration and created if need be (and
    removed again if the sweep fails and it was created for it). Nothing is written
    under a final name unless every run succeeded; on success the outputs of an
    earlier sweep there that this one did not write (``runs/`` after a sweep without
    ``save_runs``) are removed. ``executor`` is entered here, inside the claim on
    the directory, so that its workers are gone before a failed sweep's partial
    files are removed.

    Returns:
        The table and the CSV's path.

    Raises:
        OutputError: the directory or a file cannot be written.
        SweepRunFailed: a run failed.
    """
    path = out / "sweep.csv"
    with claimed_directory(out), _staged_runs(out, save_runs) as staging, executor:
        table = run_sweep(sweep, executor, runs_dir=staging, label=label)
        write_csv(path, table.columns, table.rows, owned=SWEEP_OUTPUTS, keep=("runs",) * save_runs)
        if staging is not None:
            os.chmod(staging, 0o777 & ~_umask())
            _publish_runs(out, staging)
    return table, path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_csv(
    path: Path,
    columns: Sequence[str],
    rows: Sequence[Mapping[str, Any]],
    *,
    owned: Sequence[str] = (),
    keep: Sequence[str] = (),
    outputs: atomic_outputs | None = None,
) -> None:
    """Write ``rows`` to ``path`` as CSV, atomically (all or nothing).

    Args:
        path: the CSV file.
        columns: the header, in order.
        rows: one mapping per row.
        owned: outputs in the CSV's directory the caller owns; those neither
            written here nor in ``keep`` are removed once the CSV is in place.
        keep: owned outputs the caller writes itself.
        outputs: open the file here instead (it is then committed, or not, with
            the other files of that block, which must be ``path``'s directory's).

    Raises:
        OutputError: the file cannot be written.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([format_value(row.get(c)) for c in columns])
    if outputs is not None:
        outputs.open(path.name).write(buffer.getvalue())
        return
    owned = [name for name in owned if name not in keep]
    with atomic_outputs(path.parent, owned=owned) as own:
        own.open(path.name).write(buffer.getvalue())
