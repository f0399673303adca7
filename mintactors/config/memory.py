"""``[memory]``: the memory model (sequentially consistent, or x86-TSO with store buffers).

``model = "sc"`` (the default) is the model every earlier run used: a store reaches
memory at its instant, and a core sees its own stores of that instant.
``model = "tso"`` gives each core a FIFO store buffer (docs/model.md, "Shared
memory under TSO"): ``store_buffer_entries`` entries, each draining after a delay
drawn from ``drain_delay``, oldest first.
"""

from __future__ import annotations

from typing import Final

import attrs

from mintactors.costs import CostProfile
from mintactors.distributions import Distribution, Uniform
from mintactors.fields import between, checked, one_of

__all__ = ["MEMORY_MODELS", "SKYLAKE_STORE_BUFFER_ENTRIES", "MemoryConfig"]

#: The memory models ``[memory] model`` may name.
MEMORY_MODELS: Final = ("sc", "tso")

#: Store-buffer entries of a Skylake core (Intel 64 and IA-32 Architectures
#: Optimization Reference Manual, Skylake microarchitecture: 56, up from Haswell's
#: 42; two hyperthreads on one core share them, 28 each).
SKYLAKE_STORE_BUFFER_ENTRIES: Final = 56


@attrs.frozen
class MemoryConfig:
    """How shared memory orders the cores' stores and loads.

    Attributes:
        model: ``sc`` or ``tso``.
        store_buffer_entries: entries per core's store buffer (``tso``); a store
            into a full buffer waits for the oldest entry to drain.
        drain_delay: from a store to its drain, per entry (``tso``): an integer
            (ns, fixed) or a distribution table like ``[apic] ipi_latency``.
            Default: uniform over 0 .. 2 x the profile's ``memory_latency_ns``
            (mean: one cache-line transfer between cores, the cost of taking the
            line for the store; domain.md 3.3).
        uc_load_drains: whether a ``readl`` (an uncached load) waits for its core's
            buffer to drain first (``tso``). Default false: the SDM does not
            promise it, and Linux's ``readX()`` orders only what comes after it
            (docs/model.md).
    """

    model: str = checked("sc", one_of(MEMORY_MODELS))
    store_buffer_entries: int = checked(SKYLAKE_STORE_BUFFER_ENTRIES, between(1, 4096))
    drain_delay: Distribution | None = None
    uc_load_drains: bool = False

    @property
    def tso(self) -> bool:
        """Whether cores have store buffers."""
        return self.model == "tso"

    def drain_distribution(self, profile: CostProfile) -> Distribution:
        """The drain delay: the configured one, or the default for ``profile``."""
        if self.drain_delay is not None:
            return self.drain_delay
        return Uniform(0, 2 * profile.memory_latency_ns)
