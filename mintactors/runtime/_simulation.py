"""The simulation: actors on Trio, taking turns in virtual time.

Theory of operation
-------------------
Each actor is a Trio task in one nursery with a mailbox (a Trio memory channel).
All deliveries wait in one :class:`EventQueue`. Exactly one actor runs at a time,
and it holds the *baton*: it handles its message, performs the effects, pops the
next delivery and

* handles it itself, with no task switch, if the delivery is for the same actor;
* otherwise puts it in the target's mailbox, wakes the target directly through
  ``trio.lowlevel.reschedule`` and parks until its own mailbox is fed.

So at any moment at most one task is runnable, Trio's (deliberately randomised) task
order cannot change the outcome, and one delivery to another actor costs one task
switch (counted in :attr:`RunResult.handoffs`). When the queue runs dry, time
passes ``until_ns``, a component asks to stop or the stop condition holds, the
baton goes back to the task that called :meth:`Simulation.run`, which closes every
mailbox and lets the nursery end.
"""

from __future__ import annotations

import functools
import math
from collections.abc import AsyncGenerator, Callable, Collection, Generator, Mapping
from heapq import heappush
from typing import Any, Literal

import attrs
import outcome
import trio
from trio.lowlevel import Abort, Task, current_task, reschedule, wait_task_rescheduled

from mintactors._version import __version__
from mintactors.effects import (
    CancelTimer,
    Component,
    Note,
    Send,
    SetTimer,
    Stop,
    TraceLevel,
)
from mintactors.errors import ActorCrashed, DuplicateActorError, SimulationError, UnknownActorError
from mintactors.runtime._fingerprint import ScheduleFingerprint
from mintactors.runtime._policies import TieBreakPolicy, make_policy
from mintactors.runtime._queue import Entry, EventQueue, QueuedDelivery
from mintactors.runtime._trace import DatedNote, TraceSink

__all__ = ["Delivery", "RunResult", "RuntimeState", "Simulation", "StopWhen"]

EndReason = Literal["idle", "until", "stopped"]
#: What ends a run early: one check after every delivery, or a check per actor.
StopWhen = Callable[[], bool] | Mapping[str, Callable[[], bool]]


@attrs.frozen
class RunResult:
    """How a run ended.

    Attributes:
        reason: ``idle`` (nothing left to deliver), ``until`` (the next delivery was
            after ``until_ns``) or ``stopped`` (a component or the stop condition).
        now_ns: virtual time at the end (``until_ns`` itself when that bound ended it).
        delivered: messages handled.
        pending: deliveries still queued.
        ties_broken: decisions the tie-break policy made.
        detail: for ``stopped``, what asked to stop.
        handoffs: deliveries handed to another actor's task, each one Trio task
            switch (a delivery to the actor already running costs none).
        fingerprint: the schedule's fingerprint (16 hex digits), when the
            simulation was built with ``fingerprint=True``; see
            :class:`~mintactors.runtime.ScheduleFingerprint`.
    """

    reason: EndReason
    now_ns: int
    delivered: int
    pending: int
    ties_broken: int
    detail: str = ""
    handoffs: int = 0
    fingerprint: str | None = None


@attrs.frozen
class Delivery:
    """One delivery as an observer sees it: when, to whom, what, and from whom."""

    t_ns: int
    actor: str
    message: object
    source: str

    @property
    def kind(self) -> str:
        """The message's kind (its class name), as the trace writes it."""
        return type(self.message).__name__


@attrs.frozen
class RuntimeState:
    """Everything of a simulation between two deliveries that is not its components.

    What :meth:`Simulation.capture` takes and :meth:`Simulation.restore` puts back:
    the clock and counters, every queued delivery with its target named, the armed
    timers (within ``queue``), the tie-break policy with its random state, and what
    the trace sink holds (lines written so far, notes dated later). Every field is
    a plain value or a picklable object, so a checkpoint can be written to a file.
    """

    now_ns: int
    delivered: int
    handoffs: int
    ties_broken: int
    next_seq: int
    queue: tuple[QueuedDelivery, ...]
    policy: TieBreakPolicy
    trace_lines: int
    trace_dated: tuple[DatedNote, ...]
    trace_dated_seq: int


