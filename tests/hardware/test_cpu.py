"""The CPU core: one thing at a time, interrupts only with IF=1, tasks resume after iret."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mintactors.errors import IllegalValue, MintactorsError, UnexpectedMessage
from mintactors.hardware.apic import LocalApic
from mintactors.hardware.cpu import CoreState, CpuCore
from mintactors.hardware.store_buffer import StoreBuffer
from mintactors.messages import (
    CoreInput,
    CoreStep,
    CoreStepKind,
    InterruptEntry,
    InterruptReturn,
    IpiMessage,
    RunTask,
    TaskDone,
)
from mintactors.notes import NoteKind
from mintactors.runtime import Effect, Note, Send, SetTimer, Simulation
from mintactors.testing import Recorder, example_message, message_kinds_outside, plain_state

V = 0x41


@attrs.define
class Handler:
    """An interrupt handler that takes ``cost_ns`` and returns."""

    cost_ns: int
    entries: list[int] = attrs.field(factory=list)

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        assert isinstance(message, InterruptEntry)
        self.entries.append(now_ns)
        return (Send("core", InterruptReturn(), self.cost_ns),)


def new_core(entry: int = 100, exit_: int = 50, idt: dict[int, str] | None = None) -> CpuCore:
    apic = LocalApic(apic_id=1, name="apic", peers={1: "apic"}, latency=lambda: 0)
    idt = {V: "handler"} if idt is None else idt
    return CpuCore(
        core_id=1, name="core", apic=apic, idt=idt, irq_entry_ns=entry, irq_exit_ns=exit_
    )


def machine(entry: int = 100, exit_: int = 50, handler_ns: int = 1000):  # type: ignore[no-untyped-def]
    sim = Simulation()
    core = new_core(entry, exit_)
    handler, owner, apic = Handler(handler_ns), Recorder(), core.apic
    for name, component in (("core", core), ("handler", handler), ("app", owner), ("apic", apic)):
        sim.add_actor(name, component)
    return sim, core, handler, owner, apic


async def test_task_runs_for_its_cost() -> None:
    """A task posted to an idle core finishes cost_ns later."""
    sim, core, _, owner, _ = machine()
    sim.post("core", RunTask("app", 500, "work"), at_ns=10)
    await sim.run()
    assert owner.seen == [(510, TaskDone("work", 10))]
    assert core.statistics().task_ns == 500


async def test_interrupt_pauses_a_task_which_resumes_with_what_it_had_left() -> None:
    """A task interrupted after 200 of 500 ns finishes 300 ns after iret completes."""
    sim, core, handler, owner, apic = machine(entry=100, exit_=50, handler_ns=1000)
    sim.post("core", RunTask("app", 500, "work"), at_ns=0)
    sim.post("apic", IpiMessage(V, 0), at_ns=200)
    await sim.run()
    assert apic.statistics().interrupts_accepted == 1
    assert handler.entries == [300]  # taken at 200, plus the entry cost
    # handler returns at 1300, iret done at 1350, 300 ns left of the task
    assert owner.seen == [(1650, TaskDone("work", 0))]
    stats = core.statistics()
    assert (stats.interrupts_taken, stats.handler_ns, stats.task_ns) == (1, 1150, 500)


def test_the_handler_hears_whether_the_interrupt_found_the_core_idle() -> None:
    """InterruptEntry says the core came from its idle loop only if no work ran, was
    paused or waited: the kernel shell starts NET_RX early only after such one."""
    entries = []
    for busy in (False, True):
        core = new_core()
        if busy:
            core.handle(RunTask("app", 500, "work"), 0)
        effects = core.apic.handle(IpiMessage(V, 0), 100)
        entries += [e.message for e in effects if isinstance(e, Send)]
    assert entries == [InterruptEntry(V, 1, from_idle=True), InterruptEntry(V, 1)]


async def test_intr_during_a_handler_waits_until_iret() -> None:
    """With IF=0 in the handler, a second INTR is taken only after iret completes."""
    sim, _, handler, _, apic = machine(entry=100, exit_=50, handler_ns=1000)
    sim.post("apic", IpiMessage(V, 0), at_ns=0)
    sim.post("apic", IpiMessage(V, 0), at_ns=500)
    await sim.run()
    assert apic.statistics().interrupts_accepted == 2
    assert handler.entries == [100, 1250]  # the second taken when iret completes, at 1150


async def test_back_to_back_interrupts_do_not_lose_a_paused_tasks_time() -> None:
    """A task paused across two handler runs still gets exactly its cost."""
    sim, core, _, owner, _ = machine(entry=10, exit_=10, handler_ns=100)
    sim.post("core", RunTask("app", 300, "work"), at_ns=0)
    sim.post("apic", IpiMessage(V, 0), at_ns=100)
    sim.post("apic", IpiMessage(V, 0), at_ns=150)  # arrives inside the first handler
    await sim.run()
    # Task ran 0..100; handlers 100..220 and 220..340; resumes 340 with 200 left.
    assert owner.seen == [(540, TaskDone("work", 0))]
    assert core.statistics().task_ns == 300
    assert core.state is CoreState.IDLE


async def test_softirq_work_goes_before_process_work() -> None:
    """Queued priority-0 work runs before earlier-queued priority-1 work."""
    sim, _, _, owner, _ = machine()
    sim.post("core", RunTask("app", 100, "first"), at_ns=0)
    sim.post("core", RunTask("app", 100, "process"), at_ns=10)
    sim.post("core", RunTask("app", 100, "softirq", priority=0), at_ns=20)
    await sim.run()
    assert [m.label for _, m in owner.seen] == ["first", "softirq", "process"]  # type: ignore[attr-defined]


@attrs.define
class RaisingHandler:
    """A handler that raises softirq work for ``owner`` as it returns (``irq_exit``)."""

    cost_ns: int
    softirq_ns: int

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        assert isinstance(message, InterruptEntry)
        work = RunTask("driver", self.softirq_ns, "net_rx", priority=0)
        return (Send("core", InterruptReturn(softirq=work), self.cost_ns),)


async def test_softirq_raised_by_a_handler_runs_before_the_interrupted_thread_resumes() -> None:
    """irq_exit runs NET_RX first; the paused thread gets the rest of its time after it."""
    sim = Simulation()
    core = new_core(entry=100, exit_=50)
    app, driver = Recorder(), Recorder()
    actors = (("core", core), ("handler", RaisingHandler(1000, 400)), ("app", app))
    for name, component in (*actors, ("driver", driver), ("apic", core.apic)):
        sim.add_actor(name, component)
    sim.post("core", RunTask("app", 500, "work"), at_ns=0)
    sim.post("apic", IpiMessage(V, 0), at_ns=200)
    await sim.run()
    # Taken at 200, handler 300..1300, iret done 1350; softirq 1350..1750; the thread
    # resumes with 300 ns left and ends at 2050.
    assert driver.seen == [(1750, TaskDone("net_rx", 1350))]
    assert app.seen == [(2050, TaskDone("work", 0))]
    stats = core.statistics()
    assert (stats.softirq_ns, stats.thread_ns) == (400, {"app": 500})


async def test_an_interrupted_softirq_resumes_before_new_softirq_and_threads() -> None:
    """A handler pre-empting softirq work returns to that work, not to the waiting thread."""
    sim, _, _, owner, _ = machine(entry=10, exit_=10, handler_ns=100)
    sim.post("core", RunTask("app", 300, "softirq", priority=0), at_ns=0)
    sim.post("core", RunTask("app", 50, "thread"), at_ns=5)
    sim.post("apic", IpiMessage(V, 0), at_ns=100)
    await sim.run()
    # softirq 0..100, handler 100..220, softirq again 220..420, then the thread.
    assert owner.seen == [(420, TaskDone("softirq", 0)), (470, TaskDone("thread", 420))]


def test_threads_share_the_cpu_in_slices_by_vruntime() -> None:
    """Two threads that always have work alternate, each keeping the CPU for a slice."""
    sim = Simulation()
    core = CpuCore(
        core_id=1,
        name="core",
        apic=LocalApic(apic_id=1, name="apic", peers={1: "apic"}, latency=lambda: 0),
        idt={},
        irq_entry_ns=0,
        irq_exit_ns=0,
        sched_slice_ns=1000,
    )
    runs: list[tuple[str, int]] = []

    @attrs.define
    class Busy:
        """A thread that asks for ``piece_ns`` more the moment a piece ends."""

        name: str
        piece_ns: int
        left: int

        def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
            if isinstance(message, TaskDone):
                runs.append((self.name, now_ns))
                self.left -= 1
            if not self.left:
                return ()
            return (Send("core", RunTask(self.name, self.piece_ns, "work")),)

    for name, component in (("core", core), ("a", Busy("a", 250, 12)), ("b", Busy("b", 100, 30))):
        sim.add_actor(name, component)
    sim.post("a", "go", at_ns=0)
    sim.post("b", "go", at_ns=0)
    sim.run_sync()
    owners = [name for name, _ in runs]
    # a runs four 250 ns pieces (its 1000 ns slice), then b ten 100 ns pieces, and so on.
    assert owners[:14] == ["a"] * 4 + ["b"] * 10
    assert owners[14:18] == ["a"] * 4
    stats = core.statistics()
    assert stats.thread_ns == {"a": 3000, "b": 3000}
    # Neither thread waited for more than one slice of the other's.
    ends = [t for _, t in runs]
    assert max(b - a for a, b in itertools.pairwise(ends)) <= 250


def test_a_waking_thread_is_placed_at_the_least_vruntime_and_gets_no_burst() -> None:
    """A thread that slept while another ran does not get the CPU back for all it missed."""
    core = new_core(entry=0, exit_=0)
    core.vruntime.update({"a": 50_000})
    core._min_vruntime = 50_000
    core.handle(RunTask("b", 10, "work"), 0)
    assert core.vruntime["b"] == 50_000


def running_core() -> CpuCore:
    """A core running one task with another queued, after one interrupt came and went."""
    core = new_core(10, 5, idt={V: "handler", 0x99: "handler"})
    core.apic.handle(IpiMessage(V, 0), 0)
    core.handle(InterruptReturn(), 50)
    core.handle(CoreStep(CoreStepKind.IRET_DONE), 55)
    core.handle(RunTask("app", 500, "work"), 60)
    core.handle(RunTask("app", 100, "next"), 70)
    assert core.state is CoreState.TASK
    return core


def core_in_handler() -> CpuCore:
    """A core in its handler (IF=0) with the task it interrupted paused."""
    core = running_core()
    core.apic.handle(IpiMessage(V, 0), 100)
    assert core.state is CoreState.HANDLER
    return core


@pytest.mark.parametrize(
    ("make", "message", "error"),
    [
        (running_core, RunTask("app", -1, "work"), IllegalValue),
        (running_core, InterruptReturn(), UnexpectedMessage),  # not in a handler
        (running_core, CoreStep(CoreStepKind.IRET_DONE), UnexpectedMessage),
        (running_core, CoreStep(CoreStepKind.TASK_YIELD), UnexpectedMessage),
        (core_in_handler, CoreStep(CoreStepKind.TASK_DONE), UnexpectedMessage),  # paused
        (running_core, CoreStep("bogus"), UnexpectedMessage),  # type: ignore[arg-type]
    ],
    ids=lambda value: getattr(value, "__name__", repr(value)),
)
def test_an_illegal_input_is_refused_and_changes_nothing(
    make: Callable[[], CpuCore], message: CoreInput, error: type[MintactorsError]
) -> None:
    """INTR with no handler, a negative cost or a stray timer or iret leaves the core as it was."""
    core = make()
    before = plain_state(core)
    with pytest.raises(error):
        core.handle(message, 200)
    assert plain_state(core) == before


def test_intr_for_a_vector_without_a_handler_is_refused_and_changes_nothing() -> None:
    """An IPI whose vector has no IDT entry is refused before the core or APIC change."""
    core = new_core(10, 5, idt={})
    apic = core.apic
    before = (plain_state(core), plain_state(apic))
    with pytest.raises(IllegalValue, match="no handler"):
        apic.handle(IpiMessage(V, 0), 10)
    assert (plain_state(core), plain_state(apic)) == before


@given(cost=st.integers(max_value=-1))
def test_any_negative_task_cost_is_refused(cost: int) -> None:
    """Task work of negative cost is an IllegalValue and is not queued."""
    core = running_core()
    before = plain_state(core)
    with pytest.raises(IllegalValue, match="negative cost"):
        core.handle(RunTask("app", cost, "work"), 200)
    assert plain_state(core) == before


@pytest.mark.parametrize("kind", message_kinds_outside(CoreInput), ids=lambda k: k.__name__)
def test_a_message_outside_its_input_is_refused_and_changes_nothing(kind: type) -> None:
    """A mis-wired machine's message (not a CoreInput) is an UnexpectedMessage."""
    core = core_in_handler()
    before = plain_state(core)
    with pytest.raises(UnexpectedMessage):
        core.handle(example_message(kind), 200)  # type: ignore[arg-type]
    assert plain_state(core) == before


