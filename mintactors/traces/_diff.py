"""``trace diff A B``: the first point where two traces diverge.

Both traces are read in step, line by line, so memory stays constant. The headers
are compared field by field (a different seed or config shows there); the events are
compared byte for byte, which is what determinism promises. The first differing
event line is shown with the lines before it (equal in both) and a few after it in
each trace, and with the fields that differ.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from typing import Any

import attrs

from mintactors.traces._events import field_text
from mintactors.traces._reader import Line, TraceReader, flatten

__all__ = ["ABSENT", "TraceDiff", "diff_traces", "render_diff"]


class _Absent:
    """Stands for a field one side does not have."""

    def __repr__(self) -> str:
        return "absent"


ABSENT = _Absent()


@attrs.frozen
class TraceDiff:
    """How two traces compare.

    ``header`` lists (field, value in A, value in B) for every differing header
    field (:data:`ABSENT` where a side lacks it). ``line`` is the number of the first
    differing line (None: the events are equal); ``before`` holds the equal lines just
    above it; ``a``/``b`` the differing line and the lines after it in each trace
    (empty where that trace had ended).
    """

    header: tuple[tuple[str, Any, Any], ...]
    line: int | None
    before: tuple[tuple[int, str], ...]
    a: tuple[tuple[int, str], ...]
    b: tuple[tuple[int, str], ...]
    fields: tuple[tuple[str, Any, Any], ...]
    lines_compared: int

    @property
    def equal(self) -> bool:
        """No difference at all."""
        return not self.header and self.line is None


def _header_differences(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    left, right = dict(flatten(a)), dict(flatten(b))
    out = []
    for key in sorted(left.keys() | right.keys()):
        va, vb = left.get(key, ABSENT), right.get(key, ABSENT)
        if va != vb:
            out.append((key, va, vb))
    return out


def _field_differences(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return _header_differences(a, b) if a and b else []


def _take(lines: Iterator[Line], first: Line | None, count: int) -> tuple[tuple[int, str], ...]:
    taken = [] if first is None else [first]
    taken += itertools.islice(lines, count)
    return tuple((n, raw.decode("utf-8", "replace")) for n, raw, _ in taken)


def diff_traces(a: TraceReader, b: TraceReader, context: int = 3) -> TraceDiff:
    """Compare the rest of ``a`` and ``b``; ``context`` lines around the first difference."""
    header = _header_differences(a.header, b.header)
    before: deque[tuple[int, str]] = deque(maxlen=context)
    lines_a, lines_b = a.lines(), b.lines()
    compared = 0
    for line_a, line_b in itertools.zip_longest(lines_a, lines_b):
        if line_a is not None and line_b is not None and line_a[1] == line_b[1]:
            compared += 1
            before.append((line_a[0], line_a[1].decode("utf-8", "replace")))
            continue
        number = line_a[0] if line_a is not None else line_b[0] if line_b is not None else 0
        fields = _field_differences(line_a[2] if line_a else {}, line_b[2] if line_b else {})
        return TraceDiff(
            header=tuple(header),
            line=number,
            before=tuple(before),
            a=_take(lines_a, line_a, context - 1 if line_a else 0),
            b=_take(lines_b, line_b, context - 1 if line_b else 0),
            fields=tuple(fields),
            lines_compared=compared,
        )
    return TraceDiff(tuple(header), None, (), (), (), (), compared)


def _short(text: str, width: int = 160) -> str:
    if len(text) <= width:
        return text
    return f"{text[:width]}... ({len(text) - width} more characters)"


def _value(key: str, value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return _short(field_text(key, value), 80)  # vectors and addresses in hex
    return _short(repr(value), 80)


def render_diff(diff: TraceDiff, name_a: str, name_b: str) -> str:
    """The comparison as text: header differences, then the first differing line."""
    if diff.equal:
        return (
            f"no difference: {name_a} and {name_b} have equal headers and "
            f"{diff.lines_compared} equal event lines"
        )
    out: list[str] = []
    if diff.header:
        out.append(f"headers differ in {len(diff.header)} field(s):")
        out += [
            f"  {key}: {_value(key, va)} (A) vs {_value(key, vb)} (B)"
            for key, va, vb in diff.header
        ]
    else:
        out.append("headers are equal")
    if diff.line is None:
        out.append(f"events are equal ({diff.lines_compared} lines)")
        return "\n".join(out)
    out.append(
        f"first difference at line {diff.line}, after {diff.lines_compared} equal event lines"
    )
    out.append(f"  A = {name_a}\n  B = {name_b}")
    out += [f"    {n:>8}  {_short(text)}" for n, text in diff.before]
    out += [f"  A {n:>8}  {_short(text, 400)}" for n, text in diff.a[:1]]
    out += [f"  B {n:>8}  {_short(text, 400)}" for n, text in diff.b[:1]]
    if not diff.a:
        out.append("  A has no more lines (it ends here)")
    if not diff.b:
        out.append("  B has no more lines (it ends here)")
    if diff.fields:
        out.append("  fields that differ:")
        out += [
            f"    {key}: {_value(key, va)} (A) vs {_value(key, vb)} (B)"
            for key, va, vb in diff.fields
        ]
    for tag, rest in (("A", diff.a[1:]), ("B", diff.b[1:])):
        if rest:
            out.append(f"  then in {tag}:")
            out += [f"  {tag} {n:>8}  {_short(text)}" for n, text in rest]
    return "\n".join(out)
