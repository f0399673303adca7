"""``mintactors paper all|table1|table2|fig9``: the paper's evaluation on the model."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from mintactors.cli.sweep import add_executor_arguments
from mintactors.costs import load_profile
from mintactors.experiments.paper.data import FIG9_SIZES
from mintactors.experiments.paper.fig9 import Fig9Point, Fig9Summary, fig9
from mintactors.experiments.paper.measure import (
    FULL,
    PAPER_BASE,
    QUICK,
    PaperScale,
    Table1Row,
    Table2Row,
    e2_runs,
    run_paper_points,
    table1,
    table2,
    tables,
)
from mintactors.experiments.paper.output import (
    fig9_text,
    table1_text,
    table2_text,
    write_fig9,
    write_table1,
    write_table2,
)
from mintactors.experiments.run import atomic_outputs, claimed_directory
from mintactors.experiments.sweep.executors import make_executor

__all__ = ["EXPERIMENTS", "add_commands", "cmd_paper"]

EXPERIMENTS = ("all", "table1", "table2", "fig9")


def cmd_paper(args: argparse.Namespace) -> int:
    """Run the chosen experiments; write their files only once all have succeeded."""
    scale = QUICK if args.quick else FULL
    which = args.experiment
    out = Path(args.out) if args.out else Path("out") / "paper"
    profile = load_profile(str(PAPER_BASE["costs"]["profile"]))
    started = time.perf_counter()
    # The directory is claimed first, so an unwritable one fails before the runs.
    with claimed_directory(out):
        t1, t2, curves, workers = _measure(args, which, scale)
        elapsed = time.perf_counter() - started
        written: list[Path] = []
        blocks: list[str] = []
        # One block: every file is in place, or none is.
        with atomic_outputs(out) as outputs:
            if t1 is not None:
                written.append(write_table1(out, t1, outputs))
                blocks.append(table1_text(t1, scale.sends, scale.window))
            if t2 is not None:
                written.append(write_table2(out, t2, outputs))
                blocks.append(table2_text(t2))
            if curves is not None:
                written += write_fig9(out, *curves, outputs)
                blocks.append(fig9_text(curves[1], scale.cycle))
    note = "  REDUCED RUN (--quick): not the paper's counts\n" if args.quick else ""
    print(
        f"mintactors paper {which}: profile {profile.name} v{profile.version}, "
        f"{elapsed:.1f} s on {workers} worker(s)\n{note}"
    )
    print("\n\n".join(blocks))
    print("\noutputs: " + ", ".join(str(p) for p in written))
    return 0


def _measure(
    args: argparse.Namespace, which: str, scale: PaperScale
) -> tuple[
    list[Table1Row] | None,
    list[Table2Row] | None,
    tuple[list[Fig9Point], list[Fig9Summary]] | None,
    int,
]:
    """Run the chosen experiments' points on the chosen executor."""
    t1: list[Table1Row] | None = None
    t2: list[Table2Row] | None = None
    curves: tuple[list[Fig9Point], list[Fig9Summary]] | None = None
    with make_executor(args.executor, args.jobs, args.scheduler) as executor:
        workers = executor.workers
        if which == "all":
            t1, t2 = tables(executor, scale)
        elif which == "table1":
            t1 = table1(executor, scale)
        elif which == "table2":
            t2 = table2(executor, scale)
        if which in ("all", "fig9"):
            if t2 is not None:
                per_packet = {r.size_kb: r.packet_ns for r in t2 if r.nic == "debug"}
            else:  # Figure 9's intervals are scaled by E2's per-packet time.
                rows = run_paper_points(
                    executor, e2_runs(scale, FIG9_SIZES), scale, label="E2 for figure 9"
                )
                per_packet = {
                    kb: float(r["packet_ns"]) for kb, r in zip(FIG9_SIZES, rows, strict=True)
                }
            curves = fig9(executor, per_packet, scale)
    return t1, t2, curves, workers


def add_commands(subparsers: Any) -> None:
    """Register ``paper``."""
    text = "reproduce the paper's Table 1, Table 2 and Figure 9 on the model"
    parser = subparsers.add_parser("paper", help=text, description=text)
    parser.add_argument("experiment", choices=EXPERIMENTS, help="which experiment(s) to run")
    parser.add_argument("--out", metavar="DIR", help="output directory (default: out/paper)")
    add_executor_arguments(parser)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a reduced run for smoke tests (300 sends, 800-packet cycles); not the paper's",
    )
    parser.set_defaults(func=cmd_paper)
