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

import attrs

from mintactors.effects import Effect, Note, Send, SetTimer, TraceLevel
from mintactors.errors import UnexpectedMessage
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
    RingStep,
)

__all__ = ["NO_BUFFER_POLICIES", "RxRing", "RxRingStatistics"]

NO_BUFFER_POLICIES = ("drop", "block")


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
        self.state = "idle"
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

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        """Take a frame to post, a memory reply, or the ring's own next step."""
        match message:
            case PostFrame():
                self.pending.append(message)
                return self._begin() if self.state == "idle" else ()
            case MemoryData(tag="ring") if self.state == "reading":
                return self._check_space(message.chunks)
            case RingStep(step="poll") if self.state == "waiting":
                return self._read_ring()
            case RingStep(step="copied") if self.state == "copying":
                return self._write_back_fields()
            case RingStep(step="written") if self.state == "writing_back":
                return self._set_done()
            case _:
                raise UnexpectedMessage("RxRing", message, self.state)

    def _begin(self) -> Sequence[Effect]:
        if not self.pending:
            self.state = "idle"
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
        self.state = "reading"
        return (Send(self.memory, MemoryRead(self.node, ranges, self.name, "ring")),)

    def _check_space(self, chunks: tuple[bytes, ...]) -> Sequence[Effect]:
        assert self.current is not None
        rdt = struct.unpack("<I", chunks[0])[0] % self.layout.ring_size
        free = (rdt - self.rdh) % self.layout.ring_size
        needed = len(chunks) - 1
        if free < needed:
            return self._no_buffer()
        self._descriptors = [RxDescriptor.unpack(c) for c in chunks[1:]]
        self.state = "copying"
        return (SetTimer("step", self.current.copy_ns, RingStep("copied")),)

    def _no_buffer(self) -> Sequence[Effect]:
        assert self.current is not None
        if self.no_buffer == "block":
            # RNBC counts each frame that met a full ring once; the frame is held, not missed.
            if not self._waiting_since_begin:
                self._rnbc += 1
                self._waiting_since_begin = True
            self._polls += 1
            self.state = "waiting"
            return (SetTimer("step", self.block_poll_ns, RingStep("poll")),)
        self._rnbc += 1
        self._mpc += 1
        frame, self.current = self.current, None
        effects: list[Effect] = [
            Send(frame.reply_to, FrameRefused(frame.seq, "no_descriptor")),
            Note("RingFull", {"seq": frame.seq, "rdh": self.rdh}, TraceLevel.FULL),
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
                "FrameCopied",
                {"seq": self.current.seq, "desc": self.rdh, "length": len(frame)},
            )
        )
        self.state = "writing_back"
        effects.append(SetTimer("step", self.writeback_ns, RingStep("written")))
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
        effects.append(Note("DescriptorDone", {"seq": frame.seq, "desc": first, "count": count}))
        effects.append(Send(frame.reply_to, FramePosted(frame.seq, first, count)))
        effects += self._begin()
        return effects
