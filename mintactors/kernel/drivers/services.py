"""The kernel services driver code calls: skbs, hand-up, drops, steps, NAPI, stores.

:class:`KernelServices` is the half of the driver's kernel shell
(:class:`~mintactors.kernel.drivers.shell.DriverShell`) that performs what a
driver's operation asks for at its instant: allocate an skb and copy the frame
(``netdev_alloc_skb`` + the copy), hand it up (``netif_rx`` onto the backlog, or
``napi_gro_receive`` through the stack), drop it, mark a step (where
``[[inject]]`` fires), change NAPI's flags, store to memory or a register. The
other half runs the code in the right context at the right time. The attributes
below are the shell's; it sets them.
"""

from __future__ import annotations

from collections.abc import Callable

from mintactors.effects import Effect, Note, Send, TraceLevel
from mintactors.hardware.nic import NicLayout
from mintactors.kernel.drivers.base import RxDriver
from mintactors.kernel.drivers.context import DriverCosts, u32
from mintactors.kernel.drivers.core_memory import CodeKind, CodeRun, CoreMemory
from mintactors.kernel.drivers.crash import DriverCrash
from mintactors.kernel.drivers.ops import NapiOp, Store, Writel
from mintactors.kernel.drivers.softnet import DRIVER_NAPI, NetRxLimits, SoftnetData
from mintactors.kernel.injection import Injector
from mintactors.kernel.socket import skb_truesize
from mintactors.messages import SocketBuffer
from mintactors.notes import NoteKind
from mintactors.packets import parse_pktgen_header

__all__ = ["KernelServices"]


