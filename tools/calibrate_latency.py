"""Fit leosim's latency model to what Starlink's users measure, and say how well it fits.

Run from the repository root (needs the reference data in ``../shared/data``; the package
never does)::

    .venv/bin/python tools/calibrate_latency.py            # route, fit, report; rewrite the fitted block
    .venv/bin/python tools/calibrate_latency.py --dry-run  # route, fit, print the scores; change nothing
    .venv/bin/python tools/calibrate_latency.py --users 6 --duration 30min   # quicker, noisier
    .venv/bin/python tools/calibrate_latency.py --routes /tmp/routes.npz   # route once, refit in seconds

What it does:

1. Routes users over the May 2026 constellation and the 2026 ground network exactly as
   ``leosim latency`` does (:func:`leosim.scenario.sections.latency.route_users`): for each
   country of Starlink's published December 2025 figures (the half shipped in
   ``../shared/data/starlink_network``) and each US state of its mid-2025 figures,
   ``--users`` terminals by population, home PoPs by share, scheduled attachment, one step
   per 15 s reconfiguration over ``--duration``.
2. Fits the free parameters of :class:`leosim.models.latency.LatencyModel`
   (``ground_s``, ``per_satellite_s``, ``queue_median_s``, ``queue_sigma``) so that the
   predicted p20, p50 and p80 of the 15 s averages match the published ones (robust
   least squares, soft L1 with a 3 ms scale: a few territories with odd figures must not
   pull the rest; the median weighs twice the two ends).
3. Checks it on what the fit did not see: 5-fold cross-validation over the countries
   (each fold fitted without it), the NUWiNS Maine drive of 2024 (ping to Google Cloud
   us-east4 in Ashburn: median 44.2 ms) and the RIPE Atlas probes of 2023.
4. Writes ``docs/latency-calibration.md`` (the fit, the residual of every country and
   state, the worst ten) and, unless ``--dry-run``, the block of fitted numbers in
   ``src/leosim/models/latency.py``.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import zlib
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares
from scipy.stats import spearmanr

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from leosim.core.time import parse_duration  # noqa: E402
from leosim.formats.measurements import (  # noqa: E402
    COUNTRY_METRICS,
    MAINE_PING,
    PROBE_SUMMARY,
    STATE_METRICS,
    calibration_root,
    read_country_metrics,
    read_ping_trace,
    read_probe_summary,
    read_state_metrics,
)
from leosim.ground.sites import GroundSegment, Site, SiteKind  # noqa: E402
from leosim.models.latency import LatencyModel, starlink_percentiles  # noqa: E402
from leosim.network.links import LinkOptions  # noqa: E402
from leosim.network.modes import ISL  # noqa: E402
from leosim.scenario.sections.latency import country_groups, latency_grid, route_users, state_groups  # noqa: E402
from leosim.space.constellation import Constellation  # noqa: E402

FREE = ("ground_s", "per_satellite_s", "queue_median_s", "queue_sigma")
START = (0.010, 0.001, 0.005, 0.5)
LOWER = (0.0, 0.0, 0.0, 0.05)
UPPER = (0.060, 0.010, 0.040, 2.0)
LATENCY_PY = REPO / "src" / "leosim" / "models" / "latency.py"
REPORT_MD = REPO / "docs" / "latency-calibration.md"


class Target:
    """One published row and the routed user-steps of its users."""

    def __init__(self, key: str, published: tuple[float, float, float], rtt_s, sats, gateways):
        self.key = key
        self.published = np.array(published)  # (p20, p50, p80) ms, Starlink's convention
        ok = np.isfinite(rtt_s)
        self.rtt_s, self.sats, self.gateways = rtt_s[ok], sats[ok], gateways[ok]
        self.reachable = float(ok.mean())
        self.q = (np.random.default_rng(zlib.crc32(key.encode())).permutation(len(self.rtt_s)) + 0.5) / max(len(self.rtt_s), 1)

    def predict(self, model: LatencyModel) -> np.ndarray:
        if len(self.rtt_s) == 0:
            return np.full(3, np.nan)
        w = model.window_samples(self.rtt_s, self.sats, self.gateways, 1, quantiles=self.q)
        return np.array(starlink_percentiles(w)) * 1e3

    @property
    def propagation_p50_ms(self) -> float:
        return float(np.median(self.rtt_s)) * 1e3 if len(self.rtt_s) else float("nan")


def model_of(theta) -> LatencyModel:
    return LatencyModel(**dict(zip(FREE, (float(x) for x in theta), strict=True)))


def fit(targets: list[Target]) -> tuple[np.ndarray, LatencyModel]:
    weights = np.array([1.0, 2.0, 1.0])

    def residuals(theta):
        m = model_of(theta)
        return np.concatenate([(t.predict(m) - t.published) * weights for t in targets if len(t.rtt_s)])

    r = least_squares(residuals, START, bounds=(LOWER, UPPER), loss="soft_l1", f_scale=3.0, x_scale=(0.01, 0.001, 0.01, 0.5))
    return r.x, model_of(r.x)


def scores(targets: list[Target], model: LatencyModel) -> dict:
    pred = np.array([t.predict(model)[1] for t in targets])
    pub = np.array([t.published[1] for t in targets])
    err = pred - pub
    ok = np.isfinite(err)
    return {"n": int(ok.sum()), "within_5ms": float((np.abs(err[ok]) <= 5).mean()), "spearman": float(spearmanr(pred[ok], pub[ok])[0]),
            "mae_ms": float(np.abs(err[ok]).mean()), "median_error_ms": float(np.median(err[ok]))}


def cross_validate(countries: list[Target], folds: int = 5) -> dict:
    order = np.random.default_rng(0).permutation(len(countries))
    pred = np.full(len(countries), np.nan)
    for f in range(folds):
        test = set(order[f::folds].tolist())
        _, m = fit([t for i, t in enumerate(countries) if i not in test])
        for i in test:
            pred[i] = countries[i].predict(m)[1]
    pub = np.array([t.published[1] for t in countries])
    err = pred - pub
    return {"within_5ms": float((np.abs(err) <= 5).mean()), "spearman": float(spearmanr(pred, pub)[0]),
            "mae_ms": float(np.abs(err).mean())}


def maine(root: Path, constellation, grid, model: LatencyModel, users: int) -> dict:
    """Maine terminals to a server in Ashburn, Virginia (Google Cloud us-east4) against the
    NUWiNS drive of 2024."""
    from leosim.ground.places import resolve_endpoint
    from leosim.network.builder import build_network

    trace = read_ping_trace(root / MAINE_PING)
    g = state_groups(["ME"], users, 1)[0]
    sites = [Site(f"Maine user {k}", float(a), float(b), 0.0, SiteKind.TERMINAL, "US") for k, (a, b) in
             enumerate(zip(g.latitude_deg, g.longitude_deg))]
    server = resolve_endpoint("internet:Ashburn, Virginia")
    net = build_network(constellation, GroundSegment.from_sites([*sites, server]), routing="isl", attach="scheduled")
    pairs = np.array([[k, len(sites)] for k in range(len(sites))])
    r = net.solve(grid.times, pairs, step_s=grid.step_s)
    ping = model.median_ping_s(r.rtt_s, r.sats, r.gateways, 1) * 1e3
    return {"measured_median_ms": float(np.median(trace.rtt_ms)), "predicted_median_ms": float(np.nanmedian(ping)),
            "propagation_median_ms": float(np.nanmedian(r.rtt_s) * 1e3), "samples": int(len(trace.rtt_ms))}


def probes(root: Path, constellation, grid, model: LatencyModel) -> list[dict]:
    """Each RIPE Atlas probe of 2023 to its home PoP (Bing's anycast address answers near it)."""
    from leosim.network.builder import build_network

    rows = read_probe_summary(root / PROBE_SUMMARY)
    pops = GroundSegment.starlink_pops()
    sites = [Site(f"probe {p.probe_id}", p.latitude_deg, p.longitude_deg, 0.0, SiteKind.TERMINAL, None) for p in rows]
    seg = GroundSegment.from_sites(sites)
    from leosim.network.builder import home_pop_index

    home = home_pop_index(seg, pops)
    from leosim.core.geodesy import great_circle_m

    lat = np.array([s.latitude_deg for s in sites])[:, None]
    lon = np.array([s.longitude_deg for s in sites])[:, None]
    home = np.where(home >= 0, home, np.argmin(great_circle_m(lat, lon, pops.latitude_deg, pops.longitude_deg), axis=1))
    servers = [Site(f"server {p.probe_id}", pops[int(h)].latitude_deg, pops[int(h)].longitude_deg, 0.0, SiteKind.SERVER,
                    pops[int(h)].country) for p, h in zip(rows, home)]
    net = build_network(constellation, GroundSegment.from_sites(sites + servers), routing="isl", attach="scheduled",
                        endpoint_pop=np.concatenate([home, np.full(len(servers), -1)]))
    pairs = np.array([[k, len(sites) + k] for k in range(len(sites))])
    r = net.solve(grid.times[:40], pairs, step_s=grid.step_s)
    ping = model.median_ping_s(r.rtt_s, r.sats, r.gateways, 1) * 1e3
    return [{"probe": p.probe_id, "place": p.place, "pop": pops[int(h)].name, "measured_median_ms": p.median_ms,
             "predicted_ms": float(np.nanmedian(ping[:, k]))} for k, (p, h) in enumerate(zip(rows, home))]


def save_routes(path: Path, routed: dict, users: int, duration: str) -> None:
    """The routed users of every country and state, to refit without routing again."""
    arrays = {f"{part}:{key}": a for key, triple in routed.items() for part, a in zip(("rtt", "sats", "gw"), triple, strict=True)}
    np.savez_compressed(path, __users__=np.array(users), __duration__=np.array(duration), **arrays)


def load_routes(path: Path, keys: list[str], users: int, duration: str) -> dict | None:
    """What :func:`save_routes` wrote, or ``None`` (routing again) when it was routed for
    other rows, another ``--users`` or ``--duration``."""
    with np.load(path) as z:
        if int(z["__users__"]) != users or str(z["__duration__"]) != duration:
            print(f"{path} was routed with other --users/--duration: routing again", flush=True)
            return None
        saved = [name.split(":", 1)[1] for name in z.files if name.startswith("rtt:")]
        if not set(saved) <= set(keys):
            print(f"{path} holds rows that are not published: routing again", flush=True)
            return None
        return {k: (z[f"rtt:{k}"], z[f"sats:{k}"], z[f"gw:{k}"]) for k in saved}


def write_fitted(model: LatencyModel, note: str) -> None:
    text = LATENCY_PY.read_text()
    block = "FITTED = {\n" + "".join(f'    "{k}": {getattr(model, k):.6g},\n' for k in FREE) + "}\n" + f"FITTED_ON = {note!r}\n"
    new, n = re.subn(r"FITTED = \{.*?\}\nFITTED_ON = .*?\n", block, text, flags=re.S)
    if n != 1:
        raise SystemExit(f"could not find the fitted block in {LATENCY_PY}")
    LATENCY_PY.write_text(new)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=10, help="users per country or state (default 10)")
    ap.add_argument("--duration", default="1h", help="window from the constellation epoch (default 1h)")
    ap.add_argument("--dry-run", action="store_true", help="change no file")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--routes", type=Path, default=None, metavar="NPZ",
                    help="keep the routed users in this file and reuse it when it exists (refits in seconds; "
                         "delete it after changing routing, the network or --users/--duration)")
    a = ap.parse_args(argv)
    root = calibration_root()
    t0 = time.perf_counter()
    cm = [r for r in read_country_metrics(root / COUNTRY_METRICS) if r.country]
    sm = read_state_metrics(root / STATE_METRICS)
    c = Constellation.preset("starlink-2026-05")
    grid = latency_grid(c.epoch, parse_duration(a.duration), "15s")
    pub = {r.country: (r.p20_ms, r.p50_ms, r.p80_ms) for r in cm} | {f"US-{r.state}": (r.p20_ms, r.p50_ms, r.p80_ms) for r in sm}
    routed = load_routes(a.routes, list(pub), a.users, a.duration) if a.routes and a.routes.exists() else None
    if routed is None:
        groups = country_groups([r.country for r in cm], a.users, 0) + state_groups([r.state for r in sm], a.users, 0)
        print(f"routing {sum(len(g) for g in groups)} users in {len(groups)} countries and states, {grid.n_steps} steps ...",
              flush=True)
        s = route_users(groups, c, gateways=GroundSegment.starlink_gateways(), pops=GroundSegment.starlink_pops(),
                        links=LinkOptions(), mode=ISL, attach="scheduled", grid=grid, seed=0, workers=a.workers)
        routed = {g.key: (s.rtt_s[:, s.group_of == k], s.sats[:, s.group_of == k], s.gateways[:, s.group_of == k])
                  for k, g in enumerate(s.groups)}
        if a.routes:
            save_routes(a.routes, routed, a.users, a.duration)
    else:
        print(f"reusing the routed users of {a.routes}", flush=True)
    targets = [Target(key, pub[key], *arrays) for key, arrays in routed.items()]
    countries = [t for t in targets if not t.key.startswith("US-")]
    states = [t for t in targets if t.key.startswith("US-")]
    theta, model = fit(targets)
    print("fitted:", ", ".join(f"{k} = {v:.4g}" for k, v in zip(FREE, theta, strict=True)), flush=True)
    sc_c, sc_s = scores(countries, model), scores(states, model)
    cv = cross_validate(countries)
    me = maine(root, c, grid, model, a.users)
    pr = probes(root, c, grid, model)
    elapsed = time.perf_counter() - t0
    print(f"countries: {sc_c['within_5ms']:.0%} within 5 ms, Spearman {sc_c['spearman']:.2f}, MAE {sc_c['mae_ms']:.1f} ms")
    print(f"states: {sc_s['within_5ms']:.0%} within 5 ms, Spearman {sc_s['spearman']:.2f}, MAE {sc_s['mae_ms']:.1f} ms")
    print(f"5-fold cross-validation over countries: {cv['within_5ms']:.0%} within 5 ms, Spearman {cv['spearman']:.2f}")
    print(f"Maine -> Ashburn: predicted median {me['predicted_median_ms']:.1f} ms, measured {me['measured_median_ms']:.1f} ms")
    note = (f"fitted {time.strftime('%Y-%m-%d')} by tools/calibrate_latency.py on Starlink's December 2025 figures for "
            f"{len(countries)} countries and mid-2025 figures for {len(states)} US states ({a.users} users each, "
            f"{a.duration} at 15 s); see docs/latency-calibration.md")
    report = write_report(targets, model, theta, sc_c, sc_s, cv, me, pr, a, elapsed, note)
    if a.dry_run:
        worst = sorted((t for t in countries if len(t.rtt_s)), key=lambda t: -abs(t.predict(model)[1] - t.published[1]))
        print("worst countries (predicted - published p50, ms):",
              ", ".join(f"{t.key} {t.predict(model)[1] - t.published[1]:+.1f}" for t in worst[:12]))
    else:
        REPORT_MD.write_text(report)
        write_fitted(model, note)
        print(f"wrote {LATENCY_PY.relative_to(REPO)} and {REPORT_MD.relative_to(REPO)}")
    return 0


