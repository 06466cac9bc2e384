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
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from leosim.core.time import parse_duration, parse_time
from leosim.errors import ScenarioError
from leosim.space.constellation import DEFAULT_PRESET


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShellSpec(_Model):
    """One Walker-delta shell."""

    altitude_km: Annotated[float, Field(gt=80, lt=50_000)]
    inclination_deg: Annotated[float, Field(ge=0, le=180)]
    planes: Annotated[int, Field(ge=1)]
    sats_per_plane: Annotated[int, Field(ge=1)]
    phasing: Annotated[int, Field(ge=0)] = 1


class ConstellationSpec(_Model):
    """A preset, an element-set file, or Walker shells: exactly one of them."""

    preset: str | None = None
    file: str | None = None
    shells: list[ShellSpec] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ConstellationSpec:
        given = [k for k in ("preset", "file", "shells") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of preset, file or shells; got {', '.join(given) or 'none'}"
            )
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
    places: list[str] | None = None
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
    """Terminals, and where gateways and PoPs come from (``"starlink"``, a file, ``"none"``).

    ``gateway_countries`` keeps only gateways in those countries (e.g. ``["PL", "LT"]``).
    """

    terminals: list[TerminalGroup] = Field(min_length=1)
    gateways: str = "starlink"
    pops: str = "starlink"
    gateway_countries: list[str] | None = None


class RoutingSpec(_Model):
    mode: Literal["isl", "bent-pipe", "hybrid"] = "isl"
    attach: Literal["free", "max-elevation", "longest-visible", "scheduled"] = "scheduled"
    min_elevation_deg: Annotated[float, Field(ge=0, le=90)] = 25.0
    max_isl_length_km: Annotated[float, Field(gt=0)] | None = None
    fibre_stretch: Annotated[float, Field(ge=1)] = 1.5


class TrafficSpec(_Model):
    """What to measure: each terminal to a server at a PoP (``"nearest-pop"``: the PoP
    nearest the terminal), and/or explicit place pairs plotted over time."""

    destination: Literal["nearest-pop", "none"] = "nearest-pop"
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


class PolicySpec(_Model):
    """The operator's service policy: a preset (``all``, ``none``) or a policy file
    (``.toml``/``.csv``, relative to the scenario file; see docs/adversary.md).

    ``home_country``: every terminal's home country, for the roaming limit (default: the
    country each terminal stands in).
    """

    preset: Literal["all", "none"] | None = None
    file: str | None = None
    home_country: str | None = None

    @field_validator("home_country")
    @classmethod
    def _home(cls, v: str | None) -> str | None:
        return _country_code(v, "home_country")

    @model_validator(mode="after")
    def _one(self) -> PolicySpec:
        given = [k for k in ("preset", "file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of preset or file; got {', '.join(given) or 'none'}")
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
    eirp_dbw: Annotated[float, Field(ge=-60, le=100)]
    height_m: Annotated[float, Field(ge=0, le=20_000)] = 10.0
    start: str | None = None
    end: str | None = None

    @field_validator("start", "end")
    @classmethod
    def _when(cls, v: str | None, info) -> str | None:
        return _offset_or_time(v, info.field_name)


class JammingSpec(_Model):
    """GPS jamming: jammers given here and/or in a file (CSV or TOML, see docs/adversary.md).

    ``region``: the country whose area's denied share is reported; ``grace``: how long a
    terminal keeps being served after it loses its GPS fix (default: not at all);
    ``tolerance_db``: the J/S at which a receiver loses its fix (30 dB, an assumption, see
    ``leosim.models.jamming``); ``clutter_loss_db``: extra loss on every jammer path (0: free space).
    """

    jammers: list[JammerSpec] = []
    file: str | None = None
    region: str | None = None
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


_SENSOR_PRESET = re.compile(r"(ring|grid|drone):[0-9.:]+", re.IGNORECASE)


class ExposureSpec(_Model):
    """How soon sensors locate the scenario's transmitting terminals (Monte Carlo).

    ``sensors``: a preset (``ring:N:RADIUS_KM[:HEIGHT_M]``, ``grid:SPACING_KM[:HEIGHT_M]``,
    ``drone:RADIUS_KM:ALTITUDE_M[:SPEED_KMH]``) or a sensor file, or a list of them.
    ``center``: where presets are centred: a place (``"Tehran"``, ``"35.69,51.39"``),
    ``"each"`` (around each assessed terminal in turn), or absent (the assessed terminals'
    centroid). ``terminals``: how many of the scenario's terminals to assess (the first N;
    each costs a Monte Carlo) or their names. The seed is the scenario's ``seed``.
    """

    sensors: list[str]
    center: str | None = None
    duty_cycles: Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=1, max_length=8)] = [0.11]
    hours: Annotated[float, Field(gt=0, le=24 * 30)] = 24.0
    terminals: Any = 5
    trials: Annotated[int, Field(ge=1, le=10_000)] = 200
    method: Literal["aoa", "tdoa", "hybrid"] = "hybrid"
    radius_m: Annotated[float, Field(gt=0)] = 100.0

    @field_validator("sensors", mode="before")
    @classmethod
    def _sensors(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list) and not v:
            raise ValueError("no sensors; expected a preset such as 'ring:6:3' or a sensor file, or a list of them")
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


