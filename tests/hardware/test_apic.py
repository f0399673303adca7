"""The local APIC: ICR sends, IRR merging, acceptance by priority, EOI."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mintactors.errors import IllegalValue, MintactorsError, UnexpectedMessage
from mintactors.hardware.apic import LocalApic
from mintactors.messages import (
    AcceptInterrupt,
    ApicInput,
    DeviceInterrupt,
    InterruptPending,
    IpiMessage,
    WriteEoi,
    WriteIcr,
)
from mintactors.runtime import Note, Send
from mintactors.testing import example_message, message_kinds_outside, plain_state

V = 0x41


def apic() -> LocalApic:
    delays = iter([700, 900, 1100])
    return LocalApic(
        apic_id=1, core="core1", peers={0: "apic0", 1: "apic1"}, latency=lambda: next(delays)
    )


def sends(effects: object) -> list[Send]:
    return [e for e in effects if isinstance(e, Send)]  # type: ignore[attr-defined]


def test_icr_write_sends_the_ipi_to_the_destination_after_its_latency() -> None:
    """Writing the ICR sends one fixed IPI, delayed by a draw of the latency."""
    a = apic()
    assert sends(a.handle(WriteIcr(V, 0, seq=5), 0)) == [Send("apic0", IpiMessage(V, 1, 5), 700)]
    assert sends(a.handle(WriteIcr(V, 0), 0))[0].delay_ns == 900
    assert a.statistics().ipi_sent == 2


def test_first_ipi_raises_intr_and_a_second_merges_while_irr_is_set() -> None:
    """One IRR bit per vector: the second IPI before acceptance is merged and counted."""
    a = apic()
    assert sends(a.handle(IpiMessage(V, 0), 10)) == [Send("core1", InterruptPending(V))]
    effects = a.handle(IpiMessage(V, 0), 20)
    assert sends(effects) == []
    assert [e.kind for e in effects if isinstance(e, Note)] == ["IpiMerged"]
    assert a.statistics().ipi_merged == 1


def test_one_pending_and_one_in_service_then_merge() -> None:
    """After acceptance one more IPI waits in IRR; a third merges (SDM 10.8.4)."""
    a = apic()
    a.handle(IpiMessage(V, 0), 0)
    a.handle(AcceptInterrupt(V), 1)
    assert (a.irr, a.isr) == (0, 1 << V)
    # Same class as the one in service: waits in IRR, INTR not raised.
    assert sends(a.handle(IpiMessage(V, 0), 2)) == []
    assert a.irr == 1 << V
    a.handle(IpiMessage(V, 0), 3)
    assert a.statistics().ipi_merged == 1
    # EOI clears ISR and raises INTR for the waiting one.
    assert sends(a.handle(WriteEoi(), 4)) == [Send("core1", InterruptPending(V))]


def test_higher_class_vector_is_raised_while_lower_is_in_service() -> None:
    """A vector of a higher priority class is deliverable above the one in service."""
    a = apic()
    a.handle(IpiMessage(0x41, 0), 0)
    a.handle(AcceptInterrupt(0x41), 1)
    assert sends(a.handle(IpiMessage(0x51, 0), 2)) == [Send("core1", InterruptPending(0x51))]


def test_tpr_holds_back_low_classes() -> None:
    """With TPR at class 4, a class-4 vector stays pending."""
    a = LocalApic(apic_id=1, core="core1", peers={1: "apic1"}, latency=lambda: 0, tpr=0x40)
    assert sends(a.handle(IpiMessage(0x41, 1), 0)) == []
    assert a.irr == 1 << 0x41


def test_misuse_is_a_named_error() -> None:
    """EOI with nothing in service, or accepting what was not raised, is refused."""
    a = apic()
    with pytest.raises(UnexpectedMessage):
        a.handle(WriteEoi(), 0)
    with pytest.raises(UnexpectedMessage):
        a.handle(AcceptInterrupt(V), 0)
    with pytest.raises(IllegalValue, match="reserved"):
        a.handle(WriteIcr(3, 0), 0)


def busy_apic() -> LocalApic:
    """An APIC with history: an IPI sent, V in service, 0x51 raised and V waiting in IRR."""
    a = apic()
    a.handle(WriteIcr(V, 0), 0)
    a.handle(IpiMessage(V, 0), 1)
    a.handle(AcceptInterrupt(V), 2)
    a.handle(IpiMessage(0x51, 0), 3)
    a.handle(IpiMessage(V, 0), 4)
    assert (a.irr, a.isr) == (1 << V | 1 << 0x51, 1 << V)
    return a


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (WriteIcr(3, 0), IllegalValue),  # vectors 0-15 are illegal (SDM 10.5.3)
        (WriteIcr(V, 7), IllegalValue),  # no APIC 7
        (IpiMessage(256, 0), IllegalValue),
        (IpiMessage(-1, 0), IllegalValue),
        (DeviceInterrupt(15, "nic"), IllegalValue),
        (AcceptInterrupt(0x61), UnexpectedMessage),  # INTR is raised for 0x51
        (AcceptInterrupt(-5), UnexpectedMessage),
    ],
    ids=repr,
)
def test_an_illegal_input_is_refused_and_changes_nothing(
    message: ApicInput, error: type[MintactorsError]
) -> None:
    """A bad vector, an unknown destination or a stray acknowledge leaves the APIC as it was."""
    a = busy_apic()
    before = plain_state(a)
    with pytest.raises(error):
        a.handle(message, 10)
    assert plain_state(a) == before


def test_an_eoi_with_nothing_in_service_changes_nothing() -> None:
    """EOI with an empty ISR is refused; the pending IRR bit and the counters stay."""
    a = apic()
    a.handle(IpiMessage(V, 0), 0)
    before = plain_state(a)
    with pytest.raises(UnexpectedMessage, match="no interrupt in service"):
        a.handle(WriteEoi(), 1)
    assert plain_state(a) == before


@given(
    kind=st.sampled_from([WriteIcr, IpiMessage, DeviceInterrupt]),
    vector=st.one_of(st.integers(max_value=15), st.integers(min_value=256)),
)
def test_any_reserved_or_impossible_vector_is_refused(kind: type, vector: int) -> None:
    """Whatever the message, a vector outside 16..255 is an IllegalValue, state untouched."""
    a = busy_apic()
    before = plain_state(a)
    message = kind(vector, 0) if kind is not DeviceInterrupt else kind(vector, "nic")
    with pytest.raises(IllegalValue):
        a.handle(message, 10)
    assert plain_state(a) == before


@pytest.mark.parametrize("kind", message_kinds_outside(ApicInput), ids=lambda k: k.__name__)
def test_a_message_outside_its_input_is_refused_and_changes_nothing(kind: type) -> None:
    """A mis-wired machine's message (not an ApicInput) is an UnexpectedMessage."""
    a = busy_apic()
    before = plain_state(a)
    with pytest.raises(UnexpectedMessage):
        a.handle(example_message(kind), 10)  # type: ignore[arg-type]
    assert plain_state(a) == before
