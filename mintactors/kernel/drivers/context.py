"""What driver code can do: the whole surface of :class:`DriverContext`.

Each primitive is called with ``yield from``: one that answers (a load, a register
read) is a generator function, one that does not (a store, a barrier) returns its
operations as a tuple, which costs less. Each names its Linux counterpart and the
cost-profile field it spends (``docs/drivers.md`` lists them side by side).

CPU time is spent at the next operation that must happen at its own instant (a
read; in softirq context, any operation), so, with interrupts enabled, an interrupt
can arrive anywhere in it; until then it only adds up. That is why ``cpu``,
and a barrier that cannot wait under the memory model, charge the running code at
once and yield nothing. In the hard-IRQ handler (interrupts off) nothing interleaves
with the driver but the other cores' work on shared memory.
"""

from __future__ import annotations

import struct
from typing import Protocol

import attrs

from mintactors.hardware.nic import DESCRIPTOR_LEN, STATUS_OFFSET, NicLayout, RxDescriptor
from mintactors.kernel.drivers.ops import (
    AllocSkb,
    Barrier,
    BarrierKind,
    Code,
    Cpu,
    Deliver,
    DropFrame,
    HandUp,
    Load,
    Napi,
    NapiOp,
    Ops,
    Readl,
    Step,
    Store,
    Trace,
    Writel,
    Xchg,
)
from mintactors.messages import SocketBuffer

__all__ = ["DriverContext", "DriverCosts", "Skb"]

#: The skb a driver builds; it becomes a socket buffer when handed up.
Skb = SocketBuffer

#: One barrier of each kind, ready to yield (a barrier carries nothing else).
_BARRIERS: dict[BarrierKind, Ops] = {kind: (Barrier(kind),) for kind in BarrierKind}
#: Nothing to yield: a step no injection fires at, or CPU time and barriers charged at once.
_NOTHING: Ops = ()


@attrs.frozen
class DriverCosts:
    """Time the driver's primitives take on the target core, in ns (cost-profile fields)."""

    descriptor_ns: int
    skb_alloc_ns: int
    stack_ns: int
    refill_ns: int
    eoi_ns: int
    load_ns: int
    mb_ns: int = 0
    rmb_ns: int = 0
    wmb_ns: int = 0
    handup_ns: int = 0


class Charged(Protocol):
    """Code under way, as the context sees it: the CPU time it has spent so far."""

    acc: int


