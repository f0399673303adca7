"""Watchable fields: dotted paths into the snapshot records, checked before a run.

A field is a component's snapshot name, then attributes of its record, with
``[i]`` (or ``.i``) for an element of a tuple: ``ring.rdt``, ``apic1.irr``,
``driver.napi.sched``, ``socket.rmem``, ``ring.descriptors[1].flags``,
``core1.running.label``. The path is checked against the records' types before
anything runs, so a typo costs no re-execution and gets the valid names back.

A watch evaluates its field after every delivery, so evaluating must be cheap.
Most records are small and are built whole; the ring's is not (every descriptor
is decoded), so its indices and single descriptors have their own getters that
read only what they need.
"""

from __future__ import annotations

import difflib
import functools
import re
import types
import typing
from collections.abc import Callable
from typing import Any

import attrs

from mintactors.experiments.inspect._targets import InspectError
from mintactors.machine import (
    RING,
    Machine,
    snapshot_component,
    snapshot_names,
    snapshot_reader,
)

__all__ = ["Field", "field_paths", "resolve_field"]

Step = str | int
#: Reads a field's value now.
Reader = Callable[[], object]
#: Makes a field's reader for one machine (a machine restored from a checkpoint is
#: another machine, so a reader is bound to the one a re-execution runs).
Binder = Callable[[Machine], Reader]

_PART = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$")


@attrs.frozen
class Field:
    """A watchable field: its path, and how to read it from a machine.

    Attributes:
        path: the path, written canonically (``ring.descriptors[1].flags``).
        component: the component's snapshot name.
        steps: attribute names and tuple indices after the component.
        bind: makes the function that reads the field from a given machine.
    """

    path: str
    component: str
    steps: tuple[Step, ...]
    bind: Binder = attrs.field(eq=False, repr=False)

    def read(self, machine: Machine) -> object:
        """The field's value in ``machine`` now (binds a reader each time: for one-offs)."""
        return self.bind(machine)()


def _parse(text: str) -> tuple[Step, ...]:
    steps: list[Step] = []
    for part in text.strip().split("."):
        if part.isdigit():
            steps.append(int(part))
            continue
        match = _PART.match(part)
        if match is None:
            raise InspectError(
                f"{text!r} is not a field path: write component.field[.field...], "
                "with [i] for an element (e.g. ring.rdt, ring.descriptors[1].flags)"
            )
        name, indices = match.groups()
        steps.append(name)
        steps += [int(i) for i in re.findall(r"\[(\d+)\]", indices)]
    return tuple(steps)


def _canonical(steps: tuple[Step, ...]) -> str:
    out = ""
    for step in steps:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def _record_of(hint: Any) -> Any:
    """The record class in ``hint`` (``X | None`` is ``X``); else the hint itself."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        members = [m for m in typing.get_args(hint) if m is not type(None)]
        return members[0] if len(members) == 1 else hint
    return hint


def _element(hint: Any) -> Any | None:
    """The element type of ``tuple[X, ...]`` (None: not a tuple of one kind)."""
    if typing.get_origin(hint) is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return _record_of(args[0])
    return None


def field_paths(cls: type, prefix: str = "", depth: int = 2) -> list[str]:
    """The dotted paths into record class ``cls`` (nested records ``depth`` deep)."""
    out: list[str] = []
    hints = typing.get_type_hints(cls)
    for f in attrs.fields(cls):
        path = f"{prefix}{f.name}"
        out.append(path)
        inner = _record_of(hints[f.name])
        element = _element(inner)
        if element is not None and attrs.has(element) and depth > 0:
            out += field_paths(element, f"{path}[i].", depth - 1)
        elif isinstance(inner, type) and attrs.has(inner) and depth > 0:
            out += field_paths(inner, f"{path}.", depth - 1)
    return out


def _check(component: str, record: type, steps: tuple[Step, ...]) -> None:
    """Walk ``steps`` through the types of ``record``; refuse a step that leads nowhere."""
    hint: Any = record
    for depth, step in enumerate(steps):
        here = _canonical((component, *steps[:depth]))
        kind = _record_of(hint)
        if isinstance(step, int):
            element = _element(kind)
            if element is None:
                raise InspectError(f"{here} is not a list: [{step}] cannot follow it")
            hint = element
            continue
        if not (isinstance(kind, type) and attrs.has(kind)):
            raise InspectError(f"{here} has no fields: .{step} cannot follow it")
        names = [f.name for f in attrs.fields(kind)]
        if step not in names:
            close = difflib.get_close_matches(step, names, n=1)
            hint_text = f" (did you mean {close[0]!r}?)" if close else ""
            valid = field_paths(kind, "", 0)
            raise InspectError(
                f"{here} has no field {step!r}{hint_text}; its fields: {', '.join(valid)}"
            )
        hint = typing.get_type_hints(kind)[step]


def _extract(value: object, steps: tuple[Step, ...]) -> object:
    for step in steps:
        if value is None:
            return None
        if isinstance(step, int):
            assert isinstance(value, tuple)
            if step >= len(value):
                return None
            value = value[step]
        else:
            value = getattr(value, step)
    return value


def _fast(component: str, steps: tuple[Step, ...]) -> Binder | None:
    """Readers for fields a watch wants cheaply: read in place, no record built.

    Each must give what the component's snapshot gives for that field; a test holds
    them to it.
    """
    match component, steps:
        case ("ring", (("rdh" | "rdt") as register,)):
            return _register(register.upper())
        case ("ring", (("next_to_clean" | "next_to_use") as attribute,)):
            return lambda m: functools.partial(getattr, m.driver.driver, attribute)
        case ("ring", ("descriptors", int(index), *rest)):
            return _descriptor(index, tuple(rest))
        case ("driver", ("napi", ("sched" | "missed") as flag)):
            return lambda m: functools.partial(getattr, m.driver, f"napi_{flag}")
        case ("socket", ("rmem",)):
            return lambda m: functools.partial(getattr, m.socket, "rmem")
    return None


def _descriptor(index: int, tail: tuple[Step, ...]) -> Binder:
    def bind(machine: Machine) -> Reader:
        ring = machine.ring
        return lambda: _extract(ring.descriptor_snapshot(index), tail)

    return bind


def _register(name: str) -> Binder:
    def bind(machine: Machine) -> Reader:
        read, size = machine.memory.register_reader(name), machine.ring.layout.ring_size
        return lambda: read() % size

    return bind


def resolve_field(machine: Machine, text: str) -> Field:
    """The field ``text`` names, checked against ``machine``'s components and records.

    Raises:
        InspectError: no such component or field; the message lists the valid ones.
    """
    steps = _parse(text)
    component, rest = steps[0], steps[1:]
    components = snapshot_names(machine)
    if not isinstance(component, str) or component not in components:
        close = difflib.get_close_matches(str(component), components, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InspectError(f"no component {component!r}{hint}; components: {', '.join(components)}")
    record = type(snapshot_component(machine, component))
    _check(component, record, rest)
    size = machine.ring.layout.ring_size
    if component == RING and rest[:1] == ("descriptors",) and len(rest) > 1:
        index = rest[1]
        if isinstance(index, int) and index >= size:
            raise InspectError(f"ring.descriptors[{index}]: the ring has {size} (0 to {size - 1})")
    bind = _fast(component, rest)
    if bind is None:

        def bind(m: Machine, name: str = component, path: tuple[Step, ...] = rest) -> Reader:
            snapshot = snapshot_reader(m, name)
            return lambda: _extract(snapshot(), path)

    return Field(_canonical(steps), component, rest, bind)
