"""The e1000-style driver: ring bookkeeping and the paper's handler."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from mintactors.config import parse_config
from mintactors.experiments import run_config
from mintactors.hardware.nic import NicLayout, RxDescriptor
from mintactors.kernel.drivers import DriverContext, DriverCosts, PaperDriver
from mintactors.kernel.drivers.ops import Barrier, BarrierKind, Code, Cpu, Op, Step, Store, Writel
from mintactors.kernel.socket import skb_truesize
from mintactors.machine import build_machine

LAYOUT = NicLayout(0x2000_0000, 16, 2048)
COSTS = DriverCosts(descriptor_ns=1, skb_alloc_ns=1, stack_ns=1, refill_ns=7, eoi_ns=1, load_ns=1)


def driver() -> PaperDriver:
    return PaperDriver(ring_size=16, refill_batch=16)


def ops_of(code: Code[object]) -> list[Op]:
    """Run driver code that makes no loads, collecting what it yields."""
    return list(code)


def test_init_gives_hardware_all_but_two_descriptors() -> None:
    """Like e1000: refill DESC_UNUSED = count-1 buffers, then RDT = last filled = count-2."""
    cfg = parse_config({"nic": {"ring_size": 16}, "generator": {"count": 1}}, "t")
    machine = build_machine(cfg)
    # No packet: stop before the first send, at 10 us (count = 0 is refused).
    machine.simulation.run_sync(until_ns=5000)
    layout, memory = cfg.layout, machine.memory
    rdt = struct.unpack("<I", memory.peek(layout.register("RDT"), 4))[0]
    assert rdt == 14
    for i in range(15):
        desc = RxDescriptor.unpack(memory.peek(layout.descriptor(i), 16))
        assert (desc.buffer_addr, desc.status) == (layout.buffer(i), 0)
    assert RxDescriptor.unpack(memory.peek(layout.descriptor(15), 16)).buffer_addr == 0
    assert struct.unpack("<I", memory.peek(layout.register("RDLEN"), 4))[0] == 16 * 16


@given(st.integers(0, 15), st.integers(0, 15))
def test_desc_unused_always_keeps_one_slot(clean: int, use: int) -> None:
    """E1000_DESC_UNUSED: (clean > use ? 0 : count) + clean - use - 1, never the whole ring."""
    d = driver()
    d.next_to_clean, d.next_to_use = clean, use
    unused = d.desc_unused()
    assert unused == (clean - use - 1) % 16
    assert unused <= 15


def test_refill_wraps_and_sets_rdt_to_the_last_refilled() -> None:
    """A refill across the ring's end gives each descriptor its buffer, then RDT = last one."""
    d = driver()
    d.next_to_use = 14
    ops = ops_of(d.alloc_rx_buffers(DriverContext(LAYOUT, COSTS), 4))
    stores = [op for op in ops if isinstance(op, Store)]
    assert [op.addr for op in stores] == [LAYOUT.descriptor(i) for i in (14, 15, 0, 1)]
    assert [RxDescriptor.unpack(op.data) for op in stores] == [
        RxDescriptor(LAYOUT.buffer(i)) for i in (14, 15, 0, 1)
    ]
    rest = ops[len(stores) :]
    assert isinstance(rest[0], Barrier)  # dma_wmb: the descriptors before the tail
    assert (type(rest[1]), rest[1].reg, rest[1].value) == (Writel, "RDT", 1)  # type: ignore[attr-defined]
    assert isinstance(rest[2], Step)
    assert isinstance(rest[3], Cpu)
    assert rest[3].ns == 7
    assert d.next_to_use == 2


class _Running:
    """Code under way, as the shell gives it to the context."""

    def __init__(self) -> None:
        self.acc = 0


def test_cpu_time_and_barriers_that_cannot_wait_are_charged_to_running_code() -> None:
    """In the shell, CPU time and a barrier that never waits add to the running code's
    time and yield nothing; a barrier that may wait (mb under tso) is still an operation."""
    ctx = DriverContext(LAYOUT, COSTS)
    ctx.barrier_costs = {BarrierKind.DMA_WMB: 0, BarrierKind.WMB: 3}
    ctx.code = code = _Running()
    ops = [*ctx.cpu(7), *ctx.dma_wmb(), *ctx.wmb(), *ctx.mb()]
    assert code.acc == 7 + 0 + 3
    assert len(ops) == 1
    assert isinstance(ops[0], Barrier)
    assert ops[0].kind is BarrierKind.MB


def test_truesize_matches_linux_slab_rounding() -> None:
    """skb truesize: 1514 B -> 2304 (2 KiB slab + sk_buff), 16 KiB frame -> 32 KiB slab."""
    assert skb_truesize(1514) == 2048 + 256
    assert skb_truesize(100) == 512 + 256
    assert skb_truesize(16384) == 32768 + 256
    assert 212992 // skb_truesize(1514) == 92


def test_handler_drains_every_ready_descriptor_in_one_run() -> None:
    """Packets arriving while the handler runs are taken in the same run (paper driver)."""
    cfg = parse_config(
        {"generator": {"count": 30, "interval_ns": 100}, "apic": {"ipi_latency": 3000}}, "t"
    )
    outcome = run_config(cfg)
    stats = outcome.machine.driver.statistics()
    assert stats.max_drained_per_run > 1
    assert stats.frames_taken == 30
    assert stats.handler_runs < 30
    assert outcome.results.delivered == 30


def test_frames_spanning_descriptors_are_discarded_whole() -> None:
    """e1000: all receives must fit one buffer; a 3000-byte frame in 2048-byte buffers drops."""
    cfg = parse_config({"generator": {"count": 3, "size": 3000}}, "t")
    results = run_config(cfg).results
    assert results.dropped == {"frame_spans_descriptors": 3}
    assert results.statistics["driver"]["frames_taken"] == 3
    assert results.statistics["rx_ring"]["descriptors_used"] == 6


def test_bigger_buffers_take_jumbo_frames() -> None:
    """With 16384-byte buffers a 16384-byte frame is one descriptor and is delivered."""
    cfg = parse_config(
        {"generator": {"count": 3, "size": 16384}, "nic": {"buffer_size": 16384}}, "t"
    )
    results = run_config(cfg).results
    assert results.delivered == 3
    assert results.dropped == {}
