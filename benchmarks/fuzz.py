#!/usr/bin/env python
"""Fuzz every reader and parser of leosim as an adversary would, and say what breaks.

Each *target* is one public entry point (a file reader and the domain object built from
its records, a text parser, a registry) with a few valid seed inputs. The harness feeds
it the seeds, then seeded mutations of them: character and bit flips, inserted
delimiters, duplicated and swapped lines, truncation, numbers replaced by huge,
non-finite, negative or non-ASCII-digit ones, fields over the CSV limit, 1,000-deep
arrays, TOML values of the wrong type. Every input runs in a worker process with a
memory cap and a time limit (10 s by default) and comes out as one of

- ``accepted``: the entry point returned;
- ``leosim error``: it raised a :class:`leosim.errors.LeosimError` (what it should do
  with bad input);
- ``invalid``: it returned, but what it returned breaks the target's physical checks
  (a site 27,000 km underground, a jammer of 1e21 dBW, a layout of a million sensors);
- ``crash``: any other exception (a ``ValueError`` or ``KeyError`` escaping a parser is a
  traceback in front of the user), recorded by type and the innermost leosim frame;
- ``hang``: it ran past the time limit (the worker is killed and replaced), recorded by
  where the worker was when it was stopped.

For each distinct crash or hang cause one reproducer is kept and shrunk (lines, then
runs of a repeated character, then characters, as long as the cause stays the same).
Usage::

    python benchmarks/fuzz.py [--per-parser N] [--seed S] [--only NAME[,NAME...]] [--workers W]

prints a table per target (inputs, accepted, leosim errors, invalid, crashes, hangs)
and the causes with a reproducer each, and exits 1 when any input crashed, hung or was
accepted invalid. ``--list`` names the targets. ``make fuzz`` runs the default.
"""

from __future__ import annotations

import argparse
import faulthandler
import math
import multiprocessing as mp
import os
import random
import re
import resource
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from leosim.errors import LeosimError  # noqa: E402

#: Seconds one input may take before it counts as a hang.
LIMIT_S = 10.0
#: Address space a worker may add to what it had after importing leosim: a parser that
#: allocates before it checks sizes fails with MemoryError (a crash) instead of taking
#: the machine down.
MEMORY_HEADROOM_BYTES = 3 * 1024**3


# ================================================================= the targets
@dataclass(frozen=True)
class Target:
    """One entry point: ``run(text, workdir)`` parses ``text`` (written to a file first
    when the entry point reads files); ``check(result)`` returns what is physically wrong
    with an accepted result, or None."""

    name: str
    syntax: str  # csv | toml | json | lines | text: which mutations make sense
    seeds: tuple[str, ...]
    run: Callable[[str, Path], Any]
    check: Callable[[Any], str | None] | None = None
    help: str = ""


def _file(workdir: Path, name: str, text: str) -> Path:
    p = workdir / name
    p.write_bytes(text.encode("utf-8", "surrogatepass"))
    return p


# ---- range checks on what was accepted (the readers' own limits, restated) --------
SITE_ALTITUDE_RANGE_M = (-500.0, 20_000.0)


def _bad_number(v, lo, hi) -> bool:
    return not (isinstance(v, int | float) and math.isfinite(v) and lo <= v <= hi)


def _check_sites(segment) -> str | None:
    for s in segment:
        if _bad_number(s.latitude_deg, -90, 90) or _bad_number(s.longitude_deg, -180, 180):
            return f"site position out of range: {s.name!r} at ({s.latitude_deg!r}, {s.longitude_deg!r})"
        if _bad_number(s.altitude_m, *SITE_ALTITUDE_RANGE_M):
            return f"site altitude out of range: {s.name!r} altitude_m {s.altitude_m!r}"
    return None


def _check_jammers(jammers) -> str | None:
    from leosim.models.jamming import JAMMER_EIRP_RANGE_DBW, JAMMER_HEIGHT_MAX_M

    for j in jammers:
        if _bad_number(j.eirp_dbw, *JAMMER_EIRP_RANGE_DBW) or _bad_number(j.height_m, 0, JAMMER_HEIGHT_MAX_M):
            return f"jammer EIRP or height out of range: {j.name!r} eirp_dbw {j.eirp_dbw!r} height_m {j.height_m!r}"
        if _bad_number(j.latitude_deg, -90, 90) or _bad_number(j.longitude_deg, -180, 360):
            return f"jammer position out of range: {j.name!r} at ({j.latitude_deg!r}, {j.longitude_deg!r})"
    return None


def _check_sensors(sensors) -> str | None:
    for s in sensors:
        numbers = [s.latitude_deg, s.longitude_deg, s.height_m, s.gain_dbi, s.noise_figure_db, s.bandwidth_hz,
                   s.integration_s, s.pfa, s.bearing_floor_deg, s.timing_floor_s]
        if s.revisit_s is not None:
            numbers.append(s.revisit_s)
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in numbers):
            return f"sensor number not finite: {s.name!r}"
        if s.beamwidth_deg is not None and _bad_number(s.beamwidth_deg, 0.01, 180):
            return f"sensor beamwidth out of range: {s.name!r} beamwidth_deg {s.beamwidth_deg!r}"
        for p in s.path or ():
            if (not all(math.isfinite(x) for x in p) or _bad_number(p[1], -90, 90) or _bad_number(p[2], -180, 360)
                    or _bad_number(p[3], 0, 20_000)):
                return f"sensor waypoint out of range: {s.name!r} waypoint {p!r}"
        if _bad_number(s.height_m, 0, 20_000):
            return f"sensor height out of range: {s.name!r} height_m {s.height_m!r}"
    return None


