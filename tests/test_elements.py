"""Tests of the element-set readers (TLE, OMM JSON/CSV, Hypatia tles.txt).

Real files come from the workspace's shared data folder (provenance in its README):
CelesTrak's supplemental Starlink TLEs, a CelesTrak OMM JSON snapshot and Vallado's
SGP4-VER.TLE. Error messages are compared word for word, because they are part of
the interface: the CLI prints them as they are.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sgp4
from hypothesis import event, given, settings
from hypothesis import strategies as st

from leosim.errors import ElementSetError
from leosim.formats.elements import (
    TLE_LINE1_LAYOUT,
    TLE_LINE2_LAYOUT,
    ElementRecord,
    parse_tle_text,
    read_element_file,
    read_hypatia_tles,
    read_omm_csv,
    read_omm_json,
    read_tle_file,
    tle_checksum,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SUPGP_TLE = DATA / "tle" / "starlink_supgp_20260513.tle"
OMM_JSON = DATA / "tle" / "starlink_omm_20250524.json"
# python-sgp4 ships Vallado's verification TLEs inside the package
VALLADO_TLE = Path(sgp4.__file__).resolve().parent / "SGP4-VER.TLE"

needs_data = pytest.mark.skipif(
    not DATA.is_dir(),
    reason=f"real data folder {DATA} is missing (it sits beside the repository)",
)

# First record of the supplemental Starlink file (classification 'C').
STARLINK_1008 = (
    "STARLINK-1008",
    "1 44714C 19074B   26132.95048611 -.00027894  00000+0 -54858-3 0  1322",
    "2 44714  53.1534 236.8965 0001912  20.7505  90.9471 15.46691953    14",
)
# Vallado's deep-space SL-6 R/B case: non-zero first and second derivatives.
SL6_RB = (
    "1 16925U 86065D   06151.67415771  .02550794 -30915-6  18784-3 0  4486",
    "2 16925  62.0906 295.0239 5596327 245.1593  47.9690  4.88511875148616",
)
L1, L2 = STARLINK_1008[1], STARLINK_1008[2]

SATREC_FIELDS = (
    "satnum",
    "epochyr",
    "epochdays",
    "ndot",
    "nddot",
    "bstar",
    "inclo",
    "nodeo",
    "ecco",
    "argpo",
    "mo",
    "no_kozai",
)


def reference_checksum(line: str) -> int:
    """The checksum as the TLE documentation words it, one character at a time."""
    total = 0
    for character in line[:68]:
        if character in "0123456789":
            total += int(character)
        elif character == "-":
            total += 1
    return total % 10


def with_checksum(line68: str) -> str:
    """Append the right checksum digit to the first 68 columns of a TLE line."""
    assert len(line68) == 68, line68
    return line68 + str(reference_checksum(line68))


def resum(line: str) -> str:
    """Return a 69-column line with its checksum recomputed (after an edit)."""
    return with_checksum(line[:68])


def within_ulps(a: float, b: float, ulps: int = 2) -> bool:
    """Return whether two floats differ by at most a few units in the last place."""
    return abs(a - b) <= ulps * math.ulp(max(abs(a), abs(b)))


def satrec_values(record: ElementRecord) -> dict[str, float]:
    """Return the fields of a record's Satrec that come from the element set."""
    return {name: getattr(record.satrec, name) for name in SATREC_FIELDS}


def raises_message(call, *args, **kwargs) -> str:
    """Call ``call`` expecting ElementSetError; return its message."""
    with pytest.raises(ElementSetError) as info:
        call(*args, **kwargs)
    return str(info.value)


def omm_from_tle(name: str, line1: str, line2: str) -> dict[str, object]:
    """Write the OMM record of a TLE, field by field, as CelesTrak would."""
    two_digit_year = int(line1[18:20])
    year = 2000 + two_digit_year if two_digit_year < 57 else 1900 + two_digit_year
    epoch = datetime(year, 1, 1) + timedelta(days=float(line1[20:32]) - 1)
    launch_yy = int(line1[9:11])
    launch_year = 1900 + launch_yy if launch_yy >= 57 else 2000 + launch_yy
    return {
        "OBJECT_NAME": name,
        "OBJECT_ID": f"{launch_year}-{line1[11:17].strip()}",
        "EPOCH": epoch.isoformat(timespec="microseconds"),
        "MEAN_MOTION": float(line2[52:63]),
        "ECCENTRICITY": float("0." + line2[26:33]),
        "INCLINATION": float(line2[8:16]),
        "RA_OF_ASC_NODE": float(line2[17:25]),
        "ARG_OF_PERICENTER": float(line2[34:42]),
        "MEAN_ANOMALY": float(line2[43:51]),
        "EPHEMERIS_TYPE": 0,
        "CLASSIFICATION_TYPE": line1[7],
        "NORAD_CAT_ID": int(line1[2:7]),
        "ELEMENT_SET_NO": int(line1[64:68]),
        "REV_AT_EPOCH": int(line2[63:68]),
        "BSTAR": float(f"{line1[53]}.{line1[54:59]}e{line1[59:61]}"),
        "MEAN_MOTION_DOT": float(line1[33:43]),
        "MEAN_MOTION_DDOT": float(f"{line1[44]}.{line1[45:50]}e{line1[50:52]}"),
    }


# ---------------------------------------------------------------------------------
# Checksum


def test_checksum_of_real_lines_matches_their_last_digit():
    assert tle_checksum(L1) == 2 == int(L1[68])
    assert tle_checksum(L2) == 4 == int(L2[68])


def test_checksum_ignores_column_69_and_beyond():
    assert tle_checksum(L1[:68]) == tle_checksum(L1) == tle_checksum(L1 + "99999")


@given(st.text(max_size=120))
def test_checksum_matches_the_reference_formula_on_any_text(text):
    assert tle_checksum(text) == reference_checksum(text)


@given(st.text(alphabet="0123456789- +.ABCUZ", max_size=80))
def test_checksum_matches_the_reference_formula_on_tle_like_text(text):
    assert tle_checksum(text) == reference_checksum(text)


# ---------------------------------------------------------------------------------
# Real files


@needs_data
def test_supplemental_starlink_file_parses_every_record():
    records = read_tle_file(SUPGP_TLE)
    assert len(records) == 10_361
    first = records[0]
    assert first.name == "STARLINK-1008"
    assert first.norad_id == 44714
    assert first.source == f"{SUPGP_TLE}:1"
    assert first.satrec.inclo == pytest.approx(math.radians(53.1534), rel=1e-15)
    assert first.satrec.classification == "C"
    assert records[1].source == f"{SUPGP_TLE}:4"
    # Every record has a distinct catalogue number and a 3-line name.
    assert len({record.norad_id for record in records}) == len(records)
    assert all(record.name.startswith("STARLINK-") for record in records)
    assert all(record.satrec.error == 0 for record in records)


