"""Maps for the adversary commands (an adapter: matplotlib is imported here only).

Needs the ``plot`` extra (matplotlib). Longitudes and latitudes in degrees; figures are
written as PNG and closed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from leosim.present.plots import pyplot, save_png


def _draw_outline(ax, geometry) -> None:
    if geometry is None:
        return
    polys = getattr(geometry, "geoms", [geometry])
    for p in polys:
        x, y = p.exterior.xy
        ax.plot(x, y, color="0.3", lw=0.6)


def jamming_map(path, cell_lat, cell_lon, js_db, tolerance_db, jammers, geometry=None, title: str = "") -> Path:
    """Scatter of J/S (dB) over cell centres, denied cells outlined in red, jammers as stars."""
    plt = pyplot()
    path = Path(path)
    fig, ax = plt.subplots(figsize=(8, 6.5))
    _draw_outline(ax, geometry)
    js = np.where(np.isfinite(js_db), js_db, np.nan)
    out_of_reach = ~np.isfinite(js)
    ax.scatter(
        np.asarray(cell_lon)[out_of_reach],
        np.asarray(cell_lat)[out_of_reach],
        s=6,
        c="0.88",
        marker="h",
        label="out of reach",
    )
    sc = ax.scatter(
        cell_lon, cell_lat, c=js, s=6, cmap="magma", vmin=0.0, vmax=max(tolerance_db + 20.0, 1.0), marker="h"
    )
    denied = np.nan_to_num(js_db, nan=-np.inf, neginf=-np.inf) > tolerance_db
    ax.scatter(
        np.asarray(cell_lon)[denied],
        np.asarray(cell_lat)[denied],
        s=6,
        facecolors="none",
        edgecolors="red",
        lw=0.3,
        marker="h",
    )
    ax.scatter(
        [j.longitude_deg for j in jammers],
        [j.latitude_deg for j in jammers],
        marker="*",
        s=120,
        c="cyan",
        edgecolors="k",
        label="jammer",
    )
    fig.colorbar(sc, ax=ax, label=f"J/S (dB); red outline: over the {tolerance_db:g} dB tolerance")
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.set_aspect(1.0 / max(np.cos(np.radians(np.nanmean(cell_lat))), 0.2))
    ax.legend(loc="lower left")
    ax.set_title(title)
    save_png(fig, path)
    return path


def risk_map(
    path, lat_grid, lon_grid, time_s, hours: float, sensors, terminals=(), title: str = "", geometry=None
) -> Path:
    """Expected time to locate (log colour scale, hours) over a grid; sensors and terminals marked."""
    plt = pyplot()
    from matplotlib.colors import LogNorm

    path = Path(path)
    fig, ax = plt.subplots(figsize=(8, 6.5))
    t_h = np.asarray(time_s, dtype=float) / 3600.0
    shown = np.where(np.isfinite(t_h), np.maximum(t_h, 1e-4), np.nan)
    lo = np.nanmin(shown) if np.isfinite(shown).any() else 1e-4
    norm = LogNorm(vmin=max(min(lo, hours / 10), 1e-4), vmax=hours)
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="0.85")
    mesh = ax.pcolormesh(lon_grid, lat_grid, np.ma.masked_invalid(shown), cmap=cmap, norm=norm, shading="auto")
    fig.colorbar(mesh, ax=ax, label=f"expected time to locate (h); grey: not within {hours:g} h")
    _draw_outline(ax, geometry)
    for s in sensors:
        if s.path is not None:
            p = np.array(s.path)
            ax.plot(p[:, 2], p[:, 1], color="b", lw=0.8)
    ax.scatter(
        [s.longitude_deg for s in sensors], [s.latitude_deg for s in sensors], marker="^", c="b", s=30, label="sensor"
    )
    if len(terminals):
        ax.scatter(
            [t[1] for t in terminals],
            [t[0] for t in terminals],
            marker="o",
            facecolors="none",
            edgecolors="k",
            s=25,
            label="terminal",
        )
    ax.set_xlim(np.min(lon_grid), np.max(lon_grid))
    ax.set_ylim(np.min(lat_grid), np.max(lat_grid))
    ax.set_aspect(1.0 / max(np.cos(np.radians(np.mean(lat_grid))), 0.2))
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax.legend(loc="lower left")
    ax.set_title(title)
    save_png(fig, path)
    return path
