"""The public API: an explicit, sorted __all__ whose every name resolves."""

from __future__ import annotations

import importlib
from importlib.resources import files

import pytest

PUBLIC_MODULES = [
    "mintactors",
    "mintactors.errors",
    "mintactors.experiments",
    "mintactors.experiments.inspect",
    "mintactors.hardware",
    "mintactors.kernel",
    "mintactors.plots",
    "mintactors.runtime",
    "mintactors.testing",
    "mintactors.traces",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    """Every name in __all__ exists, and __all__ is sorted and free of repeats."""
    module = importlib.import_module(name)
    exported = module.__all__
    assert list(exported) == sorted(exported)
    assert len(set(exported)) == len(exported)
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == []


def test_package_is_typed() -> None:
    """The package ships py.typed so type checkers use its hints."""
    assert files("mintactors").joinpath("py.typed").is_file()
