"""The paper's experiments: calibration, definitions and the files `mintactors paper` writes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mintactors.cli import main
from mintactors.config import parse_config
from mintactors.costs import load_profile
from mintactors.experiments.paper.calibration import fit_send_side, profile_toml
from mintactors.experiments.paper.fig9 import Fig9Point, r_squared, summarise
from mintactors.experiments.paper.measure import (
    FULL,
    PAPER_BASE,
    QUICK,
    PaperMeasurementError,
    PaperScale,
    e1_runs,
    e2_runs,
    table1,
    table1_rows,
)
from mintactors.experiments.sweep.executors import LocalExecutor
from mintactors.experiments.sweep.spec import load_sweep, point_raw
from tests._paths import BUILTIN_PROFILE, CONFIGS

PROFILE = BUILTIN_PROFILE

# The paper's Table 1, in ns, keyed by the frame bytes each size maps to.
TABLE1_NS = {1024: 175, 1514: 205, 4096: 766, 8192: 1462, 12288: 2131, 16384: 3664}


def test_the_shipped_profile_reproduces_table_1_within_its_fit() -> None:
    """E1 with the calibrated paper-2014 profile gives every Table 1 value to within 1 ns."""
    with LocalExecutor(1) as executor:
        rows = table1(executor, QUICK)
    assert [(r.size_kb, r.role) for r in rows] == [
        (kb, "fitted") for kb in ("1", "1.5", "4", "8", "12", "16")
    ]
    for row in rows:
        assert abs(row.model_us - row.paper_us) <= 0.001, row


def test_the_send_fit_is_the_line_through_the_two_smallest_sizes() -> None:
    """Fixed send cost = Table 1's 1 KB-1.5 KB line at 0 bytes; copy = Table 1 minus it."""
    slope = (205 - 175) / (1514 - 1024)
    fixed = round(175 - slope * 1024)  # 112 ns
    base = load_profile("paper-2014")
    fitted = fit_send_side(base)
    assumed = base.memory_latency_ns + base.descriptor_writeback_ns + base.icr_write_ns
    assert fitted["syscall_entry_ns"] + fitted["syscall_exit_ns"] == fixed - assumed
    assert fitted["copy_points"] == [[b, ns - fixed] for b, ns in TABLE1_NS.items()]


def test_the_shipped_profile_holds_what_the_fit_produces() -> None:
    """Rewriting the profile with its own fitted values changes nothing (no version bump)."""
    profile = load_profile("paper-2014")
    fitted = {
        **fit_send_side(profile),
        "handup_ns": profile.handup_ns,
    }
    _, changed = profile_toml(PROFILE, fitted)
    assert not changed


def test_a_changed_fit_bumps_the_profile_version(tmp_path: Path) -> None:
    """A different fitted value gives a new text with the version one higher."""
    copy = tmp_path / "p.toml"
    shutil.copy(PROFILE, copy)
    version = load_profile("paper-2014").version
    text, changed = profile_toml(copy, {"handup_ns": 1})
    assert changed
    assert f"version = {version + 1}\n" in text
    assert "handup_ns = 1\n" in text


def test_e1_refuses_a_run_whose_sends_were_refused() -> None:
    """A refused send skips the copy, so an E1 run with one is not a measurement."""
    rows = [{"send_window_ns": 200.0, "sends_refused": 0}] * 5
    rows = [*rows, {"send_window_ns": 90.0, "sends_refused": 3}]
    with pytest.raises(PaperMeasurementError, match="16 KB: 3 sends were refused"):
        table1_rows(rows)


def test_r_squared_of_points_on_a_line_is_one_and_of_scatter_is_less() -> None:
    """R² is 1 for collinear points and matches a hand computation for a small set."""
    assert r_squared([1, 2, 3, 4], [2, 4, 6, 8]) == pytest.approx(1.0)
    # x = 1, 2, 3; y = 1, 3, 2: sxy = 1, sxx = 2, syy = 2, so R² = 1 / 4.
    assert r_squared([1, 2, 3], [1, 3, 2]) == pytest.approx(0.25)
    assert r_squared([1, 2], [1, 2]) is None


