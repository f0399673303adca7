"""``trace export perfetto``: Chrome trace-event JSON that ui.perfetto.dev opens.

Layout: one process per Mint OS node (its cores, their local APICs, and the actors
that run on it) and one ``machine`` process for the hardware the nodes share
(``rx_ring``, ``memory``) and the runtime; one thread track per core and per actor.

* Core tracks: each interrupt, ``InterruptTaken`` .. ``InterruptReturned``, as a
  slice with three children: entry (to the handler's first step), the handler, and
  ``iret``.
* The driver's track: each handler run, ``HandlerEntered`` .. ``HandlerExited``,
  with one child slice per descriptor it cleaned. Its ``driver softirq`` track:
  each ``__do_softirq``, ``SoftirqStarted`` .. ``SoftirqEnded``, at a hard IRQ's
  exit or in ksoftirqd (interrupts that pre-empt it show on the core's track).
* The mechanism's track: each system call, ``SyscallEntered`` .. its return.
* The application's track: its task work (each receive).
* Flow arrows from the system call that wrote the ICR to the interrupt that took the
  IPI; an IPI that merged into a pending one points at the interrupt it rode on.
* Counter tracks: RX ring occupancy (descriptors with DD set not yet cleaned),
  socket receive-buffer bytes (``rmem``) and, under the ``tso`` memory model, each
  core's store-buffer occupancy (entries not yet drained), in the core's process.
* Instant events for the packet hops, drops, access violations and (``tso``) the
  fences and the stores that found their buffer full, on the core's track.

Every slice is a complete (``X``) event written when it ends, a parent before its
children, so slices on a track nest by construction. The trace format's ``ts`` is in
microseconds; virtual nanoseconds are written as the number of microseconds that
Perfetto's import (which multiplies by 1000 and truncates) maps back to exactly the
same nanosecond. Output is deterministic and written as it is read: memory stays
bounded by what is open at one moment (pending IPIs, one handler run's descriptors).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import IO, Any

import attrs

from mintactors.messages import SystemCallReturn, TaskDone
from mintactors.notes import NoteKind
from mintactors.traces._hops import packet_seq
from mintactors.traces._reader import TraceReader

__all__ = ["PerfettoStats", "export_perfetto", "us_from_ns"]

_INSTANTS = frozenset(
    {
        NoteKind.PACKET_GENERATED,
        NoteKind.FRAME_COPIED,
        NoteKind.DESCRIPTOR_DONE,
        NoteKind.RING_FULL,
        NoteKind.ICR_WRITTEN,
        NoteKind.IPI_SENT,
        NoteKind.IPI_DELIVERED,
        NoteKind.IPI_MERGED,
        NoteKind.FRAME_TAKEN,
        NoteKind.SKB_BACKLOGGED,
        NoteKind.TIME_SQUEEZE,
        NoteKind.KSOFTIRQD_WOKEN,
        NoteKind.IRQ_REASSERTED,
        NoteKind.SKB_QUEUED,
        NoteKind.PACKET_RECEIVED,
        NoteKind.PACKET_DROPPED,
        NoteKind.ACCESS_VIOLATION,
        NoteKind.LOADED,
        NoteKind.FENCED,
        NoteKind.STORE_STALLED,
    }
)
#: The track of the driver's softirq work, beside its handler runs.
SOFTIRQ_TRACK = "driver softirq"
_NODE_ACTORS = {
    "debug": ("generator", "mechanism"),
    "target": ("driver", SOFTIRQ_TRACK, "socket", "app"),
}
_MACHINE_ACTORS = ("rx_ring", "memory", "runtime")


def us_from_ns(ns: int) -> int | float:
    """Nanoseconds as trace-event microseconds that import back to exactly ``ns``.

    Perfetto turns a fractional ``ts`` into nanoseconds by multiplying by 1000 and
    truncating, so for about one value in a hundred the nearest double to ``ns/1000``
    would come back one nanosecond short; the next double up does not.
    """
    if ns % 1000 == 0:
        return ns // 1000
    value = ns / 1000
    while int(value * 1000.0) < ns:
        value = math.nextafter(value, math.inf)
    return value


@attrs.frozen
class PerfettoStats:
    """What an export wrote."""

    events: int
    slices: int
    flows: int
    counters: int


@attrs.define
class _Interrupt:
    taken: int
    vector: int
    handler: str
    for_seq: int | None
    flows: list[tuple[int, int, str]]  # (seq, ICR write time, actor that wrote it)
    entered: int | None = None
    exited: int | None = None


@attrs.define
class _Run:
    run: int
    entered: int
    step_start: int
    step_seq: int | None = None
    #: The descriptors cleaned so far: (start, end, descriptor, seq).
    children: list[tuple[int, int, int, int | None]] = attrs.Factory(list)


class _Layout:
    """Processes and thread tracks, from the config echo in the trace header."""

    def __init__(self, config: dict[str, Any]) -> None:
        machine = config.get("machine", {}) if isinstance(config.get("machine"), dict) else {}
        nodes = machine.get("nodes") or [{"id": 0, "cores": [0]}, {"id": 1, "cores": [1]}]
        debug, target = machine.get("debug_node", 0), machine.get("target_node", 1)
        self.track: dict[str, tuple[int, int]] = {}
        self.processes: list[tuple[int, str]] = []
        self.threads: list[tuple[int, int, str]] = []
        self.target_pid = 0
        for node in sorted(nodes, key=lambda n: n["id"]):
            pid = int(node["id"]) + 1
            role = {debug: "debug-support OS", target: "debug-target OS"}.get(node["id"], "OS")
            self.processes.append((pid, f"node{node['id']} ({role})"))
            for core in node.get("cores", []):
                self._thread(pid, f"core{core}")
                self._thread(pid, f"apic{core}")
            if node["id"] == debug:
                for actor in _NODE_ACTORS["debug"]:
                    self._thread(pid, actor)
            if node["id"] == target:
                self.target_pid = pid
                for actor in _NODE_ACTORS["target"]:
                    self._thread(pid, actor)
        self.machine_pid = max(pid for pid, _ in self.processes) + 1
        self.processes.append((self.machine_pid, "machine (shared hardware)"))
        for actor in _MACHINE_ACTORS:
            self._thread(self.machine_pid, actor)

    def _thread(self, pid: int, name: str) -> tuple[int, int]:
        tid = len(self.threads) + 1
        self.threads.append((pid, tid, name))
        self.track[name] = (pid, tid)
        return pid, tid

    def of(self, actor: str) -> tuple[int, int]:
        """The (pid, tid) of ``actor``; an actor not in the layout joins ``machine``."""
        found = self.track.get(actor)
        return found if found is not None else self._thread(self.machine_pid, actor)

    def metadata(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for index, (pid, name) in enumerate(self.processes):
            out.append(
                {"ph": "M", "pid": pid, "tid": 0, "name": "process_name", "args": {"name": name}}
            )
            out.append(
                {
                    "ph": "M",
                    "pid": pid,
                    "tid": 0,
                    "name": "process_sort_index",
                    "args": {"sort_index": index},
                }
            )
        for pid, tid, name in self.threads:
            out.append(
                {"ph": "M", "pid": pid, "tid": tid, "name": "thread_name", "args": {"name": name}}
            )
            out.append(
                {
                    "ph": "M",
                    "pid": pid,
                    "tid": tid,
                    "name": "thread_sort_index",
                    "args": {"sort_index": tid},
                }
            )
        return out


def _args(event: dict[str, Any]) -> dict[str, Any]:
    """An event's own fields, minus frame bytes and anything else long."""
    return {
        k: v
        for k, v in event.items()
        if k not in ("t_ns", "actor", "kind")
        and not (isinstance(v, str) and len(v) > 64)
        and not isinstance(v, list | dict)
    }


