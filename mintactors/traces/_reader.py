"""Reading a ``trace.jsonl`` line by line, checking each line as it comes.

Every tool reads through :class:`TraceReader`, so they all hold memory independent
of the trace's length and treat damage the same way:

* a line that is not a JSON object with an integer ``t_ns`` and string ``actor`` and
  ``kind`` is an error naming the file and line number (:class:`TraceError`), as is
  a line whose ``t_ns`` is before the line above it (a trace is in time order, and
  every tool relies on it);
* line ends may be ``\n`` or ``\r\n`` (a trace that went through a Windows
  editor or ``git`` with ``autocrlf``);
* the last line, if it does not parse and has no final newline, is what a killed
  run leaves behind (the sink writes through a large buffer): it is reported as a
  warning and everything before it is used;
* a trace without its ``run_end`` line is reported the same way.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from mintactors.errors import MintactorsError
from mintactors.runtime import TRACE_FORMAT

__all__ = ["TraceError", "TraceReader", "flatten"]

#: An event: its line number in the file, the raw line (bytes, newline stripped)
#: and the decoded object.
Line = tuple[int, bytes, dict[str, Any]]


class TraceError(MintactorsError):
    """A trace file is missing, unreadable, malformed, or not a mintactors trace."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem


_DECODER = json.JSONDecoder()
#: What a tool raises when a field has a type or value it does not expect.
_DATA_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError)


def _decode(raw: bytes) -> dict[str, Any] | str:
    """The event on ``raw``, or what is wrong with it."""
    try:
        # raw_decode on the text skips json.loads' encoding detection and whitespace
        # handling, a third of the cost of reading a trace; lines carry no padding.
        text = raw.decode("utf-8")
        event, end = _DECODER.raw_decode(text)
        if end != len(text):
            return f"not valid JSON (extra data at column {end + 1})"
    except (ValueError, UnicodeDecodeError) as exc:
        return f"not valid JSON ({exc})"
    if not isinstance(event, dict):
        return f"not a JSON object but {type(event).__name__}"
    t_ns = event.get("t_ns")
    if type(t_ns) is not int or t_ns < 0:
        return f"t_ns must be a non-negative integer, not {t_ns!r}"
    for key in ("actor", "kind"):
        if not isinstance(event.get(key), str):
            return f"{key} must be a string, not {event.get(key)!r}"
    return event


