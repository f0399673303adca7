"""A trace of a run with a user's driver: the driver file rides in the header, and
replay runs that code only when the user allows it."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from mintactors.cli import main
from mintactors.config import load_config
from mintactors.experiments import run_config
from mintactors.experiments.explore import UntrustedDriver, replay_trace

#: The paper's cleaning loop through the base class's routines; `LIMIT` is what
#: the tests below change to make a different driver.
DRIVER = """\
from mintactors.kernel.drivers import IrqReturn, RxDriver

LIMIT = 1 << 30


class MyRx(RxDriver):
    def interrupt(self, ctx):
        yield from self.clean_rx_irq(ctx, LIMIT)
        return IrqReturn.HANDLED
"""


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A full trace of 30 packets under the random policy, through drivers/my_rx.py."""
    work = tmp_path / "work"
    (work / "drivers").mkdir(parents=True)
    (work / "drivers" / "my_rx.py").write_text(DRIVER)
    config = work / "exp.toml"
    config.write_text(
        '[simulation]\npolicy = "random"\ntrace = "full"\n'
        "[generator]\ncount = 30\ninterval_ns = 2500\n"
        '[driver]\nkind = "drivers/my_rx.py:MyRx"\n'
    )
    run_config(load_config(config), tmp_path / "run")
    return tmp_path / "run" / "trace.jsonl"


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


def test_the_header_carries_the_driver_file_like_a_capture(recorded: Path) -> None:
    """Key driver.kind, the path as written, its sha256 and its bytes in base64."""
    header = json.loads(recorded.read_text().splitlines()[0])
    (record,) = [r for r in header["replay_files"] if r["key"] == "driver.kind"]
    assert record["path"] == "drivers/my_rx.py"
    assert record["sha256"] == hashlib.sha256(DRIVER.encode()).hexdigest()
    assert base64.b64decode(record["content_b64"]) == DRIVER.encode()


def test_replay_with_trust_runs_the_recorded_code_byte_for_byte(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--trust reruns the embedded bytes, even after the file on disk changed or went."""
    driver = tmp_path / "work" / "drivers" / "my_rx.py"
    driver.write_text(DRIVER.replace("1 << 30", "1"))  # would take one frame per interrupt
    assert main(["replay", str(recorded), "--trust", "--out", str(tmp_path / "again")]) == 0
    assert "byte-identical" in capsys.readouterr().out
    assert (tmp_path / "again" / "trace.jsonl").read_bytes() == recorded.read_bytes()
    shutil.rmtree(tmp_path / "work")
    assert replay_trace(recorded, trust=True).identical


def test_replay_without_trust_refuses_in_one_line(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --trust, no --driver: exit 2, naming the embedded file, its digest and the options."""
    out = tmp_path / "again"
    assert main(["replay", str(recorded), "--out", str(out)]) == 2
    line = one_line_error(capsys)
    digest = hashlib.sha256(DRIVER.encode()).hexdigest()
    assert "embeds driver code (drivers/my_rx.py, sha256 " + digest in line
    assert "--trust" in line
    assert "--driver FILE" in line
    assert not out.exists()
    with pytest.raises(UntrustedDriver):
        replay_trace(recorded)


def test_replay_with_a_matching_local_file_runs_it(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--driver FILE whose contents hash the same as the embedded driver: replayed."""
    copy = tmp_path / "elsewhere" / "reviewed.py"
    copy.parent.mkdir()
    copy.write_text(DRIVER)
    assert main(["replay", str(recorded), "--driver", str(copy)]) == 0
    assert "byte-identical" in capsys.readouterr().out


def test_replay_with_a_different_local_file_refuses(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--driver FILE with other contents: exit 2, the two digests named, nothing run."""
    other = tmp_path / "other.py"
    other.write_text(DRIVER.replace("1 << 30", "1"))
    out = tmp_path / "again"
    assert main(["replay", str(recorded), "--driver", str(other), "--out", str(out)]) == 2
    line = one_line_error(capsys)
    assert f"--driver: {other}: sha256 " in line
    assert "is not that of the driver the trace ran (drivers/my_rx.py" in line
    assert not out.exists()


def test_a_trace_naming_a_driver_module_is_imported_only_with_trust(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A module is not in the header; importing it runs code, so it needs --trust too."""
    lines = recorded.read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    header["config"]["driver"]["kind"] = "some_package.rx:MyRx"
    header["replay_files"] = []
    edited = tmp_path / "edited.jsonl"
    edited.write_text(json.dumps(header) + "\n" + "".join(lines[1:]))
    assert main(["replay", str(edited)]) == 2
    assert "names driver module 'some_package.rx'" in one_line_error(capsys)
    assert main(["replay", str(edited), "--trust"]) == 2  # now it is imported, and missing
    assert "cannot be imported" in one_line_error(capsys)


def test_a_header_that_names_a_driver_file_it_does_not_carry_is_refused(
    recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file named by the config but absent from replay_files is never read from disk."""
    lines = recorded.read_text().splitlines(keepends=True)
    header = json.loads(lines[0])
    header["replay_files"] = []
    edited = tmp_path / "edited.jsonl"
    edited.write_text(json.dumps(header) + "\n" + "".join(lines[1:]))
    assert main(["replay", str(edited), "--trust"]) == 2
    assert "does not carry it" in one_line_error(capsys)
