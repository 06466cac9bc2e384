"""Scenario files: validation messages, the runner's outputs, and the shipped scenarios."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from leosim.runner import plan, run
from leosim.scenario import ScenarioError, builtin_scenarios, load_scenario, parse_scenario

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
         "small.toml:23: routing.attach = 'sometimes' is not valid: Input should be 'free', 'max-elevation', 'longest-visible' or 'scheduled'"),
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
    from leosim.results import open_pairs

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
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    out, _ = small_run
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
        page.goto((out / "report.html").as_uri())
        page.wait_for_load_state("load")
        sizes = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])")
        title = page.title()
        browser.close()
    assert not failed and not errors
    # nothing but the file itself and its inline images was requested
    assert all(u.startswith(("file://", "data:")) for u in requests)
    assert title == "leosim report: small"
    assert len(sizes) >= 3 and all(c and w > 200 and h > 100 for c, w, h in sizes)
