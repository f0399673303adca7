"""What every receive driver shares: e1000's ring bookkeeping and its common routines.

A driver is a subclass of :class:`RxDriver` whose ``interrupt`` (the hard-IRQ
handler, ``e1000_intr``) and, for NAPI drivers, ``poll`` (``e1000_clean``) are
generator functions written against a :class:`~mintactors.kernel.drivers.context.DriverContext`.
The ring routines below read like their C counterparts in
``drivers/net/ethernet/intel/e1000/e1000_main.c``:

=============================  =====================================================
:meth:`configure`              ``e1000_configure_rx`` and the first refill
:meth:`alloc_rx_buffers`       ``e1000_alloc_rx_buffers``
:meth:`clean_rx_irq`           ``e1000_clean_rx_irq``
:meth:`desc_unused`            ``E1000_DESC_UNUSED``
=============================  =====================================================

Ring bookkeeping is e1000's: ``next_to_clean`` is the next descriptor to look at,
``next_to_use`` the next to refill; one slot always stays empty, so a full ring
holds ``ring_size - 1`` frames ... until RDT catches up (RDT is the last refilled
index, so hardware owns ``RDH .. RDT - 1`` and a ring of N holds N - 2 frames
between refills; see docs/model.md). Refills happen every ``refill_batch`` cleaned
descriptors (``E1000_RX_BUFFER_WRITE`` = 16) and once at the end of a clean.
"""

from __future__ import annotations

from enum import Enum
from typing import ClassVar

from mintactors.hardware.nic import RxDescriptor
from mintactors.kernel.drivers.context import DriverContext
from mintactors.kernel.drivers.ops import Code

__all__ = ["CLEAN_STEPS", "IrqReturn", "RxDriver"]

#: The steps the routines below mark (:meth:`RxDriver.clean_rx_irq`, :meth:`RxDriver.take`,
#: :meth:`RxDriver.alloc_rx_buffers`): every driver may be injected at them.
CLEAN_STEPS = ("status_read", "frame_copied", "skb_queued", "descriptor_returned", "tail_written")


class IrqReturn(Enum):
    """What a hard-IRQ handler returns (``irqreturn_t``)."""

    NONE = "IRQ_NONE"
    HANDLED = "IRQ_HANDLED"


