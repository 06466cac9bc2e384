"""Tests of constellations: SGP4 propagation, frames, Walker shells, structure recovery.

Authorities, each named where it is used:

- Vallado, Crawford, Hujsak & Kelso 2006, "Revisiting Spacetrack Report #3" (AIAA
  2006-6753): the verification TLEs ``SGP4-VER.TLE`` and the expected TEME vectors
  ``tcppver.out`` written by their C++ ``testcpp``, as python-sgp4 ships them;
- skyfield (Rhodes) for TEME -> ITRS and WGS84 sub-points of real Starlink satellites;
- closed forms of the Walker-delta pattern, and the FCC filings behind the presets
  (SAT-MOD-20200417-00037 for Gen1, the December 2022 Gen2 grant).

Tolerances are in metres, seconds or degrees, each with the reason it is not tighter.
"""

from __future__ import annotations

import gzip
import math
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sgp4
from sgp4.api import WGS72, Satrec

from leosim.core.geodesy import ecef_to_geodetic
from leosim.errors import ConstellationError
from leosim.formats.data import data_path
from leosim.formats.elements import ElementRecord, parse_tle_text, read_tle_file, tle_checksum
from leosim.space.constellation import PRESET_NAMES, Constellation, PositionStatus, Shell
from leosim.space.structure import plus_grid_pairs, recover_structure

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# python-sgp4 ships Vallado's verification files inside the package: the authority test
# runs in any clone, with or without the shared data folder beside it
VALLADO = Path(sgp4.__file__).resolve().parent
# the CelesTrak snapshot the package vendors (the same file as ../shared/data/tle/, gzipped)
SUPGP_TLE = data_path("starlink_supgp_20260513.tle.gz")

needs_vallado = pytest.mark.skipif(
    not (VALLADO / "SGP4-VER.TLE").is_file() or not (VALLADO / "tcppver.out").is_file(),
    reason=f"Vallado's SGP4 verification files are missing from the installed sgp4 package ({VALLADO})",
)
needs_supgp = pytest.mark.skipif(
    not SUPGP_TLE.is_file(),
    reason=f"the vendored CelesTrak supplemental Starlink TLEs {SUPGP_TLE} are missing",
)

NS_PER_S = 1_000_000_000
# SGP4's own answer, without leosim's sanity checks (element age, plausible altitude):
# Vallado's cases propagate decaying and deep-space satellites years from their epochs
# and 184,500 km out, by design.
RAW = {"max_age_s": None, "plausible_altitude_m": None}
# WGS72 equatorial radius: SGP4's own, from which Walker altitudes are measured.
WGS72_RE_M = 6378135.0


def seconds(values) -> np.ndarray:
    """Offsets in seconds as timedelta64[ns] (rounded to the nanosecond)."""
    return np.round(np.asarray(values, dtype=np.float64) * NS_PER_S).astype("timedelta64[ns]")


# ------------------------------------------------------------------------------------
# 1. Vallado's verification vectors


def read_tcppver(path: Path) -> list[tuple[int, np.ndarray]]:
    """``(norad, rows)`` per satellite of ``tcppver.out``; rows are tsince (min), r (km), v (km/s).

    A line ``NORAD xx`` starts each satellite; each data line starts with tsince. The
    first line of a satellite is short (7 numbers), the rest add orbital elements and
    the date, which are not needed here.
    """
    cases: list[tuple[int, list[list[float]]]] = []
    for lineno, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) == 2 and fields[1] == "xx":
            cases.append((int(fields[0]), []))
        else:
            assert cases and len(fields) >= 7, f"{path.name}:{lineno}: unexpected line {line!r}"
            cases[-1][1].append([float(f) for f in fields[:7]])
    return [(norad, np.array(rows, dtype=np.float64).reshape(-1, 7)) for norad, rows in cases]


def vallado_schedule(line2: str) -> list[float]:
    """The tsince values (min) Vallado's testcpp prints for one TLE, in order.

    Line 2 of SGP4-VER.TLE carries start, stop and step after column 69. testcpp prints
    tsince = 0, then start, start + step, ... up to stop, then stop itself if the steps
    missed it; it stops at the first SGP4 error (python-sgp4's
    ``generate_satellite_output`` is the same loop).
    """
    start, stop, step = (float(f) for f in line2[69:].split())
    out = [0.0]
    t = start
    while t <= stop:
        if not (t == start == 0.0):
            out.append(t)
        t += step
    if t - stop < step - 1e-6:
        out.append(stop)
    return out


# python-sgp4's test allows 2e-7 km per coordinate against this file: C vs C++ arithmetic
# (the deep-space case 20413 propagated 3.5 years differs by 1.2e-7 km). As a vector:
VALLADO_TOL_M = math.sqrt(3) * 2e-7 * 1e3
# Constellation.epochs is exact to the nanosecond (test_epochs_exact_to_the_nanosecond);
# rounding to whole nanoseconds costs at most 0.5 ns, 4 um at 8.8 km/s. The slack is
# applied per row with that row's speed. (Before whole days were split from the fraction,
# float64 rounding put epochs up to 128 ns off: 1.1 mm for 23333.)
EPOCH_FLOAT_SLACK_S = 1e-9


@pytest.fixture(scope="module")
def vallado():
    tle_path = VALLADO / "SGP4-VER.TLE"
    records = read_tle_file(tle_path, allow_trailing=True, verify_checksum=False)
    line2s = [line for line in tle_path.read_text().splitlines() if line.startswith("2 ")]
    cases = read_tcppver(VALLADO / "tcppver.out")
    return records, Constellation.from_records(records), line2s, cases


