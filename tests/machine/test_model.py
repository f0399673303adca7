"""The whole Mint environment, end to end, from configs."""

from __future__ import annotations

import io
import itertools
import json
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mintactors.config import Config, load_config, parse_config
from mintactors.experiments import run_config
from mintactors.hardware.nic import RxDescriptor
from mintactors.machine import build_machine
from mintactors.messages import MemoryWrite
from mintactors.packets import FrameFactory, parse_pktgen_header, verify_frame
from mintactors.testing import read_trace
from tests._paths import ROOT

# Round, distinct costs so every instant below can be worked out by hand.
COSTS = {
    "frame_build_ns": 100,
    "syscall_entry_ns": 10,
    "memory_latency_ns": 20,
    "copy_points": [[1000, 300]],
    "descriptor_writeback_ns": 5,
    "icr_write_ns": 7,
    "syscall_exit_ns": 9,
    "ipi_latency_ns": 1000,
    "irq_entry_ns": 50,
    "driver_descriptor_ns": 3,
    "skb_alloc_ns": 11,
    "stack_ns": 400,
    "refill_ns": 13,
    "eoi_ns": 17,
    "irq_exit_ns": 19,
    "app_recv_ns": 200,
    "softirq_entry_ns": 23,
    "handup_ns": 29,
}


def config(**sections: dict[str, Any]) -> Config:
    raw: dict[str, Any] = {"costs": dict(COSTS)}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return parse_config(raw, "<test>")


def one_packet_notes(**sections: dict[str, Any]) -> tuple[list[tuple[int, str, str]], Any]:
    """One 1000-byte packet sent at 1000 ns: its notes (no memory-access notes), and the machine."""
    cfg = config(
        generator={"count": 1, "size": 1000, "start_ns": 1000},
        simulation={"trace": "full"},
        **sections,
    )
    out = io.StringIO()
    machine = build_machine(cfg, out)
    machine.simulation.run_sync()
    accesses = {"StoreBuffered", "StoreDrained", "StoreStalled", "Fenced", "Loaded"}
    notes = [
        (e["t_ns"], e["actor"], e["kind"])
        for e in read_trace(out.getvalue())
        if "src" not in e and e["actor"] != "runtime" and e["kind"] not in accesses
    ]
    return notes, (machine, read_trace(out.getvalue()))


def test_one_packets_whole_ordered_trace() -> None:
    """One packet passes every stage of the paper's path at the instants its costs imply."""
    notes, (machine, _) = one_packet_notes()
    # Worked out from COSTS: the frame is built (100) before the kernel loop's
    # first send, which goes at start_ns = 1000 on the dot; entry 10; ring reads
    # RDT+descriptor (20); copy 300; write-back 5; ICR 7, the call's exit 9; IPI
    # 1000; irq entry 50;
    # EOI 17; descriptor read 20; bookkeeping 3, then the frame read (FrameTaken) 20,
    # copy 300 and skb 11; the hand-up 29, then netif_rx queues it on the backlog;
    # next-descriptor read 20; refill 13; irq_exit enters the softirq with
    # interrupts still off (23); iret 19; then NET_RX runs, whose backlog poll passes
    # the skb up the stack (400) to the socket; then the app's recv 200 + copy 300.
    # The driver notes its initialisation once its first refill (13) is done, and a
    # note its code made ahead of time (DescriptorReturned; SoftirqStarted, since
    # nothing can come before the iret and NET_RX starts with it) comes before the
    # deliveries of the same instant.
    assert notes == [
        (13, "driver", "DriverInitialised"),
        (1000, "generator", "PacketGenerated"),
        (1000, "mechanism", "SyscallEntered"),
        (1330, "rx_ring", "FrameCopied"),
        (1335, "rx_ring", "DescriptorDone"),
        (1335, "mechanism", "IcrWritten"),
        (1342, "apic0", "IpiSent"),
        (1351, "mechanism", "SyscallReturned"),
        (2342, "apic1", "IpiDelivered"),
        (2342, "core1", "InterruptTaken"),
        (2392, "driver", "HandlerEntered"),
        (2432, "driver", "FrameTaken"),
        (2792, "driver", "SkbBacklogged"),
        (2792, "driver", "DescriptorReturned"),
        (2848, "driver", "HandlerExited"),
        (2867, "driver", "SoftirqStarted"),
        (2867, "core1", "InterruptReturned"),
        (3267, "driver", "SoftirqEnded"),
        (3267, "socket", "SkbQueued"),
        (3267, "socket", "SkbDequeued"),
        (3767, "app", "PacketReceived"),
    ]
    stats = machine.generator.statistics()
    assert stats.send_ns == (1351 - 1000,)
    assert machine.app.statistics().latencies_ns.counts() == {3767 - 1000: 1}


