"""What a user means by a place: ``"Kyiv"``, ``"Portland, ME"``, ``"47.6,-122.3"``, a
Starlink gateway or PoP name, or ``internet:PLACE`` for a server on the terrestrial
internet (:func:`resolve_endpoint`)."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache

from leosim.errors import PlaceError
from leosim.ground.geonames import City, CityIndex, _countries, _us_states, city_index, close_matches, fold
from leosim.ground.sites import GroundSegment, Site, SiteKind, city_site, count_sites, kind_argument, pop_codes

__all__ = ["resolve_endpoint", "resolve_place"]

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
        names.setdefault(fold(site.name), site)
    for site, code in zip(pops, pop_codes(), strict=True):
        names.setdefault(fold(code), site)
        names.setdefault(fold(f"{site.name} - {code}"), site)
    for site in gateways:
        short = _GATEWAY_ANNOTATION.sub("", site.name.removeprefix("Possible site: "))
        names.setdefault(fold(short), site)
    for site in pops:
        for part in site.name.split("/"):
            names.setdefault(fold(part), site)
    return names


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
    kind = kind_argument(kind)
    match = _COORDINATES.fullmatch(text)
    if match:
        latitude, longitude, altitude = match.groups()
        return Site(text.strip(), float(latitude), float(longitude), float(altitude or 0.0), kind)
    key = fold(text)
    if not key:
        raise PlaceError(_unknown_place_message(text, sites))
    if sites is not None and key in sites._positions_by_name:
        return sites[sites._positions_by_name[key]]
    index = city_index()
    cities = index.by_name.get(key) or index.by_alternate.get(key)
    if cities:
        return city_site(cities[0], kind)
    if "," in key:
        city_key, _, qualifier = key.rpartition(",")
        city = _qualified_city(index, city_key.strip(), qualifier.strip())
        if city is not None:
            return city_site(city, kind)
    starlink = _starlink_names().get(key)
    if starlink is not None:
        return replace(starlink, kind=kind)
    raise PlaceError(_unknown_place_message(text, sites))


def _qualified_city(index: CityIndex, city_key: str, qualifier: str) -> City | None:
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
        f", a site name from the given ground segment ({count_sites(len(sites))})"
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
        candidates.setdefault(fold(site.name), (site.name, site.name))
    for key, suggestion in city_index().suggestions.items():
        candidates.setdefault(key, suggestion)
    close = close_matches(text, candidates)
    hint = "; did you mean: " + ", ".join(repr(name) for name in close) + "?" if close else ""
    return f"unknown place {text!r}; expected {expected}{hint}"




def resolve_endpoint(text: str, sites: GroundSegment | None = None) -> Site:
    """A path's end as ``leosim path`` reads it: a place (see :func:`resolve_place`), or
    ``internet:PLACE``, a server on the terrestrial internet there (reached through a PoP).

    >>> resolve_endpoint("internet:Ashburn, Virginia").kind.value
    'server'
    """
    kind = SiteKind.TERMINAL
    if text.lower().startswith("internet:"):
        text, kind = text.split(":", 1)[1], SiteKind.SERVER
    s = resolve_place(text, sites, kind=kind)
    if kind is SiteKind.SERVER and s.kind is not SiteKind.SERVER:
        s = replace(s, kind=SiteKind.SERVER)  # a site of the given segment, as a server
    return s
