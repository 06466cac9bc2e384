"""The ``[latency]`` section: what users measure, country by country.

For each country, ``users`` terminals are placed where its people live (GeoNames on H3
cells, :func:`leosim.ground.population.population_points`), each is given a home PoP
drawn by the shares of Starlink's GeoIP feed (:mod:`leosim.ground.homepop`), and each is
routed to it under the scenario's routing and attachment (scheduled by default: a
satellite with a route, kept for each 15 s interval), one step per reconfiguration
interval. The propagation RTT of every user-step then goes through the latency model
(:mod:`leosim.models.latency`): percentiles of the predicted 15 s averages in Starlink's
own convention (p20 the slow end), beside the propagation median. ``leosim latency``
builds a scenario with this section and runs it; ``tools/calibrate_latency.py`` routes
the same way (:func:`route_users`) and fits the model on what comes back.

Writes ``latency.csv`` (columns in :mod:`leosim.scenario.columns`) and, with ``map``,
``latency_map.png``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from leosim.core.time import TimeGrid, parse_duration, reconfiguration_start
from leosim.errors import ScenarioError
from leosim.ground.sites import GroundSegment, Site, SiteKind
from leosim.models.latency import LatencyModel, starlink_percentiles
from leosim.scenario.sections.base import SectionResult, table


@dataclass(frozen=True)
class Group:
    """Users routed together and reported as one row: a country, or a region of one."""

    key: str                    # the row's name: "UA", or "US-ME"
    country: str                # ISO alpha-2, for the home PoP
    latitude_deg: np.ndarray
    longitude_deg: np.ndarray

    def __len__(self) -> int:
        return len(self.latitude_deg)


@dataclass
class Samples:
    """Every user-step of a latency run: ``(n_steps, n_users)`` arrays."""

    groups: list[Group]
    group_of: np.ndarray        # (n_users,) index into groups
    pop_of: list[str]           # (n_users,) home PoP code
    rtt_s: np.ndarray
    sats: np.ndarray
    gateways: np.ndarray
    landing_country: np.ndarray  # str, "" where none
    grid: TimeGrid
    extra: dict = field(default_factory=dict)


def country_groups(countries, users: int, seed: int = 0) -> list[Group]:
    """A group of ``users`` points by population per country (countries with no known
    place are left out)."""
    from leosim.ground.population import population_points

    out = []
    for k, code in enumerate(countries):
        lat, lon = population_points(code, users, seed + k)
        if len(lat):
            out.append(Group(code, code, lat, lon))
    return out


def state_groups(states, users: int, seed: int = 0) -> list[Group]:
    """A group per US state (two-letter codes), by its GeoNames places' people."""
    from leosim.ground.population import us_state_points

    out = []
    for k, st in enumerate(states):
        lat, lon = us_state_points(st, users, seed + k)
        out.append(Group(f"US-{st.upper()}", "US", lat, lon))
    return out


def latency_grid(start: np.datetime64, duration_s: float, step: str | float) -> TimeGrid:
    """Steps from the first reconfiguration at or after ``start``: each step is the start
    of a 15 s interval, when the schedule has just chosen (and the step's search serves
    the scheduler too)."""
    t = np.datetime64(start, "ns").astype(np.int64) / 1e9
    t0 = reconfiguration_start(t)
    if t0 < t - 1e-9:
        t0 += 15.0
    first = np.datetime64(int(round(t0 * 1e9)), "ns")
    return TimeGrid.from_duration(first, duration_s, step)


