"""Scenario files: validation messages, the runner's outputs, and the shipped scenarios."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from leosim.errors import ScenarioError
from leosim.pipeline.run import run
from leosim.present.headline import headline_rows
from leosim.scenario.load import builtin_scenarios, load_scenario, parse_scenario
from leosim.scenario.plan import build_plan as plan

SMALL = """
name = "small"
description = "two cities over a small Walker shell"
seed = 1

[constellation]
shells = [{altitude_km = 550, inclination_deg = 53, planes = 12, sats_per_plane = 16}]

[time]
start = "2026-05-13T00:00:00Z"
duration = "1min"
step = "5s"

[ground]
gateways = "starlink"
pops = "starlink"

[[ground.terminals]]
places = ["London", "Madrid"]

[routing]
mode = "isl"
attach = "scheduled"
min_elevation_deg = 20

[traffic]
destination = "nearest-pop"
pairs = [["London", "Madrid"]]
"""


def test_small_scenario_parses():
    s = parse_scenario(SMALL, "small.toml")
    assert s.constellation.shells[0].planes == 12 and s.routing.attach == "scheduled"


@pytest.mark.parametrize(
    "edit, message",
    [
        (("mode = \"isl\"", "mdoe = \"isl\""), "small.toml:22: unknown key 'routing.mdoe'; check the spelling"),
        (("places = [\"London\", \"Madrid\"]", "places = [\"London\"]\ncountry = \"Ukraine\""),
         "small.toml:20: ground.terminals[0].country = 'Ukraine' is not valid: country 'Ukraine' is not an ISO 3166-1 alpha-2 code; expected two letters such as 'UA'"),
        (("duration = \"1min\"", "duration = \"-1min\""),
         "small.toml:11: time.duration = '-1min' is not valid: duration '-1min' is negative; expected a positive number with a unit, e.g. 100ms, 15s, 10min, 2h, 1d"),
        (("step = \"5s\"", "step = \"5min\""),
         "small.toml:9: [time] is not valid: step 5min is longer than the duration 1min; expected a shorter step"),
        (("min_elevation_deg = 20", "min_elevation_deg = 95"),
         "small.toml:24: routing.min_elevation_deg = 95 is not valid: Input should be less than or equal to 90"),
        (("attach = \"scheduled\"", "attach = \"sometimes\""),
         "small.toml:23: routing.attach = 'sometimes' is not valid: unknown attachment policy 'sometimes'; expected one of: free, max-elevation, longest-visible, scheduled"),
    ],
)
def test_errors_name_file_key_line_value_and_expectation(edit, message):
    text = SMALL.replace(*edit)
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(text, "small.toml")
    assert message in str(exc.value)


def test_broken_toml_and_missing_section():
    with pytest.raises(ScenarioError, match=r"bad.toml: not valid TOML: "):
        parse_scenario("name = ", "bad.toml")
    with pytest.raises(ScenarioError, match=r"x.toml: ground is missing; expected it to be given"):
        parse_scenario('name = "x"\n', "x.toml")


def test_unknown_builtin_suggests():
    with pytest.raises(ScenarioError, match=r"unknown scenario 'globl'; expected one of global, iran-2022, ukraine-2022 or a .toml file; did you mean global\?"):
        load_scenario("globl")


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    scn = parse_scenario(SMALL, "small.toml")
    summary = run(scn, SMALL, out, workers=1)
    return out, summary


def test_run_writes_consistent_outputs(small_run):
    out, summary = small_run
    for name in ("rtt.zarr", "pairs.csv", "regions.csv", "summary.json", "scenario.toml", "report.html"):
        assert (out / name).exists(), name
    assert not (out / "INCOMPLETE").exists()
    assert json.loads((out / "summary.json").read_text()) == summary
    from leosim.engine.stores import open_pairs

    ds = open_pairs(out / "rtt.zarr")
    assert ds.sizes["time"] == 12
    import csv

    with (out / "pairs.csv").open() as f:
        rows = list(csv.DictReader(f))
    # the table's median is the median of the stored series, to float32 rounding
    for k, r in enumerate(rows):
        x = ds["rtt_ms"].values[:, k]
        assert float(r["rtt_median_ms"]) == pytest.approx(float(np.median(x[np.isfinite(x)])), abs=1e-3)
    to_pop = [float(r["rtt_median_ms"]) for r in rows if r["kind"] == "to-pop"]
    # a bent-pipe hop to a nearby PoP: at least the 2 x 550 km up-and-down floor (7.3 ms at
    # zenith, less only for lower satellites), at most a few tens of ms
    assert all(5.0 < v < 60.0 for v in to_pop)


def test_run_refuses_non_empty_directory_unless_overwrite(small_run, tmp_path):
    out, _ = small_run
    scn = parse_scenario(SMALL, "small.toml")
    with pytest.raises(ScenarioError, match=r"exists and is not empty; expected a new or empty directory \(or pass --overwrite\)"):
        run(scn, SMALL, out, workers=1)
    keep = tmp_path / "o"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    run(scn, SMALL, keep, workers=1, overwrite=True)
    assert (keep / "notes.txt").read_text() == "mine" and (keep / "summary.json").exists()


def test_interrupted_run_is_marked_incomplete(tmp_path):
    scn = parse_scenario(SMALL.replace('duration = "1min"', 'duration = "5min"'), "small.toml")

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(scn, SMALL, tmp_path / "o", workers=1, progress=stop)
    marker = tmp_path / "o" / "INCOMPLETE"
    assert marker.exists() and "Interrupted after" in marker.read_text()
    assert not (tmp_path / "o" / "summary.json").exists()


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_builtin_scenarios_plan_and_run_briefly(name, tmp_path):
    scn, text, path = load_scenario(name)
    p = plan(scn, path)
    assert len(p.pairs) > 0 and p.constellation.n_sats == 10361
    short = scn.model_copy(update={"time": scn.time.model_copy(update={"duration": "20s", "step": "10s"}),
                                   "outputs": scn.outputs.model_copy(update={"report": False})})
    summary = run(short, text, tmp_path / name, workers=1)
    assert summary["reachable"] > 0.9
    if name == "ukraine-2022":
        assert {g.country for g in p.network.gateways} == {"PL", "LT"}


def test_cli_validate_and_show(tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "leosim", *args], capture_output=True, text=True, timeout=300)

    shown = cli("scenarios", "show", "global")
    assert shown.returncode == 0 and shown.stdout.startswith("# The default scenario")
    f = tmp_path / "s.toml"
    f.write_text(shown.stdout)
    assert cli("validate", str(f)).returncode == 0
    f.write_text(shown.stdout.replace("[routing]\n", "[routing]\nspeed = 3\n"))
    bad = cli("validate", str(f))
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("error: ") and f"{f}:" in bad.stderr and "unknown key 'routing.speed'" in bad.stderr
    missing = cli("run", str(tmp_path / "nope.toml"), "-o", str(tmp_path / "o"))
    assert missing.returncode == 1 and "cannot read scenario file" in missing.stderr


CHROMIUM = Path("/usr/bin/chromium")


def test_report_renders_in_a_real_browser(small_run):
    """The report opens offline in headless Chromium: no failed request, no console error,
    every figure decoded with a real size."""
    out, _ = small_run
    check_report_in_browser(out / "report.html", "leosim report: small", min_figures=3)


def check_report_in_browser(report: Path, title: str, min_figures: int) -> None:
    """Open ``report`` in headless Chromium: nothing but the file and its inline images
    requested, no failed request, no console error, ``min_figures`` images or more with a
    real size."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    failed, errors = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        page = browser.new_page()
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        sizes = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])")
        page_title = page.title()
        browser.close()
    assert not failed and not errors
    # nothing but the file itself and its inline images was requested
    assert all(u.startswith(("file://", "data:")) for u in requests)
    assert page_title == title
    assert len(sizes) >= min_figures and all(c and w > 200 and h > 100 for c, w, h in sizes)


