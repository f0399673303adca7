"""The ``mintactors`` command line.

Exit status: 0 success; 1 the simulation itself failed (a component crashed, or
packet accounting did not add up), or a run violated an oracle; 2 bad input (a
missing or malformed file, a bad key or value, a bad option) or an output that
cannot be written; 3 (``inspect``) a re-execution diverged from the recorded
trace; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).

Each subcommand lives in its own module with an ``add_commands(subparsers)``; this
module only puts them together and turns errors into messages and exit codes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from types import FrameType

from mintactors._version import __version__
from mintactors.cli import explore, inspect, new_driver, paper, run, sweep, trace
from mintactors.cli._common import Parser, add_config_arguments, load_from_args
from mintactors.errors import ConfigError, MintactorsError, SimulationError
from mintactors.experiments.run import RunInterrupted
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


class _Signals:
    """Turns SIGTERM into the interruption Ctrl-C is, and remembers which came."""

    def __init__(self) -> None:
        self.received: int = signal.SIGINT

    def on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        """Interrupt as SIGINT would: through the SIGINT handler in force.

        While a run is inside Trio that handler is Trio's, which raises the
        interrupt where it is safe to (never inside Trio's own bookkeeping); outside
        Trio it is Python's, which raises KeyboardInterrupt. Either way every
        clean-up written for Ctrl-C (temporary files, worker processes) runs.
        """
        self.received = signum
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
            return
        raise KeyboardInterrupt


@contextlib.contextmanager
def _sigterm_interrupts(signals: _Signals) -> Iterator[None]:
    """Install the SIGTERM handler for the command's duration (main thread only)."""
    try:
        previous = signal.signal(signal.SIGTERM, signals.on_sigterm)
    except ValueError:  # not the main thread (a test calling main): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupted_message(exc: KeyboardInterrupt, signum: int) -> str:
    verb = "terminated" if signum == signal.SIGTERM else "interrupted"
    where = f" at t = {exc.t_ns / 1000:.3f} us" if isinstance(exc, RunInterrupted) else ""
    return f"mintactors: {verb}{where}; no outputs written"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse, dispatch, turn errors into messages and exit codes."""
    parser = build_parser()
    args = parser.parse_args(argv)
    signals = _Signals()
    try:
        with _sigterm_interrupts(signals):
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
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, RunInterrupted) else signals.received
        print(_interrupted_message(exc, signum), file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except OSError as exc:
        # A file the command reads or writes that no check above foresaw: the
        # system's reason in one line is more use than a traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"mintactors: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
