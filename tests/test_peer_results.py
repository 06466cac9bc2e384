"""leosim against two other simulators' published round-trip times (docs/validation.md).

``../shared/data/peer_results/leocraft_vs_hypatia/`` holds RTT time series from Hypatia
(ns-3 pings) and LEOCraft (path length / c), 200 s at 1 s steps from the constellation
epoch, for Delhi -> New York, Moscow -> Paris and Tokyo -> Sydney over single +Grid
shells (Starlink S1, Kuiper K1, Telesat T1). Both peers generate their satellites the same
way (Hypatia's satgen, which LEOCraft copies): a ``tles.txt`` of circular orbits at the
epoch 2000-01-01 00:00 UTC (``00001.00000000``), RAAN ``360 p / P``, mean anomaly
``360 s / S`` plus half a slot on odd planes, +Grid laser links by index with no shift at
the seam, and a ground-satellite link wherever the slant range is at most
``altitude / sin(min elevation)`` (a flat-Earth cone, not an elevation test).

leosim is set up to model exactly that: it reads the same ``tles.txt`` (written here from
the parameters, as satgen does), propagates it with SGP4, reads Hypatia's city file as
geodetic coordinates, and routes with ``--attach free``, ``--routing isl`` and
``--max-gsl-length``. Each of the 18 series is then reproduced to 1e-4 of the RTT, and so
are the peers' path-change times. The two peers differ from each other (by up to 20 ms on
Starlink) only because their Starlink and Kuiper runs flew at different mean motions;
:func:`test_the_gap_between_the_peers_is_their_mean_motion` checks that this explains the
whole gap. Deliberately wrong set-ups must fail the same comparison.

Skipped when ``../shared/data`` (beside the repository) is absent.
"""

from __future__ import annotations

import csv
import math
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from leosim.ground.sites import GroundSegment, Site
from leosim.network.builder import build_network
from leosim.network.links import LinkOptions
from leosim.space.constellation import Constellation

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PEER = DATA / "peer_results" / "leocraft_vs_hypatia"
CITIES = DATA / "hypatia" / "ground_stations_cities_sorted_by_estimated_2025_pop_top_100.basic.txt"

pytestmark = pytest.mark.skipif(
    not (PEER.is_dir() and CITIES.is_file()),
    reason=f"needs the peer results and Hypatia's city list in {DATA} (the workspace's shared data beside the repository)",
)

SIMULATORS = ("Hypatia", "LEOCraft")
#: The three city pairs, as Hypatia ids in the top-100 city list (file name stem: ids).
PAIRS = {"delhi_to_new-york": (1, 9), "moscow_to_paris": (21, 24), "tokyo_to_sydney": (0, 84)}
#: The peers' epoch: the TLE epoch field ``00001.00000000`` (year 2000, day 1.0), UTC.
EPOCH = np.datetime64("2000-01-01T00:00:00", "ns")
N_STEPS = 200  # 0..199 s at 1 s
STEP_S = 1.0

# Satgen's Earth and LEOCraft's gravity: the mean motion (rev/day) LEOCraft (and the
# Hypatia scripts LEOCraft published, evaluation/ping*.py) derive from the altitude.
_WGS72_RADIUS_M = 6378135.0
_G_M = 6.67408e-11 * 5.9722e24


def kepler_rev_per_day(altitude_m: float) -> float:
    """Mean motion of a circular orbit at ``altitude_m`` as LEOCraft computes it."""
    a = _WGS72_RADIUS_M + altitude_m
    return 86400.0 / math.sqrt(4 * math.pi**2 * a**3 / _G_M)


@dataclass(frozen=True)
class PeerShell:
    """One of the compared shells, as the peers parameterise it."""

    name: str
    planes: int
    sats_per_plane: int
    inclination_deg: float
    altitude_m: float  # nominal: sets the GSL range (and LEOCraft's mean motion)
    min_elevation_deg: float
    # mean motion (rev/day) of each simulator's run; None: Kepler at altitude_m. Hypatia's
    # Starlink and Kuiper runs flew at the values of Hypatia's own main_starlink_550.py
    # (15.19) and main_kuiper_630.py (14.80), not at the Kepler value LEOCraft uses (15.0547
    # and 14.7977): found by comparing both candidates with the data (docs/validation.md);
    # 15.19 rev/day is a 508.9 km orbit, not 550 km.
    hypatia_rev_per_day: float | None = None

    @property
    def max_gsl_length_m(self) -> float:
        """The peers' GSL rule: the slant range to a satellite ``altitude_m`` overhead seen
        at the elevation of a flat-Earth cone of radius ``altitude_m / tan(elevation)``."""
        return self.altitude_m / math.sin(math.radians(self.min_elevation_deg))

    def rev_per_day(self, simulator: str) -> float:
        if simulator == "Hypatia" and self.hypatia_rev_per_day is not None:
            return self.hypatia_rev_per_day
        return kepler_rev_per_day(self.altitude_m)


