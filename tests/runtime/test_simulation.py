"""The simulation: ordering, ending, timers and failure."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import attrs
import pytest

from mintactors import (
    ActorCrashed,
    CancelTimer,
    DuplicateActorError,
    Effect,
    Note,
    Send,
    SetTimer,
    Simulation,
    SimulationError,
    Stop,
    TraceLevel,
    TraceSink,
    UnexpectedMessage,
    UnknownActorError,
)
from mintactors.testing import Ball, Echo, Fan, Rally, Recorder, Tick, read_trace


def rally(trace: io.StringIO | None = None, level: TraceLevel = TraceLevel.FULL) -> Simulation:
    sim = Simulation(seed=3, trace=TraceSink(trace, level) if trace else None)
    sim.add_actor("ping", Rally("pong", delay_ns=100, hits=4))
    sim.add_actor("pong", Rally("ping", delay_ns=50, hits=4))
    sim.post("ping", Ball(0))
    return sim


async def test_ping_pong_whole_trace_in_order() -> None:
    """A two-actor rally writes exactly the deliveries and notes its rules imply."""
    out = io.StringIO()
    result = await rally(out).run()
    events = read_trace(out.getvalue())
    header, *body, end = events
    assert header["kind"] == "trace_header"
    assert (header["seed"], header["policy"], header["level"]) == (3, "fifo", "full")
    # ping waits 100 ns before each return, pong 50 ns; the ball starts at ping at t=0.
    assert [(e["t_ns"], e["actor"], e["kind"], e.get("n"), e.get("src")) for e in body] == [
        (0, "ping", "Ball", 0, "runtime"),
        (100, "pong", "Ball", 1, "ping"),
        (150, "ping", "Ball", 2, "pong"),
        (250, "pong", "Ball", 3, "ping"),
        (300, "ping", "Ball", 4, "pong"),
        (300, "ping", "RallyOver", None, None),
    ]
    assert body[-1]["hits"] == 4
    assert end == {
        "actor": "runtime",
        "delivered": 5,
        "detail": "",
        "kind": "run_end",
        "pending": 0,
        "reason": "idle",
        "t_ns": 300,
    }
    assert (result.reason, result.now_ns, result.delivered) == ("idle", 300, 5)


async def test_trace_lines_have_sorted_keys_and_no_wall_clock() -> None:
    """Every line is a JSON object with t_ns, actor and kind, keys sorted, no timestamp."""
    out = io.StringIO()
    await rally(out).run()
    for line in out.getvalue().splitlines():
        event = json.loads(line)
        assert list(event) == sorted(event)
        assert {"t_ns", "actor", "kind"} <= set(event)
        assert "timestamp" not in event
        assert line == json.dumps(event, sort_keys=True, separators=(",", ":"))


async def test_summary_level_keeps_only_summary_notes() -> None:
    """A summary trace holds the header, summary-level notes and the end line."""
    out = io.StringIO()
    await rally(out, TraceLevel.SUMMARY).run()
    kinds = [e["kind"] for e in read_trace(out.getvalue())]
    assert kinds == ["trace_header", "RallyOver", "run_end"]


async def test_trace_off_writes_nothing() -> None:
    """With the level off, the stream is never written."""
    out = io.StringIO()
    await rally(out, TraceLevel.OFF).run()
    assert out.getvalue() == ""


async def test_fifo_delivers_same_instant_messages_in_send_order() -> None:
    """Under fifo, deliveries due at one instant arrive in the order they were sent."""
    names = tuple(f"e{i}" for i in range(6))
    sim = Simulation(policy="fifo")
    sim.add_actor("fan", Fan(tuple(reversed(names))))
    for name in names:
        sim.add_actor(name, Echo(name, "sink"))
    sink = Recorder()
    sim.add_actor("sink", sink)
    sim.post("fan", Tick("go"))
    await sim.run()
    assert [m.sender for _, m in sink.seen] == list(reversed(names))  # type: ignore[attr-defined]
    assert {t for t, _ in sink.seen} == {0}


async def test_lower_priority_value_goes_first_at_one_instant() -> None:
    """Between two deliveries due at one instant, the lower priority value wins."""
    sim = Simulation()
    sink = Recorder()
    sim.add_actor("sink", sink)
    sim.post("sink", Tick("late"), at_ns=10, priority=5)
    sim.post("sink", Tick("early"), at_ns=10, priority=-1)
    sim.post("sink", Tick("first"), at_ns=9, priority=9)
    await sim.run()
    assert [m.label for _, m in sink.seen] == ["first", "early", "late"]  # type: ignore[attr-defined]


async def test_until_bound_ends_run_and_leaves_later_deliveries() -> None:
    """Deliveries at until_ns are made; later ones stay pending; time ends at the bound."""
    sim = Simulation()
    sink = Recorder()
    sim.add_actor("sink", sink)
    for t in (10, 20, 30):
        sim.post("sink", Tick(str(t)), at_ns=t)
    result = await sim.run(until_ns=20)
    assert [t for t, _ in sink.seen] == [10, 20]
    assert (result.reason, result.now_ns, result.pending) == ("until", 20, 1)


async def test_stop_condition_ends_run() -> None:
    """The stop condition is checked after every delivery and ends the run when true."""
    sim = rally()
    rec: list[int] = []
    result = await sim.run(stop_when=lambda: rec.append(sim.now_ns) or sim.now_ns >= 150)
    assert rec == [0, 100, 150]
    assert (result.reason, result.detail, result.delivered) == ("stopped", "stop condition", 3)
    assert result.pending == 1


async def test_stop_condition_is_checked_only_after_deliveries_to_watched_actors() -> None:
    """With ``stop_watch``, the condition runs only after the named actors' deliveries."""
    sim = rally()
    rec: list[int] = []
    result = await sim.run(
        stop_when=lambda: rec.append(sim.now_ns) or sim.now_ns >= 150, stop_watch=["pong"]
    )
    # pong takes the ball at 100 and 250 (ping at 0, 150 and 300 is not watched).
    assert rec == [100, 250]
    assert (result.reason, result.now_ns, result.delivered) == ("stopped", 250, 4)


