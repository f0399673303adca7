"""The ``mintactors`` command line.

Exit status: 0 success; 1 the simulation itself failed (a component crashed, or
packet accounting did not add up); 2 bad input (a missing or malformed file, a bad
key or value, a bad option); 3 (``inspect``) a re-execution diverged from the
recorded trace.

Each subcommand lives in its own module with an ``add_commands(subparsers)``; this
module only puts them together and turns errors into messages and exit codes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from mintactors._version import __version__
from mintactors.cli import explore, inspect, new_driver, paper, run, sweep, trace
from mintactors.cli._common import Parser, add_config_arguments, load_from_args
from mintactors.errors import ConfigError, MintactorsError, SimulationError
from mintactors.plots import commands as plot

__all__ = ["add_config_arguments", "build_parser", "load_from_args", "main"]

#: The modules that add subcommands, in the order ``--help`` lists them.
_COMMANDS = (run, trace, sweep, paper, explore, inspect, plot, new_driver)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = Parser(prog="mintactors", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--version", action="version", version=f"mintactors {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in _COMMANDS:
        module.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, dispatch, turn errors into messages and exit codes."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # inside the try, so a closed pipe is caught below
        return code
    except ConfigError as exc:
        print(f"mintactors: error: {exc}", file=sys.stderr)
        return 2
    except SimulationError as exc:
        print(f"mintactors: simulation failed: {exc}", file=sys.stderr)
        return 1
    except MintactorsError as exc:
        print(f"mintactors: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mintactors: interrupted; no outputs written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