def _check_layout(sensors) -> str | None:
    from leosim.models.exposure import MAX_LAYOUT_SENSORS

    if len(sensors) > MAX_LAYOUT_SENSORS:
        return f"layout too large: {len(sensors)} sensors"
    return _check_sensors(sensors)


def _check_policy(policy) -> str | None:
    limit = policy.roaming_limit_days
    if limit is not None and _bad_number(limit, 0, 36_500):
        return f"policy roaming limit out of range: roaming_limit_days {limit!r}"
    bad = {k: v for k, v in policy.speed_gates_kmh.items() if _bad_number(v, 0, 100_000) or not v > 0}
    if bad:
        return f"policy speed gate out of range: {bad!r}"
    return None


def _check_scenario(scn) -> str | None:
    total = sum(sh.planes * sh.sats_per_plane for sh in scn.constellation.shells or ())
    if total > 100_000 or any(not 0 <= sh.phasing < sh.planes for sh in scn.constellation.shells or ()):
        return f"scenario constellation out of range: {total:,} satellites or a phasing >= planes"
    if not 0 <= scn.seed < 2**64:
        return f"scenario seed out of range: {scn.seed!r}"
    numbers = [scn.routing.min_elevation_deg, scn.routing.fibre_stretch]
    if scn.routing.max_isl_length_km is not None:
        numbers.append(scn.routing.max_isl_length_km)
    if not all(math.isfinite(v) for v in numbers):
        return f"scenario number not finite: {numbers!r}"
    return None


def _check_terminals(result) -> str | None:
    lat, lon, n = result
    if not (all(-90 <= v <= 90 for v in lat) and all(-180 <= v <= 360 for v in lon) and all(v >= 0 for v in n)):
        return "terminal out of range: a latitude, longitude or count"
    return None


# ---- the runners -----------------------------------------------------------------
def _sites(name: str):
    def run(text: str, workdir: Path):
        from leosim.ground.sites import GroundSegment

        return GroundSegment.from_file(_file(workdir, name, text))

    return run


def _isl(text, workdir):
    from leosim.formats.isl import read_isl_file

    return read_isl_file(_file(workdir, "isls.txt", text), 100)


def _policy(name: str):
    def run(text, workdir):
        from leosim.formats.policy import read_policy_file
        from leosim.models.policy import ServicePolicy

        return ServicePolicy.from_document(read_policy_file(_file(workdir, name, text)))

    return run


def _jammers(name: str):
    def run(text, workdir):
        from leosim.formats.jammers import read_jammer_file
        from leosim.models.jamming import Jammer

        return [Jammer.from_record(r) for r in read_jammer_file(_file(workdir, name, text))]

    return run


def _sensors(name: str):
    def run(text, workdir):
        from leosim.formats.sensors import read_sensor_file
        from leosim.models.exposure import Sensor

        return [Sensor.from_record(r) for r in read_sensor_file(_file(workdir, name, text))]

    return run


def _terminals(text, workdir):
    from leosim.formats.terminals import read_terminals_file

    return read_terminals_file(_file(workdir, "terminals.csv", text))


def _scenario(text, workdir):
    from leosim.scenario.load import load_scenario

    return load_scenario(_file(workdir, "scenario.toml", text))[0]


def _sweep(text, workdir):
    """``--set`` expressions, one a line, applied to the built-in ``global`` scenario."""
    from leosim.pipeline.sweep import variants
    from leosim.scenario.load import builtin_text

    return len(variants(builtin_text("global"), "global", text.split("\n")))


def _duration(text, workdir):
    from leosim.core.time import parse_duration

    return parse_duration(text)


def _time(text, workdir):
    from leosim.core.time import parse_time

    return parse_time(text)


def _place(text, workdir):
    from leosim.ground.places import resolve_place

    return resolve_place(text)


def _attach(text, workdir):
    from leosim.network.attachment import POLICIES

    return POLICIES.make(text)


def _mode(text, workdir):
    from leosim.network.modes import MODES

    return MODES.make(text)


def _layout(text, workdir):
    """What ``[exposure] sensors`` and ``--sensors`` go through: a layout spec, else a file."""
    from leosim.scenario.resolve import load_sensors

    return load_sensors(text, (35.69, 51.39))


def _elements(name: str):
    def run(text, workdir):
        from leosim.formats.elements import read_element_file

        return read_element_file(_file(workdir, name, text))

    return run


def _measurements(reader: str):
    def run(text, workdir):
        from leosim.formats import measurements

        return getattr(measurements, reader)(_file(workdir, f"{reader}.csv", text))

    return run


