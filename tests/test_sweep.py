"""Sweeps: variants from --set, refused keys and values, and an end-to-end grid."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from leosim.errors import ScenarioError
from leosim.pipeline.sweep import parse_key, parse_values, variants
from leosim.scenario.load import builtin_text

SMALL = """
name = "small"
[constellation]
shells = [{altitude_km = 550, inclination_deg = 53, planes = 12, sats_per_plane = 16}]
[time]
start = "2026-05-13T00:00:00Z"
duration = "30s"
step = "5s"
[ground]
[[ground.terminals]]
places = ["London", "Madrid"]
[traffic]
pairs = [["London", "Madrid"]]
[outputs]
report = false
"""


def test_keys_and_values_parse():
    assert parse_key("constellation.shells[0].planes") == ["constellation", "shells", 0, "planes"]
    assert parse_values("60,72,84") == [60, 72, 84]
    assert parse_values("free,scheduled") == ["free", "scheduled"]
    assert parse_values('1e4,"a,b",[1,2]') == [1e4, "a,b", [1, 2]]


def test_grid_is_every_combination():
    v = variants(SMALL, "small.toml", ["constellation.shells[0].planes=8,12", "routing.attach=free,scheduled,max-elevation"])
    assert len(v) == 6
    assert {(m.constellation.shells[0].planes, m.routing.attach) for _, m, _ in v} == {
        (p, a) for p in (8, 12) for a in ("free", "scheduled", "max-elevation")
    }


@pytest.mark.parametrize(
    "expr, message",
    [
        ("routing.atach=free", "--set key 'routing.atach': 'atach' does not exist in the scenario schema here; expected one of attach"),
        ("routing.min_elevation_deg=abc", "routing.min_elevation_deg = 'abc' is not valid: Input should be a valid number"),
        ("constellation.shells[3].planes=5", "--set key 'constellation.shells[3].planes': index [3] is out of range"),
        ("routing.attach", "--set 'routing.attach' has no '='; expected KEY=VALUE[,VALUE...]"),
    ],
)
def test_bad_sets_are_refused_before_anything_runs(expr, message):
    with pytest.raises(ScenarioError) as exc:
        variants(SMALL, "small.toml", [expr])
    assert message in str(exc.value)


def test_builtin_scenario_keys_are_settable():
    v = variants(builtin_text("global"), "global", ["time.duration=5min,10min"])
    assert [m.time.duration for _, m, _ in v] == ["5min", "10min"]


def test_sweep_end_to_end(tmp_path):
    f = tmp_path / "small.toml"
    f.write_text(SMALL)
    out = tmp_path / "sweep"
    p = subprocess.run(
        [sys.executable, "-m", "leosim", "sweep", str(f), "--set", "constellation.shells[0].planes=8,12",
         "--set", "routing.attach=free,scheduled", "-o", str(out), "--executor", "serial"],
        capture_output=True, text=True, timeout=600,
    )
    assert p.returncode == 0, p.stderr[-2000:]
    with (out / "sweep.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4
    assert {(r["set:constellation.shells[0].planes"], r["set:routing.attach"]) for r in rows} == {
        (a, b) for a in ("8", "12") for b in ("free", "scheduled")
    }
    for r in rows:
        assert (out / r["variant"] / "summary.json").exists()
    # free attachment can only do as well or better than one scheduled satellite
    by = {(r["set:constellation.shells[0].planes"], r["set:routing.attach"]): r for r in rows}
    for planes in ("8", "12"):
        free = by[(planes, "free")]["rtt_to_pop_median_ms"]
        sched = by[(planes, "scheduled")]["rtt_to_pop_median_ms"]
        if free and sched:
            assert float(free) <= float(sched) + 1e-6
