"""The interrupt generator: the user application on the debug-support OS (node 0).

It takes the interrupt information from the user (how many packets, how large, when)
and gets real Ethernet/IPv4/UDP frames carrying a pktgen-style header
(:mod:`mintactors.packets`) into the debug-support system call, one per send (paper,
"one packet's path", steps 1-3). How the frames are made is ``build``:

``kernel-loop`` (the paper's implementation)
    The application builds one frame per flow and hands it, with the interval and
    the count, to one system call, which loops in the kernel: each send patches
    the sequence number, the send time and the IP ID into the built frame (with
    its checksums) and posts it. The build is paid once, before the first send
    (``build_ns`` per flow; a capture's frames are already built, so nothing);
    a send costs what Table 1 measured and nothing else, so back to back sends are
    exactly one send time apart: "one send's processing time is the shortest
    interval between two interrupts". Reusing a built frame is what pktgen's
    ``clone_skb`` does (net/core/pktgen.c, ``pktgen_xmit``); pktgen resends the
    clones unchanged, the loop patches each so every packet stays identifiable.
``per-send``
    A user-space loop: the application builds each frame (``build_ns``, user-space
    work on the debug-support core) and then enters the system call with it, so
    back to back sends are one send time plus one build apart.

The debug-support core runs the generator's thread and nothing else, so the
generator spends the build time itself rather than asking the core for it. A send
is synchronous: the next does not start before the previous returns. So a send
planned for a moment when the previous one is still running goes late, and with a
zero interval sends run back to back.

Planned sends come from a timing pattern (:mod:`mintactors.kernel.patterns`);
an injection at a driver step can add a send (:class:`InjectPacket`). Sends wait
their turn in arrival order; packets are numbered in the order they are sent, so
sequence numbers always follow send order. The frames come from a
:class:`~mintactors.kernel.frames.FrameSource`: generated pktgen frames, or a
capture's own frames.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Final, Literal, get_args

import attrs

from mintactors.effects import Effect, Note, SetTimer, TraceLevel, dated_later
from mintactors.errors import IllegalValue, UnexpectedMessage, unexpected
from mintactors.histogram import Histogram
from mintactors.kernel.frames import FrameSource, PktgenFrames
from mintactors.kernel.mechanism import DebugSupportMechanism
from mintactors.kernel.snapshots import GeneratorSnapshot
from mintactors.messages import (
    GeneratorInput,
    InjectPacket,
    SendPacket,
    Start,
    SystemCall,
    SystemCallReturn,
)
from mintactors.notes import NoteKind
from mintactors.packets import FrameFactory

__all__ = ["BUILD_MODES", "SEND_NS_KEPT", "BuildMode", "Generator", "GeneratorStatistics"]

#: How the generator makes its frames (``[generator] build``; module docstring).
BuildMode = Literal["kernel-loop", "per-send"]
BUILD_MODES: Final[tuple[str, ...]] = get_args(BuildMode)

#: Sends whose processing times are kept one by one, in send order: enough for the
#: paper's E1 window (the mean of sends 1000-2000) while a long run's memory stays
#: bounded. Every send is counted in ``send_ns_histogram``.
SEND_NS_KEPT = 4096


@attrs.frozen
class GeneratorStatistics:
    """What the generator did.

    ``send_ns`` holds the processing time (entry to return) of each of the first
    :data:`SEND_NS_KEPT` sends, in send order, for the paper's E1 measurement;
    ``send_ns_histogram`` counts every send's, in bounded memory (exact count and
    mean). ``injected`` counts sends added by injections (they are included in
    ``sent``). ``first_send_ns`` and ``last_send_ns`` are when the first and the
    last send entered the mechanism, so the realised mean interval between sends
    is their difference over ``sent - 1``; ``frames_built`` counts frames built
    from scratch (once per flow in a kernel loop, once per send otherwise).
    """

    sent: int
    accepted: int
    refused: int
    late: int
    bytes_sent: int
    first_send_ns: int | None
    last_return_ns: int | None
    send_ns: tuple[int, ...]
    injected: int = 0
    send_ns_histogram: Histogram = attrs.field(factory=Histogram)
    last_send_ns: int | None = None
    frames_built: int = 0

    def interval_ns_mean(self) -> float | None:
        """The realised mean interval between consecutive sends (None under two sends)."""
        if self.sent < 2 or self.first_send_ns is None or self.last_send_ns is None:
            return None
        return (self.last_send_ns - self.first_send_ns) / (self.sent - 1)


class Generator:
    """The generator application.

    Args:
        name: this actor's name (the system call returns to it).
        mechanism: the debug-support mechanism (the system call, entered in this
            thread: a direct call; it answers with a message when the call returns).
        factories: where frames come from: a frame source, or one frame factory
            per flow (packet ``seq`` uses flow ``seq % len(factories)``).
        instants: planned send times, nondecreasing, one per packet.
        count: how many packets to plan.
        build_ns: user-space cost of building one frame.
        build: ``kernel-loop`` (one frame built per flow before the first send,
            patched per send) or ``per-send`` (a frame built before each send);
            see the module docstring.
        injected_frames: where injected packets' frames come from (default: the
            same source, which must then be pktgen frames).
        injections: whether an injection may ask for a packet (``InjectPacket``); if
            not, the generator need not wake at a planned instant to check.
        note_frames: put each frame's bytes (hex) in its ``PacketGenerated`` note.
        trace_level: full-level notes are built only at ``FULL``.

    Attributes:
        on_generate: optional observer called with (seq, now_ns, frame) for each frame
            built (a pcap writer during the run); it only records.
    """

    def __init__(
        self,
        *,
        name: str,
        mechanism: DebugSupportMechanism,
        factories: FrameSource | Sequence[FrameFactory],
        instants: Iterator[int],
        count: int,
        build_ns: int,
        build: BuildMode,
        injected_frames: FrameSource | None = None,
        note_frames: bool = False,
        injections: bool = True,
        trace_level: TraceLevel = TraceLevel.FULL,
    ) -> None:
        self.full = trace_level >= TraceLevel.FULL
        frames = PktgenFrames(factories) if isinstance(factories, Sequence) else factories
        self.name = name
        self.mechanism = mechanism
        self.frames = frames
        self.injected_frames = injected_frames if injected_frames is not None else frames
        self.instants = instants
        self.count = count
        self.build_ns = build_ns
        self.build = build
        # A kernel loop builds its templates once, before the first send; a
        # user-space loop builds a whole frame before every send.
        self._send_build_ns = build_ns if build == "per-send" else 0
        templates = frames.templates()
        if injections and self.injected_frames is not frames:
            templates += self.injected_frames.templates()
        self._templates = templates if build == "kernel-loop" else 0
        self._free_at = 0  # when the thread has finished building its templates
        self.planned = 0  # planned sends taken from the pattern so far
        self.note_frames = note_frames
        self.injections = injections
        self.on_generate: Callable[[int, int, bytes], None] | None = None
        self.next_seq = 0
        self.ready: deque[int] = deque()  # planned send index, or -1 for an injected one
        self.current: int | None = None  # seq being built or inside the system call
        self._current_index = -1
        self.in_kernel = False
        self._sent = self._accepted = self._refused = self._late = self._bytes = 0
        self._injected = 0
        self._first_send: int | None = None
        self._last_send: int | None = None
        self._built = 0
        self._last_return: int | None = None
        #: The last call that returned directly: (seq, the instant it returns).
        self._returning: tuple[int, int] | None = None
        if not injections:
            # Nothing but the call's return can wake this thread while it is in
            # the kernel, so the call returns into it directly (see DirectCaller).
            mechanism.return_directly(name, self)
        self._send_ns: list[int] = []  # the first SEND_NS_KEPT only
        self._send_histogram = Histogram()

    def statistics(self) -> GeneratorStatistics:
        """The counters so far."""
        return GeneratorStatistics(
            sent=self._sent,
            accepted=self._accepted,
            refused=self._refused,
            late=self._late,
            bytes_sent=self._bytes,
            first_send_ns=self._first_send,
            last_return_ns=self._last_return,
            send_ns=tuple(self._send_ns),
            injected=self._injected,
            send_ns_histogram=self._send_histogram.copy(),
            last_send_ns=self._last_send,
            frames_built=self._built,
        )

    def snapshot(self, now_ns: int | None = None) -> GeneratorSnapshot:
        """Its place in the pattern and the send under way (for inspection).

        ``now_ns``: the instant it is taken at. A call that returns directly (see
        :meth:`returned`) has its effects made ahead of time; until its return
        instant the thread is shown still inside it.
        """
        current, in_kernel = self.current, self.in_kernel
        returning = self._returning
        if now_ns is not None and returning is not None and now_ns < returning[1]:
            current, in_kernel = returning[0], True
        return GeneratorSnapshot(
            planned=self.planned,
            count=self.count,
            next_seq=self.next_seq,
            current=current,
            in_kernel=in_kernel,
            ready=tuple(self.ready),
            sent=self._sent,
            late=self._late,
        )

    def handle(self, message: GeneratorInput, now_ns: int) -> Sequence[Effect]:
        """Start, a planned send, a finished frame build, or a system call's return.

        Raises:
            IllegalValue: the planned instants ran out before ``count`` sends.
            UnexpectedMessage: a second start, a send timer for another send than
                the one planned, a build that was not started, a return from a call
                not made (or for another packet), or a message the generator does
                not take.
        """
        match message:
            case Start():
                if self.planned:
                    raise UnexpectedMessage("Generator", message, "already started")
                first = self._next_instant(message)
                # The kernel loop's frames are built before the call is entered.
                self._free_at = now_ns + self._templates * self.build_ns
                self._built += self._templates
                return self._plan(first, now_ns)
            case SendPacket(seq=index):
                if index != self.planned - 1:
                    planned = f"send {self.planned - 1} planned"
                    raise UnexpectedMessage("Generator", message, planned)
                self.ready.append(index)
                return self._build_next(now_ns)
            case InjectPacket():
                self.ready.append(-1)
                return self._build_next(now_ns)
            case SystemCallReturn():
                self._check_return(message)
                return self._returned(message, now_ns)
            case _:
                raise unexpected("Generator", message)

    def returned(self, message: SystemCallReturn, now_ns: int, after_ns: int) -> Sequence[Effect]:
        """The call returns ``after_ns`` from now, in the mechanism's delivery (DirectCaller).

        Raises:
            UnexpectedMessage: a return from a call not made, or for another packet.
        """
        self._check_return(message)
        self._returning = (message.seq, now_ns + after_ns)
        return [
            dated_later(effect, after_ns, self.name)
            for effect in self._returned(message, now_ns + after_ns)
        ]

    def _check_return(self, message: SystemCallReturn) -> None:
        if not self.in_kernel or message.seq != self.current:
            call = f"in a call for packet {self.current}" if self.in_kernel else "no call"
            raise UnexpectedMessage("Generator", message, call)

    def _next_instant(self, message: GeneratorInput) -> int | None:
        """The next send's planned time (None: all planned), checked before any change."""
        if self.planned >= self.count:
            return None
        planned = next(self.instants, None)
        if planned is None:
            problem = f"the planned instants ran out after {self.planned} of {self.count} sends"
            raise IllegalValue("Generator", message, problem)
        return planned

    def _plan(self, planned: int | None, now_ns: int) -> Sequence[Effect]:
        if planned is None:
            return ()
        index = self.planned
        self.planned += 1
        ready = max(now_ns, self._free_at)
        if planned < ready:
            self._late += 1
        wait = max(planned, ready) - now_ns
        if not self.injections and self.current is None:
            # Nothing can wake the thread before the planned instant: sleeping,
            # building and entering the call are one known stretch of time.
            self.ready.append(index)
            return self._build_next(now_ns, wait)
        return (SetTimer("send", wait, SendPacket(index)),)

    def _build_next(self, now_ns: int, wait_ns: int = 0) -> Sequence[Effect]:
        """Start the next waiting send (after ``wait_ns``), if the generator is free.

        Its frame is built (``per-send``) or patched from its template
        (``kernel-loop``), and the mechanism is entered with it.
        """
        if self.current is not None or not self.ready:
            return ()
        index = self._current_index = self.ready.popleft()
        seq = self.current = self.next_seq
        self.next_seq += 1
        delay = max(wait_ns, self._free_at - now_ns) + self._send_build_ns
        if self.build == "per-send":
            self._built += 1
        entered = now_ns + delay  # the frame carries the time it is sent
        if index < 0:
            frame = self.injected_frames.frame(index, seq, entered)
            self._injected += 1
        else:
            frame = self.frames.frame(index, seq, entered)
        self.in_kernel = True
        self._sent += 1
        self._bytes += len(frame)
        if self._first_send is None:
            self._first_send = entered
        self._last_send = entered
        if self.on_generate is not None:
            self.on_generate(seq, entered, frame)
        enter = self.mechanism.enter(SystemCall(seq, frame, self.name), now_ns, delay)
        if not self.full:
            return enter
        fields: dict[str, object] = {"seq": seq, "size": len(frame)}
        if self.note_frames:
            fields["frame"] = frame
        return (Note(NoteKind.PACKET_GENERATED, fields, delay_ns=delay), *enter)

    def _returned(self, message: SystemCallReturn, now_ns: int) -> Sequence[Effect]:
        # The next planned send is taken from the pattern before anything changes.
        upcoming = self._next_instant(message) if self._current_index >= 0 else None
        elapsed = now_ns - message.entered_ns
        if len(self._send_ns) < SEND_NS_KEPT:
            self._send_ns.append(elapsed)
        self._send_histogram.add(elapsed)
        self._last_return = now_ns
        if message.result == "ok":
            self._accepted += 1
        else:
            self._refused += 1
        self.current = None
        self.in_kernel = False
        return (*self._plan(upcoming, now_ns), *self._build_next(now_ns))
