"""Benchmark: a message ring of N actors on mintactors against the same ring on SimPy.

Each of the M messages is one delivery: an actor takes the token and passes it to the
next actor one nanosecond later, so with one token in flight every delivery is to a
different actor (the worst case for the runtime: a task switch each time). Tracing is
off. Prints messages per second for both, the median of several repeats, and ends with
``ratio=<mintactors msgs/s / SimPy msgs/s>``.

    python tools/bench_runtime.py [--actors 8] [--messages 200000] [--tokens 1] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

import attrs
import simpy
import trio

from mintactors import Send, Simulation


@attrs.frozen(slots=True)
class Token:
    """The message passed round the ring."""

    hops: int


class RingMember:
    """Passes every token on to the next member one nanosecond later."""

    def __init__(self, next_name: str, counter: list[int], limit: int) -> None:
        self.next_name = next_name
        self.counter = counter
        self.limit = limit

    def handle(self, message: object, now_ns: int) -> Sequence[Send] | None:
        self.counter[0] += 1
        if self.counter[0] >= self.limit:
            return None
        return (Send(self.next_name, message, 1),)


def mintactors_ring(actors: int, messages: int, tokens: int) -> float:
    counter = [0]
    sim = Simulation(seed=1)
    for i in range(actors):
        sim.add_actor(f"a{i}", RingMember(f"a{(i + 1) % actors}", counter, messages))
    for k in range(tokens):
        sim.post(f"a{k % actors}", Token(0))
    start = time.perf_counter()
    trio.run(sim.run)
    elapsed = time.perf_counter() - start
    return counter[0] / elapsed


def simpy_ring(actors: int, messages: int, tokens: int) -> float:
    env = simpy.Environment()
    stores = [simpy.Store(env) for _ in range(actors)]
    counter = [0]

    def member(i: int):  # type: ignore[no-untyped-def]
        inbox, outbox = stores[i], stores[(i + 1) % actors]
        while True:
            message = yield inbox.get()
            counter[0] += 1
            if counter[0] >= messages:
                return
            yield env.timeout(1)
            outbox.put(message)

    for i in range(actors):
        env.process(member(i))
    for k in range(tokens):
        stores[k % actors].put(Token(0))
    start = time.perf_counter()
    env.run()
    elapsed = time.perf_counter() - start
    return counter[0] / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=8)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--tokens", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ours, theirs = [], []
    for _ in range(args.repeat):  # interleave so machine noise hits both alike
        ours.append(mintactors_ring(args.actors, args.messages, args.tokens))
        theirs.append(simpy_ring(args.actors, args.messages, args.tokens))
    m, s = statistics.median(ours), statistics.median(theirs)
    print(
        f"ring: {args.actors} actors, {args.messages} messages, {args.tokens} token(s), "
        f"median of {args.repeat}"
    )
    print(f"mintactors: {m:,.0f} msgs/s")
    print(f"simpy:      {s:,.0f} msgs/s")
    print(f"ratio={m / s:.2f}")


if __name__ == "__main__":
    main()
