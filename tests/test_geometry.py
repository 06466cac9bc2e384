"""Tests of ``leosim.core.geodesy`` (geodesy, look angles, link limits) and ``leosim.core.time``.

Authorities: closed forms of spherical geometry (law of cosines, the coverage and
horizon formulas), the published figures they reproduce (SpaceX's FCC filing
SAT-MOD-20181108-00083 as Hypatia quotes it; Bhattacherjee & Singla, CoNEXT 2019),
WGS84 (NGA TR8350.2) and skyfield's ``wgs84`` and ``altaz`` as an independent
implementation. Invariants are property tests with hypothesis.
"""

from __future__ import annotations

import gzip
import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leosim.core.geodesy import (
    EARTH_RADIUS_M,
    WGS84_A_M,
    chord_min_radius_m,
    coverage_radius_m,
    ecef_to_geodetic,
    elevation_and_range,
    geodetic_to_ecef,
    great_circle_m,
    look_angles,
    max_gsl_length_m,
    max_isl_length_m,
    sin_elevation_and_range,
    up_vectors,
)
from leosim.core.time import TimeGrid, parse_duration
from leosim.core.visibility import visible_candidates
from leosim.errors import ParameterError
from leosim.formats.data import data_path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# the CelesTrak snapshot the package vendors (the same file as ../shared/data/tle/, gzipped)
SUPGP_TLE = data_path("starlink_supgp_20260513.tle.gz")

# ------------------------------------------------------------------------------------
# Closed-form link limits


def coverage_central_angle(r_earth: float, altitude_m: float, min_elevation_deg: float) -> float:
    """Earth-central angle (rad) from the sub-satellite point to the edge of visibility.

    Law of sines in the triangle (Earth's centre, site, satellite): the angle at the
    site is 90 deg + e, so sin(angle at satellite) = R cos(e) / (R + h).
    """
    e = math.radians(min_elevation_deg)
    return math.pi / 2 - e - math.asin(r_earth * math.cos(e) / (r_earth + altitude_m))


def test_coverage_radius_reproduces_the_fcc_figure():
    # SpaceX's FCC filing (SAT-MOD-20181108-00083) gives 940.7 km for 550 km at 25 deg,
    # which Hypatia uses as SATELLITE_CONE_RADIUS_M = 940700. The spherical formula gives
    # it with the equatorial radius (940.74 km), not the 6,371 km mean sphere (940.55 km).
    # +-0.1 km: the published figure is rounded to 0.1 km.
    assert abs(coverage_radius_m(550e3, 25.0, earth_radius_m=WGS84_A_M) - 940.7e3) <= 0.1e3


def test_coverage_radius_default_radius_gives_the_documented_940_7_km():
    assert abs(coverage_radius_m(550e3, 25.0) - 940.7e3) <= 0.1e3


@pytest.mark.parametrize(("altitude_m", "elevation_deg"), [(550e3, 25.0), (340e3, 40.0), (1200e3, 10.0), (550e3, 0.0)])
def test_coverage_radius_closed_form(altitude_m, elevation_deg):
    expected = EARTH_RADIUS_M * coverage_central_angle(EARTH_RADIUS_M, altitude_m, elevation_deg)
    # Same formula written another way (law of sines vs acos): float rounding only, 1 mm.
    assert abs(coverage_radius_m(altitude_m, elevation_deg, earth_radius_m=EARTH_RADIUS_M) - expected) < 1e-3


def test_max_isl_length():
    # Bhattacherjee & Singla (CoNEXT 2019) and Hypatia: 5,014 km at 550 km for a ray that
    # clears 80 km, on a 6,371 km sphere. +-1 km: the figure is quoted to the kilometre.
    assert abs(max_isl_length_m(550e3) - 5014e3) <= 1e3
    # The tangent construction: two half-chords from the 80 km sphere, Pythagoras.
    half = math.sqrt((EARTH_RADIUS_M + 550e3) ** 2 - (EARTH_RADIUS_M + 80e3) ** 2)
    assert abs(max_isl_length_m(550e3) - 2 * half) < 1e-3
    assert max_isl_length_m(80e3) == 0.0  # no room to clear its own altitude


