"""Tie-break policies: which of several deliveries due at the same instant goes first.

Virtual time and priority order most deliveries. What is left — two or more
deliveries due at the same nanosecond with the same priority — is where a real
machine's outcome depends on races, so the choice is a named, seeded policy rather
than an accident of Trio's task order (ns-3's RandomEventSet and SimPy's event
queue make the same split).

A policy sees the tied deliveries in send order and returns the index of the one
to deliver now. The others stay queued and are offered again, with anything newly
scheduled for that instant, at the next decision.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Protocol

import attrs

from mintactors.runtime._rng import rng_stream

__all__ = [
    "FifoPolicy",
    "PendingDelivery",
    "RandomPolicy",
    "TieBreakPolicy",
    "make_policy",
    "policy_names",
    "register_policy",
]


@attrs.frozen(slots=True)
class PendingDelivery:
    """A read-only view of one queued delivery, as a policy sees it."""

    time_ns: int
    priority: int
    seq: int
    actor: str
    kind: str
    source: str


class TieBreakPolicy(Protocol):
    """Chooses among deliveries due at the same instant and priority."""

    @property
    def name(self) -> str:
        """The policy's name, as written in configs and trace headers."""
        ...

    @property
    def chooses(self) -> bool:
        """False when send order alone decides, so ties need not be gathered."""
        ...

    def choose(self, candidates: Sequence[PendingDelivery]) -> int:
        """Return the index, in ``candidates``, of the delivery to make now."""
        ...


@attrs.define
class FifoPolicy:
    """Same-instant deliveries go in the order they were sent."""

    name: str = "fifo"
    chooses: bool = False

    def choose(self, candidates: Sequence[PendingDelivery]) -> int:
        """Send order: the first candidate."""
        return 0


@attrs.define
class RandomPolicy:
    """Each decision picks uniformly among the tied deliveries, from a seeded stream.

    Over a run this yields a seeded random interleaving of every set of
    same-instant deliveries, exposing outcomes that depend on their order.
    """

    rng: random.Random
    name: str = "random"
    chooses: bool = True

    def choose(self, candidates: Sequence[PendingDelivery]) -> int:
        """A uniform draw among the candidates."""
        return self.rng.randrange(len(candidates))


PolicyFactory = Callable[[int], TieBreakPolicy]

_REGISTRY: dict[str, PolicyFactory] = {
    "fifo": lambda seed: FifoPolicy(),
    "random": lambda seed: RandomPolicy(rng_stream(seed, "scheduler.tie-break")),
}


def register_policy(name: str, factory: PolicyFactory) -> None:
    """Make a policy available by ``name``; ``factory(seed)`` builds one per run."""
    _REGISTRY[name] = factory


def policy_names() -> tuple[str, ...]:
    """The names :func:`make_policy` accepts, sorted."""
    return tuple(sorted(_REGISTRY))


def make_policy(name: str, seed: int) -> TieBreakPolicy:
    """Build the policy called ``name`` for a run seeded ``seed``.

    Raises:
        ValueError: ``name`` is not a known policy.
    """
    try:
        factory = _REGISTRY[name]
    except KeyError:
        allowed = ", ".join(policy_names())
        raise ValueError(f"unknown tie-break policy {name!r} (allowed: {allowed})") from None
    return factory(seed)
