"""The latency world map (an adapter: matplotlib is imported here only).

A choropleth of a predicted median ping per country and, beside it, the prediction
against published figures (Starlink's per-country medians, read by
:mod:`leosim.formats.measurements`). Needs the ``plot`` extra (matplotlib) and shapely
(the ``policy`` extra) for the vendored Natural Earth 1:50m country polygons of
:mod:`leosim.ground.countries`, which are already split at the antimeridian and so are
drawn as they are in plain longitude/latitude, as the other maps of ``present/`` do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import numpy as np

from leosim.ground.countries import country_geometry, known_countries
from leosim.present.plots import pyplot, save_png

#: The colour bar's fixed range (ms); values outside are clipped to its ends.
RANGE_MS = (15.0, 100.0)
#: Colormap of the choropleth (perceptually uniform; low latency dark).
CMAP = "viridis"
#: Half-width of the agreement band of the comparison panel (ms).
BAND_MS = 5.0
#: How many of the worst-predicted countries are labelled.
WORST = 10

_MISSING = "0.88"


@cache
def _outlines() -> tuple[tuple[str, np.ndarray, float], ...]:
    """(code, exterior (lon, lat) vertices, polygon area) of every country polygon,
    largest first, so that enclaves (Lesotho, San Marino) are drawn over their hosts."""
    out = []
    for code in known_countries():
        geometry = country_geometry(code)
        for polygon in getattr(geometry, "geoms", [geometry]):
            out.append((code, np.asarray(polygon.exterior.coords)[:, :2], float(polygon.area)))
    out.sort(key=lambda item: -item[2])
    return tuple(out)


def _clean(values: Mapping[str, float] | None) -> dict[str, float]:
    """Upper-case codes -> finite floats; non-finite values count as missing."""
    out: dict[str, float] = {}
    for code, value in (values or {}).items():
        v = float(value)
        if math.isfinite(v):
            out[str(code).strip().upper()] = v
    return out


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def _world(fig, ax, predicted: dict[str, float], label: str) -> None:
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import Normalize

    norm = Normalize(vmin=RANGE_MS[0], vmax=RANGE_MS[1], clip=True)
    cmap = colormaps[CMAP]
    outlines = _outlines()
    faces = [cmap(norm(predicted[code])) if code in predicted else _MISSING for code, _, _ in outlines]
    ax.add_collection(PolyCollection([xy for _, xy, _ in outlines], facecolors=faces, edgecolors="white",
                                     linewidths=0.15))
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 85)  # Antarctica has no terminals worth a third of the map
    ax.set_aspect(1.0)
    ax.set_xticks(range(-180, 181, 60))
    ax.set_yticks(range(-60, 61, 30))
    ax.tick_params(labelsize=7)
    ax.set_facecolor("#eef3f7")
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.85, extend="both", label=label)
    drawn = {code for code, _, _ in outlines}
    shown = sum(1 for code in predicted if code in drawn)
    absent = sorted(code for code in predicted if code not in drawn)
    note = f"{shown} countries with a value; grey: no value"
    if absent:
        note += f"; not drawn (no 1:50m polygon): {', '.join(absent)}"
    ax.text(0.01, 0.01, note, transform=ax.transAxes, fontsize=7, color="0.3", va="bottom")


def _comparison(ax, predicted: dict[str, float], published: dict[str, float]) -> None:
    codes = sorted(set(predicted) & set(published))
    if not codes:
        ax.text(0.5, 0.5, "no country has both a prediction and a published value", ha="center", va="center",
                transform=ax.transAxes, fontsize=9)
        ax.set_axis_off()
        return
    pub = np.array([published[c] for c in codes])
    pred = np.array([predicted[c] for c in codes])
    err = pred - pub
    share = float(np.mean(np.abs(err) <= BAND_MS))
    rho = _spearman(pred, pub)
    lo = math.floor(min(pub.min(), pred.min(), RANGE_MS[0]) / 5.0) * 5.0
    hi = math.ceil(max(pub.max(), pred.max()) / 5.0) * 5.0 + 5.0
    line = np.array([lo, hi])
    ax.fill_between(line, line - BAND_MS, line + BAND_MS, color="tab:green", alpha=0.15, lw=0,
                    label=f"±{BAND_MS:g} ms")
    ax.plot(line, line, color="0.3", lw=0.8, label="y = x")
    ax.scatter(pub, pred, s=14, color="tab:blue", zorder=3)
    for k in np.argsort(-np.abs(err), kind="stable")[:WORST]:
        ax.annotate(codes[k], (pub[k], pred[k]), xytext=(3, 3), textcoords="offset points", fontsize=7,
                    color="tab:red")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect(1.0)
    ax.set_xlabel("published median latency (ms)")
    ax.set_ylabel("predicted median ping (ms)")
    rho_text = "n/a" if math.isnan(rho) else f"{rho:.2f}"
    ax.set_title(f"{len(codes)} countries: {share:.0%} within ±{BAND_MS:g} ms, Spearman ρ = {rho_text}",
                 fontsize=9)
    ax.legend(loc="upper left", fontsize=7)
    ax.grid(alpha=0.3, lw=0.5)


def latency_map(
    path,
    predicted_ms: Mapping[str, float],
    published_ms: Mapping[str, float] | None = None,
    *,
    title: str,
    label: str = "predicted median ping, ms",
) -> Path:
    """A PNG world map of ``predicted_ms`` per ISO alpha-2 country code, and the comparison.

    Countries without a (finite) value are light grey; the colour bar spans
    :data:`RANGE_MS` (values beyond are clipped to its ends). With ``published_ms``, a
    second panel plots predicted against published for the countries in both, with the
    y = x line and a ±:data:`BAND_MS` band; its title gives the share within the band and
    the Spearman rank correlation, and the :data:`WORST` countries furthest from y = x are
    labelled. Codes leosim has no polygon for (e.g. ``YT``, ``TV``, ``UM`` at 1:50m) are
    named under the map. Returns ``path``.
    """
    plt = pyplot()
    path = Path(path)
    predicted = _clean(predicted_ms)
    if published_ms is None:
        fig, ax = plt.subplots(figsize=(11, 4.5), layout="constrained")
        _world(fig, ax, predicted, label)
    else:
        fig, (ax, side) = plt.subplots(1, 2, figsize=(16, 5.0), layout="constrained",
                                       gridspec_kw={"width_ratios": [2.3, 1]})
        _world(fig, ax, predicted, label)
        _comparison(side, predicted, _clean(published_ms))
    fig.suptitle(title, fontsize=11)
    save_png(fig, path)
    return path




def latency_section_map(path: str | Path, rows: list[dict]) -> Path:
    """The map of a ``latency`` table: predicted median ping per country and, where the
    table has Starlink's published median, the comparison."""
    predicted = {r["country"]: r["rtt_p50_ms"] for r in rows if r.get("rtt_p50_ms") is not None}
    published = {r["country"]: r["published_p50_ms"] for r in rows if r.get("published_p50_ms") is not None}
    return latency_map(path, predicted, published or None,
                       title="Predicted median ping to the home PoP (router to internet, 15 s averages)")


__all__ = ["BAND_MS", "CMAP", "RANGE_MS", "WORST", "latency_map", "latency_section_map"]
