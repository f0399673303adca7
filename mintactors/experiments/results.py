"""A run's results: packet accounting, derived figures and every component's counters.

Accounting is checked, not assumed. Each packet the generator handed to the system
call must be, at the end, delivered to the application, dropped with a named reason,
or in flight. "In flight" is counted where the packets are, not computed as a
remainder: frames held by the ring engine, frames the ring posted that the driver
has not taken, the frame the driver holds, skbs queued in the socket, the skb the
application is processing, and packet-carrying messages still in transit. If those
do not add up to what was sent, :class:`AccountingError` is raised.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import attrs

from mintactors._version import __version__
from mintactors.errors import SimulationError
from mintactors.histogram import Histogram
from mintactors.machine import Machine
from mintactors.messages import FrameArrived, NetifReceive, PostFrame, SkbDelivered, SystemCall
from mintactors.runtime import RunResult, to_jsonable

__all__ = ["AccountingError", "account", "collect_results", "percentile"]

_CARRIERS = (SystemCall, FrameArrived, PostFrame, NetifReceive, SkbDelivered)


class AccountingError(SimulationError):
    """Sent packets do not equal delivered + dropped + in flight: a model bug."""


def percentile(values: Sequence[int], q: float) -> int | None:
    """The nearest-rank ``q``-th percentile (0 < q <= 100) of ``values``, or None."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def account(machine: Machine) -> dict[str, Any]:
    """Where every sent packet is; raises :class:`AccountingError` on a mismatch."""
    ring_stats = machine.ring.statistics()
    driver_stats = machine.driver.statistics()
    transit = sum(
        1 for _, _, message in machine.simulation.pending() if isinstance(message, _CARRIERS)
    )
    in_flight = {
        "ring_engine": machine.ring.frames_held,
        "ring_memory": ring_stats.frames_posted - driver_stats.frames_taken,
        "driver": machine.driver.holding,
        "socket_queue": len(machine.socket.queue),
        "app": int(machine.app.holding is not None),
        "in_transit": transit,
    }
    dropped: dict[str, int] = {}
    mechanism = machine.mechanism.statistics()
    nic_missed = machine.nic.statistics().mpc if machine.nic is not None else 0
    for reason, count in (
        ("no_descriptor", mechanism.dropped_no_descriptor + nic_missed),
        ("rcvbuf_full", machine.socket.statistics().rcvbuf_errors),
        *machine.driver.dropped.items(),
        *machine.app.dropped.items(),
    ):
        if count:
            dropped[reason] = dropped.get(reason, 0) + count
    sent = machine.generator.statistics().sent
    if machine.link is not None:
        sent += machine.link.statistics().sent
    delivered = machine.app.statistics().received
    total_in_flight = sum(in_flight.values())
    balance = delivered + sum(dropped.values()) + total_in_flight
    if balance != sent or any(v < 0 for v in in_flight.values()):
        raise AccountingError(
            f"packet accounting does not add up: sent {sent}, delivered {delivered}, "
            f"dropped {dropped}, in flight {in_flight}"
        )
    return {
        "sent": sent,
        "delivered": delivered,
        "dropped": dict(sorted(dropped.items())),
        "in_flight": total_in_flight,
        "in_flight_detail": in_flight,
    }


def _statistics(machine: Machine) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "memory": machine.memory.statistics(),
        "rx_ring": machine.ring.statistics(),
        "generator": attrs.evolve(
            machine.generator.statistics(), send_ns=(), send_ns_histogram=Histogram()
        ),
        "mechanism": machine.mechanism.statistics(),
        "driver": machine.driver.statistics(),
        "socket": machine.socket.statistics(),
        "app": attrs.evolve(machine.app.statistics(), latencies_ns=Histogram()),
    }
    for core in machine.cores:
        stats[f"core{core.core_id}"] = core.statistics()
    for apic in machine.apics:
        stats[f"apic{apic.apic_id}"] = apic.statistics()
    if machine.link is not None:
        stats["link"] = machine.link.statistics()
    if machine.nic is not None:
        stats["nic"] = machine.nic.statistics()
    out = to_jsonable(stats)
    out["generator"].pop("send_ns")
    out["generator"].pop("send_ns_histogram")
    out["app"].pop("latencies_ns")
    return dict(out)


def collect_results(machine: Machine, run: RunResult) -> dict[str, Any]:
    """The ``results.json`` record of a finished run."""
    config = machine.config
    cfg_machine = config.machine
    debug_core = cfg_machine.node(cfg_machine.debug_node).cores[0]
    target_core = cfg_machine.node(cfg_machine.target_node).cores[0]
    sender = machine.apics[debug_core].statistics()
    receiver = machine.apics[target_core].statistics()
    generator = machine.generator.statistics()
    app = machine.app.statistics()
    socket = machine.socket.statistics()
    accounting = account(machine)
    sends = generator.send_ns_histogram
    latencies = app.latencies_ns
    first_send, last_send, bytes_sent = (
        generator.first_send_ns,
        generator.last_return_ns,
        generator.bytes_sent,
    )
    if machine.link is not None:  # a real NIC: the traffic came over the link
        link = machine.link.statistics()
        first_send, bytes_sent = link.first_send_ns, link.bytes_sent
        last_send = machine.link.wire_free_ns if link.sent else None
    span = (
        app.last_receive_ns - first_send
        if app.last_receive_ns is not None and first_send is not None
        else 0
    )
    offered_span = last_send - first_send if last_send is not None and first_send is not None else 0
    profile = config.costs_profile
    return {
        "mintactors_version": __version__,
        "config_source": config.source,
        "seed": config.simulation.seed,
        "policy": config.simulation.policy,
        "profile": {"name": profile.name, "version": profile.version},
        "end": {"reason": run.reason, "t_ns": run.now_ns, "detail": run.detail},
        **accounting,
        "reached_socket": socket.queued,
        "success_rate": socket.queued / accounting["sent"] if accounting["sent"] else None,
        "ipi": {
            "sent": sender.ipi_sent,
            "delivered": receiver.ipi_received - receiver.ipi_merged,
            "merged": receiver.ipi_merged,
        },
        "handler_runs": machine.driver.statistics().handler_runs,
        "send_time_ns_mean": sends.mean(),
        "throughput_gbps": app.bytes_received * 8 / span if span > 0 else None,
        "offered_gbps": bytes_sent * 8 / offered_span if offered_span > 0 else None,
        # Bounded memory: exact max and mean; p50 and p99 exact unless the run saw
        # more than EXACT_VALUES distinct latencies (then within RELATIVE_PRECISION).
        "latency_ns": {
            "p50": latencies.percentile(50),
            "p99": latencies.percentile(99),
            "max": latencies.maximum,
            "mean": latencies.mean(),
        },
        "messages_delivered": run.delivered,
        "handoffs": run.handoffs,
        "statistics": _statistics(machine),
    }
