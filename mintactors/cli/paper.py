"""``mintactors paper all|table1|table2|fig9``: the paper's evaluation on the model."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from mintactors.cli.sweep import add_executor_arguments
from mintactors.config import apply_overrides
from mintactors.config.costs import split_costs
from mintactors.costs import CostProfile, load_profile
from mintactors.errors import ConfigError
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


def cost_overrides(assignments: list[str]) -> tuple[dict[str, Any], CostProfile]:
    """``--cost FIELD=VALUE`` as cost overrides, checked, and the profile they give.

    Raises:
        ConfigError: an unknown field or a value the profile refuses (exit status 2).
    """
    name = str(PAPER_BASE["costs"]["profile"])
    values = apply_overrides({}, assignments)
    nested = [k for k, v in values.items() if isinstance(v, dict)]
    if nested:
        raise ConfigError("--cost", nested[0], "must be a cost field name, FIELD=VALUE")
    if "profile" in values:
        raise ConfigError(
            "--cost", "profile", f"the paper's runs use the {name} profile; change single fields"
        )
    _, overrides = split_costs({"costs": values}, "--cost")
    try:
        return overrides, load_profile(name, overrides)
    except ValueError as exc:
        raise ConfigError("--cost", ", ".join(overrides), str(exc)) from None


def cmd_paper(args: argparse.Namespace) -> int:
    """Run the chosen experiments; write their files only once all have succeeded."""
    scale = QUICK if args.quick else FULL
    which = args.experiment
    out = Path(args.out) if args.out else Path("out") / "paper"
    costs, profile = cost_overrides(list(args.cost or []))
    started = time.perf_counter()
    # The directory is claimed first, so an unwritable one fails before the runs.
    with claimed_directory(out):
        t1, t2, curves, workers = _measure(args, which, scale, costs)
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
    if costs:
        changed = ", ".join(f"{k}={v!r}" for k, v in costs.items())
        note += (
            f"  SENSITIVITY RUN: costs changed from the fitted profile ({changed});\n"
            "  every row is post-hoc, not fitted or predicted\n"
        )
    print(
        f"mintactors paper {which}: profile {profile.name} v{profile.version}, "
        f"{elapsed:.1f} s on {workers} worker(s)\n{note}"
    )
    print("\n\n".join(blocks))
    print("\noutputs: " + ", ".join(str(p) for p in written))
    return 0


def _measure(
    args: argparse.Namespace, which: str, scale: PaperScale, costs: dict[str, Any]
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
            t1, t2 = tables(executor, scale, costs)
        elif which == "table1":
            t1 = table1(executor, scale, costs)
        elif which == "table2":
            t2 = table2(executor, scale, costs)
        if which in ("all", "fig9"):
            if t2 is not None:
                per_packet = {r.size_kb: r.packet_ns for r in t2 if r.nic == "debug"}
            else:  # Figure 9's intervals are scaled by E2's per-packet time.
                rows = run_paper_points(
                    executor, e2_runs(scale, FIG9_SIZES), scale, costs, "E2 for figure 9"
                )
                per_packet = {
                    kb: float(r["packet_ns"]) for kb, r in zip(FIG9_SIZES, rows, strict=True)
                }
            curves = fig9(executor, per_packet, scale, costs)
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
    parser.add_argument(
        "--cost",
        action="append",
        metavar="FIELD=VALUE",
        help=(
            "change a field of the fitted cost profile for a sensitivity run "
            "(repeatable; VALUE as TOML, e.g. recv_copy_points=[[1514,93],[16384,1003]]); "
            "every row is then labelled post-hoc"
        ),
    )
    parser.set_defaults(func=cmd_paper)
