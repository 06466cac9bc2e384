"""The ``leosim`` command line (typer + rich): an adapter over the package's API.

Errors the user can fix (bad files, unknown places, impossible parameters) are the
package's own exceptions; they are printed as one line, without a traceback, and the
command exits with status 1.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from leosim import __version__
from leosim.core.time import TimeGrid, format_time, parse_time
from leosim.errors import LeosimError, ParameterError
from leosim.network.attachment import POLICIES
from leosim.network.routing import ROUTING_MODES

app = typer.Typer(
    name="leosim",
    help="Simulate a Starlink-like satellite internet system: orbits, links, routes, latency.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
if not out.is_terminal:  # piped or captured: wide enough for the tables, never wrapped
    out.width = 200
err = Console(stderr=True, soft_wrap=True)


class Fmt(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


# the names come from the one table each that maps them to objects
Routing = StrEnum("Routing", [(name, name) for name in ROUTING_MODES])
Attach = StrEnum("Attach", [(name, name) for name in POLICIES])


ConstellationOpt = Annotated[
    str | None,
    typer.Option("--constellation", "-c", help="Built-in constellation: starlink-2026-05 (real TLEs, default), starlink-gen1, starlink-shell1, starlink-gen2a."),
]
TleOpt = Annotated[
    Path | None,
    typer.Option("--tle", help="Element-set file instead of a preset: TLE (2/3-line, .gz ok), CelesTrak OMM JSON/CSV, or Hypatia tles.txt."),
]
FormatOpt = Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")]
DEFAULT_CONSTELLATION = "starlink-2026-05"


def _constellation(name: str | None, tle: Path | None):
    from leosim.space.constellation import Constellation

    if name and tle:
        raise ParameterError(f"both --constellation {name!r} and --tle {str(tle)!r} were given; expected one of them")
    if tle is not None:
        return Constellation.from_file(tle)
    return Constellation.preset(name or DEFAULT_CONSTELLATION)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
    else:
        try:
            output.write_text(text)
        except OSError as exc:
            raise ParameterError(f"cannot write output file {str(output)!r}: {exc.strerror}; expected a writable path") from None
        err.print(f"wrote {output}")


def _csv(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _print_version(value: bool) -> None:
    if value:
        out.print(f"leosim {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version)
    ] = False,
) -> None:
    """Simulate a Starlink-like satellite internet system."""


# ------------------------------------------------------------------ constellation
@app.command("constellation")
def constellation_cmd(
    constellation: ConstellationOpt = None,
    tle: TleOpt = None,
    format: FormatOpt = Fmt.table,
) -> None:
    """What was loaded: satellites, recovered shells and planes, epochs."""
    from leosim.space.structure import plus_grid_pairs

    c = _constellation(constellation, tle)
    s = c.summary()
    s["n_isl_plus_grid"] = int(len(plus_grid_pairs(c)))
    if format is Fmt.json:
        _emit(json.dumps(s, indent=2) + "\n", None)
        return
    if format is Fmt.csv:
        _emit(_csv(s["shells"], ["shell", "n_satellites", "n_planes", "mean_altitude_km", "inclination_deg"]), None)
        return
    out.print(f"[bold]{s['description']}[/bold]")
    out.print(f"{s['n_satellites']:,} satellites, {s['n_shells']} shells, {s['n_unassigned']} not in a shell; "
              f"{s['n_isl_plus_grid']:,} +Grid laser links; epochs {s['epoch_min'][:19]} to {s['epoch_max'][:19]} UTC")
    t = Table("shell", "satellites", "planes", "altitude km", "inclination deg")
    for sh in s["shells"]:
        t.add_row(str(sh["shell"]), f"{sh['n_satellites']:,}", str(sh["n_planes"]), f"{sh['mean_altitude_km']:.1f}", f"{sh['inclination_deg']:.2f}")
    out.print(t)


# ------------------------------------------------------------------------ visible
@app.command("visible")
def visible_cmd(
    site: Annotated[str, typer.Option("--site", help="Place: a city ('Kyiv'), 'LAT,LON' in degrees, or a gateway/PoP name.")],
    at: Annotated[str | None, typer.Option("--at", help="ISO 8601 UTC time; default: the element-set epoch.")] = None,
    min_elevation: Annotated[float, typer.Option("--min-elevation", help="Elevation mask, degrees (0-90).")] = 25.0,
    constellation: ConstellationOpt = None,
    tle: TleOpt = None,
    format: FormatOpt = Fmt.table,
) -> None:
    """Satellites visible from a place at one instant."""
    from leosim.core.geodesy import look_angles
    from leosim.ground.sites import resolve_place

    if not (0.0 <= min_elevation <= 90.0):
        raise ParameterError(f"min elevation {min_elevation:g} deg is outside 0-90 deg; expected an elevation from 0 to 90")
    c = _constellation(constellation, tle)
    place = resolve_place(site)
    t = parse_time(at) if at else c.epoch
    pos = c.positions(np.array([t]))[0]
    el, az, rng = look_angles(place.latitude_deg, place.longitude_deg, place.altitude_m, pos)
    idx = np.flatnonzero(np.nan_to_num(el, nan=-90) >= min_elevation)
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
        _emit(_csv(rows, cols), None)
    elif format is Fmt.json:
        for r in rows:
            r["norad_id"] = None if r["norad_id"] == "" else r["norad_id"]
        _emit(json.dumps(rows, indent=1) + "\n", None)
    else:
        out.print(f"{len(rows)} satellites above {min_elevation:g} deg from {place.name} "
                  f"({place.latitude_deg:.4f}, {place.longitude_deg:.4f}) at {format_time(t)}")
        tab = Table(*cols)
        for r in rows:
            tab.add_row(*(str(r[k]) for k in cols))
        out.print(tab)


# --------------------------------------------------------------- path and pairs
def _network(c, endpoints, routing, attach, min_elevation, max_gsl_length, max_isl_length, isl_file, pop_selection="nearest"):
    from leosim.ground.sites import GroundSegment
    from leosim.network.attachment import policy
    from leosim.network.routing import LinkOptions, Network, routing_mode
    from leosim.space.structure import read_isl_file

    links = LinkOptions(
        min_elevation_deg=min_elevation,
        gateway_min_elevation_deg=min_elevation,
        max_gsl_length_m=max_gsl_length,
        max_isl_length_m=max_isl_length,
    )
    mode = routing_mode(routing.value)
    isl_pairs = read_isl_file(isl_file, c.n_sats) if isl_file is not None else None
    needs_ground = mode.name != "isl" or any(k == "server" for k in endpoints.kinds)
    return Network(
        constellation=c,
        endpoints=endpoints,
        gateways=GroundSegment.starlink_gateways() if needs_ground else GroundSegment.from_sites([]),
        pops=GroundSegment.starlink_pops() if needs_ground else GroundSegment.from_sites([]),
        routing=mode,
        attachment=policy(attach.value),
        links=links,
        isl_pairs=isl_pairs,
        pop_selection=pop_selection,
    )


def _grid(c, start, duration, step) -> TimeGrid:
    return TimeGrid.from_duration(parse_time(start) if start else c.epoch, duration, step)


def _progress(label: str):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("steps"), TimeRemainingColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    )


StartOpt = Annotated[str | None, typer.Option("--start", help="ISO 8601 UTC start; default: the element-set epoch.")]
DurationOpt = Annotated[str, typer.Option("--duration", help="How long: 100ms, 15s, 10min, 2h.")]
StepOpt = Annotated[str, typer.Option("--step", help="Time step: 100ms, 1s, 15s.")]
RoutingOpt = Annotated[Routing, typer.Option("--routing", help="isl: laser links, no ground relays; bent-pipe: one satellite hop to a gateway, then fibre; hybrid: both, gateways may relay.")]
AttachOpt = Annotated[Attach, typer.Option("--attach", help="Which visible satellite a terminal uses: free (any; shortest path decides), max-elevation, longest-visible, scheduled (Starlink's 15 s global reconfiguration).")]
MinElOpt = Annotated[float | None, typer.Option("--min-elevation", help="Ground-satellite elevation mask, degrees (default 25).")]
MaxGslOpt = Annotated[float | None, typer.Option("--max-gsl-length", help="Hypatia-style: a ground-satellite link exists when its slant range is at most this many metres (instead of the elevation mask).")]
MaxIslOpt = Annotated[float | None, typer.Option("--max-isl-length", help="Drop laser links longer than this many metres (they are always dropped when they dip below 80 km altitude).")]
IslFileOpt = Annotated[Path | None, typer.Option("--isl-file", help="Laser links from a file (Hypatia isls.txt: one 'A B' satellite-index pair per line) instead of +Grid.")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", "-j", help="Processes or Dask workers to use (default: all cores).", min=1)]
ExecutorOpt = Annotated[str, typer.Option("--executor", help="Where chunks run: serial, processes (this machine's cores), dask (a LocalCluster, or --scheduler).")]
SchedulerOpt = Annotated[str | None, typer.Option("--scheduler", help="Address of an existing Dask scheduler, tcp://HOST:PORT (with --executor dask).")]


class _executor:
    """An executor as a context manager that says where its dashboard is."""

    def __init__(self, name: str, workers: int | None, scheduler: str | None):
        from leosim.engine.executors import make_executor

        self.ex = make_executor(name, workers, scheduler)

    def __enter__(self):
        if self.ex.dashboard_link:
            err.print(f"Dask dashboard: {self.ex.dashboard_link}")
        return self.ex

    def __exit__(self, *exc):
        self.ex.close()


def _check_durations(duration: str, step: str) -> None:
    """Fail on a bad duration or step before anything slow is loaded."""
    TimeGrid.from_duration(np.datetime64("2000-01-01"), duration, step)


def _elevation(min_elevation, max_gsl_length) -> float:
    if min_elevation is not None and max_gsl_length is not None:
        raise ParameterError("both --min-elevation and --max-gsl-length were given; expected one of them")
    return 25.0 if min_elevation is None else min_elevation


@app.command("path")
def path_cmd(
    src: Annotated[str, typer.Option("--src", help="Start: a city, 'LAT,LON', a site of --ground-stations; prefix 'internet:' for a server on the terrestrial internet.")],
    dst: Annotated[str, typer.Option("--dst", help="End, like --src (e.g. 'internet:Ashburn, Virginia').")],
    start: StartOpt = None,
    duration: DurationOpt = "10min",
    step: StepOpt = "100ms",
    routing: RoutingOpt = Routing["isl"],
    attach: AttachOpt = Attach["free"],
    min_elevation: MinElOpt = None,
    max_gsl_length: MaxGslOpt = None,
    max_isl_length: MaxIslOpt = None,
    isl_file: IslFileOpt = None,
    ground_stations: Annotated[Path | None, typer.Option("--ground-stations", help="Site file (CSV with header, or Hypatia id,name,lat,lon,elev); names in it resolve first.")] = None,
    constellation: ConstellationOpt = None,
    tle: TleOpt = None,
    format: FormatOpt = Fmt.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write CSV/JSON here instead of standard output.")] = None,
    workers: WorkersOpt = None,
) -> None:
    """Round-trip time and path between two places, at every step."""
    from leosim.engine.chunks import default_workers, run_pairs
    from leosim.ground.sites import GroundSegment, SiteKind, resolve_place

    elev = _elevation(min_elevation, max_gsl_length)
    _check_durations(duration, step)
    sites = GroundSegment.from_file(ground_stations) if ground_stations is not None else None

    def endpoint(text: str):
        kind = SiteKind.TERMINAL
        if text.lower().startswith("internet:"):
            text, kind = text.split(":", 1)[1], SiteKind.SERVER
        s = resolve_place(text, sites, kind=kind)
        if kind is SiteKind.SERVER and s.kind is not SiteKind.SERVER:
            s = replace(s, kind=SiteKind.SERVER)  # a site of --ground-stations, as a server
        return s

    a, b = endpoint(src), endpoint(dst)
    c = _constellation(constellation, tle)
    grid = _grid(c, start, duration, step)
    net = _network(c, GroundSegment.from_sites([a, b]), routing, attach, elev, max_gsl_length, max_isl_length, isl_file)
    rows: list[dict] = []

    def sink(ch):
        for k in range(ch.i1 - ch.i0):
            i = ch.i0 + k
            rtt = float(ch.rtt_ms[k, 0])
            rows.append({
                "t_s": round(float(grid.offsets_s[i]), 6),
                "rtt_ms": None if not np.isfinite(rtt) else round(rtt, 4),
                "length_km": None if not np.isfinite(rtt) else round(float(ch.length_km[k, 0]), 3),
                "hops": int(ch.hops[k, 0]),
                "path": [net.node_name(n) for n in ch.paths[k][0]],
                "time_utc": format_time(grid.times[i]),
            })

    with _progress("routing") as prog:
        task = prog.add_task("routing", total=grid.n_steps)
        run_pairs(net, grid, np.array([[0, 1]]), sink, workers=workers or default_workers(), want_paths=True,
                  progress=lambda n: prog.advance(task, n))
    cols = ["t_s", "rtt_ms", "length_km", "hops", "path", "time_utc"]
    fmt = format
    if output is not None and format is Fmt.table:
        fmt = Fmt.json if output.suffix.lower() == ".json" else Fmt.csv
    if fmt is Fmt.json:
        _emit(json.dumps(rows, indent=None, separators=(",", ":")).replace("},{", "},\n{") + "\n", output)
        return
    if fmt is Fmt.csv:
        csv_rows = [dict(r, path=" > ".join(r["path"]), rtt_ms="" if r["rtt_ms"] is None else r["rtt_ms"],
                         length_km="" if r["length_km"] is None else r["length_km"]) for r in rows]
        _emit(_csv(csv_rows, cols), output)
        return
    _print_path_table(a, b, net, grid, rows)


def _print_path_table(a, b, net, grid, rows) -> None:
    rtts = np.array([np.nan if r["rtt_ms"] is None else r["rtt_ms"] for r in rows])
    ok = np.isfinite(rtts)
    out.print(f"[bold]{a.name} -> {b.name}[/bold]: {net.routing.name} routing, {net.attachment.name} attachment, "
              f"{grid.n_steps} steps of {grid.step_s:g} s from {format_time(grid.start)}")
    if ok.any():
        out.print(f"RTT min {np.nanmin(rtts):.2f} / median {np.nanmedian(rtts):.2f} / max {np.nanmax(rtts):.2f} ms; "
                  f"reachable {ok.mean():.0%} of steps")
    else:
        out.print("[red]no path at any step[/red]")
    tab = Table("t_s", "rtt_ms", "length_km", "hops", "path")
    prev = None
    changes = 0
    for r in rows:
        key = tuple(r["path"])
        if key != prev:
            changes += prev is not None
            tab.add_row(f"{r['t_s']:g}", "-" if r["rtt_ms"] is None else f"{r['rtt_ms']:.2f}",
                        "-" if r["length_km"] is None else f"{r['length_km']:.0f}", str(r["hops"]), " > ".join(r["path"]))
            prev = key
    out.print(f"{changes} path changes; the steps where the path changed:")
    out.print(tab)


@app.command("pairs")
def pairs_cmd(
    ground_stations: Annotated[str, typer.Option("--ground-stations", help="Site file (CSV or Hypatia) or preset: cities-100, cities-N-CC, starlink-gateways, starlink-pops.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output dataset: OUT.zarr or OUT.nc.")],
    start: StartOpt = None,
    duration: DurationOpt = "10min",
    step: StepOpt = "100ms",
    routing: RoutingOpt = Routing["isl"],
    attach: AttachOpt = Attach["free"],
    min_elevation: MinElOpt = None,
    max_gsl_length: MaxGslOpt = None,
    max_isl_length: MaxIslOpt = None,
    isl_file: IslFileOpt = None,
    constellation: ConstellationOpt = None,
    tle: TleOpt = None,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = "processes",
    scheduler: SchedulerOpt = None,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted run into the same OUT.zarr: only missing chunks are computed.")] = False,
    chunk_steps: Annotated[int | None, typer.Option("--chunk-steps", help="Steps per chunk (a task, and a zarr chunk along time).", min=1)] = None,
) -> None:
    """RTT, path length and hops for every pair of a set of ground nodes, as an xarray dataset."""
    import hashlib

    from leosim.engine.chunks import default_chunk_steps, run_pairs
    from leosim.engine.stores import PairsStore, PairsWriter
    from leosim.ground.sites import GroundSegment

    elev = _elevation(min_elevation, max_gsl_length)
    _check_durations(duration, step)
    if resume and output.suffix.lower() != ".zarr":
        raise ParameterError(f"--resume needs a zarr store (OUT.zarr); got {str(output)!r}")
    p = Path(ground_stations)
    sites = GroundSegment.from_file(p) if p.exists() or p.suffix else GroundSegment.preset(ground_stations)
    if len(sites) < 2:
        raise ParameterError(f"{ground_stations!r} has {len(sites)} ground station(s); expected at least 2 to form pairs")
    c = _constellation(constellation, tle)
    grid = _grid(c, start, duration, step)
    net = _network(c, sites, routing, attach, elev, max_gsl_length, max_isl_length, isl_file)
    i, j = np.triu_indices(len(sites), k=1)
    pairs = np.stack([i, j], axis=1)
    attrs = {"constellation": c.description, "routing": net.routing.name, "attachment": net.attachment.name,
             "min_elevation_deg": elev, "leosim_version": __version__}
    steps = chunk_steps or default_chunk_steps(grid)
    # what determines the numbers: a resumed run must match the interrupted one exactly
    recipe = [__version__, c.description, c.n_sats, str(grid.start), grid.step_s, grid.n_steps, steps, sites.names,
              net.routing.name, net.attachment.name, elev, max_gsl_length, max_isl_length,
              None if isl_file is None else hashlib.sha256(isl_file.read_bytes()).hexdigest(),
              None if tle is None else hashlib.sha256(tle.read_bytes()).hexdigest()]
    fingerprint = hashlib.sha256(json.dumps(recipe, default=str).encode()).hexdigest()
    store = writer = None
    skip: set[int] = set()
    runner = _executor(executor, workers, scheduler)  # fails (unreachable scheduler) before anything is written
    if output.suffix.lower() == ".zarr":
        if resume:
            store = PairsStore.resume(output, fingerprint)
            skip = store.done()
            err.print(f"resuming {output}: {len(skip)} chunks already done")
        else:
            if not output.parent.exists():
                raise ParameterError(f"output directory {str(output.parent)!r} does not exist; expected an existing directory")
            store = PairsStore.create(output, grid, sites, pairs, steps, fingerprint, attrs)
    else:
        writer = PairsWriter(output, grid, sites, pairs, attrs=attrs)
    with runner as ex, _progress("routing") as prog:
        task = prog.add_task("routing", total=grid.n_steps)
        prog.advance(task, min(len(skip) * steps, grid.n_steps))
        run_pairs(net, grid, pairs, (lambda ch: None) if store is not None else writer.write, chunk_steps=steps,
                  executor=ex, store=store, skip=skip, progress=lambda n: prog.advance(task, n))
    if store is not None:
        store.finish()
    else:
        writer.close()
    err.print(f"wrote {output}: {grid.n_steps} steps x {len(pairs)} pairs")


# ---------------------------------------------------------------------- scenarios
scenarios_app = typer.Typer(help="The built-in scenarios: list them, or print one to copy and edit.", invoke_without_command=True)
app.add_typer(scenarios_app, name="scenarios")


@scenarios_app.callback()
def scenarios_list(ctx: typer.Context) -> None:
    """List the built-in scenarios."""
    if ctx.invoked_subcommand is not None:
        return
    from leosim.scenario.schema import builtin_scenarios

    tab = Table("name", "description", title="built-in scenarios (leosim scenarios show NAME prints one)")
    for name, desc in builtin_scenarios().items():
        tab.add_row(name, desc)
    out.print(tab)


@scenarios_app.command("show")
def scenarios_show(name: Annotated[str, typer.Argument(help="A built-in scenario name.")]) -> None:
    """Print a built-in scenario's TOML, to copy and edit."""
    from leosim.scenario.schema import builtin_text

    sys.stdout.write(builtin_text(name))


