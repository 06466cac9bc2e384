"""The routed traffic of a run: per pair and per region, from the RTT time series.

The pipeline routes every step (the engine writes ``rtt.zarr``); this section reads the
propagation round-trip times it hands over (a terminal that is not admitted carries
nothing, so its steps have no RTT) and writes ``pairs.csv`` and ``regions.csv``, and the
run's headline numbers in ``summary.json``.
"""

from __future__ import annotations

import numpy as np

from leosim.core.geodesy import C_FIBRE_M_S, great_circle_m
from leosim.scenario.sections.base import SectionResult, table


def rtt_stats(x: np.ndarray) -> dict:
    ok = x[np.isfinite(x)]
    if len(ok) == 0:
        return {"rtt_min_ms": None, "rtt_median_ms": None, "rtt_p95_ms": None, "rtt_max_ms": None}
    q = np.percentile(ok, [0, 50, 95, 100])
    return {"rtt_min_ms": round(float(q[0]), 3), "rtt_median_ms": round(float(q[1]), 3),
            "rtt_p95_ms": round(float(q[2]), 3), "rtt_max_ms": round(float(q[3]), 3)}


class TrafficSection:
    name = "traffic"
    key = None

    def wanted(self, scenario) -> bool:
        return True

    def build(self, spec, plan):
        return None

    def run(self, built, plan, upstream, context) -> SectionResult:
        if plan.network is None or not len(plan.pairs):
            return SectionResult(self.name, {}, {"n_pairs": 0, "rtt_to_pop_median_ms": None, "rtt_to_pop_p95_ms": None,
                                                 "reachable": None, "regions": {}})
        rtt = context.rtt_ms
        ping = context.ping_ms if context.ping_ms is not None else np.full_like(rtt, np.nan)
        pair_rows = _pair_table(plan, rtt, ping, context.path_changes)
        region_rows = _region_table(plan, rtt, ping)
        to_pop = np.array([k == "to-pop" for k in plan.pair_kind])
        x = rtt[:, to_pop].ravel() if to_pop.any() else rtt.ravel()
        y = ping[:, to_pop].ravel() if to_pop.any() else ping.ravel()
        ok = x[np.isfinite(x)]
        oy = y[np.isfinite(y)]
        summary = {
            "rtt_to_pop_median_ms": round(float(np.median(ok)), 3) if len(ok) else None,
            "rtt_to_pop_p95_ms": round(float(np.percentile(ok, 95)), 3) if len(ok) else None,
            "ping_to_pop_median_ms": round(float(np.median(oy)), 3) if len(oy) else None,
            "ping_to_pop_p95_ms": round(float(np.percentile(oy, 95)), 3) if len(oy) else None,
            "reachable": round(float(np.isfinite(x).mean()), 4),
            "regions": {r["region"]: r["rtt_median_ms"] for r in region_rows},
            "regions_ping": {r["region"]: r["ping_median_ms"] for r in region_rows},
        }
        return SectionResult(self.name, {"pairs": table("pairs", pair_rows), "regions": table("regions", region_rows)},
                             summary, {"rtt_ms": rtt, "ping_ms": ping, "path_changes": context.path_changes})


def _median(x: np.ndarray) -> float | None:
    ok = x[np.isfinite(x)]
    return round(float(np.median(ok)), 3) if len(ok) else None


def _pair_table(plan, rtt: np.ndarray, ping: np.ndarray, changed: np.ndarray) -> list[dict]:
    ep = plan.network.endpoints
    rows = []
    for k, (i, j) in enumerate(plan.pairs):
        gc = float(great_circle_m(ep[i].latitude_deg, ep[i].longitude_deg, ep[j].latitude_deg, ep[j].longitude_deg))
        rows.append({
            "src": ep[i].name, "dst": ep[j].name, "dst_kind": str(ep[j].kind), "kind": plan.pair_kind[k],
            "region": plan.regions[k], "great_circle_km": round(gc / 1e3, 1),
            "fibre_rtt_ms": round(2e3 * gc * plan.network.links.fibre_stretch / C_FIBRE_M_S, 3),
            **rtt_stats(rtt[:, k]), "reachable": round(float(np.isfinite(rtt[:, k]).mean()), 4),
            "path_changes": int(changed[k]), "ping_median_ms": _median(ping[:, k]),
        })
    return rows


def _region_table(plan, rtt: np.ndarray, ping: np.ndarray) -> list[dict]:
    rows = []
    to_pop = np.array([k == "to-pop" for k in plan.pair_kind])
    regions = np.array(plan.regions)
    for reg in sorted(set(regions[to_pop].tolist())):
        sel = to_pop & (regions == reg)
        x = rtt[:, sel].ravel()
        ok = x[np.isfinite(x)]
        q = [round(float(v), 3) for v in np.percentile(ok, [10, 50, 90, 99])] if len(ok) else [None] * 4
        y = ping[:, sel].ravel()
        oy = y[np.isfinite(y)]
        qp = [round(float(v), 3) for v in np.percentile(oy, [10, 50, 90])] if len(oy) else [None] * 3
        rows.append({"region": reg, "terminals": int(sel.sum()), "rtt_p10_ms": q[0], "rtt_median_ms": q[1],
                     "rtt_p90_ms": q[2], "rtt_p99_ms": q[3], "reachable": round(float(np.isfinite(x).mean()), 4),
                     "ping_p10_ms": qp[0], "ping_median_ms": qp[1], "ping_p90_ms": qp[2]})
    return rows


__all__ = ["TrafficSection", "rtt_stats"]
