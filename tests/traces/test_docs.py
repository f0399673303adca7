"""docs/trace-format.md describes every kind of line a trace can hold."""

from __future__ import annotations

import re

import attrs

import mintactors.messages
from mintactors.notes import NoteKind
from tests._paths import ROOT

DOC = (ROOT / "docs" / "trace-format.md").read_text()


def documented_kinds() -> set[str]:
    """The kinds named in the first column of the doc's tables."""
    return set(re.findall(r"^\| `(\w+)` \|", DOC, flags=re.MULTILINE))


def message_kinds() -> set[str]:
    """The message classes of mintactors.messages (not its enums and input unions)."""
    exported = {name: getattr(mintactors.messages, name) for name in mintactors.messages.__all__}
    return {
        obj.__name__  # an input union of one message is that message class itself
        for obj in exported.values()
        if isinstance(obj, type) and attrs.has(obj)
    }


NOTE_LITERAL = r"Note\(\s*\"(\w+)\""


def note_literals_in_source() -> set[str]:
    """Note kinds written as string literals in the model's source (there should be none)."""
    kinds: set[str] = set()
    for package in ("hardware", "kernel"):
        for path in (ROOT / "mintactors" / package).rglob("*.py"):
            kinds.update(re.findall(NOTE_LITERAL, path.read_text()))
    return kinds


def test_every_message_kind_is_documented() -> None:
    """Each message class (a delivery line's kind) has a row in the deliveries table."""
    assert "WriteIcr" in message_kinds()
    assert message_kinds() - documented_kinds() == set()


def test_every_note_kind_is_documented() -> None:
    """Each note kind a component may write (NoteKind) has a row in the notes table."""
    assert {str(kind) for kind in NoteKind} - documented_kinds() == set()


def test_components_name_note_kinds_through_note_kind() -> None:
    """No component writes a note kind as a bare string, so NoteKind lists them all."""
    assert re.findall(NOTE_LITERAL, 'Note("IpiSent", fields)') == ["IpiSent"]
    assert note_literals_in_source() == set()


def test_the_header_and_end_lines_are_documented() -> None:
    """The trace_header and run_end lines have their own sections."""
    assert "### `trace_header`" in DOC
    assert "### `run_end`" in DOC
