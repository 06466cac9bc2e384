"""Readers of satellite element sets: TLE (2- and 3-line), CelesTrak OMM JSON and CSV,
and Hypatia's ``tles.txt``.

Every reader returns a list of :class:`ElementRecord`, one per satellite, in file order.
A line or record that cannot be read raises :class:`~leosim.errors.ElementSetError`
whose message names the file and line (or record index), shows the value received and
says what was expected; TLE messages also print the official column layout above the
offending line, as python-sgp4 does, with carets under the wrong columns.

``Satrec.twoline2rv`` does not verify checksums and reads a letter inside a number as
the end of that number (``'5x.1534'`` becomes 5 degrees), so every TLE line is checked
here, column by column, before sgp4 sees it.

Every value is then held to its physical range, in every format alike (:data:`ELEMENT_RANGES`):
inclination 0-180 degrees, node, argument of perigee and mean anomaly 0-360 degrees,
eccentricity 0 <= e < 1, mean motion above 0 and at most :data:`MAX_MEAN_MOTION_REV_PER_DAY`,
finite drag terms, the epoch inside leosim's time span (1957-10-04 to
2100-01-01, :data:`leosim.core.time.TIME_SPAN_START`), integer fields bounded and the
classification one of U, C, S. A TLE whose checksum is right can still say 916.9 degrees;
such a record is refused with the file, line, field, value and range, never propagated.
Orbits that pass these checks but are still implausible (a satellite 196,000 km out at
0.1 rev/day, a 1960 epoch used in 2026) are caught at propagation, per instant, by
:meth:`leosim.space.constellation.Constellation.positions`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sgp4 import omm
from sgp4.api import Satrec

from leosim.core.time import TIME_SPAN_END, TIME_SPAN_START
from leosim.errors import ElementSetError
from leosim.formats.text import read_text

__all__ = [
    "ELEMENT_RANGES",
    "MAX_MEAN_MOTION_REV_PER_DAY",
    "TLE_LINE1_LAYOUT",
    "TLE_LINE2_LAYOUT",
    "ElementRecord",
    "parse_tle_text",
    "read_element_file",
    "read_hypatia_tles",
    "read_omm_csv",
    "read_omm_json",
    "read_tle_file",
    "tle_checksum",
]

# The official layouts, as python-sgp4 prints them (sgp4/io.py): N a digit, A a letter
# or digit, C the classification, + a sign or space, - an exponent sign.
TLE_LINE1_LAYOUT = "1 NNNNNC NNNNNAAA NNNNN.NNNNNNNN +.NNNNNNNN +NNNNN-N +NNNNN-N N NNNNN"
TLE_LINE2_LAYOUT = "2 NNNNN NNN.NNNN NNN.NNNN NNNNNNN NNN.NNNN NNN.NNNN NN.NNNNNNNNNNNNNN"
TLE_LINE_LENGTH = 69

# OMM fields every record must carry (CelesTrak FORMAT=json / FORMAT=csv names), with
# the unit each number is in, for messages.
OMM_NUMBER_FIELDS: dict[str, str] = {
    "MEAN_MOTION": "revolutions per day",
    "ECCENTRICITY": "dimensionless, 0 <= e < 1",
    "INCLINATION": "degrees",
    "RA_OF_ASC_NODE": "degrees",
    "ARG_OF_PERICENTER": "degrees",
    "MEAN_ANOMALY": "degrees",
    "BSTAR": "per Earth radius",
    "MEAN_MOTION_DOT": "revolutions per day squared, halved as in a TLE",
    "MEAN_MOTION_DDOT": "revolutions per day cubed, divided by 6 as in a TLE",
}
OMM_REQUIRED_FIELDS: tuple[str, ...] = ("NORAD_CAT_ID", "EPOCH", *OMM_NUMBER_FIELDS)

# Optional OMM fields that sgp4.omm.initialize reads, with the value used when absent.
_OMM_OPTIONAL_INTEGERS = {"EPHEMERIS_TYPE": 0, "ELEMENT_SET_NO": 999, "REV_AT_EPOCH": 0}

# sgp4 stores catalogue numbers in alpha-5 form, which stops at 'Z9999'.
_ALPHA5_MAX = 339_999

#: The fastest mean motion accepted (revolutions per day). At 17 rev/day the semi-major
#: axis is 6,390 km (WGS72), 12 km above the equator: any faster orbit has its perigee
#: underground, and real low orbits stay below 16.6 (100 km up). There is no lower bound
#: but zero: high and lunar orbits are real (Vallado's 23333 runs at 0.073 rev/day); a
#: satellite SGP4 places beyond 50,000 km is left out at propagation instead.
MAX_MEAN_MOTION_REV_PER_DAY = 17.0


@dataclass(frozen=True, slots=True)
class _Range:
    """``lo <= x <= hi`` (``<`` on a side marked open), and how to say it in a message."""

    lo: float
    hi: float
    text: str
    lo_open: bool = False
    hi_open: bool = False

    def holds(self, x: float) -> bool:
        above = x > self.lo if self.lo_open else x >= self.lo
        below = x < self.hi if self.hi_open else x <= self.hi
        return above and below


#: The physical range of each mean element, by OMM field name; TLE columns are held to
#: the same. The drag terms (BSTAR and the mean-motion derivatives) need only be finite:
#: a drag too strong to be real makes SGP4 report a decay (its error 6), which leosim
#: turns into NaN, never into a position.
ELEMENT_RANGES: dict[str, _Range] = {
    "MEAN_MOTION": _Range(
        0.0,
        MAX_MEAN_MOTION_REV_PER_DAY,
        f"more than 0 and at most {MAX_MEAN_MOTION_REV_PER_DAY:g} revolutions per day"
        " (faster, the perigee would be underground)",
        lo_open=True,
    ),
    "ECCENTRICITY": _Range(0.0, 1.0, "0 <= e < 1 (an elliptical orbit)", hi_open=True),
    "INCLINATION": _Range(0.0, 180.0, "0 to 180 degrees"),
    "RA_OF_ASC_NODE": _Range(0.0, 360.0, "0 to 360 degrees"),
    "ARG_OF_PERICENTER": _Range(0.0, 360.0, "0 to 360 degrees"),
    "MEAN_ANOMALY": _Range(0.0, 360.0, "0 to 360 degrees"),
}

# Bounds of the integer OMM fields: what the matching TLE columns hold (ephemeris type
# one digit, element set number four), the revolution count of a satellite at 16 rev/day
# for over a century, and the nine digits of Space-Track's catalogue numbers.
_OMM_INTEGER_MAX = {
    "NORAD_CAT_ID": 999_999_999,
    "EPHEMERIS_TYPE": 9,
    "ELEMENT_SET_NO": 9999,
    "REV_AT_EPOCH": 9_999_999,
}
_OMM_CLASSIFICATIONS = ("U", "C", "S")

_EPOCH_SPAN_START = TIME_SPAN_START.astype("datetime64[us]").item()
_EPOCH_SPAN_END = TIME_SPAN_END.astype("datetime64[us]").item()
_EPOCH_SPAN_EXPECTED = (
    f"an epoch from {_EPOCH_SPAN_START:%Y-%m-%d} to {_EPOCH_SPAN_END:%Y-%m-%d}"
    " (leosim's supported time span: element sets begin with Sputnik 1)"
)


def _shown(value: Any) -> str:
    """``repr(value)``, cut to 40 characters so a hostile value cannot flood a message."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


