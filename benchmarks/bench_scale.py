"""Scale-out benchmark: the real 10,361-satellite snapshot, 100 ground stations, 1 s steps.

The issue's target is one day (86,400 steps, 4,950 pairs each). That takes hours on
2 cores, so by default this runs a shorter window and extrapolates (the cost per step does
not depend on the window: chunks are independent and memory does not grow, see
tests/test_scale.py). Prints, for each executor and worker count: wall time, steps per
second, the extrapolated time for a day, peak RSS of the driver and of each worker, and
the scaling ratio (1-worker time / N-worker time).

    .venv/bin/python benchmarks/bench_scale.py                    # 10 min window
    .venv/bin/python benchmarks/bench_scale.py --duration 1h --executors processes,dask
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from leosim import Constellation, GroundSegment, Network, TimeGrid
from leosim.engine.chunks import default_chunk_steps, run_pairs
from leosim.engine.executors import make_executor
from leosim.engine.stores import PairsStore


class PeakRSS:
    """Sample the RSS of this process and its children every 50 ms."""

    def __init__(self):
        self.driver = 0
        self.workers: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            try:
                self.driver = max(self.driver, me.memory_info().rss)
                for c in me.children(recursive=True):
                    try:
                        self.workers[c.pid] = max(self.workers.get(c.pid, 0), c.memory_info().rss)
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_once(net, grid, pairs, sites, executor: str, workers: int, chunk_steps: int) -> dict:
    with tempfile.TemporaryDirectory() as d:
        store = PairsStore.create(Path(d) / "b.zarr", grid, sites, pairs, chunk_steps, "bench")
        ex = make_executor(executor, workers)
        try:
            with PeakRSS() as rss:
                t0 = time.perf_counter()
                run_pairs(net, grid, pairs, lambda ch: None, chunk_steps=chunk_steps, executor=ex, store=store)
                wall = time.perf_counter() - t0
        finally:
            ex.close()
        rtt = __import__("leosim.engine.stores", fromlist=["open_pairs"]).open_pairs(Path(d) / "b.zarr")["rtt_ms"].values
    worker_rss = sorted(rss.workers.values(), reverse=True)
    return {
        "executor": executor, "workers": workers, "wall_s": wall, "steps_per_s": grid.n_steps / wall,
        "day_h": 86400 / grid.step_s / (grid.n_steps / wall) / 3600,
        "driver_rss_mib": rss.driver / 2**20, "worker_rss_mib": [round(w / 2**20) for w in worker_rss[:workers]],
        "median_rtt_ms": float(np.nanmedian(rtt)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", default="10min")
    ap.add_argument("--step", default="1s")
    ap.add_argument("--stations", type=int, default=100)
    ap.add_argument("--constellation", default="starlink-2026-05")
    ap.add_argument("--executors", default="processes", help="comma-separated: serial, processes, dask")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()

    c = Constellation.preset(a.constellation)
    sites = GroundSegment.cities(a.stations)
    net = Network(c, sites)
    grid = TimeGrid.from_duration(c.epoch, a.duration, a.step)
    i, j = np.triu_indices(len(sites), 1)
    pairs = np.stack([i, j], 1)
    chunk = default_chunk_steps(grid, len(pairs))
    print(f"{c.n_sats:,} satellites, {len(sites)} stations, {len(pairs):,} pairs, {grid.n_steps} steps of "
          f"{grid.step_s:g} s, chunks of {chunk} steps")
    rows = []
    for ex in a.executors.split(","):
        for w in (int(x) for x in a.workers.split(",")):
            r = run_once(net, grid, pairs, sites, ex, w, chunk)
            rows.append(r)
            print(f"  {ex:9s} {w} worker(s): {r['wall_s']:7.1f} s, {r['steps_per_s']:6.2f} steps/s, "
                  f"a day would take {r['day_h']:5.1f} h; peak RSS driver {r['driver_rss_mib']:.0f} MiB, "
                  f"workers {r['worker_rss_mib']} MiB; median RTT {r['median_rtt_ms']:.2f} ms")
    for ex in {r["executor"] for r in rows}:
        by_w = {r["workers"]: r["wall_s"] for r in rows if r["executor"] == ex}
        if 1 in by_w:
            for w, t in sorted(by_w.items()):
                if w > 1:
                    print(f"  scaling {ex}: 1 -> {w} workers = {by_w[1] / t:.2f}x")
    if a.json:
        a.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
