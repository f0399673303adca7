"""The two OS nodes' software, as pure components.

Debug-support OS: the interrupt generator and the debug-support mechanism. Debug-target
OS: the NIC driver (:mod:`mintactors.kernel.drivers`: drivers written like the C
driver, and the kernel shell that runs them), the UDP socket and the receiving
application. Also the generator's timing patterns and the injections at driver steps.
"""

from mintactors.kernel.app import AppStatistics, ReceivingApp
from mintactors.kernel.drivers import (
    DRIVERS,
    DriverContext,
    DriverCosts,
    DriverShell,
    DriverStatistics,
    IrqReturn,
    RxDriver,
    load_driver,
)
from mintactors.kernel.frames import FrameLedger
from mintactors.kernel.generator import BUILD_MODES, BuildMode, Generator, GeneratorStatistics
from mintactors.kernel.injection import Injection, Injector
from mintactors.kernel.mechanism import (
    DebugSupportMechanism,
    InterruptMaskRegisters,
    MechanismStatistics,
)
from mintactors.kernel.patterns import PATTERNS
from mintactors.kernel.socket import SocketStatistics, UdpSocket, skb_truesize

__all__ = [
    "AppStatistics",
    "BUILD_MODES",
    "BuildMode",
    "DRIVERS",
    "DebugSupportMechanism",
    "DriverContext",
    "DriverCosts",
    "DriverShell",
    "DriverStatistics",
    "FrameLedger",
    "Generator",
    "GeneratorStatistics",
    "Injection",
    "Injector",
    "InterruptMaskRegisters",
    "IrqReturn",
    "MechanismStatistics",
    "PATTERNS",
    "ReceivingApp",
    "RxDriver",
    "SocketStatistics",
    "UdpSocket",
    "load_driver",
    "skb_truesize",
]
