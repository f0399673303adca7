"""``python -m mintactors`` is the ``mintactors`` command (and its console script).

:func:`entry` imports the command line itself, so that Ctrl-C or SIGTERM during
the second or so that the imports take ends in one line and the usual exit
status, as it does once the command runs, rather than in a traceback.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import NoReturn

__all__ = ["entry"]


def entry() -> NoReturn:
    """Import and run the command line; exit with its status."""
    received = [signal.SIGINT]

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        received.append(signal.Signals(signum))
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, on_sigterm)
        from mintactors.cli import main  # noqa: PLC0415 (imported here to catch Ctrl-C)
    except KeyboardInterrupt:
        verb = "terminated" if received[-1] == signal.SIGTERM else "interrupted"
        print(f"mintactors: {verb} while starting; nothing written", file=sys.stderr)
        sys.exit(128 + received[-1])
    sys.exit(main())


if __name__ == "__main__":
    entry()
