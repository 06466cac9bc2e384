"""The ``[jamming]`` section: GPS L1 jammers, and where terminals cannot locate themselves.

Its result feeds admission (a terminal without a fix is refused, ``UNKNOWN_LOCATION``):
``data.known(lat, lon, times)`` says, for any points, whether a receiver there keeps its
fix, with the section's tolerance, clutter loss and grace period; capacity uses it for
its cells. Writes ``jamming.csv``: per step, the jammers on and the share of terminals,
of the region's area and of its people without a fix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leosim.core.time import format_time, parse_duration, parse_time
from leosim.errors import LeosimError, ScenarioError, require
from leosim.models.jamming import Jammer, j_to_s_db, location_known
from leosim.scenario.resolve import load_jammers, resolve_path
from leosim.scenario.sections.base import SectionResult, table


@dataclass
class Built:
    jammers: tuple[Jammer, ...]
    grace_s: float
    region_cells: object | None = None  # (lat, lon, people) of the region's H3 cells


@dataclass
class JammingData:
    jammers: tuple[Jammer, ...]
    known: object                     # known(lat, lon, times) -> (n_times, n_points) bool
    terminal_known: np.ndarray        # (n_steps, n_terminals) bool
    on: np.ndarray                    # (n_steps, n_jammers) bool
    area_share: np.ndarray | None     # (n_steps,) share of the region's area denied
    people_share: np.ndarray | None   # (n_steps,) share of the region's people denied


def _instant(text: str | None, start: np.datetime64, default: np.datetime64) -> np.datetime64:
    """ISO 8601 UTC, or a duration after the run's start."""
    if text is None:
        return default
    try:
        return start + np.timedelta64(int(round(parse_duration(text) * 1e9)), "ns")
    except LeosimError:
        return parse_time(text)


class JammingSection:
    name = "jamming"
    key = "jamming"

    def wanted(self, scenario) -> bool:
        return scenario.jamming is not None

    def build(self, spec, plan) -> Built:
        grid = plan.grid
        day = np.timedelta64(86_400, "s")
        end_of_run = grid.start + np.timedelta64(int(round(grid.duration_s * 1e9)), "ns") + day
        out = []
        for k, j in enumerate(spec.jammers):
            active = ()
            if (j.start is not None or j.end is not None) and not spec.all_on:
                active = ((_instant(j.start, grid.start, grid.start - day), _instant(j.end, grid.start, end_of_run)),)
            try:
                out.append(Jammer(j.name, j.latitude_deg, j.longitude_deg, j.eirp_dbw, j.height_m, active))
            except LeosimError as exc:
                raise ScenarioError(f"jamming.jammers[{k}] ({j.name!r}): {exc}") from None
        if spec.file is not None:
            try:
                jams = load_jammers(resolve_path(spec.file, plan.source))
            except LeosimError as exc:
                raise ScenarioError(f"jamming.file = {spec.file!r}: {exc}") from None
            if spec.all_on:
                jams = tuple(Jammer(j.name, j.latitude_deg, j.longitude_deg, j.eirp_dbw, j.height_m) for j in jams)
            out += jams
        region = None
        if spec.region is not None:
            region = region_cells(spec.region, spec.resolution)
            if len(region[0]) == 0:
                raise ScenarioError(f"jamming.region = {spec.region!r} has no H3 cell centre at resolution "
                                    f"{spec.resolution}; expected a finer jamming.resolution")
        return Built(tuple(out), 0.0 if spec.grace is None else parse_duration(spec.grace), region)

    def run(self, built: Built, plan, upstream, context) -> SectionResult:
        spec = plan.scenario.jamming
        times = plan.grid.times
        budget = {"clutter_loss_db": spec.clutter_loss_db}

        def known(lat, lon, at) -> np.ndarray:
            return location_known(built.jammers, lat, lon, at, tolerance_db=spec.tolerance_db, grace_s=built.grace_s,
                                  **budget)

        lat, lon = plan.terminal_position
        terminal_known = known(lat, lon, times) if len(lat) else np.ones((len(times), 0), bool)
        on = np.stack([j.is_active(times) for j in built.jammers], axis=1)
        area = people = None
        if built.region_cells is not None:
            area, people = _region_shares(built, on, spec)
        rows = []
        for k in range(plan.grid.n_steps):
            row = {
                "time": format_time(times[k]), "t_s": round(float(plan.grid.offsets_s[k]), 3),
                "jammers_on": int(on[k].sum()), "terminals_denied": int((~terminal_known[k]).sum()),
                "denied_share_terminals": round(float((~terminal_known[k]).mean()) if terminal_known.shape[1] else 0.0, 4),
            }
            if area is not None:
                row[f"denied_share_area_{spec.region}"] = round(float(area[k]), 5)
                row[f"denied_share_people_{spec.region}"] = round(float(people[k]), 5)
            rows.append(row)
        share = np.array([r["denied_share_terminals"] for r in rows])
        summary = {
            "jammers": len(built.jammers), "denied_share_terminals_max": round(float(share.max()), 4),
            "denied_share_terminals_mean": round(float(share.mean()), 4),
            "denied_share_terminals_final": round(float(share[-1]), 4),
        }
        if area is not None:
            summary.update(region=spec.region, denied_share_area_max=round(float(area.max()), 5),
                           denied_share_people_max=round(float(people.max()), 5))
        data = JammingData(built.jammers, known, terminal_known, on, area, people)
        return SectionResult(self.name, {"jamming": table("jamming", rows, spec.region)}, {"jamming": summary}, data)


def region_cells(region: str, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, people) of a country's H3 cells at ``resolution`` (people from GeoNames on
    the same cells; a cell with no GeoNames place and no rural share has 0 people)."""
    h3 = require("h3", "policy")
    from leosim.ground.countries import country_cells
    from leosim.ground.population import population_by_cell

    cells = country_cells(region, resolution)
    ll = np.array([h3.cell_to_latlng(c) for c in cells]).reshape(-1, 2)
    pc, pp = population_by_cell(region, resolution)
    ids = np.array([int(c, 16) for c in cells], dtype=np.int64)
    pos = np.minimum(np.searchsorted(pc, ids), max(len(pc) - 1, 0))
    people = np.where((pc[pos] == ids) if len(pc) else False, pp[pos] if len(pc) else 0.0, 0.0)
    return ll[:, 0], ll[:, 1], people


def _region_shares(built: Built, on: np.ndarray, spec) -> tuple[np.ndarray, np.ndarray]:
    """Per step: the share of the region's area (cells) and people where GPS is denied.

    Instantaneous: the grace period applies to terminals only. Each jammer's received power
    is computed once, then summed per pattern of jammers on."""
    lat, lon, people = built.region_cells
    js = np.stack([j_to_s_db([j], lat, lon, clutter_loss_db=spec.clutter_loss_db) for j in built.jammers])
    with np.errstate(over="ignore"):
        lin = np.where(np.isfinite(js), 10 ** (js / 10), 0.0)
    patterns, inverse = np.unique(on, axis=0, return_inverse=True)
    threshold = 10 ** (spec.tolerance_db / 10)
    total = float(people.sum())
    area, ppl = [], []
    for pat in patterns:
        denied = (pat[:, None] * lin).sum(axis=0) > threshold
        area.append(float(denied.mean()) if len(lat) else 0.0)
        ppl.append(float(people[denied].sum() / total) if total > 0 else 0.0)
    inv = np.asarray(inverse).reshape(-1)
    return np.array(area)[inv], np.array(ppl)[inv]


__all__ = ["JammingData", "JammingSection", "region_cells"]
