"""Benchmark: the whole Mint model per packet, against SimPy and against a bare Trio hand-off.

Three measurements, interleaved (A B C A B C ...) so that the noise of a shared
machine falls on all of them alike, each the median of ``--repeat`` runs:

A. mintactors on the quickstart path: ``configs/quickstart.toml`` with tracing off,
   16 KB buffers and a 20 us interval, so nothing is dropped and every packet takes
   the full path (system call, IPI, handler, socket, application).
B. A plain SimPy model of the same pipeline, written as SimPy processes in the
   usual way, with the same cost profile (``paper-2014``) and comparable model work:
   real frames built and checked, descriptors packed into and read from a ring in
   a bytearray, frames copied in and out of buffers, the core a preemptive resource.
C. A bare Trio hand-off: two tasks passing a counter through memory channels with
   the runtime's lockstep mechanism (``send_nowait`` into the other's mailbox,
   ``trio.lowlevel.reschedule`` with the runtime's shared wake-up outcome, park in
   ``wait_task_rescheduled``), giving the CPU cost of one hand-off, the floor under
   every delivery that changes actor.

Times are CPU time of the process (``time.process_time``), which another process on
the machine disturbs less than the wall clock. The output ends with ``ratio=``,
mintactors packets/s divided by SimPy packets/s.

    python tools/bench_model.py [--packets 5000] [--repeat 5] [--before REF]

``--before REF`` also measures the commit ``REF`` of this repository (extracted with
``git archive`` into a temporary directory, nothing else touched) back to back with
this tree: each repeat runs REF's model and this tree's model (in alternating
order), each in a fresh process with its own ``PYTHONPATH``, then B and C; it
prints REF's figures with a ``before_`` prefix, ``speedup=`` (this tree's median
packets/s over REF's) and ``paired_speedup=`` (the median over repeats of the two
runs' ratio, steadier on a busy machine).

``--set KEY=VALUE`` (repeatable) overrides a config key in this tree's runs only,
never in REF's. Measured against this very commit, it gives the cost of an option:

    python tools/bench_model.py --before HEAD --set memory.model='"tso"'

(``before_`` is then the default model, the plain figures are TSO's.)
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OVERRIDES = (
    'simulation.trace="off"',
    "generator.interval_ns=20000",
    "nic.buffer_size=16384",
)

# -- A: mintactors ---------------------------------------------------------------------


def mintactors_run(packets: int, size: int, sets: tuple[str, ...] = ()) -> dict[str, Any]:
    """One quickstart run in this process; CPU seconds, deliveries and hand-offs."""
    from mintactors.config import load_config  # noqa: PLC0415 (the tree under test: see --before)
    from mintactors.experiments import run_config  # noqa: PLC0415

    config = load_config(
        Path("configs/quickstart.toml").resolve()
        if Path("configs/quickstart.toml").exists()
        else ROOT / "configs" / "quickstart.toml",
        [f"generator.count={packets}", f"generator.size={size}", *OVERRIDES, *sets],
    )
    start = time.process_time()
    outcome = run_config(config)
    seconds = time.process_time() - start
    record: Any = outcome.results  # a RunResults record; a dict in older commits
    results: dict[str, Any] = record if isinstance(record, dict) else record.to_json()
    if results["delivered"] != packets:
        raise SystemExit(f"only {results['delivered']} of {packets} packets delivered")
    handoffs = results.get("handoffs")
    if handoffs is None:  # a commit from before the runtime counted them
        handoffs = _count_switches(config)
    return {"seconds": seconds, "messages": results["messages_delivered"], "handoffs": handoffs}


def _count_switches(config: Any) -> int:
    """Task steps of actor tasks, counted by a Trio instrument in an untimed rerun."""
    import trio  # noqa: PLC0415

    from mintactors.experiments import run_config  # noqa: PLC0415

    class Steps(trio.abc.Instrument):
        count = 0

        def before_task_step(self, task: trio.lowlevel.Task) -> None:
            if task.name.endswith("_actor_task"):
                Steps.count += 1

    plain_run = trio.run

    def instrumented(*args: Any, **kwargs: Any) -> Any:
        return plain_run(*args, instruments=[Steps()], **kwargs)

    trio.run = instrumented  # type: ignore[assignment]
    try:
        run_config(config)
    finally:
        trio.run = plain_run
    return Steps.count


def mintactors_in(
    tree: Path, packets: int, size: int, sets: tuple[str, ...] = ()
) -> dict[str, Any]:
    """:func:`mintactors_run` in a fresh process importing mintactors from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    overrides = [arg for item in sets for arg in ("--set", item)]
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            "--packets",
            str(packets),
            "--size",
            str(size),
            *overrides,
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


