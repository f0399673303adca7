"""The ``mintactors plot ...`` subcommands (added to the CLI through ``add_commands``).

Each reads one output file of another command and writes one PNG::

    mintactors plot sweep SWEEP_CSV --x KEY --y COLUMN [--by KEY] [--logx] [--logy] -o OUT.png
    mintactors plot trace TRACE_JSONL -o OUT.png
    mintactors plot explore RUNS_CSV -o OUT.png

Exit status 0, or 2 for bad input (a missing, empty or malformed file, a column that
is not there or not numeric, a summary-level trace), with one line on stderr. The
PNG is written under a temporary name and renamed into place when complete, so a
failed command leaves no file and an existing OUT.png as it was.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from mintactors.plots._common import PlotError, plural, save_png
from mintactors.plots._explore import plot_explore, read_explore
from mintactors.plots._sweep import plot_sweep, read_sweep
from mintactors.plots._trace import plot_trace, read_trace
from mintactors.traces import TraceReader

__all__ = ["add_commands"]


def _warn(message: str) -> None:
    print(f"mintactors: warning: {message}", file=sys.stderr)


def _output(path: str) -> Path:
    """The -o path, checked before any input is read."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise PlotError(path, "-o: the output is a PNG image: give a file name ending in .png")
    if target.is_dir():
        raise PlotError(path, "-o: is a directory; give the name of the PNG file to write")
    return target


def cmd_sweep(args: argparse.Namespace) -> int:
    """``plot sweep``: a column of sweep.csv against another, a line per --by value."""
    out = _output(args.output)
    data = read_sweep(args.csv, args.x, args.y, args.by)
    for message in data.warnings:
        _warn(message)
    save_png(plot_sweep(data, logx=args.logx, logy=args.logy), out)
    print(f"{out}: {data.y} against {data.x}, {len(data.lines)} line(s), {data.points} points")
    return 0


def cmd_trace(args: argparse.Namespace) -> int:
    """``plot trace``: the latency histogram and the ring and socket queues over time."""
    out = _output(args.output)
    with TraceReader(args.trace, _warn) as reader:
        data = read_trace(reader)
    save_png(plot_trace(data), out)
    print(
        f"{out}: latency of {plural(len(data.latency_ns), 'packet')}; ring occupancy "
        f"({data.ring.changes} changes, high {data.ring.high}) and socket queue "
        f"({data.socket.changes} changes, high {data.socket.high}) over "
        f"{data.end_ns / 1000:g} us"
    )
    return 0


def cmd_explore(args: argparse.Namespace) -> int:
    """``plot explore``: violations and distinct schedules against runs made."""
    out = _output(args.output)
    data = read_explore(args.runs)
    save_png(plot_explore(data), out)
    print(
        f"{out}: {plural(data.runs, 'run')}, {plural(data.violations.value, 'violation')}, "
        f"{plural(data.distinct.value, 'distinct schedule')}"
    )
    return 0


def _output_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT.png",
        help="the PNG to write (replaced only once the new one is complete)",
    )


def add_commands(subparsers: Any) -> None:
    """Add ``plot`` and its subcommands to the CLI's subparsers."""
    plot = subparsers.add_parser(
        "plot",
        help="draw a sweep.csv, a trace.jsonl or an exploration's runs.csv as a PNG",
        description="Draw the output of sweep, run or explore as a PNG (see docs/plots.md). "
        "The same input gives the same PNG, byte for byte.",
    )
    sub = plot.add_subparsers(dest="plot_command", required=True)

    p = sub.add_parser(
        "sweep",
        help="one sweep.csv column against another, one line per value of a third",
        description="Plot COLUMN against KEY from a sweep.csv (mintactors sweep), "
        "markers joined by lines, one line per value of --by.",
    )
    p.add_argument("csv", metavar="SWEEP_CSV", help="sweep.csv written by mintactors sweep")
    p.add_argument(
        "--x", required=True, metavar="KEY", help="x axis: a swept key, e.g. generator.interval_ns"
    )
    p.add_argument(
        "--y",
        required=True,
        metavar="COLUMN",
        help="y axis: a results column, e.g. success_rate, latency_ns.p99",
    )
    p.add_argument("--by", metavar="KEY", help="one line per value of this column")
    p.add_argument("--logx", action="store_true", help="logarithmic x axis")
    p.add_argument("--logy", action="store_true", help="logarithmic y axis")
    _output_argument(p)
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser(
        "trace",
        help="latency histogram, ring occupancy and socket queue of a full trace",
        description="Three panels from a full-level trace.jsonl (mintactors run --trace full): "
        "the end-to-end latency histogram (us), RX ring occupancy and the socket receive "
        "queue over virtual time (us).",
    )
    p.add_argument("trace", metavar="TRACE_JSONL", help="trace.jsonl written at level full")
    _output_argument(p)
    p.set_defaults(func=cmd_trace)

    p = sub.add_parser(
        "explore",
        help="violations and distinct schedules against runs made",
        description="Cumulative violations and distinct schedules (fingerprints) against "
        "runs made, from the runs.csv of mintactors explore --out DIR.",
    )
    p.add_argument("runs", metavar="RUNS_CSV", help="runs.csv written by mintactors explore")
    _output_argument(p)
    p.set_defaults(func=cmd_explore)
