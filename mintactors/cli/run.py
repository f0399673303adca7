"""``mintactors run`` and ``mintactors check``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from mintactors.cli._common import add_config_arguments, load_from_args
from mintactors.cli.trace import pcap_during_run
from mintactors.config import Config, describe_config
from mintactors.errors import ConfigError
from mintactors.experiments.inspect import CHECKPOINT_DIR, CheckpointWriter
from mintactors.experiments.run import ObserverFactory, RunResults, atomic_outputs, run_config
from mintactors.machine import Machine

__all__ = ["add_commands", "cmd_check", "cmd_run", "summary_table"]


def _fmt_us(ns: float | None) -> str:
    return "-" if ns is None else f"{ns / 1000:.3f} us"


def _fmt(value: float | None, unit: str = "", digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def summary_table(results: RunResults) -> str:
    """The human summary of a run's results."""
    dropped = results.dropped
    drop_detail = ", ".join(f"{k} {v}" for k, v in dropped.items())
    lat = results.latency_ns
    ipi = results.ipi
    profile = results.profile
    rate = results.success_rate
    rows = [
        ("sent", str(results.sent)),
        ("delivered", str(results.delivered)),
        ("dropped", f"{sum(dropped.values())}" + (f"  ({drop_detail})" if drop_detail else "")),
        ("in flight", str(results.in_flight)),
        ("reached socket buffer", _fmt(rate * 100 if rate is not None else None, " %", 2)),
        ("IPIs sent / delivered / merged", f"{ipi.sent} / {ipi.delivered} / {ipi.merged}"),
        ("handler runs", str(results.handler_runs)),
        ("send processing time, mean", _fmt_us(results.send_time_ns_mean)),
        ("throughput achieved", _fmt(results.throughput_gbps, " Gbps")),
        ("latency p50 / p99 / max", " / ".join(_fmt_us(v) for v in (lat.p50, lat.p99, lat.max))),
    ]
    oracles = results.oracles
    if oracles:
        broken = [name for name, verdict in oracles.items() if not verdict["ok"]]
        text = (
            "all passed"
            if not broken
            else "VIOLATED: "
            + ", ".join(f"{name} ({oracles[name]['first']['message']})" for name in broken)
        )
        rows.append(("oracles", text))
    width = max(len(k) for k, _ in rows)
    head = (
        f"mintactors {results.mintactors_version}  {results.config_source}  "
        f"(seed {results.seed}, {results.policy}, {profile.name} v{profile.version})\n"
        f"run ended: {results.end.reason} at t = {_fmt_us(results.end.t_ns)}\n"
    )
    return head + "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)


def _progress_bar(config: Config) -> Callable[[Machine, int], None] | None:
    if not sys.stderr.isatty():
        return None
    bar = tqdm(total=config.generator.count, unit="pkt", desc="sending", leave=False)

    def update(machine: Machine, now_ns: int) -> None:
        bar.n = machine.source.sent()
        bar.set_postfix_str(f"t={now_ns / 1e6:.3f} ms", refresh=False)
        bar.refresh()

    return update


def cmd_run(args: argparse.Namespace) -> int:
    """``mintactors run``: one experiment, summary on stdout, files in --out."""
    config = load_from_args(args)
    out = Path(args.out) if args.out else Path("out") / Path(args.config).stem
    extra = None
    if args.pcap:
        extra = pcap_during_run(Path(args.pcap), args.pcap_frames)
    writers: list[CheckpointWriter] = []
    observer = _checkpoints(config, out, args.checkpoints, writers)
    outcome = run_config(
        config, out, progress=_progress_bar(config), extra_outputs=extra, observer=observer
    )
    print(summary_table(outcome.results))
    paths = [str(p) for p in outcome.paths.values()] + ([args.pcap] if args.pcap else [])
    if writers:
        paths.append(f"{out / CHECKPOINT_DIR} ({len(writers[0].taken)} checkpoints)")
    print("outputs: " + ", ".join(paths))
    return 0


def _checkpoints(
    config: Config, out: Path, every: int | None, writers: list[CheckpointWriter]
) -> ObserverFactory | None:
    """``--checkpoints N``: a checkpoint writer, or None; ``writers`` gets the writer made."""
    if every is None:
        return None
    if config.simulation.trace == "off":
        raise ConfigError(
            "--checkpoints",
            str(every),
            "needs a trace to belong to (simulation.trace summary or full, not off)",
        )

    def make(outputs: atomic_outputs) -> CheckpointWriter:
        writer = CheckpointWriter(out / CHECKPOINT_DIR, every, outputs)
        writers.append(writer)
        return writer

    return make


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a number of deliveries, at least 1")
    return value


def cmd_check(args: argparse.Namespace) -> int:
    """``mintactors check``: validate a config and say what it describes."""
    config = load_from_args(args)
    print(f"{args.config}: ok - {describe_config(config)}")
    return 0


def add_commands(subparsers: Any) -> None:
    """Add ``run`` and ``check``."""
    help_text = "run one experiment and write results.json and trace.jsonl"
    run = subparsers.add_parser("run", help=help_text, description=help_text)
    add_config_arguments(run)
    run.set_defaults(func=cmd_run)
    run.add_argument("--seed", type=int, help="override simulation.seed")
    run.add_argument("--out", help="output directory (default: out/<config name>)")
    run.add_argument(
        "--trace", choices=("off", "summary", "full"), help="override simulation.trace"
    )
    run.add_argument("--until", type=int, metavar="NS", help="stop at this virtual time")
    run.add_argument(
        "--pcap", metavar="FILE", help="also write the frames as a nanosecond pcap (virtual time)"
    )
    run.add_argument(
        "--checkpoints",
        type=_positive,
        metavar="N",
        help="save the machine about every N deliveries, so inspect seeks faster",
    )
    run.add_argument(
        "--pcap-frames",
        choices=("delivered", "generated", "both"),
        default="delivered",
        help="which frames --pcap writes (default: delivered)",
    )
    help_text = "validate a config without running it"
    check = subparsers.add_parser("check", help=help_text, description=help_text)
    add_config_arguments(check)
    check.set_defaults(func=cmd_check)
