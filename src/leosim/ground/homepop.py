"""Which Starlink PoP serves a customer: the PoP Starlink assigns to the customer's country.

Starlink does not send a customer's traffic to the nearest point of presence. Its public
GeoIP feed (``geoip.starlinkisp.net/feed.csv``, RFC 8805) gives each address prefix a
country, an ISO 3166-2 region and a city, and its PoP feed (``/pops.csv``) the PoP that
prefix leaves from. In the snapshot of 2026-10-08 (clarkzjw/starlink-geoip-data, vendored
in ``leosim/data/starlink_2026/``: ``country_pops.csv`` and ``region_pops.csv``), Kharkiv's
addresses leave from Warsaw, Yemen's from Nairobi and Frankfurt, Réunion's from
Johannesburg, the Pacific islands' from Sydney and Auckland, France's from Madrid,
Frankfurt, Milan and London.

The rule, for a customer at (latitude, longitude) in ``country`` (ISO 3166-1 alpha-2, as
the feed writes it, so overseas territories such as RE, GP, YT or SJ work even where the
Natural Earth lookup does not know them):

1. when the feed lists geocoded GeoIP cities for that country (``region_pops.csv`` rows
   with coordinates), the PoPs of the nearest of those cities by great circle, each with
   its share of that city's addresses (IPv4 addresses; prefix counts where the city has
   none): Perth, WA is served from Perth, Sydney from Sydney, Portland, ME half from
   Montreal and half from New York;
2. else the country's PoPs with their share of its IPv4 addresses (``country_pops.csv``);
3. else nothing: the feed does not serve that country, and the caller falls back to the
   nearest PoP.

Shares are renormalised to sum 1. A share of 0 is a PoP that serves only IPv6 prefixes
there: it stays in the mixture (it does serve the place) but is drawn only when nothing
else is allowed. The feed is Starlink's *planned* address assignment, not a subscriber
census: a prefix count is not a subscriber count, and the feed changes from day to day.

Pure numpy: the tables are read through :mod:`leosim.formats` once (:func:`home_pops`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

import numpy as np

from leosim.errors import GroundSegmentError, ParameterError
from leosim.formats.data import data_path
from leosim.formats.text import read_csv, read_text
from leosim.ground.sites import network_argument

__all__ = ["HomePops", "Mixture", "home_pops"]

#: A PoP mixture: (pop_code, share) pairs, shares summing to 1, largest share first.
Mixture = tuple[tuple[str, float], ...]

_FEED_NETWORKS = ("2026",)
# Users whose nearest city is searched at once (bounds the distance matrix's memory).
_CHUNK = 65536


def _normalise(pairs: Iterable[tuple[str, float]]) -> Mixture:
    """Shares rescaled to sum 1 (equal when all are 0), largest first, ties by code."""
    merged: dict[str, float] = defaultdict(float)
    for code, share in pairs:
        merged[str(code)] += float(share)
    total = sum(merged.values())
    n = len(merged)
    if n == 0:
        return ()
    scaled = {c: (s / total if total > 0 else 1.0 / n) for c, s in merged.items()}
    return tuple(sorted(scaled.items(), key=lambda item: (-item[1], item[0])))


@dataclass(frozen=True)
class _Cities:
    """The geocoded GeoIP cities of one country: coordinates and each one's mixture."""

    latitude_deg: np.ndarray
    longitude_deg: np.ndarray
    mixtures: tuple[Mixture, ...]


_NO_MIXTURE = 0  # id of the empty mixture in HomePops._table