@pytest.mark.parametrize(("build", "apart_ns"), [("kernel-loop", 205), ("per-send", 205 + 200)])
def test_back_to_back_sends_are_one_table1_send_time_apart(build: str, apart_ns: int) -> None:
    """paper-2014, 1.5 KB, interval 0: the kernel loop's sends are exactly 205 ns apart.

    That is Table 1's send time, the paper's "shortest interval between two
    interrupts"; a user-space loop adds one frame build (200 ns) to each.
    """
    cfg = parse_config(
        {
            "generator": {"count": 60, "size": 1514, "interval_ns": 0, "build": build},
            "simulation": {"trace": "full"},
        },
        "<test>",
    )
    out = io.StringIO()
    machine = build_machine(cfg, out)
    machine.simulation.run_sync()
    events = read_trace(out.getvalue())
    entered = [e["t_ns"] for e in events if e["kind"] == "SyscallEntered"]
    ipis = [e["t_ns"] for e in events if e["kind"] == "IcrWritten"]
    assert len(entered) == len(ipis) == 60
    assert {b - a for a, b in itertools.pairwise(entered)} == {apart_ns}
    assert {b - a for a, b in itertools.pairwise(ipis)} == {apart_ns}  # interrupt to interrupt
    stats = machine.generator.statistics()
    assert set(stats.send_ns) == {205}  # Table 1: 0.205 us at 1.5 KB, in both modes
    assert stats.interval_ns_mean() == apart_ns


@pytest.mark.parametrize("ring", [256, 64])
def test_a_ring_holds_ring_size_minus_two_frames_before_the_driver_cleans(ring: int) -> None:
    """e1000's RDT convention: of N descriptors the hardware may fill N - 2.

    The first refill gives N - 1 descriptors buffers (E1000_DESC_UNUSED keeps one)
    and writes RDT = the last of them; hardware owns RDH .. RDT - 1.
    """
    cfg = config(
        generator={"count": ring + 40, "interval_ns": 0},
        apic={"ipi_latency": 10**9},  # the driver never wakes during the sends
        nic={"ring_size": ring},
        simulation={"until_ns": 10**8},
    )
    results = run_config(cfg).results
    assert results.statistics["generator"]["accepted"] == ring - 2
    assert results.dropped == {"no_descriptor": 42}


def test_delivered_frames_are_the_generated_bytes() -> None:
    """Every frame in the ring is byte-identical to one dpkt builds afresh, and verifies."""
    count = 12
    cfg = config(generator={"count": count, "size": 1514, "interval_ns": 5000})
    outcome = run_config(cfg)
    machine = outcome.machine
    assert outcome.results.delivered == count
    factory = FrameFactory(1514)
    layout = cfg.layout
    for i in range(count):
        # The driver has given the descriptor back (length cleared); the buffer stays.
        desc = RxDescriptor.unpack(machine.memory.peek(layout.descriptor(i), 16))
        assert (desc.buffer_addr, desc.status) == (layout.buffer(i), 0)
        frame = machine.memory.peek(desc.buffer_addr, 1514)
        header = parse_pktgen_header(frame)
        assert header is not None
        seq, send_ns = header
        assert seq == i
        assert frame == factory.build_reference(seq, send_ns)
        assert verify_frame(frame).ok
    assert machine.app.statistics().malformed == 0


