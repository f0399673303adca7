"""Receive drivers written like the C driver, and the kernel machinery that runs them.

A driver is a subclass of :class:`RxDriver` whose handler and poll are sequential
generator code against a :class:`DriverContext` (``docs/drivers.md``); the
:class:`DriverShell` runs it as the driver's actor. The built-ins:

=================  ===================================================================
``paper``          the paper's handler: drain every descriptor with DD set per interrupt
``one-per-irq``    one descriptor per interrupt (merged IPIs leave frames behind)
``napi``           hard IRQ masks and schedules a poll with budget 64, which unmasks and
                   re-checks the ring after ``smp_mb()``
``napi-no-mb``     ``napi`` without the barrier before the re-check (buggy under ``tso``)
``lost-wakeup``    ``napi`` without the re-check (deliberately buggy)
``ring-wrap``      ``paper`` with an off-by-one at the ring's end (deliberately buggy)
=================  ===================================================================

A user's driver is named by ``driver.kind = "path/file.py:Class"`` or
``"package.module:Class"`` (:func:`load_driver`).
"""

from mintactors.hardware.nic import RxDescriptor
from mintactors.kernel.drivers.base import CLEAN_STEPS, IrqReturn, RxDriver
from mintactors.kernel.drivers.context import DriverContext, DriverCosts, Skb
from mintactors.kernel.drivers.crash import DriverCrash, driver_crash
from mintactors.kernel.drivers.loader import DRIVERS, DriverLoadError, DriverSource, load_driver
from mintactors.kernel.drivers.napi import (
    NAPI_STEPS,
    LostWakeupDriver,
    NapiDriver,
    NapiNoMbDriver,
)
from mintactors.kernel.drivers.ops import Code
from mintactors.kernel.drivers.paper import OnePerIrqDriver, PaperDriver, RingWrapDriver
from mintactors.kernel.drivers.shell import SHELL_STEPS, DriverShell, DriverStatistics
from mintactors.kernel.drivers.softnet import NetRxLimits, SoftnetData, SoftnetStatistics

for _driver in (
    PaperDriver,
    OnePerIrqDriver,
    NapiDriver,
    NapiNoMbDriver,
    LostWakeupDriver,
    RingWrapDriver,
):
    DRIVERS.add(_driver.name, _driver)

__all__ = [
    "CLEAN_STEPS",
    "Code",
    "DRIVERS",
    "DriverContext",
    "DriverCosts",
    "DriverCrash",
    "DriverLoadError",
    "DriverShell",
    "DriverSource",
    "NetRxLimits",
    "SoftnetData",
    "SoftnetStatistics",
    "DriverStatistics",
    "IrqReturn",
    "LostWakeupDriver",
    "NAPI_STEPS",
    "NapiDriver",
    "NapiNoMbDriver",
    "OnePerIrqDriver",
    "PaperDriver",
    "RingWrapDriver",
    "RxDescriptor",
    "RxDriver",
    "SHELL_STEPS",
    "Skb",
    "driver_crash",
    "load_driver",
]
