"""Sensor files: CSV (one row per sensor; rows sharing a name with a ``t_s`` column form a
moving sensor's path) or TOML (``[[sensor]]`` tables, ``path = [[t_s, lat, lon, height_m], ...]``).

The reader returns :class:`SensorRecord` values; :class:`leosim.models.exposure.Sensor`
is built from them, and a value it refuses is reported at the record's place.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leosim.errors import SensorError
from leosim.formats.text import DECIMAL, read_csv, read_text, read_toml, shown

NUMBER_KEYS = ("height_m", "gain_dbi", "noise_figure_db", "bandwidth_hz", "integration_s", "revisit_s", "pfa",
               "bearing_floor_deg", "timing_floor_s", "beamwidth_deg")
COLUMNS = ("name", "latitude_deg", "longitude_deg", *NUMBER_KEYS, "kind", "t_s")
SENSOR_HELP = (
    "a CSV header 'name,latitude_deg,longitude_deg[,height_m,kind,gain_dbi,noise_figure_db,bandwidth_hz,"
    "integration_s,revisit_s,pfa,bearing_floor_deg,timing_floor_s,beamwidth_deg,t_s]' (rows sharing a name with t_s "
    "form a path), or TOML [[sensor]] tables with the same keys and path = [[t_s, lat, lon, height_m], ...]"
)


@dataclass(frozen=True)
class SensorRecord:
    where: str
    name: str
    latitude_deg: float
    longitude_deg: float
    options: dict[str, Any] = field(default_factory=dict)  # the other keys: numbers, and kind
    path: tuple[tuple[float, float, float, float], ...] | None = None


def _finite(value: Any, where: str, key: str) -> float:
    """A finite number from a TOML value: an int, a float or a decimal string."""
    if isinstance(value, str):
        value = value.strip()
        v = float(value) if len(value) <= 100 and DECIMAL.fullmatch(value) else math.nan
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            v = float(value)
        except OverflowError:  # an int of hundreds of digits
            v = math.inf
    else:
        raise SensorError(f"{where}: {key} {shown(value, 120)} is not a number")
    if not math.isfinite(v):
        raise SensorError(f"{where}: {key} {shown(value, 60)} is not a finite number")
    return v


def parse_sensor_csv(text: str, source: str) -> list[SensorRecord]:
    rows = read_csv(text, source, columns={c: c for c in COLUMNS}, required=COLUMNS[:3], expected=SENSOR_HELP,
                    error=SensorError, only_known=True)
    if not rows:
        raise SensorError(f"{source}: no sensors after the header; expected {SENSOR_HELP}")
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(r.text("name"), []).append(r)
    out = []
    for name, recs in groups.items():
        first = recs[0]
        opts: dict[str, Any] = {k: first.number(k) for k in NUMBER_KEYS if first.has(k)}
        if first.has("kind"):
            opts["kind"] = first.text("kind").lower()
        for r in recs[1:]:  # a path's later rows give waypoints, not another sensor
            for column in (*NUMBER_KEYS[1:], "kind"):
                if r.has(column) and not (first.has(column) and (
                        r.text(column).lower() == first.text(column).lower() if column == "kind"
                        else r.number(column) == first.number(column))):
                    raise r.fail(f"sensor {shown(name)} has {column} {shown(r.values[column])} here but "
                                 f"{shown(first.values.get(column, ''))} at line {first.line}; expected the rows of one "
                                 "sensor to differ only in t_s, latitude_deg, longitude_deg and height_m (its path)")
        pts = [(r.number("t_s") if r.has("t_s") else None, r.number("latitude_deg", lo=-90, hi=90, unit="degrees"),
                r.number("longitude_deg", lo=-180, hi=360, unit="degrees"),
                r.number("height_m", unit="metres", default=10.0)) for r in recs]
        path = None
        if len(pts) > 1:
            if any(p[0] is None for p in pts):
                raise first.fail(f"sensor {shown(name)} appears on {len(pts)} rows; several rows make a path and need a "
                                 "t_s column")
            for r, a, b in zip(recs[1:], pts, pts[1:]):
                if not b[0] > a[0]:
                    raise r.fail(f"t_s {r.values['t_s']} is not after the previous waypoint's {a[0]:g}; expected the "
                                 f"rows of sensor {shown(name)} in increasing t_s")
            path = tuple(pts)
        out.append(SensorRecord(first.where, name, pts[0][1], pts[0][2], opts, path))
    return out


def parse_sensor_toml(text: str, source: str) -> list[SensorRecord]:
    doc = read_toml(text, source, expected=SENSOR_HELP, error=SensorError)
    other = sorted(set(doc) - {"sensor"})
    if other:  # a typo such as [[sensors]] would otherwise be dropped without a word
        raise SensorError(f"{source}: unknown top-level key {shown(other[0])}; expected only [[sensor]] tables")
    items = doc.get("sensor")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise SensorError(f"{source}: expected one or more [[sensor]] tables with name, latitude_deg, longitude_deg")
    out = []
    seen: dict[str, int] = {}
    for k, item in enumerate(items, start=1):
        where = f"{source}, sensor {k}"
        unknown = sorted(set(item) - set(COLUMNS) - {"path"})
        if unknown:
            raise SensorError(f"{where}: unknown key(s) {shown(', '.join(unknown), 120)[1:-1]}; expected "
                              f"{', '.join(c for c in COLUMNS if c != 't_s')}, path")
        if "name" not in item or "latitude_deg" not in item or "longitude_deg" not in item:
            raise SensorError(f"{where}: needs name and numeric latitude_deg, longitude_deg")
        opts: dict[str, Any] = {key: _finite(item[key], where, key) for key in NUMBER_KEYS if key in item}
        if "kind" in item:
            if not isinstance(item["kind"], str):
                raise SensorError(f"{where}: kind {shown(item['kind'])} is not a text; expected one of ground, mast, "
                                  "drone, aircraft")
            opts["kind"] = item["kind"].strip().lower()
        path = item.get("path")
        if path is not None:
            if not isinstance(path, list) or not all(isinstance(p, list) and len(p) == 4 for p in path):
                raise SensorError(f"{where}: path must be a list of [t_s, lat, lon, height_m] waypoints, got {shown(path, 200)}")
            path = tuple(tuple(_finite(x, where, f"path[{i}][{j}] ({('t_s', 'lat', 'lon', 'height_m')[j]})")
                               for j, x in enumerate(p)) for i, p in enumerate(path))
        name = item["name"]
        if not isinstance(name, str | int) or isinstance(name, bool) or not str(name).strip():
            raise SensorError(f"{where}: name {shown(name)} is not a name; expected a text such as \"mast 1\"")
        name = str(name).strip()
        if name in seen:
            raise SensorError(f"{where}: sensor {shown(name)} is given again (first as sensor {seen[name]}); expected "
                              "one table per sensor, a moving one with path = [[t_s, lat, lon, height_m], ...]")
        seen[name] = k
        out.append(SensorRecord(where, name, _finite(item["latitude_deg"], where, "latitude_deg"),
                                _finite(item["longitude_deg"], where, "longitude_deg"), opts, path))
    return out


def read_sensor_file(path: str | os.PathLike[str]) -> list[SensorRecord]:
    """Sensors from a CSV or TOML file (by suffix: ``.toml`` is TOML, anything else CSV)."""
    text = read_text(path, expected=SENSOR_HELP, error=SensorError, what="sensor file")
    if Path(path).suffix.lower() == ".toml":
        return parse_sensor_toml(text, os.fspath(path))
    return parse_sensor_csv(text, os.fspath(path))


__all__ = ["SENSOR_HELP", "SensorRecord", "parse_sensor_csv", "parse_sensor_toml", "read_sensor_file"]
