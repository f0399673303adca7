"""The whole machine at one instant: every component's snapshot and the messages in flight.

A component's state changes only when it handles a message, so between two
deliveries the machine is exactly the set of its components' snapshots plus the
deliveries still queued in the runtime. :func:`snapshot_machine` gathers both, in
a fixed order: cores and their APICs, memory, the ring, the NIC source's actors,
the driver, the socket and the application.

Components are named as in the trace, except the receive ring, which a developer
calls ``ring`` (its actor is ``rx_ring``): ``core1``, ``apic1``, ``memory``,
``ring``, ``generator``, ``mechanism``, ``driver``, ``socket``, ``app`` (and
``link``, ``nic`` for the real NIC). A component added to the machine with a
``snapshot()`` method appears here by its actor name with nothing else to change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

from mintactors import names
from mintactors.hardware.memory import MemorySnapshot
from mintactors.hardware.rx_ring import RxRing
from mintactors.hardware.snapshots import ApicSnapshot, CoreSnapshot, RingSnapshot
from mintactors.kernel.generator import Generator
from mintactors.kernel.snapshots import DriverSnapshot, SocketSnapshot
from mintactors.runtime import to_jsonable

if TYPE_CHECKING:
    from mintactors.machine._builder import Machine

__all__ = [
    "RING",
    "InFlight",
    "MachineSnapshot",
    "component_name",
    "snapshot_component",
    "snapshot_machine",
    "snapshot_names",
    "snapshot_reader",
]

#: The receive ring's name in a snapshot.
RING = "ring"

#: Byte fields of messages in flight longer than this are shown as a digest.
_BYTES_SHOWN = 64


def component_name(actor: str) -> str:
    """The snapshot name of actor ``actor`` (``rx_ring`` is ``ring``; others unchanged)."""
    return RING if actor == names.RX_RING else actor


class _Snapshotting(Protocol):
    def snapshot(self) -> object: ...


@attrs.frozen
class InFlight:
    """A message queued in the runtime: sent, not yet delivered.

    Attributes:
        t_ns: when it is due.
        to: the receiving actor.
        kind: the message's kind.
        source: the sending actor (``runtime`` for posts from outside the model).
        fields: the message's fields as the trace would write them.
    """

    t_ns: int
    to: str
    kind: str
    source: str
    fields: Mapping[str, Any]


@attrs.frozen
class MachineSnapshot:
    """The machine between two deliveries.

    Attributes:
        t_ns: virtual time.
        delivered: deliveries made so far.
        components: each component's snapshot, by name, in machine order.
        in_flight: messages queued in the runtime, in delivery order.
    """

    t_ns: int
    delivered: int
    components: Mapping[str, object]
    in_flight: tuple[InFlight, ...]

    def __getitem__(self, name: str) -> object:
        """The snapshot of component ``name``."""
        return self.components[name]

    @property
    def ring(self) -> RingSnapshot:
        """The receive ring, with the driver's indices."""
        return _typed(self.components[RING], RingSnapshot)

    @property
    def memory(self) -> MemorySnapshot:
        """Physical memory and the register block."""
        return _typed(self.components[names.MEMORY], MemorySnapshot)

    @property
    def driver(self) -> DriverSnapshot:
        """The driver and NET_RX."""
        return _typed(self.components[names.DRIVER], DriverSnapshot)

    @property
    def socket(self) -> SocketSnapshot:
        """The socket's queue."""
        return _typed(self.components[names.SOCKET], SocketSnapshot)

    def core(self, n: int) -> CoreSnapshot:
        """CPU core ``n``."""
        return _typed(self.components[names.core(n)], CoreSnapshot)

    def apic(self, n: int) -> ApicSnapshot:
        """Core ``n``'s local APIC."""
        return _typed(self.components[names.apic(n)], ApicSnapshot)


_T = TypeVar("_T")


def _typed(value: object, cls: type[_T]) -> _T:
    if not isinstance(value, cls):
        raise TypeError(f"expected a {cls.__name__}, found {type(value).__name__}")
    return value


def snapshot_reader(machine: Machine, name: str) -> Callable[[], object]:
    """A function that takes one component's snapshot, by its snapshot name, when called.

    The component is found once, so a caller that snapshots it after every delivery
    (a watch) pays for the snapshot only.

    Raises:
        KeyError: no component of that name has a snapshot.
    """
    sim = machine.simulation
    actor = names.RX_RING if name == RING else name
    if actor not in sim.actor_names:
        raise KeyError(name)
    component = sim.component(actor)
    if isinstance(component, RxRing):
        ring, driver = component, machine.driver.driver
        return lambda: ring.snapshot(
            next_to_clean=driver.next_to_clean,
            next_to_use=driver.next_to_use,
            now_ns=sim.now_ns,
        )
    if isinstance(component, Generator):
        generator = component
        return lambda: generator.snapshot(now_ns=sim.now_ns)
    if not hasattr(component, "snapshot"):
        raise KeyError(name)
    return _as_snapshotting(component).snapshot


def snapshot_component(machine: Machine, name: str) -> object:
    """The snapshot of one component, by its snapshot name.

    Raises:
        KeyError: no component of that name has a snapshot.
    """
    return snapshot_reader(machine, name)()


def _as_snapshotting(component: object) -> _Snapshotting:
    return component  # type: ignore[return-value]  # checked by hasattr above


def snapshot_names(machine: Machine) -> tuple[str, ...]:
    """The names of the components that have a snapshot, in machine order."""
    sim = machine.simulation
    actors = sim.actor_names
    cores = [a for c in range(len(machine.cores)) for a in (names.core(c), names.apic(c))]
    rest = [a for a in actors if a not in cores]
    tail = [a for a in (names.DRIVER, names.SOCKET, names.APP) if a in rest]
    middle = [a for a in rest if a not in tail]
    ordered = [*cores, *middle, *tail]
    return tuple(component_name(a) for a in ordered if hasattr(sim.component(a), "snapshot"))


def snapshot_machine(machine: Machine) -> MachineSnapshot:
    """Every component's snapshot and the messages in flight, now."""
    sim = machine.simulation
    components = {name: snapshot_component(machine, name) for name in snapshot_names(machine)}
    in_flight = tuple(
        InFlight(d.t_ns, d.actor, d.kind, d.source, _fields(d.message)) for d in sim.in_flight()
    )
    return MachineSnapshot(sim.now_ns, sim.delivered, components, in_flight)


def _fields(message: object) -> dict[str, Any]:
    """A message's fields as the trace writes a delivery's (long bytes as a digest)."""
    if not attrs.has(type(message)):
        return {"value": repr(message)}
    value = to_jsonable(message, _BYTES_SHOWN)
    assert isinstance(value, dict)
    return value
