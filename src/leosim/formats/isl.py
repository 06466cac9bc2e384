"""Explicit laser links: Hypatia's ``isls.txt``, one ``A B`` satellite-index pair per line."""

from __future__ import annotations

import os

import numpy as np

from leosim.errors import ElementSetError
from leosim.formats.text import read_text, text_lines

ISL_HELP = "a text file of laser links, one 'A B' pair of satellite indices per line (Hypatia isls.txt)"


def parse_isl_text(text: str, source: str, n_sats: int) -> np.ndarray:
    """``(n_isl, 2)`` sorted unique pairs ``a < b``; errors name ``source:line``."""
    pairs = []
    for lineno, line in enumerate(text_lines(text), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split()
        if len(fields) != 2 or not all(f.isascii() and f.isdigit() and len(f) <= 12 for f in fields):
            raise ElementSetError(
                f"{source}:{lineno}: {line.strip()[:80]!r} is not an ISL; expected two satellite indices 'A B'"
            )
        a, b = int(fields[0]), int(fields[1])
        for v in (a, b):
            if v >= n_sats:
                raise ElementSetError(f"{source}:{lineno}: satellite index {v} is out of range; expected 0 to {n_sats - 1}")
        if a == b:
            raise ElementSetError(f"{source}:{lineno}: ISL {a} {b} links a satellite to itself; expected two different satellites")
        pairs.append((min(a, b), max(a, b)))
    return np.unique(np.array(pairs, dtype=np.int64).reshape(-1, 2), axis=0)


def read_isl_file(path: str | os.PathLike[str], n_sats: int) -> np.ndarray:
    """Laser links from Hypatia's ``isls.txt`` for a constellation of ``n_sats`` satellites."""
    text = read_text(path, expected=ISL_HELP, error=ElementSetError, what="ISL file", allow_empty=True)
    return parse_isl_text(text, os.fspath(path), n_sats)


__all__ = ["ISL_HELP", "parse_isl_text", "read_isl_file"]
