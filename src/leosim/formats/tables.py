"""Writing tables (CSV or Parquet) and strict JSON, atomically.

JSON is strict: a NaN or an infinity becomes ``null`` (``json.dumps`` would write
``NaN``, which ``jq``, browsers and most parsers refuse). A table's columns are written in
the order given; ``None`` is an empty CSV cell.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any

from leosim.errors import require


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a reader never sees half of it."""
    p = Path(path)
    tmp = p.with_name(p.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, p)


def strict(value: Any) -> Any:
    """``value`` with every non-finite float replaced by None, recursively (numpy scalars too)."""
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(value: Any, indent: int | None = 2) -> str:
    """Strict JSON text (no NaN, no Infinity)."""
    return json.dumps(strict(value), indent=indent, allow_nan=False, default=str)


def write_json(path: str | os.PathLike[str], value: Any) -> None:
    write_atomic(path, dumps(value) + "\n")


def csv_text(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="raise")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return buf.getvalue()


def write_table(directory: str | os.PathLike[str], name: str, rows: list[dict], columns: list[str],
                kind: str = "csv") -> Path:
    """Write ``rows`` as ``directory/name.csv`` (or ``.parquet``); returns the path."""
    d = Path(directory)
    if kind == "parquet":
        require("pyarrow", "io")
        import pandas as pd

        path = d / f"{name}.parquet"
        pd.DataFrame(rows, columns=columns).to_parquet(path, index=False)
        return path
    path = d / f"{name}.csv"
    write_atomic(path, csv_text(rows, columns))
    return path


__all__ = ["csv_text", "dumps", "strict", "write_atomic", "write_json", "write_table"]