class _Resume(outcome.Outcome[None]):
    """What a parked actor is woken with: nothing, and reusable.

    ``trio.lowlevel.reschedule(task)`` wakes the task with a fresh
    ``outcome.Value(None)``, a frozen attrs record that marks itself used when
    unwrapped, so that no outcome is consumed twice. Building and marking one per
    hand-off was about 8 % of a run. The runtime's parked actors are the only tasks
    woken with this one and they read nothing from it, so a single shared instance,
    passed through ``reschedule``'s documented ``next_send`` argument, serves every
    hand-off.
    """

    __slots__ = ()

    def unwrap(self) -> None:
        """Nothing to return or raise."""

    def send(self, gen: Generator[Any, None, object]) -> Any:
        """Send None into ``gen``."""
        return gen.send(None)

    async def asend(self, agen: AsyncGenerator[Any, None]) -> Any:
        """Send None into ``agen``."""
        return await agen.asend(None)


#: The one :class:`_Resume` every hand-off passes to ``reschedule``.
RESUME = _Resume()


def _abort_parked(_: Any) -> Abort:
    # A parked actor holds nothing the runtime must clean up, so cancelling it is safe.
    return Abort.SUCCEEDED


class _Actor:
    """The shell around one component: its name, mailbox and Trio task."""

    __slots__ = ("component", "handle", "inbox", "name", "outbox", "task")

    def __init__(self, name: str, component: Component) -> None:
        self.name = name
        self.component = component
        self.handle = component.handle
        self.outbox, self.inbox = trio.open_memory_channel[Entry](math.inf)
        self.task: Task | None = None