async def test_stop_watch_naming_no_actor_is_refused() -> None:
    """Watching an actor that does not exist is a named error, before the run starts."""
    with pytest.raises(UnknownActorError):
        await rally().run(stop_when=lambda: False, stop_watch=["nobody"])


async def test_a_stop_condition_per_actor_runs_after_that_actors_deliveries() -> None:
    """With a mapping, each actor's own condition runs after its deliveries, and any
    of them can end the run."""
    sim = rally()
    seen: list[tuple[str, int]] = []
    result = await sim.run(
        stop_when={
            "ping": lambda: seen.append(("ping", sim.now_ns)) or False,
            "pong": lambda: seen.append(("pong", sim.now_ns)) or sim.now_ns >= 250,
        }
    )
    assert seen == [("ping", 0), ("pong", 100), ("ping", 150), ("pong", 250)]
    assert (result.reason, result.now_ns, result.delivered) == ("stopped", 250, 4)


async def test_a_stop_condition_for_no_actor_is_refused() -> None:
    """A per-actor condition for an actor that does not exist is a named error."""
    with pytest.raises(UnknownActorError):
        await rally().run(stop_when={"nobody": lambda: False})


@attrs.define
class Stopper:
    """Asks the run to stop on its second message."""

    count: int = 0

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        self.count += 1
        if self.count == 2:
            return (Stop("enough"),)
        return (Send("stopper", message, 5),)


async def test_stop_effect_ends_run_with_reason() -> None:
    """A Stop effect ends the run after the current message and names who asked."""
    sim = Simulation()
    sim.add_actor("stopper", Stopper())
    sim.post("stopper", Tick("x"))
    result = await sim.run()
    assert (result.reason, result.detail, result.now_ns) == ("stopped", "stopper: enough", 5)


async def test_a_stop_still_makes_every_delivery_due_at_that_instant() -> None:
    """Stopping ends the run at the end of the instant, not in the middle of it."""
    sim = Simulation()
    sim.add_actor("stopper", Stopper(count=1))  # stops on its next message
    sink = Recorder()
    sim.add_actor("sink", sink)
    sim.post("stopper", Tick("now"), at_ns=50)
    sim.post("sink", Tick("same instant"), at_ns=50)
    sim.post("sink", Tick("later"), at_ns=51)
    result = await sim.run()
    assert [m.label for _, m in sink.seen] == ["same instant"]  # type: ignore[attr-defined]
    assert (result.reason, result.now_ns, result.pending) == ("stopped", 50, 1)
    assert [(t, a) for t, a, _ in sim.pending()] == [(51, "sink")]


@attrs.define
class Watchdog:
    """Arms a timer on ``arm``, re-arms on ``rearm``, cancels on ``cancel``."""

    fired: list[tuple[int, str]] = attrs.field(factory=list)

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        assert isinstance(message, Tick)
        match message.label:
            case "arm":
                return (SetTimer("wd", 100, Tick("fire-a")),)
            case "rearm":
                return (SetTimer("wd", 100, Tick("fire-b")),)
            case "cancel":
                return (CancelTimer("wd"),)
            case _:
                self.fired.append((now_ns, message.label))
                return ()


async def test_timer_rearm_replaces_and_cancel_disarms() -> None:
    """Re-arming a timer key keeps only the newest; cancelling stops it firing."""
    sim = Simulation()
    dog = Watchdog()
    sim.add_actor("dog", dog)
    sim.post("dog", Tick("arm"), at_ns=0)
    sim.post("dog", Tick("rearm"), at_ns=50)  # fire-a at 100 is replaced by fire-b at 150
    sim.post("dog", Tick("arm"), at_ns=200)  # would fire at 300 ...
    sim.post("dog", Tick("cancel"), at_ns=250)  # ... but is cancelled
    result = await sim.run()
    assert dog.fired == [(150, "fire-b")]
    assert (result.reason, result.now_ns, result.pending) == ("idle", 250, 0)


