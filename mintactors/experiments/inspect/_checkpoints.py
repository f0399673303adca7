"""Checkpoints: the whole machine saved now and then, so that a seek starts near its target.

Theory of operation
-------------------
Between two deliveries the machine is its components plus the runtime's queue,
and almost all of it is plain data that :mod:`pickle` can save: registers, rings,
queues, counters, random streams, the oracles' watches. Two things are not.

* **Driver code.** A driver's handler, its NAPI poll and ``__do_softirq`` run as
  Python generators that the kernel shell resumes; a generator's frame cannot be
  saved or copied. So a checkpoint is taken only at a *quiescent* moment, when no
  such code is under way: no hard IRQ, no softirq or ksoftirqd code and no probe
  in the shell (:func:`quiescent`). ``run --checkpoints N`` takes one at the first
  quiescent moment after every ``N`` deliveries. A driver that is never idle (a
  NAPI poll that never completes under overload) leaves long stretches with no
  checkpoint, and a seek into them starts from the last one before.
* **The timing pattern.** The generator draws its planned instants from a Python
  generator too. A checkpoint saves how many it has taken; a restore draws the
  same pattern again from the same seed and skips that many
  (:class:`~mintactors.machine.PlannedInstants`).

Everything that a fresh build makes the same way is not saved but taken from a
fresh build at restore time: the simulation itself (Trio channels and tasks), the
config, and observers that write files (a pcap recorder), which a restored run
does without. A restored run then continues from the saved queue and counters
exactly as the original did (:meth:`~mintactors.runtime.Simulation.restore`), and
``inspect`` checks that: the trace it writes from there must match the recorded
one line for line.

A checkpoint file is a pickle, and loading a pickle runs code, so a checkpoint
from elsewhere (a trace directory someone sent) must never be loaded. Each file is
signed with HMAC-SHA256 under a key kept on this machine (``checkpoint.key`` in
``$MINTACTORS_STATE_DIR``, default ``~/.cache/mintactors``, created on first use,
readable by its owner only), and a file whose signature does not verify is refused
before it is unpickled. Each set also records the trace header it belongs to and
a digest of the mintactors source it was written by; a set that matches neither
is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import pickle
import secrets
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import attrs

from mintactors._version import __version__
from mintactors.errors import MintactorsError
from mintactors.experiments.run import atomic_outputs
from mintactors.machine import Machine, PlannedInstants, generator_instants
from mintactors.oracles import OracleMonitor
from mintactors.runtime import RuntimeState, to_jsonable

__all__ = [
    "CHECKPOINT_DIR",
    "CheckpointInfo",
    "CheckpointRefused",
    "CheckpointSet",
    "CheckpointWriter",
    "code_digest",
    "quiescent",
    "restore_checkpoint",
    "signing_key",
]

#: Where a run's checkpoints go, beside its trace.
CHECKPOINT_DIR = "checkpoints"
_INDEX = "index.json"
_FORMAT = 1
_PACKAGE = Path(__file__).resolve().parents[2]

_DIGEST: list[str] = []


def code_digest() -> str:
    """A digest of the mintactors source: checkpoints load only into the code that wrote them."""
    if not _DIGEST:
        digest = hashlib.sha256()
        for path in sorted(_PACKAGE.rglob("*.py")):
            digest.update(str(path.relative_to(_PACKAGE)).encode())
            digest.update(path.read_bytes())
        _DIGEST.append(digest.hexdigest())
    return _DIGEST[0]


def _state_dir() -> Path:
    explicit = os.environ.get("MINTACTORS_STATE_DIR")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME")
    return (Path(cache) if cache else Path.home() / ".cache") / "mintactors"


def signing_key() -> bytes:
    """This machine's checkpoint key, made on first use (32 random bytes, mode 0600)."""
    path = _state_dir() / "checkpoint.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made meanwhile by another process
        return path.read_bytes()
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(32))
    return path.read_bytes()


def _signature(data: bytes) -> str:
    return hmac.new(signing_key(), data, hashlib.sha256).hexdigest()


def quiescent(machine: Machine) -> bool:
    """No driver or kernel code is under way, so nothing unsaveable is alive."""
    shell = machine.driver
    return shell.irq is None and shell.softirq is None and shell.probe is None


