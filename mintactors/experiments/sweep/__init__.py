"""Sweeps: one config, many runs with some keys set to other values, on any executor."""

from mintactors.experiments.sweep.executors import (
    EXECUTOR_NAMES,
    DaskExecutor,
    Executor,
    ExecutorError,
    LocalExecutor,
    default_jobs,
    make_executor,
)
from mintactors.experiments.sweep.runner import (
    SweepRunFailed,
    SweepTable,
    flatten_results,
    run_sweep,
    write_csv,
)
from mintactors.experiments.sweep.spec import Sweep, SweepPoint, load_sweep, parse_sweep

__all__ = [
    "DaskExecutor",
    "EXECUTOR_NAMES",
    "Executor",
    "ExecutorError",
    "LocalExecutor",
    "Sweep",
    "SweepPoint",
    "SweepRunFailed",
    "SweepTable",
    "default_jobs",
    "flatten_results",
    "load_sweep",
    "make_executor",
    "parse_sweep",
    "run_sweep",
    "write_csv",
]
