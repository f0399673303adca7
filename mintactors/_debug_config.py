"""Config for the debugging features: timing patterns, injections and oracles.

Kept apart from :mod:`mintactors.config` so the main config module stays about the
machine. :func:`check_debugging` runs after the whole file is structured, since its
checks cross tables (a pattern's own keys, the driver variant's step names, the
target core) and read the capture file a replay needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

from mintactors._structure import checked
from mintactors.captures import Capture, CaptureError, read_capture
from mintactors.errors import ConfigError
from mintactors.kernel.patterns import listed_instants
from mintactors.kernel.variants import DRIVER_VARIANTS

if TYPE_CHECKING:
    from mintactors.config import Config

__all__ = [
    "PATTERN_KEYS",
    "InjectConfig",
    "OraclesConfig",
    "check_debugging",
    "describe_timing",
]

#: The [generator] keys each pattern uses beyond count, size, start_ns, flows, addresses.
PATTERN_KEYS: Mapping[str, tuple[str, ...]] = {
    "fixed": ("interval_ns",),
    "list": ("instants_ns",),
    "jitter": ("interval_ns", "jitter_ns", "jitter_dist"),
    "poisson": ("rate_pps",),
    "burst": ("burst_size", "burst_period_ns", "burst_gap_ns"),
    "capture": ("capture", "time_scale"),
}
# Keys that belong to one pattern only; giving them with another is an error.
_OWNED_KEYS = {
    key: pattern for pattern, keys in PATTERN_KEYS.items() for key in keys if key != "interval_ns"
}


@attrs.frozen
class InjectConfig:
    """One ``[[inject]]`` entry: at the ``occurrence``-th ``step``, do ``action``."""

    step: str
    action: Literal["ipi", "packet"]
    occurrence: int = checked(1, lambda v: None if v >= 1 else f"must be at least 1, not {v}")
    delay_ns: int = checked(0, lambda v: None if v >= 0 else f"must be at least 0, not {v}")
    core: int | None = None


@attrs.frozen
class OraclesConfig:
    """The ``[oracles]`` table: bounds of the checks made during every run."""

    stranded_bound_ns: int = checked(
        10_000, lambda v: None if v >= 1 else f"must be at least 1 ns, not {v}"
    )


def _generator_table(config: Config) -> Mapping[str, Any]:
    table = config.raw.get("generator", {})
    return table if isinstance(table, Mapping) else {}


def _check_pattern(config: Config, source: str, base_dir: Path | None) -> Config:
    gen = config.generator
    given = _generator_table(config)
    for key in given:
        owner = _OWNED_KEYS.get(key)
        if owner is not None and owner != gen.pattern:
            raise ConfigError(
                source,
                f"generator.{key}",
                f'is only used with pattern = "{owner}" (pattern is "{gen.pattern}")',
            )
    available: int | None = None
    capture: Capture | None = None
    match gen.pattern:
        case "list":
            if not gen.instants_ns:
                raise ConfigError(
                    source, "generator.instants_ns", 'is required with pattern "list"'
                )
            try:
                listed_instants(gen.instants_ns)
            except ValueError as exc:
                raise ConfigError(source, "generator.instants_ns", str(exc)) from None
            available = len(gen.instants_ns)
        case "poisson" if gen.rate_pps <= 0:
            raise ConfigError(source, "generator.rate_pps", 'must be > 0 with pattern "poisson"')
        case "burst":
            if gen.burst_period_ns <= 0:
                raise ConfigError(
                    source, "generator.burst_period_ns", 'must be > 0 with pattern "burst"'
                )
            if (gen.burst_size - 1) * gen.burst_gap_ns > gen.burst_period_ns:
                raise ConfigError(
                    source,
                    "generator.burst_gap_ns",
                    f"a burst of {gen.burst_size} packets {gen.burst_gap_ns} ns apart is "
                    f"longer than burst_period_ns ({gen.burst_period_ns})",
                )
        case "capture":
            if not gen.capture:
                raise ConfigError(source, "generator.capture", 'is required with pattern "capture"')
            path = Path(gen.capture)
            if base_dir is not None and not path.is_absolute():
                path = base_dir / path
            try:
                capture = read_capture(path)
            except CaptureError as exc:
                raise ConfigError(source, "generator.capture", f"{path}: {exc}") from None
            available = len(capture.frames)
    count = gen.count
    if available is not None:
        if "count" not in given:
            count = available
        elif count > available:
            raise ConfigError(
                source,
                "generator.count",
                f"{count} packets, but the {gen.pattern} pattern has only {available}",
            )
    return attrs.evolve(
        config, generator=attrs.evolve(gen, count=count), capture=capture, base_dir=base_dir
    )


def _check_injections(config: Config, source: str) -> None:
    steps = DRIVER_VARIANTS[config.driver.kind].steps
    machine = config.machine
    target_core = machine.node(machine.target_node).cores[0]
    for i, inject in enumerate(config.inject):
        key = f"inject[{i}]"
        if inject.step not in steps:
            raise ConfigError(
                source,
                f"{key}.step",
                f"driver {config.driver.kind!r} has no step {inject.step!r}; "
                f"allowed: {', '.join(steps)}",
            )
        if inject.core is not None and inject.core != target_core:
            raise ConfigError(
                source,
                f"{key}.core",
                f"the driver's handler runs on core {target_core} (the target node's), "
                f"not core {inject.core}",
            )


def check_debugging(config: Config, source: str, base_dir: Path | None) -> Config:
    """Cross-table checks of patterns and injections; loads a capture.

    Returns the config with ``generator.count`` defaulted for ``list`` and
    ``capture`` patterns (to every instant or frame) and the capture attached.

    Raises:
        ConfigError: naming the key and what is allowed.
    """
    config = _check_pattern(config, source, base_dir)
    _check_injections(config, source)
    return config


def describe_timing(config: Config) -> str:
    """The generator's frames and timing in a few words, for ``mintactors check``."""
    gen = config.generator
    size = f"of {gen.size} B"
    match gen.pattern:
        case "fixed":
            return f"{size} every {gen.interval_ns} ns"
        case "list":
            return f"{size} at {len(gen.instants_ns)} listed instants"
        case "jitter":
            jitter = f"{gen.jitter_dist} jitter {gen.jitter_ns} ns"
            return f"{size} every {gen.interval_ns} ns +- {jitter}"
        case "poisson":
            return f"{size}, Poisson at {gen.rate_pps:g} packets/s"
        case "burst":
            return (
                f"{size} in bursts of {gen.burst_size}, {gen.burst_gap_ns} ns apart, "
                f"every {gen.burst_period_ns} ns"
            )
        case _:
            scale = f" x {gen.time_scale:g}" if gen.time_scale != 1 else ""
            return f"from capture {gen.capture} with its timing{scale}"
