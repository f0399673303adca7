"""Schedule exploration until an oracle breaks, and byte-for-byte replay of a trace."""

from mintactors.experiments.explore.coverage import Coverage, PctBound, pct_bound
from mintactors.experiments.explore.explore import (
    ExploreOutcome,
    ExploreRunFailed,
    ExploreTask,
    RunVerdict,
    Variation,
    explore,
    jitter_assignment,
    run_task,
    variations,
)
from mintactors.experiments.explore.replay import (
    Divergence,
    ReplayOutcome,
    UntrustedDriver,
    read_header,
    replay_config,
    replay_trace,
)
from mintactors.experiments.explore.runs_csv import RUNS_COLUMNS, RUNS_CSV, runs_csv_text

__all__ = [
    "Coverage",
    "Divergence",
    "ExploreOutcome",
    "ExploreRunFailed",
    "ExploreTask",
    "PctBound",
    "RUNS_COLUMNS",
    "RUNS_CSV",
    "ReplayOutcome",
    "RunVerdict",
    "UntrustedDriver",
    "Variation",
    "explore",
    "jitter_assignment",
    "pct_bound",
    "read_header",
    "replay_config",
    "replay_trace",
    "run_task",
    "runs_csv_text",
    "variations",
]