# -- B: the same pipeline in SimPy ---------------------------------------------------

_DESCRIPTOR = struct.Struct("<QHHBBH")  # e1000 legacy RX descriptor, 16 bytes
_DD, _EOP = 0x01, 0x02


class SimpyPipeline:
    """The quickstart pipeline as SimPy processes: sender, IPI, handler, application."""

    RING, BUFFER, REFILL_BATCH, RCVBUF = 256, 16384, 16, 212992
    START_NS, INTERVAL_NS = 10_000, 20_000

    def __init__(self, packets: int, size: int) -> None:
        import simpy  # noqa: PLC0415

        from mintactors.costs import load_profile  # noqa: PLC0415
        from mintactors.packets import FrameFactory, verify_frame  # noqa: PLC0415

        self.simpy = simpy
        self.verify = verify_frame
        self.factory = FrameFactory(size)
        self.cost = load_profile("paper-2014")
        self.packets = packets
        self.env = simpy.Environment()
        self.core = simpy.PreemptiveResource(self.env, capacity=1)  # the handler preempts
        self.socket = simpy.Store(self.env)
        self.ring = bytearray(self.RING * _DESCRIPTOR.size)
        self.buffers = bytearray(self.RING * self.BUFFER)
        self.head = self.clean = self.use = self.rcv_used = 0
        self.tail = self.RING - 1
        self.irr = self.isr = False
        self.merged = 0
        self.send_ns: list[float] = []
        self.latencies: list[float] = []
        self.refill(self.RING - 1)

    def refill(self, count: int) -> None:
        """``e1000_alloc_rx_buffers``: fresh descriptors pointing at their buffers, then RDT."""
        for _ in range(count):
            i = self.use
            _DESCRIPTOR.pack_into(self.ring, i * 16, i * self.BUFFER, 0, 0, 0, 0, 0)
            self.use = (i + 1) % self.RING
        self.tail = (self.use - 1) % self.RING

    def generator(self) -> Generator[Any, Any, None]:
        """Node 0: build each frame, then the system call (copy, write-back, ICR)."""
        env, cost = self.env, self.cost
        for seq in range(self.packets):
            planned = self.START_NS + seq * self.INTERVAL_NS
            if env.now < planned:
                yield env.timeout(planned - env.now)
            yield env.timeout(cost.frame_build_ns)
            frame = self.factory.frame(seq, int(env.now))
            entered = env.now
            yield env.timeout(cost.syscall_entry_ns + cost.memory_latency_ns)  # entry, read RDT
            head = self.head
            if head != self.tail:
                addr = head * self.BUFFER
                yield env.timeout(cost.copy_ns(len(frame)))
                self.buffers[addr : addr + len(frame)] = frame
                yield env.timeout(cost.descriptor_writeback_ns)
                _DESCRIPTOR.pack_into(self.ring, head * 16, addr, len(frame), 0, _DD | _EOP, 0, 0)
                self.head = (head + 1) % self.RING
                yield env.timeout(cost.icr_write_ns)
                env.process(self.ipi())
            yield env.timeout(cost.syscall_exit_ns)
            self.send_ns.append(env.now - entered)

    def ipi(self) -> Generator[Any, Any, None]:
        """The IPI on the bus; a second one while IRR is set merges into it."""
        yield self.env.timeout(self.cost.ipi_latency_ns)
        if self.irr:
            self.merged += 1
        else:
            self.irr = True
            if not self.isr:
                self.env.process(self.interrupt())

    def interrupt(self) -> Generator[Any, Any, None]:
        """Node 1: the paper's handler, draining every descriptor with DD set."""
        env, cost, ring = self.env, self.cost, self.ring
        with self.core.request(priority=0, preempt=True) as request:
            yield request
            self.irr, self.isr = False, True
            yield env.timeout(cost.irq_entry_ns)
            cleaned = 0
            while True:
                yield env.timeout(cost.memory_latency_ns)  # read the descriptor
                clean = self.clean
                addr, length, _, status, _, _ = _DESCRIPTOR.unpack_from(ring, clean * 16)
                if not status & _DD:
                    break
                yield env.timeout(cost.driver_descriptor_ns + cost.memory_latency_ns)
                frame = bytes(self.buffers[addr : addr + length])
                yield env.timeout(cost.copy_ns(length) + cost.skb_alloc_ns)
                truesize = 2048 + 256 if length <= 1792 else 4096 + 256
                yield env.timeout(cost.stack_ns)
                if self.rcv_used + truesize <= self.RCVBUF:
                    self.rcv_used += truesize
                    self.socket.put((frame, truesize))
                ring[clean * 16 + 12] = 0  # give the descriptor back
                self.clean = (clean + 1) % self.RING
                cleaned += 1
                if cleaned % self.REFILL_BATCH == 0:
                    self.refill(self.REFILL_BATCH)
                    yield env.timeout(cost.refill_ns)
            unused = (self.clean - self.use - 1) % self.RING
            if unused:
                self.refill(unused)
                yield env.timeout(cost.refill_ns)
            yield env.timeout(cost.eoi_ns)
            self.isr = False
            yield env.timeout(cost.irq_exit_ns)
        if self.irr:
            env.process(self.interrupt())

    def app(self) -> Generator[Any, Any, None]:
        """The receiving application: recv, copy to user space (pre-emptible), check."""
        env, cost = self.env, self.cost
        while True:
            frame, truesize = yield self.socket.get()
            self.rcv_used -= truesize
            remaining = cost.app_recv_ns + cost.copy_ns(len(frame))
            while remaining:
                with self.core.request(priority=1) as request:
                    yield request
                    began = env.now
                    try:
                        yield env.timeout(remaining)
                        remaining = 0
                    except self.simpy.Interrupt:
                        remaining -= int(env.now - began)
            check = self.verify(frame)
            if check.ok and check.send_ns is not None:
                self.latencies.append(env.now - check.send_ns)

    def run(self) -> float:
        """Run to the end; CPU seconds."""
        self.env.process(self.generator())
        self.env.process(self.app())
        began = time.process_time()
        self.env.run()
        seconds = time.process_time() - began
        if len(self.latencies) != self.packets:
            raise SystemExit(f"SimPy model delivered {len(self.latencies)} of {self.packets}")
        return seconds


