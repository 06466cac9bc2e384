"""Run the network over a time grid in chunks, on one or more cores, streaming results.

The engine cuts the grid into chunks of steps, solves each chunk independently
(``Network.solve``), and hands each chunk's arrays to a sink in time order as soon as it
and all chunks before it are done. Memory therefore depends on the chunk size and the
number of workers, never on the length of the run.

Nothing in a chunk depends on where it began, so a run gives the same numbers however it
is cut and however many workers share it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ._time import TimeGrid
from .routing import Network

_WORKER_NET: Network | None = None
_WORKER_PAIRS: np.ndarray | None = None


@dataclass
class PairChunk:
    """Results of steps ``[i0, i1)`` for all pairs (``(n_steps, n_pairs)`` arrays)."""

    i0: int
    i1: int
    rtt_ms: np.ndarray        # float32, NaN when unreachable
    length_km: np.ndarray     # float32
    hops: np.ndarray          # int16
    path_hash: np.ndarray     # uint64
    n_isl_up: np.ndarray      # (n_steps,) int32
    paths: list | None = None


def chunk_bounds(grid: TimeGrid, chunk_steps: int) -> list[tuple[int, int]]:
    """Half-open chunk ranges of ``chunk_steps`` steps (the last may be shorter).

    Any split gives the same results (attachment policies and the bounded searches keep
    no state that depends on where a chunk began), so chunks can be regular: a chunk is
    a whole number of zarr chunks of the output store.
    """
    return grid.chunks(chunk_steps)


def _solve(network: Network, times: np.ndarray, pairs: np.ndarray, i0: int, want_paths: bool, step_s: float) -> PairChunk:
    r = network.solve(times, pairs, want_paths=want_paths, step_s=step_s)
    return PairChunk(
        i0=i0,
        i1=i0 + len(times),
        rtt_ms=(r.rtt_s * 1e3).astype(np.float32),
        length_km=(r.length_m / 1e3).astype(np.float32),
        hops=r.hops,
        path_hash=r.path_hash,
        n_isl_up=r.n_isl_up,
        paths=r.paths,
    )


def _worker(task: tuple[int, np.ndarray, bool, float]) -> PairChunk:
    i0, times, want_paths, step_s = task
    return _solve(_WORKER_NET, times, _WORKER_PAIRS, i0, want_paths, step_s)


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))


def default_chunk_steps(grid: TimeGrid) -> int:
    """An eighth of the run per chunk (so both cores get work), 300 steps at most (so a
    chunk's arrays stay small: 300 steps x 4,950 pairs is 12 MB per float64 variable)."""
    return int(min(max(grid.n_steps // 8, 1), 300))


def iter_chunks(
    network: Network,
    grid: TimeGrid,
    pairs: np.ndarray,
    *,
    workers: int = 1,
    chunk_steps: int | None = None,
    want_paths: bool = False,
) -> Iterator[PairChunk]:
    """Yield each chunk's results in time order; ``workers > 1`` uses forked processes.

    Memory is bounded by the chunk size and ``2 * workers`` chunks in flight, whatever
    the length of the run.
    """
    global _WORKER_NET, _WORKER_PAIRS
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    bounds = chunk_bounds(grid, chunk_steps or default_chunk_steps(grid))
    tasks = [(i0, grid.times[i0:i1], want_paths, grid.step_s) for i0, i1 in bounds]
    # the laser-link topology and ground geometry are computed once, before any fork
    network.isl  # noqa: B018
    network._ground  # noqa: B018
    network._static_edges  # noqa: B018
    if workers <= 1 or len(tasks) == 1 or "fork" not in mp.get_all_start_methods():
        for task in tasks:
            yield _solve(network, task[1], pairs, task[0], task[2], task[3])
        return
    _WORKER_NET, _WORKER_PAIRS = network, pairs
    try:
        ctx = mp.get_context("fork")
        n_proc = min(workers, len(tasks))
        with ctx.Pool(processes=n_proc) as pool:
            # at most two chunks per worker in flight: if the sink is slower than the
            # workers, they wait, and finished chunks never pile up in memory
            pending: deque = deque()
            queue = iter(tasks)
            for task in queue:
                pending.append(pool.apply_async(_worker, (task,)))
                if len(pending) >= 2 * n_proc:
                    break
            while pending:
                chunk = pending.popleft().get()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.append(pool.apply_async(_worker, (nxt,)))
                yield chunk
    finally:
        _WORKER_NET = _WORKER_PAIRS = None


def run_pairs(
    network: Network,
    grid: TimeGrid,
    pairs: np.ndarray,
    sink: Callable[[PairChunk], None],
    *,
    workers: int = 1,
    chunk_steps: int | None = None,
    want_paths: bool = False,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Solve every step and pass each chunk to ``sink`` in order; ``progress(n_steps_done)``."""
    for chunk in iter_chunks(network, grid, pairs, workers=workers, chunk_steps=chunk_steps, want_paths=want_paths):
        sink(chunk)
        if progress is not None:
            progress(chunk.i1 - chunk.i0)
