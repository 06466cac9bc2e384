"""``leosim capacity`` as a user runs it: ``python -m leosim capacity ...`` in a subprocess."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest


def leosim(*args, cwd=None, code=None):
    cmd = [sys.executable, "-m", "leosim", *args] if code is None else [sys.executable, "-c", code]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=cwd)


def test_capacity_command_writes_tables_and_map(tmp_path):
    out = tmp_path / "out"
    p = leosim("capacity", "--country", "LU", "--terminals", "100", "-c", "starlink-shell1",
               "--at", "2026-05-13T00:00:20Z", "--duration", "30s", "--min-speed", "50", "-o", str(out))
    assert p.returncode == 0, p.stderr[-3000:]
    assert "capacity: Luxembourg (LU), 3 x 15 s from 2026-05-13T00:00:12.000Z" in p.stdout
    for label in ("terminals (people)", "per terminal: median / p10", "terminals at >= 50 Mbit/s",
                  "terminals supportable at 50 Mbit/s", "binding bottleneck"):
        assert label in p.stdout
    assert "Traceback" not in p.stderr
    summary = json.loads((out / "summary.json").read_text())["capacity"]  # the [capacity] section's own keys
    assert summary["country"] == "LU" and summary["terminals"] == 100 and summary["intervals"] == 3
    assert summary["binding_bottleneck"] == "none"  # 100 terminals in 16 cells: all served
    assert summary["per_terminal_median_mbps"] == pytest.approx(100.0)
    # the section's table, and the same under the name of leosim 0.1
    assert (out / "capacity_cells.csv").read_text() == (out / "cells.csv").read_text()
    with (out / "capacity_cells.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["interval_start", "cell", "latitude_deg", "longitude_deg", "population", "terminals",
                             "demand_mbps", "offered_mbps", "served_mbps", "per_terminal_mbps",
                             "offered_per_terminal_mbps", "test_speed_mbps", "unserved_mbps", "bottleneck"]
    assert len(rows) == 3 * summary["cells"]
    assert sum(int(r["terminals"]) for r in rows) == 3 * 100
    assert (out / "capacity.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "saturated.csv").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--country", "LU", "--terminals", "-5"], "error: number of terminals must be a whole number of at least 1, got -5"),
        (["--country", "LU", "--terminals", "10", "--region-res", "16"],
         "error: H3 resolution 16 is outside 0-15; expected a whole number from 0 to 15"),
        (["--country", "LU"], "error: give one of --terminals N and --take-rate F with --country; got neither"),
        (["--country", "XX", "--terminals", "10"],
         "error: --country 'XX': unknown country 'XX'; expected an ISO 3166-1 alpha-2 code such as 'IR' or a country name; did you "
         "mean: XS (Somaliland), XK (Kosovo), XG (Siachen Glacier)?"),
    ],
    ids=["negative-terminals", "resolution", "no-terminals", "unknown-country"],
)
def test_capacity_bad_input_is_one_line(args, message):
    p = leosim("capacity", *args)
    assert p.returncode == 1
    assert p.stderr.strip() == message
    assert "Traceback" not in p.stderr


def test_capacity_missing_extra_says_what_to_install():
    code = ("import sys; sys.modules['itur'] = None; "
            "sys.argv = ['leosim', 'capacity', '--country', 'LU', '--terminals', '10']; "
            "from leosim.apps.cli.app import main; main()")
    p = leosim(code=code)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    expected = ("error: this needs the Python package 'itur', which is not installed; "
                "install it with: pip install 'leosim[capacity]'")
    # the brackets survive: leosim.apps.cli.app.main escapes rich markup in messages
    assert p.stderr.strip() == expected