@dataclass(frozen=True, slots=True)
class ElementRecord:
    """One satellite's element set, as read from a file.

    ``name`` is ``""`` when the file has no name lines (2-line TLE); ``norad_id`` is
    the catalogue number, with alpha-5 ids such as ``'A0000'`` decoded (100000);
    ``source`` says where the record came from, for messages: ``"file.tle:4"`` (the
    record's first line), ``"file.json[3]"`` (0-based record index) or ``"file.csv:5"``.
    """

    name: str
    norad_id: int | None
    satrec: Satrec
    source: str


# ---------------------------------------------------------------------------------
# TLE column checks


@dataclass(frozen=True, slots=True)
class _Field:
    """A run of columns of a TLE line that must match ``pattern``; 1-based, inclusive."""

    first_col: int
    last_col: int
    name: str  # "" for a column the layout fixes to a space
    pattern: re.Pattern[str]
    expected: str


def _space(col: int) -> _Field:
    return _Field(col, col, "", re.compile(" "), "a space")


_CATALOGUE = re.compile(r"[0-9]{5}|[A-HJ-NP-Z][0-9]{4}")
_CATALOGUE_EXPECTED = "5 digits, or a letter other than I and O then 4 digits (alpha-5)"
_EXPONENTIAL = re.compile(r"[ +-][0-9]{5}[+-][0-9]")
_EXPONENTIAL_EXPECTED = (
    "+NNNNN-N: a sign or space, 5 digits (decimal point assumed before them), the exponent's sign and digit"
)
_ANGLE = re.compile(r" *[0-9]+\.[0-9]{4}")
_ANGLE_EXPECTED = "NNN.NNNN degrees: up to 3 digits, '.', 4 digits"
_RIGHT_ALIGNED = re.compile(r" *[0-9]+")
_DIGIT = re.compile(r"[0-9]")

