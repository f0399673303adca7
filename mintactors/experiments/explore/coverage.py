"""Schedule coverage: how many different interleavings an exploration tried.

Every run records its schedule's fingerprint (:class:`~mintactors.runtime.ScheduleFingerprint`:
a hash of the order in which actors took messages, and from whom). Fed the runs in
run order, :class:`CoverageTally` counts the distinct fingerprints and the runs that
repeated one already seen, so a user who explored 1,000 runs and found nothing can
tell whether they tried 1,000 interleavings or the same few.

For the ``pct`` policy it also gives the guarantee of the PCT paper (Burckhardt et
al., ASPLOS 2010): one run finds a bug of depth ``d`` with probability at least
``p = 1 / (n k^(d-1))``, so ``R`` runs miss it with probability at most
``(1 - p)^R``. Here

* ``n`` is the number of *threads* PCT chooses among: the sending actors that met in
  a tie, measured as the most that any run of the exploration saw;
* ``k`` is the number of *steps*: tie decisions. The bound holds for the ``k`` the
  change points are drawn from (``simulation.pct_steps``), for a bug whose
  ``d - 1`` ordering points lie within the first ``k`` decisions; the exploration
  also reports the most decisions any run made, since a ``k`` far above it wastes
  change points past the end of every run (a correct but weak bound) and one below
  it leaves the later decisions without any.
"""

from __future__ import annotations

import math

import attrs

__all__ = ["Coverage", "CoverageTally", "PctBound", "pct_bound"]


@attrs.frozen
class PctBound:
    """The PCT guarantee for one exploration.

    Attributes:
        depth: ``d``, the bug depth the runs were tuned for.
        threads: ``n``, the most sending actors that met in ties in one run.
        steps: ``k``, the tie decisions the change points were drawn from.
        most_decisions: the most tie decisions any run made.
        runs: ``R``, the runs made.
        per_run: ``p = 1 / (n k^(d-1))``, a lower bound on one run's chance.
        found: ``1 - (1 - p)^R``, a lower bound on the chance the runs found such a bug.
    """

    depth: int
    threads: int
    steps: int
    most_decisions: int
    runs: int
    per_run: float
    found: float

    @property
    def steps_cover_runs(self) -> bool:
        """Whether every decision of every run could hold a change point (``k`` >= decisions)."""
        return self.most_decisions <= self.steps


def pct_bound(depth: int, threads: int, steps: int, most_decisions: int, runs: int) -> PctBound:
    """The PCT bound for ``runs`` runs with ``n = threads`` and ``k = steps``.

    With no tie at all (``threads`` 0) there is nothing for PCT to choose: every
    run takes the one order there is, and ``p`` is 1 (a bug in it shows in every run).
    """
    per_run = 1.0 if threads == 0 else 1.0 / (threads * float(steps) ** (depth - 1))
    # 1 - (1 - p)^R without the rounding of 1 - p to 1 for tiny p.
    # (Never below p itself, which rounding could otherwise leave it a hair under.)
    found = 1.0 if per_run >= 1.0 else max(per_run, -math.expm1(runs * math.log1p(-per_run)))
    return PctBound(depth, threads, steps, most_decisions, runs, per_run, found)


@attrs.frozen
class Coverage:
    """How many schedules an exploration tried.

    Attributes:
        runs: runs counted (the exploration's runs, in run order).
        distinct: distinct schedule fingerprints among them.
        most_decisions: the most tie decisions one run made.
        most_threads: the most sending actors that met in ties in one run (``pct`` only).
    """

    runs: int
    distinct: int
    most_decisions: int
    most_threads: int

    @property
    def repeats(self) -> int:
        """Runs whose schedule an earlier run had tried already."""
        return self.runs - self.distinct

    def pct(self, depth: int, steps: int) -> PctBound:
        """The PCT bound these runs give, for PCT tuned to ``depth`` and ``steps``."""
        return pct_bound(depth, self.most_threads, steps, self.most_decisions, self.runs)


class CoverageTally:
    """Counts schedules as runs are added in run order."""

    def __init__(self) -> None:
        self._seen: set[str] = set()  # membership only: its order never shows
        self.runs = 0
        self.most_decisions = 0
        self.most_threads = 0

    @property
    def distinct(self) -> int:
        """Distinct fingerprints so far."""
        return len(self._seen)

    def add(self, fingerprint: str, decisions: int, threads: int) -> bool:
        """Count one run; True if its schedule is new."""
        self.runs += 1
        self.most_decisions = max(self.most_decisions, decisions)
        self.most_threads = max(self.most_threads, threads)
        if fingerprint in self._seen:
            return False
        self._seen.add(fingerprint)
        return True

    def frozen(self) -> Coverage:
        """The counts as a record."""
        return Coverage(self.runs, self.distinct, self.most_decisions, self.most_threads)
