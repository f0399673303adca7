"""``trace summary``: what happened in a run, from its trace alone, in one pass.

The figures that ``results.json`` also reports are named and computed the same way
(``sent``, ``delivered``, ``dropped``, ``in_flight``, ``skb_built``,
``queued_on_socket``, ``ipi``, ``handler_runs``, ``latency_ns``,
``send_time_ns_mean``), so the two can be checked
against each other (latencies through the same bounded-memory
:class:`~mintactors.histogram.Histogram`). Memory is constant except for a small
record per packet still in flight.

A ``summary``-level trace holds only drops, access violations, the header and the
end line: the figures that need the rest are reported as unavailable.

A ``full`` trace of a run under the ``tso`` memory model also has the cores'
store-buffer notes; they are counted per core under ``store_buffers`` (absent
when the trace has none).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from mintactors.histogram import Histogram
from mintactors.messages import SystemCallReturn
from mintactors.notes import NoteKind
from mintactors.traces._hops import PLACE_AFTER, packet_seq
from mintactors.traces._reader import TraceReader

__all__ = ["FULL_ONLY", "TraceSummary", "render_summary", "summarise"]

#: Summary fields that need a ``full`` trace.
FULL_ONLY = (
    "sent",
    "delivered",
    "in_flight",
    "skb_built",
    "queued_on_socket",
    "ipi",
    "handler_runs",
    "handler",
    "ring",
    "socket",
    "latency_ns",
    "send_time_ns_mean",
)


#: What ``store_buffers`` counts for each core (memory model ``tso``).
_BUFFER_COUNTS = (
    "buffered",
    "drained",
    "drained_by_fence",
    "high_water",
    "stalls",
    "stall_ns",
    "fences",
    "fence_wait_ns",
)


@attrs.frozen
class TraceSummary:
    """Everything ``trace summary`` reports, as plain JSON-able data."""

    data: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The summary as a JSON object (the ``--json`` output)."""
        return self.data