_LINE1_FIELDS: tuple[_Field, ...] = (
    _space(2),
    _Field(3, 7, "catalogue number", _CATALOGUE, _CATALOGUE_EXPECTED),
    _Field(8, 8, "classification", re.compile(r"[UCS ]"), "'U', 'C', 'S' or a space"),
    _space(9),
    _Field(
        10,
        17,
        "international designator",
        re.compile(r"[ -~]{8}"),
        "printable ASCII such as '19074B  ' (launch year, number, piece) or spaces",
    ),
    _space(18),
    _Field(
        19,
        32,
        "epoch",
        re.compile(r"[0-9]{2}(?:[0-9]{3}| [0-9]{2}|  [0-9])\.[0-9]{8}"),
        "YYDDD.DDDDDDDD: 2-digit year, day of year (3 columns), '.', 8 digits",
    ),
    _space(33),
    _Field(
        34,
        43,
        "first derivative of mean motion",
        re.compile(r"[ +-]\.[0-9]{8}"),
        "+.NNNNNNNN: a sign or space, '.', 8 digits",
    ),
    _space(44),
    _Field(45, 52, "second derivative of mean motion", _EXPONENTIAL, _EXPONENTIAL_EXPECTED),
    _space(53),
    _Field(54, 61, "BSTAR drag term", _EXPONENTIAL, _EXPONENTIAL_EXPECTED),
    _space(62),
    _Field(63, 63, "ephemeris type", re.compile(r"[0-9 ]"), "a digit or a space"),
    _space(64),
    _Field(65, 68, "element set number", _RIGHT_ALIGNED, "up to 4 digits, right-aligned"),
    _Field(69, 69, "checksum", _DIGIT, "a digit"),
)

_LINE2_FIELDS: tuple[_Field, ...] = (
    _space(2),
    _Field(3, 7, "catalogue number", _CATALOGUE, _CATALOGUE_EXPECTED),
    _space(8),
    _Field(9, 16, "inclination", _ANGLE, _ANGLE_EXPECTED),
    _space(17),
    _Field(18, 25, "right ascension of the ascending node", _ANGLE, _ANGLE_EXPECTED),
    _space(26),
    _Field(
        27,
        33,
        "eccentricity",
        re.compile(r"[0-9]{7}"),
        "7 digits (decimal point assumed before them)",
    ),
    _space(34),
    _Field(35, 42, "argument of perigee", _ANGLE, _ANGLE_EXPECTED),
    _space(43),
    _Field(44, 51, "mean anomaly", _ANGLE, _ANGLE_EXPECTED),
    _space(52),
    _Field(
        53,
        63,
        "mean motion",
        re.compile(r" *[0-9]+\.[0-9]{8}"),
        "NN.NNNNNNNN revolutions per day: up to 2 digits, '.', 8 digits",
    ),
    _Field(64, 68, "revolution number", _RIGHT_ALIGNED, "up to 5 digits, right-aligned"),
    _Field(69, 69, "checksum", _DIGIT, "a digit"),
)

# Weight of each byte in the checksum: ASCII digits their value, '-' one, the rest zero.
_CHECKSUM_WEIGHTS = bytes((c - 48) if 48 <= c <= 57 else 1 if c == 45 else 0 for c in range(256))


def tle_checksum(line: str) -> int:
    """Return the modulo-10 checksum of the first 68 columns of a TLE line.

    ASCII digits count their value, each ``'-'`` counts 1, every other character 0.
    Column 69 of a valid line holds this digit.

    >>> tle_checksum("1 00005U 58002B   00179.78495062  .00000023  00000-0  28098-4 0  475")
    3
    >>> tle_checksum("")  # nothing to add up
    0
    """
    # translate + sum run in C: about 20 times faster than a per-character loop.
    return sum(line[:68].encode("ascii", "replace").translate(_CHECKSUM_WEIGHTS)) % 10


def _printable(line: str) -> str:
    """Return ``line`` with control characters shown as '?', so columns stay aligned."""
    return "".join(c if c.isprintable() else "?" for c in line)


def _tle_line_error(
    where: str, line_no: int, line: str, problem: str, first_col: int, last_col: int
) -> ElementSetError:
    """Build the error for a bad TLE line: the problem, the layout, the line, carets."""
    layout = TLE_LINE1_LAYOUT if line_no == 1 else TLE_LINE2_LAYOUT
    carets = " " * (first_col - 1) + "^" * (last_col - first_col + 1)
    return ElementSetError(
        f"{where}: TLE line {line_no} {problem}\nlayout: {layout}\nfound:  {_printable(line)}\n        {carets}"
    )


