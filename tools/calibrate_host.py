"""Measure this machine's memory-copy curve and system-call cost; write a cost profile.

    python tools/calibrate_host.py [--out host-profile.toml] [--name host]
                                   [--base paper-2014] [--repeat 9]

The profile it writes can be named by any config (a path is resolved relative to
the config file):

    [costs]
    profile = "host-profile.toml"

What is measured and what is copied from the base profile: see
``mintactors.costs.host.py`` and ``docs/paper.md``. A measurement no real copy
could give (faster than a plausible bound: the machine was too busy, or the copy
stayed in a cache) is refused: the tool says which figure, exits 2 and writes no
profile. The profile is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from mintactors.costs import load_profile
from mintactors.costs.host import (
    DEFAULT_SIZES,
    ImplausibleMeasurement,
    host_profile_toml,
    measure_host,
)


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (a temporary file renamed into place)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--out", default="host-profile.toml", help="profile file to write")
    parser.add_argument("--name", default="host", help="the profile's name")
    parser.add_argument("--base", default="paper-2014", help="profile for unmeasured costs")
    parser.add_argument("--repeat", type=int, default=9, help="batches per figure (fastest)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, not {args.repeat}")
    measured = measure_host(DEFAULT_SIZES, args.repeat)
    try:
        text = host_profile_toml(measured, args.name, args.base)
    except ImplausibleMeasurement as exc:
        print(f"calibrate_host: refused, no profile written: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    try:
        _write(out, text)
    except OSError as exc:
        print(f"calibrate_host: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
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
