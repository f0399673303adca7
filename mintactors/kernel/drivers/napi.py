"""NAPI drivers: the hard IRQ masks the device and schedules a poll that drains the ring.

Theory of operation (Linux ``Documentation/networking/napi.rst``; e1000's
``e1000_intr``, ``e1000_clean`` and ``e1000_irq_enable`` in
``drivers/net/ethernet/intel/e1000/e1000_main.c``; domain.md 1.4 and 2.1). The
kernel keeps the two flags of ``struct napi_struct``: SCHED (a poll is scheduled or
running) and MISSED (an interrupt came while it was).

Hard IRQ (``e1000_intr``, interrupts off): read ICR, which clears it; nothing
latched means the interrupt was not this device's (``IRQ_NONE``). Otherwise
``masked``: mask every cause (``IMC = ~0``) and flush the write (read STATUS), and
only then ``napi_schedule_prep()``. If the poll was already scheduled (MISSED is
set, "this really should not happen" in e1000's words) the interrupt is unmasked
again; otherwise the poll is scheduled.

Poll (softirq, interrupts on): e1000's cleaning loop for at most the weight. With
the weight used up the poll returns it and is polled again. With the ring drained:
``napi_complete_done()``; if MISSED was set the kernel polls again, still masked;
otherwise ``e1000_irq_enable`` (IMS, flushed): ``irq_enabled``.

The doorbell matters. A real 8254x latches every cause in ICR and asserts its
interrupt whenever an enabled cause is latched, so unmasking a cause latched while
masked raises the interrupt at once, and the poll's last look at the ring cannot
miss a frame. Mint's doorbell is an IPI per frame, an edge: a frame written back
while the interrupt was masked raised nothing, and unmasking raises nothing either.
So under Mint a NAPI driver must look at the ring once more after unmasking
(:class:`NapiDriver`, ``rechecked``; with DD set it masks and schedules itself
again). :class:`LostWakeupDriver` leaves the re-check out, which is correct on the
real device and a lost wakeup under the edge doorbell: a frame written between the
poll's last look and the unmask waits for the next IPI, or forever.
``nic.reassert_on_unmask = true`` makes the emulated NIC raise the interrupt on
unmask as the device does, so both behaviours can be compared on one driver.

Barrier: "store IMS, then load DD" on this core against the mechanism's "store
DD, then load IMS" on the other is the store-buffering pattern; on x86 a load may
pass an older store to another location (SDM Vol. 3A 8.2.3.4), so without a full
barrier on both sides both loads can see the old values and the frame is lost
(domain.md 7). :class:`NapiDriver` puts ``smp_mb()`` between the unmask and the
re-check; :class:`NapiNoMbDriver` leaves it out, a bug only the ``tso`` memory
model can show.
"""

from __future__ import annotations

from typing import ClassVar

from mintactors.hardware.registers import IMS_ENABLE_MASK
from mintactors.kernel.drivers.base import CLEAN_STEPS, IrqReturn, RxDriver
from mintactors.kernel.drivers.context import DriverContext
from mintactors.kernel.drivers.ops import Code
from mintactors.notes import NoteKind

__all__ = ["NAPI_STEPS", "LostWakeupDriver", "NapiDriver", "NapiNoMbDriver"]

NAPI_STEPS = ("masked", *CLEAN_STEPS, "poll_completed", "irq_enabled", "rechecked")

#: ``ew32(IMC, ~0)``: mask every cause.
ALL_CAUSES = 0xFFFF_FFFF


