"""Broken configs, generated: one line and exit 2, never a traceback; accepted ones run.

A valid config is built from the schema: one of the shipped configs, with a few
more keys set, each key taken from the config's attrs classes and the registries
(timing patterns, NIC sources, oracles, cost fields) and its value from the key's
default or a value a shipped config gives it; it must pass ``check``. Then one value
or key is corrupted: a value of the wrong type, a number out of any sensible range
(``nan``, ``inf``, 2^64, -1 ...), a malformed address, an unknown or misspelt key, a
table where a value should be, a key given twice.

``mintactors check`` must then either refuse it (exit 2, exactly one line on stderr,
no traceback) or accept it, and an accepted config must run (a short run) without
the simulation failing: ``check`` promises that what it accepts can run.
"""

from __future__ import annotations

import contextlib
import io
import math
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from mintactors.cli import main
from mintactors.config import Config
from mintactors.costs import COST_FIELDS
from mintactors.kernel.patterns import PATTERNS
from mintactors.oracles import ORACLES
from mintactors.sources import NIC_SOURCES
from tests._paths import CONFIGS
from tests._toml import dumps

#: Examples per test: a few hundred in CI, more in the ``attack`` profile.
EXAMPLES = max(300, settings.default.max_examples)

#: Shipped configs a generated one starts from (their files are resolved here).
BASES = sorted(
    p
    for p in [*CONFIGS.glob("*.toml"), *CONFIGS.glob("scenarios/*.toml")]
    if "sweep" not in tomllib.loads(p.read_text())
)


def _fields(cls: type) -> dict[str, Any]:
    """A class's config keys and their defaults (NOTHING where required)."""
    out = {}
    for field in attrs.fields(cls):
        if field.metadata.get("internal"):
            continue
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()  # type: ignore[union-attr]
        out[field.name] = default
    return out


#: Keys of a registry entry: (table, key) -> (selector, the entry's name).
OWNERS: dict[tuple[str, ...], tuple[str, str]] = {}


def _schema() -> dict[tuple[str, ...], list[Any]]:
    """Every key path a config may have, with candidate valid values (defaults first)."""
    schema: dict[tuple[str, ...], list[Any]] = {}

    def add(path: tuple[str, ...], default: Any) -> None:
        values = schema.setdefault(path, [])
        if default is not attrs.NOTHING and _plain(default) and default not in values:
            values.append(_plain_value(default))

    for table in attrs.fields(Config):
        if table.metadata.get("internal") or table.name in ("inject", "costs", "oracles"):
            continue
        cls = table.type if isinstance(table.type, type) else None
        if cls is None or not attrs.has(cls):
            continue
        for name, default in _fields(cls).items():
            if attrs.has(type(default)) or name in ("nodes", "shared", "timing"):
                continue
            add((table.name, name), default)
    for registry, table, selector in (
        (PATTERNS, "generator", "pattern"),
        (NIC_SOURCES, "nic", "source"),
    ):
        for entry_name, entry in registry.items():
            for name, default in _fields(entry).items():
                add((table, name), default)
                OWNERS.setdefault((table, name), (selector, entry_name))
    for _, oracle in ORACLES.items():
        for name, default in _fields(oracle).items():
            add(("oracles", name), default)
    for name in ("profile", *COST_FIELDS):
        add(("costs", name), attrs.NOTHING)
    for name in ("id", "cores", "memory_base", "memory_size"):
        add(("machine", "nodes", name), attrs.NOTHING)
    for name in ("base", "size"):
        add(("machine", "shared", name), attrs.NOTHING)
    for name in ("step", "action", "occurrence", "delay_ns", "core"):
        add(("inject", name), attrs.NOTHING)
    add(("generator", "pattern"), attrs.NOTHING)
    add(("nic", "source"), attrs.NOTHING)
    # Values the shipped configs give: valid examples of every key they use.
    for base in BASES:
        for path, v in _leaves(tomllib.loads(base.read_text())):
            if path in schema and v not in schema[path]:
                schema[path].append(v)
    return schema


def _plain(v: Any) -> bool:
    return isinstance(v, bool | int | float | str | tuple | list) or v is None


