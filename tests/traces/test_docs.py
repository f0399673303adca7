"""docs/trace-format.md describes every kind of line a trace can hold."""

from __future__ import annotations

import re

import mintactors.messages
from tests._paths import ROOT

DOC = (ROOT / "docs" / "trace-format.md").read_text()


def documented_kinds() -> set[str]:
    """The kinds named in the first column of the doc's tables."""
    return set(re.findall(r"^\| `(\w+)` \|", DOC, flags=re.MULTILINE))


def note_kinds_in_source() -> set[str]:
    """Every note kind a model component can write, found in the package source."""
    kinds: set[str] = set()
    for package in ("hardware", "kernel"):
        for path in (ROOT / "mintactors" / package).rglob("*.py"):
            kinds.update(re.findall(r"Note\(\s*\"(\w+)\"", path.read_text()))
    return kinds


def test_every_message_kind_is_documented() -> None:
    """Each message class (a delivery line's kind) has a row in the deliveries table."""
    assert set(mintactors.messages.__all__) - documented_kinds() == set()


def test_every_note_kind_is_documented() -> None:
    """Each note a component writes has a row in the notes table."""
    found = note_kinds_in_source()
    assert "PacketReceived" in found
    assert found - documented_kinds() == set()


def test_the_header_and_end_lines_are_documented() -> None:
    """The trace_header and run_end lines have their own sections."""
    assert "### `trace_header`" in DOC
    assert "### `run_end`" in DOC
