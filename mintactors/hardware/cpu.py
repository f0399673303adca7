"""A CPU core: runs one thing at a time and takes interrupts only with IF=1.

Theory of operation. A core is in one of three states:

``idle``
    nothing to run; an interrupt is taken at once.
``task``
    running task-level work (:class:`RunTask`: a thread's work, or softirq work)
    with IF=1. An interrupt pauses the task; its remaining time resumes after
    ``iret``.
``handler``
    running an interrupt handler with IF=0, from the interrupt-acknowledge until
    the handler's ``iret`` has completed. INTR raised meanwhile waits (the vector
    stays in the APIC's IRR) and is taken right after ``iret``.

Taking an interrupt costs ``irq_entry_ns`` before the handler's first instruction
(the IDT gate, register save) and ``irq_exit_ns`` after its ``iret`` before IF=1
again. An x86 interrupt gate clears IF on entry and ``iret`` restores it
(SDM Vol. 3A 6.8.1, 6.12.1.3), which is why the handler runs with interrupts off.

Under the ``tso`` memory model the core's store buffer drains before the handler
starts and before ``iret`` completes: the SDM drains it "when an exception or
interrupt is generated" and when a serializing instruction (``iret``) executes
(Vol. 3A 11.10, 8.3). Either waits at least until the last buffered store is due.

The core and its local APIC are one chip: the APIC raises INTR by calling
:meth:`CpuCore.intr`, and the core acknowledges and writes EOI by calling the APIC
(see :mod:`mintactors.hardware.apic`).

Which work runs next is the OS's choice, made the way Linux makes it:

* Softirq work (priority 0) comes first. Softirqs a handler raised run at the
  handler's exit, before the task it interrupted resumes (``irq_exit`` calls
  ``invoke_softirq``, kernel/softirq.c): that task is put aside until no softirq
  work is left. When softirq work ends, the next piece is chosen only after the
  other deliveries due at that instant, so its owner can queue more in reply and
  keep the CPU, as ``__do_softirq`` loops while softirqs are pending.
* Thread work (priority 1) is shared the way CFS shares a CPU between runnable
  threads (kernel/sched/fair.c): the thread that has had the least CPU time
  (``vruntime``) goes next, a thread that wakes up is placed no further back than
  the least vruntime of the others, and a thread keeps the CPU for up to
  ``sched_slice_ns`` while another waits. A piece of work is never pre-empted by
  another thread (only by interrupts): the slice is checked between pieces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import Enum

import attrs

from mintactors.effects import (
    CancelTimer,
    Effect,
    Note,
    Send,
    SetTimer,
    TraceLevel,
    dated_later,
)
from mintactors.errors import IllegalValue, UnexpectedMessage, unexpected, unknown_step
from mintactors.hardware.apic import LocalApic
from mintactors.hardware.snapshots import CoreSnapshot, WorkSnapshot
from mintactors.hardware.store_buffer import StoreBuffer
from mintactors.messages import (
    CoreInput,
    CoreStep,
    CoreStepKind,
    InterruptEntry,
    InterruptReturn,
    RunTask,
    TaskDone,
)
from mintactors.notes import NoteKind

__all__ = ["DEFAULT_SCHED_SLICE_NS", "CoreState", "CoreStatistics", "CpuCore"]

#: CFS's slice with two runnable threads on one CPU: ``sysctl_sched_latency``
#: (6 ms) shared between them.
DEFAULT_SCHED_SLICE_NS = 3_000_000


class CoreState(Enum):
    """What a core is doing."""

    IDLE = "idle"
    TASK = "task"
    HANDLER = "handler"


@attrs.frozen
class CoreStatistics:
    """Counters of one core: interrupts taken, and time spent per kind of work.

    ``thread_ns`` is the CPU time each thread's work got, and ``softirq_ns`` the
    time spent in softirq work; both are part of ``task_ns``.
    """

    interrupts_taken: int
    handler_ns: int
    tasks_done: int
    task_ns: int
    softirq_ns: int = 0
    thread_ns: dict[str, int] = attrs.field(factory=dict)


def _thread(task: RunTask) -> str:
    """The thread a piece of work belongs to."""
    return task.thread or task.owner


@attrs.define
class _Running:
    task: RunTask
    started_ns: int
    remaining_ns: int
    slice_started_ns: int | None  # None while paused by an interrupt


def _work(task: RunTask) -> WorkSnapshot:
    thread = _thread(task) if task.priority else ""
    return WorkSnapshot(str(task.label), task.owner, thread, task.priority, task.cost_ns)


def _running_snapshot(running: _Running | None) -> WorkSnapshot | None:
    # remaining_ns is what was left when the current stretch began: with resumed_ns
    # a reader works out what is left at any instant, and the record stays a pure
    # function of the core (no clock in it).
    if running is None:
        return None
    return attrs.evolve(
        _work(running.task),
        started_ns=running.started_ns,
        remaining_ns=running.remaining_ns,
        resumed_ns=running.slice_started_ns,
    )


class CpuCore:
    """One core of the machine.

    Args:
        core_id: the core's number (also its APIC ID).
        name: this core's actor name.
        apic: this core's local APIC (the same chip; it is wired to this core here).
        idt: interrupt vector to the name of the actor whose handler runs for it.
        irq_entry_ns: cost from acknowledge to the handler's first step.
        irq_exit_ns: cost of ``iret`` until IF=1.
        sched_slice_ns: how long a thread keeps the CPU while another waits.
        store_buffer: the core's store buffer (memory model ``tso``); None: ``sc``.
        next_due: when the run's next delivery is due (the runtime's
            ``next_due_ns``); with it, an ``iret`` that raises softirq work and
            that nothing can reach before it completes is completed at once, dated
            then (lookahead). None: every ``iret`` ends with a timer.
        trace_level: full-level notes are built only at ``FULL``.
    """

    def __init__(
        self,
        *,
        core_id: int,
        name: str,
        apic: LocalApic,
        idt: Mapping[int, str],
        irq_entry_ns: int,
        irq_exit_ns: int,
        sched_slice_ns: int = DEFAULT_SCHED_SLICE_NS,
        store_buffer: StoreBuffer | None = None,
        next_due: Callable[[], float] | None = None,
        trace_level: TraceLevel = TraceLevel.FULL,
    ) -> None:
        self.core_id = core_id
        self.full = trace_level >= TraceLevel.FULL
        self.next_due = next_due
        self.name = name
        self.apic = apic
        apic.core = self
        self.idt = dict(idt)
        self.irq_entry_ns = irq_entry_ns
        self.irq_exit_ns = irq_exit_ns
        self.sched_slice_ns = sched_slice_ns
        self.store_buffer = store_buffer
        self.interrupts_enabled = True
        self.in_handler: int | None = None  # vector being handled
        self._returning = False  # the handler's iret is under way
        self.current: _Running | None = None
        #: Thread work put aside while the softirqs of an interrupt's exit run.
        self.preempted: _Running | None = None
        self.softirq_queue: list[RunTask] = []
        self.thread_queue: list[tuple[int, RunTask]] = []  # (arrival, task)
        self._arrivals = 0
        #: Work just ended and its owner may queue more at this instant, so the next
        #: choice waits for the instant's end (a timer is armed).
        self._yielding = False
        #: When softirq work last ended with nothing else waiting (no timer armed):
        #: thread work arriving in that same instant must still wait.
        self._softirq_ended_ns = -1
        self.vruntime: dict[str, int] = {}
        self._thread_ns: dict[str, int] = {}
        #: The thread whose piece ended last, and when: its next piece, queued at
        #: that instant, continues it rather than waking it.
        self._last_ended = ("", -1)
        self._min_vruntime = 0
        self._slice_thread = ""  # the thread whose slice is running
        self._slice_used = 0
        self._handler_started = 0
        self._interrupts = self._handler_ns = self._tasks_done = 0
        self._task_ns = self._softirq_ns = 0

    @property
    def state(self) -> CoreState:
        """What the core is doing now."""
        if self.in_handler is not None:
            return CoreState.HANDLER
        return CoreState.TASK if self.current is not None else CoreState.IDLE

    def statistics(self) -> CoreStatistics:
        """The counters so far."""
        return CoreStatistics(
            interrupts_taken=self._interrupts,
            handler_ns=self._handler_ns,
            tasks_done=self._tasks_done,
            task_ns=self._task_ns,
            softirq_ns=self._softirq_ns,
            thread_ns=dict(sorted(self._thread_ns.items())),
        )

    def snapshot(self) -> CoreSnapshot:
        """IF, the work running and waiting, and the CFS bookkeeping now (for inspection)."""
        return CoreSnapshot(
            core_id=self.core_id,
            state=self.state.value,
            interrupts_enabled=self.interrupts_enabled,
            in_handler=self.in_handler,
            returning=self._returning,
            running=_running_snapshot(self.current),
            preempted=_running_snapshot(self.preempted),
            softirq_queue=tuple(_work(task) for task in self.softirq_queue),
            thread_queue=tuple(_work(task) for _, task in self.thread_queue),
            vruntime=tuple(sorted(self.vruntime.items())),
            min_vruntime=self._min_vruntime,
            slice_thread=self._slice_thread,
            slice_used_ns=self._slice_used,
            store_buffer=None if self.store_buffer is None else self.store_buffer.snapshot(),
        )

    def handle(self, message: CoreInput, now_ns: int) -> Sequence[Effect]:
        """Take INTR, a handler's return, task work or the core's own timers.

        Raises:
            IllegalValue: INTR for a vector with no handler in the IDT, or task work
                of negative cost.
            UnexpectedMessage: an ``iret`` outside a handler, a timer the core did
                not set, or a message the core does not take.
        """
        match message:
            case InterruptReturn():
                if self.in_handler is None or self._returning:
                    raise UnexpectedMessage("CpuCore", message, "not in a handler")
                if message.eoi:
                    self.apic.eoi()  # raises before any state changes if nothing is in service
                if message.softirq is not None:
                    self._enqueue(message.softirq, message, now_ns)
                self._returning = True
                exit_ns, drained = self._drained(self.irq_exit_ns, "iret", now_ns)
                if message.softirq is not None and not drained and self._ahead(now_ns + exit_ns):
                    return [
                        dated_later(e, exit_ns, self.name)
                        for e in self._after_iret(now_ns + exit_ns)
                    ]
                return (*drained, SetTimer("iret", exit_ns, CoreStep(CoreStepKind.IRET_DONE)))
            case CoreStep():
                return self._timer(message, now_ns)
            case RunTask():
                self._enqueue(message, message, now_ns)
                if self.state is not CoreState.IDLE or (self._yielding and message.priority):
                    return ()
                if message.priority and self._softirq_ended_ns == now_ns:
                    return self._yield()  # the softirq's owner may still queue more now
                return self._start_next(now_ns)
            case _:
                raise unexpected("CpuCore", message)

    def _ahead(self, at_ns: int) -> bool:
        """Whether no delivery can come before ``at_ns``: what the core does until
        then is settled, so it may do it now (see ``next_due``).

        Only for an ``iret`` that raises softirq work: its owner's code is under way
        or asked for across the ``iret``, so nothing that reads the core sees the
        difference of the core being done with the handler early.
        """
        next_due = self.next_due
        return next_due is not None and at_ns < next_due()

    def _enqueue(self, task: RunTask, message: object, now_ns: int) -> None:
        if task.cost_ns < 0:
            raise IllegalValue("CpuCore", message, f"negative cost {task.cost_ns} ns")
        if task.priority == 0:
            self.softirq_queue.append(task)
            return
        thread = _thread(task)
        if self._last_ended != (thread, now_ns) and not self._runnable(thread):
            # A waking thread is placed no further back than the least vruntime
            # (place_entity), so a long sleep earns no run of its own.
            self.vruntime[thread] = max(self.vruntime.get(thread, 0), self._min_vruntime)
        else:
            self.vruntime.setdefault(thread, 0)
        self._arrivals += 1
        self.thread_queue.append((self._arrivals, task))

    def _runnable(self, thread: str) -> bool:
        for running in (self.current, self.preempted):
            if running is not None and running.task.priority and _thread(running.task) == thread:
                return True
        return any(_thread(task) == thread for _, task in self.thread_queue)

    def _timer(self, message: CoreStep, now_ns: int) -> Sequence[Effect]:
        """One of the core's own timers fired; each is refused unless it is armed."""
        step = message.step
        match step:
            case CoreStepKind.IRET_DONE:
                if self.in_handler is None:
                    raise UnexpectedMessage("CpuCore", message, "not in a handler")
                return self._after_iret(now_ns)
            case CoreStepKind.TASK_DONE:
                if self.current is None or self.current.slice_started_ns is None:
                    raise UnexpectedMessage("CpuCore", message, "no task running")
                return self._finish_task(self.current, now_ns)
            case CoreStepKind.TASK_YIELD:
                if not self._yielding:
                    raise UnexpectedMessage("CpuCore", message, "no work just ended")
                self._yielding = False
                return self._start_next(now_ns) if self.state is CoreState.IDLE else ()
            case _:
                raise unknown_step("CpuCore", message, step)

    @property
    def intr_pending(self) -> int | None:
        """The vector the APIC raises INTR for (None: INTR is low)."""
        return self.apic.deliverable()

    def check_vector(self, message: object, vector: int) -> None:
        """Refuse an interrupt for ``vector`` if the IDT has no handler for it.

        Raises:
            IllegalValue: no handler for ``vector``.
        """
        if vector not in self.idt:
            problem = f"no handler for vector {vector:#x} in core {self.core_id}'s IDT"
            raise IllegalValue("CpuCore", message, problem)

    def intr(self, now_ns: int) -> Sequence[Effect]:
        """INTR from this core's APIC (inside the chip): take the interrupt if IF allows.

        Called during the APIC's delivery, so every effect names this core.

        Raises:
            IllegalValue: the vector has no handler in the IDT.
        """
        return self._maybe_take_interrupt(now_ns)

    def _maybe_take_interrupt(self, now_ns: int) -> Sequence[Effect]:
        if not self.interrupts_enabled or self.in_handler is not None:
            return ()
        vector = self.apic.deliverable()
        if vector is None:
            return ()
        handler = self.idt[vector]  # checked before the APIC latched the vector
        self.apic.acknowledge(vector)
        effects: list[Effect] = []
        running = self.current
        idle = running is None and self.preempted is None
        idle = idle and not self.softirq_queue and not self.thread_queue
        if running is not None and running.slice_started_ns is not None:
            # Pause the task; it resumes after iret with what it had left.
            ran = now_ns - running.slice_started_ns
            running.remaining_ns -= ran
            running.slice_started_ns = None
            self._account(running.task, ran)
            effects.append(CancelTimer("task", actor=self.name))
        self.interrupts_enabled = False
        self.in_handler = vector
        self._handler_started = now_ns
        self._interrupts += 1
        entry = InterruptEntry(vector, self.core_id, from_idle=idle)
        entry_ns, drained = self._drained(self.irq_entry_ns, "interrupt", now_ns)
        effects += drained
        effects.append(Send(handler, entry, entry_ns, actor=self.name))
        if self.full:
            taken = {"vector": vector, "handler": handler}
            effects.append(Note(NoteKind.INTERRUPT_TAKEN, taken, actor=self.name))
        return effects

    def _drained(self, cost_ns: int, why: str, now_ns: int) -> tuple[int, list[Effect]]:
        """``cost_ns``, or longer if the store buffer has not drained by then (tso)."""
        buffer = self.store_buffer
        if buffer is None or not buffer.holds(now_ns):
            return cost_ns, []
        until = buffer.drained_by(now_ns)
        # Notes written during the APIC's delivery must name this core (see intr).
        return max(cost_ns, until - now_ns), buffer.fenced(self.name, why, now_ns, until, now_ns)

    def _after_iret(self, now_ns: int) -> Sequence[Effect]:
        self._handler_ns += now_ns - self._handler_started
        vector = self.in_handler
        self.in_handler = None
        self._returning = False
        self.interrupts_enabled = True
        effects: list[Effect] = []
        if self.full:
            effects.append(Note(NoteKind.INTERRUPT_RETURNED, {"vector": vector}))
        current = self.current
        if self.apic.deliverable() is not None:
            effects += self._maybe_take_interrupt(now_ns)
        elif current is not None and (current.task.priority == 0 or not self.softirq_queue):
            effects += self._resume(current, now_ns)
        else:
            if current is not None:  # irq_exit runs the raised softirqs first
                self.preempted, self.current = current, None
            effects += self._start_next(now_ns)
        return effects

    def _resume(self, running: _Running, now_ns: int) -> Sequence[Effect]:
        self.current = running
        running.slice_started_ns = now_ns
        return (SetTimer("task", running.remaining_ns, CoreStep(CoreStepKind.TASK_DONE)),)

    def _start_next(self, now_ns: int) -> Sequence[Effect]:
        if self.softirq_queue:
            return self._start(self.softirq_queue.pop(0), now_ns)
        if self.preempted is not None:
            running, self.preempted = self.preempted, None
            return self._resume(running, now_ns)
        if not self.thread_queue:
            return ()
        return self._start(self._pick_thread_work(), now_ns)

    def _pick_thread_work(self) -> RunTask:
        """CFS's choice: the slice's thread while its slice lasts, else the least vruntime."""
        queue = self.thread_queue
        index = None
        if self._slice_used < self.sched_slice_ns:
            index = next(
                (i for i, (_, t) in enumerate(queue) if _thread(t) == self._slice_thread),
                None,
            )
        if index is None:
            vruntime = self.vruntime
            index = min(
                range(len(queue)),
                key=lambda i: (vruntime[_thread(queue[i][1])], queue[i][0]),
            )
        _, task = queue.pop(index)
        thread = _thread(task)
        if thread != self._slice_thread:
            self._slice_thread, self._slice_used = thread, 0
        self._min_vruntime = max(self._min_vruntime, self.vruntime[thread])
        return task

    def _start(self, task: RunTask, now_ns: int) -> Sequence[Effect]:
        running = self.current = _Running(task, now_ns, task.cost_ns, now_ns)
        if not task.cost_ns:  # nothing to wait for: done as it starts
            return self._finish_task(running, now_ns)
        return (SetTimer("task", task.cost_ns, CoreStep(CoreStepKind.TASK_DONE)),)

    def _account(self, task: RunTask, ran: int) -> None:
        self._task_ns += ran
        if task.priority == 0:
            self._softirq_ns += ran
            return
        thread = _thread(task)
        self.vruntime[thread] = self.vruntime.get(thread, 0) + ran
        self._thread_ns[thread] = self._thread_ns.get(thread, 0) + ran
        if thread == self._slice_thread:
            self._slice_used += ran

    def _finish_task(self, running: _Running, now_ns: int) -> Sequence[Effect]:
        assert running.slice_started_ns is not None  # checked by _timer
        self.current = None
        self._tasks_done += 1
        task = running.task
        self._account(task, now_ns - running.slice_started_ns)
        told = (Send(task.owner, TaskDone(task.label, running.started_ns)),)
        done = told if task.notify else ()
        if task.priority == 0:
            if self.softirq_queue:
                return (*done, *self._start_next(now_ns))
            # __do_softirq keeps the CPU while softirq work is pending: the owner may
            # queue its next piece in reply to TaskDone, at this same instant, and it
            # must run before thread work. With thread work waiting already the choice
            # waits for the instant's end; otherwise only thread work that arrives in
            # this instant has to (see RunTask).
            if not task.notify:
                # Its owner hears nothing, so it cannot queue more in reply: the
                # choice need not wait (only an interrupt could add softirq work
                # now, and it is taken before any choice).
                return self._start_next(now_ns)
            if self.thread_queue or self.preempted is not None:
                return (*done, *self._yield())
            self._softirq_ended_ns = now_ns
            return done
        thread = _thread(task)
        self._last_ended = (thread, now_ns)
        if self.thread_queue and any(_thread(t) != thread for _, t in self.thread_queue):
            # Another thread waits: the choice waits for this thread's next piece,
            # which keeps the CPU while the slice lasts.
            return (*done, *self._yield())
        return (*done, *self._start_next(now_ns))

    def _yield(self) -> Sequence[Effect]:
        self._yielding = True
        return (SetTimer("yield", 0, CoreStep(CoreStepKind.TASK_YIELD), priority=1),)