@app.command("validate")
def validate_cmd(scenario: Annotated[str, typer.Argument(help="Scenario file (.toml) or built-in name.")]) -> None:
    """Check a scenario file without running it: schema, names, places and files."""
    from leosim.pipeline.run import plan
    from leosim.scenario.schema import load_scenario

    scn, _, path = load_scenario(scenario)
    p = plan(scn, path)
    out.print(f"[green]ok[/green]: {scn.name}: {p.constellation.n_sats:,} satellites, "
              f"{len(p.network.endpoints)} endpoints, {len(p.pairs)} pairs, {p.grid.n_steps} steps")


def _run_scenario(scenario: str, output: Path, overwrite: bool, seed: int | None, workers: int | None,
                  executor: str = "processes", scheduler: str | None = None, resume: bool = False) -> dict:
    from leosim.pipeline.run import headline_rows, prepare_output, run
    from leosim.scenario.schema import load_scenario

    scn, text, path = load_scenario(scenario)
    if not resume:
        prepare_output(output, overwrite)  # refuse a non-empty directory before any work
    with _executor(executor, workers, scheduler) as ex, _progress("routing") as prog:
        task = prog.add_task("routing", total=None)
        next_line = [0.1]

        def progress(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total)
            if not err.is_terminal and done >= next_line[0] * total:  # a log line every 10%
                err.print(f"  {done}/{total} steps")
                next_line[0] += 0.1

        summary = run(scn, text, output, source=path, overwrite=True, resume=resume, seed=seed, workers=workers,
                      executor=ex, progress=progress, log=err.print)
    tab = Table("", "", title=f"leosim {scn.name}", show_header=False)
    for k, v in headline_rows(summary):
        tab.add_row(k, v)
    out.print(tab)
    written = sorted(f.name for f in output.iterdir() if f.name != "scenario.toml")
    out.print(f"wrote {output}/: {', '.join(written)} ({summary['run_time_s']:.0f} s)")
    return summary


