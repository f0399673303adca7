"""Snapshots and watches as text for people, and as JSON for tools.

Addresses and registers are printed in hex, vectors as ``0x41``, bit fields by
their datasheet names. In the whole-machine view the ring shows only the
descriptors worth a look (DD set, or where an index points) and folds the rest
into one line per stretch; ``--component ring`` shows every one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from mintactors.experiments.inspect._seek import Inspection
from mintactors.experiments.inspect._watch import WatchReport
from mintactors.hardware.memory import MemorySnapshot
from mintactors.hardware.snapshots import (
    ApicSnapshot,
    CoreSnapshot,
    DescriptorSnapshot,
    E1000Snapshot,
    LinkSnapshot,
    RingSnapshot,
    WorkSnapshot,
)
from mintactors.kernel.snapshots import (
    AppSnapshot,
    DriverSnapshot,
    GeneratorSnapshot,
    MechanismSnapshot,
    SkbSnapshot,
    SocketSnapshot,
)
from mintactors.machine import InFlight
from mintactors.runtime import to_jsonable

__all__ = [
    "HEX_FIELDS",
    "format_value",
    "inspection_json",
    "render_component",
    "render_inspection",
    "render_watch",
    "watch_json",
]

#: Field names whose integers read best in hex (addresses, registers, vectors).
HEX_FIELDS = frozenset(
    {
        "addr",
        "base",
        "buffer_addr",
        "errors",
        "icr",
        "icr_latched",
        "ims",
        "intr",
        "irr",
        "isr",
        "ppr",
        "rctl",
        "rdbah",
        "rdbal",
        "status",
        "tpr",
        "in_handler",
    }
)

_INDENT = " " * 10
_SHOWN_SKBS = 8


def _hex(value: int | None, width: int = 0) -> str:
    return "-" if value is None else f"{value:#0{width + 2}x}" if width else f"{value:#x}"


def _vectors(values: tuple[int, ...]) -> str:
    return " ".join(f"{v:#x}" for v in values) if values else "-"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _names(names: tuple[str, ...]) -> str:
    return " ".join(names) if names else "-"


def format_value(value: object, leaf: str = "") -> str:
    """A watched value in a few characters: hex where the field reads best in hex."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _hex(value) if leaf in HEX_FIELDS else str(value)
    if value == ():
        return "-"
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return "[" + " ".join(format_value(v, leaf) for v in value) + "]"
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return _names(value)
    if isinstance(value, str):
        return value
    return json.dumps(to_jsonable(value), separators=(",", ":"))


# -- one renderer per record -----------------------------------------------------------


def _work(work: WorkSnapshot) -> str:
    owner = f"{work.label} for {work.owner}"
    if work.thread and work.thread != work.owner:
        owner += f" (thread {work.thread})"
    if work.started_ns is None:
        return f"{owner}, {work.cost_ns} ns"
    if work.resumed_ns is None:
        return f"{owner}, started {work.started_ns} ns, paused with {work.remaining_ns} ns left"
    return (
        f"{owner}, started {work.started_ns} ns, {work.remaining_ns} ns left "
        f"when it resumed at {work.resumed_ns} ns"
    )


def _core(name: str, core: CoreSnapshot) -> list[str]:
    handler = _hex(core.in_handler) if core.in_handler is not None else "-"
    lines = [
        f"{name:<10}{core.state}  IF={int(core.interrupts_enabled)}  handler {handler}"
        + ("  (iret under way)" if core.returning else "")
    ]
    if core.running is not None:
        lines.append(f"{_INDENT}running   {_work(core.running)}")
    if core.preempted is not None:
        lines.append(f"{_INDENT}put aside {_work(core.preempted)}")
    for label, queue in (("softirq", core.softirq_queue), ("threads", core.thread_queue)):
        if queue:
            lines.append(f"{_INDENT}{label:<9} " + "; ".join(_work(w) for w in queue))
    if core.vruntime:
        times = "  ".join(f"{thread} {ns}" for thread, ns in core.vruntime)
        slice_text = core.slice_thread or "-"
        lines.append(
            f"{_INDENT}vruntime  {times}  (min {core.min_vruntime}; slice {slice_text}, "
            f"{core.slice_used_ns} ns used)"
        )
    buffer = core.store_buffer
    if buffer is not None:  # memory model tso
        lines.append(f"{_INDENT}store buffer {len(buffer.entries)}/{buffer.capacity}")
        lines.extend(
            f"{_INDENT}  #{e.seq} {e.addr} +{e.length} = {e.data}, made {e.entered_ns} ns, "
            f"drains {e.due_ns} ns"
            for e in buffer.entries
        )
    return lines