# ---- seeds: small valid inputs of each format ----------------------------------------
_TLE = (
    "STARLINK-1008\n"
    "1 44714C 19074B   26132.95048611 -.00027894  00000+0 -54858-3 0  1322\n"
    "2 44714  53.1534 236.8965 0001912  20.7505  90.9471 15.46691953    14\n"
    "STARLINK-1012\n"
    "1 44718C 19074F   26132.95187500 -.00028201  00000+0 -55125-3 0  1328\n"
    "2 44718  53.1578 237.2060 0001512  11.2896  98.0152 15.46868906    10\n"
)
_OMM = dict(OBJECT_NAME="STARLINK-1008", OBJECT_ID="2019-074B", EPOCH="2026-05-12T22:48:41.999904",
            MEAN_MOTION=15.46691953, ECCENTRICITY=0.0001912, INCLINATION=53.1534, RA_OF_ASC_NODE=236.8965,
            ARG_OF_PERICENTER=20.7505, MEAN_ANOMALY=90.9471, EPHEMERIS_TYPE=0, CLASSIFICATION_TYPE="C",
            NORAD_CAT_ID=44714, ELEMENT_SET_NO=132, REV_AT_EPOCH=1, BSTAR=-0.00054858,
            MEAN_MOTION_DOT=-0.00027894, MEAN_MOTION_DDOT=0)
_OMM_JSON = "[{" + ", ".join(f'"{k}": {v!r}'.replace("'", '"') for k, v in _OMM.items()) + "}]\n"
_OMM_CSV = ",".join(_OMM) + "\n" + ",".join(str(v) for v in _OMM.values()) + "\n"
_HYPATIA_TLES = ("1 2\nStarlink 0\n" + _TLE.split("\n", 1)[1].split("STARLINK-1012\n")[0]
                 + "Starlink 1\n" + _TLE.split("STARLINK-1012\n")[1])

_SCENARIO = """\
name = "fuzz"
description = "every section, small"
seed = 1

[constellation]
shells = [{ altitude_km = 550, inclination_deg = 53, planes = 72, sats_per_plane = 22, phasing = 1 }]

[time]
start = "2026-05-13T00:00:00Z"
duration = "10min"
step = "15s"

[ground]
gateways = "starlink"
pops = "starlink"
gateway_exclude = ["IR"]

[[ground.terminals]]
label = "cities"
places = ["Tehran", "35.69,51.39"]

[[ground.terminals]]
cities = 5
country = "UA"

[routing]
mode = "hybrid"
attach = "scheduled:interval=15s,offset=12s"
min_elevation_deg = 25.0
max_isl_length_km = 5000
fibre_stretch = 1.5

[traffic]
destination = "nearest-pop"
pairs = [["Tehran", "Mashhad"]]

[policy]
preset = "all"
home_country = "IR"
plan = "residential"
service_address = "35.69,51.39"
days_abroad = 3

[jamming]
region = "IR"
grace = "30s"
jammers = [
  { name = "north", latitude_deg = 35.78, longitude_deg = 51.42, eirp_dbw = 10, height_m = 30, start = "5min" },
]

[exposure]
sensors = ["ring:6:3", "drone:radius_km=3,altitude_m=500"]
center = "Tehran"
terminals = 2
duty_cycles = [0.11, 0.02]
trials = 50

[capacity]
country = "IR"
terminals = 1000
intervals = 2

[latency]
countries = ["IR", "UA"]
users = 5
step = "15s"
"""


