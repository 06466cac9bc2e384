"""Tests of leosim.ground.homepop (the PoP Starlink assigns to a customer's country) and of the
2026 ground network as the default of leosim.ground.sites.

Reference: Starlink's GeoIP and PoP feeds of 2026-10-08 as vendored in
``leosim/data/starlink_2026/`` (``country_pops.csv``, ``region_pops.csv``), whose numbers
the comments quote; the community gateway list of 2026-03-20 (214 operational + 93
planned); StarPerf's January 2024 tables (222 gateways, 23 PoPs).
"""

from __future__ import annotations

import csv
import importlib.util
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from leosim.errors import ParameterError
from leosim.ground.countries import country_of, known_countries
from leosim.ground.homepop import HomePops, home_pops
from leosim.ground.places import resolve_place
from leosim.ground.sites import GroundSegment, SiteKind, pop_codes, starlink_gateway_antennas

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "src" / "leosim" / "data" / "starlink_2026"
SOURCE = REPO.parent / "shared" / "data" / "starlink_network"

KHARKIV = (49.9935, 36.2304)
SANAA = (15.3694, 44.1910)
SAINT_PIERRE_RE = (-21.3393, 55.4781)  # the south of Réunion, 50 km from Saint-Denis
PERTH = (-31.9523, 115.8613)
SYDNEY = (-33.8688, 151.2093)
PORTLAND_ME = (43.6591, -70.2568)
PORTLAND_OR = (45.5152, -122.6784)
LYON = (45.7640, 4.8357)


@pytest.fixture(scope="module")
def pops() -> HomePops:
    return home_pops()


