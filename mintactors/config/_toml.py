"""Reading a config file and applying ``--set`` overrides to the parsed TOML."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mintactors import tomlfile
from mintactors.errors import ConfigError

__all__ = ["apply_overrides", "read_toml"]


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
        raw = tomlfile.loads(text)
    except tomlfile.TomlSyntaxError as exc:
        raise ConfigError(source, exc.key, exc.problem) from None
    return apply_overrides(raw, assignments)
