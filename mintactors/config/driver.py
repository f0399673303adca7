"""``[driver]`` and ``[[inject]]``: the driver variant, and interrupts fired at its steps."""

from __future__ import annotations

from typing import Literal

import attrs

from mintactors.errors import ConfigError
from mintactors.fields import MAX_COST_NS, at_least, between, checked, duration_ns
from mintactors.kernel.variants import DRIVER_VARIANTS

__all__ = ["DriverConfig", "InjectConfig", "check_injections"]


def _driver_kind(value: str) -> str | None:
    if value in DRIVER_VARIANTS:
        return None
    return f"unknown driver {value!r}; allowed: {', '.join(DRIVER_VARIANTS)}"


@attrs.frozen
class DriverConfig:
    """The NIC driver variant and its ring bookkeeping."""

    kind: str = checked("paper", _driver_kind)
    #: At most the ring's size less one (checked with ``[nic]``, in parse_config).
    refill_batch: int = checked(16, between(1, 4096))


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
    steps = DRIVER_VARIANTS[driver.kind].steps
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
