"""Benchmark: time and memory of the trace tools on a large full-level trace.

Makes (or reuses) a full trace of the quickstart with many packets, then runs each
``mintactors trace ...`` command on it in a fresh interpreter, several times, and
prints the median wall time, the median peak resident memory of the process, and
the same for an interpreter that only imports the CLI (the floor every command
pays before reading a byte).

    python tools/bench_traces.py [--count 20000] [--repeat 5] [--trace PATH] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Runs one CLI command in this fresh interpreter and reports its cost on stderr.
CHILD = """
import json, resource, sys, time, contextlib, io
start = time.perf_counter()
from mintactors.cli import main
imported = time.perf_counter()
argv = sys.argv[1:]
with contextlib.redirect_stdout(io.StringIO()):
    status = main(argv) if argv else 0
end = time.perf_counter()
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"status": status, "seconds": end - imported, "peak_mib": peak_kib / 1024}),
      file=sys.stderr)
"""


def measure(argv: list[str], repeat: int) -> dict[str, float]:
    """Median seconds (after imports) and peak RSS (MiB) of ``mintactors ARGV``."""
    seconds, peaks = [], []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", CHILD, *argv],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        report = json.loads(done.stderr.strip().splitlines()[-1])
        if report["status"] not in (0, 1):
            raise SystemExit(f"mintactors {' '.join(argv)} failed: {done.stderr}")
        seconds.append(report["seconds"])
        peaks.append(report["peak_mib"])
    return {"seconds": statistics.median(seconds), "peak_mib": statistics.median(peaks)}


def make_trace(count: int, out: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "mintactors",
            "run",
            "configs/quickstart.toml",
            "--trace",
            "full",
            "--set",
            f"generator.count={count}",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    return out / "trace.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000, help="packets in the run")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--trace", type=Path, help="use this trace instead of making one")
    parser.add_argument("--out", type=Path, help="where exports go (default: a temp dir)")
    args = parser.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="bench-traces-"))
    trace = args.trace or make_trace(args.count, work / "run")
    with trace.open("rb") as stream:
        lines = sum(1 for _ in stream)
    size_mib = trace.stat().st_size / 2**20
    print(f"trace: {trace}  {lines} lines, {size_mib:.1f} MiB; median of {args.repeat} runs")
    commands = {
        "(import only)": [],
        "trace summary": ["trace", "summary", str(trace)],
        "trace events --kind PacketDropped": [
            "trace",
            "events",
            str(trace),
            "--kind",
            "PacketDropped",
            "--json",
        ],
        "trace packet <last>": ["trace", "packet", str(trace), str(args.count - 1)],
        "trace export perfetto": [
            "trace",
            "export",
            "perfetto",
            str(trace),
            "-o",
            str(work / "trace.json"),
        ],
        "trace diff (itself)": ["trace", "diff", str(trace), str(trace)],
    }
    for name, argv in commands.items():
        result = measure(argv, args.repeat)
        rate = lines / result["seconds"] / 1e6 if argv and result["seconds"] else 0.0
        print(
            f"  {name:<36} {result['seconds']:7.2f} s  {result['peak_mib']:6.1f} MiB peak RSS"
            + (f"  ({rate:.2f} M lines/s)" if argv else "")
        )


if __name__ == "__main__":
    main()
