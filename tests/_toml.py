"""A small TOML writer for the tests that build config files (the standard library only reads).

It writes what configs hold: tables, arrays of tables, and scalars, arrays and
inline tables as values, including the ``nan`` and ``inf`` floats TOML allows and
integers beyond 64 bits (which TOML forbids but a hand-written file may hold).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["dumps", "key", "value"]


def key(name: str) -> str:
    """A key: bare when it can be, quoted otherwise."""
    if name and all(c.isascii() and (c.isalnum() or c in "_-") for c in name):
        return name
    return json.dumps(name)


def value(v: Any) -> str:
    """One TOML value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # JSON's escapes are TOML basic-string escapes
    if isinstance(v, list | tuple):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"no TOML for {v!r}")


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, Mapping) for x in v)


def dumps(data: Mapping[str, Any], prefix: str = "") -> str:
    """``data`` as a TOML document (nested tables as ``[a.b]`` headers)."""
    lines: list[str] = []
    tables: list[tuple[str, Any]] = []
    for name, v in data.items():
        if isinstance(v, Mapping) or _is_table_array(v):
            tables.append((name, v))
        else:
            lines.append(f"{key(name)} = {value(v)}")
    for name, v in tables:
        path = f"{prefix}.{key(name)}" if prefix else key(name)
        if isinstance(v, Mapping):
            lines.append(f"\n[{path}]")
            lines.append(dumps(v, path).rstrip("\n"))
        else:
            for item in v:
                lines.append(f"\n[[{path}]]")
                lines.append(dumps(item, path).rstrip("\n"))
    return "\n".join(line for line in lines if line != "") + "\n"
