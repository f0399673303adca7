"""A sweep's result columns: the flat names of a results record, and checking ``columns``.

A results record becomes one CSV row of dotted names (``dropped.no_descriptor``,
``latency_ns.p99``, ``statistics.driver.handler_runs``). Which names a run has is
known before it runs, from the machine its config builds, except the drop
counters: ``dropped.<reason>`` appears only when a run drops a packet for that
reason. So a ``columns`` pattern is checked against the names of an unrun machine,
and any pattern that can match a drop counter is accepted.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mintactors.config import Config
from mintactors.errors import ConfigError
from mintactors.experiments.run import collect_results
from mintactors.machine import build_machine
from mintactors.runtime import RunResult

__all__ = [
    "COUNTER_PREFIXES",
    "Scalar",
    "check_columns",
    "flatten_results",
    "result_names",
    "unmatched_columns",
]

Scalar = int | float | str | bool | None

#: Result families whose members exist only once counted: a run that has none of
#: one counted nothing (its CSV cell is 0, not empty).
COUNTER_PREFIXES = ("dropped.",)


def flatten_results(results: Mapping[str, Any], prefix: str = "") -> dict[str, Scalar]:
    """The scalar fields of a results record, nested tables as dotted names.

    Lists (the config's node list, say) are not scalars and are left out, as is the
    top-level ``config`` echo.
    """
    out: dict[str, Scalar] = {}
    for key, value in results.items():
        if not prefix and key == "config":
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten_results(value, name + "."))
        elif isinstance(value, int | float | str | bool) or value is None:
            out[name] = value
    return out


def result_names(config: Config) -> tuple[str, ...]:
    """The result columns a run of ``config`` has (drop counters aside), without running it."""
    machine = build_machine(config, None, {})
    # A run that ended before its first delivery: every record and counter exists.
    results = collect_results(machine, RunResult("idle", 0, 0, 0, 0))
    return tuple(flatten_results(results.to_json()))


def _could_be_counter(pattern: str) -> bool:
    return any(
        pattern.startswith(prefix) or fnmatch.fnmatchcase(prefix + "x", pattern)
        for prefix in COUNTER_PREFIXES
    )


def unmatched_columns(patterns: Sequence[str], configs: Iterable[Config]) -> list[str]:
    """The ``patterns`` that match no result column of any of ``configs``.

    ``configs`` is read lazily and only as far as needed: usually the first config
    settles every pattern.
    """
    left = [p for p in patterns if not _could_be_counter(p)]
    for config in configs:
        if not left:
            break
        names = result_names(config)
        left = [p for p in left if not any(fnmatch.fnmatchcase(n, p) for n in names)]
    return left


def check_columns(patterns: Sequence[str], configs: Iterable[Config], source: str) -> None:
    """Refuse ``columns`` patterns that select nothing.

    Raises:
        ConfigError: naming the first such pattern and where it is in ``sweep.columns``.
    """
    unmatched = unmatched_columns(patterns, configs)
    if unmatched:
        index = list(patterns).index(unmatched[0])
        raise ConfigError(
            source,
            f"sweep.columns[{index}]",
            f"{unmatched[0]!r} matches no result field (fields are dotted names such as "
            "sent, dropped.rcvbuf_full, latency_ns.p99, statistics.driver.handler_runs; "
            "see results.json)",
        )
