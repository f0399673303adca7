"""A run's results: packet accounting, derived figures and every component's counters.

Accounting is checked, not assumed. Each packet the NIC source sent must be, at the
end, delivered to the application, dropped with a named reason, or in flight. "In
flight" is counted where the packets are, not computed as a remainder: frames held
by the ring engine, frames the ring posted that the driver has not taken, the frame
the driver holds, skbs queued in the socket, the skb the application is processing,
and packet-carrying messages still in transit. If those do not add up to what was
sent, :class:`AccountingError` is raised.

:class:`RunResults` is the typed record every consumer reads (the summary table,
sweep columns, tests); :meth:`RunResults.to_json` is ``results.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from mintactors._version import __version__
from mintactors.errors import SimulationError
from mintactors.histogram import Histogram
from mintactors.machine import Machine
from mintactors.messages import NetifReceive, PostFrame, SkbDelivered
from mintactors.runtime import RunResult, to_jsonable

__all__ = [
    "Accounting",
    "AccountingError",
    "IpiCounts",
    "LatencySummary",
    "ProfileId",
    "RunEnd",
    "RunResults",
    "account",
    "collect_results",
]

#: Messages that carry a packet between the actors every machine has.
_CARRIERS = (PostFrame, NetifReceive, SkbDelivered)


class AccountingError(SimulationError):
    """Sent packets do not equal delivered + dropped + in flight: a model bug."""


@attrs.frozen
class Accounting:
    """Where every packet sent is."""

    sent: int
    delivered: int
    dropped: dict[str, int]
    in_flight: int
    in_flight_detail: dict[str, int]


@attrs.frozen
class ProfileId:
    """The cost profile a run used."""

    name: str
    version: int


@attrs.frozen
class RunEnd:
    """How the run ended (``idle``, ``until`` or ``stopped``), when, and why."""

    reason: str
    t_ns: int
    detail: str


@attrs.frozen
class IpiCounts:
    """IPIs the debug-support core sent, and how the target's APIC took them."""

    sent: int
    delivered: int
    merged: int


@attrs.frozen
class LatencySummary:
    """Send-to-receive latency of the packets delivered, in ns."""

    p50: int | None
    p99: int | None
    max: int | None
    mean: float | None


