"""Cost profiles: every nanosecond the model spends, named and versioned, in TOML.

A profile gives the fixed cost of each operation and the memory-copy cost curve.
Built-in profiles live in ``mintactors/costs/profiles/``; a config names one
(``costs.profile = "paper-2014"``) or a TOML file of its own, and may override any
field. ``tools/calibrate_host.py`` writes a profile measured on this machine.

The copy cost is a piecewise-linear curve through measured (bytes, ns) points,
because a real memcpy is not one straight line: once source and destination no
longer fit the L1 cache, it slows down (the paper's own Table 1 bends between 12
and 16 KB). Below the first point the cost scales down to 0 at 0 bytes; beyond the
last it continues the last segment's slope. Every copy uses that one curve unless
a profile gives ``recv_copy_points``, a second curve for the driver's copy into
the skb (for sensitivity runs; see ``docs/paper.md``).
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from mintactors import tomlfile
from mintactors.fields import MAX_COST_NS

__all__ = ["COST_FIELDS", "CostProfile", "CopyCurve", "builtin_profiles", "load_profile"]


CopyCurve = tuple[tuple[int, int], ...]

_POINTS_SHAPE = "a list of [bytes, ns] pairs of integers, e.g. [[64, 12], [1514, 148]]"


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked_points(value: Any, name: str) -> CopyCurve:
    if not isinstance(value, list | tuple) or not all(
        isinstance(p, list | tuple) and len(p) == 2 and _int(p[0]) and _int(p[1]) for p in value
    ):
        raise ValueError(f"{name} must be {_POINTS_SHAPE}, not {value!r}")
    points = tuple((int(b), int(ns)) for b, ns in value)
    if not points:
        raise ValueError(f"{name} needs at least one (bytes, ns) point")
    if any(b > 1 << 31 or ns > MAX_COST_NS for b, ns in points):
        raise ValueError(f"{name} sizes must be at most 2^31 bytes and costs at most 2^30 ns")
    sizes = [b for b, _ in points]
    if sizes != sorted(set(sizes)) or sizes[0] <= 0:
        raise ValueError(f"{name} sizes must be positive and strictly increasing")
    if any(ns < 0 for _, ns in points) or [ns for _, ns in points] != sorted(
        ns for _, ns in points
    ):
        raise ValueError(f"{name} costs must be non-negative and non-decreasing")
    return points


#: Fields that are counts (at least 1), not nanoseconds.
_COUNTS = frozenset(
    ("sched_slice_ns", "netdev_budget", "netdev_budget_usecs", "netdev_max_backlog", "dev_weight")
)
#: The largest count a profile may give (packets, microseconds, queue slots): 2^20,
#: far beyond any kernel's setting, and small enough that a budget in microseconds
#: stays a cost (2^20 us is about 2^30 ns).
MAX_COUNT_FIELD = 1 << 20


def _points(value: Any) -> CopyCurve:
    return _checked_points(value, "copy_points")


def _recv_points(value: Any) -> CopyCurve | None:
    return None if value is None else _checked_points(value, "recv_copy_points")


@functools.lru_cache(maxsize=4096)  # a run copies a handful of sizes, many times
def _curve_ns(points: CopyCurve, nbytes: int) -> int:
    """The piecewise-linear cost of ``nbytes`` through ``points`` (module docstring)."""
    sizes = [b for b, _ in points]
    i = bisect.bisect_left(sizes, nbytes)
    if i < len(points) and sizes[i] == nbytes:
        return points[i][1]
    if i == 0:
        b1, ns1 = points[0]
        return round(ns1 * nbytes / b1)
    if i == len(points):
        (b0, ns0), (b1, ns1) = points[-2] if len(points) > 1 else (0, 0), points[-1]
        slope = (ns1 - ns0) / (b1 - b0)
        return round(ns1 + slope * (nbytes - b1))
    (b0, ns0), (b1, ns1) = points[i - 1], points[i]
    return round(ns0 + (ns1 - ns0) * (nbytes - b0) / (b1 - b0))


@attrs.frozen
class CostProfile:
    """The costs of one machine, in integer nanoseconds.

    Attributes:
        name: the profile's name.
        version: bumped whenever a value changes, and echoed in results.
        description: where the numbers come from, and which were fitted.
        copy_points: the memcpy curve, (bytes, ns) points.
        frame_build_ns: the generator building one frame in user space.
        syscall_entry_ns: entering the debug-support system call.
        syscall_exit_ns: returning from it.
        descriptor_writeback_ns: writing one descriptor back (DD last).
        icr_write_ns: writing the local APIC's ICR.
        ipi_latency_ns: an IPI from ICR write to the target APIC's IRR.
        memory_latency_ns: a read of shared memory last written by the other core.
        irq_entry_ns: interrupt acknowledge to the handler's first step.
        irq_exit_ns: the handler's ``iret`` until IF=1.
        driver_descriptor_ns: the handler's bookkeeping per descriptor.
        skb_alloc_ns: allocating the skb the frame is copied into.
        stack_ns: an skb's trip up the stack to the UDP socket
            (``__netif_receive_skb``, IP, UDP, the queue), in NET_RX.
        handup_ns: the driver's per-frame work to hand an skb up, besides the
            descriptor bookkeeping, the skb allocation and the copy
            (``eth_type_trans``, the checksum check, ``netif_rx``'s enqueue); in
            ``paper-2014`` it is fitted to Table 2 and carries all the per-frame
            receive time of the paper's handler that the model does not spell out.
        refill_ns: one refill of descriptors plus the RDT write.
        eoi_ns: writing the APIC's EOI register.
        app_recv_ns: one ``recvmsg`` in the receiving application, before its copy.
        mb_ns: a full barrier (``mb``/``smp_mb``: ``mfence`` or a locked add, about
            30 cycles at 3 GHz on Skylake-era cores; an assumption).
        rmb_ns: ``rmb`` (``lfence``, a few cycles; an assumption).
        wmb_ns: ``wmb`` (``sfence``, a few cycles; an assumption). ``smp_rmb``,
            ``smp_wmb`` and ``dma_rmb`` are compiler barriers on x86 and cost nothing.
        softirq_entry_ns: entering ``__do_softirq`` at a hard IRQ's exit, or
            switching to ksoftirqd (an assumption).
        sched_slice_ns: how long a thread keeps the CPU while another thread waits
            (CFS: ``sched_latency`` 6 ms shared by two threads).
        recv_copy_points: optional (bytes, ns) curve for the driver's copy from the
            receive buffer into the skb; absent (None), that copy uses
            ``copy_points``, the one memcpy curve the paper measured (on the
            sender). For sensitivity runs only: a profile fitted to the paper has
            no number to fit it to, so rows measured with it are ``post-hoc``.

    The receive path's sysctls, counts rather than costs, sit here too because they
    are a property of the kernel the profile describes (docs/model.md):

        netdev_budget: packets one ``net_rx_action`` may process (300 since 2.6).
        netdev_budget_usecs: how long it may run, in µs. Linux 4.12 made this a
            sysctl, 2 jiffies at HZ=1000 (2000); before, the same two jiffies were
            counted in jiffies, 8000 µs at the HZ=250 of distribution kernels.
        netdev_max_backlog: skbs the per-CPU backlog holds (1000).
        dev_weight: the backlog's NAPI weight (64).
    """

    name: str
    version: int
    description: str
    copy_points: tuple[tuple[int, int], ...] = attrs.field(converter=_points)
    frame_build_ns: int
    syscall_entry_ns: int
    syscall_exit_ns: int
    descriptor_writeback_ns: int
    icr_write_ns: int
    ipi_latency_ns: int
    memory_latency_ns: int
    irq_entry_ns: int
    irq_exit_ns: int
    driver_descriptor_ns: int
    skb_alloc_ns: int
    stack_ns: int
    refill_ns: int
    eoi_ns: int
    app_recv_ns: int
    mb_ns: int = 10
    rmb_ns: int = 1
    wmb_ns: int = 2
    softirq_entry_ns: int = 50
    handup_ns: int = 100
    sched_slice_ns: int = 3_000_000
    netdev_budget: int = 300
    netdev_budget_usecs: int = 2000
    netdev_max_backlog: int = 1000
    dev_weight: int = 64
    recv_copy_points: CopyCurve | None = attrs.field(default=None, converter=_recv_points)

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(CostProfile):
            value = getattr(self, field.name)
            if field.name.endswith("_ns") and (not _int(value) or not 0 <= value <= MAX_COST_NS):
                raise ValueError(
                    f"{field.name} must be an integer from 0 to 2^30 ({MAX_COST_NS:,}) ns, "
                    f"not {value!r}"
                )
            most = MAX_COST_NS if field.name.endswith("_ns") else MAX_COUNT_FIELD
            if field.name in _COUNTS and (not _int(value) or not 1 <= value <= most):
                raise ValueError(
                    f"{field.name} must be a positive integer (at most {most:,}), not {value!r}"
                )
        for name, kind in (("name", str), ("description", str)):
            if not isinstance(getattr(self, name), kind):
                raise ValueError(f"{name} must be a string, not {getattr(self, name)!r}")
        if not _int(self.version) or self.version < 0:
            raise ValueError(f"version must be an integer >= 0, not {self.version!r}")

    def copy_ns(self, nbytes: int) -> int:
        """The memcpy cost of ``nbytes`` bytes on this machine."""
        return _curve_ns(self.copy_points, nbytes)

    def recv_copy_ns(self, nbytes: int) -> int:
        """The driver's copy of ``nbytes`` from the receive buffer into the skb.

        ``recv_copy_points`` if the profile has them, else the memcpy curve.
        """
        points = self.recv_copy_points
        return _curve_ns(points if points is not None else self.copy_points, nbytes)

    def send_fixed_ns(self) -> int:
        """The system call's cost besides the copy (entry, ring read, write-back, ICR, exit)."""
        return (
            self.syscall_entry_ns
            + self.memory_latency_ns
            + self.descriptor_writeback_ns
            + self.icr_write_ns
            + self.syscall_exit_ns
        )


#: Field names a config may override (everything but identity and the curve's type).
COST_FIELDS: tuple[str, ...] = tuple(
    f.name for f in attrs.fields(CostProfile) if f.name not in ("name", "version", "description")
)


def builtin_profiles() -> tuple[str, ...]:
    """Names of the profiles shipped with mintactors, sorted."""
    folder = resources.files("mintactors.costs").joinpath("profiles")
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


def _profile_text(name: str, relative_to: Path | None) -> tuple[str, str]:
    if name in builtin_profiles():
        text = resources.files("mintactors.costs").joinpath("profiles", f"{name}.toml").read_text()
        return text, f"<built-in profile {name}>"
    path = Path(name)
    if relative_to is not None and not path.is_absolute():
        path = relative_to / path
    if not path.is_file():
        allowed = ", ".join(builtin_profiles())
        raise FileNotFoundError(
            f"no cost profile {name!r}: not a built-in ({allowed}) nor a file at {path}"
        )
    return path.read_text(), str(path)


def load_profile(
    name: str,
    overrides: Mapping[str, Any] | None = None,
    relative_to: Path | None = None,
) -> CostProfile:
    """Load profile ``name`` (a built-in, or a TOML file) and apply ``overrides``.

    Raises:
        FileNotFoundError: no such profile.
        ValueError: the profile or an override is not valid.
    """
    text, where = _profile_text(name, relative_to)
    try:
        parsed = tomlfile.loads(text)
    except tomlfile.TomlSyntaxError as exc:
        raise ValueError(f"{where}: {exc}") from None
    tables = [parsed.get(t, {}) for t in ("profile", "costs")]
    if not all(isinstance(t, dict) for t in tables):
        raise ValueError(f"{where}: [profile] and [costs] must be tables")
    data = {**tables[0], **tables[1]}
    known = [f.name for f in attrs.fields(CostProfile)]
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"{where}: unknown cost fields {sorted(unknown)}")
    data.update(overrides or {})
    required = [f.name for f in attrs.fields(CostProfile) if f.default is attrs.NOTHING]
    missing = [name for name in required if name not in data]
    if missing:
        what = "is empty" if not data else "lacks fields"
        raise ValueError(f"{where}: {what}: a [profile] table needs {', '.join(missing)}")
    try:
        return CostProfile(**data)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None
