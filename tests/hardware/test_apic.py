"""The local APIC: ICR sends, IRR merging, acceptance by priority, EOI."""

from __future__ import annotations

import pytest

from mintactors.errors import UnexpectedMessage
from mintactors.hardware.apic import LocalApic
from mintactors.messages import AcceptInterrupt, InterruptPending, IpiMessage, WriteEoi, WriteIcr
from mintactors.runtime import Note, Send

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
    with pytest.raises(ValueError, match="reserved"):
        a.handle(WriteIcr(3, 0), 0)
