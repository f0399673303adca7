"""The ``mintactors`` command line.

Exit status: 0 success; 1 the simulation itself failed (a component crashed, or
packet accounting did not add up); 2 bad input (a missing or malformed file, a bad
key or value, a bad option).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from tqdm import tqdm

from mintactors._debug_config import describe_timing
from mintactors._version import __version__
from mintactors.config import Config, load_config
from mintactors.errors import ConfigError, MintactorsError, SimulationError
from mintactors.experiments.run import run_config
from mintactors.machine import Machine
from mintactors.traces.commands import pcap_during_run

__all__ = ["COMMAND_MODULES", "add_config_arguments", "build_parser", "load_from_args", "main"]

Command = Callable[[argparse.Namespace], int]

#: Modules that add subcommands: each defines ``add_commands(subparsers)``. A module
#: not present in this installation is skipped.
COMMAND_MODULES = (
    "mintactors.traces.commands",
    "mintactors.experiments.sweep_commands",
    "mintactors.experiments.paper_commands",
    "mintactors.experiments.explore_commands",
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"mintactors: error: {message}\n")


def _fmt_us(ns: float | None) -> str:
    return "-" if ns is None else f"{ns / 1000:.3f} us"


def _fmt(value: float | None, unit: str = "", digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def summary_table(results: dict[str, Any]) -> str:
    """The human summary of a run's results."""
    dropped = results["dropped"]
    drop_detail = ", ".join(f"{k} {v}" for k, v in dropped.items())
    lat = results["latency_ns"]
    ipi = results["ipi"]
    profile = results["profile"]
    rows = [
        ("sent", str(results["sent"])),
        ("delivered", str(results["delivered"])),
        ("dropped", f"{sum(dropped.values())}" + (f"  ({drop_detail})" if drop_detail else "")),
        ("in flight", str(results["in_flight"])),
        (
            "reached socket buffer",
            _fmt(results["success_rate"] and results["success_rate"] * 100, " %", 2),
        ),
        ("IPIs sent / delivered / merged", f"{ipi['sent']} / {ipi['delivered']} / {ipi['merged']}"),
        ("handler runs", str(results["handler_runs"])),
        ("send processing time, mean", _fmt_us(results["send_time_ns_mean"])),
        ("throughput achieved", _fmt(results["throughput_gbps"], " Gbps")),
        (
            "latency p50 / p99 / max",
            " / ".join(_fmt_us(lat[k]) for k in ("p50", "p99", "max")),
        ),
    ]
    oracles = results.get("oracles")
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
        f"mintactors {results['mintactors_version']}  {results['config_source']}  "
        f"(seed {results['seed']}, {results['policy']}, {profile['name']} v{profile['version']})\n"
        f"run ended: {results['end']['reason']} at t = {_fmt_us(results['end']['t_ns'])}\n"
    )
    return head + "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """The CONFIG argument and ``--set`` that every config-taking command has."""
    parser.add_argument("config", help="experiment config (TOML)")
    parser.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set generator.count=500 (repeatable)",
    )


def load_from_args(args: argparse.Namespace) -> Config:
    """Load ``args.config`` with ``--set`` and the --seed/--trace/--until shortcuts."""
    return _load(args)


def _load(args: argparse.Namespace) -> Config:
    assignments = list(args.set or [])
    if getattr(args, "seed", None) is not None:
        assignments.append(f"simulation.seed={args.seed}")
    if getattr(args, "trace", None) is not None:
        assignments.append(f'simulation.trace="{args.trace}"')
    if getattr(args, "until", None) is not None:
        assignments.append(f"simulation.until_ns={args.until}")
    return load_config(args.config, assignments)


def _progress_bar(config: Config) -> Callable[[Machine, int], None] | None:
    if not sys.stderr.isatty():
        return None
    bar = tqdm(total=config.generator.count, unit="pkt", desc="sending", leave=False)

    def update(machine: Machine, now_ns: int) -> None:
        bar.n = machine.generator.statistics().sent
        bar.set_postfix_str(f"t={now_ns / 1e6:.3f} ms", refresh=False)
        bar.refresh()

    return update


def cmd_run(args: argparse.Namespace) -> int:
    """``mintactors run``: one experiment, summary on stdout, files in --out."""
    config = _load(args)
    out = Path(args.out) if args.out else Path("out") / Path(args.config).stem
    extra = None
    if args.pcap:
        extra = pcap_during_run(Path(args.pcap), args.pcap_frames)
    outcome = run_config(config, out, progress=_progress_bar(config), extra_outputs=extra)
    print(summary_table(outcome.results))
    paths = [str(p) for p in outcome.paths.values()] + ([args.pcap] if args.pcap else [])
    print("outputs: " + ", ".join(paths))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """``mintactors check``: validate a config and say what it describes."""
    config = _load(args)
    gen, nic = config.generator, config.nic
    profile = config.costs_profile
    print(
        f"{args.config}: ok - {gen.count} packets {describe_timing(config)}, "
        f"ring {nic.ring_size} x {nic.buffer_size} B ({nic.no_buffer}), "
        f"driver {config.driver.kind}, profile {profile.name} v{profile.version}"
        + (f", {len(config.inject)} injection(s)" if config.inject else "")
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = _Parser(prog="mintactors", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--version", action="version", version=f"mintactors {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def config_command(name: str, help_text: str, func: Command) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_config_arguments(p)
        p.set_defaults(func=func)
        return p

    run = config_command(
        "run", "run one experiment and write results.json and trace.jsonl", cmd_run
    )
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
        "--pcap-frames",
        choices=("delivered", "generated", "both"),
        default="delivered",
        help="which frames --pcap writes (default: delivered)",
    )
    config_command("check", "validate a config without running it", cmd_check)
    for name in COMMAND_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:  # its parent package is not there either
            found = False
        if found:
            importlib.import_module(name).add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, dispatch, turn errors into messages and exit codes."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # inside the try, so a closed pipe is caught below
        return code
    except ConfigError as exc:
        print(f"mintactors: error: {exc}", file=sys.stderr)
        return 2
    except SimulationError as exc:
        print(f"mintactors: simulation failed: {exc}", file=sys.stderr)
        return 1
    except MintactorsError as exc:
        print(f"mintactors: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mintactors: interrupted; no outputs written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
