"""attrs fields whose values a config check must accept, and the common checks.

Config sections and the parameters of extensions (a timing pattern, a NIC source,
an oracle) are plain attrs classes; a field made with :func:`checked` carries a
``check`` (value -> problem text, or None when the value is fine) that the config
structurer runs, so the rule for a value sits on the field that holds it. This
module imports nothing else of mintactors, so the pure model can declare its
parameters without depending on the config layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs

from mintactors.errors import MintactorsError

__all__ = [
    "Check",
    "ParameterError",
    "at_least",
    "between",
    "checked",
    "internal",
    "one_of",
    "positive",
]

Check = Callable[[Any], str | None]


class ParameterError(MintactorsError):
    """A parameter that passed its own check is wrong together with the others.

    Raised by an extension's cross-key checks; the config layer turns it into a
    :class:`~mintactors.errors.ConfigError` naming the file and the table.

    Attributes:
        key: the offending key, relative to its table (``burst_gap_ns``).
        problem: what is wrong and what is allowed.
    """

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


def checked(default: Any = attrs.NOTHING, check: Check | None = None, **kw: Any) -> Any:
    """An attrs field whose value ``check`` must accept (returning None)."""
    return attrs.field(default=default, metadata={"check": check}, **kw)


def internal(default: Any = None, *, eq: bool = False, **kw: Any) -> Any:
    """An attrs field the structurer never reads from a file (derived or loaded).

    With ``factory=`` given, ``default`` is ignored. By default the field takes no
    part in equality (a loaded file's contents, a source path); pass ``eq=True``
    for one that is part of what the object means.
    """
    if "factory" in kw:
        return attrs.field(metadata={"internal": True}, eq=eq, **kw)
    return attrs.field(default=default, metadata={"internal": True}, eq=eq, **kw)


def at_least(low: float) -> Check:
    """Accept values ``>= low``."""
    return lambda v: None if v >= low else f"must be at least {low}, not {v}"


def positive(v: float) -> str | None:
    """Accept values ``> 0``."""
    return None if v > 0 else f"must be greater than 0, not {v}"


def between(low: int, high: int) -> Check:
    """Accept ``low <= value <= high``."""
    return lambda v: None if low <= v <= high else f"must be between {low} and {high}, not {v}"


def one_of(choices: Iterable[Any]) -> Check:
    """Accept one of ``choices``."""
    allowed = tuple(choices)
    return lambda v: None if v in allowed else f"must be one of {list(allowed)}, not {v!r}"
