"""The paper reproduction's files and console tables: CSVs, the Figure 9 plot, text.

File formats (fixed; tools and tests rely on them):

* ``table1.csv``: ``size_kb,paper_us,model_us,rel_error,role``
* ``table2.csv``: ``size_kb,nic,paper_gbps,model_gbps,rel_error,role`` (nic is
  ``debug`` for the Mint environment, ``real`` for the real NIC)
* ``fig9.csv``: ``size_kb,interval_ns,interval_realised_ns,sent,skb_built,
  queued_on_socket,success_rate`` (every measured cycle: the planned interval, the
  realised mean interval between sends, the skbs the driver built and handed to
  ``netif_rx``, the skbs the socket queued; success_rate = skb_built / sent, the
  packets that reached the socket buffer, the skb)
* ``fig9_summary.csv``: ``size_kb,table2_proxy_us,model_us,rel_error,role,
  r_squared,rising_points`` (per size, the interval at which the success rate
  reaches 100 % against a *proxy* for the paper's: the paper gives no such values,
  so the per-packet receive time its Table 2 implies stands in)
* ``fig9.png``: success rate against the realised interval, one curve per size.

``rel_error`` is (model - paper) / paper; ``role`` is ``fitted`` for the rows the
cost profile was fitted to, ``predicted`` for the rest, and ``post-hoc`` for every
row of a run whose costs were changed from the fitted profile (a sensitivity run).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from mintactors.experiments.paper.data import implied_packet_ns
from mintactors.experiments.paper.fig9 import Fig9Point, Fig9Summary
from mintactors.experiments.paper.measure import Table1Row, Table2Row
from mintactors.experiments.run import atomic_outputs
from mintactors.experiments.sweep.runner import write_csv

__all__ = [
    "FIG9_COLUMNS",
    "FIG9_SUMMARY_COLUMNS",
    "TABLE1_COLUMNS",
    "TABLE2_COLUMNS",
    "fig9_text",
    "table1_text",
    "table2_text",
    "write_fig9",
    "write_table1",
    "write_table2",
]

TABLE1_COLUMNS = ("size_kb", "paper_us", "model_us", "rel_error", "role")
TABLE2_COLUMNS = ("size_kb", "nic", "paper_gbps", "model_gbps", "rel_error", "role")
FIG9_COLUMNS = (
    "size_kb",
    "interval_ns",
    "interval_realised_ns",
    "sent",
    "skb_built",
    "queued_on_socket",
    "success_rate",
)
FIG9_SUMMARY_COLUMNS = (
    "size_kb",
    "table2_proxy_us",
    "model_us",
    "rel_error",
    "role",
    "r_squared",
    "rising_points",
)
_LABELS = {"1.5": "1.5 KB (MTU)", "8": "8 KB (jumbo)", "16": "16 KB (receive buffer)"}


def write_table1(
    out: Path, rows: Sequence[Table1Row], outputs: atomic_outputs | None = None
) -> Path:
    """``out/table1.csv`` (with ``outputs``: committed with the other files there)."""
    path = out / "table1.csv"
    write_csv(
        path,
        TABLE1_COLUMNS,
        [
            {
                "size_kb": r.size_kb,
                "paper_us": r.paper_us,
                "model_us": f"{r.model_us:.4f}",
                "rel_error": f"{r.rel_error:.4f}",
                "role": r.role,
            }
            for r in rows
        ],
        outputs=outputs,
    )
    return path


def write_table2(
    out: Path, rows: Sequence[Table2Row], outputs: atomic_outputs | None = None
) -> Path:
    """``out/table2.csv`` (with ``outputs``: committed with the other files there)."""
    path = out / "table2.csv"
    write_csv(
        path,
        TABLE2_COLUMNS,
        [
            {
                "size_kb": r.size_kb,
                "nic": r.nic,
                "paper_gbps": r.paper_gbps,
                "model_gbps": f"{r.model_gbps:.3f}",
                "rel_error": f"{r.rel_error:.4f}",
                "role": r.role,
            }
            for r in rows
        ],
        outputs=outputs,
    )
    return path


def _plot(
    path: Path,
    points: Sequence[Fig9Point],
    summaries: Sequence[Fig9Summary],
    outputs: atomic_outputs | None,
) -> None:
    # matplotlib is loaded here, not with the module: it is a second of start-up
    # that every other command would pay (and Ctrl-C during it) for no plot.
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")  # files only: no display, and the same pixels everywhere
    from matplotlib import pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for n, summary in enumerate(summaries):
        kb = summary.size_kb
        mine = [p for p in points if p.size_kb == kb]
        color = f"C{n}"
        ax.plot(
            [p.interval_realised_ns / 1000 for p in mine],
            [p.success_rate * 100 for p in mine],
            marker="o",
            markersize=3,
            color=color,
            label=_LABELS.get(kb, f"{kb} KB"),
        )
        ax.axvline(implied_packet_ns(kb) / 1000, color=color, linestyle=":", linewidth=1)
    ax.set_xlabel("realised mean interval between packets (us)")
    ax.set_ylabel("receive success rate (%)")
    ax.set_ylim(0, 105)
    ax.set_xlim(left=0)
    ax.grid(True, linewidth=0.4, alpha=0.6)
    ax.set_title("Figure 9 on the model: packets reaching the socket buffer (skb)")
    ax.legend(
        title=(
            "packet size\n(dotted: Table 2's per-packet time,\na proxy for the paper's 100 % point)"
        ),
        loc="lower right",
    )
    fig.tight_layout()
    image = io.BytesIO()
    fig.savefig(image, format="png", metadata={"Software": None})
    plt.close(fig)
    _write_bytes(path, image.getvalue(), outputs)


def _write_bytes(path: Path, data: bytes, outputs: atomic_outputs | None) -> None:
    """Write ``data`` to ``path`` under a temporary name, renamed into place on success.

    Raises:
        OutputError: the file cannot be written (nothing is left behind).
    """
    if outputs is not None:
        outputs.open_binary(path).write(data)
        return
    with atomic_outputs(path.parent) as own:
        own.open_binary(path).write(data)


def write_fig9(
    out: Path,
    points: Sequence[Fig9Point],
    summaries: Sequence[Fig9Summary],
    outputs: atomic_outputs | None = None,
) -> tuple[Path, Path, Path]:
    """``out/fig9.csv``, ``out/fig9_summary.csv`` and ``out/fig9.png``.

    With ``outputs`` they are committed, or not, with the other files of that block.
    """
    csv_path = out / "fig9.csv"
    write_csv(
        csv_path,
        FIG9_COLUMNS,
        [
            {
                "size_kb": p.size_kb,
                "interval_ns": p.interval_ns,
                "interval_realised_ns": f"{p.interval_realised_ns:.1f}",
                "sent": p.sent,
                "skb_built": p.skb_built,
                "queued_on_socket": p.queued_on_socket,
                "success_rate": p.success_rate,
            }
            for p in points
        ],
        outputs=outputs,
    )
    summary_path = out / "fig9_summary.csv"
    write_csv(
        summary_path,
        FIG9_SUMMARY_COLUMNS,
        [
            {
                "size_kb": s.size_kb,
                "table2_proxy_us": f"{s.paper_ns / 1000:.4f}",
                "model_us": f"{s.model_ns / 1000:.4f}",
                "rel_error": f"{s.rel_error:.4f}",
                "role": s.role,
                "r_squared": None if s.r_squared is None else f"{s.r_squared:.4f}",
                "rising_points": s.rising_points,
            }
            for s in summaries
        ],
        outputs=outputs,
    )
    png_path = out / "fig9.png"
    _plot(png_path, points, summaries, outputs)
    return csv_path, summary_path, png_path


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join("  " + line.rstrip() for line in lines)


def table1_text(rows: Sequence[Table1Row], sends: int, window: tuple[int, int]) -> str:
    """Table 1 for the console."""
    head = (
        f"Table 1: send-processing time per packet ({sends} sends, "
        f"mean of sends {window[0]}-{window[1]})"
    )
    body = _table(
        ("size", "paper", "model", "error", "role"),
        [
            (
                f"{r.size_kb} KB",
                f"{r.paper_us:.3f} us",
                f"{r.model_us:.4f} us",
                f"{r.rel_error:+.1%}",
                r.role,
            )
            for r in rows
        ],
    )
    return f"{head}\n{body}"


def table2_text(rows: Sequence[Table2Row]) -> str:
    """Table 2 for the console."""
    head = "Table 2: most traffic the driver handles, continuous sending"
    body = _table(
        ("size", "nic", "paper", "model", "error", "role", "model per packet"),
        [
            (
                f"{r.size_kb} KB",
                r.nic,
                f"{r.paper_gbps:.2f} Gb/s",
                f"{r.model_gbps:.2f} Gb/s",
                f"{r.rel_error:+.1%}",
                r.role,
                f"{r.packet_ns / 1000:.3f} us",
            )
            for r in rows
        ],
    )
    return f"{head}\n{body}"


def fig9_text(summaries: Sequence[Fig9Summary], cycle: int) -> str:
    """Figure 9's summary for the console."""
    head = (
        f"Figure 9: interval at which the success rate reaches 100 % ({cycle}-packet cycles)\n"
        "  Table 2 proxy = the per-packet receive time Table 2 implies (frame bits / traffic);\n"
        "  the paper gives no 100 % points as numbers, so this stands in for them"
    )
    body = _table(
        ("size", "Table 2 proxy", "model", "error", "role", "R² of the rise"),
        [
            (
                f"{s.size_kb} KB",
                f"{s.paper_ns / 1000:.3f} us",
                f"{s.model_ns / 1000:.3f} us",
                f"{s.rel_error:+.1%}",
                s.role,
                "-" if s.r_squared is None else f"{s.r_squared:.4f} ({s.rising_points} points)",
            )
            for s in summaries
        ],
    )
    ordered = [s.model_ns for s in summaries] == sorted(s.model_ns for s in summaries)
    order = " < ".join(f"{s.size_kb} KB" for s in summaries)
    tail = f"  100 % points ordered {order}: {'yes' if ordered else 'NO'}"
    return f"{head}\n{body}\n{tail}"