class _Accumulator:
    """Per-event bookkeeping for :func:`summarise`."""

    def __init__(self) -> None:
        self.by_actor: dict[str, Counter[str]] = {}
        self.lines = 0
        self.first_t: int | None = None
        self.generated = self.received = self.skb_built = self.skb_queued = 0
        self.dropped: Counter[str] = Counter()
        self.latencies = Histogram()
        self.place: dict[int, str] = {}
        self.ipi_sent = self.ipi_delivered = self.ipi_merged = 0
        self.handler_runs = self.empty_runs = self.max_drained = self.drained = 0
        # NAPI variants: the hard IRQ only schedules a poll; the polls clean the ring.
        self.polls = self.poll_drained = self.poll_max = self.napi_irqs = 0
        self.irq_start: dict[str, int] = {}
        self.irq_ns: Counter[str] = Counter()
        self.irq_count: Counter[str] = Counter()
        self.ring = self.ring_high = self.ring_full = 0
        self.rmem_high = self.queue = self.queue_high = 0
        self.syscalls = self.syscall_ns = 0
        self.violations = 0
        self.buffers: dict[str, Counter[str]] = {}
        self._handlers: dict[str, Callable[[dict[str, Any], int], None]] = {
            NoteKind.PACKET_GENERATED: self._on_packet_generated,
            NoteKind.SYSCALL_ENTERED: self._on_syscall_entered,
            NoteKind.FRAME_COPIED: self._on_frame_copied,
            NoteKind.DESCRIPTOR_DONE: self._on_descriptor_done,
            NoteKind.DESCRIPTOR_RETURNED: self._on_descriptor_returned,
            NoteKind.RING_FULL: self._on_ring_full,
            NoteKind.FRAME_TAKEN: self._on_frame_taken,
            NoteKind.SKB_BACKLOGGED: self._on_skb_backlogged,
            NoteKind.SKB_QUEUED: self._on_skb_queued,
            NoteKind.SKB_DEQUEUED: self._on_skb_dequeued,
            NoteKind.PACKET_RECEIVED: self._on_packet_received,
            NoteKind.PACKET_DROPPED: self._on_packet_dropped,
            NoteKind.ACCESS_VIOLATION: self._on_access_violation,
            NoteKind.IPI_SENT: self._on_ipi_sent,
            NoteKind.IPI_DELIVERED: self._on_ipi_delivered,
            NoteKind.IPI_MERGED: self._on_ipi_merged,
            NoteKind.INTERRUPT_TAKEN: self._on_interrupt_taken,
            NoteKind.INTERRUPT_RETURNED: self._on_interrupt_returned,
            NoteKind.HANDLER_ENTERED: self._on_handler_entered,
            NoteKind.HANDLER_EXITED: self._on_handler_exited,
            NoteKind.POLL_COMPLETED: self._on_poll_completed,
            NoteKind.BUDGET_EXHAUSTED: self._on_budget_exhausted,
            NoteKind.STORE_BUFFERED: self._on_store_buffered,
            NoteKind.STORE_DRAINED: self._on_store_drained,
            NoteKind.STORE_STALLED: self._on_store_stalled,
            NoteKind.FENCED: self._on_fenced,
            NoteKind.SYSCALL_RETURNED: self._on_system_call_return,
            SystemCallReturn.__name__: self._on_system_call_return,  # with injections
        }

    def feed(self, event: dict[str, Any]) -> None:
        actor, kind, t = event["actor"], event["kind"], event["t_ns"]
        self.lines += 1
        if self.first_t is None:
            self.first_t = t
        counts = self.by_actor.get(actor)
        if counts is None:
            counts = self.by_actor[actor] = Counter()
        counts[kind] += 1
        handler = self._handlers.get(kind)
        if handler is not None:
            handler(event, t)

    def _track(self, event: dict[str, Any], place: str) -> None:
        seq = packet_seq(event)
        if seq is not None:
            self.place[seq] = place

    def _forget(self, event: dict[str, Any]) -> None:
        seq = packet_seq(event)
        if seq is not None:
            self.place.pop(seq, None)

    def _on_packet_generated(self, event: dict[str, Any], t: int) -> None:
        self.generated += 1
        self._track(event, PLACE_AFTER[NoteKind.PACKET_GENERATED])

    def _on_syscall_entered(self, event: dict[str, Any], t: int) -> None:
        self._track(event, PLACE_AFTER[NoteKind.SYSCALL_ENTERED])

    def _on_frame_copied(self, event: dict[str, Any], t: int) -> None:
        self._track(event, PLACE_AFTER[NoteKind.FRAME_COPIED])

    def _on_descriptor_done(self, event: dict[str, Any], t: int) -> None:
        self._track(event, PLACE_AFTER[NoteKind.DESCRIPTOR_DONE])
        self.ring += int(event.get("count", 1))
        self.ring_high = max(self.ring_high, self.ring)

    def _on_descriptor_returned(self, event: dict[str, Any], t: int) -> None:
        self.ring -= 1

    def _on_ring_full(self, event: dict[str, Any], t: int) -> None:
        self.ring_full += 1

    def _on_frame_taken(self, event: dict[str, Any], t: int) -> None:
        # Noted as the driver hands the skb it built to netif_rx.
        self.skb_built += 1
        self._track(event, PLACE_AFTER[NoteKind.FRAME_TAKEN])

    def _on_skb_backlogged(self, event: dict[str, Any], t: int) -> None:
        self._track(event, PLACE_AFTER[NoteKind.SKB_BACKLOGGED])

    def _on_skb_queued(self, event: dict[str, Any], t: int) -> None:
        self.skb_queued += 1
        self._track(event, PLACE_AFTER[NoteKind.SKB_QUEUED])
        self.rmem_high = max(self.rmem_high, int(event.get("rmem", 0)))
        self.queue += 1
        self.queue_high = max(self.queue_high, self.queue)

    def _on_skb_dequeued(self, event: dict[str, Any], t: int) -> None:
        self.queue -= 1
        self._track(event, PLACE_AFTER[NoteKind.SKB_DEQUEUED])

    def _on_packet_received(self, event: dict[str, Any], t: int) -> None:
        self.received += 1
        self.latencies.add(int(event["latency_ns"]))
        self._forget(event)

    def _on_packet_dropped(self, event: dict[str, Any], t: int) -> None:
        self.dropped[str(event.get("reason"))] += 1
        self._forget(event)

    def _on_access_violation(self, event: dict[str, Any], t: int) -> None:
        self.violations += 1

    def _on_ipi_sent(self, event: dict[str, Any], t: int) -> None:
        self.ipi_sent += 1

    def _on_ipi_delivered(self, event: dict[str, Any], t: int) -> None:
        self.ipi_delivered += 1

    def _on_ipi_merged(self, event: dict[str, Any], t: int) -> None:
        self.ipi_merged += 1

    def _on_interrupt_taken(self, event: dict[str, Any], t: int) -> None:
        self.irq_start[event["actor"]] = t

    def _on_interrupt_returned(self, event: dict[str, Any], t: int) -> None:
        start = self.irq_start.pop(event["actor"], None)
        if start is not None:
            self.irq_ns[event["actor"]] += t - start
            self.irq_count[event["actor"]] += 1

    def _on_handler_entered(self, event: dict[str, Any], t: int) -> None:
        self.handler_runs += 1

    def _on_handler_exited(self, event: dict[str, Any], t: int) -> None:
        if event.get("drained", 0) is None:  # a NAPI hard IRQ: it cleans nothing
            self.napi_irqs += 1
            return
        drained = int(event.get("drained", 0))
        self.drained += drained
        self.empty_runs += drained == 0
        self.max_drained = max(self.max_drained, drained)

    def _on_poll_completed(self, event: dict[str, Any], t: int) -> None:
        self._poll_ended(event)

    def _on_budget_exhausted(self, event: dict[str, Any], t: int) -> None:
        self._poll_ended(event)

    def _poll_ended(self, event: dict[str, Any]) -> None:
        drained = int(event.get("drained") or 0)
        self.polls += 1
        self.poll_drained += drained
        self.poll_max = max(self.poll_max, drained)
        # As the driver's own statistics count them: a poll is a run of the cleaner.
        self.empty_runs += drained == 0
        self.max_drained = max(self.max_drained, drained)

    def _buffer(self, event: dict[str, Any]) -> Counter[str]:
        counts = self.buffers.get(event["actor"])
        if counts is None:
            counts = self.buffers[event["actor"]] = Counter()
        return counts

    def _on_store_buffered(self, event: dict[str, Any], t: int) -> None:
        counts = self._buffer(event)
        counts["buffered"] += 1
        counts["high_water"] = max(counts["high_water"], int(event.get("occupancy", 0)))

    def _on_store_drained(self, event: dict[str, Any], t: int) -> None:
        counts = self._buffer(event)
        counts["drained"] += 1
        counts["drained_by_fence"] += bool(event.get("by_fence"))

    def _on_store_stalled(self, event: dict[str, Any], t: int) -> None:
        counts = self._buffer(event)
        counts["stalls"] += 1
        counts["stall_ns"] += int(event.get("waited_ns", 0))

    def _on_fenced(self, event: dict[str, Any], t: int) -> None:
        counts = self._buffer(event)
        counts["fences"] += 1
        counts["fence_wait_ns"] += int(event.get("waited_ns", 0))

    def _on_system_call_return(self, event: dict[str, Any], t: int) -> None:
        self.syscalls += 1
        self.syscall_ns += t - int(event["entered_ns"])


