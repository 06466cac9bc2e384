"""Commands that are one scenario section: they build the scenario in memory from their
options and run the section code of ``leosim run`` (one pipeline per feature)."""

from __future__ import annotations

from leosim.pipeline.run import analyse, base_summary
from leosim.scenario.load import scenario_from_dict


def run_in_memory(data: dict, *, log=None, workers: int | None = None, command: str = "this command"):
    """(plan, section results, summary) of the scenario ``data`` (a dict like a TOML file's),
    without routing every step; one too big to be meant is refused, naming ``command``
    and its --step and --duration."""
    scn = scenario_from_dict(data)
    p, results = analyse(scn, None, log=log, workers=workers, command=command,
                         fix="a coarser --step or a shorter --duration")
    summary = base_summary(p)
    for r in results.values():
        summary.update(r.summary)
    return p, results, summary


__all__ = ["run_in_memory"]
