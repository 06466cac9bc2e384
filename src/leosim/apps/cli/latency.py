"""``leosim latency``: what users measure, per country (a ``[latency]`` scenario in memory)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from leosim.apps.cli.common import ConstellationOpt, Fmt, FormatOpt, TleOpt, WorkersOpt, emit, err, out
from leosim.core.time import parse_duration, parse_time
from leosim.errors import ParameterError
from leosim.scenario.columns import columns


def _countries(text: str) -> list[str] | str:
    """``all``, or a comma list of ISO codes or country names."""
    if text.strip().lower() == "all":
        return "all"
    from leosim.apps.cli.common import country_option

    codes = [country_option(t.strip(), "--country") for t in text.split(",") if t.strip()]
    if not codes:
        raise ParameterError(f"--country {text!r} names no country; expected an ISO code such as UA, a list UA,PL or all")
    return codes


def latency(
    country: Annotated[str, typer.Option("--country", help="ISO code or name (UA), a comma list (UA,PL,IR), or 'all': every country Starlink's GeoIP feed serves.")],
    constellation: ConstellationOpt = None,
    tle: TleOpt = None,
    start: Annotated[str | None, typer.Option("--start", help="ISO 8601 UTC start; default: the element-set epoch (the first 15 s reconfiguration from it).")] = None,
    duration: Annotated[str, typer.Option("--duration", help="How long: 10min, 1h.")] = "1h",
    step: Annotated[str, typer.Option("--step", help="Time step: one per 15 s reconfiguration interval by default.")] = "15s",
    users: Annotated[int, typer.Option("--users", help="Terminals per country, placed by population.", min=1, max=1000)] = 10,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the users' places and home PoPs.")] = 0,
    format: FormatOpt = Fmt.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write CSV/JSON here (by suffix) instead of standard output.")] = None,
    map_png: Annotated[Path | None, typer.Option("--map", help="Also write a world map (PNG) of the predicted median, with Starlink's published medians beside it.")] = None,
    workers: WorkersOpt = None,
) -> None:
    """Predicted ping per country: users spread by population, each to its home PoP.

    One row per country: its home PoPs, where its traffic lands, the propagation median,
    and the predicted router-to-internet RTT in 15 s averages as Starlink reports it
    (rtt_p20_ms is Starlink's slow end: 20 % of windows are slower; rtt_p80_ms the fast end).
    """
    from leosim.apps.cli.capacity import constellation_spec
    from leosim.apps.cli.sections import run_in_memory

    codes = _countries(country)
    d = parse_duration(duration, what="--duration")
    s = parse_duration(step, what="--step")
    if s > d:
        raise ParameterError(f"--step {step} is longer than --duration {duration}; expected a step no longer than the window")
    if start is not None:
        parse_time(start)
    data = {
        "name": "latency", "constellation": constellation_spec(constellation, tle),
        "time": {"start": start or "epoch", "duration": duration, "step": step},
        "ground": {"terminals": []},
        "routing": {"attach": "scheduled"},
        "traffic": {"destination": "none"},
        "latency": {"countries": codes, "users": users, "seed": seed, "step": step, "map": False},
    }
    _, results, _ = run_in_memory(data, log=lambda t: err.print(t, highlight=False), workers=workers,
                                  command="leosim latency")
    rows = results["latency"].tables["latency"]
    cols = columns("latency")
    if map_png is not None:
        from leosim.present.latency_maps import latency_section_map

        err.print(f"wrote {latency_section_map(map_png, rows)}")
    fmt = format
    if output is not None and format is Fmt.table:
        fmt = Fmt.json if output.suffix.lower() == ".json" else Fmt.csv
    if fmt is Fmt.json:
        from leosim.formats.tables import dumps

        emit(dumps(rows, indent=1) + "\n", output)
        return
    if fmt is Fmt.csv:
        from leosim.formats.tables import csv_text

        emit(csv_text(rows, cols), output)
        return
    tab = Table("country", "pops", "lands in", "users", "propagation p50", "ping p20 / p50 / p80", "reachable", "published p50",
                title="Predicted ping to the home PoP, ms (15 s averages; p20 is Starlink's slow end)")
    for r in rows:
        def f(v):
            return "-" if v is None else f"{v:.1f}"
        tab.add_row(r["country"], r["pops"], r["gateway_countries"] or "-", str(r["users"]), f(r["propagation_p50_ms"]),
                    f"{f(r['rtt_p20_ms'])} / {f(r['rtt_p50_ms'])} / {f(r['rtt_p80_ms'])}", f"{r['reachable']:.0%}",
                    f(r["published_p50_ms"]))
    out.print(tab)


def register(app: typer.Typer) -> None:
    """Add ``latency`` to the ``leosim`` app."""
    app.command("latency")(latency)


__all__ = ["register"]
