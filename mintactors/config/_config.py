"""The whole experiment: TOML in, one frozen :class:`Config` out, every value checked.

Loading a file either yields a :class:`Config` or raises
:class:`~mintactors.errors.ConfigError` naming the file, the key, what was wrong and
what is allowed; nothing is half-accepted. Each table is checked by the module of
its concern; the checks that cross tables run last, in :func:`parse_config`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from mintactors.config._structure import structure
from mintactors.config._toml import read_toml
from mintactors.config.costs import CostsConfig, resolve_profile, split_costs
from mintactors.config.driver import (
    DriverConfig,
    InjectConfig,
    check_injections,
    resolve_driver,
)
from mintactors.config.generator import GeneratorConfig, prepare_generator
from mintactors.config.machine import ApicConfig, MachineConfig, check_machine
from mintactors.config.memory import MemoryConfig
from mintactors.config.nic import NicConfig
from mintactors.config.oracles import OraclesConfig
from mintactors.config.receiver import AppConfig, SocketConfig
from mintactors.config.simulation import SimulationConfig
from mintactors.costs import CostProfile
from mintactors.errors import ConfigError
from mintactors.fields import internal
from mintactors.hardware.nic import NicLayout
from mintactors.kernel.drivers import DRIVERS

__all__ = ["Config", "describe_config", "load_config", "parse_config"]


@attrs.frozen
class Config:
    """A whole experiment."""

    simulation: SimulationConfig = attrs.field(factory=SimulationConfig)
    machine: MachineConfig = attrs.field(factory=MachineConfig)
    apic: ApicConfig = attrs.field(factory=ApicConfig)
    memory: MemoryConfig = attrs.field(factory=MemoryConfig)
    nic: NicConfig = attrs.field(factory=NicConfig)
    costs: CostsConfig = attrs.field(factory=CostsConfig)
    generator: GeneratorConfig = attrs.field(factory=GeneratorConfig)
    driver: DriverConfig = attrs.field(factory=DriverConfig)
    socket: SocketConfig = attrs.field(factory=SocketConfig)
    app: AppConfig = attrs.field(factory=AppConfig)
    inject: tuple[InjectConfig, ...] = ()
    oracles: OraclesConfig = attrs.field(factory=OraclesConfig)
    source: str = internal("<defaults>")
    raw: Mapping[str, Any] = internal(factory=dict)
    profile: CostProfile | None = internal()
    base_dir: Path | None = internal()

    @property
    def layout(self) -> NicLayout:
        """Where the NIC's registers, ring and buffers sit in shared memory."""
        return NicLayout(self.machine.shared.base, self.nic.ring_size, self.nic.buffer_size)

    @property
    def costs_profile(self) -> CostProfile:
        """The resolved cost profile."""
        assert self.profile is not None, "config was not loaded through parse_config"
        return self.profile


def _check_source(config: Config, source: str) -> None:
    """A driver that masks its interrupt needs a source that emulates IMS."""
    driver = config.driver.source
    nic = config.nic.source_params
    assert driver is not None
    if driver.cls.masks_interrupts and not nic.emulates_ims:
        allowed = [name for name, cls in DRIVERS.items() if not cls.masks_interrupts]
        raise ConfigError(
            source,
            "driver.kind",
            f"{driver.kind!r} masks its interrupt through IMS, which the {nic.name} source "
            f'(nic.source = "{nic.name}") does not emulate; allowed with it: {", ".join(allowed)}',
        )


def _check_refill(config: Config, source: str) -> None:
    """A refill batch other than e1000's fits in the ring (one slot always stays empty).

    e1000's own batch (``E1000_RX_BUFFER_WRITE`` = 16, the default) is a constant the
    driver keeps whatever the ring's size: with a ring of 16 or fewer descriptors it
    refills only at the end of each handler run, and so does the model (configs that
    shrink the ring of one that lists every default keep working). A batch chosen in
    the config that the ring cannot hold is a mistake, and is refused.
    """
    default = attrs.fields(DriverConfig).refill_batch.default
    most = config.nic.ring_size - 1
    if config.driver.refill_batch != default and config.driver.refill_batch > most:
        raise ConfigError(
            source,
            "driver.refill_batch",
            f"{config.driver.refill_batch} is larger than the ring can hold: with "
            f"nic.ring_size = {config.nic.ring_size}, at most {most} "
            "(one descriptor always stays empty)",
        )


def _check_pct(config: Config, source: str) -> None:
    """PCT's ``d - 1`` change points are distinct decisions among ``1..k``."""
    simulation = config.simulation
    if simulation.pct_steps < simulation.pct_depth - 1:
        raise ConfigError(
            source,
            "simulation.pct_steps",
            f"{simulation.pct_steps} is fewer than the {simulation.pct_depth - 1} change "
            f"points simulation.pct_depth = {simulation.pct_depth} needs (pct_depth - 1)",
        )


def parse_config(
    raw: Mapping[str, Any],
    source: str,
    base_dir: Path | None = None,
    driver_files: Mapping[str, bytes] | None = None,
) -> Config:
    """Build and check a :class:`Config` from parsed TOML.

    ``driver_files``: a driver file's bytes by ``driver.kind``, to load the driver
    from them rather than from disk (a replay runs the code its trace recorded).

    Raises:
        ConfigError: anything wrong, naming ``source`` and the key.
    """
    if "sweep" in raw:
        raise ConfigError(source, "sweep", "this config is a sweep; run it with `mintactors sweep`")
    data, overrides = split_costs(dict(raw), source)
    config = structure(data, Config, source)
    check_machine(config.machine, config.layout, source)
    content = driver_files.get(config.driver.kind) if driver_files else None
    config = attrs.evolve(config, driver=resolve_driver(config.driver, source, base_dir, content))
    _check_source(config, source)
    _check_refill(config, source)
    _check_pct(config, source)
    generator = prepare_generator(config.generator, raw.get("generator"), source, base_dir)
    check_injections(
        config.inject,
        config.driver,
        config.machine.target_core,
        config.nic.source_params.emulates_ims,
        source,
    )
    profile = resolve_profile(config.costs, overrides, source, base_dir)
    return attrs.evolve(
        config,
        costs=CostsConfig(config.costs.profile, overrides),
        generator=generator,
        source=source,
        raw=raw,
        profile=profile,
        base_dir=base_dir,
    )


def load_config(path: str | Path, assignments: Iterable[str] = ()) -> Config:
    """Read, override and check the config file at ``path``.

    Raises:
        ConfigError: a missing or unreadable file, malformed TOML, or a bad key or value.
    """
    return parse_config(read_toml(path, assignments), str(path), Path(path).parent)


def describe_config(config: Config) -> str:
    """What a config describes, in one line (for ``mintactors check``)."""
    gen, nic = config.generator, config.nic
    profile = config.costs_profile
    source = "" if nic.source == "mint" else f", source {nic.source_params.describe()}"
    driver = config.driver.source
    assert driver is not None, "config was not loaded through parse_config"
    build = "" if nic.source != "mint" else f" ({gen.build})"
    return (
        f"{gen.count} packets of {gen.size} B {gen.timing.describe()}{build}, "
        f"ring {nic.ring_size} x {nic.buffer_size} B ({nic.no_buffer}){source}, "
        f"driver {driver.describe()}, profile {profile.name} v{profile.version}"
        + (f", {len(config.inject)} injection(s)" if config.inject else "")
        + (", memory tso" if config.memory.tso else "")
    )
