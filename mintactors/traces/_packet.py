"""``trace packet SEQ``: one packet's life, hop by hop, with where the time went.

The hops a packet's own notes mark (``seq`` links them) are joined by the two that
carry no ``seq``: the interrupt taken on the target core and the handler's entry.
These are tied to the packet through the APIC: the IPI its send raised either set
the vector's IRR bit (``IpiDelivered``) or found it set and merged (``IpiMerged``),
and the next ``InterruptTaken`` on that core consumes the IRR bit, whichever IPI
set it; the next ``HandlerEntered`` of the handler is that interrupt's run. The
handler run that took the frame (``FrameTaken``) is the run in progress at the
time, which need not be the one the packet's own IPI started: the paper's driver
drains every ready descriptor, so a frame posted while a run is going is often taken
by that run, and the packet's own interrupt later finds the ring empty.

The table lists the hops from generation to the packet's end (received or dropped)
in time order, so the deltas add up to the end-to-end latency; what happened to the
packet's IPI after that is told below the table.
"""

from __future__ import annotations

from typing import Any

import attrs

from mintactors.notes import NoteKind
from mintactors.traces._hops import HOP_LABELS, packet_seq
from mintactors.traces._reader import TraceReader

__all__ = ["Hop", "PacketTimeline", "packet_timeline", "render_timeline"]

_FINAL = (NoteKind.PACKET_RECEIVED, NoteKind.PACKET_DROPPED)


@attrs.frozen
class Hop:
    """One hop: when, what, where, and the time since the previous hop."""

    t_ns: int
    delta_ns: int
    hop: str
    kind: str
    actor: str
    detail: str
    line: int


@attrs.frozen
class PacketTimeline:
    """A packet's fate and hops, and what the table cannot show."""

    seq: int
    fate: str  # delivered | dropped | in flight
    reason: str | None
    latency_ns: int | None
    hops: tuple[Hop, ...]
    notes: tuple[str, ...]
    level: str

    def to_json(self) -> dict[str, Any]:
        """The timeline as a JSON object (the ``--json`` output)."""
        return attrs.asdict(self)


@attrs.define
class _Run:
    """One handler run, and the interrupt that started it."""

    run: int
    handler: str
    core: str
    for_seq: int | None  # the packet whose IPI set the IRR bit the interrupt consumed
    taken: tuple[int, int, dict[str, Any]]  # (line, t_ns, InterruptTaken event)
    entered: tuple[int, int, dict[str, Any]] | None = None
    drained: int | None = None


def _us(ns: int) -> str:
    return f"{ns / 1000:.3f} us"


def _detail(event: dict[str, Any], seq: int) -> str:
    kind = event["kind"]
    match kind:
        case NoteKind.PACKET_GENERATED:
            return f"{event.get('size')} B frame"
        case NoteKind.SYSCALL_ENTERED:
            return f"{event.get('length')} B passed in"
        case NoteKind.FRAME_COPIED:
            return f"into the buffer of descriptor {event.get('desc')}"
        case NoteKind.DESCRIPTOR_DONE:
            first, count = event.get("desc", 0), event.get("count", 1)
            return f"descriptor {first}" + (f"..{first + count - 1}" if count > 1 else "")
        case NoteKind.RING_FULL:
            return f"no free descriptor at RDH {event.get('rdh')}"
        case NoteKind.ICR_WRITTEN:
            return f"vector {event.get('vector', 0):#x}"
        case NoteKind.IPI_SENT:
            return f"to APIC {event.get('destination')}, on the bus {event.get('latency_ns')} ns"
        case NoteKind.IPI_DELIVERED:
            return f"IRR[{event.get('vector', 0):#x}] set"
        case NoteKind.SKB_BACKLOGGED:
            return f"backlog length now {event.get('qlen')}"
        case NoteKind.SKB_QUEUED:
            return f"truesize {event.get('truesize')} B, rmem now {event.get('rmem')} B"
        case NoteKind.SKB_DEQUEUED:
            return f"rmem now {event.get('rmem')} B"
        case NoteKind.PACKET_RECEIVED:
            return f"end-to-end latency {_us(event.get('latency_ns', 0))}"
        case NoteKind.PACKET_DROPPED:
            problem = event.get("problem")
            return f"reason {event.get('reason')}" + (f": {problem}" if problem else "")
    return ""


