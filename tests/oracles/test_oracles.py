"""Oracles: each catches the fault it names, at the moment it began, and nothing else."""

from __future__ import annotations

import io
from typing import Any

import pytest

from mintactors.config import Config, parse_config
from mintactors.experiments.run import record_run
from mintactors.kernel.socket import UdpSocket
from mintactors.machine import build_machine
from mintactors.oracles import OracleMonitor
from mintactors.testing import PINNED_COSTS, read_trace

# Pairs whose second frame lands between the lost-wakeup poll's last DD check and
# its unmask (fixed 1 us IPI latency, paper-2014 costs).
PAIRS = {"pattern": "burst", "burst_size": 2, "burst_gap_ns": 3820, "burst_period_ns": 50_000}


def config(driver: str = "paper", *, trace: str = "off", **sections: Any) -> Config:
    raw: dict[str, Any] = {
        "driver": {"kind": driver},
        "apic": {"ipi_latency": 1000},
        "simulation": {"trace": trace},
        "costs": dict(PINNED_COSTS),
    }
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value}
    return parse_config(raw, "<test>")


def test_lost_wakeup_is_dated_from_the_unmask_that_left_the_frame_behind() -> None:
    """The violation begins when the poll unmasked with the frame in the ring, ends at bound."""
    cfg = config("lost-wakeup", trace="full", generator={"count": 4, **PAIRS})
    out = io.StringIO()
    machine = build_machine(cfg, out)
    monitor = OracleMonitor(machine)
    run = machine.simulation.run_sync(stop_when=monitor)
    monitor.finish(run)
    events = read_trace(out.getvalue())
    masked = next(e["t_ns"] for e in events if e["kind"] == "IpiMasked")
    unmasked = next(e["t_ns"] for e in events if e["kind"] == "IrqUnmasked" and e["t_ns"] > masked)
    first = monitor.first()
    assert first is not None
    assert (first.oracle, first.t_ns, first.detected_ns) == (
        "lost_wakeup",
        unmasked,
        unmasked + 10_000,
    )
    assert first.detail["seq"] == 1


def test_a_frame_stranded_when_the_run_goes_idle_is_lost_for_good() -> None:
    """With no later traffic, the stranded frame never leaves: reported as forever."""
    recorded = record_run(config("lost-wakeup", generator={"count": 2, **PAIRS}))
    assert [v.detail["forever"] for v in recorded.violations] == [True]
    assert recorded.results is not None
    assert recorded.results.in_flight_detail["ring_memory"] == 1
    assert recorded.results.oracles["conservation"]["ok"]


def test_strandings_shorter_than_the_bound_are_not_violations() -> None:
    """With the bound above the 46 us waits, only the final, endless stranding counts."""
    recorded = record_run(
        config(
            "lost-wakeup", generator={"count": 10, **PAIRS}, oracles={"stranded_bound_ns": 60_000}
        )
    )
    assert [v.detail["forever"] for v in recorded.violations] == [True]
    assert recorded.results is not None
    assert recorded.results.oracles["lost_wakeup"]["longest_stranded_ns"] > 40_000


def test_a_run_cut_short_by_until_is_judged_by_the_bound() -> None:
    """A stranding still open at until_ns counts only if it already exceeds the bound."""
    short = record_run(
        config("lost-wakeup", generator={"count": 4, **PAIRS}, simulation={"until_ns": 20_000})
    )
    long = record_run(
        config("lost-wakeup", generator={"count": 4, **PAIRS}, simulation={"until_ns": 40_000})
    )
    assert short.violations == ()
    assert [v.detail["forever"] for v in long.violations] == [False]


def test_a_damaged_frame_breaks_intact_once() -> None:
    """A bit flipped in a receive buffer makes the frame fail its checksum: intact_once."""
    cfg = config(generator={"count": 3, "interval_ns": 20_000})
    machine = build_machine(cfg)
    poke, target = machine.memory.poke, cfg.layout.buffer(1) + 100

    def flip(addr: int, data: bytes) -> None:
        if addr <= target < addr + len(data):
            data = bytearray(data)
            data[target - addr] ^= 0x10
        poke(addr, bytes(data))

    machine.memory.poke = flip  # type: ignore[method-assign]
    monitor = OracleMonitor(machine)
    monitor.finish(machine.simulation.run_sync(stop_when=monitor))
    assert [(v.oracle, v.detail["problem"]) for v in monitor.violations] == [
        ("intact_once", "udp_checksum")
    ]


def test_app_problems_map_to_their_oracles_at_their_time() -> None:
    """Duplicates and damage are intact_once; a lower seq in the same flow is flow_order."""
    machine = build_machine(config(generator={"count": 1}))
    monitor = OracleMonitor(machine)
    machine.app.problems += [
        (5, "duplicate", {"seq": 3}),
        (7, "reordered", {"seq": 2, "after": 4, "flow": "00"}),
        (9, "malformed", {"seq": None, "problem": "ip_checksum"}),
    ]
    monitor()
    assert sorted((v.t_ns, v.oracle) for v in monitor.violations) == [
        (5, "intact_once"),
        (7, "flow_order"),
        (9, "intact_once"),
    ]
    reordered = next(v for v in monitor.violations if v.oracle == "flow_order")
    assert "arrived after seq 4" in reordered.message


def test_a_packet_lost_without_a_count_breaks_conservation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A socket that silently swallows a packet leaves the accounting short: conservation."""
    enqueue = UdpSocket._enqueue
    swallowed: list[int] = []

    def leaky(self: UdpSocket, skb: Any, now_ns: int) -> Any:
        if skb.seq == 2 and not swallowed:
            swallowed.append(skb.seq)
            return ()
        return enqueue(self, skb, now_ns)

    monkeypatch.setattr(UdpSocket, "_enqueue", leaky)
    recorded = record_run(config(generator={"count": 5, "interval_ns": 20_000}))
    assert [v.oracle for v in recorded.violations] == ["conservation"]
    assert "does not add up" in recorded.violations[0].message


@pytest.mark.parametrize("driver", ["paper", "napi", "one-per-irq"])
def test_a_clean_run_reports_every_oracle_passed(driver: str) -> None:
    """results.json holds a verdict for every oracle; a light load passes them all."""
    recorded = record_run(config(driver, generator={"count": 20, "interval_ns": 20_000}))
    assert recorded.results is not None
    report = recorded.results.oracles
    assert sorted(report) == ["conservation", "flow_order", "intact_once", "lost_wakeup"]
    assert all(v["ok"] and v["violations"] == 0 and v["first"] is None for v in report.values())
