"""Experiments: single runs now; sweeps, the paper's evaluation and exploration build on them."""

from mintactors.experiments.results import AccountingError, account, collect_results, percentile
from mintactors.experiments.run import RunOutcome, run_config

__all__ = [
    "AccountingError",
    "RunOutcome",
    "account",
    "collect_results",
    "percentile",
    "run_config",
]
