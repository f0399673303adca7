"""Real ``mintactors`` processes for the tests that signal them and look for orphans."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

#: Seconds a test waits for an event a healthy command reaches quickly.
PATIENCE_S = 60.0


def start(args: Sequence[str], cwd: Path | None = None, **env: str) -> subprocess.Popen[str]:
    """``python -m mintactors ARGS`` in a session of its own, so its descendants are known.

    Every process the command starts (workers, the forkserver, the resource
    tracker) stays in that session, whose ID is the command's process ID.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "mintactors", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**os.environ, **env},
        start_new_session=True,
    )


def _state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def living(session: int) -> list[int]:
    """Processes of ``session`` still alive (a zombie has exited: it is not counted)."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            if os.getsid(pid) != session:
                continue
        except OSError:
            continue
        if _state(pid) not in (None, "Z", "X"):
            alive.append(pid)
    return alive


def wait_until(condition: Callable[[], bool], timeout: float = PATIENCE_S) -> bool:
    """Poll ``condition`` every 20 ms until it holds (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def read_stderr_until(process: subprocess.Popen[str], needle: str) -> list[str]:
    """Lines of the process's stderr up to the first containing ``needle``.

    Raises:
        AssertionError: the process ended, or PATIENCE_S passed, first.
    """
    assert process.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stderr], [], [], 0.1)
        if not ready:
            continue
        line = process.stderr.readline()
        if not line:
            raise AssertionError(f"the command ended before {needle!r}: {lines}")
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"no {needle!r} on stderr within {PATIENCE_S} s: {lines}")


def signal_and_wait(
    process: subprocess.Popen[str], signum: int, *, group: bool = False
) -> tuple[float, str, str]:
    """Send ``signum`` (to the whole session's group with ``group``); wait for everything.

    Returns:
        The seconds from the signal until the command and every process it
        started had exited, and the command's remaining stdout and stderr.
    """
    sent = time.monotonic()
    if group:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    out, err = process.communicate(timeout=PATIENCE_S)
    wait_until(lambda: not living(process.pid), timeout=PATIENCE_S)
    return time.monotonic() - sent, out, err


def stop(process: subprocess.Popen[str]) -> None:
    """End a test's process and everything it started, whatever state it is in."""
    for pid in living(process.pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    process.communicate(timeout=PATIENCE_S)
