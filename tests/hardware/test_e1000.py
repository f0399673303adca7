"""The real 1 Gb/s NIC: frames at line rate, DMA into the ring, throttled interrupts."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mintactors.config import parse_config
from mintactors.errors import ConfigError, IllegalValue, MintactorsError, UnexpectedMessage
from mintactors.experiments import run_config
from mintactors.hardware import ICR_RXT0
from mintactors.hardware.e1000 import E1000Receiver, dma_time
from mintactors.hardware.ethernet import LinkPartner, byte_times_ns
from mintactors.kernel.frames import PktgenFrames
from mintactors.messages import (
    DeviceInterrupt,
    FrameArrived,
    FramePosted,
    FrameRefused,
    LinkInput,
    NicInput,
    NicStep,
    NicStepKind,
    PostFrame,
    SendPacket,
    Start,
)
from mintactors.packets import FrameFactory
from mintactors.runtime import Send, SetTimer, Simulation
from mintactors.testing import (
    Recorder,
    example_message,
    message_kinds_outside,
    plain_state,
    read_trace,
)


def link_arrivals(size: int, count: int, interval_ns: int, mbps: int = 1000) -> list[int]:
    """Run a link partner alone and return when each frame's last bit reached the NIC."""
    sim = Simulation()
    nic = Recorder()
    planned = iter(range(0, count * max(interval_ns, 1), max(interval_ns, 1)))
    if interval_ns == 0:
        planned = iter([0] * count)
    frames = PktgenFrames([FrameFactory(size)])
    link = LinkPartner(nic="nic", frames=frames, instants=planned, count=count, link_mbps=mbps)
    sim.add_actor("link", link)
    sim.add_actor("nic", nic)
    sim.post("link", Start())
    sim.run_sync()
    return [t for t, m in nic.seen if isinstance(m, FrameArrived)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", [66, 1514, 9014])
def test_back_to_back_frames_arrive_at_gigabit_line_rate(size: int) -> None:
    """At 1 Gb/s, frames sent back to back arrive (8 + size + 4 + 12) x 8 ns apart."""
    arrivals = link_arrivals(size, 5, 0)
    gap = (8 + size + 4 + 12) * 8
    assert [b - a for a, b in itertools.pairwise(arrivals)] == [gap] * 4
    assert arrivals[0] == (8 + size + 4) * 8  # the last bit of the FCS


def test_mtu_frames_carry_0_984_gbps_at_line_rate() -> None:
    """1514-byte frames at 1 Gb/s: 12304 ns each, 0.984 Gb/s of frame bytes."""
    arrivals = link_arrivals(1514, 3, 0)
    spacing = arrivals[1] - arrivals[0]
    assert spacing == 12304
    assert 1514 * 8 / spacing == pytest.approx(0.98440, abs=1e-5)


def test_a_slower_planned_rate_is_kept_and_a_faster_one_is_capped() -> None:
    """Frames go out at the planned interval when the wire allows it, else wire-limited."""
    assert link_arrivals(1514, 3, 20_000)[1:] == [20_000 + 12_208, 40_000 + 12_208]
    assert link_arrivals(1514, 3, 5_000)[2] - link_arrivals(1514, 3, 5_000)[1] == 12_304


@given(st.integers(60, 16384), st.sampled_from([10, 100, 1000, 10_000, 40_000]))
def test_wire_time_is_the_frame_bits_at_the_link_speed(size: int, mbps: int) -> None:
    """A frame's time on the wire is its bits over the link rate, rounded up to a ns."""
    bits = (8 + size + 4 + 12) * 8
    ns = byte_times_ns(8 + size + 4 + 12, mbps)
    assert ns * mbps >= bits * 1000 > (ns - 1) * mbps


def nic(itr: int) -> E1000Receiver:
    return E1000Receiver(
        name="nic", ring="rx_ring", apic="apic1", vector=0x41, dma_ns=dma_time(1000), itr=itr
    )


def interrupts(effects: Any) -> list[Any]:
    return [e for e in effects if isinstance(e, Send) and isinstance(e.message, DeviceInterrupt)]


def test_a_frame_is_dmad_into_the_ring_at_the_bus_speed() -> None:
    """An arriving frame becomes a PostFrame whose copy time is its DMA time."""
    effects = nic(0).handle(FrameArrived(3, bytes(1514)), 0)
    [post] = [e for e in effects if isinstance(e, Send)]
    assert post.to == "rx_ring"
    assert post.message == PostFrame(3, bytes(1514), 1514, "nic")  # 1000 MB/s: 1 ns a byte


def test_without_throttling_every_written_frame_interrupts() -> None:
    """ITR = 0: each frame written back sends one interrupt message at once."""
    device = nic(0)
    for seq in range(3):
        assert len(interrupts(device.handle(FramePosted(seq, seq, 1), seq * 100))) == 1
    assert device.statistics().interrupts == 3


def test_throttling_holds_causes_until_the_interval_ends() -> None:
    """With ITR set, frames inside the interval share one interrupt sent when it ends."""
    device = nic(4)  # 4 x 256 ns = 1024 ns
    first = device.handle(FramePosted(0, 0, 1), 0)
    assert len(interrupts(first)) == 1
    assert SetTimer("itr", 1024, NicStep(NicStepKind.THROTTLE_EXPIRED)) in first
    for seq in (1, 2, 3):
        assert interrupts(device.handle(FramePosted(seq, seq, 1), 100 * seq)) == []
    expiry = device.handle(NicStep(NicStepKind.THROTTLE_EXPIRED), 1024)
    assert len(interrupts(expiry)) == 1  # one interrupt covers the three held causes
    assert SetTimer("itr", 1024, NicStep(NicStepKind.THROTTLE_EXPIRED)) in expiry
    assert (
        device.handle(NicStep(NicStepKind.THROTTLE_EXPIRED), 2048) == ()
    )  # nothing held: timer stops
    assert not device.timer_running
    assert len(interrupts(device.handle(FramePosted(4, 4, 1), 3000))) == 1
    stats = device.statistics()
    assert (stats.interrupts, stats.causes_held, stats.frames_written) == (3, 3, 5)


def test_a_missed_frame_is_counted_and_raises_no_interrupt() -> None:
    """No descriptor: MPC counts the frame, RXO latches, but RXO is masked (no interrupt)."""
    device = nic(0)
    effects = device.handle(FrameRefused(7, "no_descriptor"), 0)
    assert interrupts(effects) == []
    assert device.statistics().mpc == 1
    assert not device.icr_latched & ICR_RXT0


def test_the_nic_refuses_a_message_it_does_not_take() -> None:
    """A stray message raises UnexpectedMessage (here: a throttle expiry with no timer)."""
    with pytest.raises(Exception, match="cannot take NicStep"):
        nic(4).handle(NicStep(NicStepKind.THROTTLE_EXPIRED), 0)


def idle_nic() -> E1000Receiver:
    """A throttling NIC that has received and written frames and whose interval has ended."""
    device = nic(4)
    device.handle(FrameArrived(0, bytes(100)), 0)
    device.handle(FramePosted(0, 0, 1), 200)
    device.handle(FrameRefused(1, "no_descriptor"), 300)
    device.handle(NicStep(NicStepKind.THROTTLE_EXPIRED), 1224)
    assert not device.timer_running
    return device


@pytest.mark.parametrize(
    "message",
    [NicStep(NicStepKind.THROTTLE_EXPIRED), NicStep("bogus")],  # type: ignore[arg-type]
    ids=repr,
)
def test_a_stray_timer_is_refused_and_changes_nothing(message: NicStep) -> None:
    """A throttle expiry with no interval running leaves the NIC as it was."""
    device = idle_nic()
    before = plain_state(device)
    with pytest.raises(UnexpectedMessage):
        device.handle(message, 5000)
    assert plain_state(device) == before


@pytest.mark.parametrize("kind", message_kinds_outside(NicInput), ids=lambda k: k.__name__)
def test_the_nic_refuses_a_message_outside_its_input_and_changes_nothing(kind: type) -> None:
    """A mis-wired machine's message (not a NicInput) is an UnexpectedMessage."""
    device = idle_nic()
    before = plain_state(device)
    with pytest.raises(UnexpectedMessage):
        device.handle(example_message(kind), 5000)  # type: ignore[arg-type]
    assert plain_state(device) == before


def sending_link(planned: list[int], count: int) -> LinkPartner:
    """A link partner that has started and put its first frame on the wire."""
    frames = PktgenFrames([FrameFactory(100)])
    link = LinkPartner(nic="nic", frames=frames, instants=iter(planned), count=count)
    link.handle(Start(), 0)
    link.handle(SendPacket(0), 0)
    return link


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (Start(), UnexpectedMessage),  # started already
        (SendPacket(5), UnexpectedMessage),  # frame 1 is the one planned
        (SendPacket(1), IllegalValue),  # the planned instants run out before frame 2
    ],
    ids=repr,
)
def test_the_link_refuses_an_illegal_input_and_changes_nothing(
    message: LinkInput, error: type[MintactorsError]
) -> None:
    """A second start, a stray send timer or a pattern too short leaves the link as it was."""
    link = sending_link([0, 1000], count=3)
    before = plain_state(link)
    with pytest.raises(error):
        link.handle(message, 1000)
    assert plain_state(link) == before


