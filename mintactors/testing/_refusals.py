"""Helpers for testing that a component refuses a message and changes nothing.

A component handed a message it cannot take raises a named error *before* it
changes any state (docs: the component contract). A test shows it by taking
:func:`plain_state` before and after and comparing the two; and it finds the
messages to try with :func:`message_kinds_outside`.
"""

from __future__ import annotations

import collections
import enum
import types
from collections.abc import Iterator, Mapping
from typing import Any, get_args, get_origin, get_type_hints

import attrs

import mintactors.messages

__all__ = ["example_message", "message_kinds_outside", "plain_state"]


def plain_state(component: object) -> dict[str, object]:
    """Every attribute of ``component`` as plain values that compare by content.

    Starts from ``vars(component)`` and leaves out callables (latency samplers,
    cost functions, step hooks, observers: wiring, not state) and iterators
    (planned instants: they cannot be read without consuming them). Containers are
    copied element by element; attrs records and other objects become their class
    name with their attributes. So the result is a deep copy that no later change
    to the component can reach, and two results are equal exactly when the states
    they were taken from are.
    """
    return _fields(component, {id(component)})


def _fields(obj: object, seen: set[int]) -> dict[str, object]:
    return {name: _plain(value, seen) for name, value in vars(obj).items() if _kept(value)}


def _kept(value: object) -> bool:
    """Whether ``value`` is state: neither wiring (a callable) nor an iterator."""
    if isinstance(value, Iterator):
        return False
    return isinstance(value, type) or not callable(value)


def _plain(value: object, seen: set[int]) -> object:
    """An immutable, content-compared copy of ``value`` (see :func:`plain_state`).

    An object met again on the way down (a core and its APIC point at each other)
    is written as a reference to its class, once.
    """
    if value is None or isinstance(value, bool | int | float | str | bytes | enum.Enum | type):
        return value
    if isinstance(value, bytearray | memoryview):
        return (type(value).__name__, bytes(value))
    if isinstance(value, list | tuple | collections.deque):
        return (type(value).__name__, tuple(_plain(item, seen) for item in value))
    if isinstance(value, set | frozenset):
        return (type(value).__name__, frozenset(_plain(item, seen) for item in value))
    if isinstance(value, Mapping):
        items = tuple((_plain(k, seen), _plain(v, seen)) for k, v in value.items() if _kept(v))
        return (type(value).__name__, items)
    cls = type(value)
    if attrs.has(cls):
        fields = ((f.name, getattr(value, f.name)) for f in attrs.fields(cls))
        return (cls.__name__, tuple((n, _plain(v, seen)) for n, v in fields if _kept(v)))
    if hasattr(value, "__dict__") or hasattr(value, "__slots__"):
        if id(value) in seen:
            return ("<ref>", cls.__name__)
        seen.add(id(value))
        if not hasattr(value, "__dict__"):
            names = getattr(cls, "__slots__", ())
            slots = ((n, getattr(value, n)) for n in names if hasattr(value, n))
            return (cls.__name__, tuple((n, _plain(v, seen)) for n, v in slots if _kept(v)))
        return (cls.__name__, tuple(_fields(value, seen).items()))
    raise TypeError(f"plain_state cannot copy a {type(value).__name__}")


def message_kinds_outside(union: Any) -> tuple[type, ...]:
    """Every message class of :mod:`mintactors.messages` that is not in ``union``.

    ``union`` is a component's input union (``ApicInput`` ...); the classes
    returned are what a mis-wired machine could deliver to it instead.
    """
    taken = set(get_args(union)) or {union}
    exported = (getattr(mintactors.messages, name) for name in mintactors.messages.__all__)
    return tuple(
        kind
        for kind in exported
        if isinstance(kind, type) and attrs.has(kind) and kind not in taken
    )


def example_message(kind: type) -> object:
    """One instance of the attrs message class ``kind``, every field a simple value.

    Zero for numbers, empty strings, bytes and tuples, None where allowed, an
    enum's first member, and nested records built the same way: enough to deliver
    the message, with no meaning of its own.
    """
    hints = get_type_hints(kind)
    return kind(**{field.name: _example(hints[field.name]) for field in attrs.fields(kind)})


def _example(hint: Any) -> object:
    origin = get_origin(hint)
    if origin is types.UnionType:
        options = get_args(hint)
        return None if type(None) in options else _example(options[0])
    if origin is tuple:
        return ()
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return next(iter(hint))
    if isinstance(hint, type) and attrs.has(hint):
        return example_message(hint)
    if hint in (int, str, bytes, bool):
        return hint()
    raise TypeError(f"example_message cannot build a value of type {hint!r}")