@needs_vallado
def test_vallado_verification_vectors(vallado):
    """Every (satellite, tsince) row of tcppver.out, in TEME, through positions_teme."""
    records, c, line2s, cases = vallado
    assert len(records) == len(cases) == len(line2s) == 33
    worst_m, worst_case = 0.0, None
    failures = []  # (norad, tsince) where Vallado's testcpp stopped on an SGP4 error
    previous_row = None
    for i, ((norad, rows), line2) in enumerate(zip(cases, line2s, strict=True)):
        assert records[i].norad_id == norad, "tcppver.out and SGP4-VER.TLE list satellites in the same order"
        schedule = vallado_schedule(line2)
        # Case 33334 fails at initialisation; testcpp then repeats the previous data line
        # with tsince 0 (python-sgp4's "(Use previous data line)").
        stale = previous_row is not None and len(rows) == 1 and np.array_equal(rows[0, 1:], previous_row[1:])
        previous_row = rows[-1]
        expected_times = [] if stale else rows[:, 0].tolist()
        assert np.allclose(expected_times, schedule[: len(expected_times)], atol=1e-6)
        failed_at = schedule[len(expected_times)] if len(expected_times) < len(schedule) else None
        tsince = np.array(expected_times + ([failed_at] if failed_at is not None else []))
        times = c.epochs[i] + seconds(tsince * 60.0)
        r_m = c.positions_teme(times, sat_index=[i], **RAW)  # must not raise, even where SGP4 fails
        assert r_m.shape == (len(tsince), 1, 3)
        r_m = r_m[:, 0, :]
        if failed_at is not None:
            failures.append((norad, failed_at))
            assert np.isnan(r_m[-1]).all(), f"{norad} at tsince {failed_at} min: SGP4 fails there, expected NaN"
            r_m = r_m[:-1]
        if stale:
            continue
        err_m = np.linalg.norm(r_m - rows[:, 1:4] * 1e3, axis=1)
        speed_m_s = np.linalg.norm(rows[:, 4:7], axis=1) * 1e3
        tol_m = VALLADO_TOL_M + speed_m_s * EPOCH_FLOAT_SLACK_S
        bad = ~(err_m <= tol_m)  # NaN counts as bad
        assert not bad.any(), (
            f"{norad}: tsince {rows[bad, 0].tolist()} min off by {err_m[bad].tolist()} m, allowed {tol_m[bad].tolist()} m"
        )
        if err_m.max() > worst_m:
            worst_m, worst_case = float(err_m.max()), norad
    # The seven error cases python-sgp4's own test expects, in file order (its error
    # codes 1, 1, 6, 6, 4, 3, 6): eccentricity out of range, decay, negative semi-latus
    # rectum, perturbed eccentricity out of range.
    assert [n for n, _ in failures] == [22312, 28350, 28872, 29141, 33333, 33334, 20413]
    # Measured 0.12 mm, for the deep-space case 20413 propagated 3.5 years (C vs C++
    # arithmetic, as in python-sgp4's own test); under 8 um for every other case.
    assert worst_m < 0.5e-3, (worst_case, worst_m)


def vallado_28872(vallado):
    records, c, _, _ = vallado
    i = next(k for k, r in enumerate(records) if r.norad_id == 28872)
    times = c.epochs[i] + seconds(np.arange(0, 120 * 60 + 1, 60.0))
    return c, times, i, c.positions_teme(times, **RAW)  # all 33 at once: one decay must not spoil the rest


@needs_vallado
def test_vallado_decay_case_is_nan_not_an_exception(vallado):
    """28872 reaches the ground ~52 min after epoch (SGP4 error 6, "mrt < 1"): NaN, no exception."""
    c, times, i, r = vallado_28872(vallado)
    gone = np.isnan(r[:, i, 0])
    first = int(np.argmax(gone))
    # testcpp printed 28872 up to tsince 50 min and stopped at 55 with error 6.
    assert 50 < first <= 55 and gone[first:56].all()
    # Every other satellite comes out as it does on its own: the failure stays in its column.
    for k in range(c.n_sats):
        np.testing.assert_array_equal(r[:, k], c.positions_teme(times, sat_index=[k], **RAW)[:, 0])


@needs_vallado
@pytest.mark.xfail(
    strict=True,
    reason="SGP4 flags decay (error 6) from the osculating radius only, so 28872 is NaN from 52 to 69 min "
    "and then propagates again. Known limitation: leosim judges each instant on its own, which keeps results "
    "independent of how a run is cut into chunks; a decay latch would need state carried across chunks",
)
def test_vallado_decayed_satellite_stays_gone(vallado):
    _, _, i, r = vallado_28872(vallado)
    gone = np.isnan(r[:, i, 0])
    assert gone[int(np.argmax(gone)) :].all()


def test_epochs_exact_to_the_nanosecond():
    """``epochs`` is documented as datetime64[ns]: each must be the Satrec's epoch to 1 ns."""
    c = Constellation.preset("starlink-2026-05")
    exact_ns = np.array(
        [
            round((Fraction(s.jdsatepoch) - Fraction(2440587.5) + Fraction(s.jdsatepochF)) * 86400 * NS_PER_S)
            for s in c.satrecs
        ],
        dtype=np.int64,
    )
    assert np.abs(c.epochs.astype(np.int64) - exact_ns).max() <= 1


# ------------------------------------------------------------------------------------
# 2. skyfield as the oracle for Earth-fixed positions and sub-points


def supgp_lines() -> dict[int, tuple[str, str]]:
    """TLE lines of the snapshot by NORAD id, as skyfield wants them."""
    lines = [line.rstrip() for line in gzip.decompress(SUPGP_TLE.read_bytes()).decode().splitlines() if line.strip()]
    return {int(l1[2:7]): (l1, l2) for l1, l2 in zip(lines[1::3], lines[2::3], strict=True)}


@pytest.fixture(scope="module")
def snapshot() -> Constellation:
    return Constellation.preset("starlink-2026-05")


@pytest.fixture(scope="module")
def skyfield_case(snapshot):
    """~50 real satellites across all shells, five instants over a day from the epoch."""
    from skyfield.api import EarthSatellite, load

    c = snapshot
    lines = supgp_lines()
    idx = np.linspace(0, c.n_sats - 1, 50).astype(int)
    start = c.epoch.astype("datetime64[s]")
    times = (start + np.array([0, 1, 6, 12, 24]) * np.timedelta64(3600, "s")).astype("datetime64[ns]")
    ts = load.timescale(builtin=True)
    # skyfield's own UTC path from calendar fields, not leosim's Julian-date split
    cal = [datetime.fromisoformat(str(x)) for x in times.astype("datetime64[s]")]
    t = ts.utc(
        [d.year for d in cal],
        [d.month for d in cal],
        [d.day for d in cal],
        [d.hour for d in cal],
        [d.minute for d in cal],
        [d.second for d in cal],
    )
    sats = [EarthSatellite(*lines[c.norad_ids[i]], ts=ts) for i in idx]
    return c, idx, times, t, sats


