"""The NIC driver on the debug-target OS (node 1): ring setup and the receive handler.

The driver is modelled on Linux's e1000 (``e1000_configure_rx``,
``e1000_alloc_rx_buffers``, ``e1000_clean_rx_irq``; domain.md 1.4), changed the two
ways the paper changes it: its receive buffers point at shared memory, and its
handler runs on the IPI instead of the NIC's interrupt.

Ring bookkeeping is e1000's: ``next_to_clean`` is the next descriptor to look at,
``next_to_use`` the next to refill; ``E1000_DESC_UNUSED`` keeps one slot empty; a
refill writes ``RDT`` = the last refilled index; refills happen every
``refill_batch`` cleaned descriptors (``E1000_RX_BUFFER_WRITE`` = 16) and once at the
end of a handler run.

The handler is a sequence of named steps, so tests, traces and injections can refer
to a moment in it:

``entered``
    the handler's first instruction; reads the descriptor at ``next_to_clean``.
``status_read``
    the descriptor is in; without DD the ring is drained and the handler finishes.
``frame_copied``
    the frame has been copied out of the shared buffer into a new skb.
``skb_queued``
    the skb has been handed up the stack to the socket.
``descriptor_returned``
    the descriptor's status is cleared (given back); on to the next one.
``tail_written``
    a refill wrote RDT.
``before_eoi``
    about to write the APIC's EOI register.
``returned``
    ``iret``.

Variants (which descriptors a run takes, what happens around EOI) subclass
:class:`RxDriver` and choose the next step; the ``paper`` variant drains every
descriptor with DD set on each interrupt.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

import attrs

from mintactors.effects import Effect, Note, Send, SetTimer, TraceLevel
from mintactors.errors import UnexpectedMessage
from mintactors.hardware.nic import STATUS_OFFSET, NicLayout, RxDescriptor
from mintactors.messages import (
    DriverStep,
    InterruptEntry,
    InterruptReturn,
    MemoryData,
    MemoryFault,
    MemoryRead,
    MemoryWrite,
    NetifReceive,
    SocketBuffer,
    Start,
    WriteEoi,
)
from mintactors.notes import NoteKind
from mintactors.packets import parse_pktgen_header

__all__ = [
    "HANDLER_STEPS",
    "DriverCosts",
    "DriverStatistics",
    "PaperDriver",
    "RxDriver",
    "StepHook",
    "skb_truesize",
]

HANDLER_STEPS = (
    "entered",
    "status_read",
    "frame_copied",
    "skb_queued",
    "descriptor_returned",
    "tail_written",
    "before_eoi",
    "returned",
)

#: Called at every handler step with (step, occurrence, now_ns); returns extra effects.
StepHook = Callable[[str, int, int], Sequence[Effect]]


def skb_truesize(frame_len: int) -> int:
    """What the socket is charged for an skb holding ``frame_len`` bytes (x86-64).

    Follows ``__netdev_alloc_skb`` and ``SKB_TRUESIZE``: the data area is the frame
    plus ``NET_SKB_PAD`` (64) and ``NET_IP_ALIGN`` (2) plus ``skb_shared_info``
    (320 bytes), each rounded to a 64-byte cache line, then rounded up to the
    kmalloc size class (a power of two); ``struct sk_buff`` (232 bytes, aligned to
    256) comes on top. A 1514-byte frame costs 2304 bytes, so the default 212992-byte
    receive buffer holds 92 of them.
    """
    data = -(-(frame_len + 64 + 2) // 64) * 64 + 320
    slab = 1 << (data - 1).bit_length()
    return slab + 256


@attrs.frozen
class DriverCosts:
    """Time the handler's steps take on the target core, in ns."""

    descriptor_ns: int
    skb_alloc_ns: int
    stack_ns: int
    refill_ns: int
    eoi_ns: int
    copy_ns: Callable[[int], int]
    #: A load from shared memory the CPU waits for (used where the handler's work is
    #: CPU time on the core, as in a NAPI poll).
    load_ns: int = 0


@attrs.frozen
class DriverStatistics:
    """Counters of the driver.

    ``frames_taken`` counts frames taken out of the ring (each once, at its EOP
    descriptor), whether handed up or discarded.
    """

    handler_runs: int
    descriptors_cleaned: int
    frames_taken: int
    frames_handed_up: int
    frames_discarded: int
    empty_runs: int
    refills: int
    faults: int
    max_drained_per_run: int


