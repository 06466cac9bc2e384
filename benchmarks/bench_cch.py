"""Customizable contraction hierarchies (pyroutingkit, RoutingKit's CCH) against leosim's
kept shortest-path trees, on the same step graphs.

Issue 14 asked for this measurement before choosing. pyroutingkit is not a dependency of
leosim; install it beside leosim to run this (``.venv/bin/pip install pyroutingkit``)::

    .venv/bin/python benchmarks/bench_cch.py                  # gen1-1000 (Gen1, 1,000 cities, 100 ms)
    .venv/bin/python benchmarks/bench_cch.py --case real-100  # the May 2026 snapshot, 100 cities, 1 s

For ``--steps`` consecutive steps of the case (``bench_routing.py``'s cases), the graphs
leosim's router searches are captured from ``Network.solve``. CCH's topology must be
fixed, so it is built once (nested dissection on the nodes' coordinates) over the union
of every step's arcs, an arc missing at a step getting RoutingKit's infinite weight; its
weights are integers, here nanoseconds. Per step it then customises the weights and runs
one many-to-many query from every source to every target. leosim's figure for the same
step is ``TreeCache.update`` (repair the trees) plus ``TreeCache.walk`` (the best edge
into each target and the walk of every path, which CCH's distances do not include).
Printed per step: both times, and how far CCH's distances are from leosim's (integer
weights cannot give leosim's float64 sums bit for bit).
"""

from __future__ import annotations

import argparse
import sys
import time
import types

import bench_routing as br
import numpy as np

from leosim.network import trees
from leosim.network.routing import FIBRE_INDEX, C


def capture(key: str, n_steps: int):
    """The case, its graphs of steps ``0..n_steps`` as leosim's router builds them, and the
    one-way delay of every pair at each step."""
    case = br.build_case(key, types.SimpleNamespace(start=None, duration=None, step=None))
    graphs = []
    update = trees.TreeCache.update

    def spy(self, graph, reuse=True):
        graphs.append(graph.copy())
        return update(self, graph, reuse=reuse)

    trees.TreeCache.update = spy
    try:
        r = case.network.solve(case.grid.times[:n_steps + 1], case.pairs, step_s=case.grid.step_s)
    finally:
        trees.TreeCache.update = update
    return case, graphs, r.rtt_s / 2


def node_coordinates(case, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude of each node (satellites at their sub-points at the first
    step, ground nodes where they are) for CCH's nested-dissection order."""
    net, o = case.network, case.network._layout
    pos = net.constellation.positions(case.grid.times[:1])[0]
    lat, lon = np.zeros(n), np.zeros(n)
    r = np.linalg.norm(pos, axis=1)
    lat[:len(pos)] = np.degrees(np.arcsin(pos[:, 2] / r))
    lon[:len(pos)] = np.degrees(np.arctan2(pos[:, 1], pos[:, 0]))
    ep = net.endpoints
    for base in (o["src"], o["dst"]):
        lat[base:base + len(ep)] = ep.latitude_deg
        lon[base:base + len(ep)] = ep.longitude_deg
    return lat.astype(np.float32), lon.astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--case", choices=sorted(br.CASES), default="gen1-1000")
    p.add_argument("--steps", type=int, default=5, help="steps timed after the first (default 5)")
    a = p.parse_args(argv)
    try:
        from pyroutingkit import CCH, INF_WEIGHT
    except ImportError:
        print("pyroutingkit is not installed (it is not a leosim dependency): .venv/bin/pip install pyroutingkit",
              file=sys.stderr)
        return 2
    case, graphs, one_way = capture(a.case, a.steps)
    o = case.network._layout
    n = graphs[0].shape[0]
    pairs = case.pairs
    src = np.unique(pairs[:, 0])
    if pairs[:, 0].max() >= o["dst"] - o["src"] or not np.array_equal(src, np.arange(len(src))):
        print("this benchmark handles city pairs only", file=sys.stderr)
        return 2
    src_nodes = (o["src"] + src).astype(np.uint32)
    dst_nodes = (o["dst"] + np.arange(len(case.network.endpoints))).astype(np.uint32)
    coo = [g.tocoo() for g in graphs]
    keys = np.unique(np.concatenate([c.row.astype(np.int64) * n + c.col for c in coo]))
    cch = CCH()
    lat, lon = node_coordinates(case, n)
    t = time.perf_counter()
    cch.build_topology((keys // n).astype(np.uint32), (keys % n).astype(np.uint32), lat, lon, node_count=n)
    print(f"{a.case}: {n:,} nodes, {len(keys):,} arcs (every step's), {len(src_nodes)} sources x {len(dst_nodes)} "
          f"targets; CCH topology {time.perf_counter() - t:.2f} s (once)")
    tc = trees.TreeCache(np.asarray(src_nodes, dtype=np.int64), n)
    tc.update(graphs[0])
    gw_flag = np.zeros(n, dtype=np.int16)
    src_row = np.searchsorted(src, pairs[:, 0])
    print(f"{'step':>4}  {'leosim trees ms':>15}  {'(update + walk)':>15}  {'CCH ms':>8}  {'(customise + query)':>19}  "
          f"{'max |CCH - leosim|':>18}")
    for k in range(1, len(graphs)):
        t0 = time.perf_counter()
        tc.update(graphs[k])
        t1 = time.perf_counter()
        tc.walk(src_row, o["src"] + pairs[:, 0], o["dst"] + pairs[:, 1], o, C, FIBRE_INDEX, gw_flag)
        t2 = time.perf_counter()
        w = np.full(len(keys), INF_WEIGHT, dtype=np.uint32)
        w[np.searchsorted(keys, coo[k].row.astype(np.int64) * n + coo[k].col)] = np.round(coo[k].data * 1e9)
        t3 = time.perf_counter()
        cch.customize_weights(w)
        t4 = time.perf_counter()
        m = np.asarray(cch.distances_many_to_many(src_nodes, dst_nodes), dtype=np.float64)
        t5 = time.perf_counter()
        got = m[pairs[:, 0], pairs[:, 1]] * 1e-9
        ok = np.isfinite(one_way[k])
        diff = np.abs(got[ok] - one_way[k][ok]).max()
        print(f"{k:>4}  {1e3 * (t2 - t0):>15.1f}  {f'{1e3 * (t1 - t0):.1f} + {1e3 * (t2 - t1):.1f}':>15}  "
              f"{1e3 * (t5 - t3):>8.1f}  {f'{1e3 * (t4 - t3):.1f} + {1e3 * (t5 - t4):.1f}':>19}  {diff * 1e9:>15.1f} ns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
