"""Where to look: the target of ``--at`` and ``--before``, parsed from its text.

=========================  =============================================================
``12.5us``, ``12500ns``    the end of that instant: every delivery due by then is made
``event:N``                line ``N`` of the recorded trace (the header is line 1)
``packet:SEQ:STEP``        the line where packet ``SEQ`` made hop ``STEP`` (a note kind
                           of its path, :data:`PACKET_STEPS`), as ``event:N``
``violation``              the first oracle violation, at the moment it was caused (for
                           a lost wakeup: when the stranded frame was written back)
``violation:began``        the same violation at the instant the oracle dates it from
=========================  =============================================================
"""

from __future__ import annotations

import difflib

import attrs

from mintactors.errors import MintactorsError
from mintactors.notes import NoteKind
from mintactors.traces import HOP_LABELS, parse_time

__all__ = [
    "PACKET_STEPS",
    "TARGET_FORMS",
    "AtEvent",
    "AtHop",
    "AtTime",
    "AtViolation",
    "InspectError",
    "Target",
    "parse_target",
]

#: The hops ``packet:SEQ:STEP`` may name: the notes of one packet's path that carry
#: its sequence number (``trace packet`` shows the same hops). The core's
#: ``InterruptTaken`` and the driver's ``HandlerEntered`` are not among them: they
#: name no packet.
PACKET_STEPS: tuple[str, ...] = tuple(
    str(kind)
    for kind in HOP_LABELS
    if kind not in (NoteKind.INTERRUPT_TAKEN, NoteKind.HANDLER_ENTERED)
)

#: What a target may be, for error messages.
TARGET_FORMS = "a time (12.5us, 12500ns), event:N, packet:SEQ:STEP, violation or violation:began"


class InspectError(MintactorsError):
    """A target, field or trace ``inspect`` cannot use; says what is allowed."""


@attrs.frozen
class AtTime:
    """The end of instant ``t_ns``."""

    t_ns: int


@attrs.frozen
class AtEvent:
    """Line ``line`` of the recorded trace."""

    line: int


@attrs.frozen
class AtHop:
    """The line where packet ``seq`` made hop ``step``."""

    seq: int
    step: str


@attrs.frozen
class AtViolation:
    """The first oracle violation: when it was caused, or (``began``) when it began."""

    began: bool = False


Target = AtTime | AtEvent | AtHop | AtViolation


def _count(text: str, what: str, whole: str) -> int:
    if not text.isdigit():
        raise InspectError(f"{whole!r}: {what} must be a whole number, not {text!r}")
    return int(text)


def _step(name: str, whole: str) -> str:
    for step in PACKET_STEPS:
        if step.lower() == name.lower():
            return step
    close = difflib.get_close_matches(name, PACKET_STEPS, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise InspectError(
        f"{whole!r}: no packet step {name!r}{hint}; steps: {', '.join(PACKET_STEPS)}"
    )


def parse_target(text: str) -> Target:
    """The target ``text`` names.

    Raises:
        InspectError: ``text`` is none of the forms (listed in the message).
    """
    head, sep, rest = text.strip().partition(":")
    kind = head.lower()
    if kind == "event" and sep:
        line = _count(rest, "the line number", text)
        if line < 1:
            raise InspectError(f"{text!r}: lines are numbered from 1 (the header)")
        return AtEvent(line)
    if kind == "packet" and sep:
        seq, sep2, step = rest.partition(":")
        if not sep2:
            raise InspectError(f"{text!r}: write packet:SEQ:STEP, e.g. packet:3:FrameTaken")
        return AtHop(_count(seq, "the sequence number", text), _step(step, text))
    if kind == "violation":
        if not sep:
            return AtViolation()
        if rest.lower() == "began":
            return AtViolation(began=True)
        raise InspectError(f"{text!r}: write violation or violation:began")
    try:
        return AtTime(parse_time(text))
    except ValueError as exc:
        raise InspectError(f"{exc}; a target is {TARGET_FORMS}") from None
