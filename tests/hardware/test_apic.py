"""The local APIC: ICR sends, IRR merging, INTR by priority, acknowledge and EOI."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mintactors.errors import IllegalValue, MintactorsError, UnexpectedMessage
from mintactors.hardware.apic import LocalApic
from mintactors.hardware.cpu import CpuCore
from mintactors.messages import ApicInput, DeviceInterrupt, InterruptEntry, IpiMessage
from mintactors.runtime import Note, Send
from mintactors.testing import example_message, message_kinds_outside, plain_state

V = 0x41


def apic(tpr: int = 0) -> LocalApic:
    delays = iter([700, 900, 1100])
    return LocalApic(
        apic_id=1,
        name="apic1",
        peers={0: "apic0", 1: "apic1"},
        latency=lambda: next(delays),
        tpr=tpr,
    )


def chip(tpr: int = 0) -> tuple[LocalApic, CpuCore]:
    """An APIC wired to its core, whose IDT sends every vector used here to ``driver``."""
    a = apic(tpr)
    idt = dict.fromkeys((V, 0x51, 0x61), "driver")
    core = CpuCore(core_id=1, name="core1", apic=a, idt=idt, irq_entry_ns=400, irq_exit_ns=200)
    return a, core


def sends(effects: object) -> list[Send]:
    return [e for e in effects if isinstance(e, Send)]  # type: ignore[attr-defined]


def test_icr_write_sends_the_ipi_to_the_destination_after_its_latency() -> None:
    """Writing the ICR sends one fixed IPI, delayed by a draw of the latency (and the write's)."""
    a = apic()
    assert sends(a.write_icr(V, 0, seq=5)) == [
        Send("apic0", IpiMessage(V, 1, 5), 700, actor="apic1")
    ]
    assert sends(a.write_icr(V, 0, after_ns=30))[0].delay_ns == 930
    assert a.statistics().ipi_sent == 2


def test_an_ipi_raises_intr_and_the_idle_core_takes_it_at_once() -> None:
    """The first IPI sets IRR and INTR: the core (IF=1) acknowledges, IRR to ISR."""
    a, core = chip()
    effects = a.handle(IpiMessage(V, 0), 10)
    assert Send("driver", InterruptEntry(V, 1, from_idle=True), 400, actor="core1") in effects
    assert (a.irr, a.isr, core.in_handler) == (0, 1 << V, V)


def test_a_second_ipi_merges_while_irr_is_set() -> None:
    """One IRR bit per vector: a second IPI before acknowledgement is merged and counted."""
    a = apic()  # no core wired: nobody acknowledges
    a.handle(IpiMessage(V, 0), 10)
    effects = a.handle(IpiMessage(V, 0), 20)
    assert sends(effects) == []
    assert [e.kind for e in effects if isinstance(e, Note)] == ["IpiMerged"]
    assert a.statistics().ipi_merged == 1


def test_one_pending_and_one_in_service_then_merge() -> None:
    """With one in service, one more waits in IRR and a third merges (SDM 10.8.4)."""
    a, _core = chip()
    a.handle(IpiMessage(V, 0), 0)
    assert (a.irr, a.isr) == (0, 1 << V)
    # Same class as the one in service: waits in IRR, not deliverable.
    assert sends(a.handle(IpiMessage(V, 0), 2)) == []
    assert a.irr == 1 << V
    assert a.deliverable() is None
    a.handle(IpiMessage(V, 0), 3)
    assert a.statistics().ipi_merged == 1
    a.eoi()
    assert a.deliverable() == V


def test_higher_class_vector_is_deliverable_while_lower_is_in_service() -> None:
    """A vector of a higher priority class is deliverable above the one in service."""
    a, _ = chip()
    a.handle(IpiMessage(0x41, 0), 0)
    a.handle(IpiMessage(0x51, 0), 2)
    assert a.deliverable() == 0x51


def test_tpr_holds_back_low_classes() -> None:
    """With TPR at class 4, a class-4 vector stays pending and the core is not interrupted."""
    a, core = chip(tpr=0x40)
    assert sends(a.handle(IpiMessage(0x41, 1), 0)) == []
    assert a.irr == 1 << 0x41
    assert core.in_handler is None


def test_misuse_is_a_named_error() -> None:
    """EOI with nothing in service, acknowledging what is not raised, a reserved ICR vector."""
    a = apic()
    with pytest.raises(UnexpectedMessage):
        a.eoi()
    with pytest.raises(UnexpectedMessage):
        a.acknowledge(V)
    with pytest.raises(IllegalValue, match="reserved"):
        a.write_icr(3, 0)
    with pytest.raises(IllegalValue, match="no APIC with ID 7"):
        a.write_icr(V, 7)


def busy_apic() -> LocalApic:
    """An APIC with history: an IPI sent, V in service, 0x51 and V waiting in IRR."""
    a = apic()
    a.write_icr(V, 0)
    a.handle(IpiMessage(V, 0), 1)
    a.acknowledge(V)
    a.handle(IpiMessage(0x51, 0), 3)
    a.handle(IpiMessage(V, 0), 4)
    assert (a.irr, a.isr) == (1 << V | 1 << 0x51, 1 << V)
    return a


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (IpiMessage(256, 0), IllegalValue),
        (IpiMessage(-1, 0), IllegalValue),
        (IpiMessage(3, 0), IllegalValue),  # vectors 0-15 are illegal (SDM 10.5.3)
        (DeviceInterrupt(15, "nic"), IllegalValue),
    ],
    ids=repr,
)
def test_an_illegal_input_is_refused_and_changes_nothing(
    message: ApicInput, error: type[MintactorsError]
) -> None:
    """A bad vector on the bus leaves the APIC as it was."""
    a = busy_apic()
    before = plain_state(a)
    with pytest.raises(error):
        a.handle(message, 10)
    assert plain_state(a) == before


@pytest.mark.parametrize(
    "call",
    [
        lambda a: a.write_icr(3, 0),
        lambda a: a.write_icr(V, 7),
        lambda a: a.acknowledge(0x61),  # INTR is raised for 0x51
        lambda a: a.acknowledge(-5),
    ],
    ids=["reserved ICR vector", "unknown destination", "wrong acknowledge", "bad acknowledge"],
)
def test_an_illegal_register_access_is_refused_and_changes_nothing(call: object) -> None:
    """A bad ICR write or a stray acknowledge from the core leaves the APIC as it was."""
    a = busy_apic()
    before = plain_state(a)
    with pytest.raises(MintactorsError):
        call(a)  # type: ignore[operator]
    assert plain_state(a) == before


def test_an_eoi_with_nothing_in_service_changes_nothing() -> None:
    """EOI with an empty ISR is refused; the pending IRR bit and the counters stay."""
    a = apic()
    a.handle(IpiMessage(V, 0), 0)
    before = plain_state(a)
    with pytest.raises(UnexpectedMessage, match="no interrupt in service"):
        a.eoi()
    assert plain_state(a) == before


@given(
    kind=st.sampled_from([IpiMessage, DeviceInterrupt]),
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
