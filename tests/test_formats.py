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
