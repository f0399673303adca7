"""A real 1 Gb/s-class e1000 NIC as the source, for comparing Mint with hardware.

The ``[generator]`` traffic comes from a host at the far end of an Ethernet link
at ``link_mbps``; the NIC DMAs each frame into the same ring at ``dma_mb_s`` and
raises its interrupt through the target core's local APIC, throttled by ``itr``
(:mod:`mintactors.hardware.e1000`, :mod:`mintactors.hardware.ethernet`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import attrs

from mintactors import names
from mintactors.fields import MAX_COST_NS, between, checked, duration_ns
from mintactors.hardware.e1000 import E1000Receiver, dma_time
from mintactors.hardware.ethernet import LinkPartner
from mintactors.messages import FrameArrived
from mintactors.sources._base import (
    NIC_SOURCES,
    FrameObserver,
    InstalledSource,
    Offered,
    SourceWiring,
)

__all__ = ["E1000Source", "LinkTraffic"]


class LinkTraffic:
    """The link partner and the NIC inside a built machine."""

    start: tuple[str, ...] = (names.LINK,)
    packet_actor: str | None = None
    carriers: tuple[type, ...] = (FrameArrived,)

    def __init__(self, link: LinkPartner, nic: E1000Receiver) -> None:
        self.link = link
        self.nic = nic

    def sent(self) -> int:
        """Frames put on the wire."""
        return self.link.statistics().sent

    def dropped(self) -> Mapping[str, int]:
        """Frames the NIC missed for want of a descriptor (MPC)."""
        return {"no_descriptor": self.nic.statistics().mpc}

    def offered(self) -> Offered:
        """First frame on the wire until the wire was free after the last."""
        stats = self.link.statistics()
        last = self.link.wire_free_ns if stats.sent else None
        return Offered(stats.first_send_ns, last, stats.bytes_sent)

    def send_time_ns_mean(self) -> float | None:
        """A NIC has no system call to time."""
        return None

    def interrupts_raised(self) -> int:
        """Interrupt messages sent."""
        return self.nic.statistics().interrupts

    def may_raise(self, now_ns: int) -> bool:
        """A cause held by the throttle timer is raised when the interval ends."""
        return self.nic.timer_running and self.nic.held > 0

    def statistics(self) -> Mapping[str, object]:
        """The link's and the NIC's counters."""
        return {names.LINK: self.link.statistics(), names.NIC: self.nic.statistics()}

    def observe_generated(self, observer: FrameObserver) -> None:
        """Every frame put on the wire."""
        self.link.on_generate = observer


@NIC_SOURCES.register("e1000")
@attrs.frozen
class E1000Source:
    """A real 8254x NIC behind an Ethernet link fills the ring."""

    name: ClassVar[str] = "e1000"
    # The model raises its interrupt without reading IMS (issue: masking drivers).
    emulates_ims: ClassVar[bool] = False
    device_dma: ClassVar[bool] = True

    link_mbps: int = checked(1000, between(10, 400_000))
    # PCI-X at 133 MHz x 64 bits, the bus of the 82545/82546 (8254x) parts.
    dma_mb_s: int = checked(1064, between(1, 1_000_000))
    # 4000 interrupts/s: where InterruptThrottleRate = 3 settles for bulk traffic.
    itr: int = checked(976, between(0, 65535))
    interrupt_latency_ns: int = checked(500, duration_ns(0, MAX_COST_NS))

    def describe(self) -> str:
        """``e1000 at L Mb/s, ITR i``."""
        return f"e1000 NIC at {self.link_mbps} Mb/s, ITR {self.itr}"

    def install(self, wiring: SourceWiring) -> InstalledSource:
        """The link partner sending the traffic and the NIC receiving it."""
        link = LinkPartner(
            nic=names.NIC,
            frames=wiring.frames,
            instants=wiring.instants,
            count=wiring.count,
            link_mbps=self.link_mbps,
            note_frames=wiring.trace_frames,
        )
        nic = E1000Receiver(
            name=names.NIC,
            ring=names.RX_RING,
            apic=names.apic(wiring.target_core),
            vector=wiring.vector,
            dma_ns=dma_time(self.dma_mb_s),
            itr=self.itr,
            interrupt_latency_ns=self.interrupt_latency_ns,
        )
        wiring.add(names.LINK, link)
        wiring.add(names.NIC, nic)
        return LinkTraffic(link, nic)
