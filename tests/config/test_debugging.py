"""Config of the debugging features: patterns, injections and oracles are checked key by key."""

from __future__ import annotations

from typing import Any

import pytest

from mintactors.config import parse_config
from mintactors.errors import ConfigError


@pytest.mark.parametrize(
    ("generator", "key", "problem"),
    [
        ({"pattern": "sine"}, "generator.pattern", "must be one of ['fixed', 'list', 'jitter'"),
        ({"rate_pps": 1000.0}, "generator.rate_pps", 'only used with pattern = "poisson"'),
        (
            {"pattern": "poisson", "burst_size": 4, "rate_pps": 5.0},
            "generator.burst_size",
            'only used with pattern = "burst"',
        ),
        ({"pattern": "list"}, "generator.instants_ns", "is required"),
        ({"pattern": "list", "instants_ns": [5, 3]}, "generator.instants_ns", "is before"),
        ({"pattern": "list", "instants_ns": [1, 2], "count": 3}, "generator.count", "only 2"),
        ({"pattern": "poisson"}, "generator.rate_pps", "must be > 0"),
        ({"pattern": "burst"}, "generator.burst_period_ns", "must be > 0"),
        (
            {"pattern": "burst", "burst_size": 4, "burst_gap_ns": 500, "burst_period_ns": 1000},
            "generator.burst_gap_ns",
            "longer than burst_period_ns",
        ),
        ({"pattern": "jitter", "jitter_dist": "cauchy"}, "generator.jitter_dist", "one of"),
        ({"pattern": "capture"}, "generator.capture", "is required"),
        (
            {"pattern": "capture", "capture": "x.pcap", "time_scale": 0},
            "generator.time_scale",
            "between 1e-06",
        ),
    ],
)
def test_bad_pattern_settings_name_the_key(
    generator: dict[str, Any], key: str, problem: str
) -> None:
    """Each bad timing-pattern setting is refused, naming its key and what is allowed."""
    with pytest.raises(ConfigError) as info:
        parse_config({"generator": generator}, "exp.toml")
    assert info.value.key == key
    assert problem in info.value.problem


def test_a_list_pattern_sends_every_instant_unless_count_says_fewer() -> None:
    """count defaults to the number of instants; a smaller count takes the first ones."""
    listed = {"pattern": "list", "instants_ns": [10, 20, 30]}
    assert parse_config({"generator": listed}, "t").generator.count == 3
    assert parse_config({"generator": {**listed, "count": 2}}, "t").generator.count == 2


def test_interval_may_stay_in_a_file_whose_pattern_changes() -> None:
    """interval_ns is shared, so --set generator.pattern=poisson works on a fixed-rate file."""
    generator = {"interval_ns": 3000, "pattern": "poisson", "rate_pps": 1e5}
    assert parse_config({"generator": generator}, "t").generator.pattern == "poisson"


def test_oracle_bound_must_be_positive() -> None:
    """[oracles] stranded_bound_ns below 1 ns is refused."""
    with pytest.raises(ConfigError) as info:
        parse_config({"oracles": {"stranded_bound_ns": 0}}, "exp.toml")
    assert info.value.key == "oracles.stranded_bound_ns"


@pytest.mark.parametrize("kind", ["paper", "one-per-irq", "napi", "lost-wakeup", "ring-wrap"])
def test_every_driver_variant_can_be_named(kind: str) -> None:
    """Each variant is a valid driver.kind."""
    assert parse_config({"driver": {"kind": kind}}, "t").driver.kind == kind
