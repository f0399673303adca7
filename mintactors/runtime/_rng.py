"""Seeded random streams, one per named consumer.

Every random draw in a run comes from a stream derived from the run's seed and the
consumer's name, so adding a consumer never shifts the draws of another, and the
global ``random`` module is never touched.
"""

from __future__ import annotations

import hashlib
import random

__all__ = ["rng_stream"]


def rng_stream(seed: int, name: str) -> random.Random:
    """Return a fresh ``random.Random`` for consumer ``name`` in a run seeded ``seed``.

    The stream is a pure function of ``(seed, name)``: the same on every machine,
    process and ``PYTHONHASHSEED``.
    """
    digest = hashlib.sha256(f"mintactors:{seed}:{name}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))
