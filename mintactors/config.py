"""The experiment configuration: TOML in, frozen attrs objects out, every value checked.

A config file has one table per part of the machine (see ``configs/quickstart.toml``
for every key with its default). Loading it either yields a :class:`Config` or raises
:class:`~mintactors.errors.ConfigError` naming the file, the key, what was wrong and
what is allowed; nothing is half-accepted.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from mintactors._debug_config import InjectConfig, OraclesConfig, check_debugging
from mintactors._structure import checked, register_hook, structure, unknown_key_error
from mintactors.captures import Capture
from mintactors.costs import COST_FIELDS, CostProfile, load_profile
from mintactors.distributions import Distribution, Exponential, Fixed, Normal, Uniform
from mintactors.errors import ConfigError
from mintactors.hardware.nic import VALID_BUFFER_SIZES, NicLayout
from mintactors.kernel.patterns import PATTERNS
from mintactors.kernel.variants import DRIVER_VARIANTS
from mintactors.packets import MAX_FRAME_LEN, MIN_FRAME_LEN
from mintactors.runtime import policy_names

__all__ = [
    "ApicConfig",
    "AppConfig",
    "Config",
    "CostsConfig",
    "DriverConfig",
    "GeneratorConfig",
    "InjectConfig",
    "MachineConfig",
    "NicConfig",
    "NodeConfig",
    "OraclesConfig",
    "SharedMemoryConfig",
    "SimulationConfig",
    "SocketConfig",
    "apply_overrides",
    "driver_kinds",
    "load_config",
    "parse_config",
    "read_toml",
]


def _at_least(low: int | float) -> Any:
    return lambda v: None if v >= low else f"must be at least {low}, not {v}"


def _between(low: int, high: int) -> Any:
    return lambda v: None if low <= v <= high else f"must be between {low} and {high}, not {v}"


def _one_of(choices: Iterable[Any]) -> Any:
    allowed = tuple(choices)
    return lambda v: None if v in allowed else f"must be one of {list(allowed)}, not {v!r}"


def _policy(value: str) -> str | None:
    names = policy_names()
    return None if value in names else f"unknown policy {value!r}; allowed: {', '.join(names)}"


_DRIVER_KINDS: list[str] = list(DRIVER_VARIANTS)


def driver_kinds() -> tuple[str, ...]:
    """Driver variants a config may name."""
    return tuple(_DRIVER_KINDS)


def _driver_kind(value: str) -> str | None:
    kinds = driver_kinds()
    return None if value in kinds else f"unknown driver {value!r}; allowed: {', '.join(kinds)}"


def _distribution(value: Any, key: str, source: str) -> Distribution:
    """An integer (a fixed delay) or a table ``{dist = "...", ...}``."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ConfigError(source, key, f"a delay must be at least 0 ns, not {value}")
        return Fixed(value)
    kinds: dict[str, type[Any]] = {
        "fixed": Fixed,
        "uniform": Uniform,
        "normal": Normal,
        "exponential": Exponential,
    }
    if not isinstance(value, dict) or "dist" not in value:
        raise ConfigError(
            source,
            key,
            "must be an integer number of ns or a table with dist = "
            + " | ".join(f'"{k}"' for k in kinds),
        )
    dist = value["dist"]
    if dist not in kinds:
        raise ConfigError(source, f"{key}.dist", f"must be one of {list(kinds)}, not {dist!r}")
    params = {k: v for k, v in value.items() if k != "dist"}
    result: Distribution = structure(params, kinds[dist], source, key)
    problem = _distribution_problem(result)
    if problem:
        raise ConfigError(source, key, problem)
    return result


def _distribution_problem(dist: Distribution) -> str | None:
    match dist:
        case Fixed(ns=ns) if ns < 0:
            return "ns must be at least 0"
        case Uniform(low_ns=low, high_ns=high) if not 0 <= low <= high:
            return "needs 0 <= low_ns <= high_ns"
        case Normal(mean_ns=mean, sd_ns=sd, min_ns=low) if mean < 0 or sd < 0 or low < 0:
            return "mean_ns, sd_ns and min_ns must be at least 0"
        case Exponential(mean_ns=mean) if mean <= 0:
            return "mean_ns must be positive"
    return None


register_hook(Distribution, _distribution)
register_hook(Distribution | None, _distribution)


@attrs.frozen
class SimulationConfig:
    """How the run is driven: seed, end, tie-break policy and trace level.

    ``trace_frames`` puts every generated and received frame's bytes in the trace
    (``PacketGenerated`` and ``PacketReceived`` notes, ``full`` level), so
    ``mintactors trace export pcap`` can rebuild a capture from the trace alone.
    """

    seed: int = checked(1, _at_least(0))
    until_ns: int | None = checked(None, lambda v: None if v is None or v > 0 else "must be > 0")
    policy: str = checked("fifo", _policy)
    trace: Literal["off", "summary", "full"] = "summary"
    trace_frames: bool = False


