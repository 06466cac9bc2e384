"""Exposure of a transmitting terminal: how soon sensors on the ground or in the air locate it.

Nothing published measures how far away a Starlink terminal's uplink can be detected, so
the model is explicit and every assumption is a parameter (see ``docs/adversary.md`` for
the table of defaults and sources):

1. **Emitter** (:class:`Emitter`): uplink at 14.0-14.5 GHz in 62.5 MHz channels; EIRP
   toward any direction from a phased-array pattern whose main lobe points at the serving
   satellite (:func:`serving_directions`, from the core's attachment), with a near-sidelobe
   envelope, a far-sidelobe floor and a back lobe; an RF duty cycle, given or derived from
   the traffic carried (:func:`duty_cycle_from_traffic`).
2. **Path**: free space, line of sight only within the 4/3-Earth radio horizon, plus
   ITU-R P.2108 clutter loss for the ends that sit in clutter (terrestrial model, section
   3.2, for ground and mast sensors; Earth-space model, section 3.3, for airborne ones).
3. **Sensor** (:class:`Sensor`): antenna gain, noise figure, bandwidth, integration time
   (one *look*), revisit time, false-alarm probability; fixed, on a mast, or flying a path.
4. **Detection**: an energy detector; per look the statistic is chi-square with ``2BT``
   degrees of freedom, non-central with ``2BT*SNR`` under signal (Urkowitz 1967), so the
   probability of detection is closed form (:func:`energy_detector_pd`). A look sees the
   terminal transmit with probability equal to its duty cycle.
5. **Geolocation**: bearing (AoA) and time-of-arrival (TDOA, with the emission time a
   nuisance parameter) measurements from the sensors that detect, their Cramer-Rao bounds
   (single-look bound / number of detected looks, plus a floor that does not average
   down), fused into a Fisher information matrix whose inverse is the error ellipse;
   *located* when its semi-major axis (95 %) is under a radius (default 100 m).
6. **Results**: time-to-locate per terminal by Monte Carlo with a seed
   (:func:`time_to_locate`), a risk map (:func:`risk_map`), what-if comparisons.

SI inside; geometry of the fix is in the local east-north plane of the terminal (the
distances involved, under ~200 km, make the flat-plane error negligible next to the
bounds). Core maths only: no I/O, printing or plotting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from leosim.core.geodesy import (
    SPEED_OF_LIGHT_M_S,
    destination_point,
    geodetic_to_ecef,
    great_circle_m,
    up_vectors,
)
from leosim.core.radio import (
    clutter_loss_earth_space_db,
    clutter_loss_terrestrial_db,
    free_space_loss_db,
    noise_power_dbw,
    radio_horizon_m,
)
from leosim.core.registry import Param, Registry, number, whole
from leosim.core.values import cut_repr as _cut
from leosim.core.values import finite_number as _finite
from leosim.errors import ParameterError, SensorError

__all__ = [
    "Emitter",
    "LocateResult",
    "Sensor",
    "SensorError",
    "aoa_covariance",
    "cochannel_interference_w",
    "detection_range_m",
    "duty_cycle_from_traffic",
    "energy_detector_pd",
    "error_ellipse",
    "hybrid_covariance",
    "SENSOR_LAYOUTS",
    "SensorLayout",
    "is_layout",
    "sensor_layout",
    "risk_map",
    "serving_directions",
    "tdoa_covariance",
    "time_to_locate",
]


# ---- defaults, each with its source (docs/adversary.md repeats them) --------------------
UPLINK_FREQUENCY_HZ = 14.25e9  # centre of 14.0-14.5 GHz (FCC; Humphreys et al. 2023)
UPLINK_CHANNEL_HZ = 62.5e6  # 8 uplink channels of 62.5 MHz (FCC; Humphreys et al. 2023)
UPLINK_CHANNELS = 8
TERMINAL_TX_POWER_DBW = 10 * math.log10(4.06)  # 4.06 W, FCC RF-exposure analysis
TERMINAL_GAIN_DBI = 35.0  # 48 cm array at 14.25 GHz (FCC RF-exposure analysis)
TERMINAL_DUTY_CYCLE = 0.11  # FCC RF-exposure analysis
TERMINAL_SIDELOBE_FLOOR_DBI = -10.0  # ITU-R S.465-6 far-sidelobe level (48-180 deg)
TERMINAL_BACKLOBE_DBI = -20.0  # assumption: flat panel with a ground plane
TERMINAL_HEIGHT_M = 3.0  # assumption: on a roof or in a garden
SENSOR_GAIN_DBI = 20.0  # docs/design.md anchor (a horn or small array)
SENSOR_NOISE_FIGURE_DB = 5.0  # docs/design.md anchor
SENSOR_INTEGRATION_S = 1e-3  # assumption: one look, under a Starlink frame (1.33 ms)
SENSOR_PFA = 1e-6  # assumption: false alarms per look
SENSOR_BEARING_FLOOR_DEG = 1.0  # assumption: fielded direction finders quote 1-2 deg RMS
SENSOR_TIMING_FLOOR_S = 20e-9  # assumption: GPS-disciplined sensor clocks
CLUTTER_HEIGHT_M = 10.0  # assumption: suburban clutter (ITU-R P.2108 uses 9-20 m)
# A sensor's bearings count once at least 90 % of its detections are the terminal's, not
# false alarms (assumption; below that they are noise an operator would discard).
MIN_TRUE_DETECTION_SHARE = 0.9
# A relocating terminal moves to one of this many random sites (per run) at each move.
RELOCATION_SITES = 16
LOCATE_RADIUS_M = 100.0  # the default: an ellipse this small finds the building
MONOPULSE_SLOPE = 1.6  # Skolnik, Introduction to Radar Systems, angle accuracy k_m ~ 1.6
SENSOR_KINDS = ("ground", "mast", "drone", "aircraft")
#: The widest 3 dB beamwidth a sensor may be given, deg. The beamwidth is the full angle
#: of the main lobe that the monopulse bearing estimate divides (Skolnik); a main lobe
#: wider than the forward hemisphere has no direction to measure a bearing against.
BEAMWIDTH_MAX_DEG = 180.0
#: The narrowest, deg: theta ~ 70 lambda / D makes 0.01 deg at 14 GHz a dish of about
#: 150 m, five times narrower than the 70 dBi gain limit implies (0.05 deg); 1e-10 deg
#: is a typo, and it would make every bearing exact.
BEAMWIDTH_MIN_DEG = 0.01
#: Values a sensor may have, (lowest, highest) with ``None`` for an open end that must be
#: exceeded (> 0). Outside these a number is a typo or a unit mistake, not a receiver:
#: 20 km is an aircraft (the layouts' and jammers' ceiling too), 70 dBi a 10 m dish at
#: 14 GHz, 10 GHz of bandwidth covers every uplink band, an hour is a long integration.
SENSOR_RANGES: dict[str, tuple[float | None, float]] = {
    "height_m": (0.0, 20_000.0),
    "gain_dbi": (-30.0, 70.0),
    "noise_figure_db": (0.0, 30.0),
    "bandwidth_hz": (None, 10e9),
    "integration_s": (None, 3600.0),
    "revisit_s": (None, 30 * 86400.0),
    "bearing_floor_deg": (0.0, 180.0),
    "timing_floor_s": (0.0, 1.0),
    "beamwidth_deg": (BEAMWIDTH_MIN_DEG, BEAMWIDTH_MAX_DEG),
}
#: Path waypoint times, seconds either side of the run's start (about 30 years).
WAYPOINT_TIME_MAX_S = 1e9





# ================================================================== RF primitives






def energy_detector_pd(snr_db, time_bandwidth, pfa=SENSOR_PFA):
    """Probability that an energy detector of ``time_bandwidth`` = B T complex samples
    detects a signal at per-sample ``snr_db`` with false-alarm probability ``pfa``.

    Urkowitz (1967): the normalised energy is chi-square with 2BT degrees of freedom
    without signal and non-central chi-square with non-centrality 2BT x SNR with it. For
    BT = 1 this is square-law detection of one sample, whose Pd is Marcum's Q: 0.9 at
    13.2 dB for Pfa 1e-6 (Skolnik's single-pulse curve; Albersheim's equation: 13.1 dB).

    >>> round(float(energy_detector_pd(13.2, 1, 1e-6)), 2)
    0.9
    """
    m = np.asarray(time_bandwidth, dtype=np.float64)
    snr = 10 ** (np.asarray(snr_db, dtype=np.float64) / 10.0)
    dof = 2.0 * np.maximum(m, 1.0)
    threshold = stats.chi2.isf(pfa, dof)
    with np.errstate(invalid="ignore", over="ignore"):
        pd = stats.ncx2.sf(threshold, dof, dof * snr)
    pd = np.where(np.isfinite(snr) & (snr > 0), np.nan_to_num(pd, nan=1.0), pfa)
    return np.clip(pd, pfa, 1.0)


def bearing_sigma_rad(beamwidth_rad, energy_to_noise):
    """Cramer-Rao-like bearing accuracy of one look, rad: theta_B / (k_m sqrt(2 E/N0)).

    Skolnik's angle-accuracy relation for a monopulse/interferometric sensor of 3 dB
    beamwidth theta_B (k_m = 1.6); E/N0 = SNR x B x T for one look.
    """
    e = np.maximum(np.asarray(energy_to_noise, dtype=np.float64), 1e-300)
    return np.asarray(beamwidth_rad) / (MONOPULSE_SLOPE * np.sqrt(2.0 * e))


def toa_sigma_s(bandwidth_hz, energy_to_noise):
    """Cramer-Rao bound on time of arrival of one look, s: 1 / (2 pi beta sqrt(2 E/N0)).

    beta is the RMS bandwidth, B / sqrt(12) for a flat spectrum of width B.
    """
    beta = np.asarray(bandwidth_hz, dtype=np.float64) / math.sqrt(12.0)
    e = np.maximum(np.asarray(energy_to_noise, dtype=np.float64), 1e-300)
    return 1.0 / (2 * np.pi * beta * np.sqrt(2.0 * e))


def beamwidth_from_gain_deg(gain_dbi):
    """3 dB beamwidth of a pencil beam of this gain, deg: G ~ 26,000 / theta^2 (Stutzman)."""
    return np.sqrt(26000.0 / 10 ** (np.asarray(gain_dbi, dtype=np.float64) / 10.0))


# ================================================================ geolocation bounds
def _unit_and_range(sensor_xy, emitter_xy):
    d = np.asarray(emitter_xy, dtype=np.float64) - np.asarray(sensor_xy, dtype=np.float64)
    r = np.linalg.norm(d, axis=-1)
    return d / r[..., None], r


def _aoa_fim(sensor_xy, emitter_xy, sigma_rad):
    """Fisher information (2x2, east-north metres) of bearings from ``sensor_xy`` (n, 2)."""
    u, r = _unit_and_range(sensor_xy, emitter_xy)
    perp = np.stack([-u[..., 1], u[..., 0]], axis=-1) / r[..., None]
    w = 1.0 / np.asarray(sigma_rad, dtype=np.float64) ** 2
    return np.einsum("...n,...ni,...nj->...ij", np.broadcast_to(w, r.shape), perp, perp)


def _toa_fim(sensor_xy, emitter_xy, sigma_s):
    """Fisher information (3x3: east, north, emission time) of times of arrival."""
    u, r = _unit_and_range(sensor_xy, emitter_xy)
    h = np.concatenate([u / SPEED_OF_LIGHT_M_S, np.ones(u.shape[:-1] + (1,))], axis=-1)
    w = 1.0 / np.asarray(sigma_s, dtype=np.float64) ** 2
    return np.einsum("...n,...ni,...nj->...ij", np.broadcast_to(w, r.shape), h, h)


def _position_information(j_aoa, j_toa):
    """2x2 position information: AoA plus TOA with the emission time eliminated (Schur)."""
    out = np.array(j_aoa, dtype=np.float64, copy=True)
    if j_toa is not None:
        a = j_toa[..., :2, :2]
        b = j_toa[..., :2, 2]
        c = j_toa[..., 2, 2]
        with np.errstate(invalid="ignore", divide="ignore"):
            schur = a - np.where(c[..., None, None] > 0, b[..., :, None] * b[..., None, :] / c[..., None, None], 0.0)
        out = out + schur
    return out


def _semi_axes(info, confidence: float = 0.95):
    """Semi-major, semi-minor (m) and orientation (deg east of north) of the ellipse of
    the inverse of 2x2 information matrices; inf where the information is singular."""
    a, b, d = info[..., 0, 0], info[..., 0, 1], info[..., 1, 1]
    tr, det = a + d, a * d - b * b
    disc = np.sqrt(np.maximum((a - d) ** 2 / 4 + b * b, 0.0))
    lam_min = tr / 2 - disc  # smallest information eigenvalue -> largest variance
    lam_max = tr / 2 + disc
    scale = math.sqrt(-2.0 * math.log1p(-confidence))  # chi-square quantile, 2 dof, closed form
    singular = ~(lam_min > 1e-12 * np.maximum(lam_max, 1e-300)) | ~(det > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        major = np.where(singular, np.inf, scale / np.sqrt(np.where(singular, 1.0, lam_min)))
        minor = np.where(lam_max > 0, scale / np.sqrt(np.where(lam_max > 0, lam_max, 1.0)), np.inf)
    # direction of the largest variance: eigenvector of lam_min, angle from north (y) to east (x)
    angle = np.degrees(0.5 * np.arctan2(-2 * b, -(a - d))) % 180.0
    angle = (90.0 - angle) % 180.0
    return major, minor, angle


def error_ellipse(covariance, confidence: float = 0.95):
    """Semi-major, semi-minor axes (m) and orientation (deg from north) of a 2x2 covariance.

    >>> [round(float(v), 3) for v in error_ellipse(np.diag([4.0, 1.0]), confidence=0.3934693402873666)]
    [2.0, 1.0, 90.0]
    """
    cov = np.asarray(covariance, dtype=np.float64)
    info = np.linalg.inv(cov)
    return _semi_axes(info, confidence)


def aoa_covariance(sensor_xy, emitter_xy, sigma_rad):
    """Cramer-Rao covariance (2x2, m^2) of a position fixed by bearings from ``sensor_xy``.

    ``sensor_xy`` is ``(n, 2)`` east-north metres, ``sigma_rad`` the bearing standard
    deviation of each sensor. Two sensors at range r seeing the emitter at right angles
    give sigma r on each axis. Singular (fewer than two sensors, or all in line):
    :class:`numpy.linalg.LinAlgError`.

    >>> np.sqrt(np.diag(aoa_covariance([[1000.0, 0.0], [0.0, 1000.0]], [0.0, 0.0], 0.01))).round(6).tolist()
    [10.0, 10.0]
    """
    return np.linalg.inv(_aoa_fim(np.asarray(sensor_xy, float), np.asarray(emitter_xy, float), sigma_rad))


def tdoa_covariance(sensor_xy, emitter_xy, sigma_s):
    """Cramer-Rao covariance (2x2, m^2) of a position fixed by time differences of arrival.

    Times of arrival with an unknown emission time (eliminated: that is TDOA). Four sensors
    at the same range on the four compass points give c sigma / sqrt(2) on each axis.

    >>> xy = [[1e3, 0.0], [0.0, 1e3], [-1e3, 0.0], [0.0, -1e3]]
    >>> (np.sqrt(np.diag(tdoa_covariance(xy, [0.0, 0.0], 1e-8))) / (299792458 * 1e-8 / 2**0.5)).round(9).tolist()
    [1.0, 1.0]
    """
    info = _position_information(
        np.zeros((2, 2)), _toa_fim(np.asarray(sensor_xy, float), np.asarray(emitter_xy, float), sigma_s)
    )
    return np.linalg.inv(info)


def hybrid_covariance(sensor_xy, emitter_xy, sigma_rad, sigma_s):
    """Covariance of a fix from both bearings and times of arrival (information adds)."""
    s, e = np.asarray(sensor_xy, float), np.asarray(emitter_xy, float)
    return np.linalg.inv(_position_information(_aoa_fim(s, e, sigma_rad), _toa_fim(s, e, sigma_s)))


# ======================================================================= the emitter
@dataclass(frozen=True)
class Emitter:
    """A transmitting terminal's radio: power, antenna pattern, duty cycle.

    Gain at off-axis angle phi (deg) from the beam: the main lobe
    ``G - 12 (phi / theta3)^2`` (parabolic, ITU-R S.1528 style), not below the near-
    sidelobe envelope ``min(32 - 25 log10 phi, G - 13)`` (ITU-R S.465-6, capped at a
    uniform aperture's first sidelobe), not below ``sidelobe_floor_dbi``; beyond 90 deg
    (behind the panel) ``backlobe_dbi``. Defaults: the FCC RF-exposure figures for the
    Starlink standard terminal (35 dBi, 4.06 W, 11 % duty cycle) and S.465's -10 dBi
    far-sidelobe level; theta3 from the gain (G ~ 26,000 / theta3^2).
    """

    tx_power_dbw: float = TERMINAL_TX_POWER_DBW
    gain_dbi: float = TERMINAL_GAIN_DBI
    beamwidth_deg: float | None = None
    sidelobe_floor_dbi: float = TERMINAL_SIDELOBE_FLOOR_DBI
    backlobe_dbi: float = TERMINAL_BACKLOBE_DBI
    duty_cycle: float = TERMINAL_DUTY_CYCLE
    frequency_hz: float = UPLINK_FREQUENCY_HZ
    bandwidth_hz: float = UPLINK_CHANNEL_HZ
    height_m: float = TERMINAL_HEIGHT_M
    in_clutter: bool = True

    def __post_init__(self) -> None:
        d = self.duty_cycle
        if isinstance(d, bool) or not isinstance(d, int | float) or not (0.0 <= d <= 1.0):
            raise ParameterError(
                f"duty cycle {d!r} is outside 0-1; expected the fraction of time the terminal transmits, e.g. 0.11"
            )
        if not (14.0e9 <= self.frequency_hz <= 14.5e9) and not (1e9 <= self.frequency_hz <= 100e9):
            raise ParameterError(
                f"emitter frequency {self.frequency_hz!r} Hz; expected 1-100 GHz (Starlink uplink 14.0-14.5 GHz)"
            )
        if not (self.bandwidth_hz > 0):
            raise ParameterError(f"emitter bandwidth {self.bandwidth_hz!r} Hz; expected > 0")
        if not (self.height_m >= 0):
            raise ParameterError(f"emitter height {self.height_m!r} m is below ground; expected >= 0")

    @property
    def theta3_deg(self) -> float:
        return float(self.beamwidth_deg if self.beamwidth_deg is not None else beamwidth_from_gain_deg(self.gain_dbi))

    @property
    def eirp_dbw(self) -> float:
        """Main-lobe EIRP, dBW (41.1 dBW by default)."""
        return self.tx_power_dbw + self.gain_dbi

    def gain_toward_dbi(self, off_axis_deg):
        """Antenna gain toward directions ``off_axis_deg`` from the beam, dBi.

        >>> e = Emitter()
        >>> [round(float(e.gain_toward_dbi(a)), 1) for a in (0.0, 10.0, 30.0, 60.0, 120.0)]
        [35.0, 7.0, -4.9, -10.0, -20.0]
        """
        phi = np.abs(np.asarray(off_axis_deg, dtype=np.float64))
        main = self.gain_dbi - 12.0 * (phi / self.theta3_deg) ** 2
        with np.errstate(divide="ignore"):
            envelope = np.minimum(32.0 - 25.0 * np.log10(np.maximum(phi, 1e-9)), self.gain_dbi - 13.0)
        front = np.maximum(np.maximum(main, envelope), self.sidelobe_floor_dbi)
        return np.where(phi <= 90.0, front, self.backlobe_dbi)

    def eirp_toward_dbw(self, off_axis_deg):
        """EIRP toward directions ``off_axis_deg`` from the beam while transmitting, dBW."""
        return self.tx_power_dbw + self.gain_toward_dbi(off_axis_deg)


def duty_cycle_from_traffic(uplink_bps, burst_rate_bps: float = 62.5e6 * 2.0, floor: float = 0.0) -> np.ndarray:
    """RF duty cycle of a terminal that sends ``uplink_bps`` on average.

    The terminal transmits in bursts at ``burst_rate_bps`` (default one 62.5 MHz channel at
    2 bit/s/Hz, 125 Mbit/s: an assumption), so it is on the air ``uplink / burst`` of the
    time, plus ``floor`` for signalling (assumption: 0); clipped to 0-1. The FCC figure of
    11 % corresponds to ~14 Mbit/s sustained upload at this rate.

    >>> float(duty_cycle_from_traffic(13.75e6))
    0.11
    """
    u = np.asarray(uplink_bps, dtype=np.float64)
    if np.any(u < 0) or not np.all(np.isfinite(u)):
        raise ParameterError(f"uplink traffic {uplink_bps!r} bit/s; expected finite rates >= 0")
    return np.clip(u / burst_rate_bps + floor, 0.0, 1.0)


# ======================================================================== the sensors
@dataclass(frozen=True)
class Sensor:
    """A receiver listening for uplink bursts.

    ``kind``: ground (a station below the clutter unless higher), mast, drone or aircraft
    (airborne: Earth-space clutter at the terminal end only). ``height_m``: antenna height
    above ground (>= 0). ``path``: for moving sensors, waypoints ``(t_s, lat, lon,
    height_m)`` flown in a loop (linear interpolation); ``latitude_deg``/``longitude_deg``
    are then the first waypoint. ``revisit_s``: time between looks at the terminal's
    channel (default: the sensor steps through the 8 uplink channels, one integration each).
    """

    name: str
    latitude_deg: float
    longitude_deg: float
    height_m: float = 10.0
    kind: str = "ground"
    gain_dbi: float = SENSOR_GAIN_DBI
    noise_figure_db: float = SENSOR_NOISE_FIGURE_DB
    bandwidth_hz: float = UPLINK_CHANNEL_HZ
    integration_s: float = SENSOR_INTEGRATION_S
    revisit_s: float | None = None
    pfa: float = SENSOR_PFA
    bearing_floor_deg: float = SENSOR_BEARING_FLOOR_DEG
    timing_floor_s: float = SENSOR_TIMING_FLOOR_S
    beamwidth_deg: float | None = None
    path: tuple[tuple[float, float, float, float], ...] | None = None

    def __post_init__(self) -> None:
        where = f"sensor {_cut(self.name, 80)}"
        if self.kind not in SENSOR_KINDS:
            raise SensorError(f"{where}: kind {_cut(self.kind)}; expected one of {', '.join(SENSOR_KINDS)}")
        for key in ("latitude_deg", "longitude_deg", "height_m", "gain_dbi", "noise_figure_db", "bandwidth_hz",
                    "integration_s", "pfa", "bearing_floor_deg", "timing_floor_s"):  # fmt: skip
            v = getattr(self, key)
            if not _finite(v):
                raise SensorError(f"{where}: {key} {_cut(v)} is not a finite number")
        for key in ("revisit_s", "beamwidth_deg"):
            v = getattr(self, key)
            if v is not None and not _finite(v):
                raise SensorError(f"{where}: {key} {_cut(v)} is not a finite number")
        if not -90 <= self.latitude_deg <= 90 or not -180 <= self.longitude_deg <= 360:
            raise SensorError(
                f"{where}: position ({self.latitude_deg!r}, {self.longitude_deg!r}) is not a latitude -90..90 and longitude -180..180"
            )
        if self.height_m < 0:
            raise SensorError(f"{where}: height_m {self.height_m!r} is under ground; expected an antenna height >= 0 m")
        if self.bandwidth_hz <= 0 or self.integration_s <= 0:
            raise SensorError(
                f"{where}: bandwidth_hz and integration_s must be > 0, got {self.bandwidth_hz!r} and {self.integration_s!r}"
            )
        if not 0 < self.pfa < 1:
            raise SensorError(f"{where}: pfa {self.pfa!r}; expected a false-alarm probability between 0 and 1")
        if self.revisit_s is not None and not self.revisit_s >= self.integration_s:
            raise SensorError(
                f"{where}: revisit_s {self.revisit_s!r} is shorter than one integration ({self.integration_s!r} s)"
            )
        if self.bearing_floor_deg < 0 or self.timing_floor_s < 0:
            raise SensorError(f"{where}: error floors must be >= 0")
        if self.beamwidth_deg is not None and not BEAMWIDTH_MIN_DEG <= self.beamwidth_deg <= BEAMWIDTH_MAX_DEG:
            raise SensorError(f"{where}: beamwidth_deg {self.beamwidth_deg!r}; expected a 3 dB beamwidth from "
                              f"{BEAMWIDTH_MIN_DEG:g} to {BEAMWIDTH_MAX_DEG:g} deg")
        for key, (lo, hi) in SENSOR_RANGES.items():
            v = getattr(self, key)
            if v is not None and not ((v > 0 if lo is None else v >= lo) and v <= hi):
                span = f"above 0 and up to {hi:g}" if lo is None else f"from {lo:g} to {hi:g}"
                raise SensorError(f"{where}: {key} {v!r} is out of range; expected {span}")
        if self.path is not None:
            try:
                pts = tuple(tuple(float(x) for x in p) for p in self.path)
            except (TypeError, ValueError, OverflowError):
                raise SensorError(f"{where}: path {_cut(self.path)} is not a list of (t_s, lat, lon, height_m) "
                                  "waypoints") from None
            if len(pts) < 2 or any(len(p) != 4 for p in pts):
                raise SensorError(f"{where}: a path needs at least two waypoints (t_s, lat, lon, height_m)")
            bad = next((p for p in pts if not all(math.isfinite(x) for x in p) or not abs(p[0]) <= WAYPOINT_TIME_MAX_S
                        or not -90 <= p[1] <= 90 or not -180 <= p[2] <= 360), None)
            if bad is not None:
                raise SensorError(f"{where}: waypoint {bad!r} is not a time and a position (t_s within "
                                  f"{WAYPOINT_TIME_MAX_S:g} s, latitude -90..90, longitude -180..180, height in metres)")
            if any(b[0] <= a[0] for a, b in zip(pts, pts[1:])):
                raise SensorError(f"{where}: path times must increase, got {_cut([p[0] for p in pts])}")
            if any(p[3] < 0 for p in pts):
                bad = next(p for p in pts if p[3] < 0)
                raise SensorError(
                    f"{where}: waypoint at t={bad[0]:g} s has height_m {bad[3]:g}, under ground; expected >= 0 m"
                )
            top = SENSOR_RANGES["height_m"][1]
            if any(p[3] > top for p in pts):
                bad = next(p for p in pts if p[3] > top)
                raise SensorError(f"{where}: waypoint at t={bad[0]:g} s has height_m {bad[3]:g}; expected at most "
                                  f"{top:,.0f} m (an aircraft)")
            object.__setattr__(self, "path", pts)

    @property
    def look_interval_s(self) -> float:
        return self.revisit_s if self.revisit_s is not None else self.integration_s * UPLINK_CHANNELS

    @property
    def airborne(self) -> bool:
        return self.kind in ("drone", "aircraft")

    @property
    def theta3_deg(self) -> float:
        return float(self.beamwidth_deg if self.beamwidth_deg is not None else beamwidth_from_gain_deg(self.gain_dbi))

    @classmethod
    def from_record(cls, rec) -> Sensor:
        """A sensor from a file's record (:class:`~leosim.formats.sensors.SensorRecord`); a
        value the sensor refuses is reported at the record's place."""
        opts = dict(rec.options)
        if rec.path is not None:
            opts["height_m"] = rec.path[0][3]
        try:
            return cls(name=rec.name, latitude_deg=rec.latitude_deg, longitude_deg=rec.longitude_deg, path=rec.path, **opts)
        except SensorError as exc:
            raise SensorError(f"{rec.where}: {exc}") from None

    def position_at(self, t_s) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lat, lon, height_m) at times ``t_s`` (s from the run's start), looping the path."""
        t = np.asarray(t_s, dtype=np.float64)
        if self.path is None:
            return (
                np.full(t.shape, self.latitude_deg),
                np.full(t.shape, self.longitude_deg),
                np.full(t.shape, self.height_m),
            )
        p = np.array(self.path)
        t0, t1 = p[0, 0], p[-1, 0]
        tt = t0 + np.mod(t - t0, t1 - t0)
        return tuple(np.interp(tt, p[:, 0], p[:, k]) for k in (1, 2, 3))


class SensorLayout:
    """A deployment of sensors placed in the world around an anchor point."""

    name = "layout"

    def place(self, latitude_deg: float, longitude_deg: float, extent_m: float = 20e3) -> tuple[Sensor, ...]:
        raise NotImplementedError


#: At most this many sensors in one layout (a grid of 20 x 20).
MAX_LAYOUT_SENSORS = 400
#: A layout's radius or spacing, km: from 1 m (below that the sensors stand on each other
#: and a drone's loop takes no time) to 1,000 km.
LAYOUT_KM_RANGE = (0.001, 1000.0)
#: Heights of layout sensors, m: the ground to an aircraft (as :data:`SENSOR_RANGES`).
LAYOUT_HEIGHT_RANGE_M = (0.0, 20_000.0)
#: A drone's speed, km/h: from walking pace's tenth to a fast jet.
DRONE_SPEED_RANGE_KMH = (0.1, 3000.0)


def _in(v: float, span: tuple[float, float]) -> bool:
    return span[0] <= v <= span[1]  # False for NaN


class Ring(SensorLayout):
    """``n`` ground sensors on a circle of ``radius_km`` around the anchor, ``height_m`` up."""

    name = "ring"

    def __init__(self, n: int, radius_km: float, height_m: float = 10.0):
        if not 2 <= n <= MAX_LAYOUT_SENSORS:
            raise SensorError(f"a ring of {n} sensors; expected 2 to {MAX_LAYOUT_SENSORS}")
        if not _in(radius_km, LAYOUT_KM_RANGE) or not _in(height_m, LAYOUT_HEIGHT_RANGE_M):
            raise SensorError(f"ring radius {radius_km:g} km and height {height_m:g} m; expected a radius of 0.001-1000 km "
                              "and a height of 0-20,000 m")
        self.n, self.radius_km, self.height_m = int(n), float(radius_km), float(height_m)

    def place(self, latitude_deg, longitude_deg, extent_m=20e3):
        lat, lon = destination_point(latitude_deg, longitude_deg, np.arange(self.n) * 360.0 / self.n, self.radius_km * 1e3)
        return tuple(Sensor(f"ring-{k + 1}", float(a), float(b), height_m=self.height_m) for k, (a, b) in enumerate(zip(lat, lon)))


class Grid(SensorLayout):
    """Ground sensors every ``spacing_km`` on a square grid over the area (side ``2 extent``)."""

    name = "grid"

    def __init__(self, spacing_km: float, height_m: float = 10.0):
        if not _in(spacing_km, LAYOUT_KM_RANGE) or not _in(height_m, LAYOUT_HEIGHT_RANGE_M):
            raise SensorError(f"grid spacing {spacing_km:g} km and height {height_m:g} m; expected a spacing of 0.001-1000 km "
                              "and a height of 0-20,000 m")
        self.spacing_km, self.height_m = float(spacing_km), float(height_m)

    def place(self, latitude_deg, longitude_deg, extent_m=20e3):
        step = self.spacing_km * 1e3
        if not (math.isfinite(extent_m) and extent_m >= 0):
            raise SensorError(f"a grid over an extent of {extent_m!r} m; expected a finite extent >= 0")
        # how many sensors, counted before anything is allocated: (2k + 1)^2 <= 400 is k <= 9
        half = extent_m / step
        k = int(half) if half < 10 else 10
        if (2 * k + 1) ** 2 > MAX_LAYOUT_SENSORS:
            count = f"{(2 * k + 1) ** 2}" if half < 10 else f"about {(2 * half + 1) ** 2:,.0f}"
            raise SensorError(f"a grid every {self.spacing_km:g} km over {2 * extent_m / 1e3:g} km makes {count} "
                              f"sensors; expected at most {MAX_LAYOUT_SENSORS} (use a larger spacing)")
        off = np.arange(-k, k + 1) * step
        e, n_ = np.meshgrid(off, off)
        dist, brg = np.hypot(e, n_).ravel(), np.degrees(np.arctan2(e, n_)).ravel()
        lat, lon = destination_point(latitude_deg, longitude_deg, brg, dist)
        return tuple(Sensor(f"grid-{i + 1}", float(a), float(b), height_m=self.height_m) for i, (a, b) in enumerate(zip(lat, lon)))


class Drone(SensorLayout):
    """One drone circling the anchor at ``radius_km``, ``altitude_m`` up, at ``speed_kmh``."""

    name = "drone"

    def __init__(self, radius_km: float, altitude_m: float, speed_kmh: float = 60.0):
        if (not _in(radius_km, LAYOUT_KM_RANGE) or not _in(altitude_m, LAYOUT_HEIGHT_RANGE_M)
                or not _in(speed_kmh, DRONE_SPEED_RANGE_KMH)):
            raise SensorError(f"drone radius {radius_km:g} km, altitude {altitude_m:g} m, speed {speed_kmh:g} km/h; expected "
                              "a radius of 0.001-1000 km, an altitude of 0-20,000 m and a speed of 0.1-3000 km/h")
        self.radius_km, self.altitude_m, self.speed_kmh = float(radius_km), float(altitude_m), float(speed_kmh)

    def place(self, latitude_deg, longitude_deg, extent_m=20e3):
        r = self.radius_km * 1e3
        period = 2 * np.pi * r / (self.speed_kmh / 3.6)
        brg = np.linspace(0.0, 360.0, 37)
        lat, lon = destination_point(latitude_deg, longitude_deg, brg, r)
        pts = tuple((float(t), float(a), float(b), self.altitude_m) for t, a, b in zip(brg / 360.0 * period, lat, lon))
        return (Sensor("drone-1", pts[0][1], pts[0][2], height_m=self.altitude_m, kind="drone", path=pts),)


#: Sensor layouts by name: ``ring:6:3`` (positional) or ``ring:n=6,radius_km=3,height_m=10``.
SENSOR_LAYOUTS = Registry("sensor layout", SensorError)
SENSOR_LAYOUTS.register("ring", Ring, (Param("n", whole, None, "a whole number of sensors, 2-400"),
                                       Param("radius_km", number, None, "a radius in km"),
                                       Param("height_m", number, 10.0, "an antenna height in metres")),
                        help="N ground sensors on a circle of RADIUS_KM around the anchor")
SENSOR_LAYOUTS.register("grid", Grid, (Param("spacing_km", number, None, "a spacing in km"),
                                       Param("height_m", number, 10.0, "an antenna height in metres")),
                        help="ground sensors every SPACING_KM over the area")
SENSOR_LAYOUTS.register("drone", Drone, (Param("radius_km", number, None, "a radius in km"),
                                         Param("altitude_m", number, None, "an altitude in metres"),
                                         Param("speed_kmh", number, 60.0, "a speed in km/h")),
                        help="one drone circling the anchor")


def is_layout(spec: str) -> bool:
    """Whether ``spec`` names a registered sensor layout (rather than a sensor file)."""
    return str(spec).strip().split(":", 1)[0].lower() in SENSOR_LAYOUTS


def sensor_layout(spec: str) -> SensorLayout:
    """The layout ``spec`` names, e.g. ``ring:6:3`` or ``drone:radius_km=3,altitude_m=500``."""
    return SENSOR_LAYOUTS.make(spec)


# ====================================================================== link budget
def _enu_basis(lat_deg: float, lon_deg: float) -> np.ndarray:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    east = np.array([-np.sin(lon), np.cos(lon), 0.0])
    north = np.array([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)])
    return np.stack([east, north, up_vectors(lat_deg, lon_deg)])