def test_the_100_percent_point_is_the_first_interval_at_100_percent_above_the_rise() -> None:
    """Summary: smallest interval at 100 % above the largest one below, R² of the points below."""
    # (planned interval, realised interval, skbs built); the socket queued 5 fewer.
    cycles = [(500, 420.0, 30), (1000, 990.0, 55), (1500, 1500.0, 80), (1800, 1800.0, 100)]
    cycles += [(1700, 1700.0, 99), (2500, 2500.0, 100)]
    points = [Fig9Point("1.5", iv, 100, built, built - 5, real) for iv, real, built in cycles]
    [summary] = summarise(points)
    assert summary.model_ns == 1800
    assert summary.rising_points == 4
    # The success rate counts skbs built (the paper's socket buffer), against the
    # realised interval (the figure's x axis).
    assert summary.r_squared == pytest.approx(
        r_squared([420, 990, 1500, 1700], [0.30, 0.55, 0.80, 0.99])
    )
    assert summary.paper_ns == pytest.approx(1514 * 8 / 6.3)


HEADERS = {
    "table1.csv": "size_kb,paper_us,model_us,rel_error,role",
    "table2.csv": "size_kb,nic,paper_gbps,model_gbps,rel_error,role",
    "fig9.csv": (
        "size_kb,interval_ns,interval_realised_ns,sent,skb_built,queued_on_socket,success_rate"
    ),
    "fig9_summary.csv": "size_kb,table2_proxy_us,model_us,rel_error,role,r_squared,rising_points",
}


