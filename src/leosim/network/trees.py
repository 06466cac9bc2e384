"""Shortest-path trees kept from one step to the next and repaired, not searched anew.

From one step to the next (100 ms to a few seconds) the laser mesh keeps its links and
their delays drift by microseconds, so almost every source's shortest-path tree is still
a shortest-path tree. :class:`TreeCache` keeps each source's tree (predecessors and an
order with every node after its predecessor) and at each step:

1. recomputes every node's distance down the old tree with this step's delays (a node
   whose link to its predecessor is gone loses its distance, and so does its subtree);
2. checks every edge out of a reached node: where ``d[u] + w(u, v) < d[v]`` the tree is
   no longer shortest and ``v`` is improved and queued;
3. runs a label-correcting search from the queued nodes (a binary heap keyed by
   distance) until no edge can improve its head.

When it stops, every node's distance is the sum of its tree path's delays, added from
the source in path order, and no edge can improve any node: the same numbers, bit for
bit, that a Dijkstra search from scratch (``scipy.sparse.csgraph.dijkstra``) gives,
since floating-point addition is monotone and both are the least path sum over the same
paths. Where two paths give exactly the same sum (an assumed gateway on its PoP makes
such ties), the predecessor is the lowest-numbered one, whatever the trees started from:
the trees are a function of the step's graph alone, so a run's results do not depend on
how it is cut into chunks or which worker kept which trees (scipy breaks such ties by
its heap's order, so there the two can pick different paths of the same delay).

*Leaves* (nodes without edges out this step: the sinks of terminals, a satellite with no
link) relay nothing, so the trees hold only the other nodes and a leaf target's
distance is taken when asked, as the best of its edges in.

The kernels are compiled with numba; without numba :data:`AVAILABLE` is False and the
router searches every step with scipy.
"""

from __future__ import annotations

import weakref

import numpy as np

try:
    import numba
except ImportError:  # the router falls back to scipy's Dijkstra at every step
    numba = None
AVAILABLE = numba is not None


def njit(**options):
    """numba's ``njit`` with its on-disk cache where there is somewhere to write it (a user
    without a writable home or source folder, e.g. nobody, compiles at each start: numba
    refuses ``cache=True`` there); the plain function without numba."""
    def wrap(fn):
        if numba is None:
            return fn
        try:
            return numba.njit(**options)(fn)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return numba.njit(**{k: v for k, v in options.items() if k != "cache"})(fn)

    return wrap

NO_PRED = -9999  # scipy's predecessor value for "none" (a source, an unreached node)


LANES = 8  # trees searched side by side: a node's distances in them fill one 64-byte cache line


# --------------------------------------------------------------------------- the heaps (one per lane)
@njit(cache=True, inline="always")
def _push(hk, hv, j, size, key, val):
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if hk[j, parent] <= key:
            break
        hk[j, i] = hk[j, parent]
        hv[j, i] = hv[j, parent]
        i = parent
    hk[j, i] = key
    hv[j, i] = val
    return size + 1


