"""Physical memory: real bytes, Mint partitions, refused accesses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mintactors.errors import UnexpectedMessage
from mintactors.hardware.memory import MemoryRegion, PhysicalMemory
from mintactors.messages import MemoryData, MemoryFault, MemoryInput, MemoryRead, MemoryWrite
from mintactors.runtime import Note, Send
from mintactors.testing import example_message, message_kinds_outside, plain_state

NODE0 = MemoryRegion("node0", 0x0000, 0x10000, frozenset({0}))
NODE1 = MemoryRegion("node1", 0x10000, 0x10000, frozenset({1}))
SHARED = MemoryRegion("shared", 0x20000, 0x10000, frozenset({0, 1}))


def memory() -> PhysicalMemory:
    return PhysicalMemory(regions=[NODE1, SHARED, NODE0], latency_ns=30)


def test_a_node_reads_back_what_it_wrote_after_the_latency() -> None:
    """A write lands at once; a read answers with the bytes after latency_ns."""
    mem = memory()
    assert mem.handle(MemoryWrite(0, ((0x20010, b"hello"),)), 5) == []
    effects = mem.handle(MemoryRead(1, ((0x20010, 5), (0x2000E, 4)), "reader", "t"), 7)
    assert effects == (Send("reader", MemoryData("t", (b"hello", b"\0\0he")), 30),)


@given(
    addr=st.integers(0x20000, 0x2FFFF - 40),
    data=st.binary(min_size=1, max_size=9000),
)
def test_bytes_survive_page_boundaries(addr: int, data: bytes) -> None:
    """Whatever is written, at any offset and length, reads back byte for byte."""
    mem = PhysicalMemory(
        regions=[MemoryRegion("big", 0x20000, 0x20000, frozenset({0}))], latency_ns=0
    )
    mem.handle(MemoryWrite(0, ((addr, data),)), 0)
    assert mem.peek(addr, len(data)) == data
    assert mem.peek(addr - 1, 1) == b"\0"


def test_write_into_another_nodes_memory_is_refused_and_recorded() -> None:
    """Node 1 writing node 0's memory changes nothing and is recorded as a violation."""
    mem = memory()
    mem.poke(0x100, b"node0 data")
    effects = mem.handle(MemoryWrite(1, ((0x100, b"XXXXX"),), "driver", "w"), 42)
    assert mem.peek(0x100, 10) == b"node0 data"
    assert len(mem.violations) == 1
    violation = mem.violations[0]
    assert (violation.t_ns, violation.node, violation.addr, violation.access) == (
        42,
        1,
        0x100,
        "write",
    )
    assert any(isinstance(e, Note) and e.kind == "AccessViolation" for e in effects)
    assert Send("driver", MemoryFault("w", 1, 0x100, 5, "write"), 30) in effects
    assert mem.statistics().violations == 1


def test_access_straddling_two_regions_is_refused() -> None:
    """A range crossing from shared memory into unowned space is refused whole."""
    mem = memory()
    effects = mem.handle(MemoryRead(0, ((0x2FFF0, 32),), "r", "x"), 0)
    assert [e.message for e in effects if isinstance(e, Send)] == [
        MemoryFault("x", 0, 0x2FFF0, 32, "read")
    ]


def test_a_batch_applies_allowed_writes_and_refuses_the_rest() -> None:
    """Each write of a batch is checked on its own, like separate stores."""
    mem = memory()
    mem.handle(MemoryWrite(0, ((0x20000, b"ok"), (0x10000, b"no"), (0x20002, b"!"))), 0)
    assert mem.peek(0x20000, 3) == b"ok!"
    assert mem.peek(0x10000, 2) == b"\0\0"
    assert mem.statistics().writes == 2


def test_overlapping_regions_are_refused() -> None:
    """Mint partitions are disjoint; overlapping ranges are a build error."""
    with pytest.raises(ValueError, match="overlap"):
        PhysicalMemory(
            regions=[NODE0, MemoryRegion("x", 0xFFF0, 0x100, frozenset({1}))], latency_ns=0
        )


@pytest.mark.parametrize("kind", message_kinds_outside(MemoryInput), ids=lambda k: k.__name__)
def test_a_message_outside_its_input_is_refused_and_changes_nothing(kind: type) -> None:
    """Memory takes reads and writes only; anything else is refused, bytes and counters kept."""
    mem = memory()
    mem.handle(MemoryWrite(0, ((0x20010, b"kept"),)), 0)
    mem.handle(MemoryWrite(1, ((0x100, b"refused"),), "driver", "w"), 1)
    before = plain_state(mem)
    with pytest.raises(UnexpectedMessage):
        mem.handle(example_message(kind), 2)  # type: ignore[arg-type]
    assert plain_state(mem) == before