# ------------------------------------------------------- policy, jamming, exposure
ADV = """
[policy]
preset = "all"

[jamming]
region = "GB"
jammers = [
  {name = "near London", latitude_deg = 51.52, longitude_deg = -0.10, eirp_dbw = 10, start = "30s"},
]

[exposure]
sensors = "ring:6:2"
center = "London"
duty_cycles = [0.11, 0.02]
hours = 1
terminals = 2
trials = 20
"""
ADV_TEXT = SMALL + ADV


@pytest.mark.parametrize(
    "edit, message",
    [
        (('preset = "all"', 'preset = "some"'), "adv.toml:31: policy.preset = 'some' is not valid: Input should be 'all' or 'none'"),
        (('preset = "all"', 'preset = "all"\nfile = "p.toml"'),
         "adv.toml:30: [policy] is not valid: give exactly one of preset or file; got preset, file"),
        (('preset = "all"', 'preset = "all"\nhome_country = "QQ"'),
         "adv.toml:32: policy.home_country = 'QQ' is not valid: unknown country 'QQ'; expected an ISO 3166-1 alpha-2 code"),
        (('region = "GB"', 'region = "Britain"'),
         "adv.toml:34: jamming.region = 'Britain' is not valid: region 'Britain' is not an ISO 3166-1 alpha-2 code; expected two letters such as 'IR'"),
        (("eirp_dbw = 10,", "eirp_dbw = 10, eirpp = 3,"),
         "adv.toml:36: unknown key 'jamming.jammers[0].eirpp'; check the spelling (leosim scenarios show iran-2022 lists the keys)"),
        (('start = "30s"},', 'start = "30s"},\n  {name = "two", latitude_deg = 51.5, longitude_deg = 0.0, eirp_dbw = 900},'),
         "adv.toml:37: jamming.jammers[1].eirp_dbw = 900 is not valid: Input should be less than or equal to 100"),
        (('start = "30s"', 'start = "soon"'),
         "adv.toml:36: jamming.jammers[0].start = 'soon' is not valid: start 'soon' is neither a time nor a duration; "
         "expected ISO 8601 UTC such as 2026-05-13T00:10:00Z or a duration after the run's start such as 10min"),
        (("latitude_deg = 51.52, ", ""), "adv.toml:36: jamming.jammers[0].latitude_deg is missing; expected it to be given"),
        (("duty_cycles = [0.11, 0.02]", "duty_cycles = [0.11, 1.5]"),
         "adv.toml:42: exposure.duty_cycles[1] = 1.5 is not valid: Input should be less than or equal to 1"),
        (("duty_cycles = [0.11, 0.02]", "duty_cycle = [0.11]"), "adv.toml:42: unknown key 'exposure.duty_cycle'; check the spelling"),
        (("terminals = 2", "terminals = 0"),
         "adv.toml:44: exposure.terminals = 0 is not valid: expected how many of the scenario's terminals to assess "
         '(1-1000, the first N) or a list of their names such as ["Kharkiv", "Dnipro"]'),
        (('sensors = "ring:6:2"', "sensors = []"),
         "adv.toml:40: exposure.sensors = [] is not valid: no sensors; expected a layout such as 'ring:6:3' or a sensor file"),
        # a sensor layout is built when the scenario is read, so validate checks its ranges
        (('sensors = "ring:6:2"', 'sensors = "ring:1:2"'),
         "adv.toml:40: exposure.sensors = 'ring:1:2' is not valid: sensor layout 'ring:1:2': a ring of 1 sensors; expected 2 to 400"),
    ],
)
def test_adversary_section_errors_name_file_key_line_value_and_expectation(edit, message):
    assert edit[0] in ADV_TEXT
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(ADV_TEXT.replace(*edit), "adv.toml")
    assert message in str(exc.value)


