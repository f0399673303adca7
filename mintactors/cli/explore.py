"""The ``explore`` and ``replay`` commands.

``mintactors explore CONFIG --runs N [--policy random|pct] [--jitter SPEC]`` runs N
seeded variations of CONFIG across worker processes (or a Dask cluster, with
``--executor dask --scheduler ADDRESS``) and stops at the first oracle violation:
it prints how many distinct schedules the runs tried (and, for ``pct``, the PCT
bound), the seed, the oracle, a window of the trace around the violation, the
``mintactors replay`` command that reproduces it and the ``mintactors inspect ...
--at violation`` command that shows the machine there, and exits 1; it exits 0
when every run passed. ``--until-distinct N`` explores until N distinct schedules
have been tried. ``--out DIR`` gets ``runs.csv``, one row per run.

``mintactors replay TRACE`` reruns the run a trace records and exits 0 when the new
trace is byte-identical, 1 (printing the first differing line) when it is not. A
trace that embeds driver code is rerun only with ``--trust`` or ``--driver FILE``
(a local copy with the same SHA-256); otherwise it exits 2 saying so.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from mintactors.cli._common import add_config_arguments, add_driver_trust_arguments
from mintactors.cli.sweep import add_executor_arguments
from mintactors.config import Config, load_config
from mintactors.errors import ConfigError
from mintactors.experiments.explore.coverage import PctBound
from mintactors.experiments.explore.explore import (
    ExploreOutcome,
    RunVerdict,
    Variation,
    explore,
    jitter_assignment,
    variations,
)
from mintactors.experiments.explore.replay import replay_trace
from mintactors.experiments.progress import Progress
from mintactors.experiments.sweep.executors import Executor, make_executor
from mintactors.oracles import ORACLES, Violation
from mintactors.runtime import policy_names
from mintactors.traces import field_text

__all__ = ["add_commands", "cmd_explore", "cmd_replay", "coverage_lines", "trace_window"]

#: Notes shown before and after the violation in the trace window, by default.
WINDOW_BEFORE = 24
WINDOW_AFTER = 8
#: With --until-distinct N and no --runs, at most this many runs per schedule asked for.
RUNS_PER_DISTINCT = 10


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


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _window(value: str) -> int:
    try:
        lines = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of lines, not {value!r}") from None
    if lines < 0:
        raise argparse.ArgumentTypeError(f"must be at least 0, not {lines}")
    return lines


def _plan_size(args: argparse.Namespace) -> int:
    """The runs the plan holds: ``--runs``, or the cap ``--until-distinct`` implies."""
    if args.runs is not None:
        return int(args.runs)
    if args.until_distinct is None:
        raise ConfigError("explore", "", "--runs N is needed (or --until-distinct N)")
    return int(args.until_distinct) * RUNS_PER_DISTINCT


def _pct_overrides(args: argparse.Namespace) -> list[str]:
    extra = []
    if args.pct_depth is not None:
        extra.append(f"simulation.pct_depth={args.pct_depth}")
    if args.pct_steps is not None:
        extra.append(f"simulation.pct_steps={args.pct_steps}")
    if extra and args.policy != "pct":
        raise ConfigError(
            "explore", "", "--pct-depth and --pct-steps tune the pct policy: add --policy pct"
        )
    return extra


def _where(executor: Executor, args: argparse.Namespace) -> str:
    if args.executor == "dask":
        threads = executor.workers
        plural = "s" * (threads != 1)
        return f"on the Dask cluster at {args.scheduler} ({threads} worker thread{plural})"
    jobs = executor.workers
    return f"{jobs} worker process{'es' if jobs > 1 else ''}"


def coverage_lines(outcome: ExploreOutcome, until_distinct: int | None) -> list[str]:
    """What the runs covered: distinct schedules, the stop, and PCT's bound."""
    coverage = outcome.coverage
    runs, distinct = coverage.runs, coverage.distinct
    lines = [
        f"Schedules: {runs} run{'s' * (runs != 1)} tried {distinct} distinct "
        f"schedule{'s' * (distinct != 1)}; {coverage.repeats} repeated one already seen."
    ]
    if until_distinct is not None:
        if outcome.stopped == "distinct":
            lines.append(
                f"Reached the {until_distinct} distinct schedules asked for at run {runs - 1}."
            )
        elif outcome.stopped == "plan":
            lines.append(
                f"Stopped at the cap of {runs} runs with {distinct} of the {until_distinct} "
                "distinct schedules asked for."
            )
        else:
            lines.append(
                f"Stopped at the violation with {distinct} of the {until_distinct} "
                "distinct schedules asked for."
            )
    bound = outcome.pct
    if bound is not None:
        lines.extend(_pct_lines(bound))
    return lines


