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
from leosim.formats.text import read_csv, read_text, read_toml

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
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SensorError(f"{where}: {key} {value!r} is not a number"[:300])
    try:
        v = float(value)
    except (ValueError, OverflowError):
        raise SensorError(f"{where}: {key} {str(value)[:40]!r} is not a number") from None
    if not math.isfinite(v):
        raise SensorError(f"{where}: {key} {value!r} is not a finite number")
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
        pts = [(r.number("t_s") if r.has("t_s") else None, r.number("latitude_deg", unit="degrees"),
                r.number("longitude_deg", unit="degrees"), r.number("height_m", unit="metres", default=10.0)) for r in recs]
        path = None
        if len(pts) > 1:
            if any(p[0] is None for p in pts):
                raise first.fail(f"sensor {name!r} appears on {len(pts)} rows; several rows make a path and need a t_s column")
            path = tuple(pts)
        out.append(SensorRecord(first.where, name, pts[0][1], pts[0][2], opts, path))
    return out


def parse_sensor_toml(text: str, source: str) -> list[SensorRecord]:
    doc = read_toml(text, source, expected=SENSOR_HELP, error=SensorError)
    items = doc.get("sensor")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise SensorError(f"{source}: expected one or more [[sensor]] tables with name, latitude_deg, longitude_deg")
    out = []
    for k, item in enumerate(items, start=1):
        where = f"{source}, sensor {k}"
        unknown = sorted(set(item) - set(COLUMNS) - {"path"})
        if unknown:
            raise SensorError(f"{where}: unknown key(s) {', '.join(unknown)}; expected "
                              f"{', '.join(c for c in COLUMNS if c != 't_s')}, path")
        if "name" not in item or "latitude_deg" not in item or "longitude_deg" not in item:
            raise SensorError(f"{where}: needs name and numeric latitude_deg, longitude_deg")
        opts: dict[str, Any] = {key: _finite(item[key], where, key) for key in NUMBER_KEYS if key in item}
        if "kind" in item:
            opts["kind"] = str(item["kind"]).strip().lower()
        path = item.get("path")
        if path is not None:
            if not isinstance(path, list) or not all(isinstance(p, list) and len(p) == 4 for p in path):
                raise SensorError(f"{where}: path must be a list of [t_s, lat, lon, height_m] waypoints, got {path!r}"[:300])
            path = tuple(tuple(_finite(x, where, "path") for x in p) for p in path)
        out.append(SensorRecord(where, str(item["name"]), _finite(item["latitude_deg"], where, "latitude_deg"),
                                _finite(item["longitude_deg"], where, "longitude_deg"), opts, path))
    return out


def read_sensor_file(path: str | os.PathLike[str]) -> list[SensorRecord]:
    """Sensors from a CSV or TOML file (by suffix: ``.toml`` is TOML, anything else CSV)."""
    text = read_text(path, expected=SENSOR_HELP, error=SensorError, what="sensor file")
    if Path(path).suffix.lower() == ".toml":
        return parse_sensor_toml(text, os.fspath(path))
    return parse_sensor_csv(text, os.fspath(path))


__all__ = ["SENSOR_HELP", "SensorRecord", "parse_sensor_csv", "parse_sensor_toml", "read_sensor_file"]