def serving_directions(
    constellation, latitude_deg: float, longitude_deg: float, times, links=None, attachment=None
) -> np.ndarray:
    """Unit vectors (ECEF, ``(n, 3)``) from a terminal to its serving satellite at ``times``.

    The serving satellite is the one the network's attachment policy picks (default
    :class:`~leosim.network.attachment.MaxElevation`) among the satellites the terminal can
    link with by the network's rule (``links``, a :class:`~leosim.network.links.LinkOptions`;
    default: the 25 deg mask); instants with none visible are left out.
    """
    from leosim.network.attachment import ChunkContext, MaxElevation, StepGeometry
    from leosim.network.links import LinkOptions, user_geometry

    links = links or LinkOptions()
    attachment = attachment or MaxElevation()
    times = np.asarray(times, dtype="datetime64[ns]").reshape(-1)
    site = geodetic_to_ecef(latitude_deg, longitude_deg, 0.0).reshape(1, 3)
    up = up_vectors(latitude_deg, longitude_deg).reshape(1, 3)
    pos = constellation.positions(times)
    t_unix = times.astype(np.int64) / 1e9

    def geometry(t, sats):
        p = constellation.positions((np.asarray(t) * 1e9).astype("datetime64[ns]"), sat_index=sats)
        out = [user_geometry(links, constellation, site, up, p[k], sats) for k in range(len(p))]
        return np.array([o[0] for o in out]), np.array([o[2] for o in out])

    state = attachment.start(ChunkContext(t_unix, geometry))
    dirs = []
    for k in range(len(times)):
        sin_el, rng, margin = user_geometry(links, constellation, site, up, pos[k])
        rows, cols = attachment.choose(state, StepGeometry.from_dense(t_unix[k], sin_el, rng, margin >= 0))
        if len(cols):
            v = pos[k, cols[0]] - site[0]
            dirs.append(v / np.linalg.norm(v))
    return np.array(dirs).reshape(-1, 3)


