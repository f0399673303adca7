"""A CPU core: runs one thing at a time and takes interrupts only with IF=1.

Theory of operation. A core is in one of three states:

``idle``
    nothing to run; an interrupt is taken at once.
``task``
    running task-level work (:class:`RunTask`: a process, or softirq work) with
    IF=1. An interrupt pauses the task; its remaining time resumes after ``iret``.
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

Task work queues by priority (0 = softirq before 1 = process context), then in
arrival order; tasks do not preempt each other. When softirq work ends, the next
task is chosen only after the other deliveries due at that instant, so the softirq's
owner can queue its next piece in reply and keep the CPU, as ``__do_softirq`` loops
while softirq work is pending.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from enum import Enum

import attrs

from mintactors.effects import CancelTimer, Effect, Note, Send, SetTimer
from mintactors.errors import IllegalValue, UnexpectedMessage, unexpected, unknown_step
from mintactors.hardware.apic import LocalApic
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

__all__ = ["CoreState", "CoreStatistics", "CpuCore"]


class CoreState(Enum):
    """What a core is doing."""

    IDLE = "idle"
    TASK = "task"
    HANDLER = "handler"


@attrs.frozen
class CoreStatistics:
    """Counters of one core: interrupts taken, and time spent per kind of work."""

    interrupts_taken: int
    handler_ns: int
    tasks_done: int
    task_ns: int


@attrs.define
class _Running:
    task: RunTask
    started_ns: int
    remaining_ns: int
    slice_started_ns: int | None  # None while paused by an interrupt


class CpuCore:
    """One core of the machine.

    Args:
        core_id: the core's number (also its APIC ID).
        name: this core's actor name.
        apic: this core's local APIC (the same chip; it is wired to this core here).
        idt: interrupt vector to the name of the actor whose handler runs for it.
        irq_entry_ns: cost from acknowledge to the handler's first step.
        irq_exit_ns: cost of ``iret`` until IF=1.
        store_buffer: the core's store buffer (memory model ``tso``); None: ``sc``.
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
        store_buffer: StoreBuffer | None = None,
    ) -> None:
        self.core_id = core_id
        self.name = name
        self.apic = apic
        apic.core = self
        self.idt = dict(idt)
        self.irq_entry_ns = irq_entry_ns
        self.irq_exit_ns = irq_exit_ns
        self.store_buffer = store_buffer
        self.interrupts_enabled = True
        self.in_handler: int | None = None  # vector being handled
        self._returning = False  # the handler's iret is under way
        self.current: _Running | None = None
        self.queue: list[tuple[int, int, RunTask]] = []  # (priority, arrival, task)
        self._arrivals = 0
        self._softirq_yield = False  # softirq work just ended; its owner may queue more now
        self._handler_started = 0
        self._interrupts = self._handler_ns = self._tasks_done = self._task_ns = 0

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
                self._returning = True
                exit_ns, drained = self._drained(self.irq_exit_ns, "iret", now_ns)
                return (*drained, SetTimer("iret", exit_ns, CoreStep(CoreStepKind.IRET_DONE)))
            case CoreStep():
                return self._timer(message, now_ns)
            case RunTask():
                if message.cost_ns < 0:
                    raise IllegalValue("CpuCore", message, f"negative cost {message.cost_ns} ns")
                self._arrivals += 1
                bisect.insort(self.queue, (message.priority, self._arrivals, message))
                if self.state is CoreState.IDLE and not (self._softirq_yield and message.priority):
                    return self._start_next(now_ns)
                return ()
            case _:
                raise unexpected("CpuCore", message)

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
            case CoreStepKind.SOFTIRQ_YIELD:
                if not self._softirq_yield:
                    raise UnexpectedMessage("CpuCore", message, "no softirq work just ended")
                self._softirq_yield = False
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
        if running is not None and running.slice_started_ns is not None:
            # Pause the task; it resumes after iret with what it had left.
            ran = now_ns - running.slice_started_ns
            running.remaining_ns -= ran
            running.slice_started_ns = None
            self._task_ns += ran
            effects.append(CancelTimer("task", actor=self.name))
        self.interrupts_enabled = False
        self.in_handler = vector
        self._handler_started = now_ns
        self._interrupts += 1
        entry = InterruptEntry(vector, self.core_id)
        entry_ns, drained = self._drained(self.irq_entry_ns, "interrupt", now_ns)
        effects += drained
        effects += [
            Send(handler, entry, entry_ns, actor=self.name),
            Note(NoteKind.INTERRUPT_TAKEN, {"vector": vector, "handler": handler}, actor=self.name),
        ]
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
        effects: list[Effect] = [Note(NoteKind.INTERRUPT_RETURNED, {"vector": vector})]
        if self.apic.deliverable() is not None:
            effects += self._maybe_take_interrupt(now_ns)
        elif self.current is not None:
            self.current.slice_started_ns = now_ns
            remaining = self.current.remaining_ns
            effects.append(SetTimer("task", remaining, CoreStep(CoreStepKind.TASK_DONE)))
        else:
            effects += self._start_next(now_ns)
        return effects

    def _start_next(self, now_ns: int) -> Sequence[Effect]:
        if not self.queue:
            return ()
        _, _, task = self.queue.pop(0)
        self.current = _Running(task, now_ns, task.cost_ns, now_ns)
        return (SetTimer("task", task.cost_ns, CoreStep(CoreStepKind.TASK_DONE)),)

    def _finish_task(self, running: _Running, now_ns: int) -> Sequence[Effect]:
        assert running.slice_started_ns is not None  # checked by _timer
        self.current = None
        self._tasks_done += 1
        self._task_ns += now_ns - running.slice_started_ns
        task = running.task
        done = Send(task.owner, TaskDone(task.label, running.started_ns))
        if task.priority == 0 and not (self.queue and self.queue[0][0] == 0):
            # __do_softirq keeps the CPU while softirq work is pending: the owner may
            # queue its next piece in reply to TaskDone, at this same instant, and it
            # must run before process context. So the next task is chosen only once
            # every priority-0 delivery due now has been made.
            self._softirq_yield = True
            yield_ = CoreStep(CoreStepKind.SOFTIRQ_YIELD)
            return (done, SetTimer("softirq", 0, yield_, priority=1))
        return (done, *self._start_next(now_ns))
