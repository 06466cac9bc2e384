"""Service-policy files: TOML (keys of :meth:`leosim.models.policy.ServicePolicy.from_mapping`)
or CSV (one row per country: ``country,served[,gateway,pop,speed_gate_kmh]``).

The readers return the document (TOML) or the rows (CSV) with where each came from; the
policy model builds the :class:`~leosim.models.policy.ServicePolicy` from them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leosim.errors import PolicyError
from leosim.formats.text import read_csv, read_text, read_toml

POLICY_HELP = "a .toml or .csv policy file (see docs/adversary.md)"
CSV_TEMPLATE = "a header 'country,served[,gateway,pop,speed_gate_kmh]' then rows like 'IR,yes,no,no,'"


@dataclass(frozen=True)
class PolicyRow:
    """One row of a CSV policy: a country code (or ``*`` for every other country) and its flags."""

    where: str
    country: str
    served: bool
    gateway: bool
    pop: bool
    speed_gate_kmh: float | None


@dataclass(frozen=True)
class PolicyDocument:
    """A policy file as read: a TOML mapping, or CSV rows; ``source`` names the file."""

    source: str
    name: str
    mapping: dict[str, Any] | None = None
    rows: tuple[PolicyRow, ...] | None = None


def parse_policy_csv(text: str, source: str) -> list[PolicyRow]:
    rows = read_csv(text, source, columns={k: k for k in ("country", "served", "gateway", "pop", "speed_gate_kmh")},
                    required=("country", "served"), expected=CSV_TEMPLATE, error=PolicyError, only_known=True)
    out = []
    for r in rows:
        served = r.flag("served")
        # at most 100,000 km/h, as leosim.models.policy.SPEED_GATE_MAX_KMH (checked there too)
        gate = r.number("speed_gate_kmh", lo=0.0, hi=100_000.0, unit="km/h") if r.has("speed_gate_kmh") else None
        if gate is not None and gate <= 0:
            raise r.fail(f"speed_gate_kmh {gate:g} is not positive; expected a speed in km/h > 0, such as 90")
        out.append(PolicyRow(r.where, r.text("country"), served, r.flag("gateway", default=served),
                             r.flag("pop", default=served), gate))
    return out


def read_policy_file(path: str | os.PathLike[str]) -> PolicyDocument:
    """A policy file (``.toml`` or ``.csv``) as a :class:`PolicyDocument`."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".toml", ".csv"):
        raise PolicyError(f"policy {os.fspath(path)!r} is not a .toml or .csv file; expected 'all', 'none' or {POLICY_HELP}")
    text = read_text(p, expected=POLICY_HELP, error=PolicyError, what="policy file")
    source = os.fspath(path)
    if suffix == ".toml":
        return PolicyDocument(source, p.stem, mapping=read_toml(text, source, expected=POLICY_HELP, error=PolicyError))
    rows = parse_policy_csv(text, source)
    if not rows:
        raise PolicyError(f"{source}: no rows after the header; expected {CSV_TEMPLATE}")
    return PolicyDocument(source, p.stem, rows=tuple(rows))


__all__ = ["CSV_TEMPLATE", "POLICY_HELP", "PolicyDocument", "PolicyRow", "parse_policy_csv", "read_policy_file"]
