"""Under ``tso`` a core's snapshot holds its store buffer: what other cores cannot see yet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mintactors.config import load_config
from mintactors.experiments.inspect import Seeker, watch
from mintactors.experiments.run import run_config
from mintactors.hardware.registers import ICR_RXT0, REGISTERS
from mintactors.machine import build_machine
from tests._paths import CONFIGS

REGRESSION = CONFIGS / "scenarios" / "tso-sb-regression.toml"


@pytest.fixture(scope="module")
def stranded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tso")
    run_config(load_config(REGRESSION, ['simulation.trace="full"']), out)
    return out / "trace.jsonl"


def test_where_the_mechanism_reads_ims_both_stores_are_still_buffered(stranded: Path) -> None:
    """The store-buffering race, seen in the machine: when the mechanism loads IMS (and
    reads it masked), the driver's unmask waits in core 1's buffer and frame 1's DD in
    core 0's."""
    lines = [json.loads(line) for line in stranded.read_text().splitlines()]
    base = build_machine(load_config(REGRESSION)).memory.registers_base
    assert base is not None
    ims = base + REGISTERS["IMS"]
    number = max(
        n
        for n, e in enumerate(lines, 1)
        if e["kind"] == "Loaded" and e["actor"] == "mechanism" and e["addr"] == ims
    )
    snap = Seeker(stranded).seek(f"event:{number}").snapshot
    unmask = [e for e in snap.core(1).store_buffer.entries if e.addr == f"{ims:#x}"]  # type: ignore[union-attr]
    assert len(unmask) == 1  # irq_enable's IMS_ENABLE_MASK, RXT0 among its causes
    assert int.from_bytes(bytes.fromhex(unmask[0].data), "little") & ICR_RXT0
    debug = snap.core(0).store_buffer
    assert debug is not None
    status = [e for e in debug.entries if e.length == 1]
    assert [e.data for e in status] == ["07"]  # DD, EOP, IXSM: frame 1's write-back
    assert all(e.due_ns > snap.t_ns for e in (*unmask, *status))
    assert debug.capacity == 56


def test_a_watch_follows_a_core_store_buffer(stranded: Path) -> None:
    """core1.store_buffer.entries changes with every store the driver makes and every drain."""
    report = watch(Seeker(stranded), "core1.store_buffer.entries")
    assert report.changes
    assert report.final == ()  # the run ends with everything drained
    grew = [c for c in report.changes if len(c.after) > len(c.before)]  # type: ignore[arg-type]
    shrank = [c for c in report.changes if len(c.after) < len(c.before)]  # type: ignore[arg-type]
    assert grew
    assert shrank


def test_under_sc_a_core_has_no_store_buffer() -> None:
    machine = build_machine(load_config(CONFIGS / "quickstart.toml"))
    assert machine.snapshot().core(1).store_buffer is None
