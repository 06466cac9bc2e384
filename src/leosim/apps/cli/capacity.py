"""``leosim capacity``: how many terminals a country can serve, where, at what speed.

An adapter: it parses options, builds a :class:`~leosim.models.capacity.Demand` and a
:class:`~leosim.models.capacity.CapacityModel`, prints rich tables and writes the per-cell table
(CSV, plus Parquet when ``pyarrow`` is installed), a JSON summary and a choropleth PNG
(:mod:`leosim.present.capacity_maps`). Errors are the package's own exceptions;
``leosim.apps.cli.app.main`` prints them as one line and exits 1.
"""

from __future__ import annotations

import csv
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from leosim.errors import GroundSegmentError, ParameterError, require

out = Console(soft_wrap=True)
if not out.is_terminal:  # piped or captured: wide enough for the tables, never wrapped
    out.width = 200
err = Console(stderr=True, soft_wrap=True)


class Backhaul(StrEnum):
    isl = "isl"
    bent_pipe = "bent-pipe"


class PayloadName(StrEnum):
    v1_5 = "v1.5"
    v2_mini = "v2-mini"


def _terminals_file(path: Path):
    """Latitudes, longitudes and terminal counts from a CSV with a header.

    Columns: ``latitude_deg`` (or ``lat``/``latitude``), ``longitude_deg`` (or
    ``lon``/``longitude``), optionally ``terminals`` (default 1 per row).
    """
    expected = "a CSV file with a header naming latitude_deg,longitude_deg (or lat,lon) and optionally terminals"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise GroundSegmentError(f"{path}: no such file; expected {expected}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GroundSegmentError(f"{path}: cannot read ({exc}); expected {expected}") from None
    rows = list(csv.reader(text.splitlines()))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise GroundSegmentError(f"{path}: file is empty; expected {expected}")
    header = [h.strip().lower() for h in rows[0]]
    alias = {"latitude_deg": "lat", "latitude": "lat", "lat": "lat", "longitude_deg": "lon", "longitude": "lon",
             "lon": "lon", "terminals": "n"}
    col = {alias[h]: i for i, h in enumerate(header) if h in alias}
    if "lat" not in col or "lon" not in col:
        raise GroundSegmentError(f"{path}:1: header has columns {','.join(header)}; expected {expected}")
    lat, lon, n = [], [], []
    for line, r in enumerate(rows[1:], start=2):
        try:
            lat.append(float(r[col["lat"]]))
            lon.append(float(r[col["lon"]]))
            n.append(int(r[col["n"]]) if "n" in col and r[col["n"]].strip() else 1)
        except (ValueError, IndexError):
            raise GroundSegmentError(f"{path}:{line}: cannot read {','.join(r)!r}; expected {expected}") from None
        if n[-1] < 0:
            raise GroundSegmentError(f"{path}:{line}: terminals {n[-1]} is negative; expected a whole number >= 0")
    return np.array(lat), np.array(lon), np.array(n, dtype=np.int64)


def _gbps(v: float) -> str:
    return f"{v / 1e9:,.1f} Gbit/s"


def _mbps(v: float) -> str:
    return "-" if not np.isfinite(v) else f"{v / 1e6:,.2f} Mbit/s"


def _write_tables(outdir: Path, result, summary: dict) -> list[Path]:
    written = []
    rows = result.cell_rows()
    cols = list(rows[0]) if rows else []
    p = outdir / "cells.csv"
    with p.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    written.append(p)
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        pass
    else:
        p = outdir / "cells.parquet"
        pq.write_table(pa.Table.from_pylist(rows), p)
        written.append(p)
    p = outdir / "saturated.csv"
    with p.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["interval_start", "kind", "name", "load_mbps", "capacity"], lineterminator="\n")
        w.writeheader()
        for t, links in zip(result.starts, result.saturated):
            ts = str(np.datetime_as_string(t, unit="s")) + "Z"
            for s in links:
                cap = s["capacity_bps"]
                w.writerow({"interval_start": ts, "kind": s["kind"], "name": s["name"],
                            "load_mbps": round(s["load_bps"] / 1e6, 3),
                            "capacity": f"{cap:g} beams" if s["kind"] == "satellite beams" else f"{cap / 1e6:.3f} Mbit/s"})
    written.append(p)
    p = outdir / "summary.json"
    p.write_text(json.dumps(summary, indent=1, default=str) + "\n")
    written.append(p)
    return written


