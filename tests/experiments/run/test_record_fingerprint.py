"""Recorded runs can carry their schedule's fingerprint (issue 13's schedule coverage)."""

from __future__ import annotations

from mintactors.config import load_config
from mintactors.experiments.run import record_run
from tests._paths import CONFIGS

TIE = CONFIGS / "scenarios" / "lost-wakeup-tie.toml"


def fingerprints(policy: str, seeds: range) -> tuple[set[str | None], set[int]]:
    """Fingerprints and tie-break counts of the tie scenario under ``policy``, by seed."""
    found, ties = set(), set()
    for seed in seeds:
        config = load_config(TIE, [f"simulation.seed={seed}", f'simulation.policy="{policy}"'])
        run = record_run(config, fingerprint=True)
        found.add(run.fingerprint)
        ties.add(run.ties_broken)
    return found, ties


def test_fifo_records_one_schedule_and_random_several() -> None:
    """fifo gives the tie scenario one schedule whatever the seed; random gives more."""
    fifo, fifo_ties = fingerprints("fifo", range(1, 6))
    assert (len(fifo), fifo_ties) == (1, {0})
    random, random_ties = fingerprints("random", range(1, 13))
    assert len(random) >= 2
    assert min(random_ties) > 0


def test_fingerprint_is_requested_and_changes_no_result() -> None:
    """Asking for the fingerprint adds it to the record and leaves results.json alone."""
    config = load_config(CONFIGS / "quickstart.toml", ["generator.count=20"])
    plain = record_run(config)
    printed = record_run(config, fingerprint=True)
    assert plain.fingerprint is None
    assert printed.fingerprint is not None
    assert printed.fingerprint == printed.machine.simulation.fingerprint
    assert plain.results == printed.results