class HomePops:
    """Each country's (and GeoIP city's) PoP mixture, from Starlink's GeoIP feed.

    Build it with :func:`home_pops` (the vendored 2026-10-08 tables) or
    :meth:`from_rows`. See the module docstring for the rule.
    """

    def __init__(self, countries: Mapping[str, Mixture], cities: Mapping[str, _Cities]) -> None:
        self._countries = MappingProxyType(dict(countries))
        self._cities = MappingProxyType(dict(cities))
        # Every distinct mixture once, the empty one first, so users carry small integer ids.
        table: dict[Mixture, int] = {(): _NO_MIXTURE}
        for mixture in (*self._countries.values(), *(m for c in self._cities.values() for m in c.mixtures)):
            table.setdefault(mixture, len(table))
        self._table: tuple[Mixture, ...] = tuple(table)
        self._country_id = {c: table[m] for c, m in self._countries.items()}
        self._city_ids = {c: np.array([table[m] for m in v.mixtures], dtype=np.int64) for c, v in self._cities.items()}

    @classmethod
    def from_rows(
        cls,
        country_rows: Iterable[tuple[str, str, float]],
        region_rows: Iterable[tuple[str, str, str, float | None, float | None, str, float]] = (),
    ) -> HomePops:
        """From plain rows: ``(country, pop_code, share)`` and ``(country, region, city,
        latitude_deg or None, longitude_deg or None, pop_code, share)``; region rows
        without coordinates are not used."""
        by_country: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for country, code, share in country_rows:
            by_country[_country_key(country)].append((code, share))
        countries = {c: _normalise(pairs) for c, pairs in sorted(by_country.items())}
        groups: dict[tuple[str, str, str, float, float], list[tuple[str, float]]] = defaultdict(list)
        for country, region, city, lat, lon, code, share in region_rows:
            if lat is None or lon is None:
                continue
            groups[(_country_key(country), region, city, float(lat), float(lon))].append((code, share))
        per_country: dict[str, list[tuple[float, float, Mixture]]] = defaultdict(list)
        for (country, _region, _city, lat, lon), pairs in sorted(groups.items()):
            per_country[country].append((lat, lon, _normalise(pairs)))
        cities = {
            c: _Cities(
                np.array([e[0] for e in entries], dtype=np.float64),
                np.array([e[1] for e in entries], dtype=np.float64),
                tuple(e[2] for e in entries),
            )
            for c, entries in per_country.items()
        }
        return cls(countries, cities)

    # --- what the feed lists --------------------------------------------------------------

    @property
    def countries(self) -> tuple[str, ...]:
        """Countries the feed serves, sorted."""
        return tuple(sorted(self._countries))

    def country_mixture(self, country: str | None) -> Mixture:
        """The country's PoPs and their shares of its addresses; ``()`` when not listed."""
        key = _country_key(country)
        return self._countries.get(key, ()) if key else ()

    # --- the rule ---------------------------------------------------------------------

    def mixture(self, latitude_deg: float, longitude_deg: float, country: str | None) -> Mixture:
        """The (pop_code, share) mixture serving a customer there (see the module docstring).

        >>> home_pops().mixture(49.99, 36.23, "UA")[0]  # Kharkiv: Kyiv's addresses leave from Warsaw
        ('wrswpol1', 0.931)
        """
        lat = np.array([latitude_deg], dtype=np.float64)
        lon = np.array([longitude_deg], dtype=np.float64)
        return self._table[int(self._mixture_ids(lat, lon, [country])[0])]

    def home_pop(
        self, latitude_deg: float, longitude_deg: float, country: str | None, allowed: Collection[str] | None = None
    ) -> str | None:
        """The PoP with the largest share of the mixture among ``allowed`` codes (None: all),
        ties broken by code; None when no PoP of the mixture is allowed.

        >>> home_pops().home_pop(-31.95, 115.86, "AU"), home_pops().home_pop(-33.87, 151.21, "AU")
        ('prthaus1', 'sydyaus1')
        """
        mixture = _restrict(self.mixture(latitude_deg, longitude_deg, country), _allowed_set(allowed))
        return mixture[0][0] if mixture else None

    def assign(
        self,
        latitude_deg: np.ndarray,
        longitude_deg: np.ndarray,
        countries: Sequence[str | None],
        seed: int,
        allowed: Collection[str] | None = None,
    ) -> list[str | None]:
        """A PoP per user, drawn by share, deterministic for a ``seed``.

        Stratified, not independent draws: the users of one mixture are put in an order
        drawn from ``seed`` and cut at the cumulative shares (user k of n gets the PoP
        whose interval holds (k + 1/2) / n), so each PoP gets its share of them to within
        one user. ``allowed`` restricts the mixture first (renormalised). None for a user
        whose country is None or unlisted, or whose mixture has no allowed PoP.
        """
        lat = np.asarray(latitude_deg, dtype=np.float64).reshape(-1)
        lon = np.asarray(longitude_deg, dtype=np.float64).reshape(-1)
        countries = list(countries)
        if not (len(lat) == len(lon) == len(countries)):
            raise ParameterError(
                f"assign needs one latitude, longitude and country per user, got {len(lat)} latitudes, "
                f"{len(lon)} longitudes and {len(countries)} countries"
            )
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ParameterError(f"seed must be a whole number, got {seed!r}")
        wanted = _allowed_set(allowed)
        ids = self._mixture_ids(lat, lon, countries)
        if len(ids) == 0:
            return []
        out = np.full(len(lat), None, dtype=object)
        rank = np.empty(len(lat), dtype=np.int64)
        rank[np.random.default_rng(int(seed)).permutation(len(lat))] = np.arange(len(lat))
        by_id = np.lexsort((rank, ids))  # users grouped by mixture, each group in seeded order
        starts = np.flatnonzero(np.r_[True, ids[by_id][1:] != ids[by_id][:-1]])
        ends = np.r_[starts[1:], len(by_id)]
        for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
            mixture = _restrict(self._table[int(ids[by_id[start]])], wanted)
            if not mixture:
                continue
            cumulative = np.cumsum([share for _, share in mixture])
            cumulative[-1] = 1.0
            n = end - start
            picks = np.minimum(np.searchsorted(cumulative, (np.arange(n) + 0.5) / n, side="right"), len(mixture) - 1)
            out[by_id[start:end]] = np.array([code for code, _ in mixture], dtype=object)[picks]
        return out.tolist()

    # --- internals -------------------------------------------------------------------

    def _mixture_ids(self, lat: np.ndarray, lon: np.ndarray, countries: Sequence[str | None]) -> np.ndarray:
        """Per user, the id (in ``self._table``) of the mixture serving them."""
        good = (np.abs(lat) <= 90.0) & np.isfinite(lon)
        if not np.all(good):
            bad = int(np.flatnonzero(~good)[0])
            raise ParameterError(
                f"user {bad}: latitude {lat[bad]!r} / longitude {lon[bad]!r} must be finite degrees, "
                "latitude between -90 and 90"
            )
        ids = np.full(len(lat), _NO_MIXTURE, dtype=np.int64)
        if len(lat) == 0:
            return ids
        names, users = np.unique(np.array(["" if c is None else str(c) for c in countries], dtype=str),
                                 return_inverse=True)
        for position, name in enumerate(names.tolist()):
            key = _country_key(name)
            if not key:
                continue
            members = np.flatnonzero(users == position)
            city_ids = self._city_ids.get(key)
            if city_ids is None:
                ids[members] = self._country_id.get(key, _NO_MIXTURE)
                continue
            cities = _unit_vectors(self._cities[key].latitude_deg, self._cities[key].longitude_deg)
            for start in range(0, len(members), _CHUNK):
                part = members[start : start + _CHUNK]
                # The nearest city by great circle is the one of largest cosine of the angle.
                ids[part] = city_ids[np.argmax(_unit_vectors(lat[part], lon[part]) @ cities.T, axis=1)]
        return ids


