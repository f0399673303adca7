"""Physical memory: real bytes, Mint partitions, refused accesses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mintactors.errors import UnexpectedMessage
from mintactors.hardware.memory import MemoryRegion, PhysicalMemory
from mintactors.hardware.registers import ICR_RXT0, REGISTERS
from mintactors.messages import MemoryInput, MemoryWrite
from mintactors.runtime import Note
from mintactors.testing import example_message, message_kinds_outside, plain_state

NODE0 = MemoryRegion("node0", 0x0000, 0x10000, frozenset({0}))
NODE1 = MemoryRegion("node1", 0x10000, 0x10000, frozenset({1}))
SHARED = MemoryRegion("shared", 0x20000, 0x10000, frozenset({0, 1}))


def memory() -> PhysicalMemory:
    return PhysicalMemory(regions=[NODE1, SHARED, NODE0], latency_ns=30)


def test_a_node_loads_what_another_stored() -> None:
    """A store lands when its write is delivered; a load at a later instant sees it."""
    mem = memory()
    assert mem.handle(MemoryWrite(0, ((0x20010, b"hello"),)), 5) == []
    assert mem.load(1, 0x20010, 5, 7) == b"hello"
    assert mem.load(1, 0x2000E, 4, 7) == b"\0\0he"
    assert (mem.statistics().reads, mem.statistics().bytes_read) == (2, 9)


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
    effects = mem.handle(MemoryWrite(1, ((0x100, b"XXXXX"),)), 42)
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
    assert mem.statistics().violations == 1


def test_access_straddling_two_regions_is_refused() -> None:
    """A load crossing from shared memory into unowned space is refused whole, and recorded."""
    mem = memory()
    assert mem.load(0, 0x2FFF0, 32, 9) is None
    violation = mem.violations[0]
    assert (violation.t_ns, violation.addr, violation.access) == (9, 0x2FFF0, "read")


def test_the_register_block_sets_and_clears_mask_and_cause_bits() -> None:
    """IMS sets mask bits, IMC clears them, ICS latches causes, and reading ICR clears it."""
    base = 0x20000
    mem = PhysicalMemory(regions=[SHARED], latency_ns=30, registers_base=base)

    def word(name: str) -> int:
        return int.from_bytes(mem.peek(base + REGISTERS[name], 4), "little")

    def write(name: str, value: int) -> None:
        mem.handle(MemoryWrite(0, ((base + REGISTERS[name], value.to_bytes(4, "little")),)), 0)

    write("IMS", ICR_RXT0 | 0x04)
    write("IMS", 0x10)
    assert word("IMS") == ICR_RXT0 | 0x14
    write("IMC", ICR_RXT0)
    assert word("IMS") == 0x14
    write("ICS", ICR_RXT0)
    write("ICS", 0x40)
    assert mem.read_register(1, base + REGISTERS["ICR"], 5, clear=True) == ICR_RXT0 | 0x40
    assert word("ICR") == 0


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
    """Memory takes writes only; anything else is refused, bytes and counters kept."""
    mem = memory()
    mem.handle(MemoryWrite(0, ((0x20010, b"kept"),)), 0)
    mem.handle(MemoryWrite(1, ((0x100, b"refused"),)), 1)
    before = plain_state(mem)
    with pytest.raises(UnexpectedMessage):
        mem.handle(example_message(kind), 2)  # type: ignore[arg-type]
    assert plain_state(mem) == before
