"""Measuring this machine's costs, to write a cost profile any config can name.

What user space can measure honestly is measured; the rest is copied from a base
profile and the written profile's description says which is which:

* **Memory copy** (``copy_points``): ``memcpy`` between two buffers (warm in the
  cache as far as they fit), at sizes from 64 bytes to 1 MiB. Each figure is
  the time of a batch of copies minus the same batch copying 0 bytes (the call's
  own overhead), divided by the batch size, taking the fastest of several
  batches. The curve is piecewise linear (:mod:`mintactors.costs`), so the
  cache-size bends show up where they are.
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
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from mintactors.costs import CostProfile, load_profile

__all__ = [
    "DEFAULT_SIZES",
    "HostMeasurement",
    "host_profile_toml",
    "measure_copy_ns",
    "measure_host",
    "measure_syscall_ns",
]

#: Copy sizes measured by default, bytes: the paper's frame sizes and the cache bends.
DEFAULT_SIZES = (64, 256, 1024, 1514, 2048, 4096, 8192, 12288, 16384, 32768, 65536, 262144, 1 << 20)
SYS_GETPPID_X86_64 = 110


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


def measure_copy_ns(
    sizes: Sequence[int] = DEFAULT_SIZES, repeat: int = 9, batch_bytes: int = 16 << 20
) -> tuple[tuple[int, int], ...]:
    """(bytes, ns) per copy size; made non-decreasing and at least 1 ns.

    A copy is a slice assignment between two memoryviews (CPython does it with one
    ``memcpy``), which costs far less call overhead than ``ctypes.memmove``.
    """
    largest = max(sizes)
    source = memoryview(bytearray(b"\x5a" * largest))
    target = memoryview(bytearray(largest))
    points: list[tuple[int, int]] = []
    floor = 1
    for size in sorted(sizes):
        chunk = source[:size]
        empty = source[:0]

        def copy(chunk: memoryview = chunk, size: int = size) -> None:
            target[:size] = chunk

        def nothing(empty: memoryview = empty) -> None:
            target[:0] = empty

        reps = max(100, min(50_000, batch_bytes // size))
        ns = _net_ns(copy, nothing, reps, repeat)
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
        ValueError: the result is not a valid profile.
    """
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
