"""The ``explore`` and ``replay`` commands.

``mintactors explore CONFIG --runs N [--policy random|pct] [--jitter SPEC]`` runs N
seeded variations of CONFIG across worker processes and stops at the first oracle
violation: it prints the seed, the oracle, a window of the trace around the
violation, the ``mintactors replay`` command that reproduces it and the ``mintactors
inspect ... --at violation`` command that shows the machine there, and exits 1; it
exits 0 when every run passed.

``mintactors replay TRACE`` reruns the run a trace records and exits 0 when the new
trace is byte-identical, 1 (printing the first differing line) when it is not. A
trace that embeds driver code is rerun only with ``--trust`` or ``--driver FILE``
(a local copy with the same SHA-256); otherwise it exits 2 saying so.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from mintactors.cli._common import add_config_arguments, add_driver_trust_arguments
from mintactors.config import Config, load_config
from mintactors.errors import ConfigError
from mintactors.experiments.explore.explore import (
    RunVerdict,
    explore,
    jitter_assignment,
    variations,
)
from mintactors.experiments.explore.replay import replay_trace
from mintactors.experiments.progress import Progress
from mintactors.oracles import ORACLES, Violation
from mintactors.runtime import policy_names
from mintactors.traces import field_text

__all__ = ["add_commands", "cmd_explore", "cmd_replay", "trace_window"]

#: Notes shown before and after the violation in the trace window, by default.
WINDOW_BEFORE = 24
WINDOW_AFTER = 8


def _format_line(event: dict[str, Any]) -> str:
    skip = {"t_ns", "actor", "kind"}
    # Strings quoted (handler="driver"); vectors and addresses in hex, as every tool.
    fields = " ".join(
        f"{k}={json.dumps(v) if isinstance(v, str) else field_text(k, v)}"
        for k, v in event.items()
        if k not in skip
    )
    return f"{event['t_ns']:>12}  {event['actor']:<10} {event['kind']:<18} {fields}".rstrip()


def trace_window(
    trace: Path, violation: Violation, before: int = WINDOW_BEFORE, after: int = WINDOW_AFTER
) -> list[str]:
    """The component notes around a violation's start, with a marker line at it.

    Message deliveries (lines with a ``src``) are left out: the notes say what each
    component did, which is what a reader needs first; the full trace has the rest.
    """
    earlier: list[str] = []
    later: list[str] = []
    with trace.open(encoding="utf-8") as stream:
        next(stream, None)  # the header
        for line in stream:
            event = json.loads(line)
            if "src" in event or event["kind"] == "run_end":
                continue
            if event["t_ns"] <= violation.t_ns:
                earlier.append(_format_line(event))
                if len(earlier) > before:
                    earlier.pop(0)
            else:
                later.append(_format_line(event))
                if len(later) >= after:
                    break
    marker = f">> {violation.t_ns:>9}  {violation.oracle}: {violation.message}"
    return [*earlier, marker, *later]


def _cores() -> int:
    """Cores this process may run on (all of them where affinity is unknown)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _jobs(value: str) -> int:
    jobs = int(value)
    if jobs < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return jobs


def _runs(value: str) -> int:
    runs = int(value)
    if runs < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return runs


def _window(value: str) -> int:
    try:
        lines = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of lines, not {value!r}") from None
    if lines < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, not {lines}")
    return lines


def cmd_explore(args: argparse.Namespace) -> int:
    """``mintactors explore``: seeded variations until the first oracle violation."""
    base = list(args.set or [])
    config = load_config(args.config, base)
    first_seed = args.seed if args.seed is not None else config.simulation.seed
    if not 0 <= first_seed <= (1 << 64) - args.runs:
        raise ConfigError(
            "--seed",
            str(first_seed),
            f"the {args.runs} runs take seeds {first_seed}..{first_seed + args.runs - 1}, "
            "and a seed is from 0 to 2^64 - 1",
        )
    jitter = jitter_assignment(config, args.jitter) if args.jitter is not None else None
    plan = variations(args.runs, first_seed, args.policy, jitter)
    out = Path(args.out) if args.out else Path("out") / "explore" / Path(args.config).stem
    jitter_text = f", IPI latency jitter {args.jitter} ns" if args.jitter else ""
    jobs = args.jobs
    print(
        f"explore {args.config}: {args.runs} runs from seed {first_seed}, "
        f"policy {args.policy}{jitter_text}, {jobs} worker process{'es' if jobs > 1 else ''}",
        flush=True,
    )
    failures = 0
    finished = 0

    with Progress("explore", args.runs, "runs") as bar:

        def progress(verdict: RunVerdict) -> None:
            nonlocal failures, finished
            failures += verdict.violation is not None
            finished += 1
            bar.update(finished, f"violations {failures}")

        started = time.monotonic()
        outcome = explore(args.config, base, plan, jobs=jobs, out_dir=out, progress=progress)
    elapsed = time.monotonic() - started
    if args.verbose:
        for verdict in outcome.verdicts:
            status = "ok" if verdict.violation is None else f"VIOLATION {verdict.violation.oracle}"
            print(f"  run {verdict.run:>4}  seed {verdict.seed:>6}  {status}")
    failing = outcome.failing
    made = len(outcome.verdicts)
    timing = f"mintactors: explored {made} run{'s' * (made != 1)} in {elapsed:.1f} s."
    if failing is None or failing.violation is None:
        print(f"All {made} runs passed every oracle ({', '.join(ORACLES)}).")
        print(timing, file=sys.stderr)
        return 0
    violation = failing.violation
    assert outcome.recorded is not None
    trace = outcome.recorded / "trace.jsonl"
    print(
        f"run {failing.run} (seed {failing.seed}) violated {violation.oracle}, "
        f"after {failing.run} runs that passed:"
    )
    print(f"  {violation.message}")
    print(f"  began at t = {violation.t_ns} ns")
    print()
    print(f"trace window (component notes; the full trace is {trace}):")
    for line in trace_window(trace, violation, args.window, WINDOW_AFTER):
        print(f"  {line}")
    print()
    driver = _driver_option(config)
    print("To reproduce it, run:")
    print(f"  mintactors replay {shlex.quote(str(trace))}{driver}")
    print("To see the machine where it broke, run:")
    print(f"  mintactors inspect {shlex.quote(str(trace))} --at violation{driver}")
    print(
        f"Both rerun run {failing.run} (seed {failing.seed}) from its trace: replay checks "
        "that the new trace is the same, byte for byte, and inspect shows every "
        "component's state at the violation."
    )
    print(timing, file=sys.stderr)
    return 1


