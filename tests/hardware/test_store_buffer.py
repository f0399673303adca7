"""A core's store buffer (x86-TSO): FIFO drains, forwarding, a full buffer, fences."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mintactors import Note, Send
from mintactors.errors import UnexpectedMessage
from mintactors.hardware.memory import MemoryRegion, PhysicalMemory
from mintactors.hardware.store_buffer import StoreBuffer
from mintactors.messages import DrainStores
from mintactors.notes import NoteKind
from mintactors.testing import plain_state

BASE = 0x1000


def draws(*delays: int) -> Iterator[int]:
    yield from delays


def make(*delays: int, capacity: int = 56) -> tuple[StoreBuffer, PhysicalMemory]:
    it = draws(*delays)
    buffer = StoreBuffer(
        core="core1", node=1, capacity=capacity, drain_ns=lambda: next(it), memory_actor="memory"
    )
    memory = PhysicalMemory(
        regions=[MemoryRegion("shared", BASE, 0x1000, frozenset({0, 1}))], latency_ns=30
    )
    memory.attach(buffer)
    return buffer, memory


def sends(effects: list[object]) -> list[tuple[int, DrainStores]]:
    return [
        (e.delay_ns, e.message)
        for e in effects
        if isinstance(e, Send) and isinstance(e.message, DrainStores)
    ]


def test_a_store_drains_after_its_delay_as_a_message_to_memory() -> None:
    """The store enters now and is posted to memory as a drain due ``delay`` later."""
    buffer, memory = make(25)
    entered, effects = buffer.store(BASE, b"\x01", 100, 100, "driver")
    assert entered == 100
    assert sends(effects) == [(25, DrainStores("core1", 1))]
    assert memory.peek(BASE, 1) == b"\x00"  # not yet
    memory.handle(DrainStores("core1", 1), 125)
    assert memory.peek(BASE, 1) == b"\x01"
    assert len(buffer) == 0


def test_a_later_store_never_drains_before_an_earlier_one() -> None:
    """Drains keep program order: a short draw behind a long one waits for it."""
    buffer, _ = make(50, 5)
    _, first = buffer.store(BASE, b"\x01", 0, 0, "driver")
    _, second = buffer.store(BASE + 64, b"\x02", 10, 0, "driver")
    assert [delay for delay, _ in sends(first + second)] == [50, 50]


def test_a_drain_applies_every_entry_through_its_own_in_order() -> None:
    """A drain message for entry 2 also applies entry 1 if it is still there, first."""
    buffer, memory = make(10, 10)
    buffer.store(BASE, b"\x01", 0, 0, "driver")
    buffer.store(BASE, b"\x02", 0, 0, "driver")
    memory.handle(DrainStores("core1", 2), 10)
    assert memory.peek(BASE, 1) == b"\x02"
    assert memory.handle(DrainStores("core1", 1), 10) == []  # nothing left to apply
    assert memory.peek(BASE, 1) == b"\x02"


def test_a_load_forwards_the_newest_buffered_byte_and_reads_memory_for_the_rest() -> None:
    """Each byte comes from the newest store to it in the buffer, else from memory."""
    buffer, memory = make(100, 100)
    memory.poke(BASE, b"\xaa\xbb\xcc\xdd")
    buffer.store(BASE + 1, b"\x01\x02", 0, 0, "driver")
    buffer.store(BASE + 2, b"\x03", 0, 0, "driver")
    loaded = memory.load(1, BASE, 4, 10)
    assert loaded == b"\xaa\xbb\xcc\xdd"  # memory itself has not changed
    assert buffer.forward(BASE, 4, loaded, 10) == b"\xaa\x01\x03\xdd"
    assert buffer.statistics().forwarded_loads == 1


def test_a_store_made_later_than_a_load_is_not_forwarded_to_it() -> None:
    """An entry entering after the load's instant (code running ahead) is not seen."""
    buffer, _ = make(10)
    buffer.store(BASE, b"\x01", 50, 0, "rx_ring")
    assert buffer.forward(BASE, 1, b"\x00", 40) == b"\x00"
    assert buffer.forward(BASE, 1, b"\x00", 50) == b"\x01"


def test_a_store_into_a_full_buffer_waits_for_the_oldest_entry_to_drain() -> None:
    """With two entries of room, the third store enters when the first drains."""
    buffer, _ = make(30, 40, 5, capacity=2)
    buffer.store(BASE, b"\x01", 0, 0, "driver")
    buffer.store(BASE + 1, b"\x02", 0, 0, "driver")
    entered, effects = buffer.store(BASE + 2, b"\x03", 10, 0, "driver")
    assert entered == 30
    stalled = [e for e in effects if isinstance(e, Note) and e.kind == NoteKind.STORE_STALLED]
    assert stalled[0].fields["waited_ns"] == 20
    assert buffer.statistics().stalls == 1
    assert buffer.statistics().high_water == 2


def test_a_fence_waits_until_the_last_store_made_before_it_has_drained() -> None:
    """``drained_by`` is the last due instant of the stores made by then."""
    buffer, _ = make(30, 5)
    assert not buffer.holds(0)
    assert buffer.drained_by(0) == 0
    buffer.store(BASE, b"\x01", 0, 0, "driver")
    buffer.store(BASE + 1, b"\x02", 20, 0, "driver")
    assert buffer.holds(10)
    assert buffer.drained_by(10) == 30  # the second store is made after 10
    assert buffer.drained_by(20) == 30


def test_at_a_fence_the_core_applies_what_is_due_and_not_yet_delivered() -> None:
    """A fence at the drain instant applies the entry itself; its message then does nothing."""
    buffer, memory = make(10, 50)
    buffer.store(BASE, b"\x01", 0, 0, "driver")
    buffer.store(BASE + 1, b"\x02", 0, 0, "driver")
    effects = memory.drain(buffer, 10)  # due at 10: the first only
    assert memory.peek(BASE, 2) == b"\x01\x00"
    drained = [e for e in effects if isinstance(e, Note) and e.kind == NoteKind.STORE_DRAINED]
    assert [(n.fields["addr"], n.fields["by_fence"]) for n in drained] == [(BASE, True)]
    assert memory.handle(DrainStores("core1", 1), 10) == []
    assert buffer.statistics().drained_by_fence == 1


def test_a_drained_store_is_checked_like_any_other() -> None:
    """A buffered store outside the node's memory is refused when it drains, and recorded."""
    buffer, memory = make(10)
    buffer.store(0x9000, b"\x01", 0, 0, "driver")
    effects = memory.handle(DrainStores("core1", 1), 10)
    assert next(e.kind for e in effects if isinstance(e, Note)) == NoteKind.ACCESS_VIOLATION
    assert memory.statistics().violations == 1


def test_a_drain_for_a_core_without_a_buffer_is_refused_and_changes_nothing() -> None:
    """Memory takes drains only for the buffers attached to it."""
    _, memory = make()
    before = plain_state(memory)
    with pytest.raises(UnexpectedMessage):
        memory.handle(DrainStores("core7", 1), 0)
    assert plain_state(memory) == before


def test_a_buffer_holds_at_least_one_entry() -> None:
    """Capacity 0 is no buffer at all: refused."""
    with pytest.raises(ValueError, match="at least one entry"):
        StoreBuffer(core="c", node=0, capacity=0, drain_ns=lambda: 0, memory_actor="memory")
