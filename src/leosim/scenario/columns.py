"""The column schema of every table a run writes: names, units and meaning, in order.

Sections build their rows with exactly these columns (a test holds them to it), the
pipeline writes them in this order, the docs list them from here, and the commands that
write the same tables (``leosim capacity``, ``policy check``, ``jam``, ``exposure``) use
the same names. A ``{region}`` in a name stands for the section's country code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    meaning: str


def _cols(*items: tuple[str, str]) -> tuple[Column, ...]:
    return tuple(Column(n, m) for n, m in items)


TABLES: dict[str, tuple[Column, ...]] = {
    "pairs": _cols(
        ("src", "source endpoint"), ("dst", "destination endpoint"), ("dst_kind", "terminal or server"),
        ("kind", "to-pop (a terminal to its PoP) or pair (an explicit pair)"), ("region", "the source's continent"),
        ("great_circle_km", "great-circle distance between the ends, km"),
        ("fibre_rtt_ms", "round trip over terrestrial fibre at c/1.47 with the scenario's route stretch, ms"),
        ("rtt_min_ms", "propagation round-trip time, minimum over the steps, ms"),
        ("rtt_median_ms", "propagation RTT, median over the steps, ms"),
        ("rtt_p95_ms", "propagation RTT, 95th percentile, ms"), ("rtt_max_ms", "propagation RTT, maximum, ms"),
        ("reachable", "share of steps with a path"), ("path_changes", "steps at which the path changed"),
        ("ping_median_ms", "predicted median idle ping (propagation plus access, processing and queueing; "
                           "docs/latency.md), median over the steps, ms"),
    ),
    "regions": _cols(
        ("region", "continent of the terminals"), ("terminals", "terminals in it"),
        ("rtt_p10_ms", "propagation RTT to the PoP, 10th percentile over terminal-steps, ms"),
        ("rtt_median_ms", "propagation RTT to the PoP, median, ms"), ("rtt_p90_ms", "90th percentile, ms"),
        ("rtt_p99_ms", "99th percentile, ms"), ("reachable", "share of terminal-steps with a path"),
        ("ping_p10_ms", "predicted median idle ping to the PoP, 10th percentile over terminal-steps, ms"),
        ("ping_median_ms", "predicted ping to the PoP, median, ms"), ("ping_p90_ms", "predicted ping, 90th percentile, ms"),
    ),
    "admission": _cols(
        ("terminal", "terminal name"), ("latitude_deg", "where the operator sees it (on land)"),
        ("longitude_deg", "longitude, deg"), ("country", "country it stands in"),
        ("home_country", "its home country, for the roaming limit"),
        ("code_at_start", "Starlink disablement code at the first step"),
        ("admitted_share", "share of steps it is served"), ("first_denied_s", "seconds into the run of its first refusal"),
        ("first_denied_code", "the code then"), ("reason", "why, in one sentence"),
        ("people", "people in its H3 resolution-5 cell (GeoNames), the weight of 'share of people'"),
    ),
    "jurisdictions": _cols(
        ("pair", "the pair"), ("kind", "to-pop or pair"), ("admitted_at_start", "both ends served at the first step"),
        ("gateway", "where the traffic lands from the satellites"), ("gateway_country", "that gateway's country"),
        ("pop", "where it leaves for the internet"), ("pop_country", "that PoP's country"),
        ("countries", "every country a ground node of the path stands in, in path order"),
    ),
    "jamming": _cols(
        ("time", "UTC instant"), ("t_s", "seconds into the run"), ("jammers_on", "jammers transmitting"),
        ("terminals_denied", "terminals without a GPS fix (UNKNOWN_LOCATION)"),
        ("denied_share_terminals", "share of terminals without a fix"),
        ("denied_share_area_{region}", "share of the region's area (H3 cells) where GPS is denied"),
        ("denied_share_people_{region}", "share of the region's people (GeoNames, on H3 cells) where GPS is denied"),
    ),
    "exposure": _cols(
        ("terminal", "terminal name"), ("latitude_deg", "its starting point, deg"), ("longitude_deg", "longitude, deg"),
        ("country", "country it stands in"), ("duty_cycle", "share of time it transmits when served"),
        ("tx_power_dbw", "its transmit power, dBW"), ("relocate_hours", "it moves every so many hours (0: never)"),
        ("terminals", "terminals transmitting in the area (density what-if)"),
        ("admitted_share", "share of the run it is served (it transmits only then)"),
        ("sensors", "sensors deployed"), ("detecting_sensors", "sensors that can hear it (Pd >= 1 % per look)"),
        ("best_snr_db", "best SNR at a sensor per look, dB, or 'no line of sight'"),
        ("median_s", "median time to locate, s, or 'not located'"), ("p10_s", "10th percentile, s"),
        ("p90_s", "90th percentile, s"), ("located_share", "share of Monte Carlo trials that locate it"),
        ("hours", "hours assessed"), ("trials", "Monte Carlo trials"),
    ),
    "capacity_cells": _cols(
        ("interval_start", "start of the 15 s reconfiguration interval, UTC"), ("cell", "H3 cell"),
        ("latitude_deg", "cell centre, deg"), ("longitude_deg", "cell centre, deg"), ("population", "people in the cell"),
        ("terminals", "terminals in the cell"), ("demand_mbps", "busy-hour demand asked, Mbit/s"),
        ("offered_mbps", "served plus the cell's share of what is left, Mbit/s"), ("served_mbps", "served, Mbit/s"),
        ("per_terminal_mbps", "served per terminal, Mbit/s"),
        ("offered_per_terminal_mbps", "offered per terminal, Mbit/s"),
        ("test_speed_mbps", "what one terminal's speed test would measure, Mbit/s"),
        ("unserved_mbps", "demand not served, Mbit/s"), ("bottleneck", "what limits the cell"),
    ),
    "capacity_cities": _cols(
        ("city", "terminal city of the scenario in that country"), ("cells", "cells nearest it"),
        ("terminals", "terminals in them"), ("population", "people in them"), ("asked_gbps", "demand, Gbit/s"),
        ("served_gbps", "served, Gbit/s"), ("per_terminal_mean_mbps", "mean per terminal, Mbit/s"),
        ("per_terminal_median_mbps", "median per terminal, Mbit/s"),
        ("terminals_at_min_speed", "terminals getting at least the minimum speed"),
    ),
    "latency": _cols(
        ("country", "ISO 3166-1 alpha-2 code"), ("iso3", "ISO 3166-1 alpha-3 code"), ("name", "country name"),
        ("pops", "home PoPs of its users (codes, most users first, ';'-separated)"),
        ("gateway_countries", "countries its traffic comes down in (most user-steps first, ';'-separated)"),
        ("users", "terminals placed by population"),
        ("propagation_p50_ms", "propagation RTT to the home PoP, median over user-steps, ms"),
        ("rtt_p20_ms", "predicted router-to-internet RTT, 15 s averages, Starlink's p20 (percentiles of performance: "
                       "20 % of windows are slower), ms"),
        ("rtt_p50_ms", "predicted RTT, median of the 15 s averages, ms"),
        ("rtt_p80_ms", "predicted RTT, Starlink's p80 (80 % of windows are slower), ms"),
        ("reachable", "share of user-steps with a route"),
        ("published_p50_ms", "Starlink's published median for the country (December 2025), where leosim ships it, ms"),
    ),
    "capacity_saturated": _cols(
        ("interval_start", "interval, UTC"), ("kind", "what is full: laser, gateway feeder, gateway site, satellite beams or capacity"),
        ("name", "which one"), ("load_mbps", "load, Mbit/s"), ("capacity", "its capacity"),
    ),
}


def columns(table: str, region: str | None = None) -> list[str]:
    """The column names of ``table``; ``{region}`` columns are named for ``region`` or left
    out when there is none."""
    out = []
    for c in TABLES[table]:
        if "{region}" in c.name:
            if region is None:
                continue
            out.append(c.name.format(region=region))
        else:
            out.append(c.name)
    return out


#: Every file a run may write into its output directory (``--overwrite`` removes only these).
OUTPUT_FILES = (
    "rtt.zarr", "rtt.nc", "summary.json", "scenario.toml", "report.html", "INCOMPLETE", "latency_map.png",
    *(f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")),
)

__all__ = ["OUTPUT_FILES", "TABLES", "Column", "columns"]