@needs_data
def test_supplemental_starlink_file_parses_in_well_under_two_seconds():
    start_s = time.perf_counter()
    read_tle_file(SUPGP_TLE)
    elapsed_s = time.perf_counter() - start_s
    # About 0.2 s on a 2024 laptop core; 2 s is the budget leosim promises.
    assert elapsed_s < 2.0


@needs_data
def test_celestrak_omm_json_file_parses_every_record():
    records = read_omm_json(OMM_JSON)
    assert len(records) == 7_483
    first = records[0]
    assert first.name == "STARLINK-1008"
    assert first.norad_id == 44714
    assert first.source == f"{OMM_JSON}[0]"
    assert first.satrec.inclo == pytest.approx(math.radians(53.0568), rel=1e-15)
    assert first.satrec.ecco == 0.0001348
    # 15.06416369 rev/day in rad/min.
    assert first.satrec.no_kozai == pytest.approx(15.06416369 * 2 * math.pi / 1440, rel=1e-15)
    assert len({record.norad_id for record in records}) == len(records)


@needs_data
def test_read_element_file_detects_the_real_formats():
    tle_records, tle_shape = read_element_file(SUPGP_TLE)
    omm_records, omm_shape = read_element_file(OMM_JSON)
    assert (len(tle_records), tle_shape) == (10_361, None)
    assert (len(omm_records), omm_shape) == (7_483, None)


def test_vallado_verification_file_gives_every_test_satellite():
    text = VALLADO_TLE.read_text()
    expected = sum(1 for line in text.splitlines() if line.startswith("1 "))
    assert expected == 33
    records = read_tle_file(VALLADO_TLE, allow_trailing=True, verify_checksum=False)
    assert len(records) == expected
    assert [r.norad_id for r in records[:3]] == [5, 4632, 6251]
    # Names are in '#' comments there, so every record is an unnamed 2-line TLE.
    assert {record.name for record in records} == {""}
    # SL-12 R/B (20413) is in the file twice, with two different time spans.
    assert [r.norad_id for r in records].count(20413) == 2


def test_vallado_error_code_cases_carry_wrong_checksums():
    # Vallado edited the 3333x cases ("check error code 4") without fixing checksums.
    message = raises_message(read_tle_file, VALLADO_TLE, allow_trailing=True)
    assert message == (
        f"{VALLADO_TLE}:100: TLE line 1 checksum is 2 but the line's last digit"
        " says 4 (the checksum adds the digits of columns 1-68, each '-' counting 1,"
        " modulo 10)\n"
        f"layout: {TLE_LINE1_LAYOUT}\n"
        "found:  1 33333U 05037B   05333.02012661  .25992681  00000-0  24476-3 0  1534\n"
        "        " + " " * 68 + "^"
    )


# ---------------------------------------------------------------------------------
# TLE text layouts


def test_two_line_tles_get_empty_names():
    records = parse_tle_text(f"{L1}\n{L2}\n{SL6_RB[0]}\n{SL6_RB[1]}\n", "x.tle")
    assert [(r.name, r.norad_id, r.source) for r in records] == [
        ("", 44714, "x.tle:1"),
        ("", 16925, "x.tle:3"),
    ]


def test_celestrak_3le_names_lose_their_zero_prefix():
    records = parse_tle_text(f"0 STARLINK-1008\n{L1}\n{L2}\n")
    assert records[0].name == "STARLINK-1008"


def test_comments_blank_lines_crlf_and_trailing_spaces_are_ignored():
    text = f"# Starlink, one satellite\r\n\r\nSTARLINK-1008           \r\n{L1}   \r\n   \r\n{L2}\t\r\n"
    records = parse_tle_text(text, "s.tle")
    assert [(r.name, r.norad_id, r.source) for r in records] == [("STARLINK-1008", 44714, "s.tle:3")]


def test_two_and_three_line_records_may_mix():
    text = f"{L1}\n{L2}\nSL-6 R/B(2)\n{SL6_RB[0]}\n{SL6_RB[1]}\n"
    assert [r.name for r in parse_tle_text(text)] == ["", "SL-6 R/B(2)"]


def test_empty_text_gives_no_records():
    assert parse_tle_text("") == []
    assert parse_tle_text("\n# nothing here\n\n") == []


def test_alpha5_catalogue_numbers_decode():
    line1 = resum(L1.replace("44714", "A0000"))
    line2 = resum(L2.replace("44714", "A0000"))
    assert parse_tle_text(f"{line1}\n{line2}")[0].norad_id == 100_000
    line1 = resum(L1.replace("44714", "Z9999"))
    line2 = resum(L2.replace("44714", "Z9999"))
    assert parse_tle_text(f"{line1}\n{line2}")[0].norad_id == 339_999


def test_gzip_compressed_tle_file_reads_like_the_plain_one(tmp_path):
    text = "\n".join(STARLINK_1008) + "\n"
    plain = tmp_path / "one.tle"
    plain.write_text(text)
    packed = tmp_path / "one.tle.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    (from_plain,) = read_tle_file(plain)
    (from_gzip,) = read_tle_file(packed)
    assert satrec_values(from_plain) == satrec_values(from_gzip)
    assert from_gzip.source == f"{packed}:1"
    assert read_element_file(packed)[0][0].name == "STARLINK-1008"


def test_trailing_text_on_line_2_is_accepted_when_allowed():
    line2 = L2 + "      0.0      1440.0        120.00"
    (record,) = parse_tle_text(f"{L1}\n{line2}", allow_trailing=True)
    (plain,) = parse_tle_text(f"{L1}\n{L2}")
    assert satrec_values(record) == satrec_values(plain)


# ---------------------------------------------------------------------------------
# TLE errors, word for word


def caret_line(first_col: int, last_col: int | None = None) -> str:
    """The caret line under a 'found:' line, pointing at columns first..last."""
    last_col = first_col if last_col is None else last_col
    return "        " + " " * (first_col - 1) + "^" * (last_col - first_col + 1)


def test_wrong_checksum_message():
    bad = L1[:68] + "7"
    message = raises_message(parse_tle_text, f"STARLINK-1008\n{bad}\n{L2}", "s.tle")
    assert message == (
        "s.tle:2: TLE line 1 checksum is 2 but the line's last digit says 7"
        " (the checksum adds the digits of columns 1-68, each '-' counting 1,"
        " modulo 10)\n"
        f"layout: {TLE_LINE1_LAYOUT}\n"
        f"found:  {bad}\n" + caret_line(69)
    )


