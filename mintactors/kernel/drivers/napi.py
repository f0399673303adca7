"""NAPI drivers: the hard IRQ masks itself and schedules a poll that drains the ring.

Theory of operation (Linux ``Documentation/networking/napi.rst``; e1000's
``e1000_intr`` and ``e1000_clean``; domain.md 1.4 and 2.1). The kernel keeps the
two flags of ``struct napi_struct``: SCHED (a poll is scheduled or running) and
MISSED (an interrupt came while it was).

Hard IRQ (the IPI, interrupts off): ``napi_schedule_prep()``; if the poll was
already scheduled, MISSED is set and the handler returns. Otherwise ``masked``:
the interrupt is masked (IMC) and the poll scheduled.

Poll (softirq, interrupts on): e1000's cleaning loop for at most the budget. With
the budget used up the poll returns it and runs again. With the ring drained:
``napi_complete_done()``; if MISSED was set the kernel polls again, still masked;
otherwise the interrupt is unmasked (IMS), ``irq_enabled``.

Re-check (:class:`NapiDriver`): an IPI is an edge. A frame whose descriptor was
written while the interrupt was masked raised nothing, and unmasking re-raises
nothing (a real e1000 re-asserts latched causes; domain.md 2.1). So after
unmasking the driver reads the descriptor at ``next_to_clean`` once more
(``rechecked``); with DD set it masks and schedules itself again.
:class:`LostWakeupDriver` leaves the re-check out: a frame written between the
poll's last look at the ring and the unmask waits for the next IPI, or forever.

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

from mintactors.hardware.registers import ICR_RXT0
from mintactors.kernel.drivers.base import IrqReturn, RxDriver
from mintactors.kernel.drivers.context import DriverContext
from mintactors.kernel.drivers.ops import Code
from mintactors.kernel.drivers.paper import CLEAN_STEPS
from mintactors.notes import NoteKind

__all__ = ["NAPI_STEPS", "LostWakeupDriver", "NapiDriver", "NapiNoMbDriver"]

NAPI_STEPS = ("masked", *CLEAN_STEPS, "poll_completed", "irq_enabled", "rechecked")


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
        """``e1000_configure_rx``, then enable the receive interrupt."""
        yield from super().configure(ctx)
        yield from ctx.writel("IMS", ICR_RXT0)

    def interrupt(self, ctx: DriverContext) -> Code[IrqReturn]:
        """Take the poll if nobody has it, mask the interrupt, schedule the poll."""
        taken = yield from ctx.napi_schedule_prep()
        yield from ctx.cpu(ctx.costs.descriptor_ns)
        if not taken:
            return IrqReturn.HANDLED
        yield from ctx.step("masked")
        yield from self.mask(ctx)
        yield from ctx.napi_schedule()
        yield from ctx.cpu(ctx.costs.eoi_ns)
        return IrqReturn.HANDLED

    def mask(self, ctx: DriverContext) -> Code[None]:
        """``ew32(IMC, ~0)``: no more receive interrupts until the poll is done."""
        yield from ctx.writel("IMC", ICR_RXT0)
        yield from ctx.note(NoteKind.IRQ_MASKED)

    def poll(self, ctx: DriverContext, budget: int) -> Code[int]:
        """``e1000_clean``: clean, and when the ring is drained leave polling and unmask."""
        work_done = yield from self.clean_rx_irq(ctx, budget, napi=True)
        if work_done == budget:
            return budget
        yield from ctx.step("poll_completed")
        if not (yield from ctx.napi_complete_done(work_done)):
            return work_done  # MISSED: polled again, still masked
        yield from ctx.writel("IMS", ICR_RXT0)  # e1000_irq_enable
        yield from ctx.cpu(ctx.costs.eoi_ns)
        yield from ctx.step("irq_enabled")
        yield from ctx.note(NoteKind.IRQ_UNMASKED)
        if self.recheck_after_unmask:
            yield from self.recheck(ctx)
        return work_done

    def recheck(self, ctx: DriverContext) -> Code[None]:
        """Look at the ring once more after unmasking; take the poll back if a frame is there.

        The unmask is written before this read, and ``smp_mb()`` keeps the read
        from passing it (a load may pass an older store on x86), so either the
        read sees the frame or the mechanism, whose own barrier orders its DD
        store before its IMS load, sees the interrupt unmasked and sends an IPI.
        """
        if self.barrier_before_recheck:
            yield from ctx.smp_mb()
        desc = yield from ctx.read_desc(self.next_to_clean)
        yield from ctx.step("rechecked")
        if not desc.done:
            return
        yield from ctx.note(NoteKind.RECHECK_FOUND, desc=self.next_to_clean)
        if (yield from ctx.napi_schedule_prep()):
            yield from self.mask(ctx)
            yield from ctx.napi_schedule()
            yield from ctx.cpu(ctx.costs.eoi_ns + ctx.costs.descriptor_ns)


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
    """Deliberately buggy NAPI: unmasks without re-checking the ring.

    A frame whose descriptor is written after the poll's last DD check, while the
    interrupt is still masked, raises no IPI (the mechanism latches the cause
    instead), and nothing looks at the ring again until the next IPI: the frame
    waits for the next packet's interrupt, or forever if none comes.
    """

    name: ClassVar[str] = "lost-wakeup"
    recheck_after_unmask: ClassVar[bool] = False
