"""Schedule fingerprints: the order of deliveries, as one hash, and the hand-off count."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from mintactors import RunResult, Simulation, TraceSink
from mintactors.runtime import ScheduleFingerprint, fingerprint_of
from mintactors.testing import Ball, Echo, Fan, Rally, Recorder, Tick

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from tests.runtime.test_fingerprint import tied_run
print(tied_run(sys.argv[1], int(sys.argv[2])).fingerprint)
"""


def tied_run(
    policy: str, seed: int, *, scale: int = 1, trace: io.StringIO | None = None
) -> RunResult:
    """A fan-out to eight echoes whose replies tie at the collector; delays times ``scale``."""
    names = [f"echo{i}" for i in range(8)]
    sim = Simulation(
        seed=seed,
        policy=policy,
        fingerprint=True,
        trace=TraceSink(trace) if trace is not None else None,
    )
    sim.add_actor("fan", Fan(tuple(names), delay_ns=10 * scale))
    for i, name in enumerate(names):
        sim.add_actor(name, Echo(name, "sink", delay_ns=(i % 3) * scale))
    sim.add_actor("sink", Recorder())
    sim.post("fan", Tick("go"))
    sim.post("fan", Tick("again"), at_ns=5 * scale)
    return sim.run_sync()


def test_fifo_gives_one_fingerprint_across_seeds() -> None:
    """With ties broken in send order, the seed cannot change the schedule."""
    results = [tied_run("fifo", seed) for seed in range(10)]
    assert len({r.fingerprint for r in results}) == 1
    assert {r.ties_broken for r in results} == {0}


def test_random_gives_many_fingerprints_across_seeds() -> None:
    """Seeded random tie-breaks give (almost) a different schedule per seed."""
    results = [tied_run("random", seed) for seed in range(20)]
    assert len({r.fingerprint for r in results}) >= 15
    assert all(r.ties_broken > 0 for r in results)


def test_same_seed_same_fingerprint_across_processes_and_hash_seeds() -> None:
    """The fingerprint depends on neither the process nor PYTHONHASHSEED."""
    outputs = set()
    for hash_seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, "random", "7"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=ROOT,
        )
        outputs.add(done.stdout.strip())
    assert outputs == {tied_run("random", 7).fingerprint}


def test_timings_that_keep_the_order_keep_the_fingerprint() -> None:
    """Doubling every delay moves every delivery but reorders none: same fingerprint."""
    assert tied_run("random", 3).fingerprint == tied_run("random", 3, scale=2).fingerprint


def test_swapping_two_deliveries_changes_the_fingerprint() -> None:
    """Any change of order changes the hash, even between the same two deliveries."""
    a = ("driver", "InterruptEntry", "apic1")
    b = ("app", "TaskDone", "cpu1")
    c = ("socket", "Recv", "app")
    assert fingerprint_of([a, b, c]) != fingerprint_of([b, a, c])
    assert fingerprint_of([a, b, c]) != fingerprint_of([a, c, b])
    assert fingerprint_of([a, b]) != fingerprint_of([a, b, b])


def test_the_sender_is_part_of_the_schedule() -> None:
    """The same kind reaching the same actor from another sender is another schedule."""
    ring = [("memory", "MemoryWrite", "ring"), ("memory", "MemoryWrite", "driver")]
    assert fingerprint_of(ring) != fingerprint_of(ring[::-1])


def test_fingerprint_is_recomputed_from_a_full_trace() -> None:
    """The fingerprint folds exactly the (actor, kind, src) of each delivery line, in order."""
    out = io.StringIO()
    result = tied_run("random", 5, trace=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    deliveries = [(e["actor"], e["kind"], e["src"]) for e in lines if "src" in e]
    assert len(deliveries) == result.delivered
    assert fingerprint_of(deliveries) == result.fingerprint


def test_fingerprint_is_off_by_default() -> None:
    """A plain simulation records no fingerprint."""
    sim = Simulation()
    sim.add_actor("ping", Rally("pong", 100, 4))
    sim.add_actor("pong", Rally("ping", 50, 4))
    sim.post("ping", Ball(0))
    assert sim.run_sync().fingerprint is None
    assert sim.fingerprint is None


def test_fingerprint_is_sixteen_hex_digits() -> None:
    """The fingerprint is a 64-bit value written as 16 lowercase hex digits."""
    fingerprint = tied_run("fifo", 1).fingerprint
    assert fingerprint is not None
    assert len(fingerprint) == 16
    assert int(fingerprint, 16) >= 0
    assert fingerprint == fingerprint.lower()
    assert ScheduleFingerprint().hexdigest() != fingerprint


def test_handoffs_count_deliveries_to_another_actors_task() -> None:
    """A rally switches task on every delivery; a burst to one actor switches once."""
    sim = Simulation()
    sim.add_actor("ping", Rally("pong", 100, 4))
    sim.add_actor("pong", Rally("ping", 50, 4))
    sim.post("ping", Ball(0))
    result = sim.run_sync()
    assert (result.delivered, result.handoffs) == (5, 5)

    sink = Recorder()
    sim = Simulation()
    sim.add_actor("sink", sink)
    for t in range(6):
        sim.post("sink", Tick(str(t)), at_ns=t)
    result = sim.run_sync()
    assert (result.delivered, result.handoffs) == (6, 1)
