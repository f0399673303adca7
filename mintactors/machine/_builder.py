"""Build the Mint debugging environment from a config: components wired as actors.

:func:`build_machine` is a short sequence of per-subsystem builders: memory (and,
under the ``tso`` memory model, one store buffer per core), the cores with their
local APICs, the receive ring, the NIC source (the registry
entry ``nic.source`` names adds its own actors), the driver, and the receive
side. Actor names are the constants of :mod:`mintactors.names`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import IO, Any

import attrs

from mintactors import names
from mintactors.config import Config
from mintactors.distributions import Fixed, sampler
from mintactors.hardware.apic import LocalApic
from mintactors.hardware.cpu import CpuCore
from mintactors.hardware.memory import MemoryRegion, PhysicalMemory
from mintactors.hardware.rx_ring import RxRing
from mintactors.hardware.store_buffer import StoreBuffer
from mintactors.kernel.app import ReceivingApp
from mintactors.kernel.drivers import (
    DriverCosts,
    DriverCrash,
    DriverShell,
    NetRxLimits,
    driver_crash,
)
from mintactors.kernel.frames import FrameLedger
from mintactors.kernel.generator import Generator
from mintactors.kernel.injection import Injector
from mintactors.kernel.mechanism import DebugSupportMechanism
from mintactors.kernel.socket import UdpSocket
from mintactors.machine._snapshot import MachineSnapshot, snapshot_machine
from mintactors.machine._traffic import (
    TrafficPlan,
    build_injector,
    generator_instants,
    plan_traffic,
    replay_files,
)
from mintactors.messages import Start
from mintactors.runtime import PctPolicy, Simulation, TraceLevel, TraceSink, rng_stream
from mintactors.sources import InstalledSource, MintTraffic, SourceWiring

__all__ = ["Machine", "build_machine"]


@attrs.define
class Machine:
    """A built machine: the simulation and direct handles on its components."""

    config: Config
    simulation: Simulation
    memory: PhysicalMemory
    cores: tuple[CpuCore, ...]
    apics: tuple[LocalApic, ...]
    ring: RxRing
    source: InstalledSource
    driver: DriverShell
    socket: UdpSocket
    app: ReceivingApp
    injector: Injector | None = None
    #: Each core's store buffer, by core number (memory model ``tso``; else empty).
    store_buffers: tuple[StoreBuffer, ...] = ()

    def snapshot(self) -> MachineSnapshot:
        """Every component's state and the messages in flight, now (between deliveries)."""
        return snapshot_machine(self)

    @property
    def target_core(self) -> int:
        """The core the driver runs on."""
        return self.config.machine.target_core

    @property
    def debug_core(self) -> int:
        """The debug-support node's core."""
        return self.config.machine.debug_core

    def _mint(self) -> MintTraffic:
        if not isinstance(self.source, MintTraffic):
            raise AttributeError(
                f'this machine\'s NIC source is "{self.config.nic.source}": '
                "it has no generator or debug-support mechanism"
            )
        return self.source

    @property
    def generator(self) -> Generator:
        """The interrupt generator (``nic.source = "mint"`` only)."""
        return self._mint().generator

    @property
    def mechanism(self) -> DebugSupportMechanism:
        """The debug-support mechanism (``nic.source = "mint"`` only)."""
        return self._mint().mechanism


def _simulation(
    config: Config,
    trace_stream: IO[str] | None,
    metadata: Mapping[str, Any] | None,
    fingerprint: bool,
) -> Simulation:
    level = _trace_level(config)
    sink = TraceSink(trace_stream, level) if trace_stream is not None else TraceSink.off()
    profile = config.costs_profile
    header = {
        "config_source": config.source,
        "profile": f"{profile.name} v{profile.version}",
        "replay_files": replay_files(config),
    }
    simulation = config.simulation
    policy: str | PctPolicy = simulation.policy
    if policy == "pct":
        # The registry's pct has the default d and k; the config may tune both.
        tie_break = rng_stream(simulation.seed, "scheduler.tie-break")
        policy = PctPolicy(tie_break, simulation.pct_depth, simulation.pct_steps)
    return Simulation(
        seed=simulation.seed,
        policy=policy,
        trace=sink,
        metadata={**header, **(metadata or {})},
        fingerprint=fingerprint,
    )


def _add_memory(sim: Simulation, config: Config) -> PhysicalMemory:
    """Each node's private range, and the shared range every node may use."""
    machine = config.machine
    regions = [
        MemoryRegion(f"node{n.id}", n.memory_base, n.memory_size, frozenset({n.id}))
        for n in machine.nodes
    ]
    everyone = frozenset(n.id for n in machine.nodes)
    regions.append(MemoryRegion("shared", machine.shared.base, machine.shared.size, everyone))
    memory = PhysicalMemory(
        regions=regions,
        latency_ns=config.costs_profile.memory_latency_ns,
        registers_base=config.layout.base,
    )
    sim.add_actor(names.MEMORY, memory)
    return memory


def _trace_level(config: Config) -> TraceLevel:
    """The run's trace level: components build no note the trace would not keep."""
    return TraceLevel[config.simulation.trace.upper()]


