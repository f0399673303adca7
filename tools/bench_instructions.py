"""Benchmark: instructions per packet on the quickstart path, counted by valgrind.

On a shared, noisy machine a timed run of the same code varies by a quarter from
one run to the next; the number of instructions it executes does not. This tool
runs the model as ``tools/bench_model.py`` measures it (the quickstart path, tracing
off, nothing dropped) under ``valgrind --tool=cachegrind --cache-sim=no`` twice, with
``--small`` and ``--large`` packets, and prints the difference per packet, so that
setup and import cost cancel out:

    python tools/bench_instructions.py [--before REF] [--small 300] [--large 1300]

It prints ``instructions_per_packet=`` and, with ``--before REF`` (this
repository's commit ``REF``, extracted as ``bench_model.py`` does),
``before_instructions_per_packet=`` and ``instruction_ratio=`` (REF's count over
this tree's). Instructions are not time: a hand-off between Trio tasks costs a
system call, and cache misses cost cycles, neither of which is counted here, so
quote it beside ``bench_model.py``'s timed figures, not instead of them. Needs
valgrind (``apt install valgrind``); each run takes about twenty seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_model import OVERRIDES, ROOT, extract

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def instructions(tree: Path, packets: int) -> int:
    """Instructions valgrind counts for one model run of ``packets`` from ``tree``."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--worker",
            str(packets),
        ],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    )
    found = _REFS.search(done.stderr)
    if found is None:
        raise SystemExit(f"valgrind printed no instruction count:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def per_packet(tree: Path, small: int, large: int) -> float:
    """Instructions per packet: the difference of two runs, so setup cancels out."""
    return (instructions(tree, large) - instructions(tree, small)) / (large - small)


def worker(packets: int) -> None:
    """One model run and nothing else (the tree under test is on ``PYTHONPATH``)."""
    from mintactors.config import load_config  # noqa: PLC0415 (the tree under test)
    from mintactors.experiments import run_config  # noqa: PLC0415

    overrides = [f"generator.count={packets}", "generator.size=1514", *OVERRIDES]
    run_config(load_config(Path("configs/quickstart.toml"), overrides))


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        worker(int(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--before", metavar="REF", help="also count commit REF")
    parser.add_argument("--small", type=int, default=300, help="packets of the short run")
    parser.add_argument("--large", type=int, default=1300, help="packets of the long run")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt install valgrind)")
    if args.large <= args.small:
        raise SystemExit("--large must be more packets than --small")
    ours = per_packet(ROOT, args.small, args.large)
    if args.before:
        tree = extract(args.before)
        try:
            before = per_packet(tree, args.small, args.large)
        finally:
            shutil.rmtree(tree)
        print(f"before = {args.before}")
        print(f"before_instructions_per_packet={before:.0f}")
    print(f"instructions_per_packet={ours:.0f}")
    if args.before:
        print(f"instruction_ratio={before / ours:.3f}")


if __name__ == "__main__":
    main()
