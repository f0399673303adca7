"""Physical memory partitioned between Mint OS nodes, with one shared range.

Mint gives each OS node a disjoint range of physical memory and lets a shared range
be seen by all of them (the debugging environment keeps the NIC receive buffers and
descriptors there). Memory here holds real bytes, in 4 KiB pages allocated on first
write, so a 256 MiB partition costs nothing until it is used.

Every access names the node making it. An access that is not wholly inside one range
the node may use is refused: nothing is read or written and the violation is
recorded (a refused load answers None to its loader). No node can corrupt another's
memory.

Stores are messages (:class:`MemoryWrite`): posted, applied in order at their
delivery. Loads are made by the loading actor during its own delivery at the
instant of the load (:meth:`PhysicalMemory.load`), which is the instant the
scheduler ordered against every store due then; the loader charges the latency
itself (``latency_ns``: a cache-line transfer between cores, about 25-35 ns on
current parts, domain.md 3.3). A load carries no timing choice of its own that a
reply message would add, so it has none.

The emulated 8254x register block lives in shared memory too; with its base given,
writes to IMS, IMC and ICS set and clear bits as the device does. A real 8254x
asserts its interrupt whenever a cause latched in ICR is enabled in IMS, so
unmasking a cause that was latched while masked raises the interrupt at once. The
Mint doorbell is an IPI, an edge sent per frame, and does not; with
:meth:`PhysicalMemory.reassert_on_unmask` the register block tells the emulated
NIC's owner (:class:`LatchedCauseUnmasked`) so that it can raise it, as the device
would.

Under the ``tso`` memory model a core's stores reach memory from its store buffer
(:mod:`mintactors.hardware.store_buffer`): a :class:`DrainStores` message applies
the buffer's oldest entries, and a fence applies what is due at its instant
itself (:meth:`PhysicalMemory.drain`). Each drained store is checked and applied
exactly as a posted one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import attrs

from mintactors.effects import Effect, Note, Send, TraceLevel
from mintactors.errors import UnexpectedMessage, unexpected
from mintactors.hardware.registers import REGISTERS
from mintactors.hardware.snapshots import CAUSE_BITS, RegisterSnapshot, bit_names
from mintactors.hardware.store_buffer import StoreBuffer
from mintactors.messages import DrainStores, LatchedCauseUnmasked, MemoryInput, MemoryWrite
from mintactors.notes import NoteKind

__all__ = [
    "AccessViolation",
    "MemoryRegion",
    "MemorySnapshot",
    "MemoryStatistics",
    "PhysicalMemory",
]

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


@attrs.frozen
class MemorySnapshot:
    """Physical memory: its Mint partitions, what has been touched, refused accesses.

    Attributes:
        regions: each range and the OS nodes that may use it.
        pages_touched: 4 KiB pages written at least once.
        violations: every refused access so far, in order.
        registers: the emulated register block (None: the memory has none).
    """

    regions: tuple[MemoryRegion, ...]
    pages_touched: int
    violations: tuple[AccessViolation, ...]
    registers: RegisterSnapshot | None


class PhysicalMemory:
    """The machine's physical memory as a pure component.

    Args:
        regions: the ranges and who may use them; they must not overlap.
        latency_ns: delay before a load's data reaches the loader.
        registers_base: where the emulated 8254x register block is, so that writes
            to IMS, IMC and ICS set and clear bits as on the device.
    """

    def __init__(
        self,
        *,
        regions: Sequence[MemoryRegion],
        latency_ns: int,
        registers_base: int | None = None,
    ) -> None:
        ordered = sorted(regions, key=lambda r: r.base)
        for before, after in itertools.pairwise(ordered):
            if before.end > after.base:
                raise ValueError(f"memory regions {before.name} and {after.name} overlap")
        self.regions = tuple(ordered)
        # (base, end, nodes) per region, for the check every access makes.
        self._bounds = tuple((r.base, r.end, r.nodes) for r in ordered)
        self.latency_ns = latency_ns
        self._pages: dict[int, bytearray] = {}
        self.violations: list[AccessViolation] = []
        #: Write address of IMS, IMC, ICS -> (the register it changes, set or clear).
        self.registers: dict[int, tuple[int, str]] | None = None
        self.registers_base = registers_base
        if registers_base is not None:
            ims, icr = registers_base + REGISTERS["IMS"], registers_base + REGISTERS["ICR"]
            self.registers = {
                ims: (ims, "set"),
                registers_base + REGISTERS["IMC"]: (ims, "clear"),
                registers_base + REGISTERS["ICS"]: (icr, "set"),
            }
            self._ims, self._icr = ims, icr
        #: Who raises the interrupt when IMS enables a latched cause (None: nobody).
        self.unmask_listener: str | None = None
        self._reads = self._writes = self._bytes_read = self._bytes_written = 0
        #: The cores' store buffers by core name (memory model ``tso`` only).
        self.store_buffers: dict[str, StoreBuffer] = {}

    def attach(self, buffer: StoreBuffer) -> None:
        """Take the drains of ``buffer`` (one core's store buffer)."""
        self.store_buffers[buffer.core] = buffer

    def reassert_on_unmask(self, actor: str) -> None:
        """Tell ``actor`` when a write to IMS enables a cause already latched in ICR.

        Raises:
            ValueError: the memory has no register block.
        """
        if self.registers is None:
            raise ValueError("no register block: nothing can be unmasked")
        self.unmask_listener = actor

    # -- direct access, for building and inspecting a machine outside a run ----------

    def allowed(self, node: int, addr: int, length: int) -> bool:
        """True when ``node`` may touch ``addr .. addr+length``."""
        if length < 0 or addr < 0:
            return False
        end = addr + length
        for base, region_end, nodes in self._bounds:
            if base <= addr and end <= region_end:
                return node in nodes
        return False

    def peek(self, addr: int, length: int) -> bytes:
        """Read bytes with no access check and no cost (for inspection and tests)."""
        page, offset = divmod(addr, PAGE_SIZE)
        if length > 0 and offset + length <= PAGE_SIZE:  # within one page: most reads
            stored = self._pages.get(page)
            return bytes(stored[offset : offset + length]) if stored is not None else bytes(length)
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
        page, offset = divmod(addr, PAGE_SIZE)
        if offset + len(data) <= PAGE_SIZE:  # within one page: most writes
            stored = self._pages.get(page)
            if stored is None:
                stored = self._pages[page] = bytearray(PAGE_SIZE)
            stored[offset : offset + len(data)] = data
            return
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

    def register_value(self, name: str) -> int:
        """A 32-bit register of the emulated block, with no check and no cost.

        Raises:
            ValueError: the memory has no register block.
        """
        if self.registers_base is None:
            raise ValueError("no register block")
        # Registers are 4-byte aligned, so one never straddles a page: read it in
        # place (a watch reads one after every delivery).
        page, offset = divmod(self.registers_base + REGISTERS[name], PAGE_SIZE)
        stored = self._pages.get(page)
        return 0 if stored is None else int.from_bytes(stored[offset : offset + 4], "little")

    def register_reader(self, name: str) -> Callable[[], int]:
        """A function that reads register ``name`` in place: for a caller reading it often.

        Raises:
            ValueError: the memory has no register block.
        """
        if self.registers_base is None:
            raise ValueError("no register block")
        page, offset = divmod(self.registers_base + REGISTERS[name], PAGE_SIZE)
        pages, end = self._pages, offset + 4

        def read() -> int:
            stored = pages.get(page)
            return 0 if stored is None else int.from_bytes(stored[offset:end], "little")

        return read

    def snapshot(self) -> MemorySnapshot:
        """Regions, pages touched, refusals and the decoded register block (for inspection)."""
        registers = None
        if self.registers_base is not None:
            value = self.register_value
            ims, icr = value("IMS"), value("ICR")
            registers = RegisterSnapshot(
                base=self.registers_base,
                ims=ims,
                ims_causes=bit_names(ims, CAUSE_BITS),
                icr=icr,
                icr_causes=bit_names(icr, CAUSE_BITS),
                rctl=value("RCTL"),
                rdbal=value("RDBAL"),
                rdbah=value("RDBAH"),
                rdlen=value("RDLEN"),
                rdh=value("RDH"),
                rdt=value("RDT"),
            )
        return MemorySnapshot(
            regions=self.regions,
            pages_touched=len(self._pages),
            violations=tuple(self.violations),
            registers=registers,
        )

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
        """Apply one posted write (a sequence of stores, in order), or a store-buffer drain.

        A store outside what the node may touch is not an error: it is refused and
        recorded, as the hardware would.

        Raises:
            UnexpectedMessage: a drain for a core with no store buffer here, or a
                message memory does not take.
        """
        match message:
            case MemoryWrite(node=node, writes=writes, then=then):
                effects = self._write(node, writes, now_ns)
                if then is not None:
                    if then.note:
                        effects.append(Note(then.note, dict(then.fields), actor=then.sender))
                    effects.append(Send(then.to, then.message, actor=then.sender))
                return effects
            case DrainStores(core=core, upto=upto):
                buffer = self.store_buffers.get(core)
                if buffer is None:
                    raise UnexpectedMessage("PhysicalMemory", message, "no such store buffer")
                return self.drain(buffer, now_ns, upto)
            case _:
                raise unexpected("PhysicalMemory", message)

    def drain(self, buffer: StoreBuffer, now_ns: int, upto: int | None = None) -> list[Effect]:
        """Apply ``buffer``'s entries through ``upto``, or (a fence: None) all due by now."""
        taken = buffer.take(upto, now_ns)
        if not taken:
            return []
        node = buffer.node
        effects = self._write(node, tuple((entry.addr, entry.data) for entry in taken), now_ns)
        effects += buffer.drained(taken, now_ns, forced=upto is None)
        return effects

    def store_now(self, node: int, addr: int, data: bytes, now_ns: int) -> list[Effect]:
        """A store that reaches memory at once, in the storer's own delivery (a locked write)."""
        return self._write(node, ((addr, data),), now_ns)

    # -- loads: by the loading core, at the instant of its load --------------------------

    def load(self, node: int, addr: int, length: int, now_ns: int) -> bytes | None:
        """A load by software of ``node`` at ``now_ns``: the bytes, or None if refused.

        Loads are made by the loader during its own delivery at the load's instant
        (the scheduler has ordered that delivery against every store arriving at the
        same instant), and the loader charges the latency; a refused load is
        recorded here like a refused store.
        """
        if not self.allowed(node, addr, length):
            self.violations.append(AccessViolation(now_ns, node, addr, length, "read"))
            return None
        self._reads += 1
        self._bytes_read += length
        return self.peek(addr, length)

    def read_register(
        self, node: int, addr: int, now_ns: int, *, clear: bool = False
    ) -> int | None:
        """Read a 32-bit device register; ``clear``: read-to-clear (ICR). None if refused."""
        data = self.load(node, addr, 4, now_ns)
        if data is None:
            return None
        if clear:
            self.poke(addr, bytes(4))
        return int.from_bytes(data, "little")

    # -- stores --------------------------------------------------------------------------

    def _write(self, node: int, writes: tuple[tuple[int, bytes], ...], now_ns: int) -> list[Effect]:
        effects: list[Effect] = []
        registers = self.registers
        for addr, data in writes:
            length = len(data)
            if not self.allowed(node, addr, length):
                effects += self._refuse(node, addr, length, now_ns)
                continue
            if registers is not None and length == 4 and addr in registers:
                effects += self._write_register(registers[addr], data)
            else:
                self.poke(addr, data)
            self._writes += 1
            self._bytes_written += length
        return effects

    def _write_register(self, target: tuple[int, str], data: bytes) -> Sequence[Effect]:
        """IMS sets mask bits, IMC clears them, ICS sets cause bits in ICR (8254x 13.4)."""
        addr, how = target
        value = int.from_bytes(data, "little")
        old = int.from_bytes(self.peek(addr, 4), "little")
        new = old | value if how == "set" else old & ~value
        self.poke(addr, (new & 0xFFFFFFFF).to_bytes(4, "little"))
        if self.unmask_listener is None or addr != self._ims:
            return ()
        latched = int.from_bytes(self.peek(self._icr, 4), "little") & new & ~old
        if not latched:
            return ()
        return (Send(self.unmask_listener, LatchedCauseUnmasked(latched)),)

    def _refuse(self, node: int, addr: int, length: int, now_ns: int) -> Sequence[Effect]:
        self.violations.append(AccessViolation(now_ns, node, addr, length, "write"))
        return [
            Note(
                NoteKind.ACCESS_VIOLATION,
                {"node": node, "addr": addr, "length": length, "access": "write"},
                TraceLevel.SUMMARY,
            )
        ]
