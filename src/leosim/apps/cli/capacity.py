"""``leosim capacity``: how many terminals a country can serve, where, at what speed.

The command builds a scenario in memory from its options (a ``[capacity]`` section and
nothing routed) and runs the same section as ``leosim run``, so its numbers, tables and
summary keys are the scenario's: ``capacity_cells.csv``, ``capacity_saturated.csv`` (also
written as ``cells.csv`` and ``saturated.csv``, the names of leosim 0.1), ``summary.json``
(the ``capacity`` block of a run's summary) and the choropleth ``capacity.png``.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from leosim.apps.cli.common import ConstellationOpt, TleOpt, err, out
from leosim.core.visibility import DEFAULT_MIN_ELEVATION_DEG, check_elevation
from leosim.errors import ParameterError, require


class Backhaul(StrEnum):
    isl = "isl"
    bent_pipe = "bent-pipe"


class PayloadName(StrEnum):
    v1_5 = "v1.5"
    v2_mini = "v2-mini"


def constellation_spec(constellation: str | None, tle: Path | None) -> dict:
    """The ``[constellation]`` of a command's in-memory scenario."""
    if constellation and tle:
        raise ParameterError(f"both --constellation {constellation!r} and --tle {str(tle)!r} were given; expected one of them")
    if tle is not None:
        return {"file": str(Path(tle).resolve())}
    from leosim.space.constellation import DEFAULT_PRESET

    return {"preset": constellation or DEFAULT_PRESET}


def _gbps(v: float) -> str:
    return f"{v:,.1f} Gbit/s"


def _mbps(v: float | None) -> str:
    return "-" if v is None else f"{v:,.2f} Mbit/s"


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
    min_elevation: Annotated[float, typer.Option("--min-elevation", help="Elevation mask for terminals and gateways, degrees.")] = DEFAULT_MIN_ELEVATION_DEG,
    constellation: ConstellationOpt = None,
    tle: TleOpt = None,
    at: Annotated[str | None, typer.Option("--at", help="ISO 8601 UTC time in the first interval; default: the element-set epoch.")] = None,
    duration: Annotated[str, typer.Option("--duration", help="How long: one 15 s interval by default; 1min = 4 intervals.")] = "15s",
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory for capacity_cells.csv, capacity_saturated.csv, summary.json and capacity.png.")] = Path("leosim-capacity"),
    plot: Annotated[bool, typer.Option("--plot/--no-plot", help="Write the choropleth PNG.")] = True,
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON instead of tables.")] = False,
) -> None:
    """Throughput per cell at the busy hour, terminals supportable per country, and what limits them."""
    from leosim.core.time import parse_duration, parse_time
    from leosim.models.capacity import _check_resolution, _check_terminals

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
    check_elevation(min_elevation)
    if terminals_file is None and region_res > 10:
        raise ParameterError(f"--region-res {region_res} is finer than a country's cells support; expected 0 to 10 with --country")
    if not 0.001 <= rain_exceedance <= 5:
        raise ParameterError(f"--rain-exceedance {rain_exceedance:g} is outside 0.001-5 %; expected e.g. 1, 0.1 or 0.01")
    if country is not None:
        from leosim.apps.cli.common import country_option

        country = country_option(country, "--country")
    parse_duration(duration)
    if at:
        parse_time(at)
    require("itur", "capacity")
    require("h3", "capacity")

    from leosim.apps.cli.sections import run_in_memory

    excl = [c.strip().upper() for c in exclude_gateways.split(",") if c.strip()]
    cap = {
        "country": country, "terminals": terminals, "take_rate": take_rate,
        "terminals_file": None if terminals_file is None else str(Path(terminals_file).resolve()),
        "resolution": region_res, "rain_exceedance": rain_exceedance, "demand_per_terminal_mbps": demand,
        "people_per_terminal": people_per_terminal, "min_speed_mbps": min_speed, "intervals": 240, "payload": payload.value,
    }
    data = {
        "name": "capacity", "constellation": constellation_spec(constellation, tle),
        "time": {"start": at or "epoch", "duration": duration, "step": duration},
        "ground": {"terminals": [], "gateway_exclude": excl or None},
        "routing": {"mode": backhaul.value, "min_elevation_deg": min_elevation},
        "traffic": {"destination": "none"},
        "capacity": {k: v for k, v in cap.items() if v is not None},
    }
    p, results, summary = run_in_memory(data, log=lambda s: err.print(s, highlight=False), command="leosim capacity")
    res = results["capacity"]
    c = summary["capacity"]
    try:
        output.mkdir(parents=True, exist_ok=True)
        from leosim.formats.tables import write_json
        from leosim.pipeline.run import write_results
        from leosim.scenario.columns import columns

        written = write_results(output, p, results)
        from leosim.formats.tables import write_table

        written += [write_table(output, "cells", res.tables["capacity_cells"], columns("capacity_cells")),
                    write_table(output, "saturated", res.tables["capacity_saturated"], columns("capacity_saturated"))]
        write_json(output / "summary.json", summary)
        written.append(output / "summary.json")
    except OSError as exc:
        raise ParameterError(f"cannot write to {str(output)!r}: {exc.strerror}; expected a writable directory") from None
    if plot:
        from leosim.ground.countries import country_geometry
        from leosim.present.capacity_maps import speed_map

        cr, g, d = res.data.result, res.data.gateways.sites, res.data.result.demand
        with np.errstate(invalid="ignore"):
            per = np.nanmean(cr.per_terminal_bps, axis=0) / 1e6
        written.append(speed_map(
            output / "capacity.png", d.cells, per, d.terminals, outline=country_geometry(d.country) if d.country else None,
            gateways=(g.latitude_deg, g.longitude_deg),
            title=(f"{c['place']}: throughput per terminal at the busy hour ({d.total_terminals:,} terminals, "
                   f"{demand:g} Mbit/s asked each)\n{p.constellation.description}, {backhaul.value}, rain exceeded "
                   f"{rain_exceedance:g} % of the year, {c['interval_starts'][0]}"),
        ))
    if json_out:
        from leosim.formats.tables import dumps

        out.print_json(dumps(summary))
    else:
        _print_tables(c, res.data.result, p)
    err.print("wrote " + ", ".join(str(x) for x in written), highlight=False)


