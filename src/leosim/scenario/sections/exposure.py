"""The ``[exposure]`` section: how soon an adversary's sensors locate transmitting terminals.

Sensors are placed in the world, anchored at a place, at the assessed terminals'
centroid, or at each terminal's own starting point, and stay there: a terminal that
relocates moves away from them, so relocating can only help it (the adversary starts
over). A terminal transmits only while the operator serves it (admission), so its duty
cycle counts only the share of the run it is admitted; one never admitted is never
located. What-ifs over duty cycle, transmit power, relocation and density (terminals at
random in a region, each adding co-channel interference at every sensor) run in the same
pass. ``leosim exposure`` runs this section. Writes ``exposure.csv``; the risk map (the
expected time to locate at every point of the area, with the share of the area and of its
people where a terminal would be found within the hours assessed) goes to the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from leosim.core.geodesy import great_circle_m
from leosim.errors import LeosimError, ScenarioError
from leosim.ground.places import resolve_place
from leosim.models.exposure import (
    Emitter,
    cochannel_interference_w,
    risk_map,
    serving_directions,
    time_to_locate,
)
from leosim.scenario.resolve import load_sensors, resolve_path
from leosim.scenario.sections.base import SectionResult, table

NOT_LOCATED = "not located"


@dataclass
class Assessed:
    names: list[str]
    lat: np.ndarray
    lon: np.ndarray
    terminal_index: list[int] | None    # the scenario terminals they are (None: random points in a region)
    sensors: list[tuple]                # per terminal: the sensors it faces (placed in the world)
    anchors: list[tuple[float, float]]  # where each one's layouts stand
    counts: list[int]


@dataclass
class ExposureData:
    rows: list[dict]
    what_if: list[dict]
    risk: dict | None = None            # lat, lon (grids), t_s (expected time to locate), sensors, points
    assessed: Assessed | None = None
    extra: dict = field(default_factory=dict)


def seconds(x: float) -> float | str:
    """A time to locate for a table: seconds, or ``"not located"`` (never NaN or inf)."""
    return round(float(x), 3) if np.isfinite(x) else NOT_LOCATED


class ExposureSection:
    name = "exposure"
    key = "exposure"

    def wanted(self, scenario) -> bool:
        return scenario.exposure is not None

    def build(self, spec, plan) -> Assessed:
        if spec.region is not None:
            from leosim.ground.countries import random_points

            counts = list(spec.terminal_counts or [10])
            lat, lon = random_points(spec.region, max(counts), seed=plan.scenario.seed)
            names = [f"{spec.region}-{k + 1}" for k in range(len(lat))]
            index = None
        else:
            chosen = _chosen_terminals(spec, plan)
            t_lat, t_lon = plan.terminal_position
            lat, lon = t_lat[chosen], t_lon[chosen]
            names = [plan.terminals[i].name for i in chosen]
            index = chosen
            counts = [len(chosen)]
        if spec.center is None:
            anchors = [(float(np.mean(lat)), float(np.mean(lon)))] * len(lat)
        elif spec.center.strip().lower() == "each":
            anchors = [(float(a), float(b)) for a, b in zip(lat, lon)]
        else:
            try:
                place = resolve_place(spec.center)
            except LeosimError as exc:
                raise ScenarioError(f"exposure.center = {spec.center!r}: {exc}") from None
            anchors = [(place.latitude_deg, place.longitude_deg)] * len(lat)
        cache: dict = {}
        sensors = []
        for anchor in anchors:
            if anchor not in cache:
                spread = float(np.max(great_circle_m(anchor[0], anchor[1], lat, lon))) if len(lat) else 0.0
                out = []
                for item in spec.sensors:
                    src = item if _is_file(item, plan) is None else _is_file(item, plan)
                    try:
                        out += load_sensors(src, anchor, extent_m=min(max(spread, 5e3), 50e3))
                    except LeosimError as exc:
                        raise ScenarioError(f"exposure.sensors = {item!r}: {exc}") from None
                cache[anchor] = tuple(out)
            sensors.append(cache[anchor])
        return Assessed(names, np.asarray(lat), np.asarray(lon), index, sensors, anchors, counts)

    def run(self, a: Assessed, plan, upstream, context) -> SectionResult:
        from leosim.ground.countries import country_of
        from leosim.network.attachment import MaxElevation, policy

        spec = plan.scenario.exposure
        seed = plan.scenario.seed
        attach = policy(plan.scenario.routing.attach)
        if attach.name == "free":  # no single serving satellite: the highest one
            attach = MaxElevation()
        # the beam follows the serving satellite: 20 instants over the run's first 5 minutes
        times = plan.grid.start + np.arange(0, 300, 15).astype("timedelta64[s]")
        pointing = [serving_directions(plan.constellation, la, lo, times, links=plan.links, attachment=attach)
                    for la, lo in zip(a.lat, a.lon)]
        share = _admitted_share(a, plan, upstream)
        powers = spec.tx_power_dbw or [None]
        where = country_of(a.lat, a.lon) if len(a.lat) else np.zeros(0, "<U4")
        rows, what_if = [], []
        for n in a.counts:
            for d in spec.duty_cycles:
                for pw in powers:
                    for rh in spec.relocate_hours:
                        kw = {} if pw is None else {"tx_power_dbw": pw}
                        base = Emitter(duty_cycle=d, in_clutter=not spec.open_terrain, **kw)
                        # co-channel power of the other transmitting terminals at each terminal's sensors
                        intf: dict[int, np.ndarray] = {}
                        if spec.interference and n > 1:
                            for sensors in {id(s): s for s in a.sensors[:n]}.values():
                                _, own = cochannel_interference_w(base, a.lat[:n], a.lon[:n], sensors, pointing[:n])
                                intf[id(sensors)] = own * share[:n, None]
                        results = []
                        for i in range(n):
                            em = Emitter(duty_cycle=d * share[i], in_clutter=not spec.open_terrain, **kw)
                            other = None
                            if id(a.sensors[i]) in intf:
                                own = intf[id(a.sensors[i])]
                                other = 10 * np.log10(np.maximum(own.sum(axis=0) - own[i], 1e-30))
                            r = time_to_locate(
                                a.lat[i], a.lon[i], a.sensors[i], emitter=em,
                                pointing=pointing[i] if len(pointing[i]) else None, hours=spec.hours,
                                relocate_hours=rh or None, relocate_radius_m=spec.relocate_radius_km * 1e3,
                                spread_m=spec.spread_km * 1e3, radius_m=spec.radius_m, method=spec.method,
                                trials=spec.trials, seed=seed + i, interference_dbw=other,
                            )
                            results.append(r)
                            rows.append({
                                "terminal": a.names[i], "latitude_deg": round(float(a.lat[i]), 5),
                                "longitude_deg": round(float(a.lon[i]), 5), "country": str(where[i]), "duty_cycle": d,
                                "tx_power_dbw": round(em.tx_power_dbw, 2), "relocate_hours": rh, "terminals": n,
                                "admitted_share": round(float(share[i]), 4), "sensors": len(a.sensors[i]),
                                "detecting_sensors": r.detecting if share[i] > 0 else 0,
                                "best_snr_db": round(r.best_snr_db, 2) if np.isfinite(r.best_snr_db) else "no line of sight",
                                "median_s": seconds(r.median_s), "p10_s": seconds(r.quantile_s(0.1)),
                                "p90_s": seconds(r.quantile_s(0.9)), "located_share": round(r.located_share, 4),
                                "hours": spec.hours, "trials": spec.trials,
                            })
                        med = np.array([r.median_s for r in results])
                        what_if.append({
                            "terminals": n, "duty_cycle": d, "tx_power_dbw": round(base.tx_power_dbw, 2),
                            "relocate_hours": rh,
                            "median_time_to_locate_s": seconds(float(np.quantile(med, 0.5, method="inverted_cdf"))),
                            "located_within_1h": round(float(np.mean([np.mean(r.times_s <= 3600.0) for r in results])), 4),
                            "located_within_hours": round(float(np.mean([r.located_share for r in results])), 4),
                        })
        order = {name: k for k, name in enumerate(a.names)}
        rows.sort(key=lambda r: order[r["terminal"]])  # per terminal, then its what-ifs in order (a stable sort)
        risk = _risk(a, plan, spec, share)
        summary = _summary(a, spec, rows, what_if, risk)
        return SectionResult(self.name, {"exposure": table("exposure", rows)}, {"exposure": summary},
                             ExposureData(rows, what_if, risk, a))


def _is_file(item: str, plan):
    """The path of a sensor file named in the scenario (relative to it), or None for a layout."""
    from leosim.models.exposure import is_layout

    if is_layout(item):
        return None
    return resolve_path(item, plan.source)


def _chosen_terminals(spec, plan) -> list[int]:
    terms = list(range(len(plan.terminals)))
    if isinstance(spec.terminals, int):
        return terms[: spec.terminals]
    by_name = {plan.terminals[i].name.lower(): i for i in terms}
    chosen: list[int] = []
    for name in spec.terminals:
        i = by_name.get(name.strip().lower())
        if i is None:
            try:
                i = by_name.get(resolve_place(name).name.lower())
            except LeosimError:
                i = None
        if i is None:
            known = ", ".join(plan.terminals[t].name for t in terms[:12]) + (", ..." if len(terms) > 12 else "")
            raise ScenarioError(f"exposure.terminals: {name!r} is not one of the scenario's terminals; expected one of {known or '(none)'}")
        if i not in chosen:
            chosen.append(i)
    return chosen


def _admitted_share(a: Assessed, plan, upstream) -> np.ndarray:
    """Share of the run each assessed terminal is served (1 without admission)."""
    adm = upstream.get("admission")
    if adm is None:
        return np.ones(len(a.lat))
    if a.terminal_index is not None:
        return adm.data.admitted[:, a.terminal_index].mean(axis=0)
    return (adm.data.admit(a.lat, a.lon, plan.grid.times) == "OKAY").mean(axis=0)


def _risk(a: Assessed, plan, spec, share) -> dict | None:
    """Expected time to locate over the area around the first terminal's sensors (first duty
    cycle), and the share of the mapped area and of its people located within the hours."""
    if not len(a.lat):
        return None
    from leosim.ground.countries import country_of
    from leosim.ground.population import population_at

    sensors = a.sensors[0]
    pts = [(s.latitude_deg, s.longitude_deg) for s in sensors]
    pts += [(w[1], w[2]) for s in sensors if s.path is not None for w in s.path]
    pts += list(zip(a.lat.tolist(), a.lon.tolist()))
    p = np.array(pts)
    pad = 0.02 + 0.15 * max(np.ptp(p[:, 0]), np.ptp(p[:, 1]))
    n = min(spec.map_points, 12) if any(s.path is not None for s in sensors) else spec.map_points
    la = np.linspace(p[:, 0].min() - pad, p[:, 0].max() + pad, n)
    lo = np.linspace(p[:, 1].min() - pad, p[:, 1].max() + pad, n)
    lon_g, lat_g = np.meshgrid(lo, la)
    em = Emitter(duty_cycle=spec.duty_cycles[0], in_clutter=not spec.open_terrain,
                 **({} if not spec.tx_power_dbw else {"tx_power_dbw": spec.tx_power_dbw[0]}))
    t = risk_map(lat_g, lon_g, sensors, emitter=em, hours=spec.hours, radius_m=spec.radius_m, method=spec.method)
    located = np.isfinite(t).ravel()
    cc = country_of(lat_g.ravel(), lon_g.ravel())
    people = np.zeros(located.size)
    for code in sorted(set(cc.tolist()) - {"", "none"}):
        sel = cc == code
        try:
            people[sel] = population_at(lat_g.ravel()[sel], lon_g.ravel()[sel], code)
        except LeosimError:
            pass
    total = float(people.sum())
    inside = [(float(x), float(y)) for x, y in zip(a.lat, a.lon) if la[0] <= x <= la[-1] and lo[0] <= y <= lo[-1]]
    return {
        "lat": lat_g, "lon": lon_g, "t_s": t, "sensors": sensors, "points": inside, "duty_cycle": em.duty_cycle,
        "located_share_area": round(float(located.mean()), 4),
        "located_share_people": round(float(people[located].sum() / total), 4) if total > 0 else None,
    }


def _summary(a: Assessed, spec, rows: list[dict], what_if: list[dict], risk: dict | None) -> dict:
    """By duty cycle, at the first power and relocation and the largest count: how many
    terminals are located and how fast; the what-if table; the risk map's shares."""
    n_max = max(a.counts) if a.counts else 0
    p0 = rows[0]["tx_power_dbw"] if rows else None
    by = {}
    for d in spec.duty_cycles:
        sel = [r for r in rows if r["duty_cycle"] == d and r["terminals"] == n_max and r["tx_power_dbw"] == p0
               and r["relocate_hours"] == spec.relocate_hours[0]]
        med = np.array([np.inf if r["median_s"] == NOT_LOCATED else r["median_s"] for r in sel])
        by[f"{d:g}"] = {
            "terminals_located": int(np.isfinite(med).sum()),
            "median_time_to_locate_s": seconds(float(np.quantile(med, 0.5, method="inverted_cdf"))) if len(med) else NOT_LOCATED,
            "fastest_median_s": seconds(float(med.min())) if len(med) else NOT_LOCATED,
        }
    out = {"terminals": n_max, "sensors": list(spec.sensors), "hours": spec.hours, "by_duty_cycle": by, "what_if": what_if}
    if risk is not None:
        out["risk_map"] = {"duty_cycle": risk["duty_cycle"], "located_share_area": risk["located_share_area"],
                           "located_share_people": risk["located_share_people"]}
    return out


__all__ = ["NOT_LOCATED", "ExposureData", "ExposureSection", "seconds"]
