"""Measure this machine's memory-copy curve and system-call cost; write a cost profile.

    python tools/calibrate_host.py [--out host-profile.toml] [--name host]
                                   [--base paper-2014] [--repeat 9]

The profile it writes can be named by any config (a path is resolved relative to
the config file):

    [costs]
    profile = "host-profile.toml"

What is measured and what is copied from the base profile: see
``mintactors.costs.host.py`` and ``docs/paper.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mintactors.costs import load_profile
from mintactors.costs.host import DEFAULT_SIZES, host_profile_toml, measure_host


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--out", default="host-profile.toml", help="profile file to write")
    parser.add_argument("--name", default="host", help="the profile's name")
    parser.add_argument("--base", default="paper-2014", help="profile for unmeasured costs")
    parser.add_argument("--repeat", type=int, default=9, help="batches per figure (fastest)")
    args = parser.parse_args()
    measured = measure_host(DEFAULT_SIZES, args.repeat)
    text = host_profile_toml(measured, args.name, args.base)
    out = Path(args.out)
    out.write_text(text)
    profile = load_profile(str(out.resolve()))
    print(f"{measured.machine}")
    print("memcpy:")
    for size, ns in profile.copy_points:
        print(f"  {size:>8} B  {ns:>7} ns  {size / ns:6.2f} GB/s")
    if measured.syscall_ns is not None:
        print(f"system call round trip: {measured.syscall_ns} ns")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
