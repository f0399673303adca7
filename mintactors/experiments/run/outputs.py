"""Output files written atomically: under temporary names, renamed into place on success.

A command that writes into a directory *owns* it while it runs:

* the directory is created if need be, and removed again if the command fails or is
  interrupted and created it (with every directory above it that it created);
* a lock file (``.mintactors.lock``, held with ``flock``) refuses a second command
  writing into the same directory at the same time; the kernel drops the lock if
  the process dies, so a killed run never leaves a directory locked;
* every file is written under a temporary name and renamed into place only when
  the whole command succeeded, so a failed or interrupted command leaves no
  half-written ``results.json`` or ``trace.jsonl`` and no temporary file;
* on success, the outputs the command *owns* (its known output names) that it did
  not write this time are removed, so a rerun never leaves a stale ``trace.jsonl``
  beside a fresh ``results.json``.

Every failure to create, write or rename is an :class:`OutputError` naming the path
and the operating system's reason (a read-only file system, a full disk, a file
where a directory should be), which the command line reports in one line (exit 2).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from mintactors.errors import MintactorsError

__all__ = [
    "LOCK_NAME",
    "DirectoryLock",
    "OutputError",
    "atomic_outputs",
    "claimed_directory",
    "make_directory",
    "prune_outputs",
    "write_json",
]

#: The lock file a command holds in the directory it writes.
LOCK_NAME = ".mintactors.lock"


class OutputError(MintactorsError):
    """An output file or directory cannot be created or written.

    Attributes:
        path: the file or directory at fault.
        reason: the operating system's reason (``No space left on device``).
    """

    def __init__(self, path: Path | str, reason: OSError | str) -> None:
        if isinstance(reason, OSError):
            reason = reason.strerror or str(reason)
        super().__init__(f"cannot write {path}: {reason}")
        self.path = str(path)
        self.reason = reason


def write_json(stream: IO[str], data: Any) -> None:
    """Write ``data`` as stable JSON (sorted keys, two-space indent, final newline)."""
    json.dump(data, stream, indent=2, sort_keys=True)
    stream.write("\n")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def make_directory(directory: Path) -> list[Path]:
    """Create ``directory`` and its missing parents; return those created, outermost first.

    Raises:
        OutputError: a path component is a file, or the directory cannot be created.
    """
    missing: list[Path] = []
    probe = directory
    try:
        while not probe.is_dir():
            if probe.exists() or probe.is_symlink():
                what = "a file" if probe.is_file() else "not a directory"
                raise OutputError(directory, f"{os.strerror(errno.ENOTDIR)} ({probe} is {what})")
            missing.append(probe)
            if probe.parent == probe:
                break
            probe = probe.parent
    except OSError as exc:
        raise OutputError(probe, exc) from None
    created: list[Path] = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            if not path.is_dir():
                raise OutputError(directory, f"{path} is not a directory") from None
            continue  # another process made it meanwhile: not ours to remove
        except OSError as exc:
            remove_created(created)
            raise OutputError(path, exc) from None
        created.append(path)
    return created


def remove_created(created: Iterable[Path]) -> None:
    """Remove directories :func:`make_directory` created, innermost first, if empty."""
    for path in reversed(list(created)):
        with contextlib.suppress(OSError):
            path.rmdir()


class DirectoryLock:
    """An exclusive ``flock`` on ``directory/.mintactors.lock``, released by :meth:`release`.

    The lock file is removed on release. A process that opened it just before has
    the unlinked file, not the directory's, so :meth:`acquire` checks after locking
    that the path still names the file it locked, and tries again if not.
    """

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def acquire(cls, directory: Path) -> DirectoryLock:
        """Lock ``directory`` for this process.

        Raises:
            OutputError: another process holds the lock, or the file cannot be made.
        """
        path = directory / LOCK_NAME
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise OutputError(directory, exc) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _read_holder(fd)
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise OutputError(
                        directory,
                        f"another mintactors command{holder} is writing there "
                        f"(it holds {path}); wait for it or choose another --out",
                    ) from None
                raise OutputError(path, exc) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the holder removed it as we opened it: lock the new one
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        return cls(path, fd)

    def release(self) -> None:
        """Remove the lock file and drop the lock."""
        if self._fd < 0:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = -1


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (process {text})" if text.isdigit() else ""


@contextlib.contextmanager
def claimed_directory(directory: Path) -> Iterator[Path]:
    """Create and lock ``directory`` for one command; undo what it created if unused.

    When the block ends (however it ends) the directories created here are removed
    again if nothing was left in them.

    Raises:
        OutputError: the directory cannot be created, or another command holds it.
    """
    created = make_directory(directory)
    try:
        lock = DirectoryLock.acquire(directory)
    except BaseException:
        remove_created(created)
        raise
    try:
        yield directory
    finally:
        lock.release()
        remove_created(created)


def prune_outputs(directory: Path, owned: Iterable[str], written: Iterable[str]) -> None:
    """Remove the outputs in ``owned`` that this command did not write (``written``).

    Names are relative to ``directory``; a directory name is removed with what is in it.

    Raises:
        OutputError: a stale output cannot be removed.
    """
    keep = set(written)
    for name in owned:
        if name in keep:
            continue
        path = directory / name
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
        except OSError as exc:
            raise OutputError(
                path, f"cannot remove the stale output: {exc.strerror or exc}"
            ) from None


class _Guarded:
    """A file stream whose write failures become :class:`OutputError` naming the file.

    A write can fail in the middle of a run (the trace's buffer filling a full disk);
    the error then says which output it was, whatever code was writing.
    """

    def __init__(self, stream: IO[Any], path: Path) -> None:
        self._stream = stream
        self._path = path

    def write(self, data: Any) -> int:
        try:
            return self._stream.write(data)
        except OSError as exc:
            raise OutputError(self._path, exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise OutputError(self._path, exc) from None

    def close(self) -> None:
        try:
            self._stream.close()
        except OSError as exc:
            raise OutputError(self._path, exc) from None

    def __enter__(self) -> _Guarded:
        return self

    def __exit__(self, *exc: object) -> None:
        # Closed early, the file still becomes its final name only when the whole
        # block succeeds (closing again then is harmless).
        self.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class atomic_outputs:
    """Open output files under temporary names; rename them into place on success.

    Args:
        directory: where :meth:`open` puts files (None: only :meth:`open_binary`).
        owned: names in ``directory`` this command owns: any of them it did not write
            this time is removed on success (stale outputs of an earlier run).
        lock: hold ``directory``'s lock (refusing a second command there) until done.

    Raises:
        OutputError: on entering, writing or leaving: a directory or file that
            cannot be created or written, naming the path and the reason.
    """

    def __init__(
        self, directory: Path | None, *, owned: Iterable[str] = (), lock: bool = False
    ) -> None:
        self.directory = directory
        self._owned = tuple(owned)
        self._lock_wanted = lock
        self._lock: DirectoryLock | None = None
        self._created: list[Path] = []
        self._files: list[tuple[IO[Any], Path | None, Path]] = []

    def open(self, name: str) -> IO[str]:
        """A text stream that becomes ``directory/name`` if the block succeeds."""
        assert self.directory is not None
        final = self.directory / name
        fd, tmp = self._temporary(final)
        stream = os.fdopen(fd, "w", encoding="utf-8", buffering=1 << 20)
        guarded: Any = _Guarded(stream, final)
        self._files.append((guarded, tmp, final))
        return guarded  # type: ignore[no-any-return]

    def open_binary(self, path: Path, *, create_parent: bool = False) -> IO[bytes]:
        """A binary stream that becomes ``path`` (in any directory) if the block succeeds.

        The directory must exist unless ``create_parent`` (then it is made, and
        removed again if the block fails): a run's ``--pcap`` with a mistyped
        directory is refused rather than created. A path that exists and is not a
        regular file (a FIFO, ``/dev/null``) is written directly: renaming over it
        would replace the device or pipe with a file.

        Raises:
            OutputError: the directory does not exist, or the file cannot be created.
        """
        if _is_special(path):
            try:
                direct = path.open("wb")
            except OSError as exc:
                raise OutputError(path, exc) from None
            special: Any = _Guarded(direct, path)
            self._files.append((special, None, path))
            return special  # type: ignore[no-any-return]
        parent = path.parent
        if create_parent:
            self._created += make_directory(parent)
        elif not parent.is_dir():
            what = "is not a directory" if parent.exists() else "does not exist"
            raise OutputError(path, f"the directory {parent} {what} (it is not created)")
        fd, tmp = self._temporary(path)
        stream = os.fdopen(fd, "wb", buffering=1 << 20)
        guarded: Any = _Guarded(stream, path)
        self._files.append((guarded, tmp, path))
        return guarded  # type: ignore[no-any-return]

    @staticmethod
    def _temporary(final: Path) -> tuple[int, Path]:
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
        except OSError as exc:
            raise OutputError(final, exc) from None
        os.fchmod(fd, 0o666 & ~_umask())
        return fd, Path(tmp)

    def __enter__(self) -> atomic_outputs:
        if self.directory is not None:
            self._created = make_directory(self.directory)
            if self._lock_wanted:
                try:
                    self._lock = DirectoryLock.acquire(self.directory)
                except BaseException:
                    remove_created(self._created)
                    raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        failure: OutputError | None = None
        for stream, _, _ in self._files:
            try:
                stream.close()
            except OutputError as exc:
                failure = failure or exc
        succeeded = kind is None and failure is None
        try:
            if succeeded:
                failure = self._commit()
            if not succeeded or failure is not None:
                self._discard()
        finally:
            if self._lock is not None:
                self._lock.release()
            if not succeeded or failure is not None:
                remove_created(self._created)
        if kind is None and failure is not None:
            raise failure

    def _commit(self) -> OutputError | None:
        written: list[str] = []
        for index, (_, tmp, final) in enumerate(self._files):
            if tmp is None:
                continue
            try:
                tmp.replace(final)
            except OSError as exc:
                self._files = self._files[index:]
                return OutputError(final, exc)
            if self.directory is not None and final.parent == self.directory:
                written.append(final.name)
        self._files = []
        if self.directory is not None and self._owned:
            try:
                prune_outputs(self.directory, self._owned, written)
            except OutputError as exc:
                return exc
        return None

    def _discard(self) -> None:
        for _, tmp, _ in self._files:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    tmp.unlink()
        self._files = []


def _is_special(path: Path) -> bool:
    """Whether ``path`` exists and is not a regular file (following symlinks)."""
    try:
        return not stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False
