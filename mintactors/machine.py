"""Build the Mint debugging environment from a config: components wired as actors.

Actor names are fixed, so traces and tools can rely on them:

=============  ================================================================
``core<N>``    CPU core N (:class:`~mintactors.hardware.cpu.CpuCore`)
``apic<N>``    its local APIC
``memory``     physical memory with the Mint partitions
``rx_ring``    the emulated NIC's receive ring engine
``generator``  the interrupt generator (application, debug-support node)
``mechanism``  the debug-support system call (kernel, debug-support node)
``driver``     the NIC driver's receive handler (kernel, target node)
``socket``     the receiving UDP socket (kernel, target node)
``app``        the receiving application (target node)
``link``       with ``nic.source = "e1000"``: the far host sending the traffic
``nic``        with ``nic.source = "e1000"``: the real NIC's receive side
=============  ================================================================

With ``nic.source = "e1000"`` the ring is filled by a real NIC's DMA (as the
target node's device) instead of the debug-support mechanism; the generator
application then has nothing to send (the link partner sends ``[generator]``'s
traffic), and the driver's vector is raised by the NIC's throttled interrupt
instead of an IPI. The driver, socket and application are the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

import attrs

from mintactors._build_debug import build_injector, generator_instants, plan_traffic, replay_files
from mintactors.config import Config
from mintactors.distributions import Fixed, sampler
from mintactors.hardware.apic import LocalApic
from mintactors.hardware.cpu import CpuCore
from mintactors.hardware.e1000 import E1000Receiver, dma_time
from mintactors.hardware.ethernet import LinkPartner
from mintactors.hardware.memory import MemoryRegion, PhysicalMemory
from mintactors.hardware.rx_ring import RxRing
from mintactors.kernel.app import ReceivingApp
from mintactors.kernel.driver import DriverCosts, RxDriver
from mintactors.kernel.frames import FrameSource
from mintactors.kernel.generator import Generator
from mintactors.kernel.injection import Injector
from mintactors.kernel.mechanism import DebugSupportMechanism, InterruptMaskRegisters
from mintactors.kernel.socket import UdpSocket
from mintactors.kernel.variants import DRIVER_VARIANTS
from mintactors.messages import Start
from mintactors.packets import FlowAddress, FrameFactory
from mintactors.runtime import Simulation, TraceLevel, TraceSink, rng_stream

__all__ = ["DRIVERS", "Machine", "build_machine"]

DriverFactory = Callable[..., RxDriver]
DRIVERS: dict[str, DriverFactory] = dict(DRIVER_VARIANTS)


def fixed_instants(start_ns: int, interval_ns: int) -> Iterator[int]:
    """start, start + interval, start + 2 interval, ..."""
    return (start_ns + k * interval_ns for k in itertools.count())


@attrs.define
class Machine:
    """A built machine: the simulation and direct handles on its components."""

    config: Config
    simulation: Simulation
    memory: PhysicalMemory
    cores: tuple[CpuCore, ...]
    apics: tuple[LocalApic, ...]
    ring: RxRing
    generator: Generator
    mechanism: DebugSupportMechanism
    driver: RxDriver
    socket: UdpSocket
    app: ReceivingApp
    injector: Injector | None = None
    link: LinkPartner | None = None
    nic: E1000Receiver | None = None


def _trace_metadata(config: Config) -> dict[str, Any]:
    profile = config.costs_profile
    return {
        "config_source": config.source,
        "profile": f"{profile.name} v{profile.version}",
        "replay_files": replay_files(config),
    }


def _add_real_nic(
    sim: Simulation,
    config: Config,
    frames: FrameSource,
    planned: Iterator[int],
    target_apic: str,
) -> tuple[LinkPartner, E1000Receiver]:
    """The link partner sending the traffic and the e1000 receiving it (``nic.source``)."""
    nic = config.nic
    link = LinkPartner(
        "nic",
        frames,
        planned,
        config.generator.count,
        nic.link_mbps,
        note_frames=config.simulation.trace_frames,
    )
    receiver = E1000Receiver(
        "nic",
        "rx_ring",
        target_apic,
        config.apic.vector,
        dma_time(nic.dma_mb_s),
        nic.itr,
        nic.interrupt_latency_ns,
    )
    sim.add_actor("link", link)
    sim.add_actor("nic", receiver)
    return link, receiver


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
        instants: planned send times overriding the generator's fixed interval.
        fingerprint: record the schedule's fingerprint (see :class:`Simulation`).
    """
    seed = config.simulation.seed
    level = TraceLevel[config.simulation.trace.upper()]
    sink = TraceSink(trace_stream, level) if trace_stream is not None else TraceSink.off()
    sim = Simulation(
        seed=seed,
        policy=config.simulation.policy,
        trace=sink,
        metadata={**_trace_metadata(config), **(metadata or {})},
        fingerprint=fingerprint,
    )
    profile = config.costs_profile
    machine = config.machine
    debug = machine.node(machine.debug_node)
    target = machine.node(machine.target_node)
    debug_core, target_core = debug.cores[0], target.cores[0]

    regions = [
        MemoryRegion(f"node{n.id}", n.memory_base, n.memory_size, frozenset({n.id}))
        for n in machine.nodes
    ]
    regions.append(
        MemoryRegion(
            "shared",
            machine.shared.base,
            machine.shared.size,
            frozenset(n.id for n in machine.nodes),
        )
    )
    memory = PhysicalMemory(regions, profile.memory_latency_ns)
    sim.add_actor("memory", memory)

    latency = config.apic.ipi_latency or Fixed(profile.ipi_latency_ns)
    apic_names = {c: f"apic{c}" for c in range(machine.cores)}
    vector = config.apic.vector
    cores, apics = [], []
    for c in range(machine.cores):
        idt = {vector: "driver"} if c == target_core else {}
        core = CpuCore(c, apic_names[c], idt, profile.irq_entry_ns, profile.irq_exit_ns)
        apic = LocalApic(
            c, f"core{c}", apic_names, sampler(latency, rng_stream(seed, f"apic{c}.latency"))
        )
        sim.add_actor(f"core{c}", core)
        sim.add_actor(apic_names[c], apic)
        cores.append(core)
        apics.append(apic)

    layout = config.layout
    nic = config.nic
    real_nic = nic.source == "e1000"
    ring = RxRing(
        "rx_ring",
        layout,
        "memory",
        # A real NIC is a device of the target node; its DMA writes as that node.
        node=target.id if real_nic else debug.id,
        writeback_ns=profile.descriptor_writeback_ns,
        no_buffer=nic.no_buffer,
        block_poll_ns=nic.block_poll_ns,
    )
    sim.add_actor("rx_ring", ring)

    gen = config.generator
    factories = [
        FrameFactory(
            gen.size,
            FlowAddress(
                gen.src_mac,
                gen.dst_mac,
                gen.src_ip,
                gen.dst_ip,
                (gen.src_port + i) % 65536,
                gen.dst_port,
            ),
        )
        for i in range(gen.flows)
    ]
    traffic = plan_traffic(config, factories)
    planned = instants if instants is not None else generator_instants(config)
    link, receiver = (
        _add_real_nic(sim, config, traffic.frames, planned, apic_names[target_core])
        if real_nic
        else (None, None)
    )
    generator = Generator(
        "generator",
        f"core{debug_core}",
        "mechanism",
        traffic.frames,
        iter(()) if real_nic else planned,
        0 if real_nic else gen.count,
        profile.frame_build_ns,
        traffic.injected_frames,
        note_frames=config.simulation.trace_frames,
    )
    sim.add_actor("generator", generator)
    mechanism = DebugSupportMechanism(
        "mechanism",
        "rx_ring",
        apic_names[debug_core],
        vector,
        target_core,
        profile.copy_ns,
        profile.syscall_entry_ns,
        profile.icr_write_ns,
        profile.syscall_exit_ns,
        mask_registers=_mask_registers(config, debug.id),
    )
    sim.add_actor("mechanism", mechanism)

    driver_costs = DriverCosts(
        descriptor_ns=profile.driver_descriptor_ns,
        skb_alloc_ns=profile.skb_alloc_ns,
        stack_ns=profile.stack_ns,
        refill_ns=profile.refill_ns,
        eoi_ns=profile.eoi_ns,
        copy_ns=profile.copy_ns,
        load_ns=profile.memory_latency_ns,
    )
    injector = build_injector(config, apic_names[target_core], debug_core)
    driver = DRIVERS[config.driver.kind](
        "driver",
        target.id,
        f"core{target_core}",
        apic_names[target_core],
        "memory",
        "socket",
        layout,
        driver_costs,
        config.driver.refill_batch,
        injector,
    )
    sim.add_actor("driver", driver)
    socket = UdpSocket("app", config.socket.rcvbuf)
    sim.add_actor("socket", socket)
    app = ReceivingApp(
        "app",
        f"core{target_core}",
        "socket",
        profile.app_recv_ns,
        profile.copy_ns,
        config.app.verify,
        traffic.ledger,
        note_frames=config.simulation.trace_frames,
    )
    sim.add_actor("app", app)

    for name in ("driver", "app", "generator", *(("link",) if real_nic else ())):
        sim.post(name, Start())
    return Machine(
        config=config,
        simulation=sim,
        memory=memory,
        cores=tuple(cores),
        apics=tuple(apics),
        ring=ring,
        generator=generator,
        mechanism=mechanism,
        driver=driver,
        socket=socket,
        app=app,
        injector=injector,
        link=link,
        nic=receiver,
    )


def _mask_registers(config: Config, node: int) -> InterruptMaskRegisters | None:
    """IMS/ICR emulation for driver variants that mask their interrupt."""
    if not DRIVER_VARIANTS[config.driver.kind].masks_interrupts:
        return None
    layout = config.layout
    return InterruptMaskRegisters("memory", node, layout.register("IMS"), layout.register("ICR"))
