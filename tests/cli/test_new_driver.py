"""``mintactors new-driver``: a commented driver file that runs as it is, never overwriting."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from mintactors.cli import main
from mintactors.config import load_config
from mintactors.experiments import run_config
from tests._paths import PACKAGE


def config_line(source: str) -> str:
    """The ``kind = "..."`` the file's closing comment suggests."""
    found = re.search(r'^#\s+kind = "([^"]+)"\s*$', source, re.MULTILINE)
    assert found is not None
    return found.group(1)


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


def test_the_written_driver_runs_every_packet_through_with_every_oracle_passing(
    tmp_path: Path,
) -> None:
    """Written with -o, named in a config by its own closing comment, run: all delivered."""
    target = tmp_path / "drivers" / "my_rx.py"
    target.parent.mkdir()
    assert main(["new-driver", "my_rx", "-o", str(target)]) == 0
    source = target.read_text()
    tree = ast.parse(source)
    (cls,) = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert cls.name == "MyRx"
    assert [ast.unparse(base) for base in cls.bases] == ["RxDriver"]
    kind = config_line(source)
    assert kind == f"{target.as_posix()}:MyRx"
    config = tmp_path / "exp.toml"
    config.write_text(
        "[generator]\ncount = 60\ninterval_ns = 4000\n[nic]\nring_size = 32\n"
        f"[driver]\nkind = {json.dumps(kind)}\n"
    )
    out = tmp_path / "out"
    assert main(["run", str(config), "--out", str(out)]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["delivered"] == results["sent"] == 60
    assert set(results["oracles"]) == {"conservation", "intact_once", "lost_wakeup", "flow_order"}
    assert all(verdict["ok"] for verdict in results["oracles"].values())


def test_the_handler_is_its_own_cleaning_loop_commented_with_linux_names(tmp_path: Path) -> None:
    """interrupt loops over descriptors itself, and the comments name the C it mirrors."""
    target = tmp_path / "rx.py"
    assert main(["new-driver", "rx", "-o", str(target)]) == 0
    source = target.read_text()
    tree = ast.parse(source)
    interrupt = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "interrupt"
    )
    assert any(isinstance(node, ast.While) for node in ast.walk(interrupt))
    called = {
        node.func.attr
        for node in ast.walk(interrupt)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert "clean_rx_irq" not in called
    assert {"read_desc", "write_status"} <= called
    for name in ("e1000_clean_rx_irq", "e1000_alloc_rx_buffers", "dma_rmb", "netif_rx", "RDT"):
        assert name in source


def test_by_default_it_writes_name_dot_py_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without -o the file is NAME.py in the current directory; dashes make one class word."""
    monkeypatch.chdir(tmp_path)
    assert main(["new-driver", "fast-rx"]) == 0
    source = (tmp_path / "fast-rx.py").read_text()
    assert "class FastRx(RxDriver):" in source
    assert config_line(source) == "fast-rx.py:FastRx"
    config = tmp_path / "exp.toml"
    config.write_text('[generator]\ncount = 5\n[driver]\nkind = "fast-rx.py:FastRx"\n')
    assert run_config(load_config(config), tmp_path / "out").results.delivered == 5


def test_an_existing_file_is_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second new-driver to the same file: exit 2, one line, the file unchanged."""
    target = tmp_path / "mine.py"
    target.write_text("# my work\n")
    assert main(["new-driver", "mine", "-o", str(target)]) == 2
    assert "exists; not overwriting it" in one_line_error(capsys)
    assert target.read_text() == "# my work\n"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["new-driver", "2fast"], "must be letters, digits, '_' and '-', starting with a letter"),
        (["new-driver", "my_rx.py"], "must be letters, digits"),
        (["new-driver", "rx_driver"], "its class RxDriver would shadow"),
        (["new-driver", "rx", "-o", "no/such/dir/rx.py"], "cannot be written"),
    ],
)
def test_bad_names_and_unwritable_places_exit_2_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    problem: str,
) -> None:
    """Errors are bad input: status 2, one line, nothing written."""
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    assert problem in one_line_error(capsys)
    assert not any(tmp_path.iterdir())


def test_the_template_is_the_paper_driver_written_out(tmp_path: Path) -> None:
    """The packaged template and the built-in paper driver give the same trace, line for line."""
    template = PACKAGE / "kernel" / "drivers" / "template.py"
    traces = []
    for name, kind in (("template", f"{template}:TemplateRx"), ("paper", "paper")):
        config = tmp_path / f"{name}.toml"
        config.write_text(
            '[simulation]\ntrace = "full"\npolicy = "random"\n'
            "[generator]\ncount = 80\ninterval_ns = 1500\n[nic]\nring_size = 16\n"
            f"[driver]\nkind = {json.dumps(kind)}\n"
        )
        run_config(load_config(config), tmp_path / name)
        traces.append((tmp_path / name / "trace.jsonl").read_text().splitlines()[1:])
    assert traces[0] == traces[1]