def _csv(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- the feed's assignments ----------------------------------------------------------------------


def test_kharkiv_is_served_from_warsaw(pops: HomePops) -> None:
    # The feed's only Ukrainian GeoIP city is Kyiv (UA-30): 27,648 of its 29,696 IPv4
    # addresses (93.1 %) leave from Warsaw, the rest from Sofia; Kharkiv, in UA, gets Kyiv's
    # mixture. (Warsaw is also Kharkiv's nearest PoP, 1,089 km; Sana'a below tells the
    # country rule from the nearest-PoP rule.)
    mixture = pops.mixture(*KHARKIV, "UA")
    assert [code for code, _ in mixture] == ["wrswpol1", "sfiabgr1"]
    assert mixture[0][1] == pytest.approx(0.931, abs=1e-4)
    assert pops.home_pop(*KHARKIV, "UA") == "wrswpol1"


def test_sanaa_is_served_from_nairobi_and_frankfurt(pops: HomePops) -> None:
    # Yemen's only GeoIP city in the feed is Aden: 3,328 IPv4 addresses leave from Nairobi
    # and 2,304 from Frankfurt, so Nairobi (59.09 %) and not Frankfurt is Sana'a's home PoP,
    # although Doha is the nearest PoP (1,341 km; Nairobi 2,031 km, Frankfurt 4,400 km).
    mixture = dict(pops.mixture(*SANAA, "YE"))
    assert set(mixture) == {"nrbiken1", "frntdeu1"}
    assert mixture["nrbiken1"] == pytest.approx(3328 / (3328 + 2304), abs=1e-4)
    assert pops.home_pop(*SANAA, "YE") == "nrbiken1"
    assert pops.home_pop(*SANAA, "YE", allowed={"frntdeu1"}) == "frntdeu1"


def test_reunion_is_served_from_johannesburg(pops: HomePops) -> None:
    # RE: the feed's "Reunion" (512 IPv4 addresses) and "Saint-Denis" (two IPv6 prefixes)
    # are one group at Saint-Denis; every IPv4 address leaves from Johannesburg, and the
    # country table says the same (jhngzaf1 1.0000). Natural Earth draws Réunion inside
    # France, so the caller passes the code.
    assert pops.home_pop(*SAINT_PIERRE_RE, "RE") == "jhngzaf1"
    assert pops.mixture(*SAINT_PIERRE_RE, "RE")[0] == ("jhngzaf1", 1.0)
    assert pops.country_mixture("RE")[0][0] == "jhngzaf1"
    assert str(country_of(np.array([SAINT_PIERRE_RE[0]]), np.array([SAINT_PIERRE_RE[1]]))[0]) in ("FR", "none")


def test_australian_states_have_their_own_pops(pops: HomePops) -> None:
    # AU-WA Perth -> prthaus1 (100 %); AU-NSW Sydney -> sydyaus1 (93.9 %), prthaus1 6.1 %.
    # The country as a whole would give sydyaus1 to both (26.7 %, the largest share).
    assert pops.home_pop(*PERTH, "AU") == "prthaus1"
    assert pops.home_pop(*SYDNEY, "AU") == "sydyaus1"
    assert pops.mixture(*PERTH, "au") == (("prthaus1", 1.0),)  # codes are case-insensitive


def test_portland_maine_is_half_montreal_half_new_york(pops: HomePops) -> None:
    # US-ME Portland: 1,024 IPv4 addresses to mntlcan1 and 1,024 to nwyynyx1. The GeoIP
    # city is placed in Maine (the region code's state), not at Portland, OR.
    assert pops.mixture(*PORTLAND_ME, "US") == (("mntlcan1", 0.5), ("nwyynyx1", 0.5))
    assert pops.home_pop(*PORTLAND_ME, "US") == "mntlcan1"  # a tie, broken by code
    # US-OR Portland: Seattle has 2,048 of its 4,352 addresses.
    assert pops.home_pop(*PORTLAND_OR, "US") == "sttlwax1"


def test_france_is_served_from_four_pops(pops: HomePops) -> None:
    # FR-IDF Paris is France's only GeoIP city: Madrid 4,352, Frankfurt 3,840, Milan 3,328,
    # London 3,072 IPv4 addresses (France is served from abroad).
    mixture = pops.mixture(*LYON, "FR")
    assert [code for code, _ in mixture] == ["mdrdesp1", "frntdeu1", "mlnnita1", "lndngbr1"]
    assert sum(share for _, share in mixture) == pytest.approx(1.0, abs=1e-12)
    assert dict(mixture)["mdrdesp1"] == pytest.approx(4352 / 14592, abs=1e-4)


def test_assign_reproduces_the_shares_and_is_deterministic(pops: HomePops) -> None:
    n = 1000
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(43.0, 50.0, n), rng.uniform(-1.0, 7.0, n)
    countries = ["FR"] * n
    drawn = pops.assign(lat, lon, countries, seed=11)
    counts = Counter(drawn)
    # Stratified by share: each PoP gets its share of the 1000 users to within one user.
    for code, share in pops.mixture(*LYON, "FR"):
        assert abs(counts[code] - n * share) <= 1, (code, counts[code], n * share)
    assert sum(counts.values()) == n
    assert pops.assign(lat, lon, countries, seed=11) == drawn  # same seed, same draw
    other = pops.assign(lat, lon, countries, seed=12)
    assert other != drawn and Counter(other) == counts  # another order, the same shares


def test_assign_mixes_countries_and_unknowns(pops: HomePops) -> None:
    lat = np.array([PERTH[0], SYDNEY[0], KHARKIV[0], 0.0, 40.0])
    lon = np.array([PERTH[1], SYDNEY[1], KHARKIV[1], 0.0, 116.0])
    # Perth and Kharkiv have a 100 % / 93 % PoP; one user per mixture takes the PoP whose
    # cumulative interval holds 1/2: the largest share. No country / an unlisted one: None.
    assert pops.assign(lat, lon, ["AU", "AU", "UA", None, "CN"], seed=0) == [
        "prthaus1", "sydyaus1", "wrswpol1", None, None,
    ]
    assert pops.assign(np.array([]), np.array([]), [], seed=0) == []
    with pytest.raises(ParameterError, match="one latitude, longitude and country per user"):
        pops.assign(lat, lon, ["AU"], seed=0)


def test_allowed_excludes_pops(pops: HomePops) -> None:
    # Without Madrid, Frankfurt (3,840 addresses) is France's largest share.
    assert pops.home_pop(*LYON, "FR", allowed={"frntdeu1", "lndngbr1", "mlnnita1"}) == "frntdeu1"
    assert pops.home_pop(*LYON, "FR", allowed={"sydyaus1"}) is None
    n = 400
    drawn = pops.assign(np.full(n, LYON[0]), np.full(n, LYON[1]), ["FR"] * n, seed=3,
                        allowed={"frntdeu1", "lndngbr1"})
    counts = Counter(drawn)
    assert set(counts) == {"frntdeu1", "lndngbr1"}
    # Renormalised over the two allowed: 3,840 / 6,912 of the users go to Frankfurt.
    assert abs(counts["frntdeu1"] - n * 3840 / 6912) <= 1
    assert pops.assign(np.array([1.0]), np.array([1.0]), ["FR"], seed=0, allowed=()) == [None]


def test_countries_the_feed_does_not_list(pops: HomePops) -> None:
    # Starlink does not serve China or North Korea: nothing in the feed, the caller uses the
    # nearest PoP.
    assert pops.mixture(39.9, 116.4, "CN") == ()
    assert pops.home_pop(39.0, 125.7, "KP") is None
    assert pops.mixture(0.0, 0.0, None) == ()
    assert "CN" not in pops.countries and "UA" in pops.countries


def test_territories_natural_earth_does_not_know(pops: HomePops) -> None:
    # These ISO codes have no polygon of their own in leosim.ground.countries, yet the feed
    # serves each of them: the code the caller passes is enough.
    codes = "BQ GF GI GP MQ RE SJ TK TV UM YT".split()
    assert not set(codes) & set(known_countries())
    feed = {row["country"]: row["pop_code"] for row in _csv("country_pops.csv") if row["rank"] == "1"}
    for code in codes:
        assert pops.home_pop(0.0, 0.0, code) is not None, code
    # With one geocoded GeoIP city (or none), the city's rank 1 is the country's rank 1.
    assert pops.home_pop(0.0, 0.0, "TV") == feed["TV"] == "sydyaus1"
    assert pops.home_pop(0.0, 0.0, "GF") == feed["GF"]


def test_every_pop_of_the_tables_is_a_2026_pop(pops: HomePops) -> None:
    # The caller maps the codes to sites through pop_codes(); a code it cannot find would
    # be a PoP without coordinates.
    known = set(pop_codes())
    used = {row["pop_code"] for name in ("country_pops.csv", "region_pops.csv") for row in _csv(name)}
    assert used <= known


def test_from_rows_takes_the_nearest_city_and_renormalises() -> None:
    table = HomePops.from_rows(
        [("XX", "far1", 0.6), ("XX", "far2", 0.6)],
        [
            ("XX", "XX-1", "West", 0.0, 0.0, "west1", 0.2),
            ("XX", "XX-1", "West", 0.0, 0.0, "west2", 0.2),
            ("XX", "XX-2", "East", 0.0, 10.0, "east1", 0.0),
            ("XX", "XX-2", "East", 0.0, 10.0, "east2", 0.5),
            ("XX", "XX-3", "Nowhere", None, None, "ghost", 1.0),  # no coordinates: unused
            ("YY", "", "Lost", None, None, "ghost", 1.0),
        ],
    )
    assert table.mixture(0.0, 4.9, "XX") == (("west1", 0.5), ("west2", 0.5))
    assert table.mixture(1.0, 5.1, "xx") == (("east2", 1.0), ("east1", 0.0))
    assert table.country_mixture("XX") == (("far1", 0.5), ("far2", 0.5))
    assert table.mixture(0.0, 0.0, "YY") == ()  # no country row, no located city
    # A zero share serves only when nothing else is allowed (IPv6-only PoP).
    assert table.home_pop(0.0, 10.0, "XX", allowed={"east1"}) == "east1"
    assert table.assign(np.zeros(4), np.full(4, 10.0), ["XX"] * 4, seed=0) == ["east2"] * 4


def test_home_pops_networks() -> None:
    assert home_pops() is home_pops("2026")
    with pytest.raises(ParameterError, match="'starperf-2024'"):
        home_pops("starperf-2024")  # StarPerf has no country -> PoP table
    with pytest.raises(ParameterError, match="'2025'.*2026, starperf-2024"):
        home_pops("2025")


# --- the 2026 network as the default ground segment -----------------------------------------------


def test_presets_and_defaults() -> None:
    starperf = GroundSegment.preset("starperf-2024-gateways")
    assert len(starperf) == 222 and starperf is GroundSegment.starlink_gateways("starperf-2024")
    assert len(GroundSegment.preset("starperf-2024-pops")) == 23
    default = GroundSegment.preset("starlink-gateways")
    assert default is GroundSegment.starlink_gateways() is GroundSegment.preset("starlink-2026-gateways")
    listed = GroundSegment.starlink_gateways(assume_at_pops=False)
    assert len(listed) == 214  # the operational ones of the 2026-03-20 list
    # plus one assumed at each PoP with no listed gateway within 500 km (docs/latency.md)
    assumed = [n for n in default.names if n.endswith(" (assumed gateway)")]
    assert len(default) == 214 + len(assumed) and "jhngzaf1 (assumed gateway)" in assumed
    assert "frntdeu1 (assumed gateway)" not in assumed  # Frankfurt has gateways near it
    everything = GroundSegment.preset("starlink-2026-gateways-all")
    assert everything is GroundSegment.starlink_gateways(include_planned=True)
    assert len(GroundSegment.starlink_gateways(include_planned=True, assume_at_pops=False)) == 307
    status = {row["name"]: row["status"] for row in _csv("gateways.csv")}
    assert {status[name] for name in listed.names} == {"operational"}
    assert set(default.kinds) == {SiteKind.GATEWAY} and all(site.country for site in everything)
    # PoPs: the 66 that carry prefixes in the 2026-10-08 feed; -all adds the 14 idle ones.
    feed = GroundSegment.preset("starlink-pops")
    assert feed is GroundSegment.starlink_pops() is GroundSegment.preset("starlink-2026-pops")
    assert len(feed) == 66 and len(GroundSegment.preset("starlink-2026-pops-all")) == 80


def test_every_pop_has_a_country_and_coordinates() -> None:
    for network in ("2026", "starperf-2024"):
        for include_idle in (False, True):
            segment = GroundSegment.starlink_pops(network, include_idle=include_idle)
            assert set(segment.kinds) == {SiteKind.POP}
            assert all(site.country and len(site.country) == 2 for site in segment), network
            assert np.all(np.isfinite(segment.latitude_deg)) and np.all(np.isfinite(segment.longitude_deg))
            assert pop_codes(network, include_idle) == (
                segment.names if network == "2026" else pop_codes(network)
            )
    assert dict(zip(pop_codes(), GroundSegment.starlink_pops(), strict=True))["frntdeu1"].country == "DE"
    starperf = GroundSegment.starlink_pops("starperf-2024")
    assert starperf[starperf.index("AKL")].country == "NZ"  # at sea on the 1:50m map; Auckland's PoP


def test_gateway_antennas_follow_the_gateways() -> None:
    for network in ("2026", "starperf-2024"):
        antennas = starlink_gateway_antennas(network)
        assert len(antennas) == len(GroundSegment.starlink_gateways(network)) and min(antennas) >= 1
    assert len(starlink_gateway_antennas(include_planned=True, assume_at_pops=False)) == 307
    gateways = GroundSegment.starlink_gateways()
    antennas = dict(zip(gateways.names, starlink_gateway_antennas(), strict=True))
    # "Redmond, WA" lies 6.9 km from StarPerf's "Redmond, WA | Mega" (72 antennas).
    assert antennas["Redmond, WA"] == 72
    # "Cikarang Barat, Indonesia" has no StarPerf site within 800 km: the median, 8.
    assert antennas["Cikarang Barat, Indonesia"] == 8
    assert antennas["jhngzaf1 (assumed gateway)"] == 8  # an assumed gateway takes the median too
    assert sum(starlink_gateway_antennas("starperf-2024")) == 4428  # StarPerf's own total


def test_unknown_network_names_the_value_and_the_choices() -> None:
    for call in (
        lambda: GroundSegment.starlink_gateways("2025"),
        lambda: GroundSegment.starlink_pops("2025"),
        lambda: pop_codes("2025"),
        lambda: starlink_gateway_antennas("2025"),
    ):
        with pytest.raises(ParameterError) as info:
            call()
        assert str(info.value) == (
            "unknown Starlink ground network '2025'; expected one of: 2026, starperf-2024 (default 2026)"
        )


def test_place_names_resolve_through_the_2026_network() -> None:
    frankfurt = resolve_place("frntdeu1")
    assert frankfurt.name == "frntdeu1" and frankfurt.country == "DE"
    gateway = resolve_place("Aerzen, Germany", kind="gateway")  # a village, not in GeoNames' 15,000 list
    assert gateway.kind is SiteKind.GATEWAY and gateway.country == "DE"
    assert abs(gateway.latitude_deg - 52.0489) < 1e-6


# --- the vendored tables are what the tool writes --------------------------------------------------


def test_region_table_is_sorted_and_complete() -> None:
    rows = _csv("region_pops.csv")
    keys = [(r["country"], r["region"], r["city"], r["pop_code"]) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    groups: dict[tuple[str, str, str], float] = Counter()
    blank = set()
    for r in rows:
        key = (r["country"], r["region"], r["city"])
        groups[key] += float(r["share"])
        if not r["latitude_deg"]:
            blank.add(key)
    assert all(abs(total - 1.0) < 2e-3 for total in groups.values())
    assert ("US", "US-MN", "Minnesota") in blank and len(blank) <= 10
    # The typos of the feed are fixed, so the city is found.
    assert ("US", "US-OH", "Columbus") in groups and not any(key[2] == "Colombus" for key in groups)


@pytest.mark.skipif(not SOURCE.is_dir(), reason=f"the shared reference data {SOURCE} is not here")
def test_vendor_tool_check_passes() -> None:
    spec = importlib.util.spec_from_file_location("vendor_starlink_network", REPO / "tools" / "vendor_starlink_network.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main(["--check", "--quiet", "--source", str(SOURCE)]) == 0
