"""``mintactors new-driver NAME [-o FILE]``: write a driver file to start from.

The file is :mod:`mintactors.kernel.drivers.template` (type-checked and tested with
the package, so what it writes always runs) with the class and driver named
after NAME: ``my_rx`` gives class ``MyRx`` in ``my_rx.py``. An existing file is
never overwritten.
"""

from __future__ import annotations

import argparse
import re
from importlib.resources import files
from pathlib import Path
from typing import Any

from mintactors.errors import ConfigError

__all__ = ["add_commands", "class_name", "cmd_new_driver", "driver_source"]

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")

#: Names the template imports or defines; a class named so would shadow one.
_TAKEN = frozenset(
    {"ClassVar", "CLEAN_STEPS", "Code", "DriverContext", "IrqReturn", "RxDescriptor", "RxDriver"}
)


def class_name(name: str) -> str:
    """The class for driver ``name``: its words, capitalised and joined (``my_rx`` -> ``MyRx``).

    Raises:
        ConfigError: a name that is not letters, digits, ``_`` and ``-`` starting with a
            letter, or whose class would shadow a name the file imports.
    """
    if not _NAME.fullmatch(name):
        raise ConfigError(
            "NAME",
            name,
            "must be letters, digits, '_' and '-', starting with a letter "
            "(the file is NAME.py unless -o says otherwise)",
        )
    cls = "".join(word[:1].upper() + word[1:] for word in re.split(r"[-_]+", name) if word)
    if cls in _TAKEN:
        raise ConfigError("NAME", name, f"its class {cls} would shadow a name the file imports")
    return cls


def driver_source(name: str, file_name: str) -> str:
    """The template with its class, driver name and config line made ``name``'s."""
    template = files("mintactors.kernel.drivers").joinpath("template.py").read_text("utf-8")
    cls = class_name(name)
    return (
        template.replace("TemplateRx", cls)
        .replace('"template-rx"', f'"{name}"')
        .replace("template_rx.py", file_name)
    )


def cmd_new_driver(args: argparse.Namespace) -> int:
    """``mintactors new-driver``: write a commented driver file that runs as it is."""
    name: str = args.name
    path = Path(args.output) if args.output else Path(f"{name}.py")
    text = driver_source(name, path.as_posix())
    try:
        # "x": create, never overwrite, even if the file appears meanwhile.
        stream = path.open("x", encoding="utf-8")
    except FileExistsError:
        raise ConfigError(str(path), "", "exists; not overwriting it (choose another -o)") from None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot be written: {exc.strerror or exc}") from None
    try:
        with stream:
            stream.write(text)
    except OSError as exc:
        path.unlink(missing_ok=True)  # ours, and half-written
        raise ConfigError(str(path), "", f"cannot be written: {exc.strerror or exc}") from None
    cls = class_name(name)
    print(f"wrote {path}: driver class {cls}")
    print("run it from a config in this directory with (the path is from the config's):")
    print(f'  [driver]\n  kind = "{path.as_posix()}:{cls}"')
    return 0


def add_commands(subparsers: Any) -> None:
    """Add ``new-driver``."""
    help_text = "write a commented receive driver to start from (it runs as it is)"
    parser = subparsers.add_parser("new-driver", help=help_text, description=help_text)
    parser.add_argument("name", help="the driver's name, e.g. my_rx (class MyRx)")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="where to write it (default: NAME.py here)"
    )
    parser.set_defaults(func=cmd_new_driver)
