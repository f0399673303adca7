"""``trace events``: filters by actor, kind, time window and packet; table or JSON lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from mintactors.cli import main
from mintactors.traces import parse_time

from .conftest import Run


def all_events(run: Run) -> list[tuple[str, dict[str, Any]]]:
    lines = run.trace.read_text().splitlines()[1:]
    return [(line, json.loads(line)) for line in lines]


def about(event: dict[str, Any], seq: int) -> bool:
    """Written out independently: the event names packet ``seq`` directly or in its skb."""
    skb = event.get("skb")
    return event.get("seq") == seq or (isinstance(skb, dict) and skb.get("seq") == seq)


@pytest.mark.parametrize(
    ("options", "keep"),
    [
        (["--actor", "driver"], lambda e: e["actor"] == "driver"),
        (["--actor", "apic0", "--actor", "apic1"], lambda e: e["actor"] in ("apic0", "apic1")),
        (["--kind", "PacketDropped"], lambda e: e["kind"] == "PacketDropped"),
        (["--from", "12us", "--to", "14000"], lambda e: 12000 <= e["t_ns"] <= 14000),
        (["--seq", "3"], lambda e: about(e, 3)),
        (
            ["--actor", "socket", "--seq", "2", "--kind", "SkbQueued"],
            lambda e: e["actor"] == "socket" and e["kind"] == "SkbQueued" and about(e, 2),
        ),
    ],
)
def test_json_lines_are_the_matching_lines_unchanged(
    runs: Callable[..., Run],
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    keep: Callable[[dict[str, Any]], bool],
) -> None:
    """--json prints exactly the trace lines that pass the filter, byte for byte, in order."""
    run = runs("drops")
    assert main(["trace", "events", str(run.trace), "--json", *options]) == 0
    printed = capsys.readouterr().out.splitlines()
    expected = [line for line, event in all_events(run) if keep(event)]
    assert printed == expected
    assert expected


def test_the_table_has_one_row_per_event_with_time_in_microseconds(
    runs: Callable[..., Run], capsys: pytest.CaptureFixture[str]
) -> None:
    """The table shows a header, then time (us), actor, kind with sender, and fields."""
    run = runs("sparse")
    assert main(["trace", "events", str(run.trace), "--seq", "0", "--kind", "IpiSent"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    event = next(e for _, e in all_events(run) if e["kind"] == "IpiSent" and e["seq"] == 0)
    assert header.split()[:2] == ["t", "(us)"]
    assert row.split()[:3] == [f"{event['t_ns'] / 1000:.3f}", "apic0", "IpiSent"]
    assert f"latency_ns={event['latency_ns']}" in row


def test_limit_and_header(runs: Callable[..., Run], capsys: pytest.CaptureFixture[str]) -> None:
    """--limit stops after N events; --header includes the trace_header first."""
    run = runs("sparse")
    assert main(["trace", "events", str(run.trace), "--json", "--header", "--limit", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines == run.trace.read_text().splitlines()[:3]


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("12000", 12000),
        ("12000ns", 12000),
        ("12us", 12000),
        ("1.5ms", 1_500_000),
        ("2s", 2 * 10**9),
        ("0.001us", 1),
    ],
)
def test_times_take_units(text: str, ns: int) -> None:
    """Times on the command line are ns by default and accept ns, us, ms and s."""
    assert parse_time(text) == ns


@pytest.mark.parametrize("bad", ["soon", "-5", "1.5ns", "3 weeks"])
def test_a_bad_time_is_a_usage_error(
    runs: Callable[..., Run], capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    """A time that is not a whole number of ns exits 2 through the argument parser."""
    with pytest.raises(SystemExit) as exit_info:
        main(["trace", "events", str(runs("sparse").trace), "--from", bad])
    assert exit_info.value.code == 2
    assert "--from" in capsys.readouterr().err