class _Exporter:
    def __init__(self, reader: TraceReader, stream: IO[str]) -> None:
        self.reader = reader
        self.stream = stream
        self.layout = _Layout(reader.config)
        self.count = self.slices = self.flows = self.counters = 0
        self.irr: dict[tuple[str, int], list[int]] = {}  # IRR bit -> seqs of its IPIs
        self.icr: dict[int, tuple[int, str]] = {}  # seq -> (ICR write time, writer)
        self.interrupts: dict[str, _Interrupt] = {}  # core -> open interrupt
        self.by_handler: dict[str, _Interrupt] = {}
        self.runs: dict[str, _Run] = {}
        self.syscalls: dict[str, tuple[int, int | None]] = {}  # actor -> (entered, seq)
        self.softirqs: dict[str, tuple[int, str]] = {}  # actor -> (started, context)
        self.ring = 0
        self.flow_id = 0
        # Note kinds (and message deliveries) that move the export's state.
        self._steps: dict[str, Callable[[dict[str, Any], str, int], None]] = {
            NoteKind.ICR_WRITTEN: self._on_icr_written,
            NoteKind.IPI_DELIVERED: self._on_ipi_delivered,
            NoteKind.IPI_MERGED: self._on_ipi_merged,
            NoteKind.INTERRUPT_TAKEN: self._on_interrupt_taken,
            NoteKind.HANDLER_ENTERED: self._on_handler_entered,
            NoteKind.FRAME_TAKEN: self._on_frame_taken,
            NoteKind.DESCRIPTOR_RETURNED: self._on_descriptor_returned,
            NoteKind.DESCRIPTOR_DONE: self._on_descriptor_done,
            NoteKind.SKB_QUEUED: self._on_skb_queued,
            NoteKind.SKB_DEQUEUED: self._on_skb_dequeued,
            NoteKind.HANDLER_EXITED: self._on_handler_exited,
            NoteKind.INTERRUPT_RETURNED: self._on_interrupt_returned,
            NoteKind.SYSCALL_ENTERED: self._on_syscall_entered,
            NoteKind.SOFTIRQ_STARTED: self._on_softirq_started,
            NoteKind.SOFTIRQ_ENDED: self._on_softirq_ended,
            NoteKind.STORE_BUFFERED: self._on_store_buffer,
            NoteKind.STORE_DRAINED: self._on_store_buffer,
            NoteKind.SYSCALL_RETURNED: self._on_system_call_return,
            SystemCallReturn.__name__: self._on_system_call_return,  # with injections
            TaskDone.__name__: self._on_task_done,
        }

    # -- output ----------------------------------------------------------------------

    def emit(self, event: dict[str, Any]) -> None:
        self.stream.write(",\n" if self.count else "\n")
        self.stream.write(json.dumps(event, sort_keys=True, separators=(",", ":")))
        self.count += 1

    def slice(self, actor: str, name: str, start: int, end: int, args: dict[str, Any]) -> None:
        pid, tid = self.layout.of(actor)
        self.emit(
            {
                "ph": "X",
                "pid": pid,
                "tid": tid,
                "name": name,
                "cat": actor,
                "ts": us_from_ns(start),
                "dur": us_from_ns(end - start),
                "args": args,
            }
        )
        self.slices += 1

    def counter(self, pid: int, name: str, t: int, key: str, value: int) -> None:
        self.emit(
            {
                "ph": "C",
                "pid": pid,
                "tid": 0,
                "name": name,
                "ts": us_from_ns(t),
                "args": {key: value},
            }
        )
        self.counters += 1

    # -- the pass --------------------------------------------------------------------

    def run(self, progress: Callable[[int], None] | None) -> PerfettoStats:
        header = {
            "mintactors_version": self.reader.header.get("mintactors_version"),
            "seed": self.reader.header.get("seed"),
            "policy": self.reader.header.get("policy"),
            "config_source": self.reader.header.get("config_source"),
            "trace_level": self.reader.level,
        }
        self.stream.write('{"displayTimeUnit":"ns","otherData":')
        self.stream.write(json.dumps(header, sort_keys=True, separators=(",", ":")))
        self.stream.write(',"traceEvents":[')
        for event in self.layout.metadata():
            self.emit(event)
        for seen, event in enumerate(self.reader.events(), 1):
            self.feed(event)
            if progress is not None and not seen & 0xFFFF:
                progress(event["t_ns"])
        self.close_open(self.reader.last_t_ns)
        self.stream.write("\n]}\n")
        return PerfettoStats(self.count, self.slices, self.flows, self.counters)

    def feed(self, event: dict[str, Any]) -> None:
        kind, actor, t = event["kind"], event["actor"], event["t_ns"]
        if kind in _INSTANTS:
            pid, tid = self.layout.of(actor)
            seq = packet_seq(event)
            name = kind if seq is None else f"{kind} seq {seq}"
            self.emit(
                {
                    "ph": "i",
                    "s": "t",
                    "pid": pid,
                    "tid": tid,
                    "name": name,
                    "cat": actor,
                    "ts": us_from_ns(t),
                    "args": _args(event),
                }
            )
        step = self._steps.get(kind)
        if step is not None:
            step(event, actor, t)

    def _on_icr_written(self, event: dict[str, Any], actor: str, t: int) -> None:
        seq = packet_seq(event)
        if seq is not None:
            self.icr[seq] = (t, actor)

    def _on_ipi_delivered(self, event: dict[str, Any], actor: str, t: int) -> None:
        seq = packet_seq(event)
        self.irr[(actor, int(event.get("vector", -1)))] = [] if seq is None else [seq]

    def _on_ipi_merged(self, event: dict[str, Any], actor: str, t: int) -> None:
        seq = packet_seq(event)
        if seq is not None:
            self.irr.setdefault((actor, int(event.get("vector", -1))), []).append(seq)

    def _on_interrupt_taken(self, event: dict[str, Any], actor: str, t: int) -> None:
        vector = int(event.get("vector", -1))
        seqs = self.irr.pop(("apic" + actor.removeprefix("core"), vector), [])
        flows = [(s, *self.icr.pop(s)) for s in seqs if s in self.icr]
        handler = str(event.get("handler"))
        irq = _Interrupt(t, vector, handler, seqs[0] if seqs else None, flows)
        self.interrupts[actor] = irq
        self.by_handler[handler] = irq

    def _on_handler_entered(self, event: dict[str, Any], actor: str, t: int) -> None:
        self.runs[actor] = _Run(int(event.get("run", 0)), t, t)
        irq = self.by_handler.get(actor)
        if irq is not None:
            irq.entered = t

    def _on_frame_taken(self, event: dict[str, Any], actor: str, t: int) -> None:
        run = self.runs.get(actor)
        if run is not None:
            run.step_seq = packet_seq(event)

    def _on_descriptor_returned(self, event: dict[str, Any], actor: str, t: int) -> None:
        run = self.runs.get(actor)
        if run is not None:
            run.children.append((run.step_start, t, int(event.get("desc", -1)), run.step_seq))
            run.step_start, run.step_seq = t, None
        self.ring -= 1
        self.counter(self.layout.machine_pid, "RX ring occupancy", t, "descriptors", self.ring)

    def _on_descriptor_done(self, event: dict[str, Any], actor: str, t: int) -> None:
        self.ring += int(event.get("count", 1))
        self.counter(self.layout.machine_pid, "RX ring occupancy", t, "descriptors", self.ring)

    def _on_store_buffer(self, event: dict[str, Any], actor: str, t: int) -> None:
        """A store entered or left ``actor``'s (a core's) store buffer: its new occupancy."""
        pid, _ = self.layout.of(actor)
        occupancy = int(event.get("occupancy", 0))
        self.counter(pid, f"{actor} store buffer", t, "entries", occupancy)

    def _on_skb_queued(self, event: dict[str, Any], actor: str, t: int) -> None:
        self._rmem(event, t)

    def _on_skb_dequeued(self, event: dict[str, Any], actor: str, t: int) -> None:
        self._rmem(event, t)

    def _rmem(self, event: dict[str, Any], t: int) -> None:
        pid = self.layout.target_pid or self.layout.machine_pid
        self.counter(pid, "socket receive buffer", t, "bytes", int(event.get("rmem", 0)))

    def _on_handler_exited(self, event: dict[str, Any], actor: str, t: int) -> None:
        run = self.runs.pop(actor, None)
        if run is not None:
            self._end_run(actor, run, t, {"run": run.run, "drained": event.get("drained")})
        irq = self.by_handler.get(actor)
        if irq is not None:
            irq.exited = t

    def _end_run(self, actor: str, run: _Run, t: int, args: dict[str, Any]) -> None:
        self.slice(actor, f"handler run {run.run}", run.entered, t, args)
        for start, end, desc, seq in run.children:
            name = f"descriptor {desc}" + (f" (seq {seq})" if seq is not None else "")
            self.slice(actor, name, start, end, {"desc": desc, "seq": seq})

    def _on_interrupt_returned(self, event: dict[str, Any], actor: str, t: int) -> None:
        irq = self.interrupts.pop(actor, None)
        if irq is not None:
            self._end_interrupt(actor, irq, t, {})

    def _end_interrupt(self, core: str, irq: _Interrupt, t: int, extra: dict[str, Any]) -> None:
        if self.by_handler.get(irq.handler) is irq:
            del self.by_handler[irq.handler]
        args = {
            "vector": f"{irq.vector:#x}",  # as every tool writes a vector
            "handler": irq.handler,
            "ipi_of_packet": irq.for_seq,
            **extra,
        }
        self.slice(core, f"IRQ {irq.vector:#x} -> {irq.handler}", irq.taken, t, args)
        marks = [irq.taken, irq.entered, irq.exited, t]
        names = ("interrupt entry", f"{irq.handler} handler", "iret")
        for name, start, end in zip(names, marks, marks[1:], strict=False):
            if start is not None and end is not None:
                self.slice(core, name, start, end, {})
        pid, tid = self.layout.of(core)
        # The arrow ends 1 ns into the interrupt, so it binds to the interrupt's slice
        # whatever order the importer gives events that share a timestamp.
        end_t = irq.taken + 1 if t - irq.taken >= 2 else irq.taken
        for seq, icr_t, writer in irq.flows:
            self.flow_id += 1
            wpid, wtid = self.layout.of(writer)
            common = {"name": "IPI", "cat": "ipi", "id": self.flow_id}
            self.emit(
                {
                    **common,
                    "ph": "s",
                    "pid": wpid,
                    "tid": wtid,
                    "ts": us_from_ns(icr_t),
                    "args": {"seq": seq},
                }
            )
            self.emit(
                {
                    **common,
                    "ph": "f",
                    "bp": "e",
                    "pid": pid,
                    "tid": tid,
                    "ts": us_from_ns(end_t),
                    "args": {"seq": seq},
                }
            )
            self.flows += 1

    def _on_syscall_entered(self, event: dict[str, Any], actor: str, t: int) -> None:
        self.syscalls[actor] = (t, packet_seq(event))

    def _on_system_call_return(self, event: dict[str, Any], actor: str, t: int) -> None:
        src = str(event.get("src", actor))  # the delivery's sender, or the note's writer
        opened = self.syscalls.pop(src, None)
        start = int(event.get("entered_ns", opened[0] if opened else t))
        seq = packet_seq(event)
        self.slice(
            src, f"system call (seq {seq})", start, t, {"seq": seq, "result": event.get("result")}
        )

    def _on_softirq_started(self, event: dict[str, Any], actor: str, t: int) -> None:
        self.softirqs[actor] = (t, str(event.get("context")))

    def _on_softirq_ended(self, event: dict[str, Any], actor: str, t: int) -> None:
        opened = self.softirqs.pop(actor, None)
        if opened is not None:
            self._end_softirq(opened, t, {"wake_ksoftirqd": event.get("wake_ksoftirqd")})

    def _end_softirq(self, opened: tuple[int, str], t: int, args: dict[str, Any]) -> None:
        start, context = opened
        name = "ksoftirqd" if context == "ksoftirqd" else "NET_RX softirq (irq_exit)"
        self.slice(SOFTIRQ_TRACK, name, start, t, {"context": context, **args})

    def _on_task_done(self, event: dict[str, Any], actor: str, t: int) -> None:
        label = str(event.get("label"))
        self.slice(actor, label, int(event.get("started_ns", t)), t, {"label": label})

    def close_open(self, t: int) -> None:
        """End what the trace left open at its last instant, so every slice has an end."""
        unfinished = {"unfinished": True}
        for actor in sorted(self.runs):
            run = self.runs.pop(actor)
            self._end_run(actor, run, t, {"run": run.run, **unfinished})
        for core in sorted(self.interrupts):
            self._end_interrupt(core, self.interrupts.pop(core), t, unfinished)
        for actor in sorted(self.softirqs):
            self._end_softirq(self.softirqs.pop(actor), t, unfinished)
        for actor in sorted(self.syscalls):
            start, seq = self.syscalls.pop(actor)
            self.slice(actor, f"system call (seq {seq})", start, t, {"seq": seq, **unfinished})


def export_perfetto(
    reader: TraceReader, stream: IO[str], progress: Callable[[int], None] | None = None
) -> PerfettoStats:
    """Write the rest of ``reader``'s trace to ``stream`` as trace-event JSON."""
    return _Exporter(reader, stream).run(progress)