@pytest.fixture(scope="module")
def quick_paper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mintactors paper all --quick` run once into a directory."""
    out = tmp_path_factory.mktemp("paper")
    assert main(["paper", "all", "--quick", "--out", str(out), "-j", "2"]) == 0
    return out


def test_paper_all_writes_the_four_files_with_the_exact_headers(quick_paper: Path) -> None:
    """table1.csv, table2.csv and fig9.csv have the issue's headers; fig9.png is a PNG."""
    for name, header in HEADERS.items():
        assert (quick_paper / name).read_text().splitlines()[0] == header
    assert (quick_paper / "fig9.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in quick_paper.iterdir()) == sorted([*HEADERS, "fig9.png"])


def test_paper_rows_mark_fitted_and_predicted(quick_paper: Path) -> None:
    """Table 1 is fitted; in Table 2 only the 1.5 KB Mint row is; the real NIC row exists."""
    table1_lines = (quick_paper / "table1.csv").read_text().splitlines()[1:]
    assert [line.split(",")[-1] for line in table1_lines] == ["fitted"] * 6
    table2 = [line.split(",") for line in (quick_paper / "table2.csv").read_text().splitlines()[1:]]
    assert [(r[0], r[1], r[-1]) for r in table2] == [
        ("1", "debug", "predicted"),
        ("1.5", "debug", "fitted"),
        ("4", "debug", "predicted"),
        ("8", "debug", "predicted"),
        ("12", "debug", "predicted"),
        ("16", "debug", "predicted"),
        ("1.5", "real", "predicted"),
    ]
    for row in table2:
        paper, model, error = float(row[2]), float(row[3]), float(row[4])
        assert error == pytest.approx((model - paper) / paper, abs=1e-3)
    fig9 = [line.split(",") for line in (quick_paper / "fig9.csv").read_text().splitlines()[1:]]
    assert {r[0] for r in fig9} == {"1.5", "8", "16"}
    for row in fig9:
        assert float(row[6]) == pytest.approx(int(row[4]) / int(row[3]))
    summary = (quick_paper / "fig9_summary.csv").read_text().splitlines()[1:]
    assert [(r.split(",")[0], r.split(",")[4]) for r in summary] == [
        ("1.5", "predicted"),
        ("8", "predicted"),
        ("16", "predicted"),
    ]


def test_fig9_places_each_cycle_at_its_realised_interval(quick_paper: Path) -> None:
    """Below one send time the realised interval is the send time, not the planned one."""
    rows = [line.split(",") for line in (quick_paper / "fig9.csv").read_text().splitlines()[1:]]
    for size_kb, planned, realised, *_ in rows:
        # Sends cannot go faster than they take; above that they keep the interval.
        assert float(realised) >= min(int(planned), 205) - 1e-9, (size_kb, planned)
    shortest = min((r for r in rows if r[0] == "16"), key=lambda r: int(r[1]))
    # 16 KB: the shortest planned interval is under Table 1's 3.664 us send time,
    # so the sends go back to back (or faster, when the ring refuses the copy).
    assert int(shortest[1]) < 3664
    assert float(shortest[2]) != int(shortest[1])


def test_the_same_paper_command_twice_writes_identical_csvs(
    quick_paper: Path, tmp_path: Path
) -> None:
    """A second `paper all --quick` (one worker this time) writes byte-identical CSVs."""
    assert main(["paper", "all", "--quick", "--out", str(tmp_path), "-j", "1"]) == 0
    for name in HEADERS:
        assert (tmp_path / name).read_bytes() == (quick_paper / name).read_bytes()


def test_paper_refuses_an_unknown_experiment(capsys: pytest.CaptureFixture[str]) -> None:
    """`mintactors paper table3` is bad input: status 2 and the allowed choices."""
    with pytest.raises(SystemExit) as info:
        main(["paper", "table3"])
    assert info.value.code == 2
    assert "table1" in capsys.readouterr().err


CONFIGS = CONFIGS / "paper"


@pytest.mark.parametrize(("name", "runs"), [("table1.toml", e1_runs), ("table2.toml", e2_runs)])
def test_the_shipped_paper_sweeps_are_the_runs_the_paper_command_makes(
    name: str, runs: Callable[[PaperScale], list[dict[str, Any]]]
) -> None:
    """configs/paper/table1.toml and table2.toml sweep exactly E1's and E2's runs."""
    sweep = load_sweep(CONFIGS / name)
    expected = runs(FULL)
    assert len(sweep.points) == len(expected)
    for point, run in zip(sweep.points, expected, strict=True):
        config = parse_config(point_raw(sweep.raw, point.overrides), "same")
        paper = parse_config(point_raw(PAPER_BASE, run.items()), "same")
        assert config == paper


FAST_RECV = "recv_copy_points=[[1024, 63], [1514, 93], [16384, 1003]]"


def test_a_sensitivity_run_labels_every_row_post_hoc(tmp_path: Path) -> None:
    """With a cost changed from the fitted profile, no row is fitted or predicted."""
    assert main(["paper", "table1", "--quick", "--cost", FAST_RECV, "--out", str(tmp_path)]) == 0
    rows = (tmp_path / "table1.csv").read_text().splitlines()[1:]
    assert [row.split(",")[-1] for row in rows] == ["post-hoc"] * 6
    points = [Fig9Point("8", iv, 10, built, built, iv) for iv, built in ((100, 5), (300, 10))]
    assert [s.role for s in summarise(points)] == ["predicted"]
    assert [s.role for s in summarise(points, post_hoc=True)] == ["post-hoc"]
    rows_in = [{"send_window_ns": 200.0, "sends_refused": 0}] * 6
    assert {r.role for r in table1_rows(rows_in, post_hoc=True)} == {"post-hoc"}


@pytest.mark.parametrize(
    ("cost", "needle"),
    [
        ("recv_copy_pionts=[[1, 1]]", "did you mean 'recv_copy_points'"),
        ("recv_copy_points=[[2, 1], [1, 2]]", "strictly increasing"),
        ("profile=host.toml", "use the paper-2014 profile"),
    ],
)
def test_a_bad_cost_change_exits_2_naming_the_field(
    cost: str, needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`paper --cost` takes only cost fields with valid values: status 2, one line."""
    assert main(["paper", "table1", "--quick", "--cost", cost, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--cost" in err
    assert needle in err
    assert not list(tmp_path.iterdir())
