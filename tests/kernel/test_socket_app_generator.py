"""Socket queue, receiving application and generator as pure components."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from mintactors.errors import IllegalValue, MintactorsError, UnexpectedMessage
from mintactors.hardware.apic import LocalApic
from mintactors.kernel.app import ReceivingApp
from mintactors.kernel.generator import BuildMode, Generator
from mintactors.kernel.mechanism import DebugSupportMechanism
from mintactors.kernel.socket import UdpSocket
from mintactors.messages import (
    AppInput,
    FramePosted,
    FrameRefused,
    GeneratorInput,
    InjectPacket,
    NetifReceive,
    Recv,
    RunTask,
    SendPacket,
    SkbDelivered,
    SocketBuffer,
    SocketInput,
    Start,
    SystemCall,
    SystemCallReturn,
    TaskDone,
    TaskLabel,
)
from mintactors.packets import FlowAddress, FrameFactory
from mintactors.runtime import Note, Send, SetTimer
from mintactors.testing import example_message, message_kinds_outside, plain_state


def mechanism() -> DebugSupportMechanism:
    return DebugSupportMechanism(
        name="mechanism",
        ring="rx_ring",
        apic=LocalApic(apic_id=0, name="apic0", peers={1: "apic1"}, latency=lambda: 0),
        vector=0x41,
        destination=1,
        copy_ns=lambda n: n,
        syscall_entry_ns=10,
        icr_write_ns=10,
        syscall_exit_ns=10,
    )


def generator(
    instants: object,
    count: int,
    build_ns: int,
    injections: bool = True,
    *,
    build: BuildMode = "per-send",
    flows: int = 1,
) -> Generator:
    return Generator(
        name="generator",
        mechanism=mechanism(),
        factories=[FrameFactory(100, FlowAddress(src_port=9 + i)) for i in range(flows)],
        instants=instants,  # type: ignore[arg-type]
        count=count,
        build_ns=build_ns,
        build=build,
        injections=injections,
    )


def call_entered(effects: object) -> SystemCall | None:
    """The system call a generator's effects enter (it is posted to the ring)."""
    posts = [e for e in effects if isinstance(e, Send) and e.to == "rx_ring"]  # type: ignore[attr-defined]
    return posts[0].message if posts else None


def skb(truesize: int, seq: int = 0) -> SocketBuffer:
    return SocketBuffer(b"x", truesize, seq, 0)


def test_socket_refuses_once_rmem_reaches_rcvbuf() -> None:
    """sock_queue_rcv_skb: refuse when rmem >= rcvbuf (so one skb may overshoot)."""
    sock = UdpSocket(reader="app", rcvbuf=5000)
    for i in range(3):
        sock.handle(NetifReceive(skb(2304, i)), 0)
    assert sock.rmem == 3 * 2304  # the third went in at rmem 4608 < 5000
    effects = sock.handle(NetifReceive(skb(2304, 3)), 0)
    assert [e.fields["reason"] for e in effects if isinstance(e, Note)] == ["rcvbuf_full"]
    stats = sock.statistics()
    assert (stats.queued, stats.rcvbuf_errors, stats.in_errors) == (3, 1, 1)


def test_socket_serves_a_waiting_reader_and_releases_the_charge() -> None:
    """A blocked recv gets the next skb at once; the charge goes when it is taken."""
    sock = UdpSocket(reader="app")
    assert sock.handle(Recv(), 0) == ()
    effects = sock.handle(NetifReceive(skb(1000)), 5)
    assert Send("app", SkbDelivered(skb(1000))) in effects
    assert sock.rmem == 0


def test_app_verifies_counts_and_measures_latency() -> None:
    """A good frame is received with latency = now - send time; a bad one is malformed."""
    app = ReceivingApp(
        name="app", core="core1", socket="socket", recv_ns=100, copy_ns=lambda n: n // 10
    )
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
    gen = generator(iter([100, 200, 210]), count=3, build_ns=5)
    assert gen.handle(Start(), 0) == (SetTimer("send", 100, SendPacket(0)),)
    # Built in 5 ns, then the call is entered (and posts the frame 10 ns later).
    effects = gen.handle(SendPacket(0), 100)
    post = next(e for e in effects if isinstance(e, Send) and e.to == "rx_ring")
    assert (post.message.seq, post.delay_ns) == (0, 5 + 10)  # type: ignore[attr-defined]
    # The call returns at 150: the next send is planned for 200.
    gen.mechanism.handle(FramePosted(0, 0, 1), 120)  # the ring's answer ends the call
    assert gen.handle(SystemCallReturn(0, "ok", 105), 150) == (SetTimer("send", 50, SendPacket(1)),)
    gen.handle(SendPacket(1), 200)
    gen.mechanism.handle(FrameRefused(1, "no_descriptor"), 230)
    # Returns at 260, after the third packet's planned 210: it goes at once, late.
    assert gen.handle(SystemCallReturn(1, "no_descriptor", 205), 260) == (
        SetTimer("send", 0, SendPacket(2)),
    )
    stats = gen.statistics()
    assert (stats.sent, stats.accepted, stats.refused, stats.late) == (2, 1, 1, 1)
    assert stats.send_ns == (45, 55)


