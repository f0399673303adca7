"""Benchmark: sweep throughput with 1 and 2 workers, and `mintactors paper all`'s wall time.

Each figure is the median of ``--repeat`` runs of the command in a fresh process
(as a user would run it), so interpreter start-up and worker start-up count.

    python tools/bench_sweep.py [--repeat 3] [--jobs 1 2] [--packets 5000] [--skip-paper]

The sweep is ``configs/sweeps/interval_size.toml`` (8 runs) with ``--packets``
packets per run (default 5000).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SWEEP = ROOT / "configs" / "sweeps" / "interval_size.toml"


def timed(args: list[str]) -> float:
    """Wall seconds of one command in a fresh process."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "mintactors", *args, "--out", out],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip-paper", action="store_true")
    parser.add_argument("--packets", type=int, default=5000, help="packets per sweep run")
    args = parser.parse_args()
    runs = 8
    sweep = ["sweep", str(SWEEP), "--set", f"generator.count={args.packets}"]
    base = None
    for jobs in args.jobs:
        times = [timed([*sweep, "-j", str(jobs)]) for _ in range(args.repeat)]
        median = statistics.median(times)
        base = base or median
        print(
            f"sweep, {jobs} worker(s): median {median:.2f} s of {args.repeat} "
            f"({', '.join(f'{t:.2f}' for t in times)}), {runs / median:.2f} runs/s, "
            f"speed-up {base / median:.2f}x"
        )
    if not args.skip_paper:
        times = [timed(["paper", "all", "-j", "2"]) for _ in range(args.repeat)]
        print(
            f"paper all, 2 workers: median {statistics.median(times):.1f} s of {args.repeat} "
            f"({', '.join(f'{t:.1f}' for t in times)})"
        )
    print(f"load average afterwards: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
