"""Country lookup: known points, borders, the antimeridian, and agreement with exact polygons."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

shapely = pytest.importorskip("shapely")
pytest.importorskip("h3")

from leosim import PlaceError  # noqa: E402
from leosim.ground.countries import (  # noqa: E402
    country_cells,
    country_code,
    country_geometry,
    country_name,
    country_of,
    known_countries,
)


def _exact(lat, lon) -> np.ndarray:
    """The oracle: shapely point-in-polygon against every country, lowest code first."""
    codes = sorted(known_countries())
    lon = (np.asarray(lon, float) + 180.0) % 360.0 - 180.0
    out = np.full(np.shape(lat), "none", dtype="<U4")
    for code in reversed(codes):  # the lowest code is written last, so it wins on a border
        inside = shapely.intersects_xy(country_geometry(code), lon, lat)
        out[inside] = code
    return out


@pytest.mark.parametrize(
    ("lat", "lon", "code"),
    [
        (35.6892, 51.3890, "IR"),  # Tehran
        (50.4501, 30.5234, "UA"),  # Kyiv
        (0.0, 0.0, "none"),  # Null Island, Gulf of Guinea
        (-30.0, -140.0, "none"),  # South Pacific
        (47.37, 8.54, "CH"),  # Zurich
        (47.56, 7.59, "CH"),  # Basel, ~1 km from France and Germany
        (47.59, 7.58, "FR"),  # Saint-Louis, across the Swiss border
        (32.52, -117.03, "MX"),  # Tijuana, ~2 km south of the US border
        (32.56, -117.03, "US"),  # San Ysidro, north of it
        (67.5, 179.5, "RU"),  # Chukotka, east of 180 deg ...
        (67.5, -179.5, "RU"),  # ... and west of it
        (-16.7, 179.0, "FJ"),  # Vanua Levu, east side of the split
        (-16.82, -179.93, "FJ"),  # Vanua Levu west of the antimeridian
        (42.66, 21.16, "XK"),  # Pristina: Kosovo has no ISO code, leosim uses XK
        (9.56, 44.06, "XS"),  # Hargeisa, Somaliland
        (-10.49, 105.62, "CX"),  # Christmas Island, split from "Indian Ocean Ter."
    ],
)
def test_known_points(lat, lon, code):
    assert country_of(lat, lon) == code
    assert isinstance(country_of(lat, lon), str)  # a numpy.str_ for scalars


def test_fiji_west_point_is_really_fiji():
    # the point above is chosen inside a polygon part that touches -180: check it is one
    assert shapely.intersects_xy(country_geometry("FJ"), -179.93, -16.82)


def test_shapes_and_codes():
    assert country_of([[35.7, 0.0]], [[51.4, 0.0]]).shape == (1, 2)
    assert country_of([35.7, 0.0], [51.4, 0.0]).dtype == np.dtype("<U4")
    assert country_of([], []).shape == (0,)
    assert country_of(np.nan, 0.0) == ""
    assert country_of(35.6892, 51.389 + 360.0) == "IR"  # longitudes wrap
    known = known_countries()
    assert len(known) == 241 and all(len(c) == 2 and c.isupper() for c in known)
    assert country_name("ir") == "Iran" and country_code("Ukraine") == "UA"


def test_unknown_country_lists_close_matches():
    with pytest.raises(PlaceError) as exc:
        country_cells("UK")
    assert str(exc.value) == (
        "unknown country 'UK'; expected an ISO 3166-1 alpha-2 code such as 'IR' or a country name; "
        "did you mean: GB (United Kingdom)?"
    )
    with pytest.raises(PlaceError, match=r"did you mean: UA \(Ukraine\)"):
        country_geometry("Ukrane")


def test_latitude_out_of_range_is_an_error():
    from leosim import ParameterError

    with pytest.raises(ParameterError, match="latitude 91.0 deg is outside -90..90"):
        country_of(91.0, 0.0)


def test_antimeridian_split_geometry():
    for code in ("RU", "FJ"):
        g = country_geometry(code)
        assert g.is_valid
        assert g.bounds[0] == -180.0 and g.bounds[2] == 180.0
        # no part spans more than half the globe: the split worked
        assert max(p.bounds[2] - p.bounds[0] for p in g.geoms) < 180.0


def test_country_cells_centres_are_inside():
    import h3

    cells = country_cells("CH", 5)
    ll = np.array([h3.cell_to_latlng(c) for c in cells])
    assert (country_of(ll[:, 0], ll[:, 1]) == "CH").all()
    # Switzerland is 41,285 km2; resolution-5 cells average 252.9 km2, so ~163 centres
    # fall inside (+-10 % for the ragged border)
    assert 147 <= len(cells) <= 180
    # every neighbour outside the set has its centre outside Switzerland
    ring = {n for c in cells for n in h3.grid_disk(c, 1)} - set(cells.tolist())
    rl = np.array([h3.cell_to_latlng(c) for c in ring])
    assert not (country_of(rl[:, 0], rl[:, 1]) == "CH").any()
    assert len(country_cells("MC")) == 0  # Monaco is smaller than a cell


def test_random_points_match_exact_polygons():
    rng = np.random.default_rng(7)
    n = 20_000
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    lon = rng.uniform(-180, 180, n)
    assert (country_of(lat, lon) == _exact(lat, lon)).all()


def test_points_near_borders_match_exact_polygons():
    # jittered vertices of the boundaries: nearly all of them land in border cells
    rng = np.random.default_rng(11)
    xy = np.concatenate(
        [shapely.get_coordinates(country_geometry(c).boundary) for c in ("IR", "UA", "CH", "RU", "FJ", "AQ")]
    )
    k = rng.choice(len(xy), 20_000)
    lon = xy[k, 0] + rng.normal(0, 0.02, len(k))
    lat = np.clip(xy[k, 1] + rng.normal(0, 0.02, len(k)), -90, 90)
    assert (country_of(lat, lon) == _exact(lat, lon)).all()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.floats(-90, 90, allow_nan=False),
    st.floats(-180, 180, allow_nan=False),
)
def test_any_point_matches_exact_polygons(lat, lon):
    assert country_of(lat, lon) == _exact(np.array([lat]), np.array([lon]))[0]
