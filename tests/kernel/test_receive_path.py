"""Linux's receive path around the driver: softirq at irq_exit, the backlog, the limits.

Each test pins the behaviour of one decision in docs/model.md ("The receive path"):
the stack runs in NET_RX with interrupts on, not in the hard IRQ; softirqs run at
a hard IRQ's exit, before the interrupted task resumes; the backlog holds at most
``netdev_max_backlog`` skbs; ``net_rx_action`` stops at its budget; the softirq
hands its rest to ksoftirqd, which shares the CPU with the application; the
entry code writes the EOI before the handler runs; ``e1000_intr`` masks and
flushes before it takes the poll.
"""

from __future__ import annotations

import io
from typing import Any

from mintactors.config import Config, parse_config
from mintactors.experiments.run.results import account
from mintactors.machine import Machine, build_machine
from mintactors.testing import PINNED_COSTS, read_trace


def config(costs: dict[str, Any] | None = None, **sections: dict[str, Any]) -> Config:
    raw: dict[str, Any] = {"costs": {**PINNED_COSTS, **(costs or {})}}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return parse_config(raw, "<test>")


def traced(cfg: Config, until_ns: int | None = None) -> tuple[Machine, list[dict[str, Any]]]:
    out = io.StringIO()
    machine = build_machine(cfg, out)
    machine.simulation.run_sync(until_ns=until_ns)
    return machine, read_trace(out.getvalue())


def first(events: list[dict[str, Any]], kind: str, **fields: Any) -> dict[str, Any]:
    return next(
        e for e in events if e["kind"] == kind and all(e.get(k) == v for k, v in fields.items())
    )


def test_the_hard_irq_leaves_the_stack_to_the_softirq() -> None:
    """The interrupts-off span holds the copy but not the stack; NET_RX runs the stack."""
    stack_ns = 5000
    cfg = config({"stack_ns": stack_ns}, generator={"count": 1}, simulation={"trace": "full"})
    _, events = traced(cfg)
    taken = first(events, "InterruptTaken")["t_ns"]
    returned = first(events, "InterruptReturned")["t_ns"]
    softirq = first(events, "SoftirqStarted", context="irq_exit")["t_ns"]
    queued = first(events, "SkbQueued")["t_ns"]
    assert returned - taken < stack_ns
    assert first(events, "SkbBacklogged")["t_ns"] < returned == softirq  # NET_RX right after iret
    assert queued - softirq == stack_ns  # the backlog's poll passes it straight up


def test_a_napi_poll_starts_before_the_interrupted_task_resumes() -> None:
    """An IPI pre-empting the application's recv runs its poll before the recv goes on."""
    cfg = config(
        {"app_recv_ns": 20_000},
        driver={"kind": "napi"},
        generator={"pattern": "list", "instants_ns": [10_000, 20_000]},
        simulation={"trace": "full"},
    )
    _, events = traced(cfg)
    polls = [e["t_ns"] for e in events if e["kind"] == "PollStarted"]
    received = [e["t_ns"] for e in events if e["kind"] == "PacketReceived"]
    assert len(polls) == 2
    # The second poll starts while the app still processes the first frame (its recv
    # takes 20 us), not after it.
    assert polls[1] < received[0]


def test_a_full_backlog_drops_with_reason_backlog() -> None:
    """netif_rx refuses skbs beyond netdev_max_backlog; each drop is named and accounted."""
    cfg = config(
        {"netdev_max_backlog": 3},
        generator={"count": 60, "interval_ns": 0},
        simulation={"trace": "summary"},
    )
    machine, events = traced(cfg)
    accounting = account(machine)
    softnet = machine.driver.softnet.statistics()
    assert accounting.dropped.get("backlog", 0) == softnet.dropped > 0
    assert softnet.backlog_high_water == 3 + 1  # qlen <= max is still accepted
    drops = [e for e in events if e["kind"] == "PacketDropped"]
    assert sum(e["reason"] == "backlog" for e in drops) == softnet.dropped
    assert accounting.sent == accounting.delivered + sum(accounting.dropped.values())


