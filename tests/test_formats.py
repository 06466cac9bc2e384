"""formats/: the one text, CSV, TOML and JSON layer every reader and writer goes through.

Each error must say where (file:line), what was there and what was expected, and must
be the package's own exception; JSON must parse in strict parsers (jq, browsers).
"""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pytest

from leosim.errors import InputFileError, LeosimError
from leosim.formats.tables import dumps, strict, write_table
from leosim.formats.text import read_csv, read_text, read_toml

COLUMNS = {"name": "name", "lat": "latitude_deg", "latitude_deg": "latitude_deg", "ok": "ok"}


def rows(text: str, **kw):
    return read_csv(text, "sites.csv", columns=COLUMNS, required=("name", "latitude_deg"),
                    expected="a sites CSV", **kw)


def test_csv_aliases_map_to_one_canonical_column_and_comments_are_skipped():
    got = rows("# a comment\nname,lat,ok\n\nKyiv,50.45,yes\n")
    assert [r.text("name") for r in got] == ["Kyiv"]
    assert got[0].number("latitude_deg", lo=-90, hi=90) == pytest.approx(50.45)
    assert got[0].flag("ok") is True
    assert got[0].line == 4  # the physical line, counting the comment and the blank line


@pytest.mark.parametrize(
    "text, needle",
    [
        ("name,lat\nKyiv,north\n", "sites.csv:2: latitude_deg 'north' is not a number"),
        ("name,lat\nKyiv,95\n", "sites.csv:2: latitude_deg 95 is out of range"),
        ("name,lat\nKyiv\n", "sites.csv:2: 1 fields, expected 2"),
        ("name\nKyiv\n", "missing latitude_deg"),
        ("name,lat,latitude_deg\nKyiv,1,2\n", "both give latitude_deg"),
        ("", "no header line"),
    ],
)
def test_csv_errors_name_the_line_the_value_and_what_was_expected(text, needle):
    with pytest.raises(InputFileError) as e:
        rows(text)[0].number("latitude_deg", lo=-90, hi=90)
    assert needle in str(e.value)


def test_unknown_columns_are_refused_only_when_asked():
    assert rows("name,lat,colour\nKyiv,50,red\n")[0].text("name") == "Kyiv"
    with pytest.raises(InputFileError, match="unknown column 'colour'"):
        rows("name,lat,colour\nKyiv,50,red\n", only_known=True)


def test_read_text_refuses_what_is_not_a_text_file(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        read_text(tmp_path / "missing.csv", expected="a CSV")
    with pytest.raises(InputFileError, match="it is a directory"):
        read_text(tmp_path, expected="a CSV")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputFileError, match="it is empty"):
        read_text(tmp_path / "empty.csv", expected="a CSV")
    (tmp_path / "bin.csv").write_bytes(b"name\x00lat")
    with pytest.raises(InputFileError, match="NUL byte at offset 4"):
        read_text(tmp_path / "bin.csv", expected="a CSV")
    (tmp_path / "big.csv").write_text("x" * 2000)
    with pytest.raises(InputFileError, match="more than"):
        read_text(tmp_path / "big.csv", expected="a CSV", max_bytes=1000)


def test_gzip_text_is_read_and_a_bomb_is_stopped(tmp_path):
    p = tmp_path / "sites.csv.gz"
    p.write_bytes(gzip.compress(b"name,lat\nKyiv,50\n"))
    assert read_text(p, expected="a CSV", gzip_ok=True).startswith("name,lat")
    with pytest.raises(InputFileError, match="not UTF-8"):  # gzip where it is not asked for
        read_text(p, expected="a CSV")
    p.write_bytes(gzip.compress(b"0" * 100_000))  # 100 kB from ~150 bytes
    with pytest.raises(InputFileError, match="decompresses to more than"):
        read_text(p, expected="a CSV", gzip_ok=True, max_bytes=10_000)
    p.write_bytes(b"\x1f\x8b" + b"not gzip at all")
    with pytest.raises(InputFileError, match="corrupt"):
        read_text(p, expected="a CSV", gzip_ok=True)


def test_toml_errors_name_the_file_and_line():
    with pytest.raises(LeosimError) as e:
        read_toml("a = 1\nb = = 2\n", "scenario.toml", expected="a scenario")
    assert "scenario.toml" in str(e.value) and "line 2" in str(e.value)


def test_json_is_strict_nan_and_infinity_become_null():
    value = {"a": float("nan"), "b": [np.float64(np.inf), 1.5], "c": np.int64(3), "d": "x"}
    text = dumps(value)
    parsed = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))
    assert parsed == {"a": None, "b": [None, 1.5], "c": 3, "d": "x"}
    assert strict((math.nan,)) == [None]


def test_write_table_keeps_the_column_order_it_is_given(tmp_path):
    path = write_table(tmp_path, "t", [{"b": 2, "a": 1, "c": None}], ["a", "b", "c"])
    assert path.read_text().splitlines() == ["a,b,c", "1,2,"]  # None is an empty field