@pytest.mark.parametrize(
    ("altitude_m", "elevation_deg"), [(550e3, 25.0), (340e3, 40.0), (1200e3, 10.0), (550e3, 0.0), (550e3, 90.0)]
)
def test_max_gsl_length_law_of_cosines(altitude_m, elevation_deg):
    r, h = EARTH_RADIUS_M, altitude_m
    lam = coverage_central_angle(r, h, elevation_deg)
    expected = math.sqrt(r * r + (r + h) ** 2 - 2 * r * (r + h) * math.cos(lam))
    # float rounding of two formulas for the same side: 1 mm on ~1,000 km
    assert abs(max_gsl_length_m(altitude_m, elevation_deg) - expected) < 1e-3


def test_max_gsl_length_limits():
    assert abs(max_gsl_length_m(550e3, 90.0) - 550e3) < 1e-6  # straight up: the altitude
    horizon = math.sqrt((EARTH_RADIUS_M + 550e3) ** 2 - EARTH_RADIUS_M**2)
    assert abs(max_gsl_length_m(550e3, 0.0) - horizon) < 1e-3  # tangent to the sphere
    assert abs(max_gsl_length_m(550e3, 25.0) - 1123.277e3) < 1.0  # the value at Starlink's mask


# ------------------------------------------------------------------------------------
# Look angles: a constructed geometry


SAT_ALT_M = 550e3
LAMBDAS_DEG = np.array([0.0, 1.0, 5.0, 10.0, 15.0, 20.0, 22.0])


def equator_case(direction: str, site_lon_deg: float = 30.0):
    """A site on the equator and satellites at central angles lambda due north or east.

    At the equator the geodetic normal is radial and the site sits at the WGS84
    equatorial radius a, so the plane triangle (centre, site, satellite) gives
    elevation = atan2(r cos(lambda) - a, r sin(lambda)) and range by the law of cosines.
    """
    lam = np.radians(LAMBDAS_DEG)
    lon = np.radians(site_lon_deg)
    r = WGS84_A_M + SAT_ALT_M
    if direction == "north":
        sat = np.stack([r * np.cos(lam) * np.cos(lon), r * np.cos(lam) * np.sin(lon), r * np.sin(lam)], axis=1)
    else:
        sat = np.stack([r * np.cos(lon + lam), r * np.sin(lon + lam), np.zeros_like(lam)], axis=1)
    el_deg = np.degrees(np.arctan2(r * np.cos(lam) - WGS84_A_M, r * np.sin(lam)))
    rng_m = np.sqrt(WGS84_A_M**2 + r**2 - 2 * WGS84_A_M * r * np.cos(lam))
    return sat, el_deg, rng_m


# arcsin near the zenith turns a 1e-16 rounding of sin(el) into 1.5e-8 rad: 1e-6 deg
# (3.6 mas) covers that; away from it the agreement is ~1e-12 deg. Ranges: 1e-6 m, far
# above the cancellation in |sat|^2 + |site|^2 - 2 site.sat (~1e-8 m at these ranges).
EL_TOL_DEG = 1e-6
RANGE_TOL_M = 1e-6


