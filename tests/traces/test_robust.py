"""The trace tools answer mistakes in one line: filters, damaged order, other line ends.

And they write what every tool writes the same way: interrupt vectors and
addresses in hex.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from mintactors.cli import main
from mintactors.traces import field_text
from tests.traces.conftest import Run


def _main(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("option", "value", "hint"),
    [
        ("--actor", "drvier", "did you mean 'driver'?"),
        ("--actor", "core", "did you mean 'core<N>'?"),
        ("--kind", "IpiDelivred", "did you mean 'IpiDelivered'?"),
        ("--kind", "ipidelivered", "did you mean 'IpiDelivered'?"),
        ("--kind", "zzz", "known: AcceptInterrupt"),
    ],
)
def test_an_unknown_actor_or_kind_is_exit_2_with_a_suggestion(
    runs: Callable[..., Run], option: str, value: str, hint: str
) -> None:
    """A filter that names no actor or kind a trace can have: one line, the closest name."""
    code, out, err = _main(["trace", "events", str(runs("sparse").trace), option, value])
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert f"unknown {option[2:]} {value!r}" in err
    assert hint in err


@pytest.mark.parametrize("actor", ["core0", "apic12", "runtime", "nic", "link"])
def test_every_actor_a_machine_can_have_is_accepted(runs: Callable[..., Run], actor: str) -> None:
    """Numbered cores and APICs, the runtime and the real NIC's actors are valid filters."""
    assert _main(["trace", "events", str(runs("sparse").trace), "--actor", actor])[0] == 0


def test_from_after_to_is_exit_2(runs: Callable[..., Run]) -> None:
    """--from later than --to can match nothing: refused."""
    code, _, err = _main(
        ["trace", "events", str(runs("sparse").trace), "--from", "5us", "--to", "2us"]
    )
    assert code == 2
    assert "--from 5000 ns is after --to 2000 ns" in err


def test_a_line_whose_time_goes_backwards_is_named(
    runs: Callable[..., Run], tmp_path: Path
) -> None:
    """Two lines swapped so that t_ns decreases: exit 2 naming the later line's number."""
    lines = runs("sparse").trace.read_bytes().splitlines(keepends=True)
    index = next(
        i
        for i in range(1, len(lines) - 1)
        if json.loads(lines[i])["t_ns"] < json.loads(lines[i + 1])["t_ns"]
    )
    lines[index], lines[index + 1] = lines[index + 1], lines[index]
    damaged = tmp_path / "swapped.jsonl"
    damaged.write_bytes(b"".join(lines))
    for command in (["summary"], ["events"], ["packet", "1"]):
        code, _, err = _main(["trace", command[0], str(damaged), *command[1:]])
        assert code == 2
        assert err.count("\n") == 1, err
        assert f"{damaged}:{index + 2}: t_ns goes backwards" in err
        assert f"on line {index + 1}" in err


def test_crlf_line_ends_read_as_lf(runs: Callable[..., Run], tmp_path: Path) -> None:
    """A trace with CRLF line ends gives the same summary, events and export as the original."""
    original = runs("sparse").trace
    crlf = tmp_path / "crlf.jsonl"
    crlf.write_bytes(original.read_bytes().replace(b"\n", b"\r\n"))
    for command in (["summary", "--json"], ["events"], ["packet", "2"]):
        expected = _main(["trace", command[0], str(original), *command[1:]])
        got = _main(["trace", command[0], str(crlf), *command[1:]])
        assert got[0] == expected[0] == 0
        assert got[1].replace(str(crlf), str(original)) == expected[1]
        assert got[2] == ""
    code, out, _ = _main(["replay", str(crlf)])
    assert code == 0, out
    assert "byte-identical" in out


def test_vectors_and_addresses_are_hex_in_the_event_table(runs: Callable[..., Run]) -> None:
    """The events table writes vector=0x41 and memory addresses in hex, never decimal."""
    code, out, _ = _main(["trace", "events", str(runs("sparse").trace), "--limit", "200"])
    assert code == 0
    assert "vector=0x41" in out
    assert "vector=65" not in out
    assert "writes=[[0x2000" in out or "ranges=[[0x2000" in out
    assert "536870912" not in out


def test_field_text_writes_hex_only_where_a_field_holds_a_vector_or_address() -> None:
    """field_text: vectors, cause bits and addresses in hex; counts and times as they are."""
    assert field_text("vector", 65) == "0x41"
    assert field_text("config.apic.vector", 65) == "0x41"
    assert field_text("cause", 128) == "0x80"
    assert field_text("addr", 536870912) == "0x20000000"
    assert field_text("ranges", [[536870912, 16]]) == "[[0x20000000,16]]"
    assert field_text("seq", 65) == "65"
    assert field_text("t_ns", 65) == "65"
    assert field_text("vector", True) == "true"


def test_a_damaged_field_names_its_line(runs: Callable[..., Run], tmp_path: Path) -> None:
    """A note whose field has the wrong type: exit 2 with the line, not a traceback."""
    lines = runs("sparse").trace.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if '"kind":"PacketReceived"' in line)
    event = json.loads(lines[index])
    event["latency_ns"] = {"not": "a number"}
    lines[index] = json.dumps(event, sort_keys=True, separators=(",", ":")) + "\n"
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("".join(lines))
    code, _, err = _main(["trace", "summary", str(damaged)])
    assert code == 2
    assert err.count("\n") == 1, err
    assert f"{damaged}:" in err
    assert "was the trace edited?" in err