def simpy_run(packets: int, size: int) -> float:
    """Packets through a plain SimPy model of the pipeline; CPU seconds."""
    return SimpyPipeline(packets, size).run()


# -- C: one bare Trio hand-off ---------------------------------------------------------


def handoff_us(handoffs: int = 100_000) -> float:
    """CPU microseconds of one lockstep hand-off between two Trio tasks."""
    import trio  # noqa: PLC0415
    from trio.lowlevel import Abort, current_task, reschedule, wait_task_rescheduled  # noqa: PLC0415

    try:  # the runtime's shared wake-up outcome, where it has one (see --before)
        from mintactors.runtime._simulation import RESUME  # noqa: PLC0415

        resume: Any = RESUME
    except ImportError:
        resume = None

    def abort(_: Any) -> Abort:
        return Abort.SUCCEEDED

    async def main() -> float:
        channels = [trio.open_memory_channel[int](math.inf) for _ in range(2)]
        tasks: list[Any] = [None, None]
        done = trio.Event()

        async def player(me: int, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
            tasks[me] = current_task()
            receive = channels[me][1].receive_nowait
            other = 1 - me
            send = channels[other][0].send_nowait
            task_status.started()
            while True:
                await wait_task_rescheduled(abort)
                n = receive()
                if n >= handoffs:
                    done.set()
                    return
                send(n + 1)
                if resume is None:
                    reschedule(tasks[other])
                else:
                    reschedule(tasks[other], resume)

        async with trio.open_nursery() as nursery:
            await nursery.start(player, 0)
            await nursery.start(player, 1)
            began = time.process_time()
            channels[0][0].send_nowait(1)
            reschedule(tasks[0])
            await done.wait()
            seconds = time.process_time() - began
            nursery.cancel_scope.cancel()
        return seconds / handoffs * 1e6

    result: float = trio.run(main)
    return result


# -- the driver ------------------------------------------------------------------------


def extract(ref: str) -> Path:
    """This repository's tree at ``ref`` in a new temporary directory (git archive)."""
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref],
        capture_output=True,
        check=True,
    ).stdout
    where = Path(tempfile.mkdtemp(prefix="bench-model-before-"))
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(where, filter="data")
    return where


