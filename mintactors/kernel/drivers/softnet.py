"""NET_RX on the driver's CPU: the backlog, the poll list and the softirq's limits.

Theory of operation, after Linux (net/core/dev.c, kernel/softirq.c):

``netif_rx`` (``enqueue_to_backlog``)
    queues the skb on the CPU's backlog, ``softnet_data.input_pkt_queue``, and
    does nothing else: the protocol stack runs later, in the softirq. A full
    backlog (more than ``netdev_max_backlog`` skbs) drops the skb, counted in
    ``softnet_data.dropped`` (drop reason ``backlog``). The first skb of an empty
    backlog schedules the backlog's own NAPI instance and raises NET_RX.
``__napi_schedule``
    puts a NAPI instance on the CPU's poll list and raises NET_RX.
``__do_softirq``
    runs pending softirqs with interrupts on, at a hard IRQ's exit or in
    ``ksoftirqd``; while new ones are raised meanwhile it starts again, at most
    ``MAX_SOFTIRQ_RESTART`` times within ``MAX_SOFTIRQ_TIME``, then wakes
    ``ksoftirqd`` for the rest.
``net_rx_action``
    polls the instances on the list in turn, each for at most its weight, until
    the list is empty, ``netdev_budget`` packets are done or
    ``netdev_budget_usecs`` have passed; then it counts a ``time_squeeze`` and
    raises NET_RX again. An instance that used its whole weight goes to the tail.
``process_backlog``
    the backlog's poll: it moves the whole input queue to its private
    ``process_queue`` (with interrupts off), then passes each skb through
    ``__netif_receive_skb`` (IP, UDP: ``stack_ns``) to the socket, at most
    ``dev_weight`` per poll. While it works, ``netif_rx`` fills the emptied input
    queue again, so up to twice ``netdev_max_backlog`` skbs can wait, as in Linux.
``ksoftirqd``
    a thread like any other, competing for the CPU with the application
    (:mod:`mintactors.hardware.cpu`), that runs ``__do_softirq`` while NET_RX is
    pending.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import attrs

from mintactors.kernel.drivers.ops import Clock, Code, Cpu, Deliver, Sync, Trace
from mintactors.messages import SocketBuffer
from mintactors.notes import NoteKind

__all__ = [
    "BACKLOG",
    "DRIVER_NAPI",
    "MAX_SOFTIRQ_RESTART",
    "MAX_SOFTIRQ_TIME_NS",
    "NetRxLimits",
    "SoftnetData",
    "SoftnetStatistics",
]

#: kernel/softirq.c: restarts of ``__do_softirq`` before it wakes ksoftirqd.
MAX_SOFTIRQ_RESTART = 10
#: kernel/softirq.c: ``MAX_SOFTIRQ_TIME``, 2 ms.
MAX_SOFTIRQ_TIME_NS = 2_000_000

#: The poll list's two NAPI instances: the driver's and the backlog's.
DRIVER_NAPI = "driver"
BACKLOG = "backlog"


@attrs.frozen
class NetRxLimits:
    """The receive path's sysctls and the costs of the kernel's own receive work.

    Attributes:
        netdev_budget: packets one ``net_rx_action`` may process (sysctl, 300).
        netdev_budget_usecs: how long it may run, in µs (two jiffies).
        netdev_max_backlog: skbs the backlog holds (sysctl, 1000).
        dev_weight: the backlog's NAPI weight (``dev_weight``, 64).
        stack_ns: one skb through IP and UDP to the socket.
        softirq_entry_ns: entering ``__do_softirq`` (or switching to ksoftirqd).
    """

    stack_ns: int
    softirq_entry_ns: int = 50
    netdev_budget: int = 300
    netdev_budget_usecs: int = 2000
    netdev_max_backlog: int = 1000
    dev_weight: int = 64


@attrs.frozen
class SoftnetStatistics:
    """``/proc/net/softnet_stat`` for the driver's CPU, and the softirq's counters.

    ``processed``: skbs the backlog passed up; ``dropped``: skbs a full backlog
    refused; ``time_squeeze``: ``net_rx_action`` runs cut short by the budget or
    the time limit; ``softirq_runs`` and ``ksoftirqd_runs``: ``__do_softirq`` at a
    hard IRQ's exit and in ksoftirqd; ``ksoftirqd_wakeups``: times the softirq gave
    up and woke ksoftirqd.
    """

    processed: int
    dropped: int
    time_squeeze: int
    backlog_high_water: int
    softirq_runs: int
    ksoftirqd_runs: int
    ksoftirqd_wakeups: int


#: ``napi_poll`` of the driver's instance: (work done, whether it stays on the list
#: because it used its whole weight).
DriverPoll = Callable[[], Code[tuple[int, bool]]]


class SoftnetData:
    """``struct softnet_data`` of the driver's CPU and the NET_RX code that uses it.

    Args:
        limits: the budgets and costs.
        poll_driver: runs the driver's NAPI poll for one weight.
        full: write the full level's notes.
    """

    def __init__(self, limits: NetRxLimits, poll_driver: DriverPoll, *, full: bool) -> None:
        self.limits = limits
        self.poll_driver = poll_driver
        self.full = full
        self.backlog: deque[SocketBuffer] = deque()  # input_pkt_queue
        self.process_queue: deque[SocketBuffer] = deque()
        self.backlog_scheduled = False  # the backlog's NAPI_STATE_SCHED
        self.poll_list: deque[str] = deque()
        self.pending = False  # NET_RX raised and not yet run
        #: skbs taken off the backlog whose trip up the stack is not over.
        self.in_stack = 0
        self._processed = self._dropped = self._squeeze = self._high = 0
        self._softirq_runs = self._ksoftirqd_runs = self._wakeups = 0

    def statistics(self) -> SoftnetStatistics:
        """The counters so far."""
        return SoftnetStatistics(
            processed=self._processed,
            dropped=self._dropped,
            time_squeeze=self._squeeze,
            backlog_high_water=self._high,
            softirq_runs=self._softirq_runs,
            ksoftirqd_runs=self._ksoftirqd_runs,
            ksoftirqd_wakeups=self._wakeups,
        )

    # -- what interrupt handlers and polls call (interrupts off) ---------------------------

    def schedule(self, napi: str) -> None:
        """``____napi_schedule``: onto the poll list's tail, and raise NET_RX."""
        if napi not in self.poll_list:
            self.poll_list.append(napi)
        self.pending = True

    def enqueue_to_backlog(self, skb: SocketBuffer) -> bool:
        """``enqueue_to_backlog``: queue ``skb``, or refuse it with the backlog full."""
        queued = len(self.backlog)
        if queued > self.limits.netdev_max_backlog:
            self._dropped += 1
            return False
        if not queued and not self.backlog_scheduled:
            self.backlog_scheduled = True
            self.schedule(BACKLOG)
        self.backlog.append(skb)
        self._high = max(self._high, queued + 1)
        return True

    def woke_ksoftirqd(self) -> None:
        """Count one wakeup of ksoftirqd."""
        self._wakeups += 1

    # -- the softirq (interrupts on) -------------------------------------------------------

    def do_softirq(self, *, in_ksoftirqd: bool = False) -> Code[bool]:
        """``__do_softirq`` for NET_RX; returns whether ksoftirqd must take the rest."""
        if in_ksoftirqd:
            self._ksoftirqd_runs += 1
        else:
            self._softirq_runs += 1
        start: int = yield Clock()
        restarts = MAX_SOFTIRQ_RESTART
        now = start
        while True:
            self.pending = False
            yield from self.net_rx_action(now)
            now = yield Sync()  # pending is read with interrupts off
            if not self.pending:
                return False
            restarts -= 1
            if now - start >= MAX_SOFTIRQ_TIME_NS or not restarts:
                return True

    def ksoftirqd(self) -> Code[None]:
        """``run_ksoftirqd`` until nothing is pending; the CPU's scheduler slices it."""
        while self.pending:
            yield from self.do_softirq(in_ksoftirqd=True)

    def net_rx_action(self, start: int) -> Code[None]:
        """Poll the list's instances in turn within the budget and the time limit.

        ``start`` is the time the code has reached (the caller has just read it).
        As in Linux, the limits are checked after each poll while instances remain;
        the first check needs no clock, as no time has passed since ``start``.
        """
        limits = self.limits
        budget = limits.netdev_budget
        deadline = start + limits.netdev_budget_usecs * 1000
        poll_list = self.poll_list
        now = start
        while poll_list:
            if budget <= 0 or now >= deadline:
                self._squeeze += 1
                self.pending = True
                if self.full:
                    reason = "budget" if budget <= 0 else "time"
                    squeeze = {"reason": reason, "budget_left": budget}
                    yield Trace(NoteKind.TIME_SQUEEZE, squeeze)
                return
            napi = poll_list.popleft()
            if napi == BACKLOG:
                weight = limits.dev_weight
                work = yield from self.process_backlog(weight)
                again = work >= weight
            else:
                work, again = yield from self.poll_driver()
            budget -= work
            if again and napi not in poll_list:
                poll_list.append(napi)
            if poll_list:
                now = yield Clock()

    def process_backlog(self, quota: int) -> Code[int]:
        """Pass up to ``quota`` skbs from the backlog through the stack to the socket."""
        work = 0
        stack_ns = self.limits.stack_ns
        process_queue = self.process_queue
        while True:
            while process_queue:
                skb = process_queue.popleft()
                self.in_stack += 1
                yield Cpu(stack_ns)
                yield Deliver(skb)  # the shell counts it out of in_stack
                self._processed += 1
                work += 1
                if work >= quota:
                    return work
            yield Sync()  # the input queue is shared with netif_rx in the hard IRQ
            if not self.backlog:
                self.backlog_scheduled = False  # napi complete until the next netif_rx
                return work
            process_queue.extend(self.backlog)
            self.backlog.clear()
