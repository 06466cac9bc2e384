"""Constellations: Walker-delta shells and real element sets, propagated with SGP4.

A :class:`Constellation` is an immutable set of satellites, each an SGP4 record, with
labels (name, NORAD id) and its place in the constellation's structure (shell, orbital
plane, slot along the plane) which the laser-link topology needs. Positions come out as
``(n_times, n_sats, 3)`` float64 metres, Earth-fixed (ITRF), NaN where SGP4 fails.

No garbage orbit reaches a result: at each instant, on its own (so a run cut into chunks
gives the same answer), a satellite is NaN when SGP4 fails, when SGP4 puts it outside
:data:`PLAUSIBLE_ALTITUDE_M` (100 to 50,000 km), or when its element set's epoch is more
than :data:`MAX_ELEMENT_AGE_S` (30 days) from the instant. :meth:`Constellation.position_status`
says which, per satellite and instant; :meth:`Constellation.stale_or_implausible` says why
in words; :meth:`Constellation.epoch_warning` gives the one sentence a command prints when
its run is far from the element sets' epochs.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property
from importlib import resources
from pathlib import Path
from types import EllipsisType

import numpy as np
from sgp4.api import SGP4_ERRORS, WGS72, Satrec, SatrecArray

from leosim.core.geodesy import WGS84_A_M, WGS84_F, ecef_to_geodetic
from leosim.core.time import format_time, jd_split, parse_time
from leosim.errors import ConstellationError, ElementSetError
from leosim.formats.elements import ElementRecord, read_element_file

# WGS72 constants, the ones SGP4 itself is defined with (Spacetrack Report #3).
_MU_KM3_S2 = 398600.8
_RE_SGP4_M = 6378135.0
_MINUTES_PER_DAY = 1440.0
_SGP4_EPOCH_JD = 2433281.5  # 1949-12-31 00:00 UTC, the origin of sgp4init's epoch
DEFAULT_WALKER_EPOCH = "2026-05-13T00:00:00"

#: An element set is not propagated to instants more than this far from its epoch (either
#: way): SGP4's mean elements are a fit to a few days of tracking and its error in low orbit
#: grows by kilometres a day (drag, mostly: 1-3 km/day for Starlink-like orbits, Vallado et
#: al. 2006), so after a month a position is off by tens to hundreds of kilometres, more
#: than the distance between neighbouring satellites. Walker shells built here and
#: Hypatia tles.txt layouts are exact by definition (drag-free, circular) and carry no
#: age limit.
MAX_ELEMENT_AGE_S = 30 * 86400.0
#: Altitudes (m, above the WGS84 ellipsoid) at which an SGP4 position is believed. Below
#: 100 km (the Karman line) nothing completes an orbit: SGP4 is still drawing a decayed
#: satellite; above 50,000 km is beyond any satellite of a network on the ground's service
#: (geostationary is 35,786 km): a mean motion typed as 0.1 rev/day lands at 196,000 km.
PLAUSIBLE_ALTITUDE_M = (100e3, 50_000e3)
_AGE_CAP_S = 100 * 365.25 * 86400.0
_WGS84_B_M = WGS84_A_M * (1.0 - WGS84_F)


class PositionStatus(IntEnum):
    """Why a satellite's position at an instant is NaN (``OK`` when it is not)."""

    OK = 0
    SGP4_FAILED = 1  # SGP4 returned an error code (decay, eccentricity out of range, ...)
    STALE = 2  # the element set's epoch is more than the age limit from the instant
    TOO_LOW = 3  # SGP4 puts it below PLAUSIBLE_ALTITUDE_M[0]
    TOO_HIGH = 4  # SGP4 puts it above PLAUSIBLE_ALTITUDE_M[1]


@dataclass(frozen=True)
class Shell:
    """A Walker-delta shell ``i: T/P/F`` at one altitude.

    ``phasing`` is Walker's F: plane ``p`` is shifted along-track by
    ``p * F * 360 / (planes * sats_per_plane)`` degrees.
    """

    altitude_m: float
    inclination_deg: float
    planes: int
    sats_per_plane: int
    phasing: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        checks = [
            (100e3 <= self.altitude_m <= 50_000e3, "altitude_m", self.altitude_m, "100e3 to 50,000e3 m"),
            (0.0 <= self.inclination_deg <= 180.0, "inclination_deg", self.inclination_deg, "0 to 180"),
            (self.planes >= 1, "planes", self.planes, "at least 1"),
            (self.sats_per_plane >= 1, "sats_per_plane", self.sats_per_plane, "at least 1"),
            (0 <= self.phasing < max(self.planes, 1), "phasing", self.phasing, f"0 to planes - 1 = {self.planes - 1}"),
        ]
        for ok, key, value, expected in checks:
            if not ok:
                raise ConstellationError(f"shell {key} = {value!r} is impossible; expected {expected}")

    @property
    def size(self) -> int:
        return self.planes * self.sats_per_plane


