"""Replay: rerun a trace's run from its header and check the new trace is the same.

A trace header (its first line) carries the mintactors version, the seed, the
tie-break policy, the whole config as run (``--set`` overrides included) and, in
``replay_files``, the contents of every file the config names (a capture, a cost
profile file), so a trace alone is enough to rerun. The files are put back in a
temporary directory at the relative paths the config gives; the config is loaded
from there under its original name, run, and the new trace is compared with the
old one line by line.

A trace is data that may come from someone else, and a driver loaded from a file
is code: the header carries that file too, but a rerun executes it only when the
caller trusts it (``trust``) or names a local file with the same SHA-256
(``driver_file``), and then it runs exactly those bytes. A driver named as an
importable module is imported only with ``trust``. Everything else is refused
with :class:`UntrustedDriver`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from mintactors._version import __version__
from mintactors.config import Config, parse_config
from mintactors.errors import ConfigError
from mintactors.experiments.run import record_run
from mintactors.kernel.drivers import DRIVERS

__all__ = [
    "Divergence",
    "ReplayOutcome",
    "UntrustedDriver",
    "read_header",
    "replay_config",
    "replay_trace",
]

#: The ``replay_files`` key of a driver loaded from a file.
DRIVER_KEY = "driver.kind"


class UntrustedDriver(ConfigError):
    """A trace names driver code that the caller has not allowed to run."""


@attrs.frozen
class Divergence:
    """The first line where two traces differ (1-based); ``None`` past a trace's end."""

    line: int
    recorded: str | None
    replayed: str | None


@attrs.frozen
class ReplayOutcome:
    """A replay's verdict: identical, or where it first diverged."""

    lines: int
    divergence: Divergence | None
    new_trace: Path
    version_note: str

    @property
    def identical(self) -> bool:
        """True when the new trace is byte for byte the recorded one."""
        return self.divergence is None


def read_header(path: Path) -> dict[str, Any]:
    """The trace header of the trace at ``path``.

    Raises:
        ConfigError: no file, not a trace, or a header without a config.
    """
    source = str(path)
    try:
        with path.open(encoding="utf-8") as stream:
            first = stream.readline()
    except OSError as exc:
        raise ConfigError(source, "", f"cannot be read: {exc.strerror or exc}") from None
    try:
        header = json.loads(first)
    except json.JSONDecodeError:
        raise ConfigError(
            source, "", "is not a mintactors trace (first line is not JSON)"
        ) from None
    if not isinstance(header, dict) or header.get("kind") != "trace_header":
        raise ConfigError(source, "", "is not a mintactors trace (no trace_header first line)")
    for key in ("config", "config_source"):
        if key not in header:
            raise ConfigError(source, key, "is missing from the trace header; cannot replay")
    return header


def _leading_parents(path: str) -> int:
    parts = Path(os.path.normpath(path)).parts
    return next((i for i, part in enumerate(parts) if part != ".."), len(parts))


def _restore_files(header: dict[str, Any], root: Path, source: str) -> Path:
    """Write the header's files under ``root``; return the config's base directory."""
    records = header.get("replay_files", [])
    relative = [r for r in records if not Path(r["path"]).is_absolute()]
    depth = max((_leading_parents(r["path"]) for r in relative), default=0)
    base_dir = root.joinpath(*(["d"] * depth))
    base_dir.mkdir(parents=True, exist_ok=True)
    for record in records:
        if record.get("key") == DRIVER_KEY:
            continue  # code, not data: never written out; see _driver_files
        path = Path(record["path"])
        if path.is_absolute():
            target = path
            data = target.read_bytes() if target.is_file() else None
        else:
            target = Path(os.path.normpath(base_dir / path))
            content = record.get("content_b64")
            data = base64.b64decode(content) if content is not None else None
            if data is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        if data is None or hashlib.sha256(data).hexdigest() != record["sha256"]:
            raise ConfigError(
                source,
                record["key"],
                f"{record['path']}: the file the trace was recorded with is not available "
                "(not embedded in the header, and missing or changed on disk)",
            )
    return base_dir


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as stream:
        yield from stream


def _first_divergence(old: Path, new: Path) -> tuple[int, Divergence | None]:
    count = 0
    old_lines, new_lines = _lines(old), _lines(new)
    while True:
        a, b = next(old_lines, None), next(new_lines, None)
        if a is None and b is None:
            return count, None
        count += 1
        if a != b:
            return count, Divergence(count, a.rstrip("\n") if a else a, b.rstrip("\n") if b else b)


