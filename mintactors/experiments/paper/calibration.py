"""Fitting the ``paper-2014`` cost profile to the paper: Table 1 and one point of Table 2.

Three things are fitted; every other cost keeps its assumed value (the profile's
description and ``docs/paper.md`` say where each comes from):

1. **The fixed cost of a send** (``syscall_entry_ns + syscall_exit_ns``). A send
   is the fixed work (entry, reading RDT and the descriptor, the write-back, the
   ICR write, exit) plus the copy. While a frame fits in the L1 cache the copy
   grows in proportion to its length, so the line through Table 1's two smallest
   sizes (1 KB and 1.5 KB) meets the time axis at the fixed cost. The assumed
   parts (``memory_latency_ns``, ``descriptor_writeback_ns``, ``icr_write_ns``)
   are subtracted, and what is left is split evenly between entry and exit.
2. **The copy curve** (``copy_points``): at each of Table 1's sizes, the copy
   costs the measured send time minus that fixed cost. Between sizes the curve is
   linear (:mod:`mintactors.costs`), so Table 1 is reproduced exactly (to the ns).
   The receive side copies with the same curve: the same machine's memcpy.
3. **The handler's per-frame hand-up work** (``handup_ns``: what the driver does
   for a frame besides its descriptor bookkeeping, the skb allocation and the
   copy, the largest and least known receive-side cost), so that E2 at 1.5 KB
   gives Table 2's 6.3 Gb/s. E2 is the rate at which the handler builds skbs, and
   its per-packet time is linear in ``handup_ns``, so a few runs of the model find
   it. The protocol stack behind ``netif_rx`` (``stack_ns``) runs in the softirq,
   off E2's path, and stays an assumption.

Nothing else in Table 2 or Figure 9 is used, so those are predictions.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mintactors.costs import CostProfile, load_profile
from mintactors.experiments.paper.data import (
    PAPER_SIZES,
    TABLE1_US,
    TABLE2_GBPS,
    paper_size,
)
from mintactors.experiments.paper.measure import FULL, PaperScale, e2_runs, run_paper_points
from mintactors.experiments.sweep.executors import Executor

__all__ = [
    "DESCRIPTION",
    "calibrate",
    "fit_send_side",
    "fit_handup",
    "profile_toml",
]

PROFILE = "paper-2014"

DESCRIPTION = (
    "Fitted by tools/calibrate_paper.py to the paper's Table 1 and the 1.5 KB Mint row "
    "of Table 2 only: syscall_entry_ns + syscall_exit_ns = the intercept of Table 1's "
    "line through 1 KB and 1.5 KB, minus the assumed memory_latency_ns, "
    "descriptor_writeback_ns and icr_write_ns; copy_points = Table 1 minus that fixed "
    "cost at each size; handup_ns so that E2 (continuous sending: the rate the driver "
    "builds skbs) at 1.5 KB gives 6.3 Gb/s. "
    "Every other value is an assumption (docs/paper.md). The rest of Table 2 and "
    "Figure 9 are predictions."
)


def fit_send_side(base: CostProfile) -> dict[str, Any]:
    """Fields 1 and 2 of the fit (see the module docstring), from Table 1.

    Raises:
        ValueError: the assumed fixed parts already exceed the fitted fixed cost.
    """
    small, mtu = paper_size("1"), paper_size("1.5")
    t_small, t_mtu = TABLE1_US["1"] * 1000, TABLE1_US["1.5"] * 1000
    slope = (t_mtu - t_small) / (mtu.frame_bytes - small.frame_bytes)
    fixed = round(t_small - slope * small.frame_bytes)
    assumed = base.memory_latency_ns + base.descriptor_writeback_ns + base.icr_write_ns
    syscall = fixed - assumed
    if syscall < 0:
        raise ValueError(
            f"the fixed send cost {fixed} ns is below the assumed parts ({assumed} ns)"
        )
    points = [[s.frame_bytes, round(TABLE1_US[s.kb] * 1000) - fixed] for s in PAPER_SIZES]
    return {
        "syscall_entry_ns": syscall - syscall // 2,
        "syscall_exit_ns": syscall // 2,
        "copy_points": points,
    }


def fit_handup(
    executor: Executor,
    costs: Mapping[str, Any],
    start_ns: int,
    scale: PaperScale = FULL,
    max_rounds: int = 6,
) -> tuple[int, float]:
    """Field 3: the ``handup_ns`` at which E2 at 1.5 KB gives Table 2's traffic.

    Returns the value and the E2 per-packet time it gives.
    """
    mtu = paper_size("1.5")
    target_ns = mtu.frame_bits / TABLE2_GBPS["1.5"]
    handup = start_ns
    measured = 0.0
    for _ in range(max_rounds):
        trial = {**costs, "handup_ns": handup}
        [row] = run_paper_points(executor, e2_runs(scale, ["1.5"]), scale, trial, "fit handup_ns")
        measured = float(row["packet_ns"])
        step = round(target_ns - measured)
        if step == 0:
            break
        handup = max(0, handup + step)
    return handup, measured


def calibrate(executor: Executor, scale: PaperScale = FULL) -> dict[str, Any]:
    """Every fitted field of the ``paper-2014`` profile."""
    base = load_profile(PROFILE)
    fields = fit_send_side(base)
    handup, _ = fit_handup(executor, fields, base.handup_ns, scale)
    return {**fields, "handup_ns": handup}


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


def profile_toml(path: Path, fitted: Mapping[str, Any]) -> tuple[str, bool]:
    """The profile file at ``path`` with ``fitted`` fields and the fit's description.

    The version goes up by one when a value changes. Returns the text and whether
    anything changed.
    """
    data = tomllib.loads(path.read_text())["profile"]
    new = {**data, **fitted, "description": DESCRIPTION}
    new["copy_points"] = [list(p) for p in new["copy_points"]]
    old = {**data, "copy_points": [list(p) for p in data["copy_points"]]}
    changed = any(old.get(k) != v for k, v in new.items() if k != "version")
    if changed:
        new["version"] = int(data["version"]) + 1
    CostProfile(**{**new, "copy_points": tuple(tuple(p) for p in new["copy_points"])})
    lines = [
        "# The machine of the paper's evaluation, as far as its numbers pin it down.",
        "# Written by tools/calibrate_paper.py (fitted fields: see description and docs/paper.md).",
        "[profile]",
        *(f"{key} = {_toml_value(value)}" for key, value in new.items()),
    ]
    return "\n".join(lines) + "\n", changed
