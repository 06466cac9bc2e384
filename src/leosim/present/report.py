"""The scenario report: one self-contained HTML file that opens offline.

Figures are rendered with matplotlib to PNG and embedded as base64 data URIs; there is
no script, no stylesheet and no font from anywhere else, so the file can be mailed,
archived, or opened on a machine with no network.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np

from leosim import __version__
from leosim.errors import require
from leosim.ground.sites import SiteKind
from leosim.network.links import user_links
from leosim.present.headline import NOT_LOCATED, format_seconds, headline_rows
from leosim.scenario.plan import Plan

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.9em}td,th{padding:.25em .7em;border-bottom:1px solid #eee;text-align:left}
th{background:#f6f6f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto;border:1px solid #eee}pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:.85em}
.note{color:#555;font-size:.9em}
"""


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(src: str, alt: str) -> str:
    return f'<img src="{src}" alt="{html.escape(alt)}">'


def _table(rows: list[dict], columns: list[str] | None = None) -> str:
    if not rows:
        return "<p class=note>(none)</p>"
    cols = columns or list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            text = "-" if v is None else (f"{v:,.3f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v))
            cells.append(f"<td class=num>{html.escape(text)}</td>" if num else f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _time_series(plan: Plan, rtt: np.ndarray, plt) -> str:
    n = plan.scenario.traffic.plot_pairs
    explicit = [k for k, kind in enumerate(plan.pair_kind) if kind == "pair"]
    to_pop = [k for k, kind in enumerate(plan.pair_kind) if kind == "to-pop"]
    chosen = (explicit + to_pop)[:n]
    fig, ax = plt.subplots(figsize=(11, 5))
    t = plan.grid.offsets_s / 60.0
    for k in chosen:
        ax.plot(t, rtt[:, k], lw=1.1, drawstyle="steps-post", label=plan.labels[k])
    ax.set_xlabel("minutes after " + str(plan.grid.start)[:19] + " UTC")
    ax.set_ylabel("RTT, ms (propagation)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("RTT over time: the steps every 15 s are the scheduled reconfigurations", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def _cdfs(plan: Plan, rtt: np.ndarray, plt) -> str:
    fig, ax = plt.subplots(figsize=(9, 5))
    regions = np.array(plan.regions)
    to_pop = np.array([k == "to-pop" for k in plan.pair_kind])
    for reg in sorted(set(regions[to_pop].tolist())):
        x = rtt[:, to_pop & (regions == reg)].ravel()
        x = np.sort(x[np.isfinite(x)])
        if len(x):
            ax.plot(x, np.arange(1, len(x) + 1) / len(x), label=f"{reg} ({int((to_pop & (regions == reg)).sum())} terminals)")
    ax.set_xlabel("RTT to the nearest PoP, ms (propagation)")
    ax.set_ylabel("fraction of terminal-steps")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("RTT distribution per region", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def _outlines():
    """Country outlines for maps, when the countries module and its data are there."""
    try:
        from leosim.ground import countries
    except ImportError:
        return []
    try:
        geoms = [countries.country_geometry(c) for c in countries.known_countries()]
    except Exception:  # an optional backdrop: a map without outlines is still a map
        return []
    rings = []
    for g in geoms:
        for poly in getattr(g, "geoms", [g]):
            x, y = poly.exterior.xy
            rings.append((np.asarray(x), np.asarray(y)))
    return rings


def _coverage_map(plan: Plan, plt) -> str:
    """Satellites above the mask at the first step, on a 2-degree grid, with the ground segment."""
    from leosim.core.geodesy import geodetic_to_ecef, up_vectors

    lat = np.arange(-88, 89, 2.0)
    lon = np.arange(-179, 180, 2.0)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    xyz = geodetic_to_ecef(la.ravel(), lo.ravel())
    up = up_vectors(la.ravel(), lo.ravel())
    pos = plan.constellation.positions(plan.grid.times[:1])[0]
    min_el = plan.links.min_elevation_deg
    # the router's own rule: what a terminal at each grid point could use
    vis = user_links(plan.links, plan.constellation, xyz, up, pos)
    count = np.bincount(vis.rows, minlength=len(xyz)).reshape(la.shape)
    fig, ax = plt.subplots(figsize=(11, 5.6))
    m = ax.pcolormesh(lon, lat, count, shading="nearest", cmap="viridis")
    fig.colorbar(m, ax=ax, label=f"satellites above {min_el:g} deg", shrink=0.8)
    for x, y in _outlines():
        ax.plot(x, y, color="white", lw=0.3, alpha=0.7)
    gw = plan.gateways
    if len(gw):
        ax.scatter(gw.longitude_deg, gw.latitude_deg, s=8, c="orange", marker="^", label=f"gateways ({len(gw)})")
    pops = plan.pops
    if len(pops):
        ax.scatter(pops.longitude_deg, pops.latitude_deg, s=18, c="red", marker="s", label=f"PoPs ({len(pops)})")
    ep = plan.endpoints
    term = [s for s in ep if s.kind is not SiteKind.SERVER]
    ax.scatter([s.longitude_deg for s in term], [s.latitude_deg for s in term], s=14, c="white", edgecolors="black",
               label=f"terminals ({len(term)})")
    ax.set_xlim(-180, 180)
    ax.set_ylim(-90, 90)
    ax.set_xlabel("longitude, deg")
    ax.set_ylabel("latitude, deg")
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(f"Coverage at {str(plan.grid.start)[:19]} UTC and the ground segment", fontsize=10)
    fig.tight_layout()
    return _png(fig)


# ------------------------------------------------------ policy, jamming, exposure
_CODE_COLOURS = {
    "OKAY": "#2ca02c", "UNKNOWN_LOCATION": "#9467bd", "BLOCKED_COUNTRY": "#d62728", "IN_OCEAN": "#1f77b4",
    "ROAM_RESTRICTED": "#ff7f0e", "ACCOUNT_DISABLED": "#8c564b", "NO_ACTIVE_ACCOUNT": "#7f7f7f",
    "CELL_IS_DISABLED": "#e377c2", "TOO_FAR_FROM_SERVICE_ADDRESS": "#bcbd22",
}


def _png_from_file(draw, *args, **kwargs) -> str:
    """Embed a figure that a ``_adversary_plots`` function writes to a PNG path."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "figure.png"
        draw(f, *args, **kwargs)
        data = f.read_bytes()
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _aspect(ax, lat_deg: float) -> None:
    ax.set_aspect(1.0 / max(np.cos(np.radians(lat_deg)), 0.2))


def _jammers(results) -> tuple:
    jam = results.get("jamming")
    return jam.data.jammers if jam is not None else ()


def _admission_map(plan, results, plt) -> str:
    """Terminals coloured by the first code other than OKAY they get (OKAY: served throughout)."""
    rows = results["admission"].tables["admission"]
    jammers = _jammers(results)
    lat = np.array([r["latitude_deg"] for r in rows])
    lon = np.array([r["longitude_deg"] for r in rows])
    state = [r["first_denied_code"] or "OKAY" for r in rows]
    fig, ax = plt.subplots(figsize=(10, 6.5))
    for x, y in _outlines():
        ax.plot(x, y, color="0.55", lw=0.5)
    for code in sorted(set(state), key=list(_CODE_COLOURS).index):
        sel = np.array([c == code for c in state])
        ax.scatter(lon[sel], lat[sel], s=40, c=_CODE_COLOURS[code], edgecolors="black", lw=0.5, zorder=3,
                   label=f"{code} ({int(sel.sum())})")
    if len(rows) <= 40:
        for r in rows:
            ax.annotate(r["terminal"], (r["longitude_deg"], r["latitude_deg"]), fontsize=7, xytext=(4, 3),
                        textcoords="offset points")
    if jammers:
        ax.scatter([j.longitude_deg for j in jammers], [j.latitude_deg for j in jammers], marker="*",
                   s=70, c="cyan", edgecolors="black", lw=0.5, zorder=2, label="GPS jammer")
    # a frame about 1.5 times wider than high on the map, around every terminal
    lat0, lon0 = (lat.min() + lat.max()) / 2, (lon.min() + lon.max()) / 2
    k = max(np.cos(np.radians(lat0)), 0.2)
    half_lat = max(1.0, 0.55 * np.ptp(lat), 0.55 * np.ptp(lon) * k / 1.5)
    half_lon = 1.5 * half_lat / k
    ax.set_xlim(lon0 - half_lon, lon0 + half_lon)
    ax.set_ylim(max(lat0 - half_lat, -90), min(lat0 + half_lat, 90))
    _aspect(ax, float(lat0))
    ax.set_xlabel("longitude, deg")
    ax.set_ylabel("latitude, deg")
    ax.legend(fontsize=8, loc="best")
    ax.set_title(f"Admission under policy {plan.policy.name!r}: each terminal's first code other than OKAY "
                 "(OKAY: served throughout)", fontsize=9)
    fig.tight_layout()
    return _png(fig)


def _clipped_outline(lat_min, lat_max, lon_min, lon_max, codes):
    """Country outlines of ``codes`` inside a box, as a MultiPolygon (None when empty)."""
    from shapely.geometry import MultiPolygon, Polygon, box

    from leosim.ground.countries import country_geometry

    frame = box(lon_min, lat_min, lon_max, lat_max)
    polys = []
    for code in codes:
        try:
            g = country_geometry(code).intersection(frame)
        except Exception:  # an optional backdrop
            continue
        for part in getattr(g, "geoms", [g]):
            if isinstance(part, Polygon) and not part.is_empty:
                polys.append(part)
            elif isinstance(part, MultiPolygon):
                polys += list(part.geoms)
    return MultiPolygon(polys) if polys else None


def _jamming_map(plan, results) -> str:
    """J/S with every jammer on, over the area the jammers reach."""
    from leosim.core.geodesy import EARTH_RADIUS_M
    from leosim.core.radio import radio_horizon_m
    from leosim.ground.countries import country_of
    from leosim.models.jamming import TERMINAL_GPS_HEIGHT_M, j_to_s_db
    from leosim.present.adversary_maps import jamming_map

    spec = plan.scenario.jamming
    jammers = _jammers(results)
    jl = np.array([[j.latitude_deg, j.longitude_deg] for j in jammers])
    lat0, lon0 = jl.mean(axis=0)
    reach = max(min(float(radio_horizon_m(j.height_m, TERMINAL_GPS_HEIGHT_M)), 300e3) for j in jammers)
    spread = float(np.max(np.hypot(jl[:, 0] - lat0, (jl[:, 1] - lon0) * np.cos(np.radians(lat0)))))
    half = spread + 1.15 * np.degrees(reach / EARTH_RADIUS_M)
    la = np.linspace(lat0 - half, lat0 + half, 90)
    lo = np.linspace(lon0 - half / max(np.cos(np.radians(lat0)), 0.2), lon0 + half / max(np.cos(np.radians(lat0)), 0.2), 90)
    lon_g, lat_g = np.meshgrid(lo, la)
    js = j_to_s_db(jammers, lat_g.ravel(), lon_g.ravel(), clutter_loss_db=spec.clutter_loss_db)
    codes = sorted(set(np.unique(country_of(lat_g.ravel()[::7], lon_g.ravel()[::7])).tolist()) - {"none", ""})
    outline = _clipped_outline(la[0], la[-1], lo[0], lo[-1], codes)
    denied = float(np.mean(js > spec.tolerance_db))
    return _png_from_file(jamming_map, lat_g.ravel(), lon_g.ravel(), js, spec.tolerance_db, jammers, outline,
                          title=f"GPS L1 J/S with every jammer on ({len(jammers)}; {denied:.0%} of this frame denied)")


def _denied_share_plot(plan, results, plt) -> str:
    rows = results["jamming"].tables["jamming"]
    t = np.array([r["t_s"] for r in rows]) / 60.0
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(t, 100 * np.array([r["denied_share_terminals"] for r in rows]), drawstyle="steps-post",
            label="terminals without a GPS fix (UNKNOWN_LOCATION)")
    ax.set_xlabel("minutes after " + str(plan.grid.start)[:19] + " UTC")
    ax.set_ylabel("share of terminals, %")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    region = plan.scenario.jamming.region
    lines, labels = ax.get_legend_handles_labels()
    if region is not None:
        ax2 = ax.twinx()
        ax2.plot(t, 100 * np.array([r[f"denied_share_area_{region}"] for r in rows]), color="tab:red",
                 drawstyle="steps-post", label=f"area of {region} where GPS is denied")
        ax2.set_ylabel(f"share of {region}'s area, %", color="tab:red")
        ax2.set_ylim(bottom=0)
        l2, b2 = ax2.get_legend_handles_labels()
        lines, labels = lines + l2, labels + b2
    ax.legend(lines, labels, fontsize=8, loc="upper left")
    ax.set_title("GPS denial over time", fontsize=10)
    fig.tight_layout()
    return _png(fig)


def _jammer_rows(plan, results) -> list[dict]:
    rows = []
    for j in _jammers(results):
        when = "always"
        if j.active:
            when = "; ".join(
                f"{max((a - plan.grid.start) / np.timedelta64(1, 's'), 0.0) / 60:g}-"
                f"{min((b - plan.grid.start) / np.timedelta64(1, 's'), plan.grid.duration_s) / 60:g} min"
                for a, b in j.active
            )
        rows.append({"jammer": j.name, "latitude_deg": j.latitude_deg, "longitude_deg": j.longitude_deg,
                     "height_m": j.height_m, "eirp_dbw": j.eirp_dbw, "on (minutes into the run)": when})
    return rows


def _risk_map(plan, results) -> str:
    """The exposure section's risk map: expected time to locate around the first assessed
    terminal's sensors (first duty cycle)."""
    from leosim.present.adversary_maps import risk_map as draw

    spec, risk = plan.scenario.exposure, results["exposure"].data.risk
    anchor = "the centre" if spec.center not in (None, "each") else ("each terminal" if spec.center == "each" else "the terminals' centroid")
    people = risk["located_share_people"]
    return _png_from_file(draw, risk["lat"], risk["lon"], risk["t_s"], spec.hours, risk["sensors"], risk["points"],
                          title=f"Expected time to locate a terminal, duty cycle {risk['duty_cycle']:g}, "
                                f"{len(risk['sensors'])} sensors anchored at {anchor}: located within {spec.hours:g} h over "
                                f"{risk['located_share_area']:.0%} of the area"
                                + ("" if people is None else f", {people:.0%} of its people"))


def _exposure_display(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        r = dict(r)
        for k in ("median_s", "p10_s", "p90_s"):
            r[k.removesuffix("_s")] = format_seconds(r.pop(k))
        out.append(r)
    return out


def _adversary_sections(plan, results, plt) -> list[str]:
    """The report's policy, jamming and exposure sections: only those the scenario has."""
    parts = []
    adm = results.get("admission")
    if adm is not None:
        parts += [
            "<h2>Service policy and admission</h2>",
            f"<p class=note>{html.escape(plan.policy.describe())}. Admission decides everything downstream: a terminal "
            "that is not admitted (any code but OKAY) carries no traffic at that step (its pairs have no RTT then), "
            "a capacity cell whose terminals are refused is served nothing, and a terminal that is not served does "
            "not transmit, so no sensor can locate it. Codes are Starlink's own disablement codes; 'people' weights "
            "each terminal by the people of its H3 cell (GeoNames).</p>",
            _img(_admission_map(plan, results, plt), "admission codes map"),
            _table(adm.tables["admission"]),
        ]
        if adm.tables.get("jurisdictions"):
            parts += ["<h3>Where the traffic lands and exits (first step)</h3>",
                      "<p class=note>The gateway's country sees the traffic come down from the satellites; the "
                      "PoP's country sees it leave for the Internet.</p>", _table(adm.tables["jurisdictions"])]
    jam = results.get("jamming")
    if jam is not None:
        spec = plan.scenario.jamming
        grace = "" if spec.grace is None else f", after a grace period of {spec.grace}"
        parts += [
            "<h2>GPS jamming</h2>",
            f"<p class=note>A terminal whose GPS L1 jamming-to-signal ratio exceeds {spec.tolerance_db:g} dB cannot "
            f"locate itself and is denied (UNKNOWN_LOCATION){grace}: jamming feeds admission. Free-space loss plus "
            f"{spec.clutter_loss_db:g} dB of clutter, within the 4/3-Earth radio horizon (docs/adversary.md). Shares "
            "are of terminals, of the region's area (H3 cells) and of its people (GeoNames on the same cells).</p>",
            _img(_jamming_map(plan, results), "GPS jamming map"),
            _img(_denied_share_plot(plan, results, plt), "denied share over time"),
            _table(_jammer_rows(plan, results)),
        ]
    exp = results.get("exposure")
    if exp is not None:
        spec = plan.scenario.exposure
        parts += [
            "<h2>Exposure of transmitting terminals</h2>",
            f"<p class=note>Time until sensors ({html.escape(', '.join(spec.sensors))}) locate a terminal that "
            f"transmits at the given duty cycle for {spec.hours:g} h: the 95 % error ellipse under "
            f"{spec.radius_m:g} m ({spec.method}), {spec.trials} Monte Carlo trials, seed {plan.scenario.seed}. "
            "Sensors stand where they are placed; a terminal transmits only while it is admitted. "
            f"'{NOT_LOCATED}': not within {spec.hours:g} h. Model and assumptions: docs/adversary.md.</p>",
            _table(_exposure_display(exp.tables["exposure"])),
        ]
        if len(exp.data.what_if) > 1:
            parts += ["<h3>What if</h3>", _table(exp.data.what_if)]
        if exp.data.risk is not None:
            parts.append(_img(_risk_map(plan, results), "exposure risk map"))
    return parts


# ------------------------------------------------------------------------ capacity
def _capacity_section(plan, results) -> list[str]:
    """Per-cell throughput per terminal (choropleth), the country figures and, when the
    scenario has terminal cities in the country, the figures per city."""
    section = results.get("capacity")
    if section is None:
        return []
    cap = section.data
    from leosim.ground.countries import country_geometry, country_name
    from leosim.present.capacity_maps import speed_map

    c, res = cap.summary, cap.result
    d = res.demand
    with np.errstate(invalid="ignore"):
        per = np.nanmean(res.per_terminal_bps, axis=0) / 1e6
    g = cap.gateways.sites
    place = f"{country_name(c['country'])} ({c['country']})"
    title = (f"{place}: throughput per terminal at the busy hour ({c['terminals']:,} terminals, "
             f"{c['demand_per_terminal_mbps']:g} Mbit/s asked each)\n{plan.constellation.description}, "
             f"{c['backhaul']}, rain exceeded {c['rain_exceedance_pct']:g} % of the year, "
             f"mean of {c['intervals']} x 15 s from {c['interval_starts'][0]}")
    img = _png_from_file(speed_map, d.cells, per, d.terminals, outline=country_geometry(c["country"]) if c["country"] else None,
                         gateways=(g.latitude_deg, g.longitude_deg), title=title)
    rows = [
        {"": "cells (H3 resolution " + str(c["resolution"]) + ")", "value": f"{c['cells']:,}"},
        {"": "terminals (people)", "value": f"{c['terminals']:,} ({c['people']:,}; {c['people_per_terminal']:g} per terminal)"},
        {"": "busy-hour demand (asked)", "value": f"{c['asked_gbps']:,.1f} Gbit/s ({c['demand_per_terminal_mbps']:g} Mbit/s per terminal)"},
        {"": "served", "value": f"{c['served_gbps']:,.1f} Gbit/s"},
        {"": "offered (served + what is left)", "value": f"{c['offered_gbps']:,.1f} Gbit/s"},
        {"": "per terminal: median / p10", "value": f"{_mb(c['per_terminal_median_mbps'])} / {_mb(c['per_terminal_p10_mbps'])}"},
        {"": "per person: median", "value": _mb(c["per_person_median_mbps"])},
        {"": f"terminals at >= {c['min_speed_mbps']:g} Mbit/s", "value": f"{c['terminals_at_min_speed']:,.0f} of {c['terminals']:,}"},
        {"": f"terminals supportable at {c['min_speed_mbps']:g} Mbit/s", "value": f"{c['terminals_supportable_at_min_speed']:,.0f}"},
        {"": "binding bottleneck", "value": c["binding_bottleneck"]},
    ]
    total = sum(c["unserved_by_bottleneck_gbps"].values())
    limits = [{"what limits the unserved demand": k, "unserved Gbit/s": v, "share": f"{v / total:.0%}"}
              for k, v in sorted(c["unserved_by_bottleneck_gbps"].items(), key=lambda kv: -kv[1])] if total > 0 else []
    parts = [
        "<h2>Capacity</h2>",
        f"<p class=note>Busy-hour throughput per H3 cell over {html.escape(place)}: terminals spread by "
        f"population (GeoNames), each asking {c['demand_per_terminal_mbps']:g} Mbit/s; {c['payload']} payload; "
        f"traffic lands at the {c['gateway_sites']} gateway sites the scenario allows ({c['backhaul']}); "
        "beams shared max-min fairly per 15 s reconfiguration interval. Model, defaults and sources: "
        "docs/capacity.md. Per cell and interval: capacity_cells.csv.</p>",
        _img(img, "throughput per terminal per cell"),
        _table(rows),
    ]
    if limits:
        parts.append(_table(limits))
    if section.tables.get("capacity_cities"):
        parts += ["<h3>Per city</h3>",
                  "<p class=note>Each cell counts for the nearest of the scenario's terminal cities in the country, "
                  "so a city's figures include its hinterland (capacity_cities.csv).</p>",
                  _table(section.tables["capacity_cities"])]
    return parts


def _latency_section(results) -> list[str]:
    """The ``[latency]`` section: the world map of the predicted median and the table."""
    section = results.get("latency")
    if section is None:
        return []
    from leosim.present.latency_maps import latency_section_map

    rows = section.data["rows"]
    src = _png_from_file(latency_section_map, rows)
    return [
        "<h2>Latency by country</h2>",
        "<p class=note>Predicted router-to-internet RTT in 15 s averages, as Starlink reports it (rtt_p20_ms is "
        "Starlink's slow end: 20 % of windows are slower), for terminals spread over each country by population, "
        "each to its home PoP; published_p50_ms is Starlink's own median where leosim ships it (December 2025, half "
        "of the countries). The model and its fit: docs/latency.md, docs/latency-calibration.md.</p>",
        _img(src, "predicted median ping per country"),
        _table(section.tables["latency"]),
    ]


def _mb(v: float | None) -> str:
    return "-" if v is None else f"{v:,.2f} Mbit/s"


def write_report(path: Path, plan, results: dict, summary: dict, scenario_text: str) -> None:
    """Write the self-contained HTML report of a run: its headline, then a part for each
    section the scenario has (``results``: section name -> SectionResult)."""
    require("matplotlib", "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scn = plan.scenario
    head = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in headline_rows(summary))
    sources = "".join(f"<li>{html.escape(s)}</li>" for s in scn.sources)
    traffic = results.get("traffic")
    routed = []
    if traffic is not None and traffic.tables:
        rtt = traffic.data["rtt_ms"]
        routed = [
            "<p class=note>RTT is the propagation round trip (vacuum in space, c/1.47 in fibre), the floor under "
            "what ping shows; the predicted ping (ping_* columns) adds access, processing and queueing "
            "(docs/latency.md).</p>",
            "<h2>RTT over time</h2>", _img(_time_series(plan, rtt, plt), "RTT over time for chosen pairs"),
            "<h2>RTT per region</h2>", _img(_cdfs(plan, rtt, plt), "RTT CDF per region"),
            _table(traffic.tables["regions"]),
        ]
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>leosim report: {html.escape(scn.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>leosim report: {html.escape(scn.name)}</h1>",
        f"<p>{html.escape(scn.description)}</p>",
        f"<h2>Headline</h2><table>{head}</table>",
        *routed,
        "<h2>Coverage and ground segment</h2>", _img(_coverage_map(plan, plt), "coverage map"),
        *_adversary_sections(plan, results, plt),
        *_capacity_section(plan, results),
        *_latency_section(results),
        *(["<h2>Pairs</h2>", _table(traffic.tables["pairs"])] if traffic is not None and traffic.tables else []),
        f"<h2>Sources and assumptions</h2><ul>{sources}</ul>",
        "<h2>Reproduce</h2>",
        f"<p>leosim {html.escape(__version__)}, seed {scn.seed}. Save the scenario below as "
        "<code>scenario.toml</code> and run <code>leosim run scenario.toml -o OUT</code>.</p>",
        f"<pre>{html.escape(scenario_text)}</pre>",
        "</body></html>",
    ]
    tmp = path.with_name(path.name + ".part")
    tmp.write_text("\n".join(parts), encoding="utf-8")
    tmp.replace(path)

