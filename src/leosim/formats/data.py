"""The data files shipped inside the package (``leosim/data/``), each with its provenance
in ``leosim/data/README.md``."""

from __future__ import annotations

from pathlib import Path

#: Where the package's own data files live.
DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def data_path(*parts: str) -> Path:
    """The path of a shipped data file, e.g. ``data_path("starlink_pops.csv")``."""
    return DATA_DIR.joinpath(*parts)
