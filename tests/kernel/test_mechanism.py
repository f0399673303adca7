"""The debug-support mechanism: the system call that posts a frame and writes the ICR."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

from mintactors.errors import MintactorsError, UnexpectedMessage
from mintactors.hardware.apic import LocalApic
from mintactors.hardware.memory import MemoryRegion, PhysicalMemory
from mintactors.hardware.registers import ICR_RXT0
from mintactors.hardware.store_buffer import StoreBuffer
from mintactors.kernel.mechanism import DebugSupportMechanism, InterruptMaskRegisters
from mintactors.messages import (
    FramePosted,
    FrameRefused,
    IpiMessage,
    LatchedCauseUnmasked,
    MechanismInput,
    MechanismStep,
    MechanismStepKind,
    PostFrame,
    SystemCall,
    SystemCallReturn,
)
from mintactors.notes import NoteKind
from mintactors.runtime import Note, Send, SetTimer
from mintactors.testing import example_message, message_kinds_outside, plain_state

IMS = 0x1000


def mechanism(
    masking: bool = False, ims: int = 0, buffer: StoreBuffer | None = None, barrier: bool = True
) -> DebugSupportMechanism:
    memory = PhysicalMemory(
        regions=[MemoryRegion("shared", 0, 0x10000, frozenset({0}))], latency_ns=30
    )
    memory.poke(IMS, struct.pack("<I", ims))
    if buffer is not None:
        memory.attach(buffer)
    registers = InterruptMaskRegisters(memory=memory, node=0, ims=IMS, load_ns=30)
    return DebugSupportMechanism(
        name="mechanism",
        ring="rx_ring",
        apic=LocalApic(apic_id=0, name="apic0", peers={1: "apic1"}, latency=lambda: 1000),
        vector=0x41,
        destination=1,
        copy_ns=lambda n: n,
        syscall_entry_ns=100,
        icr_write_ns=50,
        syscall_exit_ns=30,
        mask_registers=registers if masking else None,
        store_buffer=buffer,
        barrier=barrier,
    )


def debug_core_buffer(drain_ns: int = 40) -> StoreBuffer:
    """Core 0's store buffer holding the frame's DD store (made at 200, due at 200 + drain)."""
    buffer = StoreBuffer(
        core="core0", node=0, capacity=56, drain_ns=lambda: drain_ns, memory_actor="memory"
    )
    buffer.store(0x2000, b"\x07", 200, 200, "rx_ring")
    return buffer


def test_a_call_posts_the_frame_then_writes_the_icr_and_returns() -> None:
    """Entry, copy into the ring, ICR write, return: the paper's steps 4-7 and their costs."""
    mech = mechanism()
    effects = mech.enter(SystemCall(3, bytes(64), "generator"), 1000)
    assert Send("rx_ring", PostFrame(3, bytes(64), 64, "mechanism"), 100, actor="mechanism") in (
        effects
    )
    effects = mech.handle(FramePosted(3, 0, 1), 1200)
    # The ICR write takes 50 ns; the IPI then spends the bus latency (1000 ns).
    assert Send("apic1", IpiMessage(0x41, 0, 3), 1050, actor="apic0") in effects
    assert Send("generator", SystemCallReturn(3, "ok", 1000), 80) in effects
    assert mech.call is None


def test_entering_later_dates_the_call_and_its_post() -> None:
    """A call entered 200 ns from now (the frame still being built) posts 200 ns later."""
    mech = mechanism()
    effects = mech.enter(SystemCall(3, bytes(64), "generator"), 1000, after_ns=200)
    assert Send("rx_ring", PostFrame(3, bytes(64), 64, "mechanism"), 300, actor="mechanism") in (
        effects
    )
    assert mech.call == (SystemCall(3, bytes(64), "generator"), 1200)


def test_a_masked_interrupt_sends_no_ipi_and_writes_nothing() -> None:
    """With RXT0 masked in IMS no IPI goes; the ring's write-back latched the cause already."""
    mech = mechanism(masking=True, ims=0)
    mech.enter(SystemCall(3, bytes(64), "generator"), 0)
    effects = mech.handle(FramePosted(3, 0, 1), 200)
    assert Note(NoteKind.IPI_MASKED, {"seq": 3, "cause": ICR_RXT0}, delay_ns=30) in effects
    assert not [e for e in effects if isinstance(e, Send) and e.to != "generator"]
    assert mech.statistics().ipis_masked == 1


def test_an_unmasked_latched_cause_raises_the_ipi_as_the_device_would() -> None:
    """LatchedCauseUnmasked (nic.reassert_on_unmask) writes the ICR at once, outside any call."""
    mech = mechanism(masking=True, ims=0)
    effects = mech.handle(LatchedCauseUnmasked(ICR_RXT0), 700)
    assert Send("apic1", IpiMessage(0x41, 0, -1), 50 + 1000, actor="apic0") in effects
    assert Note(NoteKind.IRQ_REASSERTED, {"cause": ICR_RXT0}) in effects
    stats = mech.statistics()
    assert (stats.icr_writes, stats.ipis_reasserted, stats.calls) == (1, 1, 0)


