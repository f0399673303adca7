"""What each hardware component holds at one instant, as frozen records.

Every component's ``snapshot()`` returns one of these: a pure function of the
component (and, for the ring and the register block, of the memory they live in),
with no I/O, so tests, ``mintactors inspect`` and the Python API read the same
thing. (The memory's own record, :class:`~mintactors.hardware.memory.MemorySnapshot`,
lives beside the records it holds.) Registers and status bytes are kept as numbers
*and* decoded into the names the datasheets use (``DD``, ``EOP``; ``RXT0``), and
interrupt registers as the list of vectors set, because that is how a developer
reads them.
"""

from __future__ import annotations

import attrs

from mintactors.hardware.nic import STATUS_DD, STATUS_EOP, STATUS_IXSM
from mintactors.hardware.registers import (
    ICR_LSC,
    ICR_RXDMT0,
    ICR_RXO,
    ICR_RXSEQ,
    ICR_RXT0,
    ICR_TXDW,
)

__all__ = [
    "CAUSE_BITS",
    "STATUS_BITS",
    "ApicSnapshot",
    "CoreSnapshot",
    "DescriptorSnapshot",
    "E1000Snapshot",
    "LinkSnapshot",
    "RegisterSnapshot",
    "RingSnapshot",
    "StoreBufferSnapshot",
    "StoredEntrySnapshot",
    "WorkSnapshot",
    "bit_names",
    "vectors",
]

#: The receive descriptor's status bits, low to high (8254x manual 3.2.3.1).
STATUS_BITS: tuple[tuple[int, str], ...] = (
    (STATUS_DD, "DD"),
    (STATUS_EOP, "EOP"),
    (STATUS_IXSM, "IXSM"),
    (0x08, "VP"),
    (0x10, "UDPCS"),
    (0x20, "TCPCS"),
    (0x40, "IPCS"),
    (0x80, "PIF"),
)

#: The ICR/IMS cause bits the model knows, low to high (``E1000_ICR_*``).
CAUSE_BITS: tuple[tuple[int, str], ...] = (
    (ICR_TXDW, "TXDW"),
    (ICR_LSC, "LSC"),
    (ICR_RXSEQ, "RXSEQ"),
    (ICR_RXDMT0, "RXDMT0"),
    (ICR_RXO, "RXO"),
    (ICR_RXT0, "RXT0"),
)


def bit_names(value: int, table: tuple[tuple[int, str], ...]) -> tuple[str, ...]:
    """The names of the bits of ``value`` in ``table``; others as ``0x..`` (low to high)."""
    names = [name for bit, name in table if value & bit]
    rest = value & ~sum(bit for bit, _ in table)
    if rest:
        names.append(f"{rest:#x}")
    return tuple(names)


def vectors(bits: int) -> tuple[int, ...]:
    """The vectors set in a 256-bit IRR/ISR value, lowest first."""
    out = []
    while bits:
        low = bits & -bits
        out.append(low.bit_length() - 1)
        bits ^= low
    return tuple(out)


@attrs.frozen
class ApicSnapshot:
    """A local APIC's interrupt registers (Intel SDM Vol. 3A 10.8).

    Attributes:
        apic_id: the APIC's ID (its core's number).
        irr: vectors requested and not yet accepted.
        isr: vectors in service (accepted, no EOI yet).
        tpr: the task-priority register.
        ppr: the processor priority: max of TPR and the highest vector in service.
        intr: the vector INTR is raised for (None: INTR is low).
    """

    apic_id: int
    irr: tuple[int, ...]
    isr: tuple[int, ...]
    tpr: int
    ppr: int
    intr: int | None


@attrs.frozen
class WorkSnapshot:
    """One piece of task work a core runs or holds.

    Attributes:
        label: what the work is (``recv``, ``net_rx``, ``softirq``, ``ksoftirqd``).
        owner: the actor that asked for it.
        thread: the thread it is accounted to (empty for softirq work).
        priority: 0 softirq, 1 thread.
        cost_ns: the CPU time it asked for.
        started_ns: when it began (None: still queued).
        remaining_ns: CPU time it had left when it last (re)started (None: queued,
            so all of it); at time ``t`` it has ``remaining_ns - (t - resumed_ns)``.
        resumed_ns: when its current stretch on the CPU began (None: not on the CPU,
            queued or paused by an interrupt).
    """

    label: str
    owner: str
    thread: str
    priority: int
    cost_ns: int
    started_ns: int | None = None
    remaining_ns: int | None = None
    resumed_ns: int | None = None


@attrs.frozen
class CoreSnapshot:
    """A CPU core: IF, what it runs, what waits, and how CFS has shared it.

    Attributes:
        core_id: the core's number.
        state: ``idle``, ``task`` or ``handler``.
        interrupts_enabled: IF.
        in_handler: the vector whose handler runs (None: none).
        returning: the handler's ``iret`` is under way.
        running: the task work on the CPU (paused during a handler).
        preempted: thread work put aside while an interrupt's softirqs run.
        softirq_queue: softirq work waiting, in order.
        thread_queue: thread work waiting, in arrival order.
        vruntime: each thread's CFS virtual runtime, by thread name.
        min_vruntime: where a waking thread is placed.
        slice_thread: the thread whose slice runs.
        slice_used_ns: how much of that slice it has used.
    """

    core_id: int
    state: str
    interrupts_enabled: bool
    in_handler: int | None
    returning: bool
    running: WorkSnapshot | None
    preempted: WorkSnapshot | None
    softirq_queue: tuple[WorkSnapshot, ...]
    thread_queue: tuple[WorkSnapshot, ...]
    vruntime: tuple[tuple[str, int], ...]
    min_vruntime: int
    slice_thread: str
    slice_used_ns: int
    store_buffer: StoreBufferSnapshot | None = None