@attrs.frozen
class NodeConfig:
    """One Mint OS node: its cores and its private physical memory range."""

    id: int = checked(check=_at_least(0))
    cores: tuple[int, ...] = checked(check=lambda v: None if v else "needs at least one core")
    memory_base: int = checked(check=_at_least(0))
    memory_size: int = checked(
        check=lambda v: None if v > 0 and v % 4096 == 0 else "must be a positive multiple of 4096"
    )

    @property
    def memory_end(self) -> int:
        """One past the node's last address."""
        return self.memory_base + self.memory_size


@attrs.frozen
class SharedMemoryConfig:
    """The physical range every node can use; the NIC ring and buffers live here."""

    base: int = checked(0x2000_0000, lambda v: None if v % 4096 == 0 else "must be 4 KiB aligned")
    size: int = checked(
        0x0800_0000,
        lambda v: None if v > 0 and v % 4096 == 0 else "must be a positive multiple of 4096",
    )


def _default_nodes() -> tuple[NodeConfig, ...]:
    return (
        NodeConfig(id=0, cores=(0,), memory_base=0x0000_0000, memory_size=0x1000_0000),
        NodeConfig(id=1, cores=(1,), memory_base=0x1000_0000, memory_size=0x1000_0000),
    )


@attrs.frozen
class MachineConfig:
    """Cores, OS nodes and memory; which node debugs and which is debugged."""

    cores: int = checked(2, _between(1, 64))
    nodes: tuple[NodeConfig, ...] = attrs.field(factory=_default_nodes)
    shared: SharedMemoryConfig = attrs.field(factory=SharedMemoryConfig)
    debug_node: int = checked(0, _at_least(0))
    target_node: int = checked(1, _at_least(0))

    def node(self, node_id: int) -> NodeConfig:
        """The node with ID ``node_id``."""
        return next(n for n in self.nodes if n.id == node_id)


@attrs.frozen
class ApicConfig:
    """The IPI: its vector and its latency (default: the cost profile's)."""

    vector: int = checked(0x41, _between(32, 255))
    ipi_latency: Distribution | None = None


@attrs.frozen
class NicConfig:
    """The NIC's receive ring, and where its frames come from.

    ``source = "mint"`` (the default) is the paper's environment: the debug-support
    mechanism fills the ring. ``source = "e1000"`` puts a real 1 Gb/s-class NIC
    there instead (:mod:`mintactors.hardware.e1000`): the ``[generator]`` traffic
    arrives over an Ethernet link at ``link_mbps``, is DMA'd into the same ring at
    ``dma_mb_s`` and announced by a device interrupt throttled by ``itr``.
    """

    ring_size: int = checked(
        256,
        lambda v: (
            None
            if 8 <= v <= 4096 and v % 8 == 0
            else f"must be a multiple of 8 from 8 to 4096 "
            f"(RDLEN is a multiple of 128 bytes), not {v}"
        ),
    )
    buffer_size: int = checked(2048, _one_of(VALID_BUFFER_SIZES))
    no_buffer: Literal["drop", "block"] = "drop"
    block_poll_ns: int = checked(1000, _at_least(1))
    source: Literal["mint", "e1000"] = "mint"
    link_mbps: int = checked(1000, _between(10, 400_000))
    # PCI-X at 133 MHz x 64 bits, the bus of the 82545/82546 (8254x) parts.
    dma_mb_s: int = checked(1064, _between(1, 1_000_000))
    # 4000 interrupts/s: where InterruptThrottleRate = 3 settles for bulk traffic.
    itr: int = checked(976, _between(0, 65535))
    interrupt_latency_ns: int = checked(500, _at_least(0))


@attrs.frozen
class CostsConfig:
    """A cost profile by name (or path) plus per-field overrides."""

    profile: str = "paper-2014"
    overrides: dict[str, int] = attrs.field(factory=dict, metadata={"internal": True})


