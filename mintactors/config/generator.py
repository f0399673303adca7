"""``[generator]``: the interrupt generator's packets, and their timing pattern.

The ``pattern`` key names a timing pattern (:data:`mintactors.kernel.patterns.PATTERNS`);
that pattern's own keys (``interval_ns``, ``rate_pps``, ...) sit in the same table
and end up in ``timing``. Keys of the default pattern (``fixed``: ``interval_ns``)
may stay in a file whose pattern is changed with ``--set``.

``build`` says how the frames are made (:mod:`mintactors.kernel.generator`):
``kernel-loop`` (the default, the paper's implementation: one frame built per flow
and handed to the system call, which patches it per send, so back to back sends
are one Table 1 send time apart) or ``per-send`` (a user-space loop building each
frame before its own system call: ``frame_build_ns`` more per send).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from mintactors.config._structure import field_names, register_hook, structure_variant
from mintactors.errors import ConfigError
from mintactors.fields import (
    MAX_COUNT,
    ParameterError,
    at_least,
    between,
    checked,
    duration_ns,
    internal,
    ipv4_address,
    mac_address,
)
from mintactors.kernel.generator import BuildMode
from mintactors.kernel.patterns import PATTERNS, FixedPattern, TimingPattern
from mintactors.packets import MAX_FRAME_LEN, MIN_FRAME_LEN

__all__ = ["GeneratorConfig", "prepare_generator"]


@attrs.frozen
class GeneratorConfig:
    """The interrupt generator: how many packets, how large, when, which flow."""

    count: int = checked(1000, at_least(1, at_most=MAX_COUNT))
    size: int = checked(1514, between(MIN_FRAME_LEN, MAX_FRAME_LEN))
    start_ns: int = checked(10_000, duration_ns())
    flows: int = checked(1, between(1, 65535))
    src_mac: str = checked("02:00:00:00:00:01", mac_address)
    dst_mac: str = checked("02:00:00:00:00:02", mac_address)
    src_ip: str = checked("10.0.0.1", ipv4_address)
    dst_ip: str = checked("10.0.0.2", ipv4_address)
    src_port: int = checked(9, between(0, 65535))
    dst_port: int = checked(9, between(0, 65535))
    pattern: str = "fixed"
    #: ``kernel-loop``: one frame per flow built once, patched per send (the
    #: paper's call); ``per-send``: a frame built before every send.
    build: BuildMode = "kernel-loop"
    #: The chosen pattern with its keys.
    timing: TimingPattern = internal(factory=FixedPattern, eq=True)


def _generator(value: Any, key: str, source: str) -> GeneratorConfig:
    generator, timing = structure_variant(
        value,
        GeneratorConfig,
        source,
        key,
        selector="pattern",
        registry=PATTERNS,
        shared=field_names(FixedPattern),
    )
    return attrs.evolve(generator, timing=timing)


register_hook(GeneratorConfig, _generator)


def prepare_generator(
    generator: GeneratorConfig, given: Any, source: str, base_dir: Path | None
) -> GeneratorConfig:
    """Check the pattern's keys together, load its files, default ``count``.

    ``count`` defaults to every instant of a ``list`` pattern and every frame of a
    ``capture`` (``given``: the ``[generator]`` table as written, to tell).

    Raises:
        ConfigError: naming the key.
    """
    try:
        timing = generator.timing.prepare(base_dir)
    except ParameterError as exc:
        raise ConfigError(source, f"generator.{exc.key}", exc.problem) from None
    count = generator.count
    available = timing.available()
    if available is not None:
        if not isinstance(given, dict) or "count" not in given:
            count = available
        elif count > available:
            raise ConfigError(
                source,
                "generator.count",
                f"{count} packets, but the {generator.pattern} pattern has only {available}",
            )
    return attrs.evolve(generator, count=count, timing=timing)
