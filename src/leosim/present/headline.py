"""The headline of a run: a few lines of (label, value) from its summary, for the CLI and
the report. Every number says what it is (propagation RTT, share of terminals, of area,
of people)."""

from __future__ import annotations

import numpy as np

NOT_LOCATED = "not located"


def format_seconds(s: float | str | None) -> str:
    """``12.5`` -> ``"12.5 s"``, ``780`` -> ``"13.0 min"``; ``"not located"`` as is.

    >>> format_seconds(0.02), format_seconds(780), format_seconds("not located")
    ('20 ms', '13.0 min', 'not located')
    """
    if s is None or isinstance(s, str) or not np.isfinite(s):
        return NOT_LOCATED
    if s < 1:
        return f"{s * 1e3:.0f} ms"
    if s < 120:
        return f"{s:.1f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def _mbps(v: float | None) -> str:
    return "-" if v is None else f"{v:,.2f} Mbit/s"


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f} ms"


def headline_rows(summary: dict) -> list[tuple[str, str]]:
    """The headline table, as (label, value) rows, for the CLI and the report."""
    rows = [
        ("scenario", summary["scenario"]),
        ("constellation", f"{summary['constellation']} ({summary['n_satellites']:,} satellites)"),
        ("window", f"{summary['duration_s']:g} s from {summary['start']} in {summary['step_s']:g} s steps"),
        ("routing / attachment", f"{summary['routing']} / {summary['attachment']}"),
        ("terminals / pairs", f"{summary['n_terminals']} / {summary['n_pairs']}"),
    ]
    if summary.get("n_pairs"):
        rows += [
            ("median RTT to PoP (propagation)", _ms(summary.get("rtt_to_pop_median_ms"))),
            ("median ping to PoP (predicted)", _ms(summary.get("ping_to_pop_median_ms"))),
            ("p95 RTT to PoP (propagation)", _ms(summary.get("rtt_to_pop_p95_ms"))),
            ("reachable", "-" if summary.get("reachable") is None else f"{summary['reachable']:.1%} of pair-steps"),
        ]
        pings = summary.get("regions_ping", {})
        rows += [(f"median RTT, {r} (propagation / predicted ping)",
                  f"{v:.1f} ms / {_ms(pings.get(r))}" if pings.get(r) is not None else f"{v:.1f} ms")
                 for r, v in summary.get("regions", {}).items() if v is not None]
    if "admission" in summary:
        a = summary["admission"]
        rows.append((f"admitted (policy {a['policy']})",
                     f"{a['admitted_at_start']} of {a['terminals']} terminals at the start, {a['admitted_throughout']} "
                     f"throughout; {a['terminal_steps_admitted']:.1%} of terminal-steps, "
                     f"{a['people_steps_admitted']:.1%} of people-steps"))
    if "jamming" in summary:
        j = summary["jamming"]
        text = (f"{j['jammers']} jammer{'' if j['jammers'] == 1 else 's'}: up to {j['denied_share_terminals_max']:.1%} "
                f"of terminals without a GPS fix (mean {j['denied_share_terminals_mean']:.1%})")
        if "region" in j:
            text += (f"; up to {j['denied_share_area_max']:.2%} of {j['region']}'s area and "
                     f"{j['denied_share_people_max']:.2%} of its people")
        rows.append(("GPS jamming", text))
    if "exposure" in summary:
        e = summary["exposure"]
        for d, v in e["by_duty_cycle"].items():
            fast = v["fastest_median_s"]
            rows.append((f"time to locate, duty cycle {d}",
                         f"{v['terminals_located']} of {e['terminals']} terminals located within {e['hours']:g} h"
                         + ("" if fast == NOT_LOCATED else f"; fastest median {format_seconds(fast)}")))
    if "latency" in summary:
        lt = summary["latency"]
        text = (f"{lt['countries']} countries, {lt['users']} users: median of the countries' predicted median ping "
                f"{_ms(lt['predicted_p50_median_ms'])}")
        if lt.get("compared_with_published"):
            text += (f"; {lt['within_5ms_of_published']:.0%} of {lt['compared_with_published']} within 5 ms of "
                     "Starlink's published median")
        rows.append(("latency by country (predicted ping)", text))
    if "capacity" in summary:
        c = summary["capacity"]
        share = c["served_gbps"] / c["asked_gbps"] if c["asked_gbps"] else 0.0
        rows += [
            (f"capacity, {c['place']} ({c['terminals']:,} terminals, {c['intervals']} x 15 s)",
             f"{c['served_gbps']:,.1f} of {c['asked_gbps']:,.1f} Gbit/s asked served ({share:.1%})"),
            ("capacity per terminal: median / p10", f"{_mbps(c['per_terminal_median_mbps'])} / {_mbps(c['per_terminal_p10_mbps'])}"),
            (f"terminals supportable at >= {c['min_speed_mbps']:g} Mbit/s",
             f"{c['terminals_supportable_at_min_speed']:,.0f} ({c['terminals_at_min_speed']:,.0f} of the "
             f"{c['terminals']:,} get it now)"),
            ("capacity bottleneck", c["binding_bottleneck"]),
        ]
    return rows


__all__ = ["NOT_LOCATED", "format_seconds", "headline_rows"]
