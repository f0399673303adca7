"""``mintactors inspect``: tables, JSON, watches, checkpoints, bad input and divergence."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from mintactors.cli import main
from mintactors.cli.inspect import EXIT_DIVERGED
from tests._paths import CONFIGS

REGRESSION = str(CONFIGS / "scenarios" / "lost-wakeup-regression.toml")
QUICKSTART = str(CONFIGS / "quickstart.toml")


@pytest.fixture(scope="module")
def lost_wakeup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lw")
    assert main(["run", REGRESSION, "--trace", "full", "--out", str(out)]) == 1  # violated
    return out / "trace.jsonl"


def inspect(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["inspect", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_at_violation_the_table_shows_dd_at_next_to_clean_and_ims_masked(
    lost_wakeup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ring row at next_to_clean has DD; IMS reads 0 with every cause masked."""
    capsys.readouterr()
    code, out, _ = inspect(capsys, str(lost_wakeup), "--at", "violation")
    assert code == 0
    row = next(line for line in out.splitlines() if line.endswith("<- next_to_clean"))
    assert "DD EOP IXSM" in row
    assert "IMS 0x00000000 (none: every cause masked)" in out
    assert "ICR 0x00000080 (latched: RXT0)" in out
    assert "NAPI      SCHED set" in out
    assert "where its wakeup was lost" in out.splitlines()[0]


def test_json_gives_one_component_for_tools(
    lost_wakeup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json --component ring: the ring record, with the instant and the lines checked."""
    capsys.readouterr()
    code, out, _ = inspect(
        capsys, str(lost_wakeup), "--at", "violation", "--component", "ring", "--json"
    )
    assert code == 0
    data = json.loads(out)
    ring = data["snapshot"]
    assert data["component"] == "ring"
    assert data["checked_lines"] > 1
    assert ring["descriptors"][ring["next_to_clean"]]["flags"] == ["DD", "EOP", "IXSM"]


def test_watch_and_before_print_the_changes_with_their_causes(
    lost_wakeup: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--watch lists each change with the delivery that made it; --before the last."""
    capsys.readouterr()
    code, out, _ = inspect(capsys, str(lost_wakeup), "--watch", "driver.napi.sched")
    assert code == 0
    assert "false -> true" in out
    assert "true -> false" in out
    code, out, _ = inspect(
        capsys, str(lost_wakeup), "--watch", "memory.registers.ims", "--before", "violation"
    )
    assert code == 0
    assert "0x9d -> 0x0" in out
    assert "memory MemoryWrite <- driver" in out


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("--at", "10ms"), "past the end of the run"),
        (("--at", "12..5us"), "is not a time"),
        (("--at", "event:x"), "must be a whole number"),
        (("--watch", "ring.rdtt"), "did you mean 'rdt'?"),
        (("--watch", "rign.rdt"), "components: core0, apic0"),
        (("--at", "1us", "--component", "rng"), "did you mean 'ring'?"),
        ((), "give --at TARGET"),
        (("--at", "1us", "--before", "2us"), "--before goes with --watch"),
        (("--watch", "ring.rdt", "--before", "1us", "--to", "2us"), "takes no --from/--to"),
        (("--watch", "ring.rdt", "--from", "soon"), "--from:"),
    ],
)
def test_bad_input_is_exit_2_with_one_line(
    lost_wakeup: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], complaint: str
) -> None:
    """Each mistake gets one line on stderr saying what was wrong and what is allowed."""
    capsys.readouterr()
    code, out, err = inspect(capsys, str(lost_wakeup), *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert complaint in err


def test_a_trace_without_header_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file whose first line is not a trace header is refused before anything runs."""
    bogus = tmp_path / "trace.jsonl"
    bogus.write_text('{"t_ns":0,"actor":"core1","kind":"CoreStep"}\n')
    code, _, err = inspect(capsys, str(bogus), "--at", "0ns")
    assert code == 2
    assert "not a mintactors trace" in err
    assert len(err.strip().splitlines()) == 1


def test_a_divergence_is_exit_3_and_names_the_line(
    lost_wakeup: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tampered trace is not shown as a state: exit 3, the line, both versions of it."""
    lines = lost_wakeup.read_text().splitlines(keepends=True)
    number = next(i for i, text in enumerate(lines, 1) if '"kind":"FrameCopied"' in text)
    lines[number - 1] = lines[number - 1].replace('"desc":0', '"desc":5')
    tampered = tmp_path / "trace.jsonl"
    tampered.write_text("".join(lines))
    code, out, err = inspect(capsys, str(tampered), "--at", "violation")
    assert code == EXIT_DIVERGED == 3
    assert out == ""
    assert f"diverged from the recorded trace at line {number}" in err
    assert '"desc":5' in err


def test_run_with_checkpoints_makes_later_seeks_start_near_the_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """run --checkpoints N saves the machine; inspect then starts from the last one before."""
    out = tmp_path / "run"
    code = main(
        [
            "run",
            QUICKSTART,
            "--out",
            str(out),
            "--set",
            "generator.count=200",
            "--set",
            "generator.interval_ns=5000",  # idle between packets: checkpoints can be taken
            "--checkpoints",
            "500",
        ]
    )
    assert code == 0
    assert "checkpoints" in capsys.readouterr().out
    code, text, _ = inspect(capsys, str(out / "trace.jsonl"), "--at", "500us")
    assert code == 0
    assert "re-executed from the checkpoint at" in text
    code, text, _ = inspect(capsys, str(out / "trace.jsonl"), "--at", "500us", "--no-checkpoints")
    assert "re-executed from the start" in text


def test_checkpoints_need_a_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With tracing off there is nothing for checkpoints to belong to."""
    code = main(
        ["run", QUICKSTART, "--out", str(tmp_path), "--trace", "off", "--checkpoints", "100"]
    )
    assert code == 2
    assert "needs a trace" in capsys.readouterr().err


def test_explore_prints_the_inspect_command_beside_replay_and_it_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The printed command, run as printed, shows the machine where the wakeup was lost."""
    out = tmp_path / "explore"
    code = main(["explore", REGRESSION, "--runs", "1", "--jobs", "1", "--out", str(out)])
    assert code == 1
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    replay = lines.index("To reproduce it, run:")
    assert lines[replay + 1].strip().startswith("mintactors replay ")
    assert lines[replay + 2] == "To see the machine where it broke, run:"
    command = shlex.split(lines[replay + 3])
    assert command[:2] == ["mintactors", "inspect"]
    assert command[-2:] == ["--at", "violation"]
    code = main(command[1:])
    assert code == 0
    assert "<- next_to_clean" in capsys.readouterr().out
