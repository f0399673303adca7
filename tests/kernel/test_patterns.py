"""Timing patterns: each produces the send instants it promises, and the generator keeps them."""

from __future__ import annotations

import io
import itertools
import math
import statistics
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mintactors.config import parse_config
from mintactors.kernel.patterns import (
    burst_instants,
    capture_instants,
    fixed_instants,
    jittered_instants,
    listed_instants,
    poisson_instants,
)
from mintactors.machine import build_machine
from mintactors.runtime import rng_stream
from mintactors.testing import read_trace


def take(iterator: Any, n: int) -> list[int]:
    return list(itertools.islice(iterator, n))


def test_fixed_gives_start_plus_multiples_of_the_interval() -> None:
    """Fixed: start, start + T, start + 2T, ... exactly."""
    assert take(fixed_instants(500, 1200), 5) == [500, 1700, 2900, 4100, 5300]


def test_list_gives_exactly_the_instants_listed() -> None:
    """List: the given instants, in order, and nothing more."""
    assert list(listed_instants([0, 0, 7, 1_000_000])) == [0, 0, 7, 1_000_000]


def test_list_refuses_instants_that_go_backwards() -> None:
    """A list whose instants decrease is refused, naming the offending instant."""
    with pytest.raises(ValueError, match="instant 2"):
        listed_instants([10, 20, 15])


def test_burst_gives_n_packets_gap_apart_every_period() -> None:
    """Burst: N sends g apart at the start of every period."""
    got = take(burst_instants(1000, 3, 10_000, 100), 7)
    assert got == [1000, 1100, 1200, 11_000, 11_100, 11_200, 21_000]


def test_burst_longer_than_its_period_is_refused() -> None:
    """Bursts that would overlap the next one are refused."""
    with pytest.raises(ValueError, match="longer than"):
        burst_instants(0, 5, 1000, 300)


@given(
    start=st.integers(0, 10**9),
    interval=st.integers(1, 10**6),
    jitter=st.integers(0, 10**6),
    seed=st.integers(0, 2**32),
)
def test_jittered_instants_never_go_backwards(
    start: int, interval: int, jitter: int, seed: int
) -> None:
    """Jittered instants are nondecreasing and never negative, whatever the jitter."""
    got = take(jittered_instants(start, interval, jitter, "normal", rng_stream(seed, "p")), 50)
    assert all(b >= a for a, b in itertools.pairwise(got))
    assert min(got) >= 0


def test_uniform_jitter_stays_within_bounds_with_the_right_spread() -> None:
    """Uniform jitter: offsets within +-A, mean about 0, variance about A(A+1)/3."""
    amount, n = 400, 20_000
    got = take(jittered_instants(10**6, 10_000, amount, "uniform", rng_stream(3, "p")), n)
    offsets = [t - (10**6 + k * 10_000) for k, t in enumerate(got)]
    assert min(offsets) >= -amount
    assert max(offsets) <= amount
    # The mean of n uniform draws has sd A/sqrt(3n) ~ 1.6 ns; 5 sd is 8 ns.
    assert abs(statistics.fmean(offsets)) < 8
    expected_var = amount * (amount + 1) / 3
    assert statistics.pvariance(offsets) == pytest.approx(expected_var, rel=0.03)


def test_normal_jitter_has_the_requested_standard_deviation() -> None:
    """Normal jitter: offsets have mean about 0 and the configured standard deviation."""
    sd, n = 300, 20_000
    got = take(jittered_instants(10**7, 10_000, sd, "normal", rng_stream(4, "p")), n)
    offsets = [t - (10**7 + k * 10_000) for k, t in enumerate(got)]
    assert abs(statistics.fmean(offsets)) < 5 * sd / math.sqrt(n)
    assert statistics.pstdev(offsets) == pytest.approx(sd, rel=0.03)


