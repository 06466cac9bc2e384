"""The ``[capacity]`` section: busy-hour throughput per H3 cell, terminals supportable, and
what limits them (models in :mod:`leosim.models.capacity`, docs/capacity.md).

Demand is the country's people on H3 cells (or the terminals of a file); supply is the
scenario's constellation, gateways (after ``ground.gateway_countries``, ``gateway_exclude``
and the policy) and routing mode. With admission (``[policy]``, ``[jamming]``) a cell is
served only while the operator admits terminals at its centre. ``leosim capacity`` runs
this section too. Writes ``capacity_cells.csv``, ``capacity_saturated.csv`` and, when the
scenario has terminal cities in the country, ``capacity_cities.csv``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from leosim.core.geodesy import great_circle_m
from leosim.core.time import format_time
from leosim.errors import LeosimError, ScenarioError, require
from leosim.ground.sites import GroundSegment, SiteKind, starlink_gateway_antennas
from leosim.models.capacity import INTERVAL_S, CapacityModel, Demand, Gateways, Payload, reconfiguration_starts
from leosim.scenario.resolve import resolve_path
from leosim.scenario.sections.base import SectionResult, table


@dataclass
class Built:
    demand: Demand
    gateways: Gateways
    starts: np.ndarray
    place: str


@dataclass
class CapacityRun:
    """What a ``[capacity]`` section found, for the report and the maps."""

    result: object                    # models.capacity.CapacityResult
    gateways: Gateways
    summary: dict
    place: str


def capacity_starts(plan, intervals: int) -> np.ndarray:
    """``intervals`` reconfiguration intervals from the one holding the run's start, but no
    more than the run's window overlaps."""
    first = reconfiguration_starts(plan.grid.start, 0.0)[0]
    n = min(intervals, len(reconfiguration_starts(plan.grid.start, max(plan.grid.duration_s, 1e-3))))
    return first + (np.arange(n) * int(round(INTERVAL_S * 1e9))).astype("timedelta64[ns]")


def capacity_gateways(plan) -> Gateways:
    """The Starlink sites (with their antenna counts) among the gateways the scenario lets
    traffic land at; gateways from a file get :meth:`Gateways.from_sites`' default."""
    if plan.scenario.ground.gateways != "starlink":
        return Gateways.from_sites(plan.gateways)
    full = GroundSegment.starlink_gateways()
    antennas = np.array(starlink_gateway_antennas(), dtype=np.int64)
    allowed = {(s.name, s.latitude_deg, s.longitude_deg) for s in plan.gateways}
    keep = [i for i, s in enumerate(full) if (s.name, s.latitude_deg, s.longitude_deg) in allowed]
    return Gateways(GroundSegment.from_sites([full[i] for i in keep]), antennas[keep])


