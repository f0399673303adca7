"""One run with its oracles, kept even when the run breaks conservation.

:func:`~mintactors.experiments.run.run_config` refuses to write results whose
packets do not add up. Exploration and replay need the opposite: a run that breaks
an oracle, conservation included, is exactly the one whose trace must be kept. The
trace is the same either way: both build the machine with the same config echo and
run it with the same oracle monitor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from mintactors.config import Config
from mintactors.errors import ActorCrashed
from mintactors.experiments.oracles import OracleMonitor, Violation
from mintactors.experiments.results import AccountingError, account, collect_results
from mintactors.experiments.run import atomic_outputs, write_json
from mintactors.machine import Machine, build_machine

__all__ = ["RecordedRun", "config_echo", "record_run"]


def config_echo(config: Config) -> dict[str, Any]:
    """The config as the trace header and results.json echo it."""
    echo: dict[str, Any] = json.loads(json.dumps(dict(config.raw), default=str))
    return echo


@attrs.frozen
class RecordedRun:
    """What a recorded run found.

    Attributes:
        violations: every oracle violation, in the order found.
        first: the one that began first, if any.
        results: the results record (``None`` when the run crashed).
        machine: the machine after its run.
        fingerprint: the schedule's fingerprint, when ``record_run`` was asked for
            it (also after a crash: the schedule up to the crash).
        ties_broken: decisions the tie-break policy made.
    """

    violations: tuple[Violation, ...]
    first: Violation | None
    results: dict[str, Any] | None
    machine: Machine
    fingerprint: str | None = None
    ties_broken: int = 0


def record_run(
    config: Config,
    out_dir: Path | None = None,
    *,
    stop_on_violation: bool = False,
    fingerprint: bool = False,
) -> RecordedRun:
    """Run ``config`` with its oracles; write trace.jsonl and results.json to ``out_dir``.

    A component crash is reported as a violation of the pseudo-oracle ``crash``; a
    conservation failure as one of ``conservation``. Either way the outputs are
    written. With ``fingerprint``, the run records its schedule's fingerprint
    (:attr:`RecordedRun.fingerprint`); results.json is the same either way.
    """
    with atomic_outputs(out_dir) as outputs:
        stream = None
        if out_dir is not None and config.simulation.trace != "off":
            stream = outputs.open("trace.jsonl")
        echo = config_echo(config)
        machine = build_machine(config, stream, {"config": echo}, fingerprint=fingerprint)
        monitor = OracleMonitor(
            machine, config.oracles.stranded_bound_ns, stop_on_violation=stop_on_violation
        )
        simulation = machine.simulation
        try:
            run = simulation.run_sync(until_ns=config.simulation.until_ns, stop_when=monitor)
        except ActorCrashed as exc:
            monitor.violations.append(
                Violation("crash", exc.t_ns, exc.t_ns, str(exc), {"actor": exc.actor})
            )
            if stream is not None:
                stream.flush()
            return RecordedRun(
                tuple(monitor.violations),
                monitor.first(),
                None,
                machine,
                simulation.fingerprint,
                simulation.ties_broken,
            )
        error = None
        try:
            account(machine)
            results: dict[str, Any] = collect_results(machine, run)
        except AccountingError as exc:
            error = str(exc)
            results = {"seed": config.simulation.seed, "end": {"reason": run.reason}}
        monitor.finish(run, error)
        results["oracles"] = monitor.report()
        results["config"] = echo
        if out_dir is not None:
            write_json(outputs.open("results.json"), results)
    return RecordedRun(
        tuple(monitor.violations),
        monitor.first(),
        results,
        machine,
        machine.simulation.fingerprint,
        machine.simulation.ties_broken,
    )