def _zenith_directions(lat_deg, lon_deg, elevation_deg=(90.0,), azimuth_deg=(0.0,)):
    b = _enu_basis(lat_deg, lon_deg)
    el, az = np.radians(np.asarray(elevation_deg)), np.radians(np.asarray(azimuth_deg))
    enu = np.stack([np.cos(el) * np.sin(az), np.cos(el) * np.cos(az), np.sin(el)], axis=-1)
    return enu @ b


@dataclass(frozen=True)
class _Link:
    """Per (sensor sample, pointing) link quantities for one terminal position."""

    snr_db: np.ndarray  # (n_sensors, n_pointing)
    xy: np.ndarray  # (n_sensors, 2) sensor east-north position relative to the terminal, m
    distance_m: np.ndarray  # (n_sensors,)


def link_snr_db(
    emitter: Emitter,
    lat_deg: float,
    lon_deg: float,
    sensor_lat,
    sensor_lon,
    sensor_h,
    airborne,
    pointing: np.ndarray,
    interference_dbw=None,
    sensors: Sequence[Sensor] | None = None,
) -> _Link:
    """SNR per look (dB) at each sensor sample for each pointing direction of the beam.

    ``sensor_*``: arrays ``(n,)``; ``pointing``: unit ECEF vectors ``(k, 3)``. Beyond the
    radio horizon the SNR is -inf (diffraction loss over the horizon is not modelled).
    """
    slat, slon, sh = (np.asarray(v, dtype=np.float64).reshape(-1) for v in (sensor_lat, sensor_lon, sensor_h))
    air = np.asarray(airborne, bool).reshape(-1)
    term = geodetic_to_ecef(lat_deg, lon_deg, emitter.height_m)
    sens = geodetic_to_ecef(slat, slon, sh).reshape(-1, 3)
    vec = sens - term
    dist = np.linalg.norm(vec, axis=-1)
    unit = vec / np.maximum(dist, 1e-9)[:, None]
    basis = _enu_basis(lat_deg, lon_deg)
    enu = vec @ basis.T
    ground = great_circle_m(lat_deg, lon_deg, slat, slon)
    elev = np.degrees(np.arcsin(np.clip(enu[:, 2] / np.maximum(dist, 1e-9), -1, 1)))
    cos_off = np.clip(unit @ np.asarray(pointing, dtype=np.float64).reshape(-1, 3).T, -1.0, 1.0)
    eirp = emitter.eirp_toward_dbw(np.degrees(np.arccos(cos_off)))  # (n, k)
    loss = free_space_loss_db(np.maximum(dist, 1.0), emitter.frequency_hz)
    clutter = np.zeros_like(dist)
    if emitter.in_clutter:
        terr = clutter_loss_terrestrial_db(emitter.frequency_hz, np.maximum(ground, 1.0))
        clutter += np.where(air, clutter_loss_earth_space_db(emitter.frequency_hz, elev), terr)
    low = ~air & (sh < CLUTTER_HEIGHT_M)
    clutter += np.where(low, clutter_loss_terrestrial_db(emitter.frequency_hz, np.maximum(ground, 1.0)), 0.0)
    if sensors is None:
        gain = np.full(len(dist), SENSOR_GAIN_DBI)
        nf = np.full(len(dist), SENSOR_NOISE_FIGURE_DB)
        bw = np.full(len(dist), UPLINK_CHANNEL_HZ)
    else:
        gain = np.array([s.gain_dbi for s in sensors])
        nf = np.array([s.noise_figure_db for s in sensors])
        bw = np.array([s.bandwidth_hz for s in sensors])
    # a sensor wider than the channel collects all the signal and more noise; a narrower
    # one only its share of the signal
    signal_fraction_db = 10 * np.log10(np.minimum(1.0, bw / emitter.bandwidth_hz))
    received = eirp + (gain - loss - clutter + signal_fraction_db)[:, None]
    noise_w = 10 ** (noise_power_dbw(bw, nf) / 10)
    if interference_dbw is not None:
        noise_w = noise_w + 10 ** (np.asarray(interference_dbw, dtype=np.float64).reshape(-1) / 10)
    snr = received - 10 * np.log10(noise_w)[:, None]
    horizon = radio_horizon_m(emitter.height_m, sh)
    snr = np.where((ground <= horizon)[:, None], snr, -np.inf)
    return _Link(snr, enu[:, :2], dist)


