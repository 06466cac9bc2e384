"""Geodesy and link geometry: WGS84, look angles, great circles, closed-form limits.

SI inside: metres and radians; degrees only in names that say ``_deg``. Positions are
Earth-fixed (ITRF) Cartesian metres with xyz on the last axis.
"""

from __future__ import annotations

import numpy as np

# WGS84 ellipsoid (NGA TR8350.2).
WGS84_A_M = 6378137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)
# Mean Earth radius (IUGG), used by the spherical closed forms such as the 80 km grazing
# rule for laser links (max ISL 5,014 km at 550 km, Bhattacherjee & Singla 2019).
EARTH_RADIUS_M = 6371e3
SPEED_OF_LIGHT_M_S = 299_792_458.0
# Light in silica fibre travels at about c / 1.47 (group index of standard SMF-28 ~1.4682).
FIBRE_INDEX = 1.47
# Speed of light in fibre (m/s).
C_FIBRE_M_S = SPEED_OF_LIGHT_M_S / FIBRE_INDEX
# Default ISL grazing floor: a laser beam must clear the atmosphere's dense layers.
ISL_MIN_ALTITUDE_M = 80e3


def geodetic_to_ecef(
    latitude_deg: np.ndarray | float,
    longitude_deg: np.ndarray | float,
    altitude_m: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Earth-fixed Cartesian position (m) of WGS84 geodetic coordinates, xyz last.

    >>> geodetic_to_ecef(0.0, 0.0).round(3).tolist()
    [6378137.0, 0.0, 0.0]
    """
    lat = np.radians(np.asarray(latitude_deg, dtype=np.float64))
    lon = np.radians(np.asarray(longitude_deg, dtype=np.float64))
    h = np.asarray(altitude_m, dtype=np.float64)
    sin_lat = np.sin(lat)
    n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
    r_xy = (n + h) * np.cos(lat)
    return np.stack(
        np.broadcast_arrays(r_xy * np.cos(lon), r_xy * np.sin(lon), (n * (1 - WGS84_E2) + h) * sin_lat),
        axis=-1,
    )


def ecef_to_geodetic(xyz_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """WGS84 latitude (deg), longitude (deg) and altitude (m) of Earth-fixed points.

    Fixed-point iteration on latitude; four rounds converge to well under a millimetre
    for anything from the ground to geostationary altitude.
    """
    xyz = np.asarray(xyz_m, dtype=np.float64)
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    p = np.hypot(x, y)
    lon = np.arctan2(y, x)
    lat = np.arctan2(z, p * (1.0 - WGS84_E2))
    for _ in range(4):
        sin_lat = np.sin(lat)
        n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
        lat = np.arctan2(z + WGS84_E2 * n * sin_lat, p)
    sin_lat = np.sin(lat)
    cos_lat = np.cos(lat)
    n = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * sin_lat * sin_lat)
    # Altitude by projection on the normal: accurate at the poles as well as the equator.
    alt = p * cos_lat + z * sin_lat - n * (1.0 - WGS84_E2 * sin_lat * sin_lat)
    return np.degrees(lat), np.degrees(lon), alt


def up_vectors(latitude_deg: np.ndarray | float, longitude_deg: np.ndarray | float) -> np.ndarray:
    """Unit local-vertical (ellipsoid normal) vectors, xyz last."""
    lat = np.radians(np.asarray(latitude_deg, dtype=np.float64))
    lon = np.radians(np.asarray(longitude_deg, dtype=np.float64))
    return np.stack(
        np.broadcast_arrays(np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)),
        axis=-1,
    )


def sin_elevation_and_range(
    site_xyz_m: np.ndarray, site_up: np.ndarray, sat_xyz_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sine of the elevation and slant range (m) of every (site, satellite) pair at one instant.

    ``site_xyz_m`` and ``site_up`` are ``(n_sites, 3)``; ``sat_xyz_m`` is ``(n_sats, 3)``.
    Returns two ``(n_sites, n_sats)`` arrays. Written as two small matrix products, not a
    ``(n_sites, n_sats, 3)`` difference array, because this runs every step for every
    pair; a satellite with NaN position gets NaN.
    """
    site = np.asarray(site_xyz_m, dtype=np.float64)
    sat = np.asarray(sat_xyz_m, dtype=np.float64)
    up = np.asarray(site_up, dtype=np.float64)
    sat2 = np.einsum("ij,ij->i", sat, sat)
    site2 = np.einsum("ij,ij->i", site, site)
    range2 = sat2[None, :] + site2[:, None] - 2.0 * (site @ sat.T)
    rng = np.sqrt(np.maximum(range2, 0.0))
    up_dot = up @ sat.T - np.einsum("ij,ij->i", up, site)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        sin_el = np.clip(up_dot / rng, -1.0, 1.0)
    return sin_el, rng


def elevation_and_range(
    site_xyz_m: np.ndarray, site_up: np.ndarray, sat_xyz_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Elevation (rad) and slant range (m); see :func:`sin_elevation_and_range`."""
    sin_el, rng = sin_elevation_and_range(site_xyz_m, site_up, sat_xyz_m)
    return np.arcsin(sin_el), rng


def look_angles(
    latitude_deg: float, longitude_deg: float, altitude_m: float, sat_xyz_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Elevation (deg), azimuth (deg, from north through east) and range (m) from one site.

    ``sat_xyz_m`` is ``(..., 3)``; results have its leading shape.
    """
    site = geodetic_to_ecef(latitude_deg, longitude_deg, altitude_m)
    lat = np.radians(latitude_deg)
    lon = np.radians(longitude_deg)
    east = np.array([-np.sin(lon), np.cos(lon), 0.0])
    north = np.array([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)])
    up = up_vectors(latitude_deg, longitude_deg)
    d = np.asarray(sat_xyz_m, dtype=np.float64) - site
    e, n, u = d @ east, d @ north, d @ up
    rng = np.sqrt(e * e + n * n + u * u)
    el = np.degrees(np.arcsin(u / rng))
    az = np.degrees(np.arctan2(e, n)) % 360.0
    az = np.where(az >= 360.0, az - 360.0, az)  # -1e-14 % 360 rounds to 360.0
    return el, az, rng


def great_circle_m(
    lat1_deg: np.ndarray | float,
    lon1_deg: np.ndarray | float,
    lat2_deg: np.ndarray | float,
    lon2_deg: np.ndarray | float,
    radius_m: float = EARTH_RADIUS_M,
) -> np.ndarray:
    """Great-circle distance (m) on a sphere of ``radius_m`` (haversine)."""
    p1, l1, p2, l2 = (np.radians(np.asarray(v, dtype=np.float64)) for v in (lat1_deg, lon1_deg, lat2_deg, lon2_deg))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return 2.0 * radius_m * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def destination_point(
    latitude_deg: np.ndarray | float,
    longitude_deg: np.ndarray | float,
    bearing_deg: np.ndarray | float,
    distance_m: np.ndarray | float,
    radius_m: float = EARTH_RADIUS_M,
) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (deg) reached by going ``distance_m`` from a point along the
    great circle that leaves it at ``bearing_deg`` (from north through east), on a sphere.

    >>> [round(float(v), 6) for v in destination_point(0.0, 0.0, 90.0, np.pi / 2 * EARTH_RADIUS_M)]
    [0.0, 90.0]
    """
    lat1, lon1, b = (np.radians(np.asarray(v, dtype=np.float64)) for v in (latitude_deg, longitude_deg, bearing_deg))
    d = np.asarray(distance_m, dtype=np.float64) / radius_m
    lat2 = np.arcsin(np.sin(lat1) * np.cos(d) + np.cos(lat1) * np.sin(d) * np.cos(b))
    lon2 = lon1 + np.arctan2(np.sin(b) * np.sin(d) * np.cos(lat1), np.cos(d) - np.sin(lat1) * np.sin(lat2))
    return np.degrees(lat2), (np.degrees(lon2) + 180.0) % 360.0 - 180.0

def coverage_radius_m(
    altitude_m: float, min_elevation_deg: float, earth_radius_m: float = WGS84_A_M
) -> float:
    """Ground distance (m) from the sub-satellite point to the edge of visibility.

    Spherical Earth: the Earth central angle is ``acos(R cos(e) / (R + h)) - e``. The
    default radius is the equatorial one, as in SpaceX's FCC filing
    (SAT-MOD-20181108-00083) that publishes 940.7 km at 550 km and 25 deg; the mean radius
    (6,371 km) gives 940.5 km.

    >>> round(coverage_radius_m(550e3, 25.0) / 1e3, 1)
    940.7
    """
    e = np.radians(min_elevation_deg)
    central = np.arccos(earth_radius_m * np.cos(e) / (earth_radius_m + altitude_m)) - e
    return float(earth_radius_m * central)


def max_gsl_length_m(
    altitude_m: float, min_elevation_deg: float, earth_radius_m: float = EARTH_RADIUS_M
) -> float:
    """Slant range (m) to a satellite at ``altitude_m`` seen at ``min_elevation_deg``."""
    r = earth_radius_m
    e = np.radians(min_elevation_deg)
    return float(np.sqrt((r + altitude_m) ** 2 - (r * np.cos(e)) ** 2) - r * np.sin(e))


def max_isl_length_m(
    altitude_m: float,
    min_altitude_m: float = ISL_MIN_ALTITUDE_M,
    earth_radius_m: float = EARTH_RADIUS_M,
) -> float:
    """Longest chord between two satellites at ``altitude_m`` that clears ``min_altitude_m``.

    >>> round(max_isl_length_m(550e3) / 1e3)
    5014
    """
    r = earth_radius_m
    return float(2.0 * np.sqrt((r + altitude_m) ** 2 - (r + min_altitude_m) ** 2))


def chord_min_radius_m(a_xyz_m: np.ndarray, b_xyz_m: np.ndarray) -> np.ndarray:
    """Smallest distance (m) from the Earth's centre to each segment ``a``-``b``, xyz last."""
    a = np.asarray(a_xyz_m, dtype=np.float64)
    d = np.asarray(b_xyz_m, dtype=np.float64) - a
    dd = np.einsum("...i,...i->...", d, d)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip(-np.einsum("...i,...i->...", a, d) / dd, 0.0, 1.0)
    closest = a + t[..., None] * d
    return np.sqrt(np.einsum("...i,...i->...", closest, closest))

