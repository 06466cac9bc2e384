"""leosim: simulate a Starlink-like satellite internet system.

The front door::

    from leosim import Constellation, GroundSegment, Network, TimeGrid, resolve_place
    c = Constellation.preset("starlink-gen1")
    net = Network(c, GroundSegment.from_sites([resolve_place("London"), resolve_place("New York")]))
    result = net.solve(TimeGrid.from_duration(c.epoch, "1min", "1s").times, [[0, 1]])
"""

__version__ = "0.1.0"

from leosim.core.time import TimeGrid, parse_duration, parse_time
from leosim.errors import (
    ConstellationError,
    ElementSetError,
    GroundSegmentError,
    LeosimError,
    ParameterError,
    PlaceError,
)
from leosim.ground.places import resolve_place
from leosim.ground.sites import GroundSegment, Site, SiteKind
from leosim.network.attachment import Free, LongestVisible, MaxElevation, Scheduled
from leosim.network.links import LinkOptions
from leosim.network.modes import BENT_PIPE, HYBRID, ISL, RoutingMode
from leosim.network.routing import Network
from leosim.space.constellation import Constellation, Shell

__all__ = [
    "BENT_PIPE", "HYBRID", "ISL", "Constellation", "ConstellationError", "ElementSetError", "Free",
    "GroundSegment", "GroundSegmentError", "LeosimError", "LinkOptions", "LongestVisible", "MaxElevation",
    "Network", "ParameterError", "PlaceError", "RoutingMode", "Scheduled", "Shell", "Site", "SiteKind",
    "TimeGrid", "parse_duration", "parse_time", "resolve_place", "__version__",
]
