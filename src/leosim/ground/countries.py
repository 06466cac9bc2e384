"""Countries: which country any point is in, fast, and each country's shape and H3 cells.

The shapes are Natural Earth's admin-0 polygons at 1:50m (public domain), vendored in
``leosim/data/countries_ne50m.geojson.gz`` with the antimeridian-crossing ones (Russia,
Fiji, Antarctica) split at +-180 deg; see ``leosim/data/README.md``. Codes are ISO 3166-1
alpha-2, plus four codes of leosim's own from the ISO user-assigned range for areas that
have none (:data:`DISPUTED_CODES`). The sea, and land no polygon covers (the Caspian, for
instance), is the pseudo-country ``"none"``.

Lookups go through an H3 table (resolution 5, ~253 km2 cells, vendored in
``countries_h3r5.npz``): a cell that no border crosses answers at once; only points in the
~56,000 cells that a border or coast crosses are tested exactly against the polygons
(shapely, planar in longitude/latitude, boundary points count as inside). The answer is
therefore the exact point-in-polygon answer everywhere, at table speed for most points.

Measured on one core of the project's 2-core machine: 1e5 uniformly random points in
~0.15 s, 1e5 points near borders and coasts in ~0.3 s, after a one-off load of ~1 s.

Needs the ``policy`` extra (``h3``, ``shapely``).
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import json
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from leosim.core.geodesy import destination_point
from leosim.errors import ParameterError, PlaceError, require

__all__ = [
    "on_land",
    "snap_to_land",
    "DISPUTED_CODES",
    "NO_COUNTRY",
    "country_cells",
    "country_code",
    "country_geometry",
    "country_name",
    "country_of",
    "known_countries",
    "random_points",
]

from leosim.formats.data import DATA_DIR as _DATA_DIR

_SHAPES_FILE = _DATA_DIR / "countries_ne50m.geojson.gz"
_INDEX_FILE = _DATA_DIR / "countries_h3r5.npz"

#: Code of the sea and of land no country polygon covers.
NO_COUNTRY = "none"
#: Areas Natural Earth draws as countries that have no ISO 3166-1 code (its ``iso2`` is
#: null). leosim gives them codes from the ISO user-assigned range ``XA``-``XZ``, so every
#: code is two capital letters and fits :class:`~leosim.ground.sites.Site`'s ``country`` field.
#: ``XK`` is the code the EU, the IMF and GeoNames already use for Kosovo; the others are
#: leosim's own (an assumption, stable across releases). Natural Earth's "Indian Ocean
#: Ter." is split into its two parts, which do have ISO codes (Christmas Island ``CX``,
#: Cocos (Keeling) Islands ``CC``).
DISPUTED_CODES = {"Kosovo": "XK", "Somaliland": "XS", "N. Cyprus": "XC", "Siachen Glacier": "XG"}
_INDIAN_OCEAN_TERRITORIES = {"CX": "Christmas I.", "CC": "Cocos (Keeling) Is."}

# Codes people type that ISO 3166-1 does not use (the UK's code is GB, Greece's GR).
_COMMON_MISTAKES = {"UK": "GB", "EL": "GR"}

_INDEX_RESOLUTION = 5
# Boundaries are sampled every 0.01 deg (<= 1.1 km) to find the cells they cross; far
# below the ~8 km inradius of a resolution-5 cell, so a crossed cell is a sampled cell or
# its neighbour.
_SAMPLE_STEP_DEG = 0.01
# A neighbour is also a border cell when its hexagon, grown by 0.002 deg (~200 m, far
# more than the metres between H3's geodesic cell edges and straight lines in lon/lat),
# touches a boundary.
_CELL_MARGIN_DEG = 0.002

# H3 index bit layout (h3geo.org/docs/library/index/cell): resolution in bits 52-55, then
# one 3-bit digit per resolution 1..15, unused digits set to 7.
_H3_RES_SHIFT = 52
_H3_RES_MASK = np.int64(0xF) << _H3_RES_SHIFT


def _libs():
    h3 = require("h3", "policy")
    shapely = require("shapely", "policy")
    return h3, shapely


def _h3_parent(cells: np.ndarray, resolution: int) -> np.ndarray:
    """Parents at ``resolution`` (<= the cells' own) of int64 H3 cells, vectorised."""
    unused = np.int64((1 << (3 * (15 - resolution))) - 1)
    return (cells & ~_H3_RES_MASK) | (np.int64(resolution) << _H3_RES_SHIFT) | unused


def _latlng_to_cells(latitude_deg: np.ndarray, longitude_deg: np.ndarray, resolution: int) -> np.ndarray:
    from h3.api import basic_int

    to_cell = basic_int.latlng_to_cell
    return np.fromiter(
        (to_cell(a, b, resolution) for a, b in zip(latitude_deg.tolist(), longitude_deg.tolist())),
        dtype=np.int64,
        count=len(latitude_deg),
    )


def _fold(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold().strip()


# ------------------------------------------------------------------------ the shapes
@cache
def _shapes() -> dict[str, Any]:
    """Codes (sorted), names, shapely geometries (prepared) and an STRtree over them."""
    _, shapely = _libs()
    with gzip.open(_SHAPES_FILE, "rt", encoding="utf-8") as fh:
        collection = json.load(fh)
    features = sorted(collection["features"], key=lambda f: f["properties"]["code"])
    codes = tuple(f["properties"]["code"] for f in features)
    names = {f["properties"]["code"]: f["properties"]["name"] for f in features}
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in features], dtype=object)
    shapely.prepare(geoms)
    by_name = {_fold(name): code for code, name in names.items()}
    return {
        "codes": codes,
        "code_array": np.array(codes + (NO_COUNTRY,), dtype="<U4"),
        "position": {code: i for i, code in enumerate(codes)},
        "names": names,
        "by_name": by_name,
        "geoms": geoms,
        "tree": shapely.STRtree(geoms),
    }


