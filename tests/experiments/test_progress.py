"""Progress on stderr when it is not a terminal: a plain line every few seconds, no bar."""

from __future__ import annotations

import contextlib
import io
import time
from pathlib import Path

import pytest

from mintactors.cli import main
from mintactors.experiments.progress import PROGRESS_ENV, Progress, progress_interval
from tests._paths import CONFIGS
from tests._processes import wait_until


def test_plain_lines_report_the_latest_state_every_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A line every interval, with the latest count, whether or not anything finished."""
    monkeypatch.setenv(PROGRESS_ENV, "0.02")
    stream = io.StringIO()
    with Progress("sweep", 10, "runs", stream=stream) as progress:
        assert wait_until(lambda: "0/10 runs (0 %)" in stream.getvalue(), timeout=10)
        progress.update(7, "violations 0")
        assert wait_until(lambda: "7/10 runs (70 %), violations 0" in stream.getvalue(), 10)
    text = stream.getvalue()
    assert all(line.startswith("mintactors: sweep: ") for line in text.splitlines())
    assert "\r" not in text
    after = len(text)
    time.sleep(0.1)
    assert len(stream.getvalue()) == after  # closed: no more lines


def test_a_short_task_prints_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first line waits for the first interval: quick commands stay quiet."""
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    stream = io.StringIO()
    with Progress("sending", 100, "packets", stream=stream) as progress:
        progress.update(100)
    assert stream.getvalue() == ""


@pytest.mark.parametrize(("value", "expected"), [("0", None), ("junk", 5.0), ("2.5", 2.5)])
def test_the_interval_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: float | None
) -> None:
    """MINTACTORS_PROGRESS_SECONDS sets the interval; 0 turns the lines off."""
    monkeypatch.setenv(PROGRESS_ENV, value)
    assert progress_interval() == expected


def test_a_long_run_reports_progress_on_a_pipe(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """run with stderr not a terminal: plain progress lines, then the result as usual."""
    monkeypatch.setenv(PROGRESS_ENV, "0.05")
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(
            [
                *("run", str(CONFIGS / "quickstart.toml"), "--out", str(tmp_path)),
                *("--set", "generator.count=5000", "--trace", "off"),
            ]
        )
    assert code == 0
    lines = err.getvalue().splitlines()
    assert lines
    assert all(line.startswith("mintactors: sending: ") for line in lines)
    assert "packets" in lines[0]
    assert any("t = " in line for line in lines)  # once the simulation reports its time
