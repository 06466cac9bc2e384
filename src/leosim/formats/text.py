"""Reading text files, CSV and TOML: one helper, one error style.

Every reader of the package goes through :func:`read_text` (a file's text, or the
package's own error saying what was wrong and what was expected), :func:`read_csv` (rows
with their line numbers, columns found by name or alias) and :func:`read_toml`. A value
that cannot be used is reported as ``file:line: column 'value' is ...; expected ...``
by the :class:`Row` accessors, so every file format reports bad input the same way.
Limits keep a hostile or mistaken input from exhausting memory: files above
:data:`MAX_FILE_BYTES` are refused before they are read, CSV fields above the csv
module's limit and TOML nested too deeply are reported as errors, never tracebacks.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
import re
import tomllib
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leosim.errors import InputFileError, LeosimError

#: Files larger than this are refused before reading (no element set, site list or
#: scenario of a real constellation comes near it: the 10,361-satellite TLE file is 1.6 MB).
MAX_FILE_BYTES = 256 * 1024 * 1024


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to about ``limit`` characters (saying how long it was), for
    messages that echo what a file held: any value, a 100,000-character one too."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters written out"
    return f"{text[:limit]}... ({size})"


#: A decimal number as the readers accept it: ASCII digits, an optional fraction and
#: exponent. ``float`` would also take ``1_000``, ``inf``, ``nan`` and digits of other
#: scripts (``١٢``), which no data file of this kind means.
DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def path_exists(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` exists; False, not an ``OSError``, for a name the system cannot
    even look up (longer than NAME_MAX or PATH_MAX, a NUL byte), so a caller deciding
    "file or spec?" on user text never meets a traceback."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


_NEWLINE = re.compile(r"\r\n|\r|\n")


def text_lines(text: str) -> list[str]:
    """The lines of ``text`` split at ``\\n``, ``\\r\\n`` and ``\\r`` only, as ``open()``
    reads them: ``str.splitlines`` would also split inside a name at U+0085, U+2028,
    form feeds and others, and count lines differently from every editor."""
    return _NEWLINE.split(text)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def read_text(
    path: str | os.PathLike[str],
    *,
    expected: str,
    error: type[LeosimError] = InputFileError,
    what: str = "file",
    gzip_ok: bool = False,
    allow_empty: bool = False,
    max_bytes: int = MAX_FILE_BYTES,
) -> str:
    """The text of ``path`` (UTF-8, a byte-order mark dropped), or ``error`` saying why not.

    ``what`` names the file in messages ("element file"), ``expected`` says what it should
    be. With ``gzip_ok``, gzip data is decompressed whatever the file is called.
    """
    p = Path(path)
    name = f"{what} {shown(os.fspath(path), 200)}"
    try:
        size = p.stat().st_size
        if p.is_dir():
            raise error(f"cannot read {name}: it is a directory; expected {expected}")
        if size > max_bytes:
            raise error(f"cannot read {name}: it is {_mb(size)}, more than the {_mb(max_bytes)} a {what} may be; expected {expected}")
        with p.open("rb") as f:  # at most one byte past the limit: /dev/zero or a FIFO has no size to stat
            data = f.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise error(f"cannot read {name}: it holds more than the {_mb(max_bytes)} a {what} may be; expected {expected}")
    except FileNotFoundError:
        raise error(f"cannot read {name}: no such file; expected {expected}") from None
    except PermissionError:
        raise error(f"cannot read {name}: permission denied; expected a readable {expected}") from None
    except OSError as exc:
        raise error(f"cannot read {name}: {exc.strerror or exc}; expected {expected}") from None
    if gzip_ok and data[:2] == b"\x1f\x8b":  # gzip magic, whatever the file is called
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
                data = gz.read(max_bytes + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise error(f"cannot read {name}: its gzip data is corrupt ({exc}); expected {expected}") from None
        if len(data) > max_bytes:
            raise error(f"cannot read {name}: it decompresses to more than {_mb(max_bytes)}; expected {expected}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(
            f"cannot read {name}: it is not text (byte 0x{data[exc.start]:02x} at offset {exc.start} is not UTF-8); "
            f"expected {expected}"
        ) from None
    nul = text.find("\x00")
    if nul >= 0:
        raise error(f"cannot read {name}: it is not text (NUL byte at offset {nul}); expected {expected}")
    if not allow_empty and not text.strip():
        raise error(f"cannot read {name}: it is empty; expected {expected}")
    return text


# ------------------------------------------------------------------------------ CSV
@dataclass(frozen=True)
class Row:
    """One data row of a CSV file: its values by canonical column name, and where it is."""

    source: str
    line: int
    values: Mapping[str, str]
    error: type[LeosimError]
    expected: str

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"

    def has(self, column: str) -> bool:
        return bool(self.values.get(column, "").strip())

    def fail(self, message: str) -> LeosimError:
        return self.error(f"{self.where}: {message}")

    def text(self, column: str, default: str | None = None) -> str:
        v = self.values.get(column, "").strip()
        if v:
            return v
        if default is not None:
            return default
        raise self.fail(f"{column} is empty; expected {self.expected}")

    def number(self, column: str, *, lo: float | None = None, hi: float | None = None, unit: str = "",
               default: float | None = None, example: str = "") -> float:
        """A finite decimal number in ``[lo, hi]``; ``default`` when the cell is empty."""
        raw = self.values.get(column, "").strip()
        if not raw:
            if default is not None:
                return default
            raise self.fail(f"{column} is empty; expected a number{' of ' + unit if unit else ''}")
        v = float(raw) if len(raw) <= 100 and DECIMAL.fullmatch(raw) else math.nan
        span = _span(lo, hi, unit)
        if not math.isfinite(v):
            hint = f" such as {example}" if example else ""
            raise self.fail(f"{column} {shown(raw)} is not a number; expected {span or 'a number' + (' of ' + unit if unit else '')}{hint}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise self.fail(f"{column} {raw} is out of range; expected {span}")
        return v

    def whole(self, column: str, *, lo: int | None = None, hi: int | None = None, default: int | None = None) -> int:
        raw = self.values.get(column, "").strip()
        if not raw and default is not None:
            return default
        if not re.fullmatch(r"[+-]?[0-9]{1,18}", raw):
            raise self.fail(f"{column} {shown(raw)} is not a whole number; expected {_span(lo, hi, '') or 'a whole number'}")
        v = int(raw)
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise self.fail(f"{column} {raw} is out of range; expected {_span(lo, hi, '')}")
        return v

    def flag(self, column: str, default: bool | None = None) -> bool:
        raw = self.values.get(column, "").strip().lower()
        if not raw and default is not None:
            return default
        if raw in ("yes", "y", "true", "1"):
            return True
        if raw in ("no", "n", "false", "0"):
            return False
        raise self.fail(f"{column} {shown(raw)} is not yes or no; expected yes/no, true/false or 1/0")


def _span(lo, hi, unit: str) -> str:
    u = f" {unit}" if unit else ""
    if lo is not None and hi is not None:
        return f"a number from {lo:g} to {hi:g}{u}"
    if lo is not None:
        return f"a number >= {lo:g}{u}"
    if hi is not None:
        return f"a number <= {hi:g}{u}"
    return ""


def _joined(header: list[str], limit: int = 200) -> str:
    text = ",".join(header)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(header):,} columns)"


def read_csv(
    text: str,
    source: str,
    *,
    columns: Mapping[str, str],
    required: Iterable[str],
    expected: str,
    error: type[LeosimError] = InputFileError,
    only_known: bool = False,
    comments: bool = True,
) -> list[Row]:
    """Data rows of CSV text whose first non-empty line is a header.

    ``columns`` maps each accepted header label (lower case) to its canonical name
    (several labels may map to one name: aliases); ``required`` lists canonical names
    that must be present. With ``only_known``, a header label not in ``columns`` is an
    error. Blank lines and, with ``comments``, lines starting with ``#`` are skipped.
    Errors name ``source:line``.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    positions: dict[str, int] = {}
    rows: list[Row] = []
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise error(f"{source}:{reader.line_num}: not valid CSV ({exc}); expected {expected}") from None
        line = reader.line_num
        if not any(c.strip() for c in cells) or (comments and cells[0].lstrip().startswith("#")):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            for k, label in enumerate(header):
                canon = columns.get(label.lower())
                if canon is None:
                    if only_known:
                        raise error(f"{source}:{line}: unknown column {shown(label)}; expected {expected}")
                    continue
                if canon in positions:
                    raise error(f"{source}:{line}: columns {shown(header[positions[canon]])} and {shown(label)} both give {canon}; keep one")
                positions[canon] = k
            missing = [c for c in required if c not in positions]
            if missing:
                raise error(f"{source}:{line}: header has columns {_joined(header)}; missing {','.join(missing)}; expected {expected}")
            continue
        if len(cells) != len(header):
            raise error(f"{source}:{line}: {len(cells)} fields, expected {len(header)} as in the header ({_joined(header)})")
        rows.append(Row(source, line, {c: cells[k].strip() for c, k in positions.items()}, error, expected))
    if header is None:
        raise error(f"{source}: no header line; expected {expected}")
    return rows


# ----------------------------------------------------------------------------- TOML
def read_toml(text: str, source: str, *, expected: str, error: type[LeosimError] = InputFileError) -> dict[str, Any]:
    """Parse TOML text; syntax errors, absurd integers and too-deep nesting are ``error``s."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: not valid TOML: {exc}; expected {expected}") from None
    except RecursionError:
        raise error(f"{source}: not valid TOML: arrays or tables nested too deeply; expected {expected}") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise error(f"{source}: not valid TOML: {exc}; expected {expected}") from None


__all__ = ["DECIMAL", "MAX_FILE_BYTES", "Row", "path_exists", "read_csv", "read_text", "read_toml", "shown", "text_lines"]
