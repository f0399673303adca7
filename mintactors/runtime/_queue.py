"""The event queue: every pending delivery, ordered by (time, priority, send order).

Pure data structure, no Trio: the simulation's actors share one queue and take turns
popping from it, so exactly one delivery is handled at a time and the order comes
from here alone. Timers are deliveries too; cancelling one leaves its entry in the
heap and it is skipped when it surfaces (lazy deletion, as SimPy and asyncio do).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable
from heapq import heapify, heappop, heappush
from typing import Any

from mintactors.runtime._policies import PendingDelivery, TieBreakPolicy

__all__ = ["Entry", "EventQueue", "QueuedDelivery"]

# One queued delivery, as a plain tuple because this is the hottest data in a run:
# (time_ns, priority, seq, target, message, source_name, timer_key_or_None).
# seq is unique, so tuple comparison never reaches the target.
Entry = tuple[int, int, int, Any, object, str, Hashable | None]

#: A live entry with its target named rather than held, for inspection and
#: checkpoints: (time_ns, priority, seq, target name, message, source, timer key).
QueuedDelivery = tuple[int, int, int, str, object, str, Hashable | None]


class EventQueue:
    """A priority queue of deliveries with timers and a tie-break policy."""

    __slots__ = ("_choosy", "_policy", "heap", "next_seq", "ties_broken", "timers")

    def __init__(self, policy: TieBreakPolicy) -> None:
        #: The heap itself. The simulation pushes sends and timers onto it directly,
        #: with :attr:`next_seq` and :attr:`timers`, exactly as :meth:`push` and
        #: :meth:`arm_timer` do, because a method call per effect is a measurable
        #: share of a run; everything else goes through the methods below.
        self.heap: list[Entry] = []
        #: Hands out the send-order numbers (1, 2, 3, ...), unique over the run.
        self.next_seq: Callable[[], int] = itertools.count(1).__next__
        #: (owner name, key) -> seq of the armed entry; any other for that key is stale.
        self.timers: dict[Hashable, int] = {}
        self._policy = policy
        self._choosy = policy.chooses
        self.ties_broken = 0

    def __len__(self) -> int:
        """Deliveries still due, not counting cancelled timers."""
        return sum(1 for entry in self.heap if not self._stale(entry))

    def push(self, time_ns: int, priority: int, target: Any, message: object, source: str) -> None:
        """Queue ``message`` for ``target`` at ``time_ns``."""
        heappush(self.heap, (time_ns, priority, self.next_seq(), target, message, source, None))

    def arm_timer(
        self, time_ns: int, priority: int, target: Any, key: Hashable, message: object
    ) -> None:
        """Queue a timer delivery to ``target`` that replaces any armed under ``key``."""
        seq = self.next_seq()
        timer = (target.name, key)
        self.timers[timer] = seq
        heappush(self.heap, (time_ns, priority, seq, target, message, target.name, timer))

    def cancel_timer(self, owner: str, key: Hashable) -> None:
        """Disarm ``owner``'s timer ``key``, if armed."""
        self.timers.pop((owner, key), None)

    def pop(self, until_ns: int | None) -> Entry | None:
        """Remove and return the next delivery, or None if none is due by ``until_ns``."""
        heap = self.heap
        while heap:
            if until_ns is not None and heap[0][0] > until_ns:
                return None
            head = heappop(heap)
            timer = head[6]
            if timer is not None and self.timers.get(timer) != head[2]:
                continue
            if self._choosy and heap and heap[0][0] == head[0] and heap[0][1] == head[1]:
                head = self._break_tie(head)
                timer = head[6]
            if timer is not None:
                del self.timers[timer]
            return head
        return None

    def snapshot(self) -> list[tuple[int, str, object]]:
        """Live entries as (time, target name, message), in (time, priority, seq) order."""
        live = sorted(e for e in self.heap if not self._stale(e))
        return [(e[0], e[3].name, e[4]) for e in live]

    def live(self) -> list[QueuedDelivery]:
        """Every live entry, target by name, in delivery order (cancelled timers left out)."""
        live = sorted(e for e in self.heap if not self._stale(e))
        return [(e[0], e[1], e[2], e[3].name, e[4], e[5], e[6]) for e in live]

    def restore(
        self,
        entries: list[QueuedDelivery],
        targets: Callable[[str], Any],
        *,
        next_seq: int,
        ties_broken: int,
        policy: TieBreakPolicy,
    ) -> None:
        """Replace the whole queue by ``entries`` (see :meth:`live`), as a checkpoint saw it.

        ``targets`` maps an actor name to its shell; send-order numbers go on from
        ``next_seq``, and the tie-break policy's state is ``policy``'s.
        """
        self.heap = [(t, p, s, targets(name), m, src, k) for t, p, s, name, m, src, k in entries]
        heapify(self.heap)
        self.timers = {k: s for _, _, s, _, _, _, k in entries if k is not None}
        self.next_seq = itertools.count(next_seq).__next__
        self.ties_broken = ties_broken
        self._policy = policy
        self._choosy = policy.chooses

    def _stale(self, entry: Entry) -> bool:
        timer = entry[6]
        return timer is not None and self.timers.get(timer) != entry[2]

    def _break_tie(self, first: Entry) -> Entry:
        heap = self.heap
        tied = [first]
        while heap and heap[0][0] == first[0] and heap[0][1] == first[1]:
            entry = heappop(heap)
            if not self._stale(entry):
                tied.append(entry)
        if len(tied) == 1:
            return first
        self.ties_broken += 1
        views = [
            PendingDelivery(e[0], e[1], e[2], e[3].name, type(e[4]).__name__, e[5]) for e in tied
        ]
        index = self._policy.choose(views)
        if not 0 <= index < len(tied):
            raise IndexError(f"tie-break policy {self._policy.name!r} chose {index} of {len(tied)}")
        chosen = tied.pop(index)
        for entry in tied:
            heappush(heap, entry)
        return chosen
