"""``trace events``: the lines of a trace that match a filter, as a table or JSON lines."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

from mintactors import messages, names
from mintactors.notes import NoteKind
from mintactors.traces._hops import packet_seq
from mintactors.traces._reader import Line, TraceReader

__all__ = [
    "KNOWN_KINDS",
    "TABLE_HEADER",
    "EventFilter",
    "check_actor",
    "check_kind",
    "field_text",
    "format_event",
    "matching_lines",
    "parse_time",
]

_TIME = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*(ns|us|ms|s)?\s*$")
_UNIT_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_FIXED = ("t_ns", "actor", "kind", "src")


def parse_time(text: str) -> int:
    """A virtual time from the command line: ``12000``, ``12000ns``, ``12us``, ``1.5ms``.

    Raises:
        ValueError: not a non-negative number with an optional unit, or not a
            whole number of nanoseconds.
    """
    match = _TIME.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time (examples: 12000, 12000ns, 12us, 1.5ms, 2s)")
    number, unit = match.groups()
    scale = _UNIT_NS[unit or "ns"]
    whole, _, frac = number.partition(".")
    frac = frac.rstrip("0")
    digits = len(str(scale)) - 1
    if len(frac) > digits:
        raise ValueError(f"{text!r} is not a whole number of nanoseconds")
    return int(whole or "0") * scale + int(frac.ljust(digits, "0") or "0")


#: Every ``kind`` a trace line can have: the runtime's own lines, the notes
#: (:class:`~mintactors.notes.NoteKind`) and the message deliveries of a full trace
#: (a message's class name).
KNOWN_KINDS: frozenset[str] = frozenset(
    {
        "trace_header",
        "run_end",
        *(kind.value for kind in NoteKind),
        *(n for n in messages.__all__ if attrs.has(getattr(messages, n))),
    }
)
_FIXED_ACTORS = tuple(
    sorted(
        [
            "runtime",
            *(getattr(names, n) for n in names.__all__ if isinstance(getattr(names, n), str)),
        ]
    )
)
_NUMBERED_ACTOR = re.compile(r"(core|apic)\d+")


def _unknown(what: str, name: str, known: Iterable[str]) -> str:
    choices = sorted(known)
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if close:
        return f"unknown {what} {name!r}; did you mean {close[0]!r}?"
    return f"unknown {what} {name!r}; known: {', '.join(choices)}"


def check_kind(kind: str) -> str | None:
    """What is wrong with ``--kind KIND`` (None: it is a kind traces have)."""
    return None if kind in KNOWN_KINDS else _unknown("kind", kind, KNOWN_KINDS)


def check_actor(actor: str) -> str | None:
    """What is wrong with ``--actor ACTOR`` (None: a machine can have that actor)."""
    if actor in _FIXED_ACTORS or _NUMBERED_ACTOR.fullmatch(actor):
        return None
    return _unknown("actor", actor, [*_FIXED_ACTORS, "core<N>", "apic<N>"])


@attrs.frozen
class EventFilter:
    """Which events to keep; an empty criterion keeps everything.

    ``seq`` matches events about that packet: notes with ``seq``, the skb-carrying
    deliveries, and IPI events caused by its send.
    """

    actors: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    start_ns: int | None = None
    end_ns: int | None = None
    seq: int | None = None
    header: bool = False

    def accepts(self, event: dict[str, Any]) -> bool:
        """Whether ``event`` passes every criterion."""
        t = event["t_ns"]
        if self.start_ns is not None and t < self.start_ns:
            return False
        if self.end_ns is not None and t > self.end_ns:
            return False
        if self.actors and event["actor"] not in self.actors:
            return False
        if self.kinds and event["kind"] not in self.kinds:
            return False
        return self.seq is None or packet_seq(event) == self.seq


def matching_lines(reader: TraceReader, keep: EventFilter) -> Iterator[Line]:
    """The lines that pass ``keep``, in file order (the header first, if asked for).

    Lines are in time order, so reading stops at the first line after ``end_ns``.
    """
    if keep.header:
        yield 1, reader.header_line, reader.header
    for line in reader.lines():
        event = line[2]
        if keep.end_ns is not None and event["t_ns"] > keep.end_ns:
            return
        if keep.accepts(event):
            yield line


#: Fields shown in hex in every tool: interrupt vectors (``0x41``), ICR cause bits
#: and addresses (a trace stores them as plain integers, as JSON has no hex).
HEX_FIELDS = frozenset({"vector", "icr", "cause", "addr", "address", "base", "memory_base"})
#: Fields holding (address, something) pairs: memory reads' ranges, writes.
ADDRESS_PAIR_FIELDS = frozenset({"ranges", "writes"})


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def field_text(name: str, value: Any) -> str:
    """How every tool shows field ``name``: vectors and addresses in hex, the rest as JSON.

    ``name`` may be a dotted path (``config.apic.vector``); its last part decides.
    Strings are shown as they are.
    """
    last = name.rsplit(".", 1)[-1].split("[", 1)[0]
    if isinstance(value, int) and not isinstance(value, bool) and last in HEX_FIELDS:
        return f"{value:#x}"
    if last in ADDRESS_PAIR_FIELDS and isinstance(value, list):
        pairs = []
        for pair in value:
            if isinstance(pair, list) and pair and type(pair[0]) is int:
                pairs.append(f"[{pair[0]:#x}" + "".join(f",{_compact(v)}" for v in pair[1:]) + "]")
            else:
                pairs.append(_compact(pair))
        return f"[{','.join(pairs)}]"
    return value if isinstance(value, str) else _compact(value)


def _value(name: str, value: Any, width: int = 48) -> str:
    text = field_text(name, value)
    return text if len(text) <= width else text[: width - 3] + "..."


def format_event(event: dict[str, Any]) -> str:
    """One table row: time in microseconds, actor, kind, sender, the other fields."""
    src = event.get("src")
    kind = event["kind"] if src is None else f"{event['kind']} <- {src}"
    fields = " ".join(f"{k}={_value(k, v)}" for k, v in event.items() if k not in _FIXED)
    return f"{event['t_ns'] / 1000:>12.3f}  {event['actor']:<10} {kind:<32} {fields}".rstrip()


#: The header row of the table.
TABLE_HEADER = f"{'t (us)':>12}  {'actor':<10} {'kind <- sender':<32} fields"
