"""Routing throughput of leosim at four scales, with networkx for scale.

Cases (``--only`` picks some): ``shell1`` (Starlink shell 1, 1,584 satellites) and
``gen1`` (Gen1, 4,408) with the 100 most populous cities at 100 ms steps; ``gen1-1000``
(Gen1 with the top 1,000 cities, 499,500 pairs, 100 ms; goal: real-time factor >= 1);
``real-100`` (the real May 2026 snapshot, 10,361 satellites, 100 cities, 1 s steps;
goal: >= 96 steps/s, a day in 15 minutes). ``isl`` routing, ``free`` attachment; every
city-pair RTT is computed at every step through the real engine (:func:`leosim.engine.chunks.run_pairs`, forked workers), with a
sink that keeps only running statistics, so memory does not grow with the duration.

Printed for each constellation:

* engine run: steps per second, real-time factor (simulated s per wall s), wall time,
  CPU time per step (driver + workers), peak RSS of the driver and of the workers, and
  a sanity line (median RTT over all pairs and steps, fraction unreachable);
* one core: leosim's per-step time (``Network.solve`` in this process) and where it goes
  (positions, ISL geometry, GSL geometry + attachment, graph build, Dijkstra, path walk,
  other), from timers around the functions ``Network.solve`` calls;
* networkx on the same graph of one step (captured from the ``dijkstra`` call leosim
  makes): one Floyd-Warshall (``networkx.floyd_warshall_numpy``, what Hypatia uses), in a
  child process under ``--fw-timeout``, and Dijkstra from the same sources
  (``single_source_dijkstra_path_length``), each with the largest difference from
  leosim's one-way delays (a built-in correctness check; expected under 1e-9 s).

Usage::

    python benchmarks/bench_routing.py                       # all four cases, 2 workers
    python benchmarks/bench_routing.py --duration 5s --only shell1 --skip-networkx
    python benchmarks/bench_routing.py --json bench.json

See benchmarks/README.md for what each figure means and the figures measured.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

import leosim.network.routing as routing
from leosim.core.time import TimeGrid, parse_duration
from leosim.engine.chunks import PairChunk, default_chunk_steps, run_pairs
from leosim.ground.sites import GroundSegment
from leosim.network.attachment import Free
from leosim.network.modes import ISL
from leosim.network.routing import Network
from leosim.network.trees import TreeCache
from leosim.space.constellation import Constellation

# key: (constellation preset, cities, step, default simulated time, goal: (figure, at least))
CASES = {
    "shell1": ("starlink-shell1", 100, "100ms", "60s", None),
    "gen1": ("starlink-gen1", 100, "100ms", "60s", ("real_time_factor", 3.5)),
    "gen1-1000": ("starlink-gen1", 1000, "100ms", "60s", ("real_time_factor", 1.0)),
    "real-100": ("starlink-2026-05", 100, "1s", "600s", ("steps_per_s", 96.0)),
}
PRESETS = {k: v[0] for k, v in CASES.items()}
HIST_BIN_MS = 0.01  # resolution of the running RTT median
HIST_MAX_MS = 2000.0
_BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# --------------------------------------------------------------------------- memory
def _rss_max_kib(who: int) -> int:
    """Lifetime peak RSS (KiB) of this process or of its waited-for children (Linux)."""
    return int(resource.getrusage(who).ru_maxrss)


class MemorySampler:
    """Polls the RSS of this process and its children (psutil) in a background thread."""

    def __init__(self, interval_s: float = 0.05):
        self.interval_s = interval_s
        self.driver_peak = 0
        self.worker_peak = 0
        self.total_peak = 0
        self.n_workers_seen = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            import psutil

            self._proc = psutil.Process()
            self._psutil = psutil
        except ImportError:  # fall back to getrusage only
            self._proc = None

    def _sample(self) -> None:
        me = self._proc.memory_info().rss
        kids = []
        for child in self._proc.children(recursive=True):
            try:
                kids.append(child.memory_info().rss)
            except (self._psutil.NoSuchProcess, self._psutil.AccessDenied):
                pass
        self.driver_peak = max(self.driver_peak, me)
        if kids:
            self.worker_peak = max(self.worker_peak, max(kids))
            self.n_workers_seen = max(self.n_workers_seen, len(kids))
        self.total_peak = max(self.total_peak, me + sum(kids))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def __enter__(self) -> MemorySampler:
        if self._proc is not None:
            self._sample()
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._sample()


# --------------------------------------------------------------------------- the sink
class RunningStats:
    """Sink for :func:`run_pairs` that keeps O(1) state: counts, sums and a histogram."""

    def __init__(self) -> None:
        self.hist = np.zeros(int(HIST_MAX_MS / HIST_BIN_MS) + 1, dtype=np.int64)
        self.n_values = 0
        self.n_unreachable = 0
        self.n_steps = 0
        self.next_step = 0
        self.sum_ms = 0.0
        self.min_ms = np.inf
        self.max_ms = -np.inf
        self.sum_hops = 0
        self.sum_isl_up = 0

    def __call__(self, chunk: PairChunk) -> None:
        if chunk.i0 != self.next_step:
            raise RuntimeError(f"chunk starts at step {chunk.i0}, expected {self.next_step}: out of order")
        self.next_step = chunk.i1
        rtt = chunk.rtt_s * 1e3
        ok = np.isfinite(rtt)
        v = rtt[ok].astype(np.float64)
        self.n_steps += chunk.i1 - chunk.i0
        self.n_values += rtt.size
        self.n_unreachable += int(rtt.size - ok.sum())
        if v.size:
            self.sum_ms += float(v.sum())
            self.min_ms = min(self.min_ms, float(v.min()))
            self.max_ms = max(self.max_ms, float(v.max()))
            bins = np.minimum((v / HIST_BIN_MS).astype(np.int64), len(self.hist) - 1)
            self.hist += np.bincount(bins, minlength=len(self.hist))
        self.sum_hops += int(chunk.hops.astype(np.int64).sum())
        self.sum_isl_up += int(chunk.n_isl_up.astype(np.int64).sum())

    @property
    def median_ms(self) -> float:
        n = self.n_values - self.n_unreachable
        if n == 0:
            return float("nan")
        k = int(np.searchsorted(np.cumsum(self.hist), (n + 1) / 2))
        return (k + 0.5) * HIST_BIN_MS

    def summary(self) -> dict:
        reach = self.n_values - self.n_unreachable
        return {
            "steps": self.n_steps,
            "rtt_values": self.n_values,
            "median_rtt_ms": round(self.median_ms, 3),
            "mean_rtt_ms": round(self.sum_ms / reach, 3) if reach else None,
            "min_rtt_ms": round(self.min_ms, 3) if reach else None,
            "max_rtt_ms": round(self.max_ms, 3) if reach else None,
            "unreachable_fraction": self.n_unreachable / self.n_values if self.n_values else None,
            "mean_hops": self.sum_hops / reach if reach else None,
            "mean_isl_up": self.sum_isl_up / self.n_steps if self.n_steps else None,
        }


# --------------------------------------------------------------------------- set-up
@dataclass
class Case:
    key: str
    preset: str
    network: Network
    pairs: np.ndarray
    grid: TimeGrid
    setup_s: float
    results: dict = field(default_factory=dict)


def city_pairs(n: int) -> np.ndarray:
    a, b = np.triu_indices(n, 1)
    return np.stack([a, b], axis=1)


def build_case(key: str, args) -> Case:
    t0 = time.perf_counter()
    preset, n_cities, step, duration, _ = CASES[key]
    constellation = Constellation.preset(preset)
    cities = GroundSegment.cities(n_cities)
    net = Network(constellation, cities, routing=ISL, attachment=Free())
    # the one-off parts (laser-link topology, ground geometry) are not part of a step
    net.isl  # noqa: B018
    net._ground  # noqa: B018
    net._static_edges  # noqa: B018
    setup = time.perf_counter() - t0
    start = args.start or constellation.epoch
    grid = TimeGrid.from_duration(start, args.duration or duration, args.step or step)
    return Case(key, PRESETS[key], net, city_pairs(len(cities)), grid, setup)


# --------------------------------------------------------------------------- engine run
def _cpu_s() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def run_engine(case: Case, args) -> dict:
    stats = RunningStats()
    chunk = args.chunk_steps or default_chunk_steps(case.grid, len(case.pairs))
    load_before = os.getloadavg()
    cpu0_me, cpu0_kids = _cpu_s()
    with MemorySampler() as mem:
        t0 = time.perf_counter()
        run_pairs(case.network, case.grid, case.pairs, stats, workers=args.workers, chunk_steps=chunk)
        wall = time.perf_counter() - t0
    cpu1_me, cpu1_kids = _cpu_s()
    n = case.grid.n_steps
    if stats.n_steps != n:
        raise RuntimeError(f"the sink saw {stats.n_steps} steps, expected {n}")
    cpu = (cpu1_me - cpu0_me) + (cpu1_kids - cpu0_kids)
    return {
        "steps": n,
        "step_s": case.grid.step_s,
        "simulated_s": case.grid.duration_s,
        "workers": args.workers,
        "chunk_steps": chunk,
        "wall_s": wall,
        "steps_per_s": n / wall,
        "real_time_factor": case.grid.duration_s / wall,
        "wall_ms_per_step": wall / n * 1e3,
        "cpu_ms_per_step": cpu / n * 1e3,
        "cpu_utilisation": cpu / wall,
        "peak_rss_driver_mib": mem.driver_peak / 2**20,
        "peak_rss_worker_mib": mem.worker_peak / 2**20,
        "peak_rss_total_mib": mem.total_peak / 2**20,
        "workers_seen": mem.n_workers_seen,
        "loadavg_1min_before": load_before[0],
        "loadavg_1min_after": os.getloadavg()[0],
        "sanity": stats.summary(),
    }


# --------------------------------------------------------------------------- breakdown
class _Proxy:
    """A module stand-in with some attributes replaced (only the routing module sees it)."""

    def __init__(self, target, **overrides):
        self._target = target
        self.__dict__.update(overrides)

    def __getattr__(self, name):
        return getattr(self._target, name)


BREAKDOWN_PARTS = ("positions", "isl_geometry", "gsl_geometry_attachment", "graph_build", "dijkstra", "path_walk")


@contextmanager
def instrumented(net: Network):
    """Time the functions ``Network.solve`` calls, by category; yields the totals dict."""
    totals = dict.fromkeys(BREAKDOWN_PARTS, 0.0)
    calls = dict.fromkeys(BREAKDOWN_PARTS, 0)

    def timed(fn, part):
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                totals[part] += time.perf_counter() - t
                calls[part] += 1

        return wrapper

    saved_module = {n: getattr(routing, n) for n in ("dijkstra", "chord_min_radius_m", "np", "sp")}
    policy_cls = type(net.attachment)
    saved_class = [
        (Constellation, "positions", Constellation.__dict__["positions"]),
        (Network, "endpoint_geometry", Network.__dict__["endpoint_geometry"]),
        (Network, "_walk", Network.__dict__["_walk"]),
        (policy_cls, "choose", policy_cls.__dict__["choose"]),
        (TreeCache, "update", TreeCache.__dict__["update"]),
        (TreeCache, "walk", TreeCache.__dict__["walk"]),
    ]
    routing.dijkstra = timed(saved_module["dijkstra"], "dijkstra")
    routing.chord_min_radius_m = timed(saved_module["chord_min_radius_m"], "isl_geometry")
    np_mod, sp_mod = saved_module["np"], saved_module["sp"]
    routing.np = _Proxy(np_mod, linalg=_Proxy(np_mod.linalg, norm=timed(np_mod.linalg.norm, "isl_geometry")))
    routing.sp = _Proxy(sp_mod, csr_matrix=timed(sp_mod.csr_matrix, "graph_build"))
    Constellation.positions = timed(Constellation.__dict__["positions"], "positions")
    Network.endpoint_geometry = timed(Network.__dict__["endpoint_geometry"], "gsl_geometry_attachment")
    Network._walk = timed(Network.__dict__["_walk"], "path_walk")
    policy_cls.choose = timed(policy_cls.__dict__["choose"], "gsl_geometry_attachment")
    TreeCache.update = timed(TreeCache.__dict__["update"], "dijkstra")  # the search: trees repaired
    TreeCache.walk = timed(TreeCache.__dict__["walk"], "path_walk")
    try:
        yield totals, calls
    finally:
        for name, value in saved_module.items():
            setattr(routing, name, value)
        for cls, name, value in saved_class:
            setattr(cls, name, value)


def one_core(case: Case, args) -> dict:
    """Per-step time of ``Network.solve`` in this process, plain and then instrumented."""
    n = max(1, min(args.breakdown_steps, case.grid.n_steps))
    times = case.grid.times[:n]
    net, pairs = case.network, case.pairs
    net.solve(times[:2], pairs)  # warm-up (first-call costs, caches)
    t0 = time.perf_counter()
    net.solve(times, pairs)
    plain = time.perf_counter() - t0
    with instrumented(net) as (totals, calls):
        t0 = time.perf_counter()
        net.solve(times, pairs)
        inst = time.perf_counter() - t0
    parts = {k: v / n * 1e3 for k, v in totals.items()}
    parts["other"] = inst / n * 1e3 - sum(parts.values())
    return {
        "steps": n,
        "ms_per_step": plain / n * 1e3,
        "instrumented_ms_per_step": inst / n * 1e3,
        "breakdown_ms_per_step": parts,
        "calls": calls,
    }


# --------------------------------------------------------------------------- networkx
def capture_step_graph(case: Case):
    """The sparse graph and source rows leosim hands to ``dijkstra`` at the first step."""
    captured = {}
    real = routing.dijkstra

    def spy(graph, *a, **k):
        captured["graph"] = graph.copy()
        captured["indices"] = np.asarray(k.get("indices")).copy()
        out = real(graph, *a, **k)
        captured["dist"] = out[0] if isinstance(out, tuple) else out
        return out

    routing.dijkstra = spy
    try:
        # the fresh search: the trees kept across steps call no dijkstra
        res = case.network.solve(case.grid.times[:1], case.pairs, reuse_trees=False)
    finally:
        routing.dijkstra = real
    if "graph" not in captured:
        raise RuntimeError("leosim did not call dijkstra for this step: nothing to compare against")
    return captured, res


def _fw_child(conn, graph, src_nodes, dst_nodes) -> None:
    import networkx as nx

    t0 = time.perf_counter()
    d = nx.floyd_warshall_numpy(graph)
    elapsed = time.perf_counter() - t0
    conn.send({"fw_s": elapsed, "dist": d[src_nodes, dst_nodes], "peak_rss_mib": _rss_max_kib(resource.RUSAGE_SELF) / 1024})
    conn.close()


def compare_networkx(case: Case, args, one_core_ms: float) -> dict:
    import networkx as nx
    from scipy.sparse.csgraph import dijkstra as sp_dijkstra

    cap, res = capture_step_graph(case)
    graph, sources = cap["graph"], cap["indices"]
    o = case.network._layout
    # the pairs leosim solves (terminals only, a < b): source node src + a, sink dst + b
    a, b = case.pairs[:, 0], case.pairs[:, 1]
    src_nodes, dst_nodes = o["src"] + a, o["dst"] + b
    leosim_one_way = res.rtt_s[0] / 2.0
    out = {
        "nodes": int(graph.shape[0]),
        "edges": int(graph.nnz),
        "sources": int(len(sources)),
    }
    # leosim's own Dijkstra call on this graph, best of 3
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        sp_dijkstra(graph, directed=True, indices=sources, return_predecessors=True)
        best = min(best, time.perf_counter() - t0)
    out["leosim_dijkstra_ms"] = best * 1e3

    t0 = time.perf_counter()
    g = nx.from_scipy_sparse_array(graph, create_using=nx.DiGraph)
    out["nx_graph_build_s"] = time.perf_counter() - t0

    # Dijkstra from the same sources
    t0 = time.perf_counter()
    lengths = {int(s): nx.single_source_dijkstra_path_length(g, int(s), weight="weight") for s in sources}
    out["nx_dijkstra_s"] = time.perf_counter() - t0
    nx_one_way = np.array([lengths[int(s)].get(int(t), np.inf) for s, t in zip(src_nodes, dst_nodes, strict=True)])
    out["nx_dijkstra_vs_leosim_step"] = out["nx_dijkstra_s"] / (one_core_ms / 1e3)
    out["nx_dijkstra_vs_leosim_dijkstra"] = out["nx_dijkstra_s"] / best
    out["nx_dijkstra_max_diff_s"] = _max_diff(nx_one_way, leosim_one_way)

    # Floyd-Warshall, in a child process so that it can be stopped at the time budget
    ctx = mp.get_context("fork")
    parent_end, child_end = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_fw_child, args=(child_end, g, src_nodes, dst_nodes), daemon=True)
    t0 = time.perf_counter()
    proc.start()
    child_end.close()
    got = parent_end.poll(args.fw_timeout)
    if got:
        msg = parent_end.recv()
        proc.join()
        out["fw_s"] = msg["fw_s"]
        out["fw_timed_out"] = False
        out["fw_vs_leosim_step"] = msg["fw_s"] / (one_core_ms / 1e3)
        out["fw_max_diff_s"] = _max_diff(msg["dist"], leosim_one_way)
        out["fw_peak_rss_mib"] = msg["peak_rss_mib"]
    else:
        proc.kill()
        proc.join()
        out["fw_s"] = None
        out["fw_timed_out"] = True
        out["fw_timeout_s"] = args.fw_timeout
        out["fw_vs_leosim_step"] = None
        out["fw_max_diff_s"] = None
        out["fw_wall_until_stopped_s"] = time.perf_counter() - t0
    parent_end.close()
    return out


def _max_diff(x: np.ndarray, ref: np.ndarray) -> float:
    """Largest |x - ref| over pairs both reach; inf if they disagree on reachability."""
    fx, fr = np.isfinite(x), np.isfinite(ref)
    if (fx != fr).any():
        return float("inf")
    return float(np.max(np.abs(x[fx] - ref[fr]))) if fx.any() else 0.0


# --------------------------------------------------------------------------- output
def _fmt(v, spec: str, none: str = "-") -> str:
    return none if v is None else format(v, spec)


def print_case(case: Case) -> None:
    r = case.results
    e, c = r["engine"], r["one_core"]
    net = case.network
    print(f"\n== {case.preset}: {net.constellation.n_sats} satellites, {len(net.endpoints)} cities, "
          f"{len(case.pairs)} pairs, {net.n_nodes} nodes, isl/free, {case.grid.step_s * 1e3:g} ms steps")
    print(f"   set-up (constellation, cities, laser links; once): {case.setup_s:.2f} s")
    print(f"   engine, {e['workers']} worker(s), {e['steps']} steps in chunks of {e['chunk_steps']}: "
          f"{e['steps_per_s']:.2f} steps/s, real-time factor {e['real_time_factor']:.3f}, wall {e['wall_s']:.1f} s "
          f"({e['wall_ms_per_step']:.1f} ms/step), CPU {e['cpu_ms_per_step']:.1f} ms/step "
          f"({e['cpu_utilisation']:.2f} cores busy)")
    print(f"   peak RSS: driver {e['peak_rss_driver_mib']:.0f} MiB, largest worker {e['peak_rss_worker_mib']:.0f} MiB, "
          f"all together {e['peak_rss_total_mib']:.0f} MiB (shared pages counted in each); "
          f"load avg {e['loadavg_1min_before']:.2f} -> {e['loadavg_1min_after']:.2f}")
    s = e["sanity"]
    print(f"   sanity: median RTT {s['median_rtt_ms']:.2f} ms over all pairs and steps "
          f"(min {_fmt(s['min_rtt_ms'], '.2f')}, max {_fmt(s['max_rtt_ms'], '.2f')}), "
          f"unreachable {s['unreachable_fraction']:.4%}, mean hops {_fmt(s['mean_hops'], '.1f')}, "
          f"laser links up {_fmt(s['mean_isl_up'], '.0f')}")
    print(f"   one core, Network.solve over {c['steps']} steps: {c['ms_per_step']:.1f} ms/step "
          f"(instrumented {c['instrumented_ms_per_step']:.1f})")
    total = c["instrumented_ms_per_step"]
    for k, v in c["breakdown_ms_per_step"].items():
        print(f"      {k:<25} {v:8.2f} ms  {v / total:6.1%}")
    x = r.get("networkx")
    if x:
        print(f"   networkx on the graph of step 0 ({x['nodes']} nodes, {x['edges']} directed edges, "
              f"{x['sources']} sources); leosim: {c['ms_per_step']:.1f} ms/step, its dijkstra call {x['leosim_dijkstra_ms']:.1f} ms")
        if x["fw_timed_out"]:
            print(f"      floyd_warshall_numpy: over the {x['fw_timeout_s']:g} s budget (stopped)")
        else:
            print(f"      floyd_warshall_numpy: {x['fw_s']:.1f} s = {x['fw_vs_leosim_step']:.0f}x leosim's step; "
                  f"max |diff| {x['fw_max_diff_s']:.2e} s; child peak RSS {x['fw_peak_rss_mib']:.0f} MiB")
        print(f"      single_source_dijkstra_path_length x {x['sources']}: {x['nx_dijkstra_s']:.2f} s = "
              f"{x['nx_dijkstra_vs_leosim_step']:.0f}x leosim's step, {x['nx_dijkstra_vs_leosim_dijkstra']:.0f}x its dijkstra call; "
              f"max |diff| {x['nx_dijkstra_max_diff_s']:.2e} s")


def print_table(cases: list[Case]) -> None:
    head = ("constellation", "sats", "steps", "wall s", "steps/s", "RTF", "ms/step", "CPU ms/step",
            "1-core ms/step", "RSS drv/wkr MiB", "median RTT", "unreach", "FW s (x step)", "nx-Dij s (x step)", "max diff s")
    rows = []
    for case in cases:
        e, c, x = case.results["engine"], case.results["one_core"], case.results.get("networkx")
        if x is None:
            fw = nxd = diff = "skipped"
        else:
            fw = f">{x['fw_timeout_s']:g} (timeout)" if x["fw_timed_out"] else f"{x['fw_s']:.1f} ({x['fw_vs_leosim_step']:.0f}x)"
            nxd = f"{x['nx_dijkstra_s']:.2f} ({x['nx_dijkstra_vs_leosim_step']:.0f}x)"
            diffs = [d for d in (x["fw_max_diff_s"], x["nx_dijkstra_max_diff_s"]) if d is not None]
            diff = f"{max(diffs):.1e}"
        rows.append((
            case.preset, str(case.network.constellation.n_sats), str(e["steps"]), f"{e['wall_s']:.1f}",
            f"{e['steps_per_s']:.2f}", f"{e['real_time_factor']:.2f}", f"{e['wall_ms_per_step']:.1f}",
            f"{e['cpu_ms_per_step']:.1f}", f"{c['ms_per_step']:.1f}",
            f"{e['peak_rss_driver_mib']:.0f}/{e['peak_rss_worker_mib']:.0f}",
            f"{e['sanity']['median_rtt_ms']:.2f} ms", f"{e['sanity']['unreachable_fraction']:.2%}", fw, nxd, diff,
        ))
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))


def goal_verdict(cases: list[Case], args) -> dict | None:
    """Each case with a goal (issue 14): met or not, with what two busy cores could do
    from the CPU time alone (load from other processes makes the wall figures noisy)."""
    out = {}
    for case in cases:
        goal = CASES[case.key][4]
        if goal is None:
            continue
        figure, least = goal
        e = case.results["engine"]
        got = e[figure]
        per_cpu = 2 / (e["cpu_ms_per_step"] / 1e3)  # steps/s on 2 fully used cores
        bound = per_cpu * case.grid.step_s if figure == "real_time_factor" else per_cpu
        met = got >= least
        print(f"Goal {case.key}: {case.preset}, {len(case.network.endpoints)} cities, {case.grid.step_s * 1e3:g} ms steps, "
              f"{figure.replace('_', ' ')} >= {least:g}: {'MET' if met else 'NOT MET'} (measured {got:.2f} with "
              f"{args.workers} worker(s); on 2 idle cores, from CPU time: {bound:.2f})")
        out[case.key] = {"figure": figure, "goal": least, "measured": got, "met": bool(met), "bound_from_cpu_time_2_cores": bound}
    return out or None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", default=None, help="simulated time per case (default: 60s, 600s for real-100)")
    p.add_argument("--step", default=None, help="time step (default: 100ms, 1s for real-100)")
    p.add_argument("--start", default=None, help="UTC start (default: the constellation's epoch)")
    p.add_argument("--workers", type=int, default=2, help="engine worker processes (default 2)")
    p.add_argument("--chunk-steps", type=int, default=None, help="steps per chunk (default: the engine's)")
    p.add_argument("--only", choices=sorted(CASES), action="append", default=None,
                   help="run this case only (repeatable; default: all four)")
    p.add_argument("--skip-networkx", action="store_true", help="skip the networkx comparisons")
    p.add_argument("--fw-timeout", type=float, default=300.0, help="time budget for one Floyd-Warshall, s (default 300)")
    p.add_argument("--breakdown-steps", type=int, default=50, help="steps of the one-core timing and breakdown (default 50)")
    p.add_argument("--json", metavar="FILE", default=None, help="also write the figures to FILE as JSON")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="cap BLAS/OpenMP threads (sets OPENBLAS_NUM_THREADS etc. and restarts; default: leave as is)")
    args = p.parse_args(argv)
    if args.blas_threads is not None and argv is None:
        want = str(args.blas_threads)
        if any(os.environ.get(v) != want for v in _BLAS_ENV):
            # the thread pools are sized when numpy loads: restart with the limits set
            os.environ.update(dict.fromkeys(_BLAS_ENV, want))
            os.execv(sys.executable, [sys.executable, *sys.argv])
    if args.duration:
        parse_duration(args.duration)
    if args.step:
        parse_duration(args.step, what="step")
    if args.workers < 1:
        p.error("--workers must be at least 1")

    keys = args.only or list(CASES)
    started = _dt.datetime.now(_dt.UTC)
    blas = ", ".join(f"{v}={os.environ[v]}" for v in _BLAS_ENV if v in os.environ) or "BLAS threads not capped"
    print(f"leosim routing benchmark, {started:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
          f"python {platform.python_version()}, numpy {np.__version__}, {blas}")
    cases = [build_case(k, args) for k in keys]
    # engine runs first, so that no earlier phase (Floyd-Warshall's child) sets the
    # lifetime peaks that getrusage reports
    for case in cases:
        print(f"running {case.preset}: {case.grid.n_steps} steps ...", flush=True)
        case.results["engine"] = run_engine(case, args)
        case.results["engine"]["ru_maxrss_self_mib"] = _rss_max_kib(resource.RUSAGE_SELF) / 1024
        case.results["engine"]["ru_maxrss_children_mib"] = _rss_max_kib(resource.RUSAGE_CHILDREN) / 1024
    for case in cases:
        case.results["one_core"] = one_core(case, args)
        if not args.skip_networkx:
            print(f"networkx on {case.preset} (Floyd-Warshall budget {args.fw_timeout:g} s) ...", flush=True)
            case.results["networkx"] = compare_networkx(case, args, case.results["one_core"]["ms_per_step"])
        print_case(case)
    print_table(cases)
    verdict = goal_verdict(cases, args)
    if args.json:
        doc = {
            "date_utc": started.isoformat(timespec="seconds"),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                        "numpy": np.__version__, "scipy": __import__("scipy").__version__},
            "args": vars(args),
            "blas_env": {v: os.environ.get(v) for v in _BLAS_ENV},
            "goal": verdict,
            "results": {c.preset: {"setup_s": c.setup_s, "n_sats": c.network.constellation.n_sats,
                                   "n_cities": len(c.network.endpoints), "n_pairs": len(c.pairs), **c.results}
                        for c in cases},
        }
        try:
            import networkx

            doc["machine"]["networkx"] = networkx.__version__
        except ImportError:
            pass
        with open(args.json, "w") as fh:
            json.dump(doc, fh, indent=2, default=float)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
