"""MyRx: the worked example of docs/drivers.md, "Debug your own driver" (it has a bug).

Written with ``mintactors new-driver my_rx``, then changed in one way: the
cleaning loop no longer loads whole 16-byte descriptors. It loads only the two
fields it uses, the length and the status byte, one load each, as C code that
reads ``rx_desc->length`` and ``rx_desc->status`` does. It loads the length
first. That is the bug: if the debug-support OS writes the descriptor back
between the two loads, the loop sees DD set next to a length read before the
frame was there (0, since the refill cleared the descriptor), and hands an
empty frame up the stack. The frame itself is lost. ``my_rx_fixed.py`` loads
the status first.
"""

from __future__ import annotations

from typing import ClassVar

from mintactors.hardware.nic import STATUS_DD, STATUS_EOP, STATUS_OFFSET
from mintactors.kernel.drivers import (
    CLEAN_STEPS,
    Code,
    DriverContext,
    IrqReturn,
    RxDescriptor,
    RxDriver,
)

__all__ = ["MyRx"]

#: Where the 16-bit length sits in a legacy receive descriptor.
LENGTH_OFFSET = 8


class MyRx(RxDriver):
    """Drains the ring on every interrupt, reading two fields of each descriptor."""

    name: ClassVar[str] = "my_rx"
    steps: ClassVar[tuple[str, ...]] = CLEAN_STEPS

    def interrupt(self, ctx: DriverContext) -> Code[IrqReturn]:
        """The hard-IRQ handler: e1000_intr's work with e1000_clean_rx_irq inlined."""
        i = self.next_to_clean
        cleaned = 0
        while True:
            # Two loads, each a point where the other core moves on.
            length = yield from self.read_length(ctx, i)
            status = yield from self.read_status(ctx, i)
            yield from ctx.step("status_read")
            if not status & STATUS_DD:  # loop while the DD status bit is set
                break
            yield from ctx.cpu(ctx.costs.descriptor_ns)  # the loop's own work per frame
            yield from self.receive(ctx, i, status, length)
            # Clearing the status gives the descriptor back to the driver's side.
            yield from ctx.write_status(i, 0)
            yield from ctx.step("descriptor_returned")
            i = self.next_to_clean = self.next_index(i)
            cleaned += 1
            if cleaned >= self.refill_batch:  # refill every E1000_RX_BUFFER_WRITE
                yield from self.refill(ctx, cleaned)
                cleaned = 0
        # e1000 refills what it cleaned at the end of every clean.
        yield from self.refill(ctx, self.desc_unused())
        return IrqReturn.HANDLED

    def read_length(self, ctx: DriverContext, i: int) -> Code[int]:
        """Load descriptor ``i``'s length field (memory_latency_ns)."""
        raw = yield from ctx.load(ctx.desc_addr(i) + LENGTH_OFFSET, 2)
        return int.from_bytes(raw, "little")

    def read_status(self, ctx: DriverContext, i: int) -> Code[int]:
        """Load descriptor ``i``'s status byte (memory_latency_ns)."""
        raw = yield from ctx.load(ctx.desc_addr(i) + STATUS_OFFSET, 1)
        return raw[0]

    def receive(self, ctx: DriverContext, i: int, status: int, length: int) -> Code[None]:
        """Hand descriptor ``i``'s frame up the stack, or drop what cannot be taken."""
        if not status & STATUS_EOP or self.discarding:
            # A frame longer than one buffer spans descriptors; e1000 drops all of it.
            self.discarding = not status & STATUS_EOP
            if status & STATUS_EOP:
                yield from ctx.drop("frame_spans_descriptors")
            return
        # Like e1000, the copy comes from the buffer the driver gave descriptor i
        # (its own record of it), ``length`` bytes: napi_alloc_skb + skb_put_data.
        skb = yield from ctx.copy_to_skb(ctx.buffer_addr(i), length)
        yield from ctx.step("frame_copied")
        yield from ctx.netif_rx(skb)  # to the stack (stack_ns)
        yield from ctx.step("skb_queued")

    def refill(self, ctx: DriverContext, count: int) -> Code[None]:
        """e1000_alloc_rx_buffers: give ``count`` descriptors a buffer, then move RDT."""
        if count <= 0:
            return
        i = self.next_to_use
        for _ in range(count):
            # Each descriptor gets its buffer's address; length and status are cleared.
            yield from ctx.write_desc(i, RxDescriptor(ctx.buffer_addr(i)))
            i = self.next_index(i)
        self.next_to_use = i
        # dma_wmb: the descriptors must be visible before the tail that hands them over.
        yield from ctx.dma_wmb()
        yield from ctx.writel("RDT", (i - 1) % self.count)
        yield from ctx.step("tail_written")
        yield from ctx.cpu(ctx.costs.refill_ns)


# Run it with the configs next to this directory:
#
#   [driver]
#   kind = "drivers/my_rx.py:MyRx"
