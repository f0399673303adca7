"""Outputs that fail cleanly and do not lie.

Every command that writes (run, sweep, explore, paper, replay) answers an output it
cannot write (a read-only directory, a file where the directory should be or above
it, a full disk) with exit 2 and one line naming the path and the system's reason,
and leaves no temporary file and no half-written file under a final name. A run
owns its directory: a rerun removes what it did not write this time, and a second
command writing there at the same time is refused.

A full disk is a small tmpfs where the test can mount one (root, and ``mount``
allowed), and ``ENOSPC`` injected into the output streams otherwise (and always,
in process, so the path is tested on every machine).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mintactors.cli import main, paper
from mintactors.experiments.paper.fig9 import Fig9Point, Fig9Summary
from mintactors.experiments.paper.measure import Table1Row
from mintactors.experiments.run import outputs
from mintactors.experiments.run.outputs import LOCK_NAME, DirectoryLock
from tests._paths import CONFIGS

QUICKSTART = str(CONFIGS / "quickstart.toml")
SMALL = ["--set", "generator.count=30"]

SWEEP = """
[simulation]
trace = "summary"
[generator]
count = 20
[sweep]
grid = { "generator.interval_ns" = [200, 6000] }
"""


def _main(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def _leftovers(root: Path) -> list[Path]:
    """Temporary and lock files anywhere under ``root``."""
    return [p for p in root.rglob("*") if p.name.endswith(".tmp") or p.name == LOCK_NAME]


@contextlib.contextmanager
def _mounted(path: Path, options: str) -> Iterator[bool]:
    """A tmpfs at ``path`` with ``options`` if this test may mount one (True), else False."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        yield False
        return
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def _commands(tmp_path: Path) -> dict[str, Callable[[Path], list[str]]]:
    """Each writing command, given its output directory."""
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(SWEEP)
    trace_dir = tmp_path / "recorded"
    assert _main(["run", QUICKSTART, *SMALL, "--trace", "full", "--out", str(trace_dir)])[0] == 0
    return {
        "run": lambda out: ["run", QUICKSTART, *SMALL, "--out", str(out)],
        "sweep": lambda out: ["sweep", str(sweep), "-j", "1", "--save-runs", "--out", str(out)],
        "explore": lambda out: [
            *("explore", str(CONFIGS / "scenarios" / "lost-wakeup-regression.toml")),
            *("--runs", "1", "--jobs", "1", "--out", str(out)),
        ],
        "replay": lambda out: ["replay", str(trace_dir / "trace.jsonl"), "--out", str(out)],
        # paper claims its directory before any run: these refusals come at once
        "paper": lambda out: ["paper", "table1", "--quick", "-j", "1", "--out", str(out)],
    }


COMMANDS = ["run", "sweep", "explore", "replay"]
#: The commands whose output directory is refused before anything runs.
CLAIMING = [*COMMANDS, "paper"]


@pytest.mark.parametrize("command", CLAIMING)
@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_an_out_that_is_a_file_is_one_line_and_exit_2(
    tmp_path: Path, command: str, where: str
) -> None:
    """--out naming a file, or a path under one: exit 2, one line with the path and reason."""
    args = _commands(tmp_path)[command]
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory\n")
    out = blocker if where == "a file" else blocker / "sub" / "dir"
    code, _, err = _main(args(out))
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert str(blocker) in err
    assert "Not a directory" in err
    assert blocker.read_text() == "not a directory\n"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("command", CLAIMING)
def test_a_read_only_out_is_one_line_and_exit_2(tmp_path: Path, command: str) -> None:
    """A read-only file system (a read-only tmpfs): exit 2, one line naming it."""
    args = _commands(tmp_path)
    with _mounted(tmp_path / "ro", "ro,size=64k") as mounted:
        if not mounted:
            pytest.skip("cannot mount a read-only tmpfs here (the injected tests cover it)")
        code, _, err = _main(args[command](tmp_path / "ro" / "out"))
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert "Read-only file system" in err
    assert str(tmp_path / "ro") in err


@pytest.mark.parametrize("command", COMMANDS)
def test_a_full_disk_is_one_line_and_exit_2_and_leaves_nothing(
    tmp_path: Path, command: str
) -> None:
    """A disk that fills up mid-run: exit 2, one line, no temporary file, no final file."""
    args = _commands(tmp_path)
    full = tmp_path / "full"
    with _mounted(full, "size=12k") as mounted:
        if not mounted:
            pytest.skip("cannot mount a small tmpfs here (the injected tests cover it)")
        heavy = ["--set", "generator.count=2000", "--trace", "full"] if command == "run" else []
        code, _, err = _main([*args[command](full / "out"), *heavy])
        left = sorted(p.name for p in full.rglob("*"))
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert "No space left on device" in err
    assert left == []


