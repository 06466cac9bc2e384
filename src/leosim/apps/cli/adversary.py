"""CLI commands for service policy and the adversary: ``policy check``, ``jam``, ``exposure``.

An adapter: it parses options, calls :mod:`leosim.models.policy`, :mod:`leosim.models.jamming` and
:mod:`leosim.models.exposure`, prints rich tables and writes PNG maps
(:mod:`leosim.present.adversary_maps`). Errors are the package's own exceptions;
``leosim.apps.cli.app.main`` prints them as one line and exits 1.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from leosim.errors import ParameterError
from leosim.pipeline.run import format_seconds

out = Console(soft_wrap=True)
if not out.is_terminal:  # piped or captured: wide enough for the tables, never wrapped
    out.width = 200
err = Console(stderr=True, soft_wrap=True)

policy_app = typer.Typer(help="Service policy: who is served, where traffic lands and exits.", no_args_is_help=True)


def _constellation(name: str | None):
    from leosim.apps.cli.common import load_constellation

    return load_constellation(name, None)


def _floats(text: str, what: str, lo: float | None = None, hi: float | None = None) -> list[float]:
    """``"0.11,0.02"`` -> [0.11, 0.02], each checked against [lo, hi]."""
    vals = []
    for part in str(text).split(","):
        try:
            v = float(part)
        except ValueError:
            raise ParameterError(
                f"{what} {part.strip()!r} is not a number; expected a number or a comma-separated list such as 0.11,0.02"
            ) from None
        if not math.isfinite(v) or (lo is not None and v < lo) or (hi is not None and v > hi):
            rng = (
                f"{lo:g}-{hi:g}" if lo is not None and hi is not None else f">= {lo:g}" if lo is not None else "finite"
            )
            raise ParameterError(f"{what} {part.strip()} is outside {rng}; expected {what} in {rng}")
        vals.append(v)
    return vals


def _latlon(text: str, what: str) -> tuple[float, float]:
    parts = str(text).split(",")
    try:
        lat, lon = (float(p) for p in parts)
    except ValueError:
        raise ParameterError(
            f"{what} {text!r} is not LAT,LON; expected two numbers in degrees such as 35.69,51.39"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 360):
        raise ParameterError(f"{what} {text!r} is outside latitude -90..90, longitude -180..180")
    return lat, lon


# ===================================================================== policy check
@policy_app.command("check")
def policy_check(
    site: Annotated[
        str, typer.Option("--site", help="Where the terminal is: a city ('Tehran'), 'LAT,LON', or a gateway/PoP name.")
    ],
    home_country: Annotated[
        str | None,
        typer.Option("--home-country", help="ISO code of the terminal's home country (default: where it is)."),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy",
            help="Preset 'all' (default) or 'none', or a policy file (.toml or .csv; see docs/adversary.md).",
        ),
    ] = None,
    days_abroad: Annotated[
        float, typer.Option("--days-abroad", help="Days the terminal has spent outside its home country.")
    ] = 0.0,
    speed_kmh: Annotated[float, typer.Option("--speed-kmh", help="The terminal's ground speed, km/h.")] = 0.0,
    plan: Annotated[
        str, typer.Option("--plan", help="roam, residential (needs --service-address) or maritime.")
    ] = "roam",
    service_address: Annotated[
        str | None, typer.Option("--service-address", help="LAT,LON of a residential plan's service address.")
    ] = None,
    terminal_id: Annotated[
        str, typer.Option("--terminal-id", help="Terminal id, checked against the policy's whitelist.")
    ] = "terminal",
    no_gps: Annotated[bool, typer.Option("--no-gps", help="The terminal has no GPS fix (e.g. jammed).")] = False,
    route: Annotated[
        bool,
        typer.Option(
            "--route/--no-route", help="Also route its traffic to the Internet and show where it lands and exits."
        ),
    ] = True,
    constellation: Annotated[
        str | None,
        typer.Option("--constellation", "-c", help="Constellation for --route (default: the CLI's default)."),
    ] = None,
) -> None:
    """The disablement code a terminal at SITE gets, and why; where its traffic lands and exits."""
    from leosim.ground.countries import country_name, country_of
    from leosim.ground.places import resolve_place
    from leosim.models.policy import Disablement, ServicePolicy, Terminal, explain

    if not (days_abroad >= 0):
        raise ParameterError(f"--days-abroad {days_abroad:g} is negative; expected days >= 0")
    if not (speed_kmh >= 0):
        raise ParameterError(f"--speed-kmh {speed_kmh:g} is negative; expected a speed >= 0 km/h")
    pol = ServicePolicy.load(policy)
    place = resolve_place(site)
    address = _latlon(service_address, "--service-address") if service_address else None
    term = Terminal(terminal_id, home_country=home_country, plan=plan, service_address=address, days_abroad=days_abroad)
    code, why = explain(
        pol, place.latitude_deg, place.longitude_deg, terminal=term, speed_kmh=speed_kmh, location_known=not no_gps
    )
    cc = str(country_of(place.latitude_deg, place.longitude_deg))
    colour = "green" if code is Disablement.OKAY else "red"
    out.print(f"{place.name} ({place.latitude_deg:.4f}, {place.longitude_deg:.4f}) is in {cc} ({country_name(cc)})")
    out.print(f"[bold {colour}]{code.value}[/bold {colour}]: {why}", highlight=False)
    out.print(pol.describe(), highlight=False)
    if route and code is Disablement.OKAY:
        _print_route(pol, place, constellation)


def _print_route(pol, place, constellation_name) -> None:
    from leosim.ground.countries import country_name
    from leosim.ground.sites import GroundSegment, Site, SiteKind
    from leosim.models.policy import PolicyError, allowed_ground, jurisdictions, policy_network

    c = _constellation(constellation_name)
    gw, pops = allowed_ground(pol, GroundSegment.starlink_gateways(), GroundSegment.starlink_pops())
    if len(gw) == 0 or len(pops) == 0:
        raise PolicyError(
            f"policy {pol.name!r} leaves {len(gw)} gateways and {len(pops)} PoPs; traffic cannot reach the Internet"
        )
    # the Internet starts at the terminal's home PoP: put the server there
    from leosim.core.geodesy import great_circle_m

    k = int(np.argmin(great_circle_m(place.latitude_deg, place.longitude_deg, pops.latitude_deg, pops.longitude_deg)))
    server = Site(f"Internet at {pops[k].name}", pops[k].latitude_deg, pops[k].longitude_deg, kind=SiteKind.SERVER)
    terminal = Site(place.name, place.latitude_deg, place.longitude_deg, kind=SiteKind.TERMINAL)
    net = policy_network(pol, c, GroundSegment([terminal, server]), gateways=gw, pops=pops)
    times = c.epoch + np.arange(0, 60, 15).astype("timedelta64[s]")
    res = net.solve(times, np.array([[0, 1]]), want_paths=True)
    tab = Table("t_s", "rtt_ms", "lands at (gateway)", "exits at (PoP)", "countries on the ground")
    for k, row in enumerate(jurisdictions(net, res.paths)):
        j = row[0]
        rtt = res.rtt_s[k, 0]
        gw_txt = f"{j.gateway} [{j.gateway_country}]" if j.gateway else "-"
        pop_txt = f"{j.pop} [{j.pop_country} {country_name(j.pop_country)}]" if j.pop else "-"
        tab.add_row(
            f"{k * 15}",
            "-" if not np.isfinite(rtt) else f"{rtt * 1e3:.1f}",
            gw_txt,
            pop_txt,
            " > ".join(j.countries) or "no route",
        )
    out.print(f"traffic to the Internet over {c.description}, {len(gw)} allowed gateways, {len(pops)} allowed PoPs:")
    out.print(tab)


# ================================================================================ jam
def jam(
    jammer: Annotated[
        list[str] | None, typer.Option("--jammer", help="Jammer position LAT,LON (repeat for several).")
    ] = None,
    eirp_dbw: Annotated[float, typer.Option("--eirp-dbw", help="EIRP of each --jammer, dBW (10 dBW = 10 W).")] = 10.0,
    region: Annotated[str, typer.Option("--region", help="Country code (or name) whose area to assess, e.g. IR.")] = "",
    jammer_height_m: Annotated[
        float, typer.Option("--jammer-height", help="Antenna height of each --jammer above ground, m.")
    ] = 10.0,
    jammers_file: Annotated[
        Path | None,
        typer.Option(
            "--jammers", help="Jammer file (CSV or TOML, see docs/adversary.md) instead of/in addition to --jammer."
        ),
    ] = None,
    clutter_loss_db: Annotated[
        float,
        typer.Option(
            "--clutter-loss-db", help="Extra loss on every jammer path, dB (0: free space, the jammer's best case)."
        ),
    ] = 0.0,
    tolerance_db: Annotated[
        float, typer.Option("--tolerance-db", help="J/S above which a GPS receiver loses its fix, dB.")
    ] = 30.0,
    resolution: Annotated[
        int, typer.Option("--resolution", help="H3 resolution of the area grid (5: ~253 km2 cells).")
    ] = 5,
    at: Annotated[
        str | None, typer.Option("--at", help="UTC time (ISO 8601) for jammers with active intervals; default: all on.")
    ] = None,
    map_path: Annotated[Path | None, typer.Option("--map", help="PNG map to write (default jam-REGION.png).")] = None,
) -> None:
    """Share of a country's area where terminals lose GPS and get UNKNOWN_LOCATION; map."""
    from leosim.core.time import parse_time
    from leosim.ground.countries import country_cells, country_code, country_geometry, country_name
    from leosim.ground.sites import GroundSegment
    from leosim.models.jamming import Jammer, j_to_s_db, load_jammers

    if not region:
        raise ParameterError("--region is missing; expected a country code such as IR")
    code = country_code(region)
    jams = list(load_jammers(jammers_file)) if jammers_file else []
    for k, text in enumerate(jammer or [], start=1):
        lat, lon = _latlon(text, "--jammer")
        jams.append(Jammer(f"jammer-{k}", lat, lon, eirp_dbw=eirp_dbw, height_m=jammer_height_m))
    if not jams:
        raise ParameterError("no jammer given; expected --jammer LAT,LON (repeatable) or --jammers FILE")
    if not 0 <= resolution <= 7:
        raise ParameterError(
            f"--resolution {resolution} is outside 0-7; expected an H3 resolution (5 is ~253 km2 cells)"
        )
    import h3

    cells = country_cells(code, resolution)
    if len(cells) == 0:
        raise ParameterError(
            f"{code} ({country_name(code)}) has no H3 cell centre at resolution {resolution}; expected a finer --resolution"
        )
    ll = np.array([h3.cell_to_latlng(c) for c in cells])
    times = None if at is None else np.array([parse_time(at)])
    js = j_to_s_db(jams, ll[:, 0], ll[:, 1], times, clutter_loss_db=clutter_loss_db)
    js = js[0] if times is not None else js
    denied = js > tolerance_db
    out.print(f"[bold]{code} ({country_name(code)})[/bold]: {len(cells)} H3 cells at resolution {resolution}, {len(jams)} jammer(s), "
              f"tolerance {tolerance_db:g} dB, clutter loss {clutter_loss_db:g} dB", highlight=False)  # fmt: skip
    out.print(
        f"denied share of the area: [bold]{denied.mean():.1%}[/bold] ({int(denied.sum())} of {len(cells)} cells: terminals there get UNKNOWN_LOCATION)",
        highlight=False,
    )
    jt = Table("jammer", "lat", "lon", "height_m", "eirp_dbw", "denied_cells", "reach_km")
    from leosim.core.geodesy import great_circle_m

    for j in jams:
        own = j_to_s_db([j], ll[:, 0], ll[:, 1], times, clutter_loss_db=clutter_loss_db)
        own = own[0] if times is not None else own
        d = great_circle_m(j.latitude_deg, j.longitude_deg, ll[:, 0], ll[:, 1])
        hit = own > tolerance_db
        jt.add_row(j.name, f"{j.latitude_deg:.4f}", f"{j.longitude_deg:.4f}", f"{j.height_m:g}", f"{j.eirp_dbw:g}", str(int(hit.sum())),
                   f"{d[hit].max() / 1e3:.1f}" if hit.any() else "0")  # fmt: skip
    out.print(jt)
    cities = GroundSegment.cities(top_n=10, country=code)
    if len(cities):
        cjs = j_to_s_db(jams, cities.latitude_deg, cities.longitude_deg, times, clutter_loss_db=clutter_loss_db)
        cjs = cjs[0] if times is not None else cjs
        ct = Table("city", "J/S_dB", "GPS")
        for s, v in zip(cities, cjs):
            ct.add_row(s.name, "-" if not np.isfinite(v) else f"{v:.1f}", "denied" if v > tolerance_db else "ok")
        out.print(f"largest cities of {code}:")
        out.print(ct)
    from leosim.present.adversary_maps import jamming_map

    path = map_path or Path(f"jam-{code}.png")
    jamming_map(path, ll[:, 0], ll[:, 1], js, tolerance_db, jams, country_geometry(code),
                title=f"GPS L1 J/S over {country_name(code)}: {denied.mean():.1%} of the area denied")  # fmt: skip
    err.print(f"wrote {path}")


