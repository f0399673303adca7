"""Where in a driver's code something went wrong: one line naming its file and line.

A driver runs as generator code under the kernel shell, so a Python traceback
would end in the kernel's own files. These helpers name the innermost frame
outside them instead: the line of the driver that raised, or that asked for an
operation the kernel refused.
"""

from __future__ import annotations

import inspect
import traceback
from pathlib import Path
from typing import Any

from mintactors.errors import MintactorsError
from mintactors.kernel.drivers.ops import Code

__all__ = ["DriverCrash", "driver_crash", "located"]


class DriverCrash(MintactorsError):
    """The driver's code raised; names its file and line."""


#: The kernel's own files: a driver's crash is located in the innermost frame outside them.
_KERNEL_FILES = frozenset(
    str(Path(__file__).with_name(name))
    for name in ("shell.py", "context.py", "ops.py", "softnet.py", "crash.py")
)


def driver_crash(exc: Exception) -> DriverCrash:
    """A driver's exception as one line naming where in the driver's code it was raised."""
    where = ""
    for frame, line in traceback.walk_tb(exc.__traceback__):
        code = frame.f_code
        if code.co_filename not in _KERNEL_FILES:
            where = f"{code.co_filename}:{line} in {code.co_name}: "
    return DriverCrash(f"{where}{type(exc).__name__}: {exc}")


def located(gen: Code[Any], exc: DriverCrash) -> DriverCrash:
    """``exc`` prefixed with the driver's line that yielded the refused operation.

    The generators form a ``yield from`` chain; the innermost frame outside the
    kernel's own files is the driver's code that asked.
    """
    where = ""
    current: Any = gen
    while current is not None and inspect.isgenerator(current):
        frame = current.gi_frame
        if frame is not None and frame.f_code.co_filename not in _KERNEL_FILES:
            where = f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}: "
        current = current.gi_yieldfrom
    return DriverCrash(f"{where}{exc}") if where else exc