def test_ipis_merge_when_packets_outrun_the_handler_and_none_are_lost() -> None:
    """Sends faster than the handler merge IPIs; the paper's driver still drains all."""
    cfg = config(generator={"count": 40, "size": 1000, "interval_ns": 0})
    results = run_config(cfg).results
    ipi = results.ipi
    assert ipi.merged > 0
    assert ipi.sent == 40 == ipi.delivered + ipi.merged
    assert results.handler_runs == ipi.delivered < 40
    assert results.delivered == 40
    assert results.dropped == {}


def test_full_ring_drops_with_reason_no_descriptor() -> None:
    """A small ring fed back to back overflows; every loss is named no_descriptor."""
    cfg = config(
        generator={"count": 60, "size": 1000, "interval_ns": 0},
        nic={"ring_size": 8},
    )
    results = run_config(cfg).results
    assert set(results.dropped) == {"no_descriptor"}
    assert results.dropped["no_descriptor"] > 0
    assert results.statistics["rx_ring"]["rnbc"] == results.dropped["no_descriptor"]
    assert results.delivered + results.dropped["no_descriptor"] == 60


def test_ring_that_keeps_up_drops_nothing() -> None:
    """With sends spaced wider than the receive path, nothing is dropped."""
    cfg = config(
        generator={"count": 60, "size": 1000, "interval_ns": 20_000},
        nic={"ring_size": 8},
    )
    results = run_config(cfg).results
    assert results.dropped == {}
    assert results.delivered == 60


def test_block_policy_loses_nothing_and_slows_the_sender() -> None:
    """Under block the same overload delivers everything, later."""
    dropping = run_config(
        config(generator={"count": 60, "size": 1000, "interval_ns": 0}, nic={"ring_size": 8})
    ).results
    blocking = run_config(
        config(
            generator={"count": 60, "size": 1000, "interval_ns": 0},
            nic={"ring_size": 8, "no_buffer": "block"},
        )
    ).results
    assert blocking.dropped == {}
    assert blocking.delivered == 60
    assert blocking.send_time_ns_mean is not None
    assert dropping.send_time_ns_mean is not None
    assert blocking.send_time_ns_mean > dropping.send_time_ns_mean


def test_access_violation_in_a_run_is_refused_and_recorded() -> None:
    """A node-1 write into node 0's memory during a run changes nothing and is reported."""
    cfg = config(generator={"count": 2}, simulation={"trace": "summary"})
    out = io.StringIO()
    machine = build_machine(cfg, out)
    machine.memory.poke(0x1000, b"node 0 private")
    machine.simulation.post("memory", MemoryWrite(1, ((0x1000, b"corrupt"),)), at_ns=5)
    machine.simulation.run_sync()
    assert machine.memory.peek(0x1000, 14) == b"node 0 private"
    assert machine.memory.statistics().violations == 1
    events = [e for e in read_trace(out.getvalue()) if e["kind"] == "AccessViolation"]
    assert events == [
        {
            "access": "write",
            "actor": "memory",
            "addr": 0x1000,
            "kind": "AccessViolation",
            "length": 7,
            "node": 1,
            "t_ns": 5,
        }
    ]