class NapiDriver(RxDriver):
    """NAPI with the re-check after unmasking that an edge-triggered doorbell needs."""

    name: ClassVar[str] = "napi"
    steps: ClassVar[tuple[str, ...]] = NAPI_STEPS
    masks_interrupts: ClassVar[bool] = True
    napi: ClassVar[bool] = True
    recheck_after_unmask: ClassVar[bool] = True
    #: ``smp_mb()`` between the unmask and the re-check's load.
    barrier_before_recheck: ClassVar[bool] = True

    def configure(self, ctx: DriverContext) -> Code[None]:
        """``e1000_configure_rx``, then enable the interrupt."""
        yield from super().configure(ctx)
        yield from ctx.writel("IMS", IMS_ENABLE_MASK)

    def interrupt(self, ctx: DriverContext) -> Code[IrqReturn]:
        """``e1000_intr``: read ICR, mask and flush, then take the poll or unmask again."""
        icr = yield from ctx.readl("ICR")
        if not icr:
            return IrqReturn.NONE
        yield from ctx.step("masked")
        yield from self.irq_disable(ctx)
        if (yield from ctx.napi_schedule_prep()):
            yield from ctx.napi_schedule()
        else:
            yield from self.irq_enable(ctx)
        return IrqReturn.HANDLED

    def irq_disable(self, ctx: DriverContext) -> Code[None]:
        """``ew32(IMC, ~0); E1000_WRITE_FLUSH()``: no interrupt until the poll is done."""
        yield from ctx.writel("IMC", ALL_CAUSES)
        yield from ctx.write_flush()
        yield from ctx.note(NoteKind.IRQ_MASKED)

    def irq_enable(self, ctx: DriverContext) -> Code[None]:
        """``e1000_irq_enable``: ``ew32(IMS, IMS_ENABLE_MASK); E1000_WRITE_FLUSH()``."""
        yield from ctx.writel("IMS", IMS_ENABLE_MASK)
        yield from ctx.write_flush()
        yield from ctx.note(NoteKind.IRQ_UNMASKED)

    def poll(self, ctx: DriverContext, budget: int) -> Code[int]:
        """``e1000_clean``: clean, and when the ring is drained leave polling and unmask."""
        work_done = yield from self.clean_rx_irq(ctx, budget, napi=True)
        if work_done == budget:
            return budget
        yield from ctx.step("poll_completed")
        if not (yield from ctx.napi_complete_done(work_done)):
            return work_done  # MISSED: polled again, still masked
        yield from self.irq_enable(ctx)
        yield from ctx.step("irq_enabled")
        if self.recheck_after_unmask:
            yield from self.recheck(ctx)
        return work_done

    def recheck(self, ctx: DriverContext) -> Code[None]:
        """Look at the ring once more after unmasking; take the poll back if a frame is there.

        The unmask is written (and flushed) before this read, and ``smp_mb()``
        keeps the read from passing it (a load may pass an older store on x86), so
        either the read sees the frame or the mechanism, whose own barrier orders
        its DD store before its IMS load, sees the interrupt unmasked and sends an
        IPI.
        """
        if self.barrier_before_recheck:
            yield from ctx.smp_mb()
        desc = yield from ctx.read_desc(self.next_to_clean)
        yield from ctx.step("rechecked")
        if not desc.done:
            return
        yield from ctx.note(NoteKind.RECHECK_FOUND, desc=self.next_to_clean)
        if (yield from ctx.napi_schedule_prep()):
            yield from self.irq_disable(ctx)
            yield from ctx.napi_schedule()


class NapiNoMbDriver(NapiDriver):
    """Deliberately buggy NAPI: re-checks the ring after unmasking, with no full barrier.

    Correct under sequential consistency. On x86 the re-check's load of DD can
    complete while the IMS store still sits in the core's store buffer; if the
    mechanism's load of IMS meanwhile does the same with its DD store, neither
    side sees the other's store: the driver misses the frame and the mechanism,
    seeing the interrupt masked, sends no IPI (memory model ``tso``).
    """

    name: ClassVar[str] = "napi-no-mb"
    barrier_before_recheck: ClassVar[bool] = False


class LostWakeupDriver(NapiDriver):
    """NAPI without the re-check: right on a real 8254x, a lost wakeup under Mint's IPI.

    A frame written back after the poll's last DD check, while the interrupt is
    still masked, raises no IPI (the cause stays latched in ICR), and nothing looks
    at the ring again until the next IPI: the frame waits for the next packet's
    interrupt, or forever if none comes. With ``nic.reassert_on_unmask`` the unmask
    raises the interrupt for the latched cause, as the device would, and the frame
    is taken.
    """

    name: ClassVar[str] = "lost-wakeup"
    recheck_after_unmask: ClassVar[bool] = False
