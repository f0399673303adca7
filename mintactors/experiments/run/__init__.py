"""One run of one config: the pipeline, its results record and its output files.

Sweeps, the paper's experiments and exploration all build on this.
"""

from mintactors.experiments.run._pipeline import (
    RUN_OUTPUTS,
    ObserverFactory,
    RecordedRun,
    RunInterrupted,
    RunObserver,
    RunOutcome,
    config_echo,
    record_run,
    run_config,
)
from mintactors.experiments.run.outputs import (
    OutputError,
    atomic_outputs,
    claimed_directory,
    prune_outputs,
    write_json,
)
from mintactors.experiments.run.results import (
    Accounting,
    AccountingError,
    IpiCounts,
    LatencySummary,
    ProfileId,
    RunEnd,
    RunResults,
    account,
    collect_results,
)

__all__ = [
    "Accounting",
    "AccountingError",
    "IpiCounts",
    "LatencySummary",
    "ObserverFactory",
    "OutputError",
    "ProfileId",
    "RUN_OUTPUTS",
    "RecordedRun",
    "RunObserver",
    "RunEnd",
    "RunInterrupted",
    "RunOutcome",
    "RunResults",
    "account",
    "atomic_outputs",
    "claimed_directory",
    "collect_results",
    "config_echo",
    "prune_outputs",
    "record_run",
    "run_config",
    "write_json",
]