@pytest.mark.parametrize(("direction", "azimuth_deg"), [("north", 0.0), ("east", 90.0)])
def test_look_angles_closed_form(direction, azimuth_deg):
    sat, el_deg, rng_m = equator_case(direction)
    el, az, rng = look_angles(0.0, 30.0, 0.0, sat)
    assert el.shape == az.shape == rng.shape == (len(LAMBDAS_DEG),)
    np.testing.assert_allclose(el, el_deg, rtol=0, atol=EL_TOL_DEG)
    np.testing.assert_allclose(rng, rng_m, rtol=0, atol=RANGE_TOL_M)
    # azimuth is undefined at the zenith (lambda = 0); compare on the circle
    np.testing.assert_allclose((az[1:] - azimuth_deg + 180.0) % 360.0 - 180.0, 0.0, rtol=0, atol=1e-9)
    # one satellite, shape (3,): scalars out
    el1, az1, rng1 = look_angles(0.0, 30.0, 0.0, sat[3])
    assert np.ndim(el1) == np.ndim(az1) == np.ndim(rng1) == 0
    assert abs(el1 - el_deg[3]) < EL_TOL_DEG


def test_look_angles_azimuth_in_half_open_range():
    sat, _, _ = equator_case("north")
    _, az, _ = look_angles(0.0, 30.0, 0.0, sat[1:])
    assert np.all((az >= 0.0) & (az < 360.0)), az


def test_elevation_and_range_closed_form():
    sat_n, el_n, rng_n = equator_case("north")
    sat_e, el_e, rng_e = equator_case("east")
    sats = np.concatenate([sat_n, sat_e])
    site = geodetic_to_ecef(np.array([0.0, 0.0]), np.array([30.0, 30.0]))  # the same site twice
    up = up_vectors(np.array([0.0, 0.0]), np.array([30.0, 30.0]))
    el, rng = elevation_and_range(site, up, sats)
    sin_el, rng2 = sin_elevation_and_range(site, up, sats)
    assert el.shape == rng.shape == sin_el.shape == (2, 2 * len(LAMBDAS_DEG))
    expected_el = np.concatenate([el_n, el_e])
    np.testing.assert_allclose(np.degrees(el), np.broadcast_to(expected_el, el.shape), rtol=0, atol=EL_TOL_DEG)
    np.testing.assert_allclose(
        rng, np.broadcast_to(np.concatenate([rng_n, rng_e]), rng.shape), rtol=0, atol=RANGE_TOL_M
    )
    np.testing.assert_array_equal(rng, rng2)
    np.testing.assert_allclose(sin_el, np.sin(np.radians(np.broadcast_to(expected_el, el.shape))), rtol=0, atol=1e-12)


def test_elevation_nan_satellite_gives_nan():
    site = geodetic_to_ecef(0.0, 30.0)[None]
    up = up_vectors(0.0, 30.0)[None]
    sats = np.array([[np.nan, np.nan, np.nan], equator_case("north")[0][2]])
    el, rng = elevation_and_range(site, up, sats)
    assert np.isnan(el[0, 0]) and np.isnan(rng[0, 0])
    assert np.isfinite(el[0, 1]) and np.isfinite(rng[0, 1])


# ------------------------------------------------------------------------------------
# Look angles: skyfield on real satellites

needs_supgp = pytest.mark.skipif(
    not SUPGP_TLE.is_file(),
    reason=f"the vendored CelesTrak supplemental Starlink TLEs {SUPGP_TLE} are missing",
)