def _apic(name: str, apic: ApicSnapshot) -> list[str]:
    intr = _hex(apic.intr) if apic.intr is not None else "low"
    return [
        f"{name:<10}IRR {_vectors(apic.irr)}  ISR {_vectors(apic.isr)}  "
        f"TPR {_hex(apic.tpr)}  PPR {_hex(apic.ppr)}  INTR {intr}"
    ]


def _memory(name: str, memory: MemorySnapshot) -> list[str]:
    lines = []
    regs = memory.registers
    if regs is not None:
        enabled = _names(regs.ims_causes) if regs.ims else "none: every cause masked"
        lines.append(
            f"{name:<10}IMS {_hex(regs.ims, 8)} ({enabled})  "
            f"ICR {_hex(regs.icr, 8)} (latched: {_names(regs.icr_causes)})"
        )
        lines.append(
            f"{_INDENT}RDBAL {_hex(regs.rdbal, 8)}  RDBAH {_hex(regs.rdbah, 8)}  "
            f"RDLEN {regs.rdlen}  RDH {regs.rdh}  RDT {regs.rdt}  RCTL {_hex(regs.rctl, 8)}"
        )
        lines.append(f"{_INDENT}register block at {_hex(regs.base)}")
    else:
        lines.append(f"{name:<10}(no register block)")
    lines.append(
        f"{_INDENT}pages touched {memory.pages_touched}  access violations {len(memory.violations)}"
    )
    for v in memory.violations[-3:]:
        lines.append(f"{_INDENT}  {v.t_ns} ns: node {v.node} {v.access} {_hex(v.addr)} +{v.length}")
    return lines


def _marks(ring: RingSnapshot, index: int) -> list[str]:
    marks = []
    if index == ring.next_to_clean:
        marks.append("next_to_clean")
    if index == ring.rdh:
        marks.append("RDH")
    if index == ring.rdt:
        marks.append("RDT")
    if index == ring.next_to_use:
        marks.append("next_to_use")
    return marks


def _descriptor_row(desc: DescriptorSnapshot, marks: list[str]) -> str:
    written = f"{desc.written_ns} ns" if desc.written_ns is not None else "-"
    row = (
        f"  {desc.index:>5}  {_hex(desc.addr):<12} {_hex(desc.buffer_addr):<12} "
        f"{desc.length:>6}  {_hex(desc.status, 2):>6}  {_names(desc.flags):<13} "
        f"{desc.owner:<9} {written:>12}"
    )
    return row + (f"  <- {', '.join(marks)}" if marks else "")


def _fold(rows: list[DescriptorSnapshot]) -> str:
    owners: dict[str, int] = {}
    for desc in rows:
        owners[desc.owner] = owners.get(desc.owner, 0) + 1
    who = ", ".join(f"{n} {owner}" for owner, n in owners.items())
    span = f"{rows[0].index}-{rows[-1].index}"
    return f"  {span:>5}  ({len(rows)} descriptors with DD clear: {who})"


def _ring(name: str, ring: RingSnapshot, every: bool = False) -> list[str]:
    owned = (ring.rdt - ring.rdh) % ring.size
    hw = f"{ring.rdh}..{(ring.rdt - 1) % ring.size}" if owned else "none"
    posting = f", posting seq {ring.posting}" if ring.posting is not None else ""
    queued = f", {len(ring.queued)} frames queued" if ring.queued else ""
    lines = [
        f"{name:<10}{ring.size} descriptors of {ring.buffer_size} B at {_hex(ring.base)}; "
        f"engine {ring.state}{posting}{queued}",
        f"{_INDENT}RDH {ring.rdh}  RDT {ring.rdt} (hardware owns {hw})  "
        f"next_to_clean {ring.next_to_clean if ring.next_to_clean is not None else '-'}  "
        f"next_to_use {ring.next_to_use if ring.next_to_use is not None else '-'}  "
        f"DD set on {ring.done}  RNBC {ring.rnbc}  MPC {ring.mpc}",
        f"  {'desc':>5}  {'address':<12} {'buffer':<12} {'length':>6}  {'status':>6}  "
        f"{'flags':<13} {'owner':<9} {'written back':>12}",
    ]
    folded: list[DescriptorSnapshot] = []

    def fold() -> None:
        # A short stretch reads better whole than folded.
        if len(folded) > 2:
            lines.append(_fold(folded))
        else:
            lines.extend(_descriptor_row(d, []) for d in folded)
        folded.clear()

    for desc in ring.descriptors:
        marks = _marks(ring, desc.index)
        if every or marks or "DD" in desc.flags:
            fold()
            lines.append(_descriptor_row(desc, marks))
        else:
            folded.append(desc)
    fold()
    return lines


def _skbs(skbs: tuple[SkbSnapshot, ...]) -> str:
    shown = [f"seq {s.seq} ({s.truesize} B)" for s in skbs[:_SHOWN_SKBS]]
    more = f" ... {len(skbs) - _SHOWN_SKBS} more" if len(skbs) > _SHOWN_SKBS else ""
    return ", ".join(shown) + more if shown else "-"


