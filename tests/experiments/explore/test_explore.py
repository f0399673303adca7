"""Exploration: seeded variations until the first violation, whatever the worker count."""

from __future__ import annotations

from pathlib import Path

import pytest

from mintactors.cli import main
from mintactors.config import load_config
from mintactors.experiments.explore.explore import explore, jitter_assignment, variations
from mintactors.testing import pinned_cost_assignments
from tests._paths import ROOT

LOST_WAKEUP = str(ROOT / "configs" / "scenarios" / "driver-lost-wakeup.toml")
RUNS = 20  # the fixed seed range 1..20


def pinned(*more: str) -> list[str]:
    return [*pinned_cost_assignments(), *more]


def test_explore_finds_the_lost_wakeup_within_the_seed_range() -> None:
    """Over seeds 1..20, exploring the lost-wakeup driver stops at a lost_wakeup violation."""
    plan = variations(RUNS, 1, "random")
    outcome = explore(LOST_WAKEUP, pinned(), plan, jobs=1)
    failing = outcome.failing
    assert failing is not None
    assert failing.violation is not None
    assert failing.violation.oracle == "lost_wakeup"
    assert failing.run < RUNS
    # It stopped there: every earlier run passed, no later run was made.
    assert [v.violation is None for v in outcome.verdicts] == [True] * failing.run + [False]


@pytest.mark.parametrize("driver", ["napi", "paper"])
@pytest.mark.parametrize("policy", ["random", "pct"])
def test_explore_finds_nothing_in_correct_drivers_over_the_same_runs(
    driver: str, policy: str
) -> None:
    """The same seeds and traffic with the napi or paper driver pass every oracle."""
    plan = variations(RUNS, 1, policy)
    outcome = explore(LOST_WAKEUP, pinned(f'driver.kind="{driver}"'), plan, jobs=1)
    assert outcome.failing is None
    assert len(outcome.verdicts) == RUNS


def test_parallel_exploration_reports_the_same_run_as_a_serial_one(tmp_path: Path) -> None:
    """Two worker processes find the same first failing run, with the same verdicts before it."""
    plan = variations(RUNS, 1, "random")
    serial = explore(LOST_WAKEUP, pinned(), plan, jobs=1)
    parallel = explore(LOST_WAKEUP, pinned(), plan, jobs=2, out_dir=tmp_path)
    assert parallel.verdicts == serial.verdicts
    assert parallel.recorded == tmp_path / f"seed-{serial.failing.seed}"  # type: ignore[union-attr]
    assert (parallel.recorded / "trace.jsonl").is_file()  # type: ignore[operator]


def test_jitter_spreads_the_ipi_latency_around_its_mean() -> None:
    """--jitter N is uniform +-N around the configured latency; normal:SD a normal one."""
    config = load_config(LOST_WAKEUP, ["apic.ipi_latency=1200"])
    assert jitter_assignment(config, "300") == (
        'apic.ipi_latency={ dist = "uniform", low_ns = 900, high_ns = 1500 }'
    )
    assert jitter_assignment(config, "normal:50") == (
        'apic.ipi_latency={ dist = "normal", mean_ns = 1200, sd_ns = 50, min_ns = 0 }'
    )


def test_explore_command_reports_the_seed_window_and_replay_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """explore exits 1 with the seed, oracle, a trace window and a replay command that works."""
    sets = [arg for a in pinned() for arg in ("--set", a)]
    out = tmp_path / "found"
    status = main(
        [
            "explore",
            LOST_WAKEUP,
            "--runs",
            str(RUNS),
            "--seed",
            "1",
            "--jobs",
            "2",
            "--jitter",
            "100",
            "--out",
            str(out),
            *sets,
        ]
    )
    printed = capsys.readouterr().out
    assert status == 1
    assert "violated lost_wakeup" in printed
    assert ">> " in printed  # the marker line in the trace window
    assert "IrqUnmasked" in printed
    command = next(line.strip() for line in printed.splitlines() if "mintactors replay" in line)
    trace = command.split()[-1]
    assert Path(trace).parent.parent == out
    assert main(["replay", trace]) == 0
    assert "byte-identical" in capsys.readouterr().out


