"""``mintactors run`` and ``mintactors check``."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from mintactors.cli._common import add_config_arguments, load_from_args
from mintactors.cli.sweep import confirmed_sweep
from mintactors.cli.trace import pcap_during_run
from mintactors.config import Config, describe_config, read_toml
from mintactors.errors import ConfigError
from mintactors.experiments.inspect import CHECKPOINT_DIR, CheckpointWriter
from mintactors.experiments.progress import Progress
from mintactors.experiments.run import (
    ObserverFactory,
    OutputError,
    RunResults,
    atomic_outputs,
    run_config,
)
from mintactors.experiments.sweep.spec import CONFIRM_RUNS, point_config
from mintactors.machine import Machine

__all__ = ["add_commands", "cmd_check", "cmd_run", "summary_table"]


def _fmt_us(ns: float | None) -> str:
    return "-" if ns is None else f"{ns / 1000:.3f} us"


def _fmt(value: float | None, unit: str = "", digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def _ipi_row(results: RunResults, injected: int) -> str:
    """IPIs sent / delivered / merged, with injected IPIs shown beside the sent ones.

    An ``[[inject]]`` IPI reaches the target's APIC without the debug-support core
    sending it, so without the note delivered would exceed sent.
    """
    ipi = results.ipi
    sent = f"{ipi.sent} + {injected} injected" if injected else str(ipi.sent)
    return f"{sent} / {ipi.delivered} / {ipi.merged}"


def summary_table(results: RunResults, injected_ipis: int = 0) -> str:
    """The human summary of a run's results.

    Args:
        results: the run's results.
        injected_ipis: IPIs fired by ``[[inject]]`` entries (shown beside those sent).
    """
    dropped = results.dropped
    drop_detail = ", ".join(f"{k} {v}" for k, v in dropped.items())
    lat = results.latency_ns
    profile = results.profile
    sent = results.sent
    injected_packets = int(results.statistics.get("generator", {}).get("injected", 0) or 0)

    def share(count: int) -> str:
        return f"{count}  ({count / sent:.2%} of sent)" if sent else str(count)

    rows = [
        ("sent", f"{sent}" + (f"  ({injected_packets} injected)" if injected_packets else "")),
        ("delivered", str(results.delivered)),
        ("dropped", f"{sum(dropped.values())}" + (f"  ({drop_detail})" if drop_detail else "")),
        ("in flight", str(results.in_flight)),
        ("skbs built by the driver", share(results.skb_built)),
        ("skbs queued on the socket", share(results.queued_on_socket)),
        ("IPIs sent / delivered / merged", _ipi_row(results, injected_ipis)),
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


@contextlib.contextmanager
def _progress(config: Config) -> Iterator[Callable[[Machine, int], None]]:
    """Packets sent so far and the virtual time, on stderr (see experiments.progress)."""
    with Progress("sending", config.generator.count, "packets") as progress:

        def update(machine: Machine, now_ns: int) -> None:
            progress.update(machine.source.sent(), f"t = {now_ns / 1e6:.3f} ms")

        yield update


def _violated(results: RunResults) -> list[str]:
    return [name for name, verdict in results.oracles.items() if not verdict["ok"]]


def _check_pcap_path(path: Path) -> None:
    """Refuse a --pcap path whose directory is missing before anything runs."""
    parent = path.parent
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise OutputError(path, f"the directory {parent} {what} (it is not created)")


def cmd_run(args: argparse.Namespace) -> int:
    """``mintactors run``: one experiment, summary on stdout, files in --out.

    Exit status 1 when an oracle is violated (the summary says which), unless
    --allow-violations.
    """
    config = load_from_args(args)
    out = Path(args.out) if args.out else Path("out") / Path(args.config).stem
    extra = None
    if args.pcap:
        _check_pcap_path(Path(args.pcap))
        extra = pcap_during_run(Path(args.pcap), args.pcap_frames)
    writers: list[CheckpointWriter] = []
    observer = _checkpoints(config, out, args.checkpoints, writers)
    with _progress(config) as progress:
        outcome = run_config(config, out, progress=progress, extra_outputs=extra, observer=observer)
    injector = outcome.machine.injector
    print(summary_table(outcome.results, injector.ipis_injected if injector else 0))
    paths = [str(p) for p in outcome.paths.values()] + ([args.pcap] if args.pcap else [])
    if writers:
        paths.append(f"{out / CHECKPOINT_DIR} ({len(writers[0].taken)} checkpoints)")
    print("outputs: " + ", ".join(paths))
    broken = _violated(outcome.results)
    if broken and not args.allow_violations:
        sys.stdout.flush()
        print(
            f"mintactors: oracle violated: {', '.join(broken)} (exit status 1; "
            "--allow-violations exits 0)",
            file=sys.stderr,
        )
        return 1
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
    """``mintactors check``: validate a config (or every run of a sweep) and describe it."""
    raw = read_toml(args.config, list(args.set or []))
    if "sweep" in raw:
        sweep = confirmed_sweep(args.config, list(args.set or []), args.yes)
        first = point_config(sweep, sweep.points[0])
        runs = len(sweep.points)
        print(
            f"{args.config}: ok - a sweep of {runs} run{'s' * (runs != 1)} over "
            f"{', '.join(sweep.keys)}, every run's config checked; "
            f"run 0: {describe_config(first)}"
        )
        return 0
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
        "--allow-violations",
        action="store_true",
        help="exit 0 even when an oracle is violated (default: exit 1)",
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
    help_text = "validate a config, or every run of a sweep config, without running it"
    check = subparsers.add_parser("check", help=help_text, description=help_text)
    add_config_arguments(check)
    check.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help=f"check a sweep of more than {CONFIRM_RUNS:,} runs without asking",
    )
    check.set_defaults(func=cmd_check)