def _plain_value(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


def _leaves(table: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[Any, Any]]:
    for name, v in table.items():
        path = (*prefix, name)
        if isinstance(v, Mapping):
            yield from _leaves(v, path)
        elif isinstance(v, list) and v and all(isinstance(x, Mapping) for x in v):
            for item in v:
                yield from _leaves(item, path)
        else:
            yield path, v


SCHEMA = _schema()
#: Keys a valid config may set freely (a node list, injections and the selectors of
#: patterns and sources need keys that go with them, so they come from the bases).
SETTABLE = sorted(
    p
    for p, values in SCHEMA.items()
    if values
    and p[0] != "inject"
    and p[:2] != ("machine", "nodes")
    and p not in (("generator", "pattern"), ("nic", "source"))
)
EVERY_KEY = sorted(SCHEMA)


def _settable(raw: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    """Whether the config's own pattern or source (the base's) owns ``path``."""
    owner = OWNERS.get(path)
    if owner is None or owner[1] in ("fixed", "mint"):  # the defaults' keys may stay
        return True
    selector, name = owner
    table = raw.get(path[0], {})
    return isinstance(table, Mapping) and table.get(selector) == name


#: Values of the wrong kind, or of the right kind far outside any sensible range.
BAD_VALUES: list[Any] = [
    "text",
    "",
    True,
    [1, 2],
    {"a": 1},
    1.5,
    -1,
    0,
    -(2**63) - 1,
    2**31,
    2**63,
    2**64,
    10**30,
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    -1e308,
    1e-308,
    "300.0.0.1",
    "abc",
    "::1",
    "zz:zz:zz:zz:zz:zz",
    "02:00",
    "\u0000",
    "x" * 300,
    [],
    [[1]],
    [[1, 2], [3]],
    [[1, "2"]],
    [[-1, 5]],
    [[64, math.nan]],
]


def _get(raw: dict[str, Any], path: tuple[str, ...]) -> Any:
    table: Any = raw
    for part in path[:-1]:
        table = table.setdefault(part, {})
        if isinstance(table, list):  # [[machine.nodes]] / [[inject]]: the first entry
            if not table:
                table.append({})
            table = table[0]
    return table


def _set(raw: dict[str, Any], path: tuple[str, ...], v: Any) -> None:
    if path[0] == "inject" and "inject" not in raw:
        raw["inject"] = [{"step": "entered", "action": "ipi"}]
    if path[:2] == ("machine", "nodes") and "nodes" not in raw.get("machine", {}):
        raw.setdefault("machine", {})["nodes"] = [
            {"id": 0, "cores": [0], "memory_base": 0, "memory_size": 0x1000_0000},
            {"id": 1, "cores": [1], "memory_base": 0x1000_0000, "memory_size": 0x1000_0000},
        ]
    table = _get(raw, path)
    if isinstance(table, dict):
        table[path[-1]] = v


@st.composite
def valid_configs(draw: st.DrawFn) -> tuple[Path, dict[str, Any]]:
    """A shipped config with up to three keys set to values the schema gives them."""
    base = draw(st.sampled_from(BASES))
    raw = tomllib.loads(base.read_text())
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(SETTABLE))
        if _settable(raw, path):
            _set(raw, path, draw(st.sampled_from(SCHEMA[path])))
    return base, raw


#: Values no key accepts: any check must refuse them, whatever the key.
NEVER_VALID: list[Any] = [math.nan, math.inf, -math.inf, 1e308, -1e308, 2**64, 10**30, {"a": 1}]


@st.composite
def broken_configs(draw: st.DrawFn) -> tuple[Path, str, str, bool]:
    """A valid config's TOML with one value or key corrupted, how, and if it must be refused.

    A corruption *must* be refused when no key could accept it: a value in
    NEVER_VALID, an unknown or misspelt key, a table replaced by a value, a key
    given twice. Others (0, -1, "") may happen to be valid for the key drawn.
    """
    base, raw = draw(valid_configs())
    how = draw(st.sampled_from(["value", "never valid", "unknown key", "typo", "table", "twice"]))
    path = draw(st.sampled_from(EVERY_KEY))
    if how in ("value", "never valid"):
        bad = draw(st.sampled_from(BAD_VALUES if how == "value" else NEVER_VALID))
        _set(raw, path, bad)
        return base, dumps(raw), f"{'.'.join(path)} = {bad!r}"[:120], how == "never valid"
    if how == "unknown key":
        _set(raw, (*path[:-1], "frobnicate"), 1)
        return base, dumps(raw), f"{'.'.join(path[:-1])}.frobnicate", True
    if how == "typo":
        name = path[-1]
        cut = draw(st.integers(0, len(name) - 1))
        typo = name[:cut] + name[cut + 1 :] or "x"
        _set(raw, (*path[:-1], typo), 1)
        return base, dumps(raw), f"typo of {'.'.join(path)}", (*path[:-1], typo) not in SCHEMA
    if how == "table":
        raw[path[0]] = draw(st.sampled_from([3, "x", [1], True]))
        return base, dumps(raw), f"[{path[0]}] = scalar", True
    # A key given twice, right under its table's header.
    table, name = path[0], path[-1]
    text = dumps(raw)
    header = f"\n[{table}]\n"
    twice = f"{name} = 1\n{name} = 2\n"
    if header in text:
        text = text.replace(header, header + twice, 1)
    else:
        text += header + twice
    return base, text, f"{table}.{name} twice", True


def _main(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_the_generator_makes_valid_configs() -> None:
    """The starting point of every broken config passes check."""
    with tempfile.TemporaryDirectory() as tmp:
        for base in BASES:
            raw = tomllib.loads(base.read_text())
            path = Path(tmp) / base.name
            path.write_text(dumps(raw))
            _copy_files(base, Path(tmp))
            assert _main(["check", str(path)])[0] == 0, base


def _copy_files(base: Path, directory: Path) -> None:
    """The files a shipped config names by relative path (captures, drivers), beside its copy."""
    for sub in base.parent.iterdir():
        if sub.is_dir() and not sub.name.startswith((".", "__")):
            target = directory / sub.name
            target.mkdir(exist_ok=True)
            for item in sub.iterdir():
                if item.is_file():
                    (target / item.name).write_bytes(item.read_bytes())


@settings(max_examples=EXAMPLES)
@given(broken_configs())
def test_a_broken_config_is_one_line_and_exit_2_or_runs(
    case: tuple[Path, str, str, bool],
) -> None:
    """check refuses in one line (exit 2) or accepts; what it accepts runs without failing."""
    base, text, what, must_refuse = case
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        _copy_files(base, directory)
        path = directory / "broken.toml"
        path.write_text(text)
        code, _, err = _main(["check", str(path)])
        event(f"check exit {code}")
        lines = err.splitlines()
        assert code in (0, 2), (what, err)
        assert code == 2 or not must_refuse, (what, "accepted")
        if code == 2:
            assert len(lines) == 1, (what, err)
            assert lines[0].startswith("mintactors: error: "), (what, err)
            return
        assert lines == [], (what, err)
        # Accepted: a short run must not fail (exit 1 only for an oracle violation).
        args = ["run", str(path), "--out", str(directory / "out"), "--trace", "off"]
        code, _, err = _main([*args, "--until", "200000"])
        assert code in (0, 1, 2), (what, err)
        if code == 1:
            assert err.startswith("mintactors: oracle violated"), (what, err)
        if code == 2:  # refused only for something the run itself found (an output)
            assert len(err.splitlines()) == 1, (what, err)


@settings(max_examples=max(60, settings.default.max_examples // 2))
@given(valid_configs())
def test_a_config_check_accepts_runs(case: tuple[Path, dict[str, Any]]) -> None:
    """Whatever check accepts runs (a short run) without the simulation failing."""
    base, raw = case
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        _copy_files(base, directory)
        path = directory / "valid.toml"
        path.write_text(dumps(raw))
        code, _, err = _main(["check", str(path)])
        assume(code == 0)
        args = ["run", str(path), "--out", str(directory / "out"), "--trace", "off"]
        code, _, err = _main([*args, "--until", "200000"])
        assert code == 0 or err.startswith("mintactors: oracle violated"), err