def _builtin_scenarios() -> tuple[str, ...]:
    from leosim.scenario.load import builtin_scenarios, builtin_text

    return tuple(builtin_text(n) for n in builtin_scenarios())


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("sites-csv", "csv", (
        "name,latitude_deg,longitude_deg,altitude_m,kind,country\nTokyo,35.6895,139.69171,40.0,terminal,JP\n"
        '"Camaçari, BR",-12.74832,-38.28305,0.0,gateway,BR\n',
        "name,lat,lon,elevation_m\nSeattle,47.6,-122.3,56\nDate line,0,190,0\n",
    ), _sites("sites.csv"), _check_sites, "GroundSegment.from_file of a CSV site list"),
    Target("sites-hypatia", "csv", (
        "0,Tokyo,35.689500,139.691710,0.000000\n1,Delhi,28.704060,77.102493,216.000000\n",
    ), _sites("ground_stations.txt"), _check_sites, "GroundSegment.from_file of Hypatia's ground_stations.txt"),
    Target("isl", "lines", ("0 1\n1 2\n# a comment\n2 3\n99 0\n",), _isl, None, "formats.isl.read_isl_file (100 satellites)"),
    Target("policy-toml", "toml", (
        'preset = "all"\nname = "fuzz"\nserved = ["US"]\nblocked = ["IR"]\ngateway_countries = "served"\n'
        'gateway_blocked = ["RU"]\npop_countries = ["DE", "GB"]\npop_blocked = []\nroaming_limit_days = 60\n'
        'whitelist = ["dish-1"]\nwhitelist_countries = ["UA"]\ndisabled_cells = ["852f5a7bfffffff"]\n'
        "[speed_gates_kmh]\nUA = 90\n",
        'preset = "none"\nserved = ["UA", "PL"]\nroaming_limit_days = false\n',
    ), _policy("policy.toml"), _check_policy, "ServicePolicy.from_document(read_policy_file(.toml))"),
    Target("policy-csv", "csv", (
        "country,served,gateway,pop,speed_gate_kmh\n*,yes,yes,yes,\nIR,yes,no,no,\nUA,yes,yes,yes,90\n",
    ), _policy("policy.csv"), _check_policy, "ServicePolicy.from_document(read_policy_file(.csv))"),
    Target("jammers-csv", "csv", (
        "name,latitude_deg,longitude_deg,eirp_dbw,height_m,start,end\n"
        "north,35.78,51.42,10,30,2026-01-08T18:00,2026-01-09T06:00\n"
        "north,35.78,51.42,10,30,2026-01-10T18:00,2026-01-11T06:00\nsouth,35.63,51.40,10,,,\n",
    ), _jammers("jammers.csv"), _check_jammers, "Jammer.from_record of read_jammer_file(.csv)"),
    Target("jammers-toml", "toml", (
        '[[jammer]]\nname = "north"\nlatitude_deg = 35.78\nlongitude_deg = 51.42\neirp_dbw = 10\nheight_m = 30\n'
        'active = [["2026-01-08T18:00", "2026-01-09T06:00"]]\n\n'
        '[[jammer]]\nname = "south"\nlatitude_deg = 35.63\nlongitude_deg = 51.40\neirp_dbw = -3.5\n',
    ), _jammers("jammers.toml"), _check_jammers, "Jammer.from_record of read_jammer_file(.toml)"),
    Target("sensors-csv", "csv", (
        "name,latitude_deg,longitude_deg,height_m,kind,gain_dbi,beamwidth_deg,revisit_s,t_s\n"
        "mast,35.7,51.4,30,mast,20,10,0.01,\ndrone,35.7,51.4,500,drone,,,,0\ndrone,35.8,51.5,500,drone,,,,60\n",
    ), _sensors("sensors.csv"), _check_sensors, "Sensor.from_record of read_sensor_file(.csv)"),
    Target("sensors-toml", "toml", (
        '[[sensor]]\nname = "mast"\nlatitude_deg = 35.7\nlongitude_deg = 51.4\nheight_m = 30\nkind = "mast"\n'
        'beamwidth_deg = 10\npfa = 1e-6\n\n[[sensor]]\nname = "drone"\nlatitude_deg = 35.7\nlongitude_deg = 51.4\n'
        'kind = "drone"\npath = [[0, 35.7, 51.4, 500], [60, 35.8, 51.5, 500.5]]\n',
    ), _sensors("sensors.toml"), _check_sensors, "Sensor.from_record of read_sensor_file(.toml)"),
    Target("terminals", "csv", (
        "latitude_deg,longitude_deg,terminals\n35.7,51.4,10\n32.6,51.7,1\n",
        "lat,lon\n50.45,30.52\n",
    ), _terminals, _check_terminals, "formats.terminals.read_terminals_file"),
    Target("scenario", "toml", (_SCENARIO,), _scenario, _check_scenario, "scenario.load.load_scenario of a .toml file"),
    Target("sweep-set", "text", (
        "routing.attach=free,scheduled",
        "time.duration=5min,10min\nrouting.mode=isl,hybrid",
        "constellation.preset=starlink-2026-05",
        'traffic.pairs=[["Tehran", "Mashhad"]]\ntime.step=15s',
        "ground.terminals[0].places=[\"Kyiv\"]\nrouting.min_elevation_deg=25,40",
    ), _sweep, None, "pipeline.sweep.variants: sweep --set, one a line, on the global scenario"),
    Target("duration", "text", ("100ms", "15s", "10min", "2h", "1d", "2.5", "1e3s"), _duration, None,
           "core.time.parse_duration"),
    Target("time", "text", ("2026-05-13T00:00:00Z", "2026-05-13 00:00", "2026-01-08T18:00",
                            "2026-05-13T00:00:00.5+00:00"), _time, None, "core.time.parse_time"),
    Target("place", "text", ("Tehran", "35.69,51.39", "47.6, -122.3, 100", "portland, me", "Kharkiv",
                             "Frankfurt am Main"), _place, lambda site: _check_sites([site]), "ground.places.resolve_place"),
    Target("attach", "text", ("free", "max-elevation", "scheduled", "scheduled:interval=15s,offset=12s",
                              "scheduled:15s:12s:route:1ms"), _attach, None, "POLICIES.make (routing.attach)"),
    Target("mode", "text", ("isl", "bent-pipe", "hybrid"), _mode, None, "MODES.make (routing.mode)"),
    Target("sensor-layout", "text", ("ring:6:3", "ring:n=6,radius_km=3,height_m=10", "grid:5", "grid:spacing_km=5,height_m=10",
                                     "drone:3:500", "drone:3:500:60"), _layout, _check_layout,
           "scenario.resolve.load_sensors(spec, (35.69, 51.39)): a layout or a file"),
    Target("elements-tle", "lines", (_TLE,), _elements("starlink.tle"), None, "formats.elements.read_element_file (TLE)"),
    Target("elements-omm-json", "json", (_OMM_JSON,), _elements("starlink.json"), None,
           "formats.elements.read_element_file (OMM JSON)"),
    Target("elements-omm-csv", "csv", (_OMM_CSV,), _elements("starlink.csv"), None,
           "formats.elements.read_element_file (OMM CSV)"),
    Target("elements-hypatia", "lines", (_HYPATIA_TLES,), _elements("tles.txt"), None,
           "formats.elements.read_element_file (Hypatia tles.txt)"),
    Target("metrics-country", "csv", ("iso3,latency_p20_ms,latency_p50_ms,latency_p80_ms\nARG,40.1,30.2,25.3\nUSA,35,28,22\n",),
           _measurements("read_country_metrics"), None, "formats.measurements.read_country_metrics"),
    Target("metrics-state", "csv", ("name,date,latency_p20,latency_p50,latency_p80\nMaine,202506,50,40,30\nOhio,202507,45,35,30\n",),
           _measurements("read_state_metrics"), None, "formats.measurements.read_state_metrics"),
    Target("ping-trace", "csv", ("time,rtt_ms,operator\n2024-05-29T12:01:02.229775-04:00,44.2,starlink\n1717000000.5,50,att\n"
                                 "1717000001,38.5,Starlink\n",),
           _measurements("read_ping_trace"), None, "formats.measurements.read_ping_trace"),
    Target("probe-summary", "csv", (
        "prb_id,place_hgreenstein,lat_hgreenstein,lon_hgreenstein,ripe_pop_ptr_2026,n_valid,min_rtt_ms,p5_minrtt_ms,"
        "median_minrtt_ms,p95_minrtt_ms\n1001,Edinburgh,55.7333,-2.8167,lndngbr1,100,30.1,31,35,40\n"
        "1002,Oslo,59.9,10.75,,12,20,21,22,30\n",),
        _measurements("read_probe_summary"), None, "formats.measurements.read_probe_summary"),
)}
# the shipped scenarios are seeds too (read when first needed: they are package data)
_EXTRA_SEEDS: dict[str, Callable[[], tuple[str, ...]]] = {"scenario": _builtin_scenarios}