# =========================================================================== exposure
def _terminals(spec: str | None, region: str | None, counts: list[int], seed: int | None):
    """(names, lat, lon) for the largest count; smaller counts take the first ones."""
    from leosim.ground.places import resolve_place
    from leosim.ground.sites import GroundSegment

    n = max(counts)
    if spec:
        p = Path(spec)
        if p.exists():
            seg = GroundSegment.from_file(p)
        else:
            seg = GroundSegment([resolve_place(spec)])
        if len(seg) == 0:
            raise ParameterError(f"--terminals {spec!r} has no terminals")
        return list(seg.names), np.array(seg.latitude_deg), np.array(seg.longitude_deg)
    if not region:
        raise ParameterError("no terminals: expected --terminals FILE|PLACE or --region CC with --terminals-count N")
    from leosim.ground.countries import country_code, country_geometry, country_of

    code = country_code(region)
    g = country_geometry(code)
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = g.bounds
    lat, lon = np.zeros(0), np.zeros(0)
    for _ in range(200):
        la = np.degrees(np.arcsin(rng.uniform(np.sin(np.radians(y0)), np.sin(np.radians(y1)), 4 * n + 16)))
        lo = rng.uniform(x0, x1, 4 * n + 16)
        keep = country_of(la, lo) == code
        lat, lon = np.concatenate([lat, la[keep]]), np.concatenate([lon, lo[keep]])
        if len(lat) >= n:
            break
    return [f"{code}-{k + 1}" for k in range(n)], lat[:n], lon[:n]