def test_explore_command_exits_0_when_every_run_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """With the correct driver, explore says every run passed and exits 0."""
    sets = [arg for a in pinned('driver.kind="napi"') for arg in ("--set", a)]
    status = main(["explore", LOST_WAKEUP, "--runs", "5", "--jobs", "1", "--policy", "pct", *sets])
    assert status == 0
    assert "All 5 runs passed every oracle" in capsys.readouterr().out


def test_a_bad_jitter_spec_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A --jitter that is neither N nor normal:SD exits 2 with one line."""
    status = main(["explore", LOST_WAKEUP, "--runs", "1", "--jitter", "lots"])
    assert status == 2
    assert "--jitter" in capsys.readouterr().err


def test_tie_break_exploration_finds_a_race_that_fifo_never_shows(tmp_path: Path) -> None:
    """The ring's DD write and the poll's last read due at memory in the same nanosecond:
    fifo always reads second and sees the frame; random and pct find the other order."""
    config = tmp_path / "tie.toml"
    config.write_text(
        '[driver]\nkind = "lost-wakeup"\n'
        '[generator]\npattern = "list"\ninstants_ns = [10_000, 13_754]\n'
    )
    base = pinned()
    assert explore(str(config), base, variations(RUNS, 1, "fifo"), jobs=1).failing is None
    for policy in ("random", "pct"):
        outcome = explore(str(config), base, variations(RUNS, 1, policy), jobs=1)
        assert outcome.failing is not None, policy
        assert outcome.failing.violation is not None
        assert outcome.failing.violation.oracle == "lost_wakeup"


TIE = str(ROOT / "configs" / "scenarios" / "lost-wakeup-tie.toml")


def test_explore_reports_the_schedules_it_tried_and_the_pct_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The report counts distinct and repeated schedules and gives PCT's d, n, k and bound."""
    args = ["explore", TIE, "--runs", "6", "--jobs", "1", "--policy", "pct", "--out", str(tmp_path)]
    status = main([*args, "--set", 'driver.kind="napi"', "--pct-steps", "20"])
    printed = capsys.readouterr().out.splitlines()
    assert status == 0
    schedules = next(line for line in printed if line.startswith("Schedules:"))
    distinct = len(
        {row.split(",")[2] for row in (tmp_path / "runs.csv").read_text().splitlines()[1:]}
    )
    assert schedules == (
        f"Schedules: 6 runs tried {distinct} distinct schedules; {6 - distinct} repeated one "
        "already seen."
    )
    pct = next(line for line in printed if line.startswith("PCT, depth d = 3: n = "))
    assert "k = 20 (" in pct
    bound = next(line for line in printed if line.startswith("One run finds a bug of depth 3"))
    assert "1/(n k^(d-1)) = " in bound
    assert "6 runs find it with probability at least " in bound
    assert (
        printed[-1]
        == "All 6 runs passed every oracle (conservation, intact_once, flow_order, lost_wakeup)."
    )


def test_until_distinct_without_runs_is_capped_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """fifo has one schedule: asking for two stops at the cap of 10 runs per schedule asked."""
    args = ["explore", TIE, "--until-distinct", "2", "--policy", "fifo", "--jobs", "1"]
    assert main([*args, "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "until 2 distinct schedules (at most 20 runs)" in printed
    assert "Stopped at the cap of 20 runs with 1 of the 2 distinct schedules asked for." in printed
    assert len((tmp_path / "runs.csv").read_text().splitlines()) == 21


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ([], "--runs"),
        (["--runs", "2", "--pct-steps", "10"], "add --policy pct"),
        (["--runs", "2", "--policy", "pct", "--pct-depth", "5", "--pct-steps", "3"], "pct_steps"),
        (["--runs", "2", "--executor", "dask"], "--scheduler"),
    ],
)
def test_bad_explore_options_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], words: str
) -> None:
    """No run count, pct tuning without pct, too few steps, dask without a scheduler."""
    out = tmp_path / "out"
    assert main(["explore", TIE, "--jobs", "1", "--out", str(out), *extra]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.splitlines()
    assert words in line
    assert captured.out == ""
    assert not out.exists()
