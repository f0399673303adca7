"""An exploration's ``runs.csv`` as curves: violations and distinct schedules over runs.

``mintactors explore --out DIR`` writes ``DIR/runs.csv``, one row per run, with the
columns of :data:`RUNS_COLUMNS`. The plot needs ``run``, ``fingerprint`` and
``verdict`` (``ok`` or ``violation``); the rest are read past. Rows are taken in
``run`` order whatever order the file lists them in, so "runs made" counts runs as
the explorer numbers them. A schedule is distinct the first time its fingerprint
appears.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from mintactors.plots._common import PlotError, fixed_style, new_figure, plural, whole_numbers
from mintactors.plots._csv import CsvColumns
from mintactors.plots._series import StepSeries

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["RUNS_COLUMNS", "ExploreCurves", "plot_explore", "read_explore"]

#: The columns of an exploration's runs.csv, in order.
RUNS_COLUMNS = (
    "run",
    "seed",
    "fingerprint",
    "verdict",
    "oracle",
    "sent",
    "delivered",
    "violation_t_ns",
)
_NEEDED = [("", "run"), ("", "fingerprint"), ("", "verdict")]
_VERDICTS = {"ok": False, "violation": True}


@attrs.frozen
class ExploreCurves:
    """What an exploration plot draws.

    Attributes:
        source: the runs.csv file.
        runs: how many runs the file holds.
        violations: cumulative violations against runs made (1, 2, ...).
        distinct: cumulative distinct schedules against runs made.
    """

    source: str
    runs: int
    violations: StepSeries
    distinct: StepSeries


def read_explore(path: Path | str) -> ExploreCurves:
    """Read the cumulative curves from an exploration's runs.csv.

    Raises:
        PlotError: the file is missing, empty or not a CSV; it lacks one of
            ``run``, ``fingerprint``, ``verdict``; a run number is not a whole number
            or repeats; a verdict is neither ``ok`` nor ``violation``; a fingerprint
            is empty.
    """
    hint = " (is it an explore runs.csv? its columns are " + ", ".join(RUNS_COLUMNS) + ")"
    rows: list[tuple[int, bool, str]] = []
    lines: dict[int, int] = {}
    with CsvColumns(path, _NEEDED, hint) as table:
        for cells in table.rows():
            line = table.line
            try:
                run = int(cells["run"])
            except ValueError:
                raise PlotError(
                    path, f"line {line}: run {cells['run']!r} is not a run number"
                ) from None
            if run in lines:
                raise PlotError(path, f"line {line}: run {run} again (first on line {lines[run]})")
            lines[run] = line
            verdict = _VERDICTS.get(cells["verdict"])
            if verdict is None:
                raise PlotError(
                    path,
                    f"line {line}: verdict {cells['verdict']!r} is neither 'ok' nor 'violation'",
                )
            if not cells["fingerprint"]:
                raise PlotError(path, f"line {line}: run {run} has no fingerprint")
            rows.append((run, verdict, cells["fingerprint"]))
    rows.sort()
    violations, distinct = StepSeries(), StepSeries()
    seen: set[str] = set()
    for made, (_, violated, fingerprint) in enumerate(rows, start=1):
        if violated:
            violations.change(made, 1)
        if fingerprint not in seen:  # only membership: the set's order never shows
            seen.add(fingerprint)
            distinct.change(made, 1)
    return ExploreCurves(str(path), len(rows), violations, distinct)


def plot_explore(data: ExploreCurves) -> Figure:
    """Violations and distinct schedules so far, with the line every run being new."""
    with fixed_style():
        fig, (ax,) = new_figure()
        for series, label in (
            (data.violations, "violations"),
            (data.distinct, "distinct schedules"),
        ):
            runs, counts = series.points(data.runs)
            ax.step(runs, counts, where="post", label=label)
        # The ceiling: had every run tried a schedule not seen before.
        ax.plot(
            [0, data.runs],
            [0, data.runs],
            linestyle="--",
            color="0.6",
            label="runs made (every schedule new)",
        )
        ax.set_xlabel("runs made")
        ax.set_ylabel("count (cumulative)")
        ax.set_title(
            f"{plural(data.runs, 'run')}: {plural(data.violations.value, 'violation')}, "
            f"{plural(data.distinct.value, 'distinct schedule')}"
        )
        whole_numbers(ax.xaxis)
        whole_numbers(ax.yaxis)
        ax.set_xlim(0, data.runs)
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper left")
    return fig
