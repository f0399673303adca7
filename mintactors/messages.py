"""Every message the model's actors exchange, as attrs records.

Messages are values: compared by their fields, hashable, never changed once sent.
Like the effects (:mod:`mintactors.effects`) they are nevertheless plain slotted
classes, not frozen ones, because a packet's trip makes about twenty of them and a
frozen class's ``__init__`` (``object.__setattr__`` per field) costs more than twice
as much; treat every field as read-only.

Commands are in the imperative (``WriteIcr``, ``PostFrame``), facts in the past
tense (``FramePosted``, ``TaskDone``). A message's class name is its ``kind`` in
the trace. Grouped by the component that receives them; at the end, one union per
receiving component (``ApicInput`` ...) names every message its ``handle`` takes.

The steps a component sends itself and the labels of task work are ``StrEnum``
members: a member is its string, so a trace shows ``"iret_done"`` as before.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeAlias

import attrs

__all__ = [
    "AcceptInterrupt",
    "ApicInput",
    "AppInput",
    "CoreInput",
    "CoreStep",
    "CoreStepKind",
    "DeviceInterrupt",
    "DrainStores",
    "DriverInput",
    "DriverResume",
    "FrameArrived",
    "FramePosted",
    "FrameRefused",
    "GeneratorInput",
    "InjectPacket",
    "InterruptEntry",
    "InterruptReturn",
    "IpiMessage",
    "LinkInput",
    "LatchedCauseUnmasked",
    "MechanismInput",
    "MechanismStep",
    "MechanismStepKind",
    "MemoryInput",
    "MemoryWrite",
    "NetifReceive",
    "NicInput",
    "NicStep",
    "NicStepKind",
    "PostFrame",
    "Recv",
    "RingInput",
    "RingStep",
    "RingStepKind",
    "RunTask",
    "SendPacket",
    "SkbDelivered",
    "SocketBuffer",
    "SocketInput",
    "Start",
    "SystemCall",
    "SystemCallReturn",
    "TaskDone",
    "TaskLabel",
    "WriteEoi",
    "WriteIcr",
]


# --- to anyone -------------------------------------------------------------------


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class Start:
    """Posted to every actor at t=0: begin (boot, init, first send)."""


# --- shared memory -----------------------------------------------------------------


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class Completion:
    """What a writer asks memory to send once its posted write has landed.

    A device's write-back and the message that announces it travel one path, so
    the announcement is never seen before the data (PCIe orders a posted write
    ahead of the later writes of the same requester, an MSI among them). Memory
    sends ``message`` to ``to`` in the delivery that applies the write, as ``sender``,
    and writes the sender's note ``note`` (a note kind; "" for none) with ``fields``
    then, so that the trace has it after the write.
    """

    to: str
    message: object
    sender: str
    note: str = ""
    fields: tuple[tuple[str, object], ...] = ()


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class MemoryWrite:
    """Posted stores by OS node ``node``: each ``(addr, data)`` in order.

    Like a sequence of CPU stores, each is checked on its own: a refused one changes
    nothing and is recorded. (Loads are not messages: a loader reads memory at the
    instant of its load, :meth:`~mintactors.hardware.memory.PhysicalMemory.load`.)
    No reply, unless the writer asks for a ``then`` (see :class:`Completion`).
    """

    node: int
    writes: tuple[tuple[int, bytes], ...]
    then: Completion | None = None


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class DrainStores:
    """Drain core ``core``'s store buffer through entry ``upto``, oldest first (x86-TSO).

    Posted by the store that made entry ``upto``, due at its drain instant (see
    :mod:`mintactors.hardware.store_buffer`). Entries a fence has already applied
    are not applied again.
    """

    core: str
    upto: int


# --- NIC receive ring (the device side) --------------------------------------------


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class PostFrame:
    """Put ``frame`` into the RX ring: buffers, descriptors, DD last.

    ``copy_ns`` is how long moving the bytes takes for this producer (a CPU memcpy
    for the debug-support mechanism, DMA for a real NIC). The ring answers
    ``reply_to`` with :class:`FramePosted` or :class:`FrameRefused`.
    """

    seq: int
    frame: bytes
    copy_ns: int
    reply_to: str


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class FramePosted:
    """The frame is in the ring: descriptors ``first`` .. ``first+count-1`` have DD set."""

    seq: int
    first: int
    count: int


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class FrameRefused:
    """The ring could not take the frame (``reason``: ``no_descriptor``)."""

    seq: int
    reason: str


class RingStepKind(StrEnum):
    """The ring engine's timers, each ending one phase of posting a frame."""

    POLL = "poll"  # under ``block``: time to re-read RDT
    WRITTEN = "written"  # the frame and its descriptors are written back, DD set


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class RingStep:
    """The ring's own continuation: the next step of posting the current frame."""

    step: RingStepKind