# Reference shells (see docs/design.md). FCC filings give altitude, inclination, planes and
# satellites per plane but not Walker's phasing F; F = 1 is our assumption.
STARLINK_GEN1 = (
    Shell(550e3, 53.0, 72, 22, 1, "550km-53.0deg"),
    Shell(540e3, 53.2, 72, 22, 1, "540km-53.2deg"),
    Shell(570e3, 70.0, 36, 20, 1, "570km-70.0deg"),
    Shell(560e3, 97.6, 6, 58, 1, "560km-97.6deg-a"),
    Shell(560e3, 97.6, 4, 43, 1, "560km-97.6deg-b"),
)  # FCC SAT-MOD-20200417-00037: 4,408 satellites
STARLINK_GEN2A = (
    Shell(525e3, 53.0, 28, 120, 1, "525km-53deg"),
    Shell(530e3, 43.0, 28, 120, 1, "530km-43deg"),
    Shell(535e3, 33.0, 28, 120, 1, "535km-33deg"),
)  # FCC Dec 2022 partial grant of Gen2 (these three shells as filed: 28 planes x 120)

_PRESETS: dict[str, str] = {
    "starlink-shell1": "Starlink Gen1 shell 1: 550 km, 53 deg, 72 planes x 22 (1,584 satellites)",
    "starlink-gen1": "Starlink Gen1, all five shells (4,408 satellites), FCC SAT-MOD-20200417-00037",
    "starlink-gen2a": "Starlink Gen2 first grant: 525/530/535 km at 53/43/33 deg, 28 x 120 each",
    "starlink-2026-05": "Real Starlink snapshot: 10,361 satellites, CelesTrak supplemental GP, 2026-05-13",
}
PRESET_NAMES = tuple(_PRESETS)
#: The constellation every command and scenario uses unless told otherwise: the real one.
DEFAULT_PRESET = "starlink-2026-05"


