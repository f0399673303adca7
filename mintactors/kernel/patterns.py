"""Timing patterns for the interrupt generator: when each packet is planned to go.

Each pattern is an iterator of absolute virtual instants in integer nanoseconds,
one per packet, nondecreasing. The generator takes the next instant when it plans
the next send; a send planned for a moment when the previous system call is still
running goes late (counted), as a real sender would. The patterns, in the
vocabulary of pktgen, MoonGen and TRex (domain.md 4):

``fixed``
    ``start, start + T, start + 2T, ...`` (constant bit rate).
``list``
    exactly the instants given.
``jitter``
    the fixed grid plus a seeded offset per packet, uniform in ``[-A, +A]`` or
    normal with standard deviation ``A``; an instant that would fall before the
    previous one is held at the previous one, so the sequence stays nondecreasing.
``poisson``
    a Poisson process: exponential gaps with mean ``1/rate``, the first gap
    counted from ``start``; instants are rounded from the exact running sum, so
    rounding does not accumulate.
``burst``
    ``N`` packets every ``T``: burst ``j`` packet ``i`` at ``start + jT + i g``
    (``g = 0``: back to back, the generator sends them as fast as its system
    call allows).
``capture``
    a capture's own inter-arrival times, scaled by ``time_scale`` and shifted so
    the first frame goes at ``start``.

Randomness comes only from the stream handed in (``rng_stream(seed,
"generator.pattern")`` in the builder), never from a global generator.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Literal, Protocol

__all__ = [
    "PATTERNS",
    "RandomSource",
    "burst_instants",
    "capture_instants",
    "fixed_instants",
    "jittered_instants",
    "listed_instants",
    "poisson_instants",
]

#: Pattern names a config may give as ``generator.pattern``.
PATTERNS = ("fixed", "list", "jitter", "poisson", "burst", "capture")


class RandomSource(Protocol):
    """The draws a pattern needs; ``random.Random`` provides them."""

    def random(self) -> float:
        """A uniform float in [0, 1)."""
        ...

    def randint(self, a: int, b: int) -> int:
        """A uniform integer in [a, b]."""
        ...

    def gauss(self, mu: float, sigma: float) -> float:
        """A normal draw."""
        ...


def fixed_instants(start_ns: int, interval_ns: int) -> Iterator[int]:
    """``start, start + interval, start + 2 interval, ...``"""
    return (start_ns + k * interval_ns for k in itertools.count())


def listed_instants(instants: Sequence[int]) -> Iterator[int]:
    """Exactly ``instants``, which must be nonnegative and nondecreasing.

    Raises:
        ValueError: an instant below 0 or below its predecessor.
    """
    for k, (before, after) in enumerate(itertools.pairwise(instants)):
        if after < before:
            raise ValueError(f"instant {k + 1} ({after} ns) is before instant {k} ({before} ns)")
    if instants and instants[0] < 0:
        raise ValueError(f"instant 0 is negative ({instants[0]} ns)")
    return iter(tuple(instants))


def jittered_instants(
    start_ns: int,
    interval_ns: int,
    jitter_ns: int,
    dist: Literal["uniform", "normal"],
    rng: RandomSource,
) -> Iterator[int]:
    """The fixed grid, each instant moved by a seeded offset.

    ``uniform``: an integer offset uniform in ``[-jitter_ns, +jitter_ns]``;
    ``normal``: a rounded normal offset with standard deviation ``jitter_ns``.
    Instants are clamped to be at least 0 and at least the previous instant.
    """
    previous = 0
    for k in itertools.count():
        if dist == "uniform":
            offset = rng.randint(-jitter_ns, jitter_ns)
        else:
            offset = round(rng.gauss(0.0, float(jitter_ns)))
        instant = max(previous, start_ns + k * interval_ns + offset)
        previous = instant
        yield instant


def poisson_instants(start_ns: int, rate_pps: float, rng: RandomSource) -> Iterator[int]:
    """Arrivals of a Poisson process of ``rate_pps`` packets per second after ``start_ns``.

    Gaps are exponential with mean ``1e9 / rate_pps`` ns, drawn by inversion (one
    uniform per gap).

    Raises:
        ValueError: a rate that is not positive.
    """
    if rate_pps <= 0:
        raise ValueError(f"rate must be positive, not {rate_pps}")
    return _poisson(start_ns, 1e9 / rate_pps, rng)


def _poisson(start_ns: int, mean_ns: float, rng: RandomSource) -> Iterator[int]:
    elapsed = 0.0
    while True:
        elapsed += -mean_ns * math.log(1.0 - rng.random())
        yield start_ns + round(elapsed)


def burst_instants(
    start_ns: int, burst_size: int, period_ns: int, gap_ns: int = 0
) -> Iterator[int]:
    """``burst_size`` packets ``gap_ns`` apart, every ``period_ns``.

    Raises:
        ValueError: an empty burst, or one longer than its period (bursts would overlap).
    """
    if burst_size < 1:
        raise ValueError(f"a burst needs at least one packet, not {burst_size}")
    if (burst_size - 1) * gap_ns > period_ns:
        raise ValueError(
            f"a burst of {burst_size} packets {gap_ns} ns apart lasts longer than "
            f"its period of {period_ns} ns"
        )
    return (
        start_ns + j * period_ns + i * gap_ns for j in itertools.count() for i in range(burst_size)
    )


def capture_instants(
    timestamps_ns: Sequence[int], start_ns: int, time_scale: float = 1.0
) -> Iterator[int]:
    """A capture's arrival times, shifted to begin at ``start_ns`` and scaled.

    Gap ``k`` of the replay is ``time_scale`` times gap ``k`` of the capture
    (``time_scale = 0.5`` replays twice as fast). Instants are rounded from the
    scaled offset to the first frame, so rounding does not accumulate. A capture
    whose timestamps step backwards (it happens when a capture merges interfaces)
    has that frame sent right after the previous one.
    """
    if time_scale <= 0:
        raise ValueError(f"time_scale must be positive, not {time_scale}")
    if not timestamps_ns:
        return iter(())
    first = timestamps_ns[0]
    out: list[int] = []
    previous = start_ns
    for ts in timestamps_ns:
        instant = max(previous, start_ns + round((ts - first) * time_scale))
        out.append(instant)
        previous = instant
    return iter(out)
