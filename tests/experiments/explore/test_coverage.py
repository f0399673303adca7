"""Schedule coverage: distinct schedules, repeats, --until-distinct, and PCT's bound."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from mintactors.experiments.explore.coverage import CoverageTally, pct_bound
from mintactors.experiments.explore.explore import explore, variations
from tests._paths import CONFIGS

#: A two-frame config whose only randomness is the tie-break order (a list pattern,
#: a fixed IPI latency, every cost pinned); with the napi driver no run violates an
#: oracle, so every run of a plan is made.
TIE = str(CONFIGS / "scenarios" / "lost-wakeup-tie.toml")
NAPI = ['driver.kind="napi"']


def test_fifo_tries_one_schedule_whatever_the_seed() -> None:
    """With nothing random but the seed, fifo takes the same order in every run."""
    outcome = explore(TIE, NAPI, variations(8, 1, "fifo"), jobs=1)
    assert outcome.failing is None
    assert (outcome.coverage.runs, outcome.coverage.distinct, outcome.coverage.repeats) == (8, 1, 7)
    assert outcome.coverage.most_decisions == 0
    assert outcome.pct is None


def test_random_tries_a_new_schedule_in_nearly_every_run() -> None:
    """Seeded random tie-breaks reorder the same-instant deliveries differently per seed."""
    outcome = explore(TIE, NAPI, variations(12, 1, "random"), jobs=1)
    assert outcome.coverage.distinct >= 10
    assert outcome.coverage.most_decisions > 0
    assert len({v.fingerprint for v in outcome.verdicts}) == outcome.coverage.distinct


def test_until_distinct_stops_at_the_run_that_brings_the_count() -> None:
    """The exploration ends at the first run whose schedule is the N-th distinct one."""
    outcome = explore(TIE, NAPI, variations(40, 1, "pct"), jobs=1, until_distinct=6)
    assert outcome.stopped == "distinct"
    assert outcome.coverage.distinct == 6
    fingerprints = [v.fingerprint for v in outcome.verdicts]
    assert len(set(fingerprints)) == 6
    assert len(set(fingerprints[:-1])) == 5  # the last run brought the sixth
    # Seeds 1..12 of pct repeat a schedule before the sixth distinct one.
    assert outcome.coverage.repeats >= 1


def test_until_distinct_gives_the_same_stop_with_two_workers() -> None:
    """Where the exploration stops depends on run order, not on which run finished first."""
    serial = explore(TIE, NAPI, variations(40, 1, "pct"), jobs=1, until_distinct=6)
    parallel = explore(TIE, NAPI, variations(40, 1, "pct"), jobs=2, until_distinct=6)
    assert parallel.verdicts == serial.verdicts
    assert parallel.coverage == serial.coverage


def test_until_distinct_stops_at_the_cap_when_the_schedules_run_out() -> None:
    """fifo has one schedule to give: asking for three ends at the plan's last run."""
    outcome = explore(TIE, NAPI, variations(6, 1, "fifo"), jobs=1, until_distinct=3)
    assert outcome.stopped == "plan"
    assert len(outcome.verdicts) == 6
    assert outcome.coverage.distinct == 1


def test_fingerprints_are_the_same_on_a_rerun_and_with_two_workers() -> None:
    """Each run's fingerprint depends on its config and seed only."""
    plan = variations(10, 1, "random")
    first = explore(TIE, NAPI, plan, jobs=1)
    again = explore(TIE, NAPI, plan, jobs=1)
    parallel = explore(TIE, NAPI, plan, jobs=2)
    fingerprints = [v.fingerprint for v in first.verdicts]
    assert [v.fingerprint for v in again.verdicts] == fingerprints
    assert [v.fingerprint for v in parallel.verdicts] == fingerprints
    assert all(len(f) == 16 for f in fingerprints)


