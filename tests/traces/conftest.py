"""Small real runs, made once per test session, whose traces the trace tools read."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest

from mintactors.cli.trace import pcap_during_run
from mintactors.config import load_config
from mintactors.experiments.run import RunOutcome, atomic_outputs, run_config
from mintactors.machine import Machine
from tests._paths import CONFIGS

QUICKSTART = CONFIGS / "quickstart.toml"

#: Named scenarios: config overrides of the quickstart.
SCENARIOS: dict[str, tuple[str, ...]] = {
    # a few packets far apart: one handler run per packet, nothing merged
    "sparse": ("generator.count=5",),
    # sends faster than the handler: IPIs merge, runs take several frames
    "merging": ("generator.count=12", "generator.interval_ns=300"),
    # a small ring and socket buffer: drops of both kinds
    "drops": (
        "generator.count=30",
        "generator.interval_ns=200",
        "nic.ring_size=8",
        "socket.rcvbuf=5000",
    ),
    # NAPI: hard IRQs only schedule polls, which clean the ring
    "napi": ('driver.kind="napi"', "generator.count=40", "generator.interval_ns=300"),
    # x86-TSO: every core's stores go through its store buffer (with a NAPI driver)
    "tso": (
        'memory.model="tso"',
        'driver.kind="napi"',
        "generator.count=40",
        "generator.interval_ns=300",
    ),
    # stopped early: packets still in flight, and a random IPI latency
    "cut": (
        "generator.count=30",
        "generator.interval_ns=300",
        "simulation.until_ns=20000",
        'apic.ipi_latency={dist="normal", mean_ns=1000, sd_ns=300, min_ns=200}',
    ),
}

Frame = tuple[int, int, bytes]


@attrs.frozen
class Run:
    """A finished run: its files, results and the frames it generated and delivered."""

    out: Path
    outcome: RunOutcome
    results: dict[str, Any]  # results.json as written
    generated: tuple[Frame, ...]
    delivered: tuple[Frame, ...]

    @property
    def trace(self) -> Path:
        return self.out / "trace.jsonl"

    @property
    def pcap(self) -> Path:
        return self.out / "run.pcap"


def make_run(
    out: Path, overrides: tuple[str, ...], level: str = "full", frames: bool = True
) -> Run:
    """Run the quickstart with ``overrides`` into ``out``, writing a pcap during the run."""
    settings = [f'simulation.trace="{level}"', f"simulation.trace_frames={str(frames).lower()}"]
    config = load_config(QUICKSTART, [*settings, *overrides])
    generated: list[Frame] = []
    delivered: list[Frame] = []

    def hook(outputs: atomic_outputs, machine: Machine) -> None:
        pcap_during_run(out / "run.pcap", "delivered")(outputs, machine)
        recorder = machine.app.on_receive
        assert recorder is not None

        def spy(seq: int, t_ns: int, frame: bytes) -> None:
            delivered.append((seq, t_ns, frame))
            recorder(seq, t_ns, frame)

        machine.app.on_receive = spy
        machine.generator.on_generate = lambda s, t, f: generated.append((s, t, f))

    outcome = run_config(config, out, extra_outputs=hook)
    results = json.loads((out / "results.json").read_text())
    return Run(out, outcome, results, tuple(generated), tuple(delivered))


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Run]:
    """A factory of runs by scenario name (and level), each made once per session."""
    cache: dict[tuple[str, str, bool, int], Run] = {}

    def get(name: str, level: str = "full", frames: bool = True, seed: int = 1) -> Run:
        key = (name, level, frames, seed)
        if key not in cache:
            out = tmp_path_factory.mktemp(f"{name}-{level}-{seed}")
            overrides = (*SCENARIOS[name], f"simulation.seed={seed}")
            cache[key] = make_run(out, overrides, level, frames)
        return cache[key]

    return get
