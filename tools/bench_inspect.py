"""Benchmark: what a seek into a long recorded run costs, with and without checkpoints.

Records one quickstart-like run (``configs/quickstart.toml``, a summary trace,
``--packets`` packets; 100,000 by default) twice, once plain and once with
``run --checkpoints N``, then measures, interleaved (A B C ... A B C ...) so that
the noise of a shared machine falls on all alike, each the median of ``--repeat``
measurements of CPU time (``time.process_time``):

* ``run_off``: the run itself with tracing off, the floor a seek from the start
  cannot beat;
* ``seek_end``: ``inspect --at`` the run's end (the worst case) from the start,
  checked against the recorded trace line by line;
* ``seek_end_noverify``: the same with ``--no-verify`` (tracing off);
* ``seek_end_ckpt``: the same seek starting from the last checkpoint;
* ``seek_mid``, ``seek_mid_ckpt``: half way through the run, without and with;
* ``watch_mid``: ``--watch ring.rdt --to`` half way, from the start (the field read
  after every delivery), to set beside ``seek_mid``.

It also prints what taking the checkpoints cost the recording run
(``record_ckpt`` against ``record``), how many there are and their size. A watch's
own cost is a few per cent, below the noise of one long measurement on a busy
machine, so it is measured once more on a short run (``--watch-packets``), seek and
watch alternated ``3 x --repeat`` times: ``seek_short``, ``watch_short`` and
``watch_overhead_short``.

    python tools/bench_inspect.py [--packets 100000] [--every 100000] [--repeat 3]
                                  [--watch-packets 4000]

Seeks run in this process through the Python API (what the command line runs,
without Python's start-up, about a second here).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mintactors.config import load_config  # noqa: E402
from mintactors.experiments.inspect import (  # noqa: E402
    CHECKPOINT_DIR,
    CheckpointWriter,
    Seeker,
    watch,
)
from mintactors.experiments.run import atomic_outputs, run_config  # noqa: E402

QUICKSTART = ROOT / "configs" / "quickstart.toml"


def cpu(work: Callable[[], object]) -> float:
    """CPU seconds ``work`` takes."""
    began = time.process_time()
    work()
    return time.process_time() - began


def record(out: Path, packets: int, every: int | None) -> float:
    """Record the run into ``out`` (with checkpoints every ``every`` deliveries)."""
    # 5 us apart, so the kernel is idle between packets and checkpoints can be taken
    # (at the quickstart's 3 us the receive path is saturated: driver code is nearly
    # always under way, and a checkpoint needs none).
    config = load_config(QUICKSTART, [f"generator.count={packets}", "generator.interval_ns=5000"])

    def checkpoints(outputs: atomic_outputs) -> CheckpointWriter:
        return CheckpointWriter(out / CHECKPOINT_DIR, every or 1, outputs)

    return cpu(lambda: run_config(config, out, observer=checkpoints if every else None))


def watch_cost(out: Path, packets: int, times: int) -> None:
    """A watch of ``ring.rdt`` over a whole short run against a seek to its end."""
    record(out, packets, None)
    trace = out / "trace.jsonl"
    end = Seeker(trace).recorded.end_ns
    seeks, watches = [], []
    for _ in range(times):
        seeks.append(cpu(lambda: Seeker(trace).seek(f"{end}ns")))
        watches.append(cpu(lambda: watch(Seeker(trace), "ring.rdt")))
    seek, watched = statistics.median(seeks), statistics.median(watches)
    print(f"seek_short={seek:.3f} watch_short={watched:.3f}")
    print(f"watch_overhead_short={watched / seek - 1:.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--packets", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=100_000, help="deliveries per checkpoint")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--watch-packets", type=int, default=4000)
    parser.add_argument(
        "--watch-only", action="store_true", help="only the short run's watch measurement"
    )
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-inspect-"))
    try:
        watch_cost(scratch / "short", args.watch_packets, 3 * args.repeat)
        if args.watch_only:
            return
        plain, saved = scratch / "plain", scratch / "saved"
        print(f"record={record(plain, args.packets, None):.2f}", flush=True)
        print(f"record_ckpt={record(saved, args.packets, args.every):.2f}", flush=True)
        files = list((saved / CHECKPOINT_DIR).glob("*.ckpt"))
        size = sum(f.stat().st_size for f in files)
        print(f"checkpoints={len(files)} checkpoint_bytes={size}", flush=True)
        trace, checked = plain / "trace.jsonl", saved / "trace.jsonl"
        end = Seeker(trace).recorded.end_ns
        off = load_config(QUICKSTART, [f"generator.count={args.packets}", 'simulation.trace="off"'])
        cases: dict[str, Callable[[], object]] = {
            "run_off": lambda: run_config(off),
            "seek_end": lambda: Seeker(trace).seek(f"{end}ns"),
            "seek_end_noverify": lambda: Seeker(trace, verify=False).seek(f"{end}ns"),
            "seek_end_ckpt": lambda: Seeker(checked).seek(f"{end}ns"),
            "seek_mid": lambda: Seeker(trace).seek(f"{end // 2}ns"),
            "seek_mid_ckpt": lambda: Seeker(checked).seek(f"{end // 2}ns"),
            "watch_mid": lambda: watch(Seeker(trace), "ring.rdt", end=f"{end // 2}ns"),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, case in cases.items():
                times[name].append(cpu(case))
                print(f"  {name} {times[name][-1]:.2f}", file=sys.stderr, flush=True)
        for name, values in times.items():
            print(f"{name}={statistics.median(values):.3f}")
        mid, watched = statistics.median(times["seek_mid"]), statistics.median(times["watch_mid"])
        print(f"watch_overhead={watched / mid - 1:.3f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
