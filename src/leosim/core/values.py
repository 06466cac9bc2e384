"""Checks on values that come from users, shared by the models that validate their inputs."""

from __future__ import annotations

import math
from typing import Any


def finite_number(v: Any) -> bool:
    """A finite int or float, not a bool (an int too large for a float is not finite).

    >>> finite_number(1.5), finite_number(True), finite_number(10**400), finite_number(float("nan"))
    (True, False, False, False)
    """
    if isinstance(v, bool) or not isinstance(v, int | float):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def cut_repr(value: Any, limit: int = 120) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages about hostile input.

    >>> cut_repr("x" * 200, 5)
    "'xxxx... (202 characters)"
    """
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"
