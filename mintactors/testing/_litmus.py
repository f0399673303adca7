"""Litmus tests on the model's own memory: each thread a tiny driver on its own core.

A litmus test is a few threads of loads, stores and fences on shared locations,
and an outcome (the values the loads returned) that a memory model allows or
forbids (Sewell et al., "x86-TSO", CACM 53(7) 2010; domain.md 7). Here each thread
is the ``configure`` code of a small :class:`~mintactors.kernel.drivers.RxDriver`,
run by a real :class:`~mintactors.kernel.drivers.DriverShell` on its own core,
against the real :class:`~mintactors.hardware.memory.PhysicalMemory` and, under
``tso``, each core's real :class:`~mintactors.hardware.store_buffer.StoreBuffer`:
no separate toy memory. A run is one schedule: the seed draws each thread's start
(0 .. ``skew_ns``), the drain delays and the tie-break order; exploring means
running many seeds under each policy and collecting the outcomes.

Every instruction takes at least ``instruction_ns`` (1 ns, the model's resolution
for a cycle): a load is never in the same nanosecond as the same thread's store
before it, so under ``sc`` that store is in memory by then.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import ClassVar, TypeAlias

import attrs

from mintactors.distributions import Distribution, Uniform, sampler
from mintactors.effects import TraceLevel
from mintactors.hardware.memory import MemoryRegion, PhysicalMemory
from mintactors.hardware.nic import NicLayout
from mintactors.hardware.store_buffer import StoreBuffer
from mintactors.kernel.drivers import DriverContext, DriverCosts, DriverShell, RxDriver
from mintactors.kernel.drivers.ops import Code
from mintactors.messages import Start
from mintactors.runtime import Simulation, rng_stream

__all__ = [
    "LITMUS_TESTS",
    "Fence",
    "Instruction",
    "LitmusTest",
    "Load",
    "Store",
    "Swap",
    "litmus_outcomes",
    "run_litmus",
]

#: Each store's drain delay under ``tso``, unless a run says otherwise.
DEFAULT_DRAIN: Distribution = Uniform(0, 20)

#: Where the shared locations live: one 64-byte line each.
_BASE = 0x2000_0000
_LINE = 64


@attrs.frozen
class Store:
    """``loc = value``."""

    loc: str
    value: int


@attrs.frozen
class Load:
    """``r = loc``: the value becomes the thread's next register."""

    loc: str


@attrs.frozen
class Fence:
    """``smp_mb()`` (``lock; addl`` on x86-64): a full barrier."""


@attrs.frozen
class Swap:
    """``r = xchg(&loc, value)``: a locked swap; the old value is the next register."""

    loc: str
    value: int


Instruction: TypeAlias = Store | Load | Fence | Swap


@attrs.frozen
class LitmusTest:
    """A named litmus test: its threads and the outcome whose appearance it asks about.

    ``relaxed`` is the outcome (every thread's registers, in thread then program
    order) that sequential consistency forbids; ``tso_allows`` says whether x86-TSO
    allows it.
    """

    name: str
    threads: tuple[tuple[Instruction, ...], ...]
    relaxed: tuple[int, ...]
    tso_allows: bool

    @property
    def locations(self) -> tuple[str, ...]:
        """Every location the test touches, in order of first use."""
        seen: dict[str, None] = {}
        for thread in self.threads:
            for instruction in thread:
                loc = getattr(instruction, "loc", None)
                if loc is not None:
                    seen.setdefault(loc, None)
        return tuple(seen)


#: The classic x86 litmus tests (Intel SDM Vol. 3A 8.2.3; x86-TSO, CACM 2010).
LITMUS_TESTS: dict[str, LitmusTest] = {
    test.name: test
    for test in (
        # Store buffering: each store may wait in its buffer while the other load runs.
        LitmusTest(
            "SB",
            ((Store("x", 1), Load("y")), (Store("y", 1), Load("x"))),
            (0, 0),
            tso_allows=True,
        ),
        LitmusTest(
            "SB+mfences",
            ((Store("x", 1), Fence(), Load("y")), (Store("y", 1), Fence(), Load("x"))),
            (0, 0),
            tso_allows=False,
        ),
        # One fence is not enough: the other side's store can still wait.
        LitmusTest(
            "SB+mfence+po",
            ((Store("x", 1), Fence(), Load("y")), (Store("y", 1), Load("x"))),
            (0, 0),
            tso_allows=True,
        ),
        LitmusTest(
            "SB+xchgs",
            ((Swap("x", 1), Load("y")), (Swap("y", 1), Load("x"))),
            (0, 0, 0, 0),
            tso_allows=False,
        ),
        # Message passing: stores drain in order and loads are not reordered.
        LitmusTest(
            "MP",
            ((Store("x", 1), Store("y", 1)), (Load("y"), Load("x"))),
            (1, 0),
            tso_allows=False,
        ),
        # Load buffering: a store never overtakes an older load.
        LitmusTest(
            "LB",
            ((Load("x"), Store("y", 1)), (Load("y"), Store("x", 1))),
            (1, 1),
            tso_allows=False,
        ),
        # Independent reads of independent writes: observers agree on the order.
        LitmusTest(
            "IRIW",
            (
                (Store("x", 1),),
                (Store("y", 1),),
                (Load("x"), Load("y")),
                (Load("y"), Load("x")),
            ),
            (1, 0, 1, 0),
            tso_allows=False,
        ),
    )
}


