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

from . import __version__
from ._errors import require
from ._geo import visible_candidates
from .ground import SiteKind
from .runner import Plan, headline_rows

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
        from . import countries
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
    from ._geo import geodetic_to_ecef, up_vectors

    lat = np.arange(-88, 89, 2.0)
    lon = np.arange(-179, 180, 2.0)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    xyz = geodetic_to_ecef(la.ravel(), lo.ravel())
    up = up_vectors(la.ravel(), lo.ravel())
    pos = plan.constellation.positions(plan.grid.times[:1])[0]
    min_el = plan.network.links.min_elevation_deg
    rows, cols = visible_candidates(xyz, pos, min_elevation_deg=min_el)
    d = pos[cols] - xyz[rows]
    sin_el = np.einsum("ij,ij->i", d, up[rows]) / np.linalg.norm(d, axis=1)
    vis = sin_el >= np.sin(np.radians(min_el))
    count = np.bincount(rows[vis], minlength=len(xyz)).reshape(la.shape)
    fig, ax = plt.subplots(figsize=(11, 5.6))
    m = ax.pcolormesh(lon, lat, count, shading="nearest", cmap="viridis")
    fig.colorbar(m, ax=ax, label=f"satellites above {min_el:g} deg", shrink=0.8)
    for x, y in _outlines():
        ax.plot(x, y, color="white", lw=0.3, alpha=0.7)
    gw = plan.network.gateways
    if len(gw):
        ax.scatter(gw.longitude_deg, gw.latitude_deg, s=8, c="orange", marker="^", label=f"gateways ({len(gw)})")
    pops = plan.network.pops
    if len(pops):
        ax.scatter(pops.longitude_deg, pops.latitude_deg, s=18, c="red", marker="s", label=f"PoPs ({len(pops)})")
    ep = plan.network.endpoints
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


def write_report(path: Path, plan: Plan, rtt: np.ndarray, pair_rows, region_rows, summary: dict, scenario_text: str) -> None:
    """Write the self-contained HTML report."""
    require("matplotlib", "plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scn = plan.scenario
    head = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in headline_rows(summary))
    sources = "".join(f"<li>{html.escape(s)}</li>" for s in scn.sources)
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        f"<title>leosim report: {html.escape(scn.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>leosim report: {html.escape(scn.name)}</h1>",
        f"<p>{html.escape(scn.description)}</p>",
        f"<h2>Headline</h2><table>{head}</table>",
        "<p class=note>RTT is the propagation round trip (vacuum in space, c/1.47 in fibre); "
        "what ping shows adds about 10-15 ms of processing and queueing on an idle link.</p>",
        "<h2>RTT over time</h2>", _img(_time_series(plan, rtt, plt), "RTT over time for chosen pairs"),
        "<h2>RTT per region</h2>", _img(_cdfs(plan, rtt, plt), "RTT CDF per region"),
        _table(region_rows),
        "<h2>Coverage and ground segment</h2>", _img(_coverage_map(plan, plt), "coverage map"),
        "<h2>Pairs</h2>", _table(pair_rows),
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