SHELLS = {
    "starlink_s1": PeerShell("starlink_s1", 72, 22, 53.0, 550e3, 25.0, hypatia_rev_per_day=15.19),
    "kuiper_k1": PeerShell("kuiper_k1", 34, 34, 51.9, 630e3, 35.0, hypatia_rev_per_day=14.80),
    "telesat_t1": PeerShell("telesat_t1", 27, 13, 98.98, 1015e3, 10.0),
}

# --------------------------------------------------------------------------- set-up


def _tle_checksum(line: str) -> int:
    return sum(int(ch) if ch.isdigit() else (ch == "-") for ch in line) % 10


def hypatia_tles_text(planes: int, sats_per_plane: int, inclination_deg: float, rev_per_day: float,
                      *, phase_offset: bool = True, eccentricity: float = 1e-7) -> str:
    """A Hypatia ``tles.txt`` as satgen's manual TLE generator writes it: the header
    ``"P S"``, then per satellite a name line and two TLE lines at epoch 2000-01-01 00:00,
    angles to 1e-4 deg and the mean motion to 1e-8 rev/day (the rounding the peers see).
    ``phase_offset``: odd planes shifted by half a slot (satgen's ``phase_diff``)."""
    lines = [f"{planes} {sats_per_plane}"]
    for p in range(planes):
        raan = p * 360.0 / planes
        shift = 180.0 / sats_per_plane if (phase_offset and p % 2 == 1) else 0.0
        for s in range(sats_per_plane):
            k = p * sats_per_plane + s
            l1 = f"1 {k + 1:05d}U 00000ABC 00001.00000000  .00000000  00000-0  00000+0 0    0"
            l2 = (f"2 {k + 1:05d} {inclination_deg:8.4f} {raan:8.4f} {f'{eccentricity:.7f}'[2:]} {0.0:8.4f} "
                  f"{shift + s * 360.0 / sats_per_plane:8.4f} {rev_per_day:11.8f}    0")
            lines += [f"Peer {k}", l1 + str(_tle_checksum(l1)), l2 + str(_tle_checksum(l2))]
    return "\n".join(lines) + "\n"


def hypatia_plus_grid(planes: int, sats_per_plane: int) -> set[tuple[int, int]]:
    """Satgen's +Grid with ``isl_shift = 0`` (what both peers use): slot s of plane p links
    to slot s + 1 of its plane and to slot s of plane p + 1, plane P - 1 to plane 0."""
    out = set()
    for p in range(planes):
        for s in range(sats_per_plane):
            a = p * sats_per_plane + s
            for b in (p * sats_per_plane + (s + 1) % sats_per_plane, ((p + 1) % planes) * sats_per_plane + s):
                out.add((min(a, b), max(a, b)))
    return out


def peer_constellation(shell: PeerShell, simulator: str, *, rev_per_day: float | None = None,
                       phase_offset: bool = True) -> Constellation:
    """The peer's satellites, read by leosim from the ``tles.txt`` the peer would write."""
    text = hypatia_tles_text(shell.planes, shell.sats_per_plane, shell.inclination_deg,
                             rev_per_day or shell.rev_per_day(simulator), phase_offset=phase_offset)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tles.txt"
        path.write_text(text)
        return Constellation.from_file(path)


@cache
def cities() -> GroundSegment:
    """Hypatia's top-100 cities; index = Hypatia id. leosim reads the latitudes as WGS84
    geodetic; Hypatia's ns-3 places them on the WGS72 ellipsoid (satgen's
    ``geodetic2cartesian``), pyephem (satgen's routing, LEOCraft) on its own: a couple of
    metres apart, nothing like the 21 km of reading them as spherical latitudes."""
    return GroundSegment.from_hypatia(CITIES)


