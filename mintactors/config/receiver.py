"""``[socket]`` and ``[app]``: the receiving UDP socket and application."""

from __future__ import annotations

import attrs

from mintactors.fields import between, checked

__all__ = ["AppConfig", "SocketConfig"]


@attrs.frozen
class SocketConfig:
    """The receiving UDP socket."""

    #: A socket option is an ``int`` in Linux.
    rcvbuf: int = checked(212992, between(1, (1 << 31) - 1))


@attrs.frozen
class AppConfig:
    """The receiving application."""

    verify: bool = True
