"""The kernel around a driver: runs its sequential code in the right context, on time.

Theory of operation. The shell is the driver's actor. It runs three kinds of code,
each a generator of :mod:`~mintactors.kernel.drivers.ops`:

``probe``
    at boot (``Start``): ``configure`` (ring setup, first refill).
``irq``
    on ``InterruptEntry``: the driver's ``interrupt``, with interrupts off. Then the
    kernel's interrupt exit: the EOI and ``iret`` (``InterruptReturn`` to the core).
``softirq``
    when the core runs the NET_RX work the driver raised (``napi_schedule``): the
    kernel's ``net_rx_action`` calling the driver's ``poll`` until it completes.

Time. Driver code spends time (``cpu``, loads, skb copies, the stack) that the
shell *accumulates* rather than sleeping through, because most of it carries no
timing choice. What the code does to the rest of the machine — stores, register
writes, skbs handed up, notes, injections — is sent *with the accumulated delay*,
so it happens at its exact virtual time. Only a load (or a register read) must
*materialize* the time first: it reads the machine as it is at that instant, so
the shell waits until then (a timer in ``irq``; in ``softirq``, CPU time on the
core, so that an interrupt can pre-empt it) and reads memory then. Consecutive
stores at one instant are one message.

In ``softirq`` the code runs with interrupts on: any effect could be delayed by an
interrupt, so every effect is issued only at a materialized instant, after the core
has given the code its CPU time (``RunTask``/``TaskDone``).

Memory model. Under ``sc`` (no store buffer) the stores of one instant are one
posted write, and a load overlays this core's own stores of its instant. Under
``tso`` every store enters the core's :class:`StoreBuffer` and drains later; a load
forwards from it; a full barrier (``mb``, ``smp_mb``), an ``xchg`` and, if so
configured, a ``readl`` first wait until the buffer has drained, then apply at that
instant whatever the scheduler has not yet delivered (docs/model.md).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import attrs

from mintactors.effects import Effect, Note, Send, SetTimer, TraceLevel
from mintactors.errors import MintactorsError, UnexpectedMessage
from mintactors.hardware.memory import PhysicalMemory
from mintactors.hardware.nic import NicLayout
from mintactors.hardware.registers import REGISTERS
from mintactors.hardware.store_buffer import StoreBuffer
from mintactors.kernel.drivers.base import RxDriver
from mintactors.kernel.drivers.context import DriverContext, DriverCosts, u32
from mintactors.kernel.drivers.ops import (
    AllocSkb,
    Barrier,
    BarrierKind,
    Code,
    Cpu,
    DropFrame,
    HandUp,
    Load,
    Napi,
    NapiOp,
    Op,
    Readl,
    Step,
    Store,
    Trace,
    Writel,
    Xchg,
)
from mintactors.kernel.injection import Injector
from mintactors.kernel.socket import skb_truesize
from mintactors.messages import (
    DriverResume,
    InterruptEntry,
    InterruptReturn,
    MemoryWrite,
    NetifReceive,
    RunTask,
    SocketBuffer,
    Start,
    TaskDone,
)
from mintactors.notes import NoteKind
from mintactors.packets import parse_pktgen_header

__all__ = ["DriverCrash", "DriverShell", "DriverStatistics", "SHELL_STEPS", "StepHook"]

#: Steps the kernel marks around every driver: the handler's first instruction,
#: before its EOI, its ``iret``, and the start of each NAPI poll.
SHELL_STEPS = ("entered", "before_eoi", "returned", "poll_started")

#: Called at every step with (step, occurrence, t_ns); returns the injection's effects.
StepHook = Callable[[str, int, int], Sequence[Effect]]

#: Barriers that wait for the store buffer to drain (``mfence`` and a locked add);
#: the others are compiler barriers on x86, or fences TSO's order already implies.
_DRAINING = frozenset({BarrierKind.MB, BarrierKind.SMP_MB})

#: The labels of the CPU time the shell asks the core for.
NET_RX = "net_rx"
SOFTIRQ_CHUNK = "softirq"


class DriverCrash(MintactorsError):
    """The driver's code raised; names its file and line."""


class _Kind(Enum):
    PROBE = "probe"
    IRQ = "irq"
    SOFTIRQ = "softirq"