def route_users(groups: list[Group], constellation, *, gateways: GroundSegment, pops: GroundSegment, links, mode,
                attach, grid: TimeGrid, seed: int = 0, workers: int | None = None, executor=None,
                progress=None) -> Samples:
    """Route every user of ``groups`` to its home PoP at every step of ``grid``."""
    from leosim.engine.chunks import default_workers, run_pairs
    from leosim.network.builder import build_network, home_pop_index

    users = [Site(f"{g.key} user {k + 1}", float(a), float(b), 0.0, SiteKind.TERMINAL, g.country)
             for g in groups for k, (a, b) in enumerate(zip(g.latitude_deg, g.longitude_deg))]
    group_of = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    n = len(users)
    if n == 0:
        raise ScenarioError("latency: no users to route (no country with a known place); expected at least one country")
    if len(pops) == 0 or len(gateways) == 0:
        raise ScenarioError(f"latency: {len(gateways)} gateways and {len(pops)} PoPs; expected at least one of each")
    seg = GroundSegment.from_sites(users)
    home = home_pop_index(seg, pops, seed=seed)
    lat = np.array([u.latitude_deg for u in users])[:, None]
    lon = np.array([u.longitude_deg for u in users])[:, None]
    from leosim.core.geodesy import great_circle_m

    nearest = np.argmin(great_circle_m(lat, lon, pops.latitude_deg[None, :], pops.longitude_deg[None, :]), axis=1)
    home = np.where(home >= 0, home, nearest)
    used = np.unique(home)
    server_of = {int(p): n + k for k, p in enumerate(used.tolist())}
    servers = [Site(pops[int(p)].name, pops[int(p)].latitude_deg, pops[int(p)].longitude_deg, 0.0, SiteKind.SERVER,
                    pops[int(p)].country) for p in used.tolist()]
    endpoints = GroundSegment.from_sites(users + servers)
    endpoint_pop = np.concatenate([home, np.full(len(servers), -1)])
    net = build_network(constellation, endpoints, routing=mode, attach=attach, links=links, gateways=gateways, pops=pops,
                        pop_selection="home", endpoint_pop=endpoint_pop)
    pairs = np.array([[i, server_of[int(home[i])]] for i in range(n)], dtype=np.int64)
    shape = (grid.n_steps, n)
    rtt = np.full(shape, np.nan)
    sats = np.zeros(shape, dtype=np.int16)
    gws = np.zeros(shape, dtype=np.int16)
    landing = np.full(shape, -1, dtype=np.int32)
    fibre = np.zeros(shape)

    def sink(ch) -> None:
        fibre[ch.i0:ch.i1] = ch.fibre_rtt_s
        rtt[ch.i0:ch.i1] = ch.rtt_s
        sats[ch.i0:ch.i1] = ch.sats
        gws[ch.i0:ch.i1] = ch.gateways
        landing[ch.i0:ch.i1] = ch.landing

    run_pairs(net, grid, pairs, sink, workers=workers or default_workers(), executor=executor, progress=progress)
    gw_country = np.array([g.country or "" for g in gateways] + [""], dtype=object)
    return Samples(groups, group_of, [pops[int(p)].name for p in home], rtt, sats, gws, gw_country[landing], grid,
                   {"fibre_rtt_s": fibre})


