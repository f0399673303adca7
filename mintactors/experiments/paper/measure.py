"""The paper's Table 1 and Table 2 on the model, built on the sweep engine.

Definitions (``docs/paper.md`` explains them at length):

E1, Table 1 (send-processing time)
    ``sends`` packets (3000, as the paper) at an interval long enough that the
    receiver keeps up, so every send finds a free descriptor and does the full copy;
    the time of one send is the system call's entry-to-return time; the figure is
    the mean over sends ``window`` (numbered from 1: sends 1000 to 2000, as the
    paper). A refused send inside the window would make the figure meaningless, so
    it is an error.

E2, Table 2 (the most traffic the driver handles)
    Continuous sending: ``generator.interval_ns = 0``, each send starting as soon as
    the previous system call returns (for the real NIC: frames back to back at line
    rate). The figure is the rate at which the driver puts frames into socket
    buffers (skbs, handed to ``netif_rx``) while it runs: ``(skbs - 1) x frame bits
    / (last hand-up - first hand-up)``. On the Mint path the sender is faster than
    the driver, which then drains without pause, so this is the driver's maximum
    receive rate; behind the real NIC the driver keeps up and the line is the
    limit. The stack behind ``netif_rx`` runs later, in the softirq, and does not
    pace the handler (under continuous sending it mostly drops at the backlog).

The base config of every paper run is :data:`PAPER_BASE`: the default machine
and the ``paper-2014`` profile, the paper's kernel-loop generator (one frame built,
patched per send, so sends are one send time apart at the shortest), tracing off,
the application checking only the payload header, and a socket receive buffer
large enough for a whole run, because
the paper counts packets that reached the socket buffer (the skb), and a receive
queue's limit is not part of what it measured.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from mintactors.errors import SimulationError
from mintactors.experiments.paper.data import (
    PAPER_SIZES,
    TABLE1_US,
    TABLE2_GBPS,
    TABLE2_REAL_NIC_GBPS,
    PaperSize,
    paper_size,
)
from mintactors.experiments.run import RunOutcome
from mintactors.experiments.sweep.columns import Scalar
from mintactors.experiments.sweep.executors import Executor
from mintactors.experiments.sweep.runner import run_sweep
from mintactors.experiments.sweep.spec import parse_sweep
from mintactors.kernel.generator import SEND_NS_KEPT
from mintactors.sources import MintTraffic

__all__ = [
    "FITTED",
    "FULL",
    "PAPER_BASE",
    "PaperMeasurementError",
    "PaperScale",
    "QUICK",
    "Table1Row",
    "Table2Row",
    "paper_measure",
    "rel_error",
    "run_paper_points",
    "size_overrides",
    "table1",
    "table2",
    "tables",
]

#: Every paper run starts from this config (see the module docstring).
PAPER_BASE: Final[Mapping[str, Any]] = {
    "simulation": {"trace": "off"},
    "costs": {"profile": "paper-2014"},
    # The paper's call: one frame built, then sent at the interval, patched per send.
    "generator": {"build": "kernel-loop"},
    "socket": {"rcvbuf": 2**31 - 1},  # INT_MAX, as SO_RCVBUF allows with rmem_max raised
    "app": {"verify": False},
}

#: Rows the ``paper-2014`` profile was fitted to: (table, size, nic).
FITTED: Final = frozenset(
    {("table1", s.kb, "debug") for s in PAPER_SIZES} | {("table2", "1.5", "debug")}
)


class PaperMeasurementError(SimulationError):
    """A run did not measure what the experiment needs (a refused send in E1, say)."""


@attrs.frozen
class PaperScale:
    """How big each experiment is.

    Attributes:
        sends: E1 sends per size (the paper: 3000).
        window: E1's averaged sends, numbered from 1, inclusive (the paper: 1000-2000).
        e1_interval_ns: E1's interval, long enough for the receiver to keep up.
        e2_count: E2 sends per size with continuous sending.
        cycle: Figure 9 packets per cycle (the paper: 5000).
        fractions: Figure 9 intervals, as fractions of the model's own per-packet
            receive time for the size (from E2).
        resolution: Figure 9 refines the 100 % point until the bracket is this
            fraction of the interval (or 10 ns).
    """

    sends: int = 3000
    window: tuple[int, int] = (1000, 2000)
    e1_interval_ns: int = 20_000
    e2_count: int = 3000
    cycle: int = 5000
    fractions: tuple[float, ...] = (0.15, 0.3, 0.45, 0.6, 0.75, 0.9, 1.05, 1.25)
    resolution: float = 0.01


#: The paper's own counts.
FULL: Final = PaperScale()
#: A reduced run for smoke tests; not the paper's method (fewer sends, shorter cycles).
QUICK: Final = PaperScale(
    sends=300,
    window=(100, 200),
    e2_count=300,
    cycle=800,
    fractions=(0.2, 0.5, 0.8, 1.2),
    resolution=0.1,
)


@attrs.frozen
class Table1Row:
    """One row of Table 1."""

    size_kb: str
    paper_us: float
    model_us: float
    role: str

    @property
    def rel_error(self) -> float:
        """(model - paper) / paper."""
        return rel_error(self.model_us, self.paper_us)


@attrs.frozen
class Table2Row:
    """One row of Table 2, with the per-packet time behind the model's figure."""

    size_kb: str
    nic: str
    paper_gbps: float
    model_gbps: float
    role: str
    packet_ns: float

    @property
    def rel_error(self) -> float:
        """(model - paper) / paper."""
        return rel_error(self.model_gbps, self.paper_gbps)


