"""The trace tools hold memory independent of the trace's length."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from mintactors.traces import (
    EventFilter,
    TraceReader,
    diff_traces,
    export_perfetto,
    matching_lines,
    packet_timeline,
    summarise,
)

from .conftest import make_run

#: Allowance for what may grow: summary keeps 8 bytes per delivered packet.
SLACK = 64 * 1024


def peak_bytes(work: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def summary(trace: Path, tmp: Path) -> None:
    with TraceReader(trace) as reader:
        summarise(reader)


def events(trace: Path, tmp: Path) -> None:
    with TraceReader(trace) as reader:
        for _ in matching_lines(reader, EventFilter(actors=frozenset({"driver"}))):
            pass


def packet(trace: Path, tmp: Path) -> None:
    with TraceReader(trace) as reader:
        packet_timeline(reader, 10**9)  # never found: reads every line


def perfetto(trace: Path, tmp: Path) -> None:
    with TraceReader(trace) as reader, (tmp / "out.json").open("w") as out:
        export_perfetto(reader, out)


def diff(trace: Path, tmp: Path) -> None:
    with TraceReader(trace) as a, TraceReader(trace) as b:
        diff_traces(a, b)


@pytest.fixture(scope="module")
def small_and_large(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Full traces of 100 and 800 packets sent every 3 us (about 5k and 43k lines)."""
    paths = []
    for count in (100, 800):
        out = tmp_path_factory.mktemp(f"memory-{count}")
        paths.append(make_run(out, (f"generator.count={count}",), frames=False).trace)
    return paths[0], paths[1]


@pytest.mark.parametrize("work", [summary, events, packet, perfetto, diff])
def test_peak_memory_does_not_grow_with_the_trace(
    small_and_large: tuple[Path, Path], tmp_path: Path, work: Callable[[Path, Path], None]
) -> None:
    """Reading a trace eight times as long needs no more memory, give or take a little."""
    small, large = small_and_large
    assert large.stat().st_size > 7 * small.stat().st_size
    work(small, tmp_path)
    peak_small = peak_bytes(lambda: work(small, tmp_path))
    peak_large = peak_bytes(lambda: work(large, tmp_path))
    assert peak_large < peak_small + SLACK
