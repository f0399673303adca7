"""Driver variants: correct ones keep every oracle, buggy ones fail as designed."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import attrs
import pytest

from mintactors.config import Config, parse_config
from mintactors.experiments.run import RecordedRun, record_run
from mintactors.hardware.apic import LocalApic
from mintactors.hardware.cpu import CpuCore
from mintactors.kernel.drivers import DriverStatistics
from mintactors.machine import build_machine
from mintactors.messages import RunTask, TaskDone
from mintactors.runtime import Effect, Send, Simulation
from mintactors.testing import PINNED_COSTS, Recorder, read_trace

FIXED_LATENCY = {"ipi_latency": 1000}


def config(driver: str, generator: dict[str, Any], **sections: Any) -> Config:
    raw: dict[str, Any] = {
        "driver": {"kind": driver},
        "generator": generator,
        "apic": FIXED_LATENCY,
        "simulation": {"trace": "off"},
        "costs": dict(PINNED_COSTS),
    }
    raw.update(sections)
    return parse_config(raw, "<test>")


def run(driver: str, generator: dict[str, Any], **sections: Any) -> RecordedRun:
    return record_run(config(driver, generator, **sections))


def oracle_failures(recorded: RecordedRun) -> set[str]:
    return {v.oracle for v in recorded.violations}


# -- one-per-irq -------------------------------------------------------------------


@pytest.mark.parametrize("interval_ns", [700, 1200, 1800, 2600, 4000, 9000])
def test_one_per_irq_loses_exactly_the_frames_whose_ipis_merged(interval_ns: int) -> None:
    """Frames left in the ring at the end equal the IPIs merged in the target APIC, no more."""
    recorded = run("one-per-irq", {"count": 60, "interval_ns": interval_ns})
    merged = recorded.machine.apics[1].statistics().ipi_merged
    results = recorded.results
    assert results is not None
    assert results.in_flight_detail["ring_memory"] == merged
    assert results.ipi.merged == merged
    assert ("lost_wakeup" in oracle_failures(recorded)) == (merged > 0)


def test_one_per_irq_merges_and_loses_under_load_and_not_when_idle() -> None:
    """Both regimes occur: back-to-back frames merge IPIs; widely spaced frames do not."""
    fast = run("one-per-irq", {"count": 40, "interval_ns": 700})
    slow = run("one-per-irq", {"count": 40, "interval_ns": 20_000})
    assert fast.machine.apics[1].statistics().ipi_merged > 0
    assert slow.machine.apics[1].statistics().ipi_merged == 0
    assert slow.results is not None
    assert slow.results.delivered == 40


# -- napi ---------------------------------------------------------------------------


def napi_stats(recorded: RecordedRun) -> DriverStatistics:
    return recorded.machine.driver.statistics()


def test_napi_polls_with_a_budget_of_64_and_delivers_everything() -> None:
    """A 200-frame burst is drained 64 descriptors per poll at most, and all arrive."""
    # A receive buffer for the whole burst: the poll starves the application meanwhile.
    recorded = run(
        "napi",
        {"count": 200, "pattern": "burst", "burst_size": 200, "burst_period_ns": 10**9},
        socket={"rcvbuf": 1 << 20},
    )
    stats = napi_stats(recorded)
    assert stats.max_drained_per_run == 64
    assert stats.budget_exhausted >= 2
    assert recorded.results is not None
    assert recorded.results.delivered == 200
    assert recorded.violations == ()


def test_napi_masks_so_the_mechanism_sends_fewer_ipis_than_frames() -> None:
    """While a poll runs, the mechanism sees IMS masked, latches ICR and sends no IPI."""
    recorded = run("napi", {"count": 100, "interval_ns": 1500})
    mechanism = recorded.machine.mechanism.statistics()
    assert mechanism.ipis_masked > 0
    assert mechanism.icr_writes + mechanism.ipis_masked == 100
    assert recorded.violations == ()


def test_a_napi_hard_irq_with_no_cause_in_icr_returns_irq_none() -> None:
    """An IPI with nothing latched in ICR is not the device's: e1000_intr returns IRQ_NONE
    before it masks or touches the poll."""
    inject = [{"step": "poll_started", "occurrence": 2, "action": "ipi", "delay_ns": 100}]
    recorded = run("napi", {"count": 10, "interval_ns": 20_000}, inject=inject)
    stats = napi_stats(recorded)
    assert (stats.irq_none, stats.napi_missed) == (1, 0)
    assert stats.handler_runs == 11
    assert stats.masks == stats.polls == 10
    assert recorded.results is not None
    assert recorded.results.delivered == 10
    assert recorded.violations == ()


def test_napi_records_missed_when_an_interrupt_comes_during_a_poll() -> None:
    """IPIs still in flight when the first handler masks find the poll taken: MISSED is
    set and the poll runs again; every frame is still delivered."""
    recorded = run("napi", {"count": 30, "interval_ns": 200})
    stats = napi_stats(recorded)
    assert stats.napi_missed > 0
    assert recorded.results is not None
    assert recorded.results.delivered == 30
    assert recorded.violations == ()


# Pairs of frames whose second descriptor is written between the first poll's last
# DD check and its unmask (with these profile costs and a fixed 1 us IPI latency).
IN_THE_WINDOW = {
    "count": 10,
    "pattern": "burst",
    "burst_size": 2,
    "burst_gap_ns": 3820,
    "burst_period_ns": 50_000,
}


def test_lost_wakeup_strands_a_frame_written_between_last_check_and_unmask() -> None:
    """Without the re-check, the second frame of each pair waits for the next pair's IPI."""
    recorded = run("lost-wakeup", IN_THE_WINDOW)
    assert recorded.machine.mechanism.statistics().ipis_masked >= 1
    first = recorded.first
    assert first is not None
    assert first.oracle == "lost_wakeup"
    assert first.detail["seq"] == 1
    assert first.detail["stranded_ns"] > 40_000  # until the next pair, ~46 us later