def test_short_line_message():
    short = L2[:60]
    message = raises_message(parse_tle_text, f"{L1}\n{short}", "s.tle")
    assert message == (
        "s.tle:2: TLE line 2 is 60 characters long but must be 69 (trailing spaces"
        " aside)\n"
        f"layout: {TLE_LINE2_LAYOUT}\n"
        f"found:  {short}\n" + caret_line(61, 69)
    )


def test_long_line_1_message():
    long = L1 + "0"
    message = raises_message(parse_tle_text, f"{long}\n{L2}", "s.tle")
    assert message == (
        "s.tle:1: TLE line 1 is 70 characters long but must be 69 (trailing spaces"
        " aside)\n"
        f"layout: {TLE_LINE1_LAYOUT}\n"
        f"found:  {long}\n" + caret_line(70)
    )


def test_trailing_text_on_line_2_message_says_how_to_allow_it():
    long = L2 + "  0.0"
    message = raises_message(parse_tle_text, f"{L1}\n{long}", "s.tle")
    assert message == (
        "s.tle:2: TLE line 2 is 74 characters long but must be 69 (trailing spaces"
        " aside); pass allow_trailing=True to accept extra text after column 69 of"
        " line 2, as in Vallado's SGP4-VER.TLE\n"
        f"layout: {TLE_LINE2_LAYOUT}\n"
        f"found:  {long}\n" + caret_line(70, 74)
    )


def test_allowed_trailing_text_must_start_with_a_space():
    long = L2 + "0.0"
    message = raises_message(parse_tle_text, f"{L1}\n{long}", "s.tle", allow_trailing=True)
    assert message == (
        "s.tle:2: TLE line 2 has '0' in column 70 but extra text after column 69 must"
        " be separated from it by a space\n"
        f"layout: {TLE_LINE2_LAYOUT}\n"
        f"found:  {long}\n" + caret_line(70)
    )


def test_wrong_line_number_character_message():
    bad = resum("3" + L2[1:])
    message = raises_message(parse_tle_text, f"{L1}\n{bad}", "s.tle")
    assert message == (
        "s.tle:2: TLE line 2 must start with '2' but this line starts with '3'\n"
        f"layout: {TLE_LINE2_LAYOUT}\n"
        f"found:  {bad}\n" + caret_line(1)
    )


def test_misnumbered_line_1_of_a_two_line_tle_is_reported_on_its_own_line():
    bad = resum("7" + L1[1:])
    message = raises_message(parse_tle_text, f"{bad}\n{L2}", "s.tle")
    assert message == (
        "s.tle:1: TLE line 1 must start with '1' but this line starts with '7'\n"
        f"layout: {TLE_LINE1_LAYOUT}\n"
        f"found:  {bad}\n" + caret_line(1)
    )


def test_mismatched_catalogue_numbers_message():
    bad = resum(L2.replace("44714", "44715"))
    message = raises_message(parse_tle_text, f"STARLINK-1008\n{L1}\n{bad}", "s.tle")
    assert message == (
        "s.tle:3: TLE line 2 catalogue number is '44715' but line 1 (s.tle:2) says"
        " '44714'\n"
        f"layout: {TLE_LINE2_LAYOUT}\n"
        f"found:  {bad}\n" + caret_line(3, 7)
    )


def test_letter_in_a_numeric_field_message():
    # With the checksum repaired, only the field check can catch it: sgp4 alone
    # would read ' 5x.1534' as 5 degrees.
    bad = resum(L2.replace(" 53.1534", " 5x.1534"))
    message = raises_message(parse_tle_text, f"{L1}\n{bad}", "s.tle")
    assert message == (
        "s.tle:2: TLE line 2 inclination (columns 9-16) is ' 5x.1534' but expected"
        " NNN.NNNN degrees: up to 3 digits, '.', 4 digits\n"
        f"layout: {TLE_LINE2_LAYOUT}\n"
        f"found:  {bad}\n" + caret_line(9, 16)
    )


def test_letter_in_a_numeric_field_is_caught_before_the_checksum():
    bad = L1.replace("26132.95048611", "26132.9504861l")
    message = raises_message(parse_tle_text, f"{bad}\n{L2}", "s.tle")
    assert message.splitlines()[0] == (
        "s.tle:1: TLE line 1 epoch (columns 19-32) is '26132.9504861l' but expected"
        " YYDDD.DDDDDDDD: 2-digit year, day of year (3 columns), '.', 8 digits"
    )


def test_character_where_the_layout_has_a_space_message():
    bad = resum(L1[:8] + "-" + L1[9:])
    message = raises_message(parse_tle_text, f"{bad}\n{L2}", "s.tle")
    assert message == (
        "s.tle:1: TLE line 1 has '-' in column 9 but the layout has a space there\n"
        f"layout: {TLE_LINE1_LAYOUT}\n"
        f"found:  {bad}\n" + caret_line(9)
    )


def test_unknown_classification_message():
    bad = resum(L1[:7] + "X" + L1[8:])
    message = raises_message(parse_tle_text, f"{bad}\n{L2}", "s.tle")
    assert message.splitlines()[0] == (
        "s.tle:1: TLE line 1 classification (column 8) is 'X' but expected 'U', 'C', 'S' or a space"
    )


def test_epoch_day_out_of_range_message():
    bad = resum(L1.replace("26132.", "26400."))
    message = raises_message(parse_tle_text, f"{bad}\n{L2}", "s.tle")
    assert message == (
        "s.tle:1: TLE line 1 epoch day of year (columns 21-32) is '400.95048611' but"
        " expected 1 to 366.99999999\n"
        f"layout: {TLE_LINE1_LAYOUT}\n"
        f"found:  {bad}\n" + caret_line(21, 32)
    )


def test_missing_second_line_at_end_of_file_message():
    message = raises_message(parse_tle_text, f"{L1}\n{L2}\nSTARLINK-1008\n{L1}\n\n", "s.tle")
    assert message == ("s.tle:4: file ends after TLE line 1; expected line 2 of the same TLE to follow it")


def test_name_line_at_end_of_file_message():
    message = raises_message(parse_tle_text, f"{L1}\n{L2}\nSTARLINK-1012\n", "s.tle")
    assert message == (
        "s.tle:3: file ends after the name line 'STARLINK-1012'; expected TLE line 1 and line 2 to follow it"
    )


def test_checksum_can_be_skipped():
    bad = L1[:68] + "7"
    (record,) = parse_tle_text(f"{bad}\n{L2}", verify_checksum=False)
    assert record.norad_id == 44714


# ---------------------------------------------------------------------------------
# Unreadable files

EXPECTED = "; expected TLE, OMM JSON or CSV, or Hypatia tles.txt, optionally gzip-compressed"


def test_missing_file_message(tmp_path):
    path = tmp_path / "absent.tle"
    message = raises_message(read_tle_file, path)
    assert message == f"cannot read element file '{path}': no such file" + EXPECTED


