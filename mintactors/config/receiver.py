"""``[socket]`` and ``[app]``: the receiving UDP socket and application."""

from __future__ import annotations

import attrs

from mintactors.fields import at_least, checked

__all__ = ["AppConfig", "SocketConfig"]


@attrs.frozen
class SocketConfig:
    """The receiving UDP socket."""

    rcvbuf: int = checked(212992, at_least(1))


@attrs.frozen
class AppConfig:
    """The receiving application."""

    verify: bool = True
