"""The recorded trace, as ``inspect`` needs it: its header, its end, and where a line is.

Nothing here decodes the whole trace. The end is read from the file's tail, and
finding a line or a packet's hop reads lines as bytes and decodes only the ones it
wants, so locating a target in a trace of millions of lines costs one pass of
reading, not one of JSON decoding.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs

from mintactors.experiments.inspect._targets import InspectError
from mintactors.traces import TraceReader, packet_seq

__all__ = ["LineSpot", "RecordedTrace", "find_hop", "locate_line", "open_recorded"]

#: A delivery line has the sender; a note may not have a field of that name.
_DELIVERY = b'"src":"'
_TAIL = 1 << 16


@attrs.frozen
class RecordedTrace:
    """A recorded trace: where it is, its header, and how it ends.

    Attributes:
        path: the file.
        header: the decoded first line.
        level: ``summary`` or ``full``.
        end_ns: the time of its last line (``run_end`` when the run finished).
        finished: it has its ``run_end`` line.
    """

    path: Path
    header: dict[str, Any]
    level: str
    end_ns: int
    finished: bool


@attrs.frozen
class LineSpot:
    """One line of the recorded trace and what comes with it.

    Attributes:
        line: its number (1 is the header).
        event: the decoded line.
        deliveries: deliveries written at or before it (full traces: the number of
            deliveries after which the machine is as the trace stands at this line).
    """

    line: int
    event: dict[str, Any]
    deliveries: int


def _last_event(path: Path) -> dict[str, Any] | None:
    """The last line of the file that decodes (a killed run leaves a cut-off one)."""
    with path.open("rb") as stream:
        stream.seek(0, os.SEEK_END)
        size = stream.tell()
        stream.seek(max(0, size - _TAIL))
        lines = stream.read().splitlines()
    for raw in reversed(lines):
        try:
            event = json.loads(raw)
        except ValueError:
            continue
        if isinstance(event, dict) and isinstance(event.get("t_ns"), int):
            return event
    return None


def open_recorded(path: Path) -> RecordedTrace:
    """The recorded trace at ``path``, checked to be a mintactors trace with a config.

    Raises:
        TraceError: not a trace, or of a newer format.
        InspectError: its header has no config, so it cannot be re-executed.
    """
    with TraceReader(path) as reader:
        header = reader.header
        level = reader.level
    for key in ("config", "config_source"):
        if key not in header:
            raise InspectError(
                f"{path}: the trace header has no {key!r}, so the run cannot be re-executed"
            )
    last = _last_event(path)
    end_ns = int(last["t_ns"]) if last is not None else 0
    finished = last is not None and last.get("kind") == "run_end"
    return RecordedTrace(Path(path), header, level, end_ns, finished)


def locate_line(recorded: RecordedTrace, line: int) -> LineSpot:
    """Line ``line`` of the trace and how many deliveries precede it (inclusive).

    Raises:
        InspectError: the trace has fewer lines.
    """
    deliveries = total = 0
    with recorded.path.open("rb") as stream:
        for total, raw in enumerate(stream, 1):
            if _DELIVERY in raw:
                deliveries += 1
            if total == line:
                return LineSpot(line, json.loads(raw), deliveries)
    raise InspectError(f"event:{line}: the trace has {total} lines (choose one of 1 to {total})")


def find_hop(recorded: RecordedTrace, seq: int, step: str) -> LineSpot:
    """The line where packet ``seq`` made hop ``step`` (its first such note).

    Raises:
        InspectError: it has no such line (the hops the packet has are listed).
    """
    wanted = f'"kind":"{step}"'.encode()
    deliveries = 0
    hops: list[str] = []
    with recorded.path.open("rb") as stream:
        for number, raw in enumerate(stream, 1):
            if _DELIVERY in raw:
                deliveries += 1
                continue
            if b'"seq":' not in raw or number == 1:
                continue
            event = json.loads(raw)
            if packet_seq(event) != seq:
                continue
            if wanted in raw:
                return LineSpot(number, event, deliveries)
            hops.append(str(event["kind"]))
    if not hops:
        raise InspectError(f"packet:{seq}:{step}: no line of the trace is about packet {seq}")
    level = " (a summary trace has only drops; record the run with --trace full)"
    missing = f"packet {seq} has no {step} line"
    seen = ", ".join(dict.fromkeys(hops))
    raise InspectError(
        f"packet:{seq}:{step}: {missing}; its hops here: {seen}"
        + (level if recorded.level != "full" else "")
    )