def test_poisson_gaps_are_exponential_at_the_rate() -> None:
    """Poisson: gaps have mean 1/rate, coefficient of variation 1, and P(gap > mean) = 1/e."""
    rate, n = 250_000.0, 40_000  # mean gap 4000 ns
    got = [0, *take(poisson_instants(0, rate, rng_stream(5, "p")), n)]
    gaps = [b - a for a, b in itertools.pairwise(got)]
    mean = 1e9 / rate
    # The sample mean has sd mean/sqrt(n) = 20 ns; 5 sd is 100 ns = 2.5 %.
    assert statistics.fmean(gaps) == pytest.approx(mean, rel=0.025)
    assert statistics.pstdev(gaps) / statistics.fmean(gaps) == pytest.approx(1.0, abs=0.03)
    above = sum(g > mean for g in gaps) / n
    assert above == pytest.approx(math.exp(-1), abs=0.012)


def test_poisson_instants_do_not_accumulate_rounding() -> None:
    """Instants are rounded from the exact running sum: the n-th is within 0.5 ns of it."""
    rng_a, rng_b = rng_stream(6, "p"), rng_stream(6, "p")
    got = take(poisson_instants(100, 1e6, rng_a), 1000)
    total = 0.0
    for instant in got:
        total += -1000.0 * math.log(1.0 - rng_b.random())
        assert abs(instant - (100 + total)) <= 0.5


def test_capture_instants_reproduce_the_gaps_and_scale_them() -> None:
    """Capture: the first frame at start, every gap as captured times time_scale."""
    stamps = [5_000_000_123, 5_000_000_200, 5_000_003_200, 5_000_003_200, 5_001_000_000]
    assert list(capture_instants(stamps, 1000, 1.0)) == [1000, 1077, 4077, 4077, 1_000_877]
    assert list(capture_instants(stamps, 0, 0.5)) == [0, 38, 1538, 1538, 499_938]


def pattern_config(generator: dict[str, Any], seed: int = 1) -> Any:
    return parse_config(
        {"generator": generator, "simulation": {"seed": seed, "trace": "full"}}, "<test>"
    )


def send_times(generator: dict[str, Any], seed: int = 1) -> list[int]:
    """When the generator began each send (the kernel loop's frame is built beforehand)."""
    out = io.StringIO()
    machine = build_machine(pattern_config(generator, seed), out)
    machine.simulation.run_sync()
    events = read_trace(out.getvalue())
    return [e["t_ns"] for e in events if e["kind"] == "PacketGenerated"]


def test_generator_sends_at_listed_instants_when_it_can() -> None:
    """With instants far enough apart, each send starts exactly at its listed instant."""
    instants = [10_000, 25_000, 25_000 + 7_777, 100_000]
    assert send_times({"pattern": "list", "instants_ns": instants}) == instants


def test_generator_follows_a_burst_pattern() -> None:
    """A burst config's sends start at the burst instants (gap wide enough not to queue)."""
    generator = {
        "pattern": "burst",
        "count": 6,
        "start_ns": 1000,
        "burst_size": 3,
        "burst_gap_ns": 2000,
        "burst_period_ns": 50_000,
    }
    assert send_times(generator) == [1000, 3000, 5000, 51_000, 53_000, 55_000]


def test_a_send_planned_before_the_kernel_loop_has_built_its_frames_goes_late() -> None:
    """The loop's frames (one per flow, 200 ns each) are built first: sends wait for them."""
    generator = {"count": 3, "start_ns": 0, "flows": 2, "interval_ns": 10_000}
    assert send_times(generator) == [400, 10_000, 20_000]
    assert send_times({**generator, "build": "per-send"}) == [200, 10_200, 20_200]


def test_seeded_patterns_follow_the_run_seed() -> None:
    """The same seed gives the same Poisson sends; another seed gives other sends."""
    generator = {"pattern": "poisson", "rate_pps": 20_000.0, "count": 30}
    assert send_times(generator, 1) == send_times(generator, 1)
    assert send_times(generator, 1) != send_times(generator, 2)
