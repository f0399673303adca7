"""Intel 8254x (e1000) register offsets and bit values the model uses, in one place.

Every value names its source, as collected in domain.md 1.2: QEMU's
``hw/net/e1000x_regs.h`` and the Linux driver's ``e1000_hw.h`` ([src], read), or
the 8254x manual ([mem], recalled, not re-read). The Mint environment has no NIC: the
debug-support mechanism and the driver use the same offsets inside the register
block emulated in shared memory (:class:`~mintactors.hardware.nic.NicLayout`).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ICR_LSC",
    "ICR_RXDMT0",
    "ICR_RXO",
    "ICR_RXSEQ",
    "ICR_RXT0",
    "ICR_TXDW",
    "IMS_ENABLE_MASK",
    "ITR_UNIT_NS",
    "REGISTERS",
]

#: Register offsets in the 8254x register space. ICR, IMS, RCTL, MPC, RNBC:
#: ``e1000x_regs.h`` [src]; the RX ring registers RDBAL .. RDT: the manual [mem].
REGISTERS: Final = {
    "CTRL": 0x0000,  # device control
    "STATUS": 0x0008,  # device status (read by E1000_WRITE_FLUSH)
    "ICR": 0x00C0,  # interrupt cause read (read-to-clear)
    "ICS": 0x00C8,  # interrupt cause set: writing 1 bits latches those causes
    "IMS": 0x00D0,  # interrupt mask set: writing 1 bits enables; reads the mask
    "IMC": 0x00D8,  # interrupt mask clear: writing 1 bits disables
    "RCTL": 0x0100,  # receive control
    "RDBAL": 0x2800,  # ring base, low 32 bits
    "RDBAH": 0x2804,  # ring base, high 32 bits
    "RDLEN": 0x2808,  # ring length in bytes, a multiple of 128
    "RDH": 0x2810,  # head: the next descriptor hardware fills
    "RDT": 0x2818,  # tail: one past the last descriptor hardware may fill
    "MPC": 0x4010,  # missed packets count
    "RNBC": 0x40A0,  # receive no buffers count
}

# ICR / IMS cause bits (``E1000_ICR_*``, ``e1000x_regs.h`` [src]).
ICR_TXDW: Final = 0x01  # transmit descriptor written back
ICR_LSC: Final = 0x04  # link status change
ICR_RXSEQ: Final = 0x08  # receive sequence error
ICR_RXDMT0: Final = 0x10  # receive descriptors below the minimum threshold
ICR_RXO: Final = 0x40  # receiver overrun: a frame found no free descriptor
ICR_RXT0: Final = 0x80  # receiver timer: a descriptor was written back

#: The causes the Linux e1000 driver enables in IMS (``IMS_ENABLE_MASK``,
#: ``e1000_hw.h`` [src]): RXT0 | TXDW | RXDMT0 | RXSEQ | LSC. RXO is not among them.
IMS_ENABLE_MASK: Final = ICR_RXT0 | ICR_TXDW | ICR_RXDMT0 | ICR_RXSEQ | ICR_LSC

#: ITR counts in 256 ns units (``E1000_INTR_THROTTLING_NS_RES``, ``e1000x_regs.h`` [src]).
ITR_UNIT_NS: Final = 256