def rel_error(model: float, paper: float) -> float:
    """The model's relative error against the paper's value."""
    return (model - paper) / paper


def role(table: str, kb: str, nic: str = "debug", *, post_hoc: bool = False) -> str:
    """``fitted`` if the profile was fitted to this row, else ``predicted``.

    ``post-hoc`` for every row of a run whose costs were changed from the fitted
    profile (``post_hoc``): such a change is chosen after seeing the paper's
    numbers, so none of its rows is a fit or a prediction.
    """
    if post_hoc:
        return "post-hoc"
    return "fitted" if (table, kb, nic) in FITTED else "predicted"


def size_overrides(size: PaperSize) -> dict[str, int]:
    """The config keys that make a run use ``size``'s frame and buffer."""
    return {"generator.size": size.frame_bytes, "nic.buffer_size": size.buffer_bytes}


def paper_measure(outcome: RunOutcome, first_send: int, last_send: int) -> dict[str, Scalar]:
    """The figures the paper's experiments read from one run (computed in the worker).

    ``send_window_ns``: mean send time over sends ``first_send..last_send``
    (numbered from 1), None if the run had fewer; ``sends_refused``: sends the ring
    refused in the whole run (a refused send skips the copy, so E1 needs none);
    ``interval_realised_ns``: the mean interval between consecutive sends as they
    went (refused ones included), None without a generator or under two sends.
    ``skb_first_ns``/``skb_last_ns``: when the driver handed up its first and last
    skb; ``packet_ns``: the mean time between hand-ups.
    """
    if last_send > SEND_NS_KEPT:  # the generator keeps only the first sends one by one
        raise ValueError(f"E1's window ends at send {last_send}, past {SEND_NS_KEPT} kept")
    machine = outcome.machine
    sends: tuple[int, ...] = ()
    refused = 0
    realised = None
    if isinstance(machine.source, MintTraffic):  # a real NIC makes no system calls
        stats = machine.source.generator.statistics()
        sends, refused = stats.send_ns, stats.refused
        realised = stats.interval_ns_mean()
    window = sends[first_send - 1 : last_send] if len(sends) >= last_send else ()
    driver = machine.driver.statistics()
    first, last = driver.first_handed_up_ns, driver.last_handed_up_ns
    packet_ns = None
    if first is not None and last is not None and driver.frames_handed_up > 1:
        packet_ns = (last - first) / (driver.frames_handed_up - 1)
    return {
        "send_window_ns": sum(window) / len(window) if window else None,
        "sends_refused": refused,
        "interval_realised_ns": realised,
        "skb_first_ns": first,
        "skb_last_ns": last,
        "packet_ns": packet_ns,
    }


def run_paper_points(
    executor: Executor,
    runs: Sequence[Mapping[str, Any]],
    scale: PaperScale,
    costs: Mapping[str, Any] | None = None,
    label: str = "paper",
) -> list[dict[str, Any]]:
    """Run one paper run per entry of ``runs`` (config keys to set); rows in order.

    ``costs`` overrides cost-profile fields (calibration tries candidate values so).
    """
    base = {k: dict(v) for k, v in PAPER_BASE.items()}
    base["costs"].update(costs or {})
    raw = {**base, "sweep": {"runs": [dict(r) for r in runs]}}
    sweep = parse_sweep(raw, f"<paper: {label}>")
    measure = functools.partial(
        paper_measure, first_send=scale.window[0], last_send=scale.window[1]
    )
    table = run_sweep(sweep, executor, measure=measure, label=label)
    return [dict(row) for row in table.rows]


