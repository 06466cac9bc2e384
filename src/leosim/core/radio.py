"""Radio maths shared by the link budgets, the exposure model and GPS jamming.

Free-space loss, thermal noise, the radio horizon over a refracting Earth and ITU-R
P.2108 clutter loss: one definition each, used by :mod:`leosim.models.linkbudget`,
:mod:`leosim.models.exposure` and :mod:`leosim.models.jamming`. dB quantities are named
``_db`` (``_dbw`` for power); SI inside.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from leosim.core.geodesy import EARTH_RADIUS_M, SPEED_OF_LIGHT_M_S

#: 10 log10(k), Boltzmann's constant 1.380649e-23 J/K (SI 2019, exact): -228.60 dBW/(K Hz).
BOLTZMANN_DBW_PER_K_HZ = float(10.0 * math.log10(1.380649e-23))
#: Reference temperature of noise figures (IEEE), K.
T0_K = 290.0
#: Effective Earth radius factor for standard refraction (ITU-R P.453/P.834: k = 4/3).
K_FACTOR = 4.0 / 3.0
#: Median location for clutter loss (ITU-R P.2108 p = 50 %).
CLUTTER_PERCENT = 50.0


def _f64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def free_space_loss_db(distance_m, frequency_hz) -> np.ndarray:
    """Free-space path loss 20 log10(4 pi d f / c), dB.

    >>> round(float(free_space_loss_db(550e3, 11.7e9)), 2)   # zenith, Starlink shell 1, Ku
    168.62
    >>> free_space_loss_db([1e3, 2e3], 1e9).round(2).tolist()  # doubling the range: +6.02 dB
    [92.45, 98.47]
    """
    return 20.0 * np.log10(4.0 * np.pi * _f64(distance_m) * _f64(frequency_hz) / SPEED_OF_LIGHT_M_S)


def noise_power_dbw(bandwidth_hz, noise_figure_db, temperature_k: float = T0_K) -> np.ndarray:
    """Receiver noise power k T0 B F referred to the input, dBW.

    >>> round(float(noise_power_dbw(62.5e6, 5.0)), 2)
    -121.02
    """
    return (
        BOLTZMANN_DBW_PER_K_HZ
        + 10 * np.log10(temperature_k)
        + 10 * np.log10(_f64(bandwidth_hz))
        + _f64(noise_figure_db)
    )


def radio_horizon_m(height1_m, height2_m=0.0, k_factor: float = K_FACTOR, earth_radius_m: float = EARTH_RADIUS_M):
    """Longest line-of-sight ground distance between antennas at two heights, m.

    ``sqrt(2 k R h1) + sqrt(2 k R h2)`` over a smooth Earth of effective radius ``k R``
    (4/3 for standard refraction): about 4.12 km x (sqrt(h1) + sqrt(h2)) with h in metres.

    >>> round(float(radio_horizon_m(10.0)) / 1e3, 2)
    13.03
    """
    h1 = np.maximum(_f64(height1_m), 0.0)
    h2 = np.maximum(_f64(height2_m), 0.0)
    r = k_factor * earth_radius_m
    return np.sqrt(2 * r * h1) + np.sqrt(2 * r * h2)


def _q_inv(p):
    return stats.norm.isf(_f64(p))


def clutter_loss_terrestrial_db(frequency_hz, distance_m, percent=CLUTTER_PERCENT) -> np.ndarray:
    """ITU-R P.2108-1 section 3.2: clutter loss at one end of a terrestrial path, dB.

    ``L = -5 log10(10^(-0.2 Ll) + 10^(-0.2 Ls)) - 6 Q^-1(p/100)`` with
    ``Ll = 23.5 + 9.6 log10 f`` and ``Ls = 32.98 + 23.9 log10 d + 3 log10 f`` (f in GHz,
    d in km). The Recommendation covers 2-67 GHz and d >= 0.25 km; shorter paths use the
    value at 0.25 km, and the loss is never below 0.

    >>> round(float(clutter_loss_terrestrial_db(14.25e9, 2e3)), 1)
    34.5
    """
    f = _f64(frequency_hz) / 1e9
    d = np.maximum(_f64(distance_m) / 1e3, 0.25)
    ll = 23.5 + 9.6 * np.log10(f)
    ls = 32.98 + 23.9 * np.log10(d) + 3.0 * np.log10(f)
    loss = -5.0 * np.log10(10 ** (-0.2 * ll) + 10 ** (-0.2 * ls)) - 6.0 * _q_inv(_f64(percent) / 100.0)
    return np.maximum(loss, 0.0)


def clutter_loss_earth_space_db(frequency_hz, elevation_deg, percent=CLUTTER_PERCENT) -> np.ndarray:
    """ITU-R P.2108-1 section 3.3: clutter loss for a ground end and an elevated end, dB.

    ``L = {-K1 ln(1 - p/100) cot[A1 (1 - theta/90) + pi theta / 180]}^(0.5 (90 - theta)/90)
    - 1 - 0.6 Q^-1(p/100)``, ``K1 = 93 f^0.175``, ``A1 = 0.05``; f in GHz (10-100),
    theta the elevation of the far end seen from the ground end (clipped to 0-90 deg).

    >>> round(float(clutter_loss_earth_space_db(14.25e9, 90.0)), 3), round(float(clutter_loss_earth_space_db(14.25e9, 10.0)), 1)
    (0.0, 14.3)
    """
    f = _f64(frequency_hz) / 1e9
    th = np.clip(_f64(elevation_deg), 0.0, 90.0)
    p = _f64(percent) / 100.0
    k1 = 93.0 * f**0.175
    a1 = 0.05
    base = -k1 * np.log(1.0 - p) / np.tan(a1 * (1 - th / 90.0) + np.pi * th / 180.0)
    loss = base ** (0.5 * (90.0 - th) / 90.0) - 1.0 - 0.6 * _q_inv(p)
    return np.maximum(loss, 0.0)


__all__ = [
    "BOLTZMANN_DBW_PER_K_HZ", "CLUTTER_PERCENT", "K_FACTOR", "T0_K", "clutter_loss_earth_space_db",
    "clutter_loss_terrestrial_db", "free_space_loss_db", "noise_power_dbw", "radio_horizon_m",
]