@attrs.frozen
class RunResults:
    """Everything ``results.json`` holds, typed.

    Two counts say how far packets got on the receive path: ``skb_built`` is the
    skbs the driver built and handed to ``netif_rx`` (the driver statistics'
    ``frames_handed_up``: the paper's "socket buffer" is this skb), and
    ``queued_on_socket`` the skbs the UDP socket queued (its ``queued``; a full
    receive buffer refuses the rest, ``rcvbuf_full``). ``success_rate`` is
    ``queued_on_socket / sent``.
    """

    mintactors_version: str
    config_source: str
    seed: int
    policy: str
    profile: ProfileId
    end: RunEnd
    sent: int
    delivered: int
    dropped: dict[str, int]
    in_flight: int
    in_flight_detail: dict[str, int]
    skb_built: int
    queued_on_socket: int
    success_rate: float | None
    ipi: IpiCounts
    handler_runs: int
    send_time_ns_mean: float | None
    throughput_gbps: float | None
    offered_gbps: float | None
    latency_ns: LatencySummary
    messages_delivered: int
    #: Trio task switches (one per delivery to another actor than the last).
    handoffs: int
    statistics: dict[str, Any]
    #: Per oracle: its verdict (filled in by the run pipeline).
    oracles: dict[str, Any] = attrs.field(factory=dict)
    #: The config as run (filled in by the run pipeline).
    config: dict[str, Any] = attrs.field(factory=dict)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The top-level keys of ``results.json`` (a sweep column starts with one)."""
        return tuple(f.name for f in attrs.fields(cls))

    def to_json(self) -> dict[str, Any]:
        """The record as ``results.json`` writes it (same keys, plain JSON values)."""
        out: dict[str, Any] = attrs.asdict(self, recurse=True)
        return out

    def dropped_total(self) -> int:
        """Packets dropped, whatever the reason."""
        return sum(self.dropped.values())


def account(machine: Machine) -> Accounting:
    """Where every sent packet is; raises :class:`AccountingError` on a mismatch."""
    source = machine.source
    ring_stats = machine.ring.statistics()
    driver_stats = machine.driver.statistics()
    carriers = (*_CARRIERS, *source.carriers)
    transit = sum(
        1 for _, _, message in machine.simulation.pending() if isinstance(message, carriers)
    )
    in_flight = {
        "ring_engine": machine.ring.frames_held,
        "ring_memory": ring_stats.frames_posted - driver_stats.frames_taken,
        "driver": machine.driver.holding,
        "backlog": len(machine.driver.softnet.backlog) + len(machine.driver.softnet.process_queue),
        "stack": machine.driver.softnet.in_stack,
        "socket_queue": len(machine.socket.queue),
        "app": int(machine.app.holding is not None),
        "in_transit": transit,
    }
    dropped: dict[str, int] = {}
    for reason, count in (
        *source.dropped().items(),
        ("rcvbuf_full", machine.socket.statistics().rcvbuf_errors),
        *machine.driver.dropped.items(),
        *machine.app.dropped.items(),
    ):
        if count:
            dropped[reason] = dropped.get(reason, 0) + count
    sent = source.sent()
    delivered = machine.app.statistics().received
    total_in_flight = sum(in_flight.values())
    balance = delivered + sum(dropped.values()) + total_in_flight
    if balance != sent or any(v < 0 for v in in_flight.values()):
        raise AccountingError(
            f"packet accounting does not add up: sent {sent}, delivered {delivered}, "
            f"dropped {dropped}, in flight {in_flight}"
        )
    return Accounting(sent, delivered, dict(sorted(dropped.items())), total_in_flight, in_flight)


def _statistics(machine: Machine) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "memory": machine.memory.statistics(),
        "rx_ring": machine.ring.statistics(),
        **machine.source.statistics(),
        "driver": machine.driver.statistics(),
        "softnet": machine.driver.softnet.statistics(),
        "socket": machine.socket.statistics(),
        "app": attrs.evolve(machine.app.statistics(), latencies_ns=Histogram()),
    }
    for core in machine.cores:
        stats[f"core{core.core_id}"] = core.statistics()
    for apic in machine.apics:
        stats[f"apic{apic.apic_id}"] = apic.statistics()
    for buffer in machine.store_buffers:  # memory model tso only
        stats[f"store_buffer_{buffer.core}"] = buffer.statistics()
    out: Mapping[str, Any] = to_jsonable(stats)
    cleaned = {name: dict(fields) for name, fields in out.items()}
    cleaned.get("generator", {}).pop("send_ns", None)
    cleaned.get("generator", {}).pop("send_ns_histogram", None)
    cleaned["app"].pop("latencies_ns")
    return cleaned


def collect_results(machine: Machine, run: RunResult) -> RunResults:
    """The results record of a finished run (without oracles and config echo)."""
    config = machine.config
    sender = machine.apics[machine.debug_core].statistics()
    receiver = machine.apics[machine.target_core].statistics()
    app = machine.app.statistics()
    socket = machine.socket.statistics()
    accounting = account(machine)
    latencies = app.latencies_ns
    offered = machine.source.offered()
    first_send = offered.first_send_ns
    span = (
        app.last_receive_ns - first_send
        if app.last_receive_ns is not None and first_send is not None
        else 0
    )
    last_send = offered.last_send_ns
    offered_span = last_send - first_send if last_send is not None and first_send is not None else 0
    profile = config.costs_profile
    sent = accounting.sent
    return RunResults(
        mintactors_version=__version__,
        config_source=config.source,
        seed=config.simulation.seed,
        policy=config.simulation.policy,
        profile=ProfileId(profile.name, profile.version),
        end=RunEnd(run.reason, run.now_ns, run.detail),
        sent=sent,
        delivered=accounting.delivered,
        dropped=accounting.dropped,
        in_flight=accounting.in_flight,
        in_flight_detail=accounting.in_flight_detail,
        skb_built=machine.driver.statistics().frames_handed_up,
        queued_on_socket=socket.queued,
        success_rate=socket.queued / sent if sent else None,
        ipi=IpiCounts(
            sent=sender.ipi_sent,
            delivered=receiver.ipi_received - receiver.ipi_merged,
            merged=receiver.ipi_merged,
        ),
        handler_runs=machine.driver.statistics().handler_runs,
        send_time_ns_mean=machine.source.send_time_ns_mean(),
        throughput_gbps=app.bytes_received * 8 / span if span > 0 else None,
        offered_gbps=offered.bytes_sent * 8 / offered_span if offered_span > 0 else None,
        # Bounded memory: exact max and mean; p50 and p99 exact unless the run saw
        # more than EXACT_VALUES distinct latencies (then within RELATIVE_PRECISION).
        latency_ns=LatencySummary(
            p50=latencies.percentile(50),
            p99=latencies.percentile(99),
            max=latencies.maximum,
            mean=latencies.mean(),
        ),
        messages_delivered=run.delivered,
        handoffs=run.handoffs,
        statistics=_statistics(machine),
    )