def _add_store_buffers(config: Config, memory: PhysicalMemory) -> tuple[StoreBuffer, ...]:
    """Under ``tso``, one FIFO store buffer per core, draining into memory; else none."""
    settings = config.memory
    if not settings.tso:
        return ()
    machine = config.machine
    owner = {core: node.id for node in machine.nodes for core in node.cores}
    drain = settings.drain_distribution(config.costs_profile)
    level = _trace_level(config)
    buffers = []
    for c in range(machine.cores):
        buffer = StoreBuffer(
            core=names.core(c),
            node=owner.get(c, -1),
            capacity=settings.store_buffer_entries,
            drain_ns=sampler(drain, rng_stream(config.simulation.seed, f"core{c}.store_buffer")),
            memory_actor=names.MEMORY,
            trace_level=level,
        )
        memory.attach(buffer)
        buffers.append(buffer)
    return tuple(buffers)


def _add_cores(
    sim: Simulation, config: Config, buffers: tuple[StoreBuffer, ...]
) -> tuple[list[CpuCore], list[LocalApic]]:
    """Every core and its local APIC; the target core's IDT routes the vector to the driver."""
    profile = config.costs_profile
    machine = config.machine
    latency = config.apic.ipi_latency or Fixed(profile.ipi_latency_ns)
    peers = {c: names.apic(c) for c in range(machine.cores)}
    vector = config.apic.vector
    level = _trace_level(config)
    cores, apics = [], []
    for c in range(machine.cores):
        apic = LocalApic(
            apic_id=c,
            name=names.apic(c),
            peers=peers,
            latency=sampler(latency, rng_stream(config.simulation.seed, f"apic{c}.latency")),
            trace_level=level,
        )
        core = CpuCore(
            core_id=c,
            name=names.core(c),
            apic=apic,
            idt={vector: names.DRIVER} if c == machine.target_core else {},
            irq_entry_ns=profile.irq_entry_ns,
            irq_exit_ns=profile.irq_exit_ns,
            sched_slice_ns=profile.sched_slice_ns,
            store_buffer=buffers[c] if buffers else None,
            next_due=sim.next_due_ns if config.simulation.lookahead else None,
            trace_level=level,
        )
        sim.add_actor(names.core(c), core)
        sim.add_actor(names.apic(c), apic)
        cores.append(core)
        apics.append(apic)
    return cores, apics


def _driver_masks(config: Config) -> bool:
    """The driver masks its interrupt through IMS and reads its causes from ICR."""
    source = config.driver.source
    assert source is not None, "config was not loaded through parse_config"
    return source.cls.masks_interrupts


def _add_ring(
    sim: Simulation, config: Config, memory: PhysicalMemory, buffers: tuple[StoreBuffer, ...]
) -> RxRing:
    """The ring engine; it writes as the node of whoever fills the ring.

    Filled by the debug core's CPU (Mint), its stores go through that core's store
    buffer under ``tso``; a real NIC's DMA is coherent and bypasses them.
    """
    nic = config.nic
    machine = config.machine
    dma = nic.source_params.device_dma
    ring = RxRing(
        name=names.RX_RING,
        layout=config.layout,
        memory=memory,
        memory_actor=names.MEMORY,
        load_ns=config.costs_profile.memory_latency_ns,
        # A real NIC is a device of the target node; its DMA writes as that node.
        node=machine.target_node if dma else machine.debug_node,
        writeback_ns=config.costs_profile.descriptor_writeback_ns,
        no_buffer=nic.no_buffer,
        block_poll_ns=nic.block_poll_ns,
        latch_cause=_driver_masks(config) and nic.source_params.emulates_ims,
        store_buffer=buffers[machine.debug_core] if buffers and not dma else None,
        trace_level=_trace_level(config),
    )
    sim.add_actor(names.RX_RING, ring)
    return ring


def _add_nic_source(
    sim: Simulation,
    config: Config,
    traffic: TrafficPlan,
    instants: Iterator[int] | None,
    hardware: tuple[PhysicalMemory, list[LocalApic], tuple[StoreBuffer, ...]],
) -> InstalledSource:
    """Whatever ``nic.source`` names installs its own actors."""
    machine = config.machine
    driver = config.driver.source
    assert driver is not None, "config was not loaded through parse_config"
    memory, apics, buffers = hardware
    wiring = SourceWiring(
        add=sim.add_actor,
        memory=memory,
        apics=tuple(apics),
        frames=traffic.frames,
        injected_frames=traffic.injected_frames,
        instants=instants if instants is not None else generator_instants(config),
        count=config.generator.count,
        profile=config.costs_profile,
        layout=config.layout,
        vector=config.apic.vector,
        debug_core=machine.debug_core,
        debug_node=machine.debug_node,
        target_core=machine.target_core,
        target_node=machine.target_node,
        driver_masks=driver.cls.masks_interrupts,
        trace_frames=config.simulation.trace_frames,
        trace_level=_trace_level(config),
        packet_injections=any(i.action == "packet" for i in config.inject),
        build=config.generator.build,
        store_buffers=buffers,
    )
    return config.nic.source_params.install(wiring)