def test_pct_reports_its_depth_steps_and_the_measured_threads() -> None:
    """For pct the outcome carries d and k as configured and n as the runs measured it."""
    plan = variations(5, 1, "pct", extra=["simulation.pct_depth=2", "simulation.pct_steps=20"])
    outcome = explore(TIE, NAPI, plan, jobs=1)
    bound = outcome.pct
    assert bound is not None
    assert (bound.depth, bound.steps, bound.runs) == (2, 20, 5)
    assert bound.threads == max(v.threads for v in outcome.verdicts) > 1
    assert bound.most_decisions == max(v.decisions for v in outcome.verdicts)
    assert math.isclose(bound.per_run, 1 / (bound.threads * 20))


def test_the_pct_bound_is_the_papers() -> None:
    """p = 1/(n k^(d-1)); R runs find a depth-d bug with probability 1 - (1 - p)^R."""
    bound = pct_bound(depth=3, threads=4, steps=10, most_decisions=10, runs=50)
    assert math.isclose(bound.per_run, 1 / 400)
    assert math.isclose(bound.found, 1 - (1 - 1 / 400) ** 50)
    assert bound.steps_cover_runs
    assert not pct_bound(3, 4, 10, 11, 1).steps_cover_runs


def test_without_ties_every_run_takes_the_one_order() -> None:
    """No tie, no choice: the bound is certainty (a bug in that order shows every run)."""
    bound = pct_bound(depth=3, threads=0, steps=2000, most_decisions=0, runs=1)
    assert (bound.per_run, bound.found) == (1.0, 1.0)


@given(
    depth=st.integers(1, 6),
    threads=st.integers(1, 40),
    steps=st.integers(1, 10**6),
    runs=st.integers(1, 10**6),
)
def test_more_runs_never_lower_the_chance_of_finding(
    depth: int, threads: int, steps: int, runs: int
) -> None:
    """The chance of finding grows with the runs, stays a probability, and starts at p."""
    one = pct_bound(depth, threads, steps, steps, 1)
    many = pct_bound(depth, threads, steps, steps, runs)
    assert math.isclose(one.found, one.per_run, rel_tol=1e-9)
    assert one.per_run <= many.found <= 1.0
    assert many.found <= runs * many.per_run * (1 + 1e-9)  # the union bound


def test_the_tally_counts_repeats_in_the_order_runs_are_added() -> None:
    """A schedule seen before is a repeat; the most decisions and threads are kept."""
    tally = CoverageTally()
    assert [tally.add(f, d, n) for f, d, n in [("a", 3, 2), ("b", 5, 1), ("a", 1, 4)]] == [
        True,
        True,
        False,
    ]
    coverage = tally.frozen()
    assert (coverage.runs, coverage.distinct, coverage.repeats) == (3, 2, 1)
    assert (coverage.most_decisions, coverage.most_threads) == (5, 4)


TSO = str(CONFIGS / "scenarios" / "tso-sb-regression.toml")
#: Both barriers: no run loses a frame, so every run of a plan is made.
BARRIERS = ['driver.kind="napi"', 'nic.mechanism_barrier="smp_mb"']


def test_store_buffer_drains_that_reorder_make_new_schedules_even_under_fifo() -> None:
    """Under tso a drain is a delivery: random drain delays reorder them, fixed ones do not."""
    random_drains = [*BARRIERS, 'memory.drain_delay={ dist = "uniform", low_ns = 0, high_ns = 60 }']
    drawn = explore(TSO, random_drains, variations(8, 1, "fifo"), jobs=1)
    assert drawn.coverage.distinct > 1
    assert drawn.coverage.most_decisions == 0  # no tie decided it: the draws did
    again = explore(TSO, random_drains, variations(8, 1, "fifo"), jobs=2)
    assert [v.fingerprint for v in again.verdicts] == [v.fingerprint for v in drawn.verdicts]
    fixed = explore(TSO, BARRIERS, variations(8, 1, "fifo"), jobs=1)  # drain_delay = 40
    assert fixed.coverage.distinct == 1