@attrs.frozen
class DriverStatistics:
    """What the kernel saw the driver do.

    ``frames_taken`` counts frames taken out of the ring (copied into an skb, or
    dropped whole), whether handed up or not; ``drained`` in a handler's or poll's
    note is that count for one run.
    """

    handler_runs: int
    polls: int
    frames_taken: int
    frames_handed_up: int
    frames_discarded: int
    empty_runs: int
    max_drained_per_run: int
    refills: int
    masks: int
    unmasks: int
    napi_missed: int
    budget_exhausted: int
    rechecks_found: int


class _Run:
    """One piece of code being run: the generator, its accumulated time, its stores."""

    __slots__ = ("acc", "batch", "batch_acc", "fence_from", "gen", "kind", "pending", "taken")

    def __init__(self, kind: _Kind, gen: Code[Any]) -> None:
        self.kind = kind
        self.gen = gen
        self.acc = 0  # ns spent since the current delivery, not yet materialized
        self.pending: Op | None = None  # the op waiting for its instant
        self.batch: list[tuple[int, bytes]] = []
        self.batch_acc = 0
        self.taken = 0  # frames taken in this handler run or poll
        self.fence_from = 0  # the instant the code reached its fence (tso)


class DriverShell:
    """The driver's actor: the kernel's interrupt and softirq machinery around its code.

    Args:
        name: this actor's name.
        driver: the driver.
        node: the OS node it runs in.
        core: the core it runs on.
        memory: the memory component (loads read it at their instant).
        memory_actor: the memory actor's name (stores go to it).
        socket: the socket actor skbs go to.
        layout: where the ring, buffers and registers are.
        costs: the primitives' costs.
        copy_ns: the memcpy cost by length (the skb copy).
        step_hook: fires injections at steps.
        trace_level: notes above it are never built.
        store_buffer: the core's store buffer (memory model ``tso``); None: ``sc``.
        uc_load_drains: under ``tso``, a ``readl`` first waits for the buffer to drain.
    """

    def __init__(
        self,
        *,
        name: str,
        driver: RxDriver,
        node: int,
        core: str,
        memory: PhysicalMemory,
        memory_actor: str,
        socket: str,
        layout: NicLayout,
        costs: DriverCosts,
        copy_ns: Callable[[int], int],
        step_hook: Injector | None = None,
        trace_level: TraceLevel = TraceLevel.FULL,
        store_buffer: StoreBuffer | None = None,
        uc_load_drains: bool = False,
    ) -> None:
        self.name = name
        self.driver = driver
        self.node = node
        self.core = core
        self.memory = memory
        self.memory_actor = memory_actor
        self.socket = socket
        self.layout = layout
        self.costs = costs
        self.copy_ns = copy_ns
        self.step_hook = step_hook
        self.injected_steps = step_hook.steps if step_hook is not None else frozenset()
        self.full = trace_level >= TraceLevel.FULL
        self.store_buffer = store_buffer
        self.uc_load_drains = uc_load_drains
        self.ctx = DriverContext(layout, costs)
        self.allowed_steps = frozenset((*SHELL_STEPS, *driver.steps))
        self.step_counts: dict[str, int] = {}
        self.irq: _Run | None = None
        self.softirq: _Run | None = None
        self.probe: _Run | None = None
        # NAPI (struct napi_struct's two flags) and NET_RX.
        self.napi_sched = False
        self.napi_missed = False
        self.softirq_live = False
        # What has been stored but may not have reached memory yet: (instant, addr, data).
        self._recent: list[tuple[int, int, bytes]] = []
        self.holding = 0  # frames taken from the ring, not yet handed up or dropped
        self.dropped: dict[str, int] = {}
        self._registers = {reg: layout.base + offset for reg, offset in REGISTERS.items()}
        self._runs = self._polls = self._taken = self._up = self._discarded = 0
        self._empty = self._max = self._refills = self._masks = self._unmasks = 0
        self._missed = self._exhausted = self._found = 0

    # -- what the oracles and the results read ------------------------------------------

    @property
    def busy(self) -> bool:
        """In the hard IRQ, scheduled, or with softirq work still live on the core."""
        return self.irq is not None or self.napi_sched or self.softirq_live

    @property
    def in_handler(self) -> bool:
        """The hard-IRQ handler is running."""
        return self.irq is not None

    @property
    def frames_taken(self) -> int:
        """Frames taken out of the ring so far."""
        return self._taken

    @property
    def next_to_clean(self) -> int:
        """The driver's next descriptor to look at."""
        return self.driver.next_to_clean

    def statistics(self) -> DriverStatistics:
        """The counters so far."""
        return DriverStatistics(
            handler_runs=self._runs,
            polls=self._polls,
            frames_taken=self._taken,
            frames_handed_up=self._up,
            frames_discarded=self._discarded,
            empty_runs=self._empty,
            max_drained_per_run=self._max,
            refills=self._refills,
            masks=self._masks,
            unmasks=self._unmasks,
            napi_missed=self._missed,
            budget_exhausted=self._exhausted,
            rechecks_found=self._found,
        )

    # -- messages -------------------------------------------------------------------------

    def handle(
        self, message: Start | InterruptEntry | DriverResume | TaskDone, now_ns: int
    ) -> list[Effect]:
        """Boot, an interrupt, a timer for the code's next instant, or CPU time from the core."""
        match message:
            case Start():
                self.probe = _Run(_Kind.PROBE, self.driver.configure(self.ctx))
                return self._run(self.probe, now_ns, None)
            case InterruptEntry():
                if self.irq is not None:
                    raise UnexpectedMessage("DriverShell", message, "already in the handler")
                return self._enter(now_ns)
            case DriverResume():
                run = self.irq or self.probe
                if run is None or run.pending is None:
                    raise UnexpectedMessage("DriverShell", message, "no code waiting")
                return self._resume(run, now_ns)
            case TaskDone(label=label):
                return self._cpu_given(label, now_ns)
            case _:
                raise UnexpectedMessage("DriverShell", message)

    def _enter(self, now_ns: int) -> list[Effect]:
        self._runs += 1
        run = self.irq = _Run(_Kind.IRQ, self._hard_irq())
        return self._run(run, now_ns, None)

    def _hard_irq(self) -> Code[None]:
        """The kernel's path around the driver's handler: entry, handler, EOI, iret."""
        yield Step("entered")
        if self.full:
            yield Trace(NoteKind.HANDLER_ENTERED, {"run": self._runs})
        yield from self.driver.interrupt(self.ctx)
        yield Step("before_eoi")
        yield Cpu(self.costs.eoi_ns)
        yield Step("returned")

    def _cpu_given(self, label: str, now_ns: int) -> list[Effect]:
        run = self.softirq
        if label == NET_RX and run is None:
            self.softirq = run = _Run(_Kind.SOFTIRQ, self._net_rx_action())
            return self._run(run, now_ns, None)
        if label == SOFTIRQ_CHUNK and run is not None:
            if run.pending is None:  # the last chunk of finished code
                return self._softirq_done(now_ns)
            return self._resume(run, now_ns)
        raise UnexpectedMessage("DriverShell", TaskDone(label, now_ns), "no softirq waiting")

    def _net_rx_action(self) -> Code[None]:
        """``net_rx_action`` for one NAPI instance: poll while scheduled."""
        weight = self.driver.weight
        taken_before = self._taken
        while self.napi_sched:
            self._polls += 1
            yield Cpu(self.costs.descriptor_ns)
            yield Trace(NoteKind.POLL_STARTED, {"poll": self._polls})
            yield Step("poll_started")
            work = yield from self.driver.poll(self.ctx, weight)
            self._count_run(self._taken - taken_before)
            taken_before = self._taken
            if work >= weight:
                self._exhausted += 1
                yield Trace(NoteKind.BUDGET_EXHAUSTED, {"poll": self._polls, "drained": work})

    # -- running code -----------------------------------------------------------------------

    def _resume(self, run: _Run, now_ns: int) -> list[Effect]:
        op, run.pending = run.pending, None
        assert op is not None
        effects: list[Effect] = []
        buffer = self.store_buffer
        if buffer is not None and self._drains(op) and buffer.drained_by(now_ns) > now_ns:
            # Stores made while the fence waited (by an interrupt's handler, say)
            # are before it too: it waits for them as well.
            run.acc = buffer.drained_by(now_ns) - now_ns
            return self._wait(run, op, now_ns, effects)
        value = self._perform_now(run, op, now_ns, effects)
        return self._run(run, now_ns, value, effects)

    def _run(
        self, run: _Run, now_ns: int, value: Any, effects: list[Effect] | None = None
    ) -> list[Effect]:
        """Run ``run``'s code until it waits for an instant or ends."""
        out: list[Effect] = [] if effects is None else effects
        gen = run.gen
        softirq = run.kind is _Kind.SOFTIRQ
        buffer = self.store_buffer
        while True:
            try:
                op = gen.send(value)
            except StopIteration:
                self._flush(run, now_ns, out)
                return self._ended(run, now_ns, out)
            except MintactorsError:
                raise
            except Exception as exc:
                raise _crash(exc) from exc
            kind = type(op)
            if kind is Cpu:
                run.acc += op.ns  # type: ignore[attr-defined]
                value = None
                continue
            if kind is Store or kind is Writel:
                if softirq and run.acc:
                    return self._wait(run, op, now_ns, out)
                self._store(run, op, now_ns, out)  # type: ignore[arg-type]  # narrowed above
                value = None
                continue
            if kind is Barrier:
                if buffer is None or op.kind not in _DRAINING:  # type: ignore[attr-defined]
                    run.acc += self._barrier_ns(op.kind)  # type: ignore[attr-defined]
                    value = None
                    continue
                waits = self._drain_first(run, buffer, now_ns)
                if run.acc and (waits or softirq):
                    return self._wait(run, op, now_ns, out)
                value = self._perform_now(run, op, now_ns, out)
                continue
            if buffer is not None and self._drains(op):
                self._drain_first(run, buffer, now_ns)
            if self._must_wait(run, op, softirq) and run.acc:
                return self._wait(run, op, now_ns, out)
            value = self._perform_now(run, op, now_ns, out)

    def _must_wait(self, run: _Run, op: Op, softirq: bool) -> bool:
        """Whether ``op`` needs the code's instant to be now (a read, or any effect in softirq)."""
        kind = type(op)
        if kind is Load or kind is Readl or kind is AllocSkb or kind is Xchg:
            return True
        if kind is Step:
            return softirq and op.name in self.injected_steps  # type: ignore[attr-defined]
        if kind is Napi:
            return softirq and op.call is NapiOp.SCHEDULE  # type: ignore[attr-defined]
        return softirq

    def _wait(self, run: _Run, op: Op, now_ns: int, out: list[Effect]) -> list[Effect]:
        """Materialize the accumulated time, then perform ``op``."""
        self._flush(run, now_ns, out)
        run.pending = op
        acc, run.acc = run.acc, 0
        if run.kind is _Kind.SOFTIRQ:
            out.append(Send(self.core, RunTask(self.name, acc, SOFTIRQ_CHUNK, priority=0)))
        else:
            out.append(SetTimer("resume", acc, DriverResume()))
        return out

    def _perform_now(self, run: _Run, op: Op, now_ns: int, out: list[Effect]) -> Any:
        """Do ``op`` at the code's current instant (``now_ns + run.acc``)."""
        match op:
            case Load(addr=addr, length=length):
                self._flush(run, now_ns, out)
                data = self._load(addr, length, now_ns + run.acc)
                if self.full:
                    loaded = {"addr": addr, "length": length, "data": data}
                    out.append(Note(NoteKind.LOADED, loaded, delay_ns=run.acc))
                run.acc += self.costs.load_ns
                return data
            case Readl(reg=reg):
                self._flush(run, now_ns, out)
                if self.uc_load_drains and self.store_buffer is not None:
                    self._drain_now(run, self.store_buffer, now_ns, out, "readl")
                value = self._readl(reg, now_ns + run.acc)
                run.acc += self.costs.load_ns
                return value
            case Xchg(addr=addr, data=data):
                return self._xchg(run, addr, data, now_ns, out)
            case Barrier(kind=barrier) if self.store_buffer is not None:
                self._drain_now(run, self.store_buffer, now_ns, out, barrier.value)
                run.acc += self._barrier_ns(barrier)
                return None
            case AllocSkb(addr=addr, length=length):
                self._flush(run, now_ns, out)
                data = self._load(addr, length, now_ns + run.acc)
                run.acc += self.costs.load_ns + self.costs.skb_alloc_ns + self.copy_ns(length)
                self._taken += 1
                self.holding += 1
                run.taken += 1
                header = parse_pktgen_header(data)
                return SocketBuffer(
                    data, skb_truesize(len(data)), header[0] if header else None, -1
                )
            case HandUp(skb=skb):
                self._hand_up(run, skb, now_ns, out)
                return None
            case DropFrame(reason=reason, skb=skb):
                self._drop(run, reason, skb, out)
                return None
            case Step(name=name):
                self._step(run, name, now_ns, out)
                return None
            case Trace(kind=kind, fields=fields):
                self._found += kind == NoteKind.RECHECK_FOUND
                if self.full or kind is NoteKind.PACKET_DROPPED:
                    out.append(Note(kind, dict(fields), delay_ns=run.acc))
                return None
            case Napi(call=call, work_done=work_done):
                return self._napi(run, call, work_done, out)
            case Store() | Writel():
                self._store(run, op, now_ns, out)
                return None
            case _:
                raise DriverCrash(f"driver code yielded {op!r}, which is not a driver operation")

    def _ended(self, run: _Run, now_ns: int, out: list[Effect]) -> list[Effect]:
        if run.kind is _Kind.PROBE:
            self.probe = None
            if self.full:
                rdt = (self.driver.next_to_use - 1) % self.layout.ring_size
                fields = {"ring_size": self.layout.ring_size, "rdt": rdt}
                out.append(Note(NoteKind.DRIVER_INITIALISED, fields, delay_ns=run.acc))
            return out
        if run.kind is _Kind.IRQ:
            self.irq = None
            if not self.driver.napi:  # a NAPI hard IRQ takes nothing; its polls count
                self._count_run(run.taken)
            if self.full:
                drained = None if self.driver.napi else run.taken
                note = {"run": self._runs, "drained": drained}
                out.append(Note(NoteKind.HANDLER_EXITED, note, delay_ns=run.acc))
            out.append(Send(self.core, InterruptReturn(), run.acc))
            return out
        if run.acc:  # the softirq's last stretch of CPU time
            out.append(Send(self.core, RunTask(self.name, run.acc, SOFTIRQ_CHUNK, priority=0)))
            run.acc = 0
            return out
        return self._softirq_done(now_ns, out)

    def _softirq_done(self, now_ns: int, out: list[Effect] | None = None) -> list[Effect]:
        out = [] if out is None else out
        if self.napi_sched:  # a hard IRQ scheduled the poll again meanwhile
            self.softirq = _Run(_Kind.SOFTIRQ, self._net_rx_action())
            return self._run(self.softirq, now_ns, None, out)
        self.softirq = None
        self.softirq_live = False
        return out

    def _count_run(self, taken: int) -> None:
        """One handler run or poll that took ``taken`` frames (a NAPI hard IRQ takes none)."""
        self._empty += taken == 0
        self._max = max(self._max, taken)

    # -- the operations -------------------------------------------------------------------

    def _store(self, run: _Run, op: Store | Writel, now_ns: int, out: list[Effect]) -> None:
        if isinstance(op, Writel):
            reg = op.reg
            addr, data = self._register(reg), u32(op.value)
            if reg == "RDT" and run.kind is not _Kind.PROBE:
                self._refills += 1
            elif reg == "IMC":
                self._masks += 1
            elif reg == "IMS" and run.kind is not _Kind.PROBE:
                self._unmasks += 1
        else:
            addr, data = op.addr, op.data
            self._note_returned(run, addr, data, out)
        buffer = self.store_buffer
        if buffer is not None:
            # A full buffer stalls the store: the code spends the wait.
            entered, effects = buffer.store(addr, data, now_ns + run.acc, now_ns, self.name)
            out += effects
            run.acc = entered - now_ns
            return
        if run.batch and run.batch_acc != run.acc:
            self._flush(run, now_ns, out)
        if not run.batch:
            run.batch_acc = run.acc
        run.batch.append((addr, data))

    def _note_returned(self, run: _Run, addr: int, data: bytes, out: list[Effect]) -> None:
        """A store that clears a descriptor's DD gives the descriptor back: note it."""
        offset = addr - self.layout.ring_base
        if not self.full or not 0 <= offset < self.layout.ring_bytes or offset % 16 != 12:
            return
        if data and not data[0] & 0x01:
            out.append(Note(NoteKind.DESCRIPTOR_RETURNED, {"desc": offset // 16}, delay_ns=run.acc))

    def _flush(self, run: _Run, now_ns: int, out: list[Effect]) -> None:
        if not run.batch:
            return
        writes = tuple(run.batch)
        run.batch = []
        out.append(Send(self.memory_actor, MemoryWrite(self.node, writes), run.batch_acc))
        at = now_ns + run.batch_acc
        self._recent.extend((at, addr, data) for addr, data in writes)

    def _load(self, addr: int, length: int, at: int) -> bytes:
        """Read memory at instant ``at``, seeing this core's own stores of that instant."""
        data = self.memory.load(self.node, addr, length, at)
        if data is None:
            raise DriverCrash(
                f"the driver read {length} bytes at {addr:#x}, which node {self.node} may not touch"
            )
        if self.store_buffer is not None:
            return self.store_buffer.forward(addr, length, data, at)
        recent = self._recent = [entry for entry in self._recent if entry[0] >= at]
        if recent:
            buffer = bytearray(data)
            for _, start, stored in recent:
                lo, hi = max(start, addr), min(start + len(stored), addr + length)
                if lo < hi:
                    buffer[lo - addr : hi - addr] = stored[lo - start : hi - start]
            data = bytes(buffer)
        return data

    def _register(self, reg: str) -> int:
        try:
            return self._registers[reg]
        except KeyError:
            raise DriverCrash(
                f"no register {reg!r} (registers: {', '.join(sorted(self._registers))})"
            ) from None

    def _readl(self, reg: str, at: int) -> int:
        addr = self._register(reg)
        value = self.memory.read_register(self.node, addr, at, clear=reg == "ICR")
        if value is None:
            raise DriverCrash(f"the driver cannot read register {reg} as node {self.node}")
        if self.store_buffer is not None:  # not reordered with an older store to it (SDM 8.2.2)
            raw = self.store_buffer.forward(addr, 4, u32(value), at)
            value = int.from_bytes(raw, "little")
        return value

    # -- the memory model's waits (tso) ---------------------------------------------------

    def _drains(self, op: Op) -> bool:
        """Whether ``op`` waits for the store buffer to drain (tso)."""
        kind = type(op)
        if kind is Barrier:
            return op.kind in _DRAINING  # type: ignore[attr-defined]
        return kind is Xchg or (kind is Readl and self.uc_load_drains)

    def _drain_first(self, run: _Run, buffer: StoreBuffer, now_ns: int) -> bool:
        """Move the code's time on to when its core's buffer has drained; True if it waits.

        An ``mfence``, a locked instruction or a draining ``readl`` cannot complete
        while a store made before it is still buffered (SDM Vol. 3A 8.2.5, 11.10).
        """
        at = now_ns + run.acc
        run.fence_from = at
        if not buffer.holds(at):
            return False
        run.acc = buffer.drained_by(at) - now_ns
        return True

    def _drain_now(
        self, run: _Run, buffer: StoreBuffer, now_ns: int, out: list[Effect], why: str
    ) -> None:
        """At the fence's instant: apply what is due and not yet delivered, then note it."""
        at = now_ns + run.acc
        out += self.memory.drain(buffer, at)
        out += buffer.fenced(self.name, why, run.fence_from, at, now_ns)

    def _xchg(self, run: _Run, addr: int, data: bytes, now_ns: int, out: list[Effect]) -> bytes:
        """A locked swap: after the drain, read and write memory in one delivery (tso)."""
        self._flush(run, now_ns, out)
        at = now_ns + run.acc
        buffer = self.store_buffer
        if buffer is not None:
            self._drain_now(run, buffer, now_ns, out, "xchg")
        old = self._load(addr, len(data), at)
        if buffer is None:  # sc: a load and a store at one instant, as every access is
            self._store(run, Store(addr, data), now_ns, out)
        else:  # the locked store is not buffered
            out += self.memory.store_now(self.node, addr, data, at)
        run.acc += self.costs.mb_ns + self.costs.load_ns
        return old

    def _barrier_ns(self, kind: BarrierKind) -> int:
        costs = self.costs
        if kind in (BarrierKind.MB, BarrierKind.SMP_MB):
            return costs.mb_ns
        if kind is BarrierKind.RMB:
            return costs.rmb_ns
        if kind is BarrierKind.WMB:
            return costs.wmb_ns
        return 0  # compiler barriers on x86

    def _hand_up(self, run: _Run, skb: SocketBuffer, now_ns: int, out: list[Effect]) -> None:
        if self.full:
            # The descriptor the driver is cleaning (e1000 moves next_to_clean after it).
            taken = {"seq": skb.seq, "desc": self.driver.next_to_clean, "length": len(skb.data)}
            out.append(Note(NoteKind.FRAME_TAKEN, taken, delay_ns=run.acc))
        stack = self.costs.stack_ns
        queued = attrs.evolve(skb, queued_ns=now_ns + run.acc + stack)
        out.append(Send(self.socket, NetifReceive(queued), run.acc + stack))
        run.acc += stack
        self.holding -= 1
        self._up += 1

    def _drop(self, run: _Run, reason: str, skb: SocketBuffer | None, out: list[Effect]) -> None:
        if skb is None:
            self._taken += 1
            run.taken += 1
        else:
            self.holding -= 1
        self._discarded += 1
        self.dropped[reason] = self.dropped.get(reason, 0) + 1
        seq = skb.seq if skb is not None else None
        fields = {"seq": seq, "reason": reason}
        out.append(Note(NoteKind.PACKET_DROPPED, fields, TraceLevel.SUMMARY, delay_ns=run.acc))

    def _step(self, run: _Run, name: str, now_ns: int, out: list[Effect]) -> None:
        if name not in self.allowed_steps:
            raise DriverCrash(
                f"step {name!r} is not among the driver's declared steps "
                f"({', '.join(sorted(self.allowed_steps))})"
            )
        count = self.step_counts[name] = self.step_counts.get(name, 0) + 1
        if self.step_hook is None or name not in self.injected_steps:
            return
        for effect in self.step_hook(name, count, now_ns + run.acc):
            if isinstance(effect, Send):
                out.append(
                    Send(effect.to, effect.message, effect.delay_ns + run.acc, effect.priority)
                )
            elif isinstance(effect, Note):
                out.append(Note(effect.kind, effect.fields, effect.level, delay_ns=run.acc))
            else:
                out.append(effect)

    def _napi(self, run: _Run, call: NapiOp, work_done: int, out: list[Effect]) -> bool | None:
        match call:
            case NapiOp.SCHEDULE_PREP:
                if self.napi_sched:
                    self.napi_missed = True
                    self._missed += 1
                    if self.full:
                        out.append(
                            Note(NoteKind.NAPI_MISSED, {"run": self._runs}, delay_ns=run.acc)
                        )
                    return False
                self.napi_sched = True
                return True
            case NapiOp.SCHEDULE:
                if not self.softirq_live:
                    self.softirq_live = True
                    cost = self.costs.descriptor_ns
                    raise_ = RunTask(self.name, cost, NET_RX, priority=0)
                    out.append(Send(self.core, raise_, run.acc))
                return None
            case NapiOp.COMPLETE_DONE:
                rescheduled = self.napi_missed
                if rescheduled:
                    self.napi_missed = False
                else:
                    self.napi_sched = False
                if self.full:
                    fields = {"poll": self._polls, "rescheduled": rescheduled, "drained": work_done}
                    out.append(Note(NoteKind.POLL_COMPLETED, fields, delay_ns=run.acc))
                return not rescheduled
        raise DriverCrash(f"unknown NAPI call {call!r}")


#: The kernel's own files: a driver's crash is located in the innermost frame outside them.
_KERNEL_FILES = frozenset(
    str(Path(__file__).with_name(name)) for name in ("shell.py", "context.py", "ops.py")
)


def _crash(exc: Exception) -> DriverCrash:
    """A driver's exception as one line naming where in the driver's code it was raised."""
    where = ""
    for frame, line in traceback.walk_tb(exc.__traceback__):
        code = frame.f_code
        if code.co_filename not in _KERNEL_FILES:
            where = f"{code.co_filename}:{line} in {code.co_name}: "
    return DriverCrash(f"{where}{type(exc).__name__}: {exc}")
