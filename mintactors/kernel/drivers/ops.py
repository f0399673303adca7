"""The operations driver code yields to the shell that runs it.

A driver's handler, poll and refill are generator functions: each primitive of
:class:`~mintactors.kernel.drivers.context.DriverContext` yields one of these
records and is resumed with its answer (the bytes of a load, the value of a
register, whether ``napi_schedule_prep`` took the poll). Driver code never builds
them itself; it writes ``desc = yield from ctx.read_desc(i)``.

They are plain slotted classes: the shell handles millions of them a run.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from enum import Enum
from typing import Any, TypeAlias, TypeVar

from mintactors.messages import SocketBuffer

__all__ = [
    "AllocSkb",
    "Barrier",
    "BarrierKind",
    "Clock",
    "Code",
    "Cpu",
    "Deliver",
    "DropFrame",
    "HandUp",
    "Load",
    "Napi",
    "NapiOp",
    "Op",
    "Ops",
    "Readl",
    "Step",
    "Store",
    "Sync",
    "Trace",
    "Writel",
    "Xchg",
    "describe_op",
]

T = TypeVar("T")


class Op:
    """One thing driver code asks of the shell."""

    __slots__ = ()


#: Driver code: a generator of operations that finally returns a ``T``.
Code: TypeAlias = Generator[Op, Any, T]

#: What a primitive with no answer gives (CPU time, a store, a barrier, a step):
#: its operations, to ``yield from`` like any primitive. A tuple costs less than a
#: generator, and these are most of what driver code does; the shell answers each
#: with None, which is all ``yield from`` a tuple accepts.
Ops: TypeAlias = tuple[Op, ...]


class Cpu(Op):
    """Spend ``ns`` of CPU time."""

    __slots__ = ("ns",)

    def __init__(self, ns: int) -> None:
        self.ns = ns


class Load(Op):
    """Load ``length`` bytes of shared memory at ``addr`` (answered with the bytes)."""

    __slots__ = ("addr", "length")

    def __init__(self, addr: int, length: int) -> None:
        self.addr = addr
        self.length = length


class Store(Op):
    """Store ``data`` at ``addr`` in shared memory."""

    __slots__ = ("addr", "data")

    def __init__(self, addr: int, data: bytes) -> None:
        self.addr = addr
        self.data = data


class Readl(Op):
    """Read device register ``reg`` (answered with its 32-bit value)."""

    __slots__ = ("reg",)

    def __init__(self, reg: str) -> None:
        self.reg = reg


class Writel(Op):
    """Write ``value`` to device register ``reg``."""

    __slots__ = ("reg", "value")

    def __init__(self, reg: str, value: int) -> None:
        self.reg = reg
        self.value = value


class Xchg(Op):
    """Atomically swap ``data`` into shared memory at ``addr`` (answered with the old bytes).

    A locked read-modify-write (``xchg``): on x86 it drains the core's store buffer
    first and its store is not buffered (SDM Vol. 3A 8.1.2, 8.2.5).
    """

    __slots__ = ("addr", "data")

    def __init__(self, addr: int, data: bytes) -> None:
        self.addr = addr
        self.data = data


class BarrierKind(Enum):
    """The Linux barriers (``Documentation/memory-barriers.txt``) and what they are on x86."""

    MB = "mb"  # mfence
    RMB = "rmb"  # lfence
    WMB = "wmb"  # sfence
    SMP_MB = "smp_mb"  # a locked add to the stack: a full barrier
    SMP_RMB = "smp_rmb"  # compiler barrier on x86
    SMP_WMB = "smp_wmb"  # compiler barrier on x86
    DMA_RMB = "dma_rmb"  # compiler barrier on x86
    DMA_WMB = "dma_wmb"  # compiler barrier on x86


class Barrier(Op):
    """A memory barrier of ``kind``."""

    __slots__ = ("kind",)

    def __init__(self, kind: BarrierKind) -> None:
        self.kind = kind


class Step(Op):
    """The code reached the named step: an ``[[inject]]`` can fire here."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class Trace(Op):
    """Write a trace note of ``kind`` with ``fields`` at the code's current time."""

    __slots__ = ("fields", "kind")

    def __init__(self, kind: str, fields: Mapping[str, object]) -> None:
        self.kind = kind
        self.fields = fields


class AllocSkb(Op):
    """Allocate an skb and copy ``length`` bytes at ``addr`` into it (answered with the skb).

    The frame is now out of the ring and held by the driver until it is handed up
    or dropped.
    """

    __slots__ = ("addr", "length")

    def __init__(self, addr: int, length: int) -> None:
        self.addr = addr
        self.length = length


class HandUp(Op):
    """Hand ``skb`` up the stack (``netif_rx`` or ``napi_gro_receive``)."""

    __slots__ = ("skb", "via")

    def __init__(self, skb: SocketBuffer, via: str) -> None:
        self.skb = skb
        self.via = via


class DropFrame(Op):
    """A frame taken from the ring is dropped with ``reason`` (``skb`` if it got one)."""

    __slots__ = ("reason", "skb")

    def __init__(self, reason: str, skb: SocketBuffer | None) -> None:
        self.reason = reason
        self.skb = skb


class NapiOp(Enum):
    """The NAPI calls a driver makes (``include/linux/netdevice.h``)."""

    SCHEDULE_PREP = "napi_schedule_prep"
    SCHEDULE = "__napi_schedule"
    COMPLETE_DONE = "napi_complete_done"


class Napi(Op):
    """A NAPI call (answered with its boolean result, where it has one)."""

    __slots__ = ("call", "work_done")

    def __init__(self, call: NapiOp, work_done: int = 0) -> None:
        self.call = call
        self.work_done = work_done


# -- the kernel's own: used by its softirq code, never by a driver ------------------------


class Sync(Op):
    """Let the CPU time spent so far pass before going on; answered with the instant.

    The kernel's softirq code yields it before it reads or changes state an
    interrupt handler shares with it (the backlog, NET_RX pending), so that it does
    so at the right instant.
    """

    __slots__ = ()


class Clock(Op):
    """The code's time so far: the last instant plus the CPU time spent since.

    Answered at once. Linux's softirq limits read jiffies, far coarser than the
    CPU time an interrupt could add between here and the next instant.
    """

    __slots__ = ()


class Deliver(Op):
    """Queue ``skb`` on the socket now: the end of its trip up the stack."""

    __slots__ = ("skb",)

    def __init__(self, skb: SocketBuffer) -> None:
        self.skb = skb


def describe_op(op: Op | None) -> str | None:
    """What code waits to do, in a few words: ``Load 0x20005010 +16``, ``Readl ICR``."""
    match op:
        case None:
            return None
        case Load(addr=addr, length=length) | AllocSkb(addr=addr, length=length):
            return f"{type(op).__name__} {addr:#x} +{length}"
        case Readl(reg=reg):
            return f"Readl {reg}"
        case Store(addr=addr, data=data):
            return f"Store {addr:#x} +{len(data)}"
        case Writel(reg=reg, value=value):
            return f"Writel {reg} {value:#x}"
        case Step(name=name):
            return f"Step {name}"
        case Napi(call=call):
            return call.value  # napi_complete_done, ...
    return type(op).__name__