def test_napi_recheck_closes_the_same_window() -> None:
    """With the same timing, NAPI's re-check after unmasking finds the frame at once."""
    recorded = run("napi", IN_THE_WINDOW)
    assert napi_stats(recorded).rechecks_found >= 1
    assert recorded.violations == ()
    assert recorded.results is not None
    assert recorded.results.oracles["lost_wakeup"]["longest_stranded_ns"] == 0


# -- ring-wrap ----------------------------------------------------------------------


def test_ring_wrap_reads_past_the_ring_and_strands_every_later_frame() -> None:
    """After the last descriptor the handler reads descriptor ``count``, past RDLEN, and stops."""
    cfg = config(
        "ring-wrap",
        {"count": 30, "interval_ns": 5000},
        nic={"ring_size": 8},
        simulation={"trace": "full"},
    )
    out = io.StringIO()
    machine = build_machine(cfg, out)
    machine.simulation.run_sync()
    layout = cfg.layout
    past_the_ring = layout.ring_base + layout.ring_bytes
    reads = machine.memory.statistics().reads
    assert reads > 0
    # Descriptor 8 of an 8-descriptor ring lies past RDLEN, where nothing sets DD.
    assert machine.memory.peek(past_the_ring, 16) == bytes(16)
    assert machine.driver.statistics().frames_taken == 8
    assert machine.driver.next_to_clean == 8


def test_ring_wrap_is_caught_by_the_lost_wakeup_oracle() -> None:
    """The stranded frames are reported; conservation still holds (drops are named)."""
    recorded = run("ring-wrap", {"count": 30, "interval_ns": 5000}, nic={"ring_size": 8})
    assert oracle_failures(recorded) == {"lost_wakeup"}
    assert recorded.results is not None
    assert recorded.results.dropped.get("no_descriptor", 0) > 0


# -- paper -------------------------------------------------------------------------


