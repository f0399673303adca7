"""Seeking: from a target to an instant of the run, and re-executing to it.

A target becomes an :class:`Instant`: either *right after delivery D* (exact: a
line of a full trace says which delivery it follows) or *the end of instant T*
(a time; a line of a summary trace, which names no delivery). The re-execution
then starts from the latest checkpoint before the instant, or from the start.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import attrs

from mintactors.experiments.inspect._checkpoints import (
    CHECKPOINT_DIR,
    CheckpointInfo,
    CheckpointSet,
)
from mintactors.experiments.inspect._recorded import (
    LineSpot,
    RecordedTrace,
    find_hop,
    locate_line,
    open_recorded,
)
from mintactors.experiments.inspect._session import (
    ObserverFactory,
    Reexecution,
    Stop,
    reexecute,
)
from mintactors.experiments.inspect._targets import (
    AtEvent,
    AtHop,
    AtTime,
    AtViolation,
    InspectError,
    Target,
    parse_target,
)
from mintactors.machine import Machine, MachineSnapshot, component_name, snapshot_names
from mintactors.oracles import ORACLES, Violation

__all__ = ["Inspection", "Instant", "Seeker", "inspect"]


@attrs.frozen
class Instant:
    """Where in the run a target is.

    Attributes:
        t_ns: its virtual time.
        after: right after this many deliveries (None: at the end of ``t_ns``).
        what: the target in words, for people.
        violation: the violation it is about, for ``violation`` targets.
    """

    t_ns: int
    after: int | None
    what: str
    violation: Violation | None = None

    def stop(self) -> Stop:
        """The re-execution's stop for this instant."""
        if self.after is not None:
            return Stop(after=self.after)
        return Stop(until_ns=self.t_ns)


@attrs.frozen
class Inspection:
    """The machine at an instant of a recorded run.

    Attributes:
        trace: the recorded trace.
        instant: where.
        snapshot: the machine then.
        checked: recorded trace lines the re-execution matched (0: not verified).
        reexecution: how it got there (start, CPU time).
        notes: remarks for people (checkpoints ignored, and why).
    """

    trace: Path
    instant: Instant
    snapshot: MachineSnapshot
    checked: int
    reexecution: Reexecution
    notes: tuple[str, ...] = ()


def _line_text(spot: LineSpot) -> str:
    event = spot.event
    skip = {"t_ns", "actor", "kind", "src"}
    fields = " ".join(f"{k}={v}" for k, v in event.items() if k not in skip)
    src = f" <- {event['src']}" if "src" in event else ""
    return f"line {spot.line}: {event['actor']} {event['kind']}{src} {fields}".rstrip()


