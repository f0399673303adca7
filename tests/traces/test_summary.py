"""``trace summary`` agrees with the run's own results.json."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from mintactors.cli import main
from mintactors.traces import TraceReader, summarise

from .conftest import SCENARIOS, Run

SAME_NAME = (
    "sent",
    "delivered",
    "dropped",
    "in_flight",
    "skb_built",
    "queued_on_socket",
    "ipi",
    "handler_runs",
    "latency_ns",
    "send_time_ns_mean",
)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_summary_figures_equal_results_json(runs: Callable[..., Run], scenario: str) -> None:
    """Every figure both report (packets by fate, IPIs, runs, latencies) is the same."""
    run = runs(scenario)
    with TraceReader(run.trace) as reader:
        summary = summarise(reader).to_json()
    results = run.results
    assert {k: summary[k] for k in SAME_NAME} == {k: results[k] for k in SAME_NAME}
    assert summary["end"]["reason"] == results["end"]["reason"]
    assert summary["end"]["t_ns"] == results["end"]["t_ns"]
    socket = results["statistics"]["socket"]
    assert summary["socket"] == {
        "rmem_high_water": socket["rmem_high_water"],
        "queue_high_water": socket["queue_high_water"],
    }
    assert (
        summary["handler"]["max_drained"] == results["statistics"]["driver"]["max_drained_per_run"]
    )
    assert summary["handler"]["empty_runs"] == results["statistics"]["driver"]["empty_runs"]


def test_summary_counts_each_cores_store_buffer_as_its_statistics_do(
    runs: Callable[..., Run],
) -> None:
    """Under tso: stores, drains, stalls, fences and the high-water mark, per core."""
    run = runs("tso")
    summary = _summary(run)
    stats = run.results["statistics"]
    for core, counts in summary["store_buffers"].items():
        own = stats[f"store_buffer_{core}"]
        assert counts["buffered"] == own["stores"] == counts["drained"] == own["drained"]
        for key in ("drained_by_fence", "high_water", "stalls", "stall_ns", "fences"):
            assert counts[key] == own[key], key
        assert counts["fence_wait_ns"] == own["fence_wait_ns"]
    assert set(summary["store_buffers"]) == {"core0", "core1"}
    assert "store_buffers" not in _summary(runs("napi"))  # sc: no such notes


def test_summary_places_every_packet_in_flight(runs: Callable[..., Run]) -> None:
    """In a run stopped early, the in-flight packets are located, and add up."""
    summary = _summary(runs("cut"))
    assert summary["in_flight"] > 0
    assert sum(summary["in_flight_at"].values()) == summary["in_flight"]
    assert "unknown" not in summary["in_flight_at"]


def test_ring_high_water_mark_is_the_most_descriptors_ever_waiting(
    runs: Callable[..., Run],
) -> None:
    """The ring's high-water mark is the peak of posted-but-not-cleaned descriptors."""
    run = runs("merging")
    level = peak = 0
    for line in run.trace.read_text().splitlines():
        event = json.loads(line)
        if event["kind"] == "DescriptorDone":
            level += event["count"]
        elif event["kind"] == "DescriptorReturned":
            level -= 1
        peak = max(peak, level)
    assert peak > 1
    assert _summary(run)["ring"]["high_water"] == peak


def test_summary_level_trace_reports_drops_and_says_what_it_lacks(
    runs: Callable[..., Run], capsys: pytest.CaptureFixture[str]
) -> None:
    """At level summary the drops still match results.json; the rest is named unavailable."""
    run = runs("drops", level="summary")
    summary = _summary(run)
    assert summary["dropped"] == run.results["dropped"]
    assert summary["sent"] is None
    assert "latency_ns" in summary["unavailable"]
    assert main(["trace", "summary", str(run.trace)]) == 0
    out = capsys.readouterr().out
    assert "no_descriptor" in out
    assert "--trace full" in out


def test_cli_summary_prints_text_and_json(
    runs: Callable[..., Run], capsys: pytest.CaptureFixture[str]
) -> None:
    """The command prints a readable table, and with --json the same figures as data."""
    run = runs("merging")
    assert main(["trace", "summary", str(run.trace)]) == 0
    text = capsys.readouterr().out
    ipi = run.results["ipi"]
    assert f"{ipi['sent']} / {ipi['delivered']} / {ipi['merged']}" in text
    assert main(["trace", "summary", str(run.trace), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["delivered"] == run.results["delivered"]


def _summary(run: Run) -> dict[str, Any]:
    with TraceReader(run.trace) as reader:
        return summarise(reader).to_json()


def test_napi_summary_counts_polls_not_empty_hard_irqs(runs: Callable[..., Run]) -> None:
    """Under NAPI the hard IRQs clean nothing; the polls account for every frame taken."""
    run = runs("napi")
    summary = _summary(run)
    handler = summary["handler"]
    assert handler["polls"] > 0
    assert handler["mean_drained"] is None  # no run of the cleaner happens in a hard IRQ
    assert round(handler["mean_per_poll"] * handler["polls"]) == run.results["delivered"]
    assert handler["max_per_poll"] == run.results["statistics"]["driver"]["max_drained_per_run"]