@needs_supgp
def test_itrf_positions_against_skyfield(skyfield_case):
    from skyfield.framelib import itrs

    c, idx, times, t, sats = skyfield_case
    ours = c.positions(times, sat_index=idx)  # (n_times, n_sel, 3)
    theirs = np.stack([s.at(t).frame_xyz(itrs).m.T for s in sats], axis=1)
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    err_m = np.linalg.norm(ours - theirs, axis=2)
    # Measured 2e-7 m, not the metres one might expect: skyfield defines TEME by
    # R_z(GMST1982 - GAST) * M (M its IAU 2000 precession-nutation), so TEME -> GCRS ->
    # ITRS collapses to R_z(GMST1982) exactly as leosim rotates, and skyfield applies
    # polar motion only when an IERS table is loaded (builtin=True loads none). What is
    # left is float rounding; 1 mm still catches a time-scale slip (UTC for UT1, 0.1 s, is
    # ~50 m) or a wrong sign. The polar-motion neglect is measured in the next test.
    assert np.nanmax(err_m) < 1e-3, np.nanmax(err_m)


@needs_supgp
def test_polar_motion_neglect_is_under_20_m(skyfield_case):
    """The docstring's bound: leosim ignores polar motion, which IERS keeps within ~0.5"."""
    from skyfield.api import EarthSatellite, load
    from skyfield.framelib import itrs

    c, idx, times, t, _ = skyfield_case
    ts = load.timescale(builtin=True)  # a private copy: leosim's own timescale stays untouched
    # A constant pole offset of x = 0.3", y = 0.4" (0.5" in all): the size of the pole
    # coordinates IERS publishes (Chandler and annual wobble, a few tenths of an arcsecond,
    # around a mean pole that has drifted ~0.1" to 0.4").
    ts.polar_motion_table = (np.array([2.4e6, 2.5e6]), np.array([0.3, 0.3]), np.array([0.4, 0.4]))
    t_pm = ts.tt_jd(t.tt)
    lines = supgp_lines()
    theirs = np.stack([EarthSatellite(*lines[c.norad_ids[i]], ts=ts).at(t_pm).frame_xyz(itrs).m.T for i in idx], axis=1)
    err_m = np.linalg.norm(c.positions(times, sat_index=idx) - theirs, axis=2)
    # 0.5" is 2.4 urad: at most 17 m at a 6,930 km radius, less off the rotation axes.
    assert 5.0 < np.nanmax(err_m) < 20.0, np.nanmax(err_m)


@needs_supgp
def test_subpoints_against_skyfield(skyfield_case):
    from skyfield.api import wgs84

    c, idx, times, t, sats = skyfield_case
    lat, lon, alt = (a[:, idx] for a in c.subpoints(times))
    sky_lat, sky_lon, sky_h = [], [], []
    for s in sats:
        g = s.at(t)
        la, lo = wgs84.latlon_of(g)
        sky_lat.append(la.degrees)
        sky_lon.append(lo.degrees)
        sky_h.append(wgs84.height_of(g).m)
    sky_lat, sky_lon, sky_h = (np.array(a).T for a in (sky_lat, sky_lon, sky_h))
    dlat_as = np.abs(lat - sky_lat) * 3600
    dlon_as = np.abs((lon - sky_lon + 180) % 360 - 180) * np.cos(np.radians(lat)) * 3600
    # skyfield's latlon_of stops after three fixed-point steps from the geocentric
    # latitude, which leaves ~1e-4" (measured 7e-5", 2 mm on the ground); leosim's four
    # steps from a better start converge to micrometres (test_geometry's round trip).
    # 0.001" is 3 cm on the ground.
    assert np.nanmax(dlat_as) < 1e-3, np.nanmax(dlat_as)
    assert np.nanmax(dlon_as) < 1e-3, np.nanmax(dlon_as)
    # Heights: measured 5e-8 m; 1 mm is the package's geodesy budget.
    assert np.nanmax(np.abs(alt - sky_h)) < 1e-3
    assert 300e3 < np.nanmedian(alt) < 600e3  # Starlink shells, a sanity check on units


# ------------------------------------------------------------------------------------
# 3. Walker shells and presets


@pytest.fixture(scope="module")
def shell1() -> Constellation:
    return Constellation.walker(550, 53, 72, 22)


def one_orbit(c: Constellation, step_s: float = 30.0) -> np.ndarray:
    period_s = 2 * np.pi / c.satrecs[0].no_kozai * 60.0
    return c.epoch + seconds(np.arange(0.0, period_s + step_s, step_s))


def test_walker_size_and_altitude(shell1):
    c = shell1
    assert c.n_sats == len(c.satrecs) == 72 * 22 == 1584
    # The mean motion is set from Kepler's third law with SGP4's WGS72 constants, so
    # the mean-element altitude is 550 km to float precision.
    np.testing.assert_allclose(c.mean_altitude_m, 550e3, atol=1e-3)
    r = np.linalg.norm(c.positions_teme(one_orbit(c)), axis=2) - WGS72_RE_M
    # Positions are osculating: SGP4 adds J2 short-period terms to the mean elements,
    # which move the radius by several km within an orbit (measured 542.9 to 554.8 km).
    assert np.all(np.abs(r - 550e3) < 10e3), (r.min(), r.max())
    # Over a whole orbit those terms nearly average out; what remains is the Kozai vs
    # Brouwer mean motion and the J2 mean-radius shift (measured 549.80 to 549.91 km).
    orbit_mean = r.mean(axis=0)
    assert np.all(np.abs(orbit_mean - 550e3) < 1e3), (orbit_mean.min(), orbit_mean.max())


def test_walker_inclination_from_track(shell1):
    c = shell1
    times = one_orbit(c)
    for r in (c.positions_teme(times), c.positions(times)):
        # Geocentric latitude: its maximum over an orbit is the inclination. (Geodetic
        # latitude peaks ~0.17 deg higher at 550 km, WGS84's flattening.)
        lat = np.degrees(np.arcsin(r[..., 2] / np.linalg.norm(r, axis=2)))
        peak = np.abs(lat).max(axis=0)
        # J2's short-period inclination term is ~0.02 deg and 30 s sampling misses the
        # peak by < 0.01 deg (measured 52.977 to 52.981 deg).
        assert np.all(np.abs(peak - 53.0) < 0.1), (peak.min(), peak.max())