def test_a_generator_no_injection_can_wake_sleeps_builds_and_enters_at_once() -> None:
    """Without packet injections the wait, the build and the call are one stretch of time."""
    gen = generator(iter([100, 200]), count=2, build_ns=5, injections=False)
    effects = gen.handle(Start(), 0)
    post = next(e for e in effects if isinstance(e, Send) and e.to == "rx_ring")
    assert post.delay_ns == 100 + 5 + 10
    assert gen.statistics().first_send_ns == 105


def send_back_to_back(gen: Generator, sends: int) -> list[int]:
    """Run ``sends`` calls, each answered at once; the instants the calls are entered."""
    entered = []
    effects = gen.handle(Start(), 0)
    now = 0
    for _ in range(sends):
        timer = next(e for e in effects if isinstance(e, SetTimer))
        now += timer.delay_ns
        effects = gen.handle(timer.message, now)  # type: ignore[arg-type]
        post = next(e for e in effects if isinstance(e, Send) and e.to == "rx_ring")
        entered.append(now + post.delay_ns - 10)  # the frame is posted 10 ns after entry
        seq = post.message.seq  # type: ignore[attr-defined]
        gen.mechanism.handle(FramePosted(seq, 0, 1), now + post.delay_ns)
        now += post.delay_ns + 20  # the ICR write and the exit
        effects = gen.handle(SystemCallReturn(seq, "ok", entered[-1]), now)
    return entered


def test_a_kernel_loop_builds_each_flows_frame_once_then_sends_back_to_back() -> None:
    """kernel-loop: both flows' frames built before the first send, none after it."""
    gen = generator(iter([0] * 4), count=4, build_ns=5, build="kernel-loop", flows=2)
    entered = send_back_to_back(gen, 4)
    assert entered == [10, 40, 70, 100]  # two builds first, then one 30 ns send each
    stats = gen.statistics()
    assert (stats.frames_built, stats.late, stats.send_ns) == (2, 4, (30, 30, 30, 30))
    assert stats.interval_ns_mean() == 30


def test_a_user_space_loop_builds_a_frame_before_every_send() -> None:
    """per-send: each send is one build later than the previous call's return."""
    gen = generator(iter([0] * 4), count=4, build_ns=5, build="per-send", flows=2)
    assert send_back_to_back(gen, 4) == [5, 40, 75, 110]
    stats = gen.statistics()
    assert (stats.frames_built, stats.send_ns) == (4, (30, 30, 30, 30))
    assert stats.interval_ns_mean() == 35


def test_generator_stops_after_count() -> None:
    """With count packets sent, nothing more is planned."""
    gen = generator(itertools.count(), count=1, build_ns=0)
    gen.handle(Start(), 0)
    gen.handle(SendPacket(0), 0)
    assert gen.handle(SystemCallReturn(0, "ok", 0), 10) == ()


def test_app_without_verification_still_reads_the_header() -> None:
    """verify=false skips checksums (a corrupted payload passes) but still needs the magic."""
    app = ReceivingApp(
        name="app", core="core1", socket="socket", recv_ns=0, copy_ns=lambda n: 0, verify=False
    )
    frame = bytearray(FrameFactory(500).frame(seq=2, send_ns=10))
    frame[300] ^= 0xFF
    app.handle(SkbDelivered(SocketBuffer(bytes(frame), 768, 2, 0)), 20)
    app.handle(TaskDone("recv", 20), 20)
    app.handle(SkbDelivered(SocketBuffer(bytes(100), 768, None, 0)), 30)
    app.handle(TaskDone("recv", 30), 30)
    stats = app.statistics()
    assert (stats.received, stats.malformed) == (1, 1)


def socket_with_queue() -> UdpSocket:
    """A socket holding two skbs, one of them refused once for want of room."""
    sock = UdpSocket(reader="app", rcvbuf=3000)
    for seq in range(3):
        sock.handle(NetifReceive(skb(2304, seq)), seq)
    return sock


def socket_with_reader_waiting() -> UdpSocket:
    """A socket whose reader took the one skb there was and waits for the next."""
    sock = UdpSocket(reader="app")
    sock.handle(NetifReceive(skb(1000)), 0)
    sock.handle(Recv(), 1)
    sock.handle(Recv(), 2)
    assert sock.reader_waiting
    return sock