def _ranked(values) -> str:
    """Distinct non-empty values, most frequent first (ties alphabetical), ';'-joined."""
    c = Counter(v for v in values if v)
    return ";".join(k for k, _ in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


def group_predictions(samples: Samples, model: LatencyModel, seed: int = 0) -> list[dict]:
    """Per group: propagation median, predicted (p20, p50, p80) in Starlink's convention,
    reachable share, PoPs and landing countries."""
    out = []
    rng = np.random.default_rng(seed)
    for k, g in enumerate(samples.groups):
        sel = samples.group_of == k
        rtt = samples.rtt_s[:, sel]
        ok = np.isfinite(rtt)
        n_ok = int(ok.sum())
        row = {"group": g, "users": int(sel.sum()), "reachable": float(ok.mean()) if ok.size else 0.0,
               "pops": _ranked(np.array(samples.pop_of, dtype=object)[sel]),
               "gateway_countries": _ranked(samples.landing_country[:, sel][ok]),
               "propagation_p50_s": float(np.median(rtt[ok])) if n_ok else float("nan")}
        if n_ok:
            # 15 s window averages, the queueing quantile of each user-step stratified
            # (an even spread of quantiles in a seeded order), so percentiles are smooth
            q = (rng.permutation(n_ok) + 0.5) / n_ok
            w = model.window_samples(rtt[ok], samples.sats[:, sel][ok], samples.gateways[:, sel][ok], 1, quantiles=q)
            row["p20_s"], row["p50_s"], row["p80_s"] = starlink_percentiles(w)
        else:
            row["p20_s"] = row["p50_s"] = row["p80_s"] = float("nan")
        out.append(row)
    return out


@cache
def published_latency() -> dict[str, tuple[float, float, float]]:
    """Starlink's published (p20, p50, p80) ms per country (December 2025, the half leosim
    ships; Starlink's convention, p20 the highest)."""
    from leosim.formats.data import data_path
    from leosim.formats.measurements import read_country_metrics

    return {r.country: (r.p20_ms, r.p50_ms, r.p80_ms)
            for r in read_country_metrics(data_path("starlink_2026/published_metrics_202512_half.csv")) if r.country}


def _ms(x: float) -> float | None:
    return round(x * 1e3, 2) if np.isfinite(x) else None


def latency_rows(samples: Samples, model: LatencyModel, seed: int = 0) -> list[dict]:
    """The ``latency`` table: one row per group."""
    from leosim.ground.geonames import country_iso3, country_label

    published = published_latency()
    rows = []
    for r in group_predictions(samples, model, seed):
        g = r["group"]
        pub = published.get(g.key)
        rows.append({
            "country": g.key, "iso3": country_iso3(g.country) or "", "name": country_label(g.country) if g.key == g.country else g.key,
            "pops": r["pops"], "gateway_countries": r["gateway_countries"], "users": r["users"],
            "propagation_p50_ms": _ms(r["propagation_p50_s"]), "rtt_p20_ms": _ms(r["p20_s"]),
            "rtt_p50_ms": _ms(r["p50_s"]), "rtt_p80_ms": _ms(r["p80_s"]), "reachable": round(r["reachable"], 4),
            "published_p50_ms": None if pub is None else round(pub[1], 2),
        })
    return rows


def served_countries(policy=None) -> list[str]:
    """Every country Starlink's GeoIP feed assigns addresses to that ``policy`` serves."""
    from leosim.ground.homepop import home_pops

    codes = sorted(home_pops().countries)
    return [c for c in codes if policy is None or policy.serves(c)]


@dataclass
class Built:
    groups: list[Group]
    grid: TimeGrid


class LatencySection:
    name = "latency"
    key = "latency"

    def wanted(self, scenario) -> bool:
        return scenario.latency is not None

    def build(self, spec, plan) -> Built:
        countries = served_countries(plan.policy) if spec.countries == "all" else list(spec.countries)
        groups = country_groups(countries, spec.users, spec.seed)
        if not groups:
            raise ScenarioError(f"latency.countries = {spec.countries!r}: no country with a known place to put users in")
        duration = plan.grid.duration_s if spec.duration is None else parse_duration(spec.duration)
        return Built(groups, latency_grid(plan.grid.start, duration, spec.step))

    def run(self, built: Built, plan, upstream, context) -> SectionResult:
        spec = plan.scenario.latency
        if context.log:
            context.log(f"latency: {sum(len(g) for g in built.groups)} users in {len(built.groups)} countries, "
                        f"{built.grid.n_steps} steps of {built.grid.step_s:g} s")
        samples = route_users(built.groups, plan.constellation, gateways=plan.gateways, pops=plan.pops, links=plan.links,
                              mode=plan.routing, attach=plan.scenario.routing.attach, grid=built.grid, seed=spec.seed,
                              workers=context.workers, executor=context.executor)
        model = LatencyModel()
        rows = latency_rows(samples, model, spec.seed)
        p50 = np.array([np.nan if r["rtt_p50_ms"] is None else r["rtt_p50_ms"] for r in rows])
        pub = np.array([np.nan if r["published_p50_ms"] is None else r["published_p50_ms"] for r in rows])
        both = np.isfinite(p50) & np.isfinite(pub)
        summary = {"latency": {
            "countries": len(rows), "users": int(sum(r["users"] for r in rows)),
            "predicted_p50_median_ms": round(float(np.nanmedian(p50)), 2) if np.isfinite(p50).any() else None,
            "compared_with_published": int(both.sum()),
            "within_5ms_of_published": round(float((np.abs(p50[both] - pub[both]) <= 5).mean()), 4) if both.any() else None,
            "model": model.as_dict(),
        }}
        return SectionResult(self.name, {"latency": table("latency", rows)}, summary,
                             {"rows": rows, "samples": samples, "map": spec.map})


__all__ = ["Group", "LatencySection", "Samples", "country_groups", "group_predictions", "latency_grid", "latency_rows",
           "published_latency", "route_users", "served_countries", "state_groups"]