class _FillingStream:
    """A file stream that fails with ENOSPC once ``room`` bytes have been written."""

    def __init__(self, stream: Any, room: int) -> None:
        self._stream = stream
        self._room = room

    def write(self, data: Any) -> int:
        self._room -= len(data)
        if self._room < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return int(self._stream.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@pytest.fixture
def disk_fills_after(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Make every output stream fail with ENOSPC after so many bytes."""

    def install(room: int) -> None:
        real = os.fdopen

        def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
            return _FillingStream(real(fd, *args, **kwargs), room)

        monkeypatch.setattr(outputs.os, "fdopen", fdopen)

    return install


@pytest.mark.parametrize("command", COMMANDS)
def test_enospc_while_writing_is_one_line_and_leaves_nothing(
    tmp_path: Path, command: str, disk_fills_after: Callable[[int], None]
) -> None:
    """ENOSPC injected into the output streams: exit 2, the path and reason, no files."""
    args = _commands(tmp_path)
    out = tmp_path / "made" / "out"
    disk_fills_after(100)
    code, _, err = _main(args[command](out))
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert "No space left on device" in err
    assert str(tmp_path / "made") in err
    assert not (tmp_path / "made").exists()  # the directory the command made is gone
    assert _leftovers(tmp_path) == []


def test_paper_output_failure_leaves_no_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, disk_fills_after: Callable[[int], None]
) -> None:
    """paper: a failed write after the runs leaves none of its files (all or nothing)."""
    rows = [Table1Row(size_kb="1.5", paper_us=0.2, model_us=0.21, role="fitted")]
    point = Fig9Point(
        size_kb="1.5",
        interval_ns=1000,
        sent=10,
        skb_built=10,
        queued_on_socket=10,
        interval_realised_ns=1000.0,
    )
    summary = Fig9Summary(
        size_kb="1.5", paper_ns=1000.0, model_ns=1000, r_squared=None, rising_points=0
    )
    monkeypatch.setattr(paper, "_measure", lambda *a: (rows, None, ([point], [summary]), 1))
    out = tmp_path / "paper"
    disk_fills_after(2000)
    code, _, err = _main(["paper", "all", "--quick", "--out", str(out)])
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert not out.exists()
    assert _leftovers(tmp_path) == []


def test_run_pcap_into_a_missing_directory_is_refused(tmp_path: Path) -> None:
    """--pcap in a directory that does not exist: exit 2 before the run; nothing is made."""
    out = tmp_path / "out"
    code, _, err = _main(["run", QUICKSTART, *SMALL, "--out", str(out), "--pcap", "no/x.pcap"])
    assert code == 2
    assert "no/x.pcap" in err
    assert "does not exist" in err
    assert not out.exists()
    assert not Path("no").exists()


def test_a_rerun_removes_the_outputs_it_did_not_write(tmp_path: Path) -> None:
    """A rerun with --trace off leaves no trace.jsonl of the earlier run beside results.json."""
    out = tmp_path / "out"
    assert _main(["run", QUICKSTART, *SMALL, "--out", str(out)])[0] == 0
    assert (out / "trace.jsonl").exists()
    (out / "notes.txt").write_text("mine\n")
    assert _main(["run", QUICKSTART, *SMALL, "--out", str(out), "--trace", "off"])[0] == 0
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "results.json"]


def test_a_second_command_into_a_directory_in_use_is_refused(tmp_path: Path) -> None:
    """While a command holds the directory's lock, another into it is exit 2, one line."""
    out = tmp_path / "out"
    out.mkdir()
    lock = DirectoryLock.acquire(out)
    try:
        code, _, err = _main(["run", QUICKSTART, *SMALL, "--out", str(out)])
    finally:
        lock.release()
    assert code == 2
    assert err.count("\n") == 1, err
    assert f"process {os.getpid()}" in err
    assert "is writing there" in err
    assert sorted(p.name for p in out.iterdir()) == []
    assert _main(["run", QUICKSTART, *SMALL, "--out", str(out)])[0] == 0  # free again


def test_a_lock_left_by_a_killed_command_does_not_block(tmp_path: Path) -> None:
    """A lock file whose holder is gone (the kernel dropped its flock) is taken over."""
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_NAME).write_text("999999\n")
    assert _main(["run", QUICKSTART, *SMALL, "--out", str(out)])[0] == 0
    assert not (out / LOCK_NAME).exists()


def test_a_sweep_rerun_without_save_runs_removes_the_old_runs(tmp_path: Path) -> None:
    """sweep owns runs/: a rerun that saves none removes the earlier runs' files."""
    config = tmp_path / "sweep.toml"
    config.write_text(SWEEP)
    out = tmp_path / "out"
    assert _main(["sweep", str(config), "-j", "1", "--save-runs", "--out", str(out)])[0] == 0
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["0000", "0001"]
    assert _main(["sweep", str(config), "-j", "1", "--out", str(out)])[0] == 0
    assert sorted(p.name for p in out.iterdir()) == ["sweep.csv"]


def test_an_explore_rerun_removes_the_runs_it_recorded_before(tmp_path: Path) -> None:
    """explore owns its seed-* directories: one that finds nothing leaves none, only runs.csv."""
    out = tmp_path / "out"
    regression = str(CONFIGS / "scenarios" / "lost-wakeup-regression.toml")
    code, _, _ = _main(["explore", regression, "--runs", "1", "--jobs", "1", "--out", str(out)])
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == ["runs.csv", "seed-1"]
    fixed = ["--set", 'driver.kind="napi"']
    code, _, _ = _main(
        ["explore", regression, "--runs", "1", "--jobs", "1", "--out", str(out), *fixed]
    )
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["runs.csv"]
    assert (out / "runs.csv").read_text().splitlines()[1].endswith(",ok,,2,2,")
