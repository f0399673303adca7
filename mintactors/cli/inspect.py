"""``mintactors inspect``: the machine at any instant of a recorded run, and watchpoints.

``mintactors inspect TRACE --at TARGET`` re-executes the run TRACE records up to
TARGET (a time, ``event:N``, ``packet:SEQ:STEP``, ``violation``), checks the
re-execution against the recorded trace on the way, and prints every component's
state there. ``--watch FIELD`` lists every change of one field; with ``--before
TARGET``, the last change at or before it.

Exit status: 0 success; 1 the re-executed run crashed before the target; 2 bad
input (a malformed target, a time past the end, a trace without header, an
unknown component or field); 3 the re-execution diverged from the recorded trace.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mintactors.cli._common import add_driver_trust_arguments
from mintactors.experiments.inspect import (
    PACKET_STEPS,
    TARGET_FORMS,
    InspectError,
    Seeker,
    TraceDiverged,
    last_change,
    watch,
)
from mintactors.experiments.inspect._render import (
    inspection_json,
    render_inspection,
    render_watch,
    watch_json,
)
from mintactors.traces import parse_time

__all__ = ["EXIT_DIVERGED", "add_commands", "cmd_inspect"]

#: Exit status when the re-execution does not reproduce the recorded trace.
EXIT_DIVERGED = 3


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def _check_options(args: argparse.Namespace) -> None:
    """One line for a combination of options that means nothing."""
    if (args.at is None) == (args.watch is None):
        raise InspectError("give --at TARGET (the machine then) or --watch FIELD (its changes)")
    if args.watch is None:
        for option, value in (("--before", args.before), ("--from", args.start)):
            if value is not None:
                raise InspectError(f"{option} goes with --watch FIELD")
        if args.to is not None:
            raise InspectError("--to goes with --watch FIELD")
    else:
        if args.component is not None:
            raise InspectError("--component goes with --at; a watch names its component")
        if args.before is not None and (args.start is not None or args.to is not None):
            raise InspectError("--before TARGET takes no --from/--to: it looks back from TARGET")


def cmd_inspect(args: argparse.Namespace) -> int:
    """``mintactors inspect``: re-execute a recorded run to a target; show it, or watch a field."""
    checkpoints: bool | Path = True
    if args.no_checkpoints:
        checkpoints = False
    elif args.checkpoints is not None:
        checkpoints = Path(args.checkpoints)
    try:
        _check_options(args)
        seeker = Seeker(
            args.trace,
            verify=not args.no_verify,
            checkpoints=checkpoints,
            trust=args.trust,
            driver_file=Path(args.driver) if args.driver else None,
        )
        for note in seeker.notes:
            print(f"note: {note}", file=sys.stderr)
        if args.watch is not None:
            return _watch(seeker, args)
        component = seeker.component(args.component) if args.component else None
        inspection = seeker.seek(args.at)
    except TraceDiverged as exc:
        print(f"mintactors: error: {exc}", file=sys.stderr)
        return EXIT_DIVERGED
    if args.json:
        _print_json(inspection_json(inspection, component))
    else:
        print(render_inspection(inspection, component))
    return 0


def _watch(seeker: Seeker, args: argparse.Namespace) -> int:
    if args.before is not None:
        report = last_change(seeker, args.watch, args.before)
    else:
        start = None
        if args.start is not None:
            try:
                start = parse_time(args.start)
            except ValueError as exc:
                raise InspectError(f"--from: {exc}") from None
        report = watch(seeker, args.watch, start_ns=start, end=args.to)
    if args.json:
        _print_json(watch_json(report))
    else:
        print(render_watch(report, last=args.before is not None))
    return 0


def add_commands(subparsers: Any) -> None:
    """Add ``inspect``."""
    parser = subparsers.add_parser(
        "inspect",
        help="the machine's state at any instant of a recorded run; watch a field's changes",
        description=cmd_inspect.__doc__,
        epilog=(
            f"TARGET is {TARGET_FORMS}. Packet steps: {', '.join(PACKET_STEPS)}. "
            "Exit status: 0 done, 1 the run crashed first, 2 bad input, 3 the "
            "re-execution diverged from the trace. See docs/inspect.md."
        ),
    )
    parser.add_argument("trace", help="a trace.jsonl written by run or explore")
    parser.add_argument("--at", metavar="TARGET", help="show every component's state there")
    parser.add_argument(
        "--component", metavar="NAME", help="with --at: only this component (ring, apic1, ...)"
    )
    parser.add_argument(
        "--watch", metavar="FIELD", help="list every change of FIELD (ring.rdt, apic1.irr, ...)"
    )
    parser.add_argument(
        "--before", metavar="TARGET", help="with --watch: only its last change at or before TARGET"
    )
    parser.add_argument(
        "--from", dest="start", metavar="TIME", help="with --watch: list changes from TIME on"
    )
    parser.add_argument(
        "--to", metavar="TARGET", help="with --watch: stop at TARGET (default: the run's end)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object, for tools")
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="do not check the re-execution against the recorded trace (tracing off: faster)",
    )
    parser.add_argument(
        "--checkpoints",
        metavar="DIR",
        help="the run's checkpoints (default: the checkpoints/ directory beside the trace)",
    )
    parser.add_argument(
        "--no-checkpoints", action="store_true", help="re-execute from the start, always"
    )
    add_driver_trust_arguments(parser)
    parser.set_defaults(func=cmd_inspect)
