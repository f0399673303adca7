"""``[nic]``: the receive ring, and the NIC source that fills it with its own keys."""

from __future__ import annotations

from typing import Any, Literal

import attrs

from mintactors.config._structure import register_hook, structure_variant
from mintactors.fields import MAX_COST_NS, checked, duration_ns, internal, one_of
from mintactors.hardware.nic import VALID_BUFFER_SIZES
from mintactors.sources import NIC_SOURCES, MintSource, NicSource

__all__ = ["NicConfig"]


def _ring_size(v: int) -> str | None:
    if 8 <= v <= 4096 and v % 8 == 0:
        return None
    return f"must be a multiple of 8 from 8 to 4096 (RDLEN is a multiple of 128 bytes), not {v}"


@attrs.frozen
class NicConfig:
    """The NIC's receive ring, and where its frames come from.

    ``source`` names a NIC source (:data:`mintactors.sources.NIC_SOURCES`):
    ``mint`` (the default, the paper's environment: the debug-support mechanism
    fills the ring) or ``e1000`` (a real NIC). The source's own keys (``link_mbps``
    for ``e1000``, say) sit in the same table and end up in ``source_params``.
    """

    ring_size: int = checked(256, _ring_size)
    buffer_size: int = checked(2048, one_of(VALID_BUFFER_SIZES))
    no_buffer: Literal["drop", "block"] = "drop"
    block_poll_ns: int = checked(1000, duration_ns(1, MAX_COST_NS))
    source: str = "mint"
    #: The chosen source with its keys.
    source_params: NicSource = internal(factory=MintSource, eq=True)


def _nic(value: Any, key: str, source: str) -> NicConfig:
    nic, params = structure_variant(
        value, NicConfig, source, key, selector="source", registry=NIC_SOURCES
    )
    return attrs.evolve(nic, source_params=params)


register_hook(NicConfig, _nic)
