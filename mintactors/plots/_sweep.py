"""A sweep's ``sweep.csv`` as lines: one column against another, one line per group.

The file is read once, keeping only the ``--x``, ``--y`` and ``--by`` cells. The
x values must be numbers; an empty x cell leaves the run out, an empty y cell (a
figure the run could not compute, such as a latency with nothing delivered) is a
gap in its line. Within a line the points are sorted by x; lines are ordered by
their ``--by`` value, numerically when every value is a number, otherwise as they
first appear in the file (run order).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from mintactors.plots._common import PlotError, fixed_style, new_figure
from mintactors.plots._csv import CsvColumns, parse_number

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["SweepLine", "SweepLines", "plot_sweep", "read_sweep"]


@attrs.frozen
class SweepLine:
    """One line of a sweep plot.

    Attributes:
        label: the ``--by`` value as the CSV writes it (None without ``--by``).
        x: the x values, ascending.
        y: the y values (NaN where the run has no value).
    """

    label: str | None
    x: tuple[float, ...]
    y: tuple[float, ...]


@attrs.frozen
class SweepLines:
    """What a sweep plot draws: the columns chosen and the lines they make."""

    source: str
    x: str
    y: str
    by: str | None
    lines: tuple[SweepLine, ...]
    #: Things a reader should know (runs left out, x values shared within a line).
    warnings: tuple[str, ...] = ()

    @property
    def points(self) -> int:
        """How many points the lines have together."""
        return sum(len(line.x) for line in self.lines)


def _number(path: Path, option: str, column: str, cell: str, line: int) -> float | None:
    try:
        return parse_number(cell)
    except ValueError:
        raise PlotError(
            path, f"{option}: column {column!r} is not numeric: {cell!r} on line {line}"
        ) from None


def read_sweep(path: Path | str, x: str, y: str, by: str | None = None) -> SweepLines:
    """Read the lines of ``y`` against ``x`` (one per value of ``by``) from a sweep.csv.

    Raises:
        PlotError: the file is missing, empty or not a CSV; a column is not there
            (with the closest names and the list of columns); an x or y cell is not
            a number; or the y column has no value at all.
    """
    wanted = [("--x", x), ("--y", y)] + ([("--by", by)] if by is not None else [])
    groups: dict[str, list[tuple[float, float]]] = {}
    left_out = 0
    with CsvColumns(path, wanted) as table:
        for cells in table.rows():
            xv = _number(table.path, "--x", x, cells[x], table.line)
            yv = _number(table.path, "--y", y, cells[y], table.line)
            if xv is None:
                left_out += 1
                continue
            key = cells[by] if by is not None else ""
            groups.setdefault(key, []).append((xv, math.nan if yv is None else yv))
    source = str(path)
    if all(math.isnan(v) for points in groups.values() for _, v in points):
        raise PlotError(source, f"--y: column {y!r} has no values (every cell is empty)")
    warnings: list[str] = []
    if left_out:
        warnings.append(f"{source}: {left_out} run(s) with no {x} value left out")
    lines = []
    shared = []
    for key in _group_order(groups):
        points = sorted(groups[key], key=lambda p: p[0])  # stable: equal x stay in run order
        xs = tuple(p[0] for p in points)
        if len(set(xs)) < len(xs):
            shared.append(key)
        lines.append(SweepLine(key if by is not None else None, xs, tuple(p[1] for p in points)))
    if shared:
        where = f" (in the line(s) for {by} = {', '.join(shared)})" if by is not None else ""
        warnings.append(
            f"{source}: several runs share a value of {x}{where}: another swept key varies "
            f"too; name it with --by to draw one line per value"
        )
    return SweepLines(source, x, y, by, tuple(lines), tuple(warnings))


def _group_order(groups: dict[str, list[tuple[float, float]]]) -> list[str]:
    try:
        numbers = {key: parse_number(key) for key in groups}
    except ValueError:
        return list(groups)  # dicts keep first-appearance order
    # Empty cells (None) last; ties impossible, as keys are distinct strings, bar
    # spellings of one number ("1" and "1.0"), which then keep file order.
    return sorted(groups, key=lambda k: (numbers[k] is None, numbers[k] or 0.0))


def _check_log(data: SweepLines, axis: str, values: list[float]) -> None:
    bad = [v for v in values if not math.isnan(v) and v <= 0]
    if bad:
        column = data.x if axis == "x" else data.y
        raise PlotError(
            data.source,
            f"--log{axis}: column {column!r} has the value {bad[0]:g}; "
            "a log axis needs values above 0",
        )


#: Up to this many distinct x values each get a labelled tick on a log x axis.
_MAX_VALUE_TICKS = 12


def _ticks_at_swept_values(ax: Axes, values: list[float]) -> None:
    """On a log axis, ticks at the swept values themselves, written plainly.

    A sweep has a few x values, often powers of two; matplotlib's decade ticks
    (``2 x 10^3``) would label points between them instead.
    """
    if len(values) > _MAX_VALUE_TICKS:
        return
    ax.set_xticks(values, [f"{v:g}" for v in values])
    ax.set_xticks([], minor=True)


def plot_sweep(data: SweepLines, *, logx: bool = False, logy: bool = False) -> Figure:
    """Draw ``data``: markers joined by lines, a legend titled by the ``--by`` key.

    Raises:
        PlotError: a log axis was asked for and its column has a value <= 0.
    """
    if logx:
        _check_log(data, "x", [v for line in data.lines for v in line.x])
    if logy:
        _check_log(data, "y", [v for line in data.lines for v in line.y])
    with fixed_style():
        fig, (ax,) = new_figure()
        for line in data.lines:
            label = None if line.label is None else line.label or "(empty)"
            ax.plot(line.x, line.y, marker="o", label=label)
        ax.set_xlabel(data.x)
        ax.set_ylabel(data.y)
        ax.set_title(f"{data.y} against {data.x}" + (f", by {data.by}" if data.by else ""))
        if logx:
            ax.set_xscale("log")
            _ticks_at_swept_values(ax, sorted({v for line in data.lines for v in line.x}))
        if logy:
            ax.set_yscale("log")
        if data.by is not None:
            ax.legend(title=data.by)
    return fig
