"""Damaged traces, generated: every trace tool answers in one line, never a traceback.

A real trace (a short full-level run with frame bytes) gets one line corrupted: a
field's value replaced by one of the wrong type, a field removed or added, the line
cut short, made invalid UTF-8 or blank, its time moved, or the line duplicated,
dropped or swapped with the next. Every ``trace`` command then either works (exit 0,
``trace diff``: 1 for traces that differ), possibly with one warning, or refuses
(exit 2) with exactly one line on stderr; none may raise.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from mintactors.cli import main
from tests._paths import CONFIGS

EXAMPLES = max(300, settings.default.max_examples)

#: Values of the wrong type for any field.
WRONG = [None, "x", "", -1, 2**70, 1.5, True, [], [1, "a"], {}, {"seq": "x"}]

COMMANDS = [
    ["summary", "{trace}"],
    ["summary", "{trace}", "--json"],
    ["events", "{trace}", "--limit", "40"],
    ["events", "{trace}", "--json", "--seq", "3"],
    ["events", "{trace}", "--actor", "driver", "--kind", "FrameTaken"],
    ["packet", "{trace}", "3"],
    ["packet", "{trace}", "3", "--json"],
    ["export", "perfetto", "{trace}", "-o", "{out}.json"],
    ["export", "pcap", "{trace}", "--frames", "both", "-o", "{out}.pcap"],
]


def _main(args: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, err.getvalue()


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """The lines of a small full trace with frame bytes."""
    out = tmp_path_factory.mktemp("fuzz-trace")
    code, err = _main(
        [
            *("run", str(CONFIGS / "quickstart.toml"), "--out", str(out), "--trace", "full"),
            *("--set", "generator.count=8", "--set", "simulation.trace_frames=true"),
        ]
    )
    assert code == 0, err
    return (out / "trace.jsonl").read_bytes().splitlines(keepends=True)


def _damage(lines: list[bytes], draw: st.DrawFn) -> tuple[list[bytes], str]:
    lines = list(lines)
    index = draw(st.integers(0, len(lines) - 1))
    line = lines[index]
    how = draw(
        st.sampled_from(
            [
                "value",
                "drop field",
                "add field",
                "cut",
                "utf8",
                "blank",
                "earlier",
                "later",
                "duplicate",
                "delete",
                "swap",
                "crlf",
                "truncate file",
            ]
        )
    )
    if how in ("value", "drop field", "add field", "earlier", "later"):
        event_ = json.loads(line)
        if how == "value":
            key = draw(st.sampled_from(sorted(event_)))
            event_[key] = draw(st.sampled_from(WRONG))
        elif how == "drop field":
            del event_[draw(st.sampled_from(sorted(event_)))]
        elif how == "add field":
            event_["frobnicate"] = draw(st.sampled_from(WRONG))
        elif how == "earlier":
            event_["t_ns"] = max(0, event_["t_ns"] - draw(st.integers(1, 10**6)))
        else:
            event_["t_ns"] += draw(st.integers(1, 10**6))
        lines[index] = json.dumps(event_, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    elif how == "cut":
        lines[index] = line[: draw(st.integers(0, max(0, len(line) - 2)))] + b"\n"
    elif how == "utf8":
        lines[index] = line[:5] + b"\xff\xfe" + line[5:]
    elif how == "blank":
        lines.insert(index, b"\n")
    elif how == "duplicate":
        lines.insert(index, line)
    elif how == "delete":
        del lines[index]
    elif how == "swap" and index + 1 < len(lines):
        lines[index], lines[index + 1] = lines[index + 1], line
    elif how == "crlf":
        lines = [x.rstrip(b"\n") + b"\r\n" for x in lines]
    elif how == "truncate file":
        lines = lines[: index + 1]
        lines[-1] = lines[-1][: len(lines[-1]) // 2]
    return lines, f"{how} at line {index + 1}"


@st.composite
def damaged(draw: st.DrawFn, lines: list[bytes]) -> tuple[bytes, str, list[str]]:
    """A damaged copy of ``lines``, what was done, and the command to run on it."""
    damaged_lines, what = _damage(lines, draw)
    return b"".join(damaged_lines), what, draw(st.sampled_from(COMMANDS))


def _check(code: int, err: str, what: str, allowed: tuple[int, ...] = (0,)) -> None:
    lines = err.splitlines()
    assert code in (*allowed, 2), (what, code, err)
    if code == 2:
        assert len(lines) == 1, (what, err)
        assert lines[0].startswith("mintactors: error: "), (what, err)
    else:
        assert len(lines) <= 1, (what, err)
        assert all(line.startswith("mintactors: warning: ") for line in lines), (what, err)


@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_a_damaged_trace_is_one_line_never_a_traceback(
    original: list[bytes], data: st.DataObject
) -> None:
    """Every trace command on a trace with one damaged line: works, warns once, or refuses."""
    text, what, command = data.draw(damaged(original))
    with tempfile.TemporaryDirectory() as tmp:
        trace = Path(tmp) / "trace.jsonl"
        trace.write_bytes(text)
        args = [
            part.replace("{out}", str(Path(tmp) / "export")).replace("{trace}", str(trace))
            for part in command
        ]
        code, err = _main(["trace", *args])
        event(f"{command[0]}: exit {code}")
        _check(code, err, f"{what}; trace {' '.join(command)}")


@settings(max_examples=max(100, settings.default.max_examples))
@given(data=st.data())
def test_diff_against_a_damaged_trace_is_one_line(
    original: list[bytes], data: st.DataObject
) -> None:
    """trace diff of a trace and its damaged copy: 0 or 1, or one line and 2."""
    text, what, _ = data.draw(damaged(original))
    with tempfile.TemporaryDirectory() as tmp:
        good, bad = Path(tmp) / "good.jsonl", Path(tmp) / "bad.jsonl"
        good.write_bytes(b"".join(original))
        bad.write_bytes(text)
        code, err = _main(["trace", "diff", str(good), str(bad)])
        _check(code, err, f"{what}; trace diff", allowed=(0, 1))