def known_countries() -> dict[str, str]:
    """Every country code leosim knows, with its Natural Earth name, sorted by code.

    >>> known = known_countries()
    >>> known["IR"], known["XK"], len(known)
    ('Iran', 'Kosovo', 241)
    """
    return dict(_shapes()["names"])


def _code(code: str) -> str:
    """The code of ``code`` (any case) or of a country name; PlaceError with close matches."""
    s = _shapes()
    text = str(code).strip()
    if text.upper() in s["position"]:
        return text.upper()
    if _fold(text) in s["by_name"]:
        return s["by_name"][_fold(text)]
    close = [_COMMON_MISTAKES[text.upper()]] if text.upper() in _COMMON_MISTAKES else []
    close += [s["by_name"][m] for m in difflib.get_close_matches(_fold(text), list(s["by_name"]), n=3, cutoff=0.6)]
    if not close:  # two letters resemble many codes: offer them only when nothing better
        close = difflib.get_close_matches(text.upper(), s["codes"], n=3, cutoff=0.5)
    seen: list[str] = []
    for c in close:
        if c not in seen:
            seen.append(c)
    hint = (
        "; did you mean: " + ", ".join(f"{c} ({s['names'][c]})" for c in seen[:5]) + "?"
        if seen
        else "; see leosim.ground.countries.known_countries()"
    )
    raise PlaceError(
        f"unknown country {code!r}; expected an ISO 3166-1 alpha-2 code such as 'IR' or a country name{hint}"
    )


def country_code(text: str) -> str:
    """The ISO code of a code in any case or of a country name; :class:`PlaceError` otherwise.

    >>> country_code("iran"), country_code("ua")
    ('IR', 'UA')
    """
    return _code(text)


def country_name(code: str) -> str:
    """Natural Earth's name of a country code (or of a name, which returns it tidied).

    >>> country_name("ua"), country_name("none")
    ('Ukraine', 'no country')
    >>> country_name("UK")
    Traceback (most recent call last):
    ...
    leosim.errors.PlaceError: unknown country 'UK'; expected an ISO 3166-1 alpha-2 code such as 'IR' or a country name; did you mean: GB (United Kingdom)?
    """
    if str(code).strip().lower() == NO_COUNTRY:
        return "no country"
    return _shapes()["names"][_code(code)]


