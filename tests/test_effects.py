"""Effect records behave as values: equality, hashing and repr by their fields."""

from __future__ import annotations

import attrs

from mintactors.effects import CancelTimer, Note, Send, SetTimer, Stop, TraceLevel, dated_later


def test_effects_compare_and_hash_by_value() -> None:
    """Two effects with equal fields are equal and hash alike, as frozen records did."""
    for make in (
        lambda: Send("apic1", 7, 30, 1),
        lambda: SetTimer("step", 50, "tick"),
        lambda: CancelTimer("step"),
        lambda: Stop("enough"),
    ):
        a, b = make(), make()
        assert a == b
        assert hash(a) == hash(b)
        assert len({a, b}) == 1
    assert Send("a", 1) != Send("a", 1, delay_ns=1)
    assert Note("X", {"seq": 1}) == Note("X", {"seq": 1})


def test_effects_keep_their_constructor_defaults_and_repr() -> None:
    """Defaults and the attrs repr are what components and tests rely on."""
    assert repr(Send("core1", None)) == (
        "Send(to='core1', message=None, delay_ns=0, priority=0, actor=None)"
    )
    note = Note("HandlerEntered")
    assert (note.fields, note.level, note.delay_ns, note.actor) == ({}, TraceLevel.FULL, 0, None)
    assert Note("A").fields is not Note("A").fields
    fields = [f.name for f in attrs.fields(SetTimer)]
    assert fields == ["key", "delay_ns", "message", "priority", "actor"]


def test_dated_later_moves_dated_effects_and_names_the_actor_unless_they_name_one() -> None:
    """Sends, timers and notes move later and gain the actor; a cancel has no date."""
    send, timer = Send("b", "m", 5), SetTimer("t", 7, "m", actor="own")
    note, cancel = Note("K", {}), CancelTimer("t")
    moved = [dated_later(e, 10, "a") for e in (send, timer, note, cancel)]
    assert [(e.delay_ns, e.actor) for e in moved[:3]] == [(15, "a"), (17, "own"), (10, "a")]
    assert moved[3] is cancel
    assert cancel.actor is None
    assert dated_later(Send("b", "m"), 3).actor is None
