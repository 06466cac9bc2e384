"""Scenario files: TOML validated into typed models.

A scenario says what to simulate (constellation, time window, ground segment, routing)
and what to hand back. Every mistake in a file is reported with the file, the key path
(``ground.terminals[2].country``), the line where it can be found, what was received and
what was expected; unknown keys are errors, so a typo is never silently ignored.

Built-in scenarios live in ``leosim/data/scenarios/*.toml``; ``leosim scenarios show
NAME`` prints one so it can be copied and edited.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from leosim.core.time import parse_duration, parse_time
from leosim.core.visibility import DEFAULT_MIN_ELEVATION_DEG
from leosim.errors import LeosimError
from leosim.models.exposure import SENSOR_LAYOUTS, is_layout
from leosim.models.jamming import JAMMER_EIRP_RANGE_DBW, JAMMER_HEIGHT_MAX_M
from leosim.network.attachment import POLICIES
from leosim.network.links import DEFAULT_FIBRE_STRETCH
from leosim.network.modes import MODES
from leosim.space.constellation import DEFAULT_PRESET


class _Model(BaseModel):
    # allow_inf_nan=False: TOML has inf and nan, and no number of a scenario means either
    # (pydantic would let ``fibre_stretch = inf`` through a ``ge=1`` bound)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


#: Walker shells may have at most this many planes and satellites per plane, and a
#: constellation at most :data:`MAX_SATELLITES` in all. The largest filed constellations
#: are SpaceX's Gen2 (about 30,000 satellites) and China's Guowang (12,992); 100,000
#: leaves room for what-ifs and refuses a typo that would build a billion orbits.
MAX_PLANES = 1_000
MAX_SATS_PER_PLANE = 1_000
MAX_SATELLITES = 100_000
#: Seeds are non-negative (numpy's generators refuse negative ones) and fit 64 bits.
SEED_MAX = 2**64 - 1


class ShellSpec(_Model):
    """One Walker-delta shell."""

    altitude_km: Annotated[float, Field(ge=100, le=50_000)]
    inclination_deg: Annotated[float, Field(ge=0, le=180)]
    planes: Annotated[int, Field(ge=1, le=MAX_PLANES)]
    sats_per_plane: Annotated[int, Field(ge=1, le=MAX_SATS_PER_PLANE)]
    phasing: Annotated[int, Field(ge=0, le=MAX_PLANES)] = 1

    @model_validator(mode="after")
    def _walker(self) -> ShellSpec:
        if self.phasing >= self.planes:
            raise ValueError(f"phasing {self.phasing} (Walker's F, 1 when not given) is not below planes = {self.planes}; "
                             f"expected 0 to {self.planes - 1}")
        return self


class ConstellationSpec(_Model):
    """A preset, an element-set file, or Walker shells: exactly one of them."""

    preset: str | None = None
    file: str | None = None
    shells: Annotated[list[ShellSpec], Field(min_length=1, max_length=100)] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ConstellationSpec:
        given = [k for k in ("preset", "file", "shells") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of preset, file or shells; got {', '.join(given) or 'none'}"
            )
        total = sum(sh.planes * sh.sats_per_plane for sh in self.shells or ())
        if total > MAX_SATELLITES:
            raise ValueError(f"the shells have {total:,} satellites; expected at most {MAX_SATELLITES:,}")
        if self.preset is not None:
            from leosim.space.constellation import PRESET_NAMES

            if self.preset not in PRESET_NAMES:
                raise ValueError(f"unknown preset {self.preset!r}; expected one of {', '.join(PRESET_NAMES)}")
        return self


class TimeSpec(_Model):
    """When: ``start`` is ISO 8601 UTC or ``"epoch"`` (the element sets' epoch)."""

    start: str = "epoch"
    duration: str = "10min"
    step: str = "1s"

    @field_validator("start")
    @classmethod
    def _start(cls, v: str) -> str:
        if v != "epoch":
            parse_time(v)
        return v

    @field_validator("duration", "step")
    @classmethod
    def _dur(cls, v: str, info) -> str:
        parse_duration(v, what=info.field_name)
        return v

    @model_validator(mode="after")
    def _step_fits(self) -> TimeSpec:
        if parse_duration(self.step) > parse_duration(self.duration):
            raise ValueError(f"step {self.step} is longer than the duration {self.duration}; expected a shorter step")
        return self


class TerminalGroup(_Model):
    """A group of terminals: the N most populous cities of a country (or of the world),
    named places, or a site file."""

    cities: Annotated[int, Field(ge=1, le=5000)] | None = None
    country: str | None = None
    places: Annotated[list[str], Field(min_length=1)] | None = None
    file: str | None = None
    label: str | None = None

    @field_validator("country")
    @classmethod
    def _cc(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z]{2}", v):
            raise ValueError(f"country {v!r} is not an ISO 3166-1 alpha-2 code; expected two letters such as 'UA'")
        return None if v is None else v.upper()

    @model_validator(mode="after")
    def _one_source(self) -> TerminalGroup:
        given = [k for k in ("cities", "places", "file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of cities, places or file; got {', '.join(given) or 'none'}")
        if self.country is not None and self.cities is None:
            raise ValueError("country only goes with cities (the N most populous cities of that country)")
        return self


class GroundSpec(_Model):
    """Terminals, and where gateways and PoPs come from: ``"starlink"`` (Starlink's 2026
    ground network, also ``"starlink-2026"``), ``"starperf-2024"`` (StarPerf's list of
    January 2024, for reproducing older work), a file, or ``"none"``.

    ``gateway_countries`` keeps only gateways in those countries (e.g. ``["PL", "LT"]``);
    ``gateway_exclude`` drops the gateways of those countries (a government that forbids them).
    """

    terminals: list[TerminalGroup] = []
    gateways: str = "starlink"
    pops: str = "starlink"
    gateway_countries: list[str] | None = None
    gateway_exclude: list[str] | None = None

    @field_validator("gateway_countries", "gateway_exclude")
    @classmethod
    def _codes(cls, v: list[str] | None, info) -> list[str] | None:
        # gateways are matched by their two-letter code: "Iran" or "XX" would match none,
        # and silently keep or drop nothing
        return None if v is None else [_known_code(c, f"ground.{info.field_name}") for c in v]


class RoutingSpec(_Model):
    """How traffic crosses the network: a routing mode and an attachment policy from their
    registries (``attach = "scheduled:interval=15s,offset=12s"``), the elevation mask of
    terminals and gateways, the longest laser link and the fibre route stretch."""

    mode: str = "isl"
    attach: str = "scheduled"
    min_elevation_deg: Annotated[float, Field(ge=0, le=90)] = DEFAULT_MIN_ELEVATION_DEG
    max_isl_length_km: Annotated[float, Field(gt=0)] | None = None
    fibre_stretch: Annotated[float, Field(ge=1)] = DEFAULT_FIBRE_STRETCH

    @field_validator("mode")
    @classmethod
    def _mode(cls, v: str) -> str:
        MODES.check(v)
        return v

    @field_validator("attach")
    @classmethod
    def _attach(cls, v: str) -> str:
        POLICIES.check(v)
        return v


class TrafficSpec(_Model):
    """What to measure: each terminal to a server at a PoP (``"home-pop"``: the PoP Starlink
    assigns to the terminal's country and region, by its GeoIP feed; ``"nearest-pop"``: the
    PoP nearest the terminal, leosim's rule before 2026-12), and/or explicit place pairs
    plotted over time."""

    destination: Literal["home-pop", "nearest-pop", "none"] = "home-pop"
    pairs: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = []
    plot_pairs: Annotated[int, Field(ge=0, le=20)] = 6


class OutputsSpec(_Model):
    time_series: Literal["zarr", "netcdf"] = "zarr"
    tables: Literal["csv", "parquet"] = "csv"
    report: bool = True


def _country_code(v: str | None, what: str) -> str | None:
    """An ISO code, checked against the shipped country list (the ``policy`` extra)."""
    if v is None:
        return None
    if not re.fullmatch(r"[A-Za-z]{2}", v):
        raise ValueError(f"{what} {v!r} is not an ISO 3166-1 alpha-2 code; expected two letters such as 'IR'")
    from leosim.errors import PlaceError
    from leosim.ground.countries import country_code

    try:
        return country_code(v)
    except PlaceError as exc:
        raise ValueError(str(exc)) from None


def _known_code(v: str, what: str) -> str:
    """A two-letter code, upper case; checked against the country list when the ``policy``
    extra (which ships it) is installed."""
    if not re.fullmatch(r"[A-Za-z]{2}", v):
        raise ValueError(f"{what}: {v[:60]!r} is not an ISO 3166-1 alpha-2 code; expected two letters such as 'IR'")
    from leosim.errors import MissingExtraError, PlaceError
    from leosim.ground.countries import country_code

    try:
        return country_code(v)
    except MissingExtraError:
        return v.upper()
    except PlaceError as exc:
        raise ValueError(f"{what}: {exc}") from None


def lat_lon(text: str, what: str) -> tuple[float, float]:
    """``"35.69,51.39"`` -> (35.69, 51.39), checked; ValueError naming ``what`` otherwise."""
    import math

    parts = str(text).split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not LAT,LON; expected two numbers in degrees such as 35.69,51.39") from None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 360):
        raise ValueError(f"{what} {text!r} is outside latitude -90..90, longitude -180..180")
    return lat, lon


class PolicySpec(_Model):
    """The operator's service policy: a preset (``all``, ``none``) or a policy file
    (``.toml``/``.csv``, relative to the scenario file; see docs/adversary.md).

    ``home_country``: every terminal's home country, for the roaming limit (default: the
    country each terminal stands in). The terminals' account, the same for all of them:
    ``plan`` (``roam``, ``residential`` with a ``service_address = "LAT,LON"``, or
    ``maritime``), ``days_abroad`` already spent outside the home country, ``speed_kmh``
    (default: from the terminals' own motion), ``no_gps`` (no GPS fix at all, e.g. jammed)
    and ``terminal_ids`` (in terminal order, for a whitelist; default: their names).
    """

    preset: Literal["all", "none"] | None = None
    file: str | None = None
    home_country: str | None = None
    plan: Literal["roam", "residential", "maritime"] = "roam"
    service_address: str | None = None
    days_abroad: Annotated[float, Field(ge=0, le=36_500)] = 0.0
    speed_kmh: Annotated[float, Field(ge=0, le=100_000)] | None = None
    no_gps: bool = False
    terminal_ids: list[str] | None = None

    @field_validator("home_country")
    @classmethod
    def _home(cls, v: str | None) -> str | None:
        return _country_code(v, "home_country")

    @field_validator("service_address")
    @classmethod
    def _address(cls, v: str | None) -> str | None:
        if v is not None:
            lat_lon(v, "service_address")
        return v

    @model_validator(mode="after")
    def _one(self) -> PolicySpec:
        given = [k for k in ("preset", "file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of preset or file; got {', '.join(given) or 'none'}")
        if self.plan == "residential" and self.service_address is None:
            raise ValueError("a residential plan needs service_address = \"LAT,LON\"")
        return self


def _offset_or_time(v: str | None, what: str) -> str | None:
    """An instant: ISO 8601 UTC, or a duration after the run's start (``"10min"``)."""
    if v is None:
        return v
    try:
        parse_duration(v, what=what)
    except ValueError:
        try:
            parse_time(v)
        except ValueError:
            raise ValueError(
                f"{what} {v!r} is neither a time nor a duration; expected ISO 8601 UTC such as "
                "2026-05-13T00:10:00Z or a duration after the run's start such as 10min"
            ) from None
    return v


class JammerSpec(_Model):
    """One GPS L1 jammer: where, how high above ground, how strong, and when it is on.

    ``start``/``end``: ISO 8601 UTC, or a duration after the run's start (``"10min"``);
    absent: on from the start / until the end.
    """

    name: str
    latitude_deg: Annotated[float, Field(ge=-90, le=90)]
    longitude_deg: Annotated[float, Field(ge=-180, le=180)]
    eirp_dbw: Annotated[float, Field(ge=JAMMER_EIRP_RANGE_DBW[0], le=JAMMER_EIRP_RANGE_DBW[1])]
    height_m: Annotated[float, Field(ge=0, le=JAMMER_HEIGHT_MAX_M)] = 10.0
    start: str | None = None
    end: str | None = None

    @field_validator("start", "end")
    @classmethod
    def _when(cls, v: str | None, info) -> str | None:
        return _offset_or_time(v, info.field_name)


class JammingSpec(_Model):
    """GPS jamming: jammers given here and/or in a file (CSV or TOML, see docs/adversary.md).

    ``region``: the country whose area (and people) denied is reported, on H3 cells of
    ``resolution`` (5: ~253 km2); ``grace``: how long a terminal keeps being served after
    it loses its GPS fix (default: not at all); ``tolerance_db``: the J/S at which a
    receiver loses its fix (30 dB, an assumption, see ``leosim.models.jamming``);
    ``clutter_loss_db``: extra loss on every jammer path (0: free space); ``all_on``: every
    jammer on at every step, whatever its times (the worst case ``leosim jam`` shows).
    """

    jammers: list[JammerSpec] = []
    file: str | None = None
    region: str | None = None
    resolution: Annotated[int, Field(ge=0, le=7)] = 5
    all_on: bool = False
    grace: str | None = None
    tolerance_db: Annotated[float, Field(ge=0, le=100)] = 30.0
    clutter_loss_db: Annotated[float, Field(ge=0, le=100)] = 0.0

    @field_validator("region")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        return _country_code(v, "region")

    @field_validator("grace")
    @classmethod
    def _grace(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v, what="grace")
        return v

    @model_validator(mode="after")
    def _some(self) -> JammingSpec:
        if not self.jammers and self.file is None:
            raise ValueError("no jammer: give jammers = [{name, latitude_deg, longitude_deg, eirp_dbw}, ...] or file")
        return self


class ExposureSpec(_Model):
    """How soon sensors locate the scenario's transmitting terminals (Monte Carlo).

    ``sensors``: a sensor layout (``ring:N:RADIUS_KM[:HEIGHT_M]``, ``grid:SPACING_KM[:HEIGHT_M]``,
    ``drone:RADIUS_KM:ALTITUDE_M[:SPEED_KMH]``, or with keywords ``ring:n=6,radius_km=3``) or a
    sensor file, or a list of them. Layouts are placed in the world and stay there while a
    terminal moves: ``center`` anchors them at a place (``"Tehran"``, ``"35.69,51.39"``),
    ``"each"`` at each assessed terminal's own starting point, or (absent) at the assessed
    terminals' centroid. ``terminals``: how many of the scenario's terminals to assess (the
    first N; each costs a Monte Carlo) or their names; or, with ``region``, terminals put at
    random in that country, ``terminal_counts`` of them (several: a density what-if).
    What-ifs: ``duty_cycles``, ``tx_power_dbw`` (default the FCC's 6.1 dBW) and
    ``relocate_hours`` (0: never; a move goes anywhere within ``relocate_radius_km``).
    ``spread_km``: nobody knows exactly where in its neighbourhood a terminal stands, so
    each Monte Carlo trial puts it at a random spot within this distance of its place
    (default 2 km, as a move; 0: exactly there). ``interference``: the assessed terminals' own co-channel
    power raises each sensor's noise floor. A terminal the policy does not admit carries
    no traffic and so does not transmit: only admitted terminal-time counts. The seed is
    the scenario's ``seed``.
    """

    sensors: list[str]
    center: str | None = None
    duty_cycles: Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=1, max_length=8)] = [0.11]
    tx_power_dbw: Annotated[list[Annotated[float, Field(ge=-50, le=30)]], Field(min_length=1, max_length=8)] | None = None
    relocate_hours: Annotated[list[Annotated[float, Field(ge=0, le=24 * 30)]], Field(min_length=1, max_length=8)] = [0.0]
    relocate_radius_km: Annotated[float, Field(gt=0, le=500)] = 2.0
    spread_km: Annotated[float, Field(ge=0, le=500)] = 2.0
    hours: Annotated[float, Field(gt=0, le=24 * 30)] = 24.0
    terminals: Any = 5
    region: str | None = None
    terminal_counts: Annotated[list[Annotated[int, Field(ge=1, le=5000)]], Field(min_length=1, max_length=8)] | None = None
    trials: Annotated[int, Field(ge=1, le=10_000)] = 200
    method: Literal["aoa", "tdoa", "hybrid"] = "hybrid"
    radius_m: Annotated[float, Field(gt=0, le=1e6)] = 100.0
    open_terrain: bool = False
    interference: bool = True
    map_points: Annotated[int, Field(ge=4, le=200)] = 24

    @field_validator("sensors", mode="before")
    @classmethod
    def _sensors(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list) and not v:
            raise ValueError("no sensors; expected a layout such as 'ring:6:3' or a sensor file, or a list of them")
        if isinstance(v, list):
            for s in v:
                if isinstance(s, str) and is_layout(s):
                    try:  # built, not only parsed: the layouts' own range checks run here (nothing is placed)
                        SENSOR_LAYOUTS.make(s)
                    except LeosimError as exc:
                        raise ValueError(str(exc)) from None
        return v

    @field_validator("terminals")
    @classmethod
    def _terminals(cls, v: Any) -> int | list[str]:
        ok_int = isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1000
        ok_list = isinstance(v, list) and v and all(isinstance(x, str) and x.strip() for x in v)
        if not (ok_int or ok_list):
            raise ValueError(
                "expected how many of the scenario's terminals to assess (1-1000, the first N) "
                'or a list of their names such as ["Kharkiv", "Dnipro"]'
            )
        return v

    @field_validator("region")
    @classmethod
    def _region(cls, v: str | None) -> str | None:
        return _country_code(v, "region")


class CapacitySpec(_Model):
    """Capacity at the busy hour over one country (see docs/capacity.md): how much each H3
    cell gets, how many terminals the country supports at ``min_speed_mbps``, and what limits it.

    Give ``terminals`` (spread by population) or ``take_rate`` (the fraction of people
    served) with ``country``, or ``terminals_file`` (a CSV of terminal positions,
    ``latitude_deg,longitude_deg[,terminals]``). ``intervals``: how many 15 s
    reconfiguration intervals to evaluate, from the one holding the run's start (at most
    those inside the run's window); each costs about 0.4-2 s, plus a few seconds once for
    ITU-R's maps. Gateways are the scenario's own, after ``ground.gateway_countries`` and
    the ``[policy]``; backhaul follows ``routing.mode``. With ``[policy]`` or
    ``[jamming]``, only cells whose terminals are admitted (at the cell's centre, at each
    interval) ask for anything.
    """

    country: str | None = None
    terminals: Annotated[int, Field(ge=1, le=100_000_000)] | None = None
    take_rate: Annotated[float, Field(gt=0, le=1)] | None = None
    terminals_file: str | None = None
    resolution: Annotated[int, Field(ge=0, le=10)] = 5
    rain_exceedance: Annotated[float, Field(ge=0.001, le=5)] | None = None
    demand_per_terminal_mbps: Annotated[float, Field(gt=0, le=100_000)] = 100.0
    people_per_terminal: Annotated[float, Field(gt=0, le=100_000)] = 2.5
    min_speed_mbps: Annotated[float, Field(gt=0, le=100_000)] = 25.0
    intervals: Annotated[int, Field(ge=1, le=240)] = 4
    payload: Literal["v1.5", "v2-mini"] = "v1.5"

    @field_validator("country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        return _country_code(v, "country")

    @model_validator(mode="after")
    def _one(self) -> CapacitySpec:
        if self.terminals_file is not None:
            if self.terminals is not None or self.take_rate is not None:
                raise ValueError("terminals_file gives the terminals; expected no terminals or take_rate with it")
            return self
        given = [k for k in ("terminals", "take_rate") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of terminals or take_rate; got {', '.join(given) or 'none'}")
        if self.country is None:
            raise ValueError("country is missing; expected a country code such as 'IR' (or a terminals_file)")
        return self


class LatencySpec(_Model):
    """What users measure, country by country (docs/latency.md): ``users`` terminals per
    country spread by population (GeoNames on H3 cells), each routed to its home PoP
    (drawn by the PoP shares of Starlink's GeoIP feed) under the scenario's routing, every
    ``step`` over ``duration`` (default: the scenario's), from the first 15 s
    reconfiguration at or after the start. ``countries``: ISO codes, or ``"all"``: every
    country Starlink's feed assigns addresses to that the ``[policy]`` serves.
    ``seed``: the users' places and PoPs. ``map``: write ``latency_map.png``.
    """

    countries: list[str] | Literal["all"] = "all"
    users: Annotated[int, Field(ge=1, le=1000)] = 10
    seed: Annotated[int, Field(ge=0, le=SEED_MAX)] = 0
    duration: str | None = None
    step: str = "15s"
    map: bool = True

    @field_validator("countries")
    @classmethod
    def _countries(cls, v):
        if v == "all":
            return v
        if not v:
            raise ValueError("latency.countries is empty; expected ISO codes such as ['UA', 'IR'] or 'all'")
        return [_known_code(c, "latency.countries") for c in v]

    @field_validator("duration", "step")
    @classmethod
    def _durations(cls, v, info):
        if v is not None:
            parse_duration(v, what=f"latency.{info.field_name}")
        return v


class Scenario(_Model):
    """A whole scenario file."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: str = ""
    sources: list[str] = []
    seed: Annotated[int, Field(ge=0, le=SEED_MAX)] = 0
    constellation: ConstellationSpec = ConstellationSpec(preset=DEFAULT_PRESET)
    time: TimeSpec = TimeSpec()
    ground: GroundSpec
    routing: RoutingSpec = RoutingSpec()
    traffic: TrafficSpec = TrafficSpec()
    outputs: OutputsSpec = OutputsSpec()
    policy: PolicySpec | None = None
    jamming: JammingSpec | None = None
    exposure: ExposureSpec | None = None
    capacity: CapacitySpec | None = None
    latency: LatencySpec | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        # the name heads logs, reports and the resume hint, one line each
        if not v.strip() or not v.isprintable():
            raise ValueError("expected a one-line name of printable characters such as 'iran-2022'")
        return v