def detection_range_m(
    emitter: Emitter | None = None,
    sensor: Sensor | None = None,
    pd: float = 0.5,
    elevation_deg: float = 50.0,
    beam_azimuth_deg: float = 0.0,
    max_m: float = 500e3,
) -> float:
    """Ground distance (m) at which one look detects a transmitting terminal with
    probability ``pd``.

    The beam points at ``elevation_deg`` (the serving satellite), ``beam_azimuth_deg`` away
    from the sensor's azimuth: 0 (default) faces the sensor, which then sees the sidelobes
    ``elevation_deg`` off the beam; 180 turns the back lobe to it. 0 when not even at
    10 m; at most the radio horizon.

    >>> round(detection_range_m(Emitter(in_clutter=False)) / 1e3, 1)
    20.2
    """
    emitter = emitter or Emitter()
    sensor = sensor or Sensor("sensor", 0.0, 0.0)
    pointing = _zenith_directions(0.0, 0.0, [elevation_deg], [beam_azimuth_deg])
    m = sensor.bandwidth_hz * sensor.integration_s

    def pd_at(d):
        lat, lon = destination_point(0.0, 0.0, 0.0, d)
        link = link_snr_db(
            emitter, 0.0, 0.0, [lat], [lon], [sensor.height_m], [sensor.airborne], pointing, sensors=[sensor]
        )
        return float(energy_detector_pd(link.snr_db[0, 0], m, sensor.pfa))

    lo, hi = 10.0, min(max_m, float(radio_horizon_m(emitter.height_m, sensor.height_m)) * 0.999999)
    if pd_at(lo) < pd:
        return 0.0
    if pd_at(hi) >= pd:
        return hi
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if pd_at(mid) >= pd else (lo, mid)
    return lo