@pytest.mark.parametrize("kind", message_kinds_outside(LinkInput), ids=lambda k: k.__name__)
def test_the_link_refuses_a_message_outside_its_input_and_changes_nothing(kind: type) -> None:
    """A mis-wired machine's message (not a LinkInput) is an UnexpectedMessage."""
    link = sending_link([0, 1000], count=2)
    before = plain_state(link)
    with pytest.raises(UnexpectedMessage):
        link.handle(example_message(kind), 1000)  # type: ignore[arg-type]
    assert plain_state(link) == before


def e1000_config(**generator: Any) -> Any:
    raw = {
        "simulation": {"trace": "off"},
        "nic": {"source": "e1000", "itr": 976},
        "generator": {"count": 300, "interval_ns": 0, **generator},
    }
    return parse_config(raw, "<test>")


def test_the_same_driver_receives_everything_behind_the_real_nic() -> None:
    """At 1 Gb/s line rate the driver keeps up: every frame delivered, nothing dropped."""
    results = run_config(e1000_config()).results
    assert (results.sent, results.delivered, results.dropped) == (300, 300, {})
    stats = results.statistics
    assert stats["link"]["sent"] == 300
    assert "mechanism" not in stats  # no Mint path behind a real NIC
    assert results.ipi.sent == 0
    assert stats["apic1"]["device_received"] == stats["nic"]["interrupts"]