def country_geometry(code: str):
    """The shapely (Multi)Polygon of a country, in (longitude, latitude) degrees.

    Split at the antimeridian, so planar operations work: Russia's and Fiji's parts lie on
    both sides of +-180 deg and touch it.

    >>> g = country_geometry("FJ")
    >>> g.geom_type, g.bounds[0], g.bounds[2]
    ('MultiPolygon', -180.0, 180.0)
    """
    return _shapes()["geoms"][_shapes()["position"][_code(code)]]


# ------------------------------------------------------------------------- the index
def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@cache
def _index() -> dict[str, np.ndarray]:
    """The H3 table: uniform cells (any resolution <= 5) with a code, and border cells.

    Read from the vendored file when it was built from the vendored shapes (its
    ``shapes_sha256`` says so); otherwise built here, which takes ~15 s.
    """
    s = _shapes()
    with np.load(_INDEX_FILE, allow_pickle=False) as z:
        stored = {k: z[k] for k in z.files}
    if str(stored["shapes_sha256"]) == _sha256(_SHAPES_FILE) and tuple(stored["codes"].tolist()) == s["codes"]:
        return stored
    return build_index(s["geoms"], s["codes"])


def build_index(
    geometries: np.ndarray, codes: tuple[str, ...], resolution: int = _INDEX_RESOLUTION
) -> dict[str, np.ndarray]:
    """Build the H3 cell -> country table from the country shapes.

    A *border* cell is one a boundary crosses (it holds a boundary sample, or is a
    neighbour of such a cell whose slightly grown hexagon touches a boundary). Every other
    cell lies wholly in one country or in none, so its centre decides. Cells are visited
    from resolution 0 down: a cell with no border descendant at ``resolution`` is stored
    whole (the table is compact), others are split into their children. Returns int64
    ``cells`` (sorted) with ``cell_code`` (index into ``codes``), sorted ``border`` cells,
    ``codes`` and ``resolution``.
    """
    _, shapely = _libs()
    from h3.api import basic_int

    geoms = np.asarray(geometries, dtype=object)
    boundaries = shapely.boundary(geoms)
    xy = shapely.get_coordinates(shapely.segmentize(boundaries, _SAMPLE_STEP_DEG))
    edge = np.unique(_latlng_to_cells(xy[:, 1], xy[:, 0], resolution))
    ring: set[int] = set()
    for c in edge.tolist():
        ring.update(basic_int.grid_disk(c, 1))
    candidates = np.setdiff1d(np.fromiter(ring, dtype=np.int64), edge)
    rings, owners, kept = [], [], []
    for c in candidates.tolist():
        lonlat = np.array(basic_int.cell_to_boundary(c))[:, ::-1]
        # cells across the antimeridian or near a pole are not planar hexagons in lon/lat:
        # count them as border cells (exact tests), which is always safe
        if np.ptp(lonlat[:, 0]) > 180.0 or np.abs(lonlat[:, 1]).max() > 85.0:
            kept.append(c)
            continue
        rings.append(lonlat)
        owners.append(np.full(len(lonlat), len(rings) - 1))
    hexes = shapely.buffer(
        shapely.polygons(shapely.linearrings(np.concatenate(rings), indices=np.concatenate(owners))), _CELL_MARGIN_DEG
    )
    tree = shapely.STRtree(boundaries)
    hit, _ = tree.query(hexes, predicate="intersects")
    usable = np.array([c for c in candidates.tolist() if c not in set(kept)], dtype=np.int64)
    border = np.unique(np.concatenate([edge, np.array(kept, dtype=np.int64), usable[np.unique(hit)]]))

    country_tree = shapely.STRtree(geoms)
    out_cells, out_codes = [], []
    level = np.array(sorted(basic_int.get_res0_cells()), dtype=np.int64)
    for r in range(resolution + 1):
        mixed = np.isin(level, np.unique(_h3_parent(border, r)))
        uniform = level[~mixed]
        if len(uniform):
            centres = np.array([basic_int.cell_to_latlng(c) for c in uniform.tolist()])
            code = _exact(geoms, country_tree, centres[:, 1], centres[:, 0])
            land = code < len(geoms)
            out_cells.append(uniform[land])
            out_codes.append(code[land])
        if r < resolution:
            level = np.array(
                sorted(ch for c in level[mixed].tolist() for ch in basic_int.cell_to_children(c, r + 1)), dtype=np.int64
            )
    cells = np.concatenate(out_cells)
    cell_code = np.concatenate(out_codes).astype(np.int16)
    order = np.argsort(cells)
    return {
        "cells": cells[order],
        "cell_code": cell_code[order],
        "border": border,
        "codes": np.array(codes),
        "resolution": np.array(resolution),
    }