def test_net_rx_action_stops_at_its_budget() -> None:
    """With a budget of 4 packets, a long backlog is processed in squeezed rounds."""
    cfg = config(
        {"netdev_budget": 4, "dev_weight": 2},
        generator={"count": 40, "interval_ns": 0},
        simulation={"trace": "full"},
    )
    machine, events = traced(cfg)
    softnet = machine.driver.softnet.statistics()
    squeezes = [e for e in events if e["kind"] == "TimeSqueeze"]
    assert softnet.time_squeeze == len(squeezes) > 0
    assert {e["reason"] for e in squeezes} == {"budget"}
    assert machine.app.statistics().received == 40


def test_ksoftirqd_takes_the_rest_and_shares_the_cpu_with_the_application() -> None:
    """A long masked NAPI flood outlasts __do_softirq's limits; ksoftirqd and the app
    then share the CPU, so the app receives while the flood goes on."""
    cfg = config(
        # One poll per net_rx_action, so ten restarts come well within the flood.
        {"ipi_latency_ns": 10, "irq_entry_ns": 10, "netdev_budget": 1, "sched_slice_ns": 200_000},
        driver={"kind": "napi"},
        generator={"count": 6000, "interval_ns": 300},
        simulation={"trace": "off"},
    )
    machine = build_machine(cfg, io.StringIO())
    flood_ends = 10_000 + 6000 * 300
    machine.simulation.run_sync(until_ns=flood_ends)
    softnet = machine.driver.softnet.statistics()
    assert softnet.ksoftirqd_wakeups >= 1
    assert softnet.ksoftirqd_runs >= 1
    threads = machine.cores[machine.config.machine.target_core].statistics().thread_ns
    assert threads["ksoftirqd/1"] > 0
    assert threads["app"] > 0
    # Without ksoftirqd the poll would keep the CPU for the whole flood and the
    # application would not receive a frame before it ended.
    assert machine.app.statistics().received > 0


def test_the_entry_code_writes_the_eoi_before_the_handler_runs() -> None:
    """Inside the handler, the APIC has nothing in service any more."""
    # Without lookahead the handler's code stops at each load, so at 11.7 us the
    # driver is still in it (with it, the code would have run to its end already).
    cfg = config(generator={"count": 1}, simulation={"trace": "full", "lookahead": False})
    machine = build_machine(cfg, io.StringIO())
    machine.simulation.run_sync(until_ns=11_700)  # handler: about 11.4 .. 12.1 us
    target = machine.config.machine.target_core
    assert machine.driver.in_handler
    assert machine.cores[target].in_handler is not None
    assert machine.apics[target].isr == 0


def test_e1000_intr_masks_and_flushes_before_it_takes_the_poll() -> None:
    """Every hard IRQ masks before napi_schedule_prep; one that finds the poll taken
    unmasks again, as e1000_intr does ("this really should not happen")."""
    cfg = config(
        driver={"kind": "napi"},
        generator={"count": 30, "interval_ns": 200},
        simulation={"trace": "full"},
    )
    machine, events = traced(cfg)
    runs: dict[int, list[str]] = {}
    current = None
    for e in events:
        if e["kind"] == "HandlerEntered":
            current = runs.setdefault(e["run"], [])
        elif e["kind"] == "HandlerExited":
            current = None
        elif current is not None and e["kind"] in ("IrqMasked", "NapiMissed", "IrqUnmasked"):
            current.append(e["kind"])
    assert runs[1] == ["IrqMasked"]
    missed = [kinds for kinds in runs.values() if "NapiMissed" in kinds]
    assert missed
    assert all(kinds == ["IrqMasked", "NapiMissed", "IrqUnmasked"] for kinds in missed)
    assert machine.driver.statistics().napi_missed == len(missed)
    assert machine.app.statistics().received == 30
