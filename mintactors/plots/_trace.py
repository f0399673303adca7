"""A run's ``trace.jsonl`` as pictures: the latency histogram and the queues over time.

Read in one pass through :class:`~mintactors.traces.TraceReader`, keeping only the
series drawn: one 8-byte latency per received packet, and two
:class:`~mintactors.plots._series.StepSeries` of bounded size:

* RX ring occupancy, descriptors with DD set that the driver has not yet given
  back: ``+count`` at each ``DescriptorDone``, ``-1`` at each ``DescriptorReturned``;
* the socket's receive queue, in skbs: ``+1`` at ``SkbQueued``, ``-1`` at
  ``SkbDequeued``.

These notes are written only by a ``full``-level trace.
"""

from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any

import attrs

from mintactors.notes import NoteKind
from mintactors.plots._common import PlotError, fixed_style, new_figure, plural, whole_numbers
from mintactors.plots._series import DEFAULT_LIMIT, StepSeries
from mintactors.traces import TraceReader

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["LATENCY_BINS", "NEEDED_NOTES", "TraceSeries", "plot_trace", "read_trace"]

#: The notes the plots are drawn from.
NEEDED_NOTES = (
    NoteKind.PACKET_RECEIVED,
    NoteKind.DESCRIPTOR_DONE,
    NoteKind.DESCRIPTOR_RETURNED,
    NoteKind.SKB_QUEUED,
    NoteKind.SKB_DEQUEUED,
)
#: Bars of the latency histogram.
LATENCY_BINS = 50


@attrs.frozen
class TraceSeries:
    """What the trace plots draw, read from one trace.

    Attributes:
        source: the trace file.
        latency_ns: each received packet's end-to-end latency, in file order.
        ring: RX ring occupancy (descriptors) over virtual time in ns.
        socket: skbs on the socket's receive queue over virtual time in ns.
        end_ns: the time of the trace's last line (the steps are drawn to it).
    """

    source: str
    latency_ns: array[int]
    ring: StepSeries
    socket: StepSeries
    end_ns: int


def read_trace(reader: TraceReader, limit: int = DEFAULT_LIMIT) -> TraceSeries:
    """Read the series from an open trace, in one pass.

    Args:
        reader: the open trace.
        limit: the changes of each queue kept exactly; past that, per-bucket low,
            high and last values (:class:`~mintactors.plots.StepSeries`).

    Raises:
        PlotError: the trace is ``summary``-level, or has none of the notes needed.
        TraceError: a malformed line.
    """
    if reader.level != "full":
        raise PlotError(
            reader.path,
            f"a {reader.level}-level trace has no {_listing()} notes to plot; "
            'run again with --trace full (or simulation.trace = "full")',
        )
    latency: array[int] = array("q")
    ring, socket = StepSeries(limit=limit), StepSeries(limit=limit)
    seen = 0
    for line, _, event in reader.lines():
        kind = event.get("kind")
        if kind == NoteKind.PACKET_RECEIVED:
            seen += 1
            value = _integer(reader, line, event, "latency_ns")
            if value is not None:  # null for a duplicate: it has no send time of its own
                latency.append(value)
        elif kind == NoteKind.DESCRIPTOR_DONE:
            seen += 1
            ring.change(event["t_ns"], _integer(reader, line, event, "count") or 0)
        elif kind == NoteKind.DESCRIPTOR_RETURNED:
            seen += 1
            ring.change(event["t_ns"], -1)
        elif kind == NoteKind.SKB_QUEUED:
            seen += 1
            socket.change(event["t_ns"], 1)
        elif kind == NoteKind.SKB_DEQUEUED:
            seen += 1
            socket.change(event["t_ns"], -1)
    if not seen:
        raise PlotError(
            reader.path,
            f"no {_listing()} notes: nothing to plot (did the run send any packets?)",
        )
    return TraceSeries(str(reader.path), latency, ring, socket, reader.last_t_ns)


def _integer(reader: TraceReader, line: int, event: dict[str, Any], field: str) -> int | None:
    """An integer field of a note (None if null), or an error naming the line."""
    value = event.get(field)
    if value is None or type(value) is int:
        return value
    raise PlotError(
        f"{reader.path}:{line}",
        f"{event['kind']} has {field} {value!r}, not an integer: not a trace mintactors wrote",
    )


def _listing() -> str:
    return ", ".join(NEEDED_NOTES[:-1]) + f" or {NEEDED_NOTES[-1]}"


def _steps(ax: Axes, series: StepSeries, end_ns: int, title: str, unit: str) -> None:
    times, values = series.points(end_ns)
    ax.step([t / 1000 for t in times], values, where="post")
    if series.downsampled:
        title += f" (low/high per {series.width_ns / 1000:g} us of {series.changes} changes)"
    ax.set_title(title)
    ax.set_ylabel(unit)
    ax.set_ylim(bottom=min(0, series.low))
    whole_numbers(ax.yaxis)


def plot_trace(data: TraceSeries) -> Figure:
    """Three panels: latency histogram (us); ring occupancy; socket queue (over us)."""
    with fixed_style():
        fig, (hist, ring, socket) = new_figure(3)
        count = len(data.latency_ns)
        if count:
            hist.hist(
                [v / 1000 for v in data.latency_ns],
                bins=LATENCY_BINS,
                edgecolor="white",  # adjacent full bars stay distinguishable
                linewidth=0.5,
            )
        else:
            hist.text(0.5, 0.5, "no packets received", ha="center", transform=hist.transAxes)
        hist.set_title(f"End-to-end latency of {plural(count, 'received packet')}")
        hist.set_xlabel("latency (us)")
        hist.set_ylabel("packets")
        whole_numbers(hist.yaxis)
        _steps(
            ring,
            data.ring,
            data.end_ns,
            "RX ring occupancy (DD set, not yet returned)",
            "descriptors",
        )
        _steps(socket, data.socket, data.end_ns, "Socket receive queue", "skbs")
        socket.sharex(ring)
        socket.set_xlabel("virtual time (us)")
    return fig