class DriverContext:
    """The kernel and the device as driver code sees them.

    Args:
        layout: where the ring, the buffers and the register block are.
        costs: the cost of each primitive.
    """

    def __init__(self, layout: NicLayout, costs: DriverCosts) -> None:
        self.layout = layout
        self.costs = costs
        #: Steps the kernel need not hear of: declared, and no injection fires at
        #: them (the shell fills it in; a step is then only a mark in the code).
        self.quiet_steps: frozenset[str] = frozenset()
        #: How often each step has been reached (the shell counts the others).
        self.step_counts: dict[str, int] = {}
        self._steps: dict[str, Ops] = {}
        #: The code the shell is running (set while it runs; None otherwise).
        self.code: Charged | None = None
        #: What each barrier that never waits under the memory model costs (the
        #: shell fills it in): such a barrier is charged like CPU time.
        self.barrier_costs: dict[BarrierKind, int] = {}

    @property
    def ring_size(self) -> int:
        """Descriptors in the ring (``rx_ring->count``)."""
        return self.layout.ring_size

    # -- time ---------------------------------------------------------------------------

    def cpu(self, ns: int) -> Ops:
        """Spend ``ns`` of CPU time (the cost of code the model does not spell out).

        Time spent never waits by itself (it is spent at the next point where
        something can interleave), so in the shell it is charged to the running code
        at once, with no operation to yield; outside it, it is a ``Cpu`` operation.
        """
        code = self.code
        if code is None:
            return (Cpu(ns),)
        code.acc += ns
        return _NOTHING

    def step(self, name: str) -> Ops:
        """Mark a named point of the code; ``[[inject]]`` entries fire at it."""
        if name in self.quiet_steps:
            counts = self.step_counts
            counts[name] = counts.get(name, 0) + 1
            return _NOTHING
        steps = self._steps
        op = steps.get(name)
        if op is None:
            op = steps[name] = (Step(name),)
        return op

    def note(self, kind: str, **fields: object) -> Ops:
        """Write a trace note at the code's current time."""
        return (Trace(kind, fields),)

    # -- shared memory ------------------------------------------------------------------

    def load(self, addr: int, length: int) -> Code[bytes]:
        """Read shared memory (``memory_latency_ns``: the core waits for the line)."""
        data: bytes = yield Load(addr, length)
        return data

    def store(self, addr: int, data: bytes) -> Ops:
        """Write shared memory."""
        return (Store(addr, data),)

    def xchg(self, addr: int, data: bytes) -> Code[bytes]:
        """``xchg()``: swap ``data`` in atomically and return what was there.

        A locked instruction: a full barrier on x86 (under ``tso`` it waits for the
        core's store buffer to drain). Costs ``mb_ns`` plus a load.
        """
        old: bytes = yield Xchg(addr, data)
        return old

    def desc_addr(self, index: int) -> int:
        """``E1000_RX_DESC(*rx_ring, i)``: the address of descriptor ``index``.

        Like the C macro it indexes the array without wrapping: an index past the
        ring reads whatever lies beyond it.
        """
        return self.layout.ring_base + index * DESCRIPTOR_LEN

    def read_desc(self, index: int) -> Code[RxDescriptor]:
        """Load the 16 bytes of descriptor ``index``."""
        raw = yield Load(self.desc_addr(index), DESCRIPTOR_LEN)
        return RxDescriptor.unpack(raw)

    def write_desc(self, index: int, desc: RxDescriptor) -> Ops:
        """Store all 16 bytes of descriptor ``index``."""
        return (Store(self.desc_addr(index), desc.pack()),)

    def write_status(self, index: int, status: int) -> Ops:
        """Store descriptor ``index``'s status byte (``rx_desc->status = 0`` gives it back)."""
        return (Store(self.desc_addr(index) + STATUS_OFFSET, bytes([status])),)

    def buffer_addr(self, index: int) -> int:
        """The receive buffer the driver gives descriptor ``index`` (its DMA mapping)."""
        return self.layout.buffer(index)

    # -- device registers ---------------------------------------------------------------

    def readl(self, reg: str) -> Code[int]:
        """``er32(REG)``: read a device register (ICR is read-to-clear)."""
        value: int = yield Readl(reg)
        return value

    def writel(self, reg: str, value: int) -> Ops:
        """``ew32(REG, value)``: write a device register (IMS sets, IMC clears mask bits)."""
        return (Writel(reg, value),)

    def write_flush(self) -> Code[None]:
        """``E1000_WRITE_FLUSH``: read STATUS so posted register writes reach the device."""
        yield Readl("STATUS")

    # -- barriers -----------------------------------------------------------------------

    def _barrier(self, kind: BarrierKind) -> Ops:
        """A barrier: charged at once if it never waits here, else an operation."""
        code = self.code
        cost = self.barrier_costs.get(kind)
        if code is None or cost is None:
            return _BARRIERS[kind]
        code.acc += cost
        return _NOTHING

    def mb(self) -> Ops:
        """``mb()``: a full barrier (``mfence``; ``mb_ns``)."""
        return self._barrier(BarrierKind.MB)

    def rmb(self) -> Ops:
        """``rmb()``: loads before it complete before loads after it (``lfence``; ``rmb_ns``)."""
        return self._barrier(BarrierKind.RMB)

    def wmb(self) -> Ops:
        """``wmb()``: earlier stores are visible before later ones (``sfence``; ``wmb_ns``)."""
        return self._barrier(BarrierKind.WMB)

    def smp_mb(self) -> Ops:
        """``smp_mb()``: a full barrier between cores (a locked add on x86; ``mb_ns``)."""
        return self._barrier(BarrierKind.SMP_MB)

    def smp_rmb(self) -> Ops:
        """``smp_rmb()``: a compiler barrier on x86 (TSO keeps load order)."""
        return self._barrier(BarrierKind.SMP_RMB)

    def smp_wmb(self) -> Ops:
        """``smp_wmb()``: a compiler barrier on x86 (TSO keeps store order)."""
        return self._barrier(BarrierKind.SMP_WMB)

    def dma_wmb(self) -> Ops:
        """``dma_wmb()``: descriptor writes before the tail write (x86: compiler)."""
        return self._barrier(BarrierKind.DMA_WMB)

    def dma_rmb(self) -> Ops:
        """``dma_rmb()``: read the descriptor's fields only after its DD bit (x86: compiler)."""
        return self._barrier(BarrierKind.DMA_RMB)

    # -- skbs and the stack -------------------------------------------------------------

    def copy_to_skb(self, addr: int, length: int) -> Code[Skb]:
        """Allocate an skb and copy the frame at ``addr`` into it.

        ``napi_alloc_skb`` + ``skb_put_data`` (e1000's copybreak path):
        ``skb_alloc_ns`` plus the copy (``copy_points``). The frame now belongs to
        the driver until it hands the skb up or drops it.
        """
        skb: Skb = yield AllocSkb(addr, length)
        return skb

    def netif_rx(self, skb: Skb) -> Ops:
        """``netif_rx``: queue an skb on this CPU's backlog and raise NET_RX (``handup_ns``).

        The protocol stack (``stack_ns``) runs later, in the softirq. A full backlog
        (``netdev_max_backlog``) drops the skb with reason ``backlog``.
        """
        return (HandUp(skb, "netif_rx"),)

    def napi_gro_receive(self, skb: Skb) -> Ops:
        """``napi_gro_receive``: pass an skb up the stack now (``handup_ns`` + ``stack_ns``).

        Only in a NAPI poll.
        """
        return (HandUp(skb, "napi_gro_receive"), Deliver(skb))

    def drop(self, reason: str, skb: Skb | None = None) -> Ops:
        """Drop a frame taken from the ring, with a named reason (``dev_kfree_skb``)."""
        return (DropFrame(reason, skb),)

    # -- NAPI ---------------------------------------------------------------------------

    def napi_schedule_prep(self) -> Code[bool]:
        """``napi_schedule_prep``: take NAPI_STATE_SCHED; if taken, set MISSED and say no."""
        taken: bool = yield Napi(NapiOp.SCHEDULE_PREP)
        return taken

    def napi_schedule(self) -> Code[None]:
        """``__napi_schedule``: queue the poll and raise NET_RX on this core."""
        yield Napi(NapiOp.SCHEDULE)

    def napi_complete_done(self, work_done: int) -> Code[bool]:
        """``napi_complete_done``: leave polling, unless MISSED asks for one more poll."""
        done: bool = yield Napi(NapiOp.COMPLETE_DONE, work_done)
        return done


def u32(value: int) -> bytes:
    """A 32-bit little-endian register value."""
    return struct.pack("<I", value & 0xFFFFFFFF)
