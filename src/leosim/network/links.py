"""When links exist: ground-satellite links by the one visibility rule, laser links by
length and grazing altitude, fibre on the ground by its stretch over the great circle.

:class:`LinkOptions` holds the rules for one network; :func:`user_links`,
:func:`gateway_links` and :func:`user_links_throughout` apply them, and are what routing,
capacity, the viewer, the report and the exposure model call, so a terminal sees the same
satellites everywhere (a direct-to-cell satellite never serves a dish anywhere).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leosim.core.geodesy import ISL_MIN_ALTITUDE_M
from leosim.core.visibility import (
    DEFAULT_MIN_ELEVATION_DEG,
    SitePairs,
    VisibilityRule,
    check_elevation,
    dense_geometry,
    visible_pairs,
    visible_throughout,
)
from leosim.errors import ParameterError
from leosim.space.lasers import DEFAULT_CROSS_SHELL_RANGE_M, DEFAULT_LASER_TERMINALS

# Terrestrial fibre routes are longer than the great circle. 1.5 is our default
# assumption; conduit-level studies find fibre paths about 1.5-2x the geodesic
# (Bozkurt et al., "Dissecting latency in the Internet's fiber infrastructure", 2018).
DEFAULT_FIBRE_STRETCH = 1.5


@dataclass(frozen=True)
class LinkOptions:
    """When links exist.

    A ground-satellite link exists when the elevation is at least ``min_elevation_deg``
    (terminals) or ``gateway_min_elevation_deg`` (gateways), or, when
    ``max_gsl_length_m`` is set (Hypatia's model), when the slant range is at most that.
    A laser link exists when it is at most ``max_isl_length_m`` long and its chord stays
    above ``isl_min_altitude_m`` over a spherical Earth of mean radius.
    """

    min_elevation_deg: float = DEFAULT_MIN_ELEVATION_DEG
    gateway_min_elevation_deg: float = DEFAULT_MIN_ELEVATION_DEG
    max_gsl_length_m: float | None = None
    max_isl_length_m: float | None = None
    isl_min_altitude_m: float = ISL_MIN_ALTITUDE_M
    fibre_stretch: float = DEFAULT_FIBRE_STRETCH
    # laser links between shells (docs/lasers.md): terminals per satellite, whether spare
    # ones link across shells at each reconfiguration, and the longest such link
    laser_terminals: int = DEFAULT_LASER_TERMINALS
    cross_shell: bool = True
    cross_shell_range_m: float = DEFAULT_CROSS_SHELL_RANGE_M

    def __post_init__(self) -> None:
        for key in ("min_elevation_deg", "gateway_min_elevation_deg"):
            check_elevation(getattr(self, key), key.replace("_deg", ""))
        for key in ("max_gsl_length_m", "max_isl_length_m"):
            v = getattr(self, key)
            if v is not None and not (np.isfinite(v) and v > 0):
                raise ParameterError(f"{key} {v!r} is not a positive length; expected metres > 0")
        if isinstance(self.laser_terminals, bool) or not isinstance(self.laser_terminals, int) or self.laser_terminals < 0:
            raise ParameterError(f"laser terminals {self.laser_terminals!r}; expected a whole number of terminals per satellite >= 0")
        if not (np.isfinite(self.cross_shell_range_m) and self.cross_shell_range_m > 0):
            raise ParameterError(f"cross-shell range {self.cross_shell_range_m!r} m; expected metres > 0")
        if not (self.fibre_stretch >= 1.0):
            raise ParameterError(f"fibre stretch {self.fibre_stretch!r} is below 1; expected a factor >= 1")

    @property
    def terminal_rule(self) -> VisibilityRule:
        return VisibilityRule(self.min_elevation_deg, self.max_gsl_length_m)

    @property
    def gateway_rule(self) -> VisibilityRule:
        return VisibilityRule(self.gateway_min_elevation_deg, self.max_gsl_length_m)


def user_links(links: LinkOptions, constellation, site_xyz: np.ndarray, site_up: np.ndarray,
               sat_xyz: np.ndarray) -> SitePairs:
    """(terminal, satellite) pairs that can link at one instant: the terminal rule, and only
    satellites that serve terminals (``Constellation.serves_terminals``)."""
    return visible_pairs(site_xyz, site_up, sat_xyz, links.terminal_rule, satellites=constellation.serves_terminals)


def user_links_throughout(links: LinkOptions, constellation, site_xyz, site_up, sat_xyz_start, sat_xyz_end) -> SitePairs:
    """:func:`user_links` over an interval: visible at both ends (lower elevation, longer range)."""
    return visible_throughout(site_xyz, site_up, sat_xyz_start, sat_xyz_end, links.terminal_rule,
                              satellites=constellation.serves_terminals)


def user_geometry(links: LinkOptions, constellation, site_xyz, site_up, sat_xyz, sat_index=None):
    """Dense ``(n_terminals, n_sats)`` sin(elevation), range and margin for the attachment
    policies; ``sat_index``: which satellites ``sat_xyz`` holds (default all, in order)."""
    serves = constellation.serves_terminals
    if sat_index is not None:
        serves = serves[np.asarray(sat_index, dtype=np.int64)]
    return dense_geometry(site_xyz, site_up, sat_xyz, links.terminal_rule, satellites=serves)


def gateway_links(links: LinkOptions, site_xyz, site_up, sat_xyz) -> SitePairs:
    """(gateway, satellite) pairs that can link at one instant (a gateway uses any satellite)."""
    return visible_pairs(site_xyz, site_up, sat_xyz, links.gateway_rule)


def gateway_links_throughout(links: LinkOptions, site_xyz, site_up, sat_xyz_start, sat_xyz_end) -> SitePairs:
    return visible_throughout(site_xyz, site_up, sat_xyz_start, sat_xyz_end, links.gateway_rule)


__all__ = [
    "DEFAULT_FIBRE_STRETCH", "LinkOptions", "gateway_links", "gateway_links_throughout", "user_geometry",
    "user_links", "user_links_throughout",
]