def _observers(machine: Machine) -> set[int]:
    """Identities of the frame observers (pcap writers) the components hold."""
    sim = machine.simulation
    found = set()
    for name in sim.actor_names:
        component = sim.component(name)
        for attribute in ("on_generate", "on_receive"):
            observer = getattr(component, attribute, None)
            if observer is not None:
                found.add(id(observer))
    return found


class _Saver(pickle.Pickler):
    """Pickles a machine, leaving out what a fresh build makes again."""

    def __init__(self, stream: IO[bytes], machine: Machine) -> None:
        super().__init__(stream, protocol=pickle.HIGHEST_PROTOCOL)
        self._simulation = machine.simulation
        self._config = machine.config
        self._observers = _observers(machine)

    def persistent_id(self, obj: Any) -> Any:
        if obj is self._simulation:
            return "simulation"
        if obj is self._config:
            return "config"
        if isinstance(obj, PlannedInstants):
            return ("instants", obj.taken)
        if id(obj) in self._observers:
            return "observer"
        return None


class _Loader(pickle.Unpickler):
    """Unpickles a machine into a fresh build's simulation and config."""

    def __init__(self, stream: IO[bytes], fresh: Machine) -> None:
        super().__init__(stream)
        self._fresh = fresh

    def persistent_load(self, pid: Any) -> Any:
        if pid == "simulation":
            return self._fresh.simulation
        if pid == "config":
            return self._fresh.config
        if pid == "observer":
            return None
        if isinstance(pid, tuple) and pid[0] == "instants":
            return generator_instants(self._fresh.config).skip(pid[1])
        raise pickle.UnpicklingError(f"unknown reference {pid!r} in a checkpoint")


@attrs.frozen
class CheckpointInfo:
    """One checkpoint: its file and where in the run it was taken.

    Attributes:
        file: the file's name, in the checkpoint directory.
        delivered: deliveries made when it was taken.
        t_ns: virtual time then.
        lines: trace lines written by then (the header included).
        violations: oracle violations found by then.
        signature: the file's HMAC-SHA256 under this machine's key.
    """

    file: str
    delivered: int
    t_ns: int
    lines: int
    violations: int
    signature: str = attrs.field(default="", repr=False)


def _dump(machine: Machine, monitor: OracleMonitor, state: RuntimeState) -> bytes:
    sim = machine.simulation
    components = {name: sim.component(name) for name in sim.actor_names}
    raw = io.BytesIO()
    _Saver(raw, machine).dump((_FORMAT, machine, monitor, components, state))
    return zlib.compress(raw.getvalue(), 1)


def restore_checkpoint(data: bytes, fresh: Machine) -> tuple[Machine, OracleMonitor]:
    """Put the machine saved in ``data`` in place of ``fresh``'s, inside ``fresh``'s simulation.

    ``fresh`` is a machine just built from the same config, not yet run; its
    simulation carries on from the checkpoint. Returns the restored machine and
    oracle monitor.
    """
    stream = io.BytesIO(zlib.decompress(data))
    fmt, machine, monitor, components, state = _Loader(stream, fresh).load()
    if fmt != _FORMAT:
        raise pickle.UnpicklingError(f"checkpoint format {fmt}, this version reads {_FORMAT}")
    fresh.simulation.restore(state, components)
    return machine, monitor


def _header_key(header: dict[str, Any]) -> dict[str, Any]:
    """The header fields that identify a run (the line's own keys left out)."""
    return {k: v for k, v in header.items() if k not in ("t_ns", "actor", "kind", "format")}


