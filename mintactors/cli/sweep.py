"""``mintactors sweep CONFIG``: run every point of a config's ``[sweep]`` and write a CSV."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mintactors.cli._common import add_config_arguments
from mintactors.experiments.sweep.executors import EXECUTOR_NAMES, default_jobs, make_executor
from mintactors.experiments.sweep.runner import sweep_into
from mintactors.experiments.sweep.spec import CONFIRM_RUNS, Sweep, SweepTooLarge, load_sweep

__all__ = [
    "add_commands",
    "add_executor_arguments",
    "cmd_sweep",
    "confirmed_sweep",
    "positive_int",
]


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """``--jobs``, ``--executor`` and ``--scheduler``, shared by sweep-based commands."""
    parser.add_argument(
        "--jobs",
        "-j",
        type=positive_int,
        default=None,
        metavar="N",
        help=f"worker processes (default: the number of cores, here {default_jobs()})",
    )
    parser.add_argument(
        "--executor",
        choices=EXECUTOR_NAMES,
        default="local",
        help="local worker processes (default) or a Dask distributed cluster",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="the Dask scheduler's address, e.g. tcp://10.0.0.5:8786 (with --executor dask)",
    )


def _ask(question: str) -> bool:
    """Ask on the terminal; anything but y/yes is no (as is end of input)."""
    try:
        answer = input(question)
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def confirmed_sweep(path: str, assignments: Sequence[str], yes: bool) -> Sweep:
    """Load a sweep; one of more than CONFIRM_RUNS runs needs ``yes`` or a "y" on the terminal.

    Raises:
        SweepTooLarge: too many runs and no confirmation (no terminal to ask on, or "no").
        ConfigError: anything else wrong with the sweep.
    """
    if yes:
        return load_sweep(path, assignments)
    try:
        return load_sweep(path, assignments, max_runs=CONFIRM_RUNS)
    except SweepTooLarge as exc:
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise
        if not _ask(f"{path}: {exc.runs:,} runs; check and run them all? [y/N] "):
            raise
    return load_sweep(path, assignments)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the sweep and write ``DIR/sweep.csv``."""
    sweep = confirmed_sweep(args.config, list(args.set or []), args.yes)
    out = Path(args.out) if args.out else Path("out") / Path(args.config).stem
    started = time.perf_counter()
    executor = make_executor(args.executor, args.jobs, args.scheduler)
    table, path = sweep_into(out, sweep, executor, save_runs=args.save_runs)
    workers = executor.workers
    elapsed = time.perf_counter() - started
    print(
        f"{args.config}: {len(table.rows)} runs, {len(table.columns)} columns, "
        f"{elapsed:.1f} s on {workers} worker(s) -> {path}"
    )
    return 0


def add_commands(subparsers: Any) -> None:
    """Register ``sweep``."""
    text = "run every point of a config's [sweep] (grid and/or runs) and write one CSV row each"
    parser = subparsers.add_parser("sweep", help=text, description=text)
    add_config_arguments(parser)
    add_executor_arguments(parser)
    parser.add_argument("--out", metavar="DIR", help="output directory (default: out/<config>)")
    parser.add_argument(
        "--save-runs",
        action="store_true",
        help="also keep each run's results.json (and trace) in DIR/runs/NNNN",
    )
    parser.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help=f"run a sweep of more than {CONFIRM_RUNS:,} runs without asking",
    )
    parser.set_defaults(func=cmd_sweep)
