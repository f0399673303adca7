"""The machine's hardware, as pure components: cores, local APICs, memory, the NIC ring,
and a real NIC with its Ethernet link."""

from mintactors.hardware.apic import ApicStatistics, LocalApic
from mintactors.hardware.cpu import CoreState, CoreStatistics, CpuCore
from mintactors.hardware.e1000 import E1000Receiver, E1000Statistics
from mintactors.hardware.ethernet import LinkPartner, LinkStatistics
from mintactors.hardware.memory import (
    AccessViolation,
    MemoryRegion,
    MemoryStatistics,
    PhysicalMemory,
)
from mintactors.hardware.nic import NicLayout, RxDescriptor
from mintactors.hardware.rx_ring import RxRing, RxRingStatistics

__all__ = [
    "AccessViolation",
    "ApicStatistics",
    "CoreState",
    "CoreStatistics",
    "CpuCore",
    "E1000Receiver",
    "E1000Statistics",
    "LinkPartner",
    "LinkStatistics",
    "LocalApic",
    "MemoryRegion",
    "MemoryStatistics",
    "NicLayout",
    "PhysicalMemory",
    "RxDescriptor",
    "RxRing",
    "RxRingStatistics",
]
