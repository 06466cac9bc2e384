"""``leosim constellation``, ``visible``, ``path`` and ``pairs``: the network questions."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from leosim import __version__
from leosim.apps.cli.common import (
    DEFAULT_CLI_ATTACH,
    DEFAULT_ROUTING,
    AttachOpt,
    ConstellationOpt,
    DurationOpt,
    ExecutorOpt,
    Fmt,
    FormatOpt,
    IslFileOpt,
    MaxGslOpt,
    MaxIslOpt,
    MaxSizeOpt,
    MinElOpt,
    PopOpt,
    RoutingOpt,
    SchedulerOpt,
    StartOpt,
    StepOpt,
    TleOpt,
    WorkersOpt,
    check_choices,
    check_durations,
    csv_text,
    elevation,
    emit,
    err,
    executor_from_options,
    interrupted,
    load_constellation,
    max_bytes,
    network_from_options,
    out,
    progress,
    time_grid,
    warn_epochs,
)
from leosim.core.time import format_time, parse_time
from leosim.core.visibility import DEFAULT_MIN_ELEVATION_DEG, VisibilityRule
from leosim.errors import ParameterError


# ------------------------------------------------------------------ constellation
def constellation_cmd(
    constellation: ConstellationOpt = None,
    tle: TleOpt = None,
    format: FormatOpt = Fmt.table,
) -> None:
    """What was loaded: satellites, recovered shells and planes, epochs."""
    from leosim.space.structure import plus_grid_pairs

    c = load_constellation(constellation, tle)
    s = c.summary()
    s["n_isl_plus_grid"] = int(len(plus_grid_pairs(c)))
    if format is Fmt.json:
        emit(json.dumps(s, indent=2) + "\n", None)
        return
    if format is Fmt.csv:
        emit(csv_text(s["shells"], ["shell", "n_satellites", "n_planes", "mean_altitude_km", "inclination_deg"]), None)
        return
    out.print(f"[bold]{s['description']}[/bold]")
    out.print(f"{s['n_satellites']:,} satellites, {s['n_shells']} shells, {s['n_unassigned']} not in a shell; "
              f"{s['n_isl_plus_grid']:,} +Grid laser links; epochs {s['epoch_min'][:19]} to {s['epoch_max'][:19]} UTC")
    t = Table("shell", "satellites", "planes", "altitude km", "inclination deg")
    for sh in s["shells"]:
        t.add_row(str(sh["shell"]), f"{sh['n_satellites']:,}", str(sh["n_planes"]), f"{sh['mean_altitude_km']:.1f}", f"{sh['inclination_deg']:.2f}")
    out.print(t)


# ------------------------------------------------------------------------ visible
def visible_cmd(
    site: Annotated[str, typer.Option("--site", help="Place: a city ('Kyiv'), 'LAT,LON' in degrees, or a gateway/PoP name.")],
    at: Annotated[str | None, typer.Option("--at", help="ISO 8601 UTC time; default: the element-set epoch.")] = None,
    min_elevation: Annotated[float, typer.Option("--min-elevation", help="Elevation mask, degrees (0-90).")] = DEFAULT_MIN_ELEVATION_DEG,
    constellation: ConstellationOpt = None,
    tle: TleOpt = None,
    format: FormatOpt = Fmt.table,
) -> None:
    """Satellites visible from a place at one instant."""
    from leosim.core.geodesy import look_angles
    from leosim.ground.places import resolve_place

    rule = VisibilityRule(min_elevation)
    c = load_constellation(constellation, tle)
    place = resolve_place(site)
    t = parse_time(at) if at else c.epoch
    warn_epochs(c, np.array([t]))
    pos = c.positions(np.array([t]))[0]
    el, az, rng = look_angles(place.latitude_deg, place.longitude_deg, place.altitude_m, pos)
    idx = np.flatnonzero(rule.sees(el, rng))
    idx = idx[np.argsort(-el[idx])]
    rows = [
        {
            "name": c.names[i],
            "norad_id": "" if c.norad_ids[i] is None else c.norad_ids[i],
            "elevation_deg": round(float(el[i]), 3),
            "azimuth_deg": round(float(az[i]), 3),
            "range_km": round(float(rng[i]) / 1e3, 3),
        }
        for i in idx
    ]
    cols = ["name", "norad_id", "elevation_deg", "azimuth_deg", "range_km"]
    if format is Fmt.csv:
        emit(csv_text(rows, cols), None)
    elif format is Fmt.json:
        for r in rows:
            r["norad_id"] = None if r["norad_id"] == "" else r["norad_id"]
        emit(json.dumps(rows, indent=1) + "\n", None)
    else:
        out.print(f"{len(rows)} satellites above {min_elevation:g} deg from {place.name} "
                  f"({place.latitude_deg:.4f}, {place.longitude_deg:.4f}) at {format_time(t)}")
        tab = Table(*cols)
        for r in rows:
            tab.add_row(*(str(r[k]) for k in cols))
        out.print(tab)


#: ``leosim path`` keeps a row per step (measured: 3.3 kB for a 7-node path, and the CSV
#: copy) and writes about 200 bytes a step.
PATH_ROW_BYTES = 6_000
PATH_TEXT_BYTES = 250


def path_cmd(
    src: Annotated[str, typer.Option("--src", help="Start: a city, 'LAT,LON', a site of --ground-stations; prefix 'internet:' for a server on the terrestrial internet.")],
    dst: Annotated[str, typer.Option("--dst", help="End, like --src (e.g. 'internet:Ashburn, Virginia').")],
    start: StartOpt = None,
    duration: DurationOpt = "10min",
    step: StepOpt = "100ms",
    routing: RoutingOpt = DEFAULT_ROUTING,
    attach: AttachOpt = DEFAULT_CLI_ATTACH,
    min_elevation: MinElOpt = None,
    max_gsl_length: MaxGslOpt = None,
    max_isl_length: MaxIslOpt = None,
    isl_file: IslFileOpt = None,
    pop: PopOpt = "home",
    ground_stations: Annotated[Path | None, typer.Option("--ground-stations", help="Site file (CSV with header, or Hypatia id,name,lat,lon,elev); names in it resolve first.")] = None,
    constellation: ConstellationOpt = None,
    tle: TleOpt = None,
    format: FormatOpt = Fmt.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write CSV/JSON here instead of standard output.")] = None,
    workers: WorkersOpt = None,
    max_size: MaxSizeOpt = None,
) -> None:
    """Round-trip time and path between two places, at every step."""
    from leosim.engine.chunks import default_workers, run_pairs
    from leosim.engine.size import estimate
    from leosim.ground.places import resolve_endpoint
    from leosim.ground.sites import GroundSegment

    elevation(min_elevation, max_gsl_length)
    n_steps = check_durations(duration, step).n_steps
    # every step is a row kept until the end (its path as names), then written
    estimate("leosim path", n_steps, 1, workers=workers or default_workers(), store=False,
             keep_bytes_per_step=PATH_ROW_BYTES, extra_output=n_steps * PATH_TEXT_BYTES).check(max_bytes(max_size))
    check_choices(routing, attach, pop)
    sites = GroundSegment.from_file(ground_stations) if ground_stations is not None else None
    a, b = resolve_endpoint(src, sites), resolve_endpoint(dst, sites)
    c = load_constellation(constellation, tle)
    grid = time_grid(c, start, duration, step)
    warn_epochs(c, grid)
    net = network_from_options(c, GroundSegment.from_sites([a, b]), routing, attach, min_elevation, max_gsl_length, max_isl_length, isl_file,
                               pop_selection=pop)
    rows: list[dict] = []

    def sink(ch):
        for k in range(ch.i1 - ch.i0):
            i = ch.i0 + k
            rtt = float(ch.rtt_s[k, 0]) * 1e3
            ping = float(ch.ping_s[k, 0]) * 1e3
            rows.append({
                "t_s": round(float(grid.offsets_s[i]), 6),
                "rtt_ms": None if not np.isfinite(rtt) else round(rtt, 4),
                "ping_ms": None if not np.isfinite(ping) else round(ping, 3),
                "length_km": None if not np.isfinite(rtt) else round(float(ch.length_m[k, 0]) / 1e3, 3),
                "hops": int(ch.hops[k, 0]),
                "path": [net.node_name(n) for n in ch.paths[k][0]],
                "time_utc": format_time(grid.times[i]),
            })

    with progress("routing") as prog:
        task = prog.add_task("routing", total=grid.n_steps)
        run_pairs(net, grid, np.array([[0, 1]]), sink, workers=workers or default_workers(), want_paths=True,
                  progress=lambda n: prog.advance(task, n))
    cols = ["t_s", "rtt_ms", "length_km", "hops", "path", "time_utc", "ping_ms"]
    fmt = format
    if output is not None and format is Fmt.table:
        fmt = Fmt.json if output.suffix.lower() == ".json" else Fmt.csv
    if fmt is Fmt.json:
        emit(json.dumps(rows, indent=None, separators=(",", ":")).replace("},{", "},\n{") + "\n", output)
        return
    if fmt is Fmt.csv:
        csv_rows = [dict(r, path=" > ".join(r["path"]), rtt_ms="" if r["rtt_ms"] is None else r["rtt_ms"],
                         ping_ms="" if r["ping_ms"] is None else r["ping_ms"],
                         length_km="" if r["length_km"] is None else r["length_km"]) for r in rows]
        emit(csv_text(csv_rows, cols), output)
        return
    _print_path_table(a, b, net, grid, rows)


def _print_path_table(a, b, net, grid, rows) -> None:
    rtts = np.array([np.nan if r["rtt_ms"] is None else r["rtt_ms"] for r in rows])
    ok = np.isfinite(rtts)
    out.print(f"[bold]{a.name} -> {b.name}[/bold]: {net.routing.name} routing, {net.attachment.name} attachment, "
              f"{grid.n_steps} steps of {grid.step_s:g} s from {format_time(grid.start)}")
    if ok.any():
        pings = np.array([np.nan if r["ping_ms"] is None else r["ping_ms"] for r in rows])
        out.print(f"propagation RTT min {np.nanmin(rtts):.2f} / median {np.nanmedian(rtts):.2f} / max {np.nanmax(rtts):.2f} ms; "
                  f"predicted ping median {np.nanmedian(pings):.1f} ms; reachable {ok.mean():.0%} of steps")
    else:
        out.print("[red]no path at any step[/red]")
    tab = Table("t_s", "rtt_ms", "ping_ms", "length_km", "hops", "path")
    prev = None
    changes = 0
    for r in rows:
        key = tuple(r["path"])
        if key != prev:
            changes += prev is not None
            tab.add_row(f"{r['t_s']:g}", "-" if r["rtt_ms"] is None else f"{r['rtt_ms']:.2f}",
                        "-" if r["ping_ms"] is None else f"{r['ping_ms']:.1f}",
                        "-" if r["length_km"] is None else f"{r['length_km']:.0f}", str(r["hops"]), " > ".join(r["path"]))
            prev = key
    out.print(f"{changes} path changes; the steps where the path changed:")
    out.print(tab)


def pairs_cmd(
    ground_stations: Annotated[str, typer.Option("--ground-stations", help="Site file (CSV or Hypatia) or preset: cities-100, cities-N-CC, starlink-gateways, starlink-pops.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output dataset: OUT.zarr or OUT.nc (a new path, or --overwrite).")],
    start: StartOpt = None,
    duration: DurationOpt = "10min",
    step: StepOpt = "100ms",
    routing: RoutingOpt = DEFAULT_ROUTING,
    attach: AttachOpt = DEFAULT_CLI_ATTACH,
    min_elevation: MinElOpt = None,
    max_gsl_length: MaxGslOpt = None,
    max_isl_length: MaxIslOpt = None,
    isl_file: IslFileOpt = None,
    constellation: ConstellationOpt = None,
    tle: TleOpt = None,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = "processes",
    scheduler: SchedulerOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted run into the same OUT.zarr: only missing chunks are computed (an OUT.zarr that does not exist yet is started).")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing OUT.zarr or OUT.nc (never a symbolic link).")] = False,
    chunk_steps: Annotated[int | None, typer.Option("--chunk-steps", help="Steps per chunk (a task, and a zarr chunk along time).", min=1)] = None,
    max_size: MaxSizeOpt = None,
) -> None:
    """RTT, path length and hops for every pair of a set of ground nodes, as an xarray dataset."""
    from leosim.engine.chunks import default_chunk_steps, default_workers, estimate_runtime, run_pairs
    from leosim.engine.size import estimate
    from leosim.engine.stores import PairsStore, PairsWriter
    from leosim.ground.sites import GroundSegment
    from leosim.pipeline.output import OutputError, clear_store, output_fault, prepare_store

    elev = elevation(min_elevation, max_gsl_length)
    window = check_durations(duration, step)
    check_choices(routing, attach)
    if output.suffix.lower() not in (".zarr", ".nc"):  # before anything at OUTPUT is touched
        raise ParameterError(f"output {str(output)!r} has suffix {output.suffix or 'none'!r}; expected OUT.zarr or OUT.nc")
    if resume and output.suffix.lower() != ".zarr":
        raise ParameterError(f"--resume needs a zarr store (OUT.zarr); got {str(output)!r}")
    p = Path(ground_stations)
    sites = GroundSegment.from_file(p) if p.exists() or p.suffix else GroundSegment.preset(ground_stations)
    if len(sites) < 2:
        raise ParameterError(f"{ground_stations!r} has {len(sites)} ground station(s); expected at least 2 to form pairs")
    n_pairs = len(sites) * (len(sites) - 1) // 2
    steps = chunk_steps or default_chunk_steps(window, n_pairs)
    size = estimate("leosim pairs", window.n_steps, n_pairs, workers=workers or default_workers(), chunk_steps=steps)
    size.check(max_bytes(max_size), fix="a coarser --step, a shorter --duration or fewer --ground-stations")
    action = prepare_store(output, overwrite=overwrite, resume=resume)  # refuses, changing nothing
    c = load_constellation(constellation, tle)
    grid = time_grid(c, start, duration, step)
    warn_epochs(c, grid)
    net = network_from_options(c, sites, routing, attach, min_elevation, max_gsl_length, max_isl_length, isl_file)
    i, j = np.triu_indices(len(sites), k=1)
    pairs = np.stack([i, j], axis=1)
    attrs = {"constellation": c.description, "routing": net.routing.spec, "attachment": net.attachment.spec,
             "min_elevation_deg": elev, "leosim_version": __version__}
    # what determines the numbers: a resumed run must match the interrupted one exactly
    recipe = [__version__, c.description, c.n_sats, str(grid.start), grid.step_s, grid.n_steps, steps, sites.names,
              net.routing.spec, net.attachment.spec, elev, max_gsl_length, max_isl_length,
              None if isl_file is None else hashlib.sha256(isl_file.read_bytes()).hexdigest(),
              None if tle is None else hashlib.sha256(tle.read_bytes()).hexdigest()]
    fingerprint = hashlib.sha256(json.dumps(recipe, default=str).encode()).hexdigest()
    store = writer = None
    skip: set[int] = set()
    zarr = output.suffix.lower() == ".zarr"
    hint = (f"finish it with: {_resume_command()}" if zarr
            else "run the same command again with --overwrite (a netCDF file cannot be resumed)")
    runner = executor_from_options(executor, workers, scheduler)  # fails (unreachable scheduler) before anything is written
    done = [0]
    with runner as ex:
        try:
            if action == "resume" and PairsStore.layout_cut_short(output, fingerprint):
                err.print(f"{output} was never laid out whole (this same run was stopped while it was): starting it again")
                action = "replace"
            if action == "resume":
                store = PairsStore.resume(output, fingerprint)
                skip = store.done()
                err.print(f"resuming {output}: {len(skip)} chunks already done")
            else:
                if action == "start":
                    err.print(f"{output} does not exist yet: starting it")
                if action == "replace":
                    clear_store(output)
                if zarr:
                    store = PairsStore.create(output, grid, sites, pairs, steps, fingerprint, attrs)
                else:
                    writer = PairsWriter(output, grid, sites, pairs, attrs=attrs)
            done[0] = min(len(skip) * steps, grid.n_steps)
            took = estimate_runtime(net, grid, pairs, chunk_steps=steps, executor=ex, skip=skip)
            err.print(f"estimate: {size.describe()}; {took.describe()}", markup=False, highlight=False)
            with progress("routing") as prog:
                task = prog.add_task("routing", total=grid.n_steps)
                prog.advance(task, done[0])

                def advance(n: int) -> None:
                    done[0] += n
                    prog.advance(task, n)

                run_pairs(net, grid, pairs, (lambda ch: None) if store is not None else writer.write,
                          chunk_steps=steps, executor=ex, store=store, skip=skip, progress=advance)
            if store is not None:
                store.finish()
            else:
                writer.close()
        except KeyboardInterrupt:
            if writer is not None:
                writer.close()
            interrupted(f"interrupted after {done[0]:,} of {grid.n_steps:,} steps; {output} is incomplete; {hint}")
        except OSError as exc:
            if not output.exists() and not output.is_symlink():  # it could not even be created
                raise OutputError(f"cannot create {str(output)!r}: {exc.strerror or exc}; nothing was written; "
                                  "expected a path this user can write") from None
            fault = output_fault(exc, output, f"stopped after {done[0]:,} of {grid.n_steps:,} steps, {output} is incomplete",
                                 f"free space or fix permissions, then {hint}")
            raise fault from None
    err.print(f"wrote {output}: {grid.n_steps} steps x {len(pairs)} pairs")


def _resume_command() -> str:
    """This command line, as typed, with --resume (and without --overwrite)."""
    import shlex
    import sys

    args = [a for a in sys.argv[1:] if a != "--overwrite"]
    if "--resume" not in args:
        args.append("--resume")
    return " ".join(shlex.quote(a) for a in ["leosim", *args])



def register(app: typer.Typer) -> None:
    """Add ``constellation``, ``visible``, ``path`` and ``pairs`` to the ``leosim`` app."""
    app.command("constellation")(constellation_cmd)
    app.command("visible")(visible_cmd)
    app.command("path")(path_cmd)
    app.command("pairs")(pairs_cmd)


__all__ = ["register"]
