"""The machine builder: a config in, every component wired as an actor out."""

from mintactors.machine._builder import Machine, build_machine
from mintactors.machine._snapshot import (
    RING,
    InFlight,
    MachineSnapshot,
    component_name,
    snapshot_component,
    snapshot_machine,
    snapshot_names,
    snapshot_reader,
)
from mintactors.machine._traffic import (
    PlannedInstants,
    TrafficPlan,
    build_injector,
    generator_instants,
    plan_traffic,
    replay_files,
)

__all__ = [
    "InFlight",
    "Machine",
    "MachineSnapshot",
    "PlannedInstants",
    "RING",
    "TrafficPlan",
    "build_injector",
    "build_machine",
    "component_name",
    "generator_instants",
    "plan_traffic",
    "replay_files",
    "snapshot_component",
    "snapshot_machine",
    "snapshot_names",
    "snapshot_reader",
]
