"""GPS jamming: the J/S budget against hand calculations, timing, grace period, files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from leosim.models.jamming import (
    GPS_L1_HZ,
    Jammer,
    JammerError,
    denied_share,
    j_to_s_db,
    location_known,
)
from leosim.scenario.resolve import load_jammers

C = 299_792_458.0


def _east(lat, km):
    """Longitude (deg) of a point ``km`` east of (lat, 0) along the parallel (short distances)."""
    return math.degrees(km * 1e3 / (6371e3 * math.cos(math.radians(lat))))


def test_j_to_s_by_hand():
    # 10 dBW (10 W) at 30 m, terminal at 3 m, 20 km away, GPS antenna -5 dBi, 3 dB clutter:
    # FSPL = 20 log10(4 pi 20e3 1575.42e6 / c) = 122.42 dB; J = 10 - 122.42 - 3 - 5 dBW
    # = -120.42 dBW = -90.42 dBm; S = -128.5 dBm (IS-GPS-200) -> J/S = 38.08 dB
    d = 20e3
    fspl = 20 * math.log10(4 * math.pi * math.hypot(d, 27.0) * GPS_L1_HZ / C)
    expected = 10 - fspl - 3 - 5 + 30 + 128.5
    assert expected == pytest.approx(38.08, abs=0.01)
    js = j_to_s_db([Jammer("j", 0.0, 0.0, 10.0, height_m=30.0)], 0.0, _east(0.0, 20.0), clutter_loss_db=3.0)
    # 1 cm in 20 km from the spherical distance: far below 0.01 dB
    assert js[0] == pytest.approx(expected, abs=0.01)


def test_two_equal_jammers_add_3db_and_horizon_cuts():
    j1 = Jammer("a", 0.0, 0.0, 10.0, height_m=30.0)
    j2 = Jammer("b", 0.0, 2 * _east(0.0, 10.0), 10.0, height_m=30.0)
    mid = _east(0.0, 10.0)
    one = j_to_s_db([j1], 0.0, mid)[0]
    both = j_to_s_db([j1, j2], 0.0, mid)[0]
    assert both - one == pytest.approx(10 * math.log10(2), abs=1e-6)  # equal powers add in watts
    # 4/3-Earth horizon for 30 m and 3 m: 4.12 km x (sqrt 30 + sqrt 3) = 29.7 km
    assert np.isfinite(j_to_s_db([j1], 0.0, _east(0.0, 29.0))[0])
    assert j_to_s_db([j1], 0.0, _east(0.0, 31.0))[0] == -np.inf


def test_active_times_and_grace_period():
    t = np.datetime64("2026-01-08T18:00") + np.arange(0, 600, 60).astype("timedelta64[s]")
    j = Jammer("j", 35.7, 51.4, 10.0, active=(("2026-01-08T18:02", "2026-01-08T18:07"),))
    known = location_known([j], [35.7], [51.41], t)[:, 0]
    assert known.tolist() == [True, True, False, False, False, False, False, True, True, True]
    graced = location_known([j], [35.7], [51.41], t, grace_s=120.0)[:, 0]
    # jammed from 18:02; denied only once jammed for more than 120 s (18:05 onwards)
    assert graced.tolist() == [True, True, True, True, True, False, False, True, True, True]


def test_denied_share():
    t = np.array(["2026-01-08T18:00"], dtype="datetime64[ns]")
    lat = np.zeros(4)
    lon = np.array([_east(0.0, k) for k in (1.0, 5.0, 100.0, 200.0)])
    share = denied_share([Jammer("j", 0.0, 0.0, 10.0)], lat, lon, t)
    assert share.tolist() == [0.5]  # the two nearby points, not the two beyond the horizon
    weighted = denied_share([Jammer("j", 0.0, 0.0, 10.0)], lat, lon, t, weights=[3, 0, 1, 0])
    assert weighted.tolist() == [0.75]


def test_bad_jammers(tmp_path):
    with pytest.raises(
        JammerError, match=r"jammer 'j': height_m -1.0 is under ground; expected an antenna height >= 0 m"
    ):
        Jammer("j", 0.0, 0.0, 10.0, height_m=-1.0)
    with pytest.raises(JammerError, match=r"active interval .* ends before it starts"):
        Jammer("j", 0.0, 0.0, 10.0, active=(("2026-01-02", "2026-01-01"),))
    f = tmp_path / "j.csv"
    f.write_text("name,latitude_deg,longitude_deg,eirp_dbw\na,35.7,51.4,ten\n")
    with pytest.raises(JammerError) as exc:
        load_jammers(f)
    assert str(exc.value) == f"{f}:2: eirp_dbw 'ten' is not a number; expected a number of dBW"
    f.write_text("name,lat,lon\n")
    with pytest.raises(JammerError, match=r":1: unknown column 'lat'; expected a CSV header"):
        load_jammers(f)


def test_jammer_files(tmp_path):
    f = tmp_path / "j.csv"
    f.write_text("name,latitude_deg,longitude_deg,eirp_dbw,height_m,start,end\n"
                 "a,35.7,51.4,10,30,2026-01-08T18:00,2026-01-08T19:00\na,35.7,51.4,10,30,2026-01-09T18:00,2026-01-09T19:00\n"
                 "b,32.6,51.6,20,,,\n")  # fmt: skip
    a, b = load_jammers(f)
    assert len(a.active) == 2 and a.height_m == 30.0 and b.active == () and b.height_m == 10.0
    t = tmp_path / "j.toml"
    t.write_text('[[jammer]]\nname = "a"\nlatitude_deg = 35.7\nlongitude_deg = 51.4\neirp_dbw = 10\n'
                 'active = [["2026-01-08T18:00", "2026-01-08T19:00"]]\n')  # fmt: skip
    (a2,) = load_jammers(t)
    assert a2.active == a.active[:1]


# ------------------------------------------ issue 13: the reproducers, kept as regressions
JAMMER_HEADER = "name,latitude_deg,longitude_deg,eirp_dbw"


@pytest.mark.parametrize(
    "name, text, needle",
    [
        ("j.csv", f"{JAMMER_HEADER},start\na,35.7,51.4,10,2026-01-08T18:00\n",
         ":2: an active interval needs both start and end, got start '2026-01-08T18:00' and end ''"),
        ("j.csv", f"{JAMMER_HEADER},end\na,35.7,51.4,10,2026-01-08T18:00\n", ":2: an active interval needs both start and end"),
        ("j.csv", f"{JAMMER_HEADER}\na,35.7,51.4,1e21\n", ":2: jammer 'a': eirp_dbw 1e+21 is out of range; expected -60 to 100 dBW"),
        ("j.csv", f"{JAMMER_HEADER}\na,35.7,51.4,101\n", ":2: jammer 'a': eirp_dbw 101.0 is out of range"),
        ("j.csv", f"{JAMMER_HEADER}\na,35.7,51.4,nan\n", ":2: eirp_dbw 'nan' is not a number"),
        ("j.csv", f"{JAMMER_HEADER}\na,95,51.4,10\n", ":2: latitude_deg 95 is out of range; expected a number from -90 to 90"),
        ("j.csv", f"{JAMMER_HEADER}\na,35.7,51.4,10\na,35.8,51.4,10\n",
         ":3: jammer 'a' has latitude_deg '35.8' here but '35.7' at line 2"),
        ("j.toml", '[[jammer]]\nname = "a"\nlatitude_deg = 35.7\nlongitude_deg = 51.4\neirp_dbw = 1e21\n',
         ", jammer 1: jammer 'a': eirp_dbw 1e+21 is out of range; expected -60 to 100 dBW"),
        ("j.toml", '[[jammer]]\nname = "a"\nlatitude_deg = 35.7\nlongitude_deg = 51.4\neirp_dbw = nan\n',
         ", jammer 1: eirp_dbw nan is not a finite number"),
        ("j.toml", '[[jammer]]\nname = "a"\nlatitude_deg = 35.7\nlongitude_deg = 51.4\neirp_dbw = "1_0"\n',
         ", jammer 1: eirp_dbw '1_0' is not a finite number"),
        ("j.toml", '[[jammer]]\nname = [1]\nlatitude_deg = 35.7\nlongitude_deg = 51.4\neirp_dbw = 1\n',
         ", jammer 1: name [1] is not a name"),
        ("j.toml", '[[jammer]]\nname = "a"\nlatitude_deg = 35.7\nlongitude_deg = 51.4\neirp_dbw = 1\nactive = [[0, 1]]\n',
         ", jammer 1: active must be a list of [start, end] pairs"),
        ("j.toml", '[[jammer]]\nname = "a"\nlatitude_deg = 35.7\nlongitude_deg = 51.4\neirp_dbw = 1\n'
                   'active = [["2026-01-01", "2300-01-01"]]\n', ", jammer 1: jammer 'a': active interval"),
        ("j.toml", '[[jammer]]\nname = "a"\nlatitude_deg = 35.7\nlongitude_deg = 51.4\neirp_dbw = 1\n' * 2,
         ", jammer 2: jammer 'a' is given again (first as jammer 1)"),
        ("j.toml", '[[jammers]]\nname = "a"\nlatitude_deg = 35.7\nlongitude_deg = 51.4\neirp_dbw = 1\n',
         ": unknown top-level key 'jammers'; expected only [[jammer]] tables"),
    ],
)
def test_jammer_files_refuse_what_the_scenario_schema_refuses(tmp_path, name, text, needle):
    f = tmp_path / name
    f.write_text(text)
    with pytest.raises(JammerError) as exc:
        load_jammers(f)
    assert str(exc.value).startswith(str(f)) and needle in str(exc.value)


def test_rows_of_one_jammer_may_repeat_its_numbers_in_another_spelling(tmp_path):
    f = tmp_path / "j.csv"
    f.write_text(f"{JAMMER_HEADER},start,end\na,35.78,51.4,10,2026-01-08T18:00,2026-01-08T19:00\n"
                 "a,35.780,51.40,1e1,2026-01-09T18:00,2026-01-09T19:00\n")
    (a,) = load_jammers(f)
    assert len(a.active) == 2 and a.eirp_dbw == 10.0


def test_jammer_eirp_limits_are_the_schemas():
    from leosim.models.jamming import JAMMER_EIRP_RANGE_DBW

    lo, hi = JAMMER_EIRP_RANGE_DBW
    assert Jammer("a", 0.0, 0.0, hi).eirp_dbw == hi and Jammer("a", 0.0, 0.0, lo).eirp_dbw == lo
    for bad in (hi + 1e-9, lo - 1, math.inf, math.nan, 10**400, True):
        with pytest.raises(JammerError):
            Jammer("a", 0.0, 0.0, bad)
