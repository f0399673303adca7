"""Refit the ``paper-2014`` cost profile to the paper's Table 1 and Table 2 at 1.5 KB.

What is fitted and how: see ``mintactors/experiments/calibration.py`` and
``docs/paper.md``. The script rewrites ``mintactors/costs/profiles/paper-2014.toml``
(bumping its version when a value changes) and prints the fitted values and
Table 1 and the 1.5 KB point of Table 2 as the new profile reproduces them.

    python tools/calibrate_paper.py [--jobs N] [--check]

``--check`` fits and compares without writing; it exits 1 if the file differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mintactors.experiments.paper.calibration import calibrate, profile_toml
from mintactors.experiments.paper.measure import table1, table2
from mintactors.experiments.sweep.executors import LocalExecutor

PROFILE = (
    Path(__file__).resolve().parent.parent / "mintactors" / "costs" / "profiles" / "paper-2014.toml"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes")
    parser.add_argument("--check", action="store_true", help="compare only; do not write")
    args = parser.parse_args()
    with LocalExecutor(args.jobs) as executor:
        fitted = calibrate(executor)
        text, changed = profile_toml(PROFILE, fitted)
        for key, value in fitted.items():
            print(f"{key} = {value}")
        if args.check:
            print("profile is up to date" if not changed else "profile differs from the fit")
            return 1 if changed else 0
        if changed:
            PROFILE.write_text(text)
            print(f"wrote {PROFILE}")
        else:
            print(f"{PROFILE} already holds these values")
        print("\nwith the profile as written:")
        for row in table1(executor):
            print(
                f"  Table 1  {row.size_kb:>4} KB  paper {row.paper_us:.3f} us  "
                f"model {row.model_us:.4f} us  {row.rel_error:+.2%}  {row.role}"
            )
        for row in table2(executor):
            if row.role == "fitted":
                print(
                    f"  Table 2  {row.size_kb:>4} KB  paper {row.paper_gbps} Gb/s  "
                    f"model {row.model_gbps:.3f} Gb/s  {row.rel_error:+.2%}  {row.role}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