def _print_tables(c: dict, result, p) -> None:
    t = Table("", "", title=(f"capacity: {c['place']}, {c['intervals']} x 15 s from {c['interval_starts'][0]}, "
                             f"{p.constellation.n_sats:,} satellites ({c['payload']}, {c['backhaul']})"), show_header=False)
    t.add_row("cells (H3 res " + str(c["resolution"]) + ")", f"{c['cells']:,}")
    t.add_row("terminals (people)", f"{c['terminals']:,} ({c['people']:,.0f})")
    t.add_row("busy-hour demand", f"{_gbps(c['asked_gbps'])} ({c['demand_per_terminal_mbps']:g} Mbit/s per terminal)")
    t.add_row("served", f"{_gbps(c['served_gbps'])} ({c['served_gbps'] / max(c['asked_gbps'], 1e-12):.1%} of demand)")
    t.add_row("offered (served + what is left)", _gbps(c["offered_gbps"]))
    t.add_row("per terminal: median / p10", f"{_mbps(c['per_terminal_median_mbps'])} / {_mbps(c['per_terminal_p10_mbps'])}")
    t.add_row("offered per terminal: median / p10",
              f"{_mbps(c['offered_per_terminal_median_mbps'])} / {_mbps(c['offered_per_terminal_p10_mbps'])}")
    t.add_row("per person: median", _mbps(c["per_person_median_mbps"]))
    t.add_row("speed test at the busy hour: median / p10", f"{_mbps(c['test_speed_median_mbps'])} / {_mbps(c['test_speed_p10_mbps'])}")
    t.add_row(f"terminals at >= {c['min_speed_mbps']:g} Mbit/s", f"{c['terminals_at_min_speed']:,.0f} of {c['terminals']:,}")
    t.add_row(f"terminals supportable at {c['min_speed_mbps']:g} Mbit/s", f"{c['terminals_supportable_at_min_speed']:,.0f}")
    t.add_row("binding bottleneck", c["binding_bottleneck"])
    out.print(t)
    total = sum(c["unserved_by_bottleneck_gbps"].values())
    if total > 0:
        tb = Table("what limits the unserved demand", "unserved", "share")
        for k, v in sorted(c["unserved_by_bottleneck_gbps"].items(), key=lambda kv: -kv[1]):
            tb.add_row(k, _gbps(v), f"{v / total:.0%}")
        out.print(tb)
    sat = result.saturated[0]
    if sat:
        ts = Table("kind", "name", "load", "capacity", title=f"saturated in the first interval ({len(sat)}; top 10)")
        for r in sat[:10]:
            cap = f"{r['capacity_bps']:g} beams" if r["kind"] == "satellite beams" else _gbps(r["capacity_bps"] / 1e9)
            ts.add_row(r["kind"], r["name"], _gbps(r["load_bps"] / 1e9), cap)
        out.print(ts)


def register(app: typer.Typer) -> None:
    """Add ``capacity`` to the ``leosim`` app."""
    app.command("capacity")(capacity)


__all__ = ["register"]
