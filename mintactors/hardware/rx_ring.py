"""The receive side of the emulated NIC: puts frames into the e1000 descriptor ring.

This is what a NIC's receive DMA engine does, written once and used by every
producer: the Mint debug-support mechanism (a CPU copy on node 0) and the model of
a real 1 Gb/s NIC (DMA). It follows the 8254x and QEMU's e1000 model (domain.md
1.2-1.3):

* Hardware owns descriptors ``RDH .. RDT-1``; ``RDH == RDT`` means no free buffer.
* A frame longer than one buffer spans several descriptors; only the last has EOP.
* Data lands first; then each descriptor is written back with DD clear, and only
  then is the status byte written with DD set (QEMU's ordering: a driver polling DD
  never sees a half-written descriptor).
* With ``latch_cause``, the write-back also sets RXT0 in ICR (through ICS), as a
  device latches the cause of every written-back descriptor whether or not the
  interrupt is masked (8254x 13.4.17-13.4.20).
* With no free descriptor, ``drop`` counts RNBC and MPC and refuses the frame (an
  8254x drops it once its RX FIFO is full); ``block`` polls RDT every
  ``block_poll_ns`` until space appears (QEMU's behaviour: hold the frame until RDT
  moves).

Theory of operation: frames queue in arrival order and are posted one at a time.
At the start of a frame (``idle`` -> ``busy``) the engine loads RDT and the
descriptors it will fill, at that instant; the copy takes the load latency plus
``copy_ns``, the write-back ``writeback_ns`` more. Everything the frame writes —
data, descriptor fields with DD clear, then the status bytes with DD, then RDH — is
one posted write that lands at the end, in that order, so no reader ever sees DD
before the data. At that same instant the frame is done: the engine counts it,
answers the producer and starts the next. ``busy`` goes to ``waiting`` instead when
the ring is full under ``block``.

Memory model ``tso``: when the ring is filled by the debug core's CPU (the Mint
mechanism's memcpy), its stores are that core's, so they go through its store
buffer (``store_buffer``) in the same order, each entering at the end of the copy
and write-back and draining later, oldest first; its loads forward from that
buffer. A real NIC's DMA is coherent and bypasses every store buffer (no
``store_buffer``: one posted write, as under ``sc``). The copy, one ``rep movs``,
is one entry: the stores of a string operation may reach memory out of order
among themselves, but not around the stores before and after it (SDM Vol. 3A
8.2.4).
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Sequence
from enum import Enum
from typing import Final

import attrs

from mintactors.effects import Effect, Note, Send, SetTimer, TraceLevel
from mintactors.errors import IllegalValue, UnexpectedMessage, unexpected, unknown_step
from mintactors.hardware.memory import PhysicalMemory
from mintactors.hardware.nic import (
    DESCRIPTOR_LEN,
    STATUS_DD,
    STATUS_EOP,
    STATUS_IXSM,
    STATUS_OFFSET,
    NicLayout,
    RxDescriptor,
)
from mintactors.hardware.registers import ICR_RXT0
from mintactors.hardware.snapshots import (
    STATUS_BITS,
    DescriptorSnapshot,
    RingSnapshot,
    bit_names,
)
from mintactors.hardware.store_buffer import StoreBuffer
from mintactors.messages import (
    Completion,
    FramePosted,
    FrameRefused,
    MemoryWrite,
    PostFrame,
    RingInput,
    RingStep,
    RingStepKind,
)
from mintactors.notes import NoteKind

__all__ = ["NO_BUFFER_POLICIES", "RingState", "RxRing", "RxRingStatistics"]

NO_BUFFER_POLICIES = ("drop", "block")


class RingState(Enum):
    """What the ring engine is doing with the frame at the head of its queue."""

    IDLE = "idle"  # no frame to post
    WAITING = "waiting"  # under ``block``: the ring was full; RDT is re-read later
    BUSY = "busy"  # a frame is being copied and written back, or one waits for that


#: The state in which each of the ring's timers is armed; in any other it is refused.
_ARMED_IN: Final = {
    RingStepKind.POLL: RingState.WAITING,
    RingStepKind.WRITTEN: RingState.BUSY,
}


@attrs.frozen
class RxRingStatistics:
    """Counters of the receive ring, named after the 8254x statistics they mirror.

    ``rnbc``: frames that found no free descriptor (Receive No Buffers Count);
    ``mpc``: of those, frames dropped (Missed Packets Count; only under ``drop``).
    """

    frames_posted: int
    descriptors_used: int
    frames_spanning: int
    rnbc: int
    mpc: int
    block_polls: int
    null_buffers: int


class RxRing:
    """The ring engine, as a pure component.

    Args:
        name: this actor's name.
        layout: where ring, buffers and registers sit.
        memory: the memory component (the engine loads RDT and descriptors from it).
        memory_actor: the memory actor's name (the engine's writes go to it).
        node: the OS node whose accesses these are (the producer's).
        load_ns: the latency of the engine's load of RDT and the descriptors.
        writeback_ns: time to write the descriptors back.
        no_buffer: ``drop`` or ``block``.
        block_poll_ns: under ``block``, how often RDT is re-read.
        latch_cause: set RXT0 in ICR with each write-back (for drivers that mask
            their interrupt and read ICR).
        store_buffer: the store buffer of the core whose CPU fills the ring
            (memory model ``tso``, Mint source); None: the writes are posted.
        trace_level: full-level notes are built only at ``FULL``.
    """

    def __init__(
        self,
        *,
        name: str,
        layout: NicLayout,
        memory: PhysicalMemory,
        memory_actor: str,
        node: int,
        load_ns: int,
        writeback_ns: int,
        no_buffer: str = "drop",
        block_poll_ns: int = 1000,
        latch_cause: bool = False,
        store_buffer: StoreBuffer | None = None,
        trace_level: TraceLevel = TraceLevel.FULL,
    ) -> None:
        if no_buffer not in NO_BUFFER_POLICIES:
            raise ValueError(f"no-buffer policy {no_buffer!r}: allowed {NO_BUFFER_POLICIES}")
        self.name = name
        self.layout = layout
        self.memory = memory
        self.memory_actor = memory_actor
        self.node = node
        self.load_ns = load_ns
        self.writeback_ns = writeback_ns
        self.no_buffer = no_buffer
        self.block_poll_ns = block_poll_ns
        self.latch_cause = latch_cause
        self.store_buffer = store_buffer
        self.full = trace_level >= TraceLevel.FULL
        self.rdh = 0
        self.state = RingState.IDLE
        self.pending: deque[PostFrame] = deque()
        self.current: PostFrame | None = None
        self._first = self._count = 0  # the current frame's first descriptor, and how many
        #: When the last posted write-back lands; a frame arriving before then waits.
        self._free_at = -1
        self._landing_seq = -1  # the frame whose write-back lands then
        self._waiting_since_begin = False
        #: When each descriptor was last written back (instrumentation: inspection
        #: and the lost-wakeup oracle date a stranded frame by it).
        self.written_ns: list[int | None] = [None] * layout.ring_size
        self._posted = self._used = self._spanning = 0
        self._rnbc = self._mpc = self._polls = self._null = 0

    def statistics(self) -> RxRingStatistics:
        """The counters so far."""
        return RxRingStatistics(
            frames_posted=self._posted,
            descriptors_used=self._used,
            frames_spanning=self._spanning,
            rnbc=self._rnbc,
            mpc=self._mpc,
            block_polls=self._polls,
            null_buffers=self._null,
        )

    @property
    def frames_posted(self) -> int:
        """Frames posted, the last one's write-back possibly still on its way."""
        return self._posted

    def frames_landed(self, now_ns: int) -> int:
        """Frames whose descriptors are in memory with DD by ``now_ns`` (cheap; for monitors).

        The engine writes one frame back at a time, so at most the last is in flight.
        """
        return self._posted - (now_ns < self._free_at)

    def snapshot(
        self,
        *,
        next_to_clean: int | None = None,
        next_to_use: int | None = None,
        now_ns: int | None = None,
    ) -> RingSnapshot:
        """The ring as it is in memory now, every descriptor decoded (for inspection).

        The driver's ``next_to_clean`` and ``next_to_use`` are not the ring's to know;
        a caller who knows them passes them in, to be shown beside RDH and RDT. Given
        ``now_ns``, a frame whose posted write-back has not landed yet is shown as
        still being posted.
        """
        state = self.state.value
        posting = self.current.seq if self.current is not None else None
        if now_ns is not None and posting is None and now_ns < self._free_at:
            state, posting = RingState.BUSY.value, self._landing_seq
        layout = self.layout
        rdh, rdt = self._ends()
        raw = self.memory.peek(layout.ring_base, layout.ring_bytes)
        descriptors = tuple(
            self._decoded(
                index, raw[index * DESCRIPTOR_LEN : (index + 1) * DESCRIPTOR_LEN], rdh, rdt
            )
            for index in range(layout.ring_size)
        )
        return RingSnapshot(
            size=layout.ring_size,
            buffer_size=layout.buffer_size,
            base=layout.ring_base,
            rdh=rdh,
            rdt=rdt,
            engine_rdh=self.rdh,
            state=state,
            posting=posting,
            queued=tuple(frame.seq for frame in self.pending),
            next_to_clean=next_to_clean,
            next_to_use=next_to_use,
            done=sum(1 for d in descriptors if d.status & STATUS_DD),
            rnbc=self._rnbc,
            mpc=self._mpc,
            descriptors=descriptors,
        )

    def descriptor_snapshot(self, index: int) -> DescriptorSnapshot:
        """Descriptor ``index`` alone, decoded (cheaper than :meth:`snapshot` for one)."""
        layout = self.layout
        raw = self.memory.peek(layout.descriptor(index), DESCRIPTOR_LEN)
        return self._decoded(index % layout.ring_size, raw, *self._ends())

    def _ends(self) -> tuple[int, int]:
        """RDH and RDT as the register block holds them."""
        size = self.layout.ring_size
        memory = self.memory
        return memory.register_value("RDH") % size, memory.register_value("RDT") % size

    def _decoded(self, index: int, raw: bytes, rdh: int, rdt: int) -> DescriptorSnapshot:
        size = self.layout.ring_size
        desc = RxDescriptor.unpack(raw)
        # Hardware owns RDH .. RDT-1; the rest is the driver's.
        owner = "hardware" if (index - rdh) % size < (rdt - rdh) % size else "driver"
        return DescriptorSnapshot(
            index=index,
            addr=self.layout.descriptor(index),
            buffer_addr=desc.buffer_addr,
            length=desc.length,
            status=desc.status,
            flags=bit_names(desc.status, STATUS_BITS),
            errors=desc.errors,
            owner=owner,
            written_ns=self.written_ns[index],
        )

    @property
    def frames_held(self) -> int:
        """Frames accepted for posting but not yet in the ring (in flight here)."""
        return len(self.pending) + (self.current is not None)

    def handle(self, message: RingInput, now_ns: int) -> Sequence[Effect]:
        """Take a frame to post, or the ring's own next step.

        Raises:
            IllegalValue: a frame with a negative copy time.
            UnexpectedMessage: a timer the ring did not arm, or a message it does not take.
        """
        match message:
            case PostFrame():
                if message.copy_ns < 0:
                    problem = f"negative copy time {message.copy_ns} ns"
                    raise IllegalValue("RxRing", message, problem)
                self.pending.append(message)
                if self.state is not RingState.IDLE:
                    return ()
                if now_ns <= self._free_at:
                    # The engine is still writing the last frame back: the next
                    # begins after that write lands (and after its instant's deliveries).
                    self.state = RingState.BUSY
                    wait = self._free_at - now_ns
                    return (SetTimer("step", wait, RingStep(RingStepKind.WRITTEN), priority=1),)
                return self._begin(now_ns)
            case RingStep():
                return self._timer(message, now_ns)
            case _:
                raise unexpected("RxRing", message)

    def _timer(self, message: RingStep, now_ns: int) -> Sequence[Effect]:
        step = message.step
        if _ARMED_IN.get(step) is not self.state:
            raise UnexpectedMessage("RxRing", message, self.state.value)
        match step:
            case RingStepKind.POLL:
                return self._try_post(now_ns)
            case RingStepKind.WRITTEN:
                if self.current is None:  # a posted write-back has landed
                    return self._begin(now_ns)
                return self._done(now_ns)
            case _:
                raise unknown_step("RxRing", message, step)

    def _begin(self, now_ns: int) -> Sequence[Effect]:
        if not self.pending:
            self.state = RingState.IDLE
            return ()
        self.current = self.pending.popleft()
        self._waiting_since_begin = False
        return self._try_post(now_ns)

    def _load(self, addr: int, length: int, now_ns: int) -> bytes:
        data = self.memory.load(self.node, addr, length, now_ns)
        if data is None:
            raise IllegalValue(
                "RxRing", self.current, f"node {self.node} may not read {addr:#x} (+{length})"
            )
        if self.store_buffer is not None:
            return self.store_buffer.forward(addr, length, data, now_ns)
        return data

    def _try_post(self, now_ns: int) -> Sequence[Effect]:
        """Load RDT and the descriptors now; post the frame if there is room."""
        frame = self.current
        assert frame is not None
        layout = self.layout
        count = layout.descriptors_for(len(frame.frame))
        rdt = struct.unpack("<I", self._load(layout.register("RDT"), 4, now_ns))[0]
        free = (rdt % layout.ring_size - self.rdh) % layout.ring_size
        if free < count:
            return self._no_buffer(now_ns)
        descriptors = [
            RxDescriptor.unpack(self._load(layout.descriptor(self.rdh + i), DESCRIPTOR_LEN, now_ns))
            for i in range(count)
        ]
        if not self.full:
            return self._post(frame, descriptors, now_ns)
        return (
            Note(NoteKind.LOADED, {"addr": layout.register("RDT"), "length": 4, "rdt": rdt}),
            *self._post(frame, descriptors, now_ns),
        )

    def _no_buffer(self, now_ns: int) -> Sequence[Effect]:
        assert self.current is not None
        if self.no_buffer == "block":
            # RNBC counts each frame that met a full ring once; the frame is held, not missed.
            if not self._waiting_since_begin:
                self._rnbc += 1
                self._waiting_since_begin = True
            self._polls += 1
            self.state = RingState.WAITING
            return (SetTimer("step", self.block_poll_ns, RingStep(RingStepKind.POLL)),)
        self._rnbc += 1
        self._mpc += 1
        frame, self.current = self.current, None
        effects: list[Effect] = [
            Send(frame.reply_to, FrameRefused(frame.seq, "no_descriptor")),
            Note(NoteKind.RING_FULL, {"seq": frame.seq, "rdh": self.rdh}, TraceLevel.FULL),
        ]
        effects += self._begin(now_ns)
        return effects

    def _post(
        self, frame: PostFrame, descriptors: list[RxDescriptor], now_ns: int
    ) -> Sequence[Effect]:
        """The whole frame as one posted write that lands when the write-back is done.

        Through a store buffer: the same stores, in the same order, entering it then
        (a full buffer holds the write-back up until an entry drains).
        """
        layout = self.layout
        data = frame.frame
        size = layout.buffer_size
        first, count = self.rdh, len(descriptors)
        writes: list[tuple[int, bytes]] = []
        for i, desc in enumerate(descriptors):
            if desc.buffer_addr:
                writes.append((desc.buffer_addr, data[i * size : (i + 1) * size]))
            else:  # QEMU skips a null buffer "as per intel docs" but still writes back
                self._null += 1
        for i, desc in enumerate(descriptors):  # the fields, DD clear
            chunk_len = len(data[i * size : (i + 1) * size])
            written = RxDescriptor(desc.buffer_addr, length=chunk_len)
            writes.append((layout.descriptor(first + i), written.pack()))
        for i in range(count):  # then DD, last
            status = STATUS_DD | (STATUS_EOP | STATUS_IXSM if i == count - 1 else 0)
            writes.append((layout.descriptor(first + i) + STATUS_OFFSET, bytes([status])))
        self.rdh = (first + count) % layout.ring_size
        writes.append((layout.register("RDH"), struct.pack("<I", self.rdh)))
        if self.latch_cause:
            writes.append((layout.register("ICS"), struct.pack("<I", ICR_RXT0)))
        copied = self.load_ns + frame.copy_ns
        done = copied + self.writeback_ns
        self._first, self._count = first, count
        self.state = RingState.BUSY
        copied_note = None
        if self.full:
            fields = {"seq": frame.seq, "desc": first, "length": len(data)}
            copied_note = Note(NoteKind.FRAME_COPIED, fields, delay_ns=copied)
        buffer = self.store_buffer
        if buffer is not None:
            effects: list[Effect] = [] if copied_note is None else [copied_note]
            at = now_ns + done
            for addr, stored_bytes in writes:
                at, stored = buffer.store(addr, stored_bytes, at, now_ns, self.name)
                effects += stored
            done = at - now_ns
            effects.append(SetTimer("step", done, RingStep(RingStepKind.WRITTEN), priority=1))
            return effects
        # Posted: the frame's producer hears of it from memory, once the write has
        # landed, and the engine is free for the next frame from then on.
        self.current = None
        self._free_at, self._landing_seq = now_ns + done, frame.seq
        note = self._written(frame, done, now_ns)
        said = ("", ()) if note is None else (note.kind, tuple(note.fields.items()))
        posted = Completion(frame.reply_to, FramePosted(frame.seq, first, count), self.name, *said)
        effects = [Send(self.memory_actor, MemoryWrite(self.node, tuple(writes), posted), done)]
        if copied_note is not None:
            effects.append(copied_note)
        if self.pending:
            # After the write (priority 0) that lands at the same instant.
            effects.append(SetTimer("step", done, RingStep(RingStepKind.WRITTEN), priority=1))
        else:
            self.state = RingState.IDLE
        return effects

    def _written(self, frame: PostFrame, delay_ns: int, now_ns: int) -> Note | None:
        """Count the frame's write-back, which lands ``delay_ns`` from now; its note.

        None below the full trace level, where the note would not be kept.
        """
        first, count = self._first, self._count
        size = self.layout.ring_size
        for i in range(count):
            self.written_ns[(first + i) % size] = now_ns + delay_ns
        self._posted += 1
        self._used += count
        self._spanning += count > 1
        if not self.full:
            return None
        done = {"seq": frame.seq, "desc": first, "count": count}
        return Note(NoteKind.DESCRIPTOR_DONE, done)

    def _done(self, now_ns: int) -> Sequence[Effect]:
        """The write-back through the store buffer has drained (tso)."""
        frame, self.current = self.current, None
        assert frame is not None
        note = self._written(frame, 0, now_ns)
        effects: list[Effect] = [] if note is None else [note]
        effects.append(Send(frame.reply_to, FramePosted(frame.seq, self._first, self._count)))
        effects += self._begin(now_ns)
        return effects