# ------------------------------------------------------------------------ the lookup
def _exact(geoms: np.ndarray, tree, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Index of the first geometry that covers each point (len(geoms) for none).

    Candidates come from the tree's bounding boxes; the exact test then runs one prepared
    country at a time (``intersects_xy``), ~20x faster than the tree's own predicate,
    which prepares the points rather than the polygons.
    """
    _, shapely = _libs()
    found = np.full(len(lon), len(geoms), dtype=np.int64)
    p_idx, g_idx = tree.query(shapely.points(lon, lat))
    if len(p_idx) == 0:
        return found
    order = np.argsort(g_idx, kind="stable")
    p_idx, g_idx = p_idx[order], g_idx[order]
    starts = np.flatnonzero(np.r_[True, np.diff(g_idx) != 0])
    for lo, hi in zip(starts.tolist(), np.r_[starts[1:], len(g_idx)].tolist()):
        pts = p_idx[lo:hi]
        inside = shapely.intersects_xy(geoms[g_idx[lo]], lon[pts], lat[pts])
        np.minimum.at(found, pts[inside], g_idx[lo])
    return found


def country_of(latitude_deg, longitude_deg) -> np.ndarray:
    """ISO 3166-1 alpha-2 code of the country each point is in; ``"none"`` at sea.

    Takes WGS84 latitudes and longitudes in degrees, scalars or arrays that broadcast;
    longitudes wrap (190 is -170). Returns an array of dtype ``'<U4'`` of the broadcast
    shape; for two scalars a ``numpy.str_``, which is a ``str``. A point on a border
    belongs to the country whose code sorts first; NaN coordinates give ``""``.

    Latitude outside -90..90 raises :class:`ParameterError`.

    >>> print(country_of(35.6892, 51.3890), country_of(0.0, 0.0))
    IR none
    >>> country_of([50.4501, 67.5, 67.5], [30.5234, 179.5, -179.5]).tolist()
    ['UA', 'RU', 'RU']
    """
    _, shapely = _libs()
    lat, lon = np.broadcast_arrays(
        np.asarray(latitude_deg, dtype=np.float64), np.asarray(longitude_deg, dtype=np.float64)
    )
    scalar = lat.ndim == 0
    shape = lat.shape
    lat = lat.ravel()
    lon = lon.ravel()
    finite = np.isfinite(lat) & np.isfinite(lon)
    if np.any(np.abs(lat[finite]) > 90.0):
        bad = float(lat[finite][np.abs(lat[finite]) > 90.0][0])
        raise ParameterError(f"latitude {bad!r} deg is outside -90..90; expected WGS84 latitudes in degrees")
    lon = np.where(finite, (lon + 180.0) % 360.0 - 180.0, 0.0)
    lat = np.where(finite, lat, 0.0)
    s, idx = _shapes(), _index()
    n_codes = len(s["codes"])
    code = np.full(len(lat), n_codes, dtype=np.int64)  # n_codes is "none"
    if len(lat):
        res = int(idx["resolution"])
        cells = _latlng_to_cells(lat, lon, res)
        table, table_code = idx["cells"], idx["cell_code"]
        for r in range(res + 1):
            parents = _h3_parent(cells, r)
            pos = np.minimum(np.searchsorted(table, parents), len(table) - 1)
            hit = table[pos] == parents
            code[hit] = table_code[pos[hit]]
        border = np.flatnonzero(np.isin(cells, idx["border"]) & finite)
        if len(border):
            code[border] = _exact(s["geoms"], s["tree"], lon[border], lat[border])
    out = s["code_array"][code]
    out[~finite] = ""
    if scalar:
        return out[0]
    return out.reshape(shape)


# --------------------------------------------------------------------- country cells
def country_cells(code: str, resolution: int = 5) -> np.ndarray:
    """H3 cells (v4 strings, sorted) whose centres lie in a country.

    A country smaller than a cell may have none (Monaco and the Vatican at resolution 5).
    ``resolution`` is 0..10 (a resolution-10 cell is ~0.015 km2; finer grids of large
    countries would not fit in memory).

    >>> cells = country_cells("LU")
    >>> len(cells), str(cells[0])
    (12, '851fa06ffffffff')
    >>> len(country_cells("MC"))
    0
    """
    _, shapely = _libs()
    from h3.api import basic_int

    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer) or not 0 <= resolution <= 10:
        raise ParameterError(f"H3 resolution {resolution!r} is outside 0..10; expected a whole number from 0 to 10")
    resolution = int(resolution)
    code = _code(code)
    s, idx = _shapes(), _index()
    k = s["position"][code]
    base = int(idx["resolution"])
    uniform = idx["cells"][idx["cell_code"] == k]
    xy = shapely.get_coordinates(shapely.segmentize(shapely.boundary(s["geoms"][k]), _SAMPLE_STEP_DEG))
    near: set[int] = set()
    for c in np.unique(_latlng_to_cells(xy[:, 1], xy[:, 0], base)).tolist():
        near.update(basic_int.grid_disk(c, 2))
    seeds = np.concatenate([uniform, np.fromiter(near, dtype=np.int64)])
    seed_res = (seeds >> _H3_RES_SHIFT) & 0xF
    out: list[np.ndarray] = []
    coarse = seed_res >= resolution
    if coarse.any():
        out.append(
            np.unique(
                np.concatenate(
                    [_h3_parent(seeds[coarse & (seed_res == q)], resolution) for q in range(resolution, base + 1)]
                )
            )
        )
    for c in seeds[~coarse].tolist():
        out.append(np.array(basic_int.cell_to_children(c, resolution), dtype=np.int64))
    cand = np.unique(np.concatenate(out)) if out else np.zeros(0, dtype=np.int64)
    centres = np.array([basic_int.cell_to_latlng(c) for c in cand.tolist()]).reshape(-1, 2)
    inside = cand[country_of(centres[:, 0], centres[:, 1]) == code]
    return np.array([basic_int.int_to_str(c) for c in inside.tolist()], dtype=str)


def random_points(code: str, n: int, seed: int | None = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points drawn uniformly over a country's area (seeded): latitudes, longitudes (deg).

    Rejection sampling over the country's bounding box, uniform in area (sine of the
    latitude); a country too small to hit in 200 rounds gives fewer points.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 0 < n <= 1_000_000:
        raise ParameterError(f"{n!r} points; expected a whole number from 1 to 1,000,000")
    g = country_geometry(code)
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = g.bounds
    lat, lon = np.zeros(0), np.zeros(0)
    for _ in range(200):
        la = np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(y0)), np.sin(np.radians(y1)), 4 * n + 16)))
        lo = rng.uniform(x0, x1, 4 * n + 16)
        keep = country_of(la, lo) == _code(code)
        lat, lon = np.concatenate([lat, la[keep]]), np.concatenate([lon, lo[keep]])
        if len(lat) >= n:
            break
    return lat[:n], lon[:n]


# ------------------------------------------------------------------ vendoring (tools)
def prepare_source(collection: dict) -> dict:
    """Turn Natural Earth's admin-0 GeoJSON (world-atlas 2.0.2 + GeoNames codes) into leosim's.

    One feature per code, with properties ``code`` and ``name``: features with a null
    ``iso2`` get :data:`DISPUTED_CODES` (and "Indian Ocean Ter." is split into ``CX`` and
    ``CC``); features sharing a code are merged (Australia and Ashmore and Cartier Is.,
    under Australia's name); polygons that cross the antimeridian are split with the
    ``antimeridian`` package (which also reverses the clockwise winding d3/TopoJSON uses).
    Pure: no files are read or written; see ``leosim/data/README.md`` for the commands.
    """
    _, shapely = _libs()
    antimeridian = require("antimeridian", "policy")
    from shapely.geometry import mapping, shape

    parts: dict[str, list] = {}
    names: dict[str, str] = {}
    for f in collection["features"]:
        code, name = f["properties"]["iso2"], f["properties"]["name"]
        geom = f["geometry"]
        crosses = any(
            np.abs(np.diff(np.asarray(ring)[:, 0])).max() > 180.0
            for poly in (geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]])
            for ring in poly
        )
        if crosses:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", antimeridian.FixWindingWarning)
                geom = antimeridian.fix_shape(geom, fix_winding=True)
        g = shape(geom)
        if code is None and name == "Indian Ocean Ter.":
            for poly in getattr(g, "geoms", [g]):
                c = "CX" if poly.centroid.x > 100.0 else "CC"
                parts.setdefault(c, []).append(poly)
                names[c] = _INDIAN_OCEAN_TERRITORIES[c]
            continue
        if code is None:
            code = DISPUTED_CODES[name]
        parts.setdefault(code, []).append(g)
        names.setdefault(code, name)
    features = []
    for code in sorted(parts):
        g = shapely.union_all(parts[code]) if len(parts[code]) > 1 else parts[code][0]
        if not g.is_valid:
            raise ValueError(f"country {code} ({names[code]}): invalid geometry: {shapely.is_valid_reason(g)}")
        features.append({"type": "Feature", "properties": {"code": code, "name": names[code]}, "geometry": mapping(g)})
    return {"type": "FeatureCollection", "features": features}


def on_land(sites, max_km: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """Positions for the operator's location check: a site whose own country is known
    (GeoNames) but which the 1:50m Natural Earth coastline puts at sea (Bandar Abbas's or
    Tromsø's centre) moves to the nearest point of its country within ``max_km``, so a
    coastal city is not refused IN_OCEAN for the coarseness of the coastline. Other sites
    stay where they are. ``leosim policy check`` and every scenario section use this."""
    lat = np.array([s.latitude_deg for s in sites], dtype=np.float64)
    lon = np.array([s.longitude_deg for s in sites], dtype=np.float64)
    return snap_to_land(lat, lon, [s.country for s in sites], max_km)


def snap_to_land(lat, lon, countries, max_km: float = 10.0) -> tuple[np.ndarray, np.ndarray]:
    """:func:`on_land` for points: each point the coastline puts at sea moves to the nearest
    point of its own country (``countries``, one code or None per point) within ``max_km``."""
    lat, lon = np.array(lat, dtype=np.float64), np.array(lon, dtype=np.float64)
    where = country_of(lat, lon).reshape(-1) if len(lat) else np.zeros(0, dtype="<U4")
    bearing = np.arange(0.0, 360.0, 15.0)
    for n in np.flatnonzero(where == NO_COUNTRY):
        own = countries[n]
        if not own:
            continue
        for km in (0.5, 1.0, 2.0, 3.0, 5.0, 7.0, max_km):
            la, lo = destination_point(lat[n], lon[n], bearing, km * 1e3)
            hit = np.flatnonzero(country_of(la, lo) == own)
            if len(hit):
                lat[n], lon[n] = la[hit[0]], lo[hit[0]]
                break
    return lat, lon
