"""The driver shell under the ``tso`` memory model: stores wait, barriers wait for them.

Each test runs a little driver code at boot on one core, against real memory and
that core's store buffer (every store drains ``DRAIN`` ns after it is made), and
reads what happened from the run's full trace.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from mintactors import Simulation, TraceLevel, TraceSink
from mintactors.hardware.memory import MemoryRegion, PhysicalMemory
from mintactors.hardware.nic import NicLayout
from mintactors.hardware.store_buffer import StoreBuffer
from mintactors.kernel.drivers import DriverContext, DriverCosts, DriverShell, RxDriver
from mintactors.kernel.drivers.ops import Code
from mintactors.messages import Start
from mintactors.notes import NoteKind
from mintactors.testing import read_trace

SHARED = 0x2000_0000
X, Y = SHARED + 0x100, SHARED + 0x140
DRAIN = 50
MB_NS = 10
LOAD_NS = 30
Program = Callable[[DriverContext, list[Any]], Code[None]]


class _Boot(RxDriver):
    """A driver whose ``configure`` is the test's program."""

    name: ClassVar[str] = "boot"

    def __init__(self, program: Program) -> None:
        super().__init__(ring_size=8)
        self.program = program
        self.seen: list[Any] = []

    def configure(self, ctx: DriverContext) -> Code[None]:
        yield from self.program(ctx, self.seen)


def run(
    program: Program, *, tso: bool = True, uc_load_drains: bool = False
) -> tuple[list[Any], list[dict[str, Any]], PhysicalMemory]:
    """Run ``program`` on core 1; what it saw, the trace's events, and memory."""
    out = io.StringIO()
    sim = Simulation(seed=1, trace=TraceSink(out, TraceLevel.FULL))
    memory = PhysicalMemory(
        regions=[MemoryRegion("shared", SHARED, 0x10000, frozenset({1}))],
        latency_ns=LOAD_NS,
        registers_base=SHARED,
    )
    sim.add_actor("memory", memory)
    buffer = None
    if tso:
        buffer = StoreBuffer(
            core="core1", node=1, capacity=56, drain_ns=lambda: DRAIN, memory_actor="memory"
        )
        memory.attach(buffer)
    driver = _Boot(program)
    costs = DriverCosts(0, 0, 0, 0, 0, load_ns=LOAD_NS, mb_ns=MB_NS, rmb_ns=1, wmb_ns=2)
    shell = DriverShell(
        name="driver",
        driver=driver,
        node=1,
        core="core1",
        memory=memory,
        memory_actor="memory",
        socket="socket",
        layout=NicLayout(SHARED, 8, 2048),
        costs=costs,
        copy_ns=lambda n: 0,
        store_buffer=buffer,
        uc_load_drains=uc_load_drains,
    )
    sim.add_actor("driver", shell)
    sim.post("driver", Start())
    sim.run_sync()
    return driver.seen, read_trace(out.getvalue()), memory


def loads(events: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(e["t_ns"], e["addr"]) for e in events if e["kind"] == NoteKind.LOADED]


def store_then_load(barrier: str) -> Program:
    def program(ctx: DriverContext, seen: list[Any]) -> Code[None]:
        yield from ctx.store(X, b"\x01")
        yield from getattr(ctx, barrier)()
        seen.append((yield from ctx.load(Y, 1)))

    return program


@pytest.mark.parametrize("barrier", ["mb", "smp_mb"])
def test_a_full_barrier_waits_for_the_buffer_to_drain(barrier: str) -> None:
    """The load after ``smp_mb``/``mb`` is made once the store has drained, plus the fence."""
    _, events, _ = run(store_then_load(barrier))
    assert loads(events) == [(DRAIN + MB_NS, Y)]
    fenced = [e for e in events if e["kind"] == NoteKind.FENCED]
    assert [(f["barrier"], f["waited_ns"]) for f in fenced] == [(barrier, DRAIN)]


@pytest.mark.parametrize(
    ("barrier", "cost"),
    [("wmb", 2), ("rmb", 1), ("smp_wmb", 0), ("smp_rmb", 0), ("dma_wmb", 0), ("dma_rmb", 0)],
)
def test_other_barriers_do_not_wait_for_the_buffer(barrier: str, cost: int) -> None:
    """x86's ``sfence``/``lfence`` and the compiler barriers only cost their time."""
    _, events, _ = run(store_then_load(barrier))
    assert loads(events) == [(cost, Y)]
    assert not [e for e in events if e["kind"] == NoteKind.FENCED]


def test_under_sc_a_full_barrier_costs_only_its_time() -> None:
    """With no store buffer, smp_mb() is mb_ns and nothing else."""
    _, events, _ = run(store_then_load("smp_mb"), tso=False)
    assert loads(events) == [(MB_NS, Y)]


def test_a_load_sees_its_own_buffered_store_before_memory_does() -> None:
    """Forwarding: the core reads back what it stored while memory still has the old value."""

    def program(ctx: DriverContext, seen: list[Any]) -> Code[None]:
        yield from ctx.store(X, b"\x05")
        seen.append((yield from ctx.load(X, 1)))

    seen, events, memory = run(program)
    assert seen == [b"\x05"]
    drained = [e["t_ns"] for e in events if e["kind"] == NoteKind.STORE_DRAINED]
    assert drained == [DRAIN]
    assert memory.peek(X, 1) == b"\x05"


@pytest.mark.parametrize(("drains", "at"), [(True, DRAIN), (False, 0)])
def test_a_readl_waits_for_the_drain_only_if_configured(drains: bool, at: int) -> None:
    """``memory.uc_load_drains``: an uncached load after a store, with or without a drain."""

    def program(ctx: DriverContext, seen: list[Any]) -> Code[None]:
        yield from ctx.store(X, b"\x01")
        seen.append((yield from ctx.readl("STATUS")))
        seen.append((yield from ctx.load(Y, 1)))

    _, events, _ = run(program, uc_load_drains=drains)
    assert loads(events) == [(at + LOAD_NS, Y)]


def test_an_xchg_drains_first_and_swaps_in_memory_at_once() -> None:
    """The locked swap returns the old value; memory has the new one, no buffer entry."""

    def program(ctx: DriverContext, seen: list[Any]) -> Code[None]:
        yield from ctx.store(X, b"\x01")
        seen.append((yield from ctx.xchg(Y, b"\x09")))
        seen.append((yield from ctx.load(Y, 1)))

    seen, events, memory = run(program)
    assert seen == [b"\x00", b"\x09"]
    fenced = [e for e in events if e["kind"] == NoteKind.FENCED]
    assert [(f["t_ns"], f["barrier"], f["waited_ns"]) for f in fenced] == [(DRAIN, "xchg", DRAIN)]
    buffered = [e["addr"] for e in events if e["kind"] == NoteKind.STORE_BUFFERED]
    assert buffered == [X]
    assert loads(events) == [(DRAIN + MB_NS + LOAD_NS, Y)]
    assert memory.peek(Y, 1) == b"\x09"


def test_a_register_write_drains_in_order_after_earlier_stores() -> None:
    """``writel`` enters the same FIFO: it reaches memory after the stores before it."""

    def program(ctx: DriverContext, seen: list[Any]) -> Code[None]:
        yield from ctx.store(X, b"\x01")
        yield from ctx.writel("IMS", 0x80)

    _, events, memory = run(program)
    drained = [e["addr"] for e in events if e["kind"] == NoteKind.STORE_DRAINED]
    assert drained == [X, SHARED + 0xD0]
    assert memory.peek(SHARED + 0xD0, 4) == b"\x80\x00\x00\x00"
