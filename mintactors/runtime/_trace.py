"""The trace sink: one JSON line per event, written through structlog.

Every line carries ``t_ns``, ``actor`` and ``kind`` and then the event's own fields,
with keys sorted and no wall-clock field, so two runs with the same config and seed
write byte-identical files. Bytes are written as lowercase hex, attrs records as
objects, sets as sorted lists.
"""

from __future__ import annotations

import enum
import heapq
import zlib
from collections.abc import Iterable, Mapping
from typing import IO, Any

import attrs
import structlog

from mintactors.effects import TraceLevel

__all__ = ["TRACE_FORMAT", "DatedNote", "TraceSink", "to_jsonable"]

#: Version of the line format; readers refuse a trace from a newer one.
TRACE_FORMAT = 1

#: Byte fields of delivered messages longer than this are written as a digest.
DELIVERY_BYTES_LIMIT = 64

# Keys every line owns; a message or note field of the same name would be ambiguous.
RESERVED_KEYS = frozenset({"t_ns", "actor", "kind", "src"})


def to_jsonable(value: object, bytes_limit: int | None = None) -> Any:
    """Turn a field value into something ``json.dumps`` writes the same way every run.

    Bytes become hex; with ``bytes_limit``, longer byte strings become a short
    ``"<N bytes crc32 XXXXXXXX>"`` digest instead, so a trace of 16 KB frames stays
    readable.
    """
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
        if bytes_limit is not None and len(data) > bytes_limit:
            return f"<{len(data)} bytes crc32 {zlib.crc32(data):08x}>"
        return data.hex()
    if isinstance(value, enum.Enum):
        # A string enum (a step, a task label, a note kind) is its string, and json
        # writes it so wherever it appears; other enums are written by name.
        return value.value if isinstance(value, str) else value.name
    cls = type(value)
    if attrs.has(cls):
        return {f.name: to_jsonable(getattr(value, f.name), bytes_limit) for f in attrs.fields(cls)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, bytes_limit) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(to_jsonable(v, bytes_limit) for v in value)
    if isinstance(value, list | tuple):
        return [to_jsonable(v, bytes_limit) for v in value]
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return repr(value)


#: A note waiting for the trace to reach its time: (t_ns, order, actor, kind, fields).
DatedNote = tuple[int, int, str, str, Mapping[str, object]]


class _LineWriter:
    """The structlog "logger" at the end of the chain: appends rendered lines.

    structlog's own WriteLogger flushes after every line; a trace of millions of
    events wants ordinary buffering, and the sink flushes once at the end.
    """

    def __init__(self, stream: IO[str]) -> None:
        self._write = stream.write
        self.lines = 0

    def msg(self, message: str) -> None:
        self.lines += 1
        self._write(message + "\n")


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    """The trace field names of a message class (None: not an attrs class), cached."""
    try:
        return _FIELD_NAMES[cls]
    except KeyError:
        pass
    names = tuple(f.name for f in attrs.fields(cls)) if attrs.has(cls) else None
    if names is not None:
        _refuse_reserved(names, cls.__name__)
    _FIELD_NAMES[cls] = names
    return names


def _refuse_reserved(names: Iterable[str], kind: str) -> None:
    clash = RESERVED_KEYS.intersection(names)
    if clash:
        raise ValueError(f"{kind} has fields named {sorted(clash)}, which the trace reserves")