def test_walker_raan_spacing(shell1):
    c = shell1
    r = c.positions_teme(c.epoch + seconds([0.0, 1.0]))
    h = np.cross(r[0], r[1])  # orbit normal from two positions 1 s apart
    raan = np.arctan2(h[:, 0], -h[:, 1])
    plane_raan = np.array([np.angle(np.exp(1j * raan[c.plane == p]).mean()) for p in range(72)])
    spacing_deg = np.degrees(np.diff(np.unwrap(plane_raan)))
    # RAAN of plane p is 360 p / 72. Osculating RAAN swings ~0.05 deg along a plane (J2
    # short-period), but every plane samples that swing at the same 22 slots, so plane
    # means keep the 5 deg spacing far better than 0.001 deg (measured 4e-12 deg).
    np.testing.assert_allclose(spacing_deg, 5.0, atol=1e-3)
    assert sorted(np.bincount(c.plane).tolist()) == [22] * 72


@pytest.mark.parametrize(
    ("name", "n_sats"),
    [
        ("starlink-shell1", 1584),  # 72 x 22
        ("starlink-gen1", 4408),  # FCC SAT-MOD-20200417-00037: 1584 + 1584 + 720 + 348 + 172
        ("starlink-gen2a", 10080),  # FCC Dec 2022 Gen2 grant: 3 shells of 28 x 120
    ],
)
def test_preset_sizes(name, n_sats):
    c = Constellation.preset(name)
    assert c.n_sats == n_sats
    assert sum(s.size for s in c.shells) == n_sats
    assert c.is_walker and np.all(c.shell >= 0)


def test_unknown_preset_lists_the_presets():
    with pytest.raises(ConstellationError) as info:
        Constellation.preset("starlink-gen9")
    assert str(info.value) == (
        "unknown constellation 'starlink-gen9'; expected one of: starlink-shell1, starlink-gen1, "
        "starlink-gen2a, starlink-2026-05 (or give an element-set file with --tle FILE)"
    )
    assert all(name in str(info.value) for name in PRESET_NAMES)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((10e3, 53.0, 72, 22), "shell altitude_m = 10000.0 is impossible; expected 100e3 to 50,000e3 m"),
        ((550e3, 181.0, 72, 22), "shell inclination_deg = 181.0 is impossible; expected 0 to 180"),
        ((550e3, 53.0, 0, 22), "shell planes = 0 is impossible; expected at least 1"),
        ((550e3, 53.0, 72, 0), "shell sats_per_plane = 0 is impossible; expected at least 1"),
        ((550e3, 53.0, 72, 22, 72), "shell phasing = 72 is impossible; expected 0 to planes - 1 = 71"),
    ],
)
def test_impossible_shells_raise(args, message):
    with pytest.raises(ConstellationError) as info:
        Shell(*args)
    assert str(info.value) == message


def test_walker_rejects_impossible_shell():
    with pytest.raises(ConstellationError, match="shell planes = 0 is impossible"):
        Constellation.walker(550, 53, 0, 22)


# ------------------------------------------------------------------------------------
# 4. Interpolated positions


@pytest.fixture(scope="module")
def gen1() -> Constellation:
    return Constellation.preset("starlink-gen1")


def test_interpolation_error_gen1(gen1):
    """10 s knots vs SGP4 at every 100 ms step over 200 s, all 4,408 satellites."""
    times = gen1.epoch + seconds(np.arange(2000) * 0.1)
    exact = gen1.positions(times)
    interp = gen1.positions(times, knot_s=10.0)
    err_m = np.linalg.norm(interp - exact, axis=2)
    # The curve itself costs little: h^4 w^4 r / 384 = 0.3 mm for h = 10 s, w = 1.1e-3
    # rad/s, r = 6,920 km. What dominates is SGP4's velocity, which is not exactly the
    # time derivative of its own position (measured: up to 2.3 cm/s on Gen1). A slope
    # error dv shared by both knots moves the cubic by h dv max|2t^3 - 3t^2 + t| =
    # 0.096 h dv = 2.2 cm, the measured maximum and the docstring's figure. 5 cm leaves
    # room for other shells; a wrong Hermite basis errs by metres.
    assert err_m.max() < 0.05, err_m.max()
    assert err_m.max() > 1e-3  # the interpolated path really was taken


def test_interpolation_independent_of_array_start(gen1):
    """Knots sit on an absolute grid, so a chunk's answer does not depend on where it starts."""
    base = gen1.epoch + seconds(np.arange(1500) * 0.1)
    a = gen1.positions(base[37:1500], knot_s=10.0)  # starts 3.7 s into a knot interval
    b = gen1.positions(base[5:900], knot_s=10.0)  # starts 0.5 s in, shorter
    common_a, common_b = a[: 900 - 37], b[37 - 5 :]
    assert np.abs(common_a - common_b).max() < 1e-6  # identical instants: the same arithmetic


# ------------------------------------------------------------------------------------
# 5. A satellite that decays


def tle_line(text68: str) -> str:
    return text68 + str(tle_checksum(text68))


def test_decaying_satellite_gives_nan_from_then_on():
    # 230 km circular (16.4 rev/day) with BSTAR 0.05 /Earth radii: SGP4 takes it down in
    # about an hour. Beside it, a real Starlink TLE that must stay unharmed.
    decayer = (
        "DECAYER\n"
        + tle_line("1 99999U 26001A   26133.00000000  .00000000  00000-0  50000-1 0  999")
        + "\n"
        + tle_line("2 99999  53.0000 100.0000 0001000   0.0000   0.0000 16.40000000    1")
        + "\n"
    )
    healthy = (
        "STARLINK-1008\n"
        "1 44714C 19074B   26132.95048611 -.00027894  00000+0 -54858-3 0  1322\n"
        "2 44714  53.1534 236.8965 0001912  20.7505  90.9471 15.46691953    14\n"
    )
    c = Constellation.from_records(parse_tle_text(decayer + healthy))
    times = c.epochs[0] + seconds(np.arange(0, 3 * 86400, 60.0))
    r = c.positions(times)  # no exception
    gone = np.isnan(r[:, 0]).any(axis=1)
    first = int(np.argmax(gone))
    assert 0 < first < len(times) and gone[first:].all(), "NaN from the first failure on"
    # It decayed, not some other failure: leosim drops it when SGP4 takes it below the
    # 100 km floor; the last fix kept is within one 60 s step's fall (under 50 km at
    # these speeds) of the floor.
    lat, lon, alt = c.subpoints(times[first - 1 : first + 1])
    assert 100e3 <= alt[0, 0] < 150e3 and np.isnan(alt[1, 0]) and np.isnan(lat[1, 0])
    assert c.position_status(times[first])[0, 0] in (PositionStatus.TOO_LOW, PositionStatus.SGP4_FAILED)
    # SGP4 on its own draws it further down before its decay error: the last raw fix is
    # within 100 km of the ground.
    raw = c.positions(times, **RAW)[:, 0, 0]
    last_raw = int(np.argmax(np.isnan(raw))) - 1
    assert last_raw >= first - 1
    assert ecef_to_geodetic(c.positions(times[last_raw], **RAW))[2][0, 0] < 100e3
    assert np.isfinite(r[:, 1]).all()
    assert np.isnan(c.positions(times, knot_s=60.0)[first:, 0]).all()


