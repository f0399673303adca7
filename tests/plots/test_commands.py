"""mintactors plot ...: PNGs through the CLI, and bad input as one line with exit 2."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from matplotlib.image import imread

from mintactors.cli import main

from .conftest import Inputs, write_runs


def test_each_command_writes_its_png_and_says_what_it_drew(
    inputs: Inputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """plot sweep, trace and explore each write a PNG of the documented size, and nothing else."""
    runs = write_runs(tmp_path / "runs.csv", ["0,1,aa,ok,,5,5,", "1,2,bb,violation,x,5,4,99"])
    commands = {
        "sweep.png": [
            *("sweep", str(inputs.sweep_csv), "--x", "generator.interval_ns"),
            *("--y", "success_rate", "--by", "generator.size", "--logx"),
        ],
        "trace.png": ["trace", str(inputs.full_trace)],
        "explore.png": ["explore", str(runs)],
    }
    sizes = {"sweep.png": (450, 800), "trace.png": (1350, 800), "explore.png": (450, 800)}
    out = tmp_path / "out"
    for name, args in commands.items():
        assert main(["plot", *args, "-o", str(out / name)]) == 0
        assert imread(out / name).shape[:2] == sizes[name]
    assert sorted(p.name for p in out.iterdir()) == sorted(commands)  # no temporary left
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == (
        f"{out / 'sweep.png'}: success_rate against generator.interval_ns, 2 line(s), 8 points"
    )
    # The trace's figures come from the model's run: check their shape and the counts
    # the fixture fixes (50 packets, each raising and lowering ring and socket once).
    trace_line = re.fullmatch(
        re.escape(f"{out / 'trace.png'}: latency of 50 packets; ")
        + r"ring occupancy \(100 changes, high \d+\) and socket queue \(100 changes, "
        r"high \d+\) over [\d.]+ us",
        printed[1],
    )
    assert trace_line is not None, printed[1]
    assert printed[2] == f"{out / 'explore.png'}: 2 runs, 1 violation, 2 distinct schedules"


def test_another_process_draws_the_same_bytes(inputs: Inputs, tmp_path: Path) -> None:
    """A fresh process, another hash seed and a GUI backend asked for: the same PNG bytes."""
    args = ["trace", str(inputs.full_trace)]
    assert main(["plot", *args, "-o", str(tmp_path / "here.png")]) == 0
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env |= {"PYTHONHASHSEED": "4321", "MPLBACKEND": "TkAgg"}
    subprocess.run(
        [sys.executable, "-m", "mintactors", "plot", *args, "-o", str(tmp_path / "there.png")],
        check=True,
        env=env,
        capture_output=True,
    )
    assert (tmp_path / "here.png").read_bytes() == (tmp_path / "there.png").read_bytes()


def test_importing_mintactors_and_the_plot_command_loads_no_matplotlib() -> None:
    """matplotlib is loaded only when a figure is drawn."""
    code = (
        "import sys, mintactors, mintactors.plots, mintactors.plots.commands; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert done.stdout.strip() == "[]"


# Each case: a function of (inputs, tmp_path) giving the CLI arguments before -o, the
# file the error must name, and a fragment of the message.
Case = Callable[[Inputs, Path], tuple[list[str], Path, str]]


def _text(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def _sweep(path: Path, *options: str) -> list[str]:
    return ["sweep", str(path), *options]


XY = ("--x", "generator.interval_ns", "--y", "success_rate")

BAD_INPUT: dict[str, Case] = {
    "sweep: missing file": lambda i, t: (
        _sweep(t / "nope.csv", *XY),
        t / "nope.csv",
        "cannot open: No such file or directory",
    ),
    "sweep: empty file": lambda i, t: (
        _sweep(_text(t, "e.csv", ""), *XY),
        t / "e.csv",
        "empty file: no header row",
    ),
    "sweep: header and no rows": lambda i, t: (
        _sweep(_text(t, "h.csv", "run,generator.interval_ns,success_rate\n"), *XY),
        t / "h.csv",
        "empty: a header row and no data rows",
    ),
    "sweep: unknown --x": lambda i, t: (
        _sweep(i.sweep_csv, "--x", "interval_ns", "--y", "success_rate"),
        i.sweep_csv,
        "--x: no column 'interval_ns' (did you mean 'generator.interval_ns'?); "
        "columns: run, generator.size, nic.buffer_size, generator.interval_ns, sent,",
    ),
    "sweep: unknown --y": lambda i, t: (
        _sweep(i.sweep_csv, "--x", "generator.interval_ns", "--y", "sucess_rate"),
        i.sweep_csv,
        "--y: no column 'sucess_rate' (did you mean 'success_rate'?); columns: run,",
    ),
    "sweep: unknown --by": lambda i, t: (
        _sweep(i.sweep_csv, *XY, "--by", "size"),
        i.sweep_csv,
        "--by: no column 'size' (did you mean 'generator.size'?); columns: run,",
    ),
    "sweep: non-numeric --y": lambda i, t: (
        _sweep(_text(t, "w.csv", "k,kind\n1,napi\n"), "--x", "k", "--y", "kind"),
        t / "w.csv",
        "--y: column 'kind' is not numeric: 'napi' on line 2",
    ),
    "sweep: --logx over zero": lambda i, t: (
        _sweep(_text(t, "z.csv", "k,v\n0,1\n"), "--x", "k", "--y", "v", "--logx"),
        t / "z.csv",
        "--logx: column 'k' has the value 0; a log axis needs values above 0",
    ),
    "sweep: a trace given as the CSV": lambda i, t: (
        _sweep(i.full_trace, *XY),
        i.full_trace,
        "not a CSV file: it starts with a JSON object",
    ),
    "sweep: not text": lambda i, t: (
        _sweep(_text(t, "b.csv", b"\xff\xfe\x00binary"), *XY),
        t / "b.csv",
        "not a CSV file: not UTF-8 text",
    ),
    "sweep: ragged rows": lambda i, t: (
        _sweep(_text(t, "r.csv", "k,v\n1,2,3\n"), "--x", "k", "--y", "v"),
        t / "r.csv",
        "line 2: 3 fields where the header has 2",
    ),
    "trace: missing file": lambda i, t: (
        ["trace", str(t / "nope.jsonl")],
        t / "nope.jsonl",
        "cannot open: No such file or directory",
    ),
    "trace: not a mintactors trace": lambda i, t: (
        ["trace", str(i.sweep_csv)],
        i.sweep_csv,
        "not a mintactors trace",
    ),
    "trace: summary level": lambda i, t: (
        ["trace", str(i.summary_trace)],
        i.summary_trace,
        "a summary-level trace has no PacketReceived, DescriptorDone, DescriptorReturned, "
        "SkbQueued or SkbDequeued notes to plot; run again with --trace full",
    ),
    "explore: missing file": lambda i, t: (
        ["explore", str(t / "runs.csv")],
        t / "runs.csv",
        "cannot open: No such file or directory",
    ),
    "explore: empty file": lambda i, t: (
        ["explore", str(_text(t, "runs.csv", ""))],
        t / "runs.csv",
        "empty file",
    ),
    "explore: a sweep.csv": lambda i, t: (
        ["explore", str(i.sweep_csv)],
        i.sweep_csv,
        "no column 'fingerprint'; no column 'verdict' (is it an explore runs.csv?",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
@pytest.mark.parametrize("existing", [False, True], ids=["no-output", "existing-output"])
def test_bad_input_is_one_line_exit_2_and_no_file_written(
    case: str,
    existing: bool,
    inputs: Inputs,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each bad input: exit 2, one line naming the file, no PNG made, an old one untouched."""
    args, source, fragment = BAD_INPUT[case](inputs, tmp_path)
    out = tmp_path / "out" / "plot.png"
    if existing:
        out.parent.mkdir()
        out.write_bytes(b"an earlier plot")
    assert main(["plot", *args, "-o", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith(f"mintactors: error: {source}")
    assert fragment in line
    if existing:
        assert out.read_bytes() == b"an earlier plot"
        assert [p.name for p in out.parent.iterdir()] == ["plot.png"]
    else:
        assert not out.parent.exists() or not any(out.parent.iterdir())


@pytest.mark.parametrize(
    ("output", "fragment"),
    [("plot.svg", "-o: the output is a PNG image"), ("dir.png", "-o: is a directory")],
)
def test_an_output_that_is_not_a_png_file_is_refused_before_reading(
    output: str, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """-o must name a .png file; the input is not even opened otherwise."""
    (tmp_path / "dir.png").mkdir()
    target = tmp_path / output
    assert main(["plot", "trace", str(tmp_path / "nope.jsonl"), "-o", str(target)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"mintactors: error: {target}: {fragment}")


def test_an_output_that_cannot_be_written_is_one_line_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A drawn figure that cannot be saved: exit 2, one line naming the output, no file."""
    runs = write_runs(tmp_path / "runs.csv", ["0,1,aa,ok,,5,5,"])
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory would be")
    target = blocker / "plot.png"
    assert main(["plot", "explore", str(runs), "-o", str(target)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"mintactors: error: {target}: cannot write: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-dir", "runs.csv"]


def test_the_png_is_readable_by_others_like_any_output(tmp_path: Path) -> None:
    """The temporary file's private mode is not kept: the PNG gets the umask's mode."""
    runs = write_runs(tmp_path / "runs.csv", ["0,1,aa,ok,,5,5,"])
    assert main(["plot", "explore", str(runs), "-o", str(tmp_path / "e.png")]) == 0
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "e.png").stat().st_mode & 0o777 == 0o666 & ~mask
