"""The helpers that show a refused message changed nothing."""

from __future__ import annotations

import itertools
from collections import deque

import attrs
import pytest

import mintactors.messages
from mintactors.messages import (
    ApicInput,
    DrainStores,
    IpiMessage,
    MemoryInput,
    MemoryWrite,
    WriteIcr,
)
from mintactors.testing import example_message, message_kinds_outside, plain_state


@attrs.define
class Record:
    values: list[int]


class Component:
    """Plain attributes, nested containers, wiring and an iterator."""

    def __init__(self) -> None:
        self.count = 1
        self.queue: deque[tuple[int, bytes]] = deque([(1, b"a")])
        self.table: dict[str, list[int]] = {"x": [1]}
        self.record = Record([1])
        self.buffer = bytearray(b"ab")
        self.cost = lambda n: n
        self.instants = itertools.count()


def test_equal_states_compare_equal_and_every_nested_change_shows() -> None:
    """Two untouched copies are equal; a change at any depth makes them differ."""
    component = Component()
    before = plain_state(component)
    assert plain_state(component) == before
    changes = [
        lambda c: setattr(c, "count", 2),
        lambda c: c.queue.append((2, b"b")),
        lambda c: c.table["x"].append(2),
        lambda c: c.record.values.append(2),
        lambda c: c.buffer.extend(b"c"),
    ]
    for change in changes:
        changed = Component()
        change(changed)
        assert plain_state(changed) != before


def test_wiring_and_iterators_are_left_out() -> None:
    """Callables and iterators are not state: drawing from an iterator changes nothing."""
    component = Component()
    before = plain_state(component)
    assert "cost" not in before
    assert "instants" not in before
    next(component.instants)
    assert plain_state(component) == before


def test_an_object_it_cannot_copy_is_an_error() -> None:
    """A value with no attributes and no known shape is refused rather than compared by id."""
    component = Component()
    component.count = object()  # type: ignore[assignment]
    with pytest.raises(TypeError, match="cannot copy"):
        plain_state(component)


def test_every_message_class_has_an_example() -> None:
    """example_message builds each message class of the model."""
    kinds = message_kinds_outside(int)
    assert WriteIcr in kinds
    for kind in kinds:
        assert type(example_message(kind)) is kind


def test_the_kinds_outside_a_union_are_the_other_message_classes() -> None:
    """Memory takes writes and store-buffer drains; every other message class is outside."""
    exported = (getattr(mintactors.messages, name) for name in mintactors.messages.__all__)
    classes = {kind for kind in exported if isinstance(kind, type) and attrs.has(kind)}
    assert set(message_kinds_outside(MemoryInput)) == classes - {MemoryWrite, DrainStores}
    assert IpiMessage not in message_kinds_outside(ApicInput)
