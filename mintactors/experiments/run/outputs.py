"""Output files written atomically: under temporary names, renamed into place on success.

A failed or interrupted run leaves no half-written ``results.json`` or
``trace.jsonl`` behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_outputs", "write_json"]


def write_json(stream: IO[str], data: Any) -> None:
    """Write ``data`` as stable JSON (sorted keys, two-space indent, final newline)."""
    json.dump(data, stream, indent=2, sort_keys=True)
    stream.write("\n")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class atomic_outputs:
    """Open output files under temporary names; rename them into place on success."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._files: list[tuple[IO[Any], Path | None, Path]] = []

    def open(self, name: str) -> IO[str]:
        """A text stream that becomes ``directory/name`` if the block succeeds."""
        assert self.directory is not None
        fd, tmp = self._temporary(self.directory / name)
        stream = os.fdopen(fd, "w", encoding="utf-8", buffering=1 << 20)
        self._files.append((stream, tmp, self.directory / name))
        return stream

    def open_binary(self, path: Path) -> IO[bytes]:
        """A binary stream that becomes ``path`` (in any directory) if the block succeeds.

        A path that exists and is not a regular file (a FIFO, ``/dev/null``) is written
        directly: renaming over it would replace the device or pipe with a file.
        """
        if _is_special(path):
            direct = path.open("wb")
            self._files.append((direct, None, path))
            return direct
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = self._temporary(path)
        stream = os.fdopen(fd, "wb", buffering=1 << 20)
        self._files.append((stream, tmp, path))
        return stream

    @staticmethod
    def _temporary(final: Path) -> tuple[int, Path]:
        fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        os.fchmod(fd, 0o666 & ~_umask())
        return fd, Path(tmp)

    def __enter__(self) -> atomic_outputs:
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        for stream, _, _ in self._files:
            stream.close()
        for _, tmp, final in self._files:
            if tmp is None:
                continue
            if kind is None:
                tmp.replace(final)
            else:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()


def _is_special(path: Path) -> bool:
    """Whether ``path`` exists and is not a regular file (following symlinks)."""
    try:
        return not stat.S_ISREG(path.stat().st_mode)
    except FileNotFoundError:
        return False
