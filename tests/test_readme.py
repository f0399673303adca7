"""The README's commands run as they are written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests._paths import ROOT

README = ROOT / "README.md"


def shell_block(after_heading: str) -> list[str]:
    """The commands of the first ``sh`` block after the heading ``after_heading``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(after_heading)
    match = re.search(r"```sh\n(.*?)```", text[start:], re.DOTALL)
    assert match is not None, f"no sh block after {after_heading!r}"
    return [line for line in match.group(1).splitlines() if line.strip()]


def _environment() -> dict[str, str]:
    """PATH with this interpreter's scripts first, so ``mintactors`` is this checkout's."""
    scripts = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("MINTACTORS_PROGRESS_SECONDS", None)
    return env


def test_the_trace_tour_runs_as_written(tmp_path: Path) -> None:
    """Every command of the "Reading traces" block succeeds (trace diff: 1, they differ)."""
    if shutil.which("mintactors", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("the mintactors console script is not installed next to this Python")
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    for command in shell_block("### Reading traces"):
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=tmp_path,
            env=_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        expected = (0, 1) if " trace diff " in command else (0,)
        assert done.returncode in expected, f"{command}\n{done.stderr}"
        assert "Traceback" not in done.stderr, f"{command}\n{done.stderr}"
    assert (tmp_path / "q.pcap").stat().st_size > 24  # more than a pcap header
    assert (tmp_path / "q2.pcap").read_bytes() == (tmp_path / "q.pcap").read_bytes()
