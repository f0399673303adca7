"""Benchmark: wall time of the whole Mint model per packet, with tracing off.

Runs the quickstart machine with a fixed interval wide enough that nothing is dropped
(every packet takes the full path), several times, and prints the median packets per
second, messages per second and messages per packet.

    python tools/bench_model.py [--packets 5000] [--repeat 5] [--size 1514]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from mintactors.config import load_config
from mintactors.experiments import run_config

QUICKSTART = Path(__file__).resolve().parent.parent / "configs" / "quickstart.toml"


def one_run(packets: int, size: int) -> tuple[float, int]:
    config = load_config(
        QUICKSTART,
        [
            f"generator.count={packets}",
            f"generator.size={size}",
            "generator.interval_ns=20000",
            'simulation.trace="off"',
            "nic.buffer_size=16384",
        ],
    )
    start = time.perf_counter()
    outcome = run_config(config)
    elapsed = time.perf_counter() - start
    assert outcome.results["delivered"] == packets
    return elapsed, int(outcome.results["messages_delivered"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--packets", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--size", type=int, default=1514)
    args = parser.parse_args()
    runs = [one_run(args.packets, args.size) for _ in range(args.repeat)]
    elapsed = statistics.median(t for t, _ in runs)
    messages = runs[0][1]
    print(f"model: {args.packets} packets of {args.size} B, median of {args.repeat} runs")
    print(f"wall time:  {elapsed:.3f} s")
    print(f"packets/s:  {args.packets / elapsed:,.0f}")
    print(f"messages/s: {messages / elapsed:,.0f}  ({messages / args.packets:.1f} per packet)")


if __name__ == "__main__":
    main()