class TraceReader:
    """One pass over a trace file: the header first, then the events in file order.

    Args:
        path: the ``trace.jsonl`` file.
        warn: called with each warning (a truncated last line, a missing ``run_end``).

    Raises:
        TraceError: the file cannot be opened, is empty, or its first line is not a
            ``trace_header`` of a format this version reads.

    Use as a context manager; iterate :meth:`events` once.
    """

    def __init__(self, path: Path | str, warn: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        self._warn = warn or (lambda _message: None)
        self.warnings: list[str] = []
        self.run_end: dict[str, Any] | None = None
        self.truncated = False
        self.last_t_ns = 0
        self.lines_read = 0
        #: Called with the bytes read so far every 65536 lines (for a progress bar).
        self.on_progress: Callable[[int], None] | None = None
        try:
            self._file: IO[bytes] = self.path.open("rb")
        except OSError as exc:
            raise TraceError(path, None, f"cannot open: {exc.strerror or exc}") from None
        try:
            self.header = self._read_header()
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> TraceReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    @contextlib.contextmanager
    def blamed(self) -> Iterator[None]:
        """Turn a tool's failure on a line's contents into a :class:`TraceError` for that line.

        Every line is checked for ``t_ns``, ``actor`` and ``kind``; the other fields
        are each tool's to read. A field of the wrong type (an edited trace: a
        ``seq`` that is a string, a missing ``vector``) makes a tool fail where it
        reads it, on the line it was reading: that line is named.
        """
        try:
            yield
        except _DATA_ERRORS as exc:
            line = self.lines_read or None
            raise TraceError(
                self.path,
                line,
                f"a field this tool reads is missing or of the wrong type "
                f"({type(exc).__name__}: {exc}); was the trace edited?",
            ) from None

    @property
    def size(self) -> int:
        """The file's size in bytes."""
        return self.path.stat().st_size

    @property
    def level(self) -> str:
        """The trace level the run wrote at: ``summary`` or ``full``."""
        return str(self.header.get("level", "full"))

    @property
    def config(self) -> dict[str, Any]:
        """The config echo in the header (empty if the run did not record one)."""
        config = self.header.get("config")
        return config if isinstance(config, dict) else {}

    def _read_header(self) -> dict[str, Any]:
        raw = self._file.readline()
        if not raw:
            raise TraceError(self.path, None, "empty file: not a mintactors trace")
        if not raw.endswith(b"\n"):
            raise TraceError(self.path, 1, "the header line is incomplete (the run was killed?)")
        self.header_line = raw.rstrip(b"\r\n")
        event = _decode(self.header_line)
        if isinstance(event, str):
            raise TraceError(self.path, 1, f"not a mintactors trace: {event}")
        if event["kind"] != "trace_header":
            raise TraceError(
                self.path,
                1,
                f"not a mintactors trace: line 1 is {event['kind']!r}, not 'trace_header'",
            )
        fmt = event.get("format")
        if not isinstance(fmt, int) or fmt > TRACE_FORMAT:
            raise TraceError(
                self.path, 1, f"trace format {fmt!r}; this version reads up to {TRACE_FORMAT}"
            )
        self.lines_read = 1
        return event

    def _warning(self, message: str) -> None:
        self.warnings.append(message)
        self._warn(message)

    def lines(self) -> Iterator[Line]:
        """Every line after the header, checked, with its number and raw bytes.

        The ``run_end`` line is yielded too, and kept in :attr:`run_end`.

        Raises:
            TraceError: a malformed line (other than a truncated last one).
        """
        number = 1
        pending: bytes | None = None
        for raw in self._file:
            if pending is not None:
                yield self._check(number, pending, last=False)
            number += 1
            pending = raw
            if self.on_progress is not None and not number & 0xFFFF:
                self.on_progress(self._file.tell())
        if pending is not None:
            line = self._check(number, pending, last=True)
            if line[2]:
                yield line
        if self.run_end is None and not self.truncated:
            self._warning(
                f"{self.path}: no run_end line: the run did not finish (killed?); "
                f"using the {self.lines_read} lines there are"
            )

    def _check(self, number: int, raw: bytes, *, last: bool) -> Line:
        body = raw.rstrip(b"\r\n")
        event = _decode(body)
        if isinstance(event, str):
            if last and not raw.endswith(b"\n"):
                self.truncated = True
                self._warning(
                    f"{self.path}:{number}: the last line is truncated (the run was killed?); "
                    f"ignoring it and using the {self.lines_read} lines before it"
                )
                return number, body, {}
            raise TraceError(self.path, number, f"malformed line: {event}")
        if self.run_end is not None:
            raise TraceError(self.path, number, "a line after run_end")
        if event["t_ns"] < self.last_t_ns:
            raise TraceError(
                self.path,
                number,
                f"t_ns goes backwards: {event['t_ns']} after {self.last_t_ns} on line "
                f"{self.lines_read} (a trace is in time order; was it edited or reordered?)",
            )
        self.lines_read = number
        self.last_t_ns = event["t_ns"]
        if event["kind"] == "run_end":
            self.run_end = event
        return number, body, event

    def events(self) -> Iterator[dict[str, Any]]:
        """The decoded events after the header (``run_end`` included)."""
        for _, _, event in self.lines():
            yield event


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Dotted paths to the leaves of a decoded JSON value (lists stay leaves)."""
    if isinstance(value, dict):
        for key in sorted(value):
            yield from flatten(value[key], f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value