@app.command("run")
def run_cmd(
    scenario: Annotated[str, typer.Argument(help="Scenario file (.toml) or built-in name (leosim scenarios lists them).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output directory (new or empty).")] = Path("leosim-out"),
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (overrides the scenario's).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the outputs of an earlier run in OUTPUT.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted run in OUTPUT: only missing chunks are computed.")] = False,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = "processes",
    scheduler: SchedulerOpt = None,
) -> None:
    """Run a scenario: data, summary.json and a self-contained report.html in OUTPUT."""
    _run_scenario(scenario, output, overwrite, seed, workers, executor, scheduler, resume)


@app.command("sweep")
def sweep_cmd(
    scenario: Annotated[str, typer.Argument(help="Scenario file (.toml) or built-in name.")],
    sets: Annotated[list[str], typer.Option("--set", help="KEY=V1,V2,... (repeatable): e.g. --set routing.attach=free,scheduled --set constellation.shells[0].planes=60,72,84. Every combination runs.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory: one variant-NNN/ per combination and sweep.csv.")] = Path("leosim-sweep"),
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed for every variant.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier sweep's outputs in OUTPUT.")] = False,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = "processes",
    scheduler: SchedulerOpt = None,
) -> None:
    """Run a grid of scenario variants; one summary table (sweep.csv) plus each variant's results."""
    from leosim.pipeline.sweep import run_sweep

    with _executor(executor, workers, scheduler) as ex:
        rows = run_sweep(scenario, sets, output, overwrite=overwrite, workers=workers, executor=ex, seed=seed, log=err.print)
    tab = Table("variant", *[k for k in rows[0] if k.startswith("set:")], "median RTT to PoP ms", "reachable", "run s",
                title=f"sweep of {scenario}: {len(rows)} variants")
    for r in rows:
        tab.add_row(r["variant"], *[str(r[k]) for k in r if k.startswith("set:")],
                    "-" if r.get("rtt_to_pop_median_ms") is None else f"{r['rtt_to_pop_median_ms']:.2f}",
                    f"{r.get('reachable', 0):.1%}", f"{r.get('run_time_s', 0):.0f}")
    out.print(tab)
    out.print(f"wrote {output}/sweep.csv")


@app.command("demo")
def demo_cmd(
    output: Annotated[Path, typer.Option("--output", "-o", help="Output directory.")] = Path("leosim-demo"),
    workers: WorkersOpt = None,
) -> None:
    """Run the default scenario (global) into ./leosim-demo and print the headline table."""
    _run_scenario("global", output, overwrite=True, seed=None, workers=workers)


def _register_command_modules() -> None:
    """Commands that live in their own modules (capacity, policy and adversary, viewer, emulation)."""
    from leosim.apps.cli import adversary, capacity, emulate, viewer

    for module in (capacity, adversary, viewer, emulate):
        module.register(app)


_register_command_modules()


def _click_classes() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """Exit and usage-error classes: typer 0.2x vendors click, older typer uses click."""
    exits: list[type] = [typer.Exit]
    errors: list[type] = []
    try:
        from typer._click import exceptions as vendored

        errors.append(vendored.ClickException)
    except ImportError:
        pass
    try:
        import click

        exits.append(click.exceptions.Exit)
        errors.append(click.exceptions.ClickException)
    except ImportError:
        pass
    return tuple(exits), tuple(errors)


_EXITS, _CLICK_ERRORS = _click_classes()


def main() -> None:
    """Entry point: run the app, turning the package's errors into one-line messages."""
    try:
        # without standalone mode, click returns the code of a typer.Exit (or of Ctrl-C
        # caught inside a command) instead of exiting: pass it on
        code = app(standalone_mode=False, prog_name="leosim")
    except LeosimError as exc:
        # escaped: messages carry brackets (key paths such as terminals[2], extras such as
        # 'leosim[io]') that rich would otherwise take for markup and drop
        err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False)
        sys.exit(1)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except _EXITS as exc:
        sys.exit(exc.exit_code)
    except _CLICK_ERRORS as exc:  # usage errors: click's own short message, exit 2
        exc.show()
        sys.exit(exc.exit_code)
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