def test_a_small_rcvbuf_drops_at_the_socket() -> None:
    """When the application falls behind, the socket refuses skbs: rcvbuf_full."""
    cfg = config(
        generator={"count": 50, "size": 1000, "interval_ns": 600},
        socket={"rcvbuf": 4000},
        costs={"app_recv_ns": 5000},
    )
    results = run_config(cfg).results
    assert results.dropped.get("rcvbuf_full", 0) > 0
    # The driver built an skb for every packet; the socket queued only some of them.
    assert results.skb_built == 50 == results.statistics["driver"]["frames_handed_up"]
    assert results.queued_on_socket == 50 - results.dropped["rcvbuf_full"] < results.skb_built
    assert results.queued_on_socket == results.statistics["socket"]["queued"]
    assert results.success_rate == results.queued_on_socket / 50
    assert results.statistics["socket"]["rcvbuf_errors"] == results.dropped["rcvbuf_full"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(1, 40),  # count = 0 is refused
    interval=st.sampled_from([0, 300, 1500, 4000]),
    ring=st.sampled_from([8, 16, 64]),
    policy=st.sampled_from(["drop", "block"]),
    rcvbuf=st.sampled_from([3000, 20000, 212992]),
    until=st.one_of(st.none(), st.integers(1000, 60_000)),
    size=st.sampled_from([100, 1514, 3000]),
    tie=st.sampled_from(["fifo", "random"]),
)
def test_every_packet_is_accounted_for(
    *,
    count: int,
    interval: int,
    ring: int,
    policy: str,
    rcvbuf: int,
    until: int | None,
    size: int,
    tie: str,
) -> None:
    """Whatever the load and wherever the run stops, sent = delivered + dropped + in flight."""
    sim: dict[str, Any] = {"policy": tie}
    if until is not None:
        sim["until_ns"] = until
    cfg = config(
        generator={"count": count, "size": size, "interval_ns": interval, "start_ns": 100},
        nic={"ring_size": ring, "no_buffer": policy},
        socket={"rcvbuf": rcvbuf},
        simulation=sim,
    )
    results = run_config(cfg).results  # raises AccountingError on a mismatch
    total = results.delivered + sum(results.dropped.values()) + results.in_flight
    assert total == results.sent
    if until is None:
        assert results.in_flight == 0
        assert results.sent == count
    if size > 2048:  # spans descriptors: the e1000 driver drops it
        assert results.delivered == 0


def test_quickstart_is_deterministic(tmp_path: Any) -> None:
    """Two runs of the quickstart config write byte-identical trace and results."""
    outputs = []
    for name in ("a", "b"):
        cfg = load_config("configs/quickstart.toml", ["generator.count=300"])
        run_config(cfg, tmp_path / name)
        outputs.append(
            (
                (tmp_path / name / "trace.jsonl").read_bytes(),
                (tmp_path / name / "results.json").read_bytes(),
            )
        )
    assert outputs[0] == outputs[1]
    results = json.loads(outputs[0][1])
    assert results["sent"] == 300


@pytest.mark.parametrize("trace", ["summary", "full"])
def test_trace_level_does_not_change_results(trace: str, tmp_path: Any) -> None:
    """Tracing observes; it never changes what happens."""
    base = run_config(config(generator={"count": 30, "interval_ns": 700})).results
    other = run_config(
        config(generator={"count": 30, "interval_ns": 700}, simulation={"trace": trace}),
        tmp_path,
    ).results
    assert (tmp_path / "trace.jsonl").stat().st_size > 0
    assert attrs.evolve(base, config={}) == attrs.evolve(other, config={})


def test_one_packet_under_tso_sends_its_ipi_once_the_frame_has_drained() -> None:
    """Under tso (every store drains 10 ns after it is made) the mechanism's
    weak_wrmsr_fence holds the ICR write until the frame's four stores have drained:
    up to the write-back every instant is the sc one, from the ICR write on every
    instant is 10 ns later (nothing else on the path waits for a drain). Within one
    instant the notes may come in another order: under sc NET_RX starts ahead of
    the core's iret (nothing can come between), under tso when the core starts it."""
    sc, _ = one_packet_notes()
    tso, (machine, events) = one_packet_notes(memory={"model": "tso", "drain_delay": 10})
    icr = next(i for i, (_, _, kind) in enumerate(sc) if kind == "IcrWritten")
    written = sc[icr][0]
    # The probe's refill (255 descriptors) stalls on the full buffer: its end moves.
    assert sc[0][2] == tso[0][2] == "DriverInitialised"
    assert tso[0][0] > sc[0][0]
    assert tso[1:icr] == sc[1:icr]
    assert sorted(tso[icr:]) == sorted((t + 10, actor, kind) for t, actor, kind in sc[icr:])
    fence = next(e for e in events if e["kind"] == "Fenced" and e["by"] == "mechanism")
    assert (fence["t_ns"], fence["barrier"], fence["waited_ns"]) == (
        written + 10,
        "weak_wrmsr_fence",
        10,
    )
    drained = [e["t_ns"] for e in events if e["kind"] == "StoreDrained" and e["actor"] == "core0"]
    assert drained == [written + 10] * 4  # data, descriptor, DD, RDH: in order, all at once
    sc_send = 1351 - 1000  # test_one_packets_whole_ordered_trace
    assert machine.generator.statistics().send_ns == (sc_send + 10,)


