"""Sweeps: expansion of grids and run lists, validation, and the CSV they produce."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest

from mintactors.cli import main
from mintactors.errors import ConfigError
from mintactors.experiments.run import RunOutcome
from mintactors.experiments.sweep.executors import LocalExecutor
from mintactors.experiments.sweep.runner import SweepRunFailed, run_sweep
from mintactors.experiments.sweep.spec import load_sweep, parse_sweep

T = TypeVar("T")
R = TypeVar("R")

SMALL = """
[simulation]
trace = "off"
[generator]
count = 12
interval_ns = 4000
"""


def sweep_from(text: str, source: str = "test.toml") -> Any:
    return parse_sweep(tomllib.loads(text + "\n" + SMALL), source)


def write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text + "\n" + SMALL)
    return path


def test_grid_expands_to_every_combination_last_key_fastest() -> None:
    """A grid gives the product of its value lists, in file order, last key varying fastest."""
    sweep = sweep_from(
        "[sweep]\n"
        'grid = { "generator.interval_ns" = [1000, 2000], "generator.size" = [100, 200, 300] }'
    )
    assert sweep.keys == ("generator.interval_ns", "generator.size")
    assert [p.values() for p in sweep.points] == [
        {"generator.interval_ns": i, "generator.size": s}
        for i in (1000, 2000)
        for s in (100, 200, 300)
    ]
    assert [p.index for p in sweep.points] == list(range(6))


def test_runs_combine_with_the_grid_runs_outer() -> None:
    """Each listed run is combined with every grid point, the run list being the outer loop."""
    sweep = sweep_from(
        "[sweep]\n"
        'runs = [{ "generator.size" = 1514, "nic.buffer_size" = 2048 },'
        ' { "generator.size" = 8192, "nic.buffer_size" = 8192 }]\n'
        'grid = { "generator.interval_ns" = [1000, 3000] }'
    )
    assert sweep.keys == ("generator.size", "nic.buffer_size", "generator.interval_ns")
    assert [tuple(p.values().values()) for p in sweep.points] == [
        (1514, 2048, 1000),
        (1514, 2048, 3000),
        (8192, 8192, 1000),
        (8192, 8192, 3000),
    ]


def test_unquoted_dotted_keys_mean_the_same_as_quoted_ones() -> None:
    """TOML's nested-table reading of generator.size equals the quoted key "generator.size"."""
    quoted = sweep_from('[sweep]\ngrid = { "generator.size" = [100, 200] }')
    nested = sweep_from("[sweep]\ngrid = { generator.size = [100, 200] }")
    assert quoted.points == nested.points


