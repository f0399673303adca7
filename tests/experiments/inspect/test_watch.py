"""Watchpoints: a field's changes over a run, and its last change before an instant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mintactors.config import load_config
from mintactors.experiments.inspect import InspectError, Seeker, last_change, resolve_field, watch
from mintactors.experiments.inspect._session import Stop
from mintactors.experiments.run import run_config
from tests._paths import CONFIGS

RDT_OFFSET = 0x2818


def record(out: Path, *assignments: str) -> Path:
    config = load_config(CONFIGS / "quickstart.toml", ['simulation.trace="full"', *assignments])
    run_config(config, out)
    return out / "trace.jsonl"


def rdt_writes(trace: Path) -> list[tuple[int, int, int]]:
    """(t_ns, line, value) of every store to RDT that changes it, read from a full trace."""
    header = json.loads(trace.read_text().splitlines()[0])
    rdt = header["config"]["machine"]["shared"]["base"] + RDT_OFFSET
    value, changes = 0, []
    for number, line in enumerate(trace.read_text().splitlines(), 1):
        event = json.loads(line)
        if event["kind"] != "MemoryWrite":
            continue
        for addr, data in event["writes"]:
            if addr == rdt and int.from_bytes(bytes.fromhex(data), "little") != value:
                value = int.from_bytes(bytes.fromhex(data), "little")
                changes.append((event["t_ns"], number, value))
    return changes


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Forty packets 3 us apart: refills move RDT all the way round a 64-slot ring."""
    return record(tmp_path_factory.mktemp("busy"), "generator.count=40", "nic.ring_size=64")


def test_watching_rdt_lists_exactly_the_rdt_writes_of_the_full_trace(busy: Path) -> None:
    """Every store that changed RDT, at its time and on its trace line, and nothing else."""
    report = watch(Seeker(busy), "ring.rdt")
    assert [(c.t_ns, c.line, c.after) for c in report.changes] == rdt_writes(busy)
    assert all(c.actor == "memory" and c.kind == "MemoryWrite" for c in report.changes)
    assert all(c.before != c.after for c in report.changes)
    assert report.final == report.changes[-1].after


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    count=st.integers(1, 12),
    interval=st.integers(0, 6000),
    ring=st.sampled_from([8, 16, 32]),
)
def test_rdt_watch_matches_the_trace_for_any_traffic(
    tmp_path_factory: pytest.TempPathFactory, count: int, interval: int, ring: int
) -> None:
    """Whatever the load and ring size, the watch and the trace's RDT stores agree."""
    trace = record(
        tmp_path_factory.mktemp("any"),
        f"generator.count={count}",
        f"generator.interval_ns={interval}",
        f"nic.ring_size={ring}",
    )
    report = watch(Seeker(trace, verify=False), "ring.rdt")
    assert [(c.t_ns, c.after) for c in report.changes] == [(t, v) for t, _, v in rdt_writes(trace)]


def test_a_window_lists_only_its_changes_and_opens_with_the_value_then(busy: Path) -> None:
    """--from/--to: changes inside the window; the initial value is the one before it."""
    every = rdt_writes(busy)
    start, end = every[3][0], every[6][0]
    report = watch(Seeker(busy), "ring.rdt", start_ns=start, end=f"{end}ns")
    assert [(c.t_ns, c.after) for c in report.changes] == [(t, v) for t, _, v in every[3:7]]
    assert report.initial == every[2][2]


def test_the_last_change_before_an_instant_is_the_watchs_last_up_to_it(busy: Path) -> None:
    """--before: the same change the full watch lists last at or before the target."""
    every = rdt_writes(busy)
    target = every[5][0] + 1
    report = last_change(Seeker(busy), "ring.rdt", f"{target}ns")
    assert [(c.t_ns, c.line, c.after) for c in report.changes] == [every[5]]
    assert report.final == every[5][2]


def test_a_field_that_never_changes_says_so(busy: Path) -> None:
    """The paper's driver never masks, so IMS stays 0 from the start."""
    report = last_change(Seeker(busy), "memory.registers.ims", "30us")
    assert report.changes == ()
    assert report.initial == 0


def test_nested_and_indexed_fields_are_watched(busy: Path) -> None:
    """A descriptor's status and the driver's NAPI flag resolve and report changes."""
    seeker = Seeker(busy, verify=False)
    desc = watch(seeker, "ring.descriptors[0].flags")
    # Written back with DD, EOP and IXSM; given back (status 0); written back again.
    assert desc.changes[0].after == ("DD", "EOP", "IXSM")
    assert desc.changes[1].after == ()
    napi = watch(seeker, "driver.napi.sched")
    assert napi.changes == ()  # the paper's driver has no NAPI poll


@pytest.mark.parametrize(
    ("field", "complaint"),
    [
        ("rign.rdt", "no component 'rign' (did you mean 'ring'?); components: core0"),
        ("ring.rdtt", "ring has no field 'rdtt' (did you mean 'rdt'?); its fields: size"),
        ("ring.rdt.low", "ring.rdt has no fields"),
        ("socket[1]", "socket is not a list"),
        ("ring.descriptors[999]", "the ring has 64 (0 to 63)"),
        ("ring..rdt", "is not a field path"),
    ],
)
def test_an_unknown_field_is_refused_with_the_valid_names(
    busy: Path, field: str, complaint: str
) -> None:
    """A typo is found before anything runs, and answered with what would do."""
    with pytest.raises(InspectError) as info:
        watch(Seeker(busy), field)
    assert complaint in str(info.value)


FAST_FIELDS = (
    "ring.rdh",
    "ring.rdt",
    "ring.next_to_clean",
    "ring.next_to_use",
    "ring.descriptors[3].flags",
    "ring.descriptors[3]",
    "driver.napi.sched",
    "driver.napi.missed",
    "socket.rmem",
)


@pytest.fixture(scope="module")
def napi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A NAPI driver under traffic fast enough for polls to overlap interrupts."""
    return record(
        tmp_path_factory.mktemp("napi"),
        'driver.kind="napi"',
        "generator.count=30",
        "generator.interval_ns=1500",
        "nic.ring_size=16",
    )


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fraction=st.floats(0.0, 1.0))
def test_fields_read_in_place_agree_with_the_snapshot(napi: Path, fraction: float) -> None:
    """The watch's cheap readers give what the component's snapshot record says."""
    seeker = Seeker(napi, verify=False, checkpoints=False)
    at = round(seeker.recorded.end_ns * fraction)
    machine = seeker.reexecute(Stop(until_ns=at)).machine
    snap = machine.snapshot()
    for path in FAST_FIELDS:
        field = resolve_field(machine, path)
        value: object = snap[field.component]
        for step in field.steps:
            value = value[step] if isinstance(step, int) else getattr(value, step)  # type: ignore[index]
        assert field.read(machine) == value, path
