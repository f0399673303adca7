"""A bounded-memory histogram of non-negative integers (latencies, in ns).

A run of a million packets must not keep a million latencies to report p50, p99,
max and mean. :class:`Histogram` keeps counts per value instead, and a bounded
number of them:

* while a run has seen at most :data:`EXACT_VALUES` distinct values (the usual
  case: with fixed costs a run's latencies take a few hundred values), it counts
  each value exactly, and every figure it reports is exact;
* past that, it switches for good to log-linear buckets in the manner of
  HdrHistogram: values below ``2 ** (SUB_BUCKET_BITS + 1)`` (4096) keep a bucket
  each, and every octave above is cut into ``2 ** SUB_BUCKET_BITS`` (2048) equal
  buckets, so a bucket is never wider than :data:`RELATIVE_PRECISION` (2**-11,
  about 0.05 %) of the values in it. At most 2048 buckets per octave exist, and
  only those a value fell in are stored.

Precision: :meth:`Histogram.percentile` returns the nearest-rank percentile, exact
while the histogram is exact, and otherwise the top of the bucket holding it,
clamped to the exact minimum and maximum, which is at least the exact value and
exceeds it by less than ``RELATIVE_PRECISION`` of it. ``count``, ``total``,
``minimum``, ``maximum`` and :meth:`Histogram.mean` are always exact.

Pure Python, deterministic (the same values in the same order give the same
histogram, in any process) and picklable, so it crosses process boundaries in
sweeps; :meth:`Histogram.merge` combines two.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

__all__ = ["EXACT_VALUES", "RELATIVE_PRECISION", "SUB_BUCKET_BITS", "Histogram"]

#: Each octave above 4096 is split into ``2 ** SUB_BUCKET_BITS`` buckets.
SUB_BUCKET_BITS = 11
#: The largest relative error of a reported percentile (bucketed mode only).
RELATIVE_PRECISION = 2.0**-SUB_BUCKET_BITS
#: Distinct values counted exactly before the histogram switches to buckets.
EXACT_VALUES = 4096

_LINEAR_LIMIT = 1 << (SUB_BUCKET_BITS + 1)


def _shift(value: int) -> int:
    """log2 of the width of ``value``'s bucket (0: a bucket of its own)."""
    return max(0, value.bit_length() - SUB_BUCKET_BITS - 1)


def _bucket(value: int) -> int:
    """The lowest value of the bucket ``value`` falls in (its key in bucketed mode)."""
    shift = _shift(value)
    return value >> shift << shift


class Histogram:
    """Counts of non-negative integers with exact count, total, minimum and maximum.

    Example:
        >>> h = Histogram()
        >>> h.extend([3000, 3000, 5000])
        >>> h.percentile(50), h.maximum, h.mean()
        (3000, 5000, 3666.6666666666665)
    """

    __slots__ = ("_counts", "bucketed", "count", "maximum", "minimum", "total")

    def __init__(self) -> None:
        self._counts: dict[int, int] = {}
        #: True once the histogram keeps buckets rather than exact values.
        self.bucketed = False
        self.count = 0
        self.total = 0
        self.minimum: int | None = None
        self.maximum: int | None = None

    def add(self, value: int) -> None:
        """Count one value.

        Raises:
            ValueError: ``value`` is negative.
        """
        if value < 0:
            raise ValueError(f"a histogram counts non-negative values, not {value}")
        self.count += 1
        self.total += value
        if self.maximum is None or value > self.maximum:
            self.maximum = value
        if self.minimum is None or value < self.minimum:
            self.minimum = value
        key = _bucket(value) if self.bucketed else value
        counts = self._counts
        counts[key] = counts.get(key, 0) + 1
        if len(counts) > EXACT_VALUES and not self.bucketed:
            self._to_buckets()

    def copy(self) -> Histogram:
        """An independent histogram with the same counts."""
        twin = Histogram()
        twin.merge(self)
        twin.bucketed = self.bucketed
        return twin

    def extend(self, values: Iterable[int]) -> None:
        """Count every value of ``values``."""
        for value in values:
            self.add(value)

    def merge(self, other: Histogram) -> None:
        """Add every count of ``other`` to this histogram."""
        if other.minimum is None or other.maximum is None:
            return
        self.count += other.count
        self.total += other.total
        self.minimum = other.minimum if self.minimum is None else min(self.minimum, other.minimum)
        self.maximum = other.maximum if self.maximum is None else max(self.maximum, other.maximum)
        bucketed = self.bucketed or other.bucketed
        counts = self._counts
        for value, n in other._counts.items():
            key = _bucket(value) if bucketed else value
            counts[key] = counts.get(key, 0) + n
        if bucketed or len(counts) > EXACT_VALUES:
            self._to_buckets()

    def _to_buckets(self) -> None:
        buckets: dict[int, int] = {}
        for value, n in self._counts.items():
            key = _bucket(value)
            buckets[key] = buckets.get(key, 0) + n
        self._counts = buckets
        self.bucketed = True

    def mean(self) -> float | None:
        """The exact mean, or None when empty."""
        return self.total / self.count if self.count else None

    def percentile(self, q: float) -> int | None:
        """The nearest-rank ``q``-th percentile (0 < q <= 100), or None when empty.

        Exact while the histogram is exact; otherwise within
        :data:`RELATIVE_PRECISION` above the exact value (see the module docstring).
        """
        if not self.count or self.minimum is None or self.maximum is None:
            return None
        rank = max(1, math.ceil(q / 100 * self.count))
        seen = 0
        for key in sorted(self._counts):
            seen += self._counts[key]
            if seen >= rank:
                top = key + (1 << _shift(key)) - 1 if self.bucketed else key
                return max(self.minimum, min(top, self.maximum))
        return self.maximum  # pragma: no cover (the counts add up to count)

    def counts(self) -> dict[int, int]:
        """Value (or, once bucketed, bucket floor) -> count, in increasing order."""
        return {key: self._counts[key] for key in sorted(self._counts)}

    def __len__(self) -> int:
        """How many values were counted."""
        return self.count

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Histogram):
            return NotImplemented
        return (self.count, self.total, self.minimum, self.maximum, self.bucketed) == (
            other.count,
            other.total,
            other.minimum,
            other.maximum,
            other.bucketed,
        ) and self._counts == other._counts

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        mode = "bucketed" if self.bucketed else "exact"
        return (
            f"Histogram(count={self.count}, min={self.minimum}, max={self.maximum}, "
            f"{len(self._counts)} {mode} keys)"
        )
