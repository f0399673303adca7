"""The event queue and tie-break policies, without any event loop."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mintactors.runtime import (
    EventQueue,
    FifoPolicy,
    PendingDelivery,
    RandomPolicy,
    make_policy,
    policy_names,
    rng_stream,
)


@attrs.frozen
class Named:
    name: str


A, B = Named("a"), Named("b")


def drain(queue: EventQueue, until: int | None = None) -> list[object]:
    out = []
    while (entry := queue.pop(until)) is not None:
        out.append(entry[4])
    return out


@given(st.lists(st.tuples(st.integers(0, 20), st.integers(-2, 2)), max_size=60))
def test_fifo_pops_by_time_then_priority_then_send_order(items: list[tuple[int, int]]) -> None:
    """fifo pops are sorted by (time, priority) and stable in send order."""
    queue = EventQueue(FifoPolicy())
    for index, (t, prio) in enumerate(items):
        queue.push(t, prio, A, index, "x")
    popped = drain(queue)
    expected = sorted(range(len(items)), key=lambda i: (items[i][0], items[i][1], i))
    assert popped == expected


@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 1)), max_size=60),
    st.integers(0, 2**32),
)
def test_random_pops_a_permutation_ordered_by_time_and_priority(
    items: list[tuple[int, int]], seed: int
) -> None:
    """random never breaks (time, priority) order and loses or repeats nothing."""
    queue = EventQueue(RandomPolicy(rng_stream(seed, "t")))
    for index, (t, prio) in enumerate(items):
        queue.push(t, prio, A, index, "x")
    popped = drain(queue)
    assert sorted(popped) == list(range(len(items)))  # type: ignore[type-var]
    keys = [items[i][:2] for i in popped]  # type: ignore[index]
    assert keys == sorted(keys)


def test_random_policy_is_offered_ties_in_send_order() -> None:
    """A policy sees every tied delivery, in send order, with who and what."""
    seen: list[list[PendingDelivery]] = []

    @attrs.define
    class Spy:
        name: str = "spy"
        chooses: bool = True

        def choose(self, candidates: Sequence[PendingDelivery]) -> int:
            seen.append(list(candidates))
            return len(candidates) - 1

    queue = EventQueue(Spy())
    queue.push(5, 0, A, "m1", "src1")
    queue.push(5, 0, B, "m2", "src2")
    queue.push(5, 1, B, "m3", "src3")
    assert drain(queue) == ["m2", "m1", "m3"]
    assert [(c.actor, c.kind, c.source, c.seq) for c in seen[0]] == [
        ("a", "str", "src1", 1),
        ("b", "str", "src2", 2),
    ]
    assert queue.ties_broken == 1


def test_cancelled_and_rearmed_timers_never_pop() -> None:
    """Only the newest arming of a timer key pops; a cancelled one never does."""
    queue = EventQueue(FifoPolicy())
    queue.arm_timer(10, 0, A, "t", "old")
    queue.arm_timer(20, 0, A, "t", "new")
    queue.arm_timer(15, 0, B, "t", "other-owner")
    queue.arm_timer(30, 0, A, "u", "cancelled")
    queue.cancel_timer("a", "u")
    assert len(queue) == 2
    assert drain(queue) == ["other-owner", "new"]


def test_until_bound_leaves_later_entries_queued() -> None:
    """pop(until) returns nothing due after the bound and keeps it."""
    queue = EventQueue(FifoPolicy())
    queue.push(5, 0, A, "early", "x")
    queue.push(9, 0, A, "late", "x")
    assert drain(queue, until=8) == ["early"]
    assert len(queue) == 1


def test_policy_names_and_unknown_policy() -> None:
    """make_policy knows fifo and random, and names the allowed ones when refusing."""
    assert {"fifo", "random"} <= set(policy_names())
    assert make_policy("fifo", 1).name == "fifo"
    with pytest.raises(ValueError, match=r"allowed: .*fifo"):
        make_policy("lifo", 1)


def test_rng_streams_are_independent_and_reproducible() -> None:
    """A stream depends on seed and name only."""
    a1 = [rng_stream(1, "a").random() for _ in range(3)]
    a2 = [rng_stream(1, "a").random() for _ in range(3)]
    b = [rng_stream(1, "b").random() for _ in range(3)]
    other_seed = [rng_stream(2, "a").random() for _ in range(3)]
    assert a1 == a2
    assert a1 != b
    assert a1 != other_seed
