"""Exposure model: closed forms (link budget, horizon, detection, Cramer-Rao bounds) and the
Monte Carlo built on them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leosim import ParameterError
from leosim.core.radio import clutter_loss_terrestrial_db, free_space_loss_db, noise_power_dbw, radio_horizon_m
from leosim.models.exposure import (
    Emitter,
    Sensor,
    SensorError,
    aoa_covariance,
    detection_range_m,
    duty_cycle_from_traffic,
    energy_detector_pd,
    error_ellipse,
    hybrid_covariance,
    risk_map,
    tdoa_covariance,
    time_to_locate,
)
from leosim.scenario.resolve import load_sensors

C = 299_792_458.0


@pytest.mark.parametrize(("km", "snr_db"), [(1, 25.0), (5, 11.0), (10, 5.5), (30, -4.0)])
def test_snr_anchor_of_design_md(km, snr_db):
    """0 dBW toward a 20 dBi sensor, 62.5 MHz, NF 5 dB, 14.25 GHz, free space."""
    snr = 0.0 + 20.0 - free_space_loss_db(km * 1e3, 14.25e9) - noise_power_dbw(62.5e6, 5.0)
    # docs/design.md rounds to ~0.5 dB (25.5, 11.5, 5.5, -4.05 exactly)
    assert float(snr) == pytest.approx(snr_db, abs=0.55)


def test_link_budget_pieces_by_hand():
    # FSPL(1 km, 14.25 GHz) = 20 log10(4 pi 1e3 14.25e9 / c) = 115.518 dB
    assert float(free_space_loss_db(1e3, 14.25e9)) == pytest.approx(
        20 * math.log10(4 * math.pi * 1e3 * 14.25e9 / C), abs=1e-9
    )
    # k T0 = -203.98 dBW/Hz; + 77.96 dB(62.5 MHz) + 5 dB = -121.02 dBW
    assert float(noise_power_dbw(62.5e6, 5.0)) == pytest.approx(-121.02, abs=0.005)


def test_radio_horizon():
    # 4/3 Earth: d = sqrt(2 k R h); 4.1224 km per sqrt(m); 10 m and 3 m -> 13.04 + 7.14 km
    k_r = 4 / 3 * 6371e3
    assert float(radio_horizon_m(10.0, 3.0)) == pytest.approx(
        math.sqrt(2 * k_r * 10) + math.sqrt(2 * k_r * 3), rel=1e-12
    )
    assert float(radio_horizon_m(10.0, 3.0)) / 1e3 == pytest.approx(4.1224 * (math.sqrt(10) + math.sqrt(3)), abs=0.01)
    assert float(radio_horizon_m(0.0, 0.0)) == 0.0


def test_p2108_terrestrial_clutter_by_hand():
    # f = 14.25 GHz, d = 2 km, p = 50 %: Ll = 23.5 + 9.6 log10 f = 34.57;
    # Ls = 32.98 + 23.9 log10 2 + 3 log10 f = 43.63; L = -5 log10(10^-6.914 + 10^-8.726) = 34.54
    ll = 23.5 + 9.6 * math.log10(14.25)
    ls = 32.98 + 23.9 * math.log10(2.0) + 3 * math.log10(14.25)
    expected = -5 * math.log10(10 ** (-0.2 * ll) + 10 ** (-0.2 * ls))
    assert float(clutter_loss_terrestrial_db(14.25e9, 2e3)) == pytest.approx(expected, abs=1e-9)
    assert expected == pytest.approx(34.54, abs=0.01)


def test_energy_detector_against_textbook():
    # BT = 1 is single-sample square-law detection (Marcum Q): Skolnik's curve gives
    # Pd = 0.9 at 13.2 dB for Pfa = 1e-6 (Albersheim: 13.1 dB; his equation is +-0.2 dB)
    assert float(energy_detector_pd(13.2, 1, 1e-6)) == pytest.approx(0.90, abs=0.01)
    assert float(energy_detector_pd(-60.0, 1, 1e-6)) == pytest.approx(1e-6, rel=0.01)  # noise only: Pd -> Pfa
    # large BT: Pd ~ Q(Q^-1(Pfa) - sqrt(BT) SNR) (Gaussian approximation; error <1e-2 at BT=1e4)
    from scipy.stats import norm

    m, snr = 1e4, 10 ** (-15 / 10)
    approx = norm.sf(norm.isf(1e-3) - math.sqrt(m) * snr)
    assert float(energy_detector_pd(-15.0, m, 1e-3)) == pytest.approx(approx, abs=0.02)
    assert np.all(np.diff(energy_detector_pd(np.linspace(-30, 10, 50), 1000, 1e-6)) >= 0)


def test_aoa_bound_for_symmetric_geometries():
    s = 0.01  # rad
    # two sensors at 1 km, bearings at right angles: sigma r on each axis = 10 m
    cov = aoa_covariance([[1000.0, 0.0], [0.0, 1000.0]], [0.0, 0.0], s)
    assert np.sqrt(np.diag(cov)) == pytest.approx([10.0, 10.0], rel=1e-12)
    assert cov[0, 1] == pytest.approx(0.0, abs=1e-9)
    # a ring of N sensors at r: information N / (2 sigma^2 r^2) per axis -> sigma r sqrt(2/N)
    n, r = 6, 2000.0
    a = np.radians(np.arange(n) * 60.0)
    cov = aoa_covariance(np.c_[r * np.sin(a), r * np.cos(a)], [0.0, 0.0], s)
    assert np.sqrt(np.diag(cov)) == pytest.approx([s * r * math.sqrt(2 / n)] * 2, rel=1e-12)
    # one sensor, or all in line, cannot fix a position
    with pytest.raises(np.linalg.LinAlgError):
        aoa_covariance([[1000.0, 0.0], [2000.0, 0.0]], [0.0, 0.0], s)


def test_tdoa_bound_for_symmetric_geometries():
    sig = 10e-9
    four = [[1e3, 0.0], [0.0, 1e3], [-1e3, 0.0], [0.0, -1e3]]
    # TOA with an unknown emission time; sum u = 0, sum u u^T = 2 I -> c sigma / sqrt(2)
    assert np.sqrt(np.diag(tdoa_covariance(four, [0.0, 0.0], sig))) == pytest.approx(
        [C * sig / math.sqrt(2)] * 2, rel=1e-9
    )
    # three at 120 deg: sum u u^T = 3/2 I -> c sigma sqrt(2/3)
    a = np.radians([0.0, 120.0, 240.0])
    three = np.c_[5e3 * np.sin(a), 5e3 * np.cos(a)]
    assert np.sqrt(np.diag(tdoa_covariance(three, [0.0, 0.0], sig))) == pytest.approx(
        [C * sig * math.sqrt(2 / 3)] * 2, rel=1e-9
    )
    # two sensors give one hyperbola: no fix
    with pytest.raises(np.linalg.LinAlgError):
        tdoa_covariance(four[:2], [0.0, 0.0], sig)
    # information adds: hybrid is tighter than either
    hyb = hybrid_covariance(four, [0.0, 0.0], 0.01, sig)
    assert np.all(np.diag(hyb) < np.diag(tdoa_covariance(four, [0.0, 0.0], sig)))
    assert np.all(np.diag(hyb) < np.diag(aoa_covariance(four, [0.0, 0.0], 0.01)))


def test_error_ellipse():
    # 95 % ellipse of sigma_x = 3 m, sigma_y = 1 m: semi-major 3 x sqrt(-2 ln 0.05) = 7.34 m, along east
    major, minor, angle = error_ellipse(np.diag([9.0, 1.0]))
    assert float(major) == pytest.approx(3 * math.sqrt(-2 * math.log(0.05)), rel=1e-12)
    assert float(minor) == pytest.approx(math.sqrt(-2 * math.log(0.05)), rel=1e-12)
    assert float(angle) == pytest.approx(90.0)


def test_emitter_pattern_and_validation():
    e = Emitter()
    assert e.eirp_dbw == pytest.approx(10 * math.log10(4.06) + 35.0)  # 41.1 dBW, FCC
    g = e.gain_toward_dbi(np.array([0.0, 1.0, 30.0, 60.0, 100.0]))
    assert g[0] == 35.0 and g[1] < 35.0 and g[3] == -10.0 and g[4] == -20.0
    assert np.all(np.diff(e.gain_toward_dbi(np.linspace(0, 89, 200))) <= 1e-12)  # monotone off the beam
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ParameterError) as exc:
            Emitter(duty_cycle=bad)
        assert (
            str(exc.value)
            == f"duty cycle {bad!r} is outside 0-1; expected the fraction of time the terminal transmits, e.g. 0.11"
        )
    assert float(duty_cycle_from_traffic(125e6 * 0.02)) == pytest.approx(0.02)


def test_sensors_validation_and_files(tmp_path):
    with pytest.raises(SensorError) as exc:
        Sensor("s1", 35.7, 51.4, height_m=-2.0)
    assert str(exc.value) == "sensor 's1': height_m -2.0 is under ground; expected an antenna height >= 0 m"
    f = tmp_path / "s.csv"
    f.write_text("name,latitude_deg,longitude_deg,height_m,kind\nm1,35.70,51.40,30,mast\nm2,35.72,51.42,-5,mast\n")
    with pytest.raises(SensorError) as exc:
        load_sensors(f, (35.7, 51.4))
    assert (
        str(exc.value) == f"{f}:3: sensor 'm2': height_m -5.0 is under ground; expected an antenna height >= 0 m"
    )
    f.write_text("name,lat,lon\n")
    with pytest.raises(
        SensorError, match=r":1: unknown column 'lat'; expected a CSV header"
    ):
        load_sensors(f, (35.7, 51.4))
    f.write_text(
        "name,latitude_deg,longitude_deg,height_m,kind,t_s\nd1,35.70,51.40,300,drone,0\nd1,35.75,51.40,300,drone,600\nm1,35.7,51.5,30,mast,\n"
    )
    d1, m1 = load_sensors(f, (35.7, 51.4))
    assert d1.path is not None and d1.airborne and m1.path is None
    lat, _, h = d1.position_at(np.array([300.0, 900.0]))
    assert lat == pytest.approx([35.725, 35.725]) and h.tolist() == [300.0, 300.0]  # looped path
    t = tmp_path / "s.toml"
    t.write_text('[[sensor]]\nname = "a"\nlatitude_deg = 35.7\nlongitude_deg = 51.4\nheight_m = 15\ngain_dbi = 25\n')
    (a,) = load_sensors(t, (0, 0))
    assert a.gain_dbi == 25.0 and a.height_m == 15.0
    with pytest.raises(SensorError, match=r"sensor layout 'ring:1:2': a ring of 1 sensors; expected 2 to 400"):
        load_sensors("ring:1:2", (35.7, 51.4))


def test_detection_range():
    # open terrain, rooftop sensor at 10 m, terminal at 3 m: the horizon (20.2 km) limits
    open_ = detection_range_m(Emitter(in_clutter=False), Sensor("s", 0, 0, height_m=10.0))
    assert open_ == pytest.approx(float(radio_horizon_m(3.0, 10.0)), rel=1e-5)
    # in clutter (ITU-R P.2108, ~34.5 dB at 14 GHz) it shrinks to under 2 km
    cl = detection_range_m(Emitter(), Sensor("s", 0, 0, height_m=10.0))
    assert 1e3 < cl < 2e3
    # at that range Pd is 0.5 by construction; 3 dB more power reaches further
    assert detection_range_m(Emitter(tx_power_dbw=9.1), Sensor("s", 0, 0, height_m=10.0)) > cl


def test_time_to_locate_monte_carlo():
    ring = load_sensors("ring:6:1", (35.7, 51.4))
    a = time_to_locate(35.7, 51.4, ring, trials=100, seed=3)
    b = time_to_locate(35.7, 51.4, ring, trials=100, seed=3)
    assert np.array_equal(a.times_s, b.times_s)  # same seed, same answer
    assert a.located_share == 1.0 and a.detecting == 6
    slow = time_to_locate(35.7, 51.4, ring, emitter=Emitter(duty_cycle=0.02), trials=100, seed=3)
    # fewer transmitting looks: a lower duty cycle takes longer (about 11/2 times)
    assert 3.0 < slow.median_s / a.median_s < 9.0
    silent = time_to_locate(35.7, 51.4, ring, emitter=Emitter(duty_cycle=0.0), trials=20, hours=1.0)
    assert silent.located_share == 0.0 and silent.median_s == math.inf


def test_fewer_than_two_detecting_sensors_is_not_located():
    # one sensor nearby, the others beyond the horizon: bearings from one sensor never fix
    # a point; the result is "not located" (inf), never NaN
    sensors = [Sensor("near", 35.705, 51.4), Sensor("far", 36.5, 51.4), Sensor("farther", 36.5, 52.4)]
    r = time_to_locate(35.7, 51.4, sensors, trials=20, hours=1.0, method="aoa")
    assert r.detecting == 1 and r.located_share == 0.0
    assert np.all(np.isinf(r.times_s)) and not np.isnan(r.times_s).any()
    assert not math.isnan(r.final_semi_major_m)


def test_relocation_restarts_the_search():
    ring = load_sensors("ring:6:3", (35.7, 51.4))  # at the edge of detection: ~10 min to locate
    stay = time_to_locate(35.7, 51.4, ring, trials=50, seed=1, hours=1.0)
    assert stay.located_share == 1.0
    # moving every 3 min to a random site within 20 km, mostly out of the ring's reach: the
    # adversary starts over each time and rarely gets enough looks
    move = time_to_locate(35.7, 51.4, ring, trials=50, seed=1, hours=1.0, relocate_hours=0.05, relocate_radius_m=20e3)
    assert move.located_share < 0.5
    again = time_to_locate(35.7, 51.4, ring, trials=50, seed=1, hours=1.0, relocate_hours=0.05, relocate_radius_m=20e3)
    assert np.array_equal(move.times_s, again.times_s)


def test_risk_map_is_worse_near_sensors():
    ring = load_sensors("ring:4:1", (35.7, 51.4))
    lat, lon = np.array([35.7, 35.7, 35.71, 36.5]), np.array([51.4, 51.42, 51.4, 51.4])
    t = risk_map(lat, lon, ring, hours=1.0)
    assert t.shape == (4,) and t[0] < np.inf and t[3] == np.inf
    # the batched map is the one-point computation repeated
    from leosim.models.exposure import _zenith_directions

    one = [
        time_to_locate(a, b, ring, pointing=_zenith_directions(a, b, [50.0], [0.0]), hours=1.0, expected=True).times_s[
            0
        ]
        for a, b in zip(lat, lon)
    ]
    assert t.tolist() == one


def test_pairwise_tdoa_information_is_exact_when_every_sensor_detects():
    from leosim.models.exposure import _tdoa_pair_terms

    rng = np.random.default_rng(5)
    xy = rng.uniform(-5e3, 5e3, (5, 2))
    sigma = rng.uniform(5e-9, 50e-9, 5)
    u = -xy / np.linalg.norm(xy, axis=1)[:, None]
    n = len(xy)
    _, _, p, s, f, g, *_ = _tdoa_pair_terms(
        u, np.ones(n), 1.0, sigma**2, np.zeros(n), np.zeros(n), np.ones(n), np.ones(n)
    )
    info = np.einsum("p,pij->ij", 1.0 / s, g)
    # relative 1e-9: both are the same algebra, summed in a different order
    assert np.linalg.inv(info) == pytest.approx(tdoa_covariance(xy, [0.0, 0.0], sigma), rel=1e-9)
    assert p == pytest.approx(np.ones(n * (n - 1) // 2)) and np.all(f == 0)


def test_methods_and_false_alarms():
    ring = load_sensors("ring:6:1", (35.7, 51.4))
    for method in ("aoa", "tdoa", "hybrid"):
        assert time_to_locate(35.7, 51.4, ring, trials=20, seed=2, method=method).located_share == 1.0
    # 5 km in clutter: a sensor detects a burst about as often as it false-alarms, so its
    # bearings are discarded, and two sensors almost never detect the same burst
    far = load_sensors("ring:6:5", (35.7, 51.4))
    r = time_to_locate(35.7, 51.4, far, trials=20, seed=2, hours=24.0)
    assert r.located_share == 0.0 and r.detecting == 0


# ------------------------------------------ issue 13: the reproducers, kept as regressions
SENSOR_TOML = '[[sensor]]\nname = "a"\nlatitude_deg = 35.7\nlongitude_deg = 51.4\n'


@pytest.mark.parametrize(
    "name, text, needle",
    [
        ("s.toml", "sensor = [0]\n", "expected one or more [[sensor]] tables"),
        ("s.toml", "sensor = [[0]]\n", "expected one or more [[sensor]] tables"),
        ("s.toml", SENSOR_TOML + "path = [[0, 200, 51.4, 10], [60, 35.7, 51.4, 10]]\n", "waypoint (0.0, 200.0, 51.4, 10.0)"),
        ("s.toml", SENSOR_TOML + "path = [[0, nan, 51.4, 10], [60, 35.7, 51.4, 10]]\n", "path[0][1] (lat) nan is not a finite"),
        ("s.toml", SENSOR_TOML + "path = [[0, 35.7, 51.4, 10], [0, 35.7, 51.4, 10]]\n", "path times must increase"),
        ("s.toml", SENSOR_TOML + "path = [[0, 35.7, 51.4, 10], [60, 35.7, 51.4, 1e6]]\n", "height_m 1e+06; expected at most"),
        ("s.toml", SENSOR_TOML + "beamwidth_deg = nan\n", "beamwidth_deg nan is not a finite number"),
        ("s.toml", SENSOR_TOML + "beamwidth_deg = -5\n", "beamwidth_deg -5.0; expected a 3 dB beamwidth from 0.01 to 180"),
        ("s.toml", SENSOR_TOML + "beamwidth_deg = 1e-10\n", "beamwidth_deg 1e-10; expected a 3 dB beamwidth from 0.01"),
        ("s.toml", SENSOR_TOML + "beamwidth_deg = 270\n", "beamwidth_deg 270.0; expected a 3 dB beamwidth"),
        ("s.toml", SENSOR_TOML + "kind = 3\n", "kind 3 is not a text"),
        ("s.toml", SENSOR_TOML + "gain_dbi = 1e300\n", "gain_dbi 1e+300 is out of range"),
        ("s.toml", SENSOR_TOML * 2, ", sensor 2: sensor 'a' is given again (first as sensor 1)"),
        ("s.toml", "colour = 1\n" + SENSOR_TOML, ": unknown top-level key 'colour'; expected only [[sensor]] tables"),
        ("s.csv", "name,latitude_deg,longitude_deg,t_s\na,35.7,51.4,0\na,200,51.4,60\n",
         ":3: latitude_deg 200 is out of range; expected a number from -90 to 90"),
        ("s.csv", "name,latitude_deg,longitude_deg,t_s\na,35.7,51.4,0\na,nan,51.4,60\n", ":3: latitude_deg 'nan' is not a number"),
        ("s.csv", "name,latitude_deg,longitude_deg,t_s\na,35.7,51.4,60\na,35.7,51.4,0\n", ":3: t_s 0 is not after"),
        ("s.csv", "name,latitude_deg,longitude_deg,beamwidth_deg\na,35.7,51.4,nan\n", ":2: beamwidth_deg 'nan' is not a number"),
        ("s.csv", "name,latitude_deg,longitude_deg,beamwidth_deg\na,35.7,51.4,-5\n", ":2: sensor 'a': beamwidth_deg -5.0"),
    ],
)
def test_sensor_files_refuse_impossible_values_at_their_place(tmp_path, name, text, needle):
    f = tmp_path / name
    f.write_text(text)
    with pytest.raises(SensorError) as exc:
        load_sensors(f, (35.7, 51.4))
    assert str(exc.value).startswith(str(f)) and needle in str(exc.value)


def test_beamwidth_from_a_150_m_dish_to_a_hemisphere_is_kept():
    assert Sensor("a", 35.7, 51.4, beamwidth_deg=180).theta3_deg == 180.0
    assert Sensor("a", 35.7, 51.4, beamwidth_deg=0.01).theta3_deg == 0.01


@pytest.mark.parametrize(
    "spec, needle",
    [
        ("drone:1:100:0", "speed 0 km/h; expected a radius of 0.001-1000 km, an altitude of 0-20,000 m and a speed of 0.1-3000"),
        ("drone:0:100", "drone radius 0 km"),
        ("ring:99999999999:8", "a ring of 99999999999 sensors; expected 2 to 400"),
        ("ring:3639232:3", "a ring of 3639232 sensors; expected 2 to 400"),
        ("ring:1e15:3", "expected 2 to 400"),
        ("ring:1e16:3", "n = '1e16' is not valid"),
        ("ring:6:inf", "radius_km = 'inf' is not valid"),
        ("ring:6:1e-9", "expected a radius of 0.001-1000 km"),
        ("grid:0.0001", "expected a spacing of 0.001-1000 km"),
        ("grid:0.5", "makes about 6,561 sensors; expected at most 400"),
        ("ring:" + "9" * 5000 + ":3", "n = '99999"),
    ],
)
def test_sensor_layout_specs_are_refused_before_anything_is_allocated(spec, needle):
    import time

    t0 = time.perf_counter()
    with pytest.raises(SensorError) as exc:
        load_sensors(spec, (35.7, 51.4))
    assert needle in str(exc.value) and len(str(exc.value)) < 600
    assert time.perf_counter() - t0 < 1.0  # refused, not built and then counted


def test_a_sensors_spec_too_long_for_a_file_name_is_an_error_not_an_oserror():
    with pytest.raises(SensorError, match="no such file and not a layout"):
        load_sensors("x" * 10_000, (35.7, 51.4))