def test_interrupts_arrive_no_faster_than_the_throttle_allows() -> None:
    """976 x 256 ns apart: 300 MTU frames over 3.68 ms take one interrupt per interval.

    The first frame interrupts at once; every interval after it that saw frames ends
    with one interrupt, including the one after the last frame.
    """
    results = run_config(e1000_config()).results
    span = 299 * 12304
    throttle = 976 * 256
    assert results.statistics["nic"]["interrupts"] == math.ceil(span / throttle) + 1
    assert results.handler_runs == results.statistics["nic"]["interrupts"]
    assert results.offered_gbps == pytest.approx(1514 * 8 / 12304, rel=1e-3)


def test_interrupt_messages_are_one_throttle_interval_apart_under_load(tmp_path: Any) -> None:
    """In the trace, each interrupt after the first follows the previous by ITR x 256 ns."""
    config = parse_config(
        {
            "simulation": {"trace": "full"},
            "nic": {"source": "e1000", "itr": 100},
            "generator": {"count": 40, "interval_ns": 0},
        },
        "<test>",
    )
    run_config(config, tmp_path)
    sent = [e["t_ns"] for e in read_trace(tmp_path / "trace.jsonl") if e["kind"] == "InterruptSent"]
    assert len(sent) > 3
    assert {b - a for a, b in itertools.pairwise(sent)} == {100 * 256}


def test_a_driver_that_masks_its_interrupt_is_refused_behind_the_real_nic() -> None:
    """The e1000 model does not read IMS, so a masking (NAPI) driver is a config error."""
    with pytest.raises(ConfigError) as info:
        parse_config({"nic": {"source": "e1000"}, "driver": {"kind": "napi"}}, "cfg.toml")
    assert info.value.key == "driver.kind"
    assert "paper" in info.value.problem