def _driver_option(config: Config) -> str:
    """``--driver PATH`` for a config whose driver is a file: replay then runs that file."""
    source = config.driver.source
    if source is None or source.path is None:
        return ""
    path = Path(source.path)
    if not path.is_absolute() and config.base_dir is not None:
        path = config.base_dir / path
    return f" --driver {shlex.quote(str(path))}"


def cmd_replay(args: argparse.Namespace) -> int:
    """``mintactors replay``: rerun a trace and check it is reproduced byte for byte."""
    trace = Path(args.trace)
    out = Path(args.out) if args.out else None
    if out is not None and out.resolve() == trace.resolve().parent:
        raise ConfigError("--out", str(out), "must not be the recorded trace's own directory")
    driver = Path(args.driver) if args.driver else None
    outcome = replay_trace(trace, out, trust=args.trust, driver_file=driver)
    if outcome.version_note:
        print(f"note: {outcome.version_note}", file=sys.stderr)
    divergence = outcome.divergence
    if divergence is None:
        print(f"{trace}: replayed; the new trace is byte-identical ({outcome.lines} lines)")
        return 0
    print(f"{trace}: replay DIVERGED at line {divergence.line}")
    if divergence.header_fields:
        print(f"  header fields that differ: {', '.join(divergence.header_fields)}")
    print(f"  recorded: {divergence.recorded if divergence.recorded is not None else '<end>'}")
    print(f"  replayed: {divergence.replayed if divergence.replayed is not None else '<end>'}")
    print(f"new trace: {outcome.new_trace}")
    return 1


def add_commands(subparsers: Any) -> None:
    """Add ``explore`` and ``replay`` to the ``mintactors`` command line."""
    explore_parser = subparsers.add_parser(
        "explore",
        help="run seeded variations of a config until an oracle is violated",
        description=cmd_explore.__doc__,
    )
    add_config_arguments(explore_parser)
    explore_parser.add_argument(
        "--runs", type=_runs, required=True, help="how many variations to run"
    )
    explore_parser.add_argument(
        "--policy",
        default="random",
        choices=policy_names(),
        help="tie-break policy of every run (default: random)",
    )
    explore_parser.add_argument(
        "--jitter",
        metavar="SPEC",
        help="vary the IPI latency: N (uniform +-N ns around its mean) or normal:SD",
    )
    explore_parser.add_argument(
        "--seed", type=int, help="seed of the first run (default: the config's simulation.seed)"
    )
    explore_parser.add_argument(
        "--jobs",
        type=_jobs,
        default=_cores(),
        help="worker processes (default: one per core)",
    )
    explore_parser.add_argument(
        "--out", help="where the failing run is recorded (default: out/explore/<config name>)"
    )
    explore_parser.add_argument(
        "--window",
        type=_window,
        default=WINDOW_BEFORE,
        metavar="N",
        help=f"trace notes shown before the violation (default {WINDOW_BEFORE})",
    )
    explore_parser.add_argument(
        "-v", "--verbose", action="store_true", help="list every run's verdict, in seed order"
    )
    explore_parser.set_defaults(func=cmd_explore)

    replay_parser = subparsers.add_parser(
        "replay",
        help="rerun a recorded trace and check it is reproduced byte for byte",
        description=cmd_replay.__doc__,
    )
    replay_parser.add_argument("trace", help="a trace.jsonl written by run or explore")
    replay_parser.add_argument(
        "--out", help="keep the new trace and results here (default: a temporary directory)"
    )
    add_driver_trust_arguments(replay_parser)
    replay_parser.set_defaults(func=cmd_replay)