def test_a_run_list_alone_is_a_sweep() -> None:
    """Without a grid, the sweep is exactly the listed runs."""
    sweep = sweep_from('[sweep]\nruns = [{ "generator.count" = 3 }, {}]')
    assert [p.values() for p in sweep.points] == [{"generator.count": 3}, {}]


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("sweep = 3", "sweep", "must be a table"),
        ("[sweep]\ngird = {}", "sweep.gird", "did you mean 'grid'"),
        ("[sweep]\ncolumns = []", "sweep", "needs a grid"),
        ('[sweep]\ngrid = { "generator.size" = 100 }', "sweep.grid.generator.size", "array"),
        ('[sweep]\ngrid = { "generator.size" = [] }', "sweep.grid.generator.size", "at least one"),
        ("[sweep]\ngrid = [1, 2]", "sweep.grid", "table of key"),
        ("[sweep]\nruns = { a = 1 }", "sweep.runs", "array of tables"),
        ("[sweep]\nruns = []", "sweep.runs", "at least one run"),
        (
            '[sweep]\ngrid = { "generator.size" = [100] }\nruns = [{ "generator.size" = 200 }]',
            "sweep.runs[0].generator.size",
            "also swept by sweep.grid",
        ),
        (
            '[sweep]\ngrid = { "generator.size" = [100, 10] }',
            "sweep.grid.generator.size",
            "value 10 (run 1): must be between",
        ),
        (
            '[sweep]\nruns = [{}, { "nic.buffer_size" = 3000 }]',
            "sweep.runs[1].nic.buffer_size",
            "value 3000 (run 1): must be one of",
        ),
        (
            '[sweep]\ngrid = { "generator.sise" = [100] }',
            "sweep.grid.generator.sise",
            "did you mean 'size'",
        ),
        ('[sweep]\ngrid = { "genrator.size" = [100] }', "sweep.grid.genrator.size", "unknown key"),
        (
            '[sweep]\ncolumns = "sent"\ngrid = { "generator.size" = [100] }',
            "sweep.columns",
            "array",
        ),
        (
            '[sweep]\ncolumns = ["sent", "reached_socket"]\ngrid = { "generator.size" = [100] }',
            "sweep.columns[1]",
            "'reached_socket' is no longer a result field; did you mean 'skb_built' (skbs "
            "the driver built and handed to netif_rx) or 'queued_on_socket'",
        ),
        (
            '[sweep]\ncolumns = ["sucess_rate"]\ngrid = { "generator.size" = [100] }',
            "sweep.columns[0]",
            "no result field 'sucess_rate'; did you mean 'success_rate'?",
        ),
    ],
)
def test_bad_sweeps_are_refused_naming_file_and_key(text: str, key: str, fragment: str) -> None:
    """Each malformed [sweep] raises a ConfigError naming the file, the sweep key and the rule."""
    with pytest.raises(ConfigError) as info:
        sweep_from(text, "bad.toml")
    assert info.value.source == "bad.toml"
    assert info.value.key == key
    assert fragment in info.value.problem


def test_a_config_without_a_sweep_table_is_not_a_sweep() -> None:
    """parse_sweep refuses a plain config, pointing at the missing [sweep] table."""
    with pytest.raises(ConfigError, match=r"\[sweep\] table"):
        sweep_from("")


def test_the_sweep_command_reports_bad_input_with_exit_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad sweep value ends the command with status 2, a one-line error and no CSV."""
    path = write(tmp_path, '[sweep]\ngrid = { "generator.size" = [10] }')
    assert main(["sweep", str(path), "--out", str(tmp_path / "out"), "-j", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "sweep.grid.generator.size" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args", [["-j", "0"], ["--executor", "ray"]])
def test_bad_executor_options_exit_with_status_2(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A zero job count or an unknown executor is refused by the parser with status 2."""
    path = write(tmp_path, '[sweep]\ngrid = { "generator.size" = [100] }')
    with pytest.raises(SystemExit) as info:
        main(["sweep", str(path), *args, "--out", str(tmp_path / "o")])
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_dask_without_a_scheduler_is_refused(tmp_path: Path) -> None:
    """--executor dask with no --scheduler stops before running, status 2."""
    path = write(tmp_path, '[sweep]\ngrid = { "generator.size" = [100] }')
    assert main(["sweep", str(path), "--executor", "dask", "--out", str(tmp_path / "o")]) == 2


GRID = (
    "[sweep]\n"
    'runs = [{ "generator.size" = 1514, "nic.buffer_size" = 2048 },'
    ' { "generator.size" = 4096, "nic.buffer_size" = 4096 }]\n'
    'grid = { "generator.interval_ns" = [500, 2000, 6000] }\n'
)


def run_cli(tmp_path: Path, out: str, *args: str) -> bytes:
    path = write(tmp_path, GRID)
    assert main(["sweep", str(path), "--out", str(tmp_path / out), *args]) == 0
    return (tmp_path / out / "sweep.csv").read_bytes()


def test_the_same_command_twice_writes_identical_csv_files(tmp_path: Path) -> None:
    """Running one sweep command twice gives byte-identical CSVs."""
    assert run_cli(tmp_path, "a", "-j", "2") == run_cli(tmp_path, "b", "-j", "2")