# ============================================================= time to locate (MC)
@dataclass(frozen=True)
class LocateResult:
    """Monte Carlo time-to-locate of one terminal.

    ``times_s``: ``(n_trials,)`` seconds until the 95 % ellipse's semi-major axis fell
    under ``radius_m`` (inf: not located within ``hours``). ``detecting``: sensors whose
    per-look detection probability while transmitting is at least 1 %.
    """

    times_s: np.ndarray
    hours: float
    radius_m: float
    detecting: int
    best_snr_db: float
    final_semi_major_m: float

    @property
    def located_share(self) -> float:
        return float(np.mean(np.isfinite(self.times_s)))

    @property
    def median_s(self) -> float:
        """Median time to locate, s; inf when fewer than half the trials locate."""
        return self.quantile_s(0.5)

    def quantile_s(self, q: float) -> float:
        """A quantile of the time to locate, s (a trial's value, no interpolation, so inf
        -- not located -- stays inf and never turns into NaN)."""
        return float(np.quantile(self.times_s, q, method="inverted_cdf")) if len(self.times_s) else math.inf


def _time_grid(duration_s: float, first_s: float) -> np.ndarray:
    n = 160
    first = min(first_s, duration_s)
    return np.unique(np.concatenate([np.geomspace(first, duration_s, n), [duration_s]]))


