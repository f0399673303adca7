"""Socket queue, receiving application and generator as pure components."""

from __future__ import annotations

import itertools

from mintactors.kernel.app import ReceivingApp
from mintactors.kernel.generator import Generator
from mintactors.kernel.socket import UdpSocket
from mintactors.messages import (
    NetifReceive,
    Recv,
    RunTask,
    SendPacket,
    SkbDelivered,
    SocketBuffer,
    Start,
    SystemCall,
    SystemCallReturn,
    TaskDone,
)
from mintactors.packets import FrameFactory
from mintactors.runtime import Note, Send, SetTimer


def skb(truesize: int, seq: int = 0) -> SocketBuffer:
    return SocketBuffer(b"x", truesize, seq, 0)


def test_socket_refuses_once_rmem_reaches_rcvbuf() -> None:
    """sock_queue_rcv_skb: refuse when rmem >= rcvbuf (so one skb may overshoot)."""
    sock = UdpSocket("app", rcvbuf=5000)
    for i in range(3):
        sock.handle(NetifReceive(skb(2304, i)), 0)
    assert sock.rmem == 3 * 2304  # the third went in at rmem 4608 < 5000
    effects = sock.handle(NetifReceive(skb(2304, 3)), 0)
    assert [e.fields["reason"] for e in effects if isinstance(e, Note)] == ["rcvbuf_full"]
    stats = sock.statistics()
    assert (stats.queued, stats.rcvbuf_errors, stats.in_errors) == (3, 1, 1)


def test_socket_serves_a_waiting_reader_and_releases_the_charge() -> None:
    """A blocked recv gets the next skb at once; the charge goes when it is taken."""
    sock = UdpSocket("app")
    assert sock.handle(Recv(), 0) == ()
    effects = sock.handle(NetifReceive(skb(1000)), 5)
    assert Send("app", SkbDelivered(skb(1000))) in effects
    assert sock.rmem == 0


def test_app_verifies_counts_and_measures_latency() -> None:
    """A good frame is received with latency = now - send time; a bad one is malformed."""
    app = ReceivingApp("app", "core1", "socket", recv_ns=100, copy_ns=lambda n: n // 10)
    frame = FrameFactory(500).frame(seq=4, send_ns=1_000)
    assert app.handle(Start(), 0) == (Send("socket", Recv()),)
    assert app.handle(SkbDelivered(SocketBuffer(frame, 768, 4, 0)), 2_000) == (
        Send("core1", RunTask("app", 150, "recv")),
    )
    app.handle(TaskDone("recv", 2_000), 2_150)
    bad = bytearray(frame)
    bad[100] ^= 1
    app.handle(SkbDelivered(SocketBuffer(bytes(bad), 768, 4, 0)), 3_000)
    app.handle(TaskDone("recv", 3_000), 3_150)
    app.handle(SkbDelivered(SocketBuffer(frame, 768, 4, 0)), 4_000)
    app.handle(TaskDone("recv", 4_000), 4_150)
    stats = app.statistics()
    assert (stats.received, stats.malformed, stats.duplicates) == (2, 1, 1)
    assert stats.latencies_ns.counts() == {1_150: 1, 3_150: 1}  # a histogram of them
    assert app.dropped == {"malformed": 1}


def test_generator_sends_at_planned_instants_and_counts_late_ones() -> None:
    """Sends start at their planned time, or when the previous call returns if later."""
    gen = Generator(
        "generator",
        "core0",
        "mechanism",
        [FrameFactory(100)],
        iter([100, 200, 210]),
        count=3,
        build_ns=5,
    )
    assert gen.handle(Start(), 0) == (SetTimer("send", 100, SendPacket(0)),)
    assert gen.handle(SendPacket(0), 100) == (Send("core0", RunTask("generator", 5, "build")),)
    effects = gen.handle(TaskDone("build", 100), 105)
    call = next(e.message for e in effects if isinstance(e, Send))
    assert isinstance(call, SystemCall)
    assert call.seq == 0
    # The call returns at 150: the next send is planned for 200.
    assert gen.handle(SystemCallReturn(0, "ok", 105), 150) == (SetTimer("send", 50, SendPacket(1)),)
    gen.handle(SendPacket(1), 200)
    gen.handle(TaskDone("build", 200), 205)
    # Returns at 260, after the third packet's planned 210: it goes at once, late.
    assert gen.handle(SystemCallReturn(1, "no_descriptor", 205), 260) == (
        SetTimer("send", 0, SendPacket(2)),
    )
    stats = gen.statistics()
    assert (stats.sent, stats.accepted, stats.refused, stats.late) == (2, 1, 1, 1)
    assert stats.send_ns == (45, 55)


def test_generator_stops_after_count() -> None:
    """With count packets sent, nothing more is planned."""
    gen = Generator("g", "core0", "m", [FrameFactory(100)], itertools.count(), 1, 0)
    gen.handle(Start(), 0)
    gen.handle(SendPacket(0), 0)
    gen.handle(TaskDone("build", 0), 0)
    assert gen.handle(SystemCallReturn(0, "ok", 0), 10) == ()


def test_app_without_verification_still_reads_the_header() -> None:
    """verify=false skips checksums (a corrupted payload passes) but still needs the magic."""
    app = ReceivingApp("app", "core1", "socket", 0, lambda n: 0, verify=False)
    frame = bytearray(FrameFactory(500).frame(seq=2, send_ns=10))
    frame[300] ^= 0xFF
    app.handle(SkbDelivered(SocketBuffer(bytes(frame), 768, 2, 0)), 20)
    app.handle(TaskDone("recv", 20), 20)
    app.handle(SkbDelivered(SocketBuffer(bytes(100), 768, None, 0)), 30)
    app.handle(TaskDone("recv", 30), 30)
    stats = app.statistics()
    assert (stats.received, stats.malformed) == (1, 1)
