"""Terminal positions for capacity: a CSV with ``latitude_deg,longitude_deg`` (or
``lat``/``latitude``, ``lon``/``longitude``) and optionally ``terminals`` per row (default 1)."""

from __future__ import annotations

import os

import numpy as np

from leosim.errors import GroundSegmentError
from leosim.formats.text import read_csv, read_text

TERMINALS_HELP = "a CSV file with a header naming latitude_deg,longitude_deg (or lat,lon) and optionally terminals"
_COLUMNS = {"latitude_deg": "lat", "latitude": "lat", "lat": "lat", "longitude_deg": "lon", "longitude": "lon",
            "lon": "lon", "terminals": "n"}


def read_terminals_file(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latitudes, longitudes (deg) and terminal counts of each row."""
    text = read_text(path, expected=TERMINALS_HELP, error=GroundSegmentError, what="terminals file")
    rows = read_csv(text, os.fspath(path), columns=_COLUMNS, required=("lat", "lon"), expected=TERMINALS_HELP,
                    error=GroundSegmentError)
    if not rows:
        raise GroundSegmentError(f"{os.fspath(path)}: no terminals after the header; expected {TERMINALS_HELP}")
    lat = np.array([r.number("lat", lo=-90, hi=90, unit="degrees") for r in rows])
    lon = np.array([r.number("lon", lo=-180, hi=360, unit="degrees") for r in rows])
    n = np.array([r.whole("n", lo=0, hi=10_000_000, default=1) for r in rows], dtype=np.int64)
    return lat, lon, n


__all__ = ["TERMINALS_HELP", "read_terminals_file"]
