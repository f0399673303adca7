"""Perfetto export: valid trace-event JSON with nested slices, paired flows, numeric counters."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mintactors.cli import main
from mintactors.traces import us_from_ns

from .conftest import Run


def ns(value: float) -> int:
    """Trace-event microseconds back to nanoseconds, the way Perfetto's import does it."""
    return value * 1000 if isinstance(value, int) else int(value * 1000.0)


def export(run: Run, tmp_path: Path, name: str = "trace.json") -> dict[str, Any]:
    out = tmp_path / name
    assert main(["trace", "export", "perfetto", str(run.trace), "-o", str(out)]) == 0
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def validate(doc: dict[str, Any]) -> dict[str, Any]:
    """Check the trace-event rules Perfetto relies on; return the events grouped for tests."""
    events = doc["traceEvents"]
    processes = {e["pid"]: e["args"]["name"] for e in events if e["name"] == "process_name"}
    threads = {
        (e["pid"], e["tid"]): e["args"]["name"] for e in events if e["name"] == "thread_name"
    }
    slices: dict[tuple[int, int], list[tuple[int, int, str]]] = defaultdict(list)
    flows: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    counters: dict[tuple[int, str], list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for e in events:
        assert e["ph"] in {"M", "X", "i", "s", "f", "C"}, e
        if e["ph"] == "M":
            continue
        assert isinstance(e["ts"], int | float)
        assert e["ts"] >= 0
        assert e["pid"] in processes
        if e["ph"] == "X":
            assert (e["pid"], e["tid"]) in threads
            assert e["dur"] >= 0
            start = ns(e["ts"])
            slices[(e["pid"], e["tid"])].append((start, start + ns(e["dur"]), e["name"]))
        elif e["ph"] in ("s", "f"):
            assert e["ph"] not in flows[e["id"]], f"flow {e['id']} has two {e['ph']} events"
            flows[e["id"]][e["ph"]] = e
        elif e["ph"] == "C":
            values = list(e["args"].values())
            assert values
            assert all(type(v) in (int, float) for v in values), e
            counters[(e["pid"], e["name"])].append((ns(e["ts"]), e["args"]))
    for track, spans in slices.items():
        stack: list[tuple[int, int, str]] = []
        for span in sorted(spans, key=lambda s: (s[0], -s[1])):
            while stack and stack[-1][1] <= span[0] and stack[-1][0] != span[0]:
                stack.pop()
            if stack:
                assert span[1] <= stack[-1][1], f"{span} overlaps {stack[-1]} on {threads[track]}"
            stack.append(span)
    for flow_id, ends in flows.items():
        assert set(ends) == {"s", "f"}, f"flow {flow_id} is missing an end"
        assert ns(ends["s"]["ts"]) <= ns(ends["f"]["ts"])
        for end in ends.values():
            t = ns(end["ts"])
            assert any(a <= t <= b for a, b, _ in slices[(end["pid"], end["tid"])]), end
    return {
        "processes": processes,
        "threads": threads,
        "slices": slices,
        "flows": flows,
        "counters": counters,
    }


@pytest.mark.parametrize("scenario", ["sparse", "merging", "drops", "cut"])
def test_export_is_valid_trace_event_json(
    runs: Callable[..., Run], tmp_path: Path, scenario: str
) -> None:
    """Slices nest per track, every flow has both ends inside slices, counters are numbers."""
    checked = validate(export(runs(scenario), tmp_path))
    assert checked["slices"]
    assert checked["flows"]


def test_one_process_per_node_and_one_track_per_core_and_actor(
    runs: Callable[..., Run], tmp_path: Path
) -> None:
    """node0 holds core0 and the generator side, node1 core1 and the driver side."""
    checked = validate(export(runs("sparse"), tmp_path))
    by_process: dict[str, set[str]] = defaultdict(set)
    for (pid, _), name in checked["threads"].items():
        by_process[checked["processes"][pid]].add(name)
    assert by_process["node0 (debug-support OS)"] == {"core0", "apic0", "generator", "mechanism"}
    assert by_process["node1 (debug-target OS)"] == {
        *("core1", "apic1", "driver", "driver softirq", "socket", "app")
    }
    assert {"rx_ring", "memory"} <= by_process["machine (shared hardware)"]


def test_slices_sit_at_the_exact_virtual_nanosecond(
    runs: Callable[..., Run], tmp_path: Path
) -> None:
    """Handler runs and interrupts start and end where the trace's notes say, to the ns."""
    run = runs("merging")
    checked = validate(export(run, tmp_path))
    events = [json.loads(line) for line in run.trace.read_text().splitlines()]
    track = {name: key for key, name in checked["threads"].items()}

    def spans(actor: str, prefix: str) -> list[tuple[int, int]]:
        return sorted((a, b) for a, b, n in checked["slices"][track[actor]] if n.startswith(prefix))

    def times(kind: str) -> list[int]:
        return [e["t_ns"] for e in events if e["kind"] == kind]

    assert spans("driver", "handler run") == list(
        zip(times("HandlerEntered"), times("HandlerExited"), strict=True)
    )
    assert spans("core1", "IRQ") == list(
        zip(times("InterruptTaken"), times("InterruptReturned"), strict=True)
    )
    syscalls = spans("mechanism", "system call")
    assert [a for a, _ in syscalls] == times("SyscallEntered")


def test_every_ipi_is_an_arrow_from_its_system_call_to_the_interrupt_it_raised_or_rode(
    runs: Callable[..., Run], tmp_path: Path
) -> None:
    """One flow per IPI sent, from the ICR write to the start of the interrupt on core1."""
    run = runs("merging")
    checked = validate(export(run, tmp_path))
    events = [json.loads(line) for line in run.trace.read_text().splitlines()]
    icr = {e["seq"]: e["t_ns"] for e in events if e["kind"] == "IcrWritten"}
    irqs = list(
        zip(
            [e["t_ns"] for e in events if e["kind"] == "InterruptTaken"],
            [e["t_ns"] for e in events if e["kind"] == "InterruptReturned"],
            strict=True,
        )
    )
    flows = checked["flows"].values()
    assert sorted(f["s"]["args"]["seq"] for f in flows) == sorted(icr)
    assert run.results["ipi"]["merged"] > 0
    for flow in flows:
        assert ns(flow["s"]["ts"]) == icr[flow["s"]["args"]["seq"]]
        end = ns(flow["f"]["ts"])
        assert any(taken <= end <= taken + 1 and end < back for taken, back in irqs)
        assert checked["threads"][(flow["f"]["pid"], flow["f"]["tid"])] == "core1"


def test_counters_follow_the_ring_and_the_socket(runs: Callable[..., Run], tmp_path: Path) -> None:
    """Ring occupancy peaks at the high-water mark and ends empty; rmem peaks as results say."""
    run = runs("merging")
    checked = validate(export(run, tmp_path))
    counters = {name: samples for (_, name), samples in checked["counters"].items()}
    ring = [args["descriptors"] for _, args in counters["RX ring occupancy"]]
    rmem = [args["bytes"] for _, args in counters["socket receive buffer"]]
    assert ring[-1] == 0
    assert max(ring) > 1
    assert max(rmem) == run.results["statistics"]["socket"]["rmem_high_water"]
    assert rmem[-1] == 0


def test_each_cores_store_buffer_is_a_counter_track_under_tso(
    runs: Callable[..., Run], tmp_path: Path
) -> None:
    """One occupancy counter per core, in its node's process; it peaks at the high-water
    mark the run reports and ends empty."""
    run = runs("tso")
    checked = validate(export(run, tmp_path))
    tracks = {name: (pid, samples) for (pid, name), samples in checked["counters"].items()}
    for core in ("core0", "core1"):
        pid, samples = tracks[f"{core} store buffer"]
        entries = [args["entries"] for _, args in samples]
        assert max(entries) == run.results["statistics"][f"store_buffer_{core}"]["high_water"]
        assert entries[-1] == 0
        assert (pid, core) in {(p, name) for (p, _), name in checked["threads"].items()}
    sc = validate(export(runs("napi"), tmp_path, "sc.json"))
    assert not any("store buffer" in name for _, name in sc["counters"])


def test_export_is_deterministic(runs: Callable[..., Run], tmp_path: Path) -> None:
    """Exporting the same trace twice writes the same bytes."""
    run = runs("drops")
    export(run, tmp_path, "a.json")
    export(run, tmp_path, "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_a_summary_trace_exports_its_drops_with_a_warning(
    runs: Callable[..., Run], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A summary-level trace gives valid JSON holding the drops, and a warning on stderr."""
    run = runs("drops", level="summary")
    doc = export(run, tmp_path)
    validate(doc)
    assert "summary-level trace" in capsys.readouterr().err
    drops = [e for e in doc["traceEvents"] if e["name"].startswith("PacketDropped")]
    assert len(drops) == sum(run.results["dropped"].values())


@given(st.integers(min_value=0, max_value=2**50))
def test_microseconds_import_back_to_the_same_nanosecond(t_ns: int) -> None:
    """Perfetto's ``int(ts * 1000.0)`` recovers every nanosecond exactly."""
    assert ns(us_from_ns(t_ns)) == t_ns


def test_the_validator_rejects_overlapping_slices_and_dangling_flows() -> None:
    """The checks above can fail: a crossing pair of slices and a flow without an end."""
    meta = [
        {"ph": "M", "pid": 1, "tid": 0, "name": "process_name", "args": {"name": "p"}},
        {"ph": "M", "pid": 1, "tid": 1, "name": "thread_name", "args": {"name": "t"}},
    ]
    crossing = [
        {"ph": "X", "pid": 1, "tid": 1, "name": "a", "ts": 1, "dur": 5},
        {"ph": "X", "pid": 1, "tid": 1, "name": "b", "ts": 3, "dur": 5},
    ]
    with pytest.raises(AssertionError, match="overlaps"):
        validate({"traceEvents": meta + crossing})
    dangling = [
        {"ph": "X", "pid": 1, "tid": 1, "name": "a", "ts": 1, "dur": 5},
        {"ph": "s", "pid": 1, "tid": 1, "name": "IPI", "cat": "ipi", "id": 1, "ts": 2},
    ]
    with pytest.raises(AssertionError, match="missing an end"):
        validate({"traceEvents": meta + dangling})