def _pct_lines(bound: PctBound) -> list[str]:
    d, n, k, most = bound.depth, bound.threads, bound.steps, bound.most_decisions
    if n == 0:
        return ["PCT: no run met a tie, so there was one order to take and every run took it."]
    if most < k:
        fit = (
            f"the runs made at most {most}, so change points past {most} never fired: "
            f"--pct-steps {max(most, d - 1)} fits k to these runs"
        )
    elif most > k:
        fit = (
            f"the runs made up to {most}, so the bound covers bugs whose ordering points "
            f"lie in the first {k}: --pct-steps {most} covers them all"
        )
    else:
        fit = "as many as the longest run made"
    return [
        f"PCT, depth d = {d}: n = {n} (the most sending actors that met in ties in one run), "
        f"k = {k} (the tie decisions its change points fall among; {fit}).",
        f"One run finds a bug of depth {d} with probability at least 1/(n k^(d-1)) = "
        f"{bound.per_run:.3g}; {bound.runs} run{'s' * (bound.runs != 1)} find it with "
        f"probability at least {bound.found:.3g}.",
    ]


def _plan(args: argparse.Namespace, config: Config) -> tuple[list[Variation], int]:
    """The runs to make, and the first seed."""
    runs = _plan_size(args)
    first_seed = args.seed if args.seed is not None else config.simulation.seed
    if not 0 <= first_seed <= (1 << 64) - runs:
        raise ConfigError(
            "--seed",
            str(first_seed),
            f"the {runs} runs take seeds {first_seed}..{first_seed + runs - 1}, "
            "and a seed is from 0 to 2^64 - 1",
        )
    jitter = jitter_assignment(config, args.jitter) if args.jitter is not None else None
    plan = variations(runs, first_seed, args.policy, jitter, _pct_overrides(args))
    # The overrides every run shares (policy, PCT tuning) are checked before any run.
    load_config(args.config, [*(args.set or []), *plan[0].assignments])
    return plan, first_seed


def _explore_with_progress(
    args: argparse.Namespace, plan: list[Variation], executor: Executor, out: Path
) -> tuple[ExploreOutcome, float]:
    """Explore with a progress bar; the outcome and the seconds it took."""
    failures = 0
    finished = 0
    schedules: set[str] = set()  # only its size is shown

    with Progress("explore", len(plan), "runs") as bar:

        def progress(verdict: RunVerdict) -> None:
            nonlocal failures, finished
            failures += verdict.violation is not None
            finished += 1
            schedules.add(verdict.fingerprint)
            bar.update(finished, f"violations {failures}, schedules {len(schedules)}")

        started = time.monotonic()
        outcome = explore(
            args.config,
            list(args.set or []),
            plan,
            executor=executor,
            out_dir=out,
            progress=progress,
            until_distinct=args.until_distinct,
        )
    return outcome, time.monotonic() - started


