"""TemplateRx: a receive driver for the Mint e1000 ring, written out in full to start from.

``mintactors new-driver NAME`` copies this file under your name; it runs as it is.
It is the paper's handler: on each interrupt, take every frame whose descriptor has
DD set, hand it to the stack, give the descriptor back, and refill. Change it, run
it, explore it: docs/drivers.md, "Debug your own driver", walks through that, and
its table lists every ``ctx`` primitive with its Linux counterpart and cost.

How driver code runs. ``interrupt`` (and, in a NAPI driver, ``poll``) is a
generator: each primitive is called as ``yield from ctx.<primitive>(...)``, and
the simulator resumes the code with the answer (a descriptor, a register value).
A primitive may take virtual time (a load waits for memory, ``cpu`` spends time),
and while it does the other core keeps working on the ring: the debug-support OS
copies frames into buffers and sets DD at its own pace. The hard-IRQ handler
runs with interrupts off, so no second interrupt interleaves with it; a NAPI poll
runs with interrupts on, and any wait in it is a point where one can arrive.
"""

from __future__ import annotations

from typing import ClassVar

from mintactors.kernel.drivers import (
    CLEAN_STEPS,
    Code,
    DriverContext,
    IrqReturn,
    RxDescriptor,
    RxDriver,
)

__all__ = ["TemplateRx"]


class TemplateRx(RxDriver):
    """Drains the ring on every interrupt, like the paper's modified e1000 handler.

    ``RxDriver`` keeps e1000's ring bookkeeping: ``count`` descriptors,
    ``next_to_clean`` (the next one to look at), ``next_to_use`` (the next one to
    refill), ``refill_batch`` (``E1000_RX_BUFFER_WRITE``), ``desc_unused()``
    (``E1000_DESC_UNUSED``) and ``next_index(i)`` (the index after ``i``, wrapped).
    """

    #: The name this driver goes by in results.
    name: ClassVar[str] = "template-rx"
    #: The steps this code marks with ``ctx.step``; ``[[inject]]`` entries can fire
    #: at them. Add yours here: reaching an undeclared step stops the run.
    steps: ClassVar[tuple[str, ...]] = CLEAN_STEPS

    def interrupt(self, ctx: DriverContext) -> Code[IrqReturn]:
        """The hard-IRQ handler: e1000_intr's work with e1000_clean_rx_irq inlined.

        Runs with interrupts off, on the target core, for every IPI the
        debug-support OS sends (one IPI may stand for several frames: IPIs of one
        vector merge while one is pending, so the loop takes all it finds).
        """
        i = self.next_to_clean
        cleaned = 0
        # E1000_RX_DESC: load descriptor i (16 bytes; memory_latency_ns).
        desc = yield from ctx.read_desc(i)
        yield from ctx.step("status_read")
        while desc.done:  # e1000_clean_rx_irq loops while the DD status bit is set
            # dma_rmb: read the descriptor's other fields only after its DD bit.
            yield from ctx.dma_rmb()
            yield from ctx.cpu(ctx.costs.descriptor_ns)  # the loop's own work per frame
            yield from self.receive(ctx, desc)
            # Clearing the status gives the descriptor back to the driver's side.
            yield from ctx.write_status(i, 0)
            yield from ctx.step("descriptor_returned")
            i = self.next_to_clean = self.next_index(i)
            cleaned += 1
            if cleaned >= self.refill_batch:  # refill every E1000_RX_BUFFER_WRITE
                yield from self.refill(ctx, cleaned)
                cleaned = 0
            desc = yield from ctx.read_desc(i)
            yield from ctx.step("status_read")
        # e1000 refills what it cleaned at the end of every clean.
        yield from self.refill(ctx, self.desc_unused())
        return IrqReturn.HANDLED

    def receive(self, ctx: DriverContext, desc: RxDescriptor) -> Code[None]:
        """Hand one descriptor's frame up the stack, or drop what cannot be taken."""
        if not desc.end_of_packet or self.discarding:
            # A frame longer than one buffer spans descriptors, and only the last has
            # EOP. e1000 drops every piece of such a frame (its "discarding" state)
            # and counts the frame once, at its last piece.
            self.discarding = not desc.end_of_packet
            if desc.end_of_packet:
                yield from ctx.drop("frame_spans_descriptors")
            return
        if desc.buffer_addr == 0 or desc.length == 0:
            yield from ctx.drop("empty_descriptor")
            return
        # napi_alloc_skb + skb_put_data (e1000's copybreak path): the frame is copied
        # out of the ring buffer into a fresh skb (skb_alloc_ns + the copy's cost).
        skb = yield from ctx.copy_to_skb(desc.buffer_addr, desc.length)
        yield from ctx.step("frame_copied")
        # netif_rx: hand the skb to the stack (stack_ns); it reaches the socket.
        yield from ctx.netif_rx(skb)
        yield from ctx.step("skb_queued")

    def refill(self, ctx: DriverContext, count: int) -> Code[None]:
        """e1000_alloc_rx_buffers: give ``count`` descriptors a buffer, then move RDT."""
        if count <= 0:
            return
        i = self.next_to_use
        for _ in range(count):
            # Each descriptor gets its buffer's address and a clear status (all 16
            # bytes are written, so no stale DD or length survives).
            yield from ctx.write_desc(i, RxDescriptor(ctx.buffer_addr(i)))
            i = self.next_index(i)
        self.next_to_use = i
        # dma_wmb: the descriptors must be visible before the tail that hands them over.
        yield from ctx.dma_wmb()
        # writel to RDT: the last descriptor filled. The debug-support OS may use
        # every descriptor from RDH up to (not including) RDT.
        yield from ctx.writel("RDT", (i - 1) % self.count)
        yield from ctx.step("tail_written")
        yield from ctx.cpu(ctx.costs.refill_ns)


# To run this driver, name it in the [driver] table of a config. The path is taken
# from the config's directory; this line is right for a config in the directory
# this file was written from:
#
#   [driver]
#   kind = "template_rx.py:TemplateRx"