@needs_supgp
@pytest.mark.parametrize(
    ("lat", "lon", "alt_m"), [(51.5074, -0.1278, 11.0), (-33.87, 151.21, 58.0), (64.84, -147.72, 136.0)]
)
def test_look_angles_against_skyfield(lat, lon, alt_m):
    """London, Sydney, Fairbanks: every snapshot satellite above 10 deg one hour after the epoch."""
    from skyfield.api import EarthSatellite, load, wgs84

    from leosim.space.constellation import Constellation

    c = Constellation.preset("starlink-2026-05")
    when = (c.epoch.astype("datetime64[s]") + np.timedelta64(3600, "s")).astype("datetime64[ns]")
    pos = c.positions(when)[0]
    el, az, rng = look_angles(lat, lon, alt_m, pos)
    visible = np.flatnonzero(el > 10.0)
    assert len(visible) >= 10  # a Starlink sky: dozens of satellites at any time

    lines = [line.rstrip() for line in gzip.decompress(SUPGP_TLE.read_bytes()).decode().splitlines() if line.strip()]
    by_id = {int(l1[2:7]): (l1, l2) for l1, l2 in zip(lines[1::3], lines[2::3], strict=True)}
    ts = load.timescale(builtin=True)
    d = datetime.fromisoformat(str(when.astype("datetime64[s]")))
    t = ts.utc(d.year, d.month, d.day, d.hour, d.minute, d.second)
    topos = wgs84.latlon(lat, lon, elevation_m=alt_m)
    site = geodetic_to_ecef(lat, lon, alt_m)[None]
    up = up_vectors(lat, lon)[None]
    el2, rng2 = elevation_and_range(site, up, pos[visible])
    for k, i in enumerate(visible):
        alt_a, az_a, dist = (EarthSatellite(*by_id[c.norad_ids[i]], ts=ts) - topos).at(t).altaz()
        # Both chains are SGP4 -> GMST1982 rotation -> WGS84 geodetic horizon, no polar
        # motion, refraction or light time (measured 1e-8" and 6e-8 m): 1 mas (5 mm
        # across at 1,000 km) and 1 mm leave room for rounding only.
        assert abs(alt_a.degrees - el[i]) * 3600 < 1e-3
        assert abs((az_a.degrees - az[i] + 180) % 360 - 180) * math.cos(math.radians(el[i])) * 3600 < 1e-3
        assert abs(dist.m - rng[i]) < 1e-3
        assert abs(np.degrees(el2[0, k]) - alt_a.degrees) * 3600 < 1e-3
        assert abs(rng2[0, k] - dist.m) < 1e-3


# ------------------------------------------------------------------------------------
# The visibility cull must be conservative

site_st = st.tuples(st.floats(-89.9, 89.9), st.floats(-180.0, 180.0), st.floats(-400.0, 5000.0))
# Satellites placed by their look angles from the first site: azimuth, elevation above
# the mask (a band straddling it, where a cull that is not conservative shows), altitude.
look_st = st.tuples(st.floats(0.0, 360.0), st.floats(-0.5, 1.0), st.floats(200e3, 2000e3))


def enu(lat_deg: float, lon_deg: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    east = np.array([-math.sin(lon), math.cos(lon), 0.0])
    north = np.array([-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)])
    return east, north, up_vectors(lat_deg, lon_deg)


def along_ray(site_xyz: np.ndarray, direction: np.ndarray, radius_m: float) -> np.ndarray:
    """The point where the ray from the site along ``direction`` reaches ``radius_m``."""
    b = site_xyz @ direction
    return site_xyz + (-b + math.sqrt(b * b - (site_xyz @ site_xyz - radius_m**2))) * direction


def cloud(sites, looks, elevation_deg: float) -> np.ndarray:
    """Satellites (ECEF m) at the given look angles (elevation relative to ``elevation_deg``)."""
    lat, lon, alt = sites[0]
    site = geodetic_to_ecef(lat, lon, alt)
    east, north, up = enu(lat, lon)
    out = []
    for az_deg, d_el, h in looks:
        az, el = math.radians(az_deg), math.radians(min(max(elevation_deg + d_el, 0.0), 90.0))
        direction = math.cos(el) * (math.cos(az) * north + math.sin(az) * east) + math.sin(el) * up
        out.append(along_ray(site, direction, np.linalg.norm(site) + h))
    return np.array(out)


def site_arrays(sites):
    lat, lon, alt = (np.array(v) for v in zip(*sites, strict=True))
    return geodetic_to_ecef(lat, lon, alt), up_vectors(lat, lon)


def candidate_matrix(sites, sat_xyz, **kw) -> np.ndarray:
    rows, cols = visible_candidates(site_arrays(sites)[0], sat_xyz, **kw)
    m = np.zeros((len(sites), len(sat_xyz)), dtype=bool)
    m[rows, cols] = True
    return m