#: The cities the pairs use (Hypatia ids), in this order as the network's endpoints.
CITY_IDS = sorted({i for pair in PAIRS.values() for i in pair})


@cache
def pair_cities() -> GroundSegment:
    """The six cities of the pairs. Ground stations never relay here (Hypatia's
    ``algorithm_free_one_only_over_isls``, leosim's ``isl`` routing), so the other 94
    cities change nothing; leaving them out gives bit-identical RTTs 2.4x faster."""
    return GroundSegment.from_sites(cities()[i] for i in CITY_IDS)


def peer_network(shell: PeerShell, simulator: str, *, constellation: Constellation | None = None,
                 endpoints: GroundSegment | None = None, links: LinkOptions | None = None, isl_pairs=None):
    """leosim set up as the peers model it: laser links only, any satellite in range
    (``free``), a ground-satellite link when the slant range is at most the peer's. The
    link options are otherwise leosim's defaults (cross-shell lasers on: one shell must be
    unaffected by them)."""
    return build_network(
        constellation or peer_constellation(shell, simulator),
        endpoints or pair_cities(),
        routing="isl",
        attach="free",
        links=links or LinkOptions(max_gsl_length_m=shell.max_gsl_length_m),
        isl_pairs=isl_pairs,
    )


#: The pairs as indices into :func:`pair_cities`.
PAIR_INDEX = np.array([[CITY_IDS.index(a), CITY_IDS.index(b)] for a, b in PAIRS.values()])


def step_times(start: np.datetime64 = EPOCH) -> np.ndarray:
    return start + (np.arange(N_STEPS) * int(STEP_S * 1e9)).astype("timedelta64[ns]")


def solve(net, start: np.datetime64 = EPOCH):
    """RTT (ms, ``(N_STEPS, 3)``, columns in :data:`PAIRS` order) and path fingerprints."""
    res = net.solve(step_times(start), PAIR_INDEX, step_s=STEP_S)
    return res.rtt_s * 1e3, res.path_hash


@cache
def leosim_series(con: str, simulator: str):
    """leosim's answer to one peer's set-up (cached: each set-up is solved once)."""
    return solve(peer_network(SHELLS[con], simulator))


# --------------------------------------------------------------------------- the peers' files


def peer_rtt_ms(simulator: str, con: str, pair: str) -> np.ndarray:
    """A peer's RTT series (ms), checked to be 200 steps of 1 s from the epoch."""
    path = PEER / simulator / con / f"ping_{pair}_rtt.csv"
    with path.open() as f:
        rows = [r for r in csv.reader(f) if r]
    if not rows[0][0].lstrip("-").isdigit():  # a header (the Hypatia Telesat files have none)
        rows = rows[1:]
    a = np.array(rows, dtype=float)
    if simulator == "Hypatia":  # src,dst,time_ns,ping_ns
        t_s, rtt = a[:, 2] / 1e9, a[:, 3] / 1e6
        n_sats = SHELLS[con].planes * SHELLS[con].sats_per_plane
        assert (a[:, :2] == np.array(PAIRS[pair]) + n_sats).all(), f"{path}: not the pair {PAIRS[pair]}"
    else:  # time_s,RTT_ms
        t_s, rtt = a[:, 0], a[:, 1]
    assert np.array_equal(t_s, np.arange(N_STEPS) * STEP_S), f"{path}: expected {N_STEPS} steps of {STEP_S} s"
    assert (rtt > 0).all(), f"{path}: unreachable steps"
    return rtt


def peer_path_changes(simulator: str, con: str, pair: str) -> list[int] | None:
    """The steps (s) at which the peer's path changed; None when it published no file."""
    path = PEER / simulator / con / f"change_{pair}_path.csv"
    if not path.exists():
        return None
    values = np.loadtxt(path, skiprows=1, ndmin=1)
    return [int(round(v / 1e9 if simulator == "Hypatia" else v)) for v in values]


def path_changes(path_hash: np.ndarray) -> list[int]:
    return (np.flatnonzero(path_hash[1:] != path_hash[:-1]) + 1).tolist()


# --------------------------------------------------------------------------- tolerance

