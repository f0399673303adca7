"""Physical memory partitioned between Mint OS nodes, with one shared range.

Mint gives each OS node a disjoint range of physical memory and lets a shared range
be seen by all of them (the debugging environment keeps the NIC receive buffers and
descriptors there). Memory here holds real bytes, in 4 KiB pages allocated on first
write, so a 256 MiB partition costs nothing until it is used.

Every access names the node making it. An access that is not wholly inside one range
the node may use is refused: nothing is read or written, the violation is recorded
and, where the access asked for an answer, a :class:`MemoryFault` is returned. No
node can corrupt another's memory.

Reads are answered after ``latency_ns`` (a cache-line transfer between cores: about
25-35 ns on current parts, domain.md 3.3). Writes take effect when handled, so a
writer that wants its data to land at the end of a copy sends the write then.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import attrs

from mintactors.effects import Effect, Note, Send, TraceLevel
from mintactors.errors import unexpected
from mintactors.messages import MemoryData, MemoryFault, MemoryInput, MemoryRead, MemoryWrite
from mintactors.notes import NoteKind

__all__ = ["AccessViolation", "MemoryRegion", "MemoryStatistics", "PhysicalMemory"]

PAGE_SIZE = 4096


@attrs.frozen
class MemoryRegion:
    """A physical address range and the OS nodes allowed to use it."""

    name: str
    base: int
    size: int
    nodes: frozenset[int]

    @property
    def end(self) -> int:
        """One past the last address."""
        return self.base + self.size


@attrs.frozen
class AccessViolation:
    """One refused access: who, where, what, when."""

    t_ns: int
    node: int
    addr: int
    length: int
    access: str


@attrs.frozen
class MemoryStatistics:
    """Counters of the memory actor."""

    reads: int
    writes: int
    bytes_read: int
    bytes_written: int
    violations: int
    pages_touched: int


class PhysicalMemory:
    """The machine's physical memory as a pure component.

    Args:
        regions: the ranges and who may use them; they must not overlap.
        latency_ns: delay before a read's data reaches the reader.
    """

    def __init__(self, *, regions: Sequence[MemoryRegion], latency_ns: int) -> None:
        ordered = sorted(regions, key=lambda r: r.base)
        for before, after in itertools.pairwise(ordered):
            if before.end > after.base:
                raise ValueError(f"memory regions {before.name} and {after.name} overlap")
        self.regions = tuple(ordered)
        self.latency_ns = latency_ns
        self._pages: dict[int, bytearray] = {}
        self.violations: list[AccessViolation] = []
        self._reads = self._writes = self._bytes_read = self._bytes_written = 0

    # -- direct access, for building and inspecting a machine outside a run ----------

    def allowed(self, node: int, addr: int, length: int) -> bool:
        """True when ``node`` may touch ``addr .. addr+length``."""
        if length < 0 or addr < 0:
            return False
        for region in self.regions:
            if region.base <= addr and addr + length <= region.base + region.size:
                return node in region.nodes
        return False

    def peek(self, addr: int, length: int) -> bytes:
        """Read bytes with no access check and no cost (for inspection and tests)."""
        out = bytearray()
        while length > 0:
            page, offset = divmod(addr, PAGE_SIZE)
            take = min(length, PAGE_SIZE - offset)
            stored = self._pages.get(page)
            out += stored[offset : offset + take] if stored is not None else bytes(take)
            addr += take
            length -= take
        return bytes(out)

    def poke(self, addr: int, data: bytes) -> None:
        """Write bytes with no access check and no cost (for inspection and tests)."""
        view = memoryview(data)
        while view:
            page, offset = divmod(addr, PAGE_SIZE)
            take = min(len(view), PAGE_SIZE - offset)
            stored = self._pages.get(page)
            if stored is None:
                stored = self._pages[page] = bytearray(PAGE_SIZE)
            stored[offset : offset + take] = view[:take]
            view = view[take:]
            addr += take

    def statistics(self) -> MemoryStatistics:
        """The counters so far."""
        return MemoryStatistics(
            reads=self._reads,
            writes=self._writes,
            bytes_read=self._bytes_read,
            bytes_written=self._bytes_written,
            violations=len(self.violations),
            pages_touched=len(self._pages),
        )

    # -- the component ---------------------------------------------------------------

    def handle(self, message: MemoryInput, now_ns: int) -> Sequence[Effect]:
        """Serve one read or write.

        An access outside what the node may touch is not an error: it is refused,
        recorded and answered, as the hardware would.

        Raises:
            UnexpectedMessage: a message that is neither a read nor a write.
        """
        match message:
            case MemoryWrite():
                return self._write(message, now_ns)
            case MemoryRead():
                return self._read(message, now_ns)
            case _:
                raise unexpected("PhysicalMemory", message)

    def _write(self, message: MemoryWrite, now_ns: int) -> Sequence[Effect]:
        effects: list[Effect] = []
        for addr, data in message.writes:
            length = len(data)
            if not self.allowed(message.node, addr, length):
                effects += self._refuse(message, addr, length, now_ns)
                continue
            self.poke(addr, data)
            self._writes += 1
            self._bytes_written += length
        return effects

    def _read(self, message: MemoryRead, now_ns: int) -> Sequence[Effect]:
        for addr, length in message.ranges:
            if not self.allowed(message.node, addr, length):
                return self._refuse(message, addr, length, now_ns)
        chunks = tuple(self.peek(addr, length) for addr, length in message.ranges)
        self._reads += 1
        self._bytes_read += sum(len(c) for c in chunks)
        return (Send(message.reply_to, MemoryData(message.tag, chunks), self.latency_ns),)

    def _refuse(
        self, message: MemoryRead | MemoryWrite, addr: int, length: int, now_ns: int
    ) -> Sequence[Effect]:
        node = message.node
        access = "read" if isinstance(message, MemoryRead) else "write"
        self.violations.append(AccessViolation(now_ns, node, addr, length, access))
        effects: list[Effect] = [
            Note(
                NoteKind.ACCESS_VIOLATION,
                {"node": node, "addr": addr, "length": length, "access": access},
                TraceLevel.SUMMARY,
            )
        ]
        if message.reply_to:
            fault = MemoryFault(message.tag, node, addr, length, access)
            effects.append(Send(message.reply_to, fault, self.latency_ns))
        return effects