@settings(max_examples=300, deadline=None)
@given(
    sites=st.lists(site_st, min_size=1, max_size=3),
    looks=st.lists(look_st, min_size=1, max_size=20),
    min_elevation_deg=st.floats(0.0, 80.0),
)
def test_visible_candidates_never_drops_a_visible_pair_elevation(sites, looks, min_elevation_deg):
    sats = cloud(sites, looks, min_elevation_deg)
    sin_el, _ = sin_elevation_and_range(*site_arrays(sites), sats)
    truth = sin_el >= math.sin(math.radians(min_elevation_deg))
    cand = candidate_matrix(sites, sats, min_elevation_deg=min_elevation_deg)
    assert not (truth & ~cand).any()


@settings(max_examples=200, deadline=None)
@given(
    sites=st.lists(site_st, min_size=1, max_size=3),
    looks=st.lists(look_st, min_size=1, max_size=20),
    elevation_deg=st.floats(0.0, 90.0),
    max_range_m=st.floats(300e3, 4000e3),
)
def test_visible_candidates_never_drops_a_pair_in_range(sites, looks, elevation_deg, max_range_m):
    sats = cloud(sites, looks, elevation_deg)
    _, rng = sin_elevation_and_range(*site_arrays(sites), sats)
    truth = rng <= max_range_m
    cand = candidate_matrix(sites, sats, max_range_m=max_range_m)
    assert not (truth & ~cand).any()


@pytest.mark.parametrize(("elevation_deg", "altitude_m", "needed_deg"), [(25.0, 550e3, 0.057), (0.0, 200e3, 0.194)])
def test_visible_candidates_margin_covers_the_geodetic_vertical(elevation_deg, altitude_m, needed_deg):
    """At 45 deg latitude the geodetic vertical leans 0.19 deg from the radius, so a
    satellite due north exactly on the mask lies beyond the spherical coverage angle; the
    default 0.5 deg margin must keep it (worst case over latitude, azimuth, mask and
    altitude, searched on a grid: 0.194 deg at 45 deg, north, 0 deg, 200 km)."""
    site = geodetic_to_ecef(45.0, 10.0, 0.0)
    east, north, up = enu(45.0, 10.0)
    e = math.radians(elevation_deg)
    sat = along_ray(site, math.cos(e) * north + math.sin(e) * up, np.linalg.norm(site) + altitude_m)
    sin_el, _ = sin_elevation_and_range(site[None], up[None], sat[None])
    assert abs(math.degrees(math.asin(sin_el[0, 0])) - elevation_deg) < 1e-9  # on the mask
    # How far beyond the cull's spherical coverage angle it is:
    rs, rt = np.linalg.norm(site), np.linalg.norm(sat)
    central = math.degrees(math.acos(site @ sat / (rs * rt)))
    beyond = central - (math.degrees(math.acos(rs * math.cos(e) / rt)) - elevation_deg)
    assert abs(beyond - needed_deg) < 0.001
    assert len(visible_candidates(site[None], sat[None], min_elevation_deg=elevation_deg)[0]) == 1
    dropped = visible_candidates(site[None], sat[None], min_elevation_deg=elevation_deg, margin_deg=beyond / 2)
    assert len(dropped[0]) == 0  # a margin below what the geodetic vertical needs loses it


def test_visible_candidates_skips_nan_satellites():
    site = geodetic_to_ecef(0.0, 0.0)[None]
    sats = np.array([[np.nan] * 3, [WGS84_A_M + 550e3, 0.0, 0.0]])
    rows, cols = visible_candidates(site, sats, min_elevation_deg=25.0)
    assert rows.tolist() == [0] and cols.tolist() == [1]
    rows, cols = visible_candidates(site, sats[:1], min_elevation_deg=25.0)
    assert len(rows) == len(cols) == 0


