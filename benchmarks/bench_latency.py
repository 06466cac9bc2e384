"""Latency benchmark: what `leosim latency --country all` costs, and the routing it rests on.

    .venv/bin/python benchmarks/bench_latency.py                 # both parts
    .venv/bin/python benchmarks/bench_latency.py --only step     # many terminals to few PoPs, per step
    .venv/bin/python benchmarks/bench_latency.py --only all      # every country, 10 users, 1 h at 15 s

Prints:

* ``step``: seconds per 15 s step for N terminals (GeoNames cities) routed to servers at K
  PoPs over the May 2026 snapshot with scheduled attachment, searched backwards from the
  PoPs (what `leosim latency` does) and forwards from every terminal
  (``search="forward"``); the two must agree.
* ``all``: the wall time, CPU time and peak memory of `leosim latency --country all`.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

import numpy as np


def per_step(n_terminals: int, n_pops: int, steps: int) -> None:
    from leosim.ground.sites import GroundSegment, Site, SiteKind
    from leosim.network.builder import build_network
    from leosim.space.constellation import Constellation

    c = Constellation.preset("starlink-2026-05")
    cities = list(GroundSegment.cities(n_terminals))
    pops = list(GroundSegment.starlink_pops())[:n_pops]
    servers = [Site(f"srv {p.name}", p.latitude_deg, p.longitude_deg, 0.0, SiteKind.SERVER, p.country) for p in pops]
    seg = GroundSegment.from_sites(cities + servers)
    pairs = np.array([[i, len(cities) + i % len(pops)] for i in range(len(cities))])
    t0 = np.datetime64("2026-05-13T00:00:12")
    times = t0 + np.arange(steps) * np.timedelta64(15, "s")
    net = build_network(c, seg, attach="scheduled")
    net.solve(times[:1], pairs)  # warm: laser topology, ground geometry
    a = time.perf_counter()
    back = net.solve(times, pairs)
    t_back = (time.perf_counter() - a) / steps
    a = time.perf_counter()
    fwd = net.solve(times, pairs, search="forward")
    t_fwd = (time.perf_counter() - a) / steps
    same = np.allclose(back.rtt_s, fwd.rtt_s, rtol=0, atol=1e-12, equal_nan=True)
    print(f"{len(cities)} terminals -> {len(pops)} PoPs, {steps} steps of 15 s, one core:")
    print(f"  backwards from the PoPs: {t_back:.3f} s/step; forwards from each terminal: {t_fwd:.3f} s/step "
          f"({t_fwd / t_back:.1f}x); same RTTs: {same}")


def every_country() -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    a = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "leosim", "latency", "--country", "all", "-f", "csv", "-o", "/dev/null"],
                       capture_output=True, text=True)
    wall = time.perf_counter() - a
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        raise SystemExit(p.stderr)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"leosim latency --country all: {wall:.0f} s wall, {cpu:.0f} s CPU (children), "
          f"peak memory {after.ru_maxrss / 1024:.0f} MB; {p.stderr.strip().splitlines()[0]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=("step", "all"))
    ap.add_argument("--terminals", type=int, default=400)
    ap.add_argument("--pops", type=int, default=40)
    ap.add_argument("--steps", type=int, default=6)
    a = ap.parse_args()
    if a.only in (None, "step"):
        per_step(a.terminals, a.pops, a.steps)
    if a.only in (None, "all"):
        every_country()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
