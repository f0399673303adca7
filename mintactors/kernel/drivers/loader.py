"""Drivers by name: the built-ins' registry, and a user's driver loaded from a file.

``driver.kind`` is a built-in's name (``paper``), ``path/to/file.py:Class`` (a path
relative to the config's directory), or ``package.module:Class`` (an importable
module). A driver class must subclass :class:`~mintactors.kernel.drivers.base.RxDriver`
and implement ``interrupt`` (and ``poll``, if it uses NAPI).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import sys
import traceback
import types
from pathlib import Path

import attrs

from mintactors.errors import MintactorsError
from mintactors.kernel.drivers.base import RxDriver
from mintactors.registry import Registry

__all__ = ["DRIVERS", "DriverLoadError", "DriverSource", "load_driver"]

#: The built-in drivers by name, in the order they are documented.
DRIVERS: Registry[type[RxDriver]] = Registry("driver")


class DriverLoadError(MintactorsError):
    """A ``driver.kind`` that names no usable driver, and why."""


@attrs.frozen
class DriverSource:
    """Where a driver came from: a built-in, a module, or a file (with its contents).

    Attributes:
        kind: ``driver.kind`` as written.
        cls: the driver class.
        path: the file it was loaded from (as written in ``kind``), for a file.
        content: that file's bytes (they go into the trace header for replays).
    """

    kind: str
    cls: type[RxDriver]
    path: str | None = None
    content: bytes | None = None

    @property
    def sha256(self) -> str | None:
        """The file's digest, for a driver loaded from a file."""
        return hashlib.sha256(self.content).hexdigest() if self.content is not None else None

    def describe(self) -> str:
        """Which driver this is, in a few words (``mintactors check`` prints it)."""
        if DRIVERS.get(self.kind) is self.cls:
            return f"{self.kind} (built-in)"
        if self.path is not None:
            digest = self.sha256 or ""
            return f"class {self.cls.__name__} from file {self.path} (sha256 {digest[:12]})"
        module = self.kind.rpartition(":")[0]
        return f"class {self.cls.__name__} from module {module}"


def _check_class(cls: object, where: str) -> type[RxDriver]:
    """``cls`` is a driver the shell can run: the methods it calls are driver code."""
    if not isinstance(cls, type) or not issubclass(cls, RxDriver):
        raise DriverLoadError(f"{where} is not a driver class (a subclass of RxDriver)")
    if cls.interrupt is RxDriver.interrupt:
        raise DriverLoadError(f"{where} does not implement interrupt(self, ctx)")
    if cls.napi and cls.poll is RxDriver.poll:
        raise DriverLoadError(f"{where} uses NAPI (napi = True) but does not implement poll")
    called = ("configure", "interrupt", *(("poll",) if cls.napi else ()))
    for method in called:
        # The shell drives these with send(); a plain function would fail only when
        # the first interrupt comes, far from its cause.
        if not inspect.isgeneratorfunction(getattr(cls, method)):
            raise DriverLoadError(
                f"{where}: {method} must be a generator function "
                "(driver code waits with `yield from ctx....`; see docs/drivers.md)"
            )
    if not isinstance(cls.steps, tuple) or not all(isinstance(s, str) for s in cls.steps):
        raise DriverLoadError(f"{where}: steps must be a tuple of step names")
    return cls


def _line_in(exc: BaseException, filename: str) -> str:
    """``:N`` for the innermost line of ``filename`` in ``exc``'s traceback, or nothing."""
    found = [
        line
        for frame, line in traceback.walk_tb(exc.__traceback__)
        if frame.f_code.co_filename == filename
    ]
    return f":{found[-1]}" if found else ""


def _module_from_file(path: Path, content: bytes, display: str) -> types.ModuleType:
    # One module per file and contents: the same bytes at another path are another
    # module, so a crash names the file that actually ran.
    digest = hashlib.sha256(str(path).encode() + b"\0" + content).hexdigest()[:16]
    name = f"mintactors_driver_{digest}"
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    try:
        code = compile(content, str(path), "exec")
    except SyntaxError as exc:
        raise DriverLoadError(f"{display}:{exc.lineno}: syntax error: {exc.msg}") from None
    module = types.ModuleType(name)
    module.__file__ = str(path)
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)
    except Exception as exc:
        del sys.modules[name]
        line = _line_in(exc, str(path))
        raise DriverLoadError(
            f"{display}{line}: {type(exc).__name__} while loading: {exc}"
        ) from None
    return module


def load_driver(
    kind: str, base_dir: Path | None = None, content: bytes | None = None
) -> DriverSource:
    """The driver ``kind`` names.

    Args:
        kind: a built-in's name, ``file.py:Class`` or ``package.module:Class``.
        base_dir: what a relative file path is relative to (the config's directory).
        content: the file's bytes, when they come from somewhere else (a trace).

    Raises:
        DriverLoadError: no such built-in, file, module or class, a syntax error, or a
            class that is not a driver.
    """
    builtin = DRIVERS.get(kind)
    if builtin is not None:
        return DriverSource(kind, builtin)
    where, sep, class_name = kind.rpartition(":")
    if not sep or not where or not class_name:
        raise DriverLoadError(
            f"{DRIVERS.unknown(kind)}, or a file or module and a class: "
            "'drivers/my_rx.py:MyRx' or 'package.module:MyRx'"
        )
    if where.endswith(".py"):
        path = Path(where)
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        if content is None:
            try:
                content = path.read_bytes()
            except OSError as exc:
                raise DriverLoadError(f"{where}: cannot be read: {exc.strerror or exc}") from None
        module = _module_from_file(path, content, where)
        cls = getattr(module, class_name, None)
        if cls is None:
            raise DriverLoadError(f"{where} defines no class {class_name!r}")
        return DriverSource(kind, _check_class(cls, f"{where}:{class_name}"), where, content)
    try:
        imported = importlib.import_module(where)
    except ImportError as exc:
        raise DriverLoadError(f"module {where!r} cannot be imported: {exc}") from None
    except SyntaxError as exc:
        raise DriverLoadError(
            f"module {where!r}: {exc.filename}:{exc.lineno}: syntax error: {exc.msg}"
        ) from None
    except Exception as exc:
        raise DriverLoadError(
            f"module {where!r}: {type(exc).__name__} while importing: {exc}"
        ) from None
    cls = getattr(imported, class_name, None)
    if cls is None:
        raise DriverLoadError(f"module {where!r} defines no class {class_name!r}")
    return DriverSource(kind, _check_class(cls, kind))
