"""The machine's hardware, as pure components: cores, local APICs, memory, the NIC ring."""

from mintactors.hardware.apic import ApicStatistics, LocalApic
from mintactors.hardware.cpu import CoreState, CoreStatistics, CpuCore
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
    "LocalApic",
    "MemoryRegion",
    "MemoryStatistics",
    "NicLayout",
    "PhysicalMemory",
    "RxDescriptor",
    "RxRing",
    "RxRingStatistics",
]
