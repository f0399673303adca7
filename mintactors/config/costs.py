"""``[costs]``: a cost profile by name or path, and overrides of any of its fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from mintactors.config._structure import unknown_key_error
from mintactors.costs import COST_FIELDS, CostProfile, load_profile
from mintactors.errors import ConfigError

__all__ = ["CostsConfig", "resolve_profile", "split_costs"]


@attrs.frozen
class CostsConfig:
    """A cost profile by name (or path) plus per-field overrides."""

    profile: str = "paper-2014"
    overrides: dict[str, Any] = attrs.field(factory=dict, metadata={"internal": True})


def split_costs(raw: dict[str, Any], source: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Take every ``[costs]`` key but ``profile`` out as overrides, checking names.

    Returns:
        The table without the overrides, and the overrides.
    """
    costs = raw.get("costs")
    if costs is None:
        return raw, {}
    if not isinstance(costs, dict):
        raise ConfigError(source, "costs", "must be a table")
    overrides = {k: v for k, v in costs.items() if k != "profile"}
    for name, value in overrides.items():
        if name not in COST_FIELDS:
            raise unknown_key_error(source, f"costs.{name}", name, ["profile", *COST_FIELDS])
        if name not in ("copy_points", "recv_copy_points") and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise ConfigError(source, f"costs.{name}", f"must be an integer >= 0, not {value!r}")
    rest = {k: v for k, v in costs.items() if k == "profile"}
    return {**raw, "costs": rest}, overrides


def resolve_profile(
    costs: CostsConfig, overrides: dict[str, Any], source: str, base_dir: Path | None
) -> CostProfile:
    """Load the named profile with the overrides applied.

    Raises:
        ConfigError: no such profile, or a profile or override that is not valid.
    """
    try:
        return load_profile(costs.profile, overrides, base_dir)
    except FileNotFoundError as exc:
        raise ConfigError(source, "costs.profile", str(exc)) from None
    except ValueError as exc:
        raise ConfigError(source, "costs", str(exc)) from None
