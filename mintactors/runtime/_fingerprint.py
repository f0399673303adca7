"""Schedule fingerprints: one 64-bit hash of the order in which actors took messages.

Two runs *interleave the same way* when their actors handle the same kinds of
message in the same order, whatever the times. So the fingerprint folds, for each
delivery in delivery order, the pair (actor name, message class name) and nothing
else: a tie broken the other way, a random latency that reorders two events, a
driver change that adds a step, each changes it; a latency that moves every event
without reordering any does not.

It is an incremental FNV-1a-style hash over 64-bit words, one word per delivery,
with an xorshift after each multiply so the low bits depend on the high ones too
(plain FNV over whole words leaves bit *k* depending only on bits <= *k*). The word
for a pair is a BLAKE2b digest of the two names, computed once per pair and cached,
so the result is the same in every process and under every ``PYTHONHASHSEED``.
Because the pair is exactly what a full-level trace line carries (``actor``,
``kind``), :func:`fingerprint_of` recomputes the fingerprint from a trace.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["ScheduleFingerprint", "fingerprint_of"]

_FNV64_OFFSET = 0xCBF29CE484222325
_FNV64_PRIME = 0x100000001B3
_MASK64 = (1 << 64) - 1


def _pair_code(actor: str, kind: str) -> int:
    """The stable 64-bit word for "``actor`` handled a ``kind``"."""
    digest = hashlib.blake2b(f"{actor}\0{kind}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class ScheduleFingerprint:
    """The running fingerprint of one run's delivery order.

    Example:
        >>> fp = ScheduleFingerprint()
        >>> fp.add_kind("driver", "InterruptEntry")
        >>> fp.hexdigest() == fingerprint_of([("driver", "InterruptEntry")])
        True
    """

    __slots__ = ("_codes", "_state", "deliveries")

    def __init__(self) -> None:
        self._codes: dict[tuple[str, type], int] = {}
        self._state = _FNV64_OFFSET
        #: Deliveries folded in so far.
        self.deliveries = 0

    def add(self, actor: str, message: object) -> None:
        """Fold in one delivery of ``message`` to ``actor`` (the runtime's hot path)."""
        cls = type(message)
        code = self._codes.get((actor, cls))
        if code is None:
            code = self._codes[actor, cls] = _pair_code(actor, cls.__name__)
        # _fold, inlined: this runs once per delivery.
        state = ((self._state ^ code) * _FNV64_PRIME) & _MASK64
        self._state = state ^ (state >> 29)
        self.deliveries += 1

    def add_kind(self, actor: str, kind: str) -> None:
        """Fold in one delivery named by its trace fields (``actor``, ``kind``)."""
        self._fold(_pair_code(actor, kind))

    def _fold(self, code: int) -> None:
        state = ((self._state ^ code) * _FNV64_PRIME) & _MASK64
        self._state = state ^ (state >> 29)
        self.deliveries += 1

    def hexdigest(self) -> str:
        """The fingerprint as 16 lowercase hex digits."""
        return f"{self._state:016x}"


def fingerprint_of(deliveries: Iterable[tuple[str, str]]) -> str:
    """The fingerprint of a delivery order given as (actor, kind) pairs.

    Fed the delivery lines of a full-level trace in order, this gives the
    fingerprint the run recorded.
    """
    fingerprint = ScheduleFingerprint()
    for actor, kind in deliveries:
        fingerprint.add_kind(actor, kind)
    return fingerprint.hexdigest()
