"""Jammer files: CSV (``name,latitude_deg,longitude_deg,eirp_dbw[,height_m,start,end]``;
rows sharing a name add active intervals) or TOML (``[[jammer]]`` tables with the same
keys and ``active = [["2026-01-08T18:00", "2026-01-09T06:00"]]``).

The reader returns :class:`JammerRecord` values; :class:`leosim.models.jamming.Jammer`
is built from them, and a value it refuses is reported at the record's place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from leosim.errors import JammerError
from leosim.formats.text import read_csv, read_text, read_toml

JAMMER_HELP = (
    "a CSV header 'name,latitude_deg,longitude_deg,eirp_dbw[,height_m,start,end]' or TOML [[jammer]] tables"
)
_COLUMNS = ("name", "latitude_deg", "longitude_deg", "eirp_dbw", "height_m", "start", "end")


@dataclass(frozen=True)
class JammerRecord:
    where: str
    name: str
    latitude_deg: float
    longitude_deg: float
    eirp_dbw: float
    height_m: float = 10.0
    active: tuple[tuple[str, str], ...] = ()


def _number(value, where: str, key: str, unit: str) -> float:
    import math

    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise JammerError(f"{where}: {key} {value!r} is not a number; expected {unit}"[:300])
    try:
        v = float(value)
    except (ValueError, OverflowError):
        raise JammerError(f"{where}: {key} {str(value)[:40]!r} is not a number; expected {unit}") from None
    if not math.isfinite(v):
        raise JammerError(f"{where}: {key} {value!r} is not a finite number; expected {unit}")
    return v


def parse_jammer_csv(text: str, source: str) -> list[JammerRecord]:
    rows = read_csv(text, source, columns={c: c for c in _COLUMNS}, required=_COLUMNS[:4], expected=JAMMER_HELP,
                    error=JammerError, only_known=True)
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(r.text("name"), []).append(r)
    out = []
    for name, recs in groups.items():
        first = recs[0]
        intervals = []
        for r in recs:
            a, b = r.values.get("start", "").strip(), r.values.get("end", "").strip()
            if a or b:
                if not (a and b):
                    raise r.fail(f"an active interval needs both start and end, got start {a!r} and end {b!r}; "
                                 "expected two UTC times such as 2026-01-08T18:00")
                intervals.append((a, b))
        out.append(JammerRecord(
            first.where, name, first.number("latitude_deg", unit="degrees"), first.number("longitude_deg", unit="degrees"),
            first.number("eirp_dbw", unit="dBW"), first.number("height_m", unit="metres", default=10.0), tuple(intervals),
        ))
    return out


def parse_jammer_toml(text: str, source: str) -> list[JammerRecord]:
    doc = read_toml(text, source, expected=JAMMER_HELP, error=JammerError)
    items = doc.get("jammer")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise JammerError(f"{source}: no [[jammer]] tables; expected {JAMMER_HELP}")
    out = []
    for k, it in enumerate(items, start=1):
        where = f"{source}, jammer {k}"
        unknown = sorted(set(it) - {"name", "latitude_deg", "longitude_deg", "eirp_dbw", "height_m", "active"})
        if unknown:
            raise JammerError(f"{where}: unknown key {unknown[0]!r}; expected name, latitude_deg, longitude_deg, eirp_dbw, height_m, active")
        missing = [key for key in ("name", "latitude_deg", "longitude_deg", "eirp_dbw") if key not in it]
        if missing:
            raise JammerError(f"{where}: {', '.join(missing)} missing; expected {JAMMER_HELP}")
        active = it.get("active", [])
        if not isinstance(active, list) or not all(isinstance(iv, list) and len(iv) == 2 and all(isinstance(x, str) for x in iv)
                                                   for iv in active):
            raise JammerError(f"{where}: active must be a list of [start, end] pairs of UTC times such as "
                              f'[["2026-01-08T18:00", "2026-01-09T06:00"]], got {active!r}'[:400])
        out.append(JammerRecord(
            where, str(it["name"]), _number(it["latitude_deg"], where, "latitude_deg", "degrees"),
            _number(it["longitude_deg"], where, "longitude_deg", "degrees"), _number(it["eirp_dbw"], where, "eirp_dbw", "dBW"),
            _number(it.get("height_m", 10.0), where, "height_m", "metres"), tuple((a, b) for a, b in active),
        ))
    return out


def read_jammer_file(path: str | os.PathLike[str]) -> list[JammerRecord]:
    """Jammers from a CSV or TOML file (by suffix: ``.toml`` is TOML, anything else CSV)."""
    text = read_text(path, expected=JAMMER_HELP, error=JammerError, what="jammer file")
    if Path(path).suffix.lower() == ".toml":
        return parse_jammer_toml(text, os.fspath(path))
    records = parse_jammer_csv(text, os.fspath(path))
    if not records:
        raise JammerError(f"{os.fspath(path)}: no jammers after the header; expected {JAMMER_HELP}")
    return records


__all__ = ["JAMMER_HELP", "JammerRecord", "parse_jammer_csv", "parse_jammer_toml", "read_jammer_file"]
