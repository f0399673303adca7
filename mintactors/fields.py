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
    "MAX_COST_NS",
    "MAX_COUNT",
    "MAX_DURATION_NS",
    "MAX_INSTANT_NS",
    "Check",
    "ParameterError",
    "at_least",
    "between",
    "checked",
    "duration_ns",
    "internal",
    "ipv4_address",
    "mac_address",
    "one_of",
    "positive",
]

# Bounds on the numbers a config may give, chosen so that a run's virtual time stays
# far below 2^63 ns whatever the keys (the trace tools, Perfetto and pcap take time
# as a 64-bit integer), and documented in the README:
#
# * a duration of the traffic's timing (``start_ns``, ``interval_ns``, a burst's
#   period, jitter) is at most MAX_DURATION_NS, 2^36 ns (68.7 s of virtual time);
# * a cost, latency or delay (each field of a cost profile, the IPI latency, an
#   injection's delay) is at most MAX_COST_NS, 2^30 ns (1.07 s);
# * ``count`` is at most MAX_COUNT, 2^26 packets;
# so the last send is planned before 2^36 + 2^26 * 2^36 ns, about 2^62 ns, and the
# costs each packet adds on its way (some twenty of at most 2^30 ns) keep it there;
# * an absolute instant (``until_ns``, a listed send time) is at most 2^62 ns.

#: The longest duration of the traffic's timing, ns (2^36 ns, 68.7 s).
MAX_DURATION_NS = 1 << 36
#: The largest cost, latency or delay, ns (2^30 ns, 1.07 s).
MAX_COST_NS = 1 << 30
#: The most packets a run may send.
MAX_COUNT = 1 << 26
#: The latest absolute instant a config may name, ns.
MAX_INSTANT_NS = 1 << 62

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


def at_least(low: float, at_most: float | None = None) -> Check:
    """Accept values ``>= low`` (and ``<= at_most``, if given)."""

    def check(v: float) -> str | None:
        if v < low:
            return f"must be at least {_number(low)}, not {v}"
        if at_most is not None and v > at_most:
            return f"must be at most {_number(at_most)}, not {v}"
        return None

    return check


def positive(v: float) -> str | None:
    """Accept values ``> 0``."""
    return None if v > 0 else f"must be greater than 0, not {v}"


def between(low: float, high: float) -> Check:
    """Accept ``low <= value <= high``."""
    span = f"between {_number(low)} and {_number(high)}"
    return lambda v: None if low <= v <= high else f"must be {span}, not {v}"


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def duration_ns(low: int = 0, high: int = MAX_DURATION_NS) -> Check:
    """Accept a whole number of nanoseconds ``low <= value <= high`` (the bound named)."""

    bound = {MAX_DURATION_NS: "2^36", MAX_COST_NS: "2^30", MAX_INSTANT_NS: "2^62"}.get(high)
    most = f"{bound} ns ({high:,} ns)" if bound else f"{high:,} ns"

    def check(v: int) -> str | None:
        if v < low:
            return f"must be at least {low} ns, not {v}"
        if v > high:
            return f"must be at most {most}, not {v}"
        return None

    return check


def ipv4_address(v: str) -> str | None:
    """Accept a dotted-quad IPv4 address (``10.0.0.1``)."""
    parts = v.split(".")
    if len(parts) == 4 and all(
        p.isascii() and p.isdigit() and len(p) <= 3 and int(p) <= 255 and (p == "0" or p[0] != "0")
        for p in parts
    ):
        return None
    return f"must be an IPv4 address like 10.0.0.1, not {v!r}"


def mac_address(v: str) -> str | None:
    """Accept an Ethernet MAC address as six colon-separated hex bytes (``02:00:00:00:00:01``)."""
    parts = v.split(":")
    if len(parts) == 6 and all(
        len(p) == 2 and all(c in "0123456789abcdefABCDEF" for c in p) for p in parts
    ):
        return None
    return f"must be a MAC address like 02:00:00:00:00:01 (six hex bytes), not {v!r}"


def one_of(choices: Iterable[Any]) -> Check:
    """Accept one of ``choices``."""
    allowed = tuple(choices)
    return lambda v: None if v in allowed else f"must be one of {list(allowed)}, not {v!r}"
