"""Progress of long commands on stderr: a bar on a terminal, a plain line elsewhere.

On a terminal, a tqdm bar. When stderr is a file or a pipe (a CI log, ``2> log``),
a bar's carriage returns make a mess, and silence makes a long run look hung: a
plain line every few seconds instead, ``mintactors: sweep: 12/40 runs (30 %)``,
written by a background thread whether or not anything finished since (a sweep of
ten-minute runs still shows it is alive). The first line comes only after the
first interval, so short commands print none.

This is the only place that reads the wall clock, and only to decide when to print:
nothing it reads reaches a result or a trace.

The interval is :data:`DEFAULT_INTERVAL_S` seconds; the environment variable
``MINTACTORS_PROGRESS_SECONDS`` changes it (``0`` turns the plain lines off).
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from types import TracebackType
from typing import IO, Any

from tqdm import tqdm

__all__ = ["DEFAULT_INTERVAL_S", "PROGRESS_ENV", "Progress", "progress_interval"]

#: Seconds between plain progress lines.
DEFAULT_INTERVAL_S = 5.0
#: The environment variable that sets the interval (seconds; 0 for none).
PROGRESS_ENV = "MINTACTORS_PROGRESS_SECONDS"


def progress_interval() -> float | None:
    """Seconds between plain progress lines, or None for none."""
    text = os.environ.get(PROGRESS_ENV)
    if text is None:
        return DEFAULT_INTERVAL_S
    try:
        value = float(text)
    except ValueError:
        return DEFAULT_INTERVAL_S
    return value if value > 0 and math.isfinite(value) else None


class Progress:
    """Reports ``done`` out of ``total`` items of a long task on stderr.

    Args:
        label: what is being done (``sweep``, ``sending``).
        total: how many items in all (None: unknown).
        unit: the items' name (``runs``, ``packets``).
        enabled: False shows nothing; None (default) shows progress unless stderr
            is closed.
        stream: where to write (default: ``sys.stderr``).
    """

    def __init__(
        self,
        label: str,
        total: int | None,
        unit: str,
        *,
        enabled: bool | None = None,
        stream: IO[str] | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self._stream = stream if stream is not None else sys.stderr
        self._bar: Any = None
        self._state = (0, "")
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if enabled is False:
            return
        if self._stream.isatty():
            self._bar = tqdm(
                total=total,
                unit=unit.rstrip("s") or unit,
                desc=label,
                leave=False,
                file=self._stream,
            )
            return
        interval = progress_interval()
        if interval is not None:
            self._thread = threading.Thread(
                target=self._report, args=(interval,), name="mintactors-progress", daemon=True
            )
            self._thread.start()

    def update(self, done: int, detail: str = "") -> None:
        """Say that ``done`` items are finished (``detail``: a few more words)."""
        self._state = (done, detail)
        if self._bar is not None:
            self._bar.n = done
            if detail:
                self._bar.set_postfix_str(detail, refresh=False)
            self._bar.refresh()

    def line(self) -> str:
        """The plain progress line for the state now."""
        done, detail = self._state
        share = f" ({100 * done / self.total:.0f} %)" if self.total else ""
        of = f"/{self.total}" if self.total is not None else ""
        tail = f", {detail}" if detail else ""
        elapsed = time.monotonic() - self._started
        return f"mintactors: {self.label}: {done}{of} {self.unit}{share}{tail} [{elapsed:.0f} s]"

    def _report(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                print(self.line(), file=self._stream, flush=True)
            except (OSError, ValueError):
                return  # stderr went away: progress is not worth failing for

    def close(self) -> None:
        """Remove the bar, or stop the plain lines."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