def e1_runs(scale: PaperScale) -> list[dict[str, Any]]:
    """E1's runs: every size, ``sends`` packets at the E1 interval."""
    return [
        {
            **size_overrides(size),
            "generator.count": scale.sends,
            "generator.interval_ns": scale.e1_interval_ns,
        }
        for size in PAPER_SIZES
    ]


def e2_runs(scale: PaperScale, sizes: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """E2's runs: continuous sending at every size (or ``sizes``), then the real NIC."""
    chosen = PAPER_SIZES if sizes is None else [paper_size(kb) for kb in sizes]
    runs: list[dict[str, Any]] = [
        {**size_overrides(size), "generator.count": scale.e2_count, "generator.interval_ns": 0}
        for size in chosen
    ]
    if sizes is None:
        runs.append(
            {
                **size_overrides(paper_size("1.5")),
                "generator.count": scale.e2_count,
                "generator.interval_ns": 0,
                "nic.source": "e1000",
            }
        )
    return runs


def table1_rows(rows: Sequence[Mapping[str, Any]], post_hoc: bool = False) -> list[Table1Row]:
    """Table 1 from E1's run rows (in :func:`e1_runs` order)."""
    out = []
    for size, row in zip(PAPER_SIZES, rows, strict=True):
        if row["send_window_ns"] is None or row["sends_refused"]:
            raise PaperMeasurementError(
                f"E1 at {size.kb} KB: {row['sends_refused']} sends were refused, or fewer "
                f"sends than the window; the interval is too short for the receiver"
            )
        out.append(
            Table1Row(
                size.kb,
                TABLE1_US[size.kb],
                row["send_window_ns"] / 1000,
                role("table1", size.kb, post_hoc=post_hoc),
            )
        )
    return out


def table2_rows(rows: Sequence[Mapping[str, Any]], post_hoc: bool = False) -> list[Table2Row]:
    """Table 2 from E2's run rows (in :func:`e2_runs` order, real NIC last)."""
    out = []
    kinds = [(s, "debug") for s in PAPER_SIZES] + [(paper_size("1.5"), "real")]
    for (size, nic), row in zip(kinds, rows, strict=True):
        packet_ns = row["packet_ns"]
        if packet_ns is None:
            raise PaperMeasurementError(f"E2 at {size.kb} KB ({nic}): fewer than two skbs")
        paper = TABLE2_GBPS[size.kb] if nic == "debug" else TABLE2_REAL_NIC_GBPS
        out.append(
            Table2Row(
                size.kb,
                nic,
                paper,
                size.frame_bits / packet_ns,
                role("table2", size.kb, nic, post_hoc=post_hoc),
                packet_ns,
            )
        )
    return out


def tables(
    executor: Executor,
    scale: PaperScale = FULL,
    costs: Mapping[str, Any] | None = None,
) -> tuple[list[Table1Row], list[Table2Row]]:
    """Run E1 and E2 as one batch (keeping every worker busy); Tables 1 and 2.

    With ``costs`` (fields changed from the profile) every row is ``post-hoc``.
    """
    first, second = e1_runs(scale), e2_runs(scale)
    rows = run_paper_points(executor, first + second, scale, costs, "tables 1 and 2")
    post_hoc = bool(costs)
    return table1_rows(rows[: len(first)], post_hoc), table2_rows(rows[len(first) :], post_hoc)


def table1(
    executor: Executor, scale: PaperScale = FULL, costs: Mapping[str, Any] | None = None
) -> list[Table1Row]:
    """Run E1 and return Table 1 (``post-hoc`` rows with ``costs``)."""
    rows = run_paper_points(executor, e1_runs(scale), scale, costs, "table 1")
    return table1_rows(rows, bool(costs))


def table2(
    executor: Executor, scale: PaperScale = FULL, costs: Mapping[str, Any] | None = None
) -> list[Table2Row]:
    """Run E2 and return Table 2 (``post-hoc`` rows with ``costs``)."""
    rows = run_paper_points(executor, e2_runs(scale), scale, costs, "table 2")
    return table2_rows(rows, bool(costs))
