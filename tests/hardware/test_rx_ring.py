"""The e1000 receive ring: descriptors, head/tail, DD last, no-buffer policies."""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mintactors.errors import IllegalValue, MintactorsError, UnexpectedMessage
from mintactors.hardware.memory import MemoryRegion, PhysicalMemory
from mintactors.hardware.nic import STATUS_DD, STATUS_EOP, NicLayout, RxDescriptor
from mintactors.hardware.rx_ring import RingState, RxRing
from mintactors.messages import (
    FramePosted,
    FrameRefused,
    MemoryWrite,
    PostFrame,
    RingInput,
    RingStep,
    RingStepKind,
)
from mintactors.runtime import Effect, Simulation
from mintactors.testing import Recorder, example_message, message_kinds_outside, plain_state

BASE = 0x100000


@given(
    st.tuples(
        st.integers(0, 2**64 - 1),
        st.integers(0, 0xFFFF),
        st.integers(0, 0xFFFF),
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 0xFFFF),
    )
)
def test_descriptor_round_trips_through_its_16_bytes(fields: tuple[int, ...]) -> None:
    """pack/unpack is exact for every field value."""
    desc = RxDescriptor(*fields)
    packed = desc.pack()
    assert len(packed) == 16
    assert RxDescriptor.unpack(packed) == desc
    assert packed[:8] == fields[0].to_bytes(8, "little")
    assert packed[12] == fields[3]


def test_layout_refuses_sizes_the_hardware_cannot_have() -> None:
    """RDLEN is a multiple of 128 bytes; buffer sizes are the RCTL.BSIZE choices."""
    with pytest.raises(ValueError, match="multiple of 8"):
        NicLayout(BASE, 12, 2048)
    with pytest.raises(ValueError, match="buffer size"):
        NicLayout(BASE, 16, 3000)


@attrs.define
class Producer:
    """Posts frames and records the ring's answers."""

    answers: list[tuple[int, object]] = attrs.field(factory=list)

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        self.answers.append((now_ns, message))
        return ()


def ring_machine(ring_size: int = 8, rdt: int = 6, no_buffer: str = "drop"):  # type: ignore[no-untyped-def]
    layout = NicLayout(BASE, ring_size, 2048)
    memory = PhysicalMemory(
        regions=[MemoryRegion("shared", BASE, 0x100000, frozenset({0, 1}))], latency_ns=30
    )
    for i in range(ring_size):  # what the driver's init would have written
        memory.poke(layout.descriptor(i), RxDescriptor(layout.buffer(i)).pack())
    memory.poke(layout.register("RDT"), struct.pack("<I", rdt))
    ring = RxRing(
        name="ring",
        layout=layout,
        memory=memory,
        memory_actor="memory",
        node=0,
        load_ns=30,
        writeback_ns=10,
        no_buffer=no_buffer,
        block_poll_ns=500,
    )
    sim = Simulation()
    producer = Producer()
    sim.add_actor("memory", memory)
    sim.add_actor("ring", ring)
    sim.add_actor("producer", producer)
    return sim, memory, ring, producer, layout


async def test_posting_fills_buffer_then_descriptor_with_dd_and_eop() -> None:
    """A frame lands in the buffer at RDH, the descriptor gets length and DD|EOP, RDH moves."""
    sim, memory, ring, producer, layout = ring_machine()
    frame = bytes(range(256)) * 4
    sim.post("ring", PostFrame(7, frame, copy_ns=200, reply_to="producer"))
    await sim.run()
    desc = RxDescriptor.unpack(memory.peek(layout.descriptor(0), 16))
    assert desc.buffer_addr == layout.buffer(0)
    assert desc.length == len(frame)
    assert desc.status & (STATUS_DD | STATUS_EOP) == STATUS_DD | STATUS_EOP
    assert memory.peek(layout.buffer(0), len(frame)) == frame
    assert ring.rdh == 1
    assert struct.unpack("<I", memory.peek(layout.register("RDH"), 4))[0] == 1
    # load of RDT and the descriptor (30 ns) + copy (200 ns) + write-back (10 ns)
    assert producer.answers == [(240, FramePosted(7, 0, 1))]


@attrs.define
class Spy:
    """Sits between the ring and memory and records every write, in order."""

    memory: PhysicalMemory
    writes: list[tuple[int, int, bytes]] = attrs.field(factory=list)

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        if isinstance(message, MemoryWrite):
            self.writes.extend((now_ns, a, d) for a, d in message.writes)
        return self.memory.handle(message, now_ns)