# Where leosim models exactly what the peer models (all 18 files): 1e-4 of the RTT, the
# 0.01 % the issue tracker asks of the Hypatia reproduction, in the median *and* at every
# step. In physical units: 10 us (3 km of path) on the ~100 ms pairs, 2 us (600 m) on
# Moscow -> Paris. Measured: median 1e-6 to 2e-5, largest 3.4e-5 (3.4 us). What is left
# is what the peers do differently inside the same model: Hypatia's ping replies travel
# RTT/2 after the request over satellites that moved (the RTT drifts by up to 60 us/s, so
# the return half moves by up to ~1.5 us), ns-3 adds serialisation of the small ping
# packet at 10 Gbit/s (tens of ns a hop: Hypatia is 0.05-0.35 us above leosim on
# Telesat's 2-3-hop paths) and places cities on WGS72 (2 m from WGS84); Hypatia routes
# with pyephem's positions
# while ns-3 delays with SGP4's; LEOCraft measures everything with pyephem (which ignores
# UT1 - UTC: 0.36 s of Earth rotation, ~160 m on the ground in 2000); the TLE text rounds
# angles to 1e-4 deg (12 m) for everyone. Hypatia's forwarding state is recomputed every
# 1 s in these runs (the published ping scripts use 1000 ms, not the 100 ms of Hypatia's
# paper), at the ping instants, so no step uses a stale route. Every step is held to
# 1e-4, so a path change a step early or late fails where it moves the RTT (most do, by
# 1e-3 to 0.25); a change at a tie between two paths moves it by as little as 3e-5, so
# the change steps are also compared directly with the peer's change files.
REL_TOL = 1e-4
# The two peers against each other, through leosim: leosim(LEOCraft's set-up) -
# leosim(Hypatia's) must equal LEOCraft - Hypatia to within 10 us at every step
# (measured: 3 us), while the gap itself is up to 20 ms.
GAP_TOL_MS = 0.010


def relative_error(ours_ms: np.ndarray, theirs_ms: np.ndarray) -> np.ndarray:
    return np.abs(ours_ms - theirs_ms) / theirs_ms


def agrees(ours_ms: np.ndarray, theirs_ms: np.ndarray) -> bool:
    rel = relative_error(ours_ms, theirs_ms)
    return bool(np.isfinite(rel).all() and np.median(rel) <= REL_TOL and rel.max() <= REL_TOL)


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("con", list(SHELLS))
def test_leosim_reads_the_peers_constellation(con):
    """The tles.txt gives the peer's satellites and laser links: P x S satellites in
    Hypatia's order at epoch 2000-01-01 00:00, the peer's mean motion, and exactly
    satgen's +Grid (leosim's Hypatia layout: planes by index, no shift at the seam)."""
    shell = SHELLS[con]
    for simulator in SIMULATORS:
        c = peer_constellation(shell, simulator)
        assert c.n_sats == shell.planes * shell.sats_per_plane
        assert (c.epochs == EPOCH).all()
        rev_per_day = np.array([s.no_kozai for s in c.satrecs]) * 1440 / (2 * math.pi)
        assert np.allclose(rev_per_day, shell.rev_per_day(simulator), rtol=0, atol=1e-8)
        net = peer_network(shell, simulator, constellation=c)
        assert set(map(tuple, net.isl.tolist())) == hypatia_plus_grid(shell.planes, shell.sats_per_plane)


@pytest.mark.parametrize("pair", list(PAIRS))
@pytest.mark.parametrize("con", list(SHELLS))
@pytest.mark.parametrize("simulator", SIMULATORS)
def test_rtt_matches_the_peer(simulator, con, pair):
    """Every step within 1e-4 of the peer's RTT (see REL_TOL), and the same path changes."""
    rtt, phash = leosim_series(con, simulator)
    j = list(PAIRS).index(pair)
    theirs = peer_rtt_ms(simulator, con, pair)
    rel = relative_error(rtt[:, j], theirs)
    assert agrees(rtt[:, j], theirs), (
        f"{simulator} {con} {pair}: median relative error {np.median(rel):.2e}, largest {rel.max():.2e} "
        f"at t = {int(np.argmax(rel))} s (leosim {rtt[np.argmax(rel), j]:.4f} ms, peer {theirs[np.argmax(rel)]:.4f} ms); "
        f"expected at most {REL_TOL:g}"
    )
    changes = peer_path_changes(simulator, con, pair)
    if changes is not None:
        assert path_changes(phash[:, j]) == changes


