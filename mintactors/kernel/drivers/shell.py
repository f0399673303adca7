"""The kernel around a driver: runs its sequential code in the right context, on time.

Theory of operation. The shell is the driver's actor. It runs four kinds of code,
each a generator of :mod:`~mintactors.kernel.drivers.ops`:

``probe``
    at boot (``Start``): ``configure`` (ring setup, first refill).
``irq``
    on ``InterruptEntry``: the kernel's interrupt entry, which writes the APIC's
    EOI first (as Linux's entry code acknowledges the APIC before calling the
    handler), then the driver's ``interrupt`` with interrupts off, then ``iret``
    (``InterruptReturn`` to the core). NET_RX raised by the handler (a backlogged
    skb, a scheduled poll) goes with the return: ``irq_exit`` runs it before the
    interrupted work resumes.
``softirq``
    when the core runs that NET_RX work: ``__do_softirq`` and ``net_rx_action``
    (:mod:`~mintactors.kernel.drivers.softnet`), polling the backlog and the
    driver's ``poll`` within the softirq's budgets.
``ksoftirqd``
    the same code as a thread, when the softirq handed its rest to ksoftirqd.

Time. Driver code spends time (``cpu``, loads, skb copies, the stack) that the
shell *accumulates* rather than sleeping through, because most of it carries no
timing choice. What the code does to the rest of the machine — stores, register
writes, skbs handed up, notes, injections — is sent *with the accumulated delay*,
so it happens at its exact virtual time. Only a load (or a register read) must
*materialize* the time first: it reads the machine as it is at that instant, so
the shell waits until then (a timer in ``irq``; in ``softirq``, CPU time on the
core, so that an interrupt can pre-empt it) and reads memory then. Consecutive
stores at one instant are one message.

In ``softirq`` and ``ksoftirqd`` the code runs with interrupts on: any effect could
be delayed by an interrupt, so every effect, and every change to state a handler
shares (NAPI's flags, the backlog), is made only at a materialized instant, after
the core has given the code its CPU time (``RunTask``/``TaskDone``).

Memory. Loads, stores and fences go through :class:`CoreMemory`, which follows
the machine's memory model (``sc`` or ``tso``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from mintactors.effects import Effect, Note, Send, SetTimer, TraceLevel, dated_later
from mintactors.errors import MintactorsError, UnexpectedMessage
from mintactors.hardware.apic import LocalApic
from mintactors.hardware.memory import PhysicalMemory
from mintactors.hardware.nic import NicLayout
from mintactors.hardware.store_buffer import StoreBuffer
from mintactors.kernel.drivers.base import IrqReturn, RxDriver
from mintactors.kernel.drivers.context import DriverContext, DriverCosts
from mintactors.kernel.drivers.core_memory import DRAINING, CodeKind, CodeRun, CoreMemory
from mintactors.kernel.drivers.crash import DriverCrash, driver_crash, located
from mintactors.kernel.drivers.ops import (
    AllocSkb,
    Barrier,
    BarrierKind,
    Clock,
    Code,
    Cpu,
    Deliver,
    DropFrame,
    HandUp,
    Load,
    Napi,
    Op,
    Readl,
    Step,
    Store,
    Sync,
    Trace,
    Writel,
    Xchg,
    describe_op,
)
from mintactors.kernel.drivers.services import KernelServices
from mintactors.kernel.drivers.softnet import NetRxLimits, SoftnetData
from mintactors.kernel.injection import Injector
from mintactors.kernel.snapshots import (
    CodeSnapshot,
    DriverSnapshot,
    NapiSnapshot,
    NetRxSnapshot,
    skb_snapshot,
)
from mintactors.messages import (
    DriverResume,
    InterruptEntry,
    InterruptReturn,
    NetifReceive,
    RunTask,
    SocketBuffer,
    Start,
    TaskDone,
)
from mintactors.notes import NoteKind

__all__ = ["SHELL_STEPS", "DriverShell", "DriverStatistics", "StepHook"]

#: Steps the kernel marks around every driver: the handler's first instruction
#: (before the EOI), the driver's handler returned (before ``iret``), and the start
#: of each NAPI poll.
SHELL_STEPS = ("entered", "returned", "poll_started")

#: Called at every step with (step, occurrence, t_ns); returns the injection's effects.
StepHook = Callable[[str, int, int], Sequence[Effect]]

#: The labels of the CPU time the shell asks the core for.
NET_RX = "net_rx"
KSOFTIRQD = "ksoftirqd"
SOFTIRQ_CHUNK = "softirq"


@attrs.frozen
class DriverStatistics:
    """What the kernel saw the driver do.

    ``frames_taken`` counts frames taken out of the ring (copied into an skb, or
    dropped whole), whether handed up or not; ``drained`` in a handler's or poll's
    note is that count for one run. ``frames_handed_up`` counts skbs the driver
    built and passed to ``netif_rx`` or ``napi_gro_receive``, the first and the
    last at ``first_handed_up_ns`` and ``last_handed_up_ns``; ``irq_none`` counts
    handler runs that returned ``IRQ_NONE`` (no cause of theirs in ICR).
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
    irq_none: int = 0
    first_handed_up_ns: int | None = None
    last_handed_up_ns: int | None = None


