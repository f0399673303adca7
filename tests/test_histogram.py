"""The bounded-memory histogram: exact counts, bounded keys, percentiles within precision."""

from __future__ import annotations

import math
import pickle
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mintactors.histogram import EXACT_VALUES, RELATIVE_PRECISION, SUB_BUCKET_BITS, Histogram

QUANTILES = (1, 25, 50, 90, 99, 99.9, 100)


def nearest_rank(values: list[int], q: float) -> int:
    """The exact nearest-rank percentile, as results.json has always computed it."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def check_against_exact(h: Histogram, values: list[int]) -> None:
    assert h.count == len(values)
    assert h.total == sum(values)
    assert h.minimum == min(values)
    assert h.maximum == max(values)
    assert h.mean() == sum(values) / len(values)
    for q in QUANTILES:
        exact = nearest_rank(values, q)
        reported = h.percentile(q)
        assert reported is not None
        assert exact <= reported <= exact + exact * RELATIVE_PRECISION
        if not h.bucketed:
            assert reported == exact


@given(st.lists(st.integers(0, 2**40), min_size=1, max_size=300))
def test_few_distinct_values_are_exact(values: list[int]) -> None:
    """Below the exact-value limit every figure equals the exact one."""
    h = Histogram()
    h.extend(values)
    assert not h.bucketed
    check_against_exact(h, values)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 2**32),
    st.integers(EXACT_VALUES + 1, 2**40),
    st.lists(st.integers(0, 2**40), max_size=50),
)
def test_many_distinct_values_are_within_the_documented_precision(
    seed: int, scale: int, outliers: list[int]
) -> None:
    """Past the limit, percentiles are within RELATIVE_PRECISION above the exact value."""
    rng = random.Random(seed)
    values = [rng.randrange(scale) for _ in range(2 * EXACT_VALUES)] + outliers
    h = Histogram()
    h.extend(values)
    check_against_exact(h, values)


def test_bucketed_mode_is_forced_and_stays_within_precision() -> None:
    """A spread of 10,000 distinct values (a Poisson run, say) is bucketed and still right."""
    values = [1_000 + (k * 7919) % 10_000_000 for k in range(10_000)]
    h = Histogram()
    h.extend(values)
    assert h.bucketed
    check_against_exact(h, values)


def test_memory_is_bounded_by_buckets_not_by_values() -> None:
    """A million distinct values in one octave keep at most 2**SUB_BUCKET_BITS keys."""
    h = Histogram()
    for v in range(1 << 20, 1 << 21):
        h.add(v)
    assert h.count == 1 << 20
    assert len(h.counts()) == 1 << SUB_BUCKET_BITS


def test_small_values_are_exact_even_when_bucketed() -> None:
    """Values below 4096 keep a bucket each, so they are never rounded."""
    h = Histogram()
    h.extend(range(5_000))
    assert h.bucketed
    assert h.percentile(10) == 499
    assert h.percentile(50) == 2499


def test_empty_histogram_reports_nothing() -> None:
    """No values: no percentile, no mean, no extremes."""
    h = Histogram()
    assert (h.percentile(50), h.mean(), h.minimum, h.maximum, len(h)) == (None,) * 4 + (0,)


def test_negative_values_are_refused() -> None:
    """Latencies and send times are never negative; one that is is a model bug."""
    with pytest.raises(ValueError, match="non-negative"):
        Histogram().add(-1)


@given(st.lists(st.integers(0, 2**30)), st.lists(st.integers(0, 2**30)))
def test_merge_equals_counting_both(first: list[int], second: list[int]) -> None:
    """Merging two histograms gives the histogram of both value lists."""
    a, b, both = Histogram(), Histogram(), Histogram()
    a.extend(first)
    b.extend(second)
    both.extend(first + second)
    a.merge(b)
    assert (a.count, a.total, a.minimum, a.maximum) == (
        both.count,
        both.total,
        both.minimum,
        both.maximum,
    )
    assert a.counts() == both.counts()


def test_pickles_and_compares_by_value() -> None:
    """A histogram crosses process boundaries (sweep workers) unchanged."""
    h = Histogram()
    h.extend([5, 7000, 7001, 7000, 2**33])
    copy = pickle.loads(pickle.dumps(h))
    assert copy == h
    assert copy.percentile(50) == h.percentile(50) == 7000
    h.add(1)
    assert copy != h