def test_summary_statistics_match():
    """The derived summary_stats.txt (min/median/max to 0.01 ms) agrees with leosim's series."""
    with (PEER / "summary_stats.txt").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 18
    for r in rows:
        rtt, _ = leosim_series(r["constellation"], r["simulator"])
        pair = r["file"].removeprefix("ping_").removesuffix("_rtt.csv")
        ours = rtt[:, list(PAIRS).index(pair)]
        for stat, value in (("min_ms", ours.min()), ("median_ms", np.median(ours)), ("max_ms", ours.max())):
            # the file rounds to 0.01 ms; leosim is within REL_TOL of every step
            assert abs(value - float(r[stat])) <= 0.005 + REL_TOL * float(r[stat]), (r["simulator"], r["file"], stat)


@pytest.mark.parametrize("con", ["starlink_s1", "kuiper_k1", "telesat_t1"])
def test_the_gap_between_the_peers_is_their_mean_motion(con):
    """The peers differ by construction: Hypatia's Starlink and Kuiper runs flew at 15.19
    and 14.80 rev/day, LEOCraft at the Kepler values 15.0547 and 14.7977 (everything else
    is the same model). leosim run with each set-up reproduces their difference step by
    step; on Starlink that gap is up to 20 ms and shifts most path changes (by 1 to 11 s)."""
    for pair, j in zip(PAIRS, range(len(PAIRS)), strict=True):
        gap_theirs = peer_rtt_ms("LEOCraft", con, pair) - peer_rtt_ms("Hypatia", con, pair)
        gap_ours = leosim_series(con, "LEOCraft")[0][:, j] - leosim_series(con, "Hypatia")[0][:, j]
        assert np.abs(gap_ours - gap_theirs).max() <= GAP_TOL_MS, (con, pair)
        if con == "starlink_s1":
            assert np.abs(gap_theirs).max() > 1.0  # a real difference, not noise
            assert peer_path_changes("LEOCraft", con, pair) != peer_path_changes("Hypatia", con, pair)


def _geocentric_misreading() -> GroundSegment:
    """The cities with their latitudes taken as geocentric (as a spherical model would)."""
    e2 = 6.694379990141e-03
    return GroundSegment.from_sites(
        Site(s.name, math.degrees(math.atan(math.tan(math.radians(s.latitude_deg)) / (1 - e2))), s.longitude_deg, 0.0)
        for s in pair_cities()
    )


def _wrong_setups():
    s1 = SHELLS["starlink_s1"]
    one_sec = np.timedelta64(1, "s")
    return {
        # a 40 deg cone instead of 25 deg
        "mask 40 deg": lambda: solve(peer_network(s1, "Hypatia", links=LinkOptions(
            max_gsl_length_m=s1.altitude_m / math.sin(math.radians(40.0))))),
        # leosim's own elevation test at 25 deg instead of the peers' flat-Earth range
        "true 25 deg elevation": lambda: solve(peer_network(s1, "Hypatia", links=LinkOptions(min_elevation_deg=25.0))),
        # the epoch one second late (the path changes come a step early)
        "epoch + 1 s": lambda: solve(peer_network(s1, "Hypatia"), start=EPOCH + one_sec),
        # the nominal 550 km (Kepler mean motion) instead of the 15.19 rev/day Hypatia flew
        "Kepler mean motion": lambda: solve(peer_network(s1, "Hypatia", constellation=peer_constellation(
            s1, "Hypatia", rev_per_day=kepler_rev_per_day(s1.altitude_m)))),
        # no half-slot offset of odd planes
        "no phase offset": lambda: solve(peer_network(s1, "Hypatia", constellation=peer_constellation(
            s1, "Hypatia", phase_offset=False))),
        # the same satellites as a leosim Walker shell (F = P/2 puts them where satgen does),
        # with leosim's Walker +Grid, which links other neighbours than satgen's
        "Walker shell and its +Grid": lambda: solve(peer_network(s1, "Hypatia", constellation=_walker(s1))),
        # Hypatia's latitudes read as geocentric, as on a sphere
        "cities read as spherical": lambda: solve(peer_network(s1, "Hypatia", endpoints=_geocentric_misreading())),
    }


