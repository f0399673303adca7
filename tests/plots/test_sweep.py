"""plot sweep: a sweep.csv column against another, one line per value of a third."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import matplotlib as mpl
import pytest
from matplotlib.image import imread

from mintactors.plots import PlotError, plot_sweep, read_sweep, save_png

from .conftest import Inputs


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def expected_lines(
    sweep_csv: Path, x: str, y: str, by: str
) -> dict[str, list[tuple[float, float]]]:
    """The lines the CSV implies, worked out here independently of the package."""
    with sweep_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    lines: dict[str, list[tuple[float, float]]] = {}
    for row in rows:
        lines.setdefault(row[by], []).append((float(row[x]), float(row[y])))
    return {k: sorted(v) for k, v in sorted(lines.items(), key=lambda kv: float(kv[0]))}


def test_one_line_per_by_value_sorted_by_x_with_a_legend_titled_by_the_key(
    inputs: Inputs,
) -> None:
    """Each --by value is a line of markers through its runs in x order; the legend names them."""
    x, y, by = "generator.interval_ns", "success_rate", "generator.size"
    fig = plot_sweep(read_sweep(inputs.sweep_csv, x, y, by))
    (ax,) = fig.axes
    expected = expected_lines(inputs.sweep_csv, x, y, by)
    lines = ax.get_lines()
    assert len(lines) == len(expected) == 2
    for line, (label, points) in zip(lines, expected.items(), strict=True):
        assert line.get_label() == label
        assert line.get_marker() == "o"
        assert list(line.get_xdata()) == [p[0] for p in points]
        assert list(line.get_ydata()) == [p[1] for p in points]
    legend = ax.get_legend()
    assert legend is not None
    assert legend.get_title().get_text() == by
    assert [t.get_text() for t in legend.get_texts()] == list(expected)
    assert (ax.get_xlabel(), ax.get_ylabel()) == (x, y)
    assert (ax.get_xscale(), ax.get_yscale()) == ("linear", "linear")


def test_log_axes_on_request(inputs: Inputs) -> None:
    """--logx and --logy make the axes logarithmic, each on its own."""
    data = read_sweep(inputs.sweep_csv, "generator.interval_ns", "handler_runs")
    (ax,) = plot_sweep(data, logx=True).axes
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "linear")
    # a tick at each swept value, written plainly, rather than decade ticks
    assert list(ax.get_xticks()) == [1000, 2000, 4000, 8000]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1000", "2000", "4000", "8000"]
    (ax,) = plot_sweep(data, logx=True, logy=True).axes
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")


def test_without_by_one_line_sorted_numerically_and_no_legend(tmp_path: Path) -> None:
    """Without --by all runs make one line, x in numeric (not text) order, no legend."""
    path = write_csv(tmp_path / "s.csv", "run,k,v\n0,10,1\n1,9,2\n2,100,3\n3,2.5,4\n")
    data = read_sweep(path, "k", "v")
    assert data.warnings == ()
    (ax,) = plot_sweep(data).axes
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == [2.5, 9, 10, 100]
    assert list(line.get_ydata()) == [4, 2, 1, 3]
    assert ax.get_legend() is None


def test_numeric_by_values_in_numeric_order_and_others_in_file_order(tmp_path: Path) -> None:
    """Lines follow their --by value: numbers ascending; words as they first appear."""
    path = write_csv(
        tmp_path / "s.csv",
        "k,v,n,word\n1,1,10,napi\n1,2,9,fifo\n2,3,10,napi\n2,4,9,fifo\n1,5,100,all\n",
    )
    assert [line.label for line in read_sweep(path, "k", "v", "n").lines] == ["9", "10", "100"]
    assert [line.label for line in read_sweep(path, "k", "v", "word").lines] == [
        "napi",
        "fifo",
        "all",
    ]


def test_an_empty_y_cell_is_a_gap_and_an_empty_x_cell_leaves_the_run_out(tmp_path: Path) -> None:
    """A run without a y value is a gap (NaN) in its line; one without x is left out, said so."""
    path = write_csv(tmp_path / "s.csv", "k,v\n1,1.5\n2,\n3,2.5\n,7\n")
    data = read_sweep(path, "k", "v")
    (line,) = data.lines
    assert line.x == (1, 2, 3)
    assert line.y[::2] == (1.5, 2.5)
    assert math.isnan(line.y[1])
    assert data.warnings == (f"{path}: 1 run(s) with no k value left out",)


def test_runs_sharing_an_x_value_in_a_line_are_warned_of(inputs: Inputs) -> None:
    """Leaving out --by when another key varies gives a warning that names --by."""
    data = read_sweep(inputs.sweep_csv, "generator.interval_ns", "success_rate")
    (warning,) = data.warnings
    assert "several runs share a value of generator.interval_ns" in warning
    assert "--by" in warning


def test_a_log_axis_refuses_values_not_above_zero(tmp_path: Path) -> None:
    """A log axis over a zero is an error naming the column, not a matplotlib warning."""
    path = write_csv(tmp_path / "s.csv", "k,v\n0,1\n1,2\n")
    with pytest.raises(PlotError, match=r"--logx: column 'k' has the value 0"):
        plot_sweep(read_sweep(path, "k", "v"), logx=True)
    plot_sweep(read_sweep(path, "k", "v"), logy=True)  # y is positive: fine


def test_a_non_numeric_axis_column_is_an_error_naming_the_line(tmp_path: Path) -> None:
    """A word in an axis column is refused, naming the option, column, cell and line."""
    path = write_csv(tmp_path / "s.csv", "k,v,kind\n1,2,napi\n2,3,fifo\n")
    with pytest.raises(PlotError, match=r"--y: column 'kind' is not numeric: 'napi' on line 2"):
        read_sweep(path, "k", "kind")
    with pytest.raises(PlotError, match=r"--x: column 'k' is not numeric: 'inf' on line 3"):
        read_sweep(write_csv(tmp_path / "t.csv", "k,v\n1,2\ninf,3\n"), "k", "v")


def test_the_png_is_800_by_450_and_the_same_bytes_whatever_the_users_style(
    inputs: Inputs, tmp_path: Path
) -> None:
    """The same input gives byte-identical PNGs of a fixed size, even under another rc."""
    data = read_sweep(inputs.sweep_csv, "generator.interval_ns", "success_rate", "generator.size")
    first = save_png(plot_sweep(data, logx=True), tmp_path / "a.png")
    with mpl.rc_context({"lines.linewidth": 7, "font.size": 20, "axes.grid": False}):
        second = save_png(plot_sweep(data, logx=True), tmp_path / "b.png")
    assert first.read_bytes() == second.read_bytes()
    assert b"Software" not in first.read_bytes()
    assert imread(first).shape[:2] == (450, 800)
