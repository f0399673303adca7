"""How many runs explore needs to find the lost wakeup, and how long exploring takes.

    python tools/bench_explore.py [--repeats 5] [--starts 20]
    python tools/bench_explore.py --config configs/scenarios/tso-napi-no-mb.toml \
        [--set KEY=VALUE ...] [--policy random|pct|fifo] [--limit 200] --no-timing
    python tools/bench_explore.py --throughput [--runs 100] [--repeats 3]

1. Runs to find: explore configs/scenarios/driver-lost-wakeup.toml from first seeds
   1, 101, 201, ... (``--starts`` of them), policy random, and count the runs up to
   and including the first violation. Deterministic: no timing involved.
2. Wall time: explore the same scenario with the correct ``napi`` driver for 100
   runs (every run passes, so all 100 are made), with 1 and 2 worker processes,
   and the lost-wakeup scenario from seed 1 until found; each ``--repeats`` times,
   reported as the median (the machine is noisy).
3. ``--throughput`` (instead of 1 and 2): runs per second of exploring the scenario
   with the ``napi`` driver (every run passes, so all ``--runs`` are made), policy
   random, with 1 local worker (this process), 2 local worker processes, and a
   ``distributed.LocalCluster`` of 2 worker processes (1 thread each) started once
   beforehand, in a child process (its scheduler's thread would otherwise compete
   with the runs this process makes); the timing includes starting the local pool
   and connecting to the cluster. The three are interleaved within each repeat, so
   a burst of load on a shared machine falls on all of them; each is reported as
   the median.

``--config`` and ``--set`` explore another scenario (the TSO store-buffering bug,
say) or a variant of it; ``--limit`` runs from each first seed at most (a
scenario that never fails is explored that far from every first seed);
``--no-timing`` skips part 2.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from mintactors.experiments.explore.explore import explore, variations
from mintactors.experiments.sweep.executors import DaskExecutor, Executor, LocalExecutor

SCENARIO = str(Path(__file__).resolve().parent.parent / "configs/scenarios/driver-lost-wakeup.toml")


def runs_to_find(
    first_seed: int,
    limit: int = 200,
    config: str = SCENARIO,
    base: tuple[str, ...] = (),
    policy: str = "random",
) -> int | None:
    outcome = explore(config, list(base), variations(limit, first_seed, policy), jobs=1)
    return None if outcome.failing is None else outcome.failing.run + 1


def timed(base: list[str], runs: int, jobs: int) -> float:
    started = time.perf_counter()
    explore(SCENARIO, base, variations(runs, 1, "random"), jobs=jobs)
    return time.perf_counter() - started


def runs_per_second(make: Callable[[], Executor], runs: int) -> float:
    plan = variations(runs, 1, "random")
    started = time.perf_counter()
    outcome = explore(SCENARIO, ['driver.kind="napi"'], plan, executor=make())
    elapsed = time.perf_counter() - started
    assert outcome.failing is None
    assert len(outcome.verdicts) == runs
    return runs / elapsed


def _serve_cluster(conn: Connection) -> None:
    """In a child process: a LocalCluster of 2 worker processes until told to stop."""
    from distributed import LocalCluster  # noqa: PLC0415 (only this measurement needs it)

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        scheduler_port=0,
        dashboard_address=None,
    ) as cluster:
        conn.send(cluster.scheduler_address)
        conn.recv()


def throughput(runs: int, repeats: int) -> None:
    # The cluster's scheduler runs in a process of its own: in this one its event
    # loop would take the interpreter lock from the runs made here (1 worker).
    here, there = multiprocessing.get_context("spawn").Pipe()
    server = multiprocessing.get_context("spawn").Process(target=_serve_cluster, args=(there,))
    server.start()
    try:
        address = here.recv()
        setups: dict[str, Callable[[], Executor]] = {
            "local, 1 worker": lambda: LocalExecutor(1),
            "local, 2 workers": lambda: LocalExecutor(2),
            "LocalCluster, 2 workers": lambda: DaskExecutor(address),
        }
        rates: dict[str, list[float]] = {label: [] for label in setups}
        for _ in range(repeats):
            for label, make in setups.items():
                rates[label].append(runs_per_second(make, runs))
    finally:
        here.send("stop")
        server.join()
    print(f"explore {Path(SCENARIO).name} with driver napi, {runs} runs, policy random:")
    for label, values in rates.items():
        shown = ", ".join(f"{v:.1f}" for v in values)
        print(f"  {label:<24} median {statistics.median(values):6.1f} runs/s  ({shown})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--config", default=SCENARIO)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--policy", default="random")
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--no-timing", action="store_true")
    parser.add_argument("--throughput", action="store_true", help="runs/s: local and Dask")
    parser.add_argument("--runs", type=int, default=100, help="runs per --throughput timing")
    args = parser.parse_args()
    if args.throughput:
        throughput(args.runs, args.repeats)
        return
    base = tuple(args.set)
    needed = [
        runs_to_find(1 + 100 * k, args.limit, args.config, base, args.policy)
        for k in range(args.starts)
    ]
    found = [n for n in needed if n is not None]
    print(
        f"{args.config} {' '.join(base)} ({args.policy}): runs to find the lost wakeup, "
        f"from {args.starts} first seeds: {needed}"
    )
    print(
        (f"  median {statistics.median(found)}, max {max(found)}, " if found else "  ")
        + f"not found within {args.limit}: {needed.count(None)}"
    )
    if args.no_timing:
        return
    for label, base, runs, jobs in (
        ("napi, 100 runs, 1 worker", ['driver.kind="napi"'], 100, 1),
        ("napi, 100 runs, 2 workers", ['driver.kind="napi"'], 100, 2),
        ("lost-wakeup from seed 1 until found, 1 worker", [], 100, 1),
        ("lost-wakeup from seed 1 until found, 2 workers", [], 100, 2),
    ):
        times = [timed(base, runs, jobs) for _ in range(args.repeats)]
        print(
            f"{label}: median {statistics.median(times):.2f} s "
            f"(runs: {', '.join(f'{t:.2f}' for t in times)})"
        )


if __name__ == "__main__":
    main()