@pytest.mark.parametrize(
    "edit, message",
    [
        (("terminals = 2", 'terminals = ["Paris"]'),
         "exposure.terminals: 'Paris' is not one of the scenario's terminals; expected one of London, Madrid"),
        (('preset = "all"', 'file = "no-such-policy.toml"'), "policy.file = 'no-such-policy.toml': cannot read policy file "),
        (('center = "London"', 'center = "Nowhereville Xq"'), "exposure.center = 'Nowhereville Xq': "),
    ],
)
def test_adversary_names_and_files_are_checked_before_running(edit, message, tmp_path):
    scn = parse_scenario(ADV_TEXT.replace(*edit), "adv.toml")
    with pytest.raises(ScenarioError) as exc:
        plan(scn, tmp_path / "adv.toml")
    assert message in str(exc.value)


def _csv(path: Path) -> list[dict]:
    import csv

    with path.open() as f:
        return list(csv.DictReader(f))


def test_none_policy_blocks_every_terminal(tmp_path):
    text = SMALL + '\n[policy]\npreset = "none"\n\n[outputs]\nreport = false\n'
    summary = run(parse_scenario(text, "none.toml"), text, tmp_path / "o", workers=1)
    from leosim.engine.stores import open_pairs

    rtt = open_pairs(tmp_path / "o" / "rtt.zarr")["rtt_ms"].values
    assert rtt.shape == (12, 3) and np.isnan(rtt).all()
    assert [r["reachable"] for r in _csv(tmp_path / "o" / "pairs.csv")] == ["0.0"] * 3
    adm = _csv(tmp_path / "o" / "admission.csv")
    assert [(r["terminal"], r["code_at_start"], r["admitted_share"]) for r in adm] == [
        ("London", "BLOCKED_COUNTRY", "0.0"), ("Madrid", "BLOCKED_COUNTRY", "0.0")]
    assert adm[0]["reason"] == "GB (United Kingdom) is not served by policy 'none'"
    assert summary["admission"]["codes_at_start"] == {"BLOCKED_COUNTRY": 2} and summary["reachable"] == 0.0
    assert {r["admitted_at_start"] for r in _csv(tmp_path / "o" / "jurisdictions.csv")} == {"False"}


