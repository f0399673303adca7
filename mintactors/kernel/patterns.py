"""Timing patterns for the interrupt generator: when each packet is planned to go.

Each pattern is an iterator of absolute virtual instants in integer nanoseconds,
one per packet, nondecreasing. The generator takes the next instant when it plans
the next send; a send planned for a moment when the previous system call is still
running goes late (counted), as a real sender would. The patterns, in the
vocabulary of pktgen, MoonGen and TRex (domain.md 4):

``fixed``
    ``start, start + T, start + 2T, ...`` (constant bit rate).
``list``
    exactly the instants given.
``jitter``
    the fixed grid plus a seeded offset per packet, uniform in ``[-A, +A]`` or
    normal with standard deviation ``A``; an instant that would fall before the
    previous one is held at the previous one, so the sequence stays nondecreasing.
``poisson``
    a Poisson process: exponential gaps with mean ``1/rate``, the first gap
    counted from ``start``; instants are rounded from the exact running sum, so
    rounding does not accumulate.
``burst``
    ``N`` packets every ``T``: burst ``j`` packet ``i`` at ``start + jT + i g``
    (``g = 0``: back to back, the generator sends them as fast as its system
    call allows).
``capture``
    a capture's own inter-arrival times, scaled by ``time_scale`` and shifted so
    the first frame goes at ``start``.

Every pattern is one class in :data:`PATTERNS`, the registry the config and the
machine builder read: its attrs fields are its ``[generator]`` keys (with their
checks), and it says how to check itself across keys, describe itself, and produce
its instants. Adding a pattern is one such class here with ``@PATTERNS.register``.

Randomness comes only from the stream handed in (``rng_stream(seed,
"generator.pattern")`` in the builder), never from a global generator.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar, Literal, Protocol, Self

import attrs

from mintactors.captures import Capture, CaptureError, read_capture
from mintactors.fields import (
    MAX_COUNT,
    MAX_INSTANT_NS,
    ParameterError,
    between,
    checked,
    duration_ns,
    internal,
)
from mintactors.registry import Registry

__all__ = [
    "PATTERNS",
    "BurstPattern",
    "CapturePattern",
    "FixedPattern",
    "JitterPattern",
    "ListPattern",
    "PoissonPattern",
    "RandomSource",
    "TimingPattern",
    "burst_instants",
    "capture_instants",
    "fixed_instants",
    "jittered_instants",
    "listed_instants",
    "poisson_instants",
]


class RandomSource(Protocol):
    """The draws a pattern needs; ``random.Random`` provides them."""

    def random(self) -> float:
        """A uniform float in [0, 1)."""
        ...

    def randint(self, a: int, b: int) -> int:
        """A uniform integer in [a, b]."""
        ...

    def gauss(self, mu: float, sigma: float) -> float:
        """A normal draw."""
        ...


def fixed_instants(start_ns: int, interval_ns: int) -> Iterator[int]:
    """``start, start + interval, start + 2 interval, ...``"""
    return (start_ns + k * interval_ns for k in itertools.count())


def listed_instants(instants: Sequence[int]) -> Iterator[int]:
    """Exactly ``instants``, which must be nonnegative and nondecreasing.

    Raises:
        ValueError: an instant below 0 or below its predecessor.
    """
    for k, (before, after) in enumerate(itertools.pairwise(instants)):
        if after < before:
            raise ValueError(f"instant {k + 1} ({after} ns) is before instant {k} ({before} ns)")
    if instants and instants[0] < 0:
        raise ValueError(f"instant 0 is negative ({instants[0]} ns)")
    return iter(tuple(instants))


def jittered_instants(
    start_ns: int,
    interval_ns: int,
    jitter_ns: int,
    dist: Literal["uniform", "normal"],
    rng: RandomSource,
) -> Iterator[int]:
    """The fixed grid, each instant moved by a seeded offset.

    ``uniform``: an integer offset uniform in ``[-jitter_ns, +jitter_ns]``;
    ``normal``: a rounded normal offset with standard deviation ``jitter_ns``.
    Instants are clamped to be at least 0 and at least the previous instant.
    """
    previous = 0
    for k in itertools.count():
        if dist == "uniform":
            offset = rng.randint(-jitter_ns, jitter_ns)
        else:
            offset = round(rng.gauss(0.0, float(jitter_ns)))
        instant = max(previous, start_ns + k * interval_ns + offset)
        previous = instant
        yield instant


def poisson_instants(start_ns: int, rate_pps: float, rng: RandomSource) -> Iterator[int]:
    """Arrivals of a Poisson process of ``rate_pps`` packets per second after ``start_ns``.

    Gaps are exponential with mean ``1e9 / rate_pps`` ns, drawn by inversion (one
    uniform per gap).

    Raises:
        ValueError: a rate that is not positive.
    """
    if rate_pps <= 0:
        raise ValueError(f"rate must be positive, not {rate_pps}")
    return _poisson(start_ns, 1e9 / rate_pps, rng)


def _poisson(start_ns: int, mean_ns: float, rng: RandomSource) -> Iterator[int]:
    elapsed = 0.0
    while True:
        elapsed += -mean_ns * math.log(1.0 - rng.random())
        yield start_ns + round(elapsed)


def burst_instants(
    start_ns: int, burst_size: int, period_ns: int, gap_ns: int = 0
) -> Iterator[int]:
    """``burst_size`` packets ``gap_ns`` apart, every ``period_ns``.

    Raises:
        ValueError: an empty burst, or one longer than its period (bursts would overlap).
    """
    if burst_size < 1:
        raise ValueError(f"a burst needs at least one packet, not {burst_size}")
    if (burst_size - 1) * gap_ns > period_ns:
        raise ValueError(
            f"a burst of {burst_size} packets {gap_ns} ns apart lasts longer than "
            f"its period of {period_ns} ns"
        )
    return (
        start_ns + j * period_ns + i * gap_ns for j in itertools.count() for i in range(burst_size)
    )


def capture_instants(
    timestamps_ns: Sequence[int], start_ns: int, time_scale: float = 1.0
) -> Iterator[int]:
    """A capture's arrival times, shifted to begin at ``start_ns`` and scaled.

    Gap ``k`` of the replay is ``time_scale`` times gap ``k`` of the capture
    (``time_scale = 0.5`` replays twice as fast). Instants are rounded from the
    scaled offset to the first frame, so rounding does not accumulate. A capture
    whose timestamps step backwards (it happens when a capture merges interfaces)
    has that frame sent right after the previous one.
    """
    if time_scale <= 0:
        raise ValueError(f"time_scale must be positive, not {time_scale}")
    if not timestamps_ns:
        return iter(())
    first = timestamps_ns[0]
    out: list[int] = []
    previous = start_ns
    for ts in timestamps_ns:
        instant = max(previous, start_ns + round((ts - first) * time_scale))
        out.append(instant)
        previous = instant
    return iter(out)


# --- the registry -------------------------------------------------------------------


class TimingPattern(Protocol):
    """A timing pattern's parameters and behaviour (one entry of :data:`PATTERNS`).

    The class's attrs fields are the ``[generator]`` keys the pattern owns.
    """

    name: ClassVar[str]

    def prepare(self, base_dir: Path | None) -> TimingPattern:
        """Check the keys together and load what the pattern needs.

        Raises:
            ParameterError: naming the key at fault.
        """
        ...

    def available(self) -> int | None:
        """How many instants the pattern has (None: as many as asked for)."""
        ...

    def instants(self, start_ns: int, rng: RandomSource) -> Iterator[int]:
        """The planned send instants."""
        ...

    def describe(self) -> str:
        """The timing in a few words (``every 3000 ns``)."""
        ...

    def recorded_frames(self) -> tuple[bytes, ...] | None:
        """Frames the pattern brings with it (a capture's), or None."""
        ...

    def files(self) -> tuple[tuple[str, str], ...]:
        """(key, path as written) of every file the pattern reads, for replays."""
        ...


#: Timing patterns by ``generator.pattern`` name.
PATTERNS: Registry[type[TimingPattern]] = Registry("timing pattern")


class _Generated:
    """Shared defaults for patterns that generate their own frames and read no file."""

    def prepare(self, base_dir: Path | None) -> Self:
        return self

    def available(self) -> int | None:
        return None

    def recorded_frames(self) -> tuple[bytes, ...] | None:
        return None

    def files(self) -> tuple[tuple[str, str], ...]:
        return ()


@PATTERNS.register("fixed")
@attrs.frozen
class FixedPattern(_Generated):
    """Constant rate: a send every ``interval_ns``."""

    name: ClassVar[str] = "fixed"
    interval_ns: int = checked(10_000, duration_ns())

    def instants(self, start_ns: int, rng: RandomSource) -> Iterator[int]:
        """``start, start + T, ...``"""
        return fixed_instants(start_ns, self.interval_ns)

    def describe(self) -> str:
        """``every T ns``."""
        return f"every {self.interval_ns} ns"


@PATTERNS.register("list")
@attrs.frozen
class ListPattern(_Generated):
    """Exactly the instants listed."""

    name: ClassVar[str] = "list"
    instants_ns: tuple[int, ...] = ()

    def prepare(self, base_dir: Path | None) -> Self:
        """The list must be given, nonnegative and nondecreasing."""
        if not self.instants_ns:
            raise ParameterError("instants_ns", 'is required with pattern "list"')
        if len(self.instants_ns) > MAX_COUNT:
            raise ParameterError("instants_ns", f"lists more than {MAX_COUNT} instants")
        try:
            listed_instants(self.instants_ns)
        except ValueError as exc:
            raise ParameterError("instants_ns", str(exc)) from None
        if self.instants_ns[-1] > MAX_INSTANT_NS:
            raise ParameterError(
                "instants_ns", f"instant {self.instants_ns[-1]} ns is after 2^62 ns"
            )
        return self

    def available(self) -> int | None:
        """One send per instant."""
        return len(self.instants_ns)

    def instants(self, start_ns: int, rng: RandomSource) -> Iterator[int]:
        """The list (``start_ns`` does not shift it)."""
        return listed_instants(self.instants_ns)

    def describe(self) -> str:
        """``at N listed instants``."""
        return f"at {len(self.instants_ns)} listed instants"


@PATTERNS.register("jitter")
@attrs.frozen
class JitterPattern(_Generated):
    """The fixed grid, each instant moved by a seeded offset."""

    name: ClassVar[str] = "jitter"
    interval_ns: int = checked(10_000, duration_ns())
    jitter_ns: int = checked(0, duration_ns())
    jitter_dist: Literal["uniform", "normal"] = "uniform"

    def instants(self, start_ns: int, rng: RandomSource) -> Iterator[int]:
        """Grid plus offsets, clamped to stay nondecreasing."""
        return jittered_instants(start_ns, self.interval_ns, self.jitter_ns, self.jitter_dist, rng)

    def describe(self) -> str:
        """``every T ns +- D jitter A ns``."""
        return f"every {self.interval_ns} ns +- {self.jitter_dist} jitter {self.jitter_ns} ns"


@PATTERNS.register("poisson")
@attrs.frozen
class PoissonPattern(_Generated):
    """A Poisson process of ``rate_pps`` packets per second."""

    name: ClassVar[str] = "poisson"
    #: Between 0.1 (a mean gap of 10 s) and 1e9 (one packet per ns) packets per second.
    rate_pps: float = checked(0.0, between(0.1, 1e9))

    def prepare(self, base_dir: Path | None) -> Self:
        """The rate must be positive."""
        if self.rate_pps <= 0:
            raise ParameterError("rate_pps", 'must be > 0 with pattern "poisson"')
        return self

    def instants(self, start_ns: int, rng: RandomSource) -> Iterator[int]:
        """Exponential gaps after ``start_ns``."""
        return poisson_instants(start_ns, self.rate_pps, rng)

    def describe(self) -> str:
        """``Poisson at R packets/s``."""
        return f"Poisson at {self.rate_pps:g} packets/s"


@PATTERNS.register("burst")
@attrs.frozen
class BurstPattern(_Generated):
    """``burst_size`` packets ``burst_gap_ns`` apart, every ``burst_period_ns``."""

    name: ClassVar[str] = "burst"
    burst_size: int = checked(1, between(1, MAX_COUNT))
    burst_period_ns: int = checked(0, duration_ns())
    burst_gap_ns: int = checked(0, duration_ns())

    def prepare(self, base_dir: Path | None) -> Self:
        """A burst needs a period and must fit in it."""
        if self.burst_period_ns <= 0:
            raise ParameterError("burst_period_ns", 'must be > 0 with pattern "burst"')
        if (self.burst_size - 1) * self.burst_gap_ns > self.burst_period_ns:
            raise ParameterError(
                "burst_gap_ns",
                f"a burst of {self.burst_size} packets {self.burst_gap_ns} ns apart is "
                f"longer than burst_period_ns ({self.burst_period_ns})",
            )
        return self

    def instants(self, start_ns: int, rng: RandomSource) -> Iterator[int]:
        """Burst after burst."""
        return burst_instants(start_ns, self.burst_size, self.burst_period_ns, self.burst_gap_ns)

    def describe(self) -> str:
        """``in bursts of N, g ns apart, every T ns``."""
        return (
            f"in bursts of {self.burst_size}, {self.burst_gap_ns} ns apart, "
            f"every {self.burst_period_ns} ns"
        )


@PATTERNS.register("capture")
@attrs.frozen
class CapturePattern:
    """A pcap or pcapng capture's frames at its own (scaled) inter-arrival times."""

    name: ClassVar[str] = "capture"
    capture: str = ""
    #: Between a millionth and a million times the capture's own pace.
    time_scale: float = checked(1.0, between(1e-6, 1e6))
    #: The capture file's contents, once :meth:`prepare` has read it.
    recording: Capture | None = internal()

    def prepare(self, base_dir: Path | None) -> TimingPattern:
        """Read the capture (relative to the config's directory)."""
        if not self.capture:
            raise ParameterError("capture", 'is required with pattern "capture"')
        path = Path(self.capture)
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        try:
            recording = read_capture(path)
        except CaptureError as exc:
            raise ParameterError("capture", f"{path}: {exc}") from None
        stamps = recording.timestamps_ns
        if not stamps:
            raise ParameterError("capture", f"{path}: the capture holds no frames")
        if (max(stamps) - stamps[0]) * self.time_scale > MAX_INSTANT_NS:
            raise ParameterError(
                "time_scale", f"replays {path} over more than 2^62 ns of virtual time"
            )
        return attrs.evolve(self, recording=recording)

    def _recording(self) -> Capture:
        if self.recording is None:
            raise ValueError("the capture pattern was not prepared (no capture read)")
        return self.recording

    def available(self) -> int | None:
        """One send per captured frame."""
        return len(self._recording().frames)

    def instants(self, start_ns: int, rng: RandomSource) -> Iterator[int]:
        """The capture's timestamps, shifted to ``start_ns`` and scaled."""
        return capture_instants(self._recording().timestamps_ns, start_ns, self.time_scale)

    def describe(self) -> str:
        """``from capture F with its timing``."""
        scale = f" x {self.time_scale:g}" if self.time_scale != 1 else ""
        return f"from capture {self.capture} with its timing{scale}"

    def recorded_frames(self) -> tuple[bytes, ...] | None:
        """The captured frames."""
        return tuple(self._recording().frames)

    def files(self) -> tuple[tuple[str, str], ...]:
        """The capture file."""
        return (("generator.capture", self.capture),)
