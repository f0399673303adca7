"""plot trace: a full trace's latency histogram, ring occupancy and socket queue."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mintactors.plots import NEEDED_NOTES, PlotError, TraceSeries, plot_trace, read_trace
from mintactors.plots._trace import LATENCY_BINS
from mintactors.traces import TraceReader

from .conftest import Inputs


def events(trace: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in trace.read_text().splitlines()]


def steps(trace: Path, deltas: dict[str, str | int]) -> tuple[list[float], list[int]]:
    """The step points (t in us, level) the notes imply, worked out here independently."""
    times, levels = [0.0], [0]
    lines = events(trace)
    for event in lines:
        delta = deltas.get(event["kind"])
        if delta is not None:
            change = event[delta] if isinstance(delta, str) else delta
            times.append(event["t_ns"] / 1000)
            levels.append(levels[-1] + change)
    times.append(lines[-1]["t_ns"] / 1000)
    levels.append(levels[-1])
    return times, levels


def test_three_panels_show_exactly_what_the_notes_imply(inputs: Inputs) -> None:
    """Latencies (us) in a histogram; ring (+count, -1) and socket (+1, -1) as steps over us."""
    with TraceReader(inputs.full_trace) as reader:
        data = read_trace(reader)
    fig = plot_trace(data)
    hist, ring, socket = fig.axes
    latencies_us = [
        e["latency_ns"] / 1000 for e in events(inputs.full_trace) if e["kind"] == "PacketReceived"
    ]
    assert len(latencies_us) == 50
    heights = [p.get_height() for p in hist.patches]
    assert heights == list(np.histogram(latencies_us, bins=LATENCY_BINS)[0])
    assert hist.get_title() == "End-to-end latency of 50 received packets"
    assert (hist.get_xlabel(), hist.get_ylabel()) == ("latency (us)", "packets")

    for ax, deltas, unit in (
        (ring, {"DescriptorDone": "count", "DescriptorReturned": -1}, "descriptors"),
        (socket, {"SkbQueued": 1, "SkbDequeued": -1}, "skbs"),
    ):
        (line,) = ax.get_lines()
        times, levels = steps(inputs.full_trace, deltas)
        assert list(line.get_xdata()) == times
        assert list(line.get_ydata()) == levels
        assert line.get_drawstyle() == "steps-post"
        assert ax.get_ylabel() == unit
    assert max(steps(inputs.full_trace, {"SkbQueued": 1, "SkbDequeued": -1})[1]) > 1
    assert socket.get_xlabel() == "virtual time (us)"
    assert ring.get_xlim() == socket.get_xlim()  # one time axis for both queues


def test_a_summary_trace_is_refused_naming_the_missing_notes_and_the_fix(inputs: Inputs) -> None:
    """A summary-level trace lacks the notes: the error names them and --trace full."""
    with TraceReader(inputs.summary_trace) as reader, pytest.raises(PlotError) as caught:
        read_trace(reader)
    message = str(caught.value)
    assert message.startswith(f"{inputs.summary_trace}: a summary-level trace has no ")
    assert all(kind in message for kind in NEEDED_NOTES)
    assert "--trace full" in message


def test_a_full_trace_without_any_of_the_notes_is_refused(tmp_path: Path, inputs: Inputs) -> None:
    """A full trace holding none of the notes (a run that sent nothing) has nothing to plot."""
    header, *_ = inputs.full_trace.read_text().splitlines()
    path = tmp_path / "trace.jsonl"
    end = {"t_ns": 0, "actor": "runtime", "kind": "run_end", "reason": "idle"}
    path.write_text(header + "\n" + json.dumps(end) + "\n")
    with TraceReader(path) as reader, pytest.raises(PlotError, match="nothing to plot"):
        read_trace(reader)


def synthetic_trace(path: Path, header: str, cycles: int) -> Path:
    """A full trace of ``cycles`` frames each posted, queued, returned, read and received."""
    with path.open("w") as f:
        f.write(header + "\n")
        for i in range(cycles):
            t = 1000 * i
            for dt, actor, kind, extra in (
                (0, "rx_ring", "DescriptorDone", {"count": 1, "desc": 0, "seq": i}),
                (100, "socket", "SkbQueued", {"rmem": 2304, "seq": i, "truesize": 2304}),
                (100, "driver", "DescriptorReturned", {"desc": 0}),
                (300, "socket", "SkbDequeued", {"rmem": 0, "seq": i}),
                (400, "app", "PacketReceived", {"latency_ns": 400 + i % 7, "seq": i}),
            ):
                event = {"t_ns": t + dt, "actor": actor, "kind": kind, **extra}
                f.write(json.dumps(event, sort_keys=True) + "\n")
        end = {"t_ns": 1000 * cycles, "actor": "runtime", "kind": "run_end", "reason": "idle"}
        f.write(json.dumps(end) + "\n")
    return path


def test_a_long_trace_is_read_in_bounded_memory_and_downsampled(
    inputs: Inputs, tmp_path: Path
) -> None:
    """Five times the lines: only the latencies grow (8 bytes a packet); the steps are bounded."""
    header = inputs.full_trace.read_text().splitlines()[0]
    small = synthetic_trace(tmp_path / "small.jsonl", header, 500)
    large = synthetic_trace(tmp_path / "large.jsonl", header, 2_500)

    def peak(path: Path) -> tuple[int, TraceSeries]:
        tracemalloc.start()
        try:
            with TraceReader(path) as reader:
                data = read_trace(reader, limit=128)
            return tracemalloc.get_traced_memory()[1], data
        finally:
            tracemalloc.stop()

    peak(small)  # warm: first-use allocations (imports, caches) are not the trace's
    peak_small, _ = peak(small)
    peak_large, data = peak(large)
    assert peak_large < peak_small + 64 * 1024 + 10 * 2_000
    assert data.ring.downsampled
    assert data.socket.downsampled
    assert (data.ring.high, data.socket.high, len(data.latency_ns)) == (1, 1, 2_500)
    times, values = data.socket.points(data.end_ns)
    assert len(times) <= 3 * 128 // 2 + 1
    assert (min(values), max(values)) == (0, 1)


def test_a_note_with_a_field_of_the_wrong_type_is_an_error_naming_its_line(
    tmp_path: Path, inputs: Inputs
) -> None:
    """A DescriptorDone whose count is not an integer is refused, naming file and line."""
    header = inputs.full_trace.read_text().splitlines()[0]
    path = tmp_path / "trace.jsonl"
    bad = {"t_ns": 5, "actor": "rx_ring", "kind": "DescriptorDone", "count": "two", "desc": 0}
    path.write_text(header + "\n" + json.dumps(bad) + "\n")
    with TraceReader(path) as reader, pytest.raises(PlotError) as caught:
        read_trace(reader)
    assert str(caught.value) == (
        f"{path}:2: DescriptorDone has count 'two', not an integer: not a trace mintactors wrote"
    )