class DriverShell(KernelServices):
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
        limits: the receive path's budgets (None: Linux's defaults, with the
            costs' ``stack_ns``).
        apic: the core's local APIC (the handler's EOI is a write to it; None:
            the EOI goes with ``iret``, for shells tested without a core).
        ksoftirqd: the name of the core's softirq thread.
        step_hook: fires injections at steps.
        trace_level: notes above it are never built.
        store_buffer: the core's store buffer (memory model ``tso``); None: ``sc``.
        uc_load_drains: under ``tso``, a ``readl`` first waits for the buffer to drain.
        next_due: when the next delivery of the run is due (the runtime's
            ``next_due_ns``); with it, hard-IRQ code runs ahead to a load that
            nothing can precede, and NET_RX raised by a handler starts ahead of the
            core's ``iret`` when nothing can come before it. None: every load waits
            for its instant, and NET_RX for the core to start it.
        iret_ns: the core's ``iret`` cost (``irq_exit_ns``), after which it starts
            NET_RX; needed with ``next_due``.
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
        limits: NetRxLimits | None = None,
        apic: LocalApic | None = None,
        ksoftirqd: str = "ksoftirqd",
        step_hook: Injector | None = None,
        trace_level: TraceLevel = TraceLevel.FULL,
        store_buffer: StoreBuffer | None = None,
        uc_load_drains: bool = False,
        next_due: Callable[[], float] | None = None,
        iret_ns: int = 0,
    ) -> None:
        self.name = name
        self.next_due = next_due
        self.iret_ns = iret_ns
        self.driver = driver
        self.node = node
        self.core = core
        self.memory = memory
        self.memory_actor = memory_actor
        self.socket = socket
        self.layout = layout
        self.costs = costs
        self.copy_ns = copy_ns
        self.limits = limits if limits is not None else NetRxLimits(stack_ns=costs.stack_ns)
        self.apic = apic
        self.ksoftirqd = ksoftirqd
        self.step_hook = step_hook
        self.injected_steps = step_hook.steps if step_hook is not None else frozenset()
        self.full = trace_level >= TraceLevel.FULL
        self.store_buffer = store_buffer
        self.uc_load_drains = uc_load_drains
        self.mem = CoreMemory(
            name=name,
            memory=memory,
            memory_actor=memory_actor,
            node=node,
            registers_base=layout.base,
            costs=costs,
            store_buffer=store_buffer,
            uc_load_drains=uc_load_drains,
        )
        #: What each barrier costs when it need not wait (the costs never change).
        self.barrier_costs = {kind: self.mem.barrier_ns(kind) for kind in BarrierKind}
        self.ctx = DriverContext(layout, costs)
        self.ctx.barrier_costs = {
            kind: cost
            for kind, cost in self.barrier_costs.items()
            if store_buffer is None or kind not in DRAINING
        }
        self.allowed_steps = frozenset((*SHELL_STEPS, *driver.steps))
        self.ctx.quiet_steps = self.allowed_steps - self.injected_steps
        self.step_counts = self.ctx.step_counts  # one count, whoever makes it
        self.irq: CodeRun | None = None
        self.softirq: CodeRun | None = None  # __do_softirq, at irq_exit or in ksoftirqd
        self.probe: CodeRun | None = None
        # The driver's NAPI instance (struct napi_struct's two flags), and NET_RX.
        self.napi_sched = False
        self.napi_missed = False
        self.softnet = SoftnetData(self.limits, self._napi_poll, full=self.full)
        self._net_rx_requested = False  # irq_exit asked the core for the softirq
        self._from_idle = False  # the running handler interrupted the idle loop
        self._ksoftirqd_woken = False
        self.holding = 0  # frames taken from the ring, not yet handed up or dropped
        self.dropped: dict[str, int] = {}
        self._runs = self._polls = self._up = self._discarded = 0
        #: Frames taken out of the ring so far (read it; a monitor reads it often).
        self.frames_taken = 0
        self._empty = self._max = self._refills = self._masks = self._unmasks = 0
        self._missed = self._exhausted = self._found = self._irq_none = 0
        self._first_up: int | None = None
        self._last_up: int | None = None

    # -- what the oracles and the results read ------------------------------------------

    @property
    def busy(self) -> bool:
        """In the hard IRQ, or with NET_RX work running or asked for on the core.

        A NAPI instance left scheduled with nothing coming to poll it (a driver
        that never completes) is not busy: it is stuck.
        """
        return (
            self.irq is not None
            or self.softirq is not None
            or self._net_rx_requested
            or self._ksoftirqd_woken
        )

    @property
    def in_handler(self) -> bool:
        """The hard-IRQ handler is running."""
        return self.irq is not None

    @property
    def next_to_clean(self) -> int:
        """The driver's next descriptor to look at."""
        return self.driver.next_to_clean

    def statistics(self) -> DriverStatistics:
        """The counters so far."""
        return DriverStatistics(
            handler_runs=self._runs,
            polls=self._polls,
            frames_taken=self.frames_taken,
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
            irq_none=self._irq_none,
            first_handed_up_ns=self._first_up,
            last_handed_up_ns=self._last_up,
        )

    def snapshot(self) -> DriverSnapshot:
        """The driver's ring indices, NAPI flags, NET_RX state and code under way."""
        softnet = self.softnet
        running = tuple(
            CodeSnapshot(run.kind.value, describe_op(run.pending), run.taken)
            for run in (self.probe, self.irq, self.softirq)
            if run is not None
        )
        return DriverSnapshot(
            kind=self.driver.name or type(self.driver).__name__,
            in_handler=self.irq is not None,
            running=running,
            napi=NapiSnapshot(sched=self.napi_sched, missed=self.napi_missed),
            net_rx=NetRxSnapshot(
                pending=softnet.pending,
                requested=self._net_rx_requested,
                ksoftirqd_woken=self._ksoftirqd_woken,
                poll_list=tuple(softnet.poll_list),
                backlog=tuple(skb_snapshot(skb) for skb in softnet.backlog),
                in_stack=softnet.in_stack,
            ),
            next_to_clean=self.driver.next_to_clean,
            next_to_use=self.driver.next_to_use,
            holding=self.holding,
            handler_runs=self._runs,
            polls=self._polls,
            frames_taken=self.frames_taken,
            dropped=tuple(sorted(self.dropped.items())),
        )

    # -- messages -------------------------------------------------------------------------

    def handle(
        self, message: Start | InterruptEntry | DriverResume | TaskDone, now_ns: int
    ) -> list[Effect]:
        """Boot, an interrupt, a timer for the code's next instant, or CPU time from the core."""
        match message:
            case Start():
                self.probe = CodeRun(CodeKind.PROBE, self.driver.configure(self.ctx))
                return self._run(self.probe, now_ns, None)
            case InterruptEntry():
                if self.irq is not None:
                    raise UnexpectedMessage("DriverShell", message, "already in the handler")
                self._from_idle = message.from_idle
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
        if self.apic is not None:
            self.apic.eoi()  # the entry code's first write: raises if nothing is in service
        run = self.irq = CodeRun(CodeKind.IRQ, self._hard_irq())
        return self._run(run, now_ns, None)

    def _hard_irq(self) -> Code[None]:
        """The kernel's path around the driver's handler: entry and EOI, handler, iret."""
        yield from self.ctx.step("entered")
        if self.full:
            yield Trace(NoteKind.HANDLER_ENTERED, {"run": self._runs})
        yield from self.ctx.cpu(self.costs.eoi_ns)
        result = yield from self.driver.interrupt(self.ctx)
        self._irq_none += result is IrqReturn.NONE
        yield from self.ctx.step("returned")
        if self._raises_net_rx():
            # irq_exit: __do_softirq's prologue runs before it enables interrupts.
            yield from self.ctx.cpu(self.limits.softirq_entry_ns)

    def _raises_net_rx(self) -> bool:
        """``irq_exit`` will run NET_RX: it is pending and no softirq is running or asked for."""
        return self.softnet.pending and self.softirq is None and not self._net_rx_requested

    def _cpu_given(self, label: str, now_ns: int) -> list[Effect]:
        run = self.softirq
        if label == NET_RX:
            self._net_rx_requested = False
            return self._start_softirq(CodeKind.SOFTIRQ, now_ns) if run is None else []
        if label == KSOFTIRQD:
            self._ksoftirqd_woken = False
            if run is None and self.softnet.pending:
                return self._start_softirq(CodeKind.KSOFTIRQD, now_ns)
            return []  # nothing left to do: ksoftirqd sleeps again
        if label == SOFTIRQ_CHUNK and run is not None:
            if run.pending is None:  # the last chunk of finished code
                return self._softirq_done(run, now_ns)
            return self._resume(run, now_ns)
        raise UnexpectedMessage("DriverShell", TaskDone(label, now_ns), "no softirq waiting")

    def _start_softirq(self, kind: CodeKind, now_ns: int) -> list[Effect]:
        if kind is CodeKind.SOFTIRQ and not self.full:
            code = self.softnet.do_softirq()  # what _softirq_code runs, less its notes
        else:
            code = self._softirq_code(kind)
        run = self.softirq = CodeRun(kind, code)
        return self._run(run, now_ns, None)

    def _softirq_code(self, kind: CodeKind) -> Code[bool]:
        """``__do_softirq`` at a hard IRQ's exit, or ksoftirqd's loop."""
        context = "irq_exit" if kind is CodeKind.SOFTIRQ else "ksoftirqd"
        if self.full:
            yield Trace(NoteKind.SOFTIRQ_STARTED, {"context": context})
        wake = False
        if kind is CodeKind.SOFTIRQ:
            wake = yield from self.softnet.do_softirq()
        else:
            yield from self.softnet.ksoftirqd()
        if self.full:
            yield Trace(NoteKind.SOFTIRQ_ENDED, {"context": context, "wake_ksoftirqd": wake})
        return wake

    def _napi_poll(self) -> Code[tuple[int, bool]]:
        """``napi_poll`` of the driver's instance: one poll for its weight."""
        weight = self.driver.weight
        taken_before = self.frames_taken
        self._polls += 1
        yield from self.ctx.cpu(self.costs.descriptor_ns)
        if self.full:
            yield Trace(NoteKind.POLL_STARTED, {"poll": self._polls})
        yield from self.ctx.step("poll_started")
        work = yield from self.driver.poll(self.ctx, weight)
        self._count_run(self.frames_taken - taken_before)
        if work < weight:
            return work, False
        self._exhausted += 1
        if self.full:
            yield Trace(NoteKind.BUDGET_EXHAUSTED, {"poll": self._polls, "drained": work})
        return work, self.napi_sched

    # -- running code -----------------------------------------------------------------------

    def _resume(self, run: CodeRun, now_ns: int) -> list[Effect]:
        op, run.pending = run.pending, None
        assert op is not None
        effects: list[Effect] = []
        buffer = self.store_buffer
        if buffer is not None and self.mem.drains(op) and buffer.drained_by(now_ns) > now_ns:
            # Stores made while the fence waited (by an interrupt's handler, say)
            # are before it too: it waits for them as well.
            run.acc = buffer.drained_by(now_ns) - now_ns
            return self._wait(run, op, now_ns, effects)
        try:
            value = self._perform_now(run, op, now_ns, effects)
        except DriverCrash as exc:
            where = located(run.gen, exc)
            if where is exc:
                raise
            raise where from None
        return self._run(run, now_ns, value, effects)

    def _run(
        self, run: CodeRun, now_ns: int, value: Any, effects: list[Effect] | None = None
    ) -> list[Effect]:
        """Run ``run``'s code until it waits for an instant or ends."""
        self.ctx.code = run  # ctx.cpu charges it directly
        try:
            return self._run_code(run, now_ns, value, [] if effects is None else effects)
        except DriverCrash as exc:
            # The shell refused an operation (an undeclared step, no such register):
            # say where in the driver's code it was asked for.
            where = located(run.gen, exc)
            if where is exc:
                raise
            raise where from None
        finally:
            self.ctx.code = None

    def _run_code(  # noqa: PLR0915 (the hot loop: the commonest ops inlined on purpose)
        self, run: CodeRun, now_ns: int, value: Any, out: list[Effect]
    ) -> list[Effect]:
        gen = run.gen
        softirq = run.irqs_on
        buffer = self.store_buffer
        injected = self.injected_steps
        while True:
            try:
                op = gen.send(value)
            except StopIteration as stop:
                run.result = stop.value
                self.mem.flush(run, now_ns, out)
                return self._ended(run, now_ns, out)
            except MintactorsError:
                raise
            except Exception as exc:
                raise driver_crash(exc) from exc
            kind = type(op)
            if kind is Cpu:
                run.acc += op.ns  # type: ignore[attr-defined]
                value = None
                continue
            if kind is Store or kind is Writel:
                if softirq and run.acc and not self._ahead(run, now_ns, out):
                    return self._wait(run, op, now_ns, out)
                self._store(run, op, now_ns, out)  # type: ignore[arg-type]  # narrowed above
                value = None
                continue
            if kind is Step and op.name not in injected:  # type: ignore[attr-defined]
                # A step no injection fires at: only counted (the commonest op).
                self._step(run, op.name, now_ns, out)  # type: ignore[attr-defined]
                value = None
                continue
            if kind is Load:  # the commonest op that waits: straight to it
                if run.acc and not self._ahead(run, now_ns, out):
                    return self._wait(run, op, now_ns, out)
                value = self._load_now(run, op.addr, op.length, now_ns, out)  # type: ignore[attr-defined]
                continue
            if kind is Clock or kind is Sync:
                # The time the code has reached; Sync first waits for it in softirq.
                if kind is Sync and softirq and run.acc and not self._ahead(run, now_ns, out):
                    return self._wait(run, op, now_ns, out)
                self.mem.flush(run, now_ns, out)
                value = now_ns + run.acc
                continue
            if kind is Barrier:
                if buffer is None or op.kind not in DRAINING:  # type: ignore[attr-defined]
                    run.acc += self.barrier_costs[op.kind]  # type: ignore[attr-defined]
                    value = None
                    continue
                waits = self.mem.drain_first(run, now_ns)
                if run.acc and (waits or softirq):
                    return self._wait(run, op, now_ns, out)
                value = self._perform_now(run, op, now_ns, out)
                continue
            if buffer is not None and self.mem.drains(op):
                self.mem.drain_first(run, now_ns)
            if self._must_wait(run, op, softirq) and run.acc and not self._ahead(run, now_ns, out):
                return self._wait(run, op, now_ns, out)
            value = self._perform_now(run, op, now_ns, out)

    def _ahead(self, run: CodeRun, now_ns: int, out: list[Effect]) -> bool:
        """Whether code may go on now rather than wait for its next instant (lookahead).

        In the hard IRQ (interrupts off) only another actor's delivery could come
        between now and a read's instant and change what it reads. If none is
        queued before that instant, and nothing this code has sent is due before
        it either, the read would be the very next delivery: it is done now, with
        the same result (the timer is skipped, as a conservative simulator skips
        ahead to its lookahead). Softirq code waits for CPU time, which an
        interrupt may pre-empt: see :meth:`_softirq_may_run_ahead`. Under ``tso``
        stores drain on their own timers: code always waits.
        """
        next_due = self.next_due
        if next_due is None or self.store_buffer is not None:
            return False
        acc = run.acc
        if now_ns + acc >= next_due():
            return False
        if run.irqs_on:
            return self._softirq_may_run_ahead(run, out)
        for effect in out:  # noqa: SIM110 (a loop, not all(): this runs several times a packet)
            if type(effect) is not Note and effect.delay_ns < acc:  # type: ignore[union-attr]
                return False
        return True

    def _softirq_may_run_ahead(self, run: CodeRun, out: list[Effect]) -> bool:
        """Whether softirq code may go on past a wait for CPU time (nothing is due before).

        With no delivery queued before the wait's instant, no interrupt can pre-empt
        the code until then, and the core runs its stretches back to back (softirq
        work before any thread), so they can be one stretch. That holds if what
        the code has sent cannot raise an interrupt on this core meanwhile: posted
        stores to a memory that answers none (no unmask listener), and skbs for the
        socket (whose reader's work only queues behind the softirq). Not in
        ksoftirqd, whose pieces are thread work that CFS may interleave with
        another thread's; not with injections, which fire at steps.
        """
        if run.kind is not CodeKind.SOFTIRQ or self.injected_steps:
            return False
        if self.memory.unmask_listener is not None:
            return False
        quiet = (self.memory_actor, self.socket)
        for effect in out:  # a loop, as in _ahead
            if type(effect) is not Note and (type(effect) is not Send or effect.to not in quiet):
                return False
        return True

    def _must_wait(self, run: CodeRun, op: Op, softirq: bool) -> bool:
        """Whether ``op`` needs the code's instant to be now (a read, or any effect in softirq)."""
        kind = type(op)
        if kind is Load or kind is Readl or kind is AllocSkb or kind is Xchg:
            return True
        if kind is Step:
            return softirq and op.name in self.injected_steps  # type: ignore[attr-defined]
        if kind is HandUp:  # napi_gro_receive only spends time; its Deliver waits
            return softirq and op.via == "netif_rx"  # type: ignore[attr-defined]
        return softirq and kind is not Clock

    def _wait(self, run: CodeRun, op: Op, now_ns: int, out: list[Effect]) -> list[Effect]:
        """Materialize the accumulated time, then perform ``op``."""
        self.mem.flush(run, now_ns, out)
        run.pending = op
        acc, run.acc = run.acc, 0
        if run.irqs_on:
            out.append(self._cpu_request(run, acc))
        else:
            out.append(SetTimer("resume", acc, DriverResume()))
        return out

    def _cpu_request(self, run: CodeRun, ns: int, *, notify: bool = True) -> Send:
        """Ask the core for ``ns`` of CPU time in softirq context or as ksoftirqd."""
        if run.kind is CodeKind.SOFTIRQ:
            task = RunTask(self.name, ns, SOFTIRQ_CHUNK, priority=0, notify=notify)
            return Send(self.core, task)
        return Send(self.core, RunTask(self.name, ns, SOFTIRQ_CHUNK, thread=self.ksoftirqd))

    def _load_now(
        self, run: CodeRun, addr: int, length: int, now_ns: int, out: list[Effect]
    ) -> bytes:
        """Load ``length`` bytes at ``addr`` at the code's current instant."""
        self.mem.flush(run, now_ns, out)
        data = self.mem.load(addr, length, now_ns + run.acc, now_ns)
        if self.full:
            loaded = {"addr": addr, "length": length, "data": data}
            out.append(Note(NoteKind.LOADED, loaded, delay_ns=run.acc))
        run.acc += self.costs.load_ns
        return data

    def _perform_now(self, run: CodeRun, op: Op, now_ns: int, out: list[Effect]) -> Any:
        """Do ``op`` at the code's current instant (``now_ns + run.acc``)."""
        match op:
            case Load(addr=addr, length=length):
                return self._load_now(run, addr, length, now_ns, out)
            case Readl(reg=reg):
                return self.mem.readl_now(run, reg, now_ns, out)
            case Xchg(addr=addr, data=data):
                return self.mem.xchg(run, addr, data, now_ns, out)
            case Barrier(kind=barrier) if self.store_buffer is not None:
                self.mem.fence(run, barrier, now_ns, out)
                return None
            case AllocSkb(addr=addr, length=length):
                return self._alloc_skb(run, addr, length, now_ns, out)
            case HandUp(skb=skb, via=via):
                self._hand_up(run, skb, via, now_ns, out)
                return None
            case Deliver(skb=skb):
                queued = SocketBuffer(skb.data, skb.truesize, skb.seq, now_ns + run.acc)
                out.append(Send(self.socket, NetifReceive(queued), run.acc))
                self.softnet.in_stack -= 1
                return None
            case Sync() | Clock():
                self.mem.flush(run, now_ns, out)
                return now_ns + run.acc
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
                if hasattr(op, "gi_frame") or isinstance(op, tuple):  # a primitive without `from`
                    raise DriverCrash(
                        "driver code yielded a primitive instead of its operations: call it "
                        "with `yield from ctx.load(...)`, not `yield ctx.load(...)`"
                    )
                raise DriverCrash(f"driver code yielded {op!r}, which is not a driver operation")

    def _ended(self, run: CodeRun, now_ns: int, out: list[Effect]) -> list[Effect]:
        if run.kind is CodeKind.PROBE:
            self.probe = None
            if self.full:
                rdt = (self.driver.next_to_use - 1) % self.layout.ring_size
                fields = {"ring_size": self.layout.ring_size, "rdt": rdt}
                out.append(Note(NoteKind.DRIVER_INITIALISED, fields, delay_ns=run.acc))
            return out
        if run.kind is CodeKind.IRQ:
            self.irq = None
            if not self.driver.napi:  # a NAPI hard IRQ takes nothing; its polls count
                self._count_run(run.taken)
            if self.full:
                drained = None if self.driver.napi else run.taken
                note = {"run": self._runs, "drained": drained}
                out.append(Note(NoteKind.HANDLER_EXITED, note, delay_ns=run.acc))
            softirq = None
            if self._raises_net_rx():
                if self._softirq_may_start_ahead(run, now_ns, out):
                    softirq = self._start_softirq_ahead(run, now_ns, out)
                else:
                    self._net_rx_requested = True
                    # No time of its own (the hard IRQ paid the entry): the core
                    # hands over as soon as iret is done.
                    softirq = RunTask(self.name, 0, NET_RX, priority=0)
            iret = InterruptReturn(eoi=self.apic is None, softirq=softirq)
            out.append(Send(self.core, iret, run.acc))
            return out
        if run.acc:  # the softirq's last stretch of CPU time
            if not run.result and self._ahead(run, now_ns, out):
                # Nothing can come before the stretch ends: the code is over now,
                # and the core need not say when the stretch is done.
                out.append(self._cpu_request(run, run.acc, notify=False))
                run.acc = 0
                return self._softirq_done(run, now_ns, out)
            out.append(self._cpu_request(run, run.acc))
            run.acc = 0
            return out
        return self._softirq_done(run, now_ns, out)

    def _softirq_may_start_ahead(self, run: CodeRun, now_ns: int, out: list[Effect]) -> bool:
        """Whether NET_RX, raised by the handler now ending, certainly starts at ``iret``.

        The core starts it when its ``iret`` is done unless an interrupt is then
        deliverable. Nothing can be: the APIC has none pending now, no delivery is
        queued before that instant, and what the handler sent is posted stores to a
        memory that answers none of them (no unmask listener). Then the core's
        ``TaskDone`` for NET_RX, the code's start and its request for CPU time
        would be the very next things to happen: the code starts now, dated then,
        and its first stretch of CPU time goes with ``iret`` (see
        :meth:`_start_softirq_ahead`).

        Only after an interrupt that found the core idle: code running ahead cannot
        be checkpointed, and a saturated core (interrupted while busy) would
        otherwise never show the kernel idle between two deliveries. After an idle
        core's interrupt, the kernel was idle just before it.
        """
        next_due, apic = self.next_due, self.apic
        if next_due is None or apic is None or self.store_buffer is not None:
            return False
        if not self._from_idle:
            return False
        if now_ns + run.acc + self.iret_ns >= next_due() or apic.deliverable() is not None:
            return False
        if self.memory.unmask_listener is not None:
            return False
        memory = self.memory_actor
        return all(
            type(effect) is Note or (type(effect) is Send and effect.to == memory) for effect in out
        )

    def _start_softirq_ahead(self, run: CodeRun, now_ns: int, out: list[Effect]) -> RunTask | None:
        """Start ``__do_softirq`` now, dated at the end of ``iret``; its first CPU request.

        Its effects go out dated from then; the request for its first stretch of CPU
        time is returned, to travel with ``iret`` (the core runs it first, as it
        would NET_RX). Code that ends without asking for CPU time asks for nothing.
        """
        after = run.acc + self.iret_ns
        effects = self._start_softirq(CodeKind.SOFTIRQ, now_ns + after)
        chunk = effects[-1] if effects else None
        request = None
        if (
            type(chunk) is Send
            and chunk.to == self.core
            and type(chunk.message) is RunTask
            and chunk.message.label == SOFTIRQ_CHUNK
            and chunk.message.priority == 0
        ):
            request = chunk.message
            effects.pop()
        out += (dated_later(effect, after) for effect in effects)
        return request

    def _softirq_done(
        self, run: CodeRun, now_ns: int, out: list[Effect] | None = None
    ) -> list[Effect]:
        out = [] if out is None else out
        self.softirq = None
        if run.result and not self._ksoftirqd_woken:  # wakeup_softirqd
            self._ksoftirqd_woken = True
            self.softnet.woke_ksoftirqd()
            if self.full:
                out.append(Note(NoteKind.KSOFTIRQD_WOKEN, {"thread": self.ksoftirqd}))
            entry = self.limits.softirq_entry_ns
            out.append(Send(self.core, RunTask(self.name, entry, KSOFTIRQD, thread=self.ksoftirqd)))
        return out
