"""Capacity benchmark: seconds and memory per 15 s interval, full Gen1 over a large country.

    .venv/bin/python benchmarks/bench_capacity.py                       # Iran, 50,000 terminals, res 5
    .venv/bin/python benchmarks/bench_capacity.py --country US --contiguous --terminals 2000000
    .venv/bin/python benchmarks/bench_capacity.py --compare-lp          # + the exact LP on one interval (slow)

Prints the one-off set-up (constellation, demand cells, the first interval, which also
fills the ITU-R loss cache), then the steady state: seconds per interval over
``--intervals`` consecutive intervals (mean and max, with a breakdown by stage), and
peak memory (the process's peak RSS, and the peak of Python/numpy allocations during
one interval, from tracemalloc). The goal: under 2 s per interval for Gen1 over Iran or
the contiguous USA at resolution 5 on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc

import numpy as np


def _contiguous_us(d, terminals: int):
    """The 48 contiguous states and DC: cells inside the box 24.4-49.5 N, 125-66.9 W."""
    from leosim.models.capacity import Demand, _largest_remainder

    keep = (d.latitude_deg > 24.4) & (d.latitude_deg < 49.5) & (d.longitude_deg > -125.0) & (d.longitude_deg < -66.9)
    return Demand(cells=d.cells[keep], population=d.population[keep], terminals=_largest_remainder(terminals, d.population[keep]),
                  resolution=d.resolution, demand_per_terminal_bps=d.demand_per_terminal_bps,
                  people_per_terminal=d.people_per_terminal, country="US (contiguous)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--country", default="IR")
    ap.add_argument("--contiguous", action="store_true", help="with --country US: the 48 contiguous states only")
    ap.add_argument("--terminals", type=int, default=50_000)
    ap.add_argument("--resolution", type=int, default=5)
    ap.add_argument("--constellation", default="starlink-gen1")
    ap.add_argument("--start", default="2026-05-13T00:00:12")
    ap.add_argument("--intervals", type=int, default=8, help="steady-state intervals to time")
    ap.add_argument("--rain-exceedance", type=float, default=1.0)
    ap.add_argument("--compare-lp", action="store_true", help="also run the exact LP allocator on one interval")
    ap.add_argument("--json", help="write every figure to this file")
    a = ap.parse_args(argv)

    from leosim import Constellation
    from leosim.models.capacity import CapacityModel, Demand, max_min_fair_lp, reconfiguration_starts

    fig: dict = {"args": vars(a)}
    t = time.perf_counter()
    c = Constellation.preset(a.constellation)
    fig["setup_constellation_s"] = time.perf_counter() - t
    t = time.perf_counter()
    d = Demand.for_country(a.country, terminals=a.terminals, resolution=a.resolution)
    if a.contiguous:
        d = _contiguous_us(d, a.terminals)
    fig["setup_demand_s"] = time.perf_counter() - t
    model = CapacityModel(c, d, rain_exceedance_pct=a.rain_exceedance)
    starts = reconfiguration_starts(np.datetime64(a.start), 15.0 * (a.intervals + 1))
    t = time.perf_counter()
    first = model.interval(starts[0])
    fig["first_interval_s"] = time.perf_counter() - t
    fig["first_interval_breakdown_s"] = first.timings_s
    print(f"{d.country}: {d.n_cells:,} cells (H3 res {d.resolution}), {d.total_terminals:,} terminals; "
          f"{a.constellation}: {c.n_sats:,} satellites")
    print(f"set-up: constellation {fig['setup_constellation_s']:.2f} s, demand {fig['setup_demand_s']:.2f} s, "
          f"first interval {fig['first_interval_s']:.2f} s (fills the ITU-R cache: "
          f"{first.timings_s['atmosphere']:.2f} s)")

    times, parts = [], []
    for s in starts[1:1 + a.intervals]:
        t = time.perf_counter()
        r = model.interval(s)
        times.append(time.perf_counter() - t)
        parts.append(r.timings_s)
    fig["seconds_per_interval"] = times
    fig["breakdown_mean_s"] = {k: float(np.mean([p[k] for p in parts])) for k in parts[0]}
    tracemalloc.start()
    r = model.interval(starts[-1])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    fig["interval_traced_peak_mb"] = peak / 2**20
    fig["process_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res = model.run(starts[1:2])
    s = res.summary()
    fig["summary_first_steady_interval"] = s
    print(f"per interval: mean {np.mean(times):.2f} s, max {np.max(times):.2f} s over {len(times)} intervals "
          f"(goal < 2 s); filling steps {r.steps}")
    print("  breakdown (mean): " + ", ".join(f"{k} {v:.3f} s" for k, v in fig["breakdown_mean_s"].items()))
    print(f"memory: peak during one interval {fig['interval_traced_peak_mb']:.0f} MiB (tracemalloc); "
          f"process peak RSS {fig['process_peak_rss_mb']:.0f} MiB")
    print(f"sanity: served {s['served_bps'] / 1e9:,.0f} of {s['demand_bps'] / 1e9:,.0f} Gbit/s asked; per terminal "
          f"median {s['median_per_terminal_bps'] / 1e6:.2f} / p10 {s['p10_per_terminal_bps'] / 1e6:.2f} Mbit/s; "
          f"binding: {s['binding_bottleneck']}")
    if a.compare_lp:
        lp_model = CapacityModel(c, d, rain_exceedance_pct=a.rain_exceedance, allocator=max_min_fair_lp, offered=False)
        lp_model.user_atmosphere._cache.update(model.user_atmosphere._cache)
        lp_model.feeder_atmosphere._cache.update(model.feeder_atmosphere._cache)
        fill_model = CapacityModel(c, d, rain_exceedance_pct=a.rain_exceedance, offered=False)
        fill_model.user_atmosphere._cache.update(model.user_atmosphere._cache)
        fill_model.feeder_atmosphere._cache.update(model.feeder_atmosphere._cache)
        out = {}
        for name, m in (("filling", fill_model), ("lp", lp_model)):
            t = time.perf_counter()
            rr = m.run(starts[1:2])
            out[name] = {"seconds": time.perf_counter() - t, **{k: rr.summary()[k] for k in (
                "served_bps", "median_per_terminal_bps", "p10_per_terminal_bps")},
                "min_per_terminal_bps": float(rr.per_terminal_bps[0][d.terminals > 0].min())}
        fig["filling_vs_lp"] = out
        for name, v in out.items():
            print(f"{name:8s}: {v['seconds']:.1f} s, served {v['served_bps'] / 1e9:,.1f} Gbit/s, per terminal median "
                  f"{v['median_per_terminal_bps'] / 1e6:.2f} / p10 {v['p10_per_terminal_bps'] / 1e6:.2f} / min "
                  f"{v['min_per_terminal_bps'] / 1e6:.3f} Mbit/s")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(fig, fh, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
