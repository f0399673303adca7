"""Oracles: properties every run must keep, checked while it runs and at its end.

=================  ===============================================================
``conservation``   every packet sent is delivered, dropped with a named reason, or
                   in flight
``intact_once``    every frame the application receives is intact and arrives once
``lost_wakeup``    no frame sits in the ring longer than ``stranded_bound_ns``
                   while nothing will take it
``flow_order``     within each flow, sequence numbers arrive in increasing order
=================  ===============================================================

Adding an oracle is one module here defining a class registered with
``@ORACLES.register("name")`` (its attrs fields become ``[oracles]`` keys),
imported below.
"""

from mintactors.oracles._base import ORACLES, Oracle, OracleMonitor, Violation, Watch
from mintactors.oracles.conservation import Conservation
from mintactors.oracles.delivery import FlowOrder, IntactOnce
from mintactors.oracles.lost_wakeup import LostWakeup

__all__ = [
    "Conservation",
    "FlowOrder",
    "IntactOnce",
    "LostWakeup",
    "ORACLES",
    "Oracle",
    "OracleMonitor",
    "Violation",
    "Watch",
]
