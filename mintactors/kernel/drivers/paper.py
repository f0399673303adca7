"""The paper's driver and the variants built on the same e1000 routines.

=================  ===================================================================
``paper``          drain every descriptor with DD set per interrupt (the paper's
                   handler: e1000_clean_rx_irq with no budget, called from the IPI)
``one-per-irq``    take one descriptor per interrupt: correct only while every frame
                   gets its own interrupt, which merged IPIs break
``ring-wrap``      ``paper`` with the classic off-by-one at the ring's end
=================  ===================================================================
"""

from __future__ import annotations

from typing import ClassVar

from mintactors.kernel.drivers.base import CLEAN_STEPS, IrqReturn, RxDriver
from mintactors.kernel.drivers.context import DriverContext
from mintactors.kernel.drivers.ops import Code

__all__ = ["OnePerIrqDriver", "PaperDriver", "RingWrapDriver"]

#: No budget: the paper's handler cleans until it meets a descriptor without DD.
UNLIMITED = 1 << 62


class PaperDriver(RxDriver):
    """The paper's handler: on each interrupt, drain every descriptor with DD set.

    The IPI is the receive interrupt, and the handler runs the cleaning loop
    itself (the pre-NAPI e1000 did the same from ``e1000_intr``), handing each
    frame to ``netif_rx``.
    """

    name: ClassVar[str] = "paper"
    steps: ClassVar[tuple[str, ...]] = CLEAN_STEPS

    def interrupt(self, ctx: DriverContext) -> Code[IrqReturn]:
        """Clean the ring until a descriptor without DD."""
        yield from self.clean_rx_irq(ctx, UNLIMITED)
        return IrqReturn.HANDLED


class OnePerIrqDriver(RxDriver):
    """Takes one descriptor per interrupt, then refills and returns.

    Correct only while every frame gets its own handler run. A fixed IPI merges
    into one already pending in the IRR (SDM 10.8.4), so under load the handler
    runs fewer times than frames arrive, and each merged IPI leaves one frame in
    the ring until a later interrupt takes it, or forever.
    """

    name: ClassVar[str] = "one-per-irq"
    steps: ClassVar[tuple[str, ...]] = CLEAN_STEPS

    def interrupt(self, ctx: DriverContext) -> Code[IrqReturn]:
        """Clean at most one descriptor."""
        yield from self.clean_rx_irq(ctx, 1)
        return IrqReturn.HANDLED


class RingWrapDriver(PaperDriver):
    """Deliberately buggy: ``next_to_clean`` wraps one descriptor too late.

    The bug is the classic ``if (++i > count) i = 0`` for ``if (++i == count)``:
    after the ring's last descriptor the handler moves to index ``count``, which
    lies past RDLEN (in the padding before the first receive buffer), finds no DD
    there and stops, every time. From then on every frame stays in the ring until
    it fills and the mechanism drops with no free descriptor.
    """

    name: ClassVar[str] = "ring-wrap"

    def next_index(self, i: int) -> int:
        """The off-by-one: ``count`` is treated as a valid index."""
        i += 1
        return 0 if i > self.count else i