# ------------------------------------------ issue 13: the reproducers, kept as regressions
BIG_FIELD = "x" * (128 * 1024 + 1)  # one more than the csv module's field limit
HUGE_INT = "9" * 4301  # one more digit than int() converts


def _write(tmp_path, name: str, text: str):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _sites(path):
    from leosim.ground.sites import GroundSegment

    return GroundSegment.from_file(path)


def _policy(path):
    from leosim.scenario.resolve import load_policy

    return load_policy(path)


def _jammers(path):
    from leosim.scenario.resolve import load_jammers

    return load_jammers(path)


def _sensors(path):
    from leosim.scenario.resolve import load_sensors

    return load_sensors(path, (35.7, 51.4))


@pytest.mark.parametrize(
    "name, text, read, error",
    [
        ("sites.csv", f"name,latitude_deg,longitude_deg\n{BIG_FIELD},1,2\n", _sites, "GroundSegmentError"),
        ("policy.csv", f"country,served\n{BIG_FIELD},yes\n", _policy, "PolicyError"),
        ("jammers.csv", f"name,latitude_deg,longitude_deg,eirp_dbw\n{BIG_FIELD},1,2,3\n", _jammers, "JammerError"),
        ("sensors.csv", f"name,latitude_deg,longitude_deg\nmast,1,\"{BIG_FIELD}\"\n", _sensors, "SensorError"),
    ],
)
def test_a_csv_field_over_128_kib_is_the_readers_error_at_its_line(tmp_path, name, text, read, error):
    path = _write(tmp_path, name, text)
    with pytest.raises(LeosimError) as e:
        read(path)
    assert type(e.value).__name__ == error
    assert f"{path}:2: not valid CSV (field larger than field limit" in str(e.value)


@pytest.mark.parametrize(
    "name, text, read, needle",
    [
        ("ground_stations.txt", f"{HUGE_INT},Tokyo,35.6895,139.69171,0\n", _sites, ":1: station id '999"),
        ("ground_stations.txt", f"0,Tokyo,35.6895,139.69171,{HUGE_INT}\n", _sites, ":1: elevation_m '999"),
        ("policy.toml", f"roaming_limit_days = {HUGE_INT}\n", _policy, "not valid TOML: Exceeds the limit (4300 digits)"),
        ("jammers.toml", f'[[jammer]]\nname = "a"\nlatitude_deg = 1\nlongitude_deg = 2\neirp_dbw = {HUGE_INT}\n', _jammers,
         "not valid TOML"),
        ("sensors.toml", f'[[sensor]]\nname = "a"\nlatitude_deg = {HUGE_INT}\nlongitude_deg = 2\n', _sensors,
         "not valid TOML"),
        ("sensors.csv", f"name,latitude_deg,longitude_deg\nmast,{HUGE_INT},2\n", _sensors, ":2: latitude_deg '999"),
    ],
)
def test_an_integer_of_4301_digits_is_the_readers_error(tmp_path, name, text, read, needle):
    path = _write(tmp_path, name, text)
    with pytest.raises(LeosimError) as e:
        read(path)
    assert needle in str(e.value)
    assert len(str(e.value)) < 1000  # the value is cut, not echoed whole


@pytest.mark.parametrize(
    "line, needle",
    [
        (f"{HUGE_INT} 1", "is not an ISL; expected two satellite indices 'A B'"),
        ("0 ²", "'0 ²' is not an ISL"),  # str.isdigit() is true of '²', int() is not
        ("0 ١", "'0 ١' is not an ISL"),  # an Arabic-Indic digit: int() would take it
        ("0 1 2", "is not an ISL"),
        ("0 100", "satellite index 100 is out of range; expected 0 to 99"),
        ("7 7", "links a satellite to itself"),
    ],
)
def test_isl_file_lines_that_are_not_two_indices(tmp_path, line, needle):
    from leosim.errors import ElementSetError
    from leosim.formats.isl import read_isl_file

    path = _write(tmp_path, "isls.txt", f"0 1\n{line}\n")
    with pytest.raises(ElementSetError) as e:
        read_isl_file(path, 100)
    assert f"{path}:2: " in str(e.value) and needle in str(e.value)


def test_isl_file_round_trip(tmp_path):
    from leosim.formats.isl import read_isl_file

    path = _write(tmp_path, "isls.txt", "# links\n3 1\n1 2\n\n1 3\n")
    assert read_isl_file(path, 4).tolist() == [[1, 2], [1, 3]]


