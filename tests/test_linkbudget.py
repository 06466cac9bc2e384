"""Link budgets against closed forms, ITU-R's validation examples (as ``itur`` reproduces
them) and the DVB-S2/S2X MODCOD tables at their edges."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leosim.core.geodesy import EARTH_RADIUS_M, SPEED_OF_LIGHT_M_S, max_gsl_length_m
from leosim.core.radio import BOLTZMANN_DBW_PER_K_HZ
from leosim.core.radio import free_space_loss_db as free_space_path_loss_db
from leosim.errors import MissingExtraError, ParameterError
from leosim.models.linkbudget import (
    DVB_S2X_MODCODS,
    ITU_RR_ARTICLE_21_KU,
    Atmosphere,
    LinkBudget,
    ModCodTable,
    aperture_gain_dbi,
    off_nadir_rad,
    receiver_noise_temperature_k,
    scan_loss_db,
    sky_noise_temperature_k,
    spreading_loss_db,
)


# ------------------------------------------------------------------ closed forms
def test_free_space_path_loss_closed_form():
    # (4 pi d f / c)^2 by hand, and the textbook 92.45 dB at 1 km and 1 GHz
    d, f = 1123.4e3, 11.7e9
    by_hand = 10 * np.log10((4 * np.pi * d * f / SPEED_OF_LIGHT_M_S) ** 2)
    assert free_space_path_loss_db(d, f) == pytest.approx(by_hand, abs=1e-9)
    assert free_space_path_loss_db(1e3, 1e9) == pytest.approx(92.448, abs=1e-3)
    # scalar and array take the same path; doubling range or frequency adds 6.0206 dB
    arr = free_space_path_loss_db(np.array([d, 2 * d]), np.array([f, f]))
    assert arr.shape == (2,)
    assert arr[1] - arr[0] == pytest.approx(20 * np.log10(2), abs=1e-12)


def test_slant_range_and_off_nadir_closed_form():
    """Spherical Earth: range and the angle at the satellite from the triangle's sides."""
    R, h = EARTH_RADIUS_M, 550e3
    for el_deg in (25.0, 40.0, 90.0):
        el = np.radians(el_deg)
        rng = max_gsl_length_m(h, el_deg)  # sqrt((R+h)^2 - (R cos el)^2) - R sin el
        site = np.array([R, 0.0, 0.0])
        # place the satellite along the look direction in the x-y plane
        sat = site + rng * np.array([np.sin(el), np.cos(el), 0.0])
        assert np.linalg.norm(sat) == pytest.approx(R + h, abs=1e-6)
        # the angle at the satellite between nadir and the site, from the vectors
        to_site = site - sat
        cos_eta = np.dot(-sat, to_site) / (np.linalg.norm(sat) * np.linalg.norm(to_site))
        eta = np.arccos(np.clip(cos_eta, -1, 1))
        assert off_nadir_rad(np.sin(el), R, R + h) == pytest.approx(eta, abs=1e-9)
    # the 25 deg edge from 550 km: sin(eta) = 6371/6921 x cos(25 deg) = 0.8343, eta = 56.54 deg
    assert np.degrees(off_nadir_rad(np.sin(np.radians(25.0)), R, R + 550e3)) == pytest.approx(56.54, abs=0.005)


def test_antennas_and_noise():
    # 48 cm at 14.25 GHz, efficiency 0.62: the terminal's ~35 dBi (FCC RF-exposure analysis)
    assert aperture_gain_dbi(0.48, 14.25e9, 0.62) == pytest.approx(35.0, abs=0.05)
    # gain grows as f^2 for a fixed aperture
    assert aperture_gain_dbi(0.48, 2 * 11.7e9, 0.6) - aperture_gain_dbi(0.48, 11.7e9, 0.6) == pytest.approx(6.0206, abs=1e-4)
    # cos^n: n = 1 at 60 deg is half the projected aperture, 3.0103 dB; 0 at boresight
    assert scan_loss_db(np.radians(60.0), 1.0) == pytest.approx(10 * np.log10(2), abs=1e-9)
    assert scan_loss_db(np.array([0.0, np.pi / 2 + 0.1]), 1.2).tolist() == [0.0, np.inf]
    assert scan_loss_db(1.2, 0.0) == 0.0
    assert receiver_noise_temperature_k(0.0) == 0.0
    # sky noise: the cosmic background through a clear sky, the medium through an opaque one
    assert sky_noise_temperature_k(0.0) == pytest.approx(2.7)
    assert sky_noise_temperature_k(60.0) == pytest.approx(275.0, abs=1e-3)


