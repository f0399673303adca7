"""The receive side of the emulated NIC: puts frames into the e1000 descriptor ring.

This is what a NIC's receive DMA engine does, written once and used by every
producer: the Mint debug-support mechanism (a CPU copy on node 0) and the model of
a real 1 Gb/s NIC (DMA). It follows the 8254x and QEMU's e1000 model (domain.md
1.2-1.3):

* Hardware owns descriptors ``RDH .. RDT-1``; ``RDH == RDT`` means no free buffer.
  The driver keeps one slot empty, so a full ring holds ``ring_size - 1`` frames.
* A frame longer than one buffer spans several descriptors; only the last has EOP.
* Data lands first; then each descriptor is written back with DD clear, and only
  then is the status byte written with DD set (QEMU's ordering: a driver polling DD
  never sees a half-written descriptor).
* With no free descriptor, ``drop`` counts RNBC and MPC and refuses the frame (an
  8254x drops it once its RX FIFO is full); ``block`` polls RDT every
  ``block_poll_ns`` until space appears (QEMU's behaviour: hold the frame until RDT
  moves).

Theory of operation: frames queue in arrival order and are posted one at a time.
``idle`` -> (read RDT and the next descriptors) ``reading`` -> ``copying`` (for
``copy_ns``) -> ``writing_back`` (for ``writeback_ns``) -> ``idle``; ``reading``
goes to ``waiting`` instead when the ring is full under ``block``.
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
from mintactors.hardware.nic import (
    DESCRIPTOR_LEN,
    STATUS_DD,
    STATUS_EOP,
    STATUS_IXSM,
    STATUS_OFFSET,
    NicLayout,
    RxDescriptor,
)
from mintactors.messages import (
    FramePosted,
    FrameRefused,
    MemoryData,
    MemoryRead,
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
    READING = "reading"  # waiting for RDT and the descriptors it will fill
    WAITING = "waiting"  # under ``block``: the ring was full; RDT is re-read later
    COPYING = "copying"  # the frame's bytes are moving into the buffers
    WRITING_BACK = "writing_back"  # the descriptors are written back, DD clear


#: The state in which each of the ring's timers is armed; in any other it is refused.
_ARMED_IN: Final = {
    RingStepKind.POLL: RingState.WAITING,
    RingStepKind.COPIED: RingState.COPYING,
    RingStepKind.WRITTEN: RingState.WRITING_BACK,
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
        name: this actor's name (memory replies come back to it).
        layout: where ring, buffers and registers sit.
        memory: name of the memory actor.
        node: the OS node whose accesses these are (the producer's).
        writeback_ns: time to write one descriptor back.
        no_buffer: ``drop`` or ``block``.
        block_poll_ns: under ``block``, how often RDT is re-read.
    """

    def __init__(
        self,
        *,
        name: str,
        layout: NicLayout,
        memory: str,
        node: int,
        writeback_ns: int,
        no_buffer: str = "drop",
        block_poll_ns: int = 1000,
    ) -> None:
        if no_buffer not in NO_BUFFER_POLICIES:
            raise ValueError(f"no-buffer policy {no_buffer!r}: allowed {NO_BUFFER_POLICIES}")
        self.name = name
        self.layout = layout
        self.memory = memory
        self.node = node
        self.writeback_ns = writeback_ns
        self.no_buffer = no_buffer
        self.block_poll_ns = block_poll_ns
        self.rdh = 0
        self.state = RingState.IDLE
        self.pending: deque[PostFrame] = deque()
        self.current: PostFrame | None = None
        self._descriptors: list[RxDescriptor] = []
        self._waiting_since_begin = False
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
        """Frames whose descriptors have been written back with DD (cheap; for monitors)."""
        return self._posted

    @property
    def frames_held(self) -> int:
        """Frames accepted for posting but not yet in the ring (in flight here)."""
        return len(self.pending) + (self.current is not None)

    def handle(self, message: RingInput, now_ns: int) -> Sequence[Effect]:
        """Take a frame to post, a memory reply, or the ring's own next step.

        Raises:
            IllegalValue: a frame with a negative copy time, or a memory reply that
                is not the shape of the read the ring made.
            UnexpectedMessage: a memory reply or timer the ring is not waiting for,
                or a message it does not take.
        """
        match message:
            case PostFrame():
                if message.copy_ns < 0:
                    problem = f"negative copy time {message.copy_ns} ns"
                    raise IllegalValue("RxRing", message, problem)
                self.pending.append(message)
                return self._begin() if self.state is RingState.IDLE else ()
            case MemoryData():
                if message.tag != "ring" or self.state is not RingState.READING:
                    raise UnexpectedMessage("RxRing", message, self.state.value)
                self._check_shape(message)
                return self._check_space(message.chunks)
            case RingStep():
                return self._timer(message)
            case _:
                raise unexpected("RxRing", message)

    def _timer(self, message: RingStep) -> Sequence[Effect]:
        step = message.step
        if _ARMED_IN.get(step) is not self.state:
            raise UnexpectedMessage("RxRing", message, self.state.value)
        match step:
            case RingStepKind.POLL:
                return self._read_ring()
            case RingStepKind.COPIED:
                return self._write_back_fields()
            case RingStepKind.WRITTEN:
                return self._set_done()
            case _:
                raise unknown_step("RxRing", message, step)

    def _check_shape(self, message: MemoryData) -> None:
        """The reply to :meth:`_read_ring`: RDT, then one 16-byte descriptor per buffer."""
        assert self.current is not None
        count = self.layout.descriptors_for(len(self.current.frame))
        chunks = message.chunks
        if (
            len(chunks) != 1 + count
            or len(chunks[0]) != 4
            or any(len(c) != DESCRIPTOR_LEN for c in chunks[1:])
        ):
            problem = f"expected RDT (4 bytes) and {count} descriptor(s) of {DESCRIPTOR_LEN}"
            raise IllegalValue("RxRing", message, problem)

    def _begin(self) -> Sequence[Effect]:
        if not self.pending:
            self.state = RingState.IDLE
            return ()
        self.current = self.pending.popleft()
        self._waiting_since_begin = False
        return self._read_ring()

    def _read_ring(self) -> Sequence[Effect]:
        assert self.current is not None
        count = self.layout.descriptors_for(len(self.current.frame))
        ranges = (
            (self.layout.register("RDT"), 4),
            *((self.layout.descriptor(self.rdh + i), DESCRIPTOR_LEN) for i in range(count)),
        )
        self.state = RingState.READING
        return (Send(self.memory, MemoryRead(self.node, ranges, self.name, "ring")),)

    def _check_space(self, chunks: tuple[bytes, ...]) -> Sequence[Effect]:
        assert self.current is not None
        rdt = struct.unpack("<I", chunks[0])[0] % self.layout.ring_size
        free = (rdt - self.rdh) % self.layout.ring_size
        needed = len(chunks) - 1
        if free < needed:
            return self._no_buffer()
        self._descriptors = [RxDescriptor.unpack(c) for c in chunks[1:]]
        self.state = RingState.COPYING
        return (SetTimer("step", self.current.copy_ns, RingStep(RingStepKind.COPIED)),)

    def _no_buffer(self) -> Sequence[Effect]:
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
        effects += self._begin()
        return effects

    def _write_back_fields(self) -> Sequence[Effect]:
        assert self.current is not None
        frame = self.current.frame
        size = self.layout.buffer_size
        writes: list[tuple[int, bytes]] = []
        for i, desc in enumerate(self._descriptors):
            chunk = frame[i * size : (i + 1) * size]
            if desc.buffer_addr:
                writes.append((desc.buffer_addr, chunk))
            else:  # QEMU skips a null buffer "as per intel docs" but still writes back
                self._null += 1
        for i, desc in enumerate(self._descriptors):  # data first, then write-back, DD clear
            chunk_len = len(frame[i * size : (i + 1) * size])
            written = RxDescriptor(desc.buffer_addr, length=chunk_len)
            writes.append((self.layout.descriptor(self.rdh + i), written.pack()))
        effects: list[Effect] = [Send(self.memory, MemoryWrite(self.node, tuple(writes)))]
        effects.append(
            Note(
                NoteKind.FRAME_COPIED,
                {"seq": self.current.seq, "desc": self.rdh, "length": len(frame)},
            )
        )
        self.state = RingState.WRITING_BACK
        effects.append(SetTimer("step", self.writeback_ns, RingStep(RingStepKind.WRITTEN)))
        return effects

    def _set_done(self) -> Sequence[Effect]:
        assert self.current is not None
        count = len(self._descriptors)
        first = self.rdh
        writes: list[tuple[int, bytes]] = []
        for i in range(count):
            last = i == count - 1
            status = STATUS_DD | (STATUS_EOP | STATUS_IXSM if last else 0)
            writes.append((self.layout.descriptor(first + i) + STATUS_OFFSET, bytes([status])))
        self.rdh = (first + count) % self.layout.ring_size
        writes.append((self.layout.register("RDH"), struct.pack("<I", self.rdh)))
        effects: list[Effect] = [Send(self.memory, MemoryWrite(self.node, tuple(writes)))]
        self._posted += 1
        self._used += count
        self._spanning += count > 1
        frame, self.current = self.current, None
        done = {"seq": frame.seq, "desc": first, "count": count}
        effects.append(Note(NoteKind.DESCRIPTOR_DONE, done))
        effects.append(Send(frame.reply_to, FramePosted(frame.seq, first, count)))
        effects += self._begin()
        return effects