def _unit_vectors(latitude_deg: np.ndarray, longitude_deg: np.ndarray) -> np.ndarray:
    """Points on the unit sphere, shape ``(n, 3)``."""
    p, lam = np.radians(latitude_deg), np.radians(longitude_deg)
    return np.stack((np.cos(p) * np.cos(lam), np.cos(p) * np.sin(lam), np.sin(p)), axis=-1)


def _country_key(country: str | None) -> str | None:
    if country is None:
        return None
    key = str(country).strip().upper()
    return key or None


def _allowed_set(allowed: Collection[str] | None) -> frozenset[str] | None:
    if allowed is None:
        return None
    if isinstance(allowed, str):
        raise ParameterError(f"allowed must be a collection of PoP codes, not one string: {allowed!r}")
    return frozenset(str(code).strip().lower() for code in allowed)


def _restrict(mixture: Mixture, allowed: frozenset[str] | None) -> Mixture:
    if allowed is None:
        return mixture
    return _normalise((code, share) for code, share in mixture if code.lower() in allowed)


# --- the vendored tables ------------------------------------------------------------------


def _rows(filename: str, columns: tuple[str, ...], what: str) -> list:
    path = data_path("starlink_2026", filename)
    text = read_text(path, expected=what, error=GroundSegmentError, what="vendored table")
    return read_csv(text, str(path), columns={c: c for c in columns}, required=columns, expected=what,
                    error=GroundSegmentError)


def home_pops(network: str = "2026") -> HomePops:
    """The home-PoP tables of a vendored ground network (only ``"2026"``: Starlink's GeoIP
    feed of 2026-10-08; StarPerf's 2024 network has no country assignment). Cached: the
    same network gives the same object."""
    key = network_argument(network)
    if key not in _FEED_NETWORKS:
        raise ParameterError(
            f"no home-PoP table for the Starlink ground network {network!r}: only {', '.join(_FEED_NETWORKS)} "
            "has one (Starlink's GeoIP feed of 2026-10-08)"
        )
    return _load(key)


@cache
def _load(network: str) -> HomePops:
    country_rows = [
        (r.text("country"), r.text("pop_code"), r.number("share", lo=0.0, hi=1.0))
        for r in _rows("country_pops.csv", ("country", "pop_code", "share"),
                       "the vendored country -> PoP table (country,pop_code,share,rank)")
    ]
    region_rows = []
    for r in _rows("region_pops.csv", ("country", "region", "city", "latitude_deg", "longitude_deg", "pop_code",
                                       "share"),
                   "the vendored GeoIP city -> PoP table (country,region,city,latitude_deg,longitude_deg,pop_code,share)"):
        located = r.has("latitude_deg") and r.has("longitude_deg")
        region_rows.append((
            r.text("country"), r.values.get("region", ""), r.text("city"),
            r.number("latitude_deg", lo=-90.0, hi=90.0) if located else None,
            r.number("longitude_deg", lo=-180.0, hi=180.0) if located else None,
            r.text("pop_code"), r.number("share", lo=0.0, hi=1.0),
        ))
    return HomePops.from_rows(country_rows, region_rows)