@dataclass(frozen=True, eq=False)
class Constellation:
    """Satellites as SGP4 records plus labels and structure.

    Build one with :meth:`walker`, :meth:`from_file`, :meth:`from_records` or
    :meth:`preset`; the constructor itself takes already-aligned arrays.

    ``shell``, ``plane`` and ``slot`` are ``int`` arrays of shape ``(n_sats,)``; ``-1``
    marks a satellite whose place could not be recovered (e.g. still raising its orbit),
    which then gets no +Grid laser links.
    """

    satrecs: tuple[Satrec, ...]
    names: tuple[str, ...]
    norad_ids: tuple[int | None, ...]
    shell: np.ndarray
    plane: np.ndarray
    slot: np.ndarray
    shells: tuple[Shell, ...] = ()
    description: str = ""
    # True when (shell, plane, slot) come from a layout by index (Walker shells, Hypatia
    # tles.txt) rather than from recovering the structure of real elements
    is_walker: bool = field(default=False)
    # Satellites are NaN at instants further than this (s) from their element epoch; None
    # for no limit (Walker shells built by from_shells and Hypatia tles.txt layouts, whose
    # elements are exact by definition)
    max_element_age_s: float | None = MAX_ELEMENT_AGE_S

    def __post_init__(self) -> None:
        age = self.max_element_age_s
        if age is not None and not (isinstance(age, (int, float)) and 0 < age < float("inf")):
            raise ConstellationError(
                f"max_element_age_s = {age!r} is impossible; expected a positive number of seconds, or None for no limit"
            )

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_shells(
        cls,
        shells: tuple[Shell, ...] | list[Shell],
        epoch: str | np.datetime64 = DEFAULT_WALKER_EPOCH,
        description: str = "",
    ) -> Constellation:
        """Walker-delta shells, each satellite initialised with ``Satrec.sgp4init``.

        Circular orbits (e = 0), no drag, mean motion from Kepler's third law with the
        WGS72 constants SGP4 uses; plane ``p`` has RAAN ``360 p / P`` and slot ``s`` mean
        anomaly ``360 s / S + 360 p F / (P S)``.
        """
        t0 = parse_time(epoch)
        jd, fr = jd_split(np.array([t0]))
        epoch_days = float(jd[0] - _SGP4_EPOCH_JD + fr[0])
        satrecs, names, shell_ix, plane_ix, slot_ix = [], [], [], [], []
        for k, sh in enumerate(shells):
            a_km = (_RE_SGP4_M + sh.altitude_m) / 1e3
            n_rad_min = np.sqrt(_MU_KM3_S2 / a_km**3) * 60.0
            for p in range(sh.planes):
                raan = 2 * np.pi * p / sh.planes
                for s in range(sh.sats_per_plane):
                    m = 2 * np.pi * (s / sh.sats_per_plane + p * sh.phasing / (sh.planes * sh.sats_per_plane))
                    sat = Satrec()
                    sat.sgp4init(
                        WGS72, "i", len(satrecs) % 100000, epoch_days, 0.0, 0.0, 0.0, 0.0, 0.0,
                        np.radians(sh.inclination_deg), m % (2 * np.pi), n_rad_min, raan,
                    )
                    satrecs.append(sat)
                    names.append(f"S{k}-P{p}-{s}" if len(shells) > 1 else f"P{p}-{s}")
                    shell_ix.append(k)
                    plane_ix.append(p)
                    slot_ix.append(s)
        return cls(
            satrecs=tuple(satrecs),
            names=tuple(names),
            norad_ids=(None,) * len(satrecs),
            shell=np.array(shell_ix, dtype=np.int32),
            plane=np.array(plane_ix, dtype=np.int32),
            slot=np.array(slot_ix, dtype=np.int32),
            shells=tuple(shells),
            description=description or " + ".join(
                f"{s.altitude_m / 1e3:g} km {s.inclination_deg:g} deg {s.planes}x{s.sats_per_plane}" for s in shells
            ),
            is_walker=True,
            max_element_age_s=None,
        )

    @classmethod
    def walker(
        cls,
        altitude_km: float,
        inclination_deg: float,
        planes: int,
        sats_per_plane: int,
        phasing: int = 1,
        epoch: str | np.datetime64 = DEFAULT_WALKER_EPOCH,
    ) -> Constellation:
        """One Walker-delta shell; see :meth:`from_shells`."""
        return cls.from_shells([Shell(altitude_km * 1e3, inclination_deg, planes, sats_per_plane, phasing)], epoch)

    @classmethod
    def from_records(
        cls,
        records: list[ElementRecord],
        hypatia_layout: tuple[int, int] | None = None,
        description: str = "",
    ) -> Constellation:
        """Real element sets; shells and planes recovered from the elements.

        With ``hypatia_layout = (n_orbits, n_sats_per_orbit)`` the structure is taken as
        Hypatia defines it (satellite ``i`` is slot ``i % n`` of orbit ``i // n``).
        """
        if not records:
            raise ElementSetError("the element set is empty; expected at least one satellite")
        satrecs = tuple(r.satrec for r in records)
        n = len(satrecs)
        shells: tuple[Shell, ...] = ()
        if hypatia_layout is not None:
            n_orbits, per = hypatia_layout
            idx = np.arange(n)
            shell = np.zeros(n, dtype=np.int32)
            plane = (idx // per).astype(np.int32)
            slot = (idx % per).astype(np.int32)
            # Hypatia's +Grid links slot s of orbit p to slot s of orbit p + 1 (no shift
            # across the seam): a Walker layout with phasing 0, by index
            n_rad_s = np.median([s.no_kozai for s in satrecs]) / 60.0
            alt_m = (_MU_KM3_S2 / n_rad_s**2) ** (1 / 3) * 1e3 - _RE_SGP4_M
            inc = float(np.degrees(np.median([s.inclo for s in satrecs])))
            shells = (Shell(float(np.clip(alt_m, 100e3, 50_000e3)), inc, n_orbits, per, 0, "hypatia"),)
        else:
            from leosim.space.structure import recover_structure

            shell, plane, slot = recover_structure(satrecs)
        return cls(
            satrecs=satrecs,
            names=tuple(r.name or (f"NORAD-{r.norad_id}" if r.norad_id is not None else f"SAT-{i}") for i, r in enumerate(records)),
            norad_ids=tuple(r.norad_id for r in records),
            shell=shell,
            plane=plane,
            slot=slot,
            shells=shells,
            description=description,
            is_walker=bool(shells),
            # Hypatia's tles.txt is a designed shell (satgen writes drag-free elements at
            # one epoch), exact by definition like a Walker shell: no age limit
            max_element_age_s=None if hypatia_layout is not None else MAX_ELEMENT_AGE_S,
        )

    @classmethod
    def from_file(cls, path: str | Path) -> Constellation:
        """TLE (2- or 3-line, optionally .gz), CelesTrak OMM JSON/CSV, or Hypatia tles.txt."""
        records, layout = read_element_file(path)
        return cls.from_records(records, hypatia_layout=layout, description=f"{Path(path).name}")

    @classmethod
    def preset(cls, name: str) -> Constellation:
        """A built-in constellation; :data:`PRESET_NAMES` lists them."""
        key = name.strip().lower()
        if key == "starlink-shell1":
            return cls.from_shells(STARLINK_GEN1[:1], description=_PRESETS[key])
        if key == "starlink-gen1":
            return cls.from_shells(STARLINK_GEN1, description=_PRESETS[key])
        if key == "starlink-gen2a":
            return cls.from_shells(STARLINK_GEN2A, description=_PRESETS[key])
        if key == "starlink-2026-05":
            return _starlink_2026_05()
        raise ConstellationError(
            f"unknown constellation {name!r}; expected one of: {', '.join(PRESET_NAMES)} "
            "(or give an element-set file with --tle FILE)"
        )

    # --------------------------------------------------------------- pickling
    def __reduce__(self):
        """Pickle by elements: SGP4 records are rebuilt with ``sgp4init`` on the other side
        (bit-identical positions), so a constellation can travel to worker processes and
        Dask workers that share no files with the driver."""
        elements = np.array(
            [
                (s.satnum, s.jdsatepoch - _SGP4_EPOCH_JD + s.jdsatepochF, s.bstar, s.ndot, s.nddot, s.ecco,
                 s.argpo, s.inclo, s.mo, s.no_kozai, s.nodeo, s.jdsatepoch, s.jdsatepochF)
                for s in self.satrecs
            ],
            dtype=np.float64,
        ).reshape(-1, 13)
        return (
            _rebuild_constellation,
            (elements, self.names, self.norad_ids, self.shell, self.plane, self.slot, self.shells, self.description,
             self.is_walker, self.max_element_age_s),
        )

    # ------------------------------------------------------------------- views
    def __len__(self) -> int:
        return len(self.satrecs)

    @property
    def n_sats(self) -> int:
        return len(self.satrecs)

    @cached_property
    def _array(self) -> SatrecArray:
        return SatrecArray(list(self.satrecs))

    @cached_property
    def epochs(self) -> np.ndarray:
        """Element-set epoch of each satellite, datetime64[ns] UTC, shape ``(n_sats,)``."""
        jd = np.array([s.jdsatepoch for s in self.satrecs]) - 2440587.5
        fr = np.array([s.jdsatepochF for s in self.satrecs])
        # whole days and the rest apart: (jd + fr) * 86400e9 near 1.8e18 would round to
        # 256 ns in float64
        whole = np.floor(jd)
        ns = whole.astype(np.int64) * 86_400_000_000_000 + np.round((jd - whole + fr) * 86400e9).astype(np.int64)
        return ns.astype("datetime64[ns]")

    @cached_property
    def epoch(self) -> np.datetime64:
        """Where runs start by default: the latest epoch of the bulk of the element sets.

        The bulk is every epoch within half the age limit (:attr:`max_element_age_s`, or
        :data:`MAX_ELEMENT_AGE_S` where there is none) of the median epoch (the lower
        median, an epoch of the set). Its latest is taken so that no satellite of the bulk
        is propagated backwards, and the bulk spans at most the age limit, so every one of
        its satellites is within the limit at the start. An outlier (one record dated 2100,
        or 1960) is outside the bulk and does not move the start.
        """
        ns = np.sort(self.epochs.astype(np.int64))
        median = ns[(len(ns) - 1) // 2]
        half = round(min(self.max_element_age_s or MAX_ELEMENT_AGE_S, _AGE_CAP_S) * 0.5e9)
        return ns[ns <= median + half].max().astype("datetime64[ns]")

    @cached_property
    def serves_terminals(self) -> np.ndarray:
        """Whether each satellite carries user-terminal (Ku) links, shape ``(n_sats,)``.

        Starlink's direct-to-cell satellites (``[DTC]`` in their names) serve phones, not
        dishes: they keep their laser links but never serve a terminal.
        """
        return np.array(["[DTC]" not in n for n in self.names], dtype=bool)

    @cached_property
    def mean_altitude_m(self) -> np.ndarray:
        """Mean altitude (m) above the SGP4 equatorial radius from the mean motion."""
        n = np.array([s.no_kozai for s in self.satrecs]) / 60.0  # rad/s
        with np.errstate(divide="ignore"):
            a_m = (_MU_KM3_S2 / n**2) ** (1 / 3) * 1e3
        return a_m - _RE_SGP4_M

    @cached_property
    def inclination_deg(self) -> np.ndarray:
        return np.degrees([s.inclo for s in self.satrecs])

    def _sgp4(self, times: np.ndarray, sat_index: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """TEME r (m), v (m/s), each ``(n_times, n, 3)``, and error codes ``(n_times, n)``."""
        jd, fr = jd_split(np.atleast_1d(times))
        if sat_index is None:
            arr = self._array
        else:
            arr = SatrecArray([self.satrecs[i] for i in np.asarray(sat_index).tolist()])
        e, r, v = arr.sgp4(jd, fr)
        r = np.transpose(r, (1, 0, 2)) * 1e3
        v = np.transpose(v, (1, 0, 2)) * 1e3
        e = e.T
        r[e != 0] = np.nan
        v[e != 0] = np.nan
        return r, v, e

    def positions_teme(
        self,
        times: np.ndarray,
        sat_index: np.ndarray | None = None,
        knot_s: float | None = None,
        *,
        max_age_s: float | None | EllipsisType = ...,
        plausible_altitude_m: tuple[float, float] | None = PLAUSIBLE_ALTITUDE_M,
    ) -> np.ndarray:
        """SGP4 positions in TEME (m), shape ``(n_times, n_sats, 3)``, NaN where SGP4 failed
        or the position is not believed (see :meth:`position_status`).

        ``max_age_s``: satellites whose element epoch is further than this from an instant
        are NaN there; ``...`` (the default) takes the constellation's
        ``max_element_age_s`` (:data:`MAX_ELEMENT_AGE_S` for real element sets, none for
        Walker shells), ``None`` turns the check off. ``plausible_altitude_m``: positions
        outside ``(low, high)`` metres above the WGS84 ellipsoid are NaN; ``None`` turns
        it off. Both off gives SGP4's own answer (Vallado's verification vectors propagate
        decaying and deep-space cases years from their epochs). Each instant is judged on
        its own, so the answer does not depend on how the times are batched.

        With ``knot_s`` set and more instants than knots, SGP4 runs only at knots every
        ``knot_s`` seconds (on an absolute grid, so the answer does not depend on where a
        chunk starts) and positions in between come from cubic Hermite interpolation of
        SGP4's own positions and velocities. Measured against SGP4 at every 100 ms step
        over 200 s of Starlink Gen1, the largest error is 2.2 cm with 10 s knots and 35 cm
        with 60 s knots (``benchmarks/`` and ``tests/test_constellation.py``).
        With ``sat_index``, only those satellites, in that order.
        """
        times = np.atleast_1d(np.asarray(times, dtype="datetime64[ns]"))
        if max_age_s is None and plausible_altitude_m is None:
            return self._propagate(times, sat_index, knot_s, None)[0]  # SGP4's own answer
        r, flat, codes = self._judged(times, sat_index, knot_s, max_age_s, plausible_altitude_m)
        if flat.size:
            tt, kk = np.divmod(flat, r.shape[1])
            r[tt, kk] = np.nan
        return r

    def _propagate(
        self, times: np.ndarray, sat_index, knot_s: float | None, plausible_altitude_m: tuple[float, float] | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """TEME positions (m) ``(n_times, n, 3)`` as SGP4 (and the interpolation) give them,
        NaN only where SGP4 failed, and the positions outside the plausible shell: flat
        indices into ``(n_times, n)`` and :class:`PositionStatus` codes (see
        :func:`_implausible`).

        Judged where SGP4 ran: at each instant without ``knot_s``; with it, at the knots,
        an instant taking the worse code of its two knots (an interpolated position is as
        good as the SGP4 positions it comes from, and the knots are a tenth of the
        instants or fewer: the hot path stays cheap). Either way an instant's verdict
        depends on that instant alone, not on the batch it comes in.
        """
        if knot_s is None:
            r = self._sgp4(times, sat_index)[0]
            return (r, *_implausible(r, plausible_altitude_m))
        # always interpolate when asked, even for one instant: the same instant must give
        # the same position whichever batch it comes in
        t_ns = times.astype(np.int64)
        h_ns = int(round(knot_s * 1e9))
        k_left = np.floor_divide(t_ns, h_ns)
        knots = np.unique(np.concatenate([k_left, k_left + 1]))
        r, v, _ = self._sgp4((knots * h_ns).astype("datetime64[ns]"), sat_index)
        j = np.searchsorted(knots, k_left)
        tau = ((t_ns - k_left * h_ns) / h_ns)[:, None, None]
        h = knot_s
        t2, t3 = tau * tau, tau * tau * tau
        h00, h10, h01, h11 = 2 * t3 - 3 * t2 + 1, t3 - 2 * t2 + tau, -2 * t3 + 3 * t2, t3 - t2
        out = h00 * r[j] + h10 * h * v[j] + h01 * r[j + 1] + h11 * h * v[j + 1]
        flat, codes = _implausible(r, plausible_altitude_m)
        if flat.size:
            at_knots = np.zeros(r.shape[:2], dtype=np.int8)
            at_knots.reshape(-1)[flat] = codes
            worse = np.maximum(at_knots[j], at_knots[j + 1])
            flat = np.flatnonzero(worse)
            codes = worse.reshape(-1)[flat]
        return out, flat, codes

    def _epochs_of(self, sat_index) -> np.ndarray:
        return self.epochs if sat_index is None else self.epochs[np.asarray(sat_index, dtype=np.intp)]

    def _judged(
        self,
        times: np.ndarray,
        sat_index,
        knot_s: float | None,
        max_age_s: float | None | EllipsisType,
        plausible_altitude_m: tuple[float, float] | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions as :meth:`_propagate` gives them, and those not believed: flat indices
        into ``(n_times, n)`` and their :class:`PositionStatus` codes.

        Stale entries come last, so that written in order a stale element set wins over
        the altitude or SGP4's failure it causes. Only satellites old or new enough to be
        stale at the batch's first or last instant get the per-instant comparison.
        """
        r, flat, codes = self._propagate(times, sat_index, knot_s, plausible_altitude_m)
        n_times, n = r.shape[:2]
        age = self.max_element_age_s if max_age_s is ... else max_age_s
        if age is not None and n_times and n:
            lo, hi = _age_window_ns(self._epochs_of(sat_index), age)
            t = times.astype(np.int64)
            old = np.flatnonzero((lo > t.min()) | (hi < t.max()))
            if old.size:
                tt, kk = np.nonzero((t[:, None] < lo[old]) | (t[:, None] > hi[old]))
                stale = tt * n + old[kk]
                flat = np.concatenate([flat, stale])
                codes = np.concatenate([codes, np.full(stale.size, PositionStatus.STALE, dtype=np.int8)])
        return r, flat, codes

    def _judge(
        self,
        times: np.ndarray,
        sat_index,
        knot_s: float | None,
        max_age_s: float | None | EllipsisType,
        plausible_altitude_m: tuple[float, float] | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Positions as :meth:`_propagate` gives them and their :class:`PositionStatus`
        codes ``(n_times, n)``, int8. Where several reasons hold, a stale element set wins
        (it is the cause), then the altitude, then SGP4's own failure."""
        r, flat, codes = self._judged(times, sat_index, knot_s, max_age_s, plausible_altitude_m)
        status = np.zeros(r.shape[:2], dtype=np.int8)
        stale = codes == PositionStatus.STALE  # each set of indices is free of repeats
        status.reshape(-1)[flat[~stale]] = codes[~stale]
        status.reshape(-1)[flat[stale]] = PositionStatus.STALE
        return r, status

    def position_status(
        self,
        times: np.ndarray | np.datetime64,
        sat_index: np.ndarray | None = None,
        knot_s: float | None = None,
        *,
        max_age_s: float | None | EllipsisType = ...,
        plausible_altitude_m: tuple[float, float] | None = PLAUSIBLE_ALTITUDE_M,
    ) -> np.ndarray:
        """Why each position of :meth:`positions` is NaN: :class:`PositionStatus` codes,
        int8, shape ``(n_times, n_sats)``; ``0`` (``OK``) where the position is good.
        The keywords are those of :meth:`positions_teme`."""
        times = np.atleast_1d(np.asarray(times, dtype="datetime64[ns]"))
        return self._judge(times, sat_index, knot_s, max_age_s, plausible_altitude_m)[1]

    def stale_or_implausible(
        self,
        times: np.ndarray | np.datetime64,
        sat_index: np.ndarray | None = None,
        knot_s: float | None = None,
        *,
        max_age_s: float | None | EllipsisType = ...,
        plausible_altitude_m: tuple[float, float] | None = PLAUSIBLE_ALTITUDE_M,
    ) -> dict[int, str]:
        """The satellites left out (NaN) at some of ``times``, each with why, in words.

        Returns ``{satellite index: reason}`` (indices into the whole constellation, also
        when ``sat_index`` picks some), the reason being that of the first instant where the
        satellite is NaN, e.g. ``"STARLINK-1008: element epoch 2026-05-12T22:48:42.000Z is
        233 days from 2027-01-01T00:00:00.000Z, more than 30 days: SGP4 is not trusted that
        far from its epoch"``. Satellites good at every instant are absent.
        """
        times = np.atleast_1d(np.asarray(times, dtype="datetime64[ns]"))
        r, status = self._judge(times, sat_index, knot_s, max_age_s, plausible_altitude_m)
        index = np.arange(self.n_sats) if sat_index is None else np.asarray(sat_index, dtype=np.intp)
        age = self.max_element_age_s if max_age_s is ... else max_age_s
        out: dict[int, str] = {}
        for k in np.flatnonzero((status != 0).any(axis=0)):
            j = int(np.argmax(status[:, k] != 0))
            i, t, code = int(index[k]), times[j], PositionStatus(int(status[j, k]))
            name, when = self.names[i], format_time(t)
            if code == PositionStatus.STALE:
                days = abs((t - self.epochs[i]) / np.timedelta64(1, "D"))
                out[i] = (
                    f"{name}: element epoch {format_time(self.epochs[i])} is {days:,.0f} days from {when}, "
                    f"more than {age / 86400:g} days: SGP4 is not trusted that far from its epoch"
                )
            elif code in (PositionStatus.TOO_LOW, PositionStatus.TOO_HIGH):
                alt_km = float(_altitude_above_ellipsoid_m(r[j, k])) / 1e3
                low, high = plausible_altitude_m  # type: ignore[misc]
                side = f"below {low / 1e3:,.0f} km" if code == PositionStatus.TOO_LOW else f"above {high / 1e3:,.0f} km"
                # with knots, the verdict is that of a knot next to the instant
                exact = np.isfinite(alt_km) and knot_s is None
                where = f"{alt_km:,.0f} km up at {when}, {side}" if exact else f"{side} near {when}"
                out[i] = (
                    f"{name}: SGP4 puts it {where}: "
                    "its elements do not describe a satellite there (decayed, or a wrong value)"
                )
            else:
                jd, fr = jd_split(np.array([t]))
                err = self.satrecs[i].sgp4(float(jd[0]), float(fr[0]))[0]
                why = f"error {err}: {SGP4_ERRORS[err]}" if err in SGP4_ERRORS and err else "at a knot next to it"
                out[i] = f"{name}: SGP4 cannot propagate it at {when} ({why})"
        return out

    def epoch_warning(
        self, times: np.ndarray | np.datetime64, *, max_age_s: float | None | EllipsisType = ...
    ) -> str | None:
        """One sentence for a command to print once when its run is far from the element
        sets' epochs, or ``None`` when every satellite is within the age limit at every
        instant of ``times``.

        A satellite is stale somewhere in the run when its epoch is more than the age limit
        (``max_age_s``, as in :meth:`positions_teme`) from the run's first or last instant;
        such satellites are NaN at those instants. The sentence says how many, the run's
        window and the epochs, and what to do.
        """
        age = self.max_element_age_s if max_age_s is ... else max_age_s
        times = np.atleast_1d(np.asarray(times, dtype="datetime64[ns]"))
        if age is None or times.size == 0 or self.n_sats == 0:
            return None
        first, last = times.min(), times.max()
        lo, hi = _age_window_ns(self.epochs, age)
        stale = (lo > first.astype(np.int64)) | (hi < last.astype(np.int64))
        n = int(stale.sum())
        if n == 0:
            return None
        epochs = self.epochs
        window = format_time(first) if first == last else f"{format_time(first)} to {format_time(last)}"
        days = f"{age / 86400:g} days"
        if n == self.n_sats:
            span = format_time(epochs.min()) + (f" to {format_time(epochs.max())}" if epochs.min() != epochs.max() else "")
            return (
                f"warning: the run ({window}) is more than {days} from the epochs of all {n:,} element sets "
                f"({span}), so SGP4 is not trusted there and every satellite is left out (NaN); use element "
                f"sets from within {days} of the run, or start it at their epoch ({format_time(self.epoch)})"
            )
        i = int(np.flatnonzero(stale)[0])
        example = f"{self.names[i]} at {format_time(epochs[i])}" + (f" and {n - 1:,} more" if n > 1 else "")
        return (
            f"warning: {n:,} of {self.n_sats:,} satellites have element epochs more than {days} from the run "
            f"({window}): {example}; they are left out (NaN) where that is so (the bulk of the epochs is at "
            f"{format_time(self.epoch)}); use element sets from within {days} of the run"
        )

    def positions(
        self,
        times: np.ndarray | np.datetime64,
        sat_index: np.ndarray | None = None,
        knot_s: float | None = None,
        *,
        max_age_s: float | None | EllipsisType = ...,
        plausible_altitude_m: tuple[float, float] | None = PLAUSIBLE_ALTITUDE_M,
    ) -> np.ndarray:
        """Earth-fixed (ITRF) positions (m), shape ``(n_times, n_sats, 3)``.

        TEME -> ITRF by a rotation through the 1982 Greenwich mean sidereal time
        (Vallado 2006, TEME -> PEF) at UT1 from skyfield's built-in tables; polar motion
        is neglected (under 20 m). NaN marks satellites SGP4 could not propagate and
        positions not believed (stale elements, implausible altitude: see
        :meth:`position_status`). ``knot_s`` and the keywords: see :meth:`positions_teme`.
        """
        times = np.atleast_1d(np.asarray(times, dtype="datetime64[ns]"))
        r = self.positions_teme(
            times, sat_index, knot_s, max_age_s=max_age_s, plausible_altitude_m=plausible_altitude_m
        )
        return teme_to_itrf(r, times)

    def subpoints(self, times: np.ndarray | np.datetime64) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """WGS84 latitude (deg), longitude (deg), altitude (m), each ``(n_times, n_sats)``."""
        return ecef_to_geodetic(self.positions(times))

    def summary(self) -> dict:
        """What was loaded: counts, shells, epochs; JSON-ready."""
        shells = []
        for k in sorted(set(self.shell.tolist()) - {-1}):
            sel = self.shell == k
            shells.append(
                {
                    "shell": int(k),
                    "n_satellites": int(sel.sum()),
                    "n_planes": int(len(np.unique(self.plane[sel]))),
                    "mean_altitude_km": round(float(np.median(self.mean_altitude_m[sel])) / 1e3, 1),
                    "inclination_deg": round(float(np.median(self.inclination_deg[sel])), 2),
                }
            )
        return {
            "description": self.description,
            "n_satellites": self.n_sats,
            "n_shells": len(shells),
            "n_unassigned": int((self.shell < 0).sum()),
            "epoch_min": str(self.epochs.min()),
            "epoch_max": str(self.epochs.max()),
            "shells": shells,
        }


def _rebuild_constellation(
    elements, names, norad_ids, shell, plane, slot, shells, description, is_walker, max_element_age_s=MAX_ELEMENT_AGE_S
) -> Constellation:
    satrecs = []
    for row in elements:
        sat = Satrec()
        sat.sgp4init(WGS72, "i", int(row[0]), *(float(v) for v in row[1:11]))
        sat.jdsatepoch, sat.jdsatepochF = float(row[11]), float(row[12])
        satrecs.append(sat)
    return Constellation(
        tuple(satrecs), names, norad_ids, shell, plane, slot, shells, description, is_walker, max_element_age_s
    )


def _implausible(r: np.ndarray, plausible_altitude_m: tuple[float, float] | None) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``r`` (TEME m, ``(n_times, n, 3)``) that SGP4 failed or put outside
    ``plausible_altitude_m`` (``None``: failures only): flat indices into ``(n_times, n)``
    and :class:`PositionStatus` codes.

    Cheap where everything is fine: one pass for ``|r|^2`` against two spheres that bound
    the plausible shell whatever the latitude; only positions outside them (or NaN) get the
    exact height above the ellipsoid.
    """
    r2 = np.einsum("ijk,ijk->ij", r, r)
    if plausible_altitude_m is None:
        flat = np.flatnonzero(np.isnan(r2))
        return flat, np.full(flat.size, PositionStatus.SGP4_FAILED, dtype=np.int8)
    low, high = plausible_altitude_m
    # the ellipsoid's radius is between b and a: |r| >= a + low is above the floor and
    # |r| <= b + high below the ceiling at any latitude
    inner, outer = (WGS84_A_M + low) ** 2, (_WGS84_B_M + high) ** 2
    with np.errstate(invalid="ignore"):
        sure = np.abs(r2 - 0.5 * (outer + inner)) <= 0.5 * (outer - inner)  # False for NaN
    if sure.all():
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int8)
    flat = np.flatnonzero(~sure)
    tt, kk = np.divmod(flat, r.shape[1])
    alt = _altitude_above_ellipsoid_m(r[tt, kk])
    codes = np.zeros(flat.size, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        codes[np.isnan(alt)] = PositionStatus.SGP4_FAILED
        codes[alt < low] = PositionStatus.TOO_LOW
        codes[alt > high] = PositionStatus.TOO_HIGH
    keep = codes != PositionStatus.OK
    return flat[keep], codes[keep]


def _age_window_ns(epochs: np.ndarray, age_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Per satellite, the first and last instants (int64 ns) at most ``age_s`` from its
    epoch. The age is capped at 100 years, so that the window stays inside int64 for any
    epoch the element readers admit (1957 to 2100)."""
    if not 0 < age_s < float("inf"):
        raise ConstellationError(f"max_age_s = {age_s!r} is impossible; expected a positive number of seconds, or None")
    e = np.asarray(epochs, dtype="datetime64[ns]").astype(np.int64)
    limit = int(round(min(age_s, _AGE_CAP_S) * 1e9))
    return e - limit, e + limit


def _altitude_above_ellipsoid_m(r: np.ndarray) -> np.ndarray:
    """Height (m) of ``(..., 3)`` geocentric positions above the WGS84 ellipsoid, along the
    radius: within 1 m of the geodetic height at 100 km, 32 m at 50,000 km (measured
    against ``ecef_to_geodetic``), plenty to judge plausibility. NaN where ``r`` is NaN."""
    r2 = np.einsum("...i,...i->...", r, r)
    with np.errstate(invalid="ignore", divide="ignore"):
        sin2 = r[..., 2] ** 2 / r2
        a2, b2 = WGS84_A_M**2, _WGS84_B_M**2
        radius = np.sqrt(a2 * b2 / (b2 * (1.0 - sin2) + a2 * sin2))
    return np.sqrt(r2) - radius


def teme_to_itrf(r_teme_m: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Rotate ``(n_times, ..., 3)`` TEME vectors to ITRF about the z axis by GMST 1982."""
    theta = _gmst82_rad(times)
    c = np.cos(theta).reshape((-1,) + (1,) * (r_teme_m.ndim - 2))
    s = np.sin(theta).reshape(c.shape)
    out = np.empty_like(r_teme_m)
    x, y = r_teme_m[..., 0], r_teme_m[..., 1]
    # c x + s y and c y - s x, written in place (the same roundings, bit for bit, with
    # one temporary instead of four: this runs on every position of every run)
    tmp = np.multiply(s, y)
    np.multiply(c, x, out=out[..., 0])
    out[..., 0] += tmp
    np.multiply(s, x, out=tmp)
    np.multiply(c, y, out=out[..., 1])
    out[..., 1] -= tmp
    out[..., 2] = r_teme_m[..., 2]
    return out


def _gmst82_rad(times: np.ndarray) -> np.ndarray:
    from skyfield.sgp4lib import theta_GMST1982

    ts = _timescale()
    ns = np.asarray(times, dtype="datetime64[ns]").astype(np.int64)
    days, ns_in_day = np.divmod(ns, 86400 * 1_000_000_000)
    t = ts.utc(1970, 1, 1 + days, 0, 0, ns_in_day / 1e9)
    theta, _ = theta_GMST1982(t.whole, t.ut1_fraction)
    return np.asarray(theta, dtype=np.float64)


_TS = None


def _timescale():
    global _TS
    if _TS is None:
        from skyfield.api import load

        _TS = load.timescale(builtin=True)
    return _TS


_SNAPSHOT_CACHE: dict[str, Constellation] = {}


def _starlink_2026_05() -> Constellation:
    if "c" not in _SNAPSHOT_CACHE:
        from leosim.formats.elements import parse_tle_text

        ref = resources.files("leosim") / "data" / "starlink_supgp_20260513.tle.gz"
        text = gzip.decompress(ref.read_bytes()).decode("ascii")
        records = parse_tle_text(text, source="starlink_supgp_20260513.tle")
        _SNAPSHOT_CACHE["c"] = Constellation.from_records(records, description=_PRESETS["starlink-2026-05"])
    return _SNAPSHOT_CACHE["c"]
