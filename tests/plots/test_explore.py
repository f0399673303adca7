"""plot explore: cumulative violations and distinct schedules against runs made."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.image import imread

from mintactors.plots import RUNS_COLUMNS, PlotError, plot_explore, read_explore, save_png

from .conftest import RUNS_HEADER, write_runs

# Listed out of order on purpose: the curves follow the run numbers.
ROWS = [
    "2,3,aa,violation,lost_wakeup,100,99,1255063",
    "0,1,aa,ok,,100,100,",
    "1,2,bb,ok,,100,100,",
    "4,5,cc,violation,conservation,100,98,2000",
    "3,4,bb,ok,,100,100,",
]


def test_the_reader_expects_exactly_the_explore_columns() -> None:
    """The columns are the ones mintactors explore writes to runs.csv."""
    assert ",".join(RUNS_COLUMNS) == RUNS_HEADER


def test_curves_count_violations_and_new_fingerprints_in_run_order(tmp_path: Path) -> None:
    """Violations and first-seen fingerprints accumulate over runs 1..N in run order."""
    data = read_explore(write_runs(tmp_path / "runs.csv", ROWS))
    assert data.runs == 5
    # run order: 0 aa ok, 1 bb ok, 2 aa violation, 3 bb ok, 4 cc violation
    assert data.violations.points(5) == ([0, 3, 5], [0, 1, 2])
    assert data.distinct.points(5) == ([0, 1, 2, 5], [0, 1, 2, 3])

    fig = plot_explore(data)
    (ax,) = fig.axes
    violations, distinct, ceiling = ax.get_lines()
    assert (list(violations.get_xdata()), list(violations.get_ydata())) == ([0, 3, 5], [0, 1, 2])
    assert (list(distinct.get_xdata()), list(distinct.get_ydata())) == ([0, 1, 2, 5], [0, 1, 2, 3])
    assert (list(ceiling.get_xdata()), list(ceiling.get_ydata())) == ([0, 5], [0, 5])
    assert violations.get_drawstyle() == distinct.get_drawstyle() == "steps-post"
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [
        "violations",
        "distinct schedules",
        "runs made (every schedule new)",
    ]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("runs made", "count (cumulative)")
    assert ax.get_title() == "5 runs: 2 violations, 3 distinct schedules"

    png = save_png(fig, tmp_path / "explore.png")
    assert imread(png).shape[:2] == (450, 800)
    again = save_png(plot_explore(read_explore(tmp_path / "runs.csv")), tmp_path / "again.png")
    assert png.read_bytes() == again.read_bytes()


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (["x,1,aa,ok,,1,1,"], "line 2: run 'x' is not a run number"),
        (["0,1,aa,ok,,1,1,", "0,2,bb,ok,,1,1,"], "line 3: run 0 again (first on line 2)"),
        (["0,1,aa,passed,,1,1,"], "line 2: verdict 'passed' is neither 'ok' nor 'violation'"),
        (["0,1,,ok,,1,1,"], "line 2: run 0 has no fingerprint"),
    ],
)
def test_a_bad_row_is_an_error_naming_its_line(
    tmp_path: Path, rows: list[str], problem: str
) -> None:
    """Bad run numbers, verdicts and fingerprints are refused with the line they are on."""
    path = write_runs(tmp_path / "runs.csv", rows)
    with pytest.raises(PlotError) as caught:
        read_explore(path)
    assert str(caught.value) == f"{path}: {problem}"


def test_a_csv_without_the_columns_names_what_is_missing(tmp_path: Path) -> None:
    """A CSV of another kind is refused, naming the missing columns and the expected ones."""
    path = tmp_path / "other.csv"
    path.write_text("run,seed,result\n0,1,ok\n")
    with pytest.raises(PlotError) as caught:
        read_explore(path)
    message = str(caught.value)
    assert "no column 'fingerprint'; no column 'verdict'" in message
    assert "is it an explore runs.csv?" in message
    assert message.endswith("columns: run, seed, result")