async def test_dd_is_written_after_data_and_descriptor_fields() -> None:
    """The status byte with DD comes last, after the buffer and the DD-clear write-back.

    The whole frame is one posted write that lands when the write-back is done, so
    no reader can see DD before the data, or the data at all before then.
    """
    layout = NicLayout(BASE, 8, 2048)
    memory = PhysicalMemory(
        regions=[MemoryRegion("shared", BASE, 0x100000, frozenset({0}))], latency_ns=30
    )
    for i in range(8):
        memory.poke(layout.descriptor(i), RxDescriptor(layout.buffer(i)).pack())
    memory.poke(layout.register("RDT"), struct.pack("<I", 7))
    spy = Spy(memory)
    sim = Simulation()
    sim.add_actor("memory", spy)
    ring = RxRing(
        name="ring",
        layout=layout,
        memory=memory,
        memory_actor="memory",
        node=0,
        load_ns=30,
        writeback_ns=10,
    )
    sim.add_actor("ring", ring)
    sim.add_actor("producer", Producer())
    sim.post("ring", PostFrame(1, b"x" * 100, copy_ns=50, reply_to="producer"))
    await sim.run()
    addrs = [a for _, a, _ in spy.writes]
    status_addr = layout.descriptor(0) + 12
    assert (
        addrs.index(layout.buffer(0)) < addrs.index(layout.descriptor(0)) < addrs.index(status_addr)
    )
    full_desc = next(d for _, a, d in spy.writes if a == layout.descriptor(0))
    assert full_desc[12] & STATUS_DD == 0
    assert {t for t, _, _ in spy.writes} == {30 + 50 + 10}


async def test_full_ring_drops_and_counts_rnbc_and_mpc() -> None:
    """With RDT = 2 only descriptors 0 and 1 are free; the third frame is refused."""
    sim, _, ring, producer, _ = ring_machine(rdt=2)
    for seq in range(3):
        sim.post("ring", PostFrame(seq, b"y" * 64, copy_ns=10, reply_to="producer"))
    await sim.run()
    answers = [m for _, m in producer.answers]
    assert answers == [FramePosted(0, 0, 1), FramePosted(1, 1, 1), FrameRefused(2, "no_descriptor")]
    stats = ring.statistics()
    assert (stats.frames_posted, stats.rnbc, stats.mpc) == (2, 1, 1)


async def test_block_policy_waits_for_rdt_to_move() -> None:
    """Under block, a frame meeting a full ring is posted once the driver advances RDT."""
    sim, _, ring, producer, layout = ring_machine(rdt=1, no_buffer="block")
    sim.add_actor("driver", Recorder())
    sim.post("ring", PostFrame(0, b"a" * 64, copy_ns=10, reply_to="producer"))
    sim.post("ring", PostFrame(1, b"b" * 64, copy_ns=10, reply_to="producer"))
    sim.post(
        "memory", MemoryWrite(1, ((layout.register("RDT"), struct.pack("<I", 4)),)), at_ns=2000
    )
    await sim.run()
    posted = [(t, m) for t, m in producer.answers]
    assert [m for _, m in posted] == [FramePosted(0, 0, 1), FramePosted(1, 1, 1)]
    assert posted[1][0] > 2000
    stats = ring.statistics()
    assert (stats.rnbc, stats.mpc) == (1, 0)
    assert stats.block_polls >= 3


async def test_frame_longer_than_a_buffer_spans_descriptors_with_eop_on_the_last() -> None:
    """A 5000-byte frame takes three 2048-byte buffers; only the third has EOP."""
    sim, memory, ring, producer, layout = ring_machine()
    frame = bytes(i % 251 for i in range(5000))
    sim.post("ring", PostFrame(0, frame, copy_ns=10, reply_to="producer"))
    await sim.run()
    descs = [RxDescriptor.unpack(memory.peek(layout.descriptor(i), 16)) for i in range(3)]
    assert [d.length for d in descs] == [2048, 2048, 904]
    assert [d.end_of_packet for d in descs] == [False, False, True]
    assert all(d.done for d in descs)
    joined = b"".join(memory.peek(layout.buffer(i), d.length) for i, d in enumerate(descs))
    assert joined == frame
    assert producer.answers[0][1] == FramePosted(0, 0, 3)
    assert ring.statistics().frames_spanning == 1


def busy_ring() -> RxRing:
    """A ring posting its first frame into buffer 0, a second frame waiting."""
    _, _, ring, _, _ = ring_machine()
    ring.handle(PostFrame(0, b"a" * 100, copy_ns=10, reply_to="producer"), 0)
    ring.handle(PostFrame(1, b"b" * 100, copy_ns=10, reply_to="producer"), 1)
    assert ring.state is RingState.BUSY
    return ring


@pytest.mark.parametrize(
    ("make", "message", "error"),
    [
        (busy_ring, PostFrame(2, b"c", copy_ns=-1, reply_to="producer"), IllegalValue),
        (busy_ring, RingStep(RingStepKind.POLL), UnexpectedMessage),
        (busy_ring, RingStep("bogus"), UnexpectedMessage),  # type: ignore[arg-type]
    ],
    ids=lambda value: getattr(value, "__name__", repr(value)[:60]),
)
def test_an_illegal_input_is_refused_and_changes_nothing(
    make: Callable[[], RxRing], message: RingInput, error: type[MintactorsError]
) -> None:
    """A negative copy time or a stray timer leaves the ring as it was."""
    ring = make()
    before = plain_state(ring)
    with pytest.raises(error):
        ring.handle(message, 40)
    assert plain_state(ring) == before


@pytest.mark.parametrize("kind", message_kinds_outside(RingInput), ids=lambda k: k.__name__)
def test_a_message_outside_its_input_is_refused_and_changes_nothing(kind: type) -> None:
    """A mis-wired machine's message (not a RingInput) is an UnexpectedMessage."""
    ring = busy_ring()
    before = plain_state(ring)
    with pytest.raises(UnexpectedMessage):
        ring.handle(example_message(kind), 40)  # type: ignore[arg-type]
    assert plain_state(ring) == before
