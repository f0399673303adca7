"""The ``mintactors trace ...`` subcommands (added to the CLI through ``add_commands``).

Exit status as for every command (0 success, 2 bad input such as a missing or
malformed trace), except ``trace diff``: 0 equal, 1 different, 2 bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from mintactors.errors import MintactorsError
from mintactors.experiments.run import atomic_outputs
from mintactors.machine import Machine
from mintactors.traces._diff import diff_traces, render_diff
from mintactors.traces._events import (
    TABLE_HEADER,
    EventFilter,
    check_actor,
    check_kind,
    format_event,
    matching_lines,
    parse_time,
)
from mintactors.traces._packet import packet_timeline, render_timeline
from mintactors.traces._pcap import FRAME_CHOICES, FrameChoice, PcapRecorder, export_pcap
from mintactors.traces._perfetto import export_perfetto
from mintactors.traces._reader import TraceError, TraceReader
from mintactors.traces._summary import render_summary, summarise

__all__ = ["add_commands", "pcap_during_run"]


#: Warnings of the command under way, printed once it has succeeded.
_WARNINGS: list[str] = []


def _warn(message: str) -> None:
    if message not in _WARNINGS:
        _WARNINGS.append(message)


def _warnings_after(command: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """Run a trace command; print its warnings after it, unless it failed.

    A command that fails says why in one line; a warning about the same damaged
    trace (a truncated last line, say) would only be a second line about it.
    """

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        _WARNINGS.clear()
        try:
            code = command(args)
        except BaseException:
            _WARNINGS.clear()
            raise
        for message in _WARNINGS:
            print(f"mintactors: warning: {message}", file=sys.stderr)
        _WARNINGS.clear()
        return code

    return run


@contextlib.contextmanager
def _open(path: str) -> Iterator[TraceReader]:
    """Open a trace, with a progress bar on stderr when it is a terminal."""
    with TraceReader(path, _warn) as reader, reader.blamed():
        if not sys.stderr.isatty():
            yield reader
            return
        with tqdm(total=reader.size, unit="B", unit_scale=True, desc="reading", leave=False) as bar:

            def update(position: int) -> None:
                bar.n = position
                bar.refresh()

            reader.on_progress = update
            yield reader


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def _quiet_stdout() -> None:
    """The reader closed the pipe (``... | head``): drop what is left to write."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


@contextlib.contextmanager
def _stdout_may_close() -> Iterator[None]:
    """Let ``... | head`` close the pipe early without a traceback."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()


def cmd_summary(args: argparse.Namespace) -> int:
    """``trace summary``: time span, events, packet fates, IPIs, queues, latencies."""
    with _open(args.trace) as reader:
        summary = summarise(reader)
    if args.json:
        _print_json(summary.to_json())
    else:
        print(render_summary(summary))
    return 0


def _check_filter(args: argparse.Namespace) -> None:
    """Refuse a filter that can match nothing because it is mistyped or reversed."""
    problems = [check_actor(a) for a in args.actor or ()]
    problems += [check_kind(k) for k in args.kind or ()]
    if args.start is not None and args.end is not None and args.start > args.end:
        problems.append(f"--from {args.start} ns is after --to {args.end} ns")
    if args.limit is not None and args.limit < 0:
        problems.append(f"--limit must be at least 0, not {args.limit}")
    problem = next((p for p in problems if p), None)
    if problem:
        raise MintactorsError(f"trace events: {problem}")


def cmd_events(args: argparse.Namespace) -> int:
    """``trace events``: the events that pass the filter, as a table or JSON lines."""
    _check_filter(args)
    keep = EventFilter(
        actors=frozenset(args.actor or ()),
        kinds=frozenset(args.kind or ()),
        start_ns=args.start,
        end_ns=args.end,
        seq=args.seq,
        header=args.header,
    )
    shown = 0
    with _open(args.trace) as reader, _stdout_may_close():
        if not args.json:
            print(TABLE_HEADER)
        for _, raw, event in matching_lines(reader, keep):
            if args.limit is not None and shown >= args.limit:
                break
            print(raw.decode() if args.json else format_event(event))
            shown += 1
    return 0


def cmd_packet(args: argparse.Namespace) -> int:
    """``trace packet``: one packet's hops, with the time of each and the delta."""
    with _open(args.trace) as reader:
        level = reader.level
        timeline = packet_timeline(reader, args.seq)
    if timeline is None:
        hint = (
            " (a summary-level trace names only dropped packets; use --trace full)"
            if level != "full"
            else ""
        )
        raise TraceError(args.trace, None, f"packet {args.seq} does not appear in it{hint}")
    if args.json:
        _print_json(timeline.to_json())
    else:
        print(render_timeline(timeline))
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """``trace diff``: the first point where two traces diverge (exit 1 if they do)."""
    with _open(args.a) as a, _open(args.b) as b:
        diff = diff_traces(a, b, args.context)
    print(render_diff(diff, args.a, args.b))
    return 0 if diff.equal else 1


@contextlib.contextmanager
def _output_file(path: str, binary: bool) -> Iterator[IO[Any]]:
    """Where an export goes: ``-`` is stdout; a file is written atomically.

    A path that exists and is not a regular file (a FIFO, ``/dev/null``) is written
    directly rather than replaced.
    """
    if path == "-":
        stream: IO[Any] = sys.stdout.buffer if binary else sys.stdout
        yield stream
        stream.flush()
        return
    target = Path(path)
    try:
        with atomic_outputs(None) as outputs:
            raw = outputs.open_binary(target, create_parent=True)
            if binary:
                yield raw
            else:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
                yield text
                text.flush()
                text.detach()
    except OSError as exc:
        raise TraceError(path, None, f"cannot write: {exc.strerror or exc}") from None


