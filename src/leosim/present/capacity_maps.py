"""The capacity map (an adapter: matplotlib is imported here only).

Needs the ``plot`` extra (matplotlib) and ``h3`` (the ``capacity`` extra). The figure is
written as PNG and closed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from leosim.errors import require
from leosim.present.plots import pyplot, save_png


def _hexagons(cells: np.ndarray) -> list[np.ndarray]:
    """Each H3 cell's boundary as (lon, lat) vertices, unwrapped across the antimeridian."""
    require("h3", "capacity")
    from h3.api import basic_int

    out = []
    for c in np.asarray(cells).tolist():
        ll = np.array(basic_int.cell_to_boundary(int(c)))[:, ::-1]
        if np.ptp(ll[:, 0]) > 180.0:
            ll[:, 0] = np.where(ll[:, 0] < 0, ll[:, 0] + 360.0, ll[:, 0])
        out.append(ll)
    return out


def speed_map(
    path,
    cells: np.ndarray,
    per_terminal_mbps: np.ndarray,
    terminals: np.ndarray,
    *,
    outline=None,
    gateways: tuple[np.ndarray, np.ndarray] | None = None,
    title: str = "",
) -> Path:
    """Choropleth of per-terminal throughput (Mbit/s, log colour scale) over H3 cells.

    Cells without terminals are drawn light grey; ``outline`` is a shapely (Multi)Polygon
    in (lon, lat) degrees; ``gateways`` (lat, lon) arrays are drawn as triangles.
    """
    plt = pyplot()
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import LogNorm

    path = Path(path)
    fig, ax = plt.subplots(figsize=(9, 7))
    polys = _hexagons(cells)
    v = np.asarray(per_terminal_mbps, dtype=np.float64)
    has = np.asarray(terminals) > 0
    shown = has & np.isfinite(v)
    if (~shown).any():
        ax.add_collection(PolyCollection([p for p, s in zip(polys, shown) if not s], facecolors="0.9",
                                         edgecolors="none", linewidths=0))
    if shown.any():
        vals = np.maximum(v[shown], 1e-3)
        hi = max(float(vals.max()), 1.0)
        lo = min(float(vals.min()), hi / 10.0)
        coll = PolyCollection([p for p, s in zip(polys, shown) if s], array=vals, cmap="viridis",
                              norm=LogNorm(vmin=max(lo, 1e-3), vmax=hi), edgecolors="none", linewidths=0)
        ax.add_collection(coll)
        fig.colorbar(coll, ax=ax, shrink=0.8, label="throughput per terminal (Mbit/s)")
    if outline is not None:
        for p in getattr(outline, "geoms", [outline]):
            x, y = p.exterior.xy
            ax.plot(x, y, color="0.25", lw=0.6)
    allv = np.concatenate(polys) if polys else np.zeros((1, 2))
    pad = 1.0
    ax.set_xlim(allv[:, 0].min() - pad, allv[:, 0].max() + pad)
    ax.set_ylim(allv[:, 1].min() - pad, allv[:, 1].max() + pad)
    if gateways is not None and len(gateways[0]):
        glat, glon = gateways
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        inside = (glon >= x0) & (glon <= x1) & (glat >= y0) & (glat <= y1)
        if inside.any():
            ax.scatter(glon[inside], glat[inside], marker="^", s=30, c="crimson", label="gateway", zorder=3)
            ax.legend(loc="lower left", fontsize=8)
    ax.set_aspect(1.0 / max(np.cos(np.radians(np.mean(ax.get_ylim()))), 0.2))
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.set_title(title, fontsize=10)
    save_png(fig, path)
    return path
