"""A sweep's CSV says 0 for a counter a run never counted, and columns select something."""

from __future__ import annotations

import tomllib

from mintactors.config import load_config
from mintactors.experiments.sweep import LocalExecutor, parse_sweep, run_sweep
from mintactors.experiments.sweep.columns import result_names, unmatched_columns
from tests._paths import CONFIGS

#: One run drops packets at the socket (tiny rcvbuf), one drops none.
SWEEP = """
[simulation]
trace = "off"
[generator]
count = 40
interval_ns = 200
[sweep]
runs = [{ "socket.rcvbuf" = 5000 }, { "socket.rcvbuf" = 212992, "generator.interval_ns" = 20000 }]
"""


def test_a_counter_a_run_never_hit_is_zero_not_empty() -> None:
    """dropped.rcvbuf_full: the run without drops writes 0 in the CSV."""
    sweep = parse_sweep(tomllib.loads(SWEEP), "s.toml")
    with LocalExecutor(1) as executor:
        table = run_sweep(sweep, executor, progress=False)
    assert "dropped.rcvbuf_full" in table.columns
    drops = table.column("dropped.rcvbuf_full")
    assert drops[0] > 0
    assert drops[1] == 0
    # Not a counter: a figure a run has no value for stays empty.
    assert table.column("latency_ns.p50")[0] is not None


def test_result_names_come_from_an_unrun_machine() -> None:
    """The columns a config's runs have are known before they run (drop counters aside)."""
    names = result_names(load_config(CONFIGS / "quickstart.toml"))
    assert {"sent", "latency_ns.p99", "statistics.driver.handler_runs"} <= set(names)
    assert not any(name.startswith("dropped.") for name in names)


def test_patterns_are_checked_against_every_kind_of_run() -> None:
    """A real-NIC column is fine when some run has that NIC; a typo is not; drops always are."""
    mint = load_config(CONFIGS / "quickstart.toml")
    e1000 = load_config(CONFIGS / "real_nic.toml")
    patterns = ["statistics.nic.*", "dropped.anything", "delivred"]
    assert unmatched_columns(patterns, [mint]) == ["statistics.nic.*", "delivred"]
    assert unmatched_columns(patterns, [mint, e1000]) == ["delivred"]
