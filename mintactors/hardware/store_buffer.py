"""One core's store buffer under x86-TSO: its stores wait, oldest first, before memory has them.

Theory of operation (x86-TSO, Sewell et al., CACM 53(7) 2010; Intel SDM Vol. 3A
8.2.2 "Memory Ordering in P6 and More Recent Processor Families" and 11.10 "Store
Buffer"; docs/model.md, "Shared memory under TSO"). Every core has one FIFO buffer,
shared by everything whose code runs on that core (on the target core the driver's
kernel shell; on the debug core the ring engine's copy and the debug-support
mechanism, which are that core's CPU stores in the Mint environment).

* A store *enters* the buffer at the instant the code makes it. If the buffer
  already holds ``capacity`` entries not yet drained then, the store stalls until
  the oldest of them drains: a store needs an entry of its own (56 on Skylake,
  Intel's Optimization Reference Manual), and the code cannot go on without it.
* Each entry *drains* to memory ``drain_ns()`` after it entered (a draw from the
  core's seeded stream), but never before the entry ahead of it: the buffer
  drains in program order (SDM 8.2.2, "writes are not reordered with other
  writes"). The drain is a :class:`~mintactors.messages.DrainStores` message to
  the memory actor, due at that instant, so the scheduler orders it against every
  other event of the same nanosecond (and ``random``/``pct`` explore that order,
  ``replay`` reproduces it).
* A load by the same core takes, byte by byte, the newest buffered store to that
  byte, else memory (store-buffer forwarding, SDM 8.2.3.5).
* A fence or locked instruction waits until every entry has drained
  (:meth:`drained_by`); at that instant, whatever the scheduler has not yet
  delivered is applied by the fencing core itself, before its next access
  (:meth:`~mintactors.hardware.memory.PhysicalMemory.drain`), so nothing after
  the fence can be ordered ahead of the stores before it.

An entry leaves the buffer when memory applies it, by its message or by a fence:
until then, :meth:`forward` still sees it and the fence still waits for it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import attrs

from mintactors.effects import Effect, Note, Send, TraceLevel
from mintactors.hardware.snapshots import StoreBufferSnapshot, StoredEntrySnapshot
from mintactors.messages import DrainStores
from mintactors.notes import NoteKind

__all__ = ["BufferedStore", "StoreBuffer", "StoreBufferStatistics"]


class BufferedStore:
    """One store waiting in a buffer: what, where, and when it entered and drains."""

    __slots__ = ("addr", "data", "due_ns", "enter_ns", "seq")

    def __init__(self, seq: int, addr: int, data: bytes, enter_ns: int, due_ns: int) -> None:
        self.seq = seq
        self.addr = addr
        self.data = data
        self.enter_ns = enter_ns
        self.due_ns = due_ns


@attrs.frozen
class StoreBufferStatistics:
    """Counters of one core's store buffer.

    ``drained_by_fence``: entries a fence applied itself at their drain instant,
    before the scheduler delivered their message; ``forwarded_loads``: loads that
    took at least one byte from the buffer; ``high_water``: the most entries held
    at once.
    """

    stores: int
    drained: int
    drained_by_fence: int
    stalls: int
    stall_ns: int
    fences: int
    fence_wait_ns: int
    forwarded_loads: int
    high_water: int


class StoreBuffer:
    """A core's FIFO store buffer, as a pure component used by the code running on it.

    Args:
        core: the core's actor name (its notes are written under it).
        node: the OS node whose stores these are (memory checks them as that node's).
        capacity: entries it holds (Skylake: 56).
        drain_ns: draws the delay from an entry's store to its drain.
        memory_actor: where the drains go.
        trace_level: notes above it are never built.
    """

    def __init__(
        self,
        *,
        core: str,
        node: int,
        capacity: int,
        drain_ns: Callable[[], int],
        memory_actor: str,
        trace_level: TraceLevel = TraceLevel.FULL,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"a store buffer holds at least one entry, not {capacity}")
        self.core = core
        self.node = node
        self.capacity = capacity
        self.drain_ns = drain_ns
        self.memory_actor = memory_actor
        self.full = trace_level >= TraceLevel.FULL
        self.entries: deque[BufferedStore] = deque()
        self._seq = 0
        self._last_due = 0
        self._stores = self._drained = self._forced = self._stalls = self._stall_ns = 0
        self._fences = self._fence_wait = self._forwarded = self._high = 0

    def statistics(self) -> StoreBufferStatistics:
        """The counters so far."""
        return StoreBufferStatistics(
            stores=self._stores,
            drained=self._drained,
            drained_by_fence=self._forced,
            stalls=self._stalls,
            stall_ns=self._stall_ns,
            fences=self._fences,
            fence_wait_ns=self._fence_wait,
            forwarded_loads=self._forwarded,
            high_water=self._high,
        )

    def snapshot(self) -> StoreBufferSnapshot:
        """The stores waiting, oldest first (what other cores cannot see yet)."""
        entries = tuple(
            StoredEntrySnapshot(
                seq=entry.seq,
                addr=f"{entry.addr:#x}",
                length=len(entry.data),
                data=entry.data[:16].hex() + ("..." if len(entry.data) > 16 else ""),
                entered_ns=entry.enter_ns,
                due_ns=entry.due_ns,
            )
            for entry in self.entries
        )
        return StoreBufferSnapshot(self.capacity, entries)

    def __len__(self) -> int:
        return len(self.entries)

    def _waiting_at(self, at_ns: int) -> int:
        """Entries still in the buffer at ``at_ns``: those due after it (a suffix)."""
        count = 0
        for entry in reversed(self.entries):
            if entry.due_ns <= at_ns:
                break
            count += 1
        return count

    # -- the core's code ---------------------------------------------------------------

    def store(
        self, addr: int, data: bytes, at_ns: int, now_ns: int, by: str
    ) -> tuple[int, list[Effect]]:
        """Buffer a store ``by`` a component at ``at_ns`` (its delivery is at ``now_ns``).

        Returns:
            The instant the store entered the buffer (after ``at_ns`` when it was
            full: the code stalls until then), and the effects: the drain message
            and the notes.
        """
        enter = at_ns
        waiting = self._waiting_at(enter)
        effects: list[Effect] = []
        if waiting >= self.capacity:
            # Wait for the entry whose drain leaves capacity - 1 others behind it
            # (entries drain in order, so their due instants never decrease).
            enter = self.entries[len(self.entries) - self.capacity].due_ns
            stalled = enter - at_ns
            self._stalls += 1
            self._stall_ns += stalled
            waiting = self._waiting_at(enter)
            if self.full:
                fields = {"by": by, "waited_ns": stalled, "capacity": self.capacity}
                effects.append(
                    Note(NoteKind.STORE_STALLED, fields, delay_ns=at_ns - now_ns, actor=self.core)
                )
        self._seq += 1
        due = max(enter + self.drain_ns(), self._last_due)
        self._last_due = due
        self.entries.append(BufferedStore(self._seq, addr, data, enter, due))
        self._stores += 1
        occupancy = waiting + 1
        self._high = max(self._high, occupancy)
        effects.append(Send(self.memory_actor, DrainStores(self.core, self._seq), due - now_ns))
        if self.full:
            fields = {
                "by": by,
                "addr": addr,
                "length": len(data),
                "drain_ns": due - enter,
                "occupancy": occupancy,
            }
            effects.append(
                Note(NoteKind.STORE_BUFFERED, fields, delay_ns=enter - now_ns, actor=self.core)
            )
        return enter, effects

    def holds(self, at_ns: int) -> bool:
        """Whether a store made by ``at_ns`` has not reached memory yet."""
        return bool(self.entries) and self.entries[0].enter_ns <= at_ns

    def drained_by(self, at_ns: int) -> int:
        """When every store made by ``at_ns`` will have drained (``at_ns`` if none waits)."""
        until = at_ns
        for entry in self.entries:
            if entry.enter_ns > at_ns:
                break
            until = max(until, entry.due_ns)
        return until

    def forward(self, addr: int, length: int, data: bytes, at_ns: int) -> bytes:
        """``data`` loaded from memory at ``at_ns``, overlaid with this core's buffered stores.

        Entries are laid over it oldest first, so each byte comes from the newest
        store to it (SDM 8.2.3.5: a load sees its own core's buffered store).
        """
        if not self.entries:
            return data
        end = addr + length
        buffer: bytearray | None = None
        for entry in self.entries:
            if entry.enter_ns > at_ns:
                break
            start = entry.addr
            lo, hi = max(start, addr), min(start + len(entry.data), end)
            if lo < hi:
                if buffer is None:
                    buffer = bytearray(data)
                buffer[lo - addr : hi - addr] = entry.data[lo - start : hi - start]
        if buffer is None:
            return data
        self._forwarded += 1
        return bytes(buffer)

    def fenced(self, by: str, why: str, at_ns: int, until_ns: int, now_ns: int) -> list[Effect]:
        """Count a fence ``by`` a component from ``at_ns`` that waited until ``until_ns``."""
        self._fences += 1
        self._fence_wait += until_ns - at_ns
        if not self.full:
            return []
        fields = {"by": by, "barrier": why, "waited_ns": until_ns - at_ns}
        return [Note(NoteKind.FENCED, fields, delay_ns=until_ns - now_ns, actor=self.core)]

    # -- memory's side ---------------------------------------------------------------------

    def take(self, upto: int | None, now_ns: int) -> list[BufferedStore]:
        """Remove the entries that drain now: through ``upto``, or (a fence) all due by now."""
        taken: list[BufferedStore] = []
        entries = self.entries
        while entries:
            head = entries[0]
            if (head.seq > upto) if upto is not None else (head.due_ns > now_ns):
                break
            taken.append(entries.popleft())
        return taken

    def drained(self, taken: list[BufferedStore], now_ns: int, forced: bool) -> list[Effect]:
        """Count the entries memory has just applied; their notes."""
        self._drained += len(taken)
        if forced:
            self._forced += len(taken)
        if not self.full or not taken:
            return []
        # As the capacity rule counts them: entries made by now and not due yet
        # (one due now but not yet delivered has left the buffer at this instant).
        left = sum(1 for entry in self.entries if entry.enter_ns <= now_ns < entry.due_ns)
        notes: list[Effect] = []
        for entry in taken:
            fields = {
                "addr": entry.addr,
                "length": len(entry.data),
                "occupancy": left,
                "by_fence": forced,
            }
            notes.append(Note(NoteKind.STORE_DRAINED, fields, actor=self.core))
        return notes