# ------------------------------------------------------------------------------------
# Geodetic <-> Earth-fixed


@settings(max_examples=300, deadline=None)
@given(lat=st.floats(-90.0, 90.0), lon=st.floats(-180.0, 180.0), alt=st.floats(-1e4, 4.3e7))
def test_geodetic_round_trip(lat, lon, alt):
    """Ground to geostationary altitude: back and forth to well under a millimetre."""
    xyz = geodetic_to_ecef(lat, lon, alt)
    lat2, lon2, alt2 = ecef_to_geodetic(xyz)
    assert np.linalg.norm(geodetic_to_ecef(lat2, lon2, alt2) - xyz) < 1e-3
    assert abs(alt2 - alt) < 1e-3
    assert abs(lat2 - lat) * math.pi / 180 * (WGS84_A_M + alt) < 1e-3  # metres along the meridian
    if abs(lat) < 89.9:  # longitude is undefined at the poles
        assert (
            abs((lon2 - lon + 180) % 360 - 180) * math.pi / 180 * math.cos(math.radians(lat)) * (WGS84_A_M + alt) < 1e-3
        )


@settings(max_examples=200, deadline=None)
@given(lat=st.floats(-90.0, 90.0), lon=st.floats(-180.0, 180.0), alt=st.floats(-1e4, 4.3e7))
def test_geodetic_to_ecef_against_skyfield(lat, lon, alt):
    from skyfield.api import wgs84

    # The same WGS84 closed form in both: float rounding only (measured 3e-8 m at GEO).
    expected = wgs84.latlon(lat, lon, elevation_m=alt).itrs_xyz.m
    assert np.linalg.norm(geodetic_to_ecef(lat, lon, alt) - expected) < 1e-3


def test_geodetic_shapes_and_known_points():
    assert geodetic_to_ecef(0.0, 0.0).tolist() == [WGS84_A_M, 0.0, 0.0]
    b = WGS84_A_M * (1 - 1 / 298.257223563)  # polar semi-minor axis, 6,356,752.314 m
    np.testing.assert_allclose(geodetic_to_ecef(90.0, 0.0), [0.0, 0.0, b], atol=1e-6)
    xyz = geodetic_to_ecef(np.array([10.0, 20.0]), np.array([30.0, 40.0]), np.array([0.0, 1e3]))
    assert xyz.shape == (2, 3)
    lat, lon, alt = ecef_to_geodetic(xyz)
    assert lat.shape == lon.shape == alt.shape == (2,)
    lat0, lon0, alt0 = ecef_to_geodetic(np.array([0.0, 0.0, -b - 100.0]))  # below the south pole
    assert np.ndim(lat0) == 0 and abs(lat0 + 90.0) < 1e-9 and abs(alt0 - 100.0) < 1e-6


# ------------------------------------------------------------------------------------
# Great circles and chords


def test_great_circle_known_distances():
    quarter = math.pi / 2 * EARTH_RADIUS_M
    assert abs(great_circle_m(0.0, 0.0, 0.0, 90.0) - quarter) < 1e-6  # along the equator
    assert abs(great_circle_m(0.0, 17.0, 90.0, 0.0) - quarter) < 1e-6  # equator to pole
    # Antipodes: the haversine's arcsin(sqrt(h)) at h = 1 turns a 1e-16 rounding of h into
    # 1e-8 rad, so 0.2 m out of 20,000 km (measured 0.19 m); 1 m is 3 ns of light time.
    assert abs(great_circle_m(10.0, 20.0, -10.0, -160.0) - math.pi * EARTH_RADIUS_M) < 1.0
    assert great_circle_m(12.0, 34.0, 12.0, 34.0) == 0.0
    assert abs(great_circle_m(0.0, 179.5, 0.0, -179.5) - math.radians(1.0) * EARTH_RADIUS_M) < 1e-6  # antimeridian
    d = great_circle_m(np.array([0.0, 0.0]), np.array([0.0, 0.0]), np.array([0.0, 90.0]), np.array([90.0, 0.0]))
    assert d.shape == (2,)


