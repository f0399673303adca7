"""The receive-driver variants a config can name, behind the one :class:`RxDriver` interface.

=================  ===================================================================
``paper``          the paper's handler: drain every descriptor with DD set per interrupt
``one-per-irq``    take one descriptor per interrupt; when IPIs merge in the APIC, fewer
                   handler runs than frames happen, and the rest wait in the ring
``napi``           hard IRQ masks itself, a softirq poll drains with budget 64, unmasks
                   and re-checks the ring (:mod:`mintactors.kernel.napi`)
``lost-wakeup``    ``napi`` without the re-check (deliberately buggy)
``ring-wrap``      ``paper`` with an off-by-one at the ring's end (deliberately buggy)
=================  ===================================================================
"""

from __future__ import annotations

from mintactors.effects import Effect
from mintactors.hardware.nic import DESCRIPTOR_LEN
from mintactors.kernel.driver import PaperDriver, RxDriver
from mintactors.kernel.napi import LostWakeupDriver, NapiDriver

__all__ = ["DRIVER_VARIANTS", "OnePerIrqDriver", "RingWrapDriver"]


class OnePerIrqDriver(RxDriver):
    """Takes one descriptor per interrupt, then refills and returns.

    Correct only while every frame gets its own handler run. A fixed IPI merges
    into one already pending in the IRR (SDM 10.8.4), so under load the handler
    runs fewer times than frames arrive, and each merged IPI leaves one frame in
    the ring until a later interrupt takes it, or forever.
    """

    variant = "one-per-irq"

    def next_after_descriptor(self, now_ns: int, delay_ns: int) -> list[Effect]:
        """Finish the run: final refill, then EOI."""
        self._max_drained = max(self._max_drained, self._drained)
        effects: list[Effect] = []
        delay = delay_ns
        unused = self.unused()
        if unused:
            effects.append(self._write(self._refill(unused)))
            self.cleaned_since_refill = 0
            delay += self.costs.refill_ns
            effects += self._step("tail_written", now_ns)
        effects.append(self._after(delay, "before_eoi"))
        return effects


class RingWrapDriver(PaperDriver):
    """Deliberately buggy: ``next_to_clean`` wraps one descriptor too late.

    The bug is the classic ``if (++i > count) i = 0`` for ``if (++i == count)``:
    after the ring's last descriptor the handler moves to index ``count``, which
    lies past RDLEN (in the padding or the first receive buffer), finds no DD
    there and stops, every time. From then on every frame stays in the ring until
    it fills and the NIC drops with no free descriptor.
    """

    variant = "ring-wrap"

    def advance(self, index: int) -> int:
        """The off-by-one: ``count`` is treated as a valid index."""
        following = index + 1
        return 0 if following > self.count else following

    def descriptor_address(self, index: int) -> int:
        """No wrap in the address either: index ``count`` is past the ring."""
        return self.layout.ring_base + index * DESCRIPTOR_LEN


#: Variant name -> driver class, in the order they are documented.
DRIVER_VARIANTS: dict[str, type[RxDriver]] = {
    "paper": PaperDriver,
    "one-per-irq": OnePerIrqDriver,
    "napi": NapiDriver,
    "lost-wakeup": LostWakeupDriver,
    "ring-wrap": RingWrapDriver,
}