class CapacitySpec(_Model):
    """Capacity at the busy hour over one country (see docs/capacity.md): how much each H3
    cell gets, how many terminals the country supports at ``min_speed_mbps``, and what limits it.

    Give ``terminals`` (spread by population) or ``take_rate`` (the fraction of people
    served). ``intervals``: how many 15 s reconfiguration intervals to evaluate, from the
    one holding the run's start (at most those inside the run's window); each costs about
    0.4-2 s, plus a few seconds once for ITU-R's maps. Gateways are the scenario's own, after
    ``ground.gateway_countries`` and the ``[policy]``; backhaul follows ``routing.mode``.
    """

    country: str
    terminals: Annotated[int, Field(ge=1, le=100_000_000)] | None = None
    take_rate: Annotated[float, Field(gt=0, le=1)] | None = None
    resolution: Annotated[int, Field(ge=0, le=10)] = 5
    rain_exceedance: Annotated[float, Field(ge=0.001, le=5)] | None = None
    demand_per_terminal_mbps: Annotated[float, Field(gt=0, le=100_000)] = 100.0
    people_per_terminal: Annotated[float, Field(gt=0, le=100_000)] = 2.5
    min_speed_mbps: Annotated[float, Field(gt=0, le=100_000)] = 25.0
    intervals: Annotated[int, Field(ge=1, le=240)] = 4
    payload: Literal["v1.5", "v2-mini"] = "v1.5"

    @field_validator("country")
    @classmethod
    def _country(cls, v: str) -> str:
        return _country_code(v, "country")

    @model_validator(mode="after")
    def _one(self) -> CapacitySpec:
        given = [k for k in ("terminals", "take_rate") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of terminals or take_rate; got {', '.join(given) or 'none'}")
        return self


class Scenario(_Model):
    """A whole scenario file."""

    name: str
    description: str = ""
    sources: list[str] = []
    seed: int = 0
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


# --------------------------------------------------------------------------- loading
_SCENARIO_DIR = "scenarios"


def builtin_scenarios() -> dict[str, str]:
    """Name -> one-line description of each shipped scenario."""
    out = {}
    for f in sorted(resources.files("leosim").joinpath("data", _SCENARIO_DIR).iterdir(), key=lambda p: p.name):
        if f.name.endswith(".toml"):
            text = f.read_text(encoding="utf-8")
            m = re.search(r'^description\s*=\s*"(.*)"\s*$', text, re.MULTILINE)
            out[f.name[:-5]] = m.group(1) if m else ""
    return out


def builtin_text(name: str) -> str:
    """The TOML text of a shipped scenario."""
    names = builtin_scenarios()
    if name not in names:
        import difflib

        close = difflib.get_close_matches(name, list(names), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ScenarioError(f"unknown scenario {name!r}; expected one of {', '.join(names)} or a .toml file{hint}")
    return resources.files("leosim").joinpath("data", _SCENARIO_DIR, f"{name}.toml").read_text(encoding="utf-8")


def load_scenario(name_or_path: str | Path) -> tuple[Scenario, str, Path | None]:
    """A scenario by built-in name or file path: (model, its TOML text, its file or None)."""
    p = Path(name_or_path)
    if p.suffix.lower() == ".toml" or p.exists():
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ScenarioError(f"cannot read scenario file {str(p)!r}: {reason}; expected a TOML file") from None
        return parse_scenario(text, str(p)), text, p.resolve()
    text = builtin_text(str(name_or_path))
    return parse_scenario(text, f"<built-in {name_or_path}>"), text, None


def parse_scenario(text: str, source: str = "<string>") -> Scenario:
    """Validate TOML text into a :class:`Scenario`; errors name file, key path and line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_explain(exc, text, source)) from None


def _key_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "literal[", "constrained-", "union[")) and part not in ("list[str]",):
            out += ("." if out else "") + str(part)
    return out


_TABLE_HEADER = re.compile(r"^\s*\[\[?\s*[A-Za-z0-9_.\-]+\s*\]\]?\s*(#.*)?$")


def _find_line(loc: tuple[Any, ...], text: str) -> int | None:
    """Best-effort line number of a key path in TOML text (1-based).

    Handles ``[section]`` tables, ``[[section.array]]`` arrays of tables, and inline
    arrays (``jammers = [{...}, {...}]``, ``duty_cycles = [0.1, 2]``) inside a section.
    """
    keys = [str(k) for k in loc if not isinstance(k, int)]
    idx = [k for k in loc if isinstance(k, int)]
    lines = text.splitlines()
    start = 0

    def first(pattern: str, begin: int, nth: int = 0) -> int | None:
        rx, seen = re.compile(pattern), -1
        for i in range(begin, len(lines)):
            if i > begin and start and _TABLE_HEADER.match(lines[i]):
                return None  # the next table: the key is not in this one
            if rx.search(lines[i]):
                seen += 1
                if seen == nth:
                    return i
        return None

    array_header = None
    if len(keys) >= 2 and idx:  # [[a.b]] arrays of tables: the n-th header
        header = re.compile(r"^\s*\[\[\s*" + re.escape(".".join(keys[:2])) + r"\s*\]\]")
        seen = -1
        for i, line in enumerate(lines):
            if header.match(line):
                seen += 1
                if seen == idx[0]:
                    array_header = i
                    break
    if array_header is not None:
        start = array_header
    elif keys:
        header = re.compile(r"^\s*\[\s*" + re.escape(keys[0]) + r"\s*\]")
        for i, line in enumerate(lines):
            if header.match(line):
                start = i
                break
        if start and len(keys) >= 2 and idx:  # an inline array inside the table
            at = first(r"^\s*" + re.escape(keys[1]) + r"\s*=", start)
            if at is not None:
                if len(keys) == 2:
                    return at + 1
                hit = first(r"(^|[{,\s])" + re.escape(keys[-1]) + r"\s*=", at, idx[0])
                if hit is None:  # the key is missing: the n-th inline table instead
                    hit = first(r"\{", at, idx[0])
                return (hit if hit is not None else at) + 1
    if keys:
        hit = first(r"^\s*" + re.escape(keys[-1]) + r"\s*=", start)
        if hit is not None:
            return hit + 1
    return start + 1 if start else None


def _explain(exc: ValidationError, text: str, source: str) -> str:
    msgs = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = _key_path(loc) or "(top level)"
        line = _find_line(loc, text)
        where = f"{source}:{line}" if line else source
        kind = err["type"]
        if kind == "extra_forbidden":
            example = "iran-2022" if path.split(".")[0].split("[")[0] in ("policy", "jamming", "exposure", "capacity") else "global"
            msgs.append(f"{where}: unknown key {path!r}; check the spelling (leosim scenarios show {example} lists the keys)")
            continue
        if kind == "missing":
            msgs.append(f"{where}: {path} is missing; expected it to be given")
            continue
        received = err.get("input")
        msg = str(err["msg"]).removeprefix("Value error, ")
        if isinstance(received, dict):  # a whole table failed a check across its keys
            msgs.append(f"{where}: [{path}] is not valid: {msg}")
        else:
            msgs.append(f"{where}: {path} = {received!r} is not valid: {msg}")
    return "; ".join(msgs)
