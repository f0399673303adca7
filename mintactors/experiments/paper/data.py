"""The paper's evaluation numbers, and how its packet sizes map onto the model.

The paper (summarised in ``shared/paper.md``) gives sizes in KB. The model needs
frame lengths in bytes (Ethernet header included, FCS excluded, as pktgen counts)
and a receive-buffer size that holds the frame, since the e1000 driver drops a
frame that spans two buffers. The mapping:

======= =========== ============ ==============================================
size    frame bytes buffer bytes why
======= =========== ============ ==============================================
1 KB    1024        2048         KiB
1.5 KB  1514        2048         the paper's "1.5 KB (MTU)": a full 1500-byte MTU
                                 frame, 1500 + 14-byte Ethernet header
4 KB    4096        4096         KiB
8 KB    8192        8192         KiB, the paper's "jumbo" size
12 KB   12288       16384        KiB; no 12 KiB e1000 buffer exists
16 KB   16384       16384        KiB, "the NIC's receive-buffer size" (one frame
                                 fills one 16384-byte buffer; a real 8254x stops
                                 at 16128-byte frames, MTU 16110)
======= =========== ============ ==============================================

Traffic in Gb/s counts frame bytes (8 bits each, 10**9 bits per Gb), so the
per-packet receive time Table 2 implies for a size is ``frame bits / traffic``.
"""

from __future__ import annotations

from typing import Final

import attrs

__all__ = [
    "FIG9_SIZES",
    "PAPER_SIZES",
    "PaperSize",
    "TABLE1_US",
    "TABLE2_GBPS",
    "TABLE2_REAL_NIC_GBPS",
    "implied_packet_ns",
    "paper_size",
]


@attrs.frozen
class PaperSize:
    """One of the paper's packet sizes and the frame that stands for it."""

    kb: str
    frame_bytes: int
    buffer_bytes: int

    @property
    def frame_bits(self) -> int:
        """Bits of one frame, as traffic counts them."""
        return self.frame_bytes * 8


PAPER_SIZES: Final = (
    PaperSize("1", 1024, 2048),
    PaperSize("1.5", 1514, 2048),
    PaperSize("4", 4096, 4096),
    PaperSize("8", 8192, 8192),
    PaperSize("12", 12288, 16384),
    PaperSize("16", 16384, 16384),
)

#: Table 1: send-processing time per packet, microseconds.
TABLE1_US: Final = {"1": 0.175, "1.5": 0.205, "4": 0.766, "8": 1.462, "12": 2.131, "16": 3.664}

#: Table 2: the most traffic the driver handles with the Mint environment, Gb/s.
TABLE2_GBPS: Final = {"1": 4.6, "1.5": 6.3, "4": 17.4, "8": 22.7, "12": 29.6, "16": 30.6}

#: Table 2's real-NIC row: a real 1 Gb/s NIC at 1.5 KB, Gb/s.
TABLE2_REAL_NIC_GBPS: Final = 0.92

#: Figure 9's sizes.
FIG9_SIZES: Final = ("1.5", "8", "16")


def paper_size(kb: str) -> PaperSize:
    """The size labelled ``kb`` (``"1.5"``, ...)."""
    for size in PAPER_SIZES:
        if size.kb == kb:
            return size
    raise KeyError(f"no paper size {kb!r}; sizes: {[s.kb for s in PAPER_SIZES]}")


def implied_packet_ns(kb: str) -> float:
    """The per-packet receive time Table 2 implies for ``kb``: frame bits / traffic."""
    return paper_size(kb).frame_bits / TABLE2_GBPS[kb]