class TraceSink:
    """Writes a run's events at a given :class:`TraceLevel` to a text stream.

    Args:
        stream: where lines go; None (or level ``OFF``) writes nothing.
        level: how much to write.
    """

    def __init__(self, stream: IO[str] | None, level: TraceLevel = TraceLevel.FULL) -> None:
        self.level = level if stream is not None else TraceLevel.OFF
        self._stream = stream
        self._dated: list[DatedNote] = []
        self._dated_seq = 0
        self._log: Any = None
        self._writer: _LineWriter | None = None
        if self.level is not TraceLevel.OFF and stream is not None:
            self._writer = _LineWriter(stream)
            self._log = structlog.wrap_logger(
                self._writer,
                processors=[
                    structlog.processors.EventRenamer("kind"),
                    structlog.processors.JSONRenderer(
                        sort_keys=True, separators=(",", ":"), default=to_jsonable
                    ),
                ],
                wrapper_class=structlog.BoundLogger,
            )

    @classmethod
    def off(cls) -> TraceSink:
        """A sink that writes nothing."""
        return cls(None, TraceLevel.OFF)

    @property
    def lines_written(self) -> int:
        """Lines written so far (the header included; 0 for a sink that writes nothing)."""
        return self._writer.lines if self._writer is not None else 0

    def dated_notes(self) -> tuple[tuple[DatedNote, ...], int]:
        """The notes waiting for the trace to reach their time, and the order counter.

        With :meth:`restore`, what a checkpoint keeps of the sink: a run resumed from
        it writes those notes where the original run did.
        """
        return tuple(sorted(self._dated)), self._dated_seq

    def restore(self, lines: int, dated: tuple[DatedNote, ...], dated_seq: int) -> None:
        """Go on as a sink that has written ``lines`` lines and holds ``dated`` notes."""
        if self._writer is not None:
            self._writer.lines = lines
        self._dated = list(dated)
        heapq.heapify(self._dated)
        self._dated_seq = dated_seq

    def header(self, fields: Mapping[str, object]) -> None:
        """Write the first line: format version and whatever identifies the run."""
        self.event(0, "runtime", "trace_header", {"format": TRACE_FORMAT, **fields})

    def delivery(self, t_ns: int, actor: str, message: object, source: str) -> None:
        """Write one message delivery (FULL level only)."""
        if self.level is TraceLevel.FULL:
            if self._dated:
                self._release(t_ns)
            cls = type(message)
            names = _field_names(cls)
            if names is None:
                fields = {"value": repr(message)}
            else:
                limit = DELIVERY_BYTES_LIMIT
                fields = {n: to_jsonable(getattr(message, n), limit) for n in names}
            self._log.msg(cls.__name__, t_ns=t_ns, actor=actor, src=source, **fields)

    def note(
        self,
        t_ns: int,
        actor: str,
        kind: str,
        fields: Mapping[str, object],
        level: TraceLevel,
        *,
        dated: bool = False,
    ) -> None:
        """Write a component's note if the sink's level admits it.

        A ``dated`` note is for a later instant than the delivery that made it: it
        waits until the trace reaches its time, so the file stays in time order
        (notes of one instant in the order they were made).
        """
        if level <= self.level:
            _refuse_reserved(fields, kind)
            if dated:
                self._dated_seq += 1
                heapq.heappush(self._dated, (t_ns, self._dated_seq, actor, kind, fields))
            else:
                self.event(t_ns, actor, kind, fields)

    def event(self, t_ns: int, actor: str, kind: str, fields: Mapping[str, object]) -> None:
        """Write one line unconditionally (unless the sink is off)."""
        if self._log is not None:
            if self._dated:
                self._release(t_ns)
            self._log.msg(kind, t_ns=t_ns, actor=actor, **fields)

    def _release(self, t_ns: int) -> None:
        """Write the dated notes due by ``t_ns``."""
        dated = self._dated
        while dated and dated[0][0] <= t_ns:
            t, _, actor, kind, fields = heapq.heappop(dated)
            self._log.msg(kind, t_ns=t, actor=actor, **fields)

    def close(self, end_ns: int) -> None:
        """The run ended at ``end_ns``: write the dated notes due by then, drop the rest.

        A note dated past the end describes work the run never reached.
        """
        if self._log is not None:
            self._release(end_ns)
        self._dated.clear()

    def flush(self) -> None:
        """Push buffered lines to the stream's file."""
        if self._stream is not None:
            self._stream.flush()
