"""A step series of bounded size: a count that changes at instants, for a step plot.

Theory of operation. Changes arrive in time order. Up to ``limit`` of them are kept
exactly, one point per change. Past that, the series switches to *buckets*: time is
cut into equal intervals (a power of two nanoseconds wide), and each bucket keeps
only its lowest value, its highest value and its last value, with the instants
they were reached. When the buckets outnumber ``limit // 2``, adjacent pairs are
merged and the width doubles. Drawing a bucket's lowest, highest and last points in
the order they happened keeps every peak and trough a plot could show at its pixel
width, while memory stays at a few thousand points however long the trace.
Everything depends only on the changes, so the same trace gives the same points.
"""

from __future__ import annotations

from array import array

__all__ = ["DEFAULT_LIMIT", "StepSeries"]

#: Points kept exactly before a series is reduced to buckets.
DEFAULT_LIMIT = 4096

# Buckets live in one flat array of 64-bit integers (a few bytes a field, not the
# hundreds a list of Python ints takes), _STRIDE fields each:
#   index, n_low, t_low, v_low, n_high, t_high, v_high, n_last, t_last, v_last
# where n is the change's ordinal number, so points at one instant keep their order.
_STRIDE = 10
_INDEX, _LOW, _HIGH, _LAST = 0, 1, 4, 7


class StepSeries:
    """A value starting at ``start`` at time 0, changed by deltas at instants.

    Args:
        start: the value at time 0.
        limit: how many changes are kept exactly before bucketing.

    Attributes:
        value: the current value.
        low, high: the lowest and highest values it has had (exact, even bucketed).
        changes: how many changes were applied.
        width_ns: the bucket width (0 while every change is kept).
    """

    def __init__(self, start: int = 0, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 4:
            raise ValueError(f"limit must be at least 4, not {limit}")
        self.value = self.low = self.high = start
        self.changes = 0
        self.limit = limit
        self._times = array("q", [0])
        self._values = array("q", [start])
        self._buckets: array[int] | None = None
        self.width_ns = 0

    @property
    def downsampled(self) -> bool:
        """Whether the points are bucket extremes rather than every change."""
        return self._buckets is not None

    def change(self, t: int, delta: int) -> None:
        """Add ``delta`` to the value at time ``t`` (no earlier than the last change)."""
        self.value += delta
        self.changes += 1
        self.low = min(self.low, self.value)
        self.high = max(self.high, self.value)
        if self._buckets is None:
            self._times.append(t)
            self._values.append(self.value)
            if len(self._times) > self.limit:
                self._to_buckets()
        else:
            self._add(self._buckets, self.changes, t, self.value)

    def _add(self, buckets: array[int], n: int, t: int, v: int) -> None:
        index = t // self.width_ns
        last = len(buckets) - _STRIDE
        if last < 0 or buckets[last + _INDEX] != index:
            buckets.extend((index, n, t, v, n, t, v, n, t, v))
            if len(buckets) > self.limit // 2 * _STRIDE:
                self._halve()
            return
        if v < buckets[last + _LOW + 2]:
            buckets[last + _LOW : last + _LOW + 3] = array("q", (n, t, v))
        if v > buckets[last + _HIGH + 2]:
            buckets[last + _HIGH : last + _HIGH + 3] = array("q", (n, t, v))
        buckets[last + _LAST : last + _LAST + 3] = array("q", (n, t, v))

    def _to_buckets(self) -> None:
        span = self._times[-1] - self._times[0]
        width = 1
        while span // width >= self.limit // 4:  # start a quarter full: room to grow
            width *= 2
        self.width_ns = width
        self._buckets = array("q")
        for n, (t, v) in enumerate(zip(self._times, self._values, strict=True)):
            self._add(self._buckets, n, t, v)
        self._times, self._values = array("q"), array("q")

    def _halve(self) -> None:
        """Double the width: merge each bucket into its neighbour of the same new index."""
        assert self._buckets is not None
        old, merged = self._buckets, array("q")
        self.width_ns *= 2
        for at in range(0, len(old), _STRIDE):
            b = old[at : at + _STRIDE]
            b[_INDEX] //= 2
            m = len(merged) - _STRIDE
            if m < 0 or merged[m + _INDEX] != b[_INDEX]:
                merged.extend(b)
                continue
            if b[_LOW + 2] < merged[m + _LOW + 2]:  # strictly: on a tie the earlier stays
                merged[m + _LOW : m + _LOW + 3] = b[_LOW : _LOW + 3]
            if b[_HIGH + 2] > merged[m + _HIGH + 2]:
                merged[m + _HIGH : m + _HIGH + 3] = b[_HIGH : _HIGH + 3]
            merged[m + _LAST : m + _LAST + 3] = b[_LAST : _LAST + 3]
        self._buckets = merged

    def points(self, end: int | None = None) -> tuple[list[int], list[int]]:
        """The (times, values) to draw as a post-step plot, ending at ``end`` if given.

        Exact (the start and one point per change) until the series was bucketed;
        after that, each bucket's low, high and last points in the order they came.
        """
        if self._buckets is None:
            times, values = list(self._times), list(self._values)
        else:
            times, values = [], []
            b = self._buckets
            for at in range(0, len(b), _STRIDE):
                # Keyed by ordinal: a point that is both (say) the high and the last
                # is drawn once, and the three are drawn in the order they happened.
                marks = {b[at + f]: (b[at + f + 1], b[at + f + 2]) for f in (_LOW, _HIGH, _LAST)}
                for n in sorted(marks):
                    times.append(marks[n][0])
                    values.append(marks[n][1])
        if end is not None and (not times or end > times[-1]):
            times.append(end)
            values.append(self.value)
        return times, values
