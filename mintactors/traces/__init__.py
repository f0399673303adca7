"""Reading traces: summaries, event filters, packet timelines, diffs and exports.

Everything here reads a ``trace.jsonl`` line by line (:class:`TraceReader`), so
memory does not grow with the trace's length. The command line is
``mintactors trace ...`` (:mod:`mintactors.cli.trace`); the trace format is
described in ``docs/trace-format.md``.
"""

from mintactors.traces._diff import TraceDiff, diff_traces, render_diff
from mintactors.traces._events import (
    EventFilter,
    field_text,
    format_event,
    matching_lines,
    parse_time,
)
from mintactors.traces._hops import HOP_LABELS, packet_seq
from mintactors.traces._packet import Hop, PacketTimeline, packet_timeline, render_timeline
from mintactors.traces._pcap import FRAME_CHOICES, PcapRecorder, export_pcap
from mintactors.traces._perfetto import PerfettoStats, export_perfetto, us_from_ns
from mintactors.traces._reader import TraceError, TraceReader, flatten
from mintactors.traces._summary import TraceSummary, render_summary, summarise

__all__ = [
    "EventFilter",
    "FRAME_CHOICES",
    "HOP_LABELS",
    "Hop",
    "PacketTimeline",
    "PcapRecorder",
    "PerfettoStats",
    "TraceDiff",
    "TraceError",
    "TraceReader",
    "TraceSummary",
    "diff_traces",
    "export_pcap",
    "export_perfetto",
    "field_text",
    "flatten",
    "format_event",
    "matching_lines",
    "packet_seq",
    "packet_timeline",
    "parse_time",
    "render_diff",
    "render_summary",
    "render_timeline",
    "summarise",
    "us_from_ns",
]