@njit(cache=True, inline="always")
def _pop(hk, hv, j, size):
    """Removes lane ``j``'s root; returns the new size (the root was ``hk[j, 0]``, ``hv[j, 0]``)."""
    size -= 1
    key = hk[j, size]
    val = hv[j, size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and hk[j, child + 1] < hk[j, child]:
            child += 1
        if hk[j, child] >= key:
            break
        hk[j, i] = hk[j, child]
        hv[j, i] = hv[j, child]
        i = child
    hk[j, i] = key
    hv[j, i] = val
    return size


@njit(cache=True, inline="always")
def _relax(D, P, E, pos, hk, hv, size, flag, j, u, v, e, nd):
    """Edge ``e``, ``u -> v``, offers ``nd`` to ``v`` in lane ``j``: take it when shorter
    (and queue ``v``), or when as short from a lower-numbered node (the tie rule). The
    lane's order needs rebuilding (``flag``) only if ``v`` would now come before its
    predecessor, or either is not in it yet."""
    if nd < D[v, j]:
        D[v, j] = nd
        P[v, j] = u
        E[v, j] = e
        size[j] = _push(hk, hv, j, size[j], nd, v)
        if not 0 <= pos[j, u] < pos[j, v]:
            flag[j] = True
    elif nd == D[v, j] and u < P[v, j]:
        P[v, j] = u
        E[v, j] = e
        if not 0 <= pos[j, u] < pos[j, v]:
            flag[j] = True


# --------------------------------------------------------------------------- a block of trees
@njit(cache=True)
def _update_block(indptr, indices, data, srcs, nl, D, P, E, order, pos, n_ord, reuse, hk, hv, size, flag, head, nxt, q):
    """Brings the trees of one block of ``LANES`` sources (``D``, ``P``: ``(n, LANES)``
    distances and predecessors; ``E``: where in the graph each node's edge from its
    predecessor was, a hint checked before use; ``order``: ``(LANES, n)``; lanes from
    ``nl`` on are unused and stay unreached) to this step's graph; a lane with
    ``n_ord == 0`` (or all, without ``reuse``) is searched from scratch.

    A lane's order lists every node its tree reaches, each after its predecessor
    (``pos`` is its inverse, -1 off it); it may also list nodes the tree has lost, which
    the first pass then finds without a path. It is rebuilt only when a new predecessor
    would break it, or a node joins the tree."""
    n = D.shape[0]
    inf = np.inf
    # 1. per lane, distances down the old tree, parents first
    for j in range(nl):
        size[j] = 0
        flag[j] = False
        s = srcs[j]
        if not reuse or n_ord[j] == 0:
            for v in range(n):
                D[v, j] = inf
                P[v, j] = NO_PRED
            D[s, j] = 0.0
            size[j] = _push(hk, hv, j, 0, 0.0, s)
            flag[j] = True
            continue
        for i in range(n_ord[j]):
            v = order[j, i]
            if v == s:
                D[v, j] = 0.0
                continue
            p = P[v, j]
            found = False
            if p >= 0 and D[p, j] < inf:
                dp = D[p, j]
                e = E[v, j]
                # the edge where it was last step (the laser mesh's part of the graph
                # keeps its place while only ground links change), else looked for
                if indptr[p] <= e < indptr[p + 1] and indices[e] == v:
                    D[v, j] = dp + data[e]
                    found = True
                else:
                    for e in range(indptr[p], indptr[p + 1]):
                        if indices[e] == v:
                            D[v, j] = dp + data[e]
                            E[v, j] = e
                            found = True
                            break
            if not found:
                D[v, j] = inf
                P[v, j] = NO_PRED
    # 2. every edge, in all lanes at once: one cache line of distances per end, and a
    #    lane-wise test the compiler vectorises; the rare hit is taken lane by lane
    for u in range(n):
        reached = False
        for j in range(LANES):
            reached |= D[u, j] < inf
        if not reached:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            w = data[e]
            hit = False
            for j in range(LANES):
                nd = D[u, j] + w
                hit |= (nd < D[v, j]) | ((nd == D[v, j]) & (u < P[v, j]))
            if hit:
                for j in range(nl):
                    _relax(D, P, E, pos, hk, hv, size, flag, j, u, v, e, D[u, j] + w)
    # 3. per lane, a label-correcting search from what was queued (Dijkstra from scratch)
    for j in range(nl):
        while size[j] > 0:
            du = hk[j, 0]
            u = hv[j, 0]
            size[j] = _pop(hk, hv, j, size[j])
            if du > D[u, j]:
                continue  # stale entry
            for e in range(indptr[u], indptr[u + 1]):
                _relax(D, P, E, pos, hk, hv, size, flag, j, u, indices[e], e, du + data[e])
        if not flag[j]:
            continue
        # the new order: breadth first down the tree from the source
        s = srcs[j]
        head[:] = -1
        for v in range(n):
            if v != s and D[v, j] < inf:
                p = P[v, j]
                nxt[v] = head[p]
                head[p] = v
        q[0] = s
        n_q = 1
        k = 0
        while k < n_q:
            u = q[k]
            k += 1
            c = head[u]
            while c >= 0:
                q[n_q] = c
                n_q += 1
                c = nxt[c]
        for i in range(n_ord[j]):
            pos[j, order[j, i]] = -1
        for i in range(n_q):
            order[j, i] = q[i]
            pos[j, q[i]] = i
        n_ord[j] = n_q


@njit(cache=True)
def _update_all(indptr, indices, data, src_block, n_lanes, dist, pred, edge, order, pos, n_ord, reuse):
    n = dist.shape[1]
    nnz = indices.shape[0]
    cap = 2 * nnz + n + 1  # an edge queues its head at most once in the check and once in the search
    hk = np.empty((LANES, cap))
    hv = np.empty((LANES, cap), dtype=np.int64)
    size = np.zeros(LANES, dtype=np.int64)
    flag = np.zeros(LANES, dtype=np.bool_)
    head = np.empty(n, dtype=np.int64)
    nxt = np.empty(n, dtype=np.int64)
    q = np.empty(n, dtype=np.int64)
    for b in range(src_block.shape[0]):
        _update_block(indptr, indices, data, src_block[b], n_lanes[b], dist[b], pred[b], edge[b], order[b], pos[b], n_ord[b], reuse,
                      hk, hv, size, flag, head, nxt, q)


@njit(cache=True)
def _leaf_targets(in_ptr, in_idx, in_w, is_leaf, src_row, target, valid, dist, pred, d_out, p_out):
    """Per pair, the distance to its target and the target's predecessor: from the tree
    when the target relays, else the best edge into the leaf (lowest index on a tie).
    ``dist``, ``pred``: ``(blocks, n, LANES)``; source row ``r`` is lane ``r % LANES``
    of block ``r // LANES``."""
    for k in range(target.shape[0]):
        if not valid[k]:
            d_out[k] = np.inf
            p_out[k] = NO_PRED
            continue
        b = src_row[k] // LANES
        j = src_row[k] % LANES
        t = target[k]
        if not is_leaf[t]:
            d_out[k] = dist[b, t, j]
            p_out[k] = pred[b, t, j]
            continue
        best = np.inf
        bp = NO_PRED
        for e in range(in_ptr[t], in_ptr[t + 1]):
            u = in_idx[e]
            nd = dist[b, u, j] + in_w[e]
            if nd < best:
                best = nd
                bp = u
        d_out[k] = best
        p_out[k] = bp


@njit(cache=True)
def _walk_pairs(dist, pred, src_row, src_node, target, d_t, p_t, gw_flag, sat_end, gw_in, gw_hi, c_vacuum, c_fibre,
                length, fibre_s, hops, sats, gws, landing, h):
    """The path walk of :meth:`Network._walk` (target back to source), one pair at a
    time: the same sums in the same order, so the same bits."""
    prime = np.uint64(1099511628211)
    n = dist.shape[1]
    for k in range(target.shape[0]):
        if not d_t[k] < np.inf:
            continue
        b = src_row[k] // LANES
        j = src_row[k] % LANES
        s = src_node[k]
        c = target[k]
        dc = d_t[k]
        p = p_t[k]
        hk = h[k]
        ln = 0.0
        fs = 0.0
        nh = 0
        ns = 0
        ng = 0
        land = -1
        while True:
            dp = dist[b, p, j]
            seg = dc - dp
            if p >= gw_in and c >= gw_in:
                ln += seg * c_vacuum / c_fibre
                fs += seg
            else:
                ln += seg * c_vacuum
                fs += 0.0
            nh += 1
            if c < sat_end:
                ns += 1
            ng += gw_flag[c]
            if c >= gw_in and c < gw_hi:
                land = c - gw_in
            hk = (hk ^ np.uint64(c)) * prime
            if p == s or p < 0 or nh > n:  # the last two cannot happen in a tree: no endless walk
                break
            c = p
            dc = dp
            p = pred[b, c, j]
        length[k] = ln
        fibre_s[k] = fs
        hops[k] = nh
        sats[k] = ns
        gws[k] = ng
        landing[k] = land
        h[k] = hk


@njit(cache=True)
def first_partners(node, follow, a, b, dst):
    """For :meth:`Network._terminal_targets`: over pairs of terminals in order, each end
    not yet given a node gets the sink of the other end (``dst + index``); a far end so
    given follows its partner. In place; a loop, since each pair sees the ones before."""
    for p in range(a.shape[0]):
        if node[a[p]] < 0:
            node[a[p]] = dst + b[p]
        if node[b[p]] < 0:
            node[b[p]] = dst + a[p]
            follow[b[p]] = True


@njit(cache=True)
def finish_step(delay, length, hops, h, sats, gws, land, fibre_s, tail_delay, tail_len, to_server, fibre_only,
                fo_delay, fo_len, rtt_o, len_o, hops_o, hash_o, sats_o, gws_o, land_o, fibre_o):
    """For :meth:`Network.solve`: one step's outputs per pair from its path walk, in one
    pass (it was a dozen whole-array numpy operations, 40 ms a step for 499,500 pairs).
    A pair to a server adds the fibre from its PoP (``tail_delay``, ``tail_len``) and one
    hop; a fibre-only pair takes ``fo_delay``/``fo_len`` and one hop; an unreachable one
    gets a NaN round trip, no hops, no satellites or gateways, no landing and no fibre."""
    for p in range(delay.shape[0]):
        if fibre_only[p]:
            one_way = fo_delay[p]
            ln = fo_len[p]
            hop = 1
        else:
            one_way = delay[p] + tail_delay[p]
            ln = length[p] + tail_len[p]
            hop = hops[p] + (1 if to_server[p] else 0)
        reached = np.isfinite(one_way)
        rtt_o[p] = 2.0 * one_way if reached else np.nan
        len_o[p] = ln
        hops_o[p] = hop if reached else 0
        hash_o[p] = h[p]
        sats_o[p] = sats[p] if reached else 0
        gws_o[p] = gws[p] if reached else 0
        land_o[p] = land[p] if reached else -1
        fibre_o[p] = 2.0 * (fibre_s[p] + tail_delay[p]) if reached else 0.0


# --------------------------------------------------------------------------- the cache
class TreeCache:
    """The shortest-path trees of a set of source nodes, carried from step to step (and
    from chunk to chunk in one process, see :func:`for_network`). ``update(graph)``
    brings them to a step's graph; ``walk`` follows them."""

    def __init__(self, src_nodes: np.ndarray, n_nodes: int):
        self.src_nodes = np.ascontiguousarray(src_nodes, dtype=np.int64)
        m = len(self.src_nodes)
        nb = -(-m // LANES)
        # source r is lane r % LANES of block r // LANES; a block's distances are (node, lane)
        self.src_block = np.zeros(nb * LANES, dtype=np.int64)
        self.src_block[:m] = self.src_nodes
        self.src_block = self.src_block.reshape(nb, LANES)
        self.n_lanes = np.minimum(LANES, m - LANES * np.arange(nb)).astype(np.int64)
        self.dist = np.full((nb, n_nodes, LANES), np.inf)
        self.pred = np.full((nb, n_nodes, LANES), NO_PRED, dtype=np.int32)
        self.edge = np.zeros((nb, n_nodes, LANES), dtype=np.int32)
        self.order = np.zeros((nb, LANES, n_nodes), dtype=np.int32)
        self.pos = np.full((nb, LANES, n_nodes), -1, dtype=np.int32)
        self.n_ord = np.zeros((nb, LANES), dtype=np.int64)
        self._in = None

    def rows(self) -> tuple[np.ndarray, np.ndarray]:
        """``(dist, pred)`` as ``(sources, nodes)`` arrays, scipy's layout (copies)."""
        m, n = len(self.src_nodes), self.dist.shape[1]
        return (self.dist.transpose(0, 2, 1).reshape(-1, n)[:m].copy(),
                self.pred.transpose(0, 2, 1).reshape(-1, n)[:m].copy())

    def update(self, graph, *, reuse: bool = True) -> None:
        """Trees for this step's graph (CSR of one-way delays); ``reuse=False`` searches
        every tree from scratch (the same answer: a test compares the two)."""
        indptr = graph.indptr.astype(np.int64, copy=False)
        n = graph.shape[0]
        deg = np.diff(indptr)
        self.is_leaf = deg == 0
        tail = np.repeat(np.arange(n, dtype=np.int64), deg)
        head = graph.indices.astype(np.int64)
        # the trees hold relaying nodes only: edges into leaves are looked at per target
        into_leaf = self.is_leaf[head]
        keep = ~into_leaf
        core_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(tail[keep], minlength=n), out=core_ptr[1:])
        _update_all(core_ptr, head[keep], graph.data[keep], self.src_block, self.n_lanes, self.dist, self.pred,
                    self.edge, self.order, self.pos, self.n_ord, reuse)
        # edges into leaves, by head (tails ascending within a head)
        rows, cols, w = tail[into_leaf], head[into_leaf], graph.data[into_leaf]
        by_col = np.lexsort((rows, cols))
        in_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(cols, minlength=n), out=in_ptr[1:])
        self._in = (in_ptr, rows[by_col], w[by_col])

    def walk(self, src_row, src_node, target, layout: dict, c_vacuum: float, c_fibre: float, gw_flag) -> dict:
        """Per pair (source row, source node, target node): what :meth:`Network._walk`
        returns, without the node sequences."""
        n_p = len(target)
        m = len(self.src_nodes)
        valid = src_row < m
        rows = np.where(valid, src_row, 0).astype(np.int64)
        target = target.astype(np.int64)
        d_t = np.empty(n_p)
        p_t = np.empty(n_p, dtype=np.int64)
        in_ptr, in_idx, in_w = self._in
        _leaf_targets(in_ptr, in_idx, in_w, self.is_leaf, rows, target, valid, self.dist, self.pred, d_t, p_t)
        out = {
            "delay": d_t,
            "length": np.zeros(n_p),
            "hops": np.zeros(n_p, dtype=np.int16),
            "hash": np.full(n_p, 1469598103934665603, dtype=np.uint64),
            "paths": [()] * n_p,
            "sats": np.zeros(n_p, dtype=np.int16),
            "gateways": np.zeros(n_p, dtype=np.int16),
            "landing": np.full(n_p, -1, dtype=np.int32),
            "fibre_s": np.zeros(n_p),
        }
        o = layout
        _walk_pairs(self.dist, self.pred, rows, src_node.astype(np.int64), target, d_t, p_t,
                    gw_flag.astype(np.int16), o["src"], o["gw_in"], o["gw_in"] + o["G"], c_vacuum, c_fibre,
                    out["length"], out["fibre_s"], out["hops"], out["sats"], out["gateways"], out["landing"],
                    out["hash"])
        return out


_KEPT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def for_network(network, src_nodes: np.ndarray, n_nodes: int) -> TreeCache:
    """The trees this process keeps for ``network`` and these sources (the last set
    asked for; a new set replaces it). Kept outside the network so that it does not
    travel when the network is pickled to a worker."""
    src_nodes = np.asarray(src_nodes, dtype=np.int64)
    tc = _KEPT.get(network)
    if tc is None or tc.dist.shape[1] != n_nodes or not np.array_equal(tc.src_nodes, src_nodes):
        tc = TreeCache(src_nodes, n_nodes)
        _KEPT[network] = tc
    return tc