def _check_tle_line(where: str, line_no: int, line: str, allow_trailing: bool, verify_checksum: bool) -> str:
    """Check one TLE line (trailing whitespace already removed); return its 69 columns.

    Checks run left to right so the first wrong column is the one reported: the line
    number, the length, each field's characters, then the checksum.
    """
    expected_first = "1" if line_no == 1 else "2"
    if line[:1] != expected_first:
        found = repr(line[0]) if line else "nothing"
        raise _tle_line_error(
            where,
            line_no,
            line,
            f"must start with '{expected_first}' but this line starts with {found}",
            1,
            1,
        )
    length = len(line)
    if length < TLE_LINE_LENGTH:
        raise _tle_line_error(
            where,
            line_no,
            line,
            f"is {length} characters long but must be {TLE_LINE_LENGTH} (trailing spaces aside)",
            length + 1,
            TLE_LINE_LENGTH,
        )
    if length > TLE_LINE_LENGTH:
        if line_no == 1 or not allow_trailing:
            hint = (
                "; pass allow_trailing=True to accept extra text after column 69 of"
                " line 2, as in Vallado's SGP4-VER.TLE"
                if line_no == 2
                else ""
            )
            raise _tle_line_error(
                where,
                line_no,
                line,
                f"is {length} characters long but must be {TLE_LINE_LENGTH} (trailing spaces aside){hint}",
                TLE_LINE_LENGTH + 1,
                length,
            )
        if not line[TLE_LINE_LENGTH].isspace():
            raise _tle_line_error(
                where,
                line_no,
                line,
                f"has {line[TLE_LINE_LENGTH]!r} in column 70 but extra text after"
                " column 69 must be separated from it by a space",
                TLE_LINE_LENGTH + 1,
                TLE_LINE_LENGTH + 1,
            )
        line = line[:TLE_LINE_LENGTH]
    for field in _LINE1_FIELDS if line_no == 1 else _LINE2_FIELDS:
        if field.pattern.fullmatch(line, field.first_col - 1, field.last_col) is None:
            value = line[field.first_col - 1 : field.last_col]
            if not field.name:
                problem = f"has {value!r} in column {field.first_col} but the layout has a space there"
            else:
                columns = (
                    f"column {field.first_col}"
                    if field.first_col == field.last_col
                    else f"columns {field.first_col}-{field.last_col}"
                )
                problem = f"{field.name} ({columns}) is {value!r} but expected {field.expected}"
            raise _tle_line_error(where, line_no, line, problem, field.first_col, field.last_col)
    if verify_checksum:
        computed = tle_checksum(line)
        if computed != ord(line[68]) - 48:
            raise _tle_line_error(
                where,
                line_no,
                line,
                f"checksum is {computed} but the line's last digit says {line[68]}"
                " (the checksum adds the digits of columns 1-68, each '-' counting 1,"
                " modulo 10)",
                TLE_LINE_LENGTH,
                TLE_LINE_LENGTH,
            )
    if line_no == 1:
        day_of_year = float(line[20:32])
        if not 1.0 <= day_of_year < 367.0:
            raise _tle_line_error(
                where,
                line_no,
                line,
                f"epoch day of year (columns 21-32) is {line[20:32]!r} but expected 1 to 366.99999999",
                21,
                32,
            )
        two_digit_year = int(line[18:20])
        year = two_digit_year + (1900 if two_digit_year >= 57 else 2000)
        epoch = datetime(year, 1, 1) + timedelta(days=day_of_year - 1.0)
        if not _EPOCH_SPAN_START <= epoch <= _EPOCH_SPAN_END:
            raise _tle_line_error(
                where,
                line_no,
                line,
                f"epoch (columns 19-32) is {line[18:32]!r} ({epoch:%Y-%m-%d}) but expected {_EPOCH_SPAN_EXPECTED}",
                19,
                32,
            )
    for first_col, last_col, name, key, value in _tle_values(line_no, line):
        if not ELEMENT_RANGES[key].holds(value):
            raise _tle_line_error(
                where,
                line_no,
                line,
                f"{name} (columns {first_col}-{last_col}) is {line[first_col - 1 : last_col]!r}"
                f" but expected {ELEMENT_RANGES[key].text}",
                first_col,
                last_col,
            )
    return line


def _tle_values(line_no: int, line: str) -> tuple[tuple[int, int, str, str, float], ...]:
    """``(first_col, last_col, name, OMM key, value)`` of the range-checked fields of a line."""
    if line_no == 1:
        return ()
    return (
        (9, 16, "inclination", "INCLINATION", float(line[8:16])),
        (18, 25, "right ascension of the ascending node", "RA_OF_ASC_NODE", float(line[17:25])),
        (35, 42, "argument of perigee", "ARG_OF_PERICENTER", float(line[34:42])),
        (44, 51, "mean anomaly", "MEAN_ANOMALY", float(line[43:51])),
        (53, 63, "mean motion", "MEAN_MOTION", float(line[52:63])),
    )


