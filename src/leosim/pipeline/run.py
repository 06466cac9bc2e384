"""Run a scenario: plan it, run its sections around the routed time steps, write it all.

One output directory holds:

- ``rtt.zarr`` (or ``rtt.nc``): RTT, path length, hops and path changes per step and pair;
- every table of the sections the scenario has (:mod:`leosim.scenario.columns` lists
  their columns): ``pairs.csv`` (or ``.parquet``), ``regions.csv``, ``admission.csv``,
  ``jurisdictions.csv``, ``jamming.csv``, ``exposure.csv``, ``capacity_cells.csv``,
  ``capacity_saturated.csv``, ``capacity_cities.csv``;
- ``summary.json``: the headline numbers (strict JSON), written last but one;
- ``scenario.toml``: the scenario as run; ``report.html``: the report.

The order: the sections that decide who is served (jamming, admission) run first; the
engine routes every step, carrying nothing for a terminal that is not admitted; then the
sections that read the routed run (traffic, capacity, exposure). While a run is going,
the directory holds a file ``INCOMPLETE``; it is removed only after everything else is
written, so an interrupted run is never mistaken for a finished one.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import numpy as np

from leosim import __version__
from leosim.core.time import format_time
from leosim.errors import ScenarioError
from leosim.formats.tables import write_atomic, write_json, write_table
from leosim.ground.sites import SiteKind
from leosim.pipeline.output import (
    MARKER,
    Interrupted,
    check_output,
    check_resumable,
    fingerprint,
    mark_incomplete,
    output_fault,
    prepare_output,
)
from leosim.scenario.columns import columns
from leosim.scenario.plan import Plan, build_plan
from leosim.scenario.schema import Scenario
from leosim.scenario.sections import AFTER_ROUTING, BEFORE_ROUTING, Context, SectionResult, run_sections


def base_summary(p: Plan) -> dict:
    """What every summary.json starts with: the scenario, the constellation, the window."""
    n_terminals = sum(1 for s in p.endpoints if s.kind is not SiteKind.SERVER)
    return {
        "scenario": p.scenario.name,
        "leosim_version": __version__,
        "constellation": p.constellation.description,
        "n_satellites": p.constellation.n_sats,
        "n_terminals": n_terminals,
        "n_pairs": len(p.pairs),
        "start": format_time(p.grid.start),
        "duration_s": p.grid.duration_s,
        "step_s": p.grid.step_s,
        "n_steps": p.grid.n_steps,
        "routing": p.routing.spec,
        "attachment": p.network.attachment.spec if p.network is not None else p.scenario.routing.attach,
    }


def analyse(scn: Scenario, source: Path | None = None, *, log=None, workers: int | None = None,
            executor=None, command: str = "this command", fix: str | None = None) -> tuple[Plan, dict[str, SectionResult]]:
    """Plan a scenario and run its sections without routing every step: what ``leosim
    capacity``, ``policy check``, ``jam``, ``exposure`` and ``latency`` do (their scenarios
    are built in memory from the options). ``command`` and ``fix``: what a refusal of a
    run too big to be meant names (:func:`~leosim.scenario.plan.build_plan`)."""
    p = build_plan(scn, source, workers=workers, command=command, fix=fix)
    _warn_epochs(p, log)
    upstream = run_sections(BEFORE_ROUTING, p, {}, Context(log=log))
    run_sections([s for s in AFTER_ROUTING if s.name != "traffic"], p, upstream,
                 Context(log=log, workers=workers, executor=executor))
    return p, upstream


def epoch_warning(p: Plan) -> str | None:
    """The plan's run is far from its element sets' epochs: the sentence to say once
    (:meth:`~leosim.space.constellation.Constellation.epoch_warning` over the run's first
    and last instants; the grid's times are not built)."""
    g = p.grid
    start = np.datetime64(g.start, "ns")
    last = start + np.timedelta64(int(round((g.n_steps - 1) * g.step_s * 1e9)), "ns")
    return p.constellation.epoch_warning(np.array([start, last], dtype="datetime64[ns]"))


def _warn_epochs(p: Plan, log) -> None:
    warning = epoch_warning(p)
    if warning and log:
        log(warning)


def write_results(out_dir: Path, p: Plan, results: dict[str, SectionResult]) -> list[Path]:
    """Every table of every section, in its schema's column order."""
    written = []
    region = p.scenario.jamming.region if p.scenario.jamming is not None else None
    for r in results.values():
        for name, rows in r.tables.items():
            kind = p.scenario.outputs.tables if name == "pairs" else "csv"
            written.append(write_table(out_dir, name, rows, columns(name, region if name == "jamming" else None), kind))
    return written


def write_maps(out_dir: Path, results: dict[str, SectionResult]) -> list[Path]:
    """The maps a run writes beside its tables: ``latency_map.png`` for a ``[latency]`` section."""
    written = []
    lat = results.get("latency")
    if lat is not None and lat.data.get("map"):
        from leosim.present.latency_maps import latency_section_map

        written.append(latency_section_map(out_dir / "latency_map.png", lat.data["rows"]))
    return written


def live_pairs(p: Plan, results: dict[str, SectionResult]) -> np.ndarray | None:
    """``(n_steps, n_pairs)`` bool: both ends admitted (None: every pair at every step)."""
    adm = results.get("admission")
    if adm is None or p.network is None:
        return None
    ok = np.ones((p.grid.n_steps, len(p.network.endpoints)), dtype=bool)
    ok[:, adm.data.terminal_index] = adm.data.admitted
    live = ok[:, p.pairs[:, 0]] & ok[:, p.pairs[:, 1]]
    return None if live.all() else live


def estimate_line(p: Plan, out_dir: Path, ts_name: str, *, resume: bool, workers, executor) -> str:
    """``estimate: ...``: the plan's size (:attr:`Plan.size`) and how long routing it will
    take, timed from a probe of its first steps (:func:`~leosim.engine.chunks.estimate_runtime`);
    the chunks a resumed run has done are not counted. The sections are not timed."""
    from leosim.engine.chunks import default_chunk_steps, default_workers, estimate_runtime
    from leosim.engine.stores import PairsStore

    line = f"estimate: {p.size.describe()}"
    if p.network is None or not len(p.pairs):
        return line + "; routes nothing (its sections are not timed)"
    skip: set[int] = set()
    chunk_steps = default_chunk_steps(p.grid, len(p.pairs))
    if resume and ts_name == "rtt.zarr" and (out_dir / ts_name).exists():
        store = PairsStore(out_dir / ts_name)
        skip, chunk_steps = store.done(), store.chunk_steps  # as route() will resume it
    took = estimate_runtime(p.network, p.grid, p.pairs, workers=workers or default_workers(),
                            chunk_steps=chunk_steps, executor=executor, skip=skip)
    line += f"; routing {took.describe()}"
    others = [name for name in p.sections if name != "traffic"]
    if others:
        line += f"; not timed: the {' and '.join(others)} section{'s' if len(others) > 1 else ''}"
    return line


def route(p: Plan, out_dir: Path, ts_name: str, fp: str, *, resume: bool, live, workers, executor, progress, log,
          state: dict | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Route every step into the store; the propagation RTT (ms), the predicted median
    ping (ms) and the path changes per pair come back. ``state["done"]`` counts the steps
    written (so an interrupt can say how far it got)."""
    from leosim.engine.chunks import default_chunk_steps, default_workers, run_pairs
    from leosim.engine.stores import PairsStore, PairsWriter, open_pairs

    state = {} if state is None else state
    grid, n_p = p.grid, len(p.pairs)
    attrs = {"scenario": p.scenario.name, "leosim_version": __version__, "constellation": p.constellation.description,
             "routing": p.network.routing.spec, "attachment": p.network.attachment.spec}
    chunk_steps = default_chunk_steps(grid, n_p)
    rtt = np.full((grid.n_steps, n_p), np.nan, dtype=np.float32)
    ping = np.full((grid.n_steps, n_p), np.nan, dtype=np.float32)
    changed = np.zeros(n_p, dtype=np.int64)
    skip: set[int] = set()
    store = writer = None
    if ts_name == "rtt.zarr":
        if resume and (out_dir / ts_name).exists():
            store = PairsStore(out_dir / ts_name)
            chunk_steps = store.chunk_steps  # as it was laid out (an earlier default may differ)
            skip = store.done()
            done_ds = open_pairs(out_dir / ts_name)
            for i0 in sorted(skip):  # read only the chunks that are done, one at a time
                i1 = min(i0 + chunk_steps, grid.n_steps)
                rtt[i0:i1] = done_ds["rtt_ms"][i0:i1].values
                ping[i0:i1] = done_ds["ping_ms"][i0:i1].values
                changed[:] += np.count_nonzero(done_ds["path_changed"][i0:i1].values, axis=0)
            if log:
                log(f"resuming: {len(skip)} chunks already done")
        else:
            store = PairsStore.create(out_dir / ts_name, grid, p.network.endpoints, p.pairs, chunk_steps, fp, attrs)
    else:
        writer = PairsWriter(out_dir / ts_name, grid, p.network.endpoints, p.pairs, attrs=attrs)
    state["done"] = sum(min(i0 + chunk_steps, grid.n_steps) - i0 for i0 in skip)

    def sink(ch):
        if live is not None:  # a terminal that is not admitted carries nothing
            on = live[ch.i0:ch.i1]
            before = np.concatenate([live[ch.i0 - 1:ch.i0] if ch.i0 > 0 else on[:1], on[:-1]])
            ch.rtt_s = np.where(on, ch.rtt_s, np.nan)
            ch.ping_s = np.where(on, ch.ping_s, np.nan)
            ch.length_m = np.where(on, ch.length_m, np.nan)
            ch.hops = np.where(on, ch.hops, 0).astype(ch.hops.dtype)
            ch.path_hash = np.where(on, ch.path_hash, 0).astype(ch.path_hash.dtype)
            # a path change while admitted on both steps, and every switch in or out of service
            ch.path_changed = (ch.path_changed & on & before) | (on != before)
        if store is not None:
            store.write(ch)
        else:
            writer.write(ch)
        rtt[ch.i0:ch.i1] = ch.rtt_s * 1e3  # the float32 ms the store holds
        ping[ch.i0:ch.i1] = ch.ping_s * 1e3
        changed[:] += np.count_nonzero(ch.path_changed, axis=0)
        state["done"] += ch.i1 - ch.i0
        if progress:
            progress(state["done"], grid.n_steps)

    try:
        run_pairs(p.network, grid, p.pairs, sink, workers=workers or default_workers(), chunk_steps=chunk_steps,
                  executor=executor, skip=skip)
    finally:
        if writer is not None:
            writer.close()
    if store is not None:
        store.finish()
    return rtt, ping, changed


def run(
    scn: Scenario,
    text: str,
    out_dir: Path,
    *,
    source: Path | None = None,
    overwrite: bool = False,
    resume: bool = False,
    seed: int | None = None,
    workers: int | None = None,
    executor=None,
    progress=None,
    log=None,
    max_bytes: float | None = None,
    resume_hint: str | None = None,
    estimate: bool = False,
) -> dict:
    """Run a scenario into ``out_dir``; returns the summary (also in summary.json).

    ``executor``: where chunks run (:mod:`leosim.engine.executors`; default: forked
    processes on ``workers`` cores). ``resume``: finish an interrupted run in ``out_dir``
    (zarr output): only chunks not yet written are computed; a directory that does not
    exist yet (or is empty) is started. ``progress(done_steps, total_steps)`` is called
    after each chunk; ``log(text)`` gets a line describing the run.

    Nothing is created before the plan is built and its size checked against
    ``max_bytes`` (:func:`leosim.scenario.plan.scenario_size`). Ctrl-C raises
    :class:`~leosim.pipeline.output.Interrupted` and a failed write
    :class:`~leosim.pipeline.output.OutputError`, each with one line saying how far the
    run got and ``resume_hint`` (default: ``leosim run SCENARIO -o DIR --resume``); the
    ``INCOMPLETE`` marker stays. ``estimate``: before any section runs, ``log`` the plan's
    size and how long routing will take (:func:`estimate_line`, which solves the first
    few steps to time them).
    """
    from leosim.engine.stores import PairsStore

    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    if seed is not None:
        scn = scn.model_copy(update={"seed": seed})
    ts_name = "rtt.zarr" if scn.outputs.time_series == "zarr" else "rtt.nc"
    fp = fingerprint(scn.seed, text)
    if resume_hint is None:
        resume_hint = f"leosim run {shlex.quote(str(source or scn.name))} -o {shlex.quote(str(out_dir))} --resume"
    resume_store = resume  # route into the store there (False: lay it out afresh)
    if resume:
        if ts_name != "rtt.zarr":
            raise ScenarioError("resuming needs outputs.time_series = 'zarr'; a netCDF file cannot be resumed")
        if not out_dir.exists() or (out_dir.is_dir() and not any(out_dir.iterdir())):
            if log:
                log(f"{out_dir} holds no run yet: starting it")
            resume = resume_store = False
        elif not (out_dir / MARKER).exists():
            raise ScenarioError(
                f"cannot resume {str(out_dir)!r}: it holds no interrupted run (no INCOMPLETE marker); "
                "expected the output directory of a run that was stopped"
            )
        else:
            check_resumable(out_dir)
            if PairsStore.layout_cut_short(out_dir / ts_name):  # ours (the marker says so), never laid out whole
                if log:
                    log(f"{out_dir / ts_name} was never laid out whole: routing from the first step")
                resume_store = False
            elif (out_dir / ts_name).exists():
                PairsStore.resume(out_dir / ts_name, fp)  # refuses another run's store, changing nothing
            elif log:
                log(f"{out_dir} has no {ts_name} yet: routing from the first step")
    else:
        check_output(out_dir, overwrite)
    p = build_plan(scn, source, max_bytes=max_bytes, workers=workers)
    _warn_epochs(p, log)
    if not resume:
        prepare_output(out_dir, overwrite)
    marker = mark_incomplete(out_dir)
    state = {"done": 0, "total": p.grid.n_steps, "stage": "before routing"}
    finish = (f"finish it with: {resume_hint}" if ts_name == "rtt.zarr"
              else f"run it again with: {resume_hint.replace(' --resume', ' --overwrite')} (a netCDF run cannot be resumed)")
    try:
        summary = _run_planned(p, scn, text, out_dir, ts_name, fp, resume=resume_store, workers=workers, executor=executor,
                               progress=progress, log=log, state=state, t0=t0, estimate=estimate)
    except KeyboardInterrupt:
        line = f"interrupted {_how_far(state)}; {out_dir} is incomplete (its {MARKER} file says so); {finish}"
        _try_write(marker, line[:1].upper() + line[1:] + "\n")
        raise Interrupted(line) from None
    except OSError as exc:
        fault = output_fault(exc, out_dir, f"stopped {_how_far(state)}, {out_dir} is incomplete (its {MARKER} marker stays)",
                             f"free space or fix permissions, then {finish}")
        raise fault from None
    marker.unlink()
    return summary


def _how_far(state: dict) -> str:
    """``after 450 of 1,800 steps``, or the stage and the steps routed."""
    steps = f"{state['done']:,} of {state['total']:,} steps"
    if state["stage"] == "routing":
        return f"after {steps}"
    if state["stage"] == "before routing":
        return f"before routing (0 of {state['total']:,} steps)"
    return f"{state['stage']}, after routing {steps}"


def _try_write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError:
        pass  # the marker is there already; a full disk may refuse the longer text


def _run_planned(p: Plan, scn: Scenario, text: str, out_dir: Path, ts_name: str, fp: str, *, resume, workers,
                 executor, progress, log, state: dict, t0: float, estimate: bool = False) -> dict:
    """Everything of :func:`run` after the output directory is marked incomplete."""
    write_atomic(out_dir / "scenario.toml", text)
    if log:
        n_ep = len(p.network.endpoints) if p.network is not None else len(p.terminals)
        log(f"{scn.name}: {p.constellation.n_sats:,} satellites, {n_ep} endpoints, {len(p.pairs)} pairs, "
            f"{p.grid.n_steps} steps of {p.grid.step_s:g} s from {format_time(p.grid.start)}")
        if estimate:
            log(estimate_line(p, out_dir, ts_name, resume=resume, workers=workers, executor=executor))
    state["stage"] = "while deciding who is served"
    results = run_sections(BEFORE_ROUTING, p, {}, Context(log=log))
    rtt = ping = changed = None
    if p.network is not None and len(p.pairs):
        state["stage"] = "routing"
        rtt, ping, changed = route(p, out_dir, ts_name, fp, resume=resume, live=live_pairs(p, results), workers=workers,
                                   executor=executor, progress=progress, log=log, state=state)
    else:
        state["done"] = p.grid.n_steps
    t_solve = time.perf_counter() - t0
    state["stage"] = "while the sections read the routes"
    run_sections(AFTER_ROUTING, p, results, Context(rtt_ms=rtt, ping_ms=ping, path_changes=changed, log=log,
                                                    solve_time_s=t_solve, workers=workers, executor=executor))
    state["stage"] = "while writing the tables and the report"
    write_results(out_dir, p, results)
    write_maps(out_dir, results)
    summary = base_summary(p)
    for r in results.values():
        summary.update(r.summary)
    summary["solve_time_s"] = round(t_solve, 2)
    if scn.outputs.report:
        from leosim.present.report import write_report

        write_report(out_dir / "report.html", p, results, summary, text)
    summary["run_time_s"] = round(time.perf_counter() - t0, 2)
    write_json(out_dir / "summary.json", summary)
    return summary


__all__ = ["analyse", "base_summary", "estimate_line", "live_pairs", "prepare_output", "route", "run", "write_maps", "write_results"]
