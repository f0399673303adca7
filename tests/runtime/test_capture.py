"""Stopping between two deliveries of one instant, and capturing and restoring a run."""

from __future__ import annotations

import copy
import io
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mintactors import Simulation, SimulationError, TraceLevel, TraceSink
from mintactors.testing import Echo, Fan, Rally, Recorder, Tick, read_trace


def fan_out(trace: io.StringIO | None = None, policy: str = "fifo", seed: int = 3) -> Simulation:
    """A fan sends four ticks at one instant; echoes answer a recorder."""
    sim = Simulation(seed=seed, policy=policy, trace=TraceSink(trace) if trace else None)
    sim.add_actor("fan", Fan(("a", "b", "c", "d"), delay_ns=10))
    for name in "abcd":
        sim.add_actor(name, Echo(name, "log"))
    sim.add_actor("log", Recorder())
    sim.post("fan", Tick("go"))
    return sim


def test_stop_at_once_ends_the_run_between_two_deliveries_of_an_instant() -> None:
    """A stop at once leaves the rest of the instant queued; a plain stop finishes it."""
    at_once = fan_out()
    result = at_once.run_sync(stop_when=lambda: at_once.delivered == 2, stop_at_once=True)
    assert (result.reason, result.now_ns, result.delivered) == ("stopped", 10, 2)
    # The fan's tick to "a" made, a's reply queued behind the other three ticks.
    assert [d.actor for d in at_once.in_flight()] == ["b", "c", "d", "log"]
    plain = fan_out()
    result = plain.run_sync(stop_when=lambda: plain.delivered == 2)
    # The fan, four ticks and four replies, all due by 10 ns.
    assert (result.now_ns, result.delivered) == (10, 9)


def test_last_delivery_names_what_a_stop_condition_follows() -> None:
    """Inside stop_when, last_delivery is the delivery just made, with its sender."""
    sim = fan_out()
    seen: list[tuple[int, str, str, str]] = []

    def look() -> bool:
        last = sim.last_delivery
        assert last is not None
        seen.append((last.t_ns, last.actor, last.kind, last.source))
        return False

    sim.run_sync(stop_when=look)
    assert seen[:3] == [
        (0, "fan", "Tick", "runtime"),
        (10, "a", "Tick", "fan"),
        (10, "b", "Tick", "fan"),
    ]


def _resumed(policy: str, stop_after: int) -> tuple[str, str]:
    """The whole trace of a run, and of the same run captured and resumed in a fresh one."""
    whole = io.StringIO()
    fan_out(whole, policy).run_sync()
    first = io.StringIO()
    sim = fan_out(first, policy)
    states = []

    def capture() -> bool:
        if sim.delivered == stop_after:
            components = {n: copy.deepcopy(sim.component(n)) for n in sim.actor_names}
            states.append((pickle.loads(pickle.dumps(sim.capture())), components))
            return True
        return False

    sim.run_sync(stop_when=capture, stop_at_once=True)
    state, components = states[0]
    rest = io.StringIO()
    resumed = fan_out(rest, policy)
    resumed.restore(state, components)
    resumed.run_sync()
    lines = first.getvalue().splitlines()[: state.trace_lines]
    return whole.getvalue(), "\n".join([*lines, *rest.getvalue().splitlines()]) + "\n"


@settings(max_examples=30, deadline=None)
@given(policy=st.sampled_from(["fifo", "random", "pct"]), stop_after=st.integers(1, 9))
def test_a_captured_run_resumed_elsewhere_writes_the_same_trace(
    policy: str, stop_after: int
) -> None:
    """Capture after any delivery, restore into a fresh simulation: the traces join up
    to the uninterrupted run's, byte for byte, whatever the tie-break policy."""
    whole, joined = _resumed(policy, stop_after)
    assert joined == whole


def test_a_resumed_run_writes_no_second_header() -> None:
    """The header belongs to the trace the resumed run continues."""
    sim = fan_out()
    state = sim.capture()
    out = io.StringIO()
    resumed = fan_out(out)
    resumed.restore(state, {})
    resumed.run_sync()
    kinds = [e["kind"] for e in read_trace(out.getvalue())]
    assert "trace_header" not in kinds
    assert kinds[-1] == "run_end"


def test_capture_is_refused_with_a_fingerprint_and_restore_after_the_start() -> None:
    """A fingerprint's running digest cannot be saved; a started run cannot be replaced."""
    sim = Simulation(fingerprint=True)
    with pytest.raises(SimulationError, match="fingerprint"):
        sim.capture()
    done = Simulation()
    done.add_actor("ping", Rally("pong", 1, 1))
    done.add_actor("pong", Rally("ping", 1, 1))
    done.run_sync()
    with pytest.raises(SimulationError, match="before its run"):
        done.restore(fan_out().capture(), {})


def test_a_capture_keeps_notes_dated_later() -> None:
    """Notes waiting for the trace to reach their time are part of the state."""
    sink = TraceSink(io.StringIO(), TraceLevel.FULL)
    sink.note(50, "x", "Later", {"n": 1}, TraceLevel.FULL, dated=True)
    dated, order = sink.dated_notes()
    assert (len(dated), order) == (1, 1)
    other = TraceSink(io.StringIO(), TraceLevel.FULL)
    other.restore(7, dated, order)
    assert other.lines_written == 7
    assert other.dated_notes() == (dated, order)