def _driver(name: str, driver: DriverSnapshot) -> list[str]:
    code = (
        "; ".join(
            f"{c.context}"
            + (f", waiting for {c.waiting_for}" if c.waiting_for else "")
            + f" ({c.taken} taken)"
            for c in driver.running
        )
        or "none (idle)"
    )
    napi, net = driver.napi, driver.net_rx
    dropped = ", ".join(f"{reason} {n}" for reason, n in driver.dropped) or "-"
    return [
        f"{name:<10}{driver.kind}  in hard IRQ: {_yes(driver.in_handler)}  "
        f"next_to_clean {driver.next_to_clean}  next_to_use {driver.next_to_use}  "
        f"holding {driver.holding}",
        f"{_INDENT}code      {code}",
        f"{_INDENT}NAPI      SCHED {'set' if napi.sched else 'clear'}  "
        f"MISSED {'set' if napi.missed else 'clear'}",
        f"{_INDENT}NET_RX    pending {_yes(net.pending)}  asked of the core {_yes(net.requested)}  "
        f"ksoftirqd woken {_yes(net.ksoftirqd_woken)}  poll list {_names(net.poll_list)}",
        f"{_INDENT}backlog   {len(net.backlog)} skbs: {_skbs(net.backlog)}  "
        f"(in the stack: {net.in_stack})",
        f"{_INDENT}counters  handler runs {driver.handler_runs}  polls {driver.polls}  "
        f"frames taken {driver.frames_taken}  dropped {dropped}",
    ]


def _socket(name: str, socket: SocketSnapshot) -> list[str]:
    return [
        f"{name:<10}rmem {socket.rmem} of rcvbuf {socket.rcvbuf} B  "
        f"{len(socket.queue)} skbs queued  reader waiting: {_yes(socket.reader_waiting)}  "
        f"rcvbuf errors {socket.rcvbuf_errors}",
        f"{_INDENT}queue     {_skbs(socket.queue)}",
    ]


def _app(name: str, app: AppSnapshot) -> list[str]:
    holding = (
        f"processing seq {app.holding.seq} ({app.holding.length} B)"
        if app.holding is not None
        else "waiting in recv"
    )
    last = f"{app.last_receive_ns} ns" if app.last_receive_ns is not None else "-"
    return [
        f"{name:<10}{holding}  received {app.received}  malformed {app.malformed}  "
        f"last received {last}"
    ]


def _generator(name: str, gen: GeneratorSnapshot) -> list[str]:
    current = (
        f"seq {gen.current} {'in the system call' if gen.in_kernel else 'being built'}"
        if gen.current is not None
        else "none"
    )
    ready = " ".join(str(i) for i in gen.ready) or "-"
    return [
        f"{name:<10}planned {gen.planned} of {gen.count}  next seq {gen.next_seq}  "
        f"current {current}  due and waiting {ready}  sent {gen.sent}  late {gen.late}"
    ]


def _mechanism(name: str, mech: MechanismSnapshot) -> list[str]:
    call = (
        f"seq {mech.call.seq} ({mech.call.length} B), entered {mech.call.entered_ns} ns"
        if mech.call is not None
        else "none"
    )
    return [
        f"{name:<10}system call {call}  reads IMS: {_yes(mech.reads_ims)}  "
        f"ICR writes {mech.icr_writes}  IPIs held back (masked) {mech.ipis_masked}"
    ]


def _generic(name: str, record: object) -> list[str]:
    cls: Any = type(record)
    if not attrs.has(cls):
        return [f"{name:<10}{record!r}"]
    parts = [f"{f.name} {format_value(getattr(record, f.name), f.name)}" for f in attrs.fields(cls)]
    return [f"{name:<10}" + "  ".join(parts)]


_RENDERERS: dict[type, Callable[[str, Any], list[str]]] = {
    CoreSnapshot: _core,
    ApicSnapshot: _apic,
    MemorySnapshot: _memory,
    RingSnapshot: _ring,
    DriverSnapshot: _driver,
    SocketSnapshot: _socket,
    AppSnapshot: _app,
    GeneratorSnapshot: _generator,
    MechanismSnapshot: _mechanism,
    E1000Snapshot: _generic,
    LinkSnapshot: _generic,
}


def render_component(name: str, record: object, *, every: bool = False) -> list[str]:
    """One component's snapshot as lines of text (``every``: the ring's every descriptor)."""
    if isinstance(record, RingSnapshot):
        return _ring(name, record, every)
    return _RENDERERS.get(type(record), _generic)(name, record)