def test_directory_message(tmp_path):
    message = raises_message(read_element_file, tmp_path)
    assert message == f"cannot read element file '{tmp_path}': it is a directory" + EXPECTED


def test_binary_file_message(tmp_path):
    path = tmp_path / "picture.tle"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    message = raises_message(read_tle_file, path)
    assert message == (
        f"cannot read element file '{path}': it is not text (byte 0x89 at offset 0 is"
        " not UTF-8); expected TLE, OMM JSON or CSV, or Hypatia tles.txt, optionally"
        " gzip-compressed"
    )


def test_nul_bytes_message(tmp_path):
    path = tmp_path / "zeros.tle"
    path.write_bytes(b"STARLINK\x00\x00")
    message = raises_message(read_omm_json, path)
    assert message == (
        f"cannot read element file '{path}': it is not text (NUL byte at offset 8);"
        " expected TLE, OMM JSON or CSV, or Hypatia tles.txt, optionally"
        " gzip-compressed"
    )


def test_corrupt_gzip_names_the_path(tmp_path):
    path = tmp_path / "broken.tle.gz"
    path.write_bytes(gzip.compress(b"STARLINK-1008\n" * 50)[:30])
    message = raises_message(read_tle_file, path)
    assert message.startswith(f"cannot read element file '{path}': its gzip data is corrupt (")


# ---------------------------------------------------------------------------------
# OMM


@pytest.mark.parametrize(("name", "line1", "line2"), [STARLINK_1008, ("SL-6 R/B(2)", *SL6_RB)])
def test_omm_and_tle_of_the_same_elements_give_the_same_satrec(tmp_path, name, line1, line2):
    path = tmp_path / "one.json"
    path.write_text(json.dumps([omm_from_tle(name, line1, line2)]))
    (from_omm,) = read_omm_json(path)
    (from_tle,) = parse_tle_text(f"{name}\n{line1}\n{line2}")
    assert (from_omm.name, from_omm.norad_id) == (from_tle.name, from_tle.norad_id)
    omm_values, tle_values = satrec_values(from_omm), satrec_values(from_tle)
    del omm_values["epochdays"], tle_values["epochdays"]  # compared below, in seconds
    # sgp4 builds BSTAR as mantissa * 10**exponent from a TLE, a correctly rounded
    # float from OMM: they may differ in the last bit, so compare to 2 ulps.
    for field, tle_value in tle_values.items():
        assert within_ulps(omm_values[field], tle_value), field
    # OMM epochs are ISO text to the microsecond and sgp4 turns them into float
    # days since 1949 (resolution ~0.3 us), so the epochs agree to 1 us, not to ulps.
    epoch_difference_days = (from_omm.satrec.jdsatepoch - from_tle.satrec.jdsatepoch) + (
        from_omm.satrec.jdsatepochF - from_tle.satrec.jdsatepochF
    )
    assert abs(epoch_difference_days) * 86_400 < 1e-6


OMM_SAMPLE = [
    {
        "OBJECT_NAME": "STARLINK-1008",
        "OBJECT_ID": "2019-074B",
        "EPOCH": "2025-05-24T18:20:22.669728",
        "MEAN_MOTION": 15.06416369,
        "ECCENTRICITY": 0.0001348,
        "INCLINATION": 53.0568,
        "RA_OF_ASC_NODE": 43.6519,
        "ARG_OF_PERICENTER": 91.4802,
        "MEAN_ANOMALY": 268.6341,
        "EPHEMERIS_TYPE": 0,
        "CLASSIFICATION_TYPE": "U",
        "NORAD_CAT_ID": 44714,
        "ELEMENT_SET_NO": 999,
        "REV_AT_EPOCH": 30537,
        "BSTAR": 0.00020262,
        "MEAN_MOTION_DOT": 2.739e-05,
        "MEAN_MOTION_DDOT": 0,
    },
    {
        "OBJECT_NAME": "STARLINK-1010",
        "OBJECT_ID": "2019-074D",
        "EPOCH": "2025-05-24T14:00:01.999872",
        "MEAN_MOTION": 15.45950575,
        "ECCENTRICITY": 0.0002487,
        "INCLINATION": 53.0576,
        "RA_OF_ASC_NODE": 39.5232,
        "ARG_OF_PERICENTER": 141.492,
        "MEAN_ANOMALY": 287.1198,
        "EPHEMERIS_TYPE": 0,
        "CLASSIFICATION_TYPE": "U",
        "NORAD_CAT_ID": 44716,
        "ELEMENT_SET_NO": 999,
        "REV_AT_EPOCH": 574,
        "BSTAR": 0.0011904,
        "MEAN_MOTION_DOT": 0.00058933,
        "MEAN_MOTION_DDOT": 0,
    },
]


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_omm_csv_reads_back_what_the_json_holds(tmp_path):
    from_json = read_omm_json(write_json(tmp_path / "s.json", OMM_SAMPLE))
    csv_path = write_csv(tmp_path / "s.csv", OMM_SAMPLE)
    from_csv = read_omm_csv(csv_path)
    assert [(r.name, r.norad_id, r.source) for r in from_csv] == [
        ("STARLINK-1008", 44714, f"{csv_path}:2"),
        ("STARLINK-1010", 44716, f"{csv_path}:3"),
    ]
    assert [satrec_values(r) for r in from_csv] == [satrec_values(r) for r in from_json]
    records, shape = read_element_file(csv_path)
    assert (len(records), shape) == (2, None)


def test_omm_strings_and_optional_fields_are_accepted(tmp_path):
    # Space-Track writes every value as a string; only the elements are required.
    record = {key: str(value) for key, value in OMM_SAMPLE[0].items()}
    for optional in ("OBJECT_NAME", "OBJECT_ID", "EPHEMERIS_TYPE", "REV_AT_EPOCH"):
        del record[optional]
    (parsed,) = read_omm_json(write_json(tmp_path / "s.json", [record]))
    (full,) = read_omm_json(write_json(tmp_path / "f.json", OMM_SAMPLE[:1]))
    assert parsed.name == ""
    assert satrec_values(parsed) == satrec_values(full)


def test_omm_alpha5_and_large_catalogue_numbers(tmp_path):
    alpha5 = dict(OMM_SAMPLE[0], NORAD_CAT_ID="A0000")
    large = dict(OMM_SAMPLE[0], NORAD_CAT_ID=412_345)
    first, second = read_omm_json(write_json(tmp_path / "s.json", [alpha5, large]))
    assert (first.norad_id, first.satrec.satnum) == (100_000, 100_000)
    # sgp4 cannot hold catalogue numbers past alpha-5 'Z9999'; the record keeps it.
    assert (second.norad_id, second.satrec.satnum) == (412_345, 0)


