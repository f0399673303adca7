"""A registry: the one place an extension point's entries are listed by name.

Every extension point (driver variants, timing patterns, NIC sources, oracles) is
a :class:`Registry`. Adding an entry is one class plus one ``@REGISTRY.register``
line in the module that defines it; the config checks, the builder and the docs
all read the registry, so nothing else is keyed by the name.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries of one extension point, by name, in registration order.

    Args:
        what: what an entry is, for messages ("timing pattern").
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the decorated entry under ``name``.

        Raises:
            ValueError: ``name`` is taken.
        """

        def add(entry: T) -> T:
            self.add(name, entry)
            return entry

        return add

    def add(self, name: str, entry: T) -> None:
        """Register ``entry`` under ``name``.

        Raises:
            ValueError: ``name`` is taken.
        """
        if name in self._entries:
            raise ValueError(f"{self.what} {name!r} is registered twice")
        self._entries[name] = entry

    def __getitem__(self, name: str) -> T:
        return self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str) -> T | None:
        """The entry called ``name``, or None."""
        return self._entries.get(name)

    def names(self) -> tuple[str, ...]:
        """Every name, in registration order."""
        return tuple(self._entries)

    def items(self) -> tuple[tuple[str, T], ...]:
        """(name, entry) pairs, in registration order."""
        return tuple(self._entries.items())

    def unknown(self, name: str) -> str:
        """The problem text for a name that is not registered."""
        close = difflib.get_close_matches(name, self.names(), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown {self.what} {name!r}; {hint}allowed: {', '.join(self.names())}"
