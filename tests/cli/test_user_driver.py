"""A user's driver named by ``driver.kind``: loaded, checked, run, and refused in one line."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from mintactors.cli import main
from mintactors.config import load_config
from mintactors.errors import ActorCrashed
from mintactors.experiments import run_config
from mintactors.kernel.drivers import DriverCrash

#: A complete driver: the paper's cleaning loop, through the base class's routines.
GOOD = """\
from mintactors.kernel.drivers import IrqReturn, RxDriver


class MyRx(RxDriver):
    def interrupt(self, ctx):
        yield from self.clean_rx_irq(ctx, 1 << 30)
        return IrqReturn.HANDLED
"""

#: Takes frames one by one and raises on the third.
THIRD_PACKET = """\
from mintactors.kernel.drivers import IrqReturn, RxDriver


class ThirdPacket(RxDriver):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.packets = 0

    def interrupt(self, ctx):
        i = self.next_to_clean
        desc = yield from ctx.read_desc(i)
        while desc.done:
            self.packets += 1
            if self.packets == 3:
                raise RuntimeError("refusing packet 3")
            yield from self.take(ctx, desc, napi=False)
            yield from ctx.write_status(i, 0)
            i = self.next_to_clean = self.next_index(i)
            desc = yield from ctx.read_desc(i)
        yield from self.alloc_rx_buffers(ctx, self.desc_unused())
        return IrqReturn.HANDLED
"""


def write_experiment(root: Path, kind: str, files: dict[str, str], count: int = 10) -> Path:
    """A config naming ``kind``, with ``files`` (driver sources) next to it."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    config = root / "exp.toml"
    config.write_text(
        f"[simulation]\nseed = 7\n[generator]\ncount = {count}\n[driver]\nkind = {kind!r}\n"
    )
    return config


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_check_names_the_drivers_file_class_and_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check loads a driver from a file relative to the config and says which one it is."""
    config = write_experiment(tmp_path, "drivers/my_rx.py:MyRx", {"drivers/my_rx.py": GOOD})
    assert main(["check", str(config)]) == 0
    out = capsys.readouterr().out
    digest = hashlib.sha256(GOOD.encode()).hexdigest()
    assert f"driver class MyRx from file drivers/my_rx.py (sha256 {digest[:12]})" in out


def test_a_driver_from_a_file_delivers_every_packet(tmp_path: Path) -> None:
    """run with the user's driver: every packet reaches the application, every oracle holds."""
    config = write_experiment(tmp_path, "drivers/my_rx.py:MyRx", {"drivers/my_rx.py": GOOD}, 40)
    assert main(["run", str(config), "--out", str(tmp_path / "out")]) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["delivered"] == results["sent"] == 40
    assert all(verdict["ok"] for verdict in results["oracles"].values())


def test_a_driver_from_an_importable_module_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``package.module:Class`` imports the module from the Python path."""
    package = tmp_path / "lib" / "userdrivers_for_test"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "rx.py").write_text(GOOD)
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    monkeypatch.delitem(sys.modules, "userdrivers_for_test", raising=False)
    config = write_experiment(tmp_path, "userdrivers_for_test.rx:MyRx", {}, 20)
    assert main(["check", str(config)]) == 0
    assert "class MyRx from module userdrivers_for_test.rx" in capsys.readouterr().out
    outcome = run_config(load_config(config), tmp_path / "out")
    assert outcome.results.delivered == 20


@pytest.mark.parametrize(
    ("kind", "files", "problem"),
    [
        ("drivers/none.py:MyRx", {}, "drivers/none.py: cannot be read: No such file"),
        (
            "drivers/bad.py:MyRx",
            {"drivers/bad.py": "x = 1\n\nclass MyRx(:\n    pass\n"},
            "drivers/bad.py:3: syntax error",
        ),
        (
            "drivers/raises.py:MyRx",
            {"drivers/raises.py": "x = 1\nraise ValueError('no hardware')\n"},
            "drivers/raises.py:2: ValueError while loading: no hardware",
        ),
        ("drivers/my_rx.py:Other", {"drivers/my_rx.py": GOOD}, "defines no class 'Other'"),
        (
            "drivers/plain.py:Plain",
            {"drivers/plain.py": "class Plain:\n    pass\n"},
            "drivers/plain.py:Plain is not a driver class (a subclass of RxDriver)",
        ),
        (
            "drivers/napi.py:Polling",
            {
                "drivers/napi.py": GOOD.replace(
                    "class MyRx(RxDriver):", "class Polling(RxDriver):"
                ).replace("    def interrupt", "    napi = True\n\n    def interrupt")
            },
            "uses NAPI (napi = True) but does not implement poll",
        ),
        (
            "drivers/eager.py:Eager",
            {
                "drivers/eager.py": "from mintactors.kernel.drivers import IrqReturn, RxDriver\n"
                "class Eager(RxDriver):\n"
                "    def interrupt(self, ctx):\n"
                "        return IrqReturn.HANDLED\n"
            },
            "interrupt must be a generator function",
        ),
        ("no_such_package.rx:MyRx", {}, "module 'no_such_package.rx' cannot be imported"),
        ("mintactors.kernel.drivers:RxDriver", {}, "does not implement interrupt(self, ctx)"),
    ],
)
def test_a_driver_that_cannot_be_used_exits_2_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    files: dict[str, str],
    problem: str,
) -> None:
    """Each way a driver file or class can be wrong: check and run exit 2, one line naming
    driver.kind and the problem, nothing written."""
    config = write_experiment(tmp_path, kind, files)
    out = tmp_path / "out"
    for args in (["check", str(config)], ["run", str(config), "--out", str(out)]):
        assert main(args) == 2
        line = one_line_error(capsys)
        assert f"{config}: driver.kind: " in line
        assert problem in line
    assert not out.exists() or not any(out.iterdir())


def crash_line(source: str) -> int:
    """The line of the driver's ``raise`` (1-based)."""
    return next(n for n, text in enumerate(source.splitlines(), 1) if "raise RuntimeError" in text)