# ------------------------------------------------------------------------------------
# 6. Structure recovery


def walker_with_scattered_epochs(c: Constellation, spread_min: float, seed: int) -> tuple[list[Satrec], np.ndarray]:
    """The same orbits re-initialised at epochs scattered over +-spread_min, shuffled.

    Each satellite's mean anomaly, argument of perigee and RAAN are advanced by SGP4's
    own secular rates (mdot, argpdot, nodedot) to its new epoch, so the shell is the
    same shell seen through element sets of different ages, as real data is.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(c.n_sats)
    dt = rng.uniform(-spread_min, spread_min, c.n_sats)
    out = []
    for k, i in enumerate(order):
        s, d = c.satrecs[i], dt[k]
        t = Satrec()
        t.sgp4init(
            WGS72,
            "i",
            k,
            s.jdsatepoch - 2433281.5 + s.jdsatepochF + d / 1440.0,
            0.0,
            0.0,
            0.0,
            s.ecco,
            s.argpo + s.argpdot * d,
            s.inclo,
            (s.mo + s.mdot * d) % (2 * np.pi),
            s.no_kozai,
            (s.nodeo + s.nodedot * d) % (2 * np.pi),
        )
        out.append(t)
    return out, order


def test_recover_walker_structure_exactly():
    truth = Constellation.walker(550, 53, 24, 22)
    # +-12 h: the RAAN drifts -4.5 deg/day here, so uncorrected epochs would smear each
    # plane over 4.5 deg (plane spacing 15 deg, clustering gap 0.25 deg).
    satrecs, order = walker_with_scattered_epochs(truth, 12 * 60.0, seed=1)
    shell, plane, slot = recover_structure(satrecs)
    true_plane, true_slot = truth.plane[order], truth.slot[order]
    assert np.all(shell == 0)
    assert len(np.unique(plane)) == 24
    for q in np.unique(plane):
        m = plane == q
        # one recovered plane is exactly one true plane (labels may differ)...
        assert m.sum() == 22 and len(np.unique(true_plane[m])) == 1
        # ...and its slots are the true slots, up to where the count starts
        assert sorted(slot[m].tolist()) == list(range(22))
        assert len(np.unique((slot[m] - true_slot[m]) % 22)) == 1


@pytest.fixture(scope="module")
def snapshot_links(snapshot):
    return plus_grid_pairs(snapshot)


def test_recover_real_snapshot(snapshot, snapshot_links):
    c = snapshot
    assigned = c.shell >= 0
    # Measured 9,940 of 10,361 (95.9%); the rest are raising or lowering their orbits.
    assert assigned.mean() >= 0.90
    for k in np.unique(c.shell[assigned]):
        inc = float(np.median(c.inclination_deg[c.shell == k]))
        # Starlink's filed inclinations: 53 (and 53.2), 43, 70, 97.6 deg (measured medians
        # 53.16, 43.00, 53.22, 70.00, 97.50, 97.29, 43.00, 97.28).
        assert min(abs(inc - ref) for ref in (53.0, 43.0, 70.0, 97.0)) < 1.0, (k, inc)
        planes = np.unique(c.plane[c.shell == k])
        assert np.all(planes >= 0) and np.all(c.slot[c.shell == k] >= 0)
    assert np.all(c.plane[~assigned] == -1) and np.all(c.slot[~assigned] == -1)
    pairs = snapshot_links
    degree = np.bincount(pairs.ravel(), minlength=c.n_sats)
    assert degree.max() <= 4  # four laser terminals per satellite
    assert np.all(degree[~assigned] == 0)  # unplaced satellites get no +Grid links
    assert np.all(c.shell[pairs[:, 0]] == c.shell[pairs[:, 1]])  # no links across shells
    assert np.all(pairs[:, 0] < pairs[:, 1]) and len(np.unique(pairs, axis=0)) == len(pairs)


@pytest.mark.parametrize(
    ("planes", "per_plane"),
    [
        (24, 22),
        (72, 22),
    ],
)
def test_plus_grid_from_elements_keeps_the_plane_rings(planes, per_plane):
    """A Walker shell read as real element sets: +Grid must still ring every plane."""
    truth = Constellation.walker(550, 53, planes, per_plane)
    satrecs, order = walker_with_scattered_epochs(truth, 12 * 60.0, seed=1)
    c = Constellation.from_records([ElementRecord("", None, s, "walker") for s in satrecs])
    assert not c.is_walker
    where = {(int(p), int(s)): i for i, (p, s) in enumerate(zip(truth.plane[order], truth.slot[order], strict=True))}
    ring = {
        tuple(sorted((where[(p, s)], where[(p, (s + 1) % per_plane)]))) for p in range(planes) for s in range(per_plane)
    }
    pairs = plus_grid_pairs(c)
    assert ring <= {tuple(x) for x in pairs.tolist()}
    degree = np.bincount(pairs.ravel(), minlength=c.n_sats)
    # Cross-plane partners are matched greedily by geometry, so a few satellites may end
    # with three links; 99% must have all four.
    assert degree.max() <= 4 and (degree == 4).mean() >= 0.99


def test_plus_grid_walker_72x22(shell1):
    pairs = plus_grid_pairs(shell1)
    assert pairs.shape == (2 * 1584, 2)
    assert np.all(np.bincount(pairs.ravel(), minlength=1584) == 4)
    intra = shell1.plane[pairs[:, 0]] == shell1.plane[pairs[:, 1]]
    assert intra.sum() == 1584  # a ring of 22 in each of 72 planes, and as many cross links


# ------------------------------------------------------------------------------------
# 7. Scalars and arrays


def test_scalar_and_array_times(shell1):
    c = shell1
    t = np.datetime64("2026-05-13T00:10:00")
    one = c.positions(t)
    assert one.shape == (1, c.n_sats, 3)
    three = c.positions(t + seconds([0.0, 1.0, 2.0]))
    assert three.shape == (3, c.n_sats, 3)
    np.testing.assert_array_equal(one[0], three[0])
    assert c.positions_teme(t).shape == (1, c.n_sats, 3)
    assert c.positions(t, sat_index=[5, 2]).shape == (1, 2, 3)
    np.testing.assert_array_equal(c.positions(t, sat_index=[5, 2])[0], one[0, [5, 2]])
    lat, lon, alt = c.subpoints(t)
    assert lat.shape == lon.shape == alt.shape == (1, c.n_sats)


# ------------------------------------------------------------------------------------
# 8. Propagation sanity: no garbage orbit reaches a result (issue 13)
#
# Closed forms: Kepler's third law a = (mu / n^2)^(1/3) with WGS72's mu (SGP4's own
# constants) for where a mean motion puts a satellite; the age limit is a comparison of
# instants, exact to the nanosecond; the great circle at the speed of light bounds an RTT
# from below.

WGS72_MU_KM3_S2 = 398600.8
DAY_NS = 86_400 * NS_PER_S


def far_tle(rev_per_day: float = 0.1) -> str:
    """A valid TLE (checksums right) whose mean motion puts it far out: 0.1 rev/day is
    a ~ 196,000 km, an OMM or TLE typo for 15.1."""
    return (
        "FAR\n"
        + tle_line("1 99997U 26001A   26133.00000000  .00000000  00000-0  00000-0 0  999")
        + "\n"
        + tle_line(f"2 99997  53.0000 100.0000 0001000   0.0000   0.0000 {rev_per_day:11.8f}    1")
        + "\n"
    )


def tle_at_epoch(name: str, norad: int, epoch_field: str) -> str:
    """A healthy 15 rev/day circular orbit with the TLE epoch field ``YYDDD.DDDDDDDD``."""
    return (
        f"{name}\n"
        + tle_line(f"1 {norad:05d}U 60001A   {epoch_field}  .00000000  00000-0  00000-0 0  999")
        + "\n"
        + tle_line(f"2 {norad:05d}  53.0000 100.0000 0001000   0.0000   0.0000 15.00000000    1")
        + "\n"
    )


def omm_json_record(tmp_path: Path, **fields) -> list[ElementRecord]:
    """One Starlink-like OMM record read back through the JSON reader."""
    import json

    from leosim.formats.elements import read_omm_json

    record = {
        "OBJECT_NAME": "OUTLIER", "OBJECT_ID": "2026-001A", "EPOCH": "2026-05-13T00:00:00",
        "MEAN_MOTION": 15.06, "ECCENTRICITY": 0.0001, "INCLINATION": 53.05, "RA_OF_ASC_NODE": 43.6,
        "ARG_OF_PERICENTER": 91.4, "MEAN_ANOMALY": 268.6, "EPHEMERIS_TYPE": 0, "CLASSIFICATION_TYPE": "U",
        "NORAD_CAT_ID": 99996, "ELEMENT_SET_NO": 999, "REV_AT_EPOCH": 1, "BSTAR": 0.0002,
        "MEAN_MOTION_DOT": 0, "MEAN_MOTION_DDOT": 0,
    }
    record.update(fields)
    path = tmp_path / f"omm_{len(list(tmp_path.iterdir()))}.json"
    path.write_text(json.dumps([record]))
    return read_omm_json(path)


@pytest.fixture(scope="module")
def snapshot_records() -> list[ElementRecord]:
    return parse_tle_text(gzip.decompress(SUPGP_TLE.read_bytes()).decode("ascii"), source="supgp")


def test_far_orbit_is_nan_too_high_from_tle_and_omm(tmp_path):
    healthy = tle_at_epoch("HEALTHY", 99990, "26133.00000000")
    from_tle = Constellation.from_records(parse_tle_text(far_tle() + healthy))
    from_omm = Constellation.from_records(omm_json_record(tmp_path, MEAN_MOTION=0.1) + parse_tle_text(healthy))
    n_rad_s = 0.1 * 2 * math.pi / 86400
    a_m = (WGS72_MU_KM3_S2 / n_rad_s**2) ** (1 / 3) * 1e3  # 196,070 km
    assert 195_000e3 < a_m < 197_000e3
    for c in (from_tle, from_omm):
        times = c.epochs[0] + seconds(np.arange(0, 3600, 60.0))
        # SGP4 on its own puts it where Kepler says (e = 1e-4: |r| = a within 0.1 %)...
        raw = np.linalg.norm(c.positions_teme(times, **RAW)[:, 0], axis=-1)
        np.testing.assert_allclose(raw, a_m, rtol=1e-3)
        # ...which leosim does not believe: NaN, TOO_HIGH, at every instant, with or without knots
        for knot_s in (None, 10.0):
            assert np.isnan(c.positions(times, knot_s=knot_s)[:, 0]).all()
            assert np.isfinite(c.positions(times, knot_s=knot_s)[:, 1]).all()
            status = c.position_status(times, knot_s=knot_s)
            assert (status[:, 0] == PositionStatus.TOO_HIGH).all() and (status[:, 1] == PositionStatus.OK).all()
        lat, lon, alt = c.subpoints(times)
        assert np.isnan(alt[:, 0]).all() and np.isfinite(alt[:, 1]).all()
        (reason,) = c.stale_or_implausible(times).values()
        assert "above 50,000 km" in reason and "km up at" in reason


def test_1960_epoch_propagated_to_2026_is_stale():
    c = Constellation.from_records(
        parse_tle_text(tle_at_epoch("OLD", 99998, "60001.00000000") + tle_at_epoch("NEW", 99999, "26133.00000000"))
    )
    assert c.epochs[0] == np.datetime64("1960-01-01T00:00:00", "ns")
    at_2026 = np.datetime64("2026-05-13T00:00:00", "ns") + seconds([0.0, 60.0])
    for knot_s in (None, 10.0):
        r = c.positions(at_2026, knot_s=knot_s)
        assert np.isnan(r[:, 0]).all() and np.isfinite(r[:, 1]).all()
        assert (c.position_status(at_2026, knot_s=knot_s)[:, 0] == PositionStatus.STALE).all()
    # SGP4 alone gives it a place (the check is what stops it) and at its own epoch it is fine
    assert np.isfinite(c.positions(at_2026, **RAW)[:, 0]).all()
    assert np.isfinite(c.positions(c.epochs[0] + seconds([0.0, 60.0]))[:, 0]).all()
    (reason,) = c.stale_or_implausible(at_2026).values()
    assert reason.startswith("OLD: element epoch 1960-01-01T00:00:00.000Z is 24,239 days from")


def test_age_limit_is_exact_to_the_nanosecond_both_ways():
    c = Constellation.from_records(parse_tle_text(tle_at_epoch("NEW", 99999, "26133.00000000")))
    e, limit = c.epochs[0], np.timedelta64(30 * DAY_NS, "ns")
    one = np.timedelta64(1, "ns")
    times = np.array([e - limit - one, e - limit, e, e + limit, e + limit + one])
    assert c.position_status(times)[:, 0].tolist() == [PositionStatus.STALE, 0, 0, 0, PositionStatus.STALE]
    # a tighter limit, per call or per constellation
    assert c.position_status(e + np.timedelta64(DAY_NS, "ns"), max_age_s=3600.0)[0, 0] == PositionStatus.STALE
    with pytest.raises(ConstellationError, match="max_element_age_s = -1.0 is impossible"):
        Constellation(c.satrecs, c.names, c.norad_ids, c.shell, c.plane, c.slot, max_element_age_s=-1.0)


def test_outlier_epoch_2100_does_not_move_the_start(tmp_path, snapshot, snapshot_records):
    future = omm_json_record(tmp_path, EPOCH="2100-01-01T00:00:00", OBJECT_NAME="FUTURE")
    c = Constellation.from_records(snapshot_records + future)
    assert c.epochs.max() == np.datetime64("2100-01-01T00:00:00", "ns")  # the old default start
    assert c.epoch == snapshot.epoch == np.datetime64("2026-05-13T02:16:42.000384", "ns")
    # ...nor does one at 1960: the bulk of the epochs decides
    old = parse_tle_text(tle_at_epoch("OLD", 99998, "60001.00000000"))
    assert Constellation.from_records(old + snapshot_records + future).epoch == snapshot.epoch
    times = c.epoch + seconds(np.arange(0, 240, 1.0))
    r = c.positions(times, knot_s=10.0)
    assert np.isnan(r[:, -1]).all() and (c.position_status(times[:1])[0, -1] == PositionStatus.STALE)
    # everyone else is exactly what the snapshot alone gives
    np.testing.assert_array_equal(r[:, :-1], snapshot.positions(times, knot_s=10.0))
    assert np.isfinite(r[:, :-1]).all()
    # every satellite of the bulk is within the limit at the default start
    assert c.epoch_warning(np.array([c.epoch])).startswith("warning: 1 of 10,362 satellites have element epochs")
    assert "FUTURE at 2100-01-01T00:00:00.000Z;" in c.epoch_warning(np.array([c.epoch]))


def test_epoch_warning_at_2031_says_all_and_none_at_the_epoch(snapshot):
    assert snapshot.epoch_warning(TimeGridTimes(snapshot.epoch, 600)) is None
    at = np.array([np.datetime64("2031-01-01T00:00:00", "ns")])
    message = snapshot.epoch_warning(at)
    assert message.startswith(
        "warning: the run (2031-01-01T00:00:00.000Z) is more than 30 days from the epochs of all 10,361 element sets "
        "(2026-05-12T17:27:41.999Z to 2026-05-13T02:16:42.000Z)"
    )
    assert message.endswith("or start it at their epoch (2026-05-13T02:16:42.000Z)")
    # and what the warning says is so: nobody is left at 2031 (`visible --at 2031-01-01`
    # listed 264 satellites at up to 5e17 km)
    assert np.isnan(snapshot.positions(at)).all()
    assert (snapshot.position_status(at) == PositionStatus.STALE).all()
    # the window counts: 29 days on is fine, a run reaching past 30 days is not
    epoch = snapshot.epochs.min()
    assert snapshot.epoch_warning(np.array([epoch + np.timedelta64(29 * DAY_NS, "ns")])) is None
    late = np.array([snapshot.epoch, epoch + np.timedelta64(30 * DAY_NS + 1, "ns")])
    assert snapshot.epoch_warning(late).startswith("warning: 1 of 10,361 satellites")
    assert snapshot.epoch_warning(late, max_age_s=None) is None


def TimeGridTimes(start: np.datetime64, duration_s: int) -> np.ndarray:
    return start + seconds(np.arange(0, duration_s + 1, 1.0))


def test_sanity_verdicts_do_not_depend_on_batching():
    """Each instant is judged on its own: the NaNs (and the numbers) are the same however
    a run is cut into chunks, across the decay, the far orbit and the age limit."""
    decayer = (
        "DECAYER\n"
        + tle_line("1 99995U 26001A   26133.00000000  .00000000  00000-0  50000-1 0  999")
        + "\n"
        + tle_line("2 99995  53.0000 100.0000 0001000   0.0000   0.0000 16.40000000    1")
        + "\n"
    )
    text = decayer + far_tle() + tle_at_epoch("NEW", 99999, "26133.00000000") + tle_at_epoch("OLD", 99998, "26103.00000000")
    c = Constellation.from_records(parse_tle_text(text))
    # from before the old one's limit runs out, through the decay, in 7 s steps
    start = c.epochs[3] + np.timedelta64(30 * DAY_NS, "ns") - seconds(3000.0)
    times = start + seconds(np.arange(0, 2 * 3600, 7.0))
    for knot_s in (None, 10.0, 60.0):
        whole = c.positions(times, knot_s=knot_s)
        status = c.position_status(times, knot_s=knot_s)
        assert {PositionStatus.OK, PositionStatus.STALE, PositionStatus.TOO_HIGH} <= set(np.unique(status).tolist())
        assert (status[:, 0] != PositionStatus.OK).any() and (status[:, 0] == PositionStatus.OK).any()
        np.testing.assert_array_equal(np.isnan(whole[..., 0]), status != PositionStatus.OK)
        for cuts in ([1, 2, 500], [333], list(range(1, len(times), 97))):
            bounds = [0, *cuts, len(times)]
            parts = [c.positions(times[a:b], knot_s=knot_s) for a, b in zip(bounds, bounds[1:], strict=False)]
            np.testing.assert_array_equal(np.concatenate(parts), whole)
            parts = [c.position_status(times[a:b], knot_s=knot_s) for a, b in zip(bounds, bounds[1:], strict=False)]
            np.testing.assert_array_equal(np.concatenate(parts), status)
        # and one satellite at a time gives its column
        for k in range(c.n_sats):
            np.testing.assert_array_equal(c.positions(times, sat_index=[k], knot_s=knot_s)[:, 0], whole[:, k])
        if knot_s is not None:
            # between knots, an instant is as good as the worse of the SGP4 positions at
            # its two knots (the decayer is below 100 km at a knot before SGP4 gives up)
            h = round(knot_s * NS_PER_S)
            left = (times.astype(np.int64) // h * h).astype("datetime64[ns]")
            at_left = c.position_status(left, max_age_s=None)
            at_right = c.position_status(left + np.timedelta64(h, "ns"), max_age_s=None)
            assert (at_right[:, 0] == PositionStatus.TOO_LOW).any()
            np.testing.assert_array_equal(
                c.position_status(times, knot_s=knot_s, max_age_s=None), np.maximum(at_left, at_right)
            )


def test_walker_and_hypatia_shells_have_no_age_limit(shell1, tmp_path):
    ten_years = shell1.epoch + np.timedelta64(3652 * DAY_NS, "ns")
    assert shell1.max_element_age_s is None
    assert np.isfinite(shell1.positions(np.array([ten_years]))).all()
    assert shell1.epoch_warning(np.array([ten_years])) is None
    from leosim.formats.elements import read_hypatia_tles

    lines = ["2 2"]
    for i in range(4):
        lines += [
            f"Starlink-550 {i}",
            tle_line(f"1 {i + 1:05d}U 00000ABC 00001.00000000  .00000000  00000-0  00000+0 0    0"),
            tle_line(f"2 {i + 1:05d}  53.0000 {180 * (i // 2):8.4f} 0000001   0.0000 {180 * (i % 2):8.4f} 15.19000000    0"),
        ]
    path = tmp_path / "tles.txt"
    path.write_text("\n".join(lines) + "\n")
    records, n_orbits, per = read_hypatia_tles(path)
    hyp = Constellation.from_records(records, hypatia_layout=(n_orbits, per))
    assert hyp.max_element_age_s is None
    assert np.isfinite(hyp.positions(np.array([np.datetime64("2000-03-01T00:00:00", "ns")]))).all()
    # the limit travels with a pickled constellation
    import pickle

    assert pickle.loads(pickle.dumps(hyp)).max_element_age_s is None
    real = Constellation.from_records(parse_tle_text(tle_at_epoch("NEW", 99999, "26133.00000000")))
    assert pickle.loads(pickle.dumps(real)).max_element_age_s == 30 * 86400.0


def test_vallado_cases_need_the_checks_off(vallado):
    """With the checks on, Vallado's propagations far from epoch or far out are refused:
    the verification above is of SGP4 itself, with leosim's sanity checks off."""
    records, c, _, _ = vallado
    i = next(k for k, r in enumerate(records) if r.norad_id == 11801)  # Molniya-like, deep space
    times = c.epochs[i] + seconds(np.array([0.0, 40 * 86400.0]))
    assert c.position_status(times, sat_index=[i])[:, 0].tolist() == [PositionStatus.OK, PositionStatus.STALE]
    assert np.isfinite(c.positions_teme(times, sat_index=[i], **RAW)).all()


