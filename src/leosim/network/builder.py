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
    pop_selection: str = "home",
    endpoint_pop: np.ndarray | None = None,
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
        if pop_selection == "home" and endpoint_pop is None:
            endpoint_pop = home_pop_index(endpoints, pops)
    else:
        endpoint_pop = None
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
        endpoint_pop=endpoint_pop,
    )


def site_countries(endpoints: GroundSegment) -> list[str | None]:
    """Each endpoint's country: its own (GeoNames, a file's column) or, where it has none,
    the country its coordinates fall in (None at sea)."""
    from leosim.ground.countries import NO_COUNTRY, country_of

    own = [s.country for s in endpoints]
    missing = [k for k, c in enumerate(own) if not c]
    if missing:
        found = country_of(endpoints.latitude_deg[missing], endpoints.longitude_deg[missing]).reshape(-1)
        for k, code in zip(missing, found.tolist()):
            own[k] = None if code == NO_COUNTRY else code
    return own


def home_pop_index(endpoints: GroundSegment, pops: GroundSegment, *, seed: int | None = None) -> np.ndarray:
    """Each terminal's home PoP as an index into ``pops`` (-1: none known, use the nearest).

    PoPs are matched by name to the feed's codes (the vendored 2026 PoPs are named by
    code). With ``seed`` None each terminal takes the largest share of its mixture; with a
    seed the PoPs are drawn by share (:meth:`HomePops.assign`), for many users of a place.
    """
    from leosim.ground.homepop import home_pops

    index = {name.lower(): k for k, name in enumerate(pops.names)}
    out = np.full(len(endpoints), -1, dtype=np.int64)
    term = np.array([k is not SiteKind.SERVER for k in endpoints.kinds], dtype=bool)
    if not term.any() or not index:
        return out
    hp = home_pops()
    countries = site_countries(endpoints)
    idx = np.flatnonzero(term)
    lat, lon = endpoints.latitude_deg[idx], endpoints.longitude_deg[idx]
    if seed is None:
        codes = [hp.home_pop(float(a), float(b), countries[k], allowed=index) for a, b, k in zip(lat, lon, idx.tolist())]
    else:
        codes = hp.assign(lat, lon, [countries[k] for k in idx.tolist()], seed, allowed=index)
    out[idx] = [index.get(c, -1) if c else -1 for c in codes]
    return out


__all__ = ["build_network", "home_pop_index", "needs_ground", "site_countries"]