@settings(max_examples=200, deadline=None)
@given(
    a=st.tuples(st.floats(-90.0, 90.0), st.floats(-180.0, 180.0)),
    b=st.tuples(st.floats(-90.0, 90.0), st.floats(-180.0, 180.0)),
)
def test_great_circle_symmetric_and_bounded(a, b):
    ab = great_circle_m(a[0], a[1], b[0], b[1])
    assert ab == great_circle_m(b[0], b[1], a[0], a[1])
    assert 0.0 <= ab <= math.pi * EARTH_RADIUS_M + 1e-6


def test_chord_min_radius():
    r = WGS84_A_M + 550e3
    # straight through the centre
    assert chord_min_radius_m(np.array([r, 0, 0]), np.array([-r, 0, 0])) == 0.0
    # two satellites 40 deg apart on one orbit: the chord's midpoint is at r cos(20 deg)
    theta = math.radians(40.0)
    a, b = np.array([r, 0.0, 0.0]), np.array([r * math.cos(theta), r * math.sin(theta), 0.0])
    assert abs(chord_min_radius_m(a, b) - r * math.cos(theta / 2)) < 1e-6
    # nearest point at an end: a radial segment
    assert abs(chord_min_radius_m(np.array([7e6, 0, 0]), np.array([8e6, 0, 0])) - 7e6) < 1e-9
    # arrays of segments, xyz last
    out = chord_min_radius_m(np.stack([a, a]), np.stack([b, -a]))
    np.testing.assert_allclose(out, [r * math.cos(theta / 2), 0.0], atol=1e-6)
    # A 5,014 km chord at 550 km just grazes 80 km (the max ISL construction above)
    half = max_isl_length_m(550e3) / 2
    r0 = EARTH_RADIUS_M + 550e3
    p = np.array([math.sqrt(r0**2 - half**2), -half, 0.0])
    q = np.array([math.sqrt(r0**2 - half**2), half, 0.0])
    assert abs(chord_min_radius_m(p, q) - (EARTH_RADIUS_M + 80e3)) < 1e-3


# ------------------------------------------------------------------------------------
# leosim.core.time

HELP = "expected a positive number with a unit, e.g. 100ms, 15s, 10min, 2h, 1d"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("100ms", 0.1),
        ("15s", 15.0),
        ("10min", 600.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("2.5", 2.5),
        (" 10 min ", 600.0),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5s", f"duration '-5s' is negative; {HELP}"),
        ("0s", f"duration 0s is not positive; {HELP}"),
        (0, f"duration 0 is not positive; {HELP}"),
        ("abc", f"cannot read duration 'abc'; {HELP}"),
        ("10 parsecs", f"cannot read duration '10 parsecs'; {HELP}"),
    ],
)
def test_parse_duration_errors(value, message):
    with pytest.raises(ParameterError) as info:
        parse_duration(value)
    assert str(info.value) == message


def test_time_grid():
    g = TimeGrid.from_duration("2026-05-13T00:00:00Z", "10min", "100ms")
    assert len(g) == g.n_steps == 6000
    assert g.times[0] == np.datetime64("2026-05-13T00:00:00", "ns")
    assert g.times[-1] == np.datetime64("2026-05-13T00:09:59.900", "ns")  # [start, start + duration)
    assert np.all(np.diff(g.times) == np.timedelta64(100_000_000, "ns"))
    assert g.chunks(2500) == [(0, 2500), (2500, 5000), (5000, 6000)]
    with pytest.raises(ParameterError) as info:
        TimeGrid.from_duration("2026-05-13T00:00:00Z", "10s", "1min")
    assert str(info.value) == "step 60 s is longer than the duration 10 s; expected a step no longer than the duration"