def _report(path: str, message: str) -> None:
    """Say what an export wrote: on stdout, unless the export itself went there."""
    print(
        f"{'<stdout>' if path == '-' else path}: {message}",
        file=sys.stderr if path == "-" else sys.stdout,
    )


def cmd_export_perfetto(args: argparse.Namespace) -> int:
    """``trace export perfetto``: Chrome trace-event JSON for ui.perfetto.dev."""
    try:
        with _open(args.trace) as reader, _output_file(args.output, binary=False) as out:
            if reader.level != "full":
                _warn(
                    f"{args.trace} is a {reader.level}-level trace: only drops and violations "
                    "can be drawn; run with --trace full for slices, flows and counters"
                )
            stats = export_perfetto(reader, out)
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    _report(
        args.output,
        f"{stats.slices} slices, {stats.flows} IPI flows, {stats.counters} counter samples "
        f"({stats.events} events); open it at https://ui.perfetto.dev",
    )
    return 0


def cmd_export_pcap(args: argparse.Namespace) -> int:
    """``trace export pcap``: frames carried by the trace, as a nanosecond pcap."""
    try:
        with _open(args.trace) as reader, _output_file(args.output, binary=True) as out:
            frames = export_pcap(reader, out, args.frames)
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    which = "generated and delivered" if args.frames == "both" else args.frames
    _report(args.output, f"{frames} {which} frames (nanosecond pcap, virtual timestamps)")
    return 0


def pcap_during_run(
    path: Path, frames: FrameChoice = "delivered"
) -> Callable[[atomic_outputs, Machine], None]:
    """An ``extra_outputs`` hook for :func:`~mintactors.experiments.run.run_config`.

    It opens ``path`` with the run's other outputs (renamed into place only if the
    run succeeds) and records frames into it as the run makes them.
    """

    def hook(outputs: atomic_outputs, machine: Machine) -> None:
        try:
            stream = outputs.open_binary(path)
        except OSError as exc:
            raise TraceError(path, None, f"cannot write: {exc.strerror or exc}") from None
        recorder = PcapRecorder(stream)
        if frames in ("generated", "both"):
            machine.source.observe_generated(recorder.record)
        if frames in ("delivered", "both"):
            machine.app.on_receive = recorder.record

    return hook


def _time(text: str) -> int:
    try:
        return parse_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number of lines (0, 1, ...), not {text!r}")
    return value


def _seq(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a packet sequence number (0, 1, ...)")
    return value


def add_commands(subparsers: Any) -> None:
    """Add ``trace`` and its subcommands to the CLI's subparsers."""
    trace = subparsers.add_parser(
        "trace",
        help="inspect a trace.jsonl: summary, events, packet timelines, diff, exports",
        description="Read a trace.jsonl written by `mintactors run` (see docs/trace-format.md).",
    )
    sub = trace.add_subparsers(dest="trace_command", required=True)

    p = sub.add_parser("summary", help="what happened: packets, IPIs, handler runs, queues")
    p.add_argument("trace", help="trace.jsonl")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_warnings_after(cmd_summary))

    p = sub.add_parser("events", help="the events that match a filter")
    p.add_argument("trace", help="trace.jsonl")
    p.add_argument("--actor", action="append", help="only this actor (repeatable)")
    p.add_argument("--kind", action="append", help="only this event kind (repeatable)")
    p.add_argument(
        "--from",
        dest="start",
        type=_time,
        metavar="TIME",
        help="from this virtual time (e.g. 12000, 12us, 1.5ms)",
    )
    p.add_argument(
        "--to", dest="end", type=_time, metavar="TIME", help="up to this virtual time, inclusive"
    )
    p.add_argument("--seq", type=_seq, help="only events about this packet")
    p.add_argument("--limit", type=int, metavar="N", help="print at most N events")
    p.add_argument("--header", action="store_true", help="include the trace_header line")
    p.add_argument("--json", action="store_true", help="print the matching lines as JSON lines")
    p.set_defaults(func=_warnings_after(cmd_events))

    p = sub.add_parser("packet", help="one packet's life, hop by hop")
    p.add_argument("trace", help="trace.jsonl")
    p.add_argument("seq", type=_seq, help="the packet's sequence number")
    p.add_argument("--json", action="store_true", help="print the timeline as JSON")
    p.set_defaults(func=_warnings_after(cmd_packet))

    p = sub.add_parser("diff", help="the first point where two traces diverge")
    p.add_argument("a", help="first trace.jsonl")
    p.add_argument("b", help="second trace.jsonl")
    p.add_argument(
        "--context", type=_count, default=3, metavar="N", help="lines of context (default 3)"
    )
    p.set_defaults(func=_warnings_after(cmd_diff))

    export = sub.add_parser("export", help="write a trace for a standard viewer")
    formats = export.add_subparsers(dest="export_format", required=True)
    p = formats.add_parser("perfetto", help="Chrome trace-event JSON for ui.perfetto.dev")
    p.add_argument("trace", help="trace.jsonl")
    p.add_argument("-o", "--output", required=True, metavar="FILE.json", help="- for stdout")
    p.set_defaults(func=_warnings_after(cmd_export_perfetto))
    p = formats.add_parser("pcap", help="frames as a nanosecond pcap (Wireshark, tshark)")
    p.add_argument("trace", help="trace.jsonl written with simulation.trace_frames = true")
    p.add_argument("-o", "--output", required=True, metavar="FILE.pcap", help="- for stdout")
    p.add_argument(
        "--frames",
        choices=FRAME_CHOICES,
        default="delivered",
        help="delivered (default), generated, or both in time order",
    )
    p.set_defaults(func=_warnings_after(cmd_export_pcap))