@attrs.frozen
class GeneratorConfig:
    """The interrupt generator: how many packets, how large, when, which flow.

    ``pattern`` picks the timing (see :mod:`mintactors.kernel.patterns`); the keys
    after ``dst_port`` belong to one pattern each.
    """

    count: int = checked(1000, _at_least(0))
    size: int = checked(1514, _between(MIN_FRAME_LEN, MAX_FRAME_LEN))
    interval_ns: int = checked(10_000, _at_least(0))
    start_ns: int = checked(10_000, _at_least(0))
    flows: int = checked(1, _between(1, 65535))
    src_mac: str = "02:00:00:00:00:01"
    dst_mac: str = "02:00:00:00:00:02"
    src_ip: str = "10.0.0.1"
    dst_ip: str = "10.0.0.2"
    src_port: int = checked(9, _between(0, 65535))
    dst_port: int = checked(9, _between(0, 65535))
    pattern: str = checked("fixed", _one_of(PATTERNS))
    instants_ns: tuple[int, ...] = ()
    jitter_ns: int = checked(0, _at_least(0))
    jitter_dist: Literal["uniform", "normal"] = "uniform"
    rate_pps: float = checked(0.0, _at_least(0))
    burst_size: int = checked(1, _at_least(1))
    burst_period_ns: int = checked(0, _at_least(0))
    burst_gap_ns: int = checked(0, _at_least(0))
    capture: str = ""
    time_scale: float = checked(
        1.0, lambda v: None if v > 0 else f"must be greater than 0, not {v}"
    )


@attrs.frozen
class DriverConfig:
    """The NIC driver variant and its ring bookkeeping."""

    kind: str = checked("paper", _driver_kind)
    refill_batch: int = checked(16, _at_least(1))


@attrs.frozen
class SocketConfig:
    """The receiving UDP socket."""

    rcvbuf: int = checked(212992, _at_least(1))


@attrs.frozen
class AppConfig:
    """The receiving application."""

    verify: bool = True


@attrs.frozen
class Config:
    """A whole experiment."""

    simulation: SimulationConfig = attrs.field(factory=SimulationConfig)
    machine: MachineConfig = attrs.field(factory=MachineConfig)
    apic: ApicConfig = attrs.field(factory=ApicConfig)
    nic: NicConfig = attrs.field(factory=NicConfig)
    costs: CostsConfig = attrs.field(factory=CostsConfig)
    generator: GeneratorConfig = attrs.field(factory=GeneratorConfig)
    driver: DriverConfig = attrs.field(factory=DriverConfig)
    socket: SocketConfig = attrs.field(factory=SocketConfig)
    app: AppConfig = attrs.field(factory=AppConfig)
    inject: tuple[InjectConfig, ...] = ()
    oracles: OraclesConfig = attrs.field(factory=OraclesConfig)
    source: str = attrs.field(default="<defaults>", metadata={"internal": True})
    raw: Mapping[str, Any] = attrs.field(factory=dict, metadata={"internal": True}, eq=False)
    profile: CostProfile | None = attrs.field(default=None, metadata={"internal": True}, eq=False)
    capture: Capture | None = attrs.field(default=None, metadata={"internal": True}, eq=False)
    base_dir: Path | None = attrs.field(default=None, metadata={"internal": True}, eq=False)

    @property
    def layout(self) -> NicLayout:
        """Where the NIC's registers, ring and buffers sit in shared memory."""
        return NicLayout(self.machine.shared.base, self.nic.ring_size, self.nic.buffer_size)

    @property
    def costs_profile(self) -> CostProfile:
        """The resolved cost profile."""
        assert self.profile is not None, "config was not loaded through parse_config"
        return self.profile


