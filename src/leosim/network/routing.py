"""The network at each step and the shortest paths through it.

Nodes are addressed by integer index (satellites first, then ground nodes); one step's
graph is a sparse matrix of one-way propagation delays (s), and paths come from
``scipy.sparse.csgraph.dijkstra`` run once from each source endpoint.

Ground endpoints are split into a *source* node (edges out only) and a *sink* node
(edges in only), so a path can never relay through another user's terminal. Gateways
are split the same way unless the routing mode lets them relay. Routing modes are small
value objects (:data:`ISL`, :data:`BENT_PIPE`, :data:`HYBRID`); attachment policies are
objects from :mod:`leosim.network.attachment`.

One-way delays are symmetric (propagation only), so RTT = 2 x one-way delay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra

from leosim.core.geodesy import (
    EARTH_RADIUS_M,
    FIBRE_INDEX,
    SPEED_OF_LIGHT_M_S,
    chord_min_radius_m,
    geodetic_to_ecef,
    great_circle_m,
    up_vectors,
)
from leosim.core.time import RECONFIGURATION_INTERVAL_S, RECONFIGURATION_PHASE_S, reconfiguration_start
from leosim.core.visibility import pair_geometry
from leosim.errors import ParameterError
from leosim.ground.sites import GroundSegment, SiteKind
from leosim.network import trees as tree_kernels
from leosim.network.attachment import AttachmentPolicy, Candidates, ChunkContext, Free, StepGeometry
from leosim.network.links import LinkOptions, gateway_links, user_geometry, user_links
from leosim.network.modes import ISL, RoutingMode
from leosim.space.constellation import Constellation
from leosim.space.lasers import cross_shell_pairs

C = SPEED_OF_LIGHT_M_S

#: How a terminal's traffic to the internet picks its PoP: "home" (the PoP Starlink
#: assigns to the terminal's country, :mod:`leosim.ground.homepop`), "nearest" (the PoP
#: nearest the terminal), "best" (whichever gives the lowest delay, per step).
POP_SELECTIONS = ("home", "nearest", "best")


# A search may stop once past the farthest target its source needed at the previous step,
# times this slack plus this margin; a source that then misses a target is searched again
# without a bound, so the answer is exact whatever the two numbers (they only trade reruns
# against search size).
LIMIT_SLACK = 1.002
LIMIT_MARGIN_S = 2e-4
LIMIT_GROUPS = 8


def _bounded_dijkstra(graph, src_nodes, prev_limit, pair_row, pair_target):
    """``dijkstra`` from each source, stopped past its previous step's need when known.

    Sources are grouped by bound (a few scipy calls rather than one per source). Returns
    the distances, predecessors and this step's need per source (the farthest target
    distance; inf when a target is unreachable, which makes that source unbounded next).
    """
    n = graph.shape[0]
    if prev_limit is None or not np.isfinite(prev_limit).any():
        dist, pred = dijkstra(graph, directed=True, indices=src_nodes, return_predecessors=True)
    else:
        lim = prev_limit * LIMIT_SLACK + LIMIT_MARGIN_S
        dist = np.empty((len(src_nodes), n))
        pred = np.empty((len(src_nodes), n), dtype=np.int32)
        for grp in np.array_split(np.argsort(lim), min(LIMIT_GROUPS, len(lim))):
            bound = lim[grp].max()
            kw = {} if not np.isfinite(bound) else {"limit": bound}
            dist[grp], pred[grp] = dijkstra(graph, directed=True, indices=src_nodes[grp], return_predecessors=True, **kw)
        d_t = dist[pair_row, pair_target]
        miss = np.unique(pair_row[~np.isfinite(d_t)])
        miss = miss[np.isfinite(prev_limit[miss])]  # those searched unbounded are truly unreachable
        if len(miss):
            dist[miss], pred[miss] = dijkstra(graph, directed=True, indices=src_nodes[miss], return_predecessors=True)
    need = np.zeros(len(src_nodes))
    np.maximum.at(need, pair_row, dist[pair_row, pair_target])
    return dist, pred, need


class _Tally:
    """What a walk along shortest paths adds up per pair, one edge at a time: physical
    length (vacuum or fibre), the time in fibre, links, satellites and gateways crossed,
    and the gateway the traffic comes down at."""

    def __init__(self, layout: dict, n_p: int):
        self.o = layout
        self.length = np.zeros(n_p)
        self.fibre_s = np.zeros(n_p)
        self.hops = np.zeros(n_p, dtype=np.int16)
        self.sats = np.zeros(n_p, dtype=np.int16)
        self.gws = np.zeros(n_p, dtype=np.int16)
        self.landing = np.full(n_p, -1, dtype=np.int32)
        self.gw = np.zeros(layout["n"], dtype=np.int16)
        self.gw[layout["gw_in"]:layout["gw_in"] + layout["G"]] = 1  # a gateway taking traffic down
        self.gw[layout["gw_out"]:layout["gw_out"] + layout["G"]] = 1  # one sending it back up (the same when gateways relay)

    def add(self, idx, seg_s, u, v, counted, *, first_landing: bool) -> None:
        """Pairs ``idx`` crossed edges ``u -> v`` taking ``seg_s`` seconds; ``counted`` is
        the node each edge brings them to (satellites and gateways are counted there)."""
        o = self.o
        fibre = (u >= o["gw_in"]) & (v >= o["gw_in"])
        self.length[idx] += np.where(fibre, seg_s * C / FIBRE_INDEX, seg_s * C)
        self.fibre_s[idx] += np.where(fibre, seg_s, 0.0)
        self.hops[idx] += 1
        self.sats[idx] += (counted < o["src"]).astype(np.int16)
        self.gws[idx] += self.gw[counted]
        down = (counted >= o["gw_in"]) & (counted < o["gw_in"] + o["G"])
        if first_landing:
            down &= self.landing[idx] < 0
        self.landing[idx[down]] = counted[down] - o["gw_in"]

    def result(self) -> dict:
        return {"length": self.length, "fibre_s": self.fibre_s, "hops": self.hops, "sats": self.sats,
                "gateways": self.gws, "landing": self.landing}


@dataclass
class ChunkResult:
    """Per-step results of a chunk for a list of endpoint pairs.

    Arrays are ``(n_steps, n_pairs)``: ``rtt_s`` (NaN when unreachable), ``length_m``
    (one-way physical path length), ``hops`` (links on the path, 0 when unreachable),
    ``path_hash`` (uint64 fingerprint of the node sequence, for path changes), ``sats``
    and ``gateways`` (satellites and gateway sites the path crosses, 0 when unreachable:
    what the latency model adds processing for), ``landing`` (the gateway, an index into
    the network's gateways, where the traffic comes down; -1 for none). When paths were asked for,
    ``paths[k][p]`` is the node index sequence of pair ``p`` at step ``k``.
    """

    rtt_s: np.ndarray
    length_m: np.ndarray
    hops: np.ndarray
    path_hash: np.ndarray
    paths: list[list[tuple[int, ...]]] | None = None
    n_isl_up: np.ndarray | None = None
    sats: np.ndarray | None = None
    gateways: np.ndarray | None = None
    landing: np.ndarray | None = None  # (n_steps, n_pairs) gateway the traffic comes down at, -1: none
    fibre_rtt_s: np.ndarray | None = None  # (n_steps, n_pairs) the part of rtt_s spent in fibre on the ground


@dataclass(frozen=True, eq=False)
class Network:
    """Everything that is fixed over a run: nodes, link rules, routing mode, attachment.

    ``endpoints`` are the ground nodes paths start and end at: satellite terminals, or
    ``SERVER`` sites on the terrestrial internet (reached through a PoP). ``gateways``
    and ``pops`` may be empty when the routing mode and endpoints do not need them.
    """

    constellation: Constellation
    endpoints: GroundSegment
    gateways: GroundSegment = field(default_factory=lambda: GroundSegment.from_sites([]))
    pops: GroundSegment = field(default_factory=lambda: GroundSegment.from_sites([]))
    routing: RoutingMode = ISL
    attachment: AttachmentPolicy = field(default_factory=Free)
    links: LinkOptions = field(default_factory=LinkOptions)
    isl_pairs: np.ndarray | None = None
    pop_selection: str = "home"
    # the home PoP of each endpoint (index into ``pops``; -1: its nearest PoP), used when
    # ``pop_selection`` is "home" (see leosim.ground.homepop); None: nearest for all
    endpoint_pop: np.ndarray | None = None
    # SGP4 runs every knot_s seconds and positions in between are interpolated (~2 cm);
    # None runs SGP4 at every step
    knot_s: float | None = 10.0

    def __post_init__(self) -> None:
        if self.pop_selection not in POP_SELECTIONS:
            raise ParameterError(f"unknown PoP selection {self.pop_selection!r}; expected one of: {', '.join(POP_SELECTIONS)}")
        if self.endpoint_pop is not None and len(self.endpoint_pop) != len(self.endpoints):
            raise ParameterError(f"{len(self.endpoint_pop)} home PoPs for {len(self.endpoints)} endpoints; expected one each")
        needs_ground = self.routing != ISL or self.server_mask.any()
        if needs_ground and (len(self.gateways) == 0 or len(self.pops) == 0):
            raise ParameterError(
                f"routing {self.routing.name!r} with these endpoints needs gateways and PoPs, "
                f"but {len(self.gateways)} gateways and {len(self.pops)} PoPs were given"
            )

    # ---------------------------------------------------------------- layout
    @cached_property
    def isl(self) -> np.ndarray:
        if not self.routing.isl:
            return np.zeros((0, 2), dtype=np.int64)
        if self.isl_pairs is not None:
            return np.asarray(self.isl_pairs, dtype=np.int64).reshape(-1, 2)
        from leosim.space.structure import plus_grid_pairs

        return plus_grid_pairs(self.constellation)

    @cached_property
    def server_mask(self) -> np.ndarray:
        return np.array([k == SiteKind.SERVER for k in self.endpoints.kinds], dtype=bool)

    @cached_property
    def uses_gateways(self) -> bool:
        return self.routing != ISL or bool(self.server_mask.any())

    @cached_property
    def _layout(self) -> dict[str, int]:
        S, E = self.constellation.n_sats, len(self.endpoints)
        G = len(self.gateways) if self.uses_gateways else 0
        P = len(self.pops) if self.uses_gateways else 0
        o = {"sat": 0, "src": S, "dst": S + E, "gw_in": S + 2 * E}
        o["gw_out"] = o["gw_in"] if self.routing.gateway_relay else o["gw_in"] + G
        o["pop"] = o["gw_out"] + G if not self.routing.gateway_relay else o["gw_in"] + G
        o["n"] = o["pop"] + P
        o["G"], o["P"], o["S"], o["E"] = G, P, S, E
        return o

    @property
    def n_nodes(self) -> int:
        return self._layout["n"]

    def node_name(self, node: int) -> str:
        """Label of a node index; ``-1 - e`` stands for server endpoint ``e``."""
        o = self._layout
        if node < 0:
            return self.endpoints.names[-1 - node]
        if node < o["src"]:
            return self.constellation.names[node]
        if node < o["dst"]:
            return self.endpoints.names[node - o["src"]]
        if node < o["gw_in"]:
            return self.endpoints.names[node - o["dst"]]
        if node < o["gw_in"] + o["G"]:
            return self.gateways.names[node - o["gw_in"]]
        if node < o["gw_out"] + o["G"]:
            return self.gateways.names[node - o["gw_out"]]
        return self.pops.names[node - o["pop"]]

    def node_kind(self, node: int) -> str:
        o = self._layout
        if node < 0:
            return "server"
        if node < o["src"]:
            return "satellite"
        if node < o["gw_in"]:
            return "endpoint"
        if node < o["pop"]:
            return "gateway"
        return "pop"

    @cached_property
    def _ground(self) -> dict[str, np.ndarray]:
        ep = self.endpoints
        out = {
            "ep_xyz": geodetic_to_ecef(ep.latitude_deg, ep.longitude_deg, ep.altitude_m).reshape(-1, 3),
            "ep_up": up_vectors(ep.latitude_deg, ep.longitude_deg).reshape(-1, 3),
        }
        term = ~self.server_mask
        out["term_idx"] = np.flatnonzero(term)
        if self.uses_gateways:
            gw, pops = self.gateways, self.pops
            out["gw_xyz"] = geodetic_to_ecef(gw.latitude_deg, gw.longitude_deg, gw.altitude_m).reshape(-1, 3)
            out["gw_up"] = up_vectors(gw.latitude_deg, gw.longitude_deg).reshape(-1, 3)
            fib = self.links.fibre_stretch * FIBRE_INDEX / C  # seconds per metre of great circle
            d_gw_pop = great_circle_m(gw.latitude_deg[:, None], gw.longitude_deg[:, None], pops.latitude_deg[None, :], pops.longitude_deg[None, :])
            out["gw_pop_delay"] = d_gw_pop * fib  # (G, P): Starlink's backbone, gateway to PoP
            d_pp = great_circle_m(pops.latitude_deg[:, None], pops.longitude_deg[:, None], pops.latitude_deg[None, :], pops.longitude_deg[None, :])
            out["pop_pop_delay"] = d_pp * fib
            d_ep_pop = great_circle_m(ep.latitude_deg[:, None], ep.longitude_deg[:, None], pops.latitude_deg[None, :], pops.longitude_deg[None, :])
            out["ep_pop_delay"] = d_ep_pop * fib  # (E, P): fibre from a PoP to a server endpoint
            out["ep_nearest_pop"] = np.argmin(d_ep_pop, axis=1)
            home = out["ep_nearest_pop"].copy()
            if self.pop_selection == "home" and self.endpoint_pop is not None:
                given = np.asarray(self.endpoint_pop, dtype=np.int64)
                home = np.where(given >= 0, given, home)
            out["ep_home_pop"] = home
        return out

    @cached_property
    def _static_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Edges that never change: fibre between gateways and PoPs, and between PoPs.

        Starlink's backbone takes traffic from the gateway it lands at to the PoP it
        leaves from, whichever that is (Kharkiv's traffic may land in Poland and leave at
        Warsaw; Vilnius's lands in Poland and leaves at Stockholm): every gateway is
        linked to every PoP by fibre along the great circle times the fibre stretch."""
        rows, cols, w = [], [], []
        if self.uses_gateways:
            o, g = self._layout, self._ground
            G, P = o["G"], o["P"]
            gi, pj = np.nonzero(np.ones((G, P), dtype=bool))
            rows += [o["gw_in"] + gi]
            cols += [o["pop"] + pj]
            w += [g["gw_pop_delay"][gi, pj]]
            if self.routing.fibre_relay:
                rows += [o["pop"] + pj]
                cols += [o["gw_out"] + gi]
                w += [g["gw_pop_delay"][gi, pj]]
            pi, pk = np.nonzero(~np.eye(P, dtype=bool))
            rows += [o["pop"] + pi]
            cols += [o["pop"] + pk]
            w += [g["pop_pop_delay"][pi, pk]]
        if not rows:
            z = np.zeros(0, dtype=np.int64)
            return z, z, np.zeros(0)
        w_all = np.concatenate(w)
        return np.concatenate(rows), np.concatenate(cols), np.maximum(w_all, 1e-12)

    # ------------------------------------------------------------- geometry
    def endpoint_geometry(self, sat_xyz: np.ndarray, sat_index: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """sin(elevation), range (m), visibility margin for terminals x satellites at one
        instant; ``sat_index``: the satellites ``sat_xyz`` holds (default: all, in order)."""
        g = self._ground
        ti = g["term_idx"]
        return user_geometry(self.links, self.constellation, g["ep_xyz"][ti], g["ep_up"][ti], sat_xyz, sat_index)

    def chunk_context(self, t_unix_s: np.ndarray, targets: np.ndarray | None = None,
                      followers: np.ndarray | None = None) -> ChunkContext:
        """What attachment policies may ask about a chunk. ``targets``: per terminal (in
        ``term_idx`` order) the node its traffic goes to (-1: none), for route costs;
        ``followers``: terminals to schedule after their partner (see ChunkContext)."""
        def geometry(t: np.ndarray, sats: np.ndarray | None):
            times = (np.asarray(t) * 1e9).round().astype("datetime64[ns]")
            pos = self.constellation.positions(times, sat_index=sats)
            sin_out, margin_out = [], []
            for k in range(len(times)):
                s, _, m = self.endpoint_geometry(pos[k], sats)
                sin_out.append(s)
                margin_out.append(m)
            return np.array(sin_out), np.array(margin_out)

        def candidates(t0: float, t1: float) -> Candidates:
            times = (np.array([t0, t1]) * 1e9).round().astype("datetime64[ns]")
            pos = self.constellation.positions(times)
            g = self._ground
            ti = g["term_idx"]
            sp0 = user_links(self.links, self.constellation, g["ep_xyz"][ti], g["ep_up"][ti], pos[0])
            s1, r1 = pair_geometry(g["ep_xyz"][ti], g["ep_up"][ti], pos[1], sp0.rows, sp0.cols)
            return Candidates(sp0.rows, sp0.cols, sp0.sin_elevation, s1, self.links.terminal_rule.margin(s1, r1),
                              sp0.range_m)

        route_cost = None
        if targets is not None and (np.asarray(targets) >= 0).any():
            def route_cost(t: float, rows: np.ndarray, cols: np.ndarray, fixed: np.ndarray | None = None) -> np.ndarray:
                return self.route_cost(t, targets, rows, cols, fixed)

        return ChunkContext(t_unix_s=t_unix_s, geometry=geometry, candidates=candidates, route_cost=route_cost,
                            followers=followers)

    def route_cost(self, t_unix_s: float, targets: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                   fixed: np.ndarray | None = None) -> np.ndarray:
        """One-way delay (s) at ``t_unix_s`` from terminal ``rows`` (``term_idx`` order) up
        to satellite ``cols`` and on, by the shortest route, to the terminal's target node
        (its home PoP, or the sink of the far terminal of its pair, reached through the
        satellite ``fixed`` gives that terminal, or any it sees); inf where there is no
        route. A step at this instant that already searched back from these targets
        lends its search."""
        o, g = self._layout, self._ground
        targets = np.asarray(targets, dtype=np.int64)
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        wanted = np.unique(targets[targets >= 0])
        times = np.array([round(t_unix_s * 1e9)], dtype="datetime64[ns]")
        pos = None
        cached = self._step_cache.get("dist")
        if cached is not None and cached[0] == t_unix_s and np.isin(wanted, cached[1]).all():
            _, uniq, dist_s = cached
        else:
            pos = self.constellation.positions(times)[0]
            rows_l, cols_l, w_l, _, _ = self._infrastructure(pos, t_unix_s)
            # far terminals are reached through the satellite they were given, or any they
            # see (the best of them is what a connected controller would pick)
            sinks = wanted[(wanted >= o["dst"]) & (wanted < o["gw_in"])]
            if len(sinks):
                ti = g["term_idx"]
                pos_of = {int(e): k for k, e in enumerate(ti)}
                ks = [pos_of[int(n) - o["dst"]] for n in sinks if int(n) - o["dst"] in pos_of]
                sub = np.array(ks, dtype=np.int64)
                links = user_links(self.links, self.constellation, g["ep_xyz"][ti[sub]], g["ep_up"][ti[sub]], pos)
                k_of = sub[links.rows]
                ok = np.ones(len(k_of), dtype=bool)
                if fixed is not None:
                    fk = np.asarray(fixed)[k_of]
                    ok = (fk < 0) | (fk == links.cols)
                rows_l.append(links.cols[ok])
                cols_l.append(o["dst"] + ti[k_of[ok]])
                w_l.append(links.range_m[ok] / C)
            uniq = wanted
            if len(uniq) == 0:
                return np.full(len(rows), np.inf)
            dist_s = dijkstra(self._graph(rows_l, cols_l, w_l).T.tocsr(), directed=True, indices=uniq)[:, : o["S"]]
        # the uplink: range at this instant
        if pos is None:
            pos = self.constellation.positions(times)[0]
        ti = g["term_idx"]
        _, rng = pair_geometry(g["ep_xyz"][ti], g["ep_up"][ti], pos, rows, cols)
        t_of = targets[rows]
        row_of = np.searchsorted(uniq, np.maximum(t_of, 0))
        row_of = np.minimum(row_of, len(uniq) - 1)
        cost = rng / C + dist_s[row_of, cols]
        cost[(t_of < 0) | (uniq[row_of] != t_of)] = np.inf
        return cost

    # --------------------------------------------------------------- solving
    def solve(
        self,
        times: np.ndarray,
        pairs: np.ndarray,
        *,
        want_paths: bool = False,
        positions: np.ndarray | None = None,
        step_s: float | None = None,
        search: str = "auto",
        reuse_trees: bool = True,
    ) -> ChunkResult:
        """Shortest paths for endpoint ``pairs`` (``(n_pairs, 2)`` indices) at ``times``.

        One call is one chunk: attachment state lives for the call only. ``step_s`` is the
        run's time step (inferred from ``times`` when not given): positions are
        interpolated between SGP4 knots only when steps are shorter than ``knot_s``, and
        that choice must not depend on how a run is cut into chunks. ``search``: "auto"
        searches backwards from the targets when they are few PoPs for many terminals,
        else forwards from each source; "forward" always forwards (the two give the same
        answer: benchmarks and a test compare them). ``reuse_trees``: forward searches keep
        each source's shortest-path tree from step to step and repair it
        (:mod:`leosim.network.trees`); False searches every step afresh with scipy's
        Dijkstra. Both give the same numbers, bit for bit (a test holds this); paths asked
        for are always searched afresh.
        """
        if search not in ("auto", "forward"):
            raise ParameterError(f"search {search!r}; expected 'auto' or 'forward'")
        times = np.asarray(times, dtype="datetime64[ns]")
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        n_t, n_p = len(times), len(pairs)
        block = 64  # steps of positions held at once: memory stays small for 10k satellites
        if step_s is None and n_t > 1:
            step_s = float(np.median(np.diff(times).astype(np.int64))) / 1e9
        knot_s = self.knot_s if (self.knot_s and step_s is not None and step_s < self.knot_s) else None
        t_unix = times.astype(np.int64) / 1e9
        o, g = self._layout, self._ground
        server = self.server_mask
        # orient each pair so that the search starts from a terminal when there is one
        a, b = pairs[:, 0].copy(), pairs[:, 1].copy()
        swap = server[a] & ~server[b]
        a[swap], b[swap] = b[swap], a[swap]
        fibre_only = server[a] & server[b]
        sources = np.unique(a[~fibre_only])
        src_row = np.searchsorted(sources, a)
        # the node each search must reach: the sink of a terminal, or the PoP that serves
        # a server destination (then the fibre from that PoP to the server is added)
        target = o["dst"] + b
        tail_delay = np.zeros(n_p)
        to_server = server[b] & ~fibre_only
        if to_server.any():
            # "home": the PoP Starlink assigns to the terminal (its country's); "nearest":
            # the PoP nearest the terminal; "best": whichever gives the lowest delay, per step
            pop = g["ep_home_pop"][a[to_server]]
            target[to_server] = o["pop"] + pop
            tail_delay[to_server] = g["ep_pop_delay"][b[to_server], pop]
        best_pop = to_server.any() and self.pop_selection == "best"
        # backwards from the targets when they are few (PoPs) and the sources many, and no
        # pair needs a fibre-only answer or a per-step choice of PoP
        rev_targets = np.unique(target)
        reverse = (search == "auto" and not best_pop and bool(to_server.all()) and len(sources) >= 4
                   and 2 * len(rev_targets) <= len(sources))
        rev_row = np.searchsorted(rev_targets, target)
        targets, followers = self._terminal_targets(a, b, target, to_server)
        state = self.attachment.start(self.chunk_context(t_unix, targets, followers))
        # per source row, how far its search had to go at the previous step (None: unbounded)
        prev_limit = None
        searched = ~fibre_only
        trees = None
        if reuse_trees and tree_kernels.AVAILABLE and not (reverse or best_pop or want_paths) and len(sources):
            trees = tree_kernels.for_network(self, o["src"] + sources, o["n"])
            gw_flag = _Tally(o, 0).gw

        # a fibre-only pair (server to server) is the same great circle at every step
        fo_delay, fo_len, tail_len = np.zeros(n_p), np.zeros(n_p), None
        if fibre_only.any():
            fo = fibre_only
            d_ab = great_circle_m(
                self.endpoints.latitude_deg[a[fo]], self.endpoints.longitude_deg[a[fo]],
                self.endpoints.latitude_deg[b[fo]], self.endpoints.longitude_deg[b[fo]],
            ) * self.links.fibre_stretch
            fo_delay[fo] = d_ab * FIBRE_INDEX / C
            fo_len[fo] = d_ab
        rtt = np.full((n_t, n_p), np.nan)
        length = np.full((n_t, n_p), np.nan)
        hops = np.zeros((n_t, n_p), dtype=np.int16)
        phash = np.zeros((n_t, n_p), dtype=np.uint64)
        n_isl_up = np.zeros(n_t, dtype=np.int32)
        n_sats = np.zeros((n_t, n_p), dtype=np.int16)
        n_gws = np.zeros((n_t, n_p), dtype=np.int16)
        landing = np.full((n_t, n_p), -1, dtype=np.int32)
        fibre_rtt = np.zeros((n_t, n_p))
        paths = [] if want_paths else None

        for k in range(n_t):
            if positions is not None:
                pos = positions[k]
            else:
                if k % block == 0:
                    pos_block = self.constellation.positions(times[k:k + block], knot_s=knot_s)
                pos = pos_block[k % block]
            if reverse:
                # few targets for many sources (terminals to their PoPs): search backwards
                # from each target once instead of forwards from every source
                res, n_isl_up[k] = self._reverse_step(pos, t_unix[k], state, rev_targets, rev_row, o["src"] + a, want_paths)
            else:
                graph, n_isl_up[k] = self._step_graph(pos, t_unix[k], state)
            if reverse:
                pass
            elif len(sources):
                if best_pop:  # every PoP is a candidate target: search everything
                    dist, pred = dijkstra(graph, directed=True, indices=o["src"] + sources, return_predecessors=True)
                elif trees is not None:
                    trees.update(graph)
                else:
                    dist, pred, prev_limit = _bounded_dijkstra(
                        graph, o["src"] + sources, prev_limit, src_row[searched], target[searched]
                    )
            else:
                dist = np.zeros((0, o["n"]))
                pred = np.zeros((0, o["n"]), dtype=np.int32)
            if best_pop:
                ts = np.flatnonzero(to_server)
                cand = dist[src_row[ts]][:, o["pop"]:o["pop"] + o["P"]] + g["ep_pop_delay"][b[ts]]
                pop = np.argmin(cand, axis=1)
                target[ts] = o["pop"] + pop
                tail_delay[ts] = g["ep_pop_delay"][b[ts], pop]
            if trees is not None:
                res = trees.walk(src_row, o["src"] + a, target, o, C, FIBRE_INDEX, gw_flag)
            elif not reverse:
                res = self._walk(dist, pred, src_row, o["src"] + a, target, want_paths)
            if best_pop or tail_len is None:  # the fibre from the PoP, as the step's PoP choice has it
                tail_len = tail_delay * C / FIBRE_INDEX
            tree_kernels.finish_step(res["delay"], res["length"], res["hops"], res["hash"], res["sats"],
                                     res["gateways"], res["landing"], res["fibre_s"], tail_delay, tail_len, to_server,
                                     fibre_only, fo_delay, fo_len, rtt[k], length[k], hops[k], phash[k], n_sats[k],
                                     n_gws[k], landing[k], fibre_rtt[k])
            if want_paths:
                step_paths = []
                for p in range(n_p):
                    nodes = res["paths"][p]
                    if not np.isfinite(rtt[k, p]):
                        nodes = ()
                    elif to_server[p]:
                        nodes = nodes + (-1 - b[p],)  # the server itself, after the PoP
                    elif fibre_only[p]:
                        nodes = (o["src"] + a[p], -1 - b[p])
                    if swap[p]:
                        nodes = tuple(reversed(nodes))
                    step_paths.append(nodes)
                paths.append(step_paths)
        return ChunkResult(rtt, length, hops, phash, paths, n_isl_up, n_sats, n_gws, landing, fibre_rtt)

    def _terminal_targets(self, a, b, target, to_server) -> np.ndarray:
        """Per terminal (``term_idx`` order), the node its traffic goes to, for a connected
        scheduler: the PoP of its first pair to the internet, else the sink of the far
        terminal of its first pair with one; -1 for a terminal in no pair. Also which
        terminals follow: the far end of a pair of terminals whose partner leads."""
        o, g = self._layout, self._ground
        server = self.server_mask
        node = np.full(len(self.endpoints), -1, dtype=np.int64)
        follow = np.zeros(len(self.endpoints), dtype=bool)
        ts = np.flatnonzero(to_server)  # the internet first: every terminal has a PoP
        ends, first = np.unique(a[ts], return_index=True)
        node[ends] = target[ts[first]]
        tt = np.flatnonzero(~server[a] & ~server[b])
        tree_kernels.first_partners(node, follow, a[tt].astype(np.int64), b[tt].astype(np.int64), int(o["dst"]))
        ti = g["term_idx"]
        return node[ti], follow[ti]

    def _schedule(self) -> tuple[float, float]:
        """Interval and phase (s) of the reconfigurations: the attachment policy's when it
        has a schedule, else Starlink's (15 s at :12)."""
        a = self.attachment
        if hasattr(a, "interval_s") and hasattr(a, "phase_s"):
            return a.interval_s, a.phase_s
        return RECONFIGURATION_INTERVAL_S, RECONFIGURATION_PHASE_S

    @cached_property
    def _cross_shell_cache(self) -> dict:
        return {}

    def _cross_shell(self, t_unix_s: float) -> np.ndarray:
        """Cross-shell laser links of the reconfiguration interval containing ``t_unix_s``
        (chosen from the positions at its start, docs/lasers.md); empty without them."""
        lk = self.links
        c = self.constellation
        if not (self.routing.isl and lk.cross_shell and self.isl_pairs is None) or len(np.unique(c.shell[c.shell >= 0])) < 2:
            return np.zeros((0, 2), dtype=np.int64)
        t0 = reconfiguration_start(t_unix_s, *self._schedule())
        cache = self._cross_shell_cache
        if t0 not in cache:
            if len(cache) > 4:
                cache.clear()
            pos0 = c.positions(np.array([round(t0 * 1e9)], dtype="datetime64[ns]"))[0]
            cache[t0] = cross_shell_pairs(pos0, c.shell, self.isl, terminals=lk.laser_terminals,
                                          max_range_m=lk.cross_shell_range_m, min_altitude_m=lk.isl_min_altitude_m)
        return cache[t0]

    def _infrastructure(self, pos: np.ndarray, t_unix_s: float):
        """Edges that do not depend on terminals at one instant: fibre, laser links (the
        +Grid ones and the interval's cross-shell ones, when short enough and clear of the
        atmosphere) and gateway links. Returns (rows, cols, weights) lists, the laser links
        up and which satellites see a gateway (None without gateways)."""
        o, g = self._layout, self._ground
        st_rows, st_cols, st_w = self._static_edges
        rows_l, cols_l, w_l = [st_rows], [st_cols], [st_w]
        isl_up = self.isl
        cross = self._cross_shell(t_unix_s)
        if len(cross):
            isl_up = np.concatenate([isl_up, cross])
        if len(isl_up):
            pa, pb = pos[isl_up[:, 0]], pos[isl_up[:, 1]]
            d = np.linalg.norm(pb - pa, axis=1)
            longest = np.where(np.arange(len(isl_up)) >= len(self.isl), self.links.cross_shell_range_m,
                               self.links.max_isl_length_m or np.inf)
            up = (d <= longest) & (chord_min_radius_m(pa, pb) >= EARTH_RADIUS_M + self.links.isl_min_altitude_m)
            isl_up = isl_up[up]
            dd = d[up] / C
            rows_l += [isl_up[:, 0], isl_up[:, 1]]
            cols_l += [isl_up[:, 1], isl_up[:, 0]]
            w_l += [dd, dd]
        gw_sats = None
        if o["G"]:  # sparse: hundreds of gateways x thousands of satellites, few visible
            gl = gateway_links(self.links, g["gw_xyz"], g["gw_up"], pos)
            gr, gc, grng = gl.rows, gl.cols, gl.range_m
            gw_sats = np.zeros(len(pos), dtype=bool)
            gw_sats[gc] = True
            gw_w = grng / C
            rows_l += [gc]
            cols_l += [o["gw_in"] + gr]
            w_l += [gw_w]
            if self.routing.fibre_relay or self.routing.gateway_relay:
                rows_l += [o["gw_out"] + gr]
                cols_l += [gc]
                w_l += [gw_w]
        return rows_l, cols_l, w_l, isl_up, gw_sats

    def _attach(self, pos: np.ndarray, t_unix_s: float, state: object, isl_up: np.ndarray, gw_sats):
        """Terminal-satellite links the attachment policy chooses at one instant:
        (endpoint indices, satellite indices, one-way delays in s)."""
        g = self._ground
        ti = g["term_idx"]
        vis = user_links(self.links, self.constellation, g["ep_xyz"][ti], g["ep_up"][ti], pos)
        keep = np.ones(len(vis.rows), dtype=bool)
        if not isinstance(self.attachment, Free):
            # a policy that picks one satellite must pick one that can carry traffic on:
            # of the best-connected satellites if the terminal sees any, else of any
            # satellite that can forward at all
            best, any_ = self._usable(isl_up, gw_sats)
            on_best = best[vis.cols]
            has_best = np.bincount(vis.rows[on_best], minlength=len(ti))[: len(ti)] > 0
            keep = np.where(has_best[vis.rows], on_best, any_[vis.cols])
        step = StepGeometry(t_unix_s, len(ti), vis.rows[keep], vis.cols[keep], vis.sin_elevation[keep], vis.range_m[keep])
        er, sc = self.attachment.choose(state, step)
        # the range of each chosen pair: look it up among the visible ones
        key = step.rows.astype(np.int64) * self.constellation.n_sats + step.cols
        order = np.argsort(key)
        at = order[np.searchsorted(key[order], er.astype(np.int64) * self.constellation.n_sats + sc)]
        return ti[er], sc, step.range_m[at] / C

    @cached_property
    def _step_cache(self) -> dict:
        return {}

    def _graph(self, rows_l, cols_l, w_l) -> sp.csr_matrix:
        n = self._layout["n"]
        ww = np.maximum(np.concatenate(w_l), 1e-12)  # csgraph reads a zero weight as no edge
        return sp.csr_matrix((ww, (np.concatenate(rows_l), np.concatenate(cols_l))), shape=(n, n))

    def _step_graph(self, pos: np.ndarray, t_unix_s: float, state: object) -> tuple[sp.csr_matrix, int]:
        """The directed graph of one-way delays (s) at one instant, and the laser links up."""
        o = self._layout
        rows_l, cols_l, w_l, isl_up, gw_sats = self._infrastructure(pos, t_unix_s)
        e_idx, sc, wd = self._attach(pos, t_unix_s, state, isl_up, gw_sats)
        rows_l += [o["src"] + e_idx, sc]
        cols_l += [sc, o["dst"] + e_idx]
        w_l += [wd, wd]
        return self._graph(rows_l, cols_l, w_l), len(isl_up) if self.routing.isl else 0

    def _reverse_step(self, pos, t_unix_s, state, rev_targets, rev_row, src_nodes, want_paths):
        """One step searched backwards from the targets (PoPs): one Dijkstra per target on
        the graph without terminals (terminals add no route between other nodes: a
        terminal's source node has only edges out, its sink only edges in), shared with
        the attachment policy's route costs at that instant; each source then takes the
        best of its links up."""
        o = self._layout
        rows_l, cols_l, w_l, isl_up, gw_sats = self._infrastructure(pos, t_unix_s)
        dist_r, next_r = dijkstra(self._graph(rows_l, cols_l, w_l).T.tocsr(), directed=True,
                                  indices=rev_targets, return_predecessors=True)
        self._step_cache["dist"] = (t_unix_s, rev_targets, dist_r[:, : o["S"]].copy())
        e_idx, sc, wd = self._attach(pos, t_unix_s, state, isl_up, gw_sats)
        n_p = len(src_nodes)
        if len(e_idx):
            order = np.argsort(e_idx, kind="stable")
            e_sorted = e_idx[order]
            ep = src_nodes - o["src"]
            lo = np.searchsorted(e_sorted, ep, "left")
            hi = np.searchsorted(e_sorted, ep, "right")
            counts = hi - lo
            rep = np.repeat(np.arange(n_p), counts)
            edge = order[np.concatenate([np.arange(x, y) for x, y in zip(lo.tolist(), hi.tolist())])] if counts.sum() else np.zeros(0, dtype=np.int64)
            cand = wd[edge] + dist_r[rev_row[rep], sc[edge]]
            pick = np.lexsort((sc[edge], cand, rep))  # per pair, the shortest (ties: lowest index)
            first = np.ones(len(pick), dtype=bool)
            first[1:] = rep[pick][1:] != rep[pick][:-1]
            chosen = pick[first]
            p_idx = rep[chosen]
            ok = np.isfinite(cand[chosen])
            p_idx, chosen = p_idx[ok], chosen[ok]
            dist_r[rev_row[p_idx], src_nodes[p_idx]] = cand[chosen]
            next_r[rev_row[p_idx], src_nodes[p_idx]] = sc[edge[chosen]]
        res = self._walk_reverse(dist_r, next_r, rev_row, src_nodes, rev_targets[rev_row], want_paths)
        return res, len(isl_up) if self.routing.isl else 0

    def _usable(self, isl_up: np.ndarray, gw_sats: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Satellites that can carry a terminal's traffic on, at one step: (best, any).

        With laser links, *best* is the largest laser-connected component (without
        cross-shell links a terminal on a small shell reaches only that shell) and *any*
        every satellite with a laser link up. With gateways, satellites that see one are
        both. A satellite still raising its orbit, with no links, is neither.
        """
        S = self.constellation.n_sats
        best = np.zeros(S, dtype=bool)
        any_ = np.zeros(S, dtype=bool)
        if self.routing.isl and len(isl_up):
            adj = sp.coo_matrix((np.ones(len(isl_up)), (isl_up[:, 0], isl_up[:, 1])), shape=(S, S))
            _, labels = connected_components(adj, directed=False)
            sizes = np.bincount(labels)
            best |= labels == np.argmax(sizes)
            any_ |= sizes[labels] > 1
        if (self.routing.gateway_relay or self.routing.fibre_relay) and gw_sats is not None:
            sees_gw = gw_sats
            best |= sees_gw
            any_ |= sees_gw
        return best, any_

    def _walk(self, dist, pred, src_row, src_node, target, want_paths):
        """Follow predecessors back from each target, all pairs at once.

        The delay of each edge on a shortest path is the difference of the distances at
        its ends, so physical length (vacuum or fibre) needs no edge lookup.
        """
        o = self._layout
        n_p = len(target)
        out = {
            "delay": np.full(n_p, np.inf),
            "length": np.zeros(n_p),
            "hops": np.zeros(n_p, dtype=np.int16),
            "hash": np.zeros(n_p, dtype=np.uint64),
            "paths": [()] * n_p,
            "sats": np.zeros(n_p, dtype=np.int16),
            "gateways": np.zeros(n_p, dtype=np.int16),
            "landing": np.full(n_p, -1, dtype=np.int32),
            "fibre_s": np.zeros(n_p),
        }
        if n_p == 0 or dist.shape[0] == 0:
            return out
        valid = src_row < dist.shape[0]
        rows = np.where(valid, src_row, 0)
        d_target = np.where(valid, dist[rows, target], np.inf)
        out["delay"] = d_target
        cur = target.copy()
        active = np.isfinite(d_target)
        h = np.full(n_p, 1469598103934665603, dtype=np.uint64)
        prime = np.uint64(1099511628211)
        seq = [[int(t)] for t in target] if want_paths else None
        tally = _Tally(o, n_p)
        for _ in range(o["n"]):
            if not active.any():
                break
            idx = np.flatnonzero(active)
            c = cur[idx]
            p = pred[rows[idx], c]
            # walking back, the node counted is the one the edge leads to; the last
            # gateway met is the one nearest the source, where traffic came down
            tally.add(idx, dist[rows[idx], c] - dist[rows[idx], p], p, c, c, first_landing=False)
            h[idx] = (h[idx] ^ c.astype(np.uint64)) * prime
            cur[idx] = p
            if want_paths:
                for i, node in zip(idx.tolist(), p.tolist()):
                    seq[i].append(node)
            active[idx] = p != src_node[idx]
        out.update(tally.result(), hash=h)
        if want_paths:
            out["paths"] = [tuple(reversed(s)) for s in seq]
        return out

    def _walk_reverse(self, dist_r, next_r, t_row, src_node, target, want_paths):
        """:meth:`_walk` for searches run backwards from the targets: ``dist_r[t, v]`` is the
        delay from node ``v`` to target row ``t`` and ``next_r[t, v]`` the next node on the
        way. Walks forward from each source; the same outputs (the path hash is taken in
        the forward walk's order, target first, so both walks give the same hash)."""
        o = self._layout
        n_p = len(target)
        d_target = dist_r[t_row, src_node]
        cur = src_node.copy()
        active = np.isfinite(d_target)
        tally = _Tally(o, n_p)
        visited = []  # per step: the node each pair moved to (-1 once it arrived)
        for _ in range(o["n"]):
            if not active.any():
                break
            idx = np.flatnonzero(active)
            c = cur[idx]
            nxt = next_r[t_row[idx], c]
            # walking forward, the first gateway met is the one nearest the source
            tally.add(idx, dist_r[t_row[idx], c] - dist_r[t_row[idx], nxt], c, nxt, nxt, first_landing=True)
            step_nodes = np.full(n_p, -1, dtype=np.int64)
            step_nodes[idx] = nxt
            visited.append(step_nodes)
            cur[idx] = nxt
            active[idx] = nxt != target[idx]
        h = np.full(n_p, 1469598103934665603, dtype=np.uint64)
        prime = np.uint64(1099511628211)
        if visited:
            seqs = np.stack(visited, axis=1)  # (n_p, L): n1, n2, ..., target, -1 ...
            n_vis = (seqs >= 0).sum(axis=1)
            for j in range(seqs.shape[1]):  # target first, back to the node after the source
                k = n_vis - 1 - j
                on = k >= 0
                node = seqs[np.flatnonzero(on), k[on]]
                h[on] = (h[on] ^ node.astype(np.uint64)) * prime
        out = {"delay": d_target, "hash": h, "paths": [()] * n_p, **tally.result()}
        if want_paths:
            paths = []
            for i in range(n_p):
                if not np.isfinite(d_target[i]):
                    paths.append(())
                    continue
                row = seqs[i, : n_vis[i]] if visited else np.zeros(0, dtype=np.int64)
                paths.append((int(src_node[i]), *(int(v) for v in row)))
            out["paths"] = paths
        return out