def test_omm_epoch_with_time_zone_is_converted_to_utc(tmp_path):
    shifted = dict(OMM_SAMPLE[0], EPOCH="2025-05-24T20:20:22.669728+02:00")
    (parsed,) = read_omm_json(write_json(tmp_path / "s.json", [shifted]))
    (plain,) = read_omm_json(write_json(tmp_path / "p.json", OMM_SAMPLE[:1]))
    assert satrec_values(parsed) == satrec_values(plain)


def test_omm_missing_fields_message(tmp_path):
    record = dict(OMM_SAMPLE[1])
    del record["BSTAR"], record["EPOCH"]
    path = write_json(tmp_path / "s.json", [OMM_SAMPLE[0], record])
    message = raises_message(read_omm_json, path)
    assert message == (
        f"{path}[1]: OMM record lacks fields EPOCH, BSTAR; expected all of"
        " NORAD_CAT_ID, EPOCH, MEAN_MOTION, ECCENTRICITY, INCLINATION, RA_OF_ASC_NODE,"
        " ARG_OF_PERICENTER, MEAN_ANOMALY, BSTAR, MEAN_MOTION_DOT, MEAN_MOTION_DDOT"
    )


def test_omm_json_that_is_not_a_list_message(tmp_path):
    path = write_json(tmp_path / "s.json", OMM_SAMPLE[0])
    message = raises_message(read_omm_json, path)
    assert message == (
        f"{path}: the file holds a JSON object but expected a JSON list of OMM records (CelesTrak FORMAT=json)"
    )


def test_omm_json_record_that_is_not_an_object_message(tmp_path):
    path = write_json(tmp_path / "s.json", [OMM_SAMPLE[0], "STARLINK-1010"])
    message = raises_message(read_omm_json, path)
    assert message == (
        f"{path}[1]: OMM record is a string but expected a JSON object of OMM fields"
        " (OBJECT_NAME, NORAD_CAT_ID, EPOCH, MEAN_MOTION, ...)"
    )


def test_invalid_json_message(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('[\n  {"OBJECT_NAME": "STARLINK-1008",}\n]')
    message = raises_message(read_element_file, path)
    assert message == (
        f"{path}:2: not valid JSON (Expecting property name enclosed in double quotes"
        " at column 35); expected a JSON list of OMM records (CelesTrak FORMAT=json)"
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("MEAN_MOTION", "fifteen", "a number (revolutions per day)"),
        ("INCLINATION", None, "a number (degrees)"),
        ("BSTAR", True, "a number (per Earth radius)"),
        ("ECCENTRICITY", "nan", "a number (dimensionless, 0 <= e < 1)"),
        (
            "NORAD_CAT_ID",
            "44714X",
            "a catalogue number (a non-negative integer, or alpha-5 such as 'A0000')",
        ),
        ("ELEMENT_SET_NO", 9.5, "an integer"),
    ],
)
def test_omm_bad_value_message(tmp_path, key, value, expected):
    path = write_json(tmp_path / "s.json", [dict(OMM_SAMPLE[0], **{key: value})])
    message = raises_message(read_omm_json, path)
    assert message == f"{path}[0]: OMM field {key} is {value!r} but expected {expected}"


def test_omm_bad_epoch_message(tmp_path):
    path = write_json(tmp_path / "s.json", [dict(OMM_SAMPLE[0], EPOCH="25144.7641")])
    message = raises_message(read_omm_json, path)
    assert message == (
        f"{path}[0]: OMM field EPOCH is '25144.7641' but expected an ISO 8601 UTC time"
        " such as '2025-05-24T18:20:22.669728'"
    )


def test_omm_csv_bad_value_names_the_line(tmp_path):
    rows = [OMM_SAMPLE[0], dict(OMM_SAMPLE[1], MEAN_ANOMALY="")]
    path = write_csv(tmp_path / "s.csv", rows)
    message = raises_message(read_omm_csv, path)
    assert message == (f"{path}:3: OMM field MEAN_ANOMALY is '' but expected a number (degrees)")


def test_omm_csv_short_row_message(tmp_path):
    path = write_csv(tmp_path / "s.csv", OMM_SAMPLE)
    with path.open("a") as file:
        file.write("STARLINK-1011,2019-074E\n")
    message = raises_message(read_omm_csv, path)
    assert message == f"{path}:4: CSV row has 2 values but the header has 17 columns"