def test_under_tso_an_interrupt_waits_for_the_store_buffer_to_drain() -> None:
    """The handler starts no earlier than the last buffered store's drain (SDM 11.10)."""
    core = new_core(entry=100)
    buffer = StoreBuffer(core="core", node=1, capacity=56, drain_ns=lambda: 300, memory_actor="m")
    core.store_buffer = buffer
    buffer.store(0x1000, b"\x01", 0, 0, "driver")
    effects = core.apic.handle(IpiMessage(V, 0, 1), 0)  # INTR: the core takes it
    entry = next(e for e in effects if isinstance(e, Send))
    assert (entry.message, entry.delay_ns) == (InterruptEntry(V, 1, from_idle=True), 300)
    fenced = [e for e in effects if isinstance(e, Note) and e.kind == NoteKind.FENCED]
    assert fenced[0].fields == {"by": "core", "barrier": "interrupt", "waited_ns": 300}


def test_under_tso_iret_completes_once_the_handlers_stores_have_drained() -> None:
    """``iret`` is serializing: IF=1 again only after the buffer drained (SDM 8.3)."""
    core = new_core(entry=100, exit_=50)
    buffer = StoreBuffer(core="core", node=1, capacity=56, drain_ns=lambda: 80, memory_actor="m")
    core.store_buffer = buffer
    core.apic.handle(IpiMessage(V, 0, 1), 0)
    buffer.store(0x1000, b"\x01", 500, 500, "driver")
    effects = core.handle(InterruptReturn(), 500)
    timer = next(e for e in effects if isinstance(e, SetTimer))
    assert timer.delay_ns == 80
