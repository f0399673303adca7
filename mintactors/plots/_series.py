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

__all__ = ["StepSeries"]

#: Points kept exactly before a series is reduced to buckets.
DEFAULT_LIMIT = 4096

# A bucket: [index, n_low, t_low, v_low, n_high, t_high, v_high, n_last, t_last, v_last],
# where n is the change's ordinal number, so points at one instant keep their order.
_Bucket = list[int]


class StepSeries:
    """A value starting at ``start`` at time 0, changed by deltas at instants.

    Args:
        start: the value at time 0.
        limit: how many changes are kept exactly before bucketing.

    Attributes:
        value: the current value.
        low, high: the lowest and highest values it has had (exact, even bucketed).
        changes: how many changes were applied.
    """

    def __init__(self, start: int = 0, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 4:
            raise ValueError(f"limit must be at least 4, not {limit}")
        self.value = self.low = self.high = start
        self.changes = 0
        self.limit = limit
        self._times: list[int] = [0]
        self._values: list[int] = [start]
        self._buckets: list[_Bucket] | None = None
        self.width_ns = 0  # 0 while exact

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
            self._add(self._buckets, t, self.value, self.changes)

    def _add(self, buckets: list[_Bucket], t: int, v: int, n: int) -> None:
        index = t // self.width_ns
        last = buckets[-1] if buckets else None
        if last is None or last[0] != index:
            buckets.append([index, n, t, v, n, t, v, n, t, v])
            if len(buckets) > self.limit // 2:
                self._halve(buckets)
            return
        if v < last[3]:
            last[1:4] = [n, t, v]
        if v > last[6]:
            last[4:7] = [n, t, v]
        last[7:10] = [n, t, v]

    def _to_buckets(self) -> None:
        span = self._times[-1] - self._times[0]
        width = 1
        while span // width >= self.limit // 4:  # start a quarter full: room to grow
            width *= 2
        self.width_ns = width
        buckets: list[_Bucket] = []
        for n, (t, v) in enumerate(zip(self._times, self._values, strict=True)):
            self._add(buckets, t, v, n)
        self._buckets = buckets
        self._times, self._values = [], []

    def _halve(self, buckets: list[_Bucket]) -> None:
        """Double the width: merge each bucket into its neighbour of the same new index."""
        self.width_ns *= 2
        merged: list[_Bucket] = []
        for b in buckets:
            index = b[0] // 2
            if not merged or merged[-1][0] != index:
                merged.append([index, *b[1:]])
                continue
            m = merged[-1]
            if b[3] < m[3]:  # strictly lower: on a tie the earlier point stays
                m[1:4] = b[1:4]
            if b[6] > m[6]:
                m[4:7] = b[4:7]
            m[7:10] = b[7:10]
        buckets[:] = merged

    def points(self, end: int | None = None) -> tuple[list[int], list[int]]:
        """The (times, values) to draw as a post-step plot, ending at ``end`` if given.

        Exact (the start and one point per change) until the series was bucketed;
        after that, each bucket's low, high and last points in the order they came.
        """
        if self._buckets is None:
            times, values = list(self._times), list(self._values)
        else:
            times, values = [], []
            for b in self._buckets:
                # Keyed by ordinal: a point that is both (say) the high and the last
                # is drawn once, and the three are drawn in the order they happened.
                marks = {b[1]: (b[2], b[3]), b[4]: (b[5], b[6]), b[7]: (b[8], b[9])}
                for n in sorted(marks):
                    times.append(marks[n][0])
                    values.append(marks[n][1])
        if end is not None and (not times or end > times[-1]):
            times.append(end)
            values.append(self.value)
        return times, values
