"""Measuring this machine's costs, to write a cost profile any config can name.

What user space can measure honestly is measured; the rest is copied from a base
profile and the written profile's description says which is which:

* **Memory copy** (``copy_points``): ``memcpy`` at sizes from 64 bytes to 1 MiB,
  each copy from a different place in a buffer of random bytes into a different
  destination slot, the slots spanning :data:`WORKING_SET` bytes (more than a
  core's L1 cache), as a driver copies frames into different receive buffers:
  a loop over one hot buffer would measure the L1 cache, not a frame's copy. Each
  copy's destination is read back (so no copy is dead), and after the timing every
  slot is compared with its source. Each figure is the time of a batch of copies
  minus the same batch copying 0 bytes (the loop's own overhead), divided by the
  batch size, taking the fastest of several batches. The curve is piecewise linear
  (:mod:`mintactors.costs`), so the cache-size bends show up where they are.
* **Plausibility**: a figure below :data:`MIN_COPY_NS` or faster than
  :data:`MAX_COPY_GBPS` is not a copy a driver makes (it is timer noise, or a
  copy that stayed in a cache), and :func:`host_profile_toml` refuses to write a
  profile from it (:class:`ImplausibleMeasurement`).
* **System call entry and exit** (``syscall_entry_ns``, ``syscall_exit_ns``): a
  ``getppid`` system call through ``syscall(2)``, minus a call to a libc function
  that does no system call, split evenly.

Interrupt entry and exit, IPI latency, cache-line transfer between cores and the
kernel's per-packet costs cannot be timed from a Python process; they come from
the base profile (``paper-2014`` by default).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import random
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from mintactors.costs import CostProfile, load_profile

__all__ = [
    "DEFAULT_SIZES",
    "MAX_COPY_GBPS",
    "MIN_COPY_NS",
    "WORKING_SET",
    "HostMeasurement",
    "ImplausibleMeasurement",
    "check_plausible",
    "host_profile_toml",
    "measure_copy_ns",
    "measure_host",
    "measure_syscall_ns",
]

#: Copy sizes measured by default, bytes: the paper's frame sizes and the cache bends.
DEFAULT_SIZES = (64, 256, 1024, 1514, 2048, 4096, 8192, 12288, 16384, 32768, 65536, 262144, 1 << 20)
SYS_GETPPID_X86_64 = 110
#: Bytes the destination slots of one size span: beyond the L1 cache (and the L2 of
#: the paper's era), as a ring's receive buffers are, so no copy lands on a line
#: the previous copies left in L1.
WORKING_SET = 1 << 20
#: No memcpy call, however small, returns in less (a call, a branch, a store).
MIN_COPY_NS = 2
#: A bound on one core's copy bandwidth out of its caches into different buffers,
#: GB/s (bytes per ns). A figure above it came from a copy that never left L1.
MAX_COPY_GBPS = 100.0


class ImplausibleMeasurement(ValueError):
    """A measured copy is faster than any copy a driver could make; no profile is written."""


def check_plausible(points: Sequence[tuple[int, int]]) -> None:
    """Refuse copy figures that cannot be real.

    Raises:
        ImplausibleMeasurement: naming the first such (bytes, ns) point.
    """
    for size, ns in points:
        if ns < MIN_COPY_NS or size / ns > MAX_COPY_GBPS:
            raise ImplausibleMeasurement(
                f"a {size}-byte copy measured at {ns} ns ({size / max(ns, 1):.1f} GB/s) is "
                f"faster than any real one (at least {MIN_COPY_NS} ns, at most "
                f"{MAX_COPY_GBPS:g} GB/s): the machine was too busy to measure, or the copy "
                "stayed in a cache; measure again (more --repeat) on a quiet machine"
            )


@attrs.frozen
class HostMeasurement:
    """What was measured: the copy curve and the system call's round trip."""

    copy_points: tuple[tuple[int, int], ...]
    syscall_ns: int | None
    machine: str


