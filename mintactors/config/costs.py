"""``[costs]``: a cost profile by name or path, and overrides of any of its fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from mintactors.config._structure import unknown_key_error
from mintactors.costs import COST_FIELDS, CostProfile, load_profile
from mintactors.errors import ConfigError
from mintactors.fields import MAX_COST_NS

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
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COST_NS
        ):
            raise ConfigError(
                source,
                f"costs.{name}",
                f"must be an integer >= 0 (at most 2^30 = {MAX_COST_NS:,} ns), not {value!r}",
            )
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
        # The profile alone first, so a fault in its file is blamed on the file.
        load_profile(costs.profile, None, base_dir)
    except FileNotFoundError as exc:
        raise ConfigError(source, "costs.profile", str(exc)) from None
    except ValueError as exc:
        raise ConfigError(source, "costs.profile", str(exc)) from None
    try:
        return load_profile(costs.profile, overrides, base_dir)
    except ValueError as exc:
        # The profile was fine: an override is at fault, and the message starts with it.
        problem = str(exc).split(": ", 1)[-1]
        field = next((f for f in overrides if problem.startswith(f)), "")
        raise ConfigError(source, f"costs.{field}" if field else "costs", problem) from None