class _Follower:
    """One pass over the trace, keeping only what concerns packet ``seq``."""

    def __init__(self, seq: int) -> None:
        self.seq = seq
        self.own: list[tuple[int, dict[str, Any]]] = []  # (line, event) with our seq
        self.irr: dict[tuple[str, int], int] = {}  # (apic, vector) -> seq that set IRR
        self.entering: dict[str, _Run] = {}  # handler -> run whose entry is pending
        self.current: dict[str, _Run] = {}  # handler -> run in progress
        self.riding: tuple[str, int] | None = None  # the IRR bit our IPI is in
        self.merged_into: int | None = None
        self.ipi_run: _Run | None = None
        self.frame_run: _Run | None = None
        self.ipi_sent = False
        self.final: dict[str, Any] | None = None
        self.highest_seq = -1

    def done(self) -> bool:
        if self.final is None:
            return False
        ipi = self.ipi_run
        ipi_done = not self.ipi_sent or (ipi is not None and ipi.drained is not None)
        frame_done = self.frame_run is None or self.frame_run.drained is not None
        return ipi_done and frame_done

    def feed(self, number: int, event: dict[str, Any]) -> None:
        kind, actor, t = event["kind"], event["actor"], event["t_ns"]
        if kind == NoteKind.PACKET_GENERATED:
            self.highest_seq = max(self.highest_seq, int(event.get("seq", -1)))
        if kind in (NoteKind.IPI_DELIVERED, NoteKind.IPI_MERGED):
            self._ipi_arrived(event)
        elif kind == NoteKind.INTERRUPT_TAKEN:
            key = ("apic" + actor.removeprefix("core"), int(event.get("vector", -1)))
            run = _Run(
                0, str(event.get("handler")), actor, self.irr.pop(key, None), (number, t, event)
            )
            self.entering[run.handler] = run
            if key == self.riding:
                self.riding = None
                self.ipi_run = run
        elif kind == NoteKind.HANDLER_ENTERED:
            starting = self.entering.pop(actor, None)
            if starting is not None:
                starting.run = int(event.get("run", 0))
                starting.entered = (number, t, event)
                self.current[actor] = starting
        elif kind == NoteKind.HANDLER_EXITED:
            ended = self.current.pop(actor, None)
            if ended is not None:
                ended.drained = int(event.get("drained", 0))
        if (
            kind in HOP_LABELS
            and kind not in (NoteKind.INTERRUPT_TAKEN, NoteKind.HANDLER_ENTERED)
            and packet_seq(event) == self.seq
        ):
            self._own(number, event)

    def _ipi_arrived(self, event: dict[str, Any]) -> None:
        key = (event["actor"], int(event.get("vector", -1)))
        seq = packet_seq(event)
        if event["kind"] == NoteKind.IPI_DELIVERED:
            self.irr[key] = seq if seq is not None else -1
        if seq == self.seq:
            self.riding = key
            if event["kind"] == NoteKind.IPI_MERGED:
                self.merged_into = self.irr.get(key)

    def _own(self, number: int, event: dict[str, Any]) -> None:
        self.own.append((number, event))
        kind = event["kind"]
        if kind == NoteKind.IPI_SENT:
            self.ipi_sent = True
        elif kind == NoteKind.FRAME_TAKEN:
            self.frame_run = self.current.get(event["actor"])
        elif kind in _FINAL and self.final is None:
            self.final = event


def packet_timeline(reader: TraceReader, seq: int) -> PacketTimeline | None:
    """Follow packet ``seq`` through the rest of ``reader``; None if it never appears."""
    follower = _Follower(seq)
    for number, _, event in reader.lines():
        follower.feed(number, event)
        if follower.done():
            break
    if not follower.own:
        return None
    return _assemble(follower, reader.level)


def _run_label(run: _Run, seq: int) -> str:
    if run.for_seq == seq:
        return "for this packet's IPI"
    if run.for_seq is None or run.for_seq < 0:
        return "for an IPI not traced to a packet"
    return f"for the IPI of packet {run.for_seq}"


def _run_rows(run: _Run, seq: int) -> list[tuple[int, dict[str, Any], str]]:
    line, _, taken = run.taken
    rows = [
        (line, taken, f"{run.core}, vector {taken.get('vector', 0):#x}, {_run_label(run, seq)}")
    ]
    if run.entered is not None:
        drained = (
            ""
            if run.drained is None
            else " (found the ring empty)"
            if run.drained == 0
            else f" (took {run.drained} frame{'s' if run.drained > 1 else ''})"
        )
        rows.append((run.entered[0], run.entered[2], f"run {run.run}{drained}"))
    return rows


