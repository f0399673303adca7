"""The checks ``mintactors check`` promises: each refusal names the key, in one line, exit 2.

The cases are the attacks that once got through: malformed addresses, ``nan`` and
``inf``, numbers past a documented bound or past 64 bits, memory ranges past the
physical address space or off a page boundary, a refill batch the ring cannot hold,
no packets, a key given twice, a malformed cost curve or an empty profile file.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from mintactors.cli import main
from mintactors.config import parse_config

NODES = """
[[machine.nodes]]
id = 0
cores = [0]
memory_base = 0
memory_size = 0x1000_0000
[[machine.nodes]]
id = 1
cores = [1]
memory_base = {base}
memory_size = {size}
"""


def _check(tmp_path: Path, text: str, *extra: str) -> tuple[int, str]:
    config = tmp_path / "c.toml"
    config.write_text(text)
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(["check", str(config), *extra])
    return code, err.getvalue()


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ('[generator]\nsrc_ip = "300.0.0.1"', "generator.src_ip", "IPv4 address"),
        ('[generator]\ndst_ip = "abc"', "generator.dst_ip", "IPv4 address"),
        ('[generator]\nsrc_ip = "::1"', "generator.src_ip", "IPv4 address"),
        ('[generator]\nsrc_ip = "010.0.0.1"', "generator.src_ip", "IPv4 address"),
        ('[generator]\nsrc_mac = "zz:00:00:00:00:01"', "generator.src_mac", "MAC address"),
        ('[generator]\ndst_mac = "02:00"', "generator.dst_mac", "MAC address"),
        ('[generator]\npattern = "poisson"\nrate_pps = nan', "generator.rate_pps", "finite"),
        ('[generator]\npattern = "poisson"\nrate_pps = inf', "generator.rate_pps", "finite"),
        ('[generator]\npattern = "poisson"\nrate_pps = 1e308', "generator.rate_pps", "1e+09"),
        (
            '[apic]\nipi_latency = { dist = "normal", mean_ns = nan, sd_ns = 1 }',
            "apic.ipi_latency.mean_ns",
            "finite",
        ),
        ("[simulation]\nseed = 18446744073709551616", "simulation.seed", "64 bits"),
        ("[simulation]\nuntil_ns = 9223372036854775807", "simulation.until_ns", "2^62"),
        ("[costs]\nirq_entry_ns = 9223372036854775000", "costs.irq_entry_ns", "2^30"),
        ("[generator]\nstart_ns = 9223372036854775000", "generator.start_ns", "2^36"),
        ("[generator]\ninterval_ns = 68719476737", "generator.interval_ns", "2^36"),
        ("[generator]\ncount = 0", "generator.count", "at least 1"),
        ("[generator]\ncount = 67108865", "generator.count", "at most 67108864"),
        ("[nic]\nring_size = 256\n[driver]\nrefill_batch = 300", "driver.refill_batch", "255"),
        ("[machine.shared]\nbase = 0x2000_0001", "machine.shared.base", "misaligned"),
        (
            NODES.format(base="0x1000_0800", size="0x1000"),
            "machine.nodes[1].memory_base",
            "misaligned",
        ),
        (
            NODES.format(base="0xF_FFFF_FFFF_F000", size="0x2000"),
            "machine.nodes[1].memory_size",
            "physical address space",
        ),
        (
            NODES.format(base="0xFFFF_FFFF_FFFF_F000", size="0x2000"),
            "machine.nodes[1].memory_base",
            "physical address space",
        ),
        ("[generator]\ncount = 3\ncount = 4", "generator.count", "given twice"),
        ("[generator]\ncount = 3\n[nic]\n[generator]", "generator", "defined twice"),
        ("[costs]\ncopy_points = [1, 2]", "costs.copy_points", "[bytes, ns] pairs"),
        ("[costs]\ncopy_points = [[64, 10], [128]]", "costs.copy_points", "[bytes, ns] pairs"),
        ('[costs]\ncopy_points = [[64, "x"]]', "costs.copy_points", "[bytes, ns] pairs"),
        ("[oracles]\nstranded_bound_ns = 0", "oracles.stranded_bound_ns", "at least 1"),
    ],
)
def test_check_refuses_naming_the_key(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    """Exit 2, one line naming the file and the key, and what is wrong."""
    code, err = _check(tmp_path, text)
    assert code == 2, err
    assert err.count("\n") == 1, err
    assert f"c.toml: {key}: " in err, err
    assert fragment in err, err


def test_an_empty_profile_file_names_the_profile_and_its_fields(tmp_path: Path) -> None:
    """An empty cost profile file: exit 2 naming costs.profile and the fields it lacks."""
    (tmp_path / "empty.toml").write_text("")
    code, err = _check(tmp_path, '[costs]\nprofile = "empty.toml"')
    assert code == 2
    assert "costs.profile" in err
    assert "is empty" in err
    assert "copy_points" in err


def test_a_profile_file_with_a_key_twice_names_it(tmp_path: Path) -> None:
    """A duplicate key in a profile file is named, with its line."""
    (tmp_path / "p.toml").write_text("[profile]\nname = 'x'\nname = 'y'\n")
    code, err = _check(tmp_path, '[costs]\nprofile = "p.toml"')
    assert code == 2
    assert "costs.profile" in err
    assert "profile.name is given twice (the second time on line 3)" in err


def test_e1000s_refill_batch_stays_with_a_small_ring() -> None:
    """The default batch (e1000's 16) is kept with an 8-descriptor ring, as the driver does."""
    config = parse_config({"nic": {"ring_size": 8}, "driver": {"refill_batch": 16}}, "t")
    assert config.driver.refill_batch == 16


def test_check_accepts_a_sweep_and_checks_every_run(tmp_path: Path) -> None:
    """check on a sweep config describes it; a bad value in one run is named."""
    good = '[sweep]\ngrid = { "generator.interval_ns" = [1000, 2000, 3000] }'
    config = tmp_path / "s.toml"
    config.write_text(good)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["check", str(config)]) == 0
    assert "a sweep of 3 runs over generator.interval_ns" in out.getvalue()
    code, err = _check(
        tmp_path, '[sweep]\nruns = [{ "generator.count" = 5 }, { "generator.count" = 0 }]'
    )
    assert code == 2
    assert "sweep.runs[1].generator.count" in err


