"""Experiments: the single run (``run``), and what builds on it: ``sweep``, ``paper``,
``explore`` (with replay)."""

from mintactors.experiments.explore import (
    ExploreOutcome,
    ReplayOutcome,
    RunVerdict,
    Variation,
    explore,
    replay_trace,
    variations,
)
from mintactors.experiments.run import (
    AccountingError,
    RecordedRun,
    RunOutcome,
    RunResults,
    account,
    collect_results,
    record_run,
    run_config,
)

__all__ = [
    "AccountingError",
    "ExploreOutcome",
    "RecordedRun",
    "ReplayOutcome",
    "RunOutcome",
    "RunResults",
    "RunVerdict",
    "Variation",
    "account",
    "collect_results",
    "explore",
    "record_run",
    "replay_trace",
    "run_config",
    "variations",
]
