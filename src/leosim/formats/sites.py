"""Site files: CSV with a header, and Hypatia's ground-station lists.

Readers return :class:`SiteRecord` values (where each came from, and its fields as
numbers and text); :mod:`leosim.ground.sites` turns them into sites, so a value the
site itself refuses (a latitude of 200) is reported at its ``file:line`` too.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

from leosim.errors import GroundSegmentError
from leosim.formats.text import DECIMAL, read_csv, read_text, text_lines

CSV_HELP = (
    "a CSV file whose header names the columns name,latitude_deg,longitude_deg "
    "(or lat/latitude, lon/longitude), optionally altitude_m (or elevation_m), kind, country"
)
HYPATIA_HELP = "Hypatia ground stations, one 'id,name,latitude,longitude,elevation_m' line per station"

#: Heights above the ellipsoid a site may have, in metres. The lowest dry land, the Dead
#: Sea shore, is 430 m below sea level, and the geoid departs from the ellipsoid by about
#: 100 m, so -500 m leaves room for any place a terminal or gateway can stand (and 27,000
#: km underground is refused). The top, 20 km, is above Everest (8,849 m) and above the
#: cruise of every aircraft that carries a terminal (airliners 10-13 km, business jets to
#: 15.5 km), and is the ceiling of jammers and sensors too: anything higher is a unit
#: mistake (kilometres written as metres, feet as millimetres), not a site.
ALTITUDE_RANGE_M = (-500.0, 20_000.0)

COLUMNS = {
    "name": "name",
    "latitude_deg": "latitude_deg", "latitude": "latitude_deg", "lat": "latitude_deg",
    "longitude_deg": "longitude_deg", "longitude": "longitude_deg", "lon": "longitude_deg",
    "altitude_m": "altitude_m", "elevation_m": "altitude_m",
    "kind": "kind",
    "country": "country",
}


@dataclass(frozen=True)
class SiteRecord:
    """One site as a file gives it; ``where`` is ``file:line``."""

    where: str
    name: str
    latitude_deg: float
    longitude_deg: float
    altitude_m: float = 0.0
    kind: str | None = None
    country: str | None = None


def parse_site_csv(text: str, source: str) -> list[SiteRecord]:
    """Sites from CSV text with a header (see :data:`CSV_HELP`)."""
    rows = read_csv(text, source, columns=COLUMNS, required=("name", "latitude_deg", "longitude_deg"),
                    expected=CSV_HELP, error=GroundSegmentError, comments=False)
    if not rows:
        raise GroundSegmentError(f"{source}: no sites after the header; expected one site per line")
    return [
        SiteRecord(
            r.where, r.values.get("name", ""),
            # latitude and longitude ranges: the site checks them (reported at this file:line)
            r.number("latitude_deg", unit="degrees", example="47.6"),
            r.number("longitude_deg", unit="degrees", example="-122.3"),
            _in_range(r, "altitude_m", r.number("altitude_m", unit="metres", default=0.0, example="120.5"),
                      ALTITUDE_RANGE_M, "metres above the ellipsoid"),
            r.values.get("kind", "").strip().lower() or None,
            r.values.get("country", "").strip() or None,
        )
        for r in rows
    ]


def _in_range(row, column: str, v: float, span: tuple[float, float], unit: str) -> float:
    if not span[0] <= v <= span[1]:
        raise row.fail(f"{column} {row.values.get(column, '').strip()} is out of range; expected {span[0]:g} to "
                       f"{span[1]:g} {unit}")
    return v


def parse_hypatia_sites(text: str, source: str) -> list[SiteRecord]:
    """Sites from Hypatia's ``ground_stations.txt`` text: ``id,name,lat,lon,elevation_m``
    lines, ids counting 0, 1, 2, ... in line order, no header."""
    out: list[SiteRecord] = []
    for line_number, line in enumerate(text_lines(text), start=1):
        if not line.strip():
            continue
        where = f"{source}:{line_number}"
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != 5:
            raise GroundSegmentError(
                f"{where}: {len(fields)} fields in {line[:200]!r}; expected 5 as 'id,name,latitude,longitude,elevation_m' "
                "(e.g. '0,Tokyo,35.689500,139.691710,0.000000')"
            )
        ids_help = f"expected {len(out)} (Hypatia ids count 0, 1, 2, ... in line order)"
        if not re.fullmatch(r"[+-]?[0-9]{1,18}", fields[0]):
            raise GroundSegmentError(f"{where}: station id {fields[0][:40]!r} is not an integer; {ids_help}")
        if int(fields[0]) != len(out):
            raise GroundSegmentError(f"{where}: station id {int(fields[0])} out of order; {ids_help}")
        out.append(SiteRecord(
            where, fields[1], _num(fields[2], where, "latitude", "decimal degrees such as 35.6895"),
            _num(fields[3], where, "longitude", "decimal degrees such as 139.69171"),
            _num(fields[4], where, "elevation_m", "metres such as 0.0", ALTITUDE_RANGE_M),
        ))
    return out


def _num(cell: str, where: str, name: str, example: str, span: tuple[float, float] | None = None) -> float:
    """A decimal number, in ``span`` if given (ASCII digits only: Hypatia writes ``%f``)."""
    v = float(cell) if len(cell) <= 64 and DECIMAL.fullmatch(cell) else math.nan
    if not math.isfinite(v):
        raise GroundSegmentError(f"{where}: {name} {cell[:40]!r} is not a number; expected {example}")
    if span is not None and not span[0] <= v <= span[1]:
        raise GroundSegmentError(f"{where}: {name} {cell[:40]} is out of range; expected {example}, "
                                 f"from {span[0]:g} to {span[1]:g}")
    return v


def read_site_csv(path: str | os.PathLike[str]) -> list[SiteRecord]:
    return parse_site_csv(read_text(path, expected=CSV_HELP, error=GroundSegmentError, what="site file"), os.fspath(path))


def read_hypatia_sites(path: str | os.PathLike[str]) -> list[SiteRecord]:
    return parse_hypatia_sites(read_text(path, expected=HYPATIA_HELP, error=GroundSegmentError, what="site file"),
                               os.fspath(path))


def read_site_file(path: str | os.PathLike[str]) -> list[SiteRecord]:
    """Sites from a Hypatia or CSV file, told apart by the first line: five fields starting
    with an integer is Hypatia; anything else must be a CSV header."""
    text = read_text(path, expected=f"{CSV_HELP}, or {HYPATIA_HELP}", error=GroundSegmentError, what="site file")
    first = next(line for line in text_lines(text) if line.strip())
    fields = first.split(",")
    if len(fields) == 5 and re.fullmatch(r"\s*[0-9]+\s*", fields[0]):
        return parse_hypatia_sites(text, os.fspath(path))
    return parse_site_csv(text, os.fspath(path))


__all__ = ["ALTITUDE_RANGE_M", "CSV_HELP", "HYPATIA_HELP", "SiteRecord", "parse_hypatia_sites", "parse_site_csv", "read_hypatia_sites",
           "read_site_csv", "read_site_file"]