def test_omm_csv_missing_header_columns_message(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("OBJECT_NAME,NORAD_CAT_ID,EPOCH\nSTARLINK-1008,44714,2025-05-24\n")
    message = raises_message(read_omm_csv, path)
    assert message == (
        f"{path}:1: CSV header lacks columns MEAN_MOTION, ECCENTRICITY, INCLINATION,"
        " RA_OF_ASC_NODE, ARG_OF_PERICENTER, MEAN_ANOMALY, BSTAR, MEAN_MOTION_DOT,"
        " MEAN_MOTION_DDOT; expected all of NORAD_CAT_ID, EPOCH, MEAN_MOTION,"
        " ECCENTRICITY, INCLINATION, RA_OF_ASC_NODE, ARG_OF_PERICENTER, MEAN_ANOMALY,"
        " BSTAR, MEAN_MOTION_DOT, MEAN_MOTION_DDOT (CelesTrak FORMAT=csv), got"
        " OBJECT_NAME, NORAD_CAT_ID, EPOCH"
    )


# ---------------------------------------------------------------------------------
# Hypatia tles.txt


def hypatia_tle(sat_id: int, raan_deg: float, mean_anomaly_deg: float) -> list[str]:
    """Write one satellite as Hypatia's generate_tles_from_scratch_manual does."""
    number = sat_id + 1
    line1 = f"1 {number:05d}U 00000ABC 00001.00000000  .00000000  00000-0  00000+0 0    0"
    line2 = (
        f"2 {number:05d} {f'{53.0:3.4f}':>8} {f'{raan_deg:3.4f}':>8}"
        f" {f'{0.0000001:0.7f}'[2:]} {f'{0.0:3.4f}':>8} {f'{mean_anomaly_deg:3.4f}':>8}"
        f" {f'{15.19:2.8f}':>11}    0"
    )
    return [f"Starlink-550 {sat_id}", with_checksum(line1), with_checksum(line2)]


def write_hypatia(path: Path, n_orbits: int, n_sats_per_orbit: int, header: str = "") -> Path:
    lines = [header or f"{n_orbits} {n_sats_per_orbit}"]
    for orbit in range(n_orbits):
        for index in range(n_sats_per_orbit):
            lines += hypatia_tle(
                orbit * n_sats_per_orbit + index,
                orbit * 360.0 / n_orbits,
                index * 360.0 / n_sats_per_orbit,
            )
    path.write_text("\n".join(lines) + "\n")
    return path


def test_hypatia_round_trip(tmp_path):
    path = write_hypatia(tmp_path / "tles.txt", 2, 3)
    records, n_orbits, n_sats_per_orbit = read_hypatia_tles(path)
    assert (n_orbits, n_sats_per_orbit) == (2, 3)
    assert [r.name for r in records] == [f"Starlink-550 {i}" for i in range(6)]
    assert [r.norad_id for r in records] == [1, 2, 3, 4, 5, 6]
    assert records[0].source == f"{path}:2"
    assert records[3].satrec.nodeo == pytest.approx(math.pi, rel=1e-15)
    assert records[4].satrec.mo == pytest.approx(math.radians(120.0), rel=1e-15)
    # read_element_file recognises the header and returns the shell's shape.
    detected, shape = read_element_file(path)
    assert shape == (2, 3)
    assert [satrec_values(r) for r in detected] == [satrec_values(r) for r in records]


@pytest.mark.parametrize("header", ["72", "72 22 1", "72 x", "0 22", "-1 22", ""])
def test_hypatia_bad_header_message(tmp_path, header):
    path = write_hypatia(tmp_path / "tles.txt", 1, 1, header=header or " ")
    message = raises_message(read_hypatia_tles, path)
    assert message == (
        f"{path}:1: Hypatia header is {header!r} but expected two positive integers"
        " 'N_ORBITS N_SATS_PER_ORBIT', such as '72 22'"
    )


def test_hypatia_count_mismatch_message(tmp_path):
    path = write_hypatia(tmp_path / "tles.txt", 2, 3, header="2 4")
    message = raises_message(read_hypatia_tles, path)
    assert message == (
        f"{path}:1: Hypatia header says 2 orbits x 4 satellites per orbit = 8 satellites but the file holds 6 TLEs"
    )


def test_hypatia_bad_tle_line_is_reported_with_its_file_line(tmp_path):
    path = write_hypatia(tmp_path / "tles.txt", 1, 2)
    lines = path.read_text().split("\n")
    lines[6] = lines[6][:68] + str((int(lines[6][68]) + 1) % 10)  # line 7: sat 1 line 2
    path.write_text("\n".join(lines))
    message = raises_message(read_hypatia_tles, path)
    assert message.startswith(f"{path}:7: TLE line 2 checksum is ")


# ---------------------------------------------------------------------------------
# Properties


ALPHA5_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O


@st.composite
def catalogue_numbers(draw) -> tuple[str, int]:
    """A catalogue field and its number: 5 digits or alpha-5."""
    number = draw(st.integers(0, 339_999))
    if number < 100_000:
        return f"{number:05d}", number
    letter = ALPHA5_LETTERS[number // 10_000 - 10]
    return f"{letter}{number % 10_000:04d}", number


def exponential(draw) -> str:
    """A TLE '+NNNNN-N' field."""
    sign = draw(st.sampled_from(" -+"))
    mantissa = draw(st.integers(0, 99_999))
    exponent = draw(st.sampled_from("+-")) + str(draw(st.integers(0, 9)))
    return f"{sign}{mantissa:05d}{exponent}"


def angle(draw, top: int) -> str:
    """A TLE 'NNN.NNNN' field below ``top`` degrees."""
    tenths_of_millidegrees = draw(st.integers(0, top * 10_000 - 1))
    return f"{tenths_of_millidegrees // 10_000:3d}.{tenths_of_millidegrees % 10_000:04d}"


@st.composite
def tle_pairs(draw) -> tuple[str, str, int]:
    """A valid TLE line pair, written field by field, and its catalogue number."""
    catalogue, number = draw(catalogue_numbers())
    classification = draw(st.sampled_from("UCS"))
    designator = draw(st.sampled_from(["19074B  ", "85108AA ", "00000ABC", "        "]))
    # 1957 before Sputnik (day 277) is refused as an epoch, so '57' starts at day 277
    year = draw(st.integers(0, 99))
    day = draw(st.integers(277 if year == 57 else 1, 365))
    fraction = draw(st.integers(0, 99_999_999))
    ndot = draw(st.sampled_from(" -")) + f".{draw(st.integers(0, 99_999_999)):08d}"
    element_set = draw(st.integers(0, 9999))
    line1 = with_checksum(
        f"1 {catalogue}{classification} {designator} {year:02d}{day:03d}.{fraction:08d}"
        f" {ndot} {exponential(draw)} {exponential(draw)} 0 {element_set:4d}"
    )
    eccentricity = draw(st.integers(0, 9_999_999))
    mean_motion = draw(st.integers(50_000_000, 1_699_999_999))  # 0.5 to 17 rev/day
    revolutions = draw(st.integers(0, 99_999))
    line2 = with_checksum(
        f"2 {catalogue} {angle(draw, 180)} {angle(draw, 360)} {eccentricity:07d}"
        f" {angle(draw, 360)} {angle(draw, 360)}"
        f" {mean_motion // 10**8:2d}.{mean_motion % 10**8:08d}{revolutions:5d}"
    )
    return line1, line2, number


@given(tle_pairs())
@settings(max_examples=300)
def test_any_valid_tle_pair_parses(pair):
    line1, line2, number = pair
    (record,) = parse_tle_text(f"{line1}\n{line2}\n")
    assert record.norad_id == number
    assert record.satrec.inclo == pytest.approx(math.radians(float(line2[8:16])), rel=1e-15)
    assert record.satrec.ecco == float("0." + line2[26:33])


@given(tle_pairs(), st.data())
@settings(max_examples=500)
def test_one_changed_digit_is_caught_or_harmless(pair, data):
    line1, line2, _ = pair
    (original,) = parse_tle_text(f"{line1}\n{line2}")
    which = data.draw(st.sampled_from([0, 1]), label="line")
    lines = [line1, line2]
    digit_columns = [i for i, c in enumerate(lines[which]) if c.isdigit()]
    column = data.draw(st.sampled_from(digit_columns), label="column (0-based)")
    old = lines[which][column]
    new = data.draw(st.sampled_from("0123456789 -+.ABUZ").filter(lambda c: c != old), label="new")
    lines[which] = lines[which][:column] + new + lines[which][column + 1 :]
    try:
        (changed,) = parse_tle_text("\n".join(lines))
    except ElementSetError as error:
        message = str(error)
        event("changed character: caught")
        if new.isdigit() and column > 0:
            # A digit for a digit always moves the sum modulo 10: only the checksum
            # can see it, and it must.
            assert f"TLE line {which + 1} checksum is " in message
        return
    # Nothing raised: only a character worth the same in the checksum (a '0' turned
    # into a space, say) can get here, and then the values must be unchanged, e.g.
    # ephemeris type '0' -> ' ' or epoch day '001' -> ' 01'.
    event("changed character: harmless")
    assert reference_checksum(old) == reference_checksum(new)
    assert satrec_values(changed) == satrec_values(original)


HYPATIA_LINE1 = with_checksum("1 00001U 00000ABC 00001.00000000  .00000000  00000-0  00000+0 0    0")
HYPATIA_LINE2 = with_checksum("2 00001  53.0000   0.0000 0000001   0.0000   0.0000 15.19000000    0")


@pytest.mark.parametrize(
    ("column", "harmless"),
    [
        (21, True),  # epoch day '001' -> ' 01': a leading zero may be a space
        (63, True),  # ephemeris type '0' -> ' ': blank is allowed
        (22, False),  # epoch day '001' -> '0 1': a space inside a number is not
        (4, False),  # catalogue '00001' -> '0 001'
        (68, False),  # element set number '   0' -> '    ': no digit left
    ],
)
def test_a_zero_turned_space_keeps_the_checksum_so_fields_decide(column, harmless):
    # The cases the property test above reaches only rarely, pinned down here.
    changed = HYPATIA_LINE1[: column - 1] + " " + HYPATIA_LINE1[column:]
    assert HYPATIA_LINE1[column - 1] == "0"
    assert tle_checksum(changed) == tle_checksum(HYPATIA_LINE1)
    text = f"{changed}\n{HYPATIA_LINE2}"
    if harmless:
        (original,) = parse_tle_text(f"{HYPATIA_LINE1}\n{HYPATIA_LINE2}")
        assert satrec_values(parse_tle_text(text)[0]) == satrec_values(original)
    else:
        with pytest.raises(ElementSetError, match=r"\(columns? \d+(-\d+)?\) is "):
            parse_tle_text(text)


# ---------------------------------------------------------------------------------
# Physical ranges and hostile values: the reproducers of issue 13, each a one-line
# ElementSetError (or ParameterError) naming where, the value and what was expected.
# The ranges are physics: an inclination is 0-180 degrees, an angle 0-360, a bound
# orbit has 0 <= e < 1, a mean motion over 17 rev/day would put the perigee underground
# (Kepler: a = (mu / n^2)^(1/3) is 6,250 km at 17.5), element sets begin with Sputnik 1.

STARLINK_LINE1 = "1 44714C 19074B   26132.95048611 -.00027894  00000+0 -54858-3 0  1322"
STARLINK_LINE2 = "2 44714  53.1534 236.8965 0001912  20.7505  90.9471 15.46691953    14"


def line2_with(columns: tuple[int, int], text: str) -> str:
    """STARLINK_LINE2 with 1-based ``columns`` (inclusive) replaced, checksum right."""
    first, last = columns
    assert len(text) == last - first + 1
    line = STARLINK_LINE2[: first - 1] + text + STARLINK_LINE2[last:]
    return resum(line)


@pytest.mark.parametrize(
    ("columns", "text", "message"),
    [
        ((9, 16), "916.9000", "inclination (columns 9-16) is '916.9000' but expected 0 to 180 degrees"),
        ((35, 42), "733.0000", "argument of perigee (columns 35-42) is '733.0000' but expected 0 to 360 degrees"),
        ((18, 25), "360.0001", "right ascension of the ascending node (columns 18-25) is '360.0001' but expected 0 to 360 degrees"),
        ((44, 51), "999.9999", "mean anomaly (columns 44-51) is '999.9999' but expected 0 to 360 degrees"),
        ((53, 63), "17.50000000", "mean motion (columns 53-63) is '17.50000000' but expected more than 0 and at most 17"),
        ((53, 63), " 0.00000000", "mean motion (columns 53-63) is ' 0.00000000' but expected more than 0 and at most 17"),
    ],
)
def test_tle_values_out_of_physical_range_with_valid_checksums(columns, text, message):
    line2 = line2_with(columns, text)
    assert tle_checksum(line2) == int(line2[68])  # the checksum cannot see it: the range must
    error = raises_message(parse_tle_text, f"{STARLINK_LINE1}\n{line2}")
    assert error.startswith(f"<string>:2: TLE line 2 {message}"), error


def test_tle_far_but_bound_orbit_is_left_to_propagation():
    # 0.1 rev/day (196,000 km) is a bound orbit, read as such; propagation leaves it out
    # as implausible (tests/test_constellation.py)
    (record,) = parse_tle_text(f"{STARLINK_LINE1}\n{line2_with((53, 63), ' 0.10000000')}")
    assert record.satrec.no_kozai == pytest.approx(0.1 * 2 * math.pi / 1440, rel=1e-12)


def _omm_error(tmp_path: Path, kind: str, **fields) -> str:
    row = dict(OMM_SAMPLE[0], **fields)
    if kind == "json":
        return raises_message(read_omm_json, write_json(tmp_path / "s.json", [row]))
    return raises_message(read_omm_csv, write_csv(tmp_path / "s.csv", [row]))


@pytest.mark.parametrize("kind", ["json", "csv"])
@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("ECCENTRICITY", 1.5, "0 <= e < 1 (an elliptical orbit)"),
        ("ECCENTRICITY", 1.0, "0 <= e < 1 (an elliptical orbit)"),
        ("MEAN_MOTION", -15, "more than 0 and at most 17 revolutions per day (faster, the perigee would be underground)"),
        ("INCLINATION", 500, "0 to 180 degrees"),
        ("INCLINATION", -0.5, "0 to 180 degrees"),
        ("MEAN_ANOMALY", 360.5, "0 to 360 degrees"),
        ("EPOCH", "0999-05-24T18:20:22", "an epoch from 1957-10-04 to 2100-01-01 (leosim's supported time span: element sets begin with Sputnik 1)"),
        ("EPOCH", "1957-10-03T23:59:59", "an epoch from 1957-10-04 to 2100-01-01 (leosim's supported time span: element sets begin with Sputnik 1)"),
        ("EPOCH", "2100-01-01T00:00:01", "an epoch from 1957-10-04 to 2100-01-01 (leosim's supported time span: element sets begin with Sputnik 1)"),
        ("ELEMENT_SET_NO", "12345678901234567890", "an integer from 0 to 9,999"),
        ("ELEMENT_SET_NO", 12345678901234567890, "an integer from 0 to 9,999"),
        ("REV_AT_EPOCH", 10**12, "an integer from 0 to 9,999,999"),
        ("CLASSIFICATION_TYPE", "Ü", "'U', 'C' or 'S' (unclassified, classified, secret)"),
        ("CLASSIFICATION_TYPE", "UU", "'U', 'C' or 'S' (unclassified, classified, secret)"),
        ("OBJECT_ID", "2019-074\u0628", "printable ASCII such as '2019-074B' (launch year, number, piece)"),
    ],
)
def test_omm_values_out_of_physical_range(tmp_path, kind, key, value, expected):
    error = _omm_error(tmp_path, kind, **{key: value})
    where = f"{tmp_path / 's.json'}[0]" if kind == "json" else f"{tmp_path / 's.csv'}:2"
    shown = repr(value) if kind == "json" else repr(str(value))
    assert error == f"{where}: OMM field {key} is {shown} but expected {expected}"


