"""The adversary commands as a user runs them: ``policy check``, ``jam``, ``exposure``."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest.importorskip("shapely")
pytest.importorskip("h3")


def leosim(*args, ok=True, cwd=None):
    p = subprocess.run([sys.executable, "-m", "leosim", *args], capture_output=True, text=True, timeout=300, cwd=cwd)
    if ok:
        assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout[-2000:]}\nstderr: {p.stderr[-2000:]}"
    return p


def one_line_error(p) -> str:
    assert p.returncode == 1, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_policy_check_route_shows_gateway_abroad():
    p = leosim("policy", "check", "--site", "Tehran", "--home-country", "IR", "-c", "starlink-shell1")
    assert "OKAY: served: IR (Iran) is served by policy 'all'" in p.stdout
    assert "lands at (gateway)" in p.stdout and "IR >" in p.stdout  # lands outside Iran


def test_policy_check_codes(tmp_path):
    p = leosim("policy", "check", "--site", "Kyiv", "--speed-kmh", "120", "--no-route")
    assert "ROAM_RESTRICTED: moving at 120 km/h, over the 90 km/h speed gate in UA (Ukraine)" in p.stdout
    f = tmp_path / "p.toml"
    f.write_text('blocked = ["IR"]\n')
    p = leosim("policy", "check", "--site", "Tehran", "--policy", str(f), "--no-route")
    assert "BLOCKED_COUNTRY: IR (Iran) is not served by policy 'p'" in p.stdout


def test_policy_check_errors(tmp_path):
    line = one_line_error(leosim("policy", "check", "--site", "Tehran", "--home-country", "UK", ok=False))
    assert line == (
        "error: --home-country 'UK': unknown country 'UK'; expected an ISO 3166-1 alpha-2 "
        "code such as 'IR' or a country name; did you mean: GB (United Kingdom)?"
    )
    f = tmp_path / "bad.csv"
    f.write_text("country,served\nIR,perhaps\n")
    line = one_line_error(leosim("policy", "check", "--site", "Tehran", "--policy", str(f), "--no-route", ok=False))
    assert line.startswith(f"error: {f}:2: served 'perhaps' is not yes or no")


def test_jam_writes_a_map(tmp_path):
    png = tmp_path / "jam.png"
    p = leosim(
        "jam",
        "--jammer",
        "35.69,51.39",
        "--eirp-dbw",
        "10",
        "--jammer-height",
        "30",
        "--region",
        "IR",
        "--map",
        str(png),
    )
    assert "denied share of the area:" in p.stdout
    assert "Tehran" in p.stdout and "denied" in p.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_jam_errors():
    line = one_line_error(leosim("jam", "--jammer", "35.69;51.39", "--region", "IR", ok=False))
    assert line == "error: --jammer '35.69;51.39' is not LAT,LON; expected two numbers in degrees such as 35.69,51.39"
    line = one_line_error(leosim("jam", "--jammer", "35.69,51.39", "--region", "Persia", ok=False))
    assert line.startswith("error: --region 'Persia': unknown country 'Persia'; expected an ISO 3166-1 alpha-2 code")


def test_exposure_table_and_map(tmp_path):
    png = tmp_path / "risk.png"
    p = leosim("exposure", "--terminals", "Tehran", "--sensors", "ring:6:1", "--duty-cycle", "0.11,0.02", "--hours", "1",
               "--trials", "50", "--seed", "3", "--map", str(png), "--map-points", "6", "-c", "starlink-shell1")  # fmt: skip
    assert "time to locate" in p.stdout and "what-if" in p.stdout
    assert "0.11" in p.stdout and "0.02" in p.stdout
    assert "nan" not in p.stdout.lower()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_exposure_region_and_not_located(tmp_path):
    # sensors 30 km away in clutter detect nothing: the table says so, without NaN
    p = leosim("exposure", "--region", "IR", "--terminals-count", "2", "--sensors", "ring:3:30", "--hours", "1", "--trials", "5",
               "--map", str(tmp_path / "m.png"), "--map-points", "4", "-c", "starlink-shell1")  # fmt: skip
    assert "not located" in p.stdout and "nan" not in p.stdout.lower()


def test_exposure_errors(tmp_path):
    line = one_line_error(leosim("exposure", "--terminals", "Tehran", "--duty-cycle", "1.5", ok=False))
    assert line == "error: duty cycle 1.5 is outside 0-1; expected duty cycle in 0-1"
    f = tmp_path / "s.csv"
    f.write_text("name,latitude_deg,longitude_deg,height_m\ns1,35.7,51.4,-3\n")
    line = one_line_error(leosim("exposure", "--terminals", "Tehran", "--sensors", str(f), ok=False))
    assert line.endswith(f"{f}:2: sensor 's1': height_m -3.0 is under ground; expected an antenna height >= 0 m")