def summary(runs: list[dict[str, Any]], packets: int, prefix: str = "") -> float:
    """Print one tree's figures; return its median packets/s."""
    rate = packets / float(statistics.median(r["seconds"] for r in runs))
    print(f"{prefix}messages_per_packet={runs[0]['messages'] / packets:.1f}")
    print(f"{prefix}switches_per_packet={runs[0]['handoffs'] / packets:.1f}")
    print(f"{prefix}packets_per_s={rate:.0f}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--packets", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--size", type=int, default=1514, help="frame bytes (default 1514)")
    parser.add_argument("--before", metavar="REF", help="also measure commit REF, interleaved")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key in this tree's runs (not REF's)",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(mintactors_run(args.packets, args.size, tuple(args.set))))
        return
    before_tree = extract(args.before) if args.before else None
    try:
        measure(args, before_tree)
    finally:
        if before_tree is not None:
            shutil.rmtree(before_tree)


def measure(args: argparse.Namespace, before_tree: Path | None) -> None:
    """Run the interleaved measurements and print the figures."""
    ours: list[dict[str, Any]] = []
    before: list[dict[str, Any]] = []
    simpy_s: list[float] = []
    handoff: list[float] = []
    sets = tuple(args.set)
    for repeat in range(args.repeat):
        if before_tree is not None:
            # Alternate which tree goes first, so neither always runs on a warmer machine.
            if repeat % 2:
                ours.append(mintactors_in(ROOT, args.packets, args.size, sets))
                before.append(mintactors_in(before_tree, args.packets, args.size))
            else:
                before.append(mintactors_in(before_tree, args.packets, args.size))
                ours.append(mintactors_in(ROOT, args.packets, args.size, sets))
        else:
            ours.append(mintactors_run(args.packets, args.size, sets))
        simpy_s.append(simpy_run(args.packets, args.size))
        handoff.append(handoff_us())
    print(
        f"quickstart path, {args.packets} packets of {args.size} B, tracing off; "
        f"median of {args.repeat} interleaved runs, CPU time"
        + (f"; this tree with {' '.join(sets)}" if sets else "")
    )
    if before_tree is not None:
        print(f"before = {args.before}")
        before_rate = summary(before, args.packets, "before_")
        for r in before:
            print(f"  before run: {args.packets / r['seconds']:.0f} packets/s")
        for r in ours:
            print(f"  after run:  {args.packets / r['seconds']:.0f} packets/s")
    rate = summary(ours, args.packets)
    simpy_rate = args.packets / statistics.median(simpy_s)
    print(f"handoff_us={statistics.median(handoff):.2f}")
    print(f"simpy_packets_per_s={simpy_rate:.0f}")
    if before_tree is not None:
        print(f"speedup={rate / before_rate:.3f}")
        # The noise of a shared machine hits the two runs of one repeat alike: the
        # median of the per-repeat ratios is steadier than the ratio of medians.
        pairs = zip(ours, before, strict=True)
        paired = statistics.median(b["seconds"] / a["seconds"] for a, b in pairs)
        print(f"paired_speedup={paired:.3f}")
    print(f"ratio={rate / simpy_rate:.4f}")


if __name__ == "__main__":
    main()
