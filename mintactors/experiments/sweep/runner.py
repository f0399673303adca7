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
for byte, serially or in parallel.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
from tqdm import tqdm

from mintactors.config import parse_config
from mintactors.errors import MintactorsError, SimulationError
from mintactors.experiments.run import RunOutcome, atomic_outputs, run_config
from mintactors.experiments.sweep.executors import Executor
from mintactors.experiments.sweep.spec import Overrides, Sweep, point_raw

__all__ = [
    "Measure",
    "SweepRunFailed",
    "SweepTable",
    "SweepTask",
    "TaskOutcome",
    "flatten_results",
    "format_value",
    "run_sweep",
    "run_task",
    "write_csv",
]

Scalar = int | float | str | bool | None
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
    """A worker's answer: the run's flat row, or what went wrong."""

    index: int
    row: dict[str, Scalar] | None
    error: str | None = None


@attrs.frozen
class SweepTable:
    """A finished sweep: its columns and one row per run, in run order."""

    columns: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]

    def column(self, name: str) -> list[Any]:
        """Every run's value of ``name`` (None where a run lacks it)."""
        return [row.get(name) for row in self.rows]


def flatten_results(results: Mapping[str, Any], prefix: str = "") -> dict[str, Scalar]:
    """The scalar fields of a results record, nested tables as dotted names.

    Lists (the config's node list, say) are not scalars and are left out, as is the
    top-level ``config`` echo.
    """
    out: dict[str, Scalar] = {}
    for key, value in results.items():
        if not prefix and key == "config":
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_results(value, name + "."))
        elif isinstance(value, int | float | str | bool) or value is None:
            out[name] = value
    return out


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
    show = sys.stderr.isatty() if progress is None else progress
    results: dict[int, dict[str, Scalar]] = {}
    with tqdm(total=len(tasks), unit="run", desc=label, disable=not show, leave=False) as bar:
        for outcome in executor.map_unordered(run_task, tasks):
            if outcome.row is None:
                values = sweep.points[outcome.index].values()
                shown = ", ".join(f"{k}={v!r}" for k, v in values.items())
                raise SweepRunFailed(
                    f"{sweep.source}: sweep run {outcome.index} ({shown}) failed: {outcome.error}"
                )
            results[outcome.index] = outcome.row
            bar.update(1)
    result_names: list[str] = []
    seen: set[str] = set()
    for index in range(len(tasks)):  # first-appearance order, in run order: deterministic
        for name in results[index]:
            if name not in seen:
                seen.add(name)
                result_names.append(name)
    result_names = [n for n in _select(result_names, sweep.columns) if n not in sweep.keys]
    columns = ("run", *sweep.keys, *result_names)
    rows = tuple(
        {"run": p.index, **p.values(), **{n: results[p.index].get(n) for n in result_names}}
        for p in sweep.points
    )
    return SweepTable(columns, rows)


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """Write ``rows`` to ``path`` as CSV, atomically (all or nothing)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([format_value(row.get(c)) for c in columns])
    with atomic_outputs(path.parent) as outputs:
        outputs.open(path.name).write(buffer.getvalue())