class RxDriver:
    """What every receive-driver variant shares: init, ring bookkeeping, step plumbing.

    Args:
        name: this actor's name (memory replies come back to it).
        node: the OS node the driver runs in.
        core: the core its handler runs on.
        apic: that core's local APIC.
        memory: the memory actor.
        socket: the socket actor skbs go to.
        layout: where the ring, buffers and registers are.
        costs: step costs.
        refill_batch: cleaned descriptors between refills (``E1000_RX_BUFFER_WRITE``).
        step_hook: optional callback for injections at handler steps.
    """

    variant = "base"
    #: The named steps this variant's handler goes through (for injections).
    steps: tuple[str, ...] = HANDLER_STEPS
    #: Whether the variant masks its interrupt (then the mechanism emulates IMS/ICR).
    masks_interrupts = False

    def __init__(
        self,
        *,
        name: str,
        node: int,
        core: str,
        apic: str,
        memory: str,
        socket: str,
        layout: NicLayout,
        costs: DriverCosts,
        refill_batch: int = 16,
        step_hook: StepHook | None = None,
    ) -> None:
        self.name = name
        self.node = node
        self.core = core
        self.apic = apic
        self.memory = memory
        self.socket = socket
        self.layout = layout
        self.costs = costs
        self.refill_batch = refill_batch
        self.step_hook = step_hook
        self.count = layout.ring_size
        self.next_to_clean = 0
        self.next_to_use = 0
        self.cleaned_since_refill = 0
        self.in_handler = False
        self.discarding = False
        self.holding = 0  # frames taken from the ring, not yet handed up or dropped
        self.step_counts: dict[str, int] = dict.fromkeys(self.steps, 0)
        self._descriptor: RxDescriptor | None = None
        self._frame = b""
        self._drained = 0
        self._runs = self._cleaned = self._taken = self._up = self._discarded = 0
        self._empty = self._refills = self._faults = self._max_drained = 0
        self.dropped: dict[str, int] = {}

    def statistics(self) -> DriverStatistics:
        """The counters so far."""
        return DriverStatistics(
            handler_runs=self._runs,
            descriptors_cleaned=self._cleaned,
            frames_taken=self._taken,
            frames_handed_up=self._up,
            frames_discarded=self._discarded,
            empty_runs=self._empty,
            refills=self._refills,
            faults=self._faults,
            max_drained_per_run=self._max_drained,
        )

    @property
    def frames_taken(self) -> int:
        """Frames taken out of the ring so far (cheap; for monitors)."""
        return self._taken

    @property
    def busy(self) -> bool:
        """True while the driver will look at the ring again without a new interrupt."""
        return self.in_handler

    # -- ring bookkeeping (e1000) ------------------------------------------------------

    def descriptor_address(self, index: int) -> int:
        """Where the driver believes descriptor ``index`` is."""
        return self.layout.descriptor(index)

    def advance(self, index: int) -> int:
        """The descriptor after ``index``, wrapping at the end of the ring."""
        return (index + 1) % self.count

    def unused(self) -> int:
        """``E1000_DESC_UNUSED``: descriptors free to refill, one slot always kept."""
        clean, use = self.next_to_clean, self.next_to_use
        return (0 if clean > use else self.count) + clean - use - 1

    def _refill(self, how_many: int) -> list[tuple[int, bytes]]:
        """``e1000_alloc_rx_buffers``: the writes that give ``how_many`` descriptors back.

        Each refilled descriptor gets its buffer address and a clear status, then RDT
        is set to the last one refilled.
        """
        if how_many <= 0:
            return []
        writes: list[tuple[int, bytes]] = []
        start = self.next_to_use
        first_run = min(how_many, self.count - start)
        for begin, length in ((start, first_run), (0, how_many - first_run)):
            if length:
                data = b"".join(
                    RxDescriptor(self.layout.buffer(i)).pack() for i in range(begin, begin + length)
                )
                writes.append((self.layout.descriptor(begin), data))
        self.next_to_use = (start + how_many) % self.count
        rdt = (self.next_to_use - 1) % self.count
        writes.append((self.layout.register("RDT"), struct.pack("<I", rdt)))
        self._refills += 1
        return writes

    def _write(self, writes: list[tuple[int, bytes]]) -> Effect:
        return Send(self.memory, MemoryWrite(self.node, tuple(writes), self.name, "write"))

    def _read(self, addr: int, length: int, tag: str, delay_ns: int = 0) -> Effect:
        return Send(self.memory, MemoryRead(self.node, ((addr, length),), self.name, tag), delay_ns)

    def _init(self) -> Sequence[Effect]:
        """``e1000_configure_rx`` then the first refill: point the ring at shared memory."""
        layout = self.layout
        regs = (
            ("RDBAL", layout.ring_base & 0xFFFFFFFF),
            ("RDBAH", layout.ring_base >> 32),
            ("RDLEN", layout.ring_bytes),
            ("RDH", 0),
            ("RDT", 0),
        )
        writes = [(layout.register(r), struct.pack("<I", v)) for r, v in regs]
        writes += self._refill(self.unused())
        rdt = (self.next_to_use - 1) % self.count
        return (
            self._write(writes),
            Note(NoteKind.DRIVER_INITIALISED, {"ring_size": self.count, "rdt": rdt}),
        )

    # -- steps -----------------------------------------------------------------------

    def _step(self, step: str, now_ns: int) -> list[Effect]:
        """Count reaching ``step`` and run the injection hook, if any."""
        self.step_counts[step] += 1
        if self.step_hook is None:
            return []
        return list(self.step_hook(step, self.step_counts[step], now_ns))

    def _after(self, delay_ns: int, step: str) -> Effect:
        return SetTimer("step", delay_ns, DriverStep(step))

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        """Init, an interrupt, a memory reply or the handler's next step."""
        match message:
            case Start():
                return self._init()
            case InterruptEntry() if not self.in_handler:
                self.in_handler = True
                self._runs += 1
                self._drained = 0
                return self._entered(now_ns)
            case MemoryData(tag="desc") if self.in_handler:
                return self._status_read(RxDescriptor.unpack(message.chunks[0]), now_ns)
            case MemoryData(tag="frame") if self.in_handler:
                return self._frame_read(message.chunks[0])
            case DriverStep(step=step) if self.in_handler:
                return self._continue(step, now_ns)
            case MemoryFault():
                return self._fault(message, now_ns)
            case _:
                raise UnexpectedMessage(type(self).__name__, message)

    def _entered(self, now_ns: int) -> Sequence[Effect]:
        effects = self._step("entered", now_ns)
        effects.append(Note(NoteKind.HANDLER_ENTERED, {"run": self._runs}))
        effects.append(self._read(self.descriptor_address(self.next_to_clean), 16, "desc"))
        return effects

    def _status_read(self, desc: RxDescriptor, now_ns: int) -> Sequence[Effect]:
        effects = self._step("status_read", now_ns)
        if not desc.done:
            return effects + self._ring_drained(now_ns)
        self._descriptor = desc
        self._frame = b""
        if desc.end_of_packet:
            self._taken += 1
            self.holding = 1
        if not desc.end_of_packet or self.discarding:
            # e1000: "All receives must fit into a single buffer"; a frame that
            # spans descriptors is dropped, every fragment of it.
            self.discarding = not desc.end_of_packet
            if desc.end_of_packet:
                effects += self._drop_held("frame_spans_descriptors", now_ns)
            effects.append(self._after(self.costs.descriptor_ns, "descriptor_returned"))
            return effects
        if desc.buffer_addr == 0 or desc.length == 0:
            effects += self._drop_held("empty_descriptor", now_ns)
            effects.append(self._after(self.costs.descriptor_ns, "descriptor_returned"))
            return effects
        effects.append(self._read(desc.buffer_addr, desc.length, "frame", self.costs.descriptor_ns))
        return effects

    def _frame_read(self, frame: bytes) -> Sequence[Effect]:
        self._frame = frame
        cost = self.costs.copy_ns(len(frame)) + self.costs.skb_alloc_ns
        return (self._after(cost, "frame_copied"),)

    def _continue(self, step: str, now_ns: int) -> Sequence[Effect]:
        match step:
            case "frame_copied":
                return self._hand_up(now_ns)
            case "skb_queued":
                return self._step("skb_queued", now_ns) + self._return_descriptor(now_ns)
            case "descriptor_returned":
                return self._return_descriptor(now_ns)
            case "before_eoi":
                effects = self._step("before_eoi", now_ns)
                effects.append(Send(self.apic, WriteEoi(), self.costs.eoi_ns))
                effects.append(self._after(self.costs.eoi_ns, "returned"))
                return effects
            case "returned":
                return self._return(now_ns)
            case _:
                raise UnexpectedMessage(type(self).__name__, DriverStep(step), "unknown step")

    def _hand_up(self, now_ns: int) -> Sequence[Effect]:
        effects = self._step("frame_copied", now_ns)
        frame = self._frame
        header = parse_pktgen_header(frame)
        seq = header[0] if header else None
        skb = SocketBuffer(frame, skb_truesize(len(frame)), seq, now_ns + self.costs.stack_ns)
        self.holding = 0
        self._up += 1
        effects.append(Send(self.socket, NetifReceive(skb), self.costs.stack_ns))
        taken = {"seq": seq, "desc": self.next_to_clean, "length": len(frame)}
        effects.append(Note(NoteKind.FRAME_TAKEN, taken))
        effects.append(self._after(self.costs.stack_ns, "skb_queued"))
        return effects

    def _return_descriptor(self, now_ns: int) -> list[Effect]:
        effects = self._step("descriptor_returned", now_ns)
        index = self.next_to_clean
        writes = [(self.descriptor_address(index) + STATUS_OFFSET, b"\0")]
        effects.append(Note(NoteKind.DESCRIPTOR_RETURNED, {"desc": index}))
        self.next_to_clean = self.advance(index)
        self._cleaned += 1
        self._drained += 1
        self.cleaned_since_refill += 1
        self._descriptor = None
        delay = 0
        refill = self.cleaned_since_refill >= self.refill_batch
        if refill:
            writes += self._refill(self.cleaned_since_refill)
            self.cleaned_since_refill = 0
            delay = self.costs.refill_ns
        effects.append(self._write(writes))
        if refill:
            effects += self._step("tail_written", now_ns)
        effects += self.next_after_descriptor(now_ns, delay)
        return effects

    def _ring_drained(self, now_ns: int) -> list[Effect]:
        """No DD at next_to_clean: final refill, then EOI."""
        if self._drained == 0:
            self._empty += 1
        self._max_drained = max(self._max_drained, self._drained)
        effects: list[Effect] = []
        unused = self.unused()
        delay = 0
        if unused:
            effects.append(self._write(self._refill(unused)))
            self.cleaned_since_refill = 0
            delay = self.costs.refill_ns
            effects += self._step("tail_written", now_ns)
        effects.append(self._after(delay, "before_eoi"))
        return effects

    def _return(self, now_ns: int) -> Sequence[Effect]:
        effects = self._step("returned", now_ns)
        self.in_handler = False
        effects.append(Note(NoteKind.HANDLER_EXITED, {"run": self._runs, "drained": self._drained}))
        effects.append(Send(self.core, InterruptReturn()))
        return effects

    def _drop_held(self, reason: str, now_ns: int) -> list[Effect]:
        self.holding = 0
        self._discarded += 1
        self.dropped[reason] = self.dropped.get(reason, 0) + 1
        header = parse_pktgen_header(self._frame)
        seq = header[0] if header else None
        return [Note(NoteKind.PACKET_DROPPED, {"seq": seq, "reason": reason}, TraceLevel.SUMMARY)]

    def _fault(self, fault: MemoryFault, now_ns: int) -> Sequence[Effect]:
        """A refused access: the handler cannot read its ring or buffer."""
        self._faults += 1
        effects: list[Effect] = [
            Note(NoteKind.DRIVER_FAULT, {"addr": fault.addr, "access": fault.access})
        ]
        if fault.tag == "frame" and self.in_handler:
            self._frame = b""
            effects += self._drop_held("access_violation", now_ns)
            effects.append(self._after(self.costs.descriptor_ns, "descriptor_returned"))
        elif fault.tag == "desc" and self.in_handler:
            effects += self._ring_drained(now_ns)
        return effects

    # -- what variants decide -----------------------------------------------------------

    def next_after_descriptor(self, now_ns: int, delay_ns: int) -> list[Effect]:
        """After giving a descriptor back: look at the next, or finish the run."""
        raise NotImplementedError


class PaperDriver(RxDriver):
    """The paper's handler: on each interrupt, drain every descriptor with DD set."""

    variant = "paper"

    def next_after_descriptor(self, now_ns: int, delay_ns: int) -> list[Effect]:
        """Read the next descriptor; the run ends when one without DD turns up."""
        return [self._read(self.descriptor_address(self.next_to_clean), 16, "desc", delay_ns)]
