"""The event queue: every pending delivery, ordered by (time, priority, send order).

Pure data structure, no Trio: the simulation's actors share one queue and take turns
popping from it, so exactly one delivery is handled at a time and the order comes
from here alone. Timers are deliveries too; cancelling one leaves its entry in the
heap and it is skipped when it surfaces (lazy deletion, as SimPy and asyncio do).
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from typing import Any

from mintactors.runtime._policies import PendingDelivery, TieBreakPolicy

__all__ = ["Entry", "EventQueue"]

# One queued delivery, as a plain tuple because this is the hottest data in a run:
# (time_ns, priority, seq, target, message, source_name, timer_key_or_None).
# seq is unique, so tuple comparison never reaches the target.
Entry = tuple[int, int, int, Any, object, str, Hashable | None]


class EventQueue:
    """A priority queue of deliveries with timers and a tie-break policy."""

    __slots__ = ("_choosy", "_heap", "_policy", "_seq", "_timers", "ties_broken")

    def __init__(self, policy: TieBreakPolicy) -> None:
        self._heap: list[Entry] = []
        self._seq = 0
        # (owner name, key) -> seq of the armed entry; anything else for that key is stale.
        self._timers: dict[Hashable, int] = {}
        self._policy = policy
        self._choosy = policy.chooses
        self.ties_broken = 0

    def __len__(self) -> int:
        """Deliveries still due, not counting cancelled timers."""
        return sum(1 for entry in self._heap if not self._stale(entry))

    def push(self, time_ns: int, priority: int, target: Any, message: object, source: str) -> None:
        """Queue ``message`` for ``target`` at ``time_ns``."""
        self._seq = seq = self._seq + 1
        heapq.heappush(self._heap, (time_ns, priority, seq, target, message, source, None))

    def arm_timer(
        self, time_ns: int, priority: int, target: Any, key: Hashable, message: object
    ) -> None:
        """Queue a timer delivery to ``target`` that replaces any armed under ``key``."""
        self._seq = seq = self._seq + 1
        timer = (target.name, key)
        self._timers[timer] = seq
        heapq.heappush(self._heap, (time_ns, priority, seq, target, message, target.name, timer))

    def cancel_timer(self, owner: str, key: Hashable) -> None:
        """Disarm ``owner``'s timer ``key``, if armed."""
        self._timers.pop((owner, key), None)

    def pop(self, until_ns: int | None) -> Entry | None:
        """Remove and return the next delivery, or None if none is due by ``until_ns``."""
        heap = self._heap
        while heap:
            head = heap[0]
            if until_ns is not None and head[0] > until_ns:
                return None
            heapq.heappop(heap)
            timer = head[6]
            if timer is not None and self._timers.get(timer) != head[2]:
                continue
            if self._choosy and heap and heap[0][0] == head[0] and heap[0][1] == head[1]:
                head = self._break_tie(head)
                timer = head[6]
            if timer is not None:
                del self._timers[timer]
            return head
        return None

    def snapshot(self) -> list[tuple[int, str, object]]:
        """Live entries as (time, target name, message), in (time, priority, seq) order."""
        live = sorted(e for e in self._heap if not self._stale(e))
        return [(e[0], e[3].name, e[4]) for e in live]

    def _stale(self, entry: Entry) -> bool:
        timer = entry[6]
        return timer is not None and self._timers.get(timer) != entry[2]

    def _break_tie(self, first: Entry) -> Entry:
        heap = self._heap
        tied = [first]
        while heap and heap[0][0] == first[0] and heap[0][1] == first[1]:
            entry = heapq.heappop(heap)
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
            heapq.heappush(heap, entry)
        return chosen
