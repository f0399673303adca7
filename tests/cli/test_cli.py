"""The command line: run, check, bad input, and ``python -m``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mintactors.cli import main
from tests._paths import ROOT

QUICKSTART = str(ROOT / "configs" / "quickstart.toml")


def test_run_prints_a_summary_and_writes_results_and_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """run writes results.json with the documented keys and a trace, and prints the table."""
    out = tmp_path / "out"
    code = main(["run", QUICKSTART, "--out", str(out), "--set", "generator.count=50"])
    assert code == 0
    text = capsys.readouterr().out
    for label in (
        "sent",
        "delivered",
        "dropped",
        "IPIs sent / delivered / merged",
        "handler runs",
        "send processing time",
        "throughput",
        "latency p50",
    ):
        assert label in text
    results = json.loads((out / "results.json").read_text())
    for key in (
        "seed",
        "sent",
        "delivered",
        "in_flight",
        "dropped",
        "ipi",
        "handler_runs",
        "send_time_ns_mean",
        "throughput_gbps",
        "latency_ns",
    ):
        assert key in results
    assert set(results["ipi"]) == {"sent", "delivered", "merged"}
    assert set(results["latency_ns"]) >= {"p50", "p99", "max"}
    assert results["sent"] == 50
    lines = (out / "trace.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["kind"] == "trace_header"
    assert json.loads(lines[-1])["kind"] == "run_end"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_seed_and_trace_options_override_the_config(tmp_path: Path) -> None:
    """--seed and --trace reach the run."""
    main(
        [
            "run",
            QUICKSTART,
            "--out",
            str(tmp_path),
            "--seed",
            "9",
            "--trace",
            "full",
            "--set",
            "generator.count=3",
        ]
    )
    results = json.loads((tmp_path / "results.json").read_text())
    header = json.loads((tmp_path / "trace.jsonl").read_text().splitlines()[0])
    assert results["seed"] == header["seed"] == 9
    assert header["level"] == "full"


def test_check_validates_without_running(capsys: pytest.CaptureFixture[str]) -> None:
    """check says what the config describes and exits 0."""
    assert main(["check", QUICKSTART]) == 0
    out = capsys.readouterr().out
    assert "ok" in out
    assert "(kernel-loop)" in out  # how the generator makes its frames


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "nope.toml"], "nope.toml: no such file"),
        (["run", QUICKSTART, "--set", "generator.cuont=3"], "did you mean 'count'"),
        (["run", QUICKSTART, "--set", "nic.ring_size=12"], "nic.ring_size"),
        (["check", QUICKSTART, "--set", "novalue"], "--set: novalue"),
        (
            ["run", QUICKSTART, "--set", "generator.build=user"],
            "generator.build: must be one of 'kernel-loop', 'per-send', not a string 'user'",
        ),
        (["run", QUICKSTART, "--set", 'memory.model="arm"'], "memory.model"),
        (["run", QUICKSTART, "--set", "memory.store_buffer_entries=0"], "store_buffer_entries"),
        (
            ["run", QUICKSTART, "--set", 'memory.drain_delay={dist="uniform",low_ns=9,high_ns=2}'],
            "memory.drain_delay",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(
    args: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad input: status 2, a one-line message on stderr, no traceback, no outputs."""
    out = tmp_path / "out"
    code = main([*args, "--out", str(out)] if args[0] == "run" else args)
    captured = capsys.readouterr()
    assert code == 2
    assert needle in captured.err
    assert "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    assert not out.exists() or not any(out.iterdir())


def test_python_dash_m_is_the_same_command(tmp_path: Path) -> None:
    """python -m mintactors behaves exactly like mintactors, and is deterministic."""
    outputs = []
    for hash_seed, name in (("1", "a"), ("99", "b")):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "mintactors",
                "run",
                QUICKSTART,
                "--out",
                str(tmp_path / name),
                "--set",
                "generator.count=40",
                "--set",
                'simulation.policy="random"',
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(
            (
                (tmp_path / name / "trace.jsonl").read_bytes(),
                (tmp_path / name / "results.json").read_bytes(),
            )
        )
    assert outputs[0] == outputs[1]
    bad = subprocess.run(
        [sys.executable, "-m", "mintactors", "check", "missing.toml"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "missing.toml: no such file" in bad.stderr