def _recorded_kind(header: dict[str, Any]) -> str:
    config = header["config"]
    driver = config.get("driver") if isinstance(config, dict) else None
    kind = driver.get("kind", "paper") if isinstance(driver, dict) else "paper"
    return kind if isinstance(kind, str) else "paper"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _driver_files(
    header: dict[str, Any], trace: str, trust: bool, driver_file: Path | None
) -> dict[str, bytes]:
    """The driver code a rerun may load, by ``driver.kind``; refuse what is not allowed.

    Raises:
        UntrustedDriver: the trace names driver code and neither ``trust`` nor a
            ``driver_file`` with the same digest allows it.
        ConfigError: ``driver_file`` unreadable, or the header lacks the driver's file.
    """
    kind = _recorded_kind(header)
    where, sep, _ = kind.rpartition(":")
    if DRIVERS.get(kind) is not None or not sep or not where:
        if driver_file is not None:
            raise ConfigError(
                "--driver", str(driver_file), f"the trace runs no driver file ({kind!r})"
            )
        return {}  # a built-in, or a kind parse_config refuses without running anything
    if not where.endswith(".py"):
        if driver_file is not None:
            raise ConfigError(
                "--driver",
                str(driver_file),
                f"the trace imports driver module {where!r}, not a file",
            )
        if not trust:
            raise UntrustedDriver(
                trace,
                DRIVER_KEY,
                f"the trace names driver module {where!r}; replaying imports and runs it: "
                "pass --trust to allow it",
            )
        return {}
    records = [r for r in header.get("replay_files", []) if r.get("key") == DRIVER_KEY]
    record = records[0] if records and records[0].get("path") == where else None
    if record is None:
        raise ConfigError(
            trace, DRIVER_KEY, f"names driver file {where} but the header does not carry it"
        )
    digest = str(record["sha256"])
    if driver_file is not None:
        try:
            data = driver_file.read_bytes()
        except OSError as exc:
            raise ConfigError("--driver", str(driver_file), exc.strerror or str(exc)) from None
        if _digest(data) != digest:
            raise UntrustedDriver(
                "--driver",
                str(driver_file),
                f"sha256 {_digest(data)[:16]}... is not that of the driver the trace ran "
                f"({where}, sha256 {digest[:16]}...); not running it",
            )
        return {kind: data}
    if not trust:
        raise UntrustedDriver(
            trace,
            DRIVER_KEY,
            f"the trace embeds driver code ({where}, sha256 {digest}); replaying runs it: "
            "pass --trust to run it, or --driver FILE naming a local copy with that sha256",
        )
    content = record.get("content_b64")
    if content is None:
        raise ConfigError(
            trace,
            DRIVER_KEY,
            f"the trace holds only the digest of driver file {where} (too large to embed); "
            "pass --driver FILE naming a local copy",
        )
    data = base64.b64decode(content)
    if _digest(data) != digest:
        raise ConfigError(trace, DRIVER_KEY, f"the embedded {where} does not match its sha256")
    return {kind: data}


def replay_config(
    header: dict[str, Any],
    root: Path,
    trace: Path,
    *,
    trust: bool = False,
    driver_file: Path | None = None,
) -> Config:
    """The config of a recorded run, with its files restored under ``root``.

    Every caller that re-executes a trace goes through here, so the driver-code
    check below guards them all.

    Args:
        header: the trace's header (:func:`read_header`).
        root: an empty directory for the recorded data files.
        trace: the trace's path (for messages).
        trust: run driver code the trace embeds (or import the module it names).
        driver_file: a local file to run instead of the embedded driver; it must
            have the embedded driver's SHA-256.

    Raises:
        UntrustedDriver: the trace names driver code that is not allowed to run.
        ConfigError: files unavailable, or a config this version refuses.
    """
    source = str(header["config_source"])
    driver_files = _driver_files(header, str(trace), trust, driver_file)
    base_dir = _restore_files(header, root, str(trace))
    return parse_config(header["config"], source, base_dir, driver_files=driver_files)


def replay_trace(
    trace: Path,
    out_dir: Path | None = None,
    *,
    trust: bool = False,
    driver_file: Path | None = None,
) -> ReplayOutcome:
    """Rerun the run recorded in ``trace`` and compare the traces.

    Args:
        trace: the recorded trace.
        out_dir: where the new trace and results go (default: a temporary directory,
            removed afterwards unless the traces differ).
        trust: run the driver code the trace embeds, if any.
        driver_file: run this local driver file instead; its SHA-256 must be the
            embedded driver's.

    Raises:
        UntrustedDriver: the trace embeds driver code and neither ``trust`` nor a
            matching ``driver_file`` allows it to run.
        ConfigError: the trace cannot be replayed (not a trace, files unavailable,
            a config this version refuses).
    """
    header = read_header(trace)
    recorded_version = header.get("mintactors_version")
    note = ""
    if recorded_version != __version__:
        note = (
            f"recorded with mintactors {recorded_version}, replayed with {__version__}: "
            "a difference may come from the version"
        )
    with tempfile.TemporaryDirectory(prefix="mintactors-replay-") as scratch:
        config = replay_config(
            header, Path(scratch) / "files", trace, trust=trust, driver_file=driver_file
        )
        target = out_dir if out_dir is not None else Path(scratch) / "run"
        record_run(config, target)
        new_trace = target / "trace.jsonl"
        lines, divergence = _first_divergence(trace, new_trace)
        if divergence is not None and out_dir is None:
            kept = Path(tempfile.mkdtemp(prefix="mintactors-replay-diverged-"))
            new_trace = Path(new_trace.replace(kept / "trace.jsonl"))
    return ReplayOutcome(lines, divergence, new_trace, note)
