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


def test_plain_lines_come_at_most_once_per_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    """Updates in quick succession print one line; after the interval, another."""
    monkeypatch.setenv(PROGRESS_ENV, "0.05")
    stream = io.StringIO()
    progress = Progress("sweep", 10, "runs", stream=stream)
    time.sleep(0.06)
    for done in range(1, 5):
        progress.update(done)
    time.sleep(0.06)
    progress.update(7, "violations 0")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("mintactors: sweep: 1/10 runs (10 %)")
    assert lines[1].startswith("mintactors: sweep: 7/10 runs (70 %), violations 0")
    assert "\r" not in stream.getvalue()


def test_a_short_task_prints_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first line waits for the first interval: quick commands stay quiet."""
    monkeypatch.delenv(PROGRESS_ENV, raising=False)
    stream = io.StringIO()
    progress = Progress("sending", 100, "packets", stream=stream)
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
    monkeypatch.setenv(PROGRESS_ENV, "0.01")
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(
            [
                *("run", str(CONFIGS / "quickstart.toml"), "--out", str(tmp_path)),
                *("--set", "generator.count=3000", "--trace", "off"),
            ]
        )
    assert code == 0
    lines = err.getvalue().splitlines()
    assert lines
    assert all(line.startswith("mintactors: sending: ") for line in lines)
    assert "packets" in lines[0]
    assert "t = " in lines[0]