def _header_fields(reader: TraceReader) -> dict[str, Any]:
    header = reader.header
    return {
        key: header.get(key)
        for key in ("mintactors_version", "config_source", "seed", "policy", "profile")
    }


def summarise(reader: TraceReader) -> TraceSummary:
    """Read the rest of ``reader`` and summarise it."""
    acc = _Accumulator()
    for event in reader.events():
        acc.feed(event)
    full = reader.level == "full"
    end = reader.run_end
    data: dict[str, Any] = {
        "trace": str(reader.path),
        "level": reader.level,
        **_header_fields(reader),
        "lines": acc.lines + 1,
        "complete": end is not None,
        "truncated": reader.truncated,
        "span_ns": {"first": acc.first_t, "last": reader.last_t_ns},
        "end": None
        if end is None
        else {k: end.get(k) for k in ("reason", "t_ns", "detail", "delivered", "pending")},
        "events": {
            actor: dict(sorted(kinds.items())) for actor, kinds in sorted(acc.by_actor.items())
        },
        "dropped": dict(sorted(acc.dropped.items())),
        "access_violations": acc.violations,
    }
    if acc.buffers:
        data["store_buffers"] = {
            core: {key: counts[key] for key in _BUFFER_COUNTS}
            for core, counts in sorted(acc.buffers.items())
        }
    if full:
        data.update(_full_figures(acc))
        data["unavailable"] = []
    else:
        data.update(dict.fromkeys(FULL_ONLY))
        data["unavailable"] = list(FULL_ONLY)
    return TraceSummary(data)