def _split_costs(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """Move every [costs] key but ``profile`` into ``overrides``, checking names."""
    costs = raw.get("costs")
    if costs is None:
        return raw
    if not isinstance(costs, dict):
        raise ConfigError(source, "costs", "must be a table")
    overrides = {k: v for k, v in costs.items() if k != "profile"}
    for name, value in overrides.items():
        if name not in COST_FIELDS:
            raise unknown_key_error(source, f"costs.{name}", name, ["profile", *COST_FIELDS])
        if name != "copy_points" and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise ConfigError(source, f"costs.{name}", f"must be an integer >= 0, not {value!r}")
    rest = {k: v for k, v in costs.items() if k == "profile"}
    return {**raw, "costs": rest, "_cost_overrides": overrides}


def _check_real_nic(config: Config, source: str) -> None:
    """The e1000 model raises its interrupt without reading IMS: no masking drivers."""
    kind = config.driver.kind
    if config.nic.source == "e1000" and DRIVER_VARIANTS[kind].masks_interrupts:
        allowed = [k for k, v in DRIVER_VARIANTS.items() if not v.masks_interrupts]
        raise ConfigError(
            source,
            "driver.kind",
            f"{kind!r} masks its interrupt through IMS, which the real-NIC model "
            f'(nic.source = "e1000") does not emulate; allowed with it: {", ".join(allowed)}',
        )


def _check_machine(config: Config, source: str) -> None:
    machine = config.machine
    seen_ids: set[int] = set()
    owner: dict[int, int] = {}
    for i, node in enumerate(machine.nodes):
        key = f"machine.nodes[{i}]"
        if node.id in seen_ids:
            raise ConfigError(source, f"{key}.id", f"node ID {node.id} is used twice")
        seen_ids.add(node.id)
        for core in node.cores:
            if not 0 <= core < machine.cores:
                raise ConfigError(
                    source,
                    f"{key}.cores",
                    f"core {core} does not exist (machine.cores = {machine.cores})",
                )
            if core in owner:
                raise ConfigError(
                    source,
                    f"{key}.cores",
                    f"core {core} is already given to node {owner[core]}; "
                    "Mint gives each core to one node",
                )
            owner[core] = node.id
    ranges = [
        (f"machine.nodes[{i}]", n.memory_base, n.memory_end) for i, n in enumerate(machine.nodes)
    ]
    shared = machine.shared
    ranges.append(("machine.shared", shared.base, shared.base + shared.size))
    for a in range(len(ranges)):
        for b in range(a + 1, len(ranges)):
            (ka, sa, ea), (kb, sb, eb) = ranges[a], ranges[b]
            if sa < eb and sb < ea:
                raise ConfigError(
                    source,
                    kb,
                    f"memory {sb:#x}..{eb:#x} overlaps {ka} ({sa:#x}..{ea:#x}); "
                    "Mint partitions memory into disjoint ranges",
                )
    for role in ("debug_node", "target_node"):
        if getattr(machine, role) not in seen_ids:
            raise ConfigError(
                source, f"machine.{role}", f"no node with ID {getattr(machine, role)}"
            )
    if machine.debug_node == machine.target_node:
        raise ConfigError(source, "machine.target_node", "must differ from machine.debug_node")
    layout = config.layout
    if layout.total_bytes > shared.size:
        raise ConfigError(
            source,
            "machine.shared.size",
            f"{shared.size:#x} bytes cannot hold the NIC ring and buffers "
            f"({layout.total_bytes:#x} bytes for {config.nic.ring_size} x "
            f"{config.nic.buffer_size}-byte buffers)",
        )


def parse_config(raw: Mapping[str, Any], source: str, base_dir: Path | None = None) -> Config:
    """Build and check a :class:`Config` from parsed TOML.

    Raises:
        ConfigError: anything wrong, naming ``source`` and the key.
    """
    if "sweep" in raw:
        raise ConfigError(source, "sweep", "this config is a sweep; run it with `mintactors sweep`")
    data = _split_costs(dict(raw), source)
    overrides = data.pop("_cost_overrides", {})
    config = structure(data, Config, source)
    _check_machine(config, source)
    _check_real_nic(config, source)
    try:
        profile = load_profile(config.costs.profile, overrides, base_dir)
    except FileNotFoundError as exc:
        raise ConfigError(source, "costs.profile", str(exc)) from None
    except ValueError as exc:
        raise ConfigError(source, "costs", str(exc)) from None
    config = attrs.evolve(
        config,
        costs=CostsConfig(config.costs.profile, overrides),
        source=source,
        raw=raw,
        profile=profile,
    )
    return check_debugging(config, source, base_dir)


def apply_overrides(raw: dict[str, Any], assignments: Iterable[str]) -> dict[str, Any]:
    """Apply ``--set key.path=value`` assignments to parsed TOML (value parsed as TOML).

    Raises:
        ConfigError: an assignment that is not ``key=value`` or whose path is blocked.
    """
    result: dict[str, Any] = _deep_copy(raw)
    for text in assignments:
        key, sep, value_text = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError("--set", text, "must look like section.key=value")
        try:
            value = tomllib.loads(f"v = {value_text}")["v"]
        except tomllib.TOMLDecodeError:
            value = value_text  # a bare word is a string
        table = result
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            nxt = table.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ConfigError("--set", ".".join(parts[: i + 1]), "is not a table")
            table = nxt
        table[parts[-1]] = value
    return result


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def read_toml(path: str | Path, assignments: Iterable[str] = ()) -> dict[str, Any]:
    """Read the TOML file at ``path`` and apply ``--set`` assignments to it.

    Raises:
        ConfigError: a missing or unreadable file, or malformed TOML.
    """
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(source, "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(source, "", f"cannot be read: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "", f"is not valid TOML: {exc}") from None
    return apply_overrides(raw, assignments)


def load_config(path: str | Path, assignments: Iterable[str] = ()) -> Config:
    """Read, override and check the config file at ``path``.

    Raises:
        ConfigError: a missing or unreadable file, malformed TOML, or a bad key or value.
    """
    return parse_config(read_toml(path, assignments), str(path), Path(path).parent)