def time_to_locate(
    latitude_deg: float,
    longitude_deg: float,
    sensors: Sequence[Sensor],
    *,
    emitter: Emitter | None = None,
    pointing: np.ndarray | None = None,
    hours: float = 24.0,
    relocate_hours: float | None = None,
    relocate_radius_m: float = 2e3,
    spread_m: float = 0.0,
    radius_m: float = LOCATE_RADIUS_M,
    method: str = "hybrid",
    trials: int = 200,
    seed: int | None = 0,
    interference_dbw: np.ndarray | None = None,
    moving_segment_s: float = 300.0,
    expected: bool = False,
) -> LocateResult:
    """Monte Carlo time until sensors locate a terminal transmitting at a duty cycle.

    Each sensor looks every ``look_interval_s``; a look finds the terminal transmitting
    with probability ``duty_cycle`` (independent looks: an assumption) and then detects it
    with the energy detector's Pd at the look's SNR (averaged over ``pointing``, the beam
    directions toward the serving satellite; default straight up). A sensor that has
    detected n looks measures bearing and time of arrival with variance
    ``sigma_1^2 / n + floor^2`` (sigma_1: one look's bound at the mean SNR of detected
    looks). ``method``: ``aoa``, ``tdoa`` or ``hybrid``. The Fisher information of all
    sensors (moving ones split into ``moving_segment_s`` pieces, each with its own
    geometry and error floor) gives the 95 % ellipse. ``relocate_hours``: the terminal moves
    to a random point within ``relocate_radius_m`` of its home at that interval and the
    adversary starts over. ``spread_m``: where exactly the terminal stands is not known (to
    the adversary, nor to the model): each trial puts it at a random point within this
    distance of the given position (0: exactly there), drawn as a move is, so staying
    and moving are compared over the same places and moving can only help. ``expected=True`` uses expected counts instead of random ones
    (one trial; what :func:`risk_map` uses).
    """
    emitter = emitter or Emitter()
    sensors = tuple(sensors)
    if method not in ("aoa", "tdoa", "hybrid"):
        raise ParameterError(f"method {method!r}; expected 'aoa', 'tdoa' or 'hybrid'")
    if not (hours > 0) or (relocate_hours is not None and not relocate_hours > 0):
        raise ParameterError(f"hours {hours!r} and relocate_hours {relocate_hours!r} must be > 0")
    if not (radius_m > 0):
        raise ParameterError(f"locate radius {radius_m!r} m; expected > 0")
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ParameterError(f"trials {trials!r}; expected a whole number >= 1")
    rng = np.random.default_rng(seed)
    n_trials = 1 if expected else trials
    total_s = hours * 3600.0
    period_s = min(total_s, relocate_hours * 3600.0) if relocate_hours else total_s
    pointing = (
        _zenith_directions(latitude_deg, longitude_deg)
        if pointing is None
        else np.asarray(pointing, float).reshape(-1, 3)
    )
    result = np.full(n_trials, np.inf)
    moving = any(s.path is not None for s in sensors)
    offset, period = 0.0, 0
    pool, pool_key = None, None
    home = None
    while offset < total_s - 1e-9:
        dur = min(period_s, total_s - offset)
        if period == 0:
            home = _period_terms(
                latitude_deg,
                longitude_deg,
                sensors,
                emitter,
                pointing,
                dur,
                offset,
                method,
                interference_dbw,
                moving_segment_s,
            )
        if period == 0 and not spread_m > 0:
            batched = {k: v if k in _SHARED_TERMS else v[None] for k, v in home.items() if isinstance(v, np.ndarray)}
        else:
            # each trial stands at (or moves to) one of a pool of random sites: within spread_m of
            # its place at first, within relocate_radius_m of it after each move
            reach = spread_m if period == 0 else relocate_radius_m
            if pool is None or moving or pool_key != (dur, reach):
                brg = rng.uniform(0.0, 360.0, RELOCATION_SITES)
                dist = reach * np.sqrt(rng.uniform(size=RELOCATION_SITES))
                sites = zip(*(v.tolist() for v in destination_point(latitude_deg, longitude_deg, brg, dist)))
                terms = [
                    _period_terms(
                        a, b, sensors, emitter, pointing, dur, offset, method, interference_dbw, moving_segment_s
                    )
                    for a, b in sites
                ]
                pool = {
                    k: terms[0][k] if k in _SHARED_TERMS else np.stack([t[k] for t in terms])
                    for k in terms[0]
                    if isinstance(terms[0][k], np.ndarray)
                }
                pool_key = (dur, reach)
            choice = rng.integers(RELOCATION_SITES, size=n_trials)
            batched = {k: v if k in _SHARED_TERMS else v[choice] for k, v in pool.items()}
        t_loc, major = _run_grid(batched, dur, radius_m, n_trials, rng, expected)
        open_ = ~np.isfinite(result)
        result[open_] = np.where(np.isfinite(t_loc[open_]), offset + t_loc[open_], np.inf)
        if np.all(np.isfinite(result)):
            break
        offset += dur
        period += 1
    return LocateResult(result, hours, radius_m, home["detecting"], float(home["best_snr"]), float(np.median(major)))