def _batch_ns(call: Callable[[], object], reps: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(reps):
        call()
    return (time.perf_counter_ns() - start) / reps


def _net_ns(
    work: Callable[[], object], baseline: Callable[[], object], reps: int, repeat: int
) -> float:
    """Fastest of ``repeat`` batches of ``work`` minus the fastest of ``baseline``, per call.

    The fastest batch is the one other processes disturbed least (on a shared, noisy
    machine the median is mostly noise).
    """
    work_ns = min(_batch_ns(work, reps) for _ in range(repeat))
    base_ns = min(_batch_ns(baseline, reps) for _ in range(repeat))
    return work_ns - base_ns


def _copies(
    source: memoryview, size: int, working_set: int, rng: random.Random
) -> tuple[bytearray, list[tuple[memoryview, memoryview]]]:
    """A destination of slots spanning ``working_set`` bytes, and (slot, source) pairs."""
    slots = max(1, working_set // size)
    target = bytearray(slots * size)
    view = memoryview(target)
    pairs = []
    for i in range(slots):
        start = rng.randrange(len(source) - size + 1)
        pairs.append((view[i * size : (i + 1) * size], source[start : start + size]))
    return target, pairs


def measure_copy_ns(
    sizes: Sequence[int] = DEFAULT_SIZES,
    repeat: int = 9,
    batch_bytes: int = 16 << 20,
    working_set: int = WORKING_SET,
) -> tuple[tuple[int, int], ...]:
    """(bytes, ns) per copy size; made non-decreasing and at least 1 ns.

    A copy is a slice assignment between two memoryviews (CPython does it with one
    ``memcpy``), which costs far less call overhead than ``ctypes.memmove``. Copies
    go from random places in a buffer of random bytes to successive slots spanning
    ``working_set`` bytes; each copy's last byte is read back, and every slot is
    checked against its source afterwards.

    Raises:
        ImplausibleMeasurement: a slot does not hold what was copied into it.
    """
    rng = random.Random(0x5EED)  # the data varies; the measurement is repeatable
    largest = max(sizes)
    source = memoryview(bytearray(rng.randbytes(2 * largest)))
    points: list[tuple[int, int]] = []
    floor = 1
    for size in sorted(sizes):
        _, pairs = _copies(source, size, working_set, rng)
        reps = max(100, min(50_000, batch_bytes // size))
        cycle = (pairs * (reps // len(pairs) + 1))[:reps]
        # Both loops read the slot's last byte back (the copy's result is used), so
        # the loops differ only by the copy itself.
        work = [(slot, chunk, slot[-1:]) for slot, chunk in cycle]
        empty = [(slot[:0], chunk[:0], probe) for slot, chunk, probe in work]
        sink = 0

        def copy(items: list[tuple[memoryview, memoryview, memoryview]] = work) -> None:
            nonlocal sink
            for slot, chunk, probe in items:
                slot[:] = chunk
                sink ^= probe[0]

        def nothing(items: list[tuple[memoryview, memoryview, memoryview]] = empty) -> None:
            nonlocal sink
            for slot, chunk, probe in items:
                slot[:] = chunk
                sink ^= probe[0]

        ns = _net_ns(copy, nothing, 1, repeat) / reps
        for slot, chunk in pairs[: len(cycle)]:
            if slot != chunk:
                raise ImplausibleMeasurement(f"a {size}-byte copy did not arrive intact")
        floor = max(floor, round(ns))  # noise must not make a bigger copy look cheaper
        points.append((size, floor))
    return tuple(points)


def measure_syscall_ns(repeat: int = 9, reps: int = 50_000) -> int | None:
    """A ``getppid`` system call's round trip in ns (None off Linux x86-64)."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    syscall, labs = libc.syscall, libc.labs
    ns = _net_ns(lambda: syscall(SYS_GETPPID_X86_64), lambda: labs(1), reps, repeat)
    return max(1, round(ns))


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measure_host(sizes: Sequence[int] = DEFAULT_SIZES, repeat: int = 9) -> HostMeasurement:
    """Measure the copy curve and the system call on this machine."""
    return HostMeasurement(measure_copy_ns(sizes, repeat), measure_syscall_ns(repeat), _cpu_name())


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


def host_profile_toml(
    measured: HostMeasurement, name: str = "host", base: str = "paper-2014"
) -> str:
    """A profile TOML: the measured fields, every other field from profile ``base``.

    Raises:
        ImplausibleMeasurement: a copy figure no real copy could have.
        ValueError: the result is not a valid profile.
    """
    check_plausible(measured.copy_points)
    start = load_profile(base)
    fields: dict[str, Any] = {f.name: getattr(start, f.name) for f in attrs.fields(CostProfile)}
    measured_names = ["copy_points"]
    fields["copy_points"] = [list(p) for p in measured.copy_points]
    if measured.syscall_ns is not None:
        fields["syscall_entry_ns"] = measured.syscall_ns - measured.syscall_ns // 2
        fields["syscall_exit_ns"] = measured.syscall_ns // 2
        measured_names += ["syscall_entry_ns", "syscall_exit_ns"]
    fields["name"] = name
    fields["version"] = 1
    fields["description"] = (
        f"Measured by tools/calibrate_host.py on {measured.machine}: "
        f"{', '.join(measured_names)}. Every other value is copied from the "
        f"{start.name} v{start.version} profile (not measurable from user space)."
    )
    CostProfile(**{**fields, "copy_points": tuple(tuple(p) for p in fields["copy_points"])})
    order = ["name", "version", "description"] + [
        f.name
        for f in attrs.fields(CostProfile)
        if f.name not in ("name", "version", "description")
    ]
    lines = [
        "# A cost profile measured on this machine by tools/calibrate_host.py.",
        '# Name it in a config:  [costs]  profile = "<path to this file>"',
        "[profile]",
        *(f"{key} = {_toml_value(fields[key])}" for key in order if fields[key] is not None),
    ]
    return "\n".join(lines) + "\n"
