"""The paper's source: the debug-support OS builds frames and fills the ring itself.

The interrupt generator (an application on the debug-support node) builds each
frame and enters the debug-support system call, which copies it into a receive
buffer, sets the descriptor (DD last) and writes the ICR: the IPI is the receive
interrupt (paper, "one packet's path").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import attrs

from mintactors import names
from mintactors.fields import checked, one_of
from mintactors.histogram import Histogram
from mintactors.kernel.generator import Generator
from mintactors.kernel.mechanism import DebugSupportMechanism, InterruptMaskRegisters
from mintactors.sources._base import (
    NIC_SOURCES,
    FrameObserver,
    InstalledSource,
    Offered,
    SourceWiring,
)

__all__ = ["MintSource", "MintTraffic"]


class MintTraffic:
    """The generator and the mechanism inside a built machine."""

    start: tuple[str, ...] = (names.GENERATOR,)
    packet_actor: str | None = names.GENERATOR
    carriers: tuple[type, ...] = ()

    def __init__(self, generator: Generator, mechanism: DebugSupportMechanism) -> None:
        self.generator = generator
        self.mechanism = mechanism

    def sent(self) -> int:
        """Packets handed to the system call."""
        return self.generator.statistics().sent

    def dropped(self) -> Mapping[str, int]:
        """Frames the ring refused."""
        return {"no_descriptor": self.mechanism.statistics().dropped_no_descriptor}

    def offered(self) -> Offered:
        """First system call to last return."""
        stats = self.generator.statistics()
        return Offered(stats.first_send_ns, stats.last_return_ns, stats.bytes_sent)

    def send_time_ns_mean(self) -> float | None:
        """Mean system-call time, entry to return."""
        return self.generator.statistics().send_ns_histogram.mean()

    def interrupts_raised(self) -> int:
        """ICR writes."""
        return self.mechanism.icr_writes

    def may_raise(self, now_ns: int) -> bool:
        """A system call under way (entered by now) may still write the ICR."""
        call = self.mechanism.call
        return call is not None and call[1] <= now_ns

    def statistics(self) -> Mapping[str, object]:
        """The generator's and the mechanism's counters."""
        generator = attrs.evolve(
            self.generator.statistics(), send_ns=(), send_ns_histogram=Histogram()
        )
        return {names.GENERATOR: generator, names.MECHANISM: self.mechanism.statistics()}

    def observe_generated(self, observer: FrameObserver) -> None:
        """Every frame the generator builds."""
        self.generator.on_generate = observer


@NIC_SOURCES.register("mint")
@attrs.frozen
class MintSource:
    """The debug-support mechanism fills the ring (the paper's environment).

    Attributes:
        reassert_on_unmask: when a driver unmasks a cause latched in ICR while it
            was masked, raise the IPI then, as a real 8254x asserts its interrupt
            (default off: Mint's doorbell is an IPI per frame, an edge, and
            unmasking raises nothing).
        mechanism_barrier: ``"smp_mb"`` (default) puts a full barrier between the
            mechanism's posting of a frame (DD) and its load of IMS; ``"none"``
            leaves it out, the mechanism's half of the store-buffering bug (memory
            model ``tso``; docs/debugging.md). Under ``sc`` it changes nothing.
    """

    name: ClassVar[str] = "mint"
    emulates_ims: ClassVar[bool] = True
    device_dma: ClassVar[bool] = False

    reassert_on_unmask: bool = False
    mechanism_barrier: str = checked("smp_mb", one_of(("smp_mb", "none")))

    def describe(self) -> str:
        """``debug-support mechanism``."""
        return "debug-support mechanism"

    def install(self, wiring: SourceWiring) -> InstalledSource:
        """The generator on the debug core and the system call behind it."""
        profile = wiring.profile
        masks = None
        if wiring.driver_masks:
            layout = wiring.layout
            masks = InterruptMaskRegisters(
                memory=wiring.memory,
                node=wiring.debug_node,
                ims=layout.register("IMS"),
                load_ns=profile.memory_latency_ns,
            )
            if self.reassert_on_unmask:
                wiring.memory.reassert_on_unmask(names.MECHANISM)
        mechanism = DebugSupportMechanism(
            name=names.MECHANISM,
            ring=names.RX_RING,
            apic=wiring.apics[wiring.debug_core],
            vector=wiring.vector,
            destination=wiring.target_core,
            copy_ns=profile.copy_ns,
            syscall_entry_ns=profile.syscall_entry_ns,
            icr_write_ns=profile.icr_write_ns,
            syscall_exit_ns=profile.syscall_exit_ns,
            mask_registers=masks,
            store_buffer=(
                wiring.store_buffers[wiring.debug_core] if wiring.store_buffers else None
            ),
            barrier=self.mechanism_barrier == "smp_mb",
            trace_level=wiring.trace_level,
        )
        generator = Generator(
            name=names.GENERATOR,
            mechanism=mechanism,
            factories=wiring.frames,
            instants=wiring.instants,
            count=wiring.count,
            build_ns=profile.frame_build_ns,
            build=wiring.build,
            injected_frames=wiring.injected_frames,
            note_frames=wiring.trace_frames,
            injections=wiring.packet_injections,
            trace_level=wiring.trace_level,
        )
        wiring.add(names.GENERATOR, generator)
        wiring.add(names.MECHANISM, mechanism)
        return MintTraffic(generator, mechanism)
