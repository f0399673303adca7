"""The traffic side of building a machine: frames, instants, injections, replay files.

These turn the config's timing pattern, frames and injections into what the
components take (frame sources, planned instants, the driver's step hook), and
record in the trace header what a replay needs besides the config: the contents
of every file the config names (a capture, a cost-profile file).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from mintactors import names
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
from mintactors.packets import FlowAddress, FrameFactory
from mintactors.runtime import rng_stream

__all__ = [
    "EMBED_LIMIT",
    "PlannedInstants",
    "TrafficPlan",
    "build_injector",
    "generator_instants",
    "plan_traffic",
    "replay_files",
]

#: Files larger than this are recorded in the trace header by digest only.
EMBED_LIMIT = 16 * 1024 * 1024


class PlannedInstants(Iterator[int]):
    """The planned send instants of a config's pattern, counting how many were taken.

    The pattern is a generator, which cannot be saved; the count can. A checkpoint
    keeps it, and a resumed run takes the instants again from a fresh pattern (the
    same seed) and skips that many (:meth:`skip`).
    """

    def __init__(self, instants: Iterator[int]) -> None:
        self._instants = instants
        self.taken = 0

    def __next__(self) -> int:
        instant = next(self._instants)
        self.taken += 1
        return instant

    def skip(self, count: int) -> PlannedInstants:
        """Take ``count`` instants unseen (a resumed run catching up); returns self."""
        for _ in range(count):
            next(self, None)
        return self


def generator_instants(config: Config) -> PlannedInstants:
    """The planned send instants of ``config``'s timing pattern."""
    gen = config.generator
    rng = rng_stream(config.simulation.seed, "generator.pattern")
    return PlannedInstants(gen.timing.instants(gen.start_ns, rng))


@attrs.frozen
class TrafficPlan:
    """The generator's frame sources and, for captures, the receiver's ledger."""

    frames: FrameSource
    injected_frames: FrameSource
    ledger: FrameLedger | None


def _factories(config: Config) -> list[FrameFactory]:
    """One frame factory per flow; flow ``i`` uses source port ``src_port + i``."""
    gen = config.generator
    return [
        FrameFactory(
            gen.size,
            FlowAddress(
                gen.src_mac,
                gen.dst_mac,
                gen.src_ip,
                gen.dst_ip,
                (gen.src_port + i) % 65536,
                gen.dst_port,
            ),
        )
        for i in range(gen.flows)
    ]


def plan_traffic(config: Config) -> TrafficPlan:
    """Where the frames come from: pktgen frames, or the pattern's own (a capture's)."""
    generated = PktgenFrames(_factories(config))
    recorded = config.generator.timing.recorded_frames()
    if recorded is None:
        return TrafficPlan(generated, generated, None)
    ledger = FrameLedger()
    return TrafficPlan(
        RecordedFrames(CaptureFrames(recorded), ledger),
        RecordedFrames(generated, ledger),
        ledger,
    )


def build_injector(config: Config, packet_actor: str | None) -> Injector | None:
    """The driver's step hook for the config's ``[[inject]]`` entries (None if none)."""
    if not config.inject:
        return None
    injections = [Injection(i.step, i.action, i.occurrence, i.delay_ns) for i in config.inject]
    machine = config.machine
    return Injector(
        injections=injections,
        target_apic=names.apic(machine.target_core),
        vector=config.apic.vector,
        source_apic=machine.debug_core,
        generator=packet_actor or "",
    )


def _record(key: str, written: str, data: bytes) -> dict[str, Any]:
    record: dict[str, Any] = {
        "key": key,
        "path": written,
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    if len(data) <= EMBED_LIMIT:
        record["content_b64"] = base64.b64encode(data).decode("ascii")
    return record


def _file_record(key: str, written: str, base_dir: Path) -> dict[str, Any]:
    path = Path(written)
    if not path.is_absolute():
        path = base_dir / path
    return _record(key, written, path.read_bytes())


def replay_files(config: Config) -> list[dict[str, Any]]:
    """The files a rerun of ``config`` reads besides the config, with their contents.

    Paths are as written in the config (relative to its directory); each record
    holds the file's digest and, up to :data:`EMBED_LIMIT` bytes, its contents in
    base64, so ``mintactors replay`` can rerun from the trace alone. A driver loaded
    from a file is recorded under ``driver.kind`` with the bytes that were loaded
    (not the file as it is now), so a replay can run exactly the code that ran;
    ``replay`` runs it only when the user trusts it.
    """
    base_dir = config.base_dir if config.base_dir is not None else Path()
    wanted: list[tuple[str, str]] = []
    if config.costs.profile not in builtin_profiles():
        wanted.append(("costs.profile", config.costs.profile))
    wanted += config.generator.timing.files()
    records = [_file_record(key, path, base_dir) for key, path in wanted]
    driver = config.driver.source
    if driver is not None and driver.path is not None and driver.content is not None:
        records.append(_record("driver.kind", driver.path, driver.content))
    return records
