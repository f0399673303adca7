"""Litmus tests, explored: the model shows exactly the outcomes x86-TSO allows.

Each litmus program runs on the real memory, store buffers and driver shells
(:mod:`mintactors.testing._litmus`), once per seed, under every tie-break policy.
SB's relaxed outcome (both loads see the old values) must appear under ``tso``
and never under ``sc``; with a full barrier or a locked swap on both sides it
never appears; MP, LB and IRIW never show theirs under either model.
"""

from __future__ import annotations

import pytest

from mintactors.testing import LITMUS_TESTS, LitmusTest, litmus_outcomes, run_litmus

SEEDS = range(1, 41)
POLICIES = ("fifo", "random", "pct")


def ids(value: object) -> str:
    return value.name if isinstance(value, LitmusTest) else str(value)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("test", LITMUS_TESTS.values(), ids=ids)
def test_sequential_consistency_never_shows_the_relaxed_outcome(
    test: LitmusTest, policy: str
) -> None:
    """Under ``sc`` no litmus test shows the outcome SC forbids, in 40 seeds."""
    outcomes = litmus_outcomes(test, model="sc", seeds=SEEDS, policy=policy)
    assert outcomes[test.relaxed] == 0
    assert len(outcomes) > 1  # the schedules do vary


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("test", LITMUS_TESTS.values(), ids=ids)
def test_tso_shows_the_relaxed_outcome_exactly_when_x86_allows_it(
    test: LitmusTest, policy: str
) -> None:
    """Under ``tso``: SB (and SB fenced on one side only) show it; the rest never do."""
    outcomes = litmus_outcomes(test, model="tso", seeds=SEEDS, policy=policy)
    if test.tso_allows:
        assert outcomes[test.relaxed] > 0
    else:
        assert outcomes[test.relaxed] == 0


def test_a_litmus_run_is_a_function_of_its_seed() -> None:
    """The same seed and policy give the same outcome."""
    sb = LITMUS_TESTS["SB"]
    first = [run_litmus(sb, model="tso", seed=s, policy="pct") for s in range(1, 11)]
    again = [run_litmus(sb, model="tso", seed=s, policy="pct") for s in range(1, 11)]
    assert first == again


def test_an_unknown_model_is_refused() -> None:
    """Only ``sc`` and ``tso`` exist."""
    with pytest.raises(ValueError, match="memory model"):
        run_litmus(LITMUS_TESTS["SB"], model="arm", seed=1)
