"""``trace packet SEQ``: a packet's hops in time order, adding up to its latency."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from itertools import pairwise

import pytest

from mintactors.cli import main
from mintactors.traces import PacketTimeline, TraceReader, packet_timeline

from .conftest import Run

#: One packet's path in the paper's order (steps 2-10), as hop kinds.
PAPER_ORDER = [
    "PacketGenerated",
    "SyscallEntered",
    "FrameCopied",
    "DescriptorDone",
    "IcrWritten",
    "IpiSent",
    "IpiDelivered",
    "InterruptTaken",
    "HandlerEntered",
    "FrameTaken",
    "SkbBacklogged",
    "SkbQueued",
    "SkbDequeued",
    "PacketReceived",
]


def timeline(run: Run, seq: int) -> PacketTimeline:
    with TraceReader(run.trace) as reader:
        result = packet_timeline(reader, seq)
    assert result is not None
    return result


def test_a_lone_packet_follows_the_papers_path(runs: Callable[..., Run]) -> None:
    """With packets far apart, each hop of the paper's path appears once, in order."""
    line = timeline(runs("sparse"), 0)
    assert [hop.kind for hop in line.hops] == PAPER_ORDER
    assert line.fate == "delivered"


@pytest.mark.parametrize("scenario", ["sparse", "merging", "drops"])
def test_hops_are_in_time_order_and_deltas_add_up_to_the_latency(
    runs: Callable[..., Run], scenario: str
) -> None:
    """For every delivered packet: hop times never go back, and the deltas sum to its latency."""
    run = runs(scenario)
    latencies = []
    for seq in range(run.results["sent"]):
        line = timeline(run, seq)
        times = [hop.t_ns for hop in line.hops]
        assert times == sorted(times)
        assert [hop.delta_ns for hop in line.hops[1:]] == [b - a for a, b in pairwise(times)]
        if line.fate == "delivered":
            assert line.latency_ns is not None
            assert sum(hop.delta_ns for hop in line.hops) == line.latency_ns
            assert line.hops[0].kind == "PacketGenerated"
            assert line.hops[-1].kind == "PacketReceived"
            latencies.append(line.latency_ns)
    app_latencies = run.outcome.machine.app.statistics().latencies_ns
    assert Counter(latencies) == Counter(app_latencies.counts())


def test_a_merged_ipi_names_the_run_that_took_the_frame(runs: Callable[..., Run]) -> None:
    """A packet whose IPI merged shows the merge, and the handler run that took its frame."""
    run = runs("merging")
    events = [json.loads(line) for line in run.trace.read_text().splitlines()]
    merged = [e["seq"] for e in events if e["kind"] == "IpiMerged"]
    assert merged
    for seq in merged:
        line = timeline(run, seq)
        assert "IpiMerged" in [hop.kind for hop in line.hops]
        assert not any(hop.detail.endswith("for this packet's IPI") for hop in line.hops)
        assert any("merged into it" in note for note in line.notes)
        taken = next(hop for hop in line.hops if hop.kind == "FrameTaken")
        assert taken.detail.endswith(f"by handler run {run_at(events, taken.line)}")


def run_at(events: list[dict[str, object]], line: int) -> int:
    """The handler run in progress at trace line ``line`` (counted from 1), read directly."""
    current = -1
    for number, event in enumerate(events, 1):
        if number == line:
            return current
        if event["kind"] == "HandlerEntered":
            current = int(event["run"])  # type: ignore[call-overload]
    raise AssertionError("line not in the trace")


def test_a_dropped_packet_ends_with_its_drop(runs: Callable[..., Run]) -> None:
    """A packet the ring or the socket refused ends with a drop hop naming the reason."""
    run = runs("drops")
    fates = Counter()
    for seq in range(run.results["sent"]):
        line = timeline(run, seq)
        if line.fate == "dropped":
            assert line.hops[-1].kind == "PacketDropped"
            assert line.reason is not None
            fates[line.reason] += 1
    assert dict(fates) == run.results["dropped"]


def test_a_packet_in_flight_at_the_end_says_so(runs: Callable[..., Run]) -> None:
    """In a run stopped early, the last packet sent has no end hop and is in flight."""
    run = runs("cut")
    line = timeline(run, run.results["sent"] - 1)
    assert line.fate == "in flight"
    assert line.latency_ns is None


def test_cli_packet_prints_the_table_and_json(
    runs: Callable[..., Run], capsys: pytest.CaptureFixture[str]
) -> None:
    """The command prints one row per hop and a total; --json gives the same hops."""
    run = runs("sparse")
    assert main(["trace", "packet", str(run.trace), "2"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("packet 2: delivered")
    assert "taken from ring" in text
    assert main(["trace", "packet", str(run.trace), "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["hops"]) == len(PAPER_ORDER)


def test_an_unknown_packet_is_a_clear_error(
    runs: Callable[..., Run], capsys: pytest.CaptureFixture[str]
) -> None:
    """A sequence number the trace never mentions exits 2 with one line saying so."""
    run = runs("sparse")
    assert main(["trace", "packet", str(run.trace), "999"]) == 2
    assert "packet 999 does not appear" in capsys.readouterr().err


def test_a_summary_trace_shows_only_a_packets_drop(
    runs: Callable[..., Run], capsys: pytest.CaptureFixture[str]
) -> None:
    """At level summary a dropped packet shows its drop and says hops need --trace full."""
    run = runs("drops", level="summary")
    events = [json.loads(line) for line in run.trace.read_text().splitlines()]
    dropped = next(e for e in events if e["kind"] == "PacketDropped")
    line = timeline(run, dropped["seq"])
    assert [hop.kind for hop in line.hops] == ["PacketDropped"]
    assert line.fate == "dropped"
    assert any("--trace full" in note for note in line.notes)
    delivered = next(
        seq for seq in range(run.results["sent"]) if seq not in {e.get("seq") for e in events}
    )
    assert main(["trace", "packet", str(run.trace), str(delivered)]) == 2
    assert "summary-level trace" in capsys.readouterr().err
