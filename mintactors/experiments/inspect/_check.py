"""Checking a re-execution against the recorded trace, line by line, as it runs.

The re-executed run writes its trace into a :class:`TraceCheck` instead of a file;
each line is compared with the recorded trace's next line, byte for byte, as
``mintactors replay`` compares whole files. Nothing is stored, so checking costs
what writing the trace would, and no memory.

The last line a re-execution writes is held back until the next one comes: a run
stopped at a target ends with its own ``run_end`` line, which the recorded trace
(the same run, gone on further) does not have there, and only the caller knows
whether the run ended where the recorded one did (:meth:`TraceCheck.finish`).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

from mintactors.experiments.explore.replay import Divergence
from mintactors.runtime import TraceLevel, TraceSink

__all__ = ["LineTrackingSink", "TraceCheck"]


class TraceCheck(io.TextIOBase):
    """A text stream that compares what is written with a recorded trace.

    Args:
        recorded: the recorded trace.
        skip: recorded lines already accounted for (a run resumed from a
            checkpoint compares from the line after them).
    """

    def __init__(self, recorded: Path, skip: int = 0) -> None:
        super().__init__()
        self._recorded: IO[bytes] = recorded.open("rb")
        self.checked = skip  # recorded lines matched so far
        for _ in range(skip):
            self._recorded.readline()
        self._held: str | None = None
        self.divergence: Divergence | None = None
        self.exhausted = False  # the recorded trace has no more whole lines

    def writable(self) -> bool:
        """It takes writes."""
        return True

    def write(self, text: str) -> int:
        """Compare the line held back so far, and hold back ``text``."""
        if self.divergence is None and not self.exhausted:
            if self._held is not None:
                self._compare(self._held)
            self._held = text
        return len(text)

    def _compare(self, text: str) -> None:
        recorded = self._recorded.readline()
        if not recorded.endswith(b"\n"):
            # The recorded trace ends here, or with a line cut off by a killed run:
            # nothing after it was recorded, so nothing after it can differ.
            self.exhausted = True
            self._held = None
            return
        mine = text.encode("utf-8")
        if recorded == mine:
            self.checked += 1
            return
        line = self.checked + 1
        self.divergence = Divergence(
            line,
            recorded.decode("utf-8", "replace").rstrip("\n") if recorded else None,
            text.rstrip("\n"),
        )

    def finish(self, *, whole_run: bool) -> None:
        """The re-execution ended; compare its last line too if it is the run's real end."""
        if self._held is not None and self.divergence is None and whole_run:
            self._compare(self._held)  # the run_end line: the recorded run ended here too
        self._held = None
        self._recorded.close()

    def close(self) -> None:
        """Stop reading the recorded trace (a re-execution that failed)."""
        self._recorded.close()
        super().close()


class LineTrackingSink(TraceSink):
    """A trace sink that knows the line number of the last delivery it wrote.

    A watch names the delivery that changed a field; in a full trace that delivery
    has a line, and saying which one lets a reader find it with ``trace events``.
    """

    def __init__(self, stream: IO[str] | None, level: TraceLevel) -> None:
        super().__init__(stream, level)
        self.delivery_line = 0

    def delivery(self, t_ns: int, actor: str, message: object, source: str) -> None:
        """Write the delivery, and remember its line number."""
        super().delivery(t_ns, actor, message, source)
        self.delivery_line = self.lines_written
