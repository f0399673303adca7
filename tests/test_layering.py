"""The layers stay apart: pure model cores never reach for the runtime's machinery."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mintactors"
MODEL_PACKAGES = ("hardware", "kernel")
FORBIDDEN_IN_MODEL = {"trio", "structlog", "time", "datetime", "random", "outcome"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def modules(*parts: str) -> list[Path]:
    return sorted((PACKAGE.joinpath(*parts)).rglob("*.py"))


@pytest.mark.parametrize("package", MODEL_PACKAGES)
def test_model_packages_import_no_trio_structlog_clock_or_global_random(package: str) -> None:
    """hardware/ and kernel/ are pure: no event loop, logging, wall clock or global random."""
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(imported_roots(path) & FORBIDDEN_IN_MODEL)
        for path in modules(package)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_only_the_runtime_imports_trio() -> None:
    """Trio appears in runtime/ alone, so the model and tools never depend on it."""
    outside = [
        str(path.relative_to(PACKAGE))
        for path in modules()
        if "trio" in imported_roots(path) and path.relative_to(PACKAGE).parts[0] != "runtime"
    ]
    assert outside == []


def test_the_checker_sees_imports() -> None:
    """The import scanner itself finds a trio import (so the tests above can fail)."""
    runtime_roots = set().union(*(imported_roots(p) for p in modules("runtime")))
    assert "trio" in runtime_roots