def cmd_explore(args: argparse.Namespace) -> int:
    """``mintactors explore``: seeded variations until the first oracle violation."""
    config = load_config(args.config, list(args.set or []))
    plan, first_seed = _plan(args, config)
    out = Path(args.out) if args.out else Path("out") / "explore" / Path(args.config).stem
    executor = make_executor(args.executor, args.jobs, args.scheduler)
    until = args.until_distinct
    runs = len(plan)
    how_many = f"{runs} runs"
    if until is not None:
        how_many = f"until {until} distinct schedules (at most {runs} runs)"
    jitter_text = f", IPI latency jitter {args.jitter} ns" if args.jitter else ""
    print(
        f"explore {args.config}: {how_many} from seed {first_seed}, "
        f"policy {args.policy}{jitter_text}, {_where(executor, args)}",
        flush=True,
    )
    outcome, elapsed = _explore_with_progress(args, plan, executor, out)
    if args.verbose:
        for verdict in outcome.verdicts:
            status = "ok" if verdict.violation is None else f"VIOLATION {verdict.violation.oracle}"
            print(
                f"  run {verdict.run:>4}  seed {verdict.seed:>6}  "
                f"schedule {verdict.fingerprint}  {status}"
            )
    for line in coverage_lines(outcome, until):
        print(line)
    made = len(outcome.verdicts)
    rate = f" ({made / elapsed:.1f} runs/s)" if elapsed > 0 else ""
    timing = f"mintactors: explored {made} run{'s' * (made != 1)} in {elapsed:.1f} s{rate}."
    if outcome.failing is None:
        print(f"All {made} runs passed every oracle ({', '.join(ORACLES)}).")
        print(timing, file=sys.stderr)
        return 0
    _print_violation(outcome, args.window, config)
    print(timing, file=sys.stderr)
    return 1


def _print_violation(outcome: ExploreOutcome, window: int, config: Config) -> None:
    """The failing run: its violation, the trace window, the command that replays it."""
    failing = outcome.failing
    assert failing is not None
    assert failing.violation is not None
    assert outcome.recorded is not None
    violation = failing.violation
    trace = outcome.recorded / "trace.jsonl"
    print(
        f"run {failing.run} (seed {failing.seed}) violated {violation.oracle}, "
        f"after {failing.run} runs that passed:"
    )
    print(f"  {violation.message}")
    print(f"  began at t = {violation.t_ns} ns")
    print()
    print(f"trace window (component notes; the full trace is {trace}):")
    for line in trace_window(trace, violation, window, WINDOW_AFTER):
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
        "--runs",
        type=_positive,
        help="how many variations to run (at most, with --until-distinct)",
    )
    explore_parser.add_argument(
        "--until-distinct",
        type=_positive,
        metavar="N",
        help="stop once the runs have tried N distinct schedules (or at --runs; "
        f"without --runs at {RUNS_PER_DISTINCT} N runs)",
    )
    explore_parser.add_argument(
        "--policy",
        default="random",
        choices=policy_names(),
        help="tie-break policy of every run (default: random)",
    )
    explore_parser.add_argument(
        "--pct-depth",
        type=_positive,
        metavar="D",
        help="with --policy pct: the bug depth d it aims at (simulation.pct_depth; default 3)",
    )
    explore_parser.add_argument(
        "--pct-steps",
        type=_positive,
        metavar="K",
        help="with --policy pct: the tie decisions k its change points fall among "
        "(simulation.pct_steps; default 2000)",
    )
    explore_parser.add_argument(
        "--jitter",
        metavar="SPEC",
        help="vary the IPI latency: N (uniform +-N ns around its mean) or normal:SD",
    )
    explore_parser.add_argument(
        "--seed", type=int, help="seed of the first run (default: the config's simulation.seed)"
    )
    add_executor_arguments(explore_parser)
    explore_parser.add_argument(
        "--out",
        help="where runs.csv and the failing run go (default: out/explore/<config name>)",
    )
    explore_parser.add_argument(
        "--window",
        type=_window,
        default=WINDOW_BEFORE,
        metavar="N",
        help=f"trace notes shown before the violation (default {WINDOW_BEFORE})",
    )
    explore_parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="list each run's verdict and schedule, in seed order",
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