def test_the_memory_model_decides_which_store_buffers_exist() -> None:
    """sc: none. tso: one per core; the debug core's carries the ring engine's and the
    mechanism's stores, the target core's the driver's; a real NIC's DMA uses none."""
    sc = build_machine(config())
    assert sc.store_buffers == ()
    assert sc.ring.store_buffer is None
    assert sc.driver.store_buffer is None
    tso = build_machine(config(memory={"model": "tso"}))
    debug, target = tso.store_buffers
    assert (debug.core, debug.node, target.core, target.node) == ("core0", 0, "core1", 1)
    assert tso.ring.store_buffer is debug
    assert tso.mechanism.store_buffer is debug
    assert tso.driver.store_buffer is target
    assert tso.cores[1].store_buffer is target
    assert tso.memory.store_buffers == {"core0": debug, "core1": target}
    nic = build_machine(config(memory={"model": "tso"}, nic={"source": "e1000"}))
    assert nic.ring.store_buffer is None  # DMA is coherent
    assert nic.driver.store_buffer is nic.store_buffers[1]


def test_a_tso_run_is_deterministic_and_sc_is_the_default(tmp_path: Any) -> None:
    """Same config and seed under tso: byte-identical files. Naming sc changes nothing."""
    outputs = []
    for name in ("a", "b"):
        cfg = load_config(
            "configs/scenarios/tso-napi-no-mb.toml",
            ['simulation.trace="full"', "generator.count=30", 'simulation.policy="random"'],
        )
        run_config(cfg, tmp_path / name)
        outputs.append((tmp_path / name / "trace.jsonl").read_bytes())
    assert outputs[0] == outputs[1]
    bodies = []
    for name, extra in (("default", []), ("sc", ['memory.model="sc"'])):
        cfg = load_config("configs/quickstart.toml", ["generator.count=20", *extra])
        run_config(cfg, tmp_path / name)
        bodies.append((tmp_path / name / "trace.jsonl").read_text().splitlines()[1:])
    assert bodies[0] == bodies[1]


def _trace_notes_and_results(path: str, lookahead: bool, tmp: Any) -> tuple[list[Any], Any]:
    """The run's notes (each instant's in a fixed order) and results, lookahead on or off."""
    cfg = load_config(
        ROOT / "configs" / path,
        [
            'simulation.trace="full"',
            "simulation.until_ns=400000",
            f"simulation.lookahead={str(lookahead).lower()}",
        ],
    )
    out = tmp / ("on" if lookahead else "off")
    results = run_config(cfg, out).results
    notes = sorted(
        json.dumps(event, sort_keys=True)
        for event in read_trace((out / "trace.jsonl").read_text())
        if "src" not in event and event["actor"] != "runtime"
    )
    return notes, results


@pytest.mark.parametrize(
    "path",
    [
        "quickstart.toml",
        "scenarios/driver-paper.toml",
        "scenarios/driver-napi.toml",
        "scenarios/driver-lost-wakeup.toml",
        "scenarios/inject-ipi-at-step.toml",
        "scenarios/my-rx.toml",
    ],
)
def test_lookahead_changes_when_driver_code_runs_not_what_happens(path: str, tmp_path: Any) -> None:
    """With lookahead the same notes are written at the same instants and the results
    are the same; only the deliveries (and hand-offs) that carried no choice are gone,
    and a core counts back-to-back stretches of softirq code as one piece of work."""
    on_notes, on = _trace_notes_and_results(path, True, tmp_path)
    off_notes, off = _trace_notes_and_results(path, False, tmp_path)
    assert on_notes == off_notes
    assert on.messages_delivered < off.messages_delivered

    def outcome(results: Any) -> dict[str, Any]:
        record: dict[str, Any] = results.to_json()
        for key in ("config", "messages_delivered", "handoffs"):
            del record[key]
        for core in ("core0", "core1"):
            del record["statistics"][core]["tasks_done"]
        return record

    assert outcome(on) == outcome(off)
