"""One re-execution of a recorded run, from its start or from a checkpoint, to a stop.

The run is rebuilt from the trace header exactly as ``mintactors replay`` rebuilds
it (the same config, seed, policy and embedded files), with the trace level the
recorded run had, because the level decides which notes the driver's code yields
and so where its code stops to wait: a run re-executed at another level would not
be the same run. Where the trace *goes* is another matter: with ``verify`` it goes
into a :class:`~mintactors.experiments.inspect._check.TraceCheck` that compares
each line with the recorded one; without, nowhere (tracing off, the fastest).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, cast

import attrs

from mintactors.errors import ActorCrashed, MintactorsError
from mintactors.experiments.explore.replay import Divergence, replay_config
from mintactors.experiments.inspect._check import LineTrackingSink, TraceCheck
from mintactors.experiments.inspect._checkpoints import (
    CheckpointInfo,
    CheckpointSet,
    restore_checkpoint,
)
from mintactors.experiments.inspect._recorded import RecordedTrace
from mintactors.experiments.run import config_echo
from mintactors.machine import Machine, build_machine
from mintactors.oracles import OracleMonitor
from mintactors.runtime import RunResult, TraceLevel

__all__ = ["Observer", "ObserverFactory", "Reexecution", "Stop", "TraceDiverged", "reexecute"]


class TraceDiverged(MintactorsError):
    """The re-execution wrote a line the recorded trace does not have there."""

    def __init__(self, trace: Path, divergence: Divergence, start: str) -> None:
        recorded = divergence.recorded if divergence.recorded is not None else "<end>"
        super().__init__(
            f"{trace}:{divergence.line}: the re-execution ({start}) diverged from the "
            f"recorded trace at line {divergence.line}; no state is shown for a run that "
            f"is not the recorded one\n  recorded: {recorded}\n  replayed: "
            f"{divergence.replayed}"
        )
        self.divergence = divergence


@attrs.frozen
class Stop:
    """Where a re-execution stops.

    Attributes:
        until_ns: at the end of this instant (None: no time bound).
        after: right after this many deliveries (None: no such bound).
        on_violation: right after the delivery where an oracle finds a violation.
    """

    until_ns: int | None = None
    after: int | None = None
    on_violation: bool = False


@attrs.frozen
class Reexecution:
    """A finished re-execution: the machine as it stopped, and how it got there.

    Attributes:
        machine: the machine (a checkpoint's, if it started from one).
        monitor: the oracles, when they ran.
        result: how the run ended (None: no delivery was needed).
        checked: recorded trace lines the re-execution matched (0: not verified).
        start: the checkpoint it started from (None: the run's start).
        crash: the crash that ended it, if the recorded run crashes there too.
        cpu_s: CPU time it took.
    """

    machine: Machine
    monitor: OracleMonitor | None
    result: RunResult | None
    checked: int
    start: CheckpointInfo | None
    crash: ActorCrashed | None
    cpu_s: float


#: Called with the machine after every delivery.
Observer = Callable[[Machine], None]
#: Called with the machine (and the line-tracking sink, when verifying) before the
#: run; returns the observer.
ObserverFactory = Callable[[Machine, LineTrackingSink | None], Observer]


def _start_text(start: CheckpointInfo | None) -> str:
    if start is None:
        return "from the start"
    return f"from the checkpoint at {start.t_ns} ns, delivery {start.delivered}"


def reexecute(
    recorded: RecordedTrace,
    stop: Stop,
    *,
    verify: bool = True,
    checkpoints: CheckpointSet | None = None,
    start: CheckpointInfo | None = None,
    oracles: bool = False,
    observer: ObserverFactory | None = None,
    trust: bool = False,
    driver_file: Path | None = None,
) -> Reexecution:
    """Re-execute ``recorded``'s run until ``stop``.

    Args:
        recorded: the recorded trace.
        stop: where to stop.
        verify: compare the trace the re-execution writes with the recorded one.
        checkpoints: the run's checkpoints; ``start`` is one of them to start from.
        start: the checkpoint to start from (None: the run's start).
        oracles: run the oracles (a restored checkpoint brings their state).
        observer: called with the machine (and the line-tracking sink, when
            verifying) before the run; returns what to call after every delivery.
        trust: run driver code the trace embeds (as ``replay --trust``).
        driver_file: a local driver file to run instead (as ``replay --driver``).

    Raises:
        TraceDiverged: the re-execution wrote a line the recorded trace does not have.
        UntrustedDriver: the trace names driver code not allowed to run.
        ConfigError: the trace header cannot be turned back into a run.
    """
    began = time.process_time()
    check: TraceCheck | None = None
    with tempfile.TemporaryDirectory(prefix="mintactors-inspect-") as scratch:
        config = replay_config(
            recorded.header,
            Path(scratch) / "files",
            recorded.path,
            trust=trust,
            driver_file=driver_file,
        )
        machine = build_machine(config, None, {"config": config_echo(config)})
        sink = None
        if verify:
            check = TraceCheck(recorded.path, start.lines if start else 0)
            # TraceCheck is a text stream; typeshed's IO[str] is a wider protocol.
            sink = LineTrackingSink(
                cast(IO[str], check), TraceLevel[config.simulation.trace.upper()]
            )
            machine.simulation.trace = sink
        try:
            machine, monitor = _prepare(machine, checkpoints, start, oracles=oracles)
            if monitor is not None:
                monitor.stop_on_violation = stop.on_violation
            after = observer(machine, sink) if observer is not None else None
            result, crash = _run(
                machine,
                stop,
                config_until=config.simulation.until_ns,
                monitor=monitor,
                after=after,
                check=check,
            )
        except BaseException:
            if check is not None:
                check.close()
            raise
    whole = (
        result is not None
        and result.reason != "stopped"
        and recorded.finished
        and result.now_ns == recorded.end_ns
    )
    checked = 0
    if check is not None:
        check.finish(whole_run=whole)
        if check.divergence is not None:
            raise TraceDiverged(recorded.path, check.divergence, _start_text(start))
        checked = check.checked
    cpu = time.process_time() - began
    return Reexecution(machine, monitor, result, checked, start, crash, cpu)


def _prepare(
    fresh: Machine,
    checkpoints: CheckpointSet | None,
    start: CheckpointInfo | None,
    *,
    oracles: bool,
) -> tuple[Machine, OracleMonitor | None]:
    """The machine to run: ``fresh``, or a checkpoint's restored into it; and its oracles."""
    if start is None:
        monitor = OracleMonitor(fresh, fresh.config.oracles.entries) if oracles else None
        return fresh, monitor
    assert checkpoints is not None
    machine, restored = restore_checkpoint(checkpoints.load(start), fresh)
    return machine, restored if oracles else None


def _run(
    machine: Machine,
    stop: Stop,
    *,
    config_until: int | None,
    monitor: OracleMonitor | None,
    after: Observer | None,
    check: TraceCheck | None,
) -> tuple[RunResult | None, ActorCrashed | None]:
    sim = machine.simulation
    if stop.after is not None and sim.delivered >= stop.after:
        return None, None  # already there: nothing to deliver
    bounds = [t for t in (stop.until_ns, config_until) if t is not None]
    until = min(bounds) if bounds else None
    limit = stop.after

    def stop_when() -> bool:
        # Oracles first: a checkpoint taken now would have seen them look.
        found = monitor() if monitor is not None else False
        if after is not None:
            after(machine)
        if check is not None and check.divergence is not None:
            return True
        return found or (limit is not None and sim.delivered >= limit)

    needed = monitor is not None or after is not None or check is not None or limit is not None
    try:
        result = sim.run_sync(
            until_ns=until, stop_when=stop_when if needed else None, stop_at_once=True
        )
    except ActorCrashed as exc:
        return None, exc
    return result, None