class CapacitySection:
    name = "capacity"
    key = "capacity"

    def wanted(self, scenario) -> bool:
        return scenario.capacity is not None

    def build(self, spec, plan) -> Built:
        require("itur", "capacity")
        require("h3", "capacity")
        if len(plan.gateways) == 0:
            raise ScenarioError(
                "[capacity] needs gateways to land traffic at, but the scenario has none (ground.gateways = "
                f"{plan.scenario.ground.gateways!r}); expected 'starlink' or a gateway file"
            )
        try:
            if spec.terminals_file is not None:
                from leosim.formats.terminals import read_terminals_file

                lat, lon, n = read_terminals_file(resolve_path(spec.terminals_file, plan.source))
                dem = Demand.from_points(lat, lon, n, resolution=spec.resolution,
                                         demand_per_terminal_bps=spec.demand_per_terminal_mbps * 1e6,
                                         people_per_terminal=spec.people_per_terminal, country=spec.country)
                place = str(spec.terminals_file)
            else:
                from leosim.ground.countries import country_name

                dem = Demand.for_country(
                    spec.country, terminals=spec.terminals, take_rate=spec.take_rate, resolution=spec.resolution,
                    demand_per_terminal_bps=spec.demand_per_terminal_mbps * 1e6, people_per_terminal=spec.people_per_terminal,
                )
                place = f"{country_name(dem.country)} ({dem.country})"
        except LeosimError as exc:
            raise ScenarioError(f"capacity: {exc}") from None
        return Built(dem, capacity_gateways(plan), capacity_starts(plan, spec.intervals), place)

    def run(self, built: Built, plan, upstream, context) -> SectionResult:
        spec = plan.scenario.capacity
        t0 = time.perf_counter()
        dem, gw, starts = built.demand, built.gateways, built.starts
        if context.log:
            context.log(f"capacity: {built.place}, {dem.n_cells:,} cells at H3 resolution {dem.resolution}, "
                        f"{dem.total_terminals:,} terminals, {len(gw)} gateway sites, {len(starts)} interval(s) of 15 s")
        admitted = None
        adm = upstream.get("admission")
        if adm is not None:  # the operator serves a cell only while it admits terminals at its centre (on land)
            from leosim.ground.countries import snap_to_land

            lat, lon = snap_to_land(dem.latitude_deg, dem.longitude_deg, [dem.country] * dem.n_cells)
            codes = adm.data.admit(lat, lon, starts)
            admitted = codes == "OKAY"
        model = CapacityModel(
            plan.constellation, dem, gateways=gw, backhaul=plan.routing,
            payload=Payload.v1_5() if spec.payload == "v1.5" else Payload.v2_mini(), links=plan.links,
            rain_exceedance_pct=1.0 if spec.rain_exceedance is None else spec.rain_exceedance,
        )
        res = model.run(starts, admitted=admitted)
        s = res.summary(spec.min_speed_mbps * 1e6)

        def mbps(v: float) -> float | None:
            return round(v / 1e6, 3) if np.isfinite(v) else None

        block = {
            "country": dem.country, "place": built.place, "terminals": dem.total_terminals, "people": round(s["people"]),
            "people_per_terminal": dem.people_per_terminal, "cells": dem.n_cells, "resolution": dem.resolution,
            "intervals": len(starts), "interval_starts": [format_time(t) for t in starts], "payload": spec.payload,
            "backhaul": plan.routing.name, "gateway_sites": len(gw), "rain_exceedance_pct": model.rain_exceedance_pct,
            "demand_per_terminal_mbps": spec.demand_per_terminal_mbps,
            "asked_gbps": round(s["demand_bps"] / 1e9, 3), "served_gbps": round(s["served_bps"] / 1e9, 3),
            "offered_gbps": round(s["offered_bps"] / 1e9, 3),
            "per_terminal_median_mbps": mbps(s["median_per_terminal_bps"]),
            "per_terminal_p10_mbps": mbps(s["p10_per_terminal_bps"]),
            "offered_per_terminal_median_mbps": mbps(s["median_offered_per_terminal_bps"]),
            "offered_per_terminal_p10_mbps": mbps(s["p10_offered_per_terminal_bps"]),
            "per_person_median_mbps": mbps(s["median_per_person_bps"]),
            "test_speed_median_mbps": mbps(s["median_test_speed_bps"]),
            "test_speed_p10_mbps": mbps(s["p10_test_speed_bps"]),
            "min_speed_mbps": spec.min_speed_mbps,
            "terminals_at_min_speed": round(s["terminals_at_min_speed"], 1),
            "terminals_supportable_at_min_speed": round(s["supportable_terminals"], 1),
            "cells_admitted_share": None if admitted is None else round(float(admitted.mean()), 4),
            "binding_bottleneck": s["binding_bottleneck"],
            "unserved_by_bottleneck_gbps": {k: round(v / 1e9, 3) for k, v in s["unserved_by_bottleneck_bps"].items()},
            "seconds_per_interval": [round(sum(r.timings_s.values()), 3) for r in res.intervals],
            "time_s": round(time.perf_counter() - t0, 2),
        }
        tables = {"capacity_cells": table("capacity_cells", res.cell_rows()),
                  "capacity_saturated": table("capacity_saturated", _saturated_rows(res))}
        cities = _capacity_cities(plan, res)
        if cities:
            tables["capacity_cities"] = table("capacity_cities", cities)
        return SectionResult(self.name, tables, {"capacity": block}, CapacityRun(res, gw, block, built.place))


def _saturated_rows(res) -> list[dict]:
    rows = []
    for t, links in zip(res.starts, res.saturated):
        ts = str(np.datetime_as_string(t, unit="s")) + "Z"
        for s in links:
            cap = s["capacity_bps"]
            rows.append({"interval_start": ts, "kind": s["kind"], "name": s["name"], "load_mbps": round(s["load_bps"] / 1e6, 3),
                         "capacity": f"{cap:g} beams" if s["kind"] == "satellite beams" else f"{cap / 1e6:.3f} Mbit/s"})
    return rows


def _capacity_cities(plan, res) -> list[dict]:
    """Capacity per terminal city of the capacity country: each cell counts for the city
    nearest its centre (a Voronoi split of the country among the scenario's cities), so a
    city's figures include its rural hinterland. Empty when no terminal is in that country."""
    d = res.demand
    cities = [s for s in plan.terminals if s.kind is not SiteKind.SERVER and (s.country or "").upper() == d.country]
    if not cities:
        return []
    dist = great_circle_m(d.latitude_deg[:, None], d.longitude_deg[:, None],
                          np.array([s.latitude_deg for s in cities])[None, :], np.array([s.longitude_deg for s in cities])[None, :])
    near = np.argmin(dist, axis=1)
    n = d.terminals.astype(np.float64)
    per = res.per_terminal_bps  # (n_intervals, n_cells)
    min_speed = plan.scenario.capacity.min_speed_mbps * 1e6
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


__all__ = ["CapacityRun", "CapacitySection", "capacity_gateways", "capacity_starts"]