def exposure(
    terminals: Annotated[
        str | None,
        typer.Option("--terminals", help="Terminal site file (CSV/Hypatia) or one place ('Tehran', 'LAT,LON')."),
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Country code: place --terminals-count terminals at random in it.")
    ] = None,
    terminals_count: Annotated[
        str, typer.Option("--terminals-count", help="Terminals in --region (comma list for a density what-if).")
    ] = "10",
    sensors: Annotated[
        str,
        typer.Option(
            "--sensors",
            help="Sensor file (CSV/TOML) or preset ring:N:RADIUS_KM[:HEIGHT_M], grid:SPACING_KM[:HEIGHT_M], drone:RADIUS_KM:ALT_M[:KMH].",
        ),
    ] = "ring:6:2",
    duty_cycle: Annotated[
        str, typer.Option("--duty-cycle", help="RF duty cycle 0-1 (comma list for a what-if, e.g. 0.11,0.02).")
    ] = "0.11",
    tx_power_dbw: Annotated[
        str | None,
        typer.Option("--tx-power-dbw", help="Transmit power, dBW (default 6.1 = 4.06 W; comma list for a what-if)."),
    ] = None,
    relocate_hours: Annotated[
        str | None, typer.Option("--relocate-hours", help="Move the terminal every N hours (comma list; 0 = never).")
    ] = None,
    hours: Annotated[float, typer.Option("--hours", help="How long the terminal is used, hours.")] = 24.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same result).")] = 0,
    trials: Annotated[int, typer.Option("--trials", help="Monte Carlo trials per terminal.")] = 200,
    radius_m: Annotated[
        float, typer.Option("--radius-m", help="Located when the 95% error ellipse's semi-major axis is below this, m.")
    ] = 100.0,
    method: Annotated[str, typer.Option("--method", help="Geolocation: aoa, tdoa or hybrid.")] = "hybrid",
    open_terrain: Annotated[
        bool, typer.Option("--open-terrain", help="No clutter around the terminal (free space to the horizon).")
    ] = False,
    map_path: Annotated[
        Path | None, typer.Option("--map", help="Risk map PNG to write (default exposure-map.png).")
    ] = None,
    map_points: Annotated[int, typer.Option("--map-points", help="Risk-map grid points per side.")] = 24,
    constellation: Annotated[
        str | None,
        typer.Option(
            "--constellation", "-c", help="Constellation for the beam directions (default: the CLI's default)."
        ),
    ] = None,
) -> None:
    """Time until direction-finding sensors locate transmitting terminals; risk map (PNG)."""
    from leosim.core.geodesy import great_circle_m
    from leosim.models.exposure import (
        Emitter,
        detection_range_m,
        load_sensors,
        risk_map,
        serving_directions,
        time_to_locate,
    )

    duties = _floats(duty_cycle, "duty cycle", 0.0, 1.0)
    powers = _floats(tx_power_dbw, "transmit power (dBW)", -50.0, 30.0) if tx_power_dbw else [None]
    relocs = _floats(relocate_hours, "relocation interval (hours)", 0.0) if relocate_hours else [0.0]
    counts = [int(v) for v in _floats(terminals_count, "terminal count", 1.0, 5000.0)]
    if not (hours > 0):
        raise ParameterError(f"--hours {hours:g} is not positive; expected hours > 0")
    if method not in ("aoa", "tdoa", "hybrid"):
        raise ParameterError(f"--method {method!r}; expected aoa, tdoa or hybrid")
    if not 4 <= map_points <= 200:
        raise ParameterError(f"--map-points {map_points} is outside 4-200")
    if trials < 1:
        raise ParameterError(f"--trials {trials} is below 1; expected a whole number >= 1")
    names, t_lat, t_lon = _terminals(terminals, region, counts, seed)
    if terminals:  # a terminal file or place fixes the terminals; --terminals-count does not apply
        counts = [len(names)]
    clat, clon = float(np.mean(t_lat)), float(np.mean(t_lon))
    spread = float(great_circle_m(clat, clon, t_lat, t_lon).max()) if len(t_lat) else 0.0
    sens = load_sensors(sensors, (clat, clon), extent_m=max(spread, 5e3))
    c = _constellation(constellation)
    times = c.epoch + np.arange(0, 300, 15).astype("timedelta64[s]")
    pointing = [serving_directions(c, a, b, times) for a, b in zip(t_lat, t_lon)]
    base = Emitter(in_clutter=not open_terrain)
    # detection range of the first sensor (for the summary line)
    rng_m = detection_range_m(base, sens[0])
    out.print(f"{len(sens)} sensor(s) ({sensors}); {len(names)} terminal(s); one-look detection range (Pd 50%, beam at 50 deg) "
              f"of {sens[0].name}: [bold]{rng_m / 1e3:.2f} km[/bold]; {'open terrain' if open_terrain else 'terminal in clutter (ITU-R P.2108)'}",
              highlight=False)  # fmt: skip
    summary = Table(
        "terminals",
        "duty_cycle",
        "tx_power_dbw",
        "relocate_h",
        "median_time_to_locate",
        "located_within_1h",
        f"located_within_{hours:g}h",
    )
    first_rows = None
    for n in counts:
        for d in duties:
            for pw in powers:
                for rh in relocs:
                    em = Emitter(
                        duty_cycle=d, in_clutter=not open_terrain, **({} if pw is None else {"tx_power_dbw": pw})
                    )
                    intf = _interference(em, t_lat[:n], t_lon[:n], sens, pointing[:n]) if n > 1 else None
                    rows = []
                    for i in range(n):
                        own = None
                        if intf is not None:
                            own = 10 * np.log10(np.maximum(intf[0] - intf[1][i], 1e-30))
                        r = time_to_locate(t_lat[i], t_lon[i], sens, emitter=em, pointing=pointing[i] if len(pointing[i]) else None,
                                           hours=hours, relocate_hours=rh or None, radius_m=radius_m, method=method,
                                           trials=trials, seed=seed + i, interference_dbw=own)  # fmt: skip
                        rows.append((names[i], r))
                    med = np.array([r.median_s for _, r in rows])
                    in1 = np.mean([np.mean(r.times_s <= 3600.0) for _, r in rows])
                    inh = np.mean([r.located_share for _, r in rows])
                    summary.add_row(str(n), f"{d:g}", f"{em.tx_power_dbw:.1f}", f"{rh:g}" if rh else "never",
                                    format_seconds(float(np.median(med))), f"{in1:.0%}", f"{inh:.0%}")  # fmt: skip
                    if first_rows is None:
                        first_rows = (rows, em)
    rows, em0 = first_rows
    tab = Table(
        "terminal",
        "lat",
        "lon",
        "detecting_sensors",
        "best_snr_db",
        "median",
        "p10",
        "p90",
        f"located_within_{hours:g}h",
    )
    for (name, r), a, b in zip(rows[:50], t_lat, t_lon):
        tab.add_row(name, f"{a:.4f}", f"{b:.4f}", str(r.detecting), "-" if not np.isfinite(r.best_snr_db) else f"{r.best_snr_db:.1f}",
                    format_seconds(r.median_s), format_seconds(r.quantile_s(0.1)), format_seconds(r.quantile_s(0.9)), f"{r.located_share:.0%}")  # fmt: skip
    out.print(
        f"time to locate (95% ellipse under {radius_m:g} m, {method}, {trials} trials, seed {seed}) at duty cycle {em0.duty_cycle:g}:"
    )
    out.print(tab)
    if len(rows) > 50:
        out.print(f"({len(rows) - 50} more terminals not shown)")
    out.print("what-if:")
    out.print(summary)
    # risk map around the sensors and terminals
    lat_all = np.concatenate([t_lat, [s.latitude_deg for s in sens]])
    lon_all = np.concatenate([t_lon, [s.longitude_deg for s in sens]])
    pad = 0.02 + 0.15 * max(np.ptp(lat_all), np.ptp(lon_all))
    la = np.linspace(lat_all.min() - pad, lat_all.max() + pad, map_points)
    lo = np.linspace(lon_all.min() - pad, lon_all.max() + pad, map_points)
    lon_g, lat_g = np.meshgrid(lo, la)
    tmap = risk_map(lat_g, lon_g, sens, emitter=em0, hours=hours, radius_m=radius_m, method=method)
    from leosim.present.adversary_maps import risk_map as draw

    path = map_path or Path("exposure-map.png")
    draw(path, lat_g, lon_g, tmap, hours, sens, list(zip(t_lat, t_lon)),
         title=f"Expected time to locate a terminal (duty cycle {em0.duty_cycle:g}, {len(sens)} sensors)")  # fmt: skip
    err.print(f"wrote {path}")


