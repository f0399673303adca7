"""Driver code being run, and shared memory as the driver's core sees it.

A :class:`CodeRun` is one piece of driver code in progress (the handler, a
softirq, the probe): its generator, the time it has spent since its last
materialized instant, and the stores it has made at that instant.

:class:`CoreMemory` is what the shell's memory operations do. Under ``sc`` (no
store buffer) the stores of one instant are one posted ``MemoryWrite``, and a load
overlays this core's own stores of its instant, which the memory actor may not
have applied yet. Under ``tso`` every store enters the core's
:class:`~mintactors.hardware.store_buffer.StoreBuffer` and drains later; a load
forwards from it; a full barrier (``mb``, ``smp_mb``), an ``xchg`` and, if so
configured, a ``readl`` first wait until the buffer has drained, then apply at that
instant whatever the scheduler has not yet delivered (docs/model.md).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from mintactors.effects import Effect, Send
from mintactors.hardware.memory import PhysicalMemory
from mintactors.hardware.registers import REGISTERS
from mintactors.hardware.store_buffer import StoreBuffer
from mintactors.kernel.drivers.context import DriverCosts, u32
from mintactors.kernel.drivers.crash import DriverCrash
from mintactors.kernel.drivers.ops import Barrier, BarrierKind, Code, Op, Readl, Xchg
from mintactors.messages import MemoryWrite

__all__ = ["CodeKind", "CodeRun", "CoreMemory"]

#: Barriers that wait for the store buffer to drain (``mfence`` and a locked add);
#: the others are compiler barriers on x86, or fences TSO's order already implies.
DRAINING = frozenset({BarrierKind.MB, BarrierKind.SMP_MB})


class CodeKind(Enum):
    """The context driver code runs in."""

    PROBE = "probe"
    IRQ = "irq"
    SOFTIRQ = "softirq"
    KSOFTIRQD = "ksoftirqd"


class CodeRun:
    """One piece of code being run: the generator, its accumulated time, its stores."""

    __slots__ = (
        "acc",
        "batch",
        "batch_acc",
        "fence_from",
        "gen",
        "irqs_on",
        "kind",
        "pending",
        "result",
        "taken",
    )

    def __init__(self, kind: CodeKind, gen: Code[Any]) -> None:
        self.kind = kind
        self.irqs_on = kind is CodeKind.SOFTIRQ or kind is CodeKind.KSOFTIRQD
        self.gen = gen
        self.result: Any = None  # what the code returned
        self.acc = 0  # ns spent since the current delivery, not yet materialized
        self.pending: Op | None = None  # the op waiting for its instant
        self.batch: list[tuple[int, bytes]] = []
        self.batch_acc = 0
        self.taken = 0  # frames taken in this handler run or poll
        self.fence_from = 0  # the instant the code reached its fence (tso)


class CoreMemory:
    """Loads, stores and fences of the code on one core, under the machine's memory model.

    Args:
        name: the actor whose code it is (fences are noted under it).
        memory: the memory component (loads read it at their instant).
        memory_actor: the memory actor's name (posted stores go to it).
        node: the OS node the code runs in.
        registers_base: where the device's register block starts.
        costs: the primitives' costs (loads, barriers).
        store_buffer: the core's store buffer (memory model ``tso``); None: ``sc``.
        uc_load_drains: under ``tso``, a ``readl`` first waits for the buffer to drain.
    """

    def __init__(
        self,
        *,
        name: str,
        memory: PhysicalMemory,
        memory_actor: str,
        node: int,
        registers_base: int,
        costs: DriverCosts,
        store_buffer: StoreBuffer | None = None,
        uc_load_drains: bool = False,
    ) -> None:
        self.name = name
        self.memory = memory
        self.memory_actor = memory_actor
        self.node = node
        self.costs = costs
        self.store_buffer = store_buffer
        self.uc_load_drains = uc_load_drains
        self.registers = {reg: registers_base + offset for reg, offset in REGISTERS.items()}
        # What has been stored but may not have reached memory yet: (instant, addr, data).
        self._recent: list[tuple[int, int, bytes]] = []

    def register(self, reg: str) -> int:
        """The address of device register ``reg``."""
        try:
            return self.registers[reg]
        except KeyError:
            raise DriverCrash(
                f"no register {reg!r} (registers: {', '.join(sorted(self.registers))})"
            ) from None

    def store(self, run: CodeRun, addr: int, data: bytes, now_ns: int, out: list[Effect]) -> None:
        """Store ``data`` at the code's instant: into the buffer, or into the instant's batch."""
        buffer = self.store_buffer
        if buffer is not None:
            # A full buffer stalls the store: the code spends the wait.
            entered, effects = buffer.store(addr, data, now_ns + run.acc, now_ns, self.name)
            out += effects
            run.acc = entered - now_ns
            return
        if run.batch and run.batch_acc != run.acc:
            self.flush(run, now_ns, out)
        if not run.batch:
            run.batch_acc = run.acc
        run.batch.append((addr, data))

    def flush(self, run: CodeRun, now_ns: int, out: list[Effect]) -> None:
        """Post the stores of the code's last instant (``sc``) as one write."""
        if not run.batch:
            return
        writes = tuple(run.batch)
        run.batch = []
        out.append(Send(self.memory_actor, MemoryWrite(self.node, writes), run.batch_acc))
        at = now_ns + run.batch_acc
        self._recent.extend((at, addr, data) for addr, data in writes)

    def load(self, addr: int, length: int, at: int, now_ns: int | None = None) -> bytes:
        """Read memory at instant ``at``, seeing this core's own stores not yet applied.

        ``now_ns`` is the delivery the load is made in (``at`` itself unless the code
        runs ahead): memory holds every store due before it, and none due from it on,
        which the load therefore overlays (under ``sc``), in the order they were made.
        """
        data = self.memory.load(self.node, addr, length, at)
        if data is None:
            raise DriverCrash(
                f"the driver read {length} bytes at {addr:#x}, which node {self.node} may not touch"
            )
        if self.store_buffer is not None:
            return self.store_buffer.forward(addr, length, data, at)
        applied_before = at if now_ns is None else now_ns
        recent = self._recent = [entry for entry in self._recent if entry[0] >= applied_before]
        if recent:
            buffer = bytearray(data)
            for _, start, stored in recent:
                lo, hi = max(start, addr), min(start + len(stored), addr + length)
                if lo < hi:
                    buffer[lo - addr : hi - addr] = stored[lo - start : hi - start]
            data = bytes(buffer)
        return data

    def readl(self, reg: str, at: int) -> int:
        """Read device register ``reg`` at instant ``at`` (reading ICR clears it)."""
        addr = self.register(reg)
        value = self.memory.read_register(self.node, addr, at, clear=reg == "ICR")
        if value is None:
            raise DriverCrash(f"the driver cannot read register {reg} as node {self.node}")
        if self.store_buffer is not None:  # not reordered with an older store to it (SDM 8.2.2)
            raw = self.store_buffer.forward(addr, 4, u32(value), at)
            value = int.from_bytes(raw, "little")
        return value

    def readl_now(self, run: CodeRun, reg: str, now_ns: int, out: list[Effect]) -> int:
        """``readl`` at the code's instant: a draining one waits for the buffer first."""
        self.flush(run, now_ns, out)
        if self.uc_load_drains and self.store_buffer is not None:
            self.drain_now(run, now_ns, out, "readl")
        value = self.readl(reg, now_ns + run.acc)
        run.acc += self.costs.load_ns
        return value

    # -- the memory model's waits (tso) ---------------------------------------------------

    def drains(self, op: Op) -> bool:
        """Whether ``op`` waits for the store buffer to drain (tso)."""
        kind = type(op)
        if kind is Barrier:
            return op.kind in DRAINING  # type: ignore[attr-defined]
        return kind is Xchg or (kind is Readl and self.uc_load_drains)

    def drain_first(self, run: CodeRun, now_ns: int) -> bool:
        """Move the code's time on to when its core's buffer has drained; True if it waits.

        An ``mfence``, a locked instruction or a draining ``readl`` cannot complete
        while a store made before it is still buffered (SDM Vol. 3A 8.2.5, 11.10).
        """
        buffer = self.store_buffer
        assert buffer is not None
        at = now_ns + run.acc
        run.fence_from = at
        if not buffer.holds(at):
            return False
        run.acc = buffer.drained_by(at) - now_ns
        return True

    def drain_now(self, run: CodeRun, now_ns: int, out: list[Effect], why: str) -> None:
        """At the fence's instant: apply what is due and not yet delivered, then note it."""
        buffer = self.store_buffer
        assert buffer is not None
        at = now_ns + run.acc
        out += self.memory.drain(buffer, at)
        out += buffer.fenced(self.name, why, run.fence_from, at, now_ns)

    def fence(self, run: CodeRun, kind: BarrierKind, now_ns: int, out: list[Effect]) -> None:
        """A barrier at its instant (tso): what it waited for is applied, then its cost."""
        self.drain_now(run, now_ns, out, kind.value)
        run.acc += self.barrier_ns(kind)

    def xchg(self, run: CodeRun, addr: int, data: bytes, now_ns: int, out: list[Effect]) -> bytes:
        """A locked swap: after the drain, read and write memory in one delivery (tso)."""
        self.flush(run, now_ns, out)
        at = now_ns + run.acc
        buffer = self.store_buffer
        if buffer is not None:
            self.drain_now(run, now_ns, out, "xchg")
        old = self.load(addr, len(data), at, now_ns)
        if buffer is None:  # sc: a load and a store at one instant, as every access is
            self.store(run, addr, data, now_ns, out)
        else:  # the locked store is not buffered
            out += self.memory.store_now(self.node, addr, data, at)
        run.acc += self.costs.mb_ns + self.costs.load_ns
        return old

    def barrier_ns(self, kind: BarrierKind) -> int:
        """What barrier ``kind`` costs once it no longer waits."""
        costs = self.costs
        if kind in DRAINING:
            return costs.mb_ns
        if kind is BarrierKind.RMB:
            return costs.rmb_ns
        if kind is BarrierKind.WMB:
            return costs.wmb_ns
        return 0  # compiler barriers on x86
