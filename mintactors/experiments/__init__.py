"""Experiments: single runs, their oracles, exploration and replay; sweeps build on them."""

from mintactors.experiments.explore import (
    ExploreOutcome,
    RunVerdict,
    Variation,
    explore,
    variations,
)
from mintactors.experiments.oracles import ORACLES, OracleMonitor, Violation
from mintactors.experiments.record import RecordedRun, record_run
from mintactors.experiments.replay import ReplayOutcome, replay_trace
from mintactors.experiments.results import AccountingError, account, collect_results, percentile
from mintactors.experiments.run import RunOutcome, run_config

__all__ = [
    "AccountingError",
    "ExploreOutcome",
    "ORACLES",
    "OracleMonitor",
    "RecordedRun",
    "ReplayOutcome",
    "RunOutcome",
    "RunVerdict",
    "Variation",
    "Violation",
    "account",
    "collect_results",
    "explore",
    "percentile",
    "record_run",
    "replay_trace",
    "run_config",
    "variations",
]
