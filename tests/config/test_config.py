"""Configs: every shipped file loads; every kind of bad input gets one clear error."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mintactors.config import Config, apply_overrides, load_config, parse_config
from mintactors.distributions import Fixed, Normal, Uniform
from mintactors.errors import ConfigError
from mintactors.experiments.sweep.spec import load_sweep
from tests._paths import ROOT

CONFIG_FILES = sorted((ROOT / "configs").rglob("*.toml"))


def test_there_are_configs_to_check() -> None:
    """The glob below finds the shipped configs (so the next test cannot pass vacuously)."""
    assert ROOT / "configs" / "quickstart.toml" in CONFIG_FILES


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_config_loads(path: Path) -> None:
    """Each file under configs/ is valid (a sweep: its base and every one of its runs)."""
    if "sweep" in tomllib.loads(path.read_text()):
        sweep = load_sweep(path)
        assert sweep.points
        return
    config = load_config(path)
    assert isinstance(config, Config)
    assert config.costs_profile.name


def test_defaults_follow_e1000_and_linux() -> None:
    """Unset keys take the documented hardware and kernel defaults."""
    config = parse_config({}, "<empty>")
    assert (config.nic.ring_size, config.nic.buffer_size) == (256, 2048)
    assert config.driver.refill_batch == 16
    assert config.socket.rcvbuf == 212992
    assert config.apic.ipi_latency is None
    assert (config.memory.model, config.memory.store_buffer_entries) == ("sc", 56)


def test_the_default_drain_delay_is_two_cache_line_transfers_wide() -> None:
    """Unset, a store drains uniformly 0 .. 2 x memory_latency_ns after it is made."""
    config = parse_config({"memory": {"model": "tso"}}, "f")
    latency = config.costs_profile.memory_latency_ns
    assert config.memory.drain_distribution(config.costs_profile) == Uniform(0, 2 * latency)
    fixed = parse_config({"memory": {"model": "tso", "drain_delay": 40}}, "f")
    assert fixed.memory.drain_distribution(fixed.costs_profile) == Fixed(40)


def test_distribution_values_parse() -> None:
    """A latency is an integer (fixed) or a table naming its distribution."""
    fixed = parse_config({"apic": {"ipi_latency": 800}}, "f")
    normal = parse_config(
        {"apic": {"ipi_latency": {"dist": "normal", "mean_ns": 1000, "sd_ns": 100}}}, "f"
    )
    assert fixed.apic.ipi_latency == Fixed(800)
    assert normal.apic.ipi_latency == Normal(1000.0, 100.0, 0)


def test_set_overrides_parse_values_as_toml() -> None:
    """--set values are TOML: numbers, strings, arrays; bare words are strings."""
    raw = apply_overrides(
        {"generator": {"count": 1}},
        ["generator.count=5", 'simulation.policy="random"', "nic.no_buffer=block", "a.b=[1,2]"],
    )
    assert raw == {
        "generator": {"count": 5},
        "simulation": {"policy": "random"},
        "nic": {"no_buffer": "block"},
        "a": {"b": [1, 2]},
    }


BAD = [
    ({"generator": {"cuont": 5}}, "generator.cuont", "did you mean 'count'"),
    ({"genrator": {}}, "genrator", "did you mean 'generator'"),
    ({"generator": {"count": "many"}}, "generator.count", "must be an integer, not a string"),
    ({"generator": {"count": 1.5}}, "generator.count", "must be an integer"),
    ({"generator": {"count": True}}, "generator.count", "must be an integer"),
    ({"generator": {"interval_ns": -5}}, "generator.interval_ns", "at least 0"),
    ({"generator": {"size": 20}}, "generator.size", "between 66 and"),
    ({"nic": {"ring_size": 100}}, "nic.ring_size", "multiple of 8"),
    ({"nic": {"buffer_size": 3000}}, "nic.buffer_size", "one of [2048, 4096, 8192, 16384]"),
    ({"nic": {"no_buffer": "wait"}}, "nic.no_buffer", "one of 'drop', 'block'"),
    ({"generator": {"build": "loop"}}, "generator.build", "one of 'kernel-loop', 'per-send'"),
    ({"simulation": {"policy": "lifo"}}, "simulation.policy", "allowed: fifo, pct, random"),
    ({"simulation": {"trace": "verbose"}}, "simulation.trace", "one of 'off'"),
    ({"apic": {"vector": 3}}, "apic.vector", "between 32 and 255"),
    ({"apic": {"ipi_latency": {"dist": "gamma"}}}, "apic.ipi_latency.dist", "must be one of"),
    (
        {"apic": {"ipi_latency": {"dist": "uniform", "low_ns": 9, "high_ns": 2}}},
        "apic.ipi_latency",
        "low_ns <= high_ns",
    ),
    ({"costs": {"irq_entry": 5}}, "costs.irq_entry", "did you mean 'irq_entry_ns'"),
    ({"costs": {"irq_entry_ns": -1}}, "costs.irq_entry_ns", "integer >= 0"),
    ({"costs": {"profile": "nonesuch"}}, "costs.profile", "no cost profile 'nonesuch'"),
    ({"driver": {"kind": "magic"}}, "driver.kind", "unknown driver 'magic'"),
    (
        {
            "machine": {
                "nodes": [
                    {"id": 0, "cores": [0], "memory_base": 0, "memory_size": 0x10000},
                    {"id": 1, "cores": [0], "memory_base": 0x10000, "memory_size": 0x10000},
                ]
            }
        },
        "machine.nodes[1].cores",
        "core 0 is already given to node 0",
    ),
    (
        {
            "machine": {
                "nodes": [
                    {"id": 0, "cores": [0], "memory_base": 0, "memory_size": 0x20000},
                    {"id": 1, "cores": [1], "memory_base": 0x10000, "memory_size": 0x10000},
                ]
            }
        },
        "machine.nodes[1]",
        "overlaps machine.nodes[0]",
    ),
    (
        {
            "machine": {
                "cores": 2,
                "nodes": [
                    {"id": 0, "cores": [0], "memory_base": 0, "memory_size": 0x10000},
                    {"id": 1, "cores": [2], "memory_base": 0x10000, "memory_size": 0x10000},
                ],
            }
        },
        "machine.nodes[1].cores",
        "core 2 does not exist",
    ),
    ({"machine": {"shared": {"size": 0x1000}}}, "machine.shared.size", "cannot hold the NIC"),
    ({"machine": {"target_node": 0}}, "machine.target_node", "must differ"),
    (
        {"machine": {"nodes": [{"id": 0, "cores": [0]}]}},
        "machine.nodes[0].memory_base",
        "is required",
    ),
    ({"generator": 5}, "generator", "must be a table"),
    ({"memory": {"model": "arm"}}, "memory.model", "must be one of ['sc', 'tso']"),
    ({"memory": {"store_buffer_entries": 0}}, "memory.store_buffer_entries", "between 1 and"),
    ({"memory": {"store_buffer_entries": -4}}, "memory.store_buffer_entries", "between 1 and"),
    ({"memory": {"drain_delay": -1}}, "memory.drain_delay", "between 0 and 2^30"),
    (
        {"memory": {"drain_delay": {"dist": "exponential", "mean_ns": 0}}},
        "memory.drain_delay",
        "mean_ns must be positive",
    ),
    ({"memory": {"drain_delay": {"dist": "poisson"}}}, "memory.drain_delay.dist", "one of"),
    ({"memory": {"uc_load_drains": "yes"}}, "memory.uc_load_drains", "true or false"),
    ({"memory": {"modle": "tso"}}, "memory.modle", "did you mean 'model'"),
    ({"nic": {"mechanism_barrier": "wmb"}}, "nic.mechanism_barrier", "'smp_mb', 'none'"),
    (
        {"nic": {"source": "e1000", "mechanism_barrier": "none"}},
        "nic.mechanism_barrier",
        'only used with source = "mint"',
    ),
]


@pytest.mark.parametrize(("raw", "key", "problem"), BAD, ids=[b[1] for b in BAD])
def test_bad_values_name_file_key_and_what_is_allowed(
    raw: dict[str, object], key: str, problem: str
) -> None:
    """Each bad value raises one ConfigError naming the source, the key and the problem."""
    with pytest.raises(ConfigError) as info:
        parse_config(raw, "exp.toml")
    err = info.value
    assert (err.source, err.key) == ("exp.toml", key)
    assert problem in err.problem
    assert str(err).startswith(f"exp.toml: {key}: ")


def test_missing_file_and_malformed_toml(tmp_path: Path) -> None:
    """A missing file and a TOML syntax error are ConfigErrors naming the file."""
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[generator\ncount = 3\n")
    with pytest.raises(ConfigError, match=r"broken.toml: is not valid TOML"):
        load_config(broken)


def test_profile_can_be_a_file_next_to_the_config(tmp_path: Path) -> None:
    """costs.profile may name a TOML file relative to the config."""
    builtin = (ROOT / "mintactors" / "costs" / "profiles" / "paper-2014.toml").read_text()
    (tmp_path / "mine.toml").write_text(builtin.replace('name = "paper-2014"', 'name = "mine"'))
    exp = tmp_path / "exp.toml"
    exp.write_text('[costs]\nprofile = "mine.toml"\nirq_entry_ns = 777\n')
    config = load_config(exp)
    assert config.costs_profile.name == "mine"
    assert config.costs_profile.irq_entry_ns == 777