class RxDriver:
    """Base class of receive drivers.

    Class attributes a driver sets:
        name: the ``driver.kind`` it answers to.
        steps: the step names its code marks with ``ctx.step`` (for ``[[inject]]``);
            by default those of the routines below. A step not declared here is a
            crash when the code reaches it, so a typo cannot silently disable an
            injection.
        masks_interrupts: it masks its interrupt through IMS/IMC (needs a NIC source
            that emulates them).
        napi: it schedules a NAPI poll; the kernel then calls :meth:`poll`.

    Args:
        ring_size: descriptors in the ring.
        refill_batch: cleaned descriptors between refills (``E1000_RX_BUFFER_WRITE``).
    """

    name: ClassVar[str] = ""
    steps: ClassVar[tuple[str, ...]] = CLEAN_STEPS
    masks_interrupts: ClassVar[bool] = False
    napi: ClassVar[bool] = False
    #: Descriptors one poll may clean (the NAPI weight, ``dev_rx_weight`` = 64).
    weight: ClassVar[int] = 64

    def __init__(self, *, ring_size: int, refill_batch: int = 16) -> None:
        self.count = ring_size
        self.refill_batch = refill_batch
        self.next_to_clean = 0
        self.next_to_use = 0
        self.discarding = False

    # -- what a driver writes --------------------------------------------------------

    def interrupt(self, ctx: DriverContext) -> Code[IrqReturn]:
        """The hard-IRQ handler (a generator function); runs with interrupts off."""
        raise NotImplementedError(f"{type(self).__name__} does not implement interrupt")

    def poll(self, ctx: DriverContext, budget: int) -> Code[int]:
        """The NAPI poll: clean at most ``budget`` frames; return how many.

        Returning ``budget`` keeps the poll scheduled; returning less means the
        driver called ``napi_complete_done`` (or it was told to poll again).
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement poll")

    # -- the e1000 routines ---------------------------------------------------------

    def desc_unused(self) -> int:
        """``E1000_DESC_UNUSED``: descriptors free to refill, one slot always kept."""
        clean, use = self.next_to_clean, self.next_to_use
        return (0 if clean > use else self.count) + clean - use - 1

    def next_index(self, i: int) -> int:
        """``if (++i == rx_ring->count) i = 0;`` as the clean loop advances."""
        i += 1
        return 0 if i == self.count else i

    def configure(self, ctx: DriverContext) -> Code[None]:
        """``e1000_configure_rx``: point the ring at shared memory, then fill it."""
        layout = ctx.layout
        yield from ctx.writel("RDBAL", layout.ring_base & 0xFFFFFFFF)
        yield from ctx.writel("RDBAH", layout.ring_base >> 32)
        yield from ctx.writel("RDLEN", layout.ring_bytes)
        yield from ctx.writel("RDH", 0)
        yield from ctx.writel("RDT", 0)
        yield from self.alloc_rx_buffers(ctx, self.desc_unused())

    def alloc_rx_buffers(self, ctx: DriverContext, cleaned_count: int) -> Code[None]:
        """``e1000_alloc_rx_buffers``: give ``cleaned_count`` descriptors their buffers back.

        Each gets its buffer address and a clear status; after ``dma_wmb`` (the
        descriptors visible to the device before the tail moves; ``wmb`` in kernels
        before 5.3), RDT is set to the last one refilled.
        """
        if cleaned_count <= 0:
            return
        i = self.next_to_use
        for _ in range(cleaned_count):
            yield from ctx.write_desc(i, RxDescriptor(ctx.buffer_addr(i)))
            i = 0 if i + 1 == self.count else i + 1
        self.next_to_use = i
        last = (i - 1) % self.count
        yield from ctx.dma_wmb()
        yield from ctx.writel("RDT", last)
        yield from ctx.step("tail_written")
        yield from ctx.cpu(ctx.costs.refill_ns)

    def take(self, ctx: DriverContext, desc: RxDescriptor, napi: bool) -> Code[None]:
        """One descriptor with DD set: hand its frame up, or drop what cannot be taken.

        e1000: "All receives must fit into a single buffer": a frame spanning
        descriptors (no EOP) is dropped, every fragment of it.
        """
        yield from ctx.dma_rmb()  # the fields only after DD
        yield from ctx.cpu(ctx.costs.descriptor_ns)
        if not desc.end_of_packet or self.discarding:
            self.discarding = not desc.end_of_packet
            if desc.end_of_packet:
                yield from ctx.drop("frame_spans_descriptors")
            return
        if desc.buffer_addr == 0 or desc.length == 0:
            yield from ctx.drop("empty_descriptor")
            return
        skb = yield from ctx.copy_to_skb(desc.buffer_addr, desc.length)
        yield from ctx.step("frame_copied")
        if napi:
            yield from ctx.napi_gro_receive(skb)
        else:
            yield from ctx.netif_rx(skb)
        yield from ctx.step("skb_queued")

    def clean_rx_irq(self, ctx: DriverContext, work_to_do: int, napi: bool = False) -> Code[int]:
        """``e1000_clean_rx_irq``: take descriptors while DD is set, up to ``work_to_do``.

        Returns the descriptors cleaned (``work_done``).
        """
        i = self.next_to_clean
        desc = yield from ctx.read_desc(i)
        yield from ctx.step("status_read")
        work_done = cleaned_count = 0
        while desc.done:
            if work_done >= work_to_do:
                break
            work_done += 1
            yield from self.take(ctx, desc, napi)
            yield from ctx.write_status(i, 0)
            yield from ctx.step("descriptor_returned")
            i = self.next_to_clean = self.next_index(i)
            cleaned_count += 1
            if cleaned_count >= self.refill_batch:
                yield from self.alloc_rx_buffers(ctx, cleaned_count)
                cleaned_count = 0
            if work_done >= work_to_do:
                break
            desc = yield from ctx.read_desc(i)
            yield from ctx.step("status_read")
        yield from self.alloc_rx_buffers(ctx, self.desc_unused())
        return work_done