def _add_driver(
    sim: Simulation,
    config: Config,
    hardware: tuple[PhysicalMemory, list[LocalApic], tuple[StoreBuffer, ...]],
    injector: Injector | None,
) -> DriverShell:
    """The driver ``driver.kind`` names, in its kernel shell, on the target node and core."""
    profile = config.costs_profile
    machine = config.machine
    source = config.driver.source
    assert source is not None, "config was not loaded through parse_config"
    costs = DriverCosts(
        descriptor_ns=profile.driver_descriptor_ns,
        skb_alloc_ns=profile.skb_alloc_ns,
        stack_ns=profile.stack_ns,
        refill_ns=profile.refill_ns,
        eoi_ns=profile.eoi_ns,
        load_ns=profile.memory_latency_ns,
        mb_ns=profile.mb_ns,
        rmb_ns=profile.rmb_ns,
        wmb_ns=profile.wmb_ns,
        handup_ns=profile.handup_ns,
    )
    limits = NetRxLimits(
        stack_ns=profile.stack_ns,
        softirq_entry_ns=profile.softirq_entry_ns,
        netdev_budget=profile.netdev_budget,
        netdev_budget_usecs=profile.netdev_budget_usecs,
        netdev_max_backlog=profile.netdev_max_backlog,
        dev_weight=profile.dev_weight,
    )
    memory, apics, buffers = hardware
    try:
        driver = source.cls(ring_size=config.nic.ring_size, refill_batch=config.driver.refill_batch)
    except Exception as exc:  # a user's constructor: name its line, not ours
        raise DriverCrash(f"creating the driver failed: {driver_crash(exc)}") from exc
    shell = DriverShell(
        name=names.DRIVER,
        driver=driver,
        node=machine.target_node,
        core=names.core(machine.target_core),
        memory=memory,
        memory_actor=names.MEMORY,
        socket=names.SOCKET,
        layout=config.layout,
        costs=costs,
        # The copy from the receive buffer into the skb (recv_copy_points if given).
        copy_ns=profile.recv_copy_ns,
        limits=limits,
        apic=apics[machine.target_core],
        ksoftirqd=names.ksoftirqd(machine.target_core),
        step_hook=injector,
        trace_level=_trace_level(config),
        store_buffer=buffers[machine.target_core] if buffers else None,
        uc_load_drains=config.memory.uc_load_drains,
        next_due=sim.next_due_ns if config.simulation.lookahead else None,
        iret_ns=profile.irq_exit_ns,
    )
    sim.add_actor(names.DRIVER, shell)
    return shell


def _add_receiver(
    sim: Simulation, config: Config, ledger: FrameLedger | None
) -> tuple[UdpSocket, ReceivingApp]:
    """The UDP socket and the application reading it, on the target core."""
    profile = config.costs_profile
    level = _trace_level(config)
    socket = UdpSocket(
        reader=names.APP, rcvbuf=config.socket.rcvbuf, name=names.SOCKET, trace_level=level
    )
    app = ReceivingApp(
        name=names.APP,
        core=names.core(config.machine.target_core),
        socket=names.SOCKET,
        recv_ns=profile.app_recv_ns,
        copy_ns=profile.copy_ns,
        verify=config.app.verify,
        ledger=ledger,
        note_frames=config.simulation.trace_frames,
        trace_level=level,
    )
    # The app's thread enters recv, and recv wakes it, by direct calls.
    socket.waiting_reader, app.socket_calls = app, socket
    sim.add_actor(names.SOCKET, socket)
    sim.add_actor(names.APP, app)
    return socket, app


def build_machine(
    config: Config,
    trace_stream: IO[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    instants: Iterator[int] | None = None,
    *,
    fingerprint: bool = False,
) -> Machine:
    """Wire every component of the environment described by ``config``.

    Args:
        config: the experiment.
        trace_stream: where the trace goes (None: no trace).
        metadata: extra trace-header fields.
        instants: planned send times overriding the config's timing pattern.
        fingerprint: record the schedule's fingerprint (see :class:`Simulation`).
    """
    sim = _simulation(config, trace_stream, metadata, fingerprint)
    memory = _add_memory(sim, config)
    buffers = _add_store_buffers(config, memory)
    cores, apics = _add_cores(sim, config, buffers)
    ring = _add_ring(sim, config, memory, buffers)
    traffic = plan_traffic(config)
    source = _add_nic_source(sim, config, traffic, instants, (memory, apics, buffers))
    injector = build_injector(config, source.packet_actor)
    driver = _add_driver(sim, config, (memory, apics, buffers), injector)
    socket, app = _add_receiver(sim, config, traffic.ledger)
    for name in (names.DRIVER, names.APP, *source.start):
        sim.post(name, Start())
    return Machine(
        config=config,
        simulation=sim,
        memory=memory,
        cores=tuple(cores),
        apics=tuple(apics),
        ring=ring,
        source=source,
        driver=driver,
        socket=socket,
        app=app,
        injector=injector,
        store_buffers=buffers,
    )
