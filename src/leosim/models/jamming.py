"""GPS L1 jamming: which terminals cannot locate themselves, and so get ``UNKNOWN_LOCATION``.

A Starlink terminal needs its own GPS fix to be served (the operator checks where it is):
jam GPS and it is denied, which is what Iran did in January 2026 (~30 % then over 80 % of
Starlink traffic disrupted, patchy by area; Miaan Group / Reuters 2026). The model:

- a :class:`Jammer` (position, antenna height, EIRP in dBW, active intervals) radiates
  isotropically in azimuth at GPS L1 (1575.42 MHz);
- the power a terminal's GPS antenna receives is the free-space budget, less a flat
  clutter loss (a parameter: 0 dB, free space, is the jammer's best case), with the
  GPS antenna's gain toward the horizon; beyond the 4/3-Earth radio horizon a jammer does
  not reach the terminal (diffraction not modelled);
- J/S is the total jammer power over the GPS signal, -128.5 dBm for L1 C/A (the
  minimum received power in IS-GPS-200, user antenna at 5 deg elevation or more);
- a receiver whose J/S exceeds its tolerance (default 30 dB, assumption: C/A-code
  receivers lose lock at roughly 24-40 dB, Kaplan & Hegarty, *Understanding GPS/GNSS*,
  3rd ed., ch. 9) has no fix; after ``grace_s`` without one (default 0) the terminal is
  ``UNKNOWN_LOCATION``.

Outputs: :func:`location_known` (feed it to :func:`leosim.models.policy.admit`) and
:func:`denied_share` over an area and time. Core maths only; the map is drawn by
``leosim.present.adversary_maps``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from leosim.core.geodesy import great_circle_m
from leosim.core.radio import free_space_loss_db, radio_horizon_m
from leosim.core.time import parse_time
from leosim.core.values import cut_repr as _cut
from leosim.core.values import finite_number as _finite
from leosim.errors import JammerError, ParameterError

__all__ = [
    "GPS_L1_HZ",
    "GPS_L1_SIGNAL_DBM",
    "Jammer",
    "JammerError",
    "denied_share",
    "j_to_s_db",
    "location_known",
]

GPS_L1_HZ = 1575.42e6  # IS-GPS-200
GPS_L1_SIGNAL_DBM = -128.5  # IS-GPS-200: minimum received L1 C/A power
RECEIVER_TOLERANCE_DB = 30.0  # assumption (Kaplan & Hegarty: 24-40 dB for C/A code)
GPS_ANTENNA_GAIN_DBI = -5.0  # assumption: a patch antenna's gain near the horizon
TERMINAL_GPS_HEIGHT_M = 3.0  # assumption: same as the terminal (exposure.TERMINAL_HEIGHT_M)
#: Jammer EIRPs leosim accepts, dBW: from a milliwatt-class device to a broadcast-class
#: transmitter (100 dBW is 10 GW EIRP, far beyond any fielded jammer).
JAMMER_EIRP_RANGE_DBW = (-60.0, 100.0)
#: Highest jammer antenna leosim accepts, m (an aircraft at 20 km).
JAMMER_HEIGHT_MAX_M = 20_000.0





@dataclass(frozen=True)
class Jammer:
    """A GPS L1 jammer: where, how high (m above ground), how strong (EIRP, dBW), when.

    ``active``: ``(start, end)`` UTC intervals (``datetime64`` or ISO strings); empty
    means always on.

    >>> Jammer("j", 35.7, 51.4, eirp_dbw=10.0).is_active(np.array(["2026-01-08T12:00"], dtype="datetime64[ns]")).tolist()
    [True]
    """

    name: str
    latitude_deg: float
    longitude_deg: float
    eirp_dbw: float
    height_m: float = 10.0
    active: tuple[tuple[np.datetime64, np.datetime64], ...] = ()

    def __post_init__(self) -> None:
        where = f"jammer {_cut(self.name, 80)}"
        for key in ("latitude_deg", "longitude_deg", "eirp_dbw", "height_m"):
            v = getattr(self, key)
            if not _finite(v):
                raise JammerError(f"{where}: {key} {_cut(v)} is not a finite number")
        if not (-90 <= self.latitude_deg <= 90 and -180 <= self.longitude_deg <= 360):
            raise JammerError(
                f"{where}: position ({self.latitude_deg!r}, {self.longitude_deg!r}) is not a latitude -90..90 and longitude -180..180"
            )
        if self.height_m < 0:
            raise JammerError(f"{where}: height_m {self.height_m!r} is under ground; expected an antenna height >= 0 m")
        if self.height_m > JAMMER_HEIGHT_MAX_M:
            raise JammerError(f"{where}: height_m {self.height_m!r} is out of range; expected an antenna height up to "
                              f"{JAMMER_HEIGHT_MAX_M:,.0f} m (an aircraft)")
        lo, hi = JAMMER_EIRP_RANGE_DBW
        if not lo <= self.eirp_dbw <= hi:
            raise JammerError(f"{where}: eirp_dbw {self.eirp_dbw!r} is out of range; expected {lo:g} to {hi:g} dBW "
                              "(10 dBW is a 10 W transmitter)")
        intervals = []
        for iv in self.active:
            try:
                a, b = (parse_time(x) if isinstance(x, str) else np.datetime64(x, "ns") for x in iv)
            except (TypeError, ValueError, OverflowError) as exc:
                raise JammerError(f"{where}: active interval {_cut(iv)} is not two UTC times: {str(exc)[:300]}") from None
            if not b > a:
                raise JammerError(f"{where}: active interval {_cut(iv)} ends before it starts")
            intervals.append((a, b))
        object.__setattr__(self, "active", tuple(intervals))

    @classmethod
    def from_record(cls, rec) -> Jammer:
        """A jammer from a file's record (:class:`~leosim.formats.jammers.JammerRecord`);
        a value the jammer refuses is reported at the record's place."""
        try:
            return cls(rec.name, rec.latitude_deg, rec.longitude_deg, rec.eirp_dbw, rec.height_m, rec.active)
        except JammerError as exc:
            raise JammerError(f"{rec.where}: {exc}") from None

    def is_active(self, times) -> np.ndarray:
        t = np.asarray(times, dtype="datetime64[ns]")
        if not self.active:
            return np.ones(t.shape, bool)
        on = np.zeros(t.shape, bool)
        for a, b in self.active:
            on |= (t >= a) & (t < b)
        return on


