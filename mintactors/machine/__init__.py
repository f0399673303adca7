"""The machine builder: a config in, every component wired as an actor out."""

from mintactors.machine._builder import Machine, build_machine
from mintactors.machine._traffic import (
    TrafficPlan,
    build_injector,
    generator_instants,
    plan_traffic,
    replay_files,
)

__all__ = [
    "Machine",
    "TrafficPlan",
    "build_injector",
    "build_machine",
    "generator_instants",
    "plan_traffic",
    "replay_files",
]
