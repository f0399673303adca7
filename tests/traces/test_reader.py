"""Damaged traces: a malformed line is an error with its number; a truncated end is used."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mintactors.cli import main
from mintactors.traces import TraceError, TraceReader, summarise

from .conftest import Run

COMMANDS = [
    ["summary"],
    ["events"],
    ["packet", "{trace}", "0"],
    ["export", "perfetto", "{trace}", "-o", "{out}"],
]


def argv(command: list[str], trace: Path, out: Path) -> list[str]:
    args = [a.format(trace=trace, out=out) for a in command]
    if "{trace}" not in command:
        args.append(str(trace))
    return ["trace", *args]


def damaged(run: Run, tmp_path: Path, line: int, text: bytes) -> Path:
    """A copy of ``run``'s trace with line ``line`` (from 1) replaced by ``text``."""
    lines = run.trace.read_bytes().splitlines(keepends=True)
    lines[line - 1] = text
    path = tmp_path / "damaged.jsonl"
    path.write_bytes(b"".join(lines))
    return path


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
@pytest.mark.parametrize(
    "bad",
    [b"{not json\n", b"[1, 2]\n", b'{"t_ns": "5", "actor": "x", "kind": "y"}\n', b"\n"],
    ids=["broken", "array", "string-time", "empty"],
)
def test_a_malformed_line_is_an_error_naming_its_number(
    runs: Callable[..., Run],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    bad: bytes,
) -> None:
    """Every command stops with exit 2 and FILE:LINE: malformed line, and writes nothing."""
    trace = damaged(runs("sparse"), tmp_path, 57, bad)
    out = tmp_path / "out" / "x.json"
    assert main(argv(command, trace, out)) == 2
    err = capsys.readouterr().err
    assert f"{trace}:57: malformed line" in err
    assert "Traceback" not in err
    assert not out.exists()


def truncate_last_line(run: Run, tmp_path: Path, keep_lines: int) -> Path:
    """The first ``keep_lines`` lines of ``run``'s trace and half of the next one."""
    lines = run.trace.read_bytes().splitlines(keepends=True)
    path = tmp_path / "killed.jsonl"
    cut = lines[keep_lines][: len(lines[keep_lines]) // 2]
    path.write_bytes(b"".join(lines[:keep_lines]) + cut)
    return path


def test_a_truncated_last_line_is_reported_and_the_rest_used(
    runs: Callable[..., Run], tmp_path: Path
) -> None:
    """The summary of a killed run's trace equals that of its complete lines, with a warning."""
    run = runs("merging")
    killed = truncate_last_line(run, tmp_path, 300)
    complete = tmp_path / "complete.jsonl"
    complete.write_bytes(b"".join(run.trace.read_bytes().splitlines(keepends=True)[:300]))
    warnings: list[str] = []
    with TraceReader(killed, warnings.append) as reader:
        from_killed = summarise(reader).to_json()
    with TraceReader(complete) as reader:
        from_complete = summarise(reader).to_json()
    assert len(warnings) == 1
    assert ":301: the last line is truncated" in warnings[0]
    assert from_killed["truncated"] is True
    from_killed.pop("truncated"), from_complete.pop("truncated")
    from_killed.pop("trace"), from_complete.pop("trace")
    assert from_killed == from_complete
    assert from_killed["complete"] is False
    assert from_killed["sent"] > 0


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_command_works_on_a_killed_runs_trace(
    runs: Callable[..., Run],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    """Each command warns about the truncated line on stderr and still succeeds.

    The trace is cut while packet 0 is still on its way, so even ``packet 0`` (which
    stops reading once its packet's fate is known) reaches the cut.
    """
    trace = truncate_last_line(runs("merging"), tmp_path, 40)
    assert main(argv(command, trace, tmp_path / "x.json")) == 0
    assert "truncated" in capsys.readouterr().err


def test_a_broken_line_with_its_newline_is_malformed_even_at_the_end(
    runs: Callable[..., Run], tmp_path: Path
) -> None:
    """Only a last line without a newline counts as cut off; a complete bad line is an error."""
    lines = runs("sparse").trace.read_bytes().splitlines(keepends=True)
    path = tmp_path / "bad-end.jsonl"
    path.write_bytes(b"".join(lines[:-1]) + b'{"t_ns": 1,\n')
    with TraceReader(path) as reader, pytest.raises(TraceError, match=f":{len(lines)}: malformed"):
        summarise(reader)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty file"),
        (b'{"actor":"a","kind":"Start","t_ns":0}\n', "line 1 is 'Start'"),
        (b'{"actor":"runtime","format":99,"kind":"trace_header","t_ns":0}\n', "format 99"),
        (b'{"actor":"runtime","format":1,"kind":"trace_h', "header line is incomplete"),
    ],
    ids=["empty", "no-header", "future-format", "cut-header"],
)
def test_a_file_that_is_not_a_trace_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, problem: str
) -> None:
    """Files without a readable trace_header of a known format exit 2 with the reason."""
    path = tmp_path / "t.jsonl"
    path.write_bytes(content)
    assert main(["trace", "summary", str(path)]) == 2
    assert problem in capsys.readouterr().err


def test_a_missing_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A trace path that does not exist exits 2 naming the path."""
    missing = tmp_path / "nope.jsonl"
    assert main(["trace", "summary", str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err
    assert len(err.strip().splitlines()) == 1


def test_the_header_and_run_end_are_read(runs: Callable[..., Run]) -> None:
    """The reader exposes the header (level, config) and keeps the run_end line."""
    run = runs("sparse")
    with TraceReader(run.trace) as reader:
        assert reader.level == "full"
        assert reader.config["generator"]["count"] == 5
        events = list(reader.events())
        assert reader.run_end == events[-1]
        assert reader.run_end["kind"] == "run_end"
    assert json.loads(run.trace.read_text().splitlines()[-1]) == events[-1]
