"""The Dask executor runs a sweep on a distributed cluster and gives the local result."""

from __future__ import annotations

from pathlib import Path

import pytest

from mintactors.cli import main
from mintactors.experiments.sweep.executors import DaskExecutor, ExecutorError

SWEEP = """
[simulation]
trace = "off"
[generator]
count = 10
[sweep]
runs = [
    { "generator.size" = 1514, "nic.buffer_size" = 2048 },
    { "generator.size" = 8192, "nic.buffer_size" = 8192 },
]
grid = { "generator.interval_ns" = [1000, 5000] }
"""


def test_a_sweep_on_a_dask_cluster_writes_the_local_csv(
    tmp_path: Path, dask_scheduler: str
) -> None:
    """The same sweep run on a LocalCluster and in-process yields byte-identical CSVs."""
    config = tmp_path / "sweep.toml"
    config.write_text(SWEEP)
    dask_out, local_out = tmp_path / "dask", tmp_path / "local"
    args = ["sweep", str(config), "--executor", "dask", "--scheduler", dask_scheduler]
    assert main([*args, "--out", str(dask_out)]) == 0
    assert main(["sweep", str(config), "-j", "1", "--out", str(local_out)]) == 0
    csv = (dask_out / "sweep.csv").read_bytes()
    assert csv == (local_out / "sweep.csv").read_bytes()
    assert len(csv.decode().splitlines()) == 5


def test_an_unreachable_scheduler_is_an_executor_error() -> None:
    """A scheduler address nobody listens on raises ExecutorError (the CLI's status 2)."""
    with pytest.raises(ExecutorError, match="cannot reach the Dask scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", timeout_s=0.5)
