"""Snapshots of one packet's run, at instants worked out by hand from its costs.

The config is the one-packet run of tests/machine/test_model.py, whose instants are
derived there from round costs: the kernel loop's frame is built before the first
send, which enters the system call at 1000 ns; the frame is copied into the ring
and written back at 1335, its IPI arrives at 2342, the handler is entered at 2392
and queues the skb on the backlog, ``iret`` completes at 2867 and NET_RX runs, and
the stack hands the skb to the socket (and the waiting application) at 3267. Each
expected record below is written from the model's rules, not copied from a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import mintactors
from mintactors.config import Config, parse_config
from mintactors.experiments.run import run_config
from mintactors.hardware.memory import MemoryRegion, MemorySnapshot
from mintactors.hardware.snapshots import (
    ApicSnapshot,
    CoreSnapshot,
    DescriptorSnapshot,
    RegisterSnapshot,
    RingSnapshot,
    WorkSnapshot,
)
from mintactors.kernel.snapshots import (
    AppSnapshot,
    CodeSnapshot,
    DriverSnapshot,
    GeneratorSnapshot,
    MechanismSnapshot,
    NapiSnapshot,
    NetRxSnapshot,
    SkbSnapshot,
    SocketSnapshot,
    SyscallSnapshot,
)
from mintactors.machine import InFlight, MachineSnapshot
from tests.machine.test_model import COSTS

SIZE = 1000
VECTOR = 0x41
SHARED = 0x2000_0000
RING_BASE = SHARED + 0x5000  # the register block comes first (REGISTER_BLOCK_LEN)
BUFFERS = RING_BASE + 0x1000  # 256 descriptors of 16 bytes: one page
RING = 256
TRUESIZE = 2304  # skb_truesize(1000): 1088 + 320 -> the 2048 slab, + 256 for the sk_buff


def one_packet() -> Config:
    raw: dict[str, Any] = {
        "costs": dict(COSTS),
        "generator": {"count": 1, "size": SIZE, "start_ns": 1000},
        # Every wait a delivery: the driver's state between two deliveries is then
        # the state at that instant, which these tests read field by field.
        "simulation": {"trace": "full", "lookahead": False},
    }
    return parse_config(raw, "<test>")


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("one-packet")
    run_config(one_packet(), out)
    return out / "trace.jsonl"


def descriptor(
    index: int, *, rdh: int, rdt: int, filled: bool = True, length: int = 0, status: int = 0
) -> DescriptorSnapshot:
    """Descriptor ``index`` as the rules put it: hardware owns RDH .. RDT-1."""
    flags = tuple(name for bit, name in ((1, "DD"), (2, "EOP"), (4, "IXSM")) if status & bit)
    owner = "hardware" if (index - rdh) % RING < (rdt - rdh) % RING else "driver"
    return DescriptorSnapshot(
        index=index,
        addr=RING_BASE + 16 * index,
        buffer_addr=BUFFERS + 2048 * index if filled else 0,
        length=length,
        status=status,
        flags=flags,
        errors=0,
        owner=owner,
        written_ns=1335 if index == 0 else None,
    )


def ring(
    *, rdh: int, rdt: int, ntc: int, ntu: int, first: DescriptorSnapshot, last_filled: bool
) -> RingSnapshot:
    descriptors = (
        first,
        *(descriptor(i, rdh=rdh, rdt=rdt) for i in range(1, RING - 1)),
        descriptor(RING - 1, rdh=rdh, rdt=rdt, filled=last_filled),
    )
    return RingSnapshot(
        size=RING,
        buffer_size=2048,
        base=RING_BASE,
        rdh=rdh,
        rdt=rdt,
        engine_rdh=rdh,
        state="idle",
        posting=None,
        queued=(),
        next_to_clean=ntc,
        next_to_use=ntu,
        done=sum(1 for d in descriptors if d.status & 1),
        rnbc=0,
        mpc=0,
        descriptors=descriptors,
    )


def idle_core(core_id: int) -> CoreSnapshot:
    return CoreSnapshot(core_id, "idle", True, None, False, None, None, (), (), (), 0, "", 0)


def quiet_apic(apic_id: int) -> ApicSnapshot:
    return ApicSnapshot(apic_id, irr=(), isr=(), tpr=0, ppr=0, intr=None)


def driver(**changes: Any) -> DriverSnapshot:
    fields: dict[str, Any] = {
        "kind": "paper",
        "in_handler": False,
        "running": (),
        "napi": NapiSnapshot(sched=False, missed=False),
        "net_rx": NetRxSnapshot(False, False, False, (), (), 0),
        "next_to_clean": 0,
        "next_to_use": 255,  # the probe filled 0 .. 254 and left one slot empty
        "holding": 0,
        "handler_runs": 0,
        "polls": 0,
        "frames_taken": 0,
        "dropped": (),
    }
    fields.update(changes)
    return DriverSnapshot(**fields)


def registers(*, rdh: int, rdt: int) -> RegisterSnapshot:
    # The paper's driver never masks: IMS and ICR stay 0, RCTL is never written.
    return RegisterSnapshot(
        base=SHARED,
        ims=0,
        ims_causes=(),
        icr=0,
        icr_causes=(),
        rctl=0,
        rdbal=RING_BASE,
        rdbah=0,
        rdlen=RING * 16,
        rdh=rdh,
        rdt=rdt,
    )


def test_at_the_write_back_the_descriptor_is_done_and_the_ipi_is_on_the_bus(trace: Path) -> None:
    """At 1335 descriptor 0 holds the frame with DD, EOP and IXSM, RDH has moved to 1,
    the system call is still under way and its IPI travels until 2342."""
    snap = mintactors.inspect(trace, at="1335ns")
    assert snap.t_ns == 1335
    first = descriptor(0, rdh=1, rdt=254, length=SIZE, status=0x07)
    assert snap.ring == ring(rdh=1, rdt=254, ntc=0, ntu=255, first=first, last_filled=False)
    assert snap.memory.registers == registers(rdh=1, rdt=254)
    assert snap.core(0) == idle_core(0)
    assert snap.core(1) == idle_core(1)
    assert snap.apic(0) == quiet_apic(0)
    assert snap.apic(1) == quiet_apic(1)
    assert snap.driver == driver()
    assert snap["generator"] == GeneratorSnapshot(
        planned=1, count=1, next_seq=1, current=0, in_kernel=True, ready=(), sent=1, late=0
    )
    # The ring has answered, so the mechanism has done its part: the ICR write and
    # the exit are scheduled and it holds no call; the generator's thread is still
    # in the kernel until the call returns into it (directly, at 1351).
    assert snap["mechanism"] == MechanismSnapshot(
        call=None, reads_ims=False, icr_writes=1, ipis_masked=0
    )
    # The application asked for a frame at the start and waits in recv.
    assert snap.socket == SocketSnapshot(0, 212992, (), True, 0)
    assert snap["app"] == AppSnapshot(None, 0, 0, None)
    # ICR written 7 ns after the write-back, the IPI 1000 ns on the bus.
    assert snap.in_flight == (
        InFlight(2342, "apic1", "IpiMessage", "apic0", {"vector": VECTOR, "source": 0, "seq": 0}),
    )
    returned = mintactors.inspect(trace, at="1351ns")["generator"]
    assert (returned.current, returned.in_kernel) == (None, False)


def test_at_handler_entry_the_core_runs_the_handler_with_if_clear(trace: Path) -> None:
    """At 2392 core 1 runs the handler with IF=0, the entry code's EOI has emptied ISR,
    and the driver waits 17 ns (the EOI's cost) to load descriptor 0."""
    snap = mintactors.inspect(trace, at="2392ns")
    assert snap.core(1) == CoreSnapshot(
        core_id=1,
        state="handler",
        interrupts_enabled=False,
        in_handler=VECTOR,
        returning=False,
        running=None,
        preempted=None,
        softirq_queue=(),
        thread_queue=(),
        vruntime=(),
        min_vruntime=0,
        slice_thread="",
        slice_used_ns=0,
    )
    assert snap.apic(1) == quiet_apic(1)
    assert snap.driver == driver(
        in_handler=True,
        running=(CodeSnapshot("irq", f"Load {RING_BASE:#x} +16", 0),),
        handler_runs=1,
    )
    first = descriptor(0, rdh=1, rdt=254, length=SIZE, status=0x07)
    assert snap.ring == ring(rdh=1, rdt=254, ntc=0, ntu=255, first=first, last_filled=False)
    assert snap["mechanism"] == MechanismSnapshot(None, False, 1, 0)
    assert snap["generator"] == GeneratorSnapshot(1, 1, 1, None, False, (), 1, 0)
    assert snap.in_flight == (InFlight(2409, "driver", "DriverResume", "driver", {}),)


def test_when_the_stack_delivers_the_app_runs_and_the_ring_is_given_back(trace: Path) -> None:
    """At 3267 the skb went from the socket straight to the waiting application, whose
    recv (200 + a 300 ns copy) runs on core 1; descriptor 0 is given back and 255
    refilled, so RDT is 255."""
    snap = mintactors.inspect(trace, at="3267ns")
    recv = WorkSnapshot("recv", "app", "app", 1, 500, 3267, 500, 3267)
    assert snap.core(1) == CoreSnapshot(
        1, "task", True, None, False, recv, None, (), (), (("app", 0),), 0, "app", 0
    )
    first = descriptor(0, rdh=1, rdt=255, length=SIZE, status=0)
    assert snap.ring == ring(rdh=1, rdt=255, ntc=1, ntu=0, first=first, last_filled=True)
    assert snap.memory == MemorySnapshot(
        regions=(
            MemoryRegion("node0", 0, 0x1000_0000, frozenset({0})),
            MemoryRegion("node1", 0x1000_0000, 0x1000_0000, frozenset({1})),
            MemoryRegion("shared", SHARED, 0x800_0000, frozenset({0, 1})),
        ),
        # Pages are allocated when first written: the ring registers' page (RDBAL ..
        # RDT at 0x2800), the descriptors' page and buffer 0's. A refill writes a
        # buffer's address into its descriptor, not the buffer.
        pages_touched=3,
        violations=(),
        registers=registers(rdh=1, rdt=255),
    )
    assert snap.driver == driver(next_to_clean=1, next_to_use=0, handler_runs=1, frames_taken=1)
    assert snap.socket == SocketSnapshot(0, 212992, (), False, 0)
    assert snap["app"] == AppSnapshot(SkbSnapshot(0, SIZE, TRUESIZE, 3267), 0, 0, None)
    assert snap.in_flight == (InFlight(3767, "core1", "CoreStep", "core1", {"step": "task_done"}),)


def test_in_net_rx_the_skb_is_in_the_stack_with_interrupts_on(trace: Path) -> None:
    """At 2900 NET_RX runs at irq_exit (from 2867, when iret completed): softirq work
    (priority 0) on core 1 with IF=1, its 400 ns the backlog poll's pass of the skb
    up the stack; the backlog is empty, the skb is in the stack and the code waits
    to deliver it at 3267."""
    snap = mintactors.inspect(trace, at="2900ns")
    softirq = WorkSnapshot("softirq", "driver", "", 0, 400, 2867, 400, 2867)
    assert snap.core(1) == CoreSnapshot(
        1, "task", True, None, False, softirq, None, (), (), (), 0, "", 0
    )
    assert snap.driver == driver(
        running=(CodeSnapshot("softirq", "Deliver", 0),),
        net_rx=NetRxSnapshot(False, False, False, (), (), 1),
        next_to_clean=1,
        next_to_use=0,
        handler_runs=1,
        frames_taken=1,
    )
    assert snap.in_flight == (InFlight(3267, "core1", "CoreStep", "core1", {"step": "task_done"}),)


def test_while_the_ring_copies_the_call_is_in_progress(trace: Path) -> None:
    """At 1200 the ring engine is copying the frame (until 1330): the mechanism holds
    the call entered at 1000 and the ring is busy posting seq 0."""
    snap = mintactors.inspect(trace, at="1.2us")
    assert snap["mechanism"] == MechanismSnapshot(
        call=SyscallSnapshot(seq=0, length=SIZE, entered_ns=1000),
        reads_ims=False,
        icr_writes=0,
        ipis_masked=0,
    )
    assert (snap.ring.state, snap.ring.posting, snap.ring.engine_rdh, snap.ring.rdh) == (
        "busy",
        0,
        1,  # the engine has claimed descriptor 0; RDH moves when the write lands
        0,
    )


def test_the_whole_snapshot_is_a_pure_function_of_the_machine(trace: Path) -> None:
    """Two seeks to one instant, from the start and as JSON, agree field for field."""
    one = mintactors.inspect(trace, at="2500ns")
    two = mintactors.inspect(trace, at="2500ns", verify=False)
    assert isinstance(one, MachineSnapshot)
    assert one == two
