"""NIC sources: what fills the receive ring, one registry entry each.

=========  ===========================================================================
``mint``   the paper's environment: the debug-support mechanism copies each frame
           into the ring and raises the interrupt with an IPI (the default)
``e1000``  a real 1 Gb/s-class NIC behind an Ethernet link, for comparison
=========  ===========================================================================

Adding a source is one module here defining a class registered with
``@NIC_SOURCES.register("name")``, imported below.
"""

from mintactors.sources._base import (
    NIC_SOURCES,
    FrameObserver,
    InstalledSource,
    NicSource,
    Offered,
    SourceWiring,
)
from mintactors.sources.e1000 import E1000Source, LinkTraffic
from mintactors.sources.mint import MintSource, MintTraffic

__all__ = [
    "E1000Source",
    "FrameObserver",
    "InstalledSource",
    "LinkTraffic",
    "MintSource",
    "MintTraffic",
    "NIC_SOURCES",
    "NicSource",
    "Offered",
    "SourceWiring",
]
