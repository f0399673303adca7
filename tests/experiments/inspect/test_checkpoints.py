"""Checkpoints: taken at quiescent moments, restored into a fresh build, refused if foreign."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mintactors.config import load_config
from mintactors.experiments.inspect import (
    CHECKPOINT_DIR,
    CheckpointRefused,
    CheckpointWriter,
    Seeker,
    last_change,
    quiescent,
)
from mintactors.experiments.inspect._session import Stop
from mintactors.experiments.run import atomic_outputs, run_config
from tests._paths import CONFIGS

SCENARIOS = [*sorted((CONFIGS / "scenarios").glob("*.toml")), CONFIGS / "real_nic.toml"]


def record(config: Path, out: Path, every: int, *assignments: str) -> CheckpointWriter:
    """Run ``config`` into ``out`` with a checkpoint about every ``every`` deliveries."""
    writers: list[CheckpointWriter] = []

    def make(outputs: atomic_outputs) -> CheckpointWriter:
        writers.append(CheckpointWriter(out / CHECKPOINT_DIR, every, outputs))
        return writers[0]

    run_config(load_config(config, list(assignments)), out, observer=make)
    return writers[0]


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("quickstart")
    # 5 us apart the kernel is idle between packets (at the quickstart's 3 us the
    # receive path is saturated and driver code is nearly always under way).
    writer = record(
        CONFIGS / "quickstart.toml", out, 1000, "generator.count=500", "generator.interval_ns=5000"
    )
    assert len(writer.taken) > 5
    return out / "trace.jsonl"


def end_of(trace: Path) -> int:
    return int(json.loads(trace.read_text().splitlines()[-1])["t_ns"])


@pytest.mark.parametrize("config", SCENARIOS, ids=lambda path: path.stem)
def test_every_scenario_resumes_from_its_checkpoints_to_the_recorded_end(
    config: Path, tmp_path: Path
) -> None:
    """Each driver, pattern and source saves and restores whole: from the last
    checkpoint the re-execution writes the rest of the recorded trace, run_end too."""
    # The first 200 us of each is plenty: the run then ends at its until_ns.
    settings = ('simulation.trace="full"', "simulation.until_ns=200000")
    writer = record(config, tmp_path, 100, *settings)
    # A short run, or a saturated driver whose kernel is idle only in its first
    # microseconds: a checkpoint every 10 deliveries then, or at every idle moment.
    for every in (10, 1):
        if not writer.taken:
            writer = record(config, tmp_path, every, *settings)
    trace = tmp_path / "trace.jsonl"
    assert writer.taken
    seeker = Seeker(trace, trust=True)
    done = seeker.seek(f"{end_of(trace)}ns")
    assert done.reexecution.start == writer.taken[-1]
    assert done.checked == len(trace.read_text().splitlines())


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(fraction=st.floats(0.0, 1.0))
def test_a_seek_from_a_checkpoint_sees_what_a_seek_from_the_start_sees(
    quickstart: Path, fraction: float
) -> None:
    """At any instant the machine is the same, whichever way it was reached."""
    at = f"{round(end_of(quickstart) * fraction)}ns"
    fast = Seeker(quickstart).seek(at)
    slow = Seeker(quickstart, checkpoints=False).seek(at)
    assert fast.snapshot == slow.snapshot
    assert slow.reexecution.start is None


def test_checkpoints_are_taken_only_where_no_driver_code_runs(quickstart: Path) -> None:
    """Each checkpoint is at the first quiescent moment after its due delivery: the
    driver runs no code there, and they are at least the interval apart."""
    index = json.loads((quickstart.parent / CHECKPOINT_DIR / "index.json").read_text())
    taken = [entry["delivered"] for entry in index["checkpoints"]]
    assert taken[0] >= 1000
    assert all(later - earlier >= 1000 for earlier, later in itertools.pairwise(taken))
    seeker = Seeker(quickstart, verify=False, checkpoints=False)
    for entry in index["checkpoints"][:3]:
        machine = seeker.reexecute(Stop(after=entry["delivered"])).machine
        assert quiescent(machine)


def test_the_violation_is_found_from_a_checkpoint_as_from_the_start(tmp_path: Path) -> None:
    """The search for the first violation starts from the last checkpoint taken before
    any was found; the machine shown is the same."""
    writer = record(
        CONFIGS / "scenarios" / "lost-wakeup-regression.toml",
        tmp_path,
        5,
        'simulation.trace="full"',
    )
    assert writer.taken
    trace = tmp_path / "trace.jsonl"
    fast = Seeker(trace).seek("violation")
    slow = Seeker(trace, checkpoints=False).seek("violation")
    assert fast.snapshot == slow.snapshot
    assert fast.instant == slow.instant
    assert fast.reexecution.start is not None


def test_the_last_change_is_found_stretch_by_stretch_backwards(quickstart: Path) -> None:
    """The reverse step over checkpoints finds what a watch from the start finds."""
    target = f"{end_of(quickstart) // 2}ns"
    fast = last_change(Seeker(quickstart), "ring.rdt", target)
    slow = last_change(Seeker(quickstart, checkpoints=False), "ring.rdt", target)
    assert fast.changes == slow.changes
    assert fast.changes
    sparse = last_change(Seeker(quickstart), "memory.registers.ims", target)
    assert sparse.changes == ()
    assert sparse.segments > 1  # it had to go back to the start to be sure


def test_a_checkpoint_signed_with_another_key_is_never_loaded(
    quickstart: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading a pickle runs code: one this machine did not sign is refused first."""
    monkeypatch.setenv("MINTACTORS_STATE_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(CheckpointRefused, match="not signed with this machine's checkpoint key"):
        Seeker(quickstart).seek(f"{end_of(quickstart)}ns")
    assert Seeker(quickstart, checkpoints=False).seek("1us").snapshot.t_ns == 1000


def test_checkpoints_of_another_run_are_ignored_with_a_note(
    quickstart: Path, tmp_path: Path
) -> None:
    """A trace beside checkpoints written for another config re-executes from the start."""
    run_config(load_config(CONFIGS / "quickstart.toml", ["generator.count=5"]), tmp_path)
    (tmp_path / CHECKPOINT_DIR).symlink_to(quickstart.parent / CHECKPOINT_DIR)
    seeker = Seeker(tmp_path / "trace.jsonl")
    assert seeker.checkpoints is None
    assert any("another run" in note for note in seeker.notes)