@attrs.frozen
class StoredEntrySnapshot:
    """One store waiting in a core's store buffer (memory model ``tso``).

    Attributes:
        seq: the store's number in its buffer (a drain applies every entry up to one).
        addr: where it goes, in hex.
        length: how many bytes.
        data: the bytes, in hex (the first 16 of a longer store, then ``...``).
        entered_ns: when the code made it.
        due_ns: when it drains, unless a fence applies it first.
    """

    seq: int
    addr: str
    length: int
    data: str
    entered_ns: int
    due_ns: int


@attrs.frozen
class StoreBufferSnapshot:
    """A core's FIFO store buffer: the stores other cores cannot see yet.

    Attributes:
        capacity: how many entries it holds before a store stalls.
        entries: the stores waiting, oldest first.
    """

    capacity: int
    entries: tuple[StoredEntrySnapshot, ...]


@attrs.frozen
class RegisterSnapshot:
    """The emulated 8254x register block, read from shared memory and decoded.

    ``ims``: the causes enabled (a cause whose bit is clear is masked);
    ``icr``: the causes latched and not yet read (ICR is read-to-clear). The
    ring registers as the driver programmed them (RDBAL/RDBAH/RDLEN) and as the
    two ends last wrote them (RDH by the ring engine, RDT by the driver). (The
    ring engine keeps MPC and RNBC in its statistics, not in the block.)
    """

    base: int
    ims: int
    ims_causes: tuple[str, ...]
    icr: int
    icr_causes: tuple[str, ...]
    rctl: int
    rdbal: int
    rdbah: int
    rdlen: int
    rdh: int
    rdt: int


@attrs.frozen
class DescriptorSnapshot:
    """One legacy receive descriptor as it sits in memory, decoded.

    Attributes:
        index: its place in the ring.
        addr: the descriptor's own physical address.
        buffer_addr: the buffer it points at (0: none).
        length: bytes the hardware wrote there.
        status: the status byte; ``flags`` names its bits (``DD``, ``EOP``, ...).
        errors: the errors byte.
        owner: ``hardware`` (between RDH and RDT: the device may fill it) or
            ``driver`` (written back, or not yet given back).
        written_ns: when the ring engine last wrote it back (None: never).
    """

    index: int
    addr: int
    buffer_addr: int
    length: int
    status: int
    flags: tuple[str, ...]
    errors: int
    owner: str
    written_ns: int | None


@attrs.frozen
class RingSnapshot:
    """The receive ring: both ends' indices and every descriptor, decoded.

    Attributes:
        size: descriptors in the ring.
        buffer_size: bytes per buffer.
        base: physical address of descriptor 0.
        rdh: RDH in the register block (the next descriptor hardware fills).
        rdt: RDT in the register block (hardware owns RDH .. RDT-1).
        engine_rdh: the ring engine's own head (ahead of RDH while a write-back
            has not landed yet).
        state: the engine's state: ``idle``, ``busy`` (posting a frame) or ``waiting``
            (under ``no_buffer = "block"``, for RDT to move).
        posting: the packet the engine is posting (None: none).
        queued: packets waiting to be posted, in order.
        next_to_clean: the driver's next descriptor to look at (None: not given).
        next_to_use: the driver's next descriptor to refill (None: not given).
        done: descriptors with DD set (written back, not yet cleaned).
        rnbc: frames that found no free descriptor (Receive No Buffers Count).
        mpc: of those, frames dropped (Missed Packets Count).
        descriptors: every descriptor, by index.
    """

    size: int
    buffer_size: int
    base: int
    rdh: int
    rdt: int
    engine_rdh: int
    state: str
    posting: int | None
    queued: tuple[int, ...]
    next_to_clean: int | None
    next_to_use: int | None
    done: int
    rnbc: int
    mpc: int
    descriptors: tuple[DescriptorSnapshot, ...]


@attrs.frozen
class E1000Snapshot:
    """A real NIC's interrupt logic: causes latched, and the throttle timer.

    Attributes:
        icr_latched: causes latched and not yet reported; ``icr_causes`` names them.
        throttling: the ITR interval is running (another interrupt must wait).
        held: causes latched while throttled, reported when the interval ends.
    """

    icr_latched: int
    icr_causes: tuple[str, ...]
    throttling: bool
    held: int


@attrs.frozen
class LinkSnapshot:
    """The far host on the Ethernet link: how far its traffic has got.

    Attributes:
        planned: frames planned so far (of ``count``).
        count: frames it will send.
        sent: frames put on the wire.
        wire_free_ns: when the wire is free for the next frame.
    """

    planned: int
    count: int
    sent: int
    wire_free_ns: int