@pytest.mark.parametrize(
    ("make", "message", "error"),
    [
        (socket_with_queue, NetifReceive(SocketBuffer(bytes(100), 99, 7, 0)), IllegalValue),
        (socket_with_reader_waiting, NetifReceive(skb(-1)), IllegalValue),
        (socket_with_reader_waiting, Recv(), UnexpectedMessage),  # the reader already waits
    ],
    ids=lambda value: getattr(value, "__name__", repr(value)[:50]),
)
def test_socket_refuses_an_illegal_input_and_changes_nothing(
    make: Callable[[], UdpSocket], message: SocketInput, error: type[MintactorsError]
) -> None:
    """An skb charged less than its data, or a second blocked reader, leaves the queue as it was."""
    sock = make()
    before = plain_state(sock)
    with pytest.raises(error):
        sock.handle(message, 10)
    assert plain_state(sock) == before


def processing_app() -> ReceivingApp:
    """An app that received one frame and is processing a second."""
    app = ReceivingApp(name="app", core="core1", socket="socket", recv_ns=10, copy_ns=lambda n: 0)
    frame = FrameFactory(500).frame(seq=0, send_ns=0)
    app.handle(Start(), 0)
    app.handle(SkbDelivered(SocketBuffer(frame, 768, 0, 0)), 100)
    app.handle(TaskDone(TaskLabel.RECV, 100), 110)
    app.handle(SkbDelivered(SocketBuffer(FrameFactory(500).frame(1, 50), 768, 1, 0)), 120)
    return app


def idle_app() -> ReceivingApp:
    """An app that has received two frames and waits for the next."""
    app = processing_app()
    app.handle(TaskDone(TaskLabel.RECV, 120), 130)
    return app


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (processing_app, SkbDelivered(SocketBuffer(bytes(60), 768, 2, 0))),  # still busy
        (processing_app, TaskDone(TaskLabel.BUILD, 120)),  # not its work
        (idle_app, TaskDone(TaskLabel.RECV, 120)),  # no skb held
    ],
    ids=repr,
)
def test_app_refuses_an_illegal_input_and_changes_nothing(
    make: Callable[[], ReceivingApp], message: AppInput
) -> None:
    """An skb while busy, or the end of work it did not start, leaves the app as it was."""
    app = make()
    before = plain_state(app)
    with pytest.raises(UnexpectedMessage):
        app.handle(message, 200)
    assert plain_state(app) == before


def calling_generator(planned: list[int], count: int) -> Generator:
    """A generator inside the system call for packet 0, an injected send waiting."""
    gen = generator(iter(planned), count=count, build_ns=5)
    gen.handle(Start(), 0)
    gen.handle(SendPacket(0), 0)
    gen.handle(InjectPacket(), 1)
    assert gen.in_kernel
    return gen


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (Start(), UnexpectedMessage),  # started already
        (SendPacket(3), UnexpectedMessage),  # send 0 is the one planned
        (TaskDone(TaskLabel.RECV, 0), UnexpectedMessage),  # not its work
        (SystemCallReturn(9, "ok", 5), UnexpectedMessage),  # the call is for packet 0
        (SystemCallReturn(0, "ok", 5), IllegalValue),  # no planned instant for send 1
    ],
    ids=repr,
)
def test_generator_refuses_an_illegal_input_and_changes_nothing(
    message: GeneratorInput, error: type[MintactorsError]
) -> None:
    """A second start, a stray timer, build or return, or a pattern too short changes nothing."""
    gen = calling_generator([100], count=2)
    before = plain_state(gen)
    with pytest.raises(error):
        gen.handle(message, 50)
    assert plain_state(gen) == before


MAKERS: dict[str, tuple[object, Callable[[], UdpSocket | ReceivingApp | Generator]]] = {
    "socket": (SocketInput, socket_with_queue),
    "app": (AppInput, processing_app),
    "generator": (GeneratorInput, lambda: calling_generator([100, 200], count=2)),
}


@pytest.mark.parametrize(
    ("component", "kind"),
    [(name, kind) for name, (union, _) in MAKERS.items() for kind in message_kinds_outside(union)],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_a_message_outside_its_input_is_refused_and_changes_nothing(
    component: str, kind: type
) -> None:
    """Socket, app and generator refuse a mis-wired machine's message, state untouched."""
    made = MAKERS[component][1]()
    before = plain_state(made)
    with pytest.raises(UnexpectedMessage):
        made.handle(example_message(kind), 500)  # type: ignore[arg-type]
    assert plain_state(made) == before
