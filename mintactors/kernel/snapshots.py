"""What each kernel component holds at one instant, as frozen records.

The software counterpart of :mod:`mintactors.hardware.snapshots`: each component's
``snapshot()`` returns one of these, a pure function of the component. They name
things as the kernel does (NAPI's SCHED and MISSED, the poll list, the backlog,
``rmem`` against ``rcvbuf``), so that a snapshot reads like the kernel's own state
in a debugger.
"""

from __future__ import annotations

import attrs

from mintactors.messages import SocketBuffer

__all__ = [
    "AppSnapshot",
    "CodeSnapshot",
    "DriverSnapshot",
    "GeneratorSnapshot",
    "MechanismSnapshot",
    "NapiSnapshot",
    "NetRxSnapshot",
    "SkbSnapshot",
    "SocketSnapshot",
    "SyscallSnapshot",
    "skb_snapshot",
]


@attrs.frozen
class SkbSnapshot:
    """An skb, as far as a queue's reader cares.

    Attributes:
        seq: the packet's sequence number (None: unreadable).
        length: bytes of frame data.
        truesize: bytes charged to the socket for it.
        queued_ns: when it was queued on the socket (-1: not yet).
    """

    seq: int | None
    length: int
    truesize: int
    queued_ns: int


def skb_snapshot(skb: SocketBuffer) -> SkbSnapshot:
    """The record of one skb."""
    return SkbSnapshot(skb.seq, len(skb.data), skb.truesize, skb.queued_ns)


@attrs.frozen
class GeneratorSnapshot:
    """The interrupt generator: its place in the timing pattern and the send under way.

    Attributes:
        planned: sends taken from the timing pattern so far.
        count: sends it will make.
        next_seq: the sequence number the next packet gets.
        current: the packet being built or inside the system call (None: none).
        in_kernel: the thread is inside the system call.
        ready: sends due and waiting for the call to return (pattern index; -1 for
            an injected packet).
        sent: packets handed to the system call.
        late: sends that went after their planned time.
    """

    planned: int
    count: int
    next_seq: int
    current: int | None
    in_kernel: bool
    ready: tuple[int, ...]
    sent: int
    late: int


@attrs.frozen
class SyscallSnapshot:
    """The debug-support system call in progress: its packet and when it was entered."""

    seq: int
    length: int
    entered_ns: int


@attrs.frozen
class MechanismSnapshot:
    """The debug-support mechanism.

    Attributes:
        call: the system call waiting for the ring's answer (None once it has one:
            the rest of the call, the ICR write and the exit, is then already
            scheduled, and the generator's ``in_kernel`` says whether it returned).
        reads_ims: it reads IMS before writing the ICR (a driver that masks).
        icr_writes: ICR writes so far (IPIs requested).
        ipis_masked: frames whose IPI was held back because IMS masked RXT0.
    """

    call: SyscallSnapshot | None
    reads_ims: bool
    icr_writes: int
    ipis_masked: int


@attrs.frozen
class SocketSnapshot:
    """The UDP socket's receive queue, and its charge against ``rcvbuf``.

    Attributes:
        rmem: bytes charged (``sk_rmem_alloc``).
        rcvbuf: the limit (``sk_rcvbuf``).
        queue: the skbs queued, oldest first.
        reader_waiting: the application is blocked in ``recv``.
        rcvbuf_errors: skbs refused for want of room so far.
    """

    rmem: int
    rcvbuf: int
    queue: tuple[SkbSnapshot, ...]
    reader_waiting: bool
    rcvbuf_errors: int


@attrs.frozen
class AppSnapshot:
    """The receiving application.

    Attributes:
        holding: the skb it is processing (None: none; it waits in ``recv``).
        received: frames received intact so far.
        malformed: frames that failed their checks.
        last_receive_ns: when it last received one (None: never).
    """

    holding: SkbSnapshot | None
    received: int
    malformed: int
    last_receive_ns: int | None


@attrs.frozen
class NapiSnapshot:
    """The driver's ``struct napi_struct`` flags: a poll scheduled, an interrupt missed."""

    sched: bool
    missed: bool


@attrs.frozen
class NetRxSnapshot:
    """NET_RX on the driver's CPU (``struct softnet_data``).

    Attributes:
        pending: NET_RX is raised and has not run yet.
        requested: ``irq_exit`` has asked the core for the softirq.
        ksoftirqd_woken: ksoftirqd has been woken to take the rest.
        poll_list: NAPI instances waiting to be polled (``driver``, ``backlog``).
        backlog: skbs ``netif_rx`` queued, oldest first.
        in_stack: skbs on their way up the stack.
    """

    pending: bool
    requested: bool
    ksoftirqd_woken: bool
    poll_list: tuple[str, ...]
    backlog: tuple[SkbSnapshot, ...]
    in_stack: int


@attrs.frozen
class CodeSnapshot:
    """One piece of driver or kernel code under way.

    Attributes:
        context: ``irq`` (the hard IRQ), ``softirq`` (at ``irq_exit``),
            ``ksoftirqd`` or ``probe``.
        waiting_for: the operation it waits to perform at its instant (a load, a
            register read, CPU time), or None.
        taken: frames it has taken from the ring so far.
    """

    context: str
    waiting_for: str | None
    taken: int


@attrs.frozen
class DriverSnapshot:
    """The NIC driver and the kernel around it.

    Attributes:
        kind: the driver's ``driver.kind``.
        in_handler: its hard-IRQ handler runs.
        running: the code under way (hard IRQ, softirq, ksoftirqd, probe).
        napi: the NAPI flags.
        net_rx: the softirq's state.
        next_to_clean: the next descriptor the driver looks at.
        next_to_use: the next descriptor it refills.
        holding: frames taken from the ring not yet handed up or dropped.
        handler_runs: hard IRQs so far.
        polls: NAPI polls so far.
        frames_taken: frames taken from the ring so far.
        dropped: frames dropped so far, by reason.
    """

    kind: str
    in_handler: bool
    running: tuple[CodeSnapshot, ...]
    napi: NapiSnapshot
    net_rx: NetRxSnapshot
    next_to_clean: int
    next_to_use: int
    holding: int
    handler_runs: int
    polls: int
    frames_taken: int
    dropped: tuple[tuple[str, int], ...]
