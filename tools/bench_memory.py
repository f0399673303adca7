"""Benchmark: peak resident memory of the quickstart path against its packet count.

Runs the same path as ``tools/bench_model.py`` (quickstart, tracing off, nothing
dropped) once per ``--packets`` value, each in a fresh process, and prints that
process's peak RSS (``ru_maxrss`` from ``os.wait4``, so each figure is that child's
alone) and the growth per packet between the smallest and the largest run.

    python tools/bench_memory.py [--packets 10000 1000000] [--before REF]

``--before REF`` measures the commit ``REF`` of this repository as well (extracted
with ``git archive`` into a temporary directory).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench_model import ROOT, extract


def peak_rss_kib(tree: Path, packets: int) -> int:
    """Peak RSS, in KiB, of one quickstart run of ``packets`` in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    script = Path(__file__).resolve().parent / "bench_model.py"
    child = subprocess.Popen(
        [sys.executable, str(script), "--worker", "--packets", str(packets)],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"the {packets}-packet run failed ({child.returncode})")
    return usage.ru_maxrss  # KiB on Linux


def report(label: str, tree: Path, counts: list[int]) -> None:
    """Print the peak RSS of each run and the growth per packet."""
    peaks = {n: peak_rss_kib(tree, n) for n in counts}
    for n, kib in peaks.items():
        print(f"{label}peak_rss_mib[{n}]={kib / 1024:.1f}")
    low, high = min(counts), max(counts)
    if high > low:
        per_packet = (peaks[high] - peaks[low]) * 1024 / (high - low)
        print(f"{label}bytes_per_packet={per_packet:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--packets", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--before", metavar="REF", help="also measure commit REF")
    args = parser.parse_args()
    if args.before:
        tree = extract(args.before)
        try:
            report("before_", tree, args.packets)
        finally:
            shutil.rmtree(tree)
    report("", ROOT, args.packets)


if __name__ == "__main__":
    main()
