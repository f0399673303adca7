"""Schedule exploration until an oracle breaks, and byte-for-byte replay of a trace."""

from mintactors.experiments.explore.explore import (
    ExploreOutcome,
    RunVerdict,
    Variation,
    explore,
    jitter_assignment,
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

__all__ = [
    "Divergence",
    "ExploreOutcome",
    "ReplayOutcome",
    "RunVerdict",
    "UntrustedDriver",
    "Variation",
    "explore",
    "jitter_assignment",
    "read_header",
    "replay_config",
    "replay_trace",
    "variations",
]
