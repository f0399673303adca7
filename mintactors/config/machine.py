"""``[machine]`` and ``[apic]``: cores, Mint's OS nodes and memory partitions, the IPI."""

from __future__ import annotations

from typing import Any

import attrs

from mintactors.config._structure import register_hook, structure
from mintactors.distributions import Distribution, Exponential, Fixed, Normal, Uniform
from mintactors.errors import ConfigError
from mintactors.fields import MAX_COST_NS, between, checked
from mintactors.hardware.nic import NicLayout

__all__ = [
    "ApicConfig",
    "MachineConfig",
    "NodeConfig",
    "SharedMemoryConfig",
    "check_machine",
]


#: Physical addresses are below 2^52 on x86-64 (MAXPHYADDR is at most 52; Intel SDM
#: Vol. 3A, 4.1.4); a range that ends later cannot exist.
PHYSICAL_LIMIT = 1 << 52
#: Mint partitions memory in pages.
PAGE = 4096


def _page_aligned(v: int) -> str | None:
    if v < 0:
        return f"must be at least 0, not {v}"
    if v % PAGE:
        return f"{v:#x} is misaligned: it must be a multiple of 4096 (4 KiB pages)"
    if v >= PHYSICAL_LIMIT:
        return f"{v:#x} is past the 52-bit physical address space (2^52)"
    return None


def _page_multiple(v: int) -> str | None:
    if v <= 0 or v % PAGE:
        return f"must be a positive multiple of 4096 (4 KiB pages), not {v:#x}"
    if v > PHYSICAL_LIMIT:
        return f"{v:#x} is larger than the 52-bit physical address space (2^52)"
    return None


@attrs.frozen
class NodeConfig:
    """One Mint OS node: its cores and its private physical memory range."""

    id: int = checked(check=between(0, 1 << 31))
    cores: tuple[int, ...] = checked(check=lambda v: None if v else "needs at least one core")
    memory_base: int = checked(check=_page_aligned)
    memory_size: int = checked(check=_page_multiple)

    @property
    def memory_end(self) -> int:
        """One past the node's last address."""
        return self.memory_base + self.memory_size


@attrs.frozen
class SharedMemoryConfig:
    """The physical range every node can use; the NIC ring and buffers live here."""

    base: int = checked(0x2000_0000, _page_aligned)
    size: int = checked(0x0800_0000, _page_multiple)


def _default_nodes() -> tuple[NodeConfig, ...]:
    return (
        NodeConfig(id=0, cores=(0,), memory_base=0x0000_0000, memory_size=0x1000_0000),
        NodeConfig(id=1, cores=(1,), memory_base=0x1000_0000, memory_size=0x1000_0000),
    )


@attrs.frozen
class MachineConfig:
    """Cores, OS nodes and memory; which node debugs and which is debugged."""

    cores: int = checked(2, between(1, 64))
    nodes: tuple[NodeConfig, ...] = attrs.field(factory=_default_nodes)
    shared: SharedMemoryConfig = attrs.field(factory=SharedMemoryConfig)
    debug_node: int = checked(0, between(0, 1 << 31))
    target_node: int = checked(1, between(0, 1 << 31))

    def node(self, node_id: int) -> NodeConfig:
        """The node with ID ``node_id``."""
        return next(n for n in self.nodes if n.id == node_id)

    @property
    def debug_core(self) -> int:
        """The core the debug-support node's software runs on (its first)."""
        return self.node(self.debug_node).cores[0]

    @property
    def target_core(self) -> int:
        """The core the driver under test runs on (the target node's first)."""
        return self.node(self.target_node).cores[0]


def _distribution(value: Any, key: str, source: str) -> Distribution:
    """An integer (a fixed delay) or a table ``{dist = "...", ...}``."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= MAX_COST_NS:
            raise ConfigError(
                source, key, f"a delay must be between 0 and 2^30 ({MAX_COST_NS:,}) ns, not {value}"
            )
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
    params = [v for v in attrs.astuple(dist) if isinstance(v, int | float)]
    if any(v > MAX_COST_NS for v in params):
        return f"a latency parameter must be at most 2^30 ({MAX_COST_NS:,}) ns"
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
class ApicConfig:
    """The IPI: its vector and its latency (default: the cost profile's)."""

    vector: int = checked(0x41, between(32, 255))
    ipi_latency: Distribution | None = None


def _check_cores(machine: MachineConfig, source: str) -> set[int]:
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
    return seen_ids


def _check_memory(machine: MachineConfig, source: str) -> None:
    ranges = [
        (f"machine.nodes[{i}]", n.memory_base, n.memory_end) for i, n in enumerate(machine.nodes)
    ]
    shared = machine.shared
    ranges.append(("machine.shared", shared.base, shared.base + shared.size))
    for key, start, end in ranges:
        if end > PHYSICAL_LIMIT:
            size_key = "memory_size" if key != "machine.shared" else "size"
            raise ConfigError(
                source,
                f"{key}.{size_key}",
                f"memory {start:#x}..{end:#x} ends past the 52-bit physical address "
                f"space ({PHYSICAL_LIMIT:#x})",
            )
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


def check_machine(machine: MachineConfig, layout: NicLayout, source: str) -> None:
    """Nodes own disjoint cores and memory, both roles exist, the NIC fits in shared memory.

    Raises:
        ConfigError: naming the key.
    """
    seen_ids = _check_cores(machine, source)
    _check_memory(machine, source)
    for role in ("debug_node", "target_node"):
        if getattr(machine, role) not in seen_ids:
            raise ConfigError(
                source, f"machine.{role}", f"no node with ID {getattr(machine, role)}"
            )
    if machine.debug_node == machine.target_node:
        raise ConfigError(source, "machine.target_node", "must differ from machine.debug_node")
    shared = machine.shared
    if layout.total_bytes > shared.size:
        raise ConfigError(
            source,
            "machine.shared.size",
            f"{shared.size:#x} bytes cannot hold the NIC ring and buffers "
            f"({layout.total_bytes:#x} bytes for {layout.ring_size} x "
            f"{layout.buffer_size}-byte buffers)",
        )
