"""What every subcommand shares: the parser class, config arguments, progress bars."""

from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

from mintactors.config import Config, load_config

__all__ = ["Parser", "add_config_arguments", "add_driver_trust_arguments", "load_from_args"]


_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")


def plain(text: str) -> str:
    """Help text without the reStructuredText markup its docstrings use.

    ``double backticks`` and roles such as :func:`name` read well in the API docs
    and as noise in a terminal.
    """
    return _ROLE.sub(lambda m: m.group(1).rsplit(".", 1)[-1], text).replace("``", "")


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors exit 2 with one line, as bad input does.

    Its help is plain text: descriptions taken from docstrings lose their markup.
    """

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"mintactors: error: {message}\n")

    def format_help(self) -> str:
        """The help, in plain text."""
        return plain(super().format_help())

    def format_usage(self) -> str:
        """The usage line, in plain text."""
        return plain(super().format_usage())


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """The CONFIG argument and ``--set`` that every config-taking command has."""
    parser.add_argument("config", help="experiment config (TOML)")
    parser.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set generator.count=500 (repeatable)",
    )


def add_driver_trust_arguments(parser: argparse.ArgumentParser) -> None:
    """``--trust`` and ``--driver FILE``: what a rerun of a trace may execute of its driver."""
    parser.add_argument(
        "--trust",
        action="store_true",
        help="run the driver code the trace embeds (a trace from someone else is their code)",
    )
    parser.add_argument(
        "--driver",
        metavar="FILE",
        help="run this local driver file, if its sha256 is that of the driver the trace ran",
    )


def load_from_args(args: argparse.Namespace) -> Config:
    """Load ``args.config`` with ``--set`` and the --seed/--trace/--until shortcuts."""
    assignments = list(args.set or [])
    if getattr(args, "seed", None) is not None:
        assignments.append(f"simulation.seed={args.seed}")
    if getattr(args, "trace", None) is not None:
        assignments.append(f'simulation.trace="{args.trace}"')
    if getattr(args, "until", None) is not None:
        assignments.append(f"simulation.until_ns={args.until}")
    return load_config(args.config, assignments)
