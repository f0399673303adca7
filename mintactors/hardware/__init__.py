"""The machine's hardware, as pure components: cores, local APICs, memory and the
cores' store buffers, the NIC ring, and a real NIC with its Ethernet link; and the
8254x register offsets and bits."""

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
from mintactors.hardware.registers import (
    ICR_LSC,
    ICR_RXDMT0,
    ICR_RXO,
    ICR_RXSEQ,
    ICR_RXT0,
    ICR_TXDW,
    IMS_ENABLE_MASK,
    ITR_UNIT_NS,
    REGISTERS,
)
from mintactors.hardware.rx_ring import RingState, RxRing, RxRingStatistics
from mintactors.hardware.store_buffer import BufferedStore, StoreBuffer, StoreBufferStatistics

__all__ = [
    "AccessViolation",
    "ApicStatistics",
    "BufferedStore",
    "CoreState",
    "CoreStatistics",
    "CpuCore",
    "E1000Receiver",
    "E1000Statistics",
    "ICR_LSC",
    "ICR_RXDMT0",
    "ICR_RXO",
    "ICR_RXSEQ",
    "ICR_RXT0",
    "ICR_TXDW",
    "IMS_ENABLE_MASK",
    "ITR_UNIT_NS",
    "LinkPartner",
    "LinkStatistics",
    "LocalApic",
    "MemoryRegion",
    "MemoryStatistics",
    "NicLayout",
    "PhysicalMemory",
    "REGISTERS",
    "RingState",
    "RxDescriptor",
    "RxRing",
    "RxRingStatistics",
    "StoreBuffer",
    "StoreBufferStatistics",
]