def j_to_s_db(
    jammers: Sequence[Jammer],
    latitude_deg,
    longitude_deg,
    times=None,
    *,
    clutter_loss_db: float = 0.0,
    antenna_gain_dbi: float = GPS_ANTENNA_GAIN_DBI,
    receiver_height_m: float = TERMINAL_GPS_HEIGHT_M,
    signal_dbm: float = GPS_L1_SIGNAL_DBM,
) -> np.ndarray:
    """Jamming-to-signal ratio (dB) at points, from all active jammers together.

    Returns ``(n_times, n_points)`` (``(n_points,)`` when ``times`` is None, every jammer
    on). -inf where no jammer reaches. Power adds in watts over jammers.

    A 10 dBW jammer 10 km away in free space, a -5 dBi antenna: 10 - 116.4 - 5 = -111.4
    dBW = -81.4 dBm, J/S = 47.1 dB:

    >>> round(float(j_to_s_db([Jammer("j", 0.0, 0.0, 10.0, height_m=30.0)], 0.0, 0.08993)[0]), 1)
    47.1
    """
    lat = np.asarray(latitude_deg, dtype=np.float64).reshape(-1)
    lon = np.asarray(longitude_deg, dtype=np.float64).reshape(-1)
    if not (clutter_loss_db >= 0):
        raise ParameterError(f"clutter loss {clutter_loss_db!r} dB; expected >= 0")
    single = times is None
    t = np.zeros(1, dtype="datetime64[ns]") if single else np.asarray(times, dtype="datetime64[ns]").reshape(-1)
    total_w = np.zeros((len(t), len(lat)))
    for j in jammers:
        ground = great_circle_m(j.latitude_deg, j.longitude_deg, lat, lon)
        slant = np.hypot(ground, j.height_m - receiver_height_m)
        p_dbw = j.eirp_dbw - free_space_loss_db(np.maximum(slant, 1.0), GPS_L1_HZ) - clutter_loss_db + antenna_gain_dbi
        reach = ground <= radio_horizon_m(j.height_m, receiver_height_m)
        p_w = np.where(reach, 10 ** (p_dbw / 10), 0.0)
        on = np.ones(len(t), bool) if single else j.is_active(t)
        total_w += on[:, None] * p_w[None, :]
    with np.errstate(divide="ignore"):
        js = 10 * np.log10(total_w) + 30.0 - signal_dbm  # dBW -> dBm, then over the signal
    return js[0] if single else js


def location_known(
    jammers: Sequence[Jammer],
    latitude_deg,
    longitude_deg,
    times,
    *,
    tolerance_db: float = RECEIVER_TOLERANCE_DB,
    grace_s: float = 0.0,
    **budget,
) -> np.ndarray:
    """``(n_times, n_points)`` bool: the terminal still has (or may still use) a GPS fix.

    Jammed means J/S above ``tolerance_db``; a terminal is denied once it has been jammed
    for more than ``grace_s`` without a break (0: at once). ``budget`` goes to
    :func:`j_to_s_db`.
    """
    if not (grace_s >= 0):
        raise ParameterError(f"grace period {grace_s!r} s; expected >= 0")
    t = np.asarray(times, dtype="datetime64[ns]").reshape(-1)
    jammed = j_to_s_db(jammers, latitude_deg, longitude_deg, t, **budget) > tolerance_db
    if grace_s == 0:
        return ~jammed
    ts = t.astype(np.int64) / 1e9
    known = np.ones_like(jammed)
    since = np.full(jammed.shape[1], np.nan)
    for k in range(len(t)):
        since = np.where(jammed[k], np.where(np.isnan(since), ts[k], since), np.nan)
        known[k] = ~(jammed[k] & (ts[k] - since > grace_s))
    return known


def denied_share(
    jammers: Sequence[Jammer],
    latitude_deg,
    longitude_deg,
    times,
    *,
    weights=None,
    **kwargs,
) -> np.ndarray:
    """Share of terminals (or of ``weights``, e.g. population) denied at each time, ``(n_times,)``."""
    known = location_known(jammers, latitude_deg, longitude_deg, times, **kwargs)
    w = np.ones(known.shape[1]) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if len(w) != known.shape[1] or np.any(w < 0) or w.sum() <= 0:
        raise ParameterError(f"weights must be {known.shape[1]} non-negative numbers, not all zero")
    return (~known * w).sum(axis=1) / w.sum()