def _in_flight(messages: Iterable[InFlight]) -> list[str]:
    rows = list(messages)
    lines = [f"in flight ({len(rows)} messages)"]
    if rows:
        lines.append(f"  {'t (ns)':>12}  {'to':<10} {'kind':<20} {'from':<10} fields")
    for m in rows:
        fields = " ".join(
            f"{k}={json.dumps(v, separators=(',', ':'))}" for k, v in m.fields.items()
        )
        if len(fields) > 70:
            fields = fields[:67] + "..."
        lines.append(f"  {m.t_ns:>12}  {m.to:<10} {m.kind:<20} {m.source:<10} {fields}")
    return lines


def _heading(ins: Inspection) -> list[str]:
    snap = ins.snapshot
    rx = ins.reexecution
    start = (
        f"from the checkpoint at {rx.start.t_ns} ns (delivery {rx.start.delivered})"
        if rx.start is not None
        else "from the start"
    )
    checked = (
        f"the recorded trace matches it up to line {ins.checked}"
        if ins.checked
        else "not checked against the recorded trace (--no-verify)"
    )
    return [
        f"{ins.trace} at {ins.instant.what}",
        f"machine at t = {snap.t_ns} ns ({snap.t_ns / 1000:.3f} us), "
        f"after {snap.delivered} deliveries",
        f"re-executed {start} in {rx.cpu_s:.2f} s of CPU; {checked}",
        *(f"note: {note}" for note in ins.notes),
    ]


def render_inspection(ins: Inspection, component: str | None = None) -> str:
    """The inspection as text: a heading, then each component, then messages in flight."""
    lines = _heading(ins)
    snap = ins.snapshot
    if component is not None:
        lines.append("")
        if component == "in_flight":
            lines += _in_flight(snap.in_flight)
        else:
            lines += render_component(component, snap[component], every=True)
        return "\n".join(lines)
    for name, record in snap.components.items():
        lines.append("")
        lines += render_component(name, record)
    lines.append("")
    lines += _in_flight(snap.in_flight)
    return "\n".join(lines)


def inspection_json(ins: Inspection, component: str | None = None) -> dict[str, Any]:
    """The inspection as one JSON object (the snapshot whole, or one component)."""
    snap = ins.snapshot
    rx = ins.reexecution
    body: Any
    if component is None:
        body = to_jsonable(snap)
    elif component == "in_flight":
        body = to_jsonable(snap.in_flight)
    else:
        body = to_jsonable(snap[component])
    return {
        "trace": str(ins.trace),
        "at": {"t_ns": ins.instant.t_ns, "after_deliveries": ins.instant.after},
        "what": ins.instant.what,
        "t_ns": snap.t_ns,
        "delivered": snap.delivered,
        "checked_lines": ins.checked,
        "start": attrs.asdict(rx.start) if rx.start is not None else None,
        "cpu_s": round(rx.cpu_s, 6),
        "component": component,
        "snapshot": body,
    }


def render_watch(report: WatchReport, *, last: bool = False) -> str:
    """A watch as text: the value it starts from, then one row per change."""
    leaf = report.field.rsplit(".", 1)[-1].split("[", 1)[0]

    def value(v: object) -> str:
        return format_value(v, leaf)

    if last:
        head = f"{report.field}: last change at or before {report.end.what}"
    else:
        window = f" from {report.start_ns} ns" if report.start_ns is not None else ""
        count = len(report.changes)
        changes = f"{count} change{'' if count == 1 else 's'}"
        head = f"{report.field}: {changes}{window} to {report.end.what}"
    lines = [head]
    if last and not report.changes:
        lines.append(f"  never changed: {value(report.initial)} since the run began")
        return "\n".join(lines)
    if not last:
        lines.append(f"  value at the start: {value(report.initial)}")
    lines.append(f"  {'t (ns)':>12}  {'value':<24} {'delivery':>9}  {'line':>6}  caused by")
    for c in report.changes:
        change = f"{value(c.before)} -> {value(c.after)}"
        line = str(c.line) if c.line is not None else "-"
        lines.append(
            f"  {c.t_ns:>12}  {change:<24} {c.delivery:>9}  {line:>6}  "
            f"{c.actor} {c.kind} <- {c.source}"
        )
    if last:
        lines.append(f"  value at the target: {value(report.final)}")
    segments = f" in {report.segments} stretches" if report.segments > 1 else ""
    lines.append(f"  ({report.cpu_s:.2f} s of CPU{segments})")
    return "\n".join(lines)


def watch_json(report: WatchReport) -> dict[str, Any]:
    """A watch as one JSON object."""
    return {
        "field": report.field,
        "start_ns": report.start_ns,
        "end": {"t_ns": report.end.t_ns, "after_deliveries": report.end.after},
        "what": report.end.what,
        "initial": to_jsonable(report.initial),
        "final": to_jsonable(report.final),
        "changes": [to_jsonable(c) for c in report.changes],
        "cpu_s": round(report.cpu_s, 6),
        "segments": report.segments,
    }