@pytest.mark.parametrize("depth", [1000, 100_000])
@pytest.mark.parametrize("read, name", [(_policy, "policy.toml"), (_jammers, "jammers.toml"), (_sensors, "sensors.toml")])
def test_toml_nested_1000_deep_is_an_error_not_a_recursion_error(tmp_path, read, name, depth):
    path = _write(tmp_path, name, "a = " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(LeosimError, match="nested too deeply"):
        read(path)


@pytest.mark.parametrize(
    "text, needle",
    [
        ("name,latitude_deg,longitude_deg,altitude_m\nA,1,2,1e308\n", ":2: altitude_m 1e308 is out of range; expected -500 to 20000"),
        ("name,latitude_deg,longitude_deg,altitude_m\nA,1,2,-27000000\n", ":2: altitude_m -27000000 is out of range"),
        ("name,latitude_deg,longitude_deg,altitude_m\nA,1,2,20001\n", ":2: altitude_m 20001 is out of range"),
        ("name,latitude_deg,longitude_deg,altitude_m\nA,1,2,nan\n", ":2: altitude_m 'nan' is not a number"),
        ("name,latitude_deg,longitude_deg,altitude_m\nA,1,2,1_000\n", ":2: altitude_m '1_000' is not a number"),
        ("0,Tokyo,35.6895,139.69171,1e308\n", ":1: elevation_m 1e308 is out of range"),
        ("0,Tokyo,35.6895,139.69171,-27000000\n", ":1: elevation_m -27000000 is out of range"),
        ("0,Tokyo,35.6895,139.69171,inf\n", ":1: elevation_m 'inf' is not a number"),
    ],
)
def test_ground_altitudes_outside_the_dead_sea_to_20_km_are_refused(tmp_path, text, needle):
    from leosim.errors import GroundSegmentError

    path = _write(tmp_path, "ground_stations.txt" if text[0].isdigit() else "sites.csv", text)
    with pytest.raises(GroundSegmentError) as e:
        _sites(path)
    assert needle in str(e.value)


def test_ground_altitudes_at_the_ends_of_the_range_are_kept(tmp_path):
    path = _write(tmp_path, "sites.csv", "name,latitude_deg,longitude_deg,altitude_m\nDead Sea,31.5,35.5,-500\nHigh,0,0,20000\n")
    assert list(_sites(path).altitude_m) == [-500.0, 20000.0]


def test_row_numbers_are_ascii_decimals_only():
    for raw in ("inf", "nan", "1_000", "١٢", "１２", "0x1F", "1e", "--1", "9" * 101):
        with pytest.raises(InputFileError, match="is not a number"):
            rows(f"name,lat\nKyiv,{raw}\n")[0].number("latitude_deg")
    assert rows("name,lat\nKyiv,-.5e1\n")[0].number("latitude_deg") == -5.0


def test_shown_cuts_long_values_and_path_exists_never_raises():
    from leosim.formats.text import path_exists, shown

    assert shown("abc") == "'abc'"
    assert shown("x" * 1000, 20).endswith("... (1,000 characters)")
    assert "written out" in shown(10**200, 20)
    assert path_exists("x" * 10_000) is False  # ENAMETOOLONG
    assert path_exists("a\x00b") is False  # NUL: ValueError


def test_line_based_files_split_lines_only_where_open_does(tmp_path):
    from leosim.formats.isl import parse_isl_text
    from leosim.formats.sites import parse_hypatia_sites

    got = parse_hypatia_sites("0,Gare\u2028du Nord,48.88,2.35,35\r\n1,A\x85B,1,2,3\r2,C,1,2,3\n", "ground_stations.txt")
    assert [r.name for r in got] == ["Gare\u2028du Nord", "A\x85B", "C"]
    with pytest.raises(LeosimError, match=r"isls.txt:3: "):  # \r\n and \r count one line each, as an editor does
        parse_isl_text("0 1\r\n1 2\rx y\n", "isls.txt", 10)


@pytest.mark.parametrize(
    "time, needle",
    [
        ("١٧١٧٠٠٠٠٠٠", "is not a time"),  # Arabic-Indic digits: float() reads them, a trace never has them
        ("9" * 5000, "is not a time"),  # float() makes it inf
        ("0001-01-01T00:00:00+05:00", "is outside 1970-01-01 to 2100-01-01"),
        ("9999-01-01T00:00:00+00:00", "is outside 1970-01-01 to 2100-01-01"),
        ("-5", "is outside 1970-01-01 to 2100-01-01"),
        ("2024-05-29T12:01:02", "has no UTC offset"),
    ],
)
def test_ping_trace_times_are_plausible_instants(tmp_path, time, needle):
    from leosim.formats.measurements import read_ping_trace

    f = tmp_path / "ping.csv"
    f.write_text(f"time,rtt_ms,operator\n1717000000,40,starlink\n{time},44.2,starlink\n")
    with pytest.raises(InputFileError) as exc:
        read_ping_trace(f)
    assert f"{f}:3: time " in str(exc.value) and needle in str(exc.value) and len(str(exc.value)) < 400
    f.write_text("time,rtt_ms,operator\n2024-05-29T12:01:02.229775-04:00,44.2,starlink\n1717000000.5,50,Starlink\n")
    assert read_ping_trace(f).time_s.tolist() == [1716998462.229775, 1717000000.5]  # sorted
