"""``trace diff``: equal traces say so; different ones show the first divergence."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mintactors.cli import main
from mintactors.traces import TraceReader, diff_traces

from .conftest import SCENARIOS, Run, make_run


def first_differing_line(a: Path, b: Path) -> int:
    """Line number (from 1) of the first event line that differs, read directly."""
    lines_a, lines_b = a.read_bytes().splitlines(), b.read_bytes().splitlines()
    for number, (x, y) in enumerate(zip(lines_a[1:], lines_b[1:], strict=False), 2):
        if x != y:
            return number
    return min(len(lines_a), len(lines_b)) + 1


def test_two_runs_of_one_config_have_no_difference(
    runs: Callable[..., Run], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same config and seed run twice: diff reports no difference and exits 0."""
    first = runs("cut")
    again = make_run(tmp_path, (*SCENARIOS["cut"], "simulation.seed=1"))
    assert first.trace.read_bytes() == again.trace.read_bytes()
    assert main(["trace", "diff", str(first.trace), str(again.trace)]) == 0
    assert capsys.readouterr().out.startswith("no difference")


def test_two_seeds_diverge_where_the_lines_first_differ(
    runs: Callable[..., Run], capsys: pytest.CaptureFixture[str]
) -> None:
    """Different seeds: the header's seed differs, and the first differing event is found."""
    a, b = runs("cut", seed=1).trace, runs("cut", seed=2).trace
    with TraceReader(a) as ra, TraceReader(b) as rb:
        diff = diff_traces(ra, rb)
    assert not diff.equal
    assert ("seed", 1, 2) in diff.header
    expected = first_differing_line(a, b)
    assert diff.line == expected > 2
    lines_a, lines_b = a.read_text().splitlines(), b.read_text().splitlines()
    assert diff.a[0] == (expected, lines_a[expected - 1])
    assert diff.b[0] == (expected, lines_b[expected - 1])
    assert [n for n, _ in diff.before] == [expected - 3, expected - 2, expected - 1]
    assert diff.fields
    assert main(["trace", "diff", str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert f"first difference at line {expected}" in out
    assert "seed: 1 (A) vs 2 (B)" in out


def test_a_trace_that_stops_early_differs_where_it_ends(
    runs: Callable[..., Run], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A prefix of a trace differs from the whole at the first line it lacks."""
    whole = runs("sparse").trace
    lines = whole.read_bytes().splitlines(keepends=True)
    prefix = tmp_path / "prefix.jsonl"
    prefix.write_bytes(b"".join(lines[:40]))
    assert main(["trace", "diff", str(prefix), str(whole)]) == 1
    captured = capsys.readouterr()
    assert "first difference at line 41" in captured.out
    assert "A has no more lines" in captured.out
    assert "no run_end" in captured.err