def _assemble(f: _Follower, level: str) -> PacketTimeline:
    seq = f.seq
    rows: list[tuple[int, dict[str, Any], str]] = []
    for number, event in f.own:
        detail = _detail(event, seq)
        if event["kind"] == NoteKind.IPI_MERGED:
            into = f.merged_into
            detail = (
                f"IRR[{event.get('vector', 0):#x}] already set"
                + (f" by the IPI of packet {into}" if into is not None and into >= 0 else "")
                + ": no interrupt of its own"
            )
        elif event["kind"] == NoteKind.FRAME_TAKEN:
            detail = f"descriptor {event.get('desc')}, {event.get('length')} B" + (
                f", by handler run {f.frame_run.run}" if f.frame_run is not None else ""
            )
        rows.append((number, event, detail))
    start = min(e["t_ns"] for _, e, _ in rows)
    end = f.final["t_ns"] if f.final is not None else None
    notes: list[str] = []
    runs = [r for r in (f.frame_run, f.ipi_run) if r is not None]
    if len(runs) == 2 and runs[0] is runs[1]:
        runs = runs[:1]
    for run in runs:
        if run.taken[1] < start:
            continue  # it began before the packet existed: told in a note instead
        for row in _run_rows(run, seq):
            t = row[1]["t_ns"]
            if end is None or t <= end:
                rows.append(row)
    rows.sort(key=lambda r: (r[1]["t_ns"], r[0]))
    hops: list[Hop] = []
    previous = rows[0][1]["t_ns"]
    for number, event, detail in rows:
        t = event["t_ns"]
        label = HOP_LABELS[event["kind"]]
        hops.append(Hop(t, t - previous, label, event["kind"], event["actor"], detail, number))
        previous = t
    notes += _story(f, start, end)
    if level != "full":
        notes.append(
            "this trace is at level summary: it holds drops only; run with --trace full "
            "to follow packets hop by hop"
        )
    final = f.final
    fate = "in flight"
    reason = latency = None
    if final is not None and final["kind"] == NoteKind.PACKET_RECEIVED:
        fate, latency = "delivered", int(final["latency_ns"])
    elif final is not None:
        fate, reason = "dropped", str(final.get("reason"))
    return PacketTimeline(seq, fate, reason, latency, tuple(hops), tuple(notes), level)


def _story(f: _Follower, start: int, end: int | None) -> list[str]:
    """What the table's rows leave out: which run took the frame, and the IPI's fate."""
    seq = f.seq
    notes: list[str] = []
    frame, ipi = f.frame_run, f.ipi_run
    if frame is not None and frame.taken[1] < start:
        entered = f", entered at {_us(frame.entered[1])}" if frame.entered is not None else ""
        notes.append(
            f"the frame was taken by handler run {frame.run}, whose interrupt was taken "
            f"before the packet was generated (at {_us(frame.taken[1])}{entered}, "
            f"{_run_label(frame, seq)})"
        )
    elif frame is not None and frame is not ipi:
        notes.append(f"the frame was taken by handler run {frame.run}, {_run_label(frame, seq)}")
    merged = f.merged_into is not None
    if merged:
        into = f.merged_into
        notes.append(
            "its IPI found the vector's IRR bit already set"
            + (f" by the IPI of packet {into}" if into is not None and into >= 0 else "")
            + " and merged into it: it raised no interrupt of its own"
        )
    if not f.ipi_sent:
        notes.append("no IPI was sent for it")
    elif ipi is None:
        notes.append("its IPI was still pending in the APIC when the trace ended")
    elif ipi is not frame and ipi.entered is not None:
        t = ipi.entered[1]
        when = (
            "after the packet's end"
            if end is not None and t > end
            else "while the packet was still on its way"
        )
        drained = (
            "was still running when the trace ended"
            if ipi.drained is None
            else "found the ring empty"
            if ipi.drained == 0
            else f"took {ipi.drained} frame(s)"
        )
        which = "the interrupt it rode on" if merged else "the interrupt its IPI raised"
        notes.append(f"{which} started handler run {ipi.run} at {_us(t)} ({when}), which {drained}")
    elif ipi is frame and merged:
        notes.append(
            f"the interrupt it rode on started handler run {ipi.run}, which took the frame"
        )
    return notes


def render_timeline(timeline: PacketTimeline) -> str:
    """The timeline as a table with a heading and notes."""
    head = f"packet {timeline.seq}: {timeline.fate}"
    if timeline.latency_ns is not None:
        head += f", end-to-end latency {_us(timeline.latency_ns)}"
    if timeline.reason is not None:
        head += f" (reason {timeline.reason})"
    lines = [head, f"  {'t (us)':>12}  {'+delta (us)':>11}  {'hop':<28} {'actor':<10} detail"]
    for hop in timeline.hops:
        lines.append(
            f"  {hop.t_ns / 1000:>12.3f}  {'+' + format(hop.delta_ns / 1000, '.3f'):>11}  "
            f"{hop.hop:<28} {hop.actor:<10} {hop.detail}".rstrip()
        )
    if timeline.hops:
        total = timeline.hops[-1].t_ns - timeline.hops[0].t_ns
        lines.append(f"  {'':>12}  {'=' + format(total / 1000, '.3f'):>11}  from first to last hop")
    lines += [f"  note: {note}" for note in timeline.notes]
    return "\n".join(lines)