def write_report(targets, model, theta, sc_c, sc_s, cv, me, pr, a, elapsed, note) -> str:
    rows = []
    for t in targets:
        p = t.predict(model)
        rows.append((t.key, t.propagation_p50_ms, *p, *t.published, p[1] - t.published[1]))
    worst = sorted(rows, key=lambda r: -abs(r[-1]))[:10]
    lines = [
        "# Latency model: the fit (written by `tools/calibrate_latency.py`)",
        "",
        f"{note}. Run time {elapsed:.0f} s. Do not edit: rerun the tool.",
        "",
        "## Fitted parameters",
        "",
        "| parameter | value |",
        "|---|---|",
        *[f"| `{k}` | {v * 1e3:.2f} ms |" if k != "queue_sigma" else f"| `{k}` | {v:.3f} |" for k, v in zip(FREE, theta, strict=True)],
        f"| access per terminal end (fixed: 3 frames of 1.33 ms) | {model.access_s * 1e3:.2f} ms |",
        f"| reconfiguration spikes in a 15 s average (fixed) | {model.spike_mean_s * 1e3:.2f} ms |",
        "",
        "## How well it fits",
        "",
        "| set | n | within ±5 ms | Spearman | mean abs. error |",
        "|---|---|---|---|---|",
        f"| countries (fitted) | {sc_c['n']} | {sc_c['within_5ms']:.0%} | {sc_c['spearman']:.2f} | {sc_c['mae_ms']:.1f} ms |",
        f"| US states (fitted) | {sc_s['n']} | {sc_s['within_5ms']:.0%} | {sc_s['spearman']:.2f} | {sc_s['mae_ms']:.1f} ms |",
        f"| countries, 5-fold cross-validation | {sc_c['n']} | {cv['within_5ms']:.0%} | {cv['spearman']:.2f} | {cv['mae_ms']:.1f} ms |",
        "",
        f"Maine drive (NUWiNS 2024, {me['samples']:,} Starlink pings to Ashburn): measured median "
        f"{me['measured_median_ms']:.1f} ms; leosim predicts {me['predicted_median_ms']:.1f} ms "
        f"(propagation {me['propagation_median_ms']:.1f} ms), for Maine terminals by population over the window.",
        "",
        "## The ten worst",
        "",
        "| row | propagation p50 | predicted p50 | published p50 | error |",
        "|---|---|---|---|---|",
        *[f"| {r[0]} | {r[1]:.1f} | {r[3]:.1f} | {r[6]:.1f} | {r[-1]:+.1f} |" for r in worst],
        "",
        "## Every row (ms; p20 is Starlink's slow end)",
        "",
        "| row | propagation p50 | predicted p20 / p50 / p80 | published p20 / p50 / p80 | error p50 |",
        "|---|---|---|---|---|",
        *[f"| {r[0]} | {r[1]:.1f} | {r[2]:.1f} / {r[3]:.1f} / {r[4]:.1f} | {r[5]:.1f} / {r[6]:.1f} / {r[7]:.1f} | {r[-1]:+.1f} |"
          for r in sorted(rows)],
        "",
        "## RIPE Atlas probes, 2023 (not fitted; the network was smaller then)",
        "",
        "| probe | place | home PoP (2026) | measured median of min-RTT | predicted ping |",
        "|---|---|---|---|---|",
        *[f"| {p['probe']} | {p['place']} | {p['pop']} | {p['measured_median_ms']:.1f} | {p['predicted_ms']:.1f} |" for p in pr],
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
