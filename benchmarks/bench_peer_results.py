"""leosim against Hypatia's and LEOCraft's published RTTs, and their run times beside leosim's.

Part 1, agreement: for each of the 18 RTT files in
``../shared/data/peer_results/leocraft_vs_hypatia/`` (Hypatia and LEOCraft x Starlink S1,
Kuiper K1, Telesat T1 x Delhi -> New York, Moscow -> Paris, Tokyo -> Sydney), leosim is
set up as that peer models it (``tests/test_peer_results.py`` holds the set-up, so the
benchmark and the test cannot drift apart; docs/validation.md explains it) and the
median and largest absolute (ms) and relative differences over the 200 steps are
printed, with whether leosim's path changes fall on the peer's steps, and leosim's wall
time for the set-up (constellation from ``tles.txt``, network) and for solving the three
pairs over 200 s at 1 s.

Part 2, run time: the workload of the peers' ``RunTime/`` files (LEOCraft's and Hypatia's
``capture_simulation_runtime.py``): an N x N shell at 1,000 km and 90 deg, a 30 deg cone,
Hypatia's 100 cities, the 50 pairs city i -> city i + 50, 200 s at 1 s, for N = 20..75.
leosim's time (set-up + solve, one process) is printed beside theirs. Their figures were
measured by their authors on their machine and include more than leosim does here:
Hypatia's computes the forwarding state of all 100 cities (satgen) and then runs ns-3,
one ping run per pair; LEOCraft's rebuilds the constellation with pyephem every second.
The comparison says how long each tool takes to answer the same question, not how fast
each one's shortest-path code is.

Usage::

    python benchmarks/bench_peer_results.py                  # both parts (~1-3 min)
    python benchmarks/bench_peer_results.py --sizes 20,45,75 # fewer run-time sizes
    python benchmarks/bench_peer_results.py --skip-runtime
    python benchmarks/bench_peer_results.py --json peer.json
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _load_setup():
    """``tests/test_peer_results.py`` as a module: the peers' set-up lives there only."""
    spec = importlib.util.spec_from_file_location("peer_setup", ROOT / "tests" / "test_peer_results.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["peer_setup"] = module
    spec.loader.exec_module(module)
    return module


T = _load_setup()


def agreement() -> list[dict]:
    rows = []
    print("Part 1: leosim against each peer's RTT series (200 steps of 1 s from 2000-01-01 00:00 UTC)")
    print(f"{'peer':9s} {'shell':12s} {'pair':18s} {'median |d| ms':>13s} {'max |d| ms':>10s} "
          f"{'median rel':>10s} {'max rel':>8s} {'changes':>8s} {'set-up s':>8s} {'solve s':>7s}")
    for simulator in T.SIMULATORS:
        for con, shell in T.SHELLS.items():
            t0 = time.perf_counter()
            net = T.peer_network(shell, simulator)
            t1 = time.perf_counter()
            rtt, phash = T.solve(net)
            t2 = time.perf_counter()
            for j, pair in enumerate(T.PAIRS):
                theirs = T.peer_rtt_ms(simulator, con, pair)
                d = np.abs(rtt[:, j] - theirs)
                rel = d / theirs
                changes = T.peer_path_changes(simulator, con, pair)
                same = "n/a" if changes is None else ("same" if T.path_changes(phash[:, j]) == changes else "DIFFER")
                row = {
                    "simulator": simulator, "constellation": con, "pair": pair,
                    "median_abs_ms": float(np.median(d)), "max_abs_ms": float(d.max()),
                    "median_rel": float(np.median(rel)), "max_rel": float(rel.max()),
                    "path_changes": same, "setup_s": t1 - t0, "solve_s": t2 - t1,
                    "rev_per_day": shell.rev_per_day(simulator), "max_gsl_length_m": shell.max_gsl_length_m,
                }
                rows.append(row)
                print(f"{simulator:9s} {con:12s} {pair:18s} {row['median_abs_ms']:13.5f} {row['max_abs_ms']:10.5f} "
                      f"{row['median_rel']:10.1e} {row['max_rel']:8.1e} {same:>8s} {row['setup_s']:8.2f} {row['solve_s']:7.2f}")
    worst = max(r["max_rel"] for r in rows)
    print(f"largest relative difference over all 18 files: {worst:.1e} (tolerance in the test: {T.REL_TOL:g})")
    return rows


def _peer_runtimes() -> dict[str, dict[int, float]]:
    out = {}
    for name, file in (("LEOCraft", "LEOCraftRunTime.csv"), ("Hypatia", "hypatiaRunTime.csv")):
        with (T.PEER / "RunTime" / file).open() as f:
            out[name] = {int(r["o"]): float(r["time_s"]) for r in csv.DictReader(f)}
    return out


def runtime(sizes: list[int]) -> list[dict]:
    """The peers' run-time workload (see the module docstring) in leosim."""
    from leosim.network.links import LinkOptions

    peers = _peer_runtimes()
    altitude_m, inclination_deg, elevation_deg = 1000e3, 90.0, 30.0
    cities = T.cities()
    pairs = np.array([(i, i + 50) for i in range(50)])
    rows = []
    print()
    print("Part 2: run time of the peers' workload: N x N at 1,000 km, 90 deg, 30 deg cone, "
          "100 cities, 50 pairs, 200 s at 1 s")
    print(f"{'N':>3s} {'sats':>5s} {'leosim set-up s':>15s} {'leosim solve s':>14s} {'leosim s':>8s} "
          f"{'LEOCraft s':>10s} {'Hypatia s':>10s} {'reachable':>9s}")
    for n in sizes:
        shell = T.PeerShell(f"{n}x{n}", n, n, inclination_deg, altitude_m, elevation_deg)
        t0 = time.perf_counter()
        c = T.peer_constellation(shell, "LEOCraft")  # Kepler mean motion, as both scripts compute it
        net = T.peer_network(shell, "LEOCraft", constellation=c, endpoints=cities,
                             links=LinkOptions(max_gsl_length_m=altitude_m / math.sin(math.radians(elevation_deg))))
        t1 = time.perf_counter()
        res = net.solve(T.step_times(), pairs, step_s=T.STEP_S)
        t2 = time.perf_counter()
        row = {"n": n, "n_sats": n * n, "setup_s": t1 - t0, "solve_s": t2 - t1, "leosim_s": t2 - t0,
               "leocraft_s": peers["LEOCraft"].get(n), "hypatia_s": peers["Hypatia"].get(n),
               "reachable": float(np.isfinite(res.rtt_s).mean())}
        rows.append(row)

        def fmt(v):
            return f"{v:10.1f}" if v is not None else f"{'-':>10s}"

        print(f"{n:3d} {n * n:5d} {row['setup_s']:15.2f} {row['solve_s']:14.2f} {row['leosim_s']:8.2f} "
              f"{fmt(row['leocraft_s'])} {fmt(row['hypatia_s'])} {row['reachable']:9.1%}")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="20,25,30,35,40,45,50,55,60,65,70,75",
                    help="N of the N x N run-time shells (the peers measured 20 to 75 in steps of 5)")
    ap.add_argument("--skip-runtime", action="store_true", help="only part 1")
    ap.add_argument("--json", help="also write every figure to this file")
    args = ap.parse_args(argv)
    if not T.PEER.is_dir() or not T.CITIES.is_file():
        print(f"needs {T.PEER} and {T.CITIES} (the workspace's shared data beside the repository)", file=sys.stderr)
        return 1
    print(f"leosim peer comparison on {platform.node()}: {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}; one process")
    out = {"agreement": agreement()}
    if not args.skip_runtime:
        out["runtime"] = runtime([int(s) for s in args.sizes.split(",") if s.strip()])
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