def test_garbage_orbits_never_reach_london_new_york(tmp_path, snapshot_records):
    """The issue's examples: one OMM record dated 2100 moved the default start to 2100 and
    every RTT to 1e5-1e11 ms; a satellite at 0.1 rev/day or with a 1960 epoch carried
    London -> New York at 2,539 ms. With all three among the May 2026 snapshot, the run
    starts at the snapshot's epoch, none of them is on any path, and the RTT is what a
    laser network gives: above the great circle at c (37.2 ms), under 100 ms."""
    from leosim import GroundSegment, Network, Site, TimeGrid
    from leosim.core.geodesy import SPEED_OF_LIGHT_M_S

    bad = omm_json_record(tmp_path, EPOCH="2100-01-01T00:00:00", OBJECT_NAME="FUTURE")
    bad += parse_tle_text(far_tle() + tle_at_epoch("OLD", 99998, "60001.00000000"))
    c = Constellation.from_records(snapshot_records + bad)
    bad_ids = set(range(c.n_sats - 3, c.n_sats))
    london, new_york = Site("London", 51.5074, -0.1278), Site("New York", 40.7128, -74.0060)
    net = Network(c, GroundSegment.from_sites([london, new_york]))
    grid = TimeGrid.from_duration(c.epoch, "2min", "15s")
    assert grid.times[0] == np.datetime64("2026-05-13T02:16:42.000384", "ns")
    res = net.solve(grid.times, [[0, 1]], want_paths=True)
    rtt_ms = res.rtt_s[:, 0] * 1e3
    phi1, phi2, dlon = math.radians(51.5074), math.radians(40.7128), math.radians(-74.0060 + 0.1278)
    central = math.acos(math.sin(phi1) * math.sin(phi2) + math.cos(phi1) * math.cos(phi2) * math.cos(dlon))
    floor_ms = 2 * 6_371_000.0 * central / SPEED_OF_LIGHT_M_S * 1e3
    assert 37.0 < floor_ms < 37.5
    assert np.isfinite(rtt_ms).all() and (rtt_ms > floor_ms).all() and (rtt_ms < 100.0).all(), rtt_ms
    for step in res.paths:
        assert not bad_ids & set(step[0])
    assert np.isnan(c.positions(grid.times)[:, sorted(bad_ids)]).all()
