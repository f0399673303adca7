"""Injection at driver steps: an IPI or a packet exactly when the handler reaches a step."""

from __future__ import annotations

import io
from typing import Any

import pytest

from mintactors.config import parse_config
from mintactors.errors import ConfigError
from mintactors.experiments.run import record_run
from mintactors.kernel.drivers import NAPI_STEPS, SHELL_STEPS, PaperDriver
from mintactors.kernel.injection import Injection, Injector
from mintactors.machine import build_machine
from mintactors.messages import InjectPacket, IpiMessage
from mintactors.runtime import Note, Send
from mintactors.testing import read_trace


def traced_run(
    inject: list[dict[str, Any]], driver: str = "paper", count: int = 6
) -> list[dict[str, Any]]:
    raw = {
        "driver": {"kind": driver},
        "generator": {"count": count, "interval_ns": 20_000},
        "simulation": {"trace": "full"},
        "inject": inject,
    }
    out = io.StringIO()
    machine = build_machine(parse_config(raw, "<test>"), out)
    machine.simulation.run_sync()
    return read_trace(out.getvalue())


def handler_entered(events: list[dict[str, Any]], run: int) -> int:
    """When the driver's handler started its ``run``-th run."""
    return [e["t_ns"] for e in events if e["kind"] == "HandlerEntered"][run - 1]


@pytest.mark.parametrize("delay_ns", [0, 250, 3000])
def test_an_ipi_injection_fires_exactly_at_its_step(delay_ns: int) -> None:
    """At the 3rd status_read (the 3rd descriptor read arriving), the IPI lands delay_ns later.

    Every packet has a handler run of its own (20 us apart), and each run reads two
    descriptors: the frame's, and the next one without DD. So the 3rd status_read
    is the first of run 2: its load is made after the entry code's EOI (50 ns) and
    arrives 30 ns later.
    """
    events = traced_run(
        [{"step": "status_read", "occurrence": 3, "action": "ipi", "delay_ns": delay_ns}]
    )
    fired = [e for e in events if e["kind"] == "InjectionFired"]
    assert len(fired) == 1
    at = handler_entered(events, 2) + 50 + 30
    assert fired[0]["t_ns"] == at
    assert (fired[0]["step"], fired[0]["occurrence"]) == ("status_read", 3)
    injected = [e for e in events if e["kind"] == "IpiMessage" and e["seq"] == -1]
    assert [e["t_ns"] for e in injected] == [at + delay_ns]
    assert injected[0]["actor"] == "apic1"


def test_an_injected_ipi_runs_the_handler_again() -> None:
    """An IPI injected as the handler returns is taken right after iret: one handler run more."""
    events = traced_run([{"step": "returned", "occurrence": 2, "action": "ipi"}])
    entered = [e for e in events if e["kind"] == "HandlerEntered"]
    assert len(entered) == 6 + 1
    empty = [e for e in events if e["kind"] == "HandlerExited" and e["drained"] == 0]
    assert len(empty) == 1


def test_a_packet_injection_sends_one_more_packet_through_the_whole_path() -> None:
    """An injected packet is built, posted and delivered like the others, and accounted."""
    raw = {
        "generator": {"count": 5, "interval_ns": 20_000},
        "inject": [{"step": "frame_copied", "occurrence": 2, "action": "packet"}],
    }
    recorded = record_run(parse_config(raw, "<test>"))
    assert recorded.results is not None
    assert recorded.results.sent == 6 == recorded.results.delivered
    assert recorded.machine.generator.statistics().injected == 1
    assert recorded.violations == ()


def test_an_injection_past_the_runs_occurrences_never_fires() -> None:
    """An occurrence the handler never reaches fires nothing."""
    events = traced_run([{"step": "entered", "occurrence": 99, "action": "ipi"}])
    assert not [e for e in events if e["kind"] == "InjectionFired"]


def test_injector_fires_only_at_the_planned_occurrence() -> None:
    """The hook answers its step's Nth occurrence alone, with a note and the action."""
    injector = Injector(
        injections=[Injection("entered", "ipi", 2, 10), Injection("entered", "packet", 3)],
        target_apic="apic1",
        vector=0x41,
        source_apic=0,
        generator="generator",
    )
    assert list(injector("entered", 1, 100)) == []
    assert list(injector("returned", 2, 100)) == []
    second = injector("entered", 2, 200)
    assert isinstance(second[0], Note)
    assert second[1] == Send("apic1", IpiMessage(0x41, 0, -1), 10)
    third = injector("entered", 3, 300)
    assert third[1] == Send("generator", InjectPacket(), 0)
    assert injector.fired == [(0, 200), (1, 300)]


@pytest.mark.parametrize(
    ("driver", "steps", "generator"),
    [
        (
            "paper",
            (*[s for s in SHELL_STEPS if s != "poll_started"], *PaperDriver.steps),
            {"count": 40, "interval_ns": 300},
        ),
        (
            "napi",
            (*SHELL_STEPS, *NAPI_STEPS),
            {
                "count": 40,
                "pattern": "burst",
                "burst_size": 2,
                "burst_gap_ns": 4000,
                "burst_period_ns": 50_000,
            },
        ),
    ],
)
def test_every_named_step_is_reached(
    driver: str, steps: tuple[str, ...], generator: dict[str, Any]
) -> None:
    """Each step a variant names is a real moment of its handler: a run reaches them all."""
    raw = {"driver": {"kind": driver}, "generator": generator, "apic": {"ipi_latency": 1000}}
    recorded = record_run(parse_config(raw, "<test>"))
    counts = recorded.machine.driver.step_counts
    assert [s for s in steps if counts.get(s, 0) == 0] == []


@pytest.mark.parametrize(
    ("inject", "key", "problem"),
    [
        ({"step": "masked", "action": "ipi"}, "inject[0].step", "driver 'paper' has no step"),
        ({"step": "entered", "action": "ipi", "core": 0}, "inject[0].core", "runs on core 1"),
        ({"step": "entered", "action": "nmi"}, "inject[0].action", "one of 'ipi', 'packet'"),
        (
            {"step": "entered", "action": "ipi", "occurrence": 0},
            "inject[0].occurrence",
            "at least 1",
        ),
    ],
)
def test_bad_injections_are_config_errors_naming_the_key(
    inject: dict[str, Any], key: str, problem: str
) -> None:
    """Each bad [[inject]] entry is refused with its key and what is allowed."""
    with pytest.raises(ConfigError) as info:
        parse_config({"inject": [inject]}, "exp.toml")
    assert info.value.key == key
    assert problem in info.value.problem
