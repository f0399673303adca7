"""Replay: a trace alone reruns its run, byte for byte, or says where it diverged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mintactors.captures import pcapng_bytes
from mintactors.cli import main
from mintactors.config import load_config
from mintactors.experiments import run_config
from mintactors.experiments.explore.replay import replay_trace
from mintactors.packets import FrameFactory
from tests._paths import ROOT

SCENARIOS = ROOT / "configs" / "scenarios"


def record(config_path: Path, out: Path, *assignments: str) -> Path:
    config = load_config(config_path, ['simulation.trace="full"', *assignments])
    run_config(config, out)
    return out / "trace.jsonl"


@pytest.mark.parametrize(
    "scenario",
    [
        "driver-lost-wakeup.toml",
        "driver-napi.toml",
        "inject-ipi-at-step.toml",
        "pattern-jitter.toml",
        "tso-napi-no-mb.toml",
        "tso-napi.toml",
    ],
)
def test_replay_reproduces_a_trace_byte_for_byte(tmp_path: Path, scenario: str) -> None:
    """Rerunning from the header gives the same trace, random policy and injections included."""
    trace = record(
        SCENARIOS / scenario, tmp_path / "run", 'simulation.policy="random"', "generator.count=120"
    )
    outcome = replay_trace(trace, tmp_path / "again")
    assert outcome.identical
    assert (tmp_path / "again" / "trace.jsonl").read_bytes() == trace.read_bytes()


def test_replay_needs_only_the_trace_even_for_a_capture_and_a_profile_file(tmp_path: Path) -> None:
    """Capture and profile files are carried in the header: replay works after they are gone."""
    work = tmp_path / "work"
    (work / "data").mkdir(parents=True)
    frames = [FrameFactory(100 + 40 * i).frame(i, 0) for i in range(6)]
    (work / "data" / "cap.pcapng").write_bytes(pcapng_bytes(frames, [i * 7777 for i in range(6)]))
    shutil.copy(ROOT / "mintactors" / "costs" / "profiles" / "paper-2014.toml", work / "mine.toml")
    (work / "exp.toml").write_text(
        '[generator]\npattern = "capture"\ncapture = "data/cap.pcapng"\n'
        '[costs]\nprofile = "mine.toml"\n'
    )
    trace = record(work / "exp.toml", tmp_path / "run")
    shutil.rmtree(work)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cwd = Path.cwd()
    try:
        os.chdir(elsewhere)
        outcome = replay_trace(trace)
    finally:
        os.chdir(cwd)
    assert outcome.identical, outcome.divergence


def test_replay_reports_the_first_divergent_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A trace changed at one line replays to a mismatch at that line, exit status 1."""
    trace = record(SCENARIOS / "pattern-fixed.toml", tmp_path / "run", "generator.count=5")
    lines = trace.read_text().splitlines(keepends=True)
    lines[40] = lines[40].replace('"t_ns":', '"t_ns":1')
    trace.write_text("".join(lines))
    assert main(["replay", str(trace)]) == 1
    printed = capsys.readouterr().out
    assert "DIVERGED at line 41" in printed


def test_a_trace_cut_short_diverges_at_its_end(tmp_path: Path) -> None:
    """A truncated trace is reported as ending early."""
    trace = record(SCENARIOS / "pattern-fixed.toml", tmp_path / "run", "generator.count=5")
    lines = trace.read_text().splitlines(keepends=True)
    trace.write_text("".join(lines[:-3]))
    outcome = replay_trace(trace)
    assert outcome.divergence is not None
    assert (outcome.divergence.line, outcome.divergence.recorded) == (len(lines) - 2, None)


@pytest.mark.parametrize(
    ("content", "problem"),
    [("hello\n", "first line is not JSON"), ('{"kind": "x"}\n', "no trace_header")],
)
def test_a_file_that_is_not_a_trace_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, problem: str
) -> None:
    """replay refuses what is not a trace, in one line, with exit status 2."""
    path = tmp_path / "x.jsonl"
    path.write_text(content)
    assert main(["replay", str(path)]) == 2
    assert problem in capsys.readouterr().err


def test_replay_in_another_interpreter_with_another_hash_seed_is_identical(tmp_path: Path) -> None:
    """A capture run with an injection replays byte for byte under another PYTHONHASHSEED."""
    trace = record(
        SCENARIOS / "pattern-capture.toml",
        tmp_path / "run",
        'driver.kind="napi"',
        'simulation.policy="pct"',
        'inject=[{step = "poll_started", occurrence = 2, action = "ipi"}]',
    )
    env = {**os.environ, "PYTHONHASHSEED": "4321"}
    done = subprocess.run(
        [sys.executable, "-m", "mintactors", "replay", str(trace)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "byte-identical" in done.stdout


def _edit_header(trace: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    lines = trace.read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    edit(header)
    lines[0] = json.dumps(header, sort_keys=True, separators=(",", ":")) + "\n"
    trace.write_text("".join(lines))


def test_a_diverging_header_names_the_fields_that_differ(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A header field changed after the run (the trace edited): replay names it."""
    trace = record(SCENARIOS / "driver-paper.toml", tmp_path / "run", "generator.count=5")

    def edit(header: dict[str, Any]) -> None:
        header["mintactors_version"] = "0.0.0-edited"

    _edit_header(trace, edit)
    assert main(["replay", str(trace), "--out", str(tmp_path / "again")]) == 1
    out = capsys.readouterr().out
    assert "replay DIVERGED at line 1" in out
    assert "header fields that differ: mintactors_version" in out


def test_an_invalid_embedded_config_is_blamed_on_the_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A config in the header that does not check is the trace's fault, not the config file's."""
    trace = record(SCENARIOS / "driver-paper.toml", tmp_path / "run", "generator.count=5")

    def edit(header: dict[str, Any]) -> None:
        header["config"]["generator"]["count"] = 0

    _edit_header(trace, edit)
    assert main(["replay", str(trace)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"mintactors: error: {trace}: config.generator.count: ")
    assert "driver-paper.toml" in err  # where it was recorded from, as information
    assert "must be at least 1" in err


@pytest.mark.parametrize(
    "edit",
    [
        lambda h: h.update(config=[1, 2]),
        lambda h: h.update(config_source=7),
        lambda h: h.update(replay_files=[{"path": 3}]),
        lambda h: h.update(replay_files="x"),
    ],
    ids=["config-not-table", "source-not-text", "file-record", "files-not-list"],
)
def test_a_malformed_header_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Callable[[dict[str, Any]], None]
) -> None:
    """Header fields of the wrong shape: exit 2 naming the trace and the field."""
    trace = record(SCENARIOS / "driver-paper.toml", tmp_path / "run", "generator.count=5")
    _edit_header(trace, edit)
    assert main(["replay", str(trace)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"{trace}: " in err