class Seeker:
    """Seeks in one recorded trace, with its checkpoints.

    Args:
        trace: the recorded trace.
        verify: check each re-execution against the recorded trace.
        checkpoints: use the run's checkpoints (``True``: those beside the trace;
            a directory: those there; ``False``: none).
        trust: run driver code the trace embeds (as ``replay --trust``).
        driver_file: a local driver file with the embedded driver's SHA-256, to run
            in its place (as ``replay --driver``).
    """

    def __init__(
        self,
        trace: Path | str,
        *,
        verify: bool = True,
        checkpoints: bool | Path = True,
        trust: bool = False,
        driver_file: Path | None = None,
    ) -> None:
        self.recorded: RecordedTrace = open_recorded(Path(trace))
        self.verify = verify
        self.trust = trust
        self.driver_file = driver_file
        self.notes: list[str] = []
        self.checkpoints: CheckpointSet | None = None
        if checkpoints is not False:
            directory = (
                checkpoints
                if isinstance(checkpoints, Path)
                else self.recorded.path.parent / CHECKPOINT_DIR
            )
            found = CheckpointSet.find(directory, self.recorded.header)
            if isinstance(found, CheckpointSet):
                self.checkpoints = found
            elif isinstance(checkpoints, Path) or (directory / "index.json").exists():
                self.notes.append(found)

    def reexecute(
        self,
        stop: Stop,
        *,
        start: CheckpointInfo | None = None,
        oracles: bool = False,
        observer: ObserverFactory | None = None,
    ) -> Reexecution:
        """Re-execute with this seeker's trace, checkpoints and verification."""
        return reexecute(
            self.recorded,
            stop,
            verify=self.verify,
            checkpoints=self.checkpoints,
            start=start,
            oracles=oracles,
            observer=observer,
            trust=self.trust,
            driver_file=self.driver_file,
        )

    def fresh(self) -> Machine:
        """The run's machine as built, before any delivery (to check names against)."""
        return reexecute(
            self.recorded,
            Stop(after=0),
            verify=False,
            trust=self.trust,
            driver_file=self.driver_file,
        ).machine

    def component(self, name: str) -> str:
        """The snapshot name of component ``name`` (``rx_ring`` is ``ring``), checked.

        Raises:
            InspectError: the machine has no such component (the valid names listed).
        """
        valid = (*snapshot_names(self.fresh()), "in_flight")
        wanted = component_name(name)
        if wanted in valid:
            return wanted
        close = difflib.get_close_matches(name, valid, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InspectError(f"no component {name!r}{hint}; components: {', '.join(valid)}")

    def resolve(self, target: Target | str) -> Instant:
        """The instant ``target`` names in this run.

        Raises:
            InspectError: a time past the run's end, a line or hop the trace does not
                have, or no violation in the run.
        """
        if isinstance(target, str):
            target = parse_target(target)
        recorded = self.recorded
        match target:
            case AtTime(t_ns=t):
                if t > recorded.end_ns:
                    raise InspectError(
                        f"{t} ns is past the end of the run ({recorded.end_ns} ns, "
                        f"{recorded.end_ns / 1000:.3f} us): choose a time from 0 to "
                        f"{recorded.end_ns} ns"
                    )
                return Instant(t, None, f"t = {t} ns")
            case AtEvent(line=line):
                return self._at_line(locate_line(recorded, line))
            case AtHop(seq=seq, step=step):
                return self._at_line(find_hop(recorded, seq, step))
            case AtViolation(began=began):
                return self._at_violation(began)
        raise AssertionError(target)

    def _at_line(self, spot: LineSpot) -> Instant:
        t_ns = int(spot.event["t_ns"])
        if self.recorded.level == "full":
            return Instant(t_ns, spot.deliveries, _line_text(spot))
        # A summary trace names no delivery, so the line's instant is all there is.
        return Instant(t_ns, None, f"{_line_text(spot)} (the end of its instant)")

    def _at_violation(self, began: bool) -> Instant:
        start = self.checkpoints.before(clean=True) if self.checkpoints else None
        found = self.reexecute(Stop(on_violation=True), start=start, oracles=True)
        if found.crash is not None:
            crash = found.crash
            delivered = found.machine.simulation.delivered
            return Instant(crash.t_ns, delivered, f"crash: {crash}")
        monitor = found.monitor
        assert monitor is not None
        if not monitor.violations and found.result is not None:
            monitor.finish(found.result)
        violation = monitor.first()
        if violation is None:
            raise InspectError(
                f"{self.recorded.path}: the run violates no oracle ({', '.join(ORACLES)}); "
                "give a time, event:N or packet:SEQ:STEP instead"
            )
        what = f"violation {violation.oracle}: {violation.message} (began {violation.t_ns} ns)"
        written = violation.detail.get("written_ns")
        if not began and violation.oracle == "lost_wakeup" and isinstance(written, int):
            what = (
                f"violation lost_wakeup: frame seq {violation.detail.get('seq')} written back "
                f"to descriptor {violation.detail.get('desc')} at {written} ns, where its "
                f"wakeup was lost (stranded from {violation.t_ns} ns)"
            )
            return Instant(written, None, what, violation)
        return Instant(violation.t_ns, None, what, violation)

    def seek(self, target: Target | str) -> Inspection:
        """Re-execute to ``target`` and take the machine's snapshot there."""
        instant = self.resolve(target)
        start = None
        if self.checkpoints is not None:
            if instant.after is not None:
                start = self.checkpoints.before(delivered=instant.after)
            else:
                start = self.checkpoints.before(t_ns=instant.t_ns)
        done = self.reexecute(instant.stop(), start=start)
        if done.crash is not None:
            raise done.crash
        return Inspection(
            self.recorded.path,
            instant,
            done.machine.snapshot(),
            done.checked,
            done,
            tuple(self.notes),
        )


def inspect(
    trace: Path | str,
    at: Target | str,
    *,
    verify: bool = True,
    checkpoints: bool | Path = True,
    trust: bool = False,
    driver_file: Path | None = None,
) -> MachineSnapshot:
    """Every component's state at ``at`` in the run ``trace`` records.

    ``at`` is a time (``"12.5us"``, ``"12500ns"``), ``"event:N"``,
    ``"packet:SEQ:STEP"``, ``"violation"`` or ``"violation:began"``
    (docs/inspect.md). The run is re-executed from its trace header (from the latest
    checkpoint before ``at``, if the run has some) and, with ``verify``, checked
    line by line against the recorded trace on the way. A trace whose driver is a
    file runs that code only with ``trust`` or a matching ``driver_file``, as
    ``mintactors replay`` does.

    Example:
        >>> snap = mintactors.inspect("out/lw/trace.jsonl", at="violation")  # doctest: +SKIP
        >>> snap.ring.descriptors[snap.ring.next_to_clean].flags              # doctest: +SKIP
        ('DD', 'EOP', 'IXSM')

    Raises:
        InspectError: a bad target, or one the run does not have.
        TraceDiverged: the re-execution does not reproduce the recorded trace.
        TraceError: ``trace`` is not a mintactors trace.
        UntrustedDriver: the trace names driver code not allowed to run.
    """
    seeker = Seeker(
        trace, verify=verify, checkpoints=checkpoints, trust=trust, driver_file=driver_file
    )
    return seeker.seek(at).snapshot
