"""StepSeries: exact while small, bounded and peak-preserving when large, deterministic."""

from __future__ import annotations

import random

from mintactors.plots import StepSeries


def random_walk(seed: int, n: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    t, out = 0, []
    for _ in range(n):
        t += rng.randrange(0, 50)  # zero gaps too: several changes at one instant
        out.append((t, rng.choice((-1, 1, 2))))
    return out


def test_a_small_series_is_every_change_exactly() -> None:
    """Under the limit: the start, then one point per change, then the end."""
    series = StepSeries()
    for t, delta in [(5, 1), (5, 1), (9, -2), (12, 3)]:
        series.change(t, delta)
    assert series.points(20) == ([0, 5, 5, 9, 12, 20], [0, 1, 2, 0, 3, 3])
    assert not series.downsampled
    assert (series.value, series.low, series.high, series.changes) == (3, 0, 3, 4)


def test_a_large_series_stays_bounded_and_keeps_its_peaks() -> None:
    """Past the limit: a bounded number of points, in time order, the extremes kept."""
    series = StepSeries(limit=256)
    level, seen = 0, []
    for t, delta in random_walk(1, 100_000):
        series.change(t, delta)
        level += delta
        seen.append(level)
    times, values = series.points()
    assert series.downsampled
    assert len(times) <= 3 * (256 // 2)
    assert times == sorted(times)
    assert (min(values), max(values)) == (min(0, *seen), max(seen))
    assert (series.low, series.high, series.value) == (min(0, *seen), max(seen), level)
    assert values[-1] == level


def test_downsampling_is_deterministic() -> None:
    """The same changes give the same points."""
    a, b = StepSeries(limit=64), StepSeries(limit=64)
    for t, delta in random_walk(7, 10_000):
        a.change(t, delta)
        b.change(t, delta)
    assert a.points(10**9) == b.points(10**9)
