"""NAPI receive drivers: the hard IRQ masks itself and a softirq poll drains the ring.

Theory of operation (Linux ``Documentation/networking/napi.rst`` and e1000's
``e1000_intr``/``e1000_clean``; domain.md 1.4 and 2.1). Two flags, as in
``struct napi_struct``: ``SCHED`` (a poll is scheduled or running) and ``MISSED``
(an interrupt came while it was).

Hard IRQ (on the IPI, interrupts off)
    ``entered``: ``napi_schedule_prep()``. If ``SCHED`` was set, set ``MISSED`` and
    go to ``before_eoi``. Otherwise set ``SCHED``; ``masked``: write IMS = 0 (the
    mechanism now latches the cause instead of sending IPIs) and raise the
    softirq, so the poll runs on this core once the handler returns; then
    ``before_eoi``, ``returned``.
Poll (softirq work on the core, ``RunTask`` priority 0, interrupts on)
    ``poll_started``, then the e1000 cleaning steps of the paper's handler
    (``status_read``, ``frame_copied``, ``skb_queued``, ``descriptor_returned``,
    ``tail_written``) for at most ``budget`` (64, ``dev_rx_weight``) descriptors.
    With the budget used up the poll returns and runs again, still scheduled.
    With the ring drained: ``poll_completed`` (``napi_complete_done()``): if
    ``MISSED`` is set, clear it and poll again; otherwise clear ``SCHED``, write
    IMS = RXT0 (unmask), ``irq_enabled``.
Re-check (:class:`NapiDriver`)
    An IPI is an edge: a frame whose descriptor was written while the interrupt was
    masked raised nothing, and unmasking does not re-raise it (a real e1000
    re-asserts latched causes; domain.md 2.1 [inf]). So after unmasking, the
    driver reads the descriptor at ``next_to_clean`` once more: ``rechecked``;
    with DD set it schedules itself again (``napi_schedule_prep()``, mask, poll).
    The unmask write and the re-check read are ordered (the write is flushed
    first, as ``E1000_WRITE_FLUSH`` does), so either the re-check sees the frame
    or the mechanism sees the interrupt unmasked and sends an IPI.
:class:`LostWakeupDriver`
    The same without the re-check: a frame written between the poll's last DD
    check and the unmask waits for the next IPI, or forever.

Every piece of poll work is CPU time on the core (a ``RunTask`` at softirq
priority, paused while a hard IRQ runs); a load from shared memory keeps the
core busy until its data arrives (``DriverCosts.load_ns``). The mask and unmask
writes cost ``eoi_ns`` (a register write, like the EOI write); entering the poll
and ``napi_schedule_prep()`` cost ``descriptor_ns``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import attrs

from mintactors.effects import Effect, Note, Send, SetTimer
from mintactors.errors import UnexpectedMessage
from mintactors.hardware import ICR_RXT0
from mintactors.hardware.nic import RxDescriptor
from mintactors.kernel.driver import DriverStatistics, RxDriver
from mintactors.messages import (
    DriverStep,
    InterruptEntry,
    InterruptReturn,
    MemoryData,
    MemoryFault,
    MemoryRead,
    MemoryWrite,
    RunTask,
    Start,
    TaskDone,
)
from mintactors.notes import NoteKind

__all__ = ["NAPI_STEPS", "LostWakeupDriver", "NapiDriver", "NapiStatistics"]

NAPI_STEPS = (
    "entered",
    "masked",
    "before_eoi",
    "returned",
    "poll_started",
    "status_read",
    "frame_copied",
    "skb_queued",
    "descriptor_returned",
    "tail_written",
    "poll_completed",
    "irq_enabled",
    "rechecked",
)

#: ``dev_rx_weight``: descriptors one poll may clean (net/core/hotdata.c).
NAPI_BUDGET = 64

# Poll-work labels the core hands back in TaskDone, and the step each continues at.
_CHAIN_STEPS = frozenset(
    {"poll_start", "frame_copied", "skb_queued", "descriptor_returned"}
    | {"poll_completed", "irq_enabled"}
)


@attrs.frozen
class NapiStatistics(DriverStatistics):
    """The driver's counters plus NAPI's.

    ``handler_runs`` counts hard IRQs; ``polls`` poll invocations;
    ``budget_exhausted`` polls that used their whole budget; ``missed`` hard IRQs
    that found a poll already scheduled; ``rechecks_found`` re-checks after
    unmasking that found a frame (each a lost wakeup avoided).
    """

    polls: int
    budget_exhausted: int
    missed: int
    rechecks_found: int
    masks: int
    unmasks: int


@attrs.define
class _Load:
    """A load the poll waits for: its data (or fault) and the core's stall."""

    tag: str
    reply: MemoryData | MemoryFault | None = None
    stalled: bool = True