class KernelServices:
    """What driver operations do to the kernel's and the machine's state (see module)."""

    driver: RxDriver
    layout: NicLayout
    costs: DriverCosts
    copy_ns: Callable[[int], int]
    limits: NetRxLimits
    mem: CoreMemory
    softnet: SoftnetData
    full: bool
    step_hook: Injector | None
    injected_steps: frozenset[str]
    allowed_steps: frozenset[str]
    step_counts: dict[str, int]
    napi_sched: bool
    napi_missed: bool
    holding: int
    dropped: dict[str, int]
    _runs: int
    _polls: int
    frames_taken: int
    _up: int
    _discarded: int
    _empty: int
    _max: int
    _refills: int
    _masks: int
    _unmasks: int
    _missed: int
    _first_up: int | None
    _last_up: int | None

    def _alloc_skb(
        self, run: CodeRun, addr: int, length: int, now_ns: int, out: list[Effect]
    ) -> SocketBuffer:
        """Allocate an skb and copy the frame at ``addr`` into it: the frame is taken."""
        self.mem.flush(run, now_ns, out)
        data = self.mem.load(addr, length, now_ns + run.acc, now_ns)
        self.frames_taken += 1
        self.holding += 1
        run.taken += 1
        header = parse_pktgen_header(data)
        seq = header[0] if header else None
        if self.full:
            # The descriptor the driver is cleaning (e1000 moves next_to_clean after it).
            taken = {"seq": seq, "desc": self.driver.next_to_clean, "length": length}
            out.append(Note(NoteKind.FRAME_TAKEN, taken, delay_ns=run.acc))
        run.acc += self.costs.load_ns + self.costs.skb_alloc_ns + self.copy_ns(length)
        return SocketBuffer(data, skb_truesize(len(data)), seq, -1)

    def _count_run(self, taken: int) -> None:
        """One handler run or poll that took ``taken`` frames (a NAPI hard IRQ takes none)."""
        self._empty += taken == 0
        self._max = max(self._max, taken)

    def _store(self, run: CodeRun, op: Store | Writel, now_ns: int, out: list[Effect]) -> None:
        if isinstance(op, Writel):
            reg = op.reg
            addr, data = self.mem.register(reg), u32(op.value)
            if reg == "RDT" and run.kind is not CodeKind.PROBE:
                self._refills += 1
            elif reg == "IMC":
                self._masks += 1
            elif reg == "IMS" and run.kind is not CodeKind.PROBE:
                self._unmasks += 1
        else:
            addr, data = op.addr, op.data
            if self.full:
                self._note_returned(run, addr, data, out)
        self.mem.store(run, addr, data, now_ns, out)

    def _note_returned(self, run: CodeRun, addr: int, data: bytes, out: list[Effect]) -> None:
        """A store that clears a descriptor's DD gives the descriptor back: note it."""
        offset = addr - self.layout.ring_base
        if not 0 <= offset < self.layout.ring_bytes or offset % 16 != 12:
            return
        if data and not data[0] & 0x01:
            out.append(Note(NoteKind.DESCRIPTOR_RETURNED, {"desc": offset // 16}, delay_ns=run.acc))

    def _hand_up(
        self, run: CodeRun, skb: SocketBuffer, via: str, now_ns: int, out: list[Effect]
    ) -> None:
        """``netif_rx`` queues on the backlog; ``napi_gro_receive`` runs the stack now."""
        self.holding -= 1
        self._up += 1
        run.acc += self.costs.handup_ns
        at = now_ns + run.acc
        if self._first_up is None:
            self._first_up = at
        self._last_up = at
        if via != "netif_rx":
            if not run.irqs_on:
                raise DriverCrash(
                    f"{via} called outside a NAPI poll: in the interrupt handler, use netif_rx"
                )
            self.softnet.in_stack += 1
            run.acc += self.limits.stack_ns
            return
        if not self.softnet.enqueue_to_backlog(skb):
            self.dropped["backlog"] = self.dropped.get("backlog", 0) + 1
            fields = {"seq": skb.seq, "reason": "backlog"}
            out.append(Note(NoteKind.PACKET_DROPPED, fields, TraceLevel.SUMMARY, delay_ns=run.acc))
        elif self.full:
            queued = {"seq": skb.seq, "qlen": len(self.softnet.backlog)}
            out.append(Note(NoteKind.SKB_BACKLOGGED, queued, delay_ns=run.acc))

    def _drop(self, run: CodeRun, reason: str, skb: SocketBuffer | None, out: list[Effect]) -> None:
        if skb is None:
            self.frames_taken += 1
            run.taken += 1
        else:
            self.holding -= 1
        self._discarded += 1
        self.dropped[reason] = self.dropped.get(reason, 0) + 1
        seq = skb.seq if skb is not None else None
        fields = {"seq": seq, "reason": reason}
        out.append(Note(NoteKind.PACKET_DROPPED, fields, TraceLevel.SUMMARY, delay_ns=run.acc))

    def _step(self, run: CodeRun, name: str, now_ns: int, out: list[Effect]) -> None:
        if name not in self.allowed_steps:
            raise DriverCrash(
                f"step {name!r} is not among the driver's declared steps "
                f"({', '.join(sorted(self.allowed_steps))}); add it to the class's `steps`"
            )
        count = self.step_counts[name] = self.step_counts.get(name, 0) + 1
        if self.step_hook is None or name not in self.injected_steps:
            return
        for effect in self.step_hook(name, count, now_ns + run.acc):
            if isinstance(effect, Send):
                out.append(
                    Send(effect.to, effect.message, effect.delay_ns + run.acc, effect.priority)
                )
            elif isinstance(effect, Note):
                out.append(Note(effect.kind, effect.fields, effect.level, delay_ns=run.acc))
            else:
                out.append(effect)

    def _napi(self, run: CodeRun, call: NapiOp, work_done: int, out: list[Effect]) -> bool | None:
        match call:
            case NapiOp.SCHEDULE_PREP:
                if self.napi_sched:
                    self.napi_missed = True
                    self._missed += 1
                    if self.full:
                        out.append(
                            Note(NoteKind.NAPI_MISSED, {"run": self._runs}, delay_ns=run.acc)
                        )
                    return False
                self.napi_sched = True
                return True
            case NapiOp.SCHEDULE:
                self.softnet.schedule(DRIVER_NAPI)
                return None
            case NapiOp.COMPLETE_DONE:
                rescheduled = self.napi_missed
                if rescheduled:  # MISSED: __napi_schedule again, still scheduled
                    self.napi_missed = False
                    self.softnet.schedule(DRIVER_NAPI)
                else:
                    self.napi_sched = False
                if self.full:
                    fields = {"poll": self._polls, "rescheduled": rescheduled, "drained": work_done}
                    out.append(Note(NoteKind.POLL_COMPLETED, fields, delay_ns=run.acc))
                return not rescheduled
        raise DriverCrash(f"unknown NAPI call {call!r}")
