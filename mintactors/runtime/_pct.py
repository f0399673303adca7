"""The ``pct`` tie-break policy: randomised priorities with change points.

PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, "A Randomized Scheduler with
Probabilistic Guarantees of Finding Bugs", ASPLOS 2010) gives each thread a random
priority and always runs the highest-priority enabled one; at ``d - 1`` steps
chosen uniformly from ``1..k`` it demotes the thread that would run next below
every other. A bug that needs ``d`` orderings to line up is then found with
probability at least ``1 / (n k^(d-1))`` per run, for ``n`` threads.

Here the choice is only ever among deliveries due at the same instant with the
same priority (the runtime's ties), so:

* a *thread* is the actor that sent the delivery (its ``source``): the race in a
  tie is between what different actors did, e.g. the ring engine's descriptor
  write and the driver's read of the same descriptor, both arriving at memory;
* a *step* is one tie decision, so ``k`` is the number of tie decisions a run is
  expected to make (:data:`PCT_STEPS` unless the config's ``simulation.pct_steps``
  says otherwise); change points past the end of a shorter run never fire, which
  leaves a run with fewer effective change points, so ``k`` is best set near the
  number of decisions the runs make (``explore`` reports it);
* priorities are drawn when a source first appears in a tie, above ``d``; the
  ``i``-th change point demotes the source that would win to ``d - i``, below
  every initial priority and every earlier demotion;
* deliveries from one source keep their send order.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from mintactors.runtime._policies import PendingDelivery

__all__ = ["PCT_DEPTH", "PCT_STEPS", "PctPolicy"]

#: ``d``: the bug depth PCT is tuned for (2 change points).
PCT_DEPTH = 3
#: ``k``: tie decisions a run is expected to make; change points fall in ``1..k``.
PCT_STEPS = 2000


class PctPolicy:
    """Randomised source priorities with ``depth - 1`` change points.

    Args:
        rng: the run's tie-break stream.
        depth: ``d``.
        steps: ``k``.
    """

    chooses = True

    def __init__(self, rng: random.Random, depth: int = PCT_DEPTH, steps: int = PCT_STEPS) -> None:
        if depth < 1 or steps < depth - 1:
            raise ValueError(f"PCT needs depth >= 1 and steps >= depth - 1 (got {depth}, {steps})")
        self.rng = rng
        self.depth = depth
        points = sorted(rng.sample(range(1, steps + 1), depth - 1))
        #: decision number -> the change point's index i (1-based).
        self.change_points = {point: i + 1 for i, point in enumerate(points)}
        self.priorities: dict[str, float] = {}
        self.decisions = 0

    @property
    def name(self) -> str:
        """The policy's name, as written in configs and trace headers."""
        return "pct"

    @property
    def threads(self) -> int:
        """``n`` so far: the sending actors that have met in a tie (each has a priority)."""
        return len(self.priorities)

    def _priority(self, source: str) -> float:
        priority = self.priorities.get(source)
        if priority is None:
            priority = self.priorities[source] = self.depth + self.rng.random()
        return priority

    def _best(self, candidates: Sequence[PendingDelivery]) -> int:
        best = 0
        best_priority = self._priority(candidates[0].source)
        for index in range(1, len(candidates)):
            priority = self._priority(candidates[index].source)
            if priority > best_priority:
                best, best_priority = index, priority
        return best

    def choose(self, candidates: Sequence[PendingDelivery]) -> int:
        """The delivery of the highest-priority source (send order among its own)."""
        self.decisions += 1
        best = self._best(candidates)
        change = self.change_points.get(self.decisions)
        if change is not None:
            self.priorities[candidates[best].source] = float(self.depth - change)
            best = self._best(candidates)
        return best
