"""The two OS nodes' software, as pure components.

Debug-support OS: the interrupt generator and the debug-support mechanism. Debug-target
OS: the NIC driver (in several variants), the UDP socket and the receiving application.
Also the generator's timing patterns and the injections at driver steps.
"""

from mintactors.kernel.app import AppStatistics, ReceivingApp
from mintactors.kernel.driver import (
    HANDLER_STEPS,
    DriverCosts,
    DriverStatistics,
    PaperDriver,
    RxDriver,
    skb_truesize,
)
from mintactors.kernel.frames import FrameLedger
from mintactors.kernel.generator import Generator, GeneratorStatistics
from mintactors.kernel.injection import Injection, Injector
from mintactors.kernel.mechanism import (
    DebugSupportMechanism,
    InterruptMaskRegisters,
    MechanismStatistics,
)
from mintactors.kernel.napi import NAPI_STEPS, LostWakeupDriver, NapiDriver, NapiStatistics
from mintactors.kernel.patterns import PATTERNS
from mintactors.kernel.socket import SocketStatistics, UdpSocket
from mintactors.kernel.variants import DRIVER_VARIANTS, OnePerIrqDriver, RingWrapDriver

__all__ = [
    "AppStatistics",
    "DRIVER_VARIANTS",
    "DebugSupportMechanism",
    "DriverCosts",
    "DriverStatistics",
    "FrameLedger",
    "Generator",
    "GeneratorStatistics",
    "HANDLER_STEPS",
    "Injection",
    "Injector",
    "InterruptMaskRegisters",
    "LostWakeupDriver",
    "MechanismStatistics",
    "NAPI_STEPS",
    "NapiDriver",
    "NapiStatistics",
    "OnePerIrqDriver",
    "PATTERNS",
    "PaperDriver",
    "ReceivingApp",
    "RingWrapDriver",
    "RxDriver",
    "SocketStatistics",
    "UdpSocket",
    "skb_truesize",
]