class Simulation:
    """A deterministic discrete-event run of actors in virtual nanoseconds.

    Args:
        seed: the run's seed; every random stream derives from it.
        policy: tie-break policy name (see :func:`policy_names`) or instance.
        trace: where events go; defaults to no trace.
        metadata: extra fields for the trace header (a config echo, say).
        fingerprint: record the schedule's fingerprint (off by default: it costs a
            little on every delivery).

    Example:
        >>> sim = Simulation(seed=1)
        >>> sim.add_actor("ping", PingPong("pong"))   # doctest: +SKIP
        >>> sim.post("ping", Ball(0))                 # doctest: +SKIP
        >>> result = trio.run(sim.run)                # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        policy: str | TieBreakPolicy = "fifo",
        trace: TraceSink | None = None,
        metadata: Mapping[str, object] | None = None,
        fingerprint: bool = False,
    ) -> None:
        self.seed = seed
        self.policy = make_policy(policy, seed) if isinstance(policy, str) else policy
        self.trace = trace if trace is not None else TraceSink.off()
        self._metadata = dict(metadata or {})
        self._actors: dict[str, _Actor] = {}
        self._queue = EventQueue(self.policy)
        #: The current virtual time in nanoseconds (read it; only the run sets it).
        self.now_ns = 0
        self._delivered = 0
        self._handoffs = 0
        self._fingerprint = ScheduleFingerprint() if fingerprint else None
        self._until: int | None = None
        self._stop_when: StopWhen | None = None
        self._stop_at_once = False
        self._stop_watch: frozenset[str] | None = None
        self._last: Entry | None = None
        #: The actor the delivery just made went to ("" before any), for ``stop_when``:
        #: kept only while a ``stop_when`` is installed, like :attr:`last_delivery`,
        #: and cheaper (nothing is built). Read it; only the run sets it.
        self.last_actor = ""
        self._restored = False
        self._progress: Callable[[int], None] | None = None
        self._end: tuple[EndReason, str] | None = None
        self._finished: trio.Event | None = None
        self._started = False

    @property
    def fingerprint(self) -> str | None:
        """The schedule's fingerprint so far (None unless built with ``fingerprint=True``).

        Readable after a crash too, which is when an explorer wants it most.
        """
        return None if self._fingerprint is None else self._fingerprint.hexdigest()

    @property
    def ties_broken(self) -> int:
        """Decisions the tie-break policy has made so far."""
        return self._queue.ties_broken

    @property
    def delivered(self) -> int:
        """Deliveries made so far."""
        return self._delivered

    @property
    def last_delivery(self) -> Delivery | None:
        """The delivery just made, for a ``stop_when`` hook to read (None before any).

        Kept only while a ``stop_when`` is installed, so plain runs pay nothing.
        """
        last = self._last
        return None if last is None else Delivery(last[0], last[3].name, last[4], last[5])

    def next_due_ns(self) -> float:
        """When anything else can next happen: the earliest queued delivery's time.

        ``inf`` when nothing is queued. Read during a delivery, it leaves out that
        delivery's own effects, which the caller knows. A component that runs its
        own code ahead to an instant before this one cannot be overtaken by anyone
        (only deliveries change the machine), which is what makes running ahead
        safe; a cancelled timer still queued only makes the answer earlier. It is
        not cut at ``until_ns`` or at a stop: a run re-executed to an earlier
        instant must make the same choices as the run it repeats.
        """
        heap = self._queue.heap
        return heap[0][0] if heap else math.inf

    @property
    def actor_names(self) -> tuple[str, ...]:
        """Names of the actors, in the order they were added."""
        return tuple(self._actors)

    def add_actor(self, name: str, component: Component) -> None:
        """Wrap ``component`` as an actor called ``name``.

        Raises:
            DuplicateActorError: the name is taken.
            SimulationError: the run has started.
        """
        if self._started:
            raise SimulationError("actors must be added before the run starts")
        if name in self._actors:
            raise DuplicateActorError(name)
        self._actors[name] = _Actor(name, component)

    def component(self, name: str) -> Component:
        """The component wrapped by actor ``name``."""
        return self._actor(name).component

    def post(self, to: str, message: object, *, at_ns: int = 0, priority: int = 0) -> None:
        """Queue ``message`` for actor ``to`` at ``at_ns``, from outside the model.

        Raises:
            UnknownActorError: no actor is called ``to``.
            ValueError: ``at_ns`` is before the current time.
        """
        if at_ns < self.now_ns:
            raise ValueError(f"cannot post at {at_ns} ns, before now ({self.now_ns} ns)")
        self._queue.push(at_ns, priority, self._actor(to), message, "runtime")

    async def run(
        self,
        *,
        until_ns: int | None = None,
        stop_when: StopWhen | None = None,
        progress: Callable[[int], None] | None = None,
        stop_watch: Collection[str] | None = None,
        stop_at_once: bool = False,
    ) -> RunResult:
        """Run until nothing is due, ``until_ns`` passes, or a stop is asked for.

        ``stop_when`` is evaluated after every delivery; when it returns true, or a
        component returns :class:`Stop`, the run ends once every delivery due at that
        same instant has been made; with ``stop_at_once``, a true ``stop_when`` ends
        it right after that delivery instead, leaving the rest of the instant queued
        (to look at the machine between two deliveries of one instant). Deliveries
        at exactly ``until_ns`` are made.
        ``progress`` is called with the virtual time every 4096 deliveries (for a
        progress bar; it must not touch the model).

        ``stop_watch`` names the actors whose state ``stop_when`` reads; it is then
        evaluated only after deliveries to those (a component's state changes only
        when it handles a message, so the other evaluations could not change the
        answer, and skipping them saves a call on most deliveries). ``stop_when``
        may also be a mapping from actor name to the check to make after
        deliveries to that actor (none after the others): a monitor whose checks
        differ per actor then needs no dispatch of its own on every delivery.

        Raises:
            ActorCrashed: a component raised; the original error is the ``__cause__``.
            SimulationError: the simulation was already run.
            UnknownActorError: ``stop_watch`` or a ``stop_when`` mapping names an
                actor that does not exist.
        """
        if self._started:
            raise SimulationError("a simulation runs once; build a new one to run again")
        if stop_watch is not None:
            for name in stop_watch:
                self._actor(name)
            self._stop_watch = frozenset(stop_watch)
        if isinstance(stop_when, Mapping):
            for name in stop_when:
                self._actor(name)
        self._started = True
        self._until = until_ns
        self._stop_when = stop_when
        self._stop_at_once = stop_at_once
        self._progress = progress
        self._finished = trio.Event()
        if not self._restored:
            self._write_header()
        try:
            async with trio.open_nursery() as nursery:
                for actor in self._actors.values():
                    await nursery.start(self._actor_task, actor)
                first = self._queue.pop(until_ns)
                if first is None:
                    self._end = self._why_no_more()
                self._hand_over(first)
                await self._finished.wait()
                for actor in self._actors.values():
                    actor.outbox.close()
                    reschedule(actor.task, RESUME)  # type: ignore[arg-type]
        except BaseExceptionGroup as group:
            crashed, rest = group.split(ActorCrashed)
            if crashed is not None and rest is None:
                leaf = _first_leaf(crashed)
                raise leaf from leaf.__cause__
            raise
        return self._finish()

    def run_sync(
        self,
        *,
        until_ns: int | None = None,
        stop_when: StopWhen | None = None,
        progress: Callable[[int], None] | None = None,
        stop_watch: Collection[str] | None = None,
        stop_at_once: bool = False,
    ) -> RunResult:
        """:meth:`run` from synchronous code, in a fresh Trio event loop."""
        return trio.run(
            functools.partial(
                self.run,
                until_ns=until_ns,
                stop_when=stop_when,
                progress=progress,
                stop_watch=stop_watch,
                stop_at_once=stop_at_once,
            )
        )

    def capture(self) -> RuntimeState:
        """The runtime's state between two deliveries (see :class:`RuntimeState`).

        Call it from ``stop_when`` (or before a run). Taking it draws one send-order
        number; only the order of those numbers matters, so the run is unchanged.

        Raises:
            SimulationError: the simulation records a schedule fingerprint, whose
                running digest cannot be saved.
        """
        if self._fingerprint is not None:
            raise SimulationError("a run that records its fingerprint cannot be captured")
        queue = self._queue
        dated, dated_seq = self.trace.dated_notes()
        return RuntimeState(
            now_ns=self.now_ns,
            delivered=self._delivered,
            handoffs=self._handoffs,
            ties_broken=queue.ties_broken,
            next_seq=queue.next_seq(),
            queue=tuple(queue.live()),
            policy=self.policy,
            trace_lines=self.trace.lines_written,
            trace_dated=dated,
            trace_dated_seq=dated_seq,
        )

    def restore(self, state: RuntimeState, components: Mapping[str, Component]) -> None:
        """Before the run: carry on from ``state`` with ``components`` in place of the actors'.

        The run then writes no header (the trace it continues has one) and resumes
        exactly where the captured run was, given the components as they were then.

        Raises:
            SimulationError: the run has started.
            UnknownActorError: a component or a queued delivery names no actor.
        """
        if self._started:
            raise SimulationError("a simulation is restored before its run starts")
        for name, component in components.items():
            actor = self._actor(name)
            actor.component = component
            actor.handle = component.handle
        self.policy = state.policy
        self._queue.restore(
            list(state.queue),
            self._actor,
            next_seq=state.next_seq + 1,
            ties_broken=state.ties_broken,
            policy=state.policy,
        )
        self.now_ns = state.now_ns
        self._delivered = state.delivered
        self._handoffs = state.handoffs
        self.trace.restore(state.trace_lines, state.trace_dated, state.trace_dated_seq)
        self._restored = True

    def _actor(self, name: str) -> _Actor:
        try:
            return self._actors[name]
        except KeyError:
            raise UnknownActorError(name, tuple(self._actors)) from None

    def header_fields(self) -> dict[str, object]:
        """What the trace's first line records about the run (the sink adds ``format``)."""
        return {
            "mintactors_version": __version__,
            "seed": self.seed,
            "policy": self.policy.name,
            "level": self.trace.level.name.lower(),
            **self._metadata,
        }

    def _write_header(self) -> None:
        self.trace.header(self.header_fields())

    def _finish(self) -> RunResult:
        assert self._end is not None
        reason, detail = self._end
        if reason == "until" and self._until is not None:
            self.now_ns = self._until
        result = RunResult(
            reason=reason,
            now_ns=self.now_ns,
            delivered=self._delivered,
            pending=len(self._queue),
            ties_broken=self._queue.ties_broken,
            detail=detail,
            handoffs=self._handoffs,
            fingerprint=self.fingerprint,
        )
        self.trace.close(self.now_ns)
        self.trace.event(
            self.now_ns,
            "runtime",
            "run_end",
            {
                "reason": reason,
                "detail": detail,
                "delivered": result.delivered,
                "pending": result.pending,
            },
        )
        self.trace.flush()
        return result

    def pending(self) -> list[tuple[int, str, object]]:
        """Deliveries still queued, as (time, actor, message), in delivery order.

        After a run this is what was in transit when it ended.
        """
        return self._queue.snapshot()

    def in_flight(self) -> list[Delivery]:
        """Deliveries still queued, with their senders, in delivery order."""
        return [Delivery(e[0], e[3], e[4], e[5]) for e in self._queue.live()]

    def _why_no_more(self) -> tuple[EndReason, str]:
        return ("idle", "") if len(self._queue) == 0 else ("until", "")

    def _hand_over(self, entry: Entry | None) -> None:
        if entry is None:
            assert self._finished is not None
            self._finished.set()
            return
        target: _Actor = entry[3]
        self._handoffs += 1
        target.outbox.send_nowait(entry)
        reschedule(target.task, RESUME)  # type: ignore[arg-type]

    async def _actor_task(  # noqa: PLR0915 (the hot loop: inlined on purpose)
        self, actor: _Actor, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Park until handed a delivery; handle deliveries while they are for this actor.

        This loop is the runtime's hot path: every delivery of every run passes
        through it, so everything it uses is bound to a local once, and the three
        commonest effects, :class:`Send`, :class:`Note` and :class:`SetTimer`, are
        performed inline (a method call per effect was a measurable share of a
        run). Everything else goes through :meth:`_perform`.
        """
        actor.task = current_task()
        receive = actor.inbox.receive_nowait
        name = actor.name
        handle = actor.handle
        actors = self._actors
        queue = self._queue
        pop = queue.pop
        heap = queue.heap
        next_seq = queue.next_seq
        timers = queue.timers
        perform = self._perform
        trace = self.trace
        trace_deliveries = trace.level is TraceLevel.FULL
        # Notes above the sink's level are dropped here, before any call.
        note_level = int(trace.level)
        watch = self._stop_watch
        stop_when = self._stop_when
        if isinstance(stop_when, Mapping):
            stop_when = stop_when.get(name)
        elif watch is not None and name not in watch:
            stop_when = None
        at_once = self._stop_at_once
        progress = self._progress
        fingerprint = self._fingerprint
        task_status.started()
        while True:
            await wait_task_rescheduled(_abort_parked)
            try:
                entry: Entry | None = receive()
            except trio.EndOfChannel:
                return
            while entry is not None:
                now = entry[0]
                message = entry[4]
                self.now_ns = now
                if fingerprint is not None:
                    fingerprint.add(name, message, entry[5])
                if trace_deliveries:
                    trace.delivery(now, name, message, entry[5])
                try:
                    # Any: the dispatch below is on the exact type, which mypy cannot narrow.
                    effects: Any = handle(message, now)
                    if effects:
                        for effect in effects:
                            kind = type(effect)
                            if kind is Send:
                                target = actors.get(effect.to)
                                delay = effect.delay_ns
                                if target is None or delay < 0:
                                    self._refuse_send(effect)
                                heappush(
                                    heap,
                                    (
                                        now + delay,
                                        effect.priority,
                                        next_seq(),
                                        target,
                                        effect.message,
                                        effect.actor or name,
                                        None,
                                    ),
                                )
                            elif kind is Note:
                                if effect.level <= note_level:
                                    delay = effect.delay_ns
                                    if delay < 0:
                                        self._refuse_note(effect)
                                    trace.note(
                                        now + delay,
                                        effect.actor or name,
                                        effect.kind,
                                        effect.fields,
                                        effect.level,
                                        dated=delay > 0,
                                    )
                            elif kind is SetTimer:
                                # EventQueue.arm_timer, inlined.
                                delay = effect.delay_ns
                                if delay < 0:
                                    self._refuse_timer(effect)
                                seq = next_seq()
                                owner = actor if effect.actor is None else self._actor(effect.actor)
                                timer = (owner.name, effect.key)
                                timers[timer] = seq
                                heappush(
                                    heap,
                                    (
                                        now + delay,
                                        effect.priority,
                                        seq,
                                        owner,
                                        effect.message,
                                        owner.name,
                                        timer,
                                    ),
                                )
                            else:
                                perform(actor, effect, now)
                except Exception as exc:
                    raise ActorCrashed(name, now, message, self.seed, exc) from exc
                self._delivered += 1
                if progress is not None and not self._delivered & 4095:
                    progress(now)
                if self._end is None and stop_when is not None:
                    self._last = entry
                    self.last_actor = name
                    if stop_when():
                        self._end = ("stopped", "stop condition")
                        if at_once:
                            # Nothing due is before now: the run ends here.
                            self._until = now - 1
                if self._end is not None and (self._until is None or self._until >= now):
                    # A stop ends the run at the end of this instant, so every
                    # delivery already due now is still made.
                    self._until = now
                entry = pop(self._until)
                if entry is None:
                    if self._end is None:
                        self._end = self._why_no_more()
                elif entry[3] is not actor:
                    target = entry[3]
                    self._handoffs += 1
                    target.outbox.send_nowait(entry)
                    reschedule(target.task, RESUME)
                    break
            else:
                self._hand_over(None)

    def _refuse_send(self, effect: Send) -> None:
        """Raise the error a :class:`Send` to no actor, or into the past, deserves."""
        if effect.to not in self._actors:
            raise UnknownActorError(effect.to, tuple(self._actors))
        raise SimulationError(f"negative delay {effect.delay_ns} ns in {effect!r}")

    @staticmethod
    def _refuse_timer(effect: SetTimer) -> None:
        """Raise the error a :class:`SetTimer` into the past deserves."""
        raise SimulationError(f"negative delay {effect.delay_ns} ns in {effect!r}")

    @staticmethod
    def _refuse_note(effect: Note) -> None:
        """Raise the error a :class:`Note` dated in the past deserves."""
        raise SimulationError(f"negative delay {effect.delay_ns} ns in {effect!r}")

    def _perform(self, actor: _Actor, effect: object, now: int) -> None:
        """Perform a :class:`CancelTimer` or :class:`Stop` (the rest are done inline)."""
        kind = type(effect)
        if kind is CancelTimer:
            assert isinstance(effect, CancelTimer)
            self._queue.cancel_timer(effect.actor or actor.name, effect.key)
        elif kind is Stop:
            assert isinstance(effect, Stop)
            self._end = ("stopped", f"{actor.name}: {effect.reason}")
        else:
            raise SimulationError(f"{actor.name} returned {effect!r}, which is not an effect")


def _first_leaf(group: BaseExceptionGroup[ActorCrashed]) -> ActorCrashed:
    first = group.exceptions[0]
    return first if isinstance(first, ActorCrashed) else _first_leaf(first)