class MechanismStepKind(StrEnum):
    """The debug-support mechanism's timers."""

    FENCED = "fenced"  # its full barrier saw the core's store buffer drained


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class MechanismStep:
    """The mechanism's own continuation: the next step of the system call in progress."""

    step: MechanismStepKind


# --- Ethernet link and the real NIC's receive side ------------------------------------


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class FrameArrived:
    """The last bit of a frame (FCS included) reached the NIC's receive MAC.

    ``frame`` is the frame without its FCS: the MAC checks and strips it
    (``RCTL.SECRC``), so the ring holds the same bytes as on the Mint path.
    """

    seq: int
    frame: bytes


class NicStepKind(StrEnum):
    """The real NIC's timers."""

    THROTTLE_EXPIRED = "throttle_expired"  # the ITR interval ended


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class NicStep:
    """The NIC's own continuation (the interrupt-throttle timer expiring)."""

    step: NicStepKind


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class DeviceInterrupt:
    """An edge interrupt message from device ``device`` to a local APIC (MSI-style).

    Like a fixed IPI it sets ``IRR[vector]``, merging into a bit already set.
    """

    vector: int
    device: str


# --- local APIC and CPU core --------------------------------------------------------


# The core's side of its local APIC is wired inside the chip: these three are the
# records of those register accesses (for errors and tests), not messages.


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class WriteIcr:
    """Software on a core writes its APIC's ICR: send fixed IPI ``vector`` to ``destination``.

    ``seq`` is instrumentation, not hardware: the packet whose send caused the write,
    carried along so the trace can follow one packet from ICR write to handler.
    """

    vector: int
    destination: int
    seq: int = -1


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class IpiMessage:
    """An IPI on the interrupt bus, from APIC ``source`` (``seq``: as in WriteIcr)."""

    vector: int
    source: int
    seq: int = -1


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class AcceptInterrupt:
    """Core to its APIC: the interrupt-acknowledge cycle for ``vector`` (IRR to ISR)."""

    vector: int


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class WriteEoi:
    """The handler writes the APIC's EOI register: clear the highest ISR bit."""


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class LatchedCauseUnmasked:
    """Register block to the emulated NIC: IMS now enables ``causes`` latched in ICR."""

    causes: int


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class InterruptEntry:
    """Core to the handler registered for ``vector``: the handler starts, IF=0.

    ``from_idle``: the core had no work running, paused or waiting when it took
    the interrupt (it came from the idle loop).
    """

    vector: int
    core: int
    from_idle: bool = False


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class InterruptReturn:
    """Handler to its core: ``iret``; the core restores IF and resumes what it was doing.

    ``eoi``: the handler wrote the APIC's EOI just before (the core's own register,
    so the core clears the in-service bit as it takes the return). ``softirq``:
    softirq work the handler raised, which ``irq_exit`` runs before the
    interrupted work resumes.
    """

    eoi: bool = True
    softirq: RunTask | None = None


class CoreStepKind(StrEnum):
    """The core's timers."""

    TASK_DONE = "task_done"  # the running task's work is done
    IRET_DONE = "iret_done"  # ``iret`` completed: IF=1 again
    TASK_YIELD = "task_yield"  # work ended and its owner may queue more: choose now


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class CoreStep:
    """The core's own continuation (end of a task slice, end of ``iret``)."""

    step: CoreStepKind