def _is_significant(line: str) -> bool:
    """Return whether a line carries data: not blank and not a '#' comment."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _parse_tle_lines(
    lines: list[str],
    source: str,
    first_line_number: int,
    allow_trailing: bool,
    verify_checksum: bool,
) -> list[ElementRecord]:
    """Read TLE records from ``lines``, the first of which is line ``first_line_number``."""
    significant = [
        (number, line.rstrip()) for number, line in enumerate(lines, first_line_number) if _is_significant(line)
    ]
    records: list[ElementRecord] = []
    i = 0
    count = len(significant)
    while i < count:
        number, text = significant[i]
        following = significant[i + 1][1] if i + 1 < count else ""
        # A record starts with line 1, or with a name line. A line followed directly by
        # a line 2 must itself be a line 1 (even if misnumbered), so that a mistake in
        # its first column is reported on the right line.
        is_line1 = text.startswith("1 ") or (following.startswith("2 ") and text[1:2] == " ")
        if is_line1:
            name, record_number = "", number
        else:
            name = text.removeprefix("0 ")
            name, record_number = name.strip(), number
            i += 1
            if i == count:
                raise ElementSetError(
                    f"{source}:{number}: file ends after the name line {name!r};"
                    " expected TLE line 1 and line 2 to follow it"
                )
            number, text = significant[i]
        line1 = _check_tle_line(f"{source}:{number}", 1, text, allow_trailing, verify_checksum)
        line1_number = number
        i += 1
        if i == count:
            raise ElementSetError(
                f"{source}:{line1_number}: file ends after TLE line 1; expected line 2 of the same TLE to follow it"
            )
        number, text = significant[i]
        line2 = _check_tle_line(f"{source}:{number}", 2, text, allow_trailing, verify_checksum)
        i += 1
        if line1[2:7] != line2[2:7]:
            raise _tle_line_error(
                f"{source}:{number}",
                2,
                text,
                f"catalogue number is {line2[2:7]!r} but line 1 ({source}:{line1_number}) says {line1[2:7]!r}",
                3,
                7,
            )
        satrec = Satrec.twoline2rv(line1, line2)
        records.append(ElementRecord(name, satrec.satnum, satrec, f"{source}:{record_number}"))
    return records


def parse_tle_text(
    text: str,
    source: str = "<string>",
    *,
    allow_trailing: bool = False,
    verify_checksum: bool = True,
) -> list[ElementRecord]:
    """Parse 2-line or 3-line TLEs from a string, checking every line.

    Name lines are optional per record and may start with ``"0 "`` (CelesTrak 3LE);
    blank lines and lines starting with ``'#'`` are ignored; trailing whitespace and
    CRLF line ends are fine. ``source`` names the text in messages and in each
    record's ``source`` (``"<source>:<line>"``). ``allow_trailing`` accepts text after
    column 69 of line 2 (Vallado's SGP4-VER.TLE puts start/stop/step there);
    ``verify_checksum=False`` skips the checksum (that file's error-code cases carry
    wrong ones). An empty text gives an empty list.

    >>> records = parse_tle_text(
    ...     "ISS (ZARYA)\\n"
    ...     "1 25544U 98067A   08264.51782528 -.00002182  00000-0 -11606-4 0  2927\\n"
    ...     "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.72125391563537\\n"
    ... )
    >>> records[0].name, records[0].norad_id, records[0].source
    ('ISS (ZARYA)', 25544, '<string>:1')
    >>> parse_tle_text("# only a comment\\n")
    []
    """
    return _parse_tle_lines(text.split("\n"), source, 1, allow_trailing, verify_checksum)


# ---------------------------------------------------------------------------------
# Files


_ELEMENTS_EXPECTED = "TLE, OMM JSON or CSV, or Hypatia tles.txt, optionally gzip-compressed"


def _read_text(path: str | os.PathLike[str]) -> str:
    """Return a file's text, gunzipped if it is gzip data; raise if it cannot be read."""
    return read_text(path, expected=_ELEMENTS_EXPECTED, error=ElementSetError, what="element file", gzip_ok=True)


def read_tle_file(
    path: str | os.PathLike[str],
    *,
    allow_trailing: bool = False,
    verify_checksum: bool = True,
) -> list[ElementRecord]:
    """Read a 2-line or 3-line TLE file (``.tle``, ``.txt``, or either gzip-compressed).

    Records' ``source`` is ``"<path>:<line>"`` with ``path`` as given. See
    :func:`parse_tle_text` for the format rules and the keywords.
    """
    return parse_tle_text(
        _read_text(path),
        os.fspath(path),
        allow_trailing=allow_trailing,
        verify_checksum=verify_checksum,
    )


# ---------------------------------------------------------------------------------
# OMM


def _omm_number(record: dict[str, Any], key: str, source: str) -> float:
    """Return a finite number from an OMM field given as a number or numeric string."""
    value = record[key]
    number = math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:  # an integer past float's range (309+ digits)
            pass
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            pass
    if not math.isfinite(number):
        raise ElementSetError(
            f"{source}: OMM field {key} is {_shown(value)} but expected a number ({OMM_NUMBER_FIELDS[key]})"
        )
    bounds = ELEMENT_RANGES.get(key)
    if bounds is not None and not bounds.holds(number):
        raise ElementSetError(f"{source}: OMM field {key} is {_shown(value)} but expected {bounds.text}")
    return number


def _omm_integer(record: dict[str, Any], key: str, source: str, expected: str) -> int:
    """Return a non-negative integer from an OMM field given as an int or digit string,
    at most ``_OMM_INTEGER_MAX[key]``."""
    value = record[key]
    number = None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        number = value
    elif isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        # more digits than any bound has are out of range; int() of over 4,300 digits
        # would raise ValueError
        number = int(value.strip()) if len(value.strip()) <= 18 else _OMM_INTEGER_MAX[key] + 1
    if number is None:
        raise ElementSetError(f"{source}: OMM field {key} is {_shown(value)} but expected {expected}")
    if number > _OMM_INTEGER_MAX[key]:
        raise ElementSetError(
            f"{source}: OMM field {key} is {_shown(value)} but expected {expected} from 0 to {_OMM_INTEGER_MAX[key]:,}"
        )
    return number


def _omm_catalogue_number(record: dict[str, Any], source: str) -> int:
    """Return NORAD_CAT_ID as an integer, accepting the alpha-5 form ('A0000')."""
    value = record["NORAD_CAT_ID"]
    if isinstance(value, str) and _CATALOGUE.fullmatch(value.strip()):
        text = value.strip()
        if text[0].isalpha():
            return _decode_alpha5(text)
    return _omm_integer(
        record,
        "NORAD_CAT_ID",
        source,
        "a catalogue number (a non-negative integer, or alpha-5 such as 'A0000')",
    )


def _decode_alpha5(text: str) -> int:
    """Return the number of an alpha-5 catalogue id: 'A0000' is 100000, 'Z9999' 339999.

    >>> _decode_alpha5("A0000"), _decode_alpha5("J0001"), _decode_alpha5("Z9999")
    (100000, 180001, 339999)
    """
    letter = text[0]
    # A..Z without I and O stand for 10..33.
    value = ord(letter) - ord("A") + 10 - (letter > "I") - (letter > "O")
    return value * 10_000 + int(text[1:])


def _omm_epoch(record: dict[str, Any], source: str) -> str:
    """Return EPOCH in the exact form sgp4.omm.initialize parses (with microseconds)."""
    value = record["EPOCH"]
    try:
        epoch = datetime.fromisoformat(value.strip())
        if epoch.tzinfo is not None:
            epoch = epoch.astimezone(UTC).replace(tzinfo=None)
    except (AttributeError, TypeError, ValueError, OverflowError):
        raise ElementSetError(
            f"{source}: OMM field EPOCH is {_shown(value)} but expected an ISO 8601 UTC time"
            " such as '2025-05-24T18:20:22.669728'"
        ) from None
    if not _EPOCH_SPAN_START <= epoch <= _EPOCH_SPAN_END:
        raise ElementSetError(f"{source}: OMM field EPOCH is {_shown(value)} but expected {_EPOCH_SPAN_EXPECTED}")
    return epoch.strftime("%Y-%m-%dT%H:%M:%S.%f")


def _omm_classification(record: dict[str, Any], source: str) -> str:
    """Return CLASSIFICATION_TYPE ('U' when absent or empty): one of U, C, S."""
    value = record.get("CLASSIFICATION_TYPE")
    text = "U" if value is None or (isinstance(value, str) and not value.strip()) else value
    if isinstance(text, str) and text.strip() in _OMM_CLASSIFICATIONS:
        return text.strip()
    raise ElementSetError(
        f"{source}: OMM field CLASSIFICATION_TYPE is {_shown(value)} but expected 'U', 'C' or 'S'"
        " (unclassified, classified, secret)"
    )


def _omm_object_id(record: dict[str, Any], source: str) -> str:
    """Return OBJECT_ID ('' when absent): printable ASCII such as '2019-074B'."""
    value = record.get("OBJECT_ID")
    text = "" if value is None else str(value).strip()
    if text.isascii() and text.isprintable():
        return text
    raise ElementSetError(
        f"{source}: OMM field OBJECT_ID is {_shown(value)} but expected printable ASCII"
        " such as '2019-074B' (launch year, number, piece)"
    )


def _omm_record(record: Any, source: str) -> ElementRecord:
    """Build an :class:`ElementRecord` from one OMM record (a field-name -> value dict)."""
    if not isinstance(record, dict):
        raise ElementSetError(
            f"{source}: OMM record is a {_json_kind(record)} but expected a JSON object"
            " of OMM fields (OBJECT_NAME, NORAD_CAT_ID, EPOCH, MEAN_MOTION, ...)"
        )
    missing = [key for key in OMM_REQUIRED_FIELDS if key not in record]
    if missing:
        raise ElementSetError(
            f"{source}: OMM record lacks field{'s' if len(missing) > 1 else ''}"
            f" {', '.join(missing)}; expected all of {', '.join(OMM_REQUIRED_FIELDS)}"
        )
    norad_id = _omm_catalogue_number(record, source)
    fields: dict[str, Any] = {key: _omm_number(record, key, source) for key in OMM_NUMBER_FIELDS}
    fields["EPOCH"] = _omm_epoch(record, source)
    for key, default in _OMM_OPTIONAL_INTEGERS.items():
        present = record.get(key) not in (None, "")
        fields[key] = _omm_integer(record, key, source, "an integer") if present else default
    fields["CLASSIFICATION_TYPE"] = _omm_classification(record, source)
    fields["OBJECT_ID"] = _omm_object_id(record, source)
    # sgp4 keeps catalogue numbers in alpha-5, which ends at 339999; beyond it the
    # Satrec gets 0 and the record's norad_id keeps the real number.
    fields["NORAD_CAT_ID"] = norad_id if norad_id <= _ALPHA5_MAX else 0
    satrec = Satrec()
    omm.initialize(satrec, fields)
    name = record.get("OBJECT_NAME")
    return ElementRecord("" if name is None else str(name).strip(), norad_id, satrec, source)


def _json_kind(value: Any) -> str:
    """Return the JSON name of a decoded value's type, for messages."""
    kinds = {dict: "JSON object", list: "JSON list", str: "string", bool: "boolean"}
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "number"
    return kinds.get(type(value), type(value).__name__)


def _omm_json_from_text(text: str, path: str) -> list[ElementRecord]:
    """Read OMM records from the text of a CelesTrak FORMAT=json file."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ElementSetError(
            f"{path}:{exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno});"
            " expected a JSON list of OMM records (CelesTrak FORMAT=json)"
        ) from None
    except ValueError:  # an integer of more than 4,300 digits (Python's int-parsing limit)
        raise ElementSetError(
            f"{path}: not valid JSON for OMM (an integer of more than 4,300 digits, which no OMM"
            " field holds); expected a JSON list of OMM records (CelesTrak FORMAT=json)"
        ) from None
    except RecursionError:
        raise ElementSetError(
            f"{path}: not valid JSON (lists or objects nested too deeply);"
            " expected a JSON list of OMM records (CelesTrak FORMAT=json)"
        ) from None
    if not isinstance(data, list):
        raise ElementSetError(
            f"{path}: the file holds a {_json_kind(data)} but expected a JSON list of"
            " OMM records (CelesTrak FORMAT=json)"
        )
    return [_omm_record(record, f"{path}[{index}]") for index, record in enumerate(data)]


def read_omm_json(path: str | os.PathLike[str]) -> list[ElementRecord]:
    """Read a CelesTrak ``FORMAT=json`` OMM file: a JSON list of OMM records.

    Numbers may be JSON numbers or numeric strings (Space-Track writes strings).
    Required fields: ``NORAD_CAT_ID``, ``EPOCH`` and the nine mean elements of
    ``OMM_NUMBER_FIELDS``; ``OBJECT_NAME`` (default ``""``), ``OBJECT_ID``,
    ``CLASSIFICATION_TYPE``, ``EPHEMERIS_TYPE``, ``ELEMENT_SET_NO`` and
    ``REV_AT_EPOCH`` are optional. The Satrec is built by ``sgp4.omm.initialize``
    (WGS72). Records' ``source`` is ``"<path>[<0-based index>]"``.
    """
    return _omm_json_from_text(_read_text(path), os.fspath(path))


def _omm_csv_from_text(text: str, path: str) -> list[ElementRecord]:
    """Read OMM records from the text of a CelesTrak FORMAT=csv file.

    CSV that the csv module cannot read (an unterminated quote, a field over its 128 KiB
    limit, which no OMM field comes near) is an ElementSetError naming the line.
    """
    # lines end only at \n, \r\n or \r (str.splitlines also splits at U+2028, U+0085, ...,
    # which may stand inside a quoted field); the csv module handles quoted newlines itself
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _omm_csv_rows(reader, path)
    except csv.Error as exc:
        raise ElementSetError(
            f"{path}:{reader.reader.line_num}: not valid CSV ({exc}); expected OMM records (CelesTrak FORMAT=csv)"
        ) from None


def _omm_csv_rows(reader: csv.DictReader, path: str) -> list[ElementRecord]:
    """The records of a CSV DictReader over an OMM file; csv.Error passes through."""
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [key for key in OMM_REQUIRED_FIELDS if key not in header]
    if missing:
        raise ElementSetError(
            f"{path}:1: CSV header lacks column{'s' if len(missing) > 1 else ''}"
            f" {', '.join(missing)}; expected all of {', '.join(OMM_REQUIRED_FIELDS)}"
            f" (CelesTrak FORMAT=csv), got {', '.join(header) or 'no header'}"
        )
    records = []
    for row in reader:
        source = f"{path}:{reader.line_num}"
        # DictReader files surplus values under the key None and fills missing ones
        # with None.
        surplus = row.pop(None, None) or []  # type: ignore[call-overload]
        n_values = sum(value is not None for value in row.values()) + len(surplus)
        if n_values != len(header):
            raise ElementSetError(f"{source}: CSV row has {n_values} values but the header has {len(header)} columns")
        records.append(_omm_record(row, source))
    return records


def read_omm_csv(path: str | os.PathLike[str]) -> list[ElementRecord]:
    """Read a CelesTrak ``FORMAT=csv`` OMM file: a header row of OMM field names.

    The fields are those of :func:`read_omm_json`; records' ``source`` is
    ``"<path>:<line>"``.
    """
    return _omm_csv_from_text(_read_text(path), os.fspath(path))


# ---------------------------------------------------------------------------------
# Hypatia


def _hypatia_from_text(text: str, path: str) -> tuple[list[ElementRecord], int, int]:
    """Read Hypatia's tles.txt text: a 'N_ORBITS N_SATS_PER_ORBIT' line, then 3-line TLEs."""
    lines = text.split("\n")
    header = lines[0].strip()
    parts = header.split()
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) <= 9 and int(p) > 0 for p in parts):
        raise ElementSetError(
            f"{path}:1: Hypatia header is {header!r} but expected two positive integers"
            " 'N_ORBITS N_SATS_PER_ORBIT', such as '72 22'"
        )
    n_orbits, n_sats_per_orbit = int(parts[0]), int(parts[1])
    records = _parse_tle_lines(lines[1:], path, 2, False, True)
    expected = n_orbits * n_sats_per_orbit
    if len(records) != expected:
        raise ElementSetError(
            f"{path}:1: Hypatia header says {n_orbits} orbits x {n_sats_per_orbit}"
            f" satellites per orbit = {expected} satellites but the file holds"
            f" {len(records)} TLEs"
        )
    return records, n_orbits, n_sats_per_orbit