def _draw(n_looks, p, rng, expected):
    """Detections among ``n_looks`` (per column) looks of probability ``p`` (rows x columns):
    random draws, or their mean."""
    if expected:
        return n_looks * p
    return rng.binomial(np.broadcast_to(n_looks.astype(np.int64), p.shape), p)


def _tdoa_pair_terms(u, pd, duty, sig_t1, sig_tf, v_t0, v_t1, interval):
    """Per pair of (virtual) sensors that listen at the same time: which, the probability a
    look catches a burst both detect, the one-look variance of the pair's information, its
    floor, and its geometry ``(u_a - u_b)(u_a - u_b)^T / c^2``.

    For the sensors S that detect one burst, eliminating the emission time from the
    times of arrival leaves ``sum_{a<b in S} w_a w_b / W (u_a - u_b)(u_a - u_b)^T / c^2``
    with ``w = 1 / sigma^2`` and ``W = sum_S w`` (exact). Which sensors detect is random;
    W is replaced by its expectation given that a and b detect,
    ``w_a + w_b + sum_{k != a, b} w_k Pd_k`` (exact when every Pd is 0 or 1).
    """
    n = len(u)
    a, b = np.triu_indices(n, k=1)
    t0 = np.maximum(v_t0[a], v_t0[b])
    t1 = np.minimum(v_t1[a], v_t1[b])
    keep = t1 > t0  # every pair that listens at the same time (stackable across terminals)
    a, b, t0, t1 = a[keep], b[keep], t0[keep], t1[keep]
    with np.errstate(divide="ignore", over="ignore"):
        w = np.where(np.isfinite(sig_t1) & (sig_t1 > 0), 1.0 / sig_t1, 0.0)
    total = float((w * pd).sum())
    w_eff = w[a] + w[b] + total - w[a] * pd[a] - w[b] * pd[b]
    with np.errstate(divide="ignore", invalid="ignore"):
        s_pair = np.where(w[a] * w[b] > 0, w_eff / (w[a] * w[b]), np.inf)
    du = (u[a] - u[b]) / SPEED_OF_LIGHT_M_S
    g = np.einsum("pi,pj->pij", du, du)
    iv = np.maximum(interval[a], interval[b])  # looks coincide at the slower sensor's rate
    return a, b, duty * pd[a] * pd[b], s_pair, sig_tf[a] + sig_tf[b], g, t0, t1, iv


# arrays that depend only on the sensors and the time window, not on the terminal
_SHARED_TERMS = ("v_t0", "v_t1", "interval", "pair_t0", "pair_t1", "pair_iv")


def _period_terms(
    lat, lon, sensors, emitter, pointing, duration_s, t_offset, method, interference_dbw, moving_segment_s
):
    """Everything the look counting needs for one terminal position over one period."""
    # virtual sensors: a fixed sensor once, a moving one per segment of its path
    v_sensor, v_t0, v_t1 = [], [], []
    for i, s in enumerate(sensors):
        if s.path is None:
            v_sensor.append(i), v_t0.append(0.0), v_t1.append(duration_s)
        else:
            for a in np.arange(0.0, duration_s, moving_segment_s):
                v_sensor.append(i), v_t0.append(a), v_t1.append(min(a + moving_segment_s, duration_s))
    v_sensor = np.array(v_sensor, dtype=np.int64)
    v_t0, v_t1 = np.array(v_t0), np.array(v_t1)
    mid = t_offset + (v_t0 + v_t1) / 2
    pos = [sensors[i].position_at(t) for i, t in zip(v_sensor, mid)]
    slat, slon, sh = (np.array([p[k] for p in pos], dtype=np.float64) for k in range(3))
    vs = [sensors[i] for i in v_sensor]
    intf = None if interference_dbw is None else np.asarray(interference_dbw, float).reshape(-1)[v_sensor]
    link = link_snr_db(emitter, lat, lon, slat, slon, sh, [s.airborne for s in vs], pointing, intf, sensors=vs)
    m = np.array([s.bandwidth_hz * s.integration_s for s in vs])
    pfa = np.array([s.pfa for s in vs])
    pd_k = energy_detector_pd(link.snr_db, m[:, None], pfa[:, None])  # (V, K)
    pd_k = np.where(np.isfinite(link.snr_db), pd_k, 0.0)
    pd = pd_k.mean(axis=1)
    snr_lin = np.where(np.isfinite(link.snr_db), 10 ** (link.snr_db / 10), 0.0)
    # one detected look's information: at the mean SNR of the looks that detect
    with np.errstate(invalid="ignore", divide="ignore"):
        snr_det = np.where(pd > 0, (pd_k * snr_lin).sum(axis=1) / np.maximum(pd_k.sum(axis=1), 1e-300), 0.0)
    e_n0 = snr_det * m
    theta3 = np.radians([s.theta3_deg for s in vs])
    with np.errstate(over="ignore"):
        sig_b1 = bearing_sigma_rad(theta3, e_n0) ** 2
        sig_t1 = toa_sigma_s(np.minimum([s.bandwidth_hz for s in vs], emitter.bandwidth_hz), e_n0) ** 2
    sig_bf = np.radians([s.bearing_floor_deg for s in vs]) ** 2
    sig_tf = np.array([s.timing_floor_s for s in vs]) ** 2
    duty = emitter.duty_cycle
    interval = np.array([s.look_interval_s for s in vs])
    dist = np.maximum(np.hypot(link.xy[:, 0], link.xy[:, 1]), 1.0)
    u = -link.xy / dist[:, None]  # unit vectors from each sensor toward the terminal
    # AoA: a sensor's own detections, usable once most of them are real (not false alarms)
    p_aoa = duty * pd
    usable = p_aoa * (1.0 - MIN_TRUE_DETECTION_SHARE) >= MIN_TRUE_DETECTION_SHARE * pfa
    p_aoa = np.where(usable, p_aoa, 0.0) if method in ("aoa", "hybrid") else np.zeros(len(vs))
    perp = np.stack([-u[:, 1], u[:, 0]], axis=1) / dist[:, None]
    # TDOA: bursts two sensors detect together (chance coincidences of false alarms are
    # negligible); pairwise information, see _tdoa_pair_terms
    _, _, p_pair, s_pair, f_pair, g_pair, pair_t0, pair_t1, pair_iv = _tdoa_pair_terms(
        u, pd, duty, sig_t1, sig_tf, v_t0, v_t1, interval
    )
    if method == "aoa":
        p_pair = np.zeros_like(p_pair)
    finite_snr = link.snr_db[np.isfinite(link.snr_db)]
    return {
        "v_t0": v_t0, "v_t1": v_t1, "interval": interval,
        "p_aoa": p_aoa, "sig_b1": sig_b1, "sig_bf": sig_bf, "g_aoa": np.einsum("vi,vj->vij", perp, perp),
        "p_pair": p_pair, "s_pair": s_pair, "f_pair": f_pair, "g_pair": g_pair,
        "pair_t0": pair_t0, "pair_t1": pair_t1, "pair_iv": pair_iv,
        "best_snr": float(finite_snr.max()) if finite_snr.size else -np.inf,
        "detecting": int(len(np.unique(v_sensor[pd >= 0.01]))),
    }  # fmt: skip


