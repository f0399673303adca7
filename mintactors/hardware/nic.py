"""Intel 8254x (e1000) receive structures: the legacy descriptor and the ring layout.

The legacy receive descriptor is 16 bytes, little-endian (8254x manual 3.2.3; QEMU
``hw/net/e1000x_regs.h``, ``struct e1000_rx_desc``):

====== ===== ================ =============================================
offset bytes field            written by
====== ===== ================ =============================================
0      8     ``buffer_addr``  driver: physical address of the data buffer
8      2     ``length``       hardware: bytes placed in this buffer
10     2     ``csum``         hardware: packet checksum
12     1     ``status``       hardware: DD, EOP, ... (table below)
13     1     ``errors``       hardware: CE, SE, SEQ, CXE, TCPE, IPE, RXE
14     2     ``special``      hardware: VLAN tag
====== ===== ================ =============================================

In the Mint debugging environment there is no NIC: the ring, its buffers and the
register block the driver writes (RDT and friends) all live in the memory range
shared by the two OS nodes. :class:`NicLayout` places them there.
"""

from __future__ import annotations

import struct
from typing import Final

import attrs

from mintactors.hardware.registers import REGISTERS

__all__ = [
    "DESCRIPTOR_LEN",
    "REGISTER_BLOCK_LEN",
    "STATUS_DD",
    "STATUS_EOP",
    "STATUS_IXSM",
    "STATUS_OFFSET",
    "VALID_BUFFER_SIZES",
    "NicLayout",
    "RxDescriptor",
]

DESCRIPTOR_LEN: Final = 16  # E1000_RING_DESC_LEN
STATUS_DD: Final = 0x01  # descriptor done
STATUS_EOP: Final = 0x02  # end of packet
STATUS_IXSM: Final = 0x04  # ignore checksum indication
#: RCTL.BSIZE choices: 2048 with BSEX=0; 4096, 8192, 16384 with BSEX=1 (domain.md 1.2).
VALID_BUFFER_SIZES: Final = (2048, 4096, 8192, 16384)

#: The emulated register block spans the highest register used (:data:`REGISTERS`),
#: page aligned.
REGISTER_BLOCK_LEN: Final = 0x5000

_DESCRIPTOR = struct.Struct("<QHHBBH")


@attrs.define(slots=True, unsafe_hash=True)
class RxDescriptor:
    """One legacy receive descriptor, decoded: a value, to be treated as read-only.

    Not a frozen class: drivers and the ring decode several a packet, and a frozen
    class's ``__init__`` costs about three times as much.
    """

    buffer_addr: int
    length: int = 0
    csum: int = 0
    status: int = 0
    errors: int = 0
    special: int = 0

    @property
    def done(self) -> bool:
        """DD: hardware has finished with this descriptor."""
        return bool(self.status & STATUS_DD)

    @property
    def end_of_packet(self) -> bool:
        """EOP: this descriptor holds the last buffer of a frame."""
        return bool(self.status & STATUS_EOP)

    def pack(self) -> bytes:
        """The 16 bytes as they sit in memory."""
        return _DESCRIPTOR.pack(
            self.buffer_addr, self.length, self.csum, self.status, self.errors, self.special
        )

    @classmethod
    def unpack(cls, data: bytes) -> RxDescriptor:
        """Decode 16 bytes of memory."""
        return cls(*_DESCRIPTOR.unpack(data))


#: Offset of the status byte inside a descriptor, for the DD-last write.
STATUS_OFFSET: Final = 12


@attrs.frozen
class NicLayout:
    """Where the emulated NIC's registers, descriptor ring and buffers sit in memory.

    The register block comes first, then the ring (``ring_size`` descriptors), then
    one buffer of ``buffer_size`` bytes per descriptor.

    Raises:
        ValueError: a size the 8254x cannot have (ring not a multiple of 8
            descriptors, since RDLEN is a multiple of 128 bytes; buffer size not one
            of :data:`VALID_BUFFER_SIZES`), or a misaligned base.
    """

    base: int
    ring_size: int
    buffer_size: int
    # Worked out once (a packet's trip asks for them a dozen times):
    #: Physical address of descriptor 0 (RDBAL/RDBAH).
    ring_base: int = attrs.field(init=False, eq=False, repr=False)
    #: RDLEN: bytes of descriptors.
    ring_bytes: int = attrs.field(init=False, eq=False, repr=False)
    #: Physical address of buffer 0, page aligned after the ring.
    buffers_base: int = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.ring_size < 8 or self.ring_size % 8 or self.ring_size > 65536:
            raise ValueError(
                f"ring size {self.ring_size}: must be a multiple of 8 between 8 and 65536 "
                "(RDLEN is a multiple of 128 bytes)"
            )
        if self.buffer_size not in VALID_BUFFER_SIZES:
            raise ValueError(
                f"buffer size {self.buffer_size}: must be one of {list(VALID_BUFFER_SIZES)}"
            )
        if self.base % 4096:
            raise ValueError(f"NIC layout base {self.base:#x} must be 4 KiB aligned")
        ring_base = self.base + REGISTER_BLOCK_LEN
        ring_bytes = self.ring_size * DESCRIPTOR_LEN
        object.__setattr__(self, "ring_base", ring_base)
        object.__setattr__(self, "ring_bytes", ring_bytes)
        object.__setattr__(self, "buffers_base", ring_base + -(-ring_bytes // 4096) * 4096)

    @property
    def end(self) -> int:
        """One past the last byte the layout uses."""
        return self.buffers_base + self.ring_size * self.buffer_size

    @property
    def total_bytes(self) -> int:
        """Bytes of shared memory the layout needs."""
        return self.end - self.base

    def register(self, name: str) -> int:
        """Physical address of register ``name`` (``RDT``, ``RDH``, ...)."""
        return self.base + REGISTERS[name]

    def descriptor(self, index: int) -> int:
        """Physical address of descriptor ``index``."""
        return self.ring_base + (index % self.ring_size) * DESCRIPTOR_LEN

    def buffer(self, index: int) -> int:
        """Physical address of the buffer the driver gives descriptor ``index``."""
        return self.buffers_base + (index % self.ring_size) * self.buffer_size

    def descriptors_for(self, frame_len: int) -> int:
        """How many buffers a frame of ``frame_len`` bytes occupies."""
        return max(1, -(-frame_len // self.buffer_size))
