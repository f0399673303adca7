"""Small real inputs for the plots, made once per session through the CLI.

A sweep.csv from ``mintactors sweep`` and traces from ``mintactors run`` (full and
summary); runs.csv is written by hand, with exactly the columns ``mintactors
explore`` writes.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from mintactors.cli import main

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = str(ROOT / "configs" / "quickstart.toml")
SWEEP_CONFIG = str(ROOT / "configs" / "sweeps" / "interval_size.toml")

RUNS_HEADER = "run,seed,fingerprint,verdict,oracle,sent,delivered,violation_t_ns"


@attrs.frozen
class Inputs:
    """The real files the plot tests read."""

    sweep_csv: Path
    full_trace: Path
    summary_trace: Path


@pytest.fixture(scope="session")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Inputs:
    """A sweep of 8 short runs, a full trace of 50 packets, a summary trace of 5."""
    base = tmp_path_factory.mktemp("plot-inputs")
    sweep_args = ["--set", "generator.count=20", "--jobs", "1", "--out", str(base / "sweep")]
    assert main(["sweep", SWEEP_CONFIG, *sweep_args]) == 0
    full = ["--trace", "full", "--set", "generator.count=50", "--out", str(base / "full")]
    assert main(["run", QUICKSTART, *full]) == 0
    summary = ["--trace", "summary", "--set", "generator.count=5", "--out", str(base / "summary")]
    assert main(["run", QUICKSTART, *summary]) == 0
    return Inputs(
        base / "sweep" / "sweep.csv",
        base / "full" / "trace.jsonl",
        base / "summary" / "trace.jsonl",
    )


def write_runs(path: Path, rows: list[str]) -> Path:
    """A runs.csv with the explore header and ``rows`` (each a CSV line)."""
    path.write_text("\n".join([RUNS_HEADER, *rows]) + "\n")
    return path
