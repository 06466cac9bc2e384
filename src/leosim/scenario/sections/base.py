"""The protocol every scenario section follows, and what a section hands back.

A section is a small object::

    section.wanted(scenario) -> bool             # does this scenario have it
    built = section.build(spec, plan)            # resolve names and files; nothing computed
    result = section.run(built, plan, upstream, context) -> SectionResult

``spec`` is the section's part of the scenario (``scenario.capacity``), ``upstream`` the
results of the sections before it (by name), ``context`` what the pipeline provides (the
routed RTT of the run, a log). The pipeline writes each result's tables (named as in
:mod:`leosim.scenario.columns`), merges its summary into ``summary.json``, and hands the
result to the report. A command such as ``leosim capacity`` builds a scenario in memory
and runs the same section, so a command and a scenario that ask the same thing agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from leosim.scenario.columns import columns


@dataclass
class SectionResult:
    """What a section found.

    ``tables``: file stem -> rows (dicts with exactly the columns of
    :data:`leosim.scenario.columns.TABLES`); ``summary``: merged into ``summary.json``;
    ``data``: in-memory values for later sections and the report (arrays, model results).
    """

    name: str
    tables: dict[str, list[dict]] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    data: Any = None


@dataclass
class Context:
    """What the pipeline gives the sections: the routed propagation RTT (``(n_steps,
    n_pairs)`` ms, NaN unreachable), path changes per pair, and where to log."""

    rtt_ms: Any = None
    path_changes: Any = None
    log: Callable[[str], None] | None = None
    solve_time_s: float = 0.0
    ping_ms: Any = None        # (n_steps, n_pairs) predicted median idle ping, ms (models.latency)
    workers: int | None = None  # for sections that route on their own (latency)
    executor: Any = None


class Section(Protocol):
    name: str
    key: str | None

    def wanted(self, scenario) -> bool: ...

    def build(self, spec, plan) -> Any: ...

    def run(self, built, plan, upstream: dict[str, SectionResult], context: Context) -> SectionResult: ...


def table(name: str, rows: list[dict], region: str | None = None) -> list[dict]:
    """``rows`` checked against the column schema of table ``name`` (order and names)."""
    want = columns(name, region)
    for r in rows[:1]:
        if list(r) != want:
            raise AssertionError(f"table {name!r} has columns {list(r)}; its schema says {want}")
    return rows


__all__ = ["Context", "Section", "SectionResult", "table"]