def test_an_exception_in_the_drivers_code_stops_the_run_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """run: status 1, one line with the driver's file and line, the time, the message, the seed."""
    config = write_experiment(
        tmp_path, "drivers/third.py:ThirdPacket", {"drivers/third.py": THIRD_PACKET}
    )
    assert main(["run", str(config), "--out", str(tmp_path / "out")]) == 1
    line = one_line_error(capsys)
    assert f"drivers/third.py:{crash_line(THIRD_PACKET)} in interrupt" in line
    assert "RuntimeError: refusing packet 3" in line
    assert "actor 'driver' failed at t=" in line
    assert "(seed 7)" in line
    assert " while handling " in line  # the message it was handling


def test_the_python_api_raises_actor_crashed_with_the_drivers_location(tmp_path: Path) -> None:
    """run_config raises ActorCrashed at the third packet's interrupt, the DriverCrash chained."""
    config = write_experiment(
        tmp_path, "drivers/third.py:ThirdPacket", {"drivers/third.py": THIRD_PACKET}
    )
    with pytest.raises(ActorCrashed) as caught:
        run_config(load_config(config), tmp_path / "out")
    crash = caught.value
    assert (crash.actor, crash.seed) == ("driver", 7)
    # Packets go every 10 us from t = 10 us; the third is taken after t = 30 us.
    assert 30_000 < crash.t_ns < 40_000
    assert isinstance(crash.cause, DriverCrash)
    assert f"third.py:{crash_line(THIRD_PACKET)}" in str(crash.cause)
    assert isinstance(crash.cause.__cause__, RuntimeError)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            ("yield from ctx.write_status(i, 0)", "yield from ctx.step('not_declared')"),
            "step 'not_declared' is not among the driver's declared steps",
        ),
        (
            ("yield from ctx.write_status(i, 0)", "yield ctx.write_status(i, 0)"),
            "driver code yielded a primitive instead of its operations",
        ),
        (
            ("yield from ctx.write_status(i, 0)", "yield ctx.read_desc(i)"),
            "driver code yielded a primitive instead of its operations",
        ),
        (
            ("yield from ctx.write_status(i, 0)", "yield from ctx.writel('RDX', 0)"),
            "no register 'RDX'",
        ),
    ],
)
def test_an_operation_the_kernel_refuses_names_the_drivers_line(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    """A refused step, register or misuse of a primitive is located in the driver's code."""
    source = THIRD_PACKET.replace(*change)
    line = next(n for n, text in enumerate(source.splitlines(), 1) if change[1] in text)
    config = write_experiment(
        tmp_path, "drivers/third.py:ThirdPacket", {"drivers/third.py": source}
    )
    with pytest.raises(ActorCrashed) as caught:
        run_config(load_config(config), tmp_path / "out")
    assert f"third.py:{line} in interrupt: " in str(caught.value)
    assert problem in str(caught.value)


def test_a_constructor_that_fails_is_named_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A driver whose __init__ raises: status 2, the file and line of the raise."""
    source = THIRD_PACKET.replace(
        "        self.packets = 0\n", "        self.packets = 0\n        raise KeyError('eth0')\n"
    )
    config = write_experiment(
        tmp_path, "drivers/third.py:ThirdPacket", {"drivers/third.py": source}
    )
    assert main(["run", str(config), "--out", str(tmp_path / "out")]) == 2
    line = one_line_error(capsys)
    raised = next(n for n, text in enumerate(source.splitlines(), 1) if "KeyError" in text)
    assert "creating the driver failed" in line
    assert f"third.py:{raised} in __init__: KeyError" in line
