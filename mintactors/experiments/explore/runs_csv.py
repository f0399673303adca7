"""An exploration's runs as data: ``runs.csv``, one row per run, in run order.

Columns (:data:`RUNS_COLUMNS`): ``run`` (0, 1, ...), ``seed``, ``fingerprint`` (the
schedule's, 16 hex digits), ``verdict`` (``ok`` or ``violation``), ``oracle`` (the
first violated, empty when none), ``sent`` and ``delivered`` (packets, up to where
the run stopped: a run stops at its first violation), ``violation_t_ns`` (when that
violation began, virtual ns; empty when none).

The rows are the exploration's runs, in run order, up to and including the run it
stopped at (the first violation, the N-th distinct schedule, or the last run of the
plan): exactly the runs its answer depends on. Runs beyond that point that had
already finished on some worker are left out, so the file is the same, byte for
byte, whatever the worker count or the order the runs finished in.
``mintactors plot explore`` draws it (its column list must match this one; a test
checks that).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mintactors.experiments.explore.explore import RunVerdict

__all__ = ["RUNS_COLUMNS", "RUNS_CSV", "runs_csv_text"]

#: The file's name in an exploration's output directory.
RUNS_CSV = "runs.csv"
#: Its columns, in order.
RUNS_COLUMNS = (
    "run",
    "seed",
    "fingerprint",
    "verdict",
    "oracle",
    "sent",
    "delivered",
    "violation_t_ns",
)


def runs_csv_text(verdicts: Iterable[RunVerdict]) -> str:
    """The file's text: a header and one row per verdict, in the order given."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(RUNS_COLUMNS)
    for verdict in verdicts:
        violation = verdict.violation
        writer.writerow(
            [
                verdict.run,
                verdict.seed,
                verdict.fingerprint,
                "ok" if violation is None else "violation",
                "" if violation is None else violation.oracle,
                verdict.sent,
                verdict.delivered,
                "" if violation is None else violation.t_ns,
            ]
        )
    return buffer.getvalue()
