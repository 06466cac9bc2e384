"""Constellations: Walker-delta shells and real element sets, propagated with SGP4.

A :class:`Constellation` is an immutable set of satellites, each an SGP4 record, with
labels (name, NORAD id) and its place in the constellation's structure (shell, orbital
plane, slot along the plane) which the laser-link topology needs. Positions come out as
``(n_times, n_sats, 3)`` float64 metres, Earth-fixed (ITRF), NaN where SGP4 fails.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np
from sgp4.api import WGS72, Satrec, SatrecArray

from leosim.core.geodesy import ecef_to_geodetic
from leosim.core.time import jd_split, parse_time
from leosim.errors import ConstellationError, ElementSetError
from leosim.formats.elements import ElementRecord, read_element_file

# WGS72 constants, the ones SGP4 itself is defined with (Spacetrack Report #3).
_MU_KM3_S2 = 398600.8
_RE_SGP4_M = 6378135.0
_MINUTES_PER_DAY = 1440.0
_SGP4_EPOCH_JD = 2433281.5  # 1949-12-31 00:00 UTC, the origin of sgp4init's epoch
DEFAULT_WALKER_EPOCH = "2026-05-13T00:00:00"


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
            (80e3 <= self.altitude_m <= 50_000e3, "altitude_m", self.altitude_m, "80e3 to 50,000e3 m"),
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
            shells = (Shell(float(np.clip(alt_m, 80e3, 50_000e3)), inc, n_orbits, per, 0, "hypatia"),)
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
            (elements, self.names, self.norad_ids, self.shell, self.plane, self.slot, self.shells, self.description, self.is_walker),
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
        """The latest element-set epoch: where runs start by default (no satellite is
        propagated backwards over a long span)."""
        return self.epochs.max()

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
    ) -> np.ndarray:
        """SGP4 positions in TEME (m), shape ``(n_times, n_sats, 3)``, NaN where SGP4 failed.

        With ``knot_s`` set and more instants than knots, SGP4 runs only at knots every
        ``knot_s`` seconds (on an absolute grid, so the answer does not depend on where a
        chunk starts) and positions in between come from cubic Hermite interpolation of
        SGP4's own positions and velocities. Measured against SGP4 at every 100 ms step
        over 200 s of Starlink Gen1, the largest error is 2.2 cm with 10 s knots and 35 cm
        with 60 s knots (``benchmarks/`` and ``tests/test_constellation.py``).
        With ``sat_index``, only those satellites, in that order.
        """
        times = np.atleast_1d(np.asarray(times, dtype="datetime64[ns]"))
        if knot_s is None:
            return self._sgp4(times, sat_index)[0]
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
        return h00 * r[j] + h10 * h * v[j] + h01 * r[j + 1] + h11 * h * v[j + 1]

    def positions(
        self,
        times: np.ndarray | np.datetime64,
        sat_index: np.ndarray | None = None,
        knot_s: float | None = None,
    ) -> np.ndarray:
        """Earth-fixed (ITRF) positions (m), shape ``(n_times, n_sats, 3)``.

        TEME -> ITRF by a rotation through the 1982 Greenwich mean sidereal time
        (Vallado 2006, TEME -> PEF) at UT1 from skyfield's built-in tables; polar motion
        is neglected (under 20 m). NaN marks satellites SGP4 could not propagate.
        ``knot_s``: see :meth:`positions_teme`.
        """
        times = np.atleast_1d(np.asarray(times, dtype="datetime64[ns]"))
        return teme_to_itrf(self.positions_teme(times, sat_index, knot_s), times)

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


def _rebuild_constellation(elements, names, norad_ids, shell, plane, slot, shells, description, is_walker) -> Constellation:
    satrecs = []
    for row in elements:
        sat = Satrec()
        sat.sgp4init(WGS72, "i", int(row[0]), *(float(v) for v in row[1:11]))
        sat.jdsatepoch, sat.jdsatepochF = float(row[11]), float(row[12])
        satrecs.append(sat)
    return Constellation(tuple(satrecs), names, norad_ids, shell, plane, slot, shells, description, is_walker)


def teme_to_itrf(r_teme_m: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Rotate ``(n_times, ..., 3)`` TEME vectors to ITRF about the z axis by GMST 1982."""
    theta = _gmst82_rad(times)
    c = np.cos(theta).reshape((-1,) + (1,) * (r_teme_m.ndim - 2))
    s = np.sin(theta).reshape(c.shape)
    out = np.empty_like(r_teme_m)
    x, y = r_teme_m[..., 0], r_teme_m[..., 1]
    out[..., 0] = c * x + s * y
    out[..., 1] = -s * x + c * y
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