def test_omm_epoch_at_the_ends_of_the_span_is_accepted(tmp_path):
    rows = [dict(OMM_SAMPLE[0], EPOCH="2100-01-01T00:00:00"), dict(OMM_SAMPLE[1], EPOCH="1957-10-04T00:00:00")]
    first, second = read_omm_json(write_json(tmp_path / "s.json", rows))
    assert first.satrec.jdsatepoch + first.satrec.jdsatepochF == pytest.approx(2488069.5, abs=1e-9)
    assert second.satrec.jdsatepoch + second.satrec.jdsatepochF == pytest.approx(2436115.5, abs=1e-9)


def test_omm_csv_field_over_128_kib_names_the_line(tmp_path):
    path = write_csv(tmp_path / "s.csv", [OMM_SAMPLE[0], dict(OMM_SAMPLE[1], OBJECT_NAME="A" * (129 * 1024))])
    error = raises_message(read_omm_csv, path)
    assert error.startswith(f"{path}:3: not valid CSV (field larger than field limit (131072))"), error


@pytest.mark.parametrize("key", ["NORAD_CAT_ID", "REV_AT_EPOCH", "EXTRA"])
def test_omm_json_integer_of_4300_digits(tmp_path, key):
    digits = "7" * 4301
    record = json.dumps(dict(OMM_SAMPLE[0], **{key: 0}))
    path = tmp_path / "s.json"
    path.write_text("[" + record.replace(f'"{key}": 0', f'"{key}": {digits}') + "]")
    assert digits in path.read_text()
    error = raises_message(read_omm_json, path)
    assert error == (
        f"{path}: not valid JSON for OMM (an integer of more than 4,300 digits, which no OMM field holds);"
        " expected a JSON list of OMM records (CelesTrak FORMAT=json)"
    )