def test_an_unmasked_interrupt_is_sent_after_the_ims_load() -> None:
    """With RXT0 enabled the IPI goes, the ICR write starting once IMS is loaded."""
    mech = mechanism(masking=True, ims=ICR_RXT0)
    mech.enter(SystemCall(3, bytes(64), "generator"), 0)
    effects = mech.handle(FramePosted(3, 0, 1), 200)
    assert Send("apic1", IpiMessage(0x41, 0, 3), 30 + 50 + 1000, actor="apic0") in effects


def test_under_tso_the_barrier_waits_for_the_frames_stores_before_loading_ims() -> None:
    """smp_mb(): IMS is loaded only once core 0's buffer has drained (and applied at once)."""
    buffer = debug_core_buffer(drain_ns=40)
    mech = mechanism(masking=True, ims=ICR_RXT0, buffer=buffer)
    mech.enter(SystemCall(3, bytes(64), "generator"), 0)
    effects = mech.handle(FramePosted(3, 0, 1), 200)
    assert effects == (SetTimer("fence", 40, MechanismStep(MechanismStepKind.FENCED)),)
    assert mech.statistics().ipis_masked == 0  # nothing decided yet
    effects = mech.handle(MechanismStep(MechanismStepKind.FENCED), 240)
    assert len(buffer) == 0  # the fence applied the DD store itself
    fenced = [e for e in effects if isinstance(e, Note) and e.kind == NoteKind.FENCED]
    assert fenced[0].fields == {"by": "mechanism", "barrier": "smp_mb", "waited_ns": 40}
    assert Send("apic1", IpiMessage(0x41, 0, 3), 30 + 50 + 1000, actor="apic0") in effects


def test_under_tso_without_the_barrier_ims_is_loaded_while_dd_is_still_buffered() -> None:
    """mechanism_barrier = "none": IMS at once, the DD store still in the buffer."""
    buffer = debug_core_buffer(drain_ns=40)
    mech = mechanism(masking=True, ims=0, buffer=buffer, barrier=False)
    mech.enter(SystemCall(3, bytes(64), "generator"), 0)
    effects = mech.handle(FramePosted(3, 0, 1), 200)
    assert len(buffer) == 1  # DD still buffered: the load passed it
    assert mech.statistics().ipis_masked == 1
    assert Note(NoteKind.IPI_MASKED, {"seq": 3, "cause": ICR_RXT0}, delay_ns=30) in effects
    assert not [e for e in effects if isinstance(e, Send) and e.to not in {"generator"}]


def test_under_tso_the_ipi_leaves_once_the_frames_stores_have_drained() -> None:
    """weak_wrmsr_fence() before the x2APIC ICR write: the IPI waits for the drain."""
    buffer = debug_core_buffer(drain_ns=40)
    mech = mechanism(buffer=buffer)
    mech.enter(SystemCall(3, bytes(64), "generator"), 0)
    effects = mech.handle(FramePosted(3, 0, 1), 200)
    assert Send("apic1", IpiMessage(0x41, 0, 3), 40 + 50 + 1000, actor="apic0") in effects
    assert Send("generator", SystemCallReturn(3, "ok", 0), 40 + 50 + 30) in effects


def test_a_fence_step_with_no_barrier_waiting_is_refused() -> None:
    """The mechanism's fence timer is taken only while its barrier waits."""
    mech = mechanism(masking=True)
    before = plain_state(mech)
    with pytest.raises(UnexpectedMessage, match="no barrier waits"):
        mech.handle(MechanismStep(MechanismStepKind.FENCED), 0)
    assert plain_state(mech) == before


def in_a_call() -> DebugSupportMechanism:
    """A mechanism inside the call for packet 3 (a call for packet 2 came before)."""
    mech = mechanism(masking=True)
    mech.enter(SystemCall(2, bytes(64), "generator"), 0)
    mech.handle(FrameRefused(2, "no_descriptor"), 100)
    mech.enter(SystemCall(3, bytes(64), "generator"), 500)
    return mech


@pytest.mark.parametrize(
    ("make", "message", "error"),
    [
        (in_a_call, FramePosted(9, 0, 1), UnexpectedMessage),  # another frame
        (in_a_call, FrameRefused(9, "no_descriptor"), UnexpectedMessage),
    ],
    ids=lambda value: getattr(value, "__name__", repr(value)[:50]),
)
def test_an_illegal_input_is_refused_and_changes_nothing(
    make: Callable[[], DebugSupportMechanism],
    message: MechanismInput,
    error: type[MintactorsError],
) -> None:
    """An answer for another frame leaves the call as it was."""
    mech = make()
    before = plain_state(mech)
    with pytest.raises(error):
        mech.handle(message, 800)
    assert plain_state(mech) == before


def test_a_second_call_is_refused_and_changes_nothing() -> None:
    """One call at a time: entering again before the return changes nothing."""
    mech = in_a_call()
    before = plain_state(mech)
    with pytest.raises(UnexpectedMessage, match="in the call for packet 3"):
        mech.enter(SystemCall(4, bytes(64), "generator"), 800)
    assert plain_state(mech) == before


@pytest.mark.parametrize("kind", message_kinds_outside(MechanismInput), ids=lambda k: k.__name__)
def test_a_message_outside_its_input_is_refused_and_changes_nothing(kind: type) -> None:
    """A mis-wired machine's message (not a MechanismInput) is an UnexpectedMessage."""
    mech = in_a_call()
    before = plain_state(mech)
    with pytest.raises(UnexpectedMessage):
        mech.handle(example_message(kind), 800)  # type: ignore[arg-type]
    assert plain_state(mech) == before
