"""The two OS nodes' software, as pure components.

Debug-support OS: the interrupt generator and the debug-support mechanism. Debug-target
OS: the NIC driver, the UDP socket and the receiving application.
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
from mintactors.kernel.generator import Generator, GeneratorStatistics
from mintactors.kernel.mechanism import DebugSupportMechanism, MechanismStatistics
from mintactors.kernel.socket import SocketStatistics, UdpSocket

__all__ = [
    "AppStatistics",
    "DebugSupportMechanism",
    "DriverCosts",
    "DriverStatistics",
    "Generator",
    "GeneratorStatistics",
    "HANDLER_STEPS",
    "MechanismStatistics",
    "PaperDriver",
    "ReceivingApp",
    "RxDriver",
    "SocketStatistics",
    "UdpSocket",
    "skb_truesize",
]