@pytest.fixture(scope="module")
def jam_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("jam") / "out"
    summary = run(parse_scenario(ADV_TEXT, "adv.toml"), ADV_TEXT, out, workers=1)
    return out, summary


def test_jammed_terminal_carries_nothing_while_the_jammer_is_on(jam_run):
    out, summary = jam_run
    from leosim.engine.stores import open_pairs

    ds = open_pairs(out / "rtt.zarr")
    t = ds["t_s"].values
    on = t >= 30.0  # the jammer starts 30 s into the run, 2 km from central London
    for k, (src, dst) in enumerate(zip(ds["src"].values, ds["dst"].values)):
        x = ds["rtt_ms"].values[:, k]
        if "London" in (src, dst):
            assert np.isfinite(x[~on]).all() and np.isnan(x[on]).all(), (src, dst)
        else:
            assert np.isfinite(x).all(), (src, dst)
    adm = {r["terminal"]: r for r in _csv(out / "admission.csv")}
    assert (adm["London"]["code_at_start"], adm["London"]["first_denied_code"]) == ("OKAY", "UNKNOWN_LOCATION")
    assert float(adm["London"]["first_denied_s"]) == 30.0 and float(adm["London"]["admitted_share"]) == 0.5
    assert adm["London"]["reason"].startswith("the terminal cannot locate itself (no GPS fix")
    assert (adm["Madrid"]["code_at_start"], adm["Madrid"]["first_denied_code"], adm["Madrid"]["admitted_share"]) == ("OKAY", "", "1.0")
    jam = _csv(out / "jamming.csv")
    assert [float(r["denied_share_terminals"]) for r in jam] == [0.0] * 6 + [0.5] * 6
    assert [int(r["jammers_on"]) for r in jam] == [0] * 6 + [1] * 6
    # a 10 W jammer 10 m up reaches its ~20 km radio horizon: a sliver of Great Britain
    assert 0.0 < float(jam[-1]["denied_share_area_GB"]) < 0.02 and float(jam[0]["denied_share_area_GB"]) == 0.0
    assert summary["jamming"]["denied_share_terminals_max"] == 0.5
    assert summary["admission"]["admitted_throughout"] == 1


def test_exposure_table_says_not_located_never_nan(jam_run):
    out, summary = jam_run
    text = (out / "exposure.csv").read_text()
    assert "nan" not in text.lower() and "inf" not in text.lower()
    rows = _csv(out / "exposure.csv")
    assert [(r["terminal"], r["duty_cycle"]) for r in rows] == [
        ("London", "0.11"), ("London", "0.02"), ("Madrid", "0.11"), ("Madrid", "0.02")]
    # six rooftop sensors 2 km around London hear it (docs/adversary.md: 2 s / 11 s at 2 km);
    # Madrid is 1,260 km away, beyond every sensor's horizon
    assert all(float(r["median_s"]) < 60.0 and float(r["located_share"]) == 1.0 for r in rows[:2])
    assert all(r["median_s"] == r["p10_s"] == r["p90_s"] == "not located" and r["located_share"] == "0.0" for r in rows[2:])
    by = summary["exposure"]["by_duty_cycle"]
    # one of two terminals located: the median (a terminal's value, as LocateResult's) is the located one
    assert by["0.11"]["terminals_located"] == 1 and by["0.11"]["median_time_to_locate_s"] == float(rows[0]["median_s"])
    assert by["0.02"]["fastest_median_s"] == float(rows[1]["median_s"])


def test_adversary_report_renders_in_a_real_browser(jam_run):
    out, _ = jam_run
    html = (out / "report.html").read_text()
    for section in ("Service policy and admission", "GPS jamming", "Exposure of transmitting terminals"):
        assert f"<h2>{section}</h2>" in html
    check_report_in_browser(out / "report.html", "leosim report: small", min_figures=7)


def test_coastal_city_is_admitted_on_land():
    """Bandar Abbas's centre lies at sea on the 1:50m coastline; admission moves it ashore."""
    from leosim.ground.countries import country_of
    from leosim.ground.places import resolve_place
    from leosim.scenario.plan import on_land as _on_land

    site = resolve_place("Bandar Abbas")
    assert str(country_of(site.latitude_deg, site.longitude_deg)) == "none"
    lat, lon = _on_land([site, resolve_place("Madrid")])
    assert list(country_of(lat, lon)) == ["IR", "ES"] and (lat[1], lon[1]) == (resolve_place("Madrid").latitude_deg, resolve_place("Madrid").longitude_deg)


