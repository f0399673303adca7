"""``[simulation]``: how a run is driven."""

from __future__ import annotations

from typing import Literal

import attrs

from mintactors.fields import MAX_INSTANT_NS, at_least, between, checked, duration_ns
from mintactors.runtime import PCT_DEPTH, PCT_STEPS, policy_names

__all__ = ["SimulationConfig"]


def _policy(value: str) -> str | None:
    names = policy_names()
    return None if value in names else f"unknown policy {value!r}; allowed: {', '.join(names)}"


@attrs.frozen
class SimulationConfig:
    """Seed, end, tie-break policy and trace level.

    ``trace_frames`` puts every generated and received frame's bytes in the trace
    (``PacketGenerated`` and ``PacketReceived`` notes, ``full`` level), so
    ``mintactors trace export pcap`` can rebuild a capture from the trace alone.

    ``pct_depth`` (``d``) and ``pct_steps`` (``k``) tune the ``pct`` policy: its
    ``d - 1`` change points fall among tie decisions ``1..k``
    (:class:`~mintactors.runtime.PctPolicy`). Other policies ignore them.

    ``lookahead``: driver code runs ahead to an instant nothing else can reach
    first (a load, NET_RX's start, its next stretch of CPU time) instead of waiting
    for it as a delivery of its own. What happens, and when, is the same either way;
    with it on a run is faster and the kernel shell's state between two deliveries
    may already hold work dated later (docs/drivers.md, "Time"), so a run cut at
    ``until_ns`` may count driver work dated a few microseconds past it.
    """

    seed: int = checked(1, between(0, (1 << 64) - 1))
    until_ns: int | None = checked(
        None, lambda v: None if v is None else duration_ns(1, MAX_INSTANT_NS)(v)
    )
    policy: str = checked("fifo", _policy)
    trace: Literal["off", "summary", "full"] = "summary"
    trace_frames: bool = False
    pct_depth: int = checked(PCT_DEPTH, between(1, 64))
    pct_steps: int = checked(PCT_STEPS, at_least(1, at_most=1 << 40))
    lookahead: bool = True