@attrs.define
class Faulty:
    """Raises on the message whose label is ``bad``; forwards others to itself."""

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        assert isinstance(message, Tick)
        if message.label == "bad":
            raise ValueError("descriptor ring corrupted")
        return (Send("peer", Tick("bad"), 7),)


async def test_failing_actor_stops_run_with_actor_time_message_and_seed() -> None:
    """A component that raises stops the run; the error names actor, time, message, seed."""
    sim = Simulation(seed=42)
    sim.add_actor("faulty", Faulty())
    sim.add_actor("peer", Faulty())
    sim.post("faulty", Tick("ok"), at_ns=3)
    with pytest.raises(ActorCrashed) as info:
        await sim.run()
    err = info.value
    assert (err.actor, err.t_ns, err.message, err.seed) == ("peer", 10, Tick("bad"), 42)
    assert isinstance(err.__cause__, ValueError)
    text = str(err)
    for part in ("'peer'", "t=10 ns", "Tick(label='bad')", "seed 42", "descriptor ring corrupted"):
        assert part in text


async def test_unknown_destination_is_a_named_error() -> None:
    """Sending to an actor that does not exist stops the run with UnknownActorError."""
    sim = Simulation()
    sim.add_actor("fan", Fan(("nobody",)))
    sim.post("fan", Tick("go"))
    with pytest.raises(ActorCrashed) as info:
        await sim.run()
    assert isinstance(info.value.__cause__, UnknownActorError)
    assert info.value.__cause__.name == "nobody"


@attrs.define
class Picky:
    """Takes only Ball; refuses anything else without changing state."""

    balls: int = 0

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        if not isinstance(message, Ball):
            raise UnexpectedMessage("Picky", message, "idle")
        self.balls += 1
        return ()


async def test_message_a_component_cannot_take_is_a_named_error() -> None:
    """UnexpectedMessage from a component surfaces as the crash's cause, state untouched."""
    sim = Simulation()
    picky = Picky()
    sim.add_actor("picky", picky)
    sim.post("picky", Ball(1), at_ns=1)
    sim.post("picky", Tick("?"), at_ns=2)
    with pytest.raises(ActorCrashed) as info:
        await sim.run()
    assert isinstance(info.value.__cause__, UnexpectedMessage)
    assert picky.balls == 1


def test_posting_to_unknown_actor_is_refused() -> None:
    """post() names the missing actor and lists the known ones."""
    sim = Simulation()
    sim.add_actor("a", Recorder())
    with pytest.raises(UnknownActorError, match=r"'b'.*actors: a"):
        sim.post("b", Tick("x"))


def test_duplicate_actor_name_is_refused() -> None:
    """Two actors cannot share a name."""
    sim = Simulation()
    sim.add_actor("a", Recorder())
    with pytest.raises(DuplicateActorError):
        sim.add_actor("a", Recorder())


async def test_a_simulation_runs_once() -> None:
    """Running a finished simulation again is an error, not a silent no-op."""
    sim = rally()
    await sim.run()
    with pytest.raises(SimulationError):
        await sim.run()


@attrs.define
class Backwards:
    """Tries to send into the past."""

    def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
        return (Send("b", message, -1),)


async def test_negative_delay_is_refused() -> None:
    """Virtual time never runs backwards: a negative delay crashes the sender."""
    sim = Simulation()
    sim.add_actor("b", Backwards())
    sim.post("b", Tick("x"))
    with pytest.raises(ActorCrashed) as info:
        await sim.run()
    assert "negative delay" in str(info.value.__cause__)


async def test_notes_with_reserved_field_names_are_refused() -> None:
    """A note field called t_ns would make the trace ambiguous, so it is an error."""

    class Clash:
        def handle(self, message: object, now_ns: int) -> Sequence[Effect]:
            return (Note("Oops", {"t_ns": 1}),)

    sim = Simulation(trace=TraceSink(io.StringIO()))
    sim.add_actor("c", Clash())
    sim.post("c", Tick("x"))
    with pytest.raises(ActorCrashed):
        await sim.run()


def test_run_sync_runs_outside_an_event_loop() -> None:
    """run_sync gives the same result as awaiting run."""
    result = rally().run_sync()
    assert (result.reason, result.now_ns, result.delivered) == ("idle", 300, 5)


async def test_empty_simulation_ends_idle_at_zero() -> None:
    """With nothing posted the run ends at once."""
    sim = Simulation()
    sim.add_actor("a", Recorder())
    result = await sim.run()
    assert (result.reason, result.now_ns, result.delivered) == ("idle", 0, 0)
