"""The debug-support mechanism: the system call that posts a frame and writes the ICR."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

from mintactors.errors import IllegalValue, MintactorsError, UnexpectedMessage
from mintactors.hardware import ICR_RXT0
from mintactors.kernel.mechanism import DebugSupportMechanism, InterruptMaskRegisters
from mintactors.messages import (
    FramePosted,
    FrameRefused,
    MechanismInput,
    MemoryData,
    MemoryRead,
    MemoryWrite,
    PostFrame,
    SystemCall,
    SystemCallReturn,
    WriteIcr,
)
from mintactors.notes import NoteKind
from mintactors.runtime import Note, Send
from mintactors.testing import example_message, message_kinds_outside, plain_state

REGISTERS = InterruptMaskRegisters(memory="memory", node=0, ims=0x1000, icr=0x1004)


def mechanism(masking: bool = False) -> DebugSupportMechanism:
    return DebugSupportMechanism(
        name="mechanism",
        ring="rx_ring",
        apic="apic0",
        vector=0x41,
        destination=1,
        copy_ns=lambda n: n,
        syscall_entry_ns=100,
        icr_write_ns=50,
        syscall_exit_ns=30,
        mask_registers=REGISTERS if masking else None,
    )


def test_a_call_posts_the_frame_then_writes_the_icr_and_returns() -> None:
    """Entry, copy into the ring, ICR write, return: the paper's steps 4-7 and their costs."""
    mech = mechanism()
    effects = mech.handle(SystemCall(3, bytes(64), "generator"), 1000)
    assert Send("rx_ring", PostFrame(3, bytes(64), 64, "mechanism"), 100) in effects
    effects = mech.handle(FramePosted(3, 0, 1), 1200)
    assert Send("apic0", WriteIcr(0x41, 1, 3), 50) in effects
    assert Send("generator", SystemCallReturn(3, "ok", 1000), 80) in effects
    assert mech.call is None


def test_a_masked_interrupt_is_latched_in_icr_instead_of_an_ipi() -> None:
    """With IMS clear the mechanism writes RXT0 to ICR and sends no IPI."""
    mech = mechanism(masking=True)
    mech.handle(SystemCall(3, bytes(64), "generator"), 0)
    assert mech.handle(FramePosted(3, 0, 1), 200) == (
        Send("memory", MemoryRead(0, ((0x1000, 4),), "mechanism", "ims")),
    )
    effects = mech.handle(MemoryData("ims", (struct.pack("<I", 0),)), 230)
    assert Send("memory", MemoryWrite(0, ((0x1004, struct.pack("<I", ICR_RXT0)),))) in effects
    assert Note(NoteKind.IPI_MASKED, {"seq": 3, "cause": ICR_RXT0}) in effects
    assert not [e for e in effects if isinstance(e, Send) and isinstance(e.message, WriteIcr)]
    assert mech.statistics().ipis_masked == 1


def in_a_call() -> DebugSupportMechanism:
    """A mechanism inside the call for packet 3 (a call for packet 2 came before)."""
    mech = mechanism(masking=True)
    mech.handle(SystemCall(2, bytes(64), "generator"), 0)
    mech.handle(FrameRefused(2, "no_descriptor"), 100)
    mech.handle(SystemCall(3, bytes(64), "generator"), 500)
    return mech


def reading_ims() -> DebugSupportMechanism:
    """A mechanism that posted packet 3's frame and waits for IMS."""
    mech = in_a_call()
    mech.handle(FramePosted(3, 0, 1), 700)
    assert mech.reading_ims
    return mech


@pytest.mark.parametrize(
    ("make", "message", "error"),
    [
        (in_a_call, SystemCall(4, bytes(64), "generator"), UnexpectedMessage),  # one at a time
        (in_a_call, FramePosted(9, 0, 1), UnexpectedMessage),  # another frame
        (in_a_call, FrameRefused(9, "no_descriptor"), UnexpectedMessage),
        (in_a_call, MemoryData("ims", (bytes(4),)), UnexpectedMessage),  # not reading IMS
        (reading_ims, FramePosted(3, 0, 1), UnexpectedMessage),  # answered already
        (reading_ims, FrameRefused(3, "no_descriptor"), UnexpectedMessage),
        (reading_ims, MemoryData("other", (bytes(4),)), UnexpectedMessage),
        (reading_ims, MemoryData("ims", (bytes(2),)), IllegalValue),  # IMS is 4 bytes
        (reading_ims, MemoryData("ims", ()), IllegalValue),
    ],
    ids=lambda value: getattr(value, "__name__", repr(value)[:50]),
)
def test_an_illegal_input_is_refused_and_changes_nothing(
    make: Callable[[], DebugSupportMechanism],
    message: MechanismInput,
    error: type[MintactorsError],
) -> None:
    """A second call, an answer for another frame or a short IMS read leaves the call as it was."""
    mech = make()
    before = plain_state(mech)
    with pytest.raises(error):
        mech.handle(message, 800)
    assert plain_state(mech) == before


@pytest.mark.parametrize("kind", message_kinds_outside(MechanismInput), ids=lambda k: k.__name__)
def test_a_message_outside_its_input_is_refused_and_changes_nothing(kind: type) -> None:
    """A mis-wired machine's message (not a MechanismInput) is an UnexpectedMessage."""
    mech = reading_ims()
    before = plain_state(mech)
    with pytest.raises(UnexpectedMessage):
        mech.handle(example_message(kind), 800)  # type: ignore[arg-type]
    assert plain_state(mech) == before
