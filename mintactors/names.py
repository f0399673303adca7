"""The actor names of a built machine, fixed so traces and tools can rely on them.

=============  ================================================================
``core<N>``    CPU core N (:class:`~mintactors.hardware.cpu.CpuCore`)
``apic<N>``    its local APIC
``memory``     physical memory with the Mint partitions
``rx_ring``    the emulated NIC's receive ring engine
``generator``  the interrupt generator (application, debug-support node)
``mechanism``  the debug-support system call (kernel, debug-support node)
``driver``     the NIC driver's receive handler (kernel, target node)
``socket``     the receiving UDP socket (kernel, target node)
``app``        the receiving application (target node)
``link``       with ``nic.source = "e1000"``: the far host sending the traffic
``nic``        with ``nic.source = "e1000"``: the real NIC's receive side
=============  ================================================================

Threads are not actors: ``ksoftirqd/<N>`` names the softirq thread of core N in
the core's statistics (its CPU time, :func:`ksoftirqd`).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "APP",
    "DRIVER",
    "GENERATOR",
    "LINK",
    "MECHANISM",
    "MEMORY",
    "NIC",
    "RX_RING",
    "SOCKET",
    "apic",
    "core",
    "ksoftirqd",
]

MEMORY: Final = "memory"
RX_RING: Final = "rx_ring"
GENERATOR: Final = "generator"
MECHANISM: Final = "mechanism"
DRIVER: Final = "driver"
SOCKET: Final = "socket"
APP: Final = "app"
LINK: Final = "link"
NIC: Final = "nic"


def core(n: int) -> str:
    """The actor name of CPU core ``n``."""
    return f"core{n}"


def apic(n: int) -> str:
    """The actor name of core ``n``'s local APIC."""
    return f"apic{n}"


def ksoftirqd(n: int) -> str:
    """The name of core ``n``'s softirq thread (a thread the core schedules, not an actor)."""
    return f"ksoftirqd/{n}"