class TaskLabel(StrEnum):
    """The fixed labels of task work (:class:`RunTask`) the model's applications run.

    ``RunTask.label`` stays a ``str``: the NAPI driver labels its poll work with
    plain step names.
    """

    BUILD = "build"  # the generator builds a frame
    RECV = "recv"  # the receiving application takes one frame


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class RunTask:
    """Run ``cost_ns`` of task-level work for ``owner`` on this core.

    Work runs one piece at a time, softirq work (``priority`` 0) before thread work
    (1), and is paused while an interrupt handler runs. Thread work belongs to
    ``thread`` (default: the owner), the unit the core shares its time between.
    When the work is done the core sends :class:`TaskDone` with ``label`` to
    ``owner``, unless ``notify`` is false (an owner that has already done, ahead of
    time, everything that follows this work).
    """

    owner: str
    cost_ns: int
    label: str
    priority: int = 1
    thread: str = ""
    notify: bool = True


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class TaskDone:
    """The task work ``label`` finished; it began at ``started_ns``."""

    label: str
    started_ns: int


# --- debug-support OS: generator and mechanism --------------------------------------


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class SendPacket:
    """The generator's own timer: time to send packet ``seq``."""

    seq: int


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class InjectPacket:
    """An injection at a driver step asks the generator for one more packet now."""


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class SystemCall:
    """The generator enters the debug-support system call with one frame.

    The call runs in the generator's own thread, so this is the record of a direct
    call (:meth:`~mintactors.kernel.mechanism.DebugSupportMechanism.enter`), not a
    message.
    """

    seq: int
    frame: bytes
    caller: str


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class SystemCallReturn:
    """The system call returns: ``result`` is ``ok`` or the drop reason."""

    seq: int
    result: str
    entered_ns: int


# --- debug-target OS: driver, socket, application -----------------------------------


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class DriverResume:
    """The driver's own timer: its code's next instant has come (a load waits for it)."""


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class SocketBuffer:
    """An skb: the received frame and what the socket charges for it.

    ``seq`` is decoded from the payload header for tracing (None if unreadable).
    """

    data: bytes
    truesize: int
    seq: int | None
    queued_ns: int


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class NetifReceive:
    """The driver hands an skb up the stack to the receiving socket."""

    skb: SocketBuffer


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class Recv:
    """The application asks its socket for the next skb (blocking ``recvmsg``)."""


@attrs.define(slots=True, unsafe_hash=True)  # not frozen: see the module docstring
class SkbDelivered:
    """The socket hands the application one skb."""

    skb: SocketBuffer


# --- what each component takes: its handle's message parameter -------------------

#: :class:`~mintactors.hardware.apic.LocalApic`
ApicInput: TypeAlias = IpiMessage | DeviceInterrupt
#: :class:`~mintactors.hardware.cpu.CpuCore`
CoreInput: TypeAlias = InterruptReturn | CoreStep | RunTask
#: :class:`~mintactors.hardware.memory.PhysicalMemory`
MemoryInput: TypeAlias = MemoryWrite | DrainStores
#: :class:`~mintactors.hardware.rx_ring.RxRing`
RingInput: TypeAlias = PostFrame | RingStep
#: :class:`~mintactors.hardware.e1000.E1000Receiver`
NicInput: TypeAlias = FrameArrived | FramePosted | FrameRefused | NicStep
#: :class:`~mintactors.hardware.ethernet.LinkPartner`
LinkInput: TypeAlias = Start | SendPacket
#: :class:`~mintactors.kernel.generator.Generator`
GeneratorInput: TypeAlias = Start | SendPacket | InjectPacket | SystemCallReturn
#: :class:`~mintactors.kernel.mechanism.DebugSupportMechanism`
MechanismInput: TypeAlias = FramePosted | FrameRefused | LatchedCauseUnmasked | MechanismStep
#: :class:`~mintactors.kernel.socket.UdpSocket`
SocketInput: TypeAlias = NetifReceive | Recv
#: :class:`~mintactors.kernel.app.ReceivingApp`
AppInput: TypeAlias = Start | SkbDelivered | TaskDone

DriverInput: TypeAlias = Start | InterruptEntry | DriverResume | TaskDone