def _full_figures(acc: _Accumulator) -> dict[str, Any]:
    latencies = acc.latencies
    in_flight = acc.generated - acc.received - sum(acc.dropped.values())
    places = Counter(acc.place.values())
    located = sum(places.values())
    if located != in_flight:  # drops of unreadable frames carry no seq to match
        places["unknown"] = in_flight - located
    return {
        "sent": acc.generated,
        "delivered": acc.received,
        "in_flight": in_flight,
        "in_flight_at": dict(sorted(places.items())),
        "skb_built": acc.skb_built,
        "queued_on_socket": acc.skb_queued,
        "ipi": {"sent": acc.ipi_sent, "delivered": acc.ipi_delivered, "merged": acc.ipi_merged},
        "handler_runs": acc.handler_runs,
        "handler": {
            "empty_runs": acc.empty_runs,
            "max_drained": acc.max_drained,
            "mean_drained": (
                acc.drained / (acc.handler_runs - acc.napi_irqs)
                if acc.handler_runs > acc.napi_irqs
                else None
            ),
            "polls": acc.polls,
            "max_per_poll": acc.poll_max,
            "mean_per_poll": acc.poll_drained / acc.polls if acc.polls else None,
            "interrupt_ns_mean": {
                core: acc.irq_ns[core] / acc.irq_count[core] for core in sorted(acc.irq_count)
            },
        },
        "ring": {"high_water": acc.ring_high, "full_events": acc.ring_full},
        "socket": {"rmem_high_water": acc.rmem_high, "queue_high_water": acc.queue_high},
        "latency_ns": {
            "p50": latencies.percentile(50),
            "p99": latencies.percentile(99),
            "max": latencies.maximum,
            "mean": latencies.mean(),
        },
        "send_time_ns_mean": acc.syscall_ns / acc.syscalls if acc.syscalls else None,
    }


def _us(ns: float | None) -> str:
    return "-" if ns is None else f"{ns / 1000:.3f} us"


def _rows(rows: Iterable[tuple[str, str]]) -> list[str]:
    items = list(rows)
    width = max(len(k) for k, _ in items)
    return [f"  {k.ljust(width)}  {v}" for k, v in items]


