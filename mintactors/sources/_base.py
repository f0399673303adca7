"""What a NIC source is: the part of the machine that fills the receive ring.

A source is one entry of :data:`NIC_SOURCES`, chosen by ``nic.source``. The entry
class's attrs fields are its own ``[nic]`` keys. Installed into a machine, it adds
its actors and then answers, for the rest of the tool, the questions only it can:
how many packets were sent and where the ones it lost went (accounting), its
counters (results), whether it may still raise an interrupt (the lost-wakeup
oracle), and who takes an injected packet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import ClassVar, Protocol

import attrs

from mintactors.costs import CostProfile
from mintactors.effects import Component, TraceLevel
from mintactors.hardware.apic import LocalApic
from mintactors.hardware.memory import PhysicalMemory
from mintactors.hardware.nic import NicLayout
from mintactors.hardware.store_buffer import StoreBuffer
from mintactors.kernel.frames import FrameSource
from mintactors.kernel.generator import BuildMode
from mintactors.registry import Registry

__all__ = [
    "NIC_SOURCES",
    "FrameObserver",
    "InstalledSource",
    "NicSource",
    "Offered",
    "SourceWiring",
]

#: Called with (seq, now_ns, frame) for every frame a source sends.
FrameObserver = Callable[[int, int, bytes], None]


@attrs.frozen
class SourceWiring:
    """What the machine builder hands a source to install itself.

    Attributes:
        add: adds an actor to the simulation (name, component).
        memory: the memory component (a source's software loads from it).
        apics: every core's local APIC, by core number (software on a core writes
            its own APIC's ICR).
        frames: where the planned frames come from.
        injected_frames: where frames of injected packets come from.
        instants: the planned send instants.
        count: how many packets to send.
        profile: the cost profile.
        layout: the NIC's registers, ring and buffers in shared memory.
        vector: the interrupt vector the driver's handler is registered for.
        debug_core: the debug-support node's core (runs the Mint generator).
        debug_node: the debug-support OS node.
        target_core: the core the driver runs on.
        target_node: the debug-target OS node.
        driver_masks: the driver masks its interrupt through IMS.
        trace_frames: put frame bytes in ``PacketGenerated`` notes.
        packet_injections: an ``[[inject]]`` entry may ask for a packet.
        build: how the Mint generator makes its frames (``generator.build``).
        store_buffers: each core's store buffer, by core number (memory model
            ``tso``; empty under ``sc``). Software of a source running on a core
            stores through that core's buffer.
        trace_level: the run's trace level (full-level notes are built only at ``FULL``).
    """

    add: Callable[[str, Component], None]
    memory: PhysicalMemory
    apics: tuple[LocalApic, ...]
    frames: FrameSource
    injected_frames: FrameSource
    instants: Iterator[int]
    count: int
    profile: CostProfile
    layout: NicLayout
    vector: int
    debug_core: int
    debug_node: int
    target_core: int
    target_node: int
    driver_masks: bool
    trace_frames: bool
    packet_injections: bool
    build: BuildMode
    store_buffers: tuple[StoreBuffer, ...] = ()
    trace_level: TraceLevel = TraceLevel.FULL


@attrs.frozen
class Offered:
    """The traffic a source offered: first and last send, and the bytes sent."""

    first_send_ns: int | None
    last_send_ns: int | None
    bytes_sent: int


class InstalledSource(Protocol):
    """A source inside a built machine."""

    #: Actors to post ``Start`` to, in order.
    start: tuple[str, ...]
    #: The actor that takes an injected packet (``[[inject]] action = "packet"``).
    packet_actor: str | None
    #: Messages that carry a packet between this source's actors (counted in transit).
    carriers: tuple[type, ...]

    def sent(self) -> int:
        """Packets sent so far."""
        ...

    def dropped(self) -> Mapping[str, int]:
        """Packets this source lost, by reason."""
        ...

    def offered(self) -> Offered:
        """When the traffic began and ended, and how many bytes it carried."""
        ...

    def send_time_ns_mean(self) -> float | None:
        """Mean time of one send (the paper's send-processing time), if it has one."""
        ...

    def interrupts_raised(self) -> int:
        """Interrupts sent toward the driver's core so far."""
        ...

    def may_raise(self, now_ns: int) -> bool:
        """Whether work under way at ``now_ns`` may still raise an interrupt.

        A packet the source has not begun to send by then does not count: waiting
        for the next planned packet is exactly what a stranded frame does.
        """
        ...

    def statistics(self) -> Mapping[str, object]:
        """Counters of each of its actors, by actor name."""
        ...

    def observe_generated(self, observer: FrameObserver) -> None:
        """Have ``observer`` called for every frame sent (a pcap writer)."""
        ...


class NicSource(Protocol):
    """An entry of :data:`NIC_SOURCES`; its attrs fields are its ``[nic]`` keys."""

    name: ClassVar[str]
    #: Whether the interrupt can be masked through IMS (masking drivers need it).
    emulates_ims: ClassVar[bool]
    #: Whether the ring is written by the target node's device (DMA) rather than
    #: by the debug-support node's CPU.
    device_dma: ClassVar[bool]

    def describe(self) -> str:
        """The source in a few words, for ``mintactors check``."""
        ...

    def install(self, wiring: SourceWiring) -> InstalledSource:
        """Add this source's actors to the machine being built."""
        ...


#: NIC sources by ``nic.source`` name.
NIC_SOURCES: Registry[type[NicSource]] = Registry("NIC source")
