"""``[driver]`` and ``[[inject]]``: the driver, and interrupts fired at its steps."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import attrs

from mintactors.errors import ConfigError
from mintactors.fields import MAX_COST_NS, at_least, between, checked, duration_ns, internal
from mintactors.kernel.drivers import SHELL_STEPS, DriverLoadError, DriverSource, load_driver

__all__ = ["DriverConfig", "InjectConfig", "check_injections", "resolve_driver"]


@attrs.frozen
class DriverConfig:
    """The NIC driver and its ring bookkeeping.

    ``kind`` is a built-in's name, ``path/file.py:Class`` (relative to the config's
    directory) or ``package.module:Class``; ``source`` is what it resolved to.
    """

    kind: str = "paper"
    #: At most the ring's size less one (checked with ``[nic]``, in parse_config).
    refill_batch: int = checked(16, between(1, 4096))
    source: DriverSource | None = internal()

    @property
    def steps(self) -> tuple[str, ...]:
        """Every step ``[[inject]]`` may name: the kernel's and the driver's own."""
        assert self.source is not None, "config was not loaded through parse_config"
        return (*SHELL_STEPS, *self.source.cls.steps)


def resolve_driver(
    driver: DriverConfig, source: str, base_dir: Path | None, content: bytes | None = None
) -> DriverConfig:
    """Load the driver ``kind`` names (``content``: a file's bytes from a trace).

    Raises:
        ConfigError: naming ``driver.kind`` and what is wrong.
    """
    try:
        loaded = load_driver(driver.kind, base_dir, content)
    except DriverLoadError as exc:
        raise ConfigError(source, "driver.kind", str(exc)) from None
    return attrs.evolve(driver, source=loaded)


@attrs.frozen
class InjectConfig:
    """One ``[[inject]]`` entry: at the ``occurrence``-th ``step``, do ``action``."""

    step: str
    action: Literal["ipi", "packet"]
    occurrence: int = checked(1, at_least(1, at_most=1 << 31))
    delay_ns: int = checked(0, duration_ns(0, MAX_COST_NS))
    core: int | None = checked(None, lambda v: None if v is None else between(0, 63)(v))


def check_injections(
    injections: tuple[InjectConfig, ...],
    driver: DriverConfig,
    target_core: int,
    packets_possible: bool,
    source: str,
) -> None:
    """Each injection names a step of the driver, its core, and an action the source allows.

    Raises:
        ConfigError: naming the key and what is allowed.
    """
    steps = driver.steps
    for i, inject in enumerate(injections):
        key = f"inject[{i}]"
        if inject.step not in steps:
            raise ConfigError(
                source,
                f"{key}.step",
                f"driver {driver.kind!r} has no step {inject.step!r}; allowed: {', '.join(steps)}",
            )
        if inject.core is not None and inject.core != target_core:
            raise ConfigError(
                source,
                f"{key}.core",
                f"the driver's handler runs on core {target_core} (the target node's), "
                f"not core {inject.core}",
            )
        if inject.action == "packet" and not packets_possible:
            raise ConfigError(
                source,
                f"{key}.action",
                'an injected packet needs nic.source = "mint" (the generator sends it); '
                'allowed here: "ipi"',
            )
