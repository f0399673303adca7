"""The pct tie-break policy: source priorities, d-1 change points, determinism."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from mintactors.runtime import PctPolicy, PendingDelivery, Simulation, make_policy, policy_names
from mintactors.testing import Echo, Fan, Recorder


def deliveries(*sources: str) -> list[PendingDelivery]:
    return [PendingDelivery(0, 0, i, "target", "Tick", s) for i, s in enumerate(sources)]


def test_pct_is_registered() -> None:
    """Configs and --policy can name pct."""
    assert "pct" in policy_names()
    assert make_policy("pct", 1).name == "pct"


def test_without_change_points_the_same_source_always_wins() -> None:
    """Priorities are fixed per source: the same set of sources gives the same winner."""
    policy = PctPolicy(random.Random(3), depth=1, steps=10)
    candidates = deliveries("a", "b", "c")
    winners = {candidates[policy.choose(candidates)].source for _ in range(50)}
    assert len(winners) == 1


def test_a_change_point_demotes_the_source_that_would_win() -> None:
    """At a change point the would-be winner drops below every other source, for good."""
    policy = PctPolicy(random.Random(5), depth=2, steps=1)  # the change point is decision 1
    candidates = deliveries("a", "b")
    initial = {s: policy._priority(s) for s in ("a", "b")}
    favourite = max(initial, key=initial.__getitem__)
    first = candidates[policy.choose(candidates)].source
    assert first != favourite
    later = {candidates[policy.choose(candidates)].source for _ in range(20)}
    assert later == {first}


def test_deliveries_from_one_source_keep_send_order() -> None:
    """Among a single source's deliveries, the first sent is chosen."""
    policy = PctPolicy(random.Random(1))
    assert policy.choose(deliveries("x", "x", "x")) == 0


@given(seed=st.integers(0, 2**32), depth=st.integers(1, 6))
def test_change_points_are_d_minus_1_distinct_steps_in_range(seed: int, depth: int) -> None:
    """PCT draws exactly d-1 distinct change points from 1..k."""
    policy = PctPolicy(random.Random(seed), depth=depth, steps=50)
    points = sorted(policy.change_points)
    assert len(points) == depth - 1 == len(set(points))
    assert all(1 <= p <= 50 for p in points)
    assert sorted(policy.change_points.values()) == list(range(1, depth))


def fan_out_order(seed: int) -> list[str]:
    sim = Simulation(seed=seed, policy="pct")
    names = [f"e{i}" for i in range(6)]
    sim.add_actor("fan", Fan(tuple(names)))
    for name in names:
        sim.add_actor(name, Echo(name, "sink"))
    sink = Recorder()
    sim.add_actor("sink", sink)
    sim.post("fan", object())
    sim.run_sync()
    return [m.sender for _, m in sink.seen]  # type: ignore[attr-defined]


def test_pct_runs_are_reproducible_and_vary_with_the_seed() -> None:
    """The same seed gives the same interleaving; some other seed gives another."""
    assert fan_out_order(11) == fan_out_order(11)
    assert len({tuple(fan_out_order(seed)) for seed in range(20)}) > 1
