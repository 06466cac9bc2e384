"""The one rule for when a ground site and a satellite can link, and its geometry.

A site sees a satellite when the satellite's elevation is at least the mask (25 deg by
default, the FCC filings' figure for terminals and gateways) or, as Hypatia models it,
when the slant range is at most a given length. :class:`VisibilityRule` states the rule;
:func:`visible_pairs` applies it to every (site, satellite) pair at one instant,
:func:`visible_throughout` over an interval (both ends), and :func:`dense_geometry` gives
the dense matrices the attachment policies read. Routing, capacity, the viewer, the
report's coverage map and the exposure model all call these, so they always agree on
who sees whom. A cheap conservative cull (:func:`visible_candidates`) runs first and the
exact geometry only on its candidates.

Positions are Earth-fixed (ITRF) Cartesian metres, xyz last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leosim.errors import ParameterError

#: Elevation mask of terminals and gateways, degrees (FCC filings; 40 deg is the alternative).
DEFAULT_MIN_ELEVATION_DEG = 25.0


def check_elevation(value: float, what: str = "min elevation") -> float:
    """``value`` when it is an elevation mask (0-90 deg), else a :class:`ParameterError`.

    >>> check_elevation(95.0)
    Traceback (most recent call last):
    ...
    leosim.errors.ParameterError: min elevation 95 deg is outside 0-90 deg; expected an elevation from 0 to 90
    """
    if not (0.0 <= value <= 90.0):
        raise ParameterError(f"{what} {value:g} deg is outside 0-90 deg; expected an elevation from 0 to 90")
    return value


@dataclass(frozen=True)
class VisibilityRule:
    """When a site and a satellite can link.

    Visible when the elevation is at least ``min_elevation_deg``, or, when
    ``max_range_m`` is set (Hypatia's model), when the slant range is at most that.

    >>> VisibilityRule().margin(np.sin(np.radians([30.0, 20.0])), np.array([1e6, 1e6])) >= 0
    array([ True, False])
    """

    min_elevation_deg: float = DEFAULT_MIN_ELEVATION_DEG
    max_range_m: float | None = None

    def __post_init__(self) -> None:
        check_elevation(self.min_elevation_deg)
        if self.max_range_m is not None and not (np.isfinite(self.max_range_m) and self.max_range_m > 0):
            raise ParameterError(f"max range {self.max_range_m!r} m is not a positive length; expected metres > 0")

    def sees(self, elevation_deg: np.ndarray, range_m: np.ndarray) -> np.ndarray:
        """Whether a satellite at this elevation and slant range is visible (NaN: not)."""
        margin = self.margin(np.sin(np.radians(elevation_deg)), range_m)
        return np.nan_to_num(margin, nan=-1.0) >= 0

    def margin(self, sin_elevation: np.ndarray, range_m: np.ndarray) -> np.ndarray:
        """>= 0 exactly when visible; crosses zero continuously as a satellite sets."""
        if self.max_range_m is not None:
            return (self.max_range_m - range_m) / self.max_range_m
        return sin_elevation - np.sin(np.radians(self.min_elevation_deg))


@dataclass(frozen=True)
class SitePairs:
    """Visible (site, satellite) pairs at one instant (or over an interval), one entry each:
    site index ``rows``, satellite index ``cols``, sine of the elevation, slant range (m)."""

    rows: np.ndarray
    cols: np.ndarray
    sin_elevation: np.ndarray
    range_m: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)


def _candidates(site_xyz, sat_xyz, rule, chunk_sites):
    rows_l, cols_l = [], []
    for i in range(0, len(site_xyz), chunk_sites):
        r, c = visible_candidates(site_xyz[i:i + chunk_sites], sat_xyz, min_elevation_deg=rule.min_elevation_deg,
                                  max_range_m=rule.max_range_m)
        rows_l.append(r + i)
        cols_l.append(c)
    if not rows_l:
        z = np.zeros(0, dtype=np.int64)
        return z, z
    return np.concatenate(rows_l), np.concatenate(cols_l)


def visible_pairs(
    site_xyz_m: np.ndarray,
    site_up: np.ndarray,
    sat_xyz_m: np.ndarray,
    rule: VisibilityRule,
    *,
    satellites: np.ndarray | None = None,
    chunk_sites: int = 4096,
) -> SitePairs:
    """Every (site, satellite) pair the rule lets link at one instant.

    ``site_xyz_m``/``site_up``: ``(n_sites, 3)``; ``sat_xyz_m``: ``(n_sats, 3)`` (NaN rows,
    satellites that failed to propagate, are never visible). ``satellites``: a boolean mask
    of the satellites that may serve these sites at all (e.g. no direct-to-cell satellite
    serves a dish). Sites are culled ``chunk_sites`` at a time to bound memory.
    """
    site = np.asarray(site_xyz_m, dtype=np.float64).reshape(-1, 3)
    sat = np.asarray(sat_xyz_m, dtype=np.float64).reshape(-1, 3)
    up = np.asarray(site_up, dtype=np.float64).reshape(-1, 3)
    rows, cols = _candidates(site, sat, rule, chunk_sites)
    if satellites is not None and not np.all(satellites):
        keep = np.asarray(satellites, bool)[cols]
        rows, cols = rows[keep], cols[keep]
    s, r = pair_geometry(site, up, sat, rows, cols)
    ok = rule.margin(s, r) >= 0
    return SitePairs(rows[ok], cols[ok], s[ok], r[ok])


def visible_throughout(
    site_xyz_m: np.ndarray,
    site_up: np.ndarray,
    sat_xyz_start_m: np.ndarray,
    sat_xyz_end_m: np.ndarray,
    rule: VisibilityRule,
    *,
    satellites: np.ndarray | None = None,
    chunk_sites: int = 512,
) -> SitePairs:
    """Pairs visible at both ends of an interval, with the lower elevation and the longer
    range of the two (what a link must close over the whole interval)."""
    site = np.asarray(site_xyz_m, dtype=np.float64).reshape(-1, 3)
    up = np.asarray(site_up, dtype=np.float64).reshape(-1, 3)
    p0 = np.asarray(sat_xyz_start_m, dtype=np.float64).reshape(-1, 3)
    p1 = np.asarray(sat_xyz_end_m, dtype=np.float64).reshape(-1, 3)
    rows, cols = _candidates(site, p0, rule, chunk_sites)
    if satellites is not None and not np.all(satellites):
        keep = np.asarray(satellites, bool)[cols]
        rows, cols = rows[keep], cols[keep]
    s0, r0 = pair_geometry(site, up, p0, rows, cols)
    s1, r1 = pair_geometry(site, up, p1, rows, cols)
    s, r = np.fmin(s0, s1), np.fmax(r0, r1)
    ok = np.isfinite(s0) & np.isfinite(s1) & (rule.margin(s0, r0) >= 0) & (rule.margin(s1, r1) >= 0)
    return SitePairs(rows[ok], cols[ok], s[ok], r[ok])


def dense_geometry(
    site_xyz_m: np.ndarray,
    site_up: np.ndarray,
    sat_xyz_m: np.ndarray,
    rule: VisibilityRule,
    *,
    satellites: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dense ``(n_sites, n_sats)`` sine of the elevation, range (m) and visibility margin.

    The margin is >= 0 exactly where :func:`visible_pairs` lists a pair. Pairs outside the
    cull get sin(el) = -1, range = inf and margin -2; satellites outside ``satellites``
    keep their geometry but get margin -2 (never visible).
    """
    site = np.asarray(site_xyz_m, dtype=np.float64).reshape(-1, 3)
    sat = np.asarray(sat_xyz_m, dtype=np.float64).reshape(-1, 3)
    up = np.asarray(site_up, dtype=np.float64).reshape(-1, 3)
    rows, cols = visible_candidates(site, sat, min_elevation_deg=rule.min_elevation_deg, max_range_m=rule.max_range_m)
    s, r = pair_geometry(site, up, sat, rows, cols)
    shape = (len(site), len(sat))
    sin_el = np.full(shape, -1.0)
    rng = np.full(shape, np.inf)
    margin = np.full(shape, -2.0)
    sin_el[rows, cols] = s
    rng[rows, cols] = r
    margin[rows, cols] = rule.margin(s, r)
    if satellites is not None and not np.all(satellites):
        margin[:, ~np.asarray(satellites, bool)] = -2.0
    return sin_el, rng, margin


def visible_candidates(
    site_xyz_m: np.ndarray,
    sat_xyz_m: np.ndarray,
    *,
    min_elevation_deg: float | None = None,
    max_range_m: float | None = None,
    margin_deg: float = 0.5,
    method: str = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """(site, satellite) index pairs that may be visible: a cheap, conservative cull.

    A satellite can only be above the mask when the Earth-central angle between it and
    the site is at most the coverage angle for the highest satellite and the lowest
    site; ``margin_deg`` covers the difference between the geodetic vertical and the
    geocentric radius (under 0.2 deg). One small matrix product instead of the full
    geometry of every pair: the exact test then runs on the candidates only. ``method``
    ``"dense"`` (one cosine per pair) or ``"tree"`` (a k-d tree over the satellites, for
    hundreds of sites) give the same pairs, sorted by site then satellite.
    """
    site = np.asarray(site_xyz_m, dtype=np.float64)
    sat = np.asarray(sat_xyz_m, dtype=np.float64)
    r_site = np.linalg.norm(site, axis=1)
    r_sat = np.linalg.norm(sat, axis=1)
    ok = np.isfinite(r_sat)
    if not ok.any() or len(site) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z
    rs = np.array([r_site.min(), r_site.max()])[:, None]
    rt = np.array([np.nanmin(r_sat), np.nanmax(r_sat)])[None, :]
    if max_range_m is not None:
        cos_lam = (rs**2 + rt**2 - max_range_m**2) / (2 * rs * rt)
        lam = np.arccos(np.clip(cos_lam, -1.0, 1.0)).max()
    else:
        e = np.radians(min_elevation_deg or 0.0)
        lam = (np.arccos(np.clip(rs * np.cos(e) / rt, -1.0, 1.0)) - e).max()
    lam = min(lam + np.radians(margin_deg), np.pi)
    unit_sat = np.where(ok[:, None], sat / np.where(ok, r_sat, 1.0)[:, None], 0.0)
    u = site / r_site[:, None]
    if method == "tree" or (method == "auto" and len(site) * len(sat) > 500_000):
        # many sites and satellites: a k-d tree over the satellites' unit vectors finds the
        # same pairs (chord 2 sin(lam / 2) <=> central angle lam) without the dense matrix
        from scipy.spatial import cKDTree

        good = np.flatnonzero(ok)
        hits = cKDTree(unit_sat[good]).query_ball_point(u, r=2.0 * np.sin(lam / 2.0), return_sorted=True)
        counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
        rows = np.repeat(np.arange(len(site)), counts)
        cols = good[np.concatenate(hits).astype(np.int64)] if counts.sum() else np.zeros(0, dtype=np.int64)
        return rows, cols
    # three broadcast multiply-adds, not a k=3 matrix product: OpenBLAS runs that GEMM on
    # its thread pool, whose spinning threads then take the CPU from the rest of the step
    cos_angle = u[:, 0:1] * unit_sat[:, 0] + u[:, 1:2] * unit_sat[:, 1] + u[:, 2:3] * unit_sat[:, 2]
    rows, cols = np.nonzero(cos_angle >= np.cos(lam))
    keep = ok[cols]
    return rows[keep], cols[keep]


def pair_geometry(
    site_xyz_m: np.ndarray, site_up: np.ndarray, sat_xyz_m: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sine of the elevation and range (m) for listed (site, satellite) pairs."""
    d = sat_xyz_m[cols] - site_xyz_m[rows]
    rng = np.sqrt(np.einsum("ij,ij->i", d, d))
    sin_el = np.einsum("ij,ij->i", d, site_up[rows]) / rng
    return sin_el, rng


__all__ = [
    "DEFAULT_MIN_ELEVATION_DEG", "SitePairs", "VisibilityRule", "dense_geometry", "pair_geometry",
    "visible_candidates", "visible_pairs", "visible_throughout",
]