class _Thread(RxDriver):
    """One litmus thread as a driver's ``configure`` code (it runs at boot)."""

    name: ClassVar[str] = "litmus"

    def __init__(
        self,
        program: tuple[Instruction, ...],
        addresses: dict[str, int],
        start_ns: int,
        instruction_ns: int,
    ) -> None:
        super().__init__(ring_size=8)
        self.program = program
        self.addresses = addresses
        self.start_ns = start_ns
        self.instruction_ns = instruction_ns
        self.registers: list[int] = []

    def configure(self, ctx: DriverContext) -> Code[None]:
        """Run the program, each instruction taking ``instruction_ns``."""
        yield from ctx.cpu(self.start_ns)
        for instruction in self.program:
            match instruction:
                case Store(loc=loc, value=value):
                    yield from ctx.store(self.addresses[loc], bytes([value]))
                case Load(loc=loc):
                    data = yield from ctx.load(self.addresses[loc], 1)
                    self.registers.append(data[0])
                case Fence():
                    yield from ctx.smp_mb()
                case Swap(loc=loc, value=value):
                    old = yield from ctx.xchg(self.addresses[loc], bytes([value]))
                    self.registers.append(old[0])
            yield from ctx.cpu(self.instruction_ns)


def run_litmus(
    test: LitmusTest,
    *,
    model: str,
    seed: int,
    policy: str = "random",
    drain: Distribution = DEFAULT_DRAIN,
    skew_ns: int = 10,
    instruction_ns: int = 1,
    latency_ns: int = 1,
) -> tuple[int, ...]:
    """Run ``test`` once under memory ``model`` (``sc`` or ``tso``); its outcome.

    Args:
        test: the litmus test.
        model: ``sc`` or ``tso``.
        seed: draws the start skew, the drain delays and the tie-break order.
        policy: the tie-break policy.
        drain: each store's drain delay (``tso``).
        skew_ns: each thread starts at a uniform 0 .. ``skew_ns``.
        instruction_ns: the time each instruction takes at least.
        latency_ns: a load's latency (the time it adds).
    """
    if model not in ("sc", "tso"):
        raise ValueError(f"memory model {model!r}: allowed sc, tso")
    cores = len(test.threads)
    addresses = {loc: _BASE + i * _LINE for i, loc in enumerate(test.locations)}
    sim = Simulation(seed=seed, policy=policy)
    region = MemoryRegion("shared", _BASE, 0x1000, frozenset(range(cores)))
    memory = PhysicalMemory(regions=[region], latency_ns=latency_ns)
    sim.add_actor("memory", memory)
    costs = DriverCosts(
        descriptor_ns=0,
        skb_alloc_ns=0,
        stack_ns=0,
        refill_ns=0,
        eoi_ns=0,
        load_ns=latency_ns,
        mb_ns=instruction_ns,
    )
    layout = NicLayout(_BASE + 0x1000, 8, 2048)  # unused: the threads touch no ring
    skew = rng_stream(seed, "litmus.skew")
    threads = []
    for i, program in enumerate(test.threads):
        buffer = None
        if model == "tso":
            buffer = StoreBuffer(
                core=f"core{i}",
                node=i,
                capacity=56,
                drain_ns=sampler(drain, rng_stream(seed, f"core{i}.store_buffer")),
                memory_actor="memory",
                trace_level=TraceLevel.OFF,
            )
            memory.attach(buffer)
        thread = _Thread(program, addresses, skew.randint(0, skew_ns), instruction_ns)
        shell = DriverShell(
            name=f"thread{i}",
            driver=thread,
            node=i,
            core=f"core{i}",
            memory=memory,
            memory_actor="memory",
            socket="socket",
            layout=layout,
            costs=costs,
            copy_ns=lambda n: 0,
            trace_level=TraceLevel.OFF,
            store_buffer=buffer,
        )
        sim.add_actor(f"thread{i}", shell)
        sim.post(f"thread{i}", Start())
        threads.append(thread)
    sim.run_sync()
    return tuple(r for thread in threads for r in thread.registers)


def litmus_outcomes(
    test: LitmusTest, *, model: str, seeds: Iterable[int], policy: str = "random"
) -> Counter[tuple[int, ...]]:
    """How often each outcome came up, one run per seed."""
    return Counter(run_litmus(test, model=model, seed=seed, policy=policy) for seed in seeds)
