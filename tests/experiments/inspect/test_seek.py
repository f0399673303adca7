"""Seeking: targets, the lost-wakeup violation, and refusing a run that is not the recorded one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mintactors
from mintactors.config import load_config
from mintactors.experiments.inspect import (
    AtEvent,
    AtHop,
    AtTime,
    AtViolation,
    InspectError,
    Seeker,
    TraceDiverged,
    parse_target,
)
from mintactors.experiments.run import run_config
from mintactors.hardware.registers import ICR_RXT0
from mintactors.traces import TraceError
from tests._paths import CONFIGS

REGRESSION = CONFIGS / "scenarios" / "lost-wakeup-regression.toml"


@pytest.fixture(scope="module")
def lost_wakeup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("lost-wakeup")
    run_config(load_config(REGRESSION, ['simulation.trace="full"']), out)
    return out / "trace.jsonl"


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("12.5us", AtTime(12_500)),
        ("12500ns", AtTime(12_500)),
        ("12500", AtTime(12_500)),
        ("event:57", AtEvent(57)),
        ("packet:3:FrameTaken", AtHop(3, "FrameTaken")),
        ("packet:3:frametaken", AtHop(3, "FrameTaken")),
        ("violation", AtViolation()),
        ("violation:began", AtViolation(began=True)),
    ],
)
def test_targets_are_read_from_their_text(text: str, target: object) -> None:
    """Each documented form names the target it says."""
    assert parse_target(text) == target


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("12.5", "a target is a time"),
        ("1.5ns", "not a whole number of nanoseconds"),
        ("soon", "is not a time"),
        ("event:x", "the line number must be a whole number"),
        ("event:0", "numbered from 1"),
        ("packet:3", "write packet:SEQ:STEP"),
        ("packet:3:Taken", "no packet step 'Taken'"),
        ("violation:ended", "write violation or violation:began"),
    ],
)
def test_a_malformed_target_says_what_is_allowed(text: str, complaint: str) -> None:
    """One line naming the problem and the allowed forms."""
    with pytest.raises(InspectError) as info:
        parse_target(text)
    assert complaint in str(info.value)
    assert "\n" not in str(info.value)


def test_at_violation_the_descriptor_at_next_to_clean_is_done_and_the_interrupt_masked(
    lost_wakeup: Path,
) -> None:
    """The lost wakeup, where it is lost: frame seq 1 written back with DD at the
    descriptor the driver looks at next, while IMS masks RXT0, so the mechanism
    latched the cause in ICR and sent no IPI; the poll that last looked is still
    scheduled (NAPI SCHED) and will unmask without looking again."""
    inspection = Seeker(lost_wakeup).seek("violation")
    snap = inspection.snapshot
    ring = snap.ring
    assert ring.next_to_clean is not None
    desc = ring.descriptors[ring.next_to_clean]
    assert "DD" in desc.flags
    assert desc.written_ns == snap.t_ns
    registers = snap.memory.registers
    assert registers is not None
    assert not registers.ims & ICR_RXT0
    assert "RXT0" not in registers.ims_causes
    assert registers.icr & ICR_RXT0
    assert snap.driver.napi.sched
    assert snap["mechanism"].ipis_masked == 1  # type: ignore[attr-defined]
    assert snap.apic(1).irr == ()
    assert snap.apic(1).isr == ()
    assert inspection.instant.violation is not None
    assert inspection.instant.violation.oracle == "lost_wakeup"
    assert inspection.checked > 1  # verified against the recorded trace up to there


def test_when_the_violation_began_the_driver_is_idle_with_the_cause_still_latched(
    lost_wakeup: Path,
) -> None:
    """violation:began is the oracle's own instant: the poll has unmasked and ended,
    nothing is pending, and the frame still waits with DD set."""
    began = Seeker(lost_wakeup).seek("violation:began")
    violation = began.instant.violation
    assert violation is not None
    snap = began.snapshot
    assert snap.t_ns == violation.t_ns
    assert not snap.driver.napi.sched
    assert snap.driver.running == ()
    assert "DD" in snap.ring.descriptors[violation.detail["desc"]].flags
    assert snap.memory.registers is not None
    assert snap.memory.registers.ims & ICR_RXT0
    assert snap.memory.registers.icr & ICR_RXT0


def test_a_line_of_a_full_trace_is_the_machine_after_the_delivery_before_it(
    lost_wakeup: Path,
) -> None:
    """event:N stops right after the last delivery written at or before line N, in the
    middle of its instant if need be; packet:SEQ:STEP is the line of that hop."""
    lines = lost_wakeup.read_text().splitlines()
    number = next(
        i
        for i, text in enumerate(lines, 1)
        if '"kind":"DescriptorDone"' in text and '"seq":1' in text
    )
    deliveries = sum(1 for text in lines[:number] if '"src":"' in text)
    by_hop = Seeker(lost_wakeup).seek("packet:1:DescriptorDone")
    by_line = Seeker(lost_wakeup).seek(f"event:{number}")
    assert by_hop.snapshot == by_line.snapshot
    assert by_line.snapshot.delivered == deliveries
    assert "DD" in by_line.snapshot.ring.descriptors[1].flags


def test_time_past_the_end_and_a_missing_line_are_refused(lost_wakeup: Path) -> None:
    """Targets the run does not have are bad input, with the range that is allowed."""
    end = json.loads(lost_wakeup.read_text().splitlines()[-1])["t_ns"]
    with pytest.raises(InspectError, match=f"past the end of the run \\({end} ns"):
        mintactors.inspect(lost_wakeup, at=f"{end + 1}ns")
    with pytest.raises(InspectError, match="the trace has"):
        mintactors.inspect(lost_wakeup, at="event:100000")
    with pytest.raises(InspectError, match="no line of the trace is about packet 7"):
        mintactors.inspect(lost_wakeup, at="packet:7:FrameTaken")


def test_a_run_without_violation_has_no_violation_target(tmp_path: Path) -> None:
    """violation on a clean run says so and suggests the other targets."""
    run_config(load_config(CONFIGS / "quickstart.toml", ["generator.count=3"]), tmp_path)
    with pytest.raises(InspectError, match="violates no oracle"):
        mintactors.inspect(tmp_path / "trace.jsonl", at="violation")


def test_a_tampered_trace_gives_the_first_differing_line_not_a_state(
    lost_wakeup: Path, tmp_path: Path
) -> None:
    """Change one recorded line before the target: the re-execution names that line."""
    lines = lost_wakeup.read_text().splitlines(keepends=True)
    number = next(i for i, text in enumerate(lines, 1) if '"kind":"IpiSent"' in text)
    lines[number - 1] = lines[number - 1].replace('"latency_ns":1000', '"latency_ns":999')
    tampered = tmp_path / "trace.jsonl"
    tampered.write_text("".join(lines))
    with pytest.raises(TraceDiverged) as info:
        mintactors.inspect(tampered, at="violation")
    assert info.value.divergence.line == number
    assert f"at line {number}" in str(info.value)
    # Past the target the recorded trace is not read, so a seek before the change works.
    early = json.loads(lines[number - 2])["t_ns"]
    assert mintactors.inspect(tampered, at=f"{early - 1}ns").t_ns == early - 1


def test_a_file_that_is_not_a_trace_is_refused(tmp_path: Path) -> None:
    """No header, no re-execution."""
    bogus = tmp_path / "trace.jsonl"
    bogus.write_text('{"t_ns":0,"actor":"x","kind":"Hello"}\n')
    with pytest.raises(TraceError, match="not a mintactors trace"):
        mintactors.inspect(bogus, at="0ns")


def test_a_trace_cut_off_mid_line_is_inspected_up_to_its_last_whole_line(
    lost_wakeup: Path, tmp_path: Path
) -> None:
    """A killed run leaves a truncated last line: the run's end is the line before it."""
    lines = lost_wakeup.read_text().splitlines(keepends=True)
    cut = tmp_path / "trace.jsonl"
    cut.write_text("".join(lines[:40]) + lines[40][:25])
    last = json.loads(lines[39])["t_ns"]
    seeker = Seeker(cut)
    assert (seeker.recorded.end_ns, seeker.recorded.finished) == (last, False)
    assert seeker.seek(f"{last}ns").checked == 40
