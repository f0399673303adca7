"""Cost profiles: the copy curves, and the optional receive-side curve."""

from __future__ import annotations

import io

import pytest

from mintactors.config import parse_config
from mintactors.costs import load_profile
from mintactors.errors import ConfigError
from mintactors.machine import build_machine
from mintactors.testing import read_trace


def test_without_recv_copy_points_the_driver_copies_on_the_memcpy_curve() -> None:
    """The default: one memcpy curve for every copy (the only one the paper measured)."""
    profile = load_profile("paper-2014")
    assert profile.recv_copy_points is None
    for nbytes in (60, 1024, 1514, 3000, 16384, 20000):
        assert profile.recv_copy_ns(nbytes) == profile.copy_ns(nbytes)


def test_recv_copy_points_give_the_receive_copy_its_own_curve() -> None:
    """With recv_copy_points the skb copy follows them; the memcpy curve is unchanged."""
    fast = [[1024, 63], [1514, 93], [16384, 1003]]
    profile = load_profile("paper-2014", {"recv_copy_points": fast})
    assert profile.recv_copy_ns(1514) == 93
    assert profile.recv_copy_ns(16384) == 1003
    assert profile.recv_copy_ns(4096) == round(93 + (1003 - 93) * (4096 - 1514) / (16384 - 1514))
    assert profile.copy_ns(16384) == 3552  # the sender's copy, as Table 1 fitted it


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (3, "must be a list of [bytes, ns] pairs"),
        ([[2000, 10], [1000, 20]], "strictly increasing"),
        ([[1000, 20], [2000, 10]], "non-decreasing"),
        ([], "at least one"),
    ],
)
def test_a_bad_recv_copy_curve_is_refused_naming_the_field(value: object, fragment: str) -> None:
    """A config's recv_copy_points must be a valid curve; the error names the field."""
    with pytest.raises(ConfigError) as info:
        parse_config({"costs": {"recv_copy_points": value}}, "bad.toml")
    assert info.value.source == "bad.toml"
    assert "recv_copy_points" in str(info.value)
    assert fragment in info.value.problem


def frame_taken_and_received(costs: dict[str, object]) -> tuple[int, int]:
    config = parse_config(
        {
            "generator": {"count": 1, "size": 1000, "start_ns": 1000},
            "simulation": {"trace": "full"},
            "costs": {"copy_points": [[1000, 300]], **costs},
        },
        "<test>",
    )
    out = io.StringIO()
    build_machine(config, out).simulation.run_sync()
    events = read_trace(out.getvalue())
    # The skb is on the backlog once the copy into it is done.
    [taken] = [e["t_ns"] for e in events if e["kind"] == "SkbBacklogged"]
    [received] = [e["t_ns"] for e in events if e["kind"] == "PacketReceived"]
    return taken, received


def test_recv_copy_points_set_the_drivers_skb_copy_only() -> None:
    """The driver's copy into the skb takes 200 ns less; the send side is unchanged."""
    taken, received = frame_taken_and_received({})
    faster_taken, faster_received = frame_taken_and_received({"recv_copy_points": [[1000, 100]]})
    assert faster_taken == taken - 200
    # The rest of the path (stack, application with its own copy) moves by the same.
    assert faster_received == received - 200