def seeds_of(target: Target) -> tuple[str, ...]:
    extra = _EXTRA_SEEDS.get(target.name)
    return target.seeds + (extra() if extra else ())


# ================================================================= the mutator
_NUMBER_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
#: Numbers an adversary tries: huge, tiny, non-finite, negative, off by one at limits,
#: digits outside ASCII, what Python's int() and float() accept and a parser may not.
HOSTILE_NUMBERS = (
    "9" * 5000, "-" + "9" * 4301, "1" + "0" * 400, "1e308", "-1e308", "1e309", "1e400", "-1e400", "1e-320",
    "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "+inf", "-0", "0", "-1", "-0.0001", "4294967296",
    "18446744073709551616", "9" * 19, "99999999999", "3639232", "200", "-200", "91", "-91", "180.0001", "360.0001",
    "-27000000", "100001", "-501", "1e21", "101", "-61", "20001", "0x1F", "1_000", "0o17", "1e5", "١٢", "１２", "²",
    "٣.٥", "1\u00a0000", "\u22121", "", " ", "1,5", "1.2.3", "--1", "+-1", "1e", "e5", ".", "0.0000000001",
)
#: Values of the wrong TOML type (and nesting) for a ``key = value`` line.
HOSTILE_TOML_VALUES = (
    "[0]", "{}", "[{}]", "[[]]", "[[0, 1]]", "['-1']", "[{ a = 1 }]", "true", "false", '""', '"x"', "'-1'",
    "1979-05-27T07:32:00Z", "1979-05-27", "07:32:00", "inf", "nan", "-inf", "9" * 5000, "0",
    "[" * 1000 + "]" * 1000, "[" * 60 + "]" * 60, '"' + "x" * 200_000 + '"', "[" + "1," * 5000 + "1]",
)
#: Snippets inserted anywhere.
HOSTILE_SNIPPETS = (
    ",", ",,", "\n", "\r\n", "\r", '"', "'", '"""', "[", "]", "{", "}", "[[", "]]", "=", ":", "#", " ", "\t", "\\",
    "\x00", "\ufeff", "\u2028", "\x85", "\u00a0", "é", "²", "١", "１", "\ud800", "\U0001f600", "-", ".", "e", "*",
    "[x]", "[[x]]\n", "\na = 1\n", "\n[", ":=", "=,", ",=", "::", "ring:", "x" * 131_073, "9" * 5000,
    "[" * 1000, "{" * 1000, "\n" * 1000, "a," * 2000,
)
_ALPHABET = "0123456789,.-+eE:=[]{}\"' \t\n#\\*xyzZT²١１\x00é"


def _replace_number(text: str, rng: random.Random) -> str:
    spans = [m.span() for m in _NUMBER_RE.finditer(text)]
    if not spans:
        return text + rng.choice(HOSTILE_NUMBERS)
    a, b = rng.choice(spans)
    return text[:a] + rng.choice(HOSTILE_NUMBERS) + text[b:]