def render_summary(summary: TraceSummary) -> str:
    """The human-readable summary."""
    d = summary.data
    lines = [
        f"{d['trace']}: mintactors {d['mintactors_version']} trace, level {d['level']}, "
        f"{d['config_source']} (seed {d['seed']}, {d['policy']}, {d['profile']})",
    ]
    end = d["end"]
    span = d["span_ns"]
    if end is not None:
        lines.append(f"run ended: {end['reason']} at t = {_us(end['t_ns'])}; {d['lines']} lines")
    else:
        lines.append(
            f"run did not finish (no run_end{', last line truncated' if d['truncated'] else ''}); "
            f"{d['lines']} lines up to t = {_us(span['last'])}"
        )
    dropped = d["dropped"]
    drop_text = ", ".join(f"{k} {v}" for k, v in dropped.items())
    drops = f"{sum(dropped.values())}" + (f"  ({drop_text})" if drop_text else "")
    lines.append("packets")
    if d["level"] != "full":
        lines += _rows([("dropped", drops), ("access violations", str(d["access_violations"]))])
        lines.append(
            "  (a summary-level trace holds only drops and violations: sent, delivered, "
            "in flight, IPIs, handler runs, ring and socket levels and latencies need "
            "--trace full)"
        )
    else:
        lines += _full_rows(d, drops)
    if d.get("store_buffers"):
        lines.append("store buffers (memory model tso)")
        lines += _rows(
            (
                core,
                f"{c['buffered']} stores, {c['drained']} drained "
                f"({c['drained_by_fence']} by a fence), high-water {c['high_water']}, "
                f"{c['stalls']} stalls ({_us(c['stall_ns'])}), "
                f"{c['fences']} fences waiting {_us(c['fence_wait_ns'])}",
            )
            for core, c in d["store_buffers"].items()
        )
    lines.append("events by actor")
    for actor, kinds in d["events"].items():
        listing = ", ".join(f"{kind} {n}" for kind, n in kinds.items())
        lines.append(f"  {actor}: {listing}")
    return "\n".join(lines)


def _full_rows(d: dict[str, Any], drops: str) -> list[str]:
    where = ", ".join(f"{k} {v}" for k, v in d["in_flight_at"].items())
    ipi = d["ipi"]
    handler = d["handler"]
    lat = d["latency_ns"]
    irq = ", ".join(f"{core} {_us(ns)}" for core, ns in handler["interrupt_ns_mean"].items())
    mean_drained = handler["mean_drained"]
    lines = _rows(
        [
            ("sent", str(d["sent"])),
            ("delivered", str(d["delivered"])),
            ("dropped", drops),
            ("in flight", str(d["in_flight"]) + (f"  ({where})" if where else "")),
            ("skbs built by the driver", str(d["skb_built"]) + "  (handed to netif_rx)"),
            ("skbs queued on the socket", str(d["queued_on_socket"])),
            ("access violations", str(d["access_violations"])),
        ]
    )
    lines.append("interrupts")
    lines += _rows(
        [
            (
                "IPIs sent / delivered / merged",
                f"{ipi['sent']} / {ipi['delivered']} / {ipi['merged']}",
            ),
            (
                "handler runs",
                f"{d['handler_runs']}  ({handler['empty_runs']} found the ring empty)"
                if not handler["polls"]
                else f"{d['handler_runs']}  (hard IRQs: each schedules a NAPI poll)",
            ),
            *(
                []
                if handler["polls"]
                else [
                    (
                        "frames per run, mean / max",
                        ("-" if mean_drained is None else f"{mean_drained:.2f}")
                        + f" / {handler['max_drained']}",
                    )
                ]
            ),
            ("interrupt time per run, mean", irq or "-"),
        ]
        + (
            [
                (
                    "NAPI polls, frames per poll mean / max",
                    f"{handler['polls']}, "
                    + (
                        "-"
                        if handler["mean_per_poll"] is None
                        else f"{handler['mean_per_poll']:.2f}"
                    )
                    + f" / {handler['max_per_poll']}",
                )
            ]
            if handler["polls"]
            else []
        )
    )
    lines.append("queues")
    lines += _rows(
        [
            (
                "RX ring high-water mark",
                f"{d['ring']['high_water']} descriptors  "
                f"({d['ring']['full_events']} frames found it full)",
            ),
            (
                "socket buffer high-water mark",
                f"{d['socket']['rmem_high_water']} bytes, {d['socket']['queue_high_water']} skbs",
            ),
        ]
    )
    lines.append("timing")
    lines += _rows(
        [
            ("send processing time, mean", _us(d["send_time_ns_mean"])),
            ("latency p50 / p99 / max", " / ".join(_us(lat[k]) for k in ("p50", "p99", "max"))),
            ("latency mean", _us(lat["mean"])),
        ]
    )
    return lines
