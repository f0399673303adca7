"""Run one experiment from a config and write its outputs atomically.

Outputs go to temporary names in the output directory and are renamed into place
only once the run and its accounting have succeeded, so a failed or interrupted run
leaves no half-written ``results.json`` or ``trace.jsonl`` behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import attrs

from mintactors.config import Config
from mintactors.experiments.oracles import OracleMonitor
from mintactors.experiments.results import collect_results
from mintactors.machine import Machine, build_machine

__all__ = ["RunOutcome", "atomic_outputs", "run_config", "write_json"]


@attrs.frozen
class RunOutcome:
    """A finished run: its results record, the machine, and the files written."""

    results: dict[str, Any]
    machine: Machine
    paths: dict[str, Path]


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


def _config_echo(config: Config) -> dict[str, Any]:
    echo: dict[str, Any] = json.loads(json.dumps(dict(config.raw), default=str))
    return echo


def run_config(
    config: Config,
    out_dir: Path | None = None,
    *,
    progress: Callable[[Machine, int], None] | None = None,
    instants: Iterator[int] | None = None,
    extra_outputs: Callable[[atomic_outputs, Machine], None] | None = None,
) -> RunOutcome:
    """Build the machine, run it, account for every packet and write the outputs.

    Args:
        config: the experiment.
        out_dir: where ``results.json`` and ``trace.jsonl`` go (None: nowhere).
        progress: called now and then with the machine and the virtual time.
        instants: planned send times overriding the config's fixed interval.
        extra_outputs: hook to open more output files before the run.

    Raises:
        ActorCrashed: a component failed.
        AccountingError: the packets do not add up.
    """
    paths: dict[str, Path] = {}
    with atomic_outputs(out_dir) as outputs:
        trace_stream = None
        if out_dir is not None and config.simulation.trace != "off":
            trace_stream = outputs.open("trace.jsonl")
            paths["trace"] = out_dir / "trace.jsonl"
        echo = _config_echo(config)
        machine = build_machine(config, trace_stream, {"config": echo}, instants)
        if extra_outputs is not None:
            extra_outputs(outputs, machine)
        hook = (lambda t: progress(machine, t)) if progress is not None else None
        oracles = OracleMonitor(machine, config.oracles.stranded_bound_ns)
        run = machine.simulation.run_sync(
            until_ns=config.simulation.until_ns, progress=hook, stop_when=oracles
        )
        results = collect_results(machine, run)
        oracles.finish(run)
        results["oracles"] = oracles.report()
        results["config"] = echo
        if out_dir is not None:
            write_json(outputs.open("results.json"), results)
            paths["results"] = out_dir / "results.json"
    return RunOutcome(results, machine, paths)
