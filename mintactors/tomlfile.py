"""Parsing TOML text with error messages that name the key at fault.

:mod:`tomllib` reports a key given twice as ``Cannot overwrite a value (at end of
document)``: neither the key nor, often, its line. A config author needs both, so
:func:`loads` finds them: it parses longer and longer prefixes of the text (line by
line) until the same error appears, which gives the line of the second
definition, and reads the key off that line and the table header above it.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

__all__ = ["TomlSyntaxError", "loads"]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]#]+?)\s*\]\]?\s*(?:#.*)?$")
_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_KEY = re.compile(rf"^\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")
_REPEAT_ERRORS = ("Cannot overwrite a value", "Cannot declare")


class TomlSyntaxError(ValueError):
    """Text that is not valid TOML.

    Attributes:
        key: the dotted key at fault when it is known (a key given twice), else ``""``.
        problem: what is wrong, with the line where known.
    """

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}" if key else problem)
        self.key = key
        self.problem = problem


def _unquote(part: str) -> str:
    part = part.strip()
    if len(part) >= 2 and part[0] == part[-1] and part[0] in "\"'":
        return part[1:-1]
    return part


def _dotted(text: str) -> list[str]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", text)
    return [_unquote(p) for p in parts]


def _fails_with(text: str, message: str) -> bool:
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return str(exc).split(" (", 1)[0] == message
    return False


def _repeated_line(lines: list[str], message: str) -> int | None:
    """The 0-based line whose addition first gives tomllib's repeat error, if any.

    A prefix ending before the repeated definition cannot fail with that error and
    one ending after it always does (the parser stops there), so a bisection finds it.
    """
    low, high = 0, len(lines)  # the answer's prefix length lies in (low, high]
    if not _fails_with("".join(lines), message):
        return None
    while high - low > 1:
        middle = (low + high) // 2
        if _fails_with("".join(lines[:middle]), message):
            high = middle
        else:
            low = middle
    return high - 1


def _table_at(lines: list[str], index: int) -> list[str]:
    for line in reversed(lines[:index]):
        match = _HEADER.match(line)
        if match:
            return _dotted(match.group(2))
    return []


def _diagnose(text: str, exc: tomllib.TOMLDecodeError) -> TomlSyntaxError:
    message = str(exc)
    head = message.split(" (", 1)[0]
    if not head.startswith(_REPEAT_ERRORS):
        return TomlSyntaxError("", f"is not valid TOML: {message}")
    lines = text.splitlines(keepends=True)
    index = _repeated_line(lines, head)
    if index is None:
        return TomlSyntaxError("", f"is not valid TOML: {message}")
    line = lines[index]
    header = _HEADER.match(line)
    if header:
        name = ".".join(_dotted(header.group(2)))
        return TomlSyntaxError(
            name, f"is not valid TOML: table [{name}] is defined twice (line {index + 1})"
        )
    # A multi-line value is complete (and refused) only at its last line: look up.
    key = None
    while index >= 0 and key is None and not _HEADER.match(lines[index]):
        key = _KEY.match(lines[index])
        if key is None:
            index -= 1
    if key is None:
        return TomlSyntaxError("", f"is not valid TOML: {message}")
    path = [*_table_at(lines, index), *_dotted(key.group(1))]
    name = ".".join(path)
    return TomlSyntaxError(
        name,
        f"is not valid TOML: key {name} is given twice (the second time on line {index + 1})",
    )


def loads(text: str) -> dict[str, Any]:
    """Parse ``text`` as TOML.

    Raises:
        TomlSyntaxError: invalid TOML; a key or table given twice is named.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _diagnose(text, exc) from None
