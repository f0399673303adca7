"""A strict structurer from parsed TOML to frozen attrs config classes.

cattrs would convert ``1.5`` to ``1`` for an ``int`` field and report validator
failures against the enclosing table; a config tool needs the opposite: refuse
anything that is not exactly of the declared type, and name the exact key with what
is allowed. Each field may carry a ``check`` (value -> problem text or None) in its
metadata (:func:`mintactors.fields.checked`).

Some tables have a *variant*: ``[generator]``'s ``pattern`` and ``[nic]``'s
``source`` choose an entry of a registry, and that entry's own attrs fields are
further keys of the same table (:func:`structure_variant`).
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import attrs

from mintactors.errors import ConfigError
from mintactors.registry import Registry

__all__ = [
    "describe_type",
    "field_names",
    "register_hook",
    "structure",
    "structure_variant",
    "unknown_key_error",
]

T = TypeVar("T")
#: Integers in a config fit in 64 bits, signed or unsigned (the seed may use all 64;
#: every other key documents a smaller bound).
INT64_LIMIT = 1 << 63
# Hooks for types the generic walk does not know (tagged unions, say).
TypeHook = Callable[[Any, str, str], Any]
_HOOKS: dict[Any, TypeHook] = {}


def register_hook(tp: Any, hook: TypeHook) -> None:
    """Structure values of type ``tp`` with ``hook(value, key, source)``."""
    _HOOKS[tp] = hook


def describe_type(tp: Any) -> str:
    """A short human name for a type, for error messages."""
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(describe_type(a) for a in get_args(tp) if a is not type(None))
    if origin is tuple:
        return f"an array of {describe_type(get_args(tp)[0])}"
    if attrs.has(tp):
        return "a table"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _convert(value: Any, tp: Any, key: str, source: str) -> Any:
    if tp in _HOOKS:
        return _HOOKS[tp](value, key, source)
    origin = get_origin(tp)
    wrong = ConfigError(source, key, f"must be {describe_type(tp)}, not {_kind(value)} {value!r}")
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong
        if not -INT64_LIMIT <= value < 2 * INT64_LIMIT:
            raise ConfigError(source, key, f"{value} does not fit in 64 bits")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong
        if not math.isfinite(value):
            # TOML has nan and inf; no number in a config means either.
            raise ConfigError(source, key, f"must be a finite number, not {value}")
        if isinstance(value, int) and not -INT64_LIMIT <= value < 2 * INT64_LIMIT:
            raise ConfigError(source, key, f"{value} does not fit in 64 bits")
        return float(value)
    if tp is str or tp is bool:
        if not isinstance(value, tp):
            raise wrong
        return value
    if origin is Literal:
        if value not in get_args(tp):
            raise wrong
        return value
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(tp) if a is not type(None)]
        for option in options:
            try:
                return _convert(value, option, key, source)
            except ConfigError:
                continue
        raise wrong
    if origin is tuple:
        if not isinstance(value, list):
            raise wrong
        item = get_args(tp)[0]
        return tuple(_convert(v, item, f"{key}[{i}]", source) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise wrong
        vt = get_args(tp)[1]
        return {k: _convert(v, vt, f"{key}.{k}", source) for k, v in value.items()}
    if attrs.has(tp):
        return structure(value, tp, source, key)
    raise TypeError(f"no structuring rule for {tp!r} at {key}")


def unknown_key_error(source: str, key: str, name: str, allowed: list[str]) -> ConfigError:
    """The error for a key that is not allowed, with the closest valid one if any."""
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return ConfigError(source, key, f"unknown key; {hint}allowed: {', '.join(sorted(allowed))}")


def structure(data: Any, cls: type[T], source: str, path: str = "") -> T:
    """Build ``cls`` from a TOML table, refusing unknown keys and wrong types.

    Raises:
        ConfigError: naming ``source``, the key and what was wrong.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(source, path, f"must be a table, not {_kind(data)}")
    fields = {f.name: f for f in attrs.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    prefix = f"{path}." if path else ""
    for name in data:
        if name not in fields or fields[name].metadata.get("internal"):
            allowed = [n for n, f in fields.items() if not f.metadata.get("internal")]
            raise unknown_key_error(source, prefix + name, name, allowed)
    kwargs = {}
    for name, field in fields.items():
        if field.metadata.get("internal"):
            continue
        key = prefix + name
        if name not in data:
            if field.default is attrs.NOTHING:
                raise ConfigError(source, key, f"is required ({describe_type(hints[name])})")
            continue
        value = _convert(data[name], hints[name], key, source)
        check = field.metadata.get("check")
        if check is not None:
            problem = check(value)
            if problem:
                raise ConfigError(source, key, problem)
        kwargs[name] = value
    return cls(**kwargs)


def field_names(cls: type) -> tuple[str, ...]:
    """The keys a file may give for attrs class ``cls`` (its non-internal fields)."""
    return tuple(f.name for f in attrs.fields(cls) if not f.metadata.get("internal"))


def structure_variant(
    data: Any,
    cls: type[T],
    source: str,
    path: str,
    *,
    selector: str,
    registry: Registry[type[Any]],
    shared: Iterable[str] = (),
) -> tuple[T, Any]:
    """Structure a table whose ``selector`` key chooses a registry entry with keys of its own.

    The table's keys are ``cls``'s fields plus the fields of the entry named by
    ``selector`` (``cls`` must have that field, with the default entry as its
    default). A key of another entry is refused, naming the entries it belongs to,
    except the ``shared`` keys (those of the default entry), which may stay in a
    file whose variant is changed with ``--set``.

    Returns:
        The ``cls`` instance and the entry's instance.

    Raises:
        ConfigError: naming ``source`` and the key.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(source, path, f"must be a table, not {_kind(data)}")
    default = attrs.fields_dict(cls)[selector].default  # type: ignore[arg-type]
    name = data.get(selector, default)
    if not isinstance(name, str) or name not in registry:
        raise ConfigError(
            source, f"{path}.{selector}", f"must be one of {list(registry.names())}, not {name!r}"
        )
    common = set(field_names(cls))
    own = set(field_names(registry[name]))
    owners: dict[str, list[str]] = {}
    for entry_name, entry in registry.items():
        for key in field_names(entry):
            owners.setdefault(key, []).append(entry_name)
    tolerated = set(shared)
    mine: dict[str, Any] = {}
    theirs: dict[str, Any] = {}
    for key, value in data.items():
        if key in common:
            mine[key] = value
        elif key in own:
            theirs[key] = value
        elif key in owners and key not in tolerated:
            users = " or ".join(f'"{n}"' for n in owners[key])
            raise ConfigError(
                source,
                f"{path}.{key}",
                f'is only used with {selector} = {users} ({selector} is "{name}")',
            )
        elif key not in owners:
            raise unknown_key_error(source, f"{path}.{key}", key, sorted(common | own))
        else:
            # A default entry's key kept beside another entry is unused, but a value
            # no entry could take (nan, a string for a number) is still a mistake.
            structure({key: value}, registry[str(default)], source, path)
    return structure(mine, cls, source, path), structure(theirs, registry[name], source, path)