def _run_grid(terms, duration_s, radius_m, n_batch, rng, expected):
    """First grid time at which the ellipse is under ``radius_m``, per batch row.

    Per-terminal arrays in ``terms`` carry a leading batch axis: 1 (one terminal,
    ``n_batch`` Monte Carlo trials) or ``n_batch`` (one terminal per row, expected counts).
    """
    v_t0, v_t1, interval = terms["v_t0"], terms["v_t1"], terms["interval"]
    p_aoa, p_pair = terms["p_aoa"], terms["p_pair"]
    shape_v = (n_batch, p_aoa.shape[-1])
    shape_p = (n_batch, p_pair.shape[-1])
    grid = _time_grid(duration_s, float(interval.min()) if len(interval) else duration_s)
    n_aoa, n_pair = np.zeros(shape_v), np.zeros(shape_p)
    looks_prev, pair_prev = np.zeros(len(v_t0)), np.zeros(shape_p[1])
    found = np.full(n_batch, np.inf)
    major = np.full(n_batch, np.inf)
    live = np.broadcast_to(p_aoa > 0, shape_v).any(axis=0)
    live_pair = np.broadcast_to(p_pair > 0, shape_p).any(axis=0)
    p_aoa_b = np.broadcast_to(p_aoa, shape_v)[:, live]
    p_pair_b = np.broadcast_to(p_pair, shape_p)[:, live_pair]
    # the previous grid time and 1 / major^2 then; looks come every `step` at the fastest
    # sensor, so nothing is found before the first look
    step = float(interval.min()) if len(interval) else duration_s
    t_prev, q_prev = float(grid[0]), np.zeros(n_batch)
    q_goal = 1.0 / radius_m**2
    for t in grid:
        looks = np.floor((np.clip(t, v_t0, v_t1) - v_t0) / interval)
        new, looks_prev = looks - looks_prev, looks
        if live.any():
            n_aoa[:, live] += _draw(new[live], p_aoa_b, rng, expected)
        pl = np.floor((np.clip(t, terms["pair_t0"], terms["pair_t1"]) - terms["pair_t0"]) / terms["pair_iv"])
        newp, pair_prev = pl - pair_prev, pl
        if live_pair.any():
            n_pair[:, live_pair] += _draw(newp[live_pair], p_pair_b, rng, expected)
        # weight 1 / (sigma_1^2 / n + floor^2), written n / (sigma_1^2 + n floor^2) so that
        # n = 0 and an infinite one-look variance both give 0
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            w_b = np.nan_to_num(n_aoa / (terms["sig_b1"] + n_aoa * terms["sig_bf"]), nan=0.0, posinf=0.0)
            w_p = np.nan_to_num(n_pair / (terms["s_pair"] + n_pair * terms["f_pair"]), nan=0.0, posinf=0.0)
        info = np.einsum("...v,...vij->...ij", w_b, terms["g_aoa"]) + np.einsum(
            "...p,...pij->...ij", w_p, terms["g_pair"]
        )
        major, _, _ = _semi_axes(info)
        hit = (major < radius_m) & ~np.isfinite(found)
        # the detections of (t_prev, t] came one by one through the interval: the fix got
        # good enough when the information (1 / major^2, linear in the detections) reached
        # 1 / radius^2, interpolated between the grid times rather than rounded up to t
        with np.errstate(divide="ignore"):
            q = 1.0 / np.square(major)
        frac = np.clip((q_goal - q_prev[hit]) / np.maximum(q[hit] - q_prev[hit], 1e-300), 0.0, 1.0)
        found[hit] = np.minimum(np.ceil((t_prev + frac * (t - t_prev)) / step - 1e-9) * step, t)
        t_prev, q_prev = t, q
        if np.all(np.isfinite(found)):
            break
    return found, major


def cochannel_interference_w(emitter: Emitter, latitude_deg, longitude_deg, sensors: Sequence[Sensor], pointing) -> tuple[np.ndarray, np.ndarray]:
    """Mean co-channel power (W) each sensor receives from a set of transmitting terminals,
    and each terminal's own part, ``((n_sensors,), (n_terminals, n_sensors))``.

    Terminals spread over the 8 uplink channels (one in 8 shares the sensor's channel) and
    transmit a duty-cycle fraction of the time: the mean power is the received power x
    duty / 8, summed. ``pointing``: per terminal, its beam directions (see
    :func:`serving_directions`); a terminal with none contributes nothing.
    """
    slat = np.array([s.latitude_deg for s in sensors])
    slon = np.array([s.longitude_deg for s in sensors])
    sh = np.array([s.height_m for s in sensors])
    air = [s.airborne for s in sensors]
    noise_w = 10 ** (noise_power_dbw(np.array([s.bandwidth_hz for s in sensors]), np.array([s.noise_figure_db for s in sensors])) / 10)
    own = []
    for a, b, p in zip(np.atleast_1d(latitude_deg), np.atleast_1d(longitude_deg), pointing):
        if not len(p):
            own.append(np.zeros(len(sensors)))
            continue
        link = link_snr_db(emitter, a, b, slat, slon, sh, air, p, sensors=sensors)
        rx = np.where(np.isfinite(link.snr_db), 10 ** (link.snr_db / 10), 0.0).mean(axis=1) * noise_w
        own.append(rx * emitter.duty_cycle / UPLINK_CHANNELS)
    own_a = np.array(own).reshape(-1, len(sensors))
    return own_a.sum(axis=0), own_a


# ========================================================================= risk map
def risk_map(
    latitude_deg,
    longitude_deg,
    sensors: Sequence[Sensor],
    *,
    emitter: Emitter | None = None,
    pointing_elevation_deg: float = 50.0,
    hours: float = 24.0,
    radius_m: float = LOCATE_RADIUS_M,
    method: str = "hybrid",
) -> np.ndarray:
    """Expected time to locate (s; inf if not within ``hours``) of a terminal at each point.

    Uses expected look counts (no randomness) and a beam at ``pointing_elevation_deg``
    pointing away from the nearest sensor's azimuth (a typical sidelobe geometry), so a
    map over thousands of points costs a fraction of the Monte Carlo.
    """
    emitter = emitter or Emitter()
    sensors = tuple(sensors)
    lat = np.asarray(latitude_deg, dtype=np.float64).reshape(-1)
    lon = np.asarray(longitude_deg, dtype=np.float64).reshape(-1)
    out = np.full(len(lat), np.inf)
    if len(lat) == 0 or not sensors:
        return out.reshape(np.shape(latitude_deg))
    duration = hours * 3600.0
    if any(s.path is not None for s in sensors):  # moving sensors: one point at a time
        for k in range(len(lat)):
            pointing = _zenith_directions(lat[k], lon[k], [pointing_elevation_deg], [0.0])
            r = time_to_locate(lat[k], lon[k], sensors, emitter=emitter, pointing=pointing, hours=hours,
                               radius_m=radius_m, method=method, expected=True, trials=1)  # fmt: skip
            out[k] = r.times_s[0]
        return out.reshape(np.shape(latitude_deg))
    # fixed sensors: every point's terms stacked on a batch axis, one pass over time
    per_point = [
        _period_terms(a, b, sensors, emitter, _zenith_directions(a, b, [pointing_elevation_deg], [0.0]), duration, 0.0, method, None, 300.0)
        for a, b in zip(lat.tolist(), lon.tolist())
    ]  # fmt: skip
    stacked = {
        k: (per_point[0][k] if k in _SHARED_TERMS else np.stack([t[k] for t in per_point]))
        for k in per_point[0]
        if isinstance(per_point[0][k], np.ndarray)
    }
    out, _ = _run_grid(stacked, duration, radius_m, len(lat), None, True)
    return out.reshape(np.shape(latitude_deg))