def test_omm_json_nested_too_deeply(tmp_path):
    path = tmp_path / "s.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    assert raises_message(read_omm_json, path) == (
        f"{path}: not valid JSON (lists or objects nested too deeply); expected a JSON list of OMM records"
        " (CelesTrak FORMAT=json)"
    )


# Times and durations, as every option and scenario takes them (core/time.py): inside
# the supported span 1957-10-04 .. 2100-01-01 or refused by name; datetime64[ns] would
# otherwise wrap 2300 to 1715 and 1600 to 2184.


@pytest.mark.parametrize("text", ["2300-01-01", "1600-01-01", "1957-10-03T23:59:59", "2100-01-01T00:00:00.000000001",
                                  "99999999999-01-01", "2099-12-31T23:00:00-01:01"])
def test_times_outside_the_span_are_refused_not_wrapped(text):
    from leosim.core.time import parse_time
    from leosim.errors import ParameterError

    with pytest.raises(ParameterError) as info:
        parse_time(text)
    assert str(info.value).startswith(f"time {text!r} is outside the supported span 1957-10-04 to 2100-01-01")


def test_times_inside_the_span_and_utc_offsets():
    import numpy as np

    from leosim.core.time import parse_time

    assert parse_time("2100-01-01T00:00:00Z") == np.datetime64("2100-01-01T00:00:00", "ns")
    assert parse_time("1957-10-04") == np.datetime64("1957-10-04T00:00:00", "ns")
    # an offset is applied (numpy only warned and dropped it): the same instant in UTC
    assert parse_time("2026-05-13T05:30+05:30") == np.datetime64("2026-05-13T00:00:00", "ns")
    assert parse_time("2026-05-12T16:00:00.5-0800") == np.datetime64("2026-05-13T00:00:00.5", "ns")
    assert parse_time("2099-12-31T23:00:00-01:00") == np.datetime64("2100-01-01T00:00:00", "ns")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1e30s", "duration 1e30s is longer than 100 years (3.156e+09 s), the longest leosim accepts"),
        pytest.param(10**5000, "duration (an integer of about 5,000 digits) is longer than 100 years", id="10**5000"),
        (10**400, "duration (an integer of about 400 digits) is longer than 100 years"),
        (True, "duration True is not a number"),
        ("inf s", "cannot read duration 'inf s'"),
        pytest.param(
            "1" * 5000 + "s",
            "cannot read duration '1111111111111111111111111111111111111111'... (5,001 characters)",
            id="5000 digits",
        ),
    ],
)
def test_durations_beyond_reason_are_refused(value, message):
    from leosim.core.time import parse_duration
    from leosim.errors import ParameterError

    with pytest.raises(ParameterError) as info:
        parse_duration(value)
    assert str(info.value).startswith(message), str(info.value)


def test_hostile_time_text_gives_a_short_message():
    import numpy as np

    from leosim.core.time import parse_time
    from leosim.errors import ParameterError

    with pytest.raises(ParameterError, match=r"^cannot read time 'x{40}'\.\.\. \(100,000 characters\)"):
        parse_time("x" * 100_000)
    with pytest.raises(ParameterError, match="^cannot read time NaT"):
        parse_time(np.datetime64("NaT"))
    with pytest.raises(ParameterError, match="UTC offset out of range"):
        parse_time("2026-05-13 00:00+99:00")


def test_omm_json_number_past_float_range(tmp_path):
    # a 321-digit integer is valid JSON and under Python's 4,300-digit limit, but no float
    # holds it: float() raised OverflowError (found by benchmarks/fuzz.py)
    error = _omm_error(tmp_path, "json", RA_OF_ASC_NODE=10**320)
    assert error.startswith(f"{tmp_path / 's.json'}[0]: OMM field RA_OF_ASC_NODE is 1000"), error
    assert error.endswith("but expected a number (degrees)"), error


@pytest.mark.parametrize("separator", ["\u2028", "\u0085", "\x1c"])
def test_omm_csv_rows_end_only_at_newlines(tmp_path, separator):
    # str.splitlines() also splits at U+2028, U+0085 and the file separators, which may
    # stand inside a (quoted) name: the row must stay one record with that name
    name = f"STARLINK{separator}X"
    (record, second) = read_omm_csv(write_csv(tmp_path / "s.csv", [dict(OMM_SAMPLE[0], OBJECT_NAME=name), OMM_SAMPLE[1]]))
    assert record.name == name and second.norad_id == OMM_SAMPLE[1]["NORAD_CAT_ID"]