def test_link_budget_closed_form_at_zenith():
    """C/N0 = EIRP - FSPL - A + G - 10 log T - 10 log k, with the PFD cap applied by hand."""
    lb = LinkBudget.ku_user_downlink()
    rng, A = 550e3, 0.7
    r = lb.evaluate(rng, atmospheric_loss_db=A)
    # at zenith the Article 21 mask (-140 dBW/m^2 in 4 kHz) caps the EIRP below 42 dBW
    cap = -140.0 + 10 * np.log10(240e6 / 4e3) + 10 * np.log10(4 * np.pi * rng**2)
    assert cap < lb.eirp_dbw
    assert r.eirp_dbw == pytest.approx(cap, abs=1e-9)
    t_sys = 30.0 + 290.0 * (10 ** 0.15 - 1) + 275.0 * (1 - 10 ** (-A / 10)) + 2.7 * 10 ** (-A / 10)
    cn0 = cap - free_space_path_loss_db(rng, 11.7e9) - A + lb.rx_gain_dbi - 10 * np.log10(t_sys) - BOLTZMANN_DBW_PER_K_HZ
    assert r.cn0_dbhz == pytest.approx(cn0, abs=1e-9)
    assert r.esn0_db == pytest.approx(cn0 - 10 * np.log10(240e6 / 1.1), abs=1e-9)
    assert r.cn_db == pytest.approx(cn0 - 10 * np.log10(240e6), abs=1e-9)
    assert r.capacity_bps == pytest.approx(240e6 / 1.1 * lb.modcods.efficiency(r.esn0_db), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(el_deg=st.floats(25.0, 90.0), atm=st.floats(0.0, 20.0))
def test_downlink_respects_the_pfd_mask_and_fades_with_rain(el_deg, atm):
    lb = LinkBudget.ku_user_downlink()
    el = np.radians(el_deg)
    rng = max_gsl_length_m(550e3, el_deg)
    eta = off_nadir_rad(np.sin(el), EARTH_RADIUS_M, EARTH_RADIUS_M + 550e3)
    r = lb.evaluate(rng, elevation_rad=el, tx_off_axis_rad=eta, rx_off_axis_rad=np.pi / 2 - el, atmospheric_loss_db=atm)
    pfd = r.eirp_dbw - spreading_loss_db(rng)
    assert pfd <= ITU_RR_ARTICLE_21_KU.limit_dbw_m2(el, 240e6) + 1e-9
    worse = lb.evaluate(rng, elevation_rad=el, tx_off_axis_rad=eta, rx_off_axis_rad=np.pi / 2 - el,
                        atmospheric_loss_db=atm + 3.0)
    # rain takes the carrier down and the noise up: more than the 3 dB of loss alone
    assert worse.esn0_db < r.esn0_db - 3.0
    assert worse.capacity_bps <= r.capacity_bps


def test_presets_give_plausible_beams():
    """~1.3 Gbit/s per 240 MHz beam at zenith, ~0.9 at the 25 deg edge; ~12.9 Gbit/s per feeder antenna."""
    lb = LinkBudget.ku_user_downlink()
    r_zen = lb.evaluate(550e3, atmospheric_loss_db=0.3)
    el = np.radians(25.0)
    rng = max_gsl_length_m(550e3, 25.0)
    eta = off_nadir_rad(np.sin(el), EARTH_RADIUS_M, EARTH_RADIUS_M + 550e3)
    r_edge = lb.evaluate(rng, elevation_rad=el, tx_off_axis_rad=eta, rx_off_axis_rad=np.pi / 2 - el, atmospheric_loss_db=0.8)
    assert 1.2e9 < r_zen.capacity_bps < 1.3e9
    assert 0.8e9 < r_edge.capacity_bps < 1.0e9
    ka = LinkBudget.ka_gateway_uplink()
    assert ka.evaluate(rng, atmospheric_loss_db=1.0).capacity_bps == pytest.approx(ka.max_capacity_bps)
    assert ka.max_capacity_bps == pytest.approx(5 * 480e6 / 1.1 * 5.900855)


def test_link_budget_rejects_bad_parameters():
    with pytest.raises(ParameterError) as exc:
        LinkBudget.ku_user_downlink(rolloff=1.5)
    assert str(exc.value) == "Ku user downlink: rolloff 1.5 is outside 0-1; expected e.g. 0.05, 0.1, 0.2, 0.35"
    with pytest.raises(ParameterError) as exc:
        LinkBudget.ka_gateway_uplink(channels=0)
    assert str(exc.value) == "Ka gateway uplink: channels 0 is not a whole number >= 1"


# ---------------------------------------------------------------------- MODCOD
def test_modcod_table_is_the_standards():
    assert len(DVB_S2X_MODCODS) == 28 + 38  # EN 302 307-1 Table 13 + EN 302 307-2 Table 20a
    assert len({m.name for m in DVB_S2X_MODCODS}) == len(DVB_S2X_MODCODS)
    by = {m.name: m for m in DVB_S2X_MODCODS}
    assert (by["QPSK 1/4"].esn0_db, by["QPSK 1/4"].efficiency) == (-2.35, 0.490243)
    assert (by["32APSK 9/10"].esn0_db, by["32APSK 9/10"].efficiency) == (16.05, 4.453027)
    assert (by["QPSK 13/45"].esn0_db, by["QPSK 13/45"].efficiency) == (-2.03, 0.567805)
    assert (by["256APSK 3/4"].esn0_db, by["256APSK 3/4"].efficiency) == (19.57, 5.900855)


def test_modcod_selection_at_table_edges():
    t = ModCodTable(implementation_margin_db=1.0)
    lowest, top = -2.35 + 1.0, 19.57 + 1.0
    assert t.efficiency(lowest) == 0.490243 and t.name(lowest) == "QPSK 1/4"
    assert t.efficiency(np.nextafter(lowest, -np.inf)) == 0.0 and t.name(lowest - 1e-9) is None
    assert t.efficiency(top) == 5.900855 and t.name(top) == "256APSK 3/4"
    assert t.name(np.nextafter(top, -np.inf)) == "256APSK 11/15-L"
    assert t.efficiency(1e3) == 5.900855
    assert np.isnan(t.efficiency(np.nan))
    # every threshold of the envelope selects its own MODCOD; a hair below, the one before
    e = t.thresholds_db
    assert np.all(np.diff(e) > 0) and np.all(np.diff(t.efficiencies) > 0)
    assert np.array_equal(t.efficiency(e), t.efficiencies)
    assert np.array_equal(t.efficiency(np.nextafter(e[1:], -np.inf)), t.efficiencies[:-1])
    # dominated MODCODs never win: 16APSK 3/5 needs 7.80 dB for what 16APSK 3/5-L gives at 7.41
    names = [t.name(x) for x in e]
    assert "16APSK 3/5" not in names and "16APSK 3/5-L" in names
    # scalars and arrays alike
    assert t.efficiency(np.array([[lowest, top]])).shape == (1, 2)
    with pytest.raises(ParameterError):
        ModCodTable(())


# ------------------------------------------------------------ ITU-R atmosphere
# ITU-R Study Group 3 validation examples for P.618-13 (total slant-path attenuation,
# CG-3M3J-13-ValEx), as distributed with ITU-Rpy: test/test_data/618/ITURP618-13_A_total.csv.
# Columns: lat, lon, hs (km, P.1511), f (GHz), el (deg), D (m), eta, tau (deg), p (%),
# then A_gas, A_clouds, A_rain, A_scint, A_total (dB), with gas and clouds at max(p, 1) %
# as P.618-13 eqs. 64-65 prescribe (the table's A_gas_1 and A_clouds_1 columns).
ITU_VALIDATION = [
    (51.5, -0.14, 0.031382984, 14.25, 31.07699124, 1, 0.65, 0, 1, 0.226874038, 0.455169824, 0.495316047, 0.261931889, 1.212790721),
    (41.9, 12.49, 0.046122988, 14.25, 40.232036, 1, 0.65, 0, 0.1, 0.189480858, 0.263385101, 2.696773626, 0.361694926, 3.17165505),
    (33.94, 18.43, 0.0, 14.25, 46.35969261, 1, 0.65, 0, 0.01, 0.176011463, 0.187794088, 5.941787782, 0.558408208, 6.330976422),
    (41.9, 12.49, 0.046122988, 29, 40.232036, 1, 0.65, 0, 0.1, 0.706966165, 1.025643444, 10.73103845, 0.534590663, 12.47579603),
    (22.9, -43.23, 0.0, 14.25, 22.27833468, 1, 0.65, 0, 0.001, 0.41148401, 0.541832931, 29.91178614, 2.15483859, 30.94124398),
    (25.78, -80.22, 0.00861728, 29, 52.67898486, 1, 0.65, 0, 1, 0.900282957, 2.076228137, 6.654859346, 0.392380041, 9.640182885),
    (28.717, 77.3, 0.209383699, 14.25, 48.24117054, 1, 0.65, 90, 0.1, 0.28572246, 0.685921884, 5.486363568, 0.348116875, 6.467817013),
    (9.05, 38.7, 2.539861878, 29, 20.14335809, 1, 0.65, 90, 0.01, 0.704136355, 2.560951657, 35.97040281, 1.735486444, 39.27455494),
]


@pytest.mark.parametrize("row", ITU_VALIDATION, ids=lambda r: f"{r[0]},{r[1]} {r[3]}GHz p={r[8]}")
def test_attenuation_matches_itu_validation_examples(row):
    lat, lon, hs, f, el, D, eta, tau, p, gas, cloud, rain, scint, total = row
    atm = Atmosphere(f * 1e9, p, antenna_diameter_m=D, antenna_efficiency=eta, polarization_tilt_deg=tau)
    got = atm.components_db(lat, lon, el, site_altitude_km=hs)
    # itur reproduces the tables to a few thousandths of a dB (its own report test checks
    # the total to 4 decimal places); 0.005 dB is far below anything a link budget resolves
    for key, want in (("gas", gas), ("cloud", cloud), ("rain", rain), ("scintillation", scint), ("total", total)):
        assert got[key] == pytest.approx(want, abs=5e-3), key


def test_cached_losses_match_itur_between_knots():
    """The per-cell cache (zenith gas and clouds / sin(el), rain and scintillation at knots,
    interpolated in cosec(el)) against itur's full function at the cell centre."""
    from h3.api import basic_int

    for f, p in ((11.7e9, 1.0), (28.75e9, 0.01)):
        atm = Atmosphere(f, p)
        rng = np.random.default_rng(7)
        lat, lon = rng.uniform(-40, 60, 12), rng.uniform(-120, 140, 12)
        cells = atm.cells(lat, lon)
        centre = np.array([basic_int.cell_to_latlng(int(c)) for c in cells])
        for el, rel in ((np.array([10.0, 15.0, 25.0, 45.0, 60.0, 85.0] * 2), 1e-12),      # knots: exact
                        (rng.uniform(10.0, 85.0, 12), 0.012), (rng.uniform(85.0, 90.0, 12), 0.03)):
            exact = atm.components_db(centre[:, 0], centre[:, 1], el)["total"]
            cached = atm.loss_db(cells, np.radians(el))
            assert np.all(np.abs(cached - exact) <= rel * exact + 1e-9), (f, p, np.max(np.abs(cached - exact) / exact))


def test_atmosphere_bad_input_and_missing_extra(monkeypatch):
    with pytest.raises(ParameterError) as exc:
        Atmosphere(11.7e9, 60.0)
    assert str(exc.value) == (
        "rain exceedance 60.0 % is outside 0.001-50 %; expected the percentage of an average year the loss "
        "is exceeded, e.g. 1 (typical), 0.1 or 0.01 (heavy rain)"
    )
    with pytest.raises(ParameterError) as exc:
        Atmosphere(11.7e9, 10.0)
    assert str(exc.value) == (
        "rain exceedance 10.0 % is above 5 %, where ITU-R P.618's rain model does not apply; "
        "expected 0.001-5 % (or turn rain off)"
    )
    with pytest.raises(ParameterError) as exc:
        Atmosphere(11.7e9, 1.0, resolution=16)
    assert str(exc.value) == "H3 resolution 16 is outside 0-15; expected a whole number from 0 to 15"
    monkeypatch.setitem(sys.modules, "itur", None)  # as if not installed
    with pytest.raises(MissingExtraError) as exc:
        Atmosphere(11.7e9, 1.0)
    assert str(exc.value) == (
        "this needs the Python package 'itur', which is not installed; install it with: pip install 'leosim[capacity]'"
    )