def _walker(shell: PeerShell) -> Constellation:
    """The Hypatia satellites as a leosim Walker shell: the altitude whose Kepler mean
    motion (WGS72, as ``from_shells`` computes it) is the peer's, phasing F = P / 2."""
    from leosim.space.constellation import Shell

    n_rad_s = shell.rev_per_day("Hypatia") * 2 * math.pi / 86400
    altitude_m = (398600.8 / n_rad_s**2) ** (1 / 3) * 1e3 - _WGS72_RADIUS_M
    return Constellation.from_shells([Shell(altitude_m, shell.inclination_deg, shell.planes, shell.sats_per_plane,
                                            shell.planes // 2)], epoch=EPOCH)


def satgen_links_on_walker(shell: PeerShell) -> np.ndarray:
    """Satgen's +Grid in the satellite order of :func:`_walker`: with F = P / 2, leosim's
    slot s of plane p sits where satgen's slot ``(s + p // 2) % S`` does."""
    P, S = shell.planes, shell.sats_per_plane
    leosim_index = {(p, (s + p // 2) % S): p * S + s for p in range(P) for s in range(S)}
    satgen_index = {p * S + h: leosim_index[(p, h)] for p in range(P) for h in range(S)}
    return np.array(sorted((satgen_index[a], satgen_index[b]) for a, b in hypatia_plus_grid(P, S)))


@pytest.mark.parametrize("con", ["starlink_s1", "kuiper_k1"])
def test_a_walker_shell_with_satgens_links_matches_too(con):
    """Without a tles.txt: ``Constellation.from_shells`` at the altitude of the peer's mean
    motion, phasing F = P / 2 (odd planes half a slot ahead, as satgen) and satgen's
    +Grid passed as ``isl_pairs`` match Hypatia as well. Only for an even number of
    planes: Telesat's 27 have no Walker F that shifts every other plane."""
    shell = SHELLS[con]
    net = peer_network(shell, "Hypatia", constellation=_walker(shell), isl_pairs=satgen_links_on_walker(shell))
    rtt, _ = solve(net)
    for j, pair in enumerate(PAIRS):
        assert agrees(rtt[:, j], peer_rtt_ms("Hypatia", con, pair)), (con, pair)


@pytest.mark.parametrize("setup", list(_wrong_setups()))
def test_a_wrong_setup_does_not_pass(setup):
    """The comparison can fail: each of these is a plausible mistake, and none passes on
    all three Starlink pairs (Hypatia's series); each misses by at least 10x the
    tolerance somewhere."""
    rtt, _ = _wrong_setups()[setup]()
    worst = 0.0
    for j, pair in enumerate(PAIRS):
        theirs = peer_rtt_ms("Hypatia", "starlink_s1", pair)
        rel = np.nan_to_num(relative_error(rtt[:, j], theirs), nan=1.0)
        worst = max(worst, float(rel.max()))
    assert worst > 10 * REL_TOL, f"{setup}: largest relative error {worst:.1e} is within 10x the tolerance"
    assert not all(agrees(rtt[:, j], peer_rtt_ms("Hypatia", "starlink_s1", p)) for j, p in enumerate(PAIRS))


def test_a_single_shell_ignores_cross_shell_lasers():
    """The reproduction runs with leosim's default link options, cross-shell lasers on; a
    single shell has no other shell to link to, so turning them off changes nothing."""
    s1 = SHELLS["starlink_s1"]
    c = peer_constellation(s1, "Hypatia")
    on = peer_network(s1, "Hypatia", constellation=c)
    off = peer_network(s1, "Hypatia", constellation=c,
                       links=LinkOptions(max_gsl_length_m=s1.max_gsl_length_m, cross_shell=False))
    assert on.links.cross_shell and not off.links.cross_shell
    times = step_times()[:30]
    a = on.solve(times, PAIR_INDEX, step_s=STEP_S)
    b = off.solve(times, PAIR_INDEX, step_s=STEP_S)
    np.testing.assert_array_equal(a.rtt_s, b.rtt_s)
    np.testing.assert_array_equal(a.path_hash, b.path_hash)
    np.testing.assert_array_equal(a.rtt_s * 1e3, leosim_series("starlink_s1", "Hypatia")[0][:30])
