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

import heapq
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from leosim.core.time import TimeGrid, format_duration
from leosim.engine.executors import Executor, Processes, Serial, default_workers
from leosim.models.latency import LatencyModel
from leosim.network.routing import Network

__all__ = ["PROBE_STEPS", "PairChunk", "RuntimeEstimate", "chunk_bounds", "chunk_steps_for", "default_chunk_steps", "default_workers",
           "estimate_runtime", "iter_chunks", "run_pairs"]


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


#: Bytes a step and pair of a finished chunk hand back (the arrays of a PairChunk).
RESULT_BYTES_PER_STEP_PAIR = 51
#: A default chunk's results stay under this: Gen1 x 1,000 cities (499,500 pairs) ran 20 %
#: slower in chunks of 75 steps (1.9 GB each) than of 12 (0.3 GB), from page faults.
CHUNK_RESULT_BYTES = 256 * 1024**2


def chunk_steps_for(n_steps: float, n_pairs: int) -> int:
    """The engine's default steps per chunk (size estimates ask too, before there is a
    grid): an eighth of the run (so every core gets work), at most 300 steps, and at most
    :data:`CHUNK_RESULT_BYTES` of results.

    >>> chunk_steps_for(600, 4950), chunk_steps_for(600, 499_500), chunk_steps_for(3, 10)
    (75, 10, 1)
    """
    by_size = CHUNK_RESULT_BYTES // (RESULT_BYTES_PER_STEP_PAIR * max(int(n_pairs), 1))
    return int(max(1, min(n_steps // 8, 300, by_size)))


def default_chunk_steps(grid: TimeGrid, n_pairs: int = 1) -> int:
    """:func:`chunk_steps_for` this grid's steps."""
    return chunk_steps_for(grid.n_steps, n_pairs)


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
    bounds = chunk_bounds(grid, chunk_steps or default_chunk_steps(grid, len(pairs)))
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


#: Steps :func:`estimate_runtime` solves to time a run: the first (cold) and two more.
PROBE_STEPS = 3


@dataclass(frozen=True)
class RuntimeEstimate:
    """How long routing a run will take, extrapolated from a short probe (:func:`estimate_runtime`)."""

    n_steps: int              # steps left to route
    workers: int              # workers that will have work: min(workers, chunks left)
    probe_steps: int          # steps the probe solved (0: none, the run is shorter than the probe)
    step_s: float = 0.0       # seconds a step once the shortest-path trees exist
    first_s: float = 0.0      # what the probe's first step took beyond that (trees from scratch, setup)
    seconds: float | None = None  # the estimate; None when there was nothing to probe

    def describe(self) -> str:
        """``about 1 min 40 s on 2 workers (from a 3-step probe: 0.21 s a step)``."""

        if self.n_steps == 0:
            return "nothing left to route"
        if self.seconds is None:
            return (f"a short run ({self.n_steps} step{'s' if self.n_steps != 1 else ''}, fewer than the "
                    f"{PROBE_STEPS}-step probe): not timed")
        on = f"{self.workers} worker{'s' if self.workers != 1 else ''}"
        return (f"about {format_duration(self.seconds)} on {on} "
                f"(from a {self.probe_steps}-step probe: {format_duration(self.step_s)} a step)")


def estimate_runtime(
    network: Network,
    grid: TimeGrid,
    pairs: np.ndarray,
    *,
    workers: int = 1,
    chunk_steps: int | None = None,
    executor: Executor | None = None,
    skip: set[int] | frozenset[int] = frozenset(),
    latency: LatencyModel | None = None,
) -> RuntimeEstimate:
    """Time the first :data:`PROBE_STEPS` steps of ``grid`` as a chunk task solves them
    (``Network.solve`` and the ping model, no store write) and extrapolate to the chunks
    :func:`run_pairs` will solve (those not in ``skip``) on ``executor`` (or ``workers``).

    The probe solves step 0 alone (cold: the laser-link topology and ground geometry that
    :func:`iter_chunks` computes once anyway, and every shortest-path tree from scratch),
    then steps 1 and 2 in one call (the trees repaired from the step before): ``step_s``
    is half that call, ``first_s`` the first call less ``step_s``. Each chunk solves its
    steps and the one before its first (``step_s`` each); chunks go to the first free
    worker, in order. Forked workers (``processes``) inherit what the probe computed; on
    any other executor each worker pays ``first_s`` once more. Not counted: writing the
    store, handing results back, the pool's start. The probe changes no result: a
    network's solve does not depend on what it solved before (tests/test_routing.py).
    A run shorter than the probe is not probed.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    steps = chunk_steps or default_chunk_steps(grid, len(pairs))
    todo = [(i0, i1) for i0, i1 in chunk_bounds(grid, steps) if i0 not in skip]
    n_todo = sum(i1 - i0 for i0, i1 in todo)
    if executor is not None:
        workers = executor.workers
    busy = max(1, min(workers, len(todo)))
    if n_todo == 0 or grid.n_steps < PROBE_STEPS:
        return RuntimeEstimate(n_todo, busy, 0)
    context = (network, pairs, None, latency or LatencyModel())
    t = grid.times
    t0 = time.perf_counter()
    _chunk_task(context, (0, t[:1], False, grid.step_s, None))
    t1 = time.perf_counter()
    _chunk_task(context, (1, t[1:PROBE_STEPS], False, grid.step_s, None))
    t2 = time.perf_counter()
    step_s = (t2 - t1) / (PROBE_STEPS - 1)
    first_s = max(t1 - t0 - step_s, 0.0)
    fresh = executor is not None and executor.name not in ("serial", "processes")
    free = [first_s if fresh else 0.0] * busy  # when each worker is next free
    for i0, i1 in todo:
        heapq.heappush(free, heapq.heappop(free) + (i1 - i0 + (i0 > 0)) * step_s)
    return RuntimeEstimate(n_todo, busy, PROBE_STEPS, step_s, first_s, max(free))