def test_a_sweep_of_more_than_10000_runs_needs_yes(tmp_path: Path) -> None:
    """Without a terminal to ask on, a sweep of 10,001 runs is refused unless --yes."""
    text = '[sweep]\ngrid = { "generator.interval_ns" = [1000, 2000], "generator.size" = [%s] }'
    sizes = ", ".join(str(s) for s in range(100, 100 + 5001))
    code, err = _check(tmp_path, text % sizes)
    assert code == 2
    assert "10,002 runs, more than 10,000" in err
    assert "--yes" in err


def test_sweep_columns_that_match_nothing_are_refused(tmp_path: Path) -> None:
    """A columns pattern no result field matches is named; drop counters always may."""
    base = '[sweep]\ngrid = { "generator.interval_ns" = [1000, 2000] }\n'
    code, err = _check(tmp_path, base + 'columns = ["sent", "dropped.*", "delivred"]')
    assert code == 2
    assert "sweep.columns[2]" in err
    assert "did you mean 'delivered'?" in err
    code, err = _check(tmp_path, base + 'columns = ["sent", "latency_ns.p98"]')
    assert code == 2
    assert "sweep.columns[1]" in err
    assert "'latency_ns.p98' matches no result field" in err
    assert _check(tmp_path, base + 'columns = ["sent", "dropped.*", "statistics.driver.*"]')[0] == 0


def test_a_sweep_whose_runs_set_nothing_is_refused(tmp_path: Path) -> None:
    """runs = [{}] only repeats the base config: refused; beside other runs it is the base."""
    code, err = _check(tmp_path, "[sweep]\nruns = [{}, {}]")
    assert code == 2
    assert "no run sets a key" in err
    assert _check(tmp_path, '[sweep]\nruns = [{}, { "generator.count" = 5 }]')[0] == 0


def test_explore_window_must_not_be_negative(tmp_path: Path) -> None:
    """explore --window -5: exit 2 before anything runs."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as info:
        main(["explore", "configs/quickstart.toml", "--runs", "1", "--window", "-5"])
    assert info.value.code == 2
    assert "--window: must be at least 0, not -5" in err.getvalue()
