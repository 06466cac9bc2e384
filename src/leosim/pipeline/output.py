"""The output directory of a run: refused when it holds something else, an ``INCOMPLETE``
marker until every file is written, and a fingerprint so a resumed run is the same run."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from leosim import __version__
from leosim.errors import ScenarioError
from leosim.scenario.columns import OUTPUT_FILES

MARKER = "INCOMPLETE"


def prepare_output(out_dir: Path, overwrite: bool) -> None:
    """Create the output directory; refuse a non-empty one unless ``overwrite``.

    With ``overwrite``, only the files a run writes are removed (a symlink is removed,
    never followed); anything else in the directory is left alone.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ScenarioError(f"output {str(out_dir)!r} is a file; expected a directory")
    if out_dir.exists() and any(out_dir.iterdir()):
        if not overwrite:
            raise ScenarioError(
                f"output directory {str(out_dir)!r} exists and is not empty; "
                "expected a new or empty directory (or pass --overwrite)"
            )
        for name in OUTPUT_FILES:
            p = out_dir / name
            if p.is_symlink() or p.is_file():
                p.unlink()
            elif p.is_dir():
                shutil.rmtree(p)
    out_dir.mkdir(parents=True, exist_ok=True)


def fingerprint(seed: int, text: str) -> str:
    """What determines a run's numbers: a resumed run must match the interrupted one."""
    return hashlib.sha256(f"{__version__}\n{seed}\n{text}".encode()).hexdigest()


def mark_incomplete(out_dir: Path, text: str = "This run has not finished: the files here are partial.\n") -> Path:
    marker = Path(out_dir) / MARKER
    marker.write_text(text)
    return marker


__all__ = ["MARKER", "fingerprint", "mark_incomplete", "prepare_output"]
