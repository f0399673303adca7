"""Delay distributions in integer nanoseconds, drawn from seeded streams.

A model component never sees a random generator: it is handed a :data:`Sampler`,
a zero-argument callable that returns the next delay. The config layer decides the
distribution and binds it to the component's own seeded stream.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

import attrs

if TYPE_CHECKING:
    # Only the type: draws come from the stream a caller hands in, never the module.
    import random

__all__ = [
    "Distribution",
    "Exponential",
    "Fixed",
    "Normal",
    "Sampler",
    "Uniform",
    "sampler",
]

Sampler: TypeAlias = Callable[[], int]


@attrs.frozen
class Fixed:
    """Always ``ns``."""

    ns: int

    def sample(self, rng: random.Random) -> int:
        """Return ``ns``; draws nothing."""
        return self.ns

    @property
    def mean_ns(self) -> float:
        """The distribution's mean."""
        return float(self.ns)


@attrs.frozen
class Uniform:
    """Uniform over the integers ``low_ns..high_ns`` inclusive."""

    low_ns: int
    high_ns: int

    def sample(self, rng: random.Random) -> int:
        """One uniform draw."""
        return rng.randint(self.low_ns, self.high_ns)

    @property
    def mean_ns(self) -> float:
        """The distribution's mean."""
        return (self.low_ns + self.high_ns) / 2


@attrs.frozen
class Normal:
    """Normal with ``mean_ns`` and ``sd_ns``, rounded, never below ``min_ns``."""

    mean_ns: float
    sd_ns: float
    min_ns: int = 0

    def sample(self, rng: random.Random) -> int:
        """One draw, clipped at ``min_ns``."""
        return max(self.min_ns, round(rng.gauss(self.mean_ns, self.sd_ns)))


@attrs.frozen
class Exponential:
    """Exponential with ``mean_ns`` (the gaps of a Poisson process), rounded."""

    mean_ns: float

    def sample(self, rng: random.Random) -> int:
        """One draw by inversion, so it consumes exactly one uniform."""
        return round(-self.mean_ns * math.log(1.0 - rng.random()))


Distribution: TypeAlias = Fixed | Uniform | Normal | Exponential


class _Constant:
    """A sampler of a fixed delay (a class, not a lambda, so a checkpoint can keep it)."""

    __slots__ = ("ns",)

    def __init__(self, ns: int) -> None:
        self.ns = ns

    def __call__(self) -> int:
        return self.ns


class _Draws:
    """A sampler drawing from ``distribution`` with ``rng`` (picklable, stream and all)."""

    __slots__ = ("distribution", "rng")

    def __init__(self, distribution: Distribution, rng: random.Random) -> None:
        self.distribution = distribution
        self.rng = rng

    def __call__(self) -> int:
        return self.distribution.sample(self.rng)


def sampler(distribution: Distribution, rng: random.Random) -> Sampler:
    """Bind ``distribution`` to ``rng``: each call returns the next draw."""
    if isinstance(distribution, Fixed):
        return _Constant(distribution.ns)
    return _Draws(distribution, rng)
