"""Run the network over a time grid in chunks, on any executor, streaming results.

The engine cuts the grid into regular chunks of steps and solves each chunk
independently (``Network.solve``) on an executor (:mod:`leosim.engine.executors`: serial,
forked processes, or Dask). Each task either writes its chunk straight into the output
store (zarr region writes: nothing but a small receipt comes back) or returns the chunk's
arrays, which are handed to a sink in time order. Memory therefore depends on the chunk
size and the number of workers, never on the length of the run.

Nothing in a chunk depends on where it began (each task also solves the step before its
first, only to tell whether the path changed there), so a run gives the same numbers
however it is cut, on whichever executor, and a resumed run equals an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from leosim.core.time import TimeGrid
from leosim.engine.executors import Executor, Processes, Serial, default_workers
from leosim.models.latency import LatencyModel
from leosim.network.routing import Network

__all__ = ["PairChunk", "chunk_bounds", "default_chunk_steps", "default_workers", "iter_chunks", "run_pairs"]


@dataclass
class PairChunk:
    """Results of steps ``[i0, i1)`` for all pairs (``(n_steps, n_pairs)`` arrays), in SI:
    the stores convert to the units they write (ms, km).

    A chunk written to a store by its worker comes back as a receipt: ``written`` is True
    and the arrays are None.
    """

    i0: int
    i1: int
    rtt_s: np.ndarray | None = None         # float64 propagation round trip, NaN when unreachable
    ping_s: np.ndarray | None = None        # float64 predicted median idle ping (models.latency), NaN when unreachable
    length_m: np.ndarray | None = None      # float64 one-way path length
    hops: np.ndarray | None = None          # int16
    path_hash: np.ndarray | None = None     # uint64
    path_changed: np.ndarray | None = None  # bool: the path differs from the step before
    n_isl_up: np.ndarray | None = None      # (n_steps,) int32
    sats: np.ndarray | None = None          # int16 satellites on the path
    gateways: np.ndarray | None = None      # int16 gateway sites on the path
    landing: np.ndarray | None = None       # int32 gateway the traffic comes down at (-1: none)
    fibre_rtt_s: np.ndarray | None = None   # float64 the part of rtt_s in terrestrial fibre
    paths: list | None = None
    written: bool = False


def chunk_bounds(grid: TimeGrid, chunk_steps: int) -> list[tuple[int, int]]:
    """Half-open chunk ranges of ``chunk_steps`` steps (the last may be shorter).

    Any split gives the same results, so chunks can be regular: a chunk is exactly one
    zarr chunk of the output store, and concurrent region writes never overlap.
    """
    return grid.chunks(chunk_steps)


def default_chunk_steps(grid: TimeGrid) -> int:
    """An eighth of the run per chunk (so both cores get work), 300 steps at most (so a
    chunk's arrays stay small: 300 steps x 4,950 pairs is 12 MB per float64 variable)."""
    return int(min(max(grid.n_steps // 8, 1), 300))


def _chunk_task(context, task) -> PairChunk:
    """Solve one chunk (plus the step before it); write it to the store if there is one."""
    network, pairs, store, latency = context
    i0, times, want_paths, step_s, prev_time = task
    with_prev = prev_time is not None
    all_times = np.concatenate([[prev_time], times]) if with_prev else times
    r = network.solve(all_times, pairs, want_paths=want_paths, step_s=step_s)
    k = 1 if with_prev else 0
    h = r.path_hash
    changed = np.zeros((len(times), len(pairs)), dtype=bool)
    changed[:] = h[k:] != (h[k - 1:-1] if with_prev else np.concatenate([h[:1], h[:-1]]))
    server = network.server_mask
    terminals = (~server[pairs[:, 0]]).astype(np.int8) + (~server[pairs[:, 1]]).astype(np.int8)
    chunk = PairChunk(
        i0=i0,
        i1=i0 + len(times),
        rtt_s=r.rtt_s[k:],
        ping_s=latency.median_ping_s(r.rtt_s[k:], r.sats[k:], r.gateways[k:], terminals[None, :]),
        length_m=r.length_m[k:],
        hops=r.hops[k:],
        path_hash=h[k:],
        path_changed=changed,
        n_isl_up=r.n_isl_up[k:],
        sats=r.sats[k:],
        gateways=r.gateways[k:],
        landing=r.landing[k:],
        fibre_rtt_s=r.fibre_rtt_s[k:],
        paths=None if r.paths is None else r.paths[k:],
    )
    if store is not None:
        store.write(chunk)
        return PairChunk(i0=chunk.i0, i1=chunk.i1, written=True)
    return chunk


def iter_chunks(
    network: Network,
    grid: TimeGrid,
    pairs: np.ndarray,
    *,
    workers: int = 1,
    chunk_steps: int | None = None,
    want_paths: bool = False,
    executor: Executor | None = None,
    store=None,
    skip: set[int] | frozenset[int] = frozenset(),
    latency: LatencyModel | None = None,
) -> Iterator[PairChunk]:
    """Yield each chunk's results (or, with a ``store``, its receipt) in time order.

    Without an ``executor``, ``workers > 1`` uses forked processes. ``skip`` holds the
    first step of chunks that are already done (resuming a run). ``latency``: the model
    of what ping shows on top of propagation (default: :class:`LatencyModel` as fitted).
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    bounds = chunk_bounds(grid, chunk_steps or default_chunk_steps(grid))
    tasks = [
        (i0, grid.times[i0:i1], want_paths, grid.step_s, grid.times[i0 - 1] if i0 > 0 else None)
        for i0, i1 in bounds
        if i0 not in skip
    ]
    # the laser-link topology and ground geometry are computed once, before the network
    # is forked or sent to workers
    network.isl  # noqa: B018
    network._ground  # noqa: B018
    network._static_edges  # noqa: B018
    if executor is None:
        executor = Processes(workers) if workers > 1 else Serial()
    yield from executor.imap(_chunk_task, (network, pairs, store, latency or LatencyModel()), tasks)


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
    executor: Executor | None = None,
    store=None,
    skip: set[int] | frozenset[int] = frozenset(),
    latency: LatencyModel | None = None,
) -> None:
    """Solve every step and pass each chunk to ``sink`` in order; ``progress(n_steps_done)``."""
    for chunk in iter_chunks(network, grid, pairs, workers=workers, chunk_steps=chunk_steps, want_paths=want_paths,
                             executor=executor, store=store, skip=skip, latency=latency):
        sink(chunk)
        if progress is not None:
            progress(chunk.i1 - chunk.i0)