def capacity(
    country: Annotated[str | None, typer.Option("--country", help="Country: ISO alpha-2 code (IR) or name (Iran).")] = None,
    terminals: Annotated[int | None, typer.Option("--terminals", help="Terminals in the country, spread by population.")] = None,
    take_rate: Annotated[float | None, typer.Option("--take-rate", help="Instead of --terminals: fraction of people served (0-1].")] = None,
    terminals_file: Annotated[Path | None, typer.Option("--terminals-file", help="Instead: a CSV of terminal positions (latitude_deg,longitude_deg[,terminals]).")] = None,
    people_per_terminal: Annotated[float, typer.Option("--people-per-terminal", help="People sharing one terminal (a household 2.5; a hotspot or mesh more).")] = 2.5,
    demand: Annotated[float, typer.Option("--demand", help="Busy-hour demand per terminal, Mbit/s.")] = 100.0,
    min_speed: Annotated[float, typer.Option("--min-speed", help="Speed X for 'terminals at >= X', Mbit/s.")] = 25.0,
    region_res: Annotated[int, typer.Option("--region-res", help="H3 resolution of the demand cells (0-15; countries 0-10).")] = 5,
    rain_exceedance: Annotated[float, typer.Option("--rain-exceedance", help="Percent of an average year the ITU-R atmospheric loss is exceeded: 1 typical, 0.1 or 0.01 heavy rain.")] = 1.0,
    backhaul: Annotated[Backhaul, typer.Option("--backhaul", help="isl: over laser links to the nearest gateways; bent-pipe: a gateway in the satellite's own view.")] = Backhaul.isl,
    exclude_gateways: Annotated[str, typer.Option("--exclude-gateways", help="Comma-separated country codes whose gateways may not be used (e.g. IR).")] = "",
    payload: Annotated[PayloadName, typer.Option("--payload", help="Satellite payload: v1.5 (16 beams, 20 Gbit/s) or v2-mini (16 beams, 100 Gbit/s).")] = PayloadName.v1_5,
    min_elevation: Annotated[float, typer.Option("--min-elevation", help="Elevation mask for terminals and gateways, degrees.")] = 25.0,
    constellation: Annotated[str | None, typer.Option("--constellation", "-c", help="Built-in constellation: starlink-2026-05 (default), starlink-gen1, starlink-shell1, starlink-gen2a.")] = None,
    tle: Annotated[Path | None, typer.Option("--tle", help="Element-set file instead of a preset (TLE, OMM JSON/CSV, Hypatia tles.txt).")] = None,
    at: Annotated[str | None, typer.Option("--at", help="ISO 8601 UTC time in the first interval; default: the element-set epoch.")] = None,
    duration: Annotated[str, typer.Option("--duration", help="How long: one 15 s interval by default; 1min = 4 intervals.")] = "15s",
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory for cells.csv (and .parquet), saturated.csv, summary.json and capacity.png.")] = Path("leosim-capacity"),
    plot: Annotated[bool, typer.Option("--plot/--no-plot", help="Write the choropleth PNG.")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON instead of tables.")] = False,
) -> None:
    """Throughput per cell at the busy hour, terminals supportable per country, and what limits them."""
    from leosim.core.time import format_time, parse_duration, parse_time
    from leosim.models.capacity import Demand, _check_resolution, _check_terminals, reconfiguration_starts

    # everything that can be checked cheaply, before anything slow is loaded
    _check_resolution(region_res)
    if terminals is not None:
        _check_terminals(terminals)
    given = [x for x in (terminals is not None, take_rate is not None, terminals_file is not None) if x]
    if terminals_file is None and country is None:
        raise ParameterError("no region given; expected --country CODE (with --terminals N or --take-rate F) or --terminals-file FILE")
    if terminals_file is None and len(given) != 1:
        raise ParameterError("give one of --terminals N and --take-rate F with --country; "
                             f"got {'both' if len(given) > 1 else 'neither'}")
    if terminals_file is not None and (terminals is not None or take_rate is not None):
        raise ParameterError("--terminals-file gives the terminals; expected no --terminals or --take-rate with it")
    for name, v in (("--demand", demand), ("--min-speed", min_speed), ("--people-per-terminal", people_per_terminal)):
        if not (np.isfinite(v) and v > 0):
            raise ParameterError(f"{name} {v:g} is not positive; expected a number > 0")
    if not (0.0 <= min_elevation <= 90.0):
        raise ParameterError(f"min elevation {min_elevation:g} deg is outside 0-90 deg; expected an elevation from 0 to 90")
    seconds = parse_duration(duration)
    start = parse_time(at) if at else None
    require("itur", "capacity")
    require("h3", "capacity")

    from leosim.models.capacity import CapacityModel, Gateways, Payload
    from leosim.network.links import LinkOptions
    from leosim.network.modes import BENT_PIPE, ISL

    if terminals_file is not None:
        lat, lon, n = _terminals_file(terminals_file)
        dem = Demand.from_points(lat, lon, n, resolution=region_res, demand_per_terminal_bps=demand * 1e6,
                                 people_per_terminal=people_per_terminal, country=None)
        place = str(terminals_file)
        outline = None
    else:
        dem = Demand.for_country(country, terminals=terminals, take_rate=take_rate, resolution=region_res,
                                 demand_per_terminal_bps=demand * 1e6, people_per_terminal=people_per_terminal)
        from leosim.ground.countries import country_geometry, country_name

        place = f"{country_name(dem.country)} ({dem.country})"
        outline = country_geometry(dem.country)
    excl = tuple(c.strip().upper() for c in exclude_gateways.split(",") if c.strip())
    from leosim.apps.cli.common import load_constellation

    c = load_constellation(constellation, tle)
    t0 = start if start is not None else c.epoch
    starts = reconfiguration_starts(t0, seconds)
    model = CapacityModel(
        c, dem, gateways=Gateways.starlink(exclude_countries=excl), backhaul=ISL if backhaul is Backhaul.isl else BENT_PIPE,
        payload=Payload.v1_5() if payload is PayloadName.v1_5 else Payload.v2_mini(),
        links=LinkOptions(min_elevation_deg=min_elevation, gateway_min_elevation_deg=min_elevation),
        rain_exceedance_pct=rain_exceedance,
    )
    err.print(f"{place}: {dem.n_cells:,} cells at H3 resolution {dem.resolution}, {dem.total_terminals:,} terminals; "
              f"{c.n_sats:,} satellites; {len(starts)} interval(s) of 15 s", highlight=False)
    result = model.run(starts)
    summary = result.summary(min_speed * 1e6)
    summary.update({
        "place": place, "constellation": c.description, "n_satellites": c.n_sats, "payload": payload.value,
        "backhaul": backhaul.value, "rain_exceedance_pct": rain_exceedance, "resolution": dem.resolution,
        "interval_starts": [format_time(t) for t in starts], "excluded_gateway_countries": list(excl),
        "seconds_per_interval": [round(sum(r.timings_s.values()), 3) for r in result.intervals],
    })
    try:
        output.mkdir(parents=True, exist_ok=True)
        written = _write_tables(output, result, summary)
    except OSError as exc:
        raise ParameterError(f"cannot write to {str(output)!r}: {exc.strerror}; expected a writable directory") from None
    if plot:
        from leosim.present.capacity_maps import speed_map

        g = model.gateways.sites
        per = np.nanmean(result.per_terminal_bps, axis=0) / 1e6
        written.append(speed_map(
            output / "capacity.png", dem.cells, per, dem.terminals, outline=outline,
            gateways=(g.latitude_deg, g.longitude_deg),
            title=(f"{place}: throughput per terminal at the busy hour ({dem.total_terminals:,} terminals, "
                   f"{demand:g} Mbit/s asked each)\n{c.description}, {backhaul.value}, rain exceeded "
                   f"{rain_exceedance:g} % of the year, {format_time(starts[0])}"),
        ))
    if json_out:
        out.print_json(json.dumps(summary, default=str))
    else:
        _print_tables(place, summary, result, min_speed, starts, c)
    err.print("wrote " + ", ".join(str(p) for p in written), highlight=False)


def _print_tables(place: str, s: dict, result, min_speed: float, starts, c) -> None:
    from leosim.core.time import format_time

    t = Table("", "", title=(f"capacity: {place}, {len(starts)} x 15 s from {format_time(starts[0])}, "
                             f"{c.n_sats:,} satellites ({s['payload']}, {s['backhaul']})"), show_header=False)
    ppl = s["people"]
    t.add_row("cells (H3 res " + str(s["resolution"]) + ")", f"{s['cells']:,}")
    t.add_row("terminals (people)", f"{s['terminals']:,} ({ppl:,.0f})")
    t.add_row("busy-hour demand", f"{_gbps(s['demand_bps'])} ({s['demand_per_terminal_bps'] / 1e6:g} Mbit/s per terminal)")
    t.add_row("served", f"{_gbps(s['served_bps'])} ({s['served_bps'] / max(s['demand_bps'], 1):.1%} of demand)")
    t.add_row("offered (served + what is left)", _gbps(s["offered_bps"]))
    t.add_row("per terminal: median / p10", f"{_mbps(s['median_per_terminal_bps'])} / {_mbps(s['p10_per_terminal_bps'])}")
    t.add_row("offered per terminal: median / p10",
              f"{_mbps(s['median_offered_per_terminal_bps'])} / {_mbps(s['p10_offered_per_terminal_bps'])}")
    t.add_row("per person: median", _mbps(s["median_per_person_bps"]))
    t.add_row("speed test at the busy hour: median / p10",
              f"{_mbps(s['median_test_speed_bps'])} / {_mbps(s['p10_test_speed_bps'])}")
    t.add_row(f"terminals at >= {min_speed:g} Mbit/s", f"{s['terminals_at_min_speed']:,.0f} of {s['terminals']:,}")
    t.add_row(f"terminals supportable at {min_speed:g} Mbit/s", f"{s['supportable_terminals']:,.0f}")
    t.add_row("binding bottleneck", s["binding_bottleneck"])
    out.print(t)
    if s["unserved_by_bottleneck_bps"]:
        tb = Table("what limits the unserved demand", "unserved", "share")
        total = sum(s["unserved_by_bottleneck_bps"].values())
        for k, v in sorted(s["unserved_by_bottleneck_bps"].items(), key=lambda kv: -kv[1]):
            tb.add_row(k, _gbps(v), f"{v / total:.0%}")
        out.print(tb)
    sat = result.saturated[0]
    if sat:
        ts = Table("kind", "name", "load", "capacity", title=f"saturated in the first interval ({len(sat)}; top 10)")
        for r in sat[:10]:
            cap = f"{r['capacity_bps']:g} beams" if r["kind"] == "satellite beams" else _gbps(r["capacity_bps"])
            ts.add_row(r["kind"], r["name"], _gbps(r["load_bps"]), cap)
        out.print(ts)


def register(app: typer.Typer) -> None:
    """Add ``capacity`` to the ``leosim`` app."""
    app.command("capacity")(capacity)


__all__ = ["register"]