def _interference(emitter, lat, lon, sensors, pointing):
    """Mean co-channel power (W) each sensor receives from all terminals, and each terminal's own share.

    Terminals spread over the 8 uplink channels (one in 8 shares the sensor's channel) and
    transmit a duty-cycle fraction of the time: mean power = sum of received power x duty / 8.
    """
    from leosim.core.radio import noise_power_dbw
    from leosim.models.exposure import UPLINK_CHANNELS, link_snr_db

    slat = np.array([s.latitude_deg for s in sensors])
    slon = np.array([s.longitude_deg for s in sensors])
    sh = np.array([s.height_m for s in sensors])
    air = [s.airborne for s in sensors]
    noise_w = 10 ** (
        noise_power_dbw(np.array([s.bandwidth_hz for s in sensors]), np.array([s.noise_figure_db for s in sensors]))
        / 10
    )
    own = []
    for a, b, p in zip(lat, lon, pointing):
        link = (
            link_snr_db(emitter, a, b, slat, slon, sh, air, p if len(p) else None, sensors=sensors) if len(p) else None
        )
        if link is None:
            own.append(np.zeros(len(sensors)))
            continue
        rx = np.where(np.isfinite(link.snr_db), 10 ** (link.snr_db / 10), 0.0).mean(axis=1) * noise_w
        own.append(rx * emitter.duty_cycle / UPLINK_CHANNELS)
    own = np.array(own)
    return own.sum(axis=0), own


def register(app: typer.Typer) -> None:
    """Add ``policy check``, ``jam`` and ``exposure`` to the ``leosim`` app."""
    app.add_typer(policy_app, name="policy")
    app.command("jam")(jam)
    app.command("exposure")(exposure)


__all__ = ["register"]