def _replace_toml_value(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    assigns = [k for k, line in enumerate(lines) if "=" in line]
    if not assigns:
        return text
    k = rng.choice(assigns)
    key = lines[k].split("=", 1)[0]
    lines[k] = f"{key}= {rng.choice(HOSTILE_TOML_VALUES)}"
    return "\n".join(lines)


def _replace_field(text: str, rng: random.Random) -> str:
    """Replace one comma-separated field of one line with a hostile value."""
    lines = text.split("\n")
    k = rng.randrange(len(lines))
    fields = lines[k].split(",")
    j = rng.randrange(len(fields))
    fields[j] = rng.choice((*HOSTILE_NUMBERS, "x" * 131_073, '"', '"a,b"', "", "yes", "maybe", "*", "??"))
    lines[k] = ",".join(fields)
    return "\n".join(lines)


def _line_op(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    op = rng.randrange(5)
    k = rng.randrange(len(lines))
    if op == 0:  # duplicate a line (a TOML key twice, a CSV row twice)
        lines.insert(k, lines[k])
    elif op == 1 and len(lines) > 1:  # delete a line
        del lines[k]
    elif op == 2:  # swap two lines
        j = rng.randrange(len(lines))
        lines[k], lines[j] = lines[j], lines[k]
    elif op == 3:  # the same line many times
        lines[k:k] = [lines[k]] * rng.choice((100, 1000))
    else:  # a line cut short
        lines[k] = lines[k][: rng.randrange(len(lines[k]) + 1)]
    return "\n".join(lines)


def _char_op(text: str, rng: random.Random) -> str:
    n = len(text)
    op = rng.randrange(6)
    k = rng.randrange(n + 1)
    if op == 0 and n:  # replace a character
        return text[:k] + rng.choice(_ALPHABET) + text[k + 1:]
    if op == 1 and n:  # flip a bit of a character
        k = min(k, n - 1)
        c = chr(ord(text[k]) ^ (1 << rng.randrange(8)))
        return text[:k] + c + text[k + 1:]
    if op == 2:  # insert a snippet
        return text[:k] + rng.choice(HOSTILE_SNIPPETS) + text[k:]
    if op == 3 and n:  # delete a span
        return text[:k] + text[k + rng.randint(1, 16):]
    if op == 4 and n:  # duplicate a span
        j = min(n, k + rng.randint(1, 40))
        return text[:j] + text[k:j] * rng.choice((1, 2, 50)) + text[j:]
    return text[:k]  # truncate


def mutate(text: str, syntax: str, rng: random.Random) -> str:
    """One to four stacked mutations of ``text``, chosen for its ``syntax``."""
    ops: list[Callable[[str, random.Random], str]] = [_char_op, _char_op, _replace_number, _replace_number]
    if syntax in ("csv", "lines", "toml", "json"):
        ops += [_line_op, _line_op]
    if syntax == "csv":
        ops += [_replace_field, _replace_field]
    if syntax == "toml":
        ops += [_replace_toml_value, _replace_toml_value]
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
        text = rng.choice(ops)(text, rng)
    if len(text) > 4_000_000:  # stacked duplications: keep inputs to a few MB
        text = text[:4_000_000]
    return text


def inputs(target: Target, n: int, seed: int):
    """The seeds, then mutations of them, ``n`` in all, the same for the same ``seed``."""
    rng = random.Random(f"{seed}:{target.name}")
    seeds = seeds_of(target)
    for k in range(n):
        yield seeds[k] if k < len(seeds) else mutate(rng.choice(seeds), target.syntax, rng)


# ================================================================= running inputs
def _leosim_frame(tb_frames) -> str:
    """``file:line`` of the innermost frame in leosim's own code (else the innermost)."""
    chosen = None
    for f in tb_frames:
        if "/leosim/" in f.filename.replace(os.sep, "/") and "/benchmarks/" not in f.filename:
            chosen = f
    chosen = chosen or (tb_frames[-1] if tb_frames else None)
    if chosen is None:
        return "?"
    path = chosen.filename.replace(os.sep, "/")
    path = path[path.rfind("/leosim/") + 1:] if "/leosim/" in path else os.path.basename(path)
    return f"{path}:{chosen.lineno}"


def classify(target: Target, text: str, workdir: Path) -> tuple[str, str, str]:
    """(outcome, cause, message) of one input, run here."""
    try:
        result = target.run(text, workdir)
    except LeosimError as exc:
        return "error", type(exc).__name__, str(exc)[:300]
    except Exception as exc:
        kind = type(exc)
        name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
        return "crash", f"{name} at {_leosim_frame(traceback.extract_tb(exc.__traceback__))}", str(exc)[:300]
    if target.check is not None:
        try:
            bad = target.check(result)
        except Exception as exc:  # a check that cannot read the result: the result is odd
            bad = f"unreadable result: {type(exc).__name__}: {exc}"
        if bad:  # "what: details"; what is the cause
            return "invalid", bad.split(":", 1)[0], bad[:300]
    return "accepted", "", ""


def _worker(conn, memory_headroom: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warnings.simplefilter("ignore")  # a warning is not an outcome; it would only flood the terminal
    dump = tempfile.NamedTemporaryFile("w+", prefix="leosim-fuzz-stack-", suffix=".txt", delete=False)
    faulthandler.register(signal.SIGUSR1, file=dump, all_threads=False)
    conn.send(("ready", dump.name))
    try:
        with open("/proc/self/statm") as f:
            vm = int(f.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (vm + memory_headroom, resource.RLIM_INFINITY))
    except (OSError, ValueError):
        pass
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    with tempfile.TemporaryDirectory(prefix="leosim-fuzz-") as tmp:
        workdir = Path(tmp)
        while True:
            msg = conn.recv()
            if msg is None:
                return
            name, text = msg
            try:
                conn.send(classify(TARGETS[name], text, workdir))
            except MemoryError:
                conn.send(("crash", "MemoryError (while reporting)", ""))


class Worker:
    """A worker process that runs one input at a time; killed and replaced on a hang."""

    def __init__(self, ctx, memory_headroom: int):
        self.ctx, self.memory_headroom = ctx, memory_headroom
        self._start()

    def _start(self) -> None:
        self.conn, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child, self.memory_headroom), daemon=True)
        self.proc.start()
        child.close()
        _, self.stack_file = self.conn.recv()
        self.job = None
        self.started = 0.0

    def submit(self, job, name: str, text: str) -> None:
        self.job, self.started = job, time.monotonic()
        self.conn.send((name, text))

    def receive(self):
        job, self.job = self.job, None
        try:
            return job, self.conn.recv()
        except (EOFError, ConnectionError):  # the worker died (killed for memory, a segfault)
            code = self.proc.exitcode
            self.restart()
            return job, ("crash", f"worker died (exit {code})", "")

    def where_stuck(self) -> str:
        """Where the worker is, from a faulthandler dump, before it is killed."""
        try:
            os.truncate(self.stack_file, 0)
            os.kill(self.proc.pid, signal.SIGUSR1)
            time.sleep(0.3)
            text = Path(self.stack_file).read_text(errors="replace")
        except OSError:
            return "?"
        frames = re.findall(r'File "([^"]+)", line (\d+) in (\S+)', text)
        for filename, line, func in frames:  # innermost first
            if "/leosim/" in filename and "/benchmarks/" not in filename:
                path = filename[filename.rfind("/leosim/") + 1:]
                return f"{path}:{line} ({func})"
        return f"{os.path.basename(frames[0][0])}:{frames[0][1]}" if frames else "?"

    def kill_hung(self) -> tuple[Any, tuple[str, str, str]]:
        job = self.job
        where = self.where_stuck()
        self.proc.kill()
        self.proc.join()
        self.restart()
        return job, ("hang", f"hang at {where}", f"over {LIMIT_S:g} s")

    def restart(self) -> None:
        try:
            os.unlink(self.stack_file)
        except OSError:
            pass
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self._start()

    def close(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
        try:
            os.unlink(self.stack_file)
        except OSError:
            pass


def run_all(jobs, workers: list[Worker], limit_s: float, on_result) -> None:
    """Run ``jobs`` (``(key, target name, text)``) on the workers; ``on_result(key, outcome)``."""
    jobs = iter(jobs)
    idle = list(workers)
    busy: dict[Any, Worker] = {}
    done = False
    while True:
        while idle and not done:
            job = next(jobs, None)
            if job is None:
                done = True
                break
            w = idle.pop()
            w.submit(job, job[1], job[2])
            busy[w.conn] = w
        if not busy:
            return
        now = time.monotonic()
        timeout = max(0.0, min(w.started + limit_s for w in busy.values()) - now)
        ready = wait(list(busy), timeout=timeout)
        for conn in ready:
            w = busy.pop(conn)
            job, outcome = w.receive()
            on_result(job, outcome)
            idle.append(w)
        now = time.monotonic()
        for conn, w in list(busy.items()):
            if conn not in ready and now - w.started > limit_s:
                del busy[conn]
                job, outcome = w.kill_hung()
                on_result(job, outcome)
                idle.append(w)


# ================================================================= shrinking
def shrink(target: Target, text: str, cause: str, worker: Worker, limit_s: float, budget: int = 400) -> str:
    """A smaller input that fails with the same ``cause`` (greedy: lines, runs, characters)."""
    tries = 0

    def same(candidate: str) -> bool:
        nonlocal tries
        if tries >= budget or candidate == text:
            return False
        tries += 1
        got: list = []
        run_all([(None, target.name, candidate)], [worker], limit_s, lambda job, out: got.append(out))
        return got[0][1] == cause

    # whole lines, in halving chunks
    lines = text.split("\n")
    chunk = max(1, len(lines) // 2)
    while chunk >= 1 and tries < budget:
        k = 0
        while k < len(lines) and tries < budget:
            candidate = lines[:k] + lines[k + chunk:]
            if candidate and same("\n".join(candidate)):
                lines = candidate
                text = "\n".join(lines)
            else:
                k += chunk
        chunk //= 2
    # runs of one repeated character: halve them while the cause holds
    for m in sorted(re.finditer(r"(.)\1{15,}", text, re.S), key=lambda m: -len(m.group(0))):
        run = m.group(0)
        start = text.find(run)
        if start < 0:
            continue
        length = len(run)
        while length > 1 and tries < budget:
            shorter = text[:start] + run[0] * (length // 2) + text[start + length:]
            if same(shorter):
                text, length = shorter, length // 2
            else:
                break
    # characters, in halving chunks (inputs are short by now)
    chunk = max(1, len(text) // 4)
    while chunk >= 1 and tries < budget:
        k = 0
        while k < len(text) and tries < budget:
            candidate = text[:k] + text[k + chunk:]
            if candidate and same(candidate):
                text = candidate
            else:
                k += chunk
        chunk //= 2
    return text


def show(text: str, limit: int = 400) -> str:
    """``text`` as a Python expression, runs of one character written ``'x' * N``."""
    parts, k = [], 0
    for m in re.finditer(r"(.)\1{19,}", text, re.S):
        if m.start() > k:
            parts.append(repr(text[k:m.start()]))
        parts.append(f"{m.group(1)!r} * {len(m.group(0))}")
        k = m.end()
    if k < len(text) or not parts:
        parts.append(repr(text[k:]))
    out = " + ".join(parts)
    return out if len(out) <= limit else out[:limit] + f"... ({len(text):,} characters)"


# ================================================================= the report
@dataclass
class Tally:
    inputs: int = 0
    accepted: int = 0
    error: int = 0
    invalid: int = 0
    crash: int = 0
    hang: int = 0
    causes: dict[str, list] = field(default_factory=dict)  # cause -> [count, outcome, first input, message]

    def add(self, outcome: str, cause: str, message: str, text: str) -> None:
        self.inputs += 1
        setattr(self, outcome, getattr(self, outcome) + 1)
        if outcome in ("crash", "hang", "invalid"):
            entry = self.causes.setdefault(cause, [0, outcome, text, message])
            entry[0] += 1
            if outcome != "hang" and len(text) < len(entry[2]):  # keep the shortest
                entry[2], entry[3] = text, message


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-parser", type=int, default=10_000, metavar="N", help="inputs per target (default 10,000)")
    ap.add_argument("--seed", type=int, default=0, help="mutation seed (default 0)")
    ap.add_argument("--only", default="", metavar="NAME[,NAME]", help="only these targets (see --list)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: every CPU)")
    ap.add_argument("--limit", type=float, default=LIMIT_S, metavar="S", help=f"seconds per input before a hang (default {LIMIT_S:g})")
    ap.add_argument("--no-shrink", action="store_true", help="report the first failing input as found")
    ap.add_argument("--list", action="store_true", help="list the targets and exit")
    args = ap.parse_args(argv)
    if args.list:
        for t in TARGETS.values():
            print(f"{t.name:18} {t.help}")
        return 0
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(TARGETS)
    unknown = [n for n in names if n not in TARGETS]
    if unknown:
        print(f"error: unknown target {unknown[0]!r}; expected one of: {', '.join(TARGETS)}", file=sys.stderr)
        return 2
    if args.per_parser < 1 or args.workers < 1 or not args.limit > 0:
        print("error: --per-parser and --workers must be at least 1 and --limit positive", file=sys.stderr)
        return 2

    # warm the caches (city index, country tables, ...) once, so forked workers share them
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in names:
            t = TARGETS[n]
            for s in seeds_of(t)[:1]:
                classify(t, s, Path(tmp))
    ctx = mp.get_context("fork")
    workers = [Worker(ctx, MEMORY_HEADROOM_BYTES) for _ in range(args.workers)]
    tallies = {n: Tally() for n in names}
    texts: dict[tuple[str, int], str] = {}
    t0 = time.monotonic()

    def jobs():
        for n in names:
            for k, text in enumerate(inputs(TARGETS[n], args.per_parser, args.seed)):
                texts[n, k] = text
                yield (n, k), n, text

    progress = {"n": 0}

    def on_result(job, outcome):
        key = job[0]
        text = texts.pop(key)
        tallies[key[0]].add(outcome[0], outcome[1], outcome[2], text)
        progress["n"] += 1
        if sys.stderr.isatty() and progress["n"] % 500 == 0:
            print(f"\r{progress['n']:,} inputs, {time.monotonic() - t0:,.0f} s", end="", file=sys.stderr)

    interrupted = False
    try:
        try:
            run_all(jobs(), workers, args.limit, on_result)
        except KeyboardInterrupt:  # Ctrl-C or kill -INT: report what has run so far
            interrupted = True
        if sys.stderr.isatty():
            print("\r", end="", file=sys.stderr)
        if not args.no_shrink and not interrupted:
            for n in names:
                for cause, entry in tallies[n].causes.items():
                    if entry[1] != "hang":
                        entry[2] = shrink(TARGETS[n], entry[2], cause, workers[0], args.limit)
    finally:
        for w in workers:
            w.close()

    elapsed = time.monotonic() - t0
    cols = ("target", "inputs", "accepted", "leosim errors", "invalid", "crashes", "hangs")
    n_inputs = sum(t.inputs for t in tallies.values())
    if interrupted:
        print("leosim fuzz: INTERRUPTED; the counts below are the inputs that ran (reproducers not shrunk)")
    print(f"leosim fuzz: {args.per_parser:,} inputs per target, seed {args.seed}, hang over {args.limit:g} s, "
          f"{len(workers)} worker(s), {elapsed:,.0f} s ({1e3 * elapsed / max(n_inputs, 1):.1f} ms per input)")
    print(f"{cols[0]:18} " + " ".join(f"{c:>13}" for c in cols[1:]))
    total = Tally()
    for n in names:
        t = tallies[n]
        row = (t.inputs, t.accepted, t.error, t.invalid, t.crash, t.hang)
        print(f"{n:18} " + " ".join(f"{v:>13,}" for v in row))
        for k in ("inputs", "accepted", "error", "invalid", "crash", "hang"):
            setattr(total, k, getattr(total, k) + getattr(t, k))
    print(f"{'total':18} " + " ".join(f"{getattr(total, k):>13,}" for k in ("inputs", "accepted", "error", "invalid", "crash", "hang")))
    n_causes = 0
    for n in names:
        for cause, (count, outcome, text, message) in sorted(tallies[n].causes.items(), key=lambda kv: -kv[1][0]):
            n_causes += 1
            print(f"\n[{n}] {outcome}: {cause} ({count:,} inputs)\n  message:    {message[:200]}\n  reproducer: {show(text)}")
    bad = total.crash + total.hang + total.invalid
    verdict = "FAIL" if bad else "INTERRUPTED (incomplete)" if interrupted else "no crash, hang or invalid input accepted"
    print(f"\n{n_causes} distinct cause(s); {verdict}")
    return 1 if bad or interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
