"""Reading the columns a plot needs from a CSV file, row by row, checking as it goes.

Only the named columns' cells are handed on, so memory holds the series being
plotted and not the file. Every problem is a :class:`PlotError` naming the file
and, where there is one, the line.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO

from mintactors.plots._common import PlotError, did_you_mean

__all__ = ["CsvColumns", "parse_number"]


def parse_number(text: str) -> float | None:
    """A cell as a number: None when empty; ValueError when not a finite number."""
    if not text.strip():
        return None
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


class CsvColumns:
    """One pass over a CSV file with a header row, yielding the wanted columns' cells.

    Args:
        path: the CSV file.
        wanted: the columns to read, as (option, column) pairs: the option (such as
            ``--x``) that named the column, for error messages, or ``""``.
        hint: added to the message when a wanted column is missing (what kind of
            file was expected, what writes one).

    Raises:
        PlotError: the file cannot be opened or read as text, is empty, is not a CSV
            with a header row, or lacks a wanted column (the message suggests close
            names and lists the columns there are).

    Use as a context manager; iterate :meth:`rows` once.
    """

    def __init__(self, path: Path | str, wanted: Iterable[tuple[str, str]], hint: str = "") -> None:
        self.path = Path(path)
        try:
            self._file: IO[str] = self.path.open(encoding="utf-8", newline="")
        except OSError as exc:
            raise PlotError(path, f"cannot open: {exc.strerror or exc}") from None
        try:
            first = self._read_first_line()
            if first.lstrip().startswith("{"):
                # Read as CSV, a JSON-lines file gives nonsense; say what it looks like.
                raise PlotError(
                    path,
                    "not a CSV file: it starts with a JSON object "
                    "(a trace.jsonl? `mintactors plot trace` reads those)",
                )
            self._reader = csv.reader(itertools.chain([first], self._file), strict=True)
            self.header = tuple(self._next_row() or ())
            if not self.header:
                raise PlotError(path, "empty file: no header row, no runs")
            self.indices = self._indices(list(wanted), hint)
        except BaseException:
            self._file.close()
            raise

    def __enter__(self) -> CsvColumns:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._file.close()

    @property
    def line(self) -> int:
        """The line the last row read ended on (1 is the header)."""
        return self._reader.line_num

    def _next_row(self) -> list[str] | None:
        try:
            return next(self._reader, None)
        except UnicodeDecodeError:
            raise PlotError(self.path, "not a CSV file: not UTF-8 text") from None
        except csv.Error as exc:
            raise PlotError(self.path, f"line {self.line}: not a well-formed CSV ({exc})") from None

    def _read_first_line(self) -> str:
        try:
            return self._file.readline()
        except UnicodeDecodeError:
            raise PlotError(self.path, "not a CSV file: not UTF-8 text") from None

    def _indices(self, wanted: list[tuple[str, str]], hint: str) -> dict[str, int]:
        """Each wanted column's position; all the missing ones in one message."""
        missing = [
            (f"{option}: no" if option else "no")
            + f" column {name!r}{did_you_mean(name, self.header)}"
            for option, name in wanted
            if name not in self.header
        ]
        if missing:
            raise PlotError(
                self.path, f"{'; '.join(missing)}{hint}; columns: {', '.join(self.header)}"
            )
        return {name: self.header.index(name) for _, name in wanted}

    def rows(self) -> Iterator[dict[str, str]]:
        """The wanted cells of each data row, by column name (blank lines skipped).

        Raises:
            PlotError: a row has another number of fields than the header, the file
                stops being a readable CSV, or it has no data rows at all.
        """
        count = 0
        width = len(self.header)
        while (row := self._next_row()) is not None:
            if not row:
                continue
            if len(row) != width:
                raise PlotError(
                    self.path,
                    f"line {self.line}: {len(row)} fields where the header has {width}: "
                    "not a well-formed CSV",
                )
            count += 1
            yield {name: row[i] for name, i in self.indices.items()}
        if not count:
            raise PlotError(self.path, "empty: a header row and no data rows")