def test_paper_driver_never_touches_the_interrupt_mask() -> None:
    """The paper's variant keeps the paper's path: the mechanism reads no IMS, masks nothing."""
    cfg = config("paper", {"count": 50, "interval_ns": 1500}, simulation={"trace": "full"})
    out = io.StringIO()
    machine = build_machine(cfg, out)
    machine.simulation.run_sync()
    events = read_trace(out.getvalue())
    assert not [e for e in events if e["kind"] in ("IpiMasked", "IrqMasked")]
    assert machine.mechanism.mask_registers is None  # it never loads IMS
    assert machine.mechanism.statistics().icr_writes == 50


@pytest.mark.parametrize("driver", ["paper", "napi"])
@pytest.mark.parametrize("interval_ns", [300, 1500, 5000])
def test_correct_drivers_keep_every_oracle_under_load(driver: str, interval_ns: int) -> None:
    """paper and napi pass every oracle from overload to light load, with jittered IPIs."""
    recorded = run(
        driver,
        {"count": 150, "interval_ns": interval_ns},
        apic={"ipi_latency": {"dist": "normal", "mean_ns": 1000, "sd_ns": 300}},
        simulation={"trace": "off", "policy": "random", "seed": interval_ns},
    )
    assert recorded.violations == ()


@pytest.mark.parametrize("driver", ["paper", "napi"])
@pytest.mark.parametrize("interval_ns", [300, 1500, 5000])
def test_correct_drivers_keep_every_oracle_under_tso(driver: str, interval_ns: int) -> None:
    """With store buffers on both cores (and the mechanism's barrier), the same loads
    still pass every oracle: nothing in the correct path depends on sc."""
    recorded = run(
        driver,
        {"count": 150, "interval_ns": interval_ns},
        apic={"ipi_latency": {"dist": "normal", "mean_ns": 1000, "sd_ns": 300}},
        memory={"model": "tso"},
        simulation={"trace": "off", "policy": "random", "seed": interval_ns},
    )
    assert recorded.violations == ()
    assert recorded.results is not None
    if interval_ns == 5000:  # light load: nothing dropped either
        assert recorded.results.delivered == 150


# -- napi-no-mb -----------------------------------------------------------------------


def test_napi_no_mb_under_sc_closes_the_window_like_napi() -> None:
    """Without store buffers the missing barrier changes nothing but its cost: the
    re-check finds the frame and every oracle holds."""
    recorded = run("napi-no-mb", IN_THE_WINDOW)
    assert (
        napi_stats(recorded).rechecks_found == napi_stats(run("napi", IN_THE_WINDOW)).rechecks_found
    )
    assert recorded.violations == ()


# -- softirq work on the core --------------------------------------------------------


@attrs.define
class SoftirqOwner:
    """Queues a second piece of softirq work in reply to the first one's TaskDone."""

    done: list[tuple[str, int]] = attrs.field(factory=list)

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        assert isinstance(message, TaskDone)
        self.done.append((message.label, now_ns))
        if message.label == "first":
            return (Send("core", RunTask("owner", 100, "second", priority=0)),)
        return ()


@pytest.mark.parametrize("arrives_ns", [10, 100], ids=["queued-earlier", "arrives-as-it-ends"])
def test_softirq_owner_keeps_the_core_before_process_context(arrives_ns: int) -> None:
    """A process task, queued earlier or arriving as softirq work ends, waits for the
    softirq owner's next piece."""
    sim = Simulation()
    apic = LocalApic(apic_id=1, name="apic", peers={}, latency=lambda: 0)
    core = CpuCore(core_id=1, name="core", apic=apic, idt={}, irq_entry_ns=0, irq_exit_ns=0)
    owner, process = SoftirqOwner(), Recorder()
    sim.add_actor("core", core)
    sim.add_actor("owner", owner)
    sim.add_actor("process", process)
    sim.post("core", RunTask("owner", 100, "first", priority=0))
    sim.post("core", RunTask("process", 50, "app", priority=1), at_ns=arrives_ns)
    sim.run_sync()
    assert owner.done == [("first", 100), ("second", 200)]
    assert [(t, m.label) for t, m in process.seen if isinstance(m, TaskDone)] == [(250, "app")]
