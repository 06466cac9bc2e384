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


# --------------------------------------------------------------------------- the heap
@njit(cache=True, inline="always")
def _push(hk, hv, size, key, val):
    i = size
    hk[i] = key
    hv[i] = val
    while i > 0:
        parent = (i - 1) >> 1
        if hk[parent] <= key:
            break
        hk[i] = hk[parent]
        hv[i] = hv[parent]
        i = parent
    hk[i] = key
    hv[i] = val
    return size + 1


@njit(cache=True, inline="always")
def _pop(hk, hv, size):
    """Removes the root; returns the new size (the root was hk[0], hv[0] before the call)."""
    size -= 1
    key = hk[size]
    val = hv[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and hk[child + 1] < hk[child]:
            child += 1
        if hk[child] >= key:
            break
        hk[i] = hk[child]
        hv[i] = hv[child]
        i = child
    hk[i] = key
    hv[i] = val
    return size


# --------------------------------------------------------------------------- one tree
@njit(cache=True)
def _update_tree(indptr, indices, data, s, dist, pred, order, n_ord, hk, hv, head, nxt, q):
    """Brings source ``s``'s tree (``dist``, ``pred``, ``order[:n_ord]``) to this step's
    graph; ``n_ord == 0`` searches from scratch. Returns the new ``n_ord``."""
    inf = np.inf
    size = 0
    changed = False
    if n_ord == 0:
        dist[:] = inf
        pred[:] = NO_PRED
        dist[s] = 0.0
        size = _push(hk, hv, size, 0.0, s)
        changed = True
    else:
        # 1. distances down the old tree, parents first
        for i in range(n_ord):
            v = order[i]
            if v == s:
                dist[v] = 0.0
                continue
            p = pred[v]
            dp = dist[p]
            found = False
            if dp < inf:
                for e in range(indptr[p], indptr[p + 1]):
                    if indices[e] == v:
                        dist[v] = dp + data[e]
                        found = True
                        break
            if not found:
                dist[v] = inf
                pred[v] = NO_PRED
                changed = True
        # 2. every edge out of a reached node
        for i in range(n_ord):
            u = order[i]
            du = dist[u]
            if du == inf:
                continue
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                nd = du + data[e]
                if nd < dist[v]:
                    dist[v] = nd
                    pred[v] = u
                    size = _push(hk, hv, size, nd, v)
                    changed = True
                elif nd == dist[v] and u < pred[v]:  # a tie: the lowest index, whatever the history
                    pred[v] = u
                    changed = True
    # 3. label-correcting search from what was queued (Dijkstra when from scratch)
    while size > 0:
        du = hk[0]
        u = hv[0]
        size = _pop(hk, hv, size)
        if du > dist[u]:
            continue  # stale entry
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = du + data[e]
            if nd < dist[v]:
                dist[v] = nd
                pred[v] = u
                size = _push(hk, hv, size, nd, v)
            elif nd == dist[v] and u < pred[v]:
                pred[v] = u
    if not changed:
        return n_ord
    # the new order: breadth first down the tree from the source
    n = dist.shape[0]
    head[:] = -1
    for v in range(n):
        if v != s and dist[v] < inf:
            p = pred[v]
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
    order[:n_q] = q[:n_q]
    return n_q


@njit(cache=True)
def _update_all(indptr, indices, data, src_nodes, dist, pred, order, n_ord, reuse):
    n = dist.shape[1]
    nnz = indices.shape[0]
    cap = 2 * nnz + n + 1  # an edge queues its head at most once in the check and once in the search
    hk = np.empty(cap)
    hv = np.empty(cap, dtype=np.int64)
    head = np.empty(n, dtype=np.int64)
    nxt = np.empty(n, dtype=np.int64)
    q = np.empty(n, dtype=np.int64)
    for r in range(src_nodes.shape[0]):
        if not reuse:
            n_ord[r] = 0
        n_ord[r] = _update_tree(indptr, indices, data, src_nodes[r], dist[r], pred[r], order[r], n_ord[r],
                                hk, hv, head, nxt, q)


@njit(cache=True)
def _leaf_targets(in_ptr, in_idx, in_w, is_leaf, src_row, target, valid, dist, pred, d_out, p_out):
    """Per pair, the distance to its target and the target's predecessor: from the tree
    when the target relays, else the best edge into the leaf (lowest index on a tie)."""
    for k in range(target.shape[0]):
        if not valid[k]:
            d_out[k] = np.inf
            p_out[k] = NO_PRED
            continue
        r = src_row[k]
        t = target[k]
        if not is_leaf[t]:
            d_out[k] = dist[r, t]
            p_out[k] = pred[r, t]
            continue
        best = np.inf
        bp = NO_PRED
        for e in range(in_ptr[t], in_ptr[t + 1]):
            u = in_idx[e]
            nd = dist[r, u] + in_w[e]
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
    for k in range(target.shape[0]):
        if not d_t[k] < np.inf:
            continue
        r = src_row[k]
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
            dp = dist[r, p]
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
            if p == s or p < 0 or nh > dist.shape[1]:  # the last two cannot happen in a tree: no endless walk
                break
            c = p
            dc = dp
            p = pred[r, c]
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


# --------------------------------------------------------------------------- the cache
class TreeCache:
    """The shortest-path trees of a set of source nodes, carried from step to step (and
    from chunk to chunk in one process, see :func:`for_network`). ``update(graph)``
    brings them to a step's graph; ``walk`` follows them."""

    def __init__(self, src_nodes: np.ndarray, n_nodes: int):
        self.src_nodes = np.ascontiguousarray(src_nodes, dtype=np.int64)
        m = len(self.src_nodes)
        self.dist = np.full((m, n_nodes), np.inf)
        self.pred = np.full((m, n_nodes), NO_PRED, dtype=np.int32)
        self.order = np.zeros((m, n_nodes), dtype=np.int32)
        self.n_ord = np.zeros(m, dtype=np.int64)
        self._in = None

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
        _update_all(core_ptr, head[keep], graph.data[keep], self.src_nodes, self.dist, self.pred, self.order,
                    self.n_ord, reuse)
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
        m = self.dist.shape[0]
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