def test_parallel_workers_give_the_serial_result(tmp_path: Path) -> None:
    """Two worker processes produce exactly the CSV one in-process worker does."""
    serial = run_cli(tmp_path, "serial", "-j", "1")
    assert run_cli(tmp_path, "parallel", "-j", "2") == serial


def test_the_csv_has_a_row_per_run_with_swept_values_then_results(tmp_path: Path) -> None:
    """Header: run, the swept keys, then result fields; one row per run, in run order."""
    lines = run_cli(tmp_path, "c", "-j", "1").decode().splitlines()
    header = lines[0].split(",")
    assert header[:4] == ["run", "generator.size", "nic.buffer_size", "generator.interval_ns"]
    wanted = ("sent", "skb_built", "queued_on_socket", "success_rate")
    for name in (*wanted, "statistics.driver.handler_runs"):
        assert name in header
    assert not any(h.startswith("config.") for h in header)
    assert [line.split(",")[:4] for line in lines[1:]] == [
        [str(i), s, b, iv]
        for i, (s, b, iv) in enumerate(
            (s, b, iv)
            for s, b in (("1514", "2048"), ("4096", "4096"))
            for iv in ("500", "2000", "6000")
        )
    ]
    sent = header.index("sent")
    assert {line.split(",")[sent] for line in lines[1:]} == {"12"}


class ReversedExecutor:
    """Runs tasks serially but hands results back last first."""

    workers = 1

    def map_unordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[R]:
        return iter([fn(t) for t in tasks][::-1])

    def __enter__(self) -> ReversedExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def test_rows_come_back_in_run_order_whatever_the_completion_order(tmp_path: Path) -> None:
    """Results finishing in reverse order still give rows sorted by run."""
    sweep = load_sweep(write(tmp_path, GRID))
    with LocalExecutor(1) as serial:
        expected = run_sweep(sweep, serial, progress=False)
    shuffled = run_sweep(sweep, ReversedExecutor(), progress=False)
    assert shuffled == expected
    assert [r["run"] for r in shuffled.rows] == list(range(6))


def test_columns_patterns_select_result_fields(tmp_path: Path) -> None:
    """sweep.columns keeps only result fields matching its glob patterns."""
    sweep = load_sweep(
        write(tmp_path, '[sweep]\ncolumns = ["sent", "ipi.*"]\ngrid = { "generator.count" = [2] }')
    )
    with LocalExecutor(1) as serial:
        table = run_sweep(sweep, serial, progress=False)
    assert table.columns == (
        "run",
        "generator.count",
        "sent",
        "ipi.sent",
        "ipi.delivered",
        "ipi.merged",
    )


def failing_measure(outcome: RunOutcome) -> dict[str, int]:
    raise ConfigError("measure", "x", "deliberate failure")


def test_a_failing_run_stops_the_sweep_naming_the_run(tmp_path: Path) -> None:
    """A run that fails raises SweepRunFailed with its index and swept values."""
    sweep = load_sweep(write(tmp_path, '[sweep]\ngrid = { "generator.count" = [1, 2] }'))
    with (
        LocalExecutor(2) as pool,
        pytest.raises(SweepRunFailed, match=r"run \d \(generator.count="),
    ):
        run_sweep(sweep, pool, measure=failing_measure, progress=False)


def test_save_runs_keeps_each_runs_results(tmp_path: Path) -> None:
    """--save-runs writes results.json for every run under DIR/runs/NNNN."""
    path = write(tmp_path, '[sweep]\ngrid = { "generator.count" = [1, 2] }')
    assert main(["sweep", str(path), "-j", "1", "--save-runs", "--out", str(tmp_path / "o")]) == 0
    saved = sorted(
        p.relative_to(tmp_path / "o").as_posix() for p in (tmp_path / "o").rglob("*.json")
    )
    assert saved == ["runs/0000/results.json", "runs/0001/results.json"]
