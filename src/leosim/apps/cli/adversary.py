"""``leosim policy check``, ``jam`` and ``exposure``: the service policy and the adversary.

Each builds a scenario in memory from its options and runs the same section as
``leosim run`` (admission, jamming, exposure), so a command and a scenario that ask the
same question give the same answer: a coastal site is put on land the same way, traffic
lands at the same gateway, the same sensors locate the same terminal as fast. Tables are
rich tables; maps are PNGs (:mod:`leosim.present.adversary_maps`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.table import Table

from leosim.apps.cli.capacity import constellation_spec
from leosim.apps.cli.common import err, out
from leosim.errors import ParameterError
from leosim.present.headline import format_seconds

policy_app = typer.Typer(help="Service policy: who is served, where traffic lands and exits.", no_args_is_help=True)


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
    if len(vals) > 8:
        raise ParameterError(f"{len(vals)} values of {what}; expected at most 8 for a what-if")
    return vals


def _latlon(text: str, what: str) -> tuple[float, float]:
    from leosim.scenario.schema import lat_lon

    try:
        return lat_lon(text, what)
    except ValueError as exc:
        raise ParameterError(str(exc)) from None


def _country(text: str, what: str) -> str:
    from leosim.apps.cli.common import country_option

    return country_option(text, what)


def _policy_spec(policy: str | None) -> dict:
    text = (policy or "all").strip()
    if text.lower() in ("all", "none") and not Path(text).exists():
        return {"preset": text.lower()}
    return {"file": str(Path(text).resolve())}


def _run(data: dict):
    from leosim.apps.cli.sections import run_in_memory

    return run_in_memory(data)


# ===================================================================== policy check
@policy_app.command("check")
def policy_check(
    site: Annotated[str, typer.Option("--site", help="Where the terminal is: a city ('Tehran'), 'LAT,LON', or a gateway/PoP name.")],
    home_country: Annotated[str | None, typer.Option("--home-country", help="ISO code of the terminal's home country (default: where it is).")] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="Preset 'all' (default) or 'none', or a policy file (.toml or .csv; see docs/adversary.md).")] = None,
    days_abroad: Annotated[float, typer.Option("--days-abroad", help="Days the terminal has spent outside its home country.")] = 0.0,
    speed_kmh: Annotated[float, typer.Option("--speed-kmh", help="The terminal's ground speed, km/h.")] = 0.0,
    plan: Annotated[str, typer.Option("--plan", help="roam, residential (needs --service-address) or maritime.")] = "roam",
    service_address: Annotated[str | None, typer.Option("--service-address", help="LAT,LON of a residential plan's service address.")] = None,
    terminal_id: Annotated[str, typer.Option("--terminal-id", help="Terminal id, checked against the policy's whitelist.")] = "terminal",
    no_gps: Annotated[bool, typer.Option("--no-gps", help="The terminal has no GPS fix (e.g. jammed).")] = False,
    route: Annotated[bool, typer.Option("--route/--no-route", help="Also route its traffic to the Internet and show where it lands and exits.")] = True,
    constellation: Annotated[str | None, typer.Option("--constellation", "-c", help="Constellation for --route (default: the real one).")] = None,
    start: Annotated[str | None, typer.Option("--start", help="ISO 8601 UTC instant to check at; default: the element-set epoch, as a scenario's start.")] = None,
) -> None:
    """The disablement code a terminal at SITE gets, and why; where its traffic lands and exits.

    The same admission and routing as a scenario's ``[policy]`` section at its first step.
    """
    from leosim.ground.countries import country_name
    from leosim.ground.places import resolve_place
    from leosim.models.policy import Disablement
    from leosim.scenario.resolve import load_policy

    if not (days_abroad >= 0):
        raise ParameterError(f"--days-abroad {days_abroad:g} is negative; expected days >= 0")
    if not (speed_kmh >= 0):
        raise ParameterError(f"--speed-kmh {speed_kmh:g} is negative; expected a speed >= 0 km/h")
    if plan not in ("roam", "residential", "maritime"):
        raise ParameterError(f"--plan {plan!r}; expected roam, residential or maritime")
    if plan == "residential" and not service_address:
        raise ParameterError("--plan residential needs --service-address LAT,LON")
    if service_address:
        _latlon(service_address, "--service-address")
    home = _country(home_country, "--home-country") if home_country else None
    load_policy(_policy_spec(policy).get("file") or _policy_spec(policy)["preset"])  # a bad file fails here, at once
    place = resolve_place(site)
    data = {
        "name": "policy check", "constellation": constellation_spec(constellation, None),
        "time": {"start": start or "epoch", "duration": "1min", "step": "15s"},
        "ground": {"terminals": [{"places": [f"{place.latitude_deg},{place.longitude_deg}"] if not place.country else [site]}]},
        "traffic": {"destination": "nearest-pop" if route else "none"},
        "policy": {**_policy_spec(policy), "home_country": home, "plan": plan, "service_address": service_address,
                   "days_abroad": days_abroad, "speed_kmh": speed_kmh, "no_gps": no_gps, "terminal_ids": [terminal_id]},
    }
    data["policy"] = {k: v for k, v in data["policy"].items() if v is not None}
    p, results, _ = _run(data)
    adm = results["admission"]
    row = adm.tables["admission"][0]
    code = Disablement(row["code_at_start"])
    cc = row["country"]
    colour = "green" if code is Disablement.OKAY else "red"
    moved = (round(place.latitude_deg, 5), round(place.longitude_deg, 5)) != (row["latitude_deg"], row["longitude_deg"])
    out.print(f"{place.name} ({place.latitude_deg:.4f}, {place.longitude_deg:.4f}) is in {cc} ({country_name(cc)})"
              + (f"; on land at ({row['latitude_deg']:.4f}, {row['longitude_deg']:.4f}): the 1:50m coastline puts "
                 "its centre at sea" if moved else ""))
    out.print(f"[bold {colour}]{code.value}[/bold {colour}]: {adm.data.admission.reason(0, 0)}", highlight=False)
    out.print(p.policy.describe(), highlight=False)
    if route and code is Disablement.OKAY:
        _print_route(p)


def _print_route(p) -> None:
    from leosim.ground.countries import country_name
    from leosim.models.policy import jurisdictions

    net = p.network
    res = net.solve(p.grid.times, p.pairs[:1], want_paths=True, step_s=p.grid.step_s)
    tab = Table("t_s", "rtt_ms", "lands at (gateway)", "exits at (PoP)", "countries on the ground")
    for k, row in enumerate(jurisdictions(net, res.paths)):
        j = row[0]
        rtt = res.rtt_s[k, 0]
        gw_txt = f"{j.gateway} [{j.gateway_country}]" if j.gateway else "-"
        pop_txt = f"{j.pop} [{j.pop_country} {country_name(j.pop_country)}]" if j.pop else "-"
        tab.add_row(f"{p.grid.offsets_s[k]:g}", "-" if not np.isfinite(rtt) else f"{rtt * 1e3:.1f}", gw_txt, pop_txt,
                    " > ".join(j.countries) or "no route")
    out.print(f"traffic to the Internet over {p.constellation.description}, {len(p.gateways)} allowed gateways, "
              f"{len(p.pops)} allowed PoPs; {net.attachment.spec} attachment; rtt_ms is the propagation round trip:")
    out.print(tab)


# ================================================================================ jam
def jam(
    jammer: Annotated[list[str] | None, typer.Option("--jammer", help="Jammer position LAT,LON (repeat for several).")] = None,
    eirp_dbw: Annotated[float, typer.Option("--eirp-dbw", help="EIRP of each --jammer, dBW (10 dBW = 10 W).")] = 10.0,
    region: Annotated[str, typer.Option("--region", help="Country code (or name) whose area to assess, e.g. IR.")] = "",
    jammer_height_m: Annotated[float, typer.Option("--jammer-height", help="Antenna height of each --jammer above ground, m.")] = 10.0,
    jammers_file: Annotated[Path | None, typer.Option("--jammers", help="Jammer file (CSV or TOML, see docs/adversary.md) instead of/in addition to --jammer.")] = None,
    clutter_loss_db: Annotated[float, typer.Option("--clutter-loss-db", help="Extra loss on every jammer path, dB (0: free space, the jammer's best case).")] = 0.0,
    tolerance_db: Annotated[float, typer.Option("--tolerance-db", help="J/S above which a GPS receiver loses its fix, dB.")] = 30.0,
    resolution: Annotated[int, typer.Option("--resolution", help="H3 resolution of the area grid (5: ~253 km2 cells).")] = 5,
    at: Annotated[str | None, typer.Option("--at", help="UTC time (ISO 8601) for jammers with active intervals; default: all on.")] = None,
    map_path: Annotated[Path | None, typer.Option("--map", help="PNG map to write (default jam-REGION.png).")] = None,
) -> None:
    """Share of a country's area (and people) where terminals lose GPS and get UNKNOWN_LOCATION; map.

    The same jamming and admission as a scenario's ``[jamming]`` section, over the
    country's ten largest cities as terminals.
    """
    from leosim.core.time import parse_time
    from leosim.ground.countries import country_geometry, country_name
    from leosim.models.jamming import j_to_s_db

    if not region:
        raise ParameterError("--region is missing; expected a country code such as IR")
    code = _country(region, "--region")
    spots = [_latlon(text, "--jammer") for text in jammer or []]
    if not spots and jammers_file is None:
        raise ParameterError("no jammer given; expected --jammer LAT,LON (repeatable) or --jammers FILE")
    if not 0 <= resolution <= 7:
        raise ParameterError(f"--resolution {resolution} is outside 0-7; expected an H3 resolution (5 is ~253 km2 cells)")
    for name, v, lo, hi in (("--tolerance-db", tolerance_db, 0, 100), ("--clutter-loss-db", clutter_loss_db, 0, 100),
                            ("--eirp-dbw", eirp_dbw, -60, 100), ("--jammer-height", jammer_height_m, 0, 20_000)):
        if not (np.isfinite(v) and lo <= v <= hi):
            raise ParameterError(f"{name} {v:g} is outside {lo:g}-{hi:g}; expected a value in that range")
    if at:
        parse_time(at)
    spec = {
        "jammers": [{"name": f"jammer-{k}", "latitude_deg": a, "longitude_deg": b, "eirp_dbw": eirp_dbw, "height_m": jammer_height_m}
                    for k, (a, b) in enumerate(spots, start=1)],
        "region": code, "resolution": resolution, "all_on": at is None, "tolerance_db": tolerance_db,
        "clutter_loss_db": clutter_loss_db,
    }
    if jammers_file is not None:
        spec["file"] = str(Path(jammers_file).resolve())
    data = {"name": "jam", "time": {"start": at or "epoch", "duration": "1s", "step": "1s"},
            "ground": {"terminals": [{"cities": 10, "country": code}]}, "traffic": {"destination": "none"}, "jamming": spec}
    p, results, summary = _run(data)
    jam_r, built = results["jamming"], p.sections["jamming"]
    j = summary["jamming"]
    lat, lon, _ = built.region_cells
    area = jam_r.data.area_share[0]
    out.print(f"[bold]{code} ({country_name(code)})[/bold]: {len(lat)} H3 cells at resolution {resolution}, "
              f"{len(built.jammers)} jammer(s), tolerance {tolerance_db:g} dB, clutter loss {clutter_loss_db:g} dB", highlight=False)
    out.print(f"denied share of the area: [bold]{area:.1%}[/bold] ({int(round(area * len(lat)))} of {len(lat)} cells: "
              f"terminals there get UNKNOWN_LOCATION); of its people: [bold]{jam_r.data.people_share[0]:.1%}[/bold]",
              highlight=False)
    times = None if at is None else np.array([parse_time(at)])
    js = j_to_s_db(built.jammers, lat, lon, times, clutter_loss_db=clutter_loss_db)
    js = js[0] if times is not None else js
    jt = Table("jammer", "lat", "lon", "height_m", "eirp_dbw", "denied_cells", "reach_km")
    from leosim.core.geodesy import great_circle_m

    for jm in built.jammers:
        own = j_to_s_db([jm], lat, lon, times, clutter_loss_db=clutter_loss_db)
        own = own[0] if times is not None else own
        d = great_circle_m(jm.latitude_deg, jm.longitude_deg, lat, lon)
        hit = own > tolerance_db
        jt.add_row(jm.name, f"{jm.latitude_deg:.4f}", f"{jm.longitude_deg:.4f}", f"{jm.height_m:g}", f"{jm.eirp_dbw:g}",
                   str(int(hit.sum())), f"{d[hit].max() / 1e3:.1f}" if hit.any() else "0")
    out.print(jt)
    if p.terminals:
        t_lat, t_lon = p.terminal_position
        cjs = j_to_s_db(built.jammers, t_lat, t_lon, times, clutter_loss_db=clutter_loss_db)
        cjs = cjs[0] if times is not None else cjs
        ct = Table("city", "J/S_dB", "GPS", "code")
        for s, v, row in zip(p.terminals, cjs, results["admission"].tables["admission"]):
            ct.add_row(s.name, "-" if not np.isfinite(v) else f"{v:.1f}", "denied" if v > tolerance_db else "ok",
                       row["code_at_start"])
        out.print(f"largest cities of {code}:")
        out.print(ct)
    from leosim.present.adversary_maps import jamming_map

    path = map_path or Path(f"jam-{code}.png")
    jamming_map(path, lat, lon, js, tolerance_db, built.jammers, country_geometry(code),
                title=f"GPS L1 J/S over {country_name(code)}: {area:.1%} of the area denied")
    err.print(f"wrote {path} (up to {j['denied_share_terminals_max']:.0%} of the {len(p.terminals)} cities without a fix)")


# =========================================================================== exposure
def exposure(
    terminals: Annotated[str | None, typer.Option("--terminals", help="Terminal site file (CSV/Hypatia) or one place ('Tehran', 'LAT,LON').")] = None,
    region: Annotated[str | None, typer.Option("--region", help="Country code: place --terminals-count terminals at random in it.")] = None,
    terminals_count: Annotated[str, typer.Option("--terminals-count", help="Terminals in --region (comma list for a density what-if).")] = "10",
    sensors: Annotated[str, typer.Option("--sensors", help="Sensor file (CSV/TOML) or layout ring:N:RADIUS_KM[:HEIGHT_M], grid:SPACING_KM[:HEIGHT_M], drone:RADIUS_KM:ALT_M[:KMH] (or with keywords, ring:n=6,radius_km=3).")] = "ring:6:2",
    anchor: Annotated[str | None, typer.Option("--anchor", help="Where layouts stand: a place or LAT,LON, or 'each' (each terminal's starting point); default: the terminals' centroid. Sensors stay there when a terminal relocates.")] = None,
    duty_cycle: Annotated[str, typer.Option("--duty-cycle", help="RF duty cycle 0-1 (comma list for a what-if, e.g. 0.11,0.02).")] = "0.11",
    tx_power_dbw: Annotated[str | None, typer.Option("--tx-power-dbw", help="Transmit power, dBW (default 6.1 = 4.06 W; comma list for a what-if).")] = None,
    relocate_hours: Annotated[str | None, typer.Option("--relocate-hours", help="Move the terminal every N hours (comma list; 0 = never).")] = None,
    relocate_radius_km: Annotated[float, typer.Option("--relocate-radius-km", help="A move goes anywhere within this distance of the terminal's place, km.")] = 2.0,
    spread_km: Annotated[float, typer.Option("--spread-km", help="Where exactly the terminal stands is unknown: each trial puts it at a random spot within this distance of its place, km (0: exactly there).")] = 2.0,
    hours: Annotated[float, typer.Option("--hours", help="How long the terminal is used, hours.")] = 24.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same result).")] = 0,
    trials: Annotated[int, typer.Option("--trials", help="Monte Carlo trials per terminal.")] = 200,
    radius_m: Annotated[float, typer.Option("--radius-m", help="Located when the 95% error ellipse's semi-major axis is below this, m.")] = 100.0,
    method: Annotated[str, typer.Option("--method", help="Geolocation: aoa, tdoa or hybrid.")] = "hybrid",
    open_terrain: Annotated[bool, typer.Option("--open-terrain", help="No clutter around the terminal (free space to the horizon).")] = False,
    map_path: Annotated[Path | None, typer.Option("--map", help="Risk map PNG to write (default exposure-map.png).")] = None,
    map_points: Annotated[int, typer.Option("--map-points", help="Risk-map grid points per side.")] = 24,
    constellation: Annotated[str | None, typer.Option("--constellation", "-c", help="Constellation for the beam directions (default: the real one).")] = None,
) -> None:
    """Time until direction-finding sensors locate transmitting terminals; risk map (PNG).

    The same model as a scenario's ``[exposure]`` section: sensors stay where they are placed.
    """
    duties = _floats(duty_cycle, "duty cycle", 0.0, 1.0)
    powers = _floats(tx_power_dbw, "transmit power (dBW)", -50.0, 30.0) if tx_power_dbw else None
    relocs = _floats(relocate_hours, "relocation interval (hours)", 0.0, 720.0) if relocate_hours else [0.0]
    counts = [int(v) for v in _floats(terminals_count, "terminal count", 1.0, 5000.0)]
    if not (0 < hours <= 720):
        raise ParameterError(f"--hours {hours:g} is outside 0-720; expected hours > 0, at most 30 days")
    if method not in ("aoa", "tdoa", "hybrid"):
        raise ParameterError(f"--method {method!r}; expected aoa, tdoa or hybrid")
    if not 4 <= map_points <= 200:
        raise ParameterError(f"--map-points {map_points} is outside 4-200")
    if not 1 <= trials <= 10_000:
        raise ParameterError(f"--trials {trials} is outside 1-10,000; expected a whole number of Monte Carlo trials")
    if not (np.isfinite(radius_m) and 0 < radius_m <= 1e6):
        raise ParameterError(f"--radius-m {radius_m:g} is not a radius above 0 m; expected e.g. 100")
    sensor_spec = sensors if _is_layout(sensors) else str(Path(sensors).resolve())
    for name, v in (("--relocate-radius-km", relocate_radius_km), ("--spread-km", spread_km)):
        if not (np.isfinite(v) and 0 <= v <= 500) or (name == "--relocate-radius-km" and v == 0):
            raise ParameterError(f"{name} {v:g} is outside 0-500 km; expected a distance in km")
    spec: dict = {"sensors": [sensor_spec], "duty_cycles": duties, "relocate_hours": relocs, "hours": hours, "trials": trials,
                  "relocate_radius_km": relocate_radius_km, "spread_km": spread_km,
                  "radius_m": radius_m, "method": method, "open_terrain": open_terrain, "map_points": map_points}
    if powers:
        spec["tx_power_dbw"] = powers
    if anchor:
        spec["center"] = anchor
    ground: dict = {"terminals": []}
    if terminals:
        f = Path(terminals)
        ground["terminals"] = [{"file": str(f.resolve())}] if f.exists() else [{"places": [terminals]}]
        spec["terminals"] = 1000
    elif region:
        spec["region"] = _country(region, "--region")
        spec["terminal_counts"] = counts
    else:
        raise ParameterError("no terminals: expected --terminals FILE|PLACE or --region CC with --terminals-count N")
    data = {"name": "exposure", "seed": seed, "constellation": constellation_spec(constellation, None),
            "ground": ground, "traffic": {"destination": "none"}, "exposure": spec}
    p, results, summary = _run(data)
    e, a = results["exposure"], p.sections["exposure"]
    from leosim.models.exposure import Emitter, detection_range_m

    first = a.sensors[0][0] if a.sensors and a.sensors[0] else None
    rng_m = detection_range_m(Emitter(in_clutter=not open_terrain), first) if first is not None else 0.0
    out.print(f"{len(a.sensors[0]) if a.sensors else 0} sensor(s) ({sensors}); {len(a.names)} terminal(s); one-look detection "
              f"range (Pd 50%, beam at 50 deg) of {first.name if first else '-'}: [bold]{rng_m / 1e3:.2f} km[/bold]; "
              f"{'open terrain' if open_terrain else 'terminal in clutter (ITU-R P.2108)'}", highlight=False)
    rows = [r for r in e.tables["exposure"] if r["duty_cycle"] == duties[0] and r["relocate_hours"] == relocs[0]
            and r["terminals"] == max(a.counts) and r["tx_power_dbw"] == e.tables["exposure"][0]["tx_power_dbw"]]
    tab = Table("terminal", "lat", "lon", "detecting_sensors", "best_snr_db", "median", "p10", "p90", f"located_within_{hours:g}h")
    for r in rows[:50]:
        snr = r["best_snr_db"]
        tab.add_row(r["terminal"], f"{r['latitude_deg']:.4f}", f"{r['longitude_deg']:.4f}", str(r["detecting_sensors"]),
                    snr if isinstance(snr, str) else f"{snr:.1f}", format_seconds(r["median_s"]), format_seconds(r["p10_s"]),
                    format_seconds(r["p90_s"]), f"{r['located_share']:.0%}")
    out.print(f"time to locate (95% ellipse under {radius_m:g} m, {method}, {trials} trials, seed {seed}) at duty cycle {duties[0]:g}:")
    out.print(tab)
    if len(rows) > 50:
        out.print(f"({len(rows) - 50} more terminals not shown)")
    wt = Table("terminals", "duty_cycle", "tx_power_dbw", "relocate_h", "median_time_to_locate", "located_within_1h",
               f"located_within_{hours:g}h")
    for w in e.data.what_if:
        wt.add_row(str(w["terminals"]), f"{w['duty_cycle']:g}", f"{w['tx_power_dbw']:.1f}",
                   f"{w['relocate_hours']:g}" if w["relocate_hours"] else "never", format_seconds(w["median_time_to_locate_s"]),
                   f"{w['located_within_1h']:.0%}", f"{w['located_within_hours']:.0%}")
    out.print("what-if:")
    out.print(wt)
    risk = e.data.risk
    if risk is not None:
        rm = summary["exposure"]["risk_map"]
        people = "" if rm["located_share_people"] is None else f", {rm['located_share_people']:.0%} of its people"
        out.print(f"risk map: a terminal would be located within {hours:g} h over {rm['located_share_area']:.0%} of the "
                  f"mapped area{people}")
        from leosim.present.adversary_maps import risk_map as draw

        path = map_path or Path("exposure-map.png")
        draw(path, risk["lat"], risk["lon"], risk["t_s"], hours, risk["sensors"], list(zip(a.lat, a.lon)),
             title=f"Expected time to locate a terminal (duty cycle {risk['duty_cycle']:g}, {len(risk['sensors'])} sensors)")
        err.print(f"wrote {path}")


def _is_layout(text: str) -> bool:
    from leosim.models.exposure import is_layout

    return is_layout(text) and not Path(text).exists()


def register(app: typer.Typer) -> None:
    """Add ``policy check``, ``jam`` and ``exposure`` to the ``leosim`` app."""
    app.add_typer(policy_app, name="policy")
    app.command("jam")(jam)
    app.command("exposure")(exposure)


__all__ = ["register"]
