"""The one place a :class:`~leosim.network.routing.Network` is assembled from choices.

``leosim path``, ``pairs``, ``emulate``, ``policy check`` and every scenario build their
network here, so the same choices give the same network: gateways and PoPs are added
only when the routing mode or a server endpoint needs them, the routing mode and the
attachment policy are read from their registries (``scheduled:interval=15s``), and the
link rules come from one :class:`~leosim.network.links.LinkOptions`.
"""

from __future__ import annotations

import numpy as np

from leosim.ground.sites import GroundSegment, SiteKind
from leosim.network.attachment import AttachmentPolicy, policy
from leosim.network.links import LinkOptions
from leosim.network.modes import ISL, RoutingMode, routing_mode
from leosim.network.routing import Network


def needs_ground(mode: RoutingMode, endpoints: GroundSegment) -> bool:
    """Whether a network of these endpoints needs gateways and PoPs: any mode but ``isl``
    lands traffic at gateways, and a server on the internet is reached through a PoP."""
    return mode != ISL or any(k is SiteKind.SERVER for k in endpoints.kinds)


def build_network(
    constellation,
    endpoints: GroundSegment,
    *,
    routing: str | RoutingMode = "isl",
    attach: str | AttachmentPolicy = "free",
    links: LinkOptions | None = None,
    gateways: GroundSegment | None = None,
    pops: GroundSegment | None = None,
    isl_pairs: np.ndarray | None = None,
    pop_selection: str = "nearest",
) -> Network:
    """A network over ``constellation`` for ``endpoints``.

    ``routing`` and ``attach`` are registry names (or the objects themselves);
    ``gateways``/``pops`` default to the vendored Starlink ones and are used only when the
    network needs them (:func:`needs_ground`); ``isl_pairs`` replaces the +Grid laser
    links (Hypatia's ``isls.txt``).
    """
    mode = routing if isinstance(routing, RoutingMode) else routing_mode(routing)
    attachment = policy(attach) if isinstance(attach, str) else attach
    ground = needs_ground(mode, endpoints)
    none = GroundSegment.from_sites([])
    if ground:
        gateways = GroundSegment.starlink_gateways() if gateways is None else gateways
        pops = GroundSegment.starlink_pops() if pops is None else pops
    return Network(
        constellation=constellation,
        endpoints=endpoints,
        gateways=gateways if ground else none,
        pops=pops if ground else none,
        routing=mode,
        attachment=attachment,
        links=links or LinkOptions(),
        isl_pairs=isl_pairs,
        pop_selection=pop_selection,
    )


__all__ = ["build_network", "needs_ground"]
