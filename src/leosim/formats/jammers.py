"""Jammer files: CSV (``name,latitude_deg,longitude_deg,eirp_dbw[,height_m,start,end]``;
rows sharing a name add active intervals) or TOML (``[[jammer]]`` tables with the same
keys and ``active = [["2026-01-08T18:00", "2026-01-09T06:00"]]``).

The reader returns :class:`JammerRecord` values; :class:`leosim.models.jamming.Jammer`
is built from them, and a value it refuses is reported at the record's place.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from leosim.errors import JammerError
from leosim.formats.text import DECIMAL, read_csv, read_text, read_toml, shown

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
        raise JammerError(f"{where}: {key} {shown(value, 120)} is not a number; expected {unit}")
    if not math.isfinite(v):
        raise JammerError(f"{where}: {key} {shown(value, 60)} is not a finite number; expected {unit}")
    return v


#: Columns a later row of the same jammer may only repeat (or leave empty): the rows of one
#: jammer add active intervals, not other places or powers.
_SAME = ("latitude_deg", "longitude_deg", "eirp_dbw", "height_m")


def _same_value(row, first, column: str) -> bool:
    """Whether ``row`` gives ``column`` the value ``first`` does (as numbers: 35.78 is
    35.780); each is checked to be a number here, at its own line."""
    a = row.number(column)
    return first.has(column) and a == first.number(column)


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
            for column in _SAME:
                if r is not first and r.has(column) and not _same_value(r, first, column):
                    raise r.fail(f"jammer {shown(name)} has {column} {shown(r.values[column])} here but "
                                 f"{shown(first.values.get(column, ''))} at line {first.line}; expected the rows of one "
                                 "jammer to differ only in start and end (each row adds an active interval)")
            a, b = r.values.get("start", "").strip(), r.values.get("end", "").strip()
            if a or b:
                if not (a and b):
                    raise r.fail(f"an active interval needs both start and end, got start {shown(a)} and end {shown(b)}; "
                                 "expected two UTC times such as 2026-01-08T18:00")
                intervals.append((a, b))
        out.append(JammerRecord(
            first.where, name, first.number("latitude_deg", lo=-90, hi=90, unit="degrees"),
            first.number("longitude_deg", lo=-180, hi=360, unit="degrees"),
            first.number("eirp_dbw", unit="dBW"), first.number("height_m", unit="metres", default=10.0), tuple(intervals),
        ))
    return out


def parse_jammer_toml(text: str, source: str) -> list[JammerRecord]:
    doc = read_toml(text, source, expected=JAMMER_HELP, error=JammerError)
    other = sorted(set(doc) - {"jammer"})
    if other:  # a typo such as [[jammers]] would otherwise be dropped without a word
        raise JammerError(f"{source}: unknown top-level key {shown(other[0])}; expected only [[jammer]] tables")
    items = doc.get("jammer")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise JammerError(f"{source}: no [[jammer]] tables; expected {JAMMER_HELP}")
    out = []
    seen: dict[str, int] = {}
    for k, it in enumerate(items, start=1):
        where = f"{source}, jammer {k}"
        unknown = sorted(set(it) - {"name", "latitude_deg", "longitude_deg", "eirp_dbw", "height_m", "active"})
        if unknown:
            raise JammerError(f"{where}: unknown key {shown(unknown[0])}; expected name, latitude_deg, longitude_deg, eirp_dbw, height_m, active")
        missing = [key for key in ("name", "latitude_deg", "longitude_deg", "eirp_dbw") if key not in it]
        if missing:
            raise JammerError(f"{where}: {', '.join(missing)} missing; expected {JAMMER_HELP}")
        active = it.get("active", [])
        if not isinstance(active, list) or not all(isinstance(iv, list) and len(iv) == 2 and all(isinstance(x, str) for x in iv)
                                                   for iv in active):
            raise JammerError(f"{where}: active must be a list of [start, end] pairs of UTC times such as "
                              f'[["2026-01-08T18:00", "2026-01-09T06:00"]], got {shown(active, 200)}')
        name = _name(it["name"], where)
        if name in seen:
            raise JammerError(f"{where}: jammer {shown(name)} is given again (first as jammer {seen[name]}); expected "
                              "one table per jammer, its intervals in active = [[start, end], ...]")
        seen[name] = k
        out.append(JammerRecord(
            where, name, _number(it["latitude_deg"], where, "latitude_deg", "degrees"),
            _number(it["longitude_deg"], where, "longitude_deg", "degrees"), _number(it["eirp_dbw"], where, "eirp_dbw", "dBW"),
            _number(it.get("height_m", 10.0), where, "height_m", "metres"), tuple((a, b) for a, b in active),
        ))
    return out


def _name(value, where: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise JammerError(f"{where}: name {shown(value)} is not a name; expected a text such as \"north Tehran\"")
    return str(value).strip()


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
