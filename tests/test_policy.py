"""Service policy: every disablement code, policy files, and routing that honours the policy."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("shapely")
pytest.importorskip("h3")

from leosim import Constellation, GroundSegment, ParameterError, PlaceError, Site, SiteKind  # noqa: E402
from leosim.models.policy import (  # noqa: E402
    CountrySet,
    Disablement,
    PolicyError,
    ServicePolicy,
    Terminal,
    admit,
    apply_admission,
    explain,
    jurisdictions,
    policy_network,
)
from leosim.scenario.resolve import load_policy  # noqa: E402

TEHRAN = (35.6892, 51.3890)
KYIV = (50.4501, 30.5234)
BERLIN = (52.52, 13.405)
ALL = ServicePolicy.preset("all")


def code(policy=ALL, where=TEHRAN, **kw):
    return explain(policy, *where, **kw)


@pytest.mark.parametrize(
    ("kwargs", "expected", "reason"),
    [
        ({}, "OKAY", "served: IR (Iran) is served by policy 'all'"),
        ({"terminal": Terminal("t", account="none")}, "NO_ACTIVE_ACCOUNT", "terminal 't' has no active account"),
        (
            {"terminal": Terminal("t", account="disabled")},
            "ACCOUNT_DISABLED",
            "the account of terminal 't' is disabled",
        ),
        (
            {"location_known": False},
            "UNKNOWN_LOCATION",
            "the terminal cannot locate itself (no GPS fix, e.g. jammed), so no place rule can be checked",
        ),
        ({"where": (0.0, 0.0)}, "IN_OCEAN", "the terminal is at sea and its plan ('roam') is not maritime"),
        ({"policy": ServicePolicy.preset("none")}, "BLOCKED_COUNTRY", "IR (Iran) is not served by policy 'none'"),
        (
            {"terminal": Terminal("t", home_country="DE", days_abroad=61)},
            "ROAM_RESTRICTED",
            "61 days outside its home country DE, over the 60-day roaming limit",
        ),
        (
            {"where": KYIV, "speed_kmh": 120.0},
            "ROAM_RESTRICTED",
            "moving at 120 km/h, over the 90 km/h speed gate in UA (Ukraine)",
        ),
        (
            {"terminal": Terminal("t", plan="residential", service_address=BERLIN)},
            "TOO_FAR_FROM_SERVICE_ADDRESS",
            "outside the H3 cell of its service address (residential plan)",
        ),
    ],
)
def test_each_code_and_its_reason(kwargs, expected, reason):
    got, why = code(**kwargs)
    assert got is Disablement(expected)
    assert why == reason


def test_cell_is_disabled_and_whitelist():
    import h3

    cell = h3.latlng_to_cell(*TEHRAN, 5)
    parent = h3.cell_to_parent(cell, 3)
    assert code(ServicePolicy(disabled_cells=frozenset([parent])))[0] is Disablement.CELL_IS_DISABLED
    wl = ServicePolicy(whitelist=frozenset(["ok-1"]), whitelist_countries=CountrySet.of(["UA"]))
    assert code(wl, KYIV, terminal=Terminal("stranger"))[0] is Disablement.ACCOUNT_DISABLED
    assert code(wl, KYIV, terminal=Terminal("ok-1"))[0] is Disablement.OKAY
    assert code(wl, TEHRAN, terminal=Terminal("stranger"))[0] is Disablement.OKAY  # whitelist is UA only


def test_edge_cases_of_the_rules():
    assert code(where=(0.0, 0.0), terminal=Terminal("ship", plan="maritime"))[0] is Disablement.OKAY
    assert code(where=KYIV, speed_kmh=90.0)[0] is Disablement.OKAY  # the gate is "over 90"
    assert code(terminal=Terminal("t", home_country="DE", days_abroad=60))[0] is Disablement.OKAY
    # account problems win over every place rule
    assert (
        code(ServicePolicy.preset("none"), terminal=Terminal("t", account="none"), location_known=False)[0]
        is Disablement.NO_ACTIVE_ACCOUNT
    )


def test_roaming_accumulates_over_time_and_resets_at_home():
    times = np.datetime64("2026-01-01") + np.arange(0, 100, 10).astype("timedelta64[D]")
    n = len(times)
    lat = np.full((n, 1), BERLIN[0])
    lon = np.full((n, 1), BERLIN[1])
    lat[:8], lon[:8] = TEHRAN  # 70 days in Iran, then home
    a = admit(ALL, [Terminal("t", home_country="DE")], times, lat, lon, speed_kmh=np.zeros((n, 1)))
    assert a.codes[:, 0].tolist() == ["OKAY"] * 7 + ["ROAM_RESTRICTED", "OKAY", "OKAY"]
    assert a.days_abroad[7, 0] == 70.0 and a.days_abroad[8, 0] == 0.0
    assert a.admitted.shape == (n, 1)


def test_speed_is_derived_from_positions():
    times = np.array(["2026-01-01T00:00", "2026-01-01T00:01"], dtype="datetime64[ns]")
    lat = np.array([[KYIV[0]], [KYIV[0] + 0.02]])  # 2.2 km in a minute: 133 km/h
    a = admit(ALL, [Terminal("t")], times, lat, np.full((2, 1), KYIV[1]))
    assert a.codes[:, 0].tolist() == ["OKAY", "ROAM_RESTRICTED"]
    assert a.speed_kmh[1, 0] == pytest.approx(133.4, abs=0.1)  # 0.02 deg of latitude = 2.224 km


def test_policy_files(tmp_path):
    toml = tmp_path / "p.toml"
    toml.write_text('preset = "all"\nblocked = ["IR"]\ngateway_countries = "served"\ngateway_blocked = ["RU"]\n'
                    'roaming_limit_days = 30\n[speed_gates_kmh]\n"*" = 200\n')  # fmt: skip
    p = load_policy(toml)
    assert p.name == "p" and not p.serves("IR") and p.serves("DE")
    assert not p.allows_gateway("IR") and not p.allows_gateway("RU") and p.allows_gateway("DE")
    assert p.roaming_limit_days == 30 and p.speed_gate_kmh("US") == 200.0
    csv_file = tmp_path / "p.csv"
    csv_file.write_text("country,served,gateway,pop,speed_gate_kmh\n*,yes,yes,yes,\nIR,yes,no,no,\nUA,yes,yes,yes,90\n")
    q = load_policy(csv_file)
    assert q.serves("IR") and not q.allows_gateway("IR") and not q.allows_pop("IR") and q.allows_gateway("OM")
    assert q.speed_gate_kmh("UA") == 90.0 and q.speed_gate_kmh("DE") is None


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.toml", "served = [", "bad.toml: not valid TOML: "),
        ("bad.toml", "servd = []", "bad.toml: unknown key 'servd'; expected one of: "),
        (
            "bad.toml",
            'blocked = "IR"',
            'bad.toml: blocked must be a list of country codes such as ["IR", "UA"], got \'IR\'',
        ),
        (
            "bad.csv",
            "country,served\nIR,maybe\n",
            "bad.csv:2: served 'maybe' is not yes or no; expected yes/no, true/false or 1/0",
        ),
        (
            "bad.csv",
            "nation,served\n",
            "bad.csv:1: unknown column 'nation'; expected a header 'country,served[,gateway,pop,speed_gate_kmh]'",
        ),
    ],
)
def test_malformed_policy_files(tmp_path, name, text, message):
    f = tmp_path / name
    f.write_text(text)
    with pytest.raises(PolicyError) as exc:
        load_policy(f)
    text = str(exc.value)
    assert text.startswith(str(f))  # the message names the file (and line, for CSV)
    assert message.split(name, 1)[1] in text


def test_unknown_country_in_a_policy_file(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('blocked = ["IR", "UK"]\n')
    with pytest.raises(PlaceError) as exc:
        load_policy(f)
    assert str(exc.value) == (
        f"{f}: blocked: unknown country 'UK'; expected an ISO 3166-1 alpha-2 code such as 'IR' or a "
        "country name; did you mean: GB (United Kingdom)?"
    )


def test_bad_values():
    with pytest.raises(PolicyError) as exc:
        load_policy("some")
    assert str(exc.value) == (
        "policy 'some' is not a .toml or .csv file; expected 'all', 'none' or a .toml or .csv policy file (see docs/adversary.md)"
    )
    with pytest.raises(PolicyError, match="unknown policy preset 'some'; expected 'all', 'none' or a policy file"):
        ServicePolicy.preset("some")
    with pytest.raises(PolicyError, match="cannot read policy file 'missing.toml': no such file; expected a .toml or .csv"):
        load_policy("missing.toml")
    with pytest.raises(PolicyError, match="speed gate for 'UA' is -5; expected a speed in km/h > 0"):
        ServicePolicy(speed_gates_kmh={"UA": -5})
    with pytest.raises(ParameterError, match="a residential plan needs a service_address"):
        Terminal("t", plan="residential")


@pytest.fixture(scope="module")
def shell():
    return Constellation.preset("starlink-shell1")


def test_routing_honours_the_policy(shell):
    """Iranian traffic lands abroad; forbid the gateways it used and it lands elsewhere."""
    eps = GroundSegment([Site("Tehran", *TEHRAN, country="IR"), Site("Internet", 50.11, 8.68, kind=SiteKind.SERVER)])
    times = shell.epoch + np.arange(0, 60, 15).astype("timedelta64[s]")
    net = policy_network(ALL, shell, eps)
    res = net.solve(times, np.array([[0, 1]]), want_paths=True)
    j = jurisdictions(net, res.paths)
    used = {row[0].gateway_country for row in j if row[0].gateway}
    assert used and "IR" not in used  # no gateway in Iran: traffic lands abroad
    assert all(row[0].countries[0] == "IR" for row in j if row[0].gateway)
    strict = ServicePolicy(name="strict", gateway_countries=CountrySet.everything(excluding=sorted(used)))
    net2 = policy_network(strict, shell, eps)
    assert len(net2.gateways) < len(net.gateways)
    res2 = net2.solve(times, np.array([[0, 1]]), want_paths=True)
    used2 = {row[0].gateway_country for row in jurisdictions(net2, res2.paths) if row[0].gateway}
    assert used2 and not (used2 & used)


def test_policy_with_no_gateway_is_an_error(shell):
    eps = GroundSegment([Site("Tehran", *TEHRAN), Site("Internet", 50.11, 8.68, kind=SiteKind.SERVER)])
    nothing = ServicePolicy(name="closed", gateway_countries=CountrySet())
    with pytest.raises(PolicyError, match=r"policy 'closed' allows 0 of 236 gateways and 66 of 66 PoPs"):
        policy_network(nothing, shell, eps)


def test_not_admitted_terminals_carry_no_traffic(shell):
    eps = GroundSegment([Site("Tehran", *TEHRAN), Site("Kyiv", *KYIV)])
    times = shell.epoch + np.arange(0, 30, 15).astype("timedelta64[s]")
    net = policy_network(ALL, shell, eps)
    res = net.solve(times, np.array([[0, 1]]), want_paths=True)
    assert np.isfinite(res.rtt_s).all()
    admitted = np.array([[True, True], [False, True]])  # Tehran denied at the second step
    cut = apply_admission(res, np.array([[0, 1]]), admitted)
    assert np.isfinite(cut.rtt_s[0, 0]) and np.isnan(cut.rtt_s[1, 0])
    assert cut.hops[1, 0] == 0 and cut.paths[1][0] == ()
    # terminals never admitted are not even nodes
    assert len(policy_network(ALL, shell, eps, admitted=np.array([True, False])).endpoints) == 1


# ------------------------------------------ issue 13: the reproducers, kept as regressions
@pytest.mark.parametrize(
    "name, text, needle",
    [
        ("p.toml", "disabled_cells = [{}]\n", "disabled_cells must be a list of H3 cell ids such as ['852f5a7bfffffff'], got [{}]"),
        ("p.toml", "disabled_cells = ['-1']\n", "disabled cell '-1' is not an H3 cell"),
        ("p.toml", "disabled_cells = ['" + "f" * 40 + "']\n", "is not an H3 cell"),
        ("p.toml", "disabled_cells = ['852f5a7bffffff']\n", "disabled cell '852f5a7bffffff' is not an H3 cell"),
        ("p.toml", f"roaming_limit_days = {'9' * 4301}\n", "not valid TOML"),
        ("p.toml", "roaming_limit_days = 1e300\n", "roaming_limit_days 1e+300 is not a number of days from 0 to 36,500"),
        ("p.toml", "roaming_limit_days = nan\n", "roaming_limit_days nan is not a number of days"),
        ("p.toml", "roaming_limit_days = -1\n", "roaming_limit_days -1 is not a number of days"),
        ("p.toml", "[speed_gates_kmh]\nUA = 1e9\n", "speed gate for 'UA' is 1000000000.0; expected a speed in km/h > 0 and at most"),
        ("p.toml", "[speed_gates_kmh]\nUA = nan\n", "speed gate for 'UA' is nan"),
        ("p.toml", "name = 5\n", "name 5 is not a name"),
        ("p.toml", "preset = [1]\n", "preset must be 'all' or 'none', got [1]"),
        ("p.toml", "served = ['" + "U" * 100 + "']\n", "served must be a list of country codes"),
        ("p.toml", "a = " + "[" * 1000 + "]" * 1000 + "\n", "nested too deeply"),
        ("p.csv", "country,served,speed_gate_kmh\nUA,yes,1e9\n", ":2: speed_gate_kmh 1e9 is out of range"),
        ("p.csv", "country,served\n" + "U" * 100 + ",yes\n", ":2: country 'UUUU"),
        ("p.csv", "country,served\nUA,maybe\n", ":2: served 'maybe' is not yes or no"),
    ],
)
def test_policy_files_refuse_hostile_values_with_a_policy_error(tmp_path, name, text, needle):
    f = tmp_path / name
    f.write_text(text)
    with pytest.raises(PolicyError) as exc:
        load_policy(f)
    assert str(exc.value).startswith(str(f)) and needle in str(exc.value)
    assert len(str(exc.value)) < 800


def test_policy_limits_at_their_ends_are_kept():
    p = ServicePolicy(roaming_limit_days=36_500, speed_gates_kmh={"UA": 100_000})
    assert p.roaming_limit_days == 36_500.0 and p.speed_gates_kmh == {"UA": 100_000.0}
    assert ServicePolicy(disabled_cells=frozenset({"852f5a7bfffffff"})).disabled_cells == {"852f5a7bfffffff"}


@pytest.mark.parametrize(
    "text, needle",
    [
        ("country,served\nIR,yes\nUA,yes\nIR,no\n", ":4: country IR is given again (first at "),
        ("country,served\n*,yes\n*,no\n", ":3: the * row is given again"),
    ],
)
def test_a_csv_policy_row_may_not_silently_overrule_another(tmp_path, text, needle):
    f = tmp_path / "p.csv"
    f.write_text(text)
    with pytest.raises(PolicyError) as exc:
        load_policy(f)
    assert needle in str(exc.value) and f"{f}:2" in str(exc.value)


@pytest.mark.parametrize("days", [-1, float("nan"), float("inf"), 36_501, "3", True])
def test_terminal_days_abroad_is_a_number_of_days(days):
    with pytest.raises(ParameterError, match="days_abroad .* expected days from 0 to 36,500"):
        Terminal("t", days_abroad=days)
