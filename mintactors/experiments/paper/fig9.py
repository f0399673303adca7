"""The paper's Figure 9 on the model: receive success rate against the interval.

One cycle is ``cycle`` packets (5000, as the paper) sent at one fixed interval;
its success rate is the packets that reached the socket buffer over the packets
sent. The paper's socket buffer is the skb the driver copies the frame into, so
that is ``skb_built`` (skbs handed to ``netif_rx``); ``queued_on_socket`` is
reported beside it. Each cycle is its own run from a fresh machine (the paper ran the cycles one
after another; a pause between cycles that lets the ring drain makes the two the
same). The intervals grow from cycle to cycle:

1. a grid of intervals at fixed fractions of the model's own per-packet receive
   time at that size (measured by E2, continuous sending), so each curve is
   sampled where it rises and where it is flat, whatever the costs;
2. then the interval at which the success rate first reaches 100 % is narrowed
   down by bisection between the largest interval measured below 100 % and the
   smallest at 100 %, until the bracket is ``resolution`` of the interval.

Every measured cycle, grid or bisection, is a point of the figure, placed at the
*realised* mean interval between its sends (the figure's x axis): below one send
time the generator cannot keep the planned interval, and a send the ring refuses
is shorter than one it copies. The summary per size gives that 100 % interval, a
proxy for the paper's (the paper gives no 100 % points as numbers: the per-packet
receive time Table 2 implies, frame bits / the paper's traffic), and the R² of a
straight line through the points below 100 % (the rising part).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from mintactors.experiments.paper.data import FIG9_SIZES, implied_packet_ns, paper_size
from mintactors.experiments.paper.measure import (
    FULL,
    PaperMeasurementError,
    PaperScale,
    rel_error,
    run_paper_points,
    size_overrides,
)
from mintactors.experiments.sweep.executors import Executor

__all__ = [
    "Fig9Point",
    "Fig9Summary",
    "fig9",
    "r_squared",
    "summarise",
]


@attrs.frozen
class Fig9Point:
    """One cycle: a size, its planned and realised interval, and how far packets got.

    ``skb_built``: skbs the driver built and handed to ``netif_rx`` (the paper's
    socket buffer); ``queued_on_socket``: skbs the UDP socket queued.
    """

    size_kb: str
    interval_ns: int
    sent: int
    skb_built: int
    queued_on_socket: int
    interval_realised_ns: float

    @property
    def success_rate(self) -> float:
        """Packets that reached the socket buffer (the skb) / packets sent."""
        return self.skb_built / self.sent

    @property
    def complete(self) -> bool:
        """Every packet sent reached the socket buffer."""
        return self.skb_built == self.sent


@attrs.frozen
class Fig9Summary:
    """One curve's figures: its 100 % interval against Table 2, and its linearity."""

    size_kb: str
    #: A proxy for the paper's 100 % point, which the paper does not give as a
    #: number: the per-packet receive time Table 2 implies.
    paper_ns: float
    model_ns: int
    r_squared: float | None
    rising_points: int
    role: str = "predicted"

    @property
    def rel_error(self) -> float:
        """(model - paper) / paper."""
        return rel_error(self.model_ns, self.paper_ns)


def r_squared(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """The coefficient of determination of a least-squares line; None under 3 points."""
    n = len(xs)
    if n < 3:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return sxy * sxy / (sxx * syy)


def _cycle_runs(scale: PaperScale, cycles: Sequence[tuple[str, int]]) -> list[dict[str, Any]]:
    return [
        {
            **size_overrides(paper_size(kb)),
            "generator.count": scale.cycle,
            "generator.interval_ns": interval,
        }
        for kb, interval in cycles
    ]


def _measure(
    executor: Executor,
    scale: PaperScale,
    cycles: Sequence[tuple[str, int]],
    costs: Mapping[str, Any] | None,
    label: str,
) -> list[Fig9Point]:
    rows = run_paper_points(executor, _cycle_runs(scale, cycles), scale, costs, label)
    return [
        Fig9Point(
            kb,
            interval,
            int(row["sent"]),
            int(row["skb_built"]),
            int(row["queued_on_socket"]),
            float(row["interval_realised_ns"]),
        )
        for (kb, interval), row in zip(cycles, rows, strict=True)
    ]


def _bracket(points: Sequence[Fig9Point]) -> tuple[int, int] | None:
    """(largest interval below 100 %, smallest above it at 100 %); None if none at 100 %."""
    below = [p.interval_ns for p in points if not p.complete]
    lo = max(below, default=0)
    full = [p.interval_ns for p in points if p.complete and p.interval_ns > lo]
    return (lo, min(full)) if full else None


def _done(lo: int, hi: int, resolution: float) -> bool:
    return hi - lo <= max(10, resolution * hi)


def summarise(points: Sequence[Fig9Point], post_hoc: bool = False) -> list[Fig9Summary]:
    """Per size: the 100 % interval (as bracketed), Table 2's figure, and R² of the rise.

    ``post_hoc``: the costs were changed from the fitted profile (a sensitivity
    run), so the rows are ``post-hoc``, not predictions.
    """
    out = []
    for kb in dict.fromkeys(p.size_kb for p in points):
        mine = [p for p in points if p.size_kb == kb]
        bracket = _bracket(mine)
        if bracket is None:
            raise PaperMeasurementError(f"Figure 9 at {kb} KB never reached 100 %")
        rising = [p for p in mine if not p.complete]
        fit = r_squared([p.interval_realised_ns for p in rising], [p.success_rate for p in rising])
        role = "post-hoc" if post_hoc else "predicted"
        out.append(Fig9Summary(kb, implied_packet_ns(kb), bracket[1], fit, len(rising), role))
    return out


def fig9(
    executor: Executor,
    packet_ns: Mapping[str, float],
    scale: PaperScale = FULL,
    costs: Mapping[str, Any] | None = None,
    sizes: Sequence[str] = FIG9_SIZES,
) -> tuple[list[Fig9Point], list[Fig9Summary]]:
    """Run Figure 9's cycles; ``packet_ns`` is E2's per-packet time per size (the scale).

    Returns every measured cycle (sorted by size, then interval) and the summaries.
    """
    grid = [(kb, max(1, round(f * packet_ns[kb]))) for kb in sizes for f in scale.fractions]
    points = _measure(executor, scale, list(dict.fromkeys(grid)), costs, "figure 9")
    # If a curve has not reached 100 % by the grid's end, stretch the grid until it has.
    for _ in range(6):
        open_ = [kb for kb in sizes if _bracket([p for p in points if p.size_kb == kb]) is None]
        if not open_:
            break
        more = [(kb, 2 * max(p.interval_ns for p in points if p.size_kb == kb)) for kb in open_]
        points += _measure(executor, scale, more, costs, "figure 9 (longer intervals)")
    while True:
        mids = []
        for kb in sizes:
            bracket = _bracket([p for p in points if p.size_kb == kb])
            # lo = 0: every interval measured reached 100 %; there is no rise to refine.
            if bracket is not None and bracket[0] and not _done(*bracket, scale.resolution):
                mids.append((kb, (bracket[0] + bracket[1]) // 2))
        if not mids:
            break
        points += _measure(executor, scale, mids, costs, "figure 9 (100 % point)")
    order = {kb: i for i, kb in enumerate(sizes)}
    points.sort(key=lambda p: (order[p.size_kb], p.interval_ns))
    return points, summarise(points, post_hoc=bool(costs))