def test_builtin_adversary_sections_resolve():
    scn, _, path = load_scenario("iran-2022")
    p = plan(scn, path)
    assert p.policy.name == "all" and "IR" not in {g.country for g in p.network.gateways}
    jammers = p.sections["jamming"].jammers
    assert len(jammers) == 3 and p.scenario.jamming.region == "IR"
    starts = sorted({float((j.active[0][0] - p.grid.start) / np.timedelta64(1, "s")) for j in jammers})
    assert starts == [300.0, 900.0]
    assert p.sections["exposure"].names == ["Tehran", "Eslamshahr", "Karaj"]
    scn, _, path = load_scenario("ukraine-2022")
    p = plan(scn, path)
    assert p.policy is None and p.scenario.exposure.center == "each"
    assert p.sections["exposure"].names == ["Kharkiv", "Zaporizhzhya", "Dnipro"]
    assert all(len(s) == 7 and s[-1].kind == "drone" for s in p.sections["exposure"].sensors)


def test_cli_error_keeps_brackets_of_key_paths(tmp_path):
    """Key paths such as ground.terminals[0] reach the terminal intact (no markup eaten)."""
    f = tmp_path / "s.toml"
    f.write_text(SMALL.replace('places = ["London", "Madrid"]', 'places = ["London"]\ncountry = "Ukraine"'))
    p = subprocess.run([sys.executable, "-m", "leosim", "validate", str(f)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and "ground.terminals[0].country = 'Ukraine' is not valid" in p.stderr


# ------------------------------------------------------------------------ capacity
CAP = """
[capacity]
country = "CY"
terminals = 300
intervals = 1
"""
CAP_TEXT = SMALL + CAP


@pytest.mark.parametrize(
    "edit, message",
    [
        (("intervals = 1", "intervals = 0"),
         "cap.toml:33: capacity.intervals = 0 is not valid: Input should be greater than or equal to 1"),
        (('country = "CY"', 'country = "Cyprus"'),
         "cap.toml:31: capacity.country = 'Cyprus' is not valid: country 'Cyprus' is not an ISO 3166-1 alpha-2 code; "
         "expected two letters such as 'IR'"),
        (("terminals = 300", "terminals = 300\ntake_rate = 0.01"),
         "cap.toml:30: [capacity] is not valid: give exactly one of terminals or take_rate; got terminals, take_rate"),
        (("intervals = 1", 'intervals = 1\npayload = "v2"'),
         "cap.toml:34: capacity.payload = 'v2' is not valid: Input should be 'v1.5' or 'v2-mini'"),
        (("intervals = 1", "interval = 1"),
         "cap.toml:33: unknown key 'capacity.interval'; check the spelling (leosim scenarios show iran-2022 lists the keys)"),
    ],
)
def test_capacity_section_errors_name_file_key_line_value_and_expectation(edit, message):
    assert edit[0] in CAP_TEXT
    with pytest.raises(ScenarioError) as exc:
        parse_scenario(CAP_TEXT.replace(*edit), "cap.toml")
    assert message in str(exc.value)


def test_capacity_section_runs_and_reports(tmp_path):
    pytest.importorskip("itur", reason="the capacity extra is not installed (pip install 'leosim[capacity]')")
    out = tmp_path / "o"
    summary = run(parse_scenario(CAP_TEXT, "cap.toml"), CAP_TEXT, out, workers=1)
    cells = _csv(out / "capacity_cells.csv")
    c = summary["capacity"]
    assert c["country"] == "CY" and c["terminals"] == 300 and c["intervals"] == 1
    assert len(cells) == c["cells"] and sum(int(r["terminals"]) for r in cells) == 300
    # served never exceeds what was asked (300 x 100 Mbit/s), in the table and the summary
    assert 0.0 < c["served_gbps"] <= c["asked_gbps"] == pytest.approx(30.0)
    assert sum(float(r["served_mbps"]) for r in cells) / 1e3 == pytest.approx(c["served_gbps"], abs=1e-3)
    assert c["per_terminal_median_mbps"] > 0 and c["per_terminal_p10_mbps"] <= c["per_terminal_median_mbps"]
    assert c["terminals_at_min_speed"] <= c["terminals"]
    assert any(label.startswith("capacity, Cyprus (CY)") for label, _ in headline_rows(summary))
    # neither London nor Madrid is in Cyprus: no per-city table
    assert not (out / "capacity_cities.csv").exists()
    html = (out / "report.html").read_text()
    assert "<h2>Capacity</h2>" in html
    check_report_in_browser(out / "report.html", "leosim report: small", min_figures=4)