def read_hypatia_tles(
    path: str | os.PathLike[str],
) -> tuple[list[ElementRecord], int, int]:
    """Read Hypatia's ``tles.txt``; return ``(records, n_orbits, n_sats_per_orbit)``.

    The first line is ``"N_ORBITS N_SATS_PER_ORBIT"``; the TLEs that follow (Hypatia
    writes 3-line ones named ``"<constellation> <id>"``) must number exactly
    ``n_orbits * n_sats_per_orbit``.
    """
    return _hypatia_from_text(_read_text(path), os.fspath(path))


# ---------------------------------------------------------------------------------
# Any of them

_HYPATIA_HEADER = re.compile(r"\s*[0-9]+\s+[0-9]+\s*")


def read_element_file(
    path: str | os.PathLike[str],
) -> tuple[list[ElementRecord], tuple[int, int] | None]:
    """Read an element file of any supported format, detected from its content.

    JSON (text starting with ``'['`` or ``'{'``) is OMM JSON; a first line naming
    ``OBJECT_NAME`` or ``NORAD_CAT_ID`` among comma-separated columns is OMM CSV; a
    first line of two integers is Hypatia's tles.txt; anything else is read as TLE
    (strictly: no trailing text, checksums verified). Returns the records and, for
    Hypatia, ``(n_orbits, n_sats_per_orbit)``, else ``None``.
    """
    text = _read_text(path)
    name = os.fspath(path)
    if text.lstrip()[:1] in ("[", "{"):
        return _omm_json_from_text(text, name), None
    # CSV and Hypatia both put their header on the very first line.
    first = text.split("\n", 1)[0]
    columns = {column.strip().strip('"') for column in first.split(",")}
    if "OBJECT_NAME" in columns or "NORAD_CAT_ID" in columns:
        return _omm_csv_from_text(text, name), None
    if _HYPATIA_HEADER.fullmatch(first):
        records, n_orbits, n_sats_per_orbit = _hypatia_from_text(text, name)
        return records, (n_orbits, n_sats_per_orbit)
    return parse_tle_text(text, name), None
