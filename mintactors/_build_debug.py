"""The debugging features' share of building a machine from a config.

:func:`mintactors.machine.build_machine` calls these to turn the config's timing
pattern, capture and injections into the generator's instants and frame sources
and the driver's step hook, and to record in the trace header what a replay needs
besides the config (the capture's and a profile file's contents).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import attrs

from mintactors.config import Config
from mintactors.costs import builtin_profiles
from mintactors.kernel.frames import (
    CaptureFrames,
    FrameLedger,
    FrameSource,
    PktgenFrames,
    RecordedFrames,
)
from mintactors.kernel.injection import Injection, Injector
from mintactors.kernel.patterns import (
    burst_instants,
    capture_instants,
    fixed_instants,
    jittered_instants,
    listed_instants,
    poisson_instants,
)
from mintactors.packets import FrameFactory
from mintactors.runtime import rng_stream

__all__ = ["TrafficPlan", "build_injector", "generator_instants", "plan_traffic", "replay_files"]

#: Files larger than this are recorded in the trace header by digest only.
EMBED_LIMIT = 16 * 1024 * 1024


def generator_instants(config: Config) -> Iterator[int]:
    """The planned send instants of ``config``'s timing pattern."""
    gen = config.generator
    rng = rng_stream(config.simulation.seed, "generator.pattern")
    match gen.pattern:
        case "fixed":
            return fixed_instants(gen.start_ns, gen.interval_ns)
        case "list":
            return listed_instants(gen.instants_ns)
        case "jitter":
            return jittered_instants(
                gen.start_ns, gen.interval_ns, gen.jitter_ns, gen.jitter_dist, rng
            )
        case "poisson":
            return poisson_instants(gen.start_ns, gen.rate_pps, rng)
        case "burst":
            return burst_instants(
                gen.start_ns, gen.burst_size, gen.burst_period_ns, gen.burst_gap_ns
            )
        case "capture":
            assert config.capture is not None, "config was not loaded through parse_config"
            return capture_instants(config.capture.timestamps_ns, gen.start_ns, gen.time_scale)
        case other:
            raise ValueError(f"unknown pattern {other!r}")


@attrs.frozen
class TrafficPlan:
    """The generator's frame sources and, for captures, the receiver's ledger."""

    frames: FrameSource
    injected_frames: FrameSource
    ledger: FrameLedger | None


def plan_traffic(config: Config, factories: Sequence[FrameFactory]) -> TrafficPlan:
    """Where the generator's frames come from: pktgen frames, or the capture's."""
    generated = PktgenFrames(factories)
    if config.generator.pattern != "capture":
        return TrafficPlan(generated, generated, None)
    assert config.capture is not None, "config was not loaded through parse_config"
    ledger = FrameLedger()
    return TrafficPlan(
        RecordedFrames(CaptureFrames(config.capture.frames), ledger),
        RecordedFrames(generated, ledger),
        ledger,
    )


def build_injector(config: Config, target_apic: str, source_apic: int) -> Injector | None:
    """The driver's step hook for the config's ``[[inject]]`` entries (None if none)."""
    if not config.inject:
        return None
    injections = [Injection(i.step, i.action, i.occurrence, i.delay_ns) for i in config.inject]
    return Injector(
        injections=injections,
        target_apic=target_apic,
        vector=config.apic.vector,
        source_apic=source_apic,
        generator="generator",
    )


def _file_record(key: str, written: str, base_dir: Path) -> dict[str, Any]:
    path = Path(written)
    if not path.is_absolute():
        path = base_dir / path
    data = path.read_bytes()
    record: dict[str, Any] = {
        "key": key,
        "path": written,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    if len(data) <= EMBED_LIMIT:
        record["content_b64"] = base64.b64encode(data).decode("ascii")
    return record


def replay_files(config: Config) -> list[dict[str, Any]]:
    """The files a rerun of ``config`` reads besides the config, with their contents.

    Paths are as written in the config (relative to its directory); each record
    holds the file's digest and, up to :data:`EMBED_LIMIT` bytes, its contents in
    base64, so ``mintactors replay`` can rerun from the trace alone.
    """
    base_dir = config.base_dir if config.base_dir is not None else Path()
    records: list[dict[str, Any]] = []
    profile = config.costs.profile
    if profile not in builtin_profiles():
        records.append(_file_record("costs.profile", profile, base_dir))
    if config.generator.pattern == "capture":
        records.append(_file_record("generator.capture", config.generator.capture, base_dir))
    return records
