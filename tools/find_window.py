"""Where a two-frame regression config's race window lies: re-pin it after a model change.

    python tools/find_window.py configs/scenarios/my-rx-regression.toml --from 13000 --to 14000

A regression config (``my-rx-regression.toml``, ``lost-wakeup-regression.toml``)
sends frames at a ``list`` of instants aimed at a window a few tens of
nanoseconds wide. A change to the model's timing moves the window; this runs the
config with the last instant at every nanosecond in ``--from .. --to`` and prints
the instants at which an oracle is violated under ``fifo``, as ranges, then, for
each range's two ends, in how many of ``--seeds`` seeds ``random`` and ``pct`` find
it (the ends are ties, decided by the policy). Aim the config at a range's middle.
Extra ``--set KEY=VALUE`` overrides apply to every run.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

from mintactors.config import load_config
from mintactors.experiments.run import record_run


def violated(config: Path, instants: list[int], policy: str, seed: int, extra: list[str]) -> bool:
    """Whether any oracle is violated with these instants, policy and seed."""
    assignments = [
        *extra,
        f"generator.instants_ns={instants}",
        f'simulation.policy="{policy}"',
        f"simulation.seed={seed}",
    ]
    return record_run(load_config(config, assignments), None).first is not None


def ranges(values: list[int]) -> list[tuple[int, int]]:
    """Consecutive integers as (first, last) ranges."""
    out: list[tuple[int, int]] = []
    for value in values:
        if out and value == out[-1][1] + 1:
            out[-1] = (out[-1][0], value)
        else:
            out.append((value, value))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("config", type=Path)
    parser.add_argument("--from", dest="start", type=int, required=True, help="first instant")
    parser.add_argument("--to", dest="stop", type=int, required=True, help="last instant")
    parser.add_argument("--seeds", type=int, default=20, help="seeds tried at each end")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    earlier = tomllib.loads(args.config.read_text())["generator"]["instants_ns"][:-1]
    failing = [
        x
        for x in range(args.start, args.stop + 1)
        if violated(args.config, [*earlier, x], "fifo", 1, args.set)
    ]
    if not failing:
        print("no violation under fifo in that range")
        return
    for first, last in ranges(failing):
        print(f"window under fifo: {first} .. {last} ({last - first + 1} ns)")
        for end in sorted({first - 1, first, last, last + 1}):
            found = {
                policy: sum(
                    violated(args.config, [*earlier, end], policy, seed, args.set)
                    for seed in range(1, args.seeds + 1)
                )
                for policy in ("random", "pct")
            }
            print(
                f"  {end}: found by random in {found['random']}, pct in {found['pct']} "
                f"of {args.seeds} seeds"
            )


if __name__ == "__main__":
    main()
