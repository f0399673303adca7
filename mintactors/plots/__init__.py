"""Pictures of a run, a sweep and an exploration, as deterministic PNG files.

* :func:`read_sweep` / :func:`plot_sweep`: a ``sweep.csv`` column against another,
  one line per value of a third;
* :func:`read_trace` / :func:`plot_trace`: a full ``trace.jsonl`` as a latency
  histogram and the RX ring and socket queue over virtual time;
* :func:`read_explore` / :func:`plot_explore`: an exploration's ``runs.csv`` as
  violations and distinct schedules against runs made.

Each ``read_*`` streams its file and returns the series to draw (errors are
:class:`PlotError`, one line naming the file); each ``plot_*`` returns a matplotlib
``Figure``; :func:`save_png` writes one atomically, the same bytes for the same
input. matplotlib is imported only when a figure is drawn. The command line is
``mintactors plot ...`` (:mod:`mintactors.plots.commands`; see ``docs/plots.md``).
"""

from mintactors.plots._common import DPI, PlotError, save_png
from mintactors.plots._explore import RUNS_COLUMNS, ExploreCurves, plot_explore, read_explore
from mintactors.plots._series import StepSeries
from mintactors.plots._sweep import SweepLine, SweepLines, plot_sweep, read_sweep
from mintactors.plots._trace import NEEDED_NOTES, TraceSeries, plot_trace, read_trace

__all__ = [
    "DPI",
    "ExploreCurves",
    "NEEDED_NOTES",
    "PlotError",
    "RUNS_COLUMNS",
    "StepSeries",
    "SweepLine",
    "SweepLines",
    "TraceSeries",
    "plot_explore",
    "plot_sweep",
    "plot_trace",
    "read_explore",
    "read_sweep",
    "read_trace",
    "save_png",
]
