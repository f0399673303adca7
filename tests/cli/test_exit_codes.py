"""Exit statuses a CI job can rely on, and output a newcomer can read.

``run`` exits 1 when an oracle is violated (``--allow-violations``: 0); the help is
plain text; the inject scenario's IPI counts add up on the page; ``explore`` ends in
a sentence.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
from pathlib import Path

import pytest

from mintactors.cli import build_parser, main
from tests._paths import CONFIGS

SCENARIOS = CONFIGS / "scenarios"


def _main(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


def test_a_violated_oracle_is_exit_1_naming_it(tmp_path: Path) -> None:
    """The lost-wakeup regression config fails a CI job: exit 1, the oracle named twice."""
    config = str(SCENARIOS / "lost-wakeup-regression.toml")
    code, out, err = _main(["run", config, "--out", str(tmp_path / "a")])
    assert code == 1
    assert "VIOLATED: lost_wakeup" in out
    assert err.splitlines() == [
        "mintactors: oracle violated: lost_wakeup (exit status 1; --allow-violations exits 0)"
    ]
    assert (tmp_path / "a" / "results.json").exists()  # the run's outputs are kept


def test_allow_violations_restores_exit_0(tmp_path: Path) -> None:
    """--allow-violations: the same run exits 0 and says nothing on stderr."""
    config = str(SCENARIOS / "lost-wakeup-regression.toml")
    code, out, err = _main(["run", config, "--out", str(tmp_path), "--allow-violations"])
    assert code == 0
    assert "VIOLATED: lost_wakeup" in out
    assert err == ""


@pytest.mark.parametrize(
    "config",
    sorted(p.name for p in SCENARIOS.glob("*.toml")),
)
def test_every_scenario_exits_as_its_comment_says(tmp_path: Path, config: str) -> None:
    """A scenario whose comment promises a violation exits 1; every other one exits 0."""
    text = (SCENARIOS / config).read_text()
    expects_violation = "exits 1" in text
    code, out, _ = _main(["run", str(SCENARIOS / config), "--out", str(tmp_path), "--trace", "off"])
    assert code == (1 if expects_violation else 0), out


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += _parsers(sub)
    return found


def test_help_has_no_restructuredtext_markup() -> None:
    """No ``double backticks`` or :role:`name` in any command's --help."""
    for parser in _parsers(build_parser()):
        text = parser.format_help()
        assert "``" not in text, parser.prog
        assert not re.search(r":[a-z]+:`", text), parser.prog


def test_the_inject_scenario_explains_its_extra_ipi(tmp_path: Path) -> None:
    """The injected IPI is delivered but was never sent: the summary says so, and it adds up."""
    config = str(SCENARIOS / "inject-ipi-at-step.toml")
    code, out, _ = _main(["run", config, "--out", str(tmp_path)])
    assert code == 0
    row = next(line for line in out.splitlines() if "IPIs sent / delivered / merged" in line)
    assert row.split("merged")[1].split() == ["20", "+", "1", "injected", "/", "21", "/", "0"]
    assert "sent                            21  (1 injected)" in out


def test_explore_ends_with_a_sentence(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The last line explore prints, pass or fail, is a full sentence."""
    regression = str(SCENARIOS / "lost-wakeup-regression.toml")
    out = str(tmp_path / "explore")
    for extra, status in (([], 1), (["--set", 'driver.kind="napi"'], 0)):
        code = main(["explore", regression, "--runs", "1", "--jobs", "1", "--out", out, *extra])
        last = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
        assert code == status
        assert last[0].isupper()
        assert last.endswith(".")
