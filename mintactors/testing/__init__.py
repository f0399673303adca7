"""Small components and helpers for testing models built on mintactors."""

from mintactors.testing._components import Ball, Echo, Fan, Rally, Recorder, Reply, Tick
from mintactors.testing._costs import PINNED_COSTS, pinned_cost_assignments
from mintactors.testing._litmus import (
    LITMUS_TESTS,
    Fence,
    Instruction,
    LitmusTest,
    Load,
    Store,
    Swap,
    litmus_outcomes,
    run_litmus,
)
from mintactors.testing._refusals import example_message, message_kinds_outside, plain_state
from mintactors.testing._trace import read_trace

__all__ = [
    "Ball",
    "Echo",
    "Fan",
    "Fence",
    "Instruction",
    "LITMUS_TESTS",
    "LitmusTest",
    "Load",
    "PINNED_COSTS",
    "Rally",
    "Recorder",
    "Reply",
    "Store",
    "Swap",
    "Tick",
    "example_message",
    "litmus_outcomes",
    "message_kinds_outside",
    "pinned_cost_assignments",
    "plain_state",
    "read_trace",
    "run_litmus",
]