class CheckpointWriter:
    """Takes checkpoints during a run; an observer for the run pipeline.

    Args:
        directory: where the checkpoints go (emptied first: it is a cache).
        every: deliveries between checkpoints (the next is taken at the first
            quiescent moment after).
        outputs: the run's atomic outputs (checkpoints appear with the trace).
    """

    def __init__(self, directory: Path, every: int, outputs: atomic_outputs) -> None:
        if every < 1:
            raise ValueError(f"checkpoints every {every} deliveries: must be at least 1")
        shutil.rmtree(directory, ignore_errors=True)
        self.directory = directory
        self.every = every
        self._outputs = outputs
        self.taken: list[CheckpointInfo] = []
        self._next = every
        self._machine: Machine | None = None
        self._monitor: OracleMonitor | None = None

    def attach(self, machine: Machine, monitor: OracleMonitor) -> Callable[[], None]:
        """Start watching ``machine``'s run; returns the after-delivery hook."""
        self._machine, self._monitor = machine, monitor
        return self.after_delivery

    def after_delivery(self) -> None:
        """Take a checkpoint if one is due and the machine is quiescent."""
        machine = self._machine
        assert machine is not None
        assert self._monitor is not None
        sim = machine.simulation
        if sim.delivered < self._next or not quiescent(machine):
            return
        state = sim.capture()
        name = f"{state.delivered:012d}.ckpt"
        data = _dump(machine, self._monitor, state)
        with self._outputs.open_binary(self.directory / name, create_parent=True) as out:
            out.write(data)
        info = CheckpointInfo(
            name,
            state.delivered,
            state.now_ns,
            state.trace_lines,
            len(self._monitor.violations),
            _signature(data),
        )
        self.taken.append(info)
        self._next = state.delivered + self.every

    def finish(self) -> None:
        """Write the index that binds the checkpoints to their trace and code."""
        machine = self._machine
        assert machine is not None
        index = {
            "format": _FORMAT,
            "mintactors_version": __version__,
            "code": code_digest(),
            "every": self.every,
            "header": to_jsonable(machine.simulation.header_fields()),
            "checkpoints": [attrs.asdict(info) for info in self.taken],
        }
        with self._outputs.open_binary(self.directory / _INDEX, create_parent=True) as out:
            out.write(json.dumps(index, indent=1, sort_keys=True).encode() + b"\n")


class CheckpointRefused(MintactorsError):
    """A checkpoint that this machine did not write (its signature does not verify)."""


@attrs.frozen
class CheckpointSet:
    """The checkpoints of one recorded run, found beside its trace."""

    directory: Path
    checkpoints: tuple[CheckpointInfo, ...]

    @classmethod
    def find(cls, directory: Path, header: dict[str, Any]) -> CheckpointSet | str:
        """The usable checkpoints in ``directory``, or why there are none."""
        index_path = directory / _INDEX
        try:
            index = json.loads(index_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return f"no checkpoints in {directory}"
        except (OSError, ValueError) as exc:
            return f"{index_path} cannot be read: {exc}"
        if index.get("format") != _FORMAT:
            return f"{index_path}: checkpoint format {index.get('format')!r}, not {_FORMAT}"
        if index.get("code") != code_digest():
            return f"{index_path}: written by other mintactors code; ignored"
        if index.get("header") != _header_key(header):
            return f"{index_path}: written for another run than this trace's; ignored"
        infos = tuple(CheckpointInfo(**entry) for entry in index.get("checkpoints", []))
        return cls(directory, infos)

    def before(
        self, *, t_ns: int | None = None, delivered: int | None = None, clean: bool = False
    ) -> CheckpointInfo | None:
        """The latest checkpoint at or before the given time or delivery count.

        ``clean``: only checkpoints taken before any oracle violation was found.
        """
        best = None
        for info in self.checkpoints:
            if t_ns is not None and info.t_ns > t_ns:
                continue
            if delivered is not None and info.delivered > delivered:
                continue
            if clean and info.violations:
                continue
            if best is None or info.delivered > best.delivered:
                best = info
        return best

    def load(self, info: CheckpointInfo) -> bytes:
        """The checkpoint's bytes, once their signature is verified.

        Raises:
            CheckpointRefused: the file is not signed by this machine's key.
        """
        path = self.directory / info.file
        data = path.read_bytes()
        if not hmac.compare_digest(_signature(data), info.signature):
            raise CheckpointRefused(
                f"{path} is not signed with this machine's checkpoint key "
                f"({_state_dir() / 'checkpoint.key'}), so it may not be loaded (a pickle runs "
                "code); inspect with --no-checkpoints, or run --checkpoints again here"
            )
        return data
