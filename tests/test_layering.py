"""The layers stay apart: each package imports only the layers below it.

The table below is the architecture (docs/architecture.md draws it). The check
reads every module's imports from its source (the ones that run: imports under
``if TYPE_CHECKING:`` are for annotations only and are skipped), maps each to its
layer, and refuses any edge the table does not allow. For the pure model and the
runtime it also follows imports transitively, third-party ones included.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._paths import PACKAGE, ROOT

#: Modules directly in mintactors/ that everything may use: records and helpers
#: that import nothing above themselves.
BASE = {
    "_version",
    "captures",
    "distributions",
    "effects",
    "errors",
    "fields",
    "histogram",
    "messages",
    "names",
    "notes",
    "packets",
    "registry",
    "stats",
    "tomlfile",
}

_MODEL = {"base", "hardware", "kernel"}
#: layer -> layers it may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "runtime": {"base"},
    "costs": {"base"},
    "hardware": {"base"},
    "kernel": {"base", "hardware"},
    "sources": {*_MODEL, "costs"},
    "oracles": set(_MODEL),
    "config": {*_MODEL, "costs", "runtime", "sources", "oracles"},
    "machine": {*_MODEL, "costs", "runtime", "sources", "config"},
    "traces": {"base", "runtime"},
    "plots": {"base", "traces"},
    "experiments": {
        *_MODEL,
        "costs",
        "runtime",
        "sources",
        "oracles",
        "config",
        "machine",
        "traces",
    },
    "testing": {
        *_MODEL,
        "costs",
        "runtime",
        "sources",
        "oracles",
        "config",
        "machine",
        "experiments",
    },
    "cli": {
        *_MODEL,
        *("costs", "runtime", "sources", "oracles", "config", "machine", "experiments"),
        *("traces", "plots"),
    },
    # The root package: its public names load lazily, through importlib.
    "api": {"base"},
    "__main__": {"cli"},
}

#: Third-party and standard modules the pure model and the runtime must never reach.
FORBIDDEN = {
    "hardware": {"trio", "structlog", "time", "datetime", "random", "outcome"},
    "kernel": {"trio", "structlog", "time", "datetime", "random", "outcome"},
    "runtime": {"time", "datetime"},
}


def layer_of(module: str) -> str:
    """The layer of ``mintactors.x.y`` (``base`` for the shared top-level modules)."""
    parts = module.split(".")
    assert parts[0] == "mintactors", module
    if len(parts) == 1:
        return "api"
    return "base" if parts[1] in BASE else parts[1]


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(path: Path) -> Iterator[str]:
    """Absolute names a module imports when it runs (not under ``if TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "mintactors":
                yield from (f"mintactors.{alias.name}" for alias in node.names)
            else:
                yield node.module


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_imports_only_the_layers_below_it() -> None:
    """No module imports a layer its own layer may not use."""
    offending = []
    for name, path in all_modules().items():
        mine = layer_of(name)
        assert mine in ALLOWED, f"{name}: layer {mine!r} is missing from the table"
        for imported in runtime_imports(path):
            if not imported.startswith("mintactors"):
                continue
            theirs = layer_of(imported)
            if theirs != mine and theirs not in ALLOWED[mine]:
                offending.append(f"{name} ({mine}) -> {imported} ({theirs})")
    assert offending == []


def _closure(start: str, modules: dict[str, Path]) -> set[str]:
    """Every name reachable from ``start`` through runtime imports (third-party as roots)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if not name.startswith("mintactors"):
            continue
        # Importing a.b.c runs a/__init__ and a/b/__init__ too.
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        path = modules.get(name)
        if path is None:  # ``from package import name`` where name is not a module
            continue
        todo += list(runtime_imports(path))
    return seen


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_the_pure_model_and_the_runtime_reach_nothing_forbidden_transitively(
    package: str,
) -> None:
    """Following every import, hardware/ and kernel/ never reach trio, structlog, the
    clock or global random, and runtime/ never the clock."""
    modules = all_modules()
    reached: set[str] = set()
    for name in modules:
        if layer_of(name) == package:
            reached |= _closure(name, modules)
    roots = {r.split(".")[0] for r in reached if not r.startswith("mintactors")}
    layers = {layer_of(r) for r in reached if r.startswith("mintactors")} - {package}
    assert roots & FORBIDDEN[package] == set()
    assert layers <= ALLOWED[package] | {"api"}


def test_importing_the_model_loads_no_trio_structlog_or_experiments() -> None:
    """A fresh interpreter that imports hardware and kernel has none of them loaded."""
    code = (
        "import sys, mintactors.hardware, mintactors.kernel\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('trio', 'structlog')"
        " or m.startswith(('mintactors.experiments', 'mintactors.config', 'mintactors.cli')))\n"
        "print(bad)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]"


def test_the_checker_sees_imports_and_skips_type_checking_blocks(tmp_path: Path) -> None:
    """The scanner finds a plain import and ignores one under ``if TYPE_CHECKING``."""
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nimport trio\n"
        "if TYPE_CHECKING:\n    from mintactors.machine import Machine\n"
    )
    assert set(runtime_imports(module)) == {"typing", "trio"}