class NapiDriver(RxDriver):
    """NAPI with the re-check after unmasking that an edge-triggered doorbell needs."""

    variant = "napi"
    steps = NAPI_STEPS
    masks_interrupts = True
    recheck_after_unmask = True

    #: Packets one poll may clean (the driver's NAPI weight, ``dev_rx_weight`` = 64).
    budget = NAPI_BUDGET

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scheduled = False  # NAPI_STATE_SCHED
        self.missed = False  # NAPI_STATE_MISSED
        self.softirq = False  # a chain of poll work is live on the core
        self.work_done = 0
        self._load: _Load | None = None
        self._context = "irq"
        self._extra: list[Effect] = []
        self._refill_delay = 0
        self._polls = self._exhausted = self._missed = self._found = 0
        self._masks = self._unmasks = 0

    @property
    def busy(self) -> bool:
        """In the hard IRQ, scheduled, or with poll work still live on the core."""
        return self.in_handler or self.scheduled or self.softirq

    def statistics(self) -> NapiStatistics:
        """The counters so far."""
        base = super().statistics()
        return NapiStatistics(
            **attrs.asdict(base),
            polls=self._polls,
            budget_exhausted=self._exhausted,
            missed=self._missed,
            rechecks_found=self._found,
            masks=self._masks,
            unmasks=self._unmasks,
        )

    # -- where work runs: timers in the hard IRQ, core tasks in the poll ---------------

    def _after(self, delay_ns: int, step: str) -> Effect:
        if self._context == "irq":
            return SetTimer("step", delay_ns, DriverStep(step))
        return Send(self.core, RunTask(self.name, delay_ns, step, priority=0))

    def _read(self, addr: int, length: int, tag: str, delay_ns: int = 0) -> Effect:
        read = Send(self.memory, MemoryRead(self.node, ((addr, length),), self.name, tag), delay_ns)
        if self._context == "poll":
            # The core stalls on the load until its data is in.
            self._load = _Load(tag)
            stall = RunTask(self.name, delay_ns + self.costs.load_ns, "load", priority=0)
            self._extra.append(Send(self.core, stall))
        return read

    def _write_ims(self, value: int) -> Effect:
        write = ((self.layout.register("IMS"), struct.pack("<I", value)),)
        return Send(self.memory, MemoryWrite(self.node, write, self.name, "write"))

    # -- messages -------------------------------------------------------------------

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        """Init, a hard IRQ and its steps, or a piece of poll work."""
        self._extra = []
        effects = list(self._dispatch(message, now_ns))
        return effects + self._extra if self._extra else effects

    def _dispatch(self, message: object, now_ns: int) -> Sequence[Effect]:
        load = self._load
        match message:
            case Start():
                self._context = "irq"
                effects = list(self._init())
                effects.append(self._write_ims(ICR_RXT0))
                return effects
            case InterruptEntry() if not self.in_handler:
                self._context = "irq"
                return self._hard_irq(now_ns)
            case DriverStep(step="masked") if self.in_handler:
                self._context = "irq"
                return self._masked(now_ns)
            case DriverStep(step=step) if self.in_handler and step in ("before_eoi", "returned"):
                self._context = "irq"
                return self._continue(step, now_ns)
            case MemoryData() | MemoryFault() if (
                load is not None and load.tag == message.tag and load.reply is None
            ):
                load.reply = message
                return self._loaded(now_ns)
            case TaskDone(label="load") if load is not None and load.stalled:
                load.stalled = False
                return self._loaded(now_ns)
            case TaskDone(label=label) if self.softirq and label in _CHAIN_STEPS:
                self._context = "poll"
                return self._poll_step(label, now_ns)
            case MemoryFault():
                # A refused posted write (status clear, refill, IMS): noted, as the
                # base driver does; nothing waits for it.
                self._faults += 1
                return (
                    Note(NoteKind.DRIVER_FAULT, {"addr": message.addr, "access": message.access}),
                )
            case _:
                raise UnexpectedMessage(type(self).__name__, message)

    # -- hard IRQ -----------------------------------------------------------------------

    def _schedule_prep(self) -> bool:
        """``napi_schedule_prep()``: take SCHED, or record MISSED if it was taken."""
        if self.scheduled:
            self.missed = True
            self._missed += 1
            return False
        self.scheduled = True
        return True

    def _hard_irq(self, now_ns: int) -> Sequence[Effect]:
        self.in_handler = True
        self._runs += 1
        effects = self._step("entered", now_ns)
        effects.append(Note(NoteKind.HANDLER_ENTERED, {"run": self._runs}))
        if self._schedule_prep():
            effects.append(self._after(self.costs.descriptor_ns, "masked"))
        else:
            effects.append(Note(NoteKind.NAPI_MISSED, {"run": self._runs}))
            effects.append(self._after(self.costs.descriptor_ns, "before_eoi"))
        return effects

    def _masked(self, now_ns: int) -> Sequence[Effect]:
        effects = self._step("masked", now_ns)
        self._masks += 1
        effects += [self._write_ims(0), Note(NoteKind.IRQ_MASKED, {"run": self._runs})]
        if not self.softirq:
            # Raise NET_RX: the poll runs on this core after the handler returns.
            self.softirq = True
            work = RunTask(self.name, self.costs.descriptor_ns, "poll_start", priority=0)
            effects.append(Send(self.core, work))
        effects.append(self._after(self.costs.eoi_ns, "before_eoi"))
        return effects

    def _return(self, now_ns: int) -> Sequence[Effect]:
        effects = self._step("returned", now_ns)
        self.in_handler = False
        # The hard IRQ only schedules the poll: it cleans nothing, so "drained" is
        # not a count here (the poll's notes carry the counts).
        effects.append(Note(NoteKind.HANDLER_EXITED, {"run": self._runs, "drained": None}))
        effects.append(Send(self.core, InterruptReturn()))
        return effects

    # -- the poll -------------------------------------------------------------------

    def _loaded(self, now_ns: int) -> Sequence[Effect]:
        load = self._load
        if load is None or load.stalled or load.reply is None:
            return ()
        self._load = None
        self._context = "poll"
        reply = load.reply
        if isinstance(reply, MemoryFault):
            return self._poll_fault(reply, now_ns)
        chunk = reply.chunks[0]
        match load.tag:
            case "desc":
                return self._status_read(RxDescriptor.unpack(chunk), now_ns)
            case "frame":
                return self._frame_read(chunk)
            case "recheck":
                return self._rechecked(RxDescriptor.unpack(chunk), now_ns)
            case _:
                raise UnexpectedMessage(type(self).__name__, reply, f"load {load.tag}")

    def _poll_step(self, label: str, now_ns: int) -> Sequence[Effect]:
        match label:
            case "poll_start":
                return self._poll_started(now_ns)
            case "poll_completed":
                return self._complete(now_ns)
            case "irq_enabled":
                return self._irq_enabled(now_ns)
            case _:
                return self._continue(label, now_ns)

    def _poll_started(self, now_ns: int) -> Sequence[Effect]:
        self._polls += 1
        self.work_done = 0
        self._drained = 0
        effects = self._step("poll_started", now_ns)
        effects.append(Note(NoteKind.POLL_STARTED, {"poll": self._polls}))
        effects.append(self._read(self.descriptor_address(self.next_to_clean), 16, "desc"))
        return effects

    def next_after_descriptor(self, now_ns: int, delay_ns: int) -> list[Effect]:
        """Count the descriptor against the budget; poll on or return."""
        self.work_done += 1
        if self.work_done < self.budget:
            return [self._read(self.descriptor_address(self.next_to_clean), 16, "desc", delay_ns)]
        # Budget used up: refill, return ``budget`` and stay scheduled (napi.rst).
        self._exhausted += 1
        self._max_drained = max(self._max_drained, self._drained)
        effects: list[Effect] = [
            Note(NoteKind.BUDGET_EXHAUSTED, {"poll": self._polls, "drained": self._drained})
        ]
        effects += self._final_refill(now_ns)
        effects.append(self._after(delay_ns + self._refill_delay, "poll_start"))
        return effects

    def _final_refill(self, now_ns: int) -> list[Effect]:
        """e1000's refill at the end of ``clean_rx_irq``: every unused descriptor."""
        self._refill_delay = 0
        unused = self.unused()
        if not unused:
            return []
        effects: list[Effect] = [self._write(self._refill(unused))]
        self.cleaned_since_refill = 0
        self._refill_delay = self.costs.refill_ns
        effects += self._step("tail_written", now_ns)
        return effects

    def _ring_drained(self, now_ns: int) -> list[Effect]:
        """No DD at ``next_to_clean``: refill, then ``napi_complete_done()``."""
        if self._drained == 0:
            self._empty += 1
        self._max_drained = max(self._max_drained, self._drained)
        effects = self._final_refill(now_ns)
        effects.append(self._after(self._refill_delay, "poll_completed"))
        return effects

    def _complete(self, now_ns: int) -> Sequence[Effect]:
        effects = self._step("poll_completed", now_ns)
        if self.missed:
            # napi_complete_done() returns false: stay scheduled, poll again, stay masked.
            self.missed = False
            fields = {"poll": self._polls, "rescheduled": True, "drained": self._drained}
            effects.append(Note(NoteKind.POLL_COMPLETED, fields))
            effects.append(self._after(self.costs.descriptor_ns, "poll_start"))
            return effects
        self.scheduled = False
        self._unmasks += 1
        fields = {"poll": self._polls, "rescheduled": False, "drained": self._drained}
        effects.append(Note(NoteKind.POLL_COMPLETED, fields))
        effects.append(self._write_ims(ICR_RXT0))
        effects.append(self._after(self.costs.eoi_ns, "irq_enabled"))
        return effects

    def _irq_enabled(self, now_ns: int) -> Sequence[Effect]:
        effects = self._step("irq_enabled", now_ns)
        effects.append(Note(NoteKind.IRQ_UNMASKED, {"poll": self._polls}))
        if self.recheck_after_unmask:
            desc = self.descriptor_address(self.next_to_clean)
            effects.append(self._read(desc, 16, "recheck"))
        else:
            effects += self._chain_end()
        return effects

    def _rechecked(self, desc: RxDescriptor, now_ns: int) -> Sequence[Effect]:
        effects = self._step("rechecked", now_ns)
        if not desc.done:
            return effects + self._chain_end()
        self._found += 1
        effects.append(Note(NoteKind.RECHECK_FOUND, {"desc": self.next_to_clean}))
        if not self._schedule_prep():
            return effects + self._chain_end()
        self._masks += 1
        effects.append(self._write_ims(0))
        effects.append(Note(NoteKind.IRQ_MASKED, {"poll": self._polls}))
        effects.append(self._after(self.costs.eoi_ns + self.costs.descriptor_ns, "poll_start"))
        return effects

    def _chain_end(self) -> list[Effect]:
        """The poll work ends, unless a hard IRQ scheduled another poll meanwhile."""
        if self.scheduled:
            return [self._after(self.costs.descriptor_ns, "poll_start")]
        self.softirq = False
        return []

    def _poll_fault(self, fault: MemoryFault, now_ns: int) -> Sequence[Effect]:
        self._faults += 1
        effects: list[Effect] = [
            Note(NoteKind.DRIVER_FAULT, {"addr": fault.addr, "access": fault.access})
        ]
        if fault.tag == "frame":
            self._frame = b""
            effects += self._drop_held("access_violation", now_ns)
            effects.append(self._after(self.costs.descriptor_ns, "descriptor_returned"))
        elif fault.tag == "desc":
            effects += self._ring_drained(now_ns)
        else:
            effects += self._chain_end()
        return effects


class LostWakeupDriver(NapiDriver):
    """Deliberately buggy NAPI: unmasks without re-checking the ring.

    A frame whose descriptor is written after the poll's last DD check, while the
    interrupt is still masked, raises no IPI (the mechanism latches the cause
    instead), and nothing looks at the ring again until the next IPI: the frame
    waits for the next packet's interrupt, or forever if none comes.
    """

    variant = "lost-wakeup"
    recheck_after_unmask = False
