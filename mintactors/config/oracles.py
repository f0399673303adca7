"""``[oracles]``: the keys of every registered oracle, in one table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from mintactors.config._structure import field_names, register_hook, structure, unknown_key_error
from mintactors.errors import ConfigError
from mintactors.oracles import ORACLES, Oracle

__all__ = ["OraclesConfig"]


def _defaults() -> dict[str, Oracle]:
    return {name: cls() for name, cls in ORACLES.items()}


@attrs.frozen
class OraclesConfig:
    """Every oracle with its settings (each key belongs to the oracle that reads it).

    Attributes:
        entries: oracle name -> the oracle with its keys set.
    """

    entries: Mapping[str, Oracle] = attrs.field(factory=_defaults)

    def __getitem__(self, name: str) -> Oracle:
        return self.entries[name]


def _oracles(value: Any, key: str, source: str) -> OraclesConfig:
    if not isinstance(value, dict):
        raise ConfigError(source, key, "must be a table")
    owned: dict[str, list[str]] = {}
    for name, cls in ORACLES.items():
        for field in field_names(cls):
            owned.setdefault(field, []).append(name)
    for given in value:
        if given not in owned:
            raise unknown_key_error(source, f"{key}.{given}", given, sorted(owned))
    entries = {
        name: structure({k: v for k, v in value.items() if name in owned[k]}, cls, source, key)
        for name, cls in ORACLES.items()
    }
    return OraclesConfig(entries)


register_hook(OraclesConfig, _oracles)
