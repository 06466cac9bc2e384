"""Attachment policies: which visible satellite(s) each ground endpoint uses, per step.

A policy is a small object with one protocol::

    state = policy.start(chunk)                  # once per chunk of steps
    rows, cols = policy.choose(state, step)      # per step: endpoint and satellite indices

``chunk`` is a :class:`ChunkContext` (the chunk's instants and a function that gives the
geometry at any other instants, for policies that look ahead or back); ``step`` is a
:class:`StepGeometry` (the endpoint-satellite pairs that can link, sparse, with the sine
of the elevation and the range of each). A policy's answer at an instant must not depend on where its
chunk began (state is a cache of things computed from absolute time only), so a run
gives the same numbers however it is split into chunks and workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from leosim.core.registry import Param, Registry
from leosim.core.time import (
    RECONFIGURATION_INTERVAL_S,
    RECONFIGURATION_PHASE_S,
    parse_duration,
    reconfiguration_start,
)
from leosim.errors import ParameterError

__all__ = ["POLICIES", "AttachmentPolicy", "Candidates", "ChunkContext", "Free", "LongestVisible", "MaxElevation", "Scheduled", "StepGeometry", "policy"]

_NS = 1_000_000_000


@dataclass(frozen=True)
class StepGeometry:
    """The endpoint-satellite pairs that can link at one instant, sparse: endpoint ``rows``,
    satellite ``cols``, the sine of the elevation and the range (m) of each."""

    t_unix_s: float            # the instant, seconds since 1970-01-01 UTC
    n_endpoints: int
    rows: np.ndarray
    cols: np.ndarray
    sin_elevation: np.ndarray
    range_m: np.ndarray

    @classmethod
    def from_dense(cls, t_unix_s: float, sin_elevation: np.ndarray, range_m: np.ndarray, visible: np.ndarray) -> StepGeometry:
        rows, cols = np.nonzero(visible)
        return cls(t_unix_s, visible.shape[0], rows, cols, sin_elevation[rows, cols], range_m[rows, cols])

    def best(self, score: np.ndarray, where: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per endpoint, the pair with the highest ``score`` (ties: the lowest satellite
        index), among the pairs ``where`` allows."""
        return _best_sparse(self.rows, self.cols, score, where)


@dataclass(frozen=True)
class Candidates:
    """(endpoint, satellite) pairs visible at ``t0``: sine of the elevation at ``t0`` and
    ``t1``, visibility margin at ``t1`` (>= 0: still visible) and range at ``t0`` (m)."""

    rows: np.ndarray
    cols: np.ndarray
    sin0: np.ndarray
    sin1: np.ndarray
    margin1: np.ndarray
    range0_m: np.ndarray


@dataclass(frozen=True)
class ChunkContext:
    """What a policy may know about a chunk before its first step."""

    t_unix_s: np.ndarray  # (n_steps,) instants of the chunk
    # geometry(t_unix_s (n,), sat_index (m,) or None) -> (sin_el, margin), each (n, n_e, m):
    # the sine of the elevation, and a visibility margin that is >= 0 exactly when the
    # pair is visible and crosses zero continuously when a satellite sets (NaN if failed)
    geometry: Callable[[np.ndarray, np.ndarray | None], tuple[np.ndarray, np.ndarray]]
    # candidates(t0, t1) -> Candidates: the (endpoint, satellite) pairs visible at t0, with
    # their geometry at t0 and t1 (sparse: what a schedule needs, without dense matrices)
    candidates: Callable[[float, float], Candidates] | None = None
    # route_cost(t_unix_s, rows, cols, fixed) -> (n,) one-way delay (s) from endpoint
    # ``rows`` up to satellite ``cols`` and on to where that endpoint's traffic goes (its
    # home PoP, or the far terminal of its pair), inf where there is no route; ``fixed``
    # (n_e,): satellites already chosen (-1: not yet), so a far terminal is reached through
    # the one it was given. None when the network gives terminals no destination (policies
    # then fall back on geometry)
    route_cost: Callable[[float, np.ndarray, np.ndarray, np.ndarray | None], np.ndarray] | None = None
    # terminals to choose after the others (n_e,) bool: the far end of a pair of terminals,
    # which should take a satellite with a short route to the one its partner was given
    followers: np.ndarray | None = None


class AttachmentPolicy(Protocol):
    name: str

    @property
    def spec(self) -> str: ...

    def start(self, chunk: ChunkContext) -> object: ...

    def choose(self, state: object, step: StepGeometry) -> tuple[np.ndarray, np.ndarray]: ...


def _any_per_row(rows: np.ndarray, flag: np.ndarray, n_rows: int) -> np.ndarray:
    """For sparse entries (``rows``, ``flag``): whether each row has a flagged entry."""
    return np.bincount(rows[flag], minlength=n_rows)[:n_rows] > 0


def _best_sparse(rows: np.ndarray, cols: np.ndarray, score: np.ndarray, where: np.ndarray | None = None):
    """Per row of sparse entries, the column with the highest score (ties: lowest column)."""
    idx = np.arange(len(rows)) if where is None else np.flatnonzero(where)
    if len(idx) == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z
    order = idx[np.lexsort((cols[idx], -score[idx], rows[idx]))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = rows[order][1:] != rows[order][:-1]
    return rows[order[first]].astype(np.int64), cols[order[first]].astype(np.int64)


class _Stateless:
    """A policy without parameters or state: equal to any other of its kind."""

    name = ""

    @property
    def spec(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(self.name)

    def start(self, chunk: ChunkContext) -> None:
        return None


class Free(_Stateless):
    """Every visible satellite is usable; the shortest path chooses (Hypatia's model)."""

    name = "free"

    def choose(self, state: object, step: StepGeometry) -> tuple[np.ndarray, np.ndarray]:
        return step.rows, step.cols


class MaxElevation(_Stateless):
    """The highest visible satellite, re-decided at every step."""

    name = "max-elevation"

    def choose(self, state: object, step: StepGeometry) -> tuple[np.ndarray, np.ndarray]:
        return step.best(step.sin_elevation)


class LongestVisible:
    """The visible satellite that stays above the mask longest, re-decided every step.

    The time a pass ends is found once per (endpoint, satellite) pass by sampling the
    elevation ahead on an absolute grid of ``lookahead_step_s`` (so the answer does not
    depend on when it was first asked) and interpolating the crossing linearly; a pass
    still up after ``horizon_s`` counts as ending then. Ties go to the higher satellite.
    """

    name = "longest-visible"

    def __init__(self, lookahead_step_s: float = 5.0, horizon_s: float = 900.0):
        if not (lookahead_step_s > 0 and horizon_s >= lookahead_step_s):
            raise ParameterError(
                f"lookahead_step {lookahead_step_s!r} s and horizon {horizon_s!r} s; expected a step > 0 and a horizon >= the step"
            )
        self.lookahead_step_s = float(lookahead_step_s)
        self.horizon_s = float(horizon_s)

    @property
    def spec(self) -> str:
        if (self.lookahead_step_s, self.horizon_s) == (5.0, 900.0):
            return self.name
        return f"{self.name}:lookahead_step={self.lookahead_step_s:g}s,horizon={self.horizon_s:g}s"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LongestVisible) and (self.lookahead_step_s, self.horizon_s) == (
            other.lookahead_step_s, other.horizon_s)

    def __hash__(self) -> int:
        return hash((self.name, self.lookahead_step_s, self.horizon_s))

    def start(self, chunk: ChunkContext) -> dict:
        return {"chunk": chunk, "set_time": {}}

    def _set_times(self, state: dict, step: StepGeometry, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        cache: dict = state["set_time"]
        keys = rows.astype(np.int64) * (1 << 32) + cols
        missing = np.array([k not in cache for k in keys.tolist()], dtype=bool)
        if missing.any():
            mr, mc = rows[missing], cols[missing]
            sats = np.unique(mc)
            dt = self.lookahead_step_s
            g0 = np.floor(step.t_unix_s / dt) * dt
            grid = g0 + dt * np.arange(1, int(self.horizon_s / dt) + 1)
            _, margin = state["chunk"].geometry(grid, sats)  # (n_grid, n_e, n_sub)
            sub = np.searchsorted(sats, mc)
            m = margin[:, mr, sub]  # (n_grid, n_missing)
            below = ~(m >= 0)
            first = np.argmax(below, axis=0)
            never = ~below.any(axis=0)
            cols_ix = np.arange(len(first))
            # interpolate the zero crossing of the margin between the last sample still
            # visible and the first one below (from the current instant if the first is)
            t1 = grid[first]
            t0 = np.where(first > 0, grid[np.maximum(first - 1, 0)], step.t_unix_s)
            m1 = m[first, cols_ix]
            m0 = m[np.maximum(first - 1, 0), cols_ix]
            with np.errstate(invalid="ignore", divide="ignore"):
                frac = np.clip(m0 / (m0 - m1), 0.0, 1.0)
            frac = np.where((first > 0) & np.isfinite(frac), frac, 0.0)
            t_set = np.where(never, grid[-1], t0 + frac * (t1 - t0))
            for k, ts in zip(keys[missing].tolist(), t_set.tolist()):
                cache[k] = ts
        return np.array([cache[k] for k in keys.tolist()])

    def choose(self, state: dict, step: StepGeometry) -> tuple[np.ndarray, np.ndarray]:
        rows, cols = step.rows, step.cols
        if len(rows) == 0:
            return rows, cols
        # forget passes that ended, so a later pass of the same satellite is looked up anew
        live = set((rows.astype(np.int64) * (1 << 32) + cols).tolist())
        cache = state["set_time"]
        for k in [k for k in cache if k not in live]:
            del cache[k]
        t_set = self._set_times(state, step, rows, cols)
        # seconds of visibility left, with elevation as a sub-millisecond tie-break
        return step.best((t_set - step.t_unix_s) + 1e-4 * step.sin_elevation)


class Scheduled:
    """Starlink's global schedule: a serving satellite chosen every 15 s and kept all interval.

    Reconfiguration happens at :12, :27, :42 and :57 s past each minute (Tanveer 2023;
    Mohan et al., WWW 2024; :func:`leosim.core.time.reconfiguration_start`). At each
    reconfiguration instant every terminal takes, among the satellites it sees then and
    at the end of the interval (those it sees then when none stays), one that has a route
    to where its traffic goes: Starlink's controller knows the routes, so a terminal is
    never scheduled onto a satellite that is not laser-connected to its PoP.

    ``choose="route"`` (the default): of the candidates whose route (uplink, lasers,
    downlink to the gateway, fibre to the PoP) is within ``slack_s`` of the shortest, the
    one whose lower elevation at the two ends of the interval is highest (a satellite
    that stays high has the better link budget). ``choose="elevation"``: that elevation
    rule alone, route or not (leosim before 2026-12; a terminal could then be served by a
    satellite of a shell that reaches its PoP only round the planet). When the network
    gives no destination, both rules are the elevation rule.

    If the scheduled satellite drops below the mask (or off the network) before the
    interval ends, the highest visible satellite stands in until the next
    reconfiguration, chosen at each step: the policy keeps no state beyond the schedule,
    so any split of a run into chunks gives the same answer.
    """

    name = "scheduled"

    def __init__(self, interval_s: float = RECONFIGURATION_INTERVAL_S, phase_s: float = RECONFIGURATION_PHASE_S,
                 choose: str = "route", slack_s: float = 1e-3):
        # an interval from 100 ms (a step of the finest runs) to a day; the offset places the
        # first reconfiguration within one interval, so it is shorter than the interval
        if not (np.isfinite(interval_s) and 0.1 <= interval_s <= 86400.0) or not (
            np.isfinite(phase_s) and 0 <= phase_s < interval_s
        ):
            raise ParameterError(
                f"interval {interval_s!r} s and offset {phase_s!r} s; expected an interval from 0.1 s to 1 day "
                "and an offset from 0 to less than the interval"
            )
        if choose not in ("route", "elevation"):
            raise ParameterError(f"choose {choose!r}; expected 'route' or 'elevation'")
        if not (np.isfinite(slack_s) and slack_s >= 0):
            raise ParameterError(f"slack {slack_s!r} s; expected a duration >= 0")
        self.interval_s = float(interval_s)
        self.phase_s = float(phase_s)
        self.choose_by = choose
        self.slack_s = float(slack_s)

    @property
    def spec(self) -> str:
        """How to ask for this policy again (``scheduled`` with the defaults)."""
        parts = []
        if (self.interval_s, self.phase_s) != (RECONFIGURATION_INTERVAL_S, RECONFIGURATION_PHASE_S):
            parts += [f"interval={self.interval_s:g}s", f"offset={self.phase_s:g}s"]
        if self.choose_by != "route":
            parts.append(f"choose={self.choose_by}")
        if self.slack_s != 1e-3:
            parts.append(f"slack={self.slack_s * 1e3:g}ms")
        return self.name + (":" + ",".join(parts) if parts else "")

    def _key(self) -> tuple:
        return (self.interval_s, self.phase_s, self.choose_by, self.slack_s)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scheduled) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash((self.name, *self._key()))

    def interval_start(self, t_unix_s: float) -> float:
        return reconfiguration_start(t_unix_s, self.interval_s, self.phase_s)

    def start(self, chunk: ChunkContext) -> dict:
        return {"chunk": chunk, "interval": None, "serving": None}

    def schedule(self, chunk: ChunkContext, t0: float, n_e: int) -> np.ndarray:
        """The satellite each terminal is scheduled onto for the interval starting at ``t0`` (-1: none)."""
        if chunk.candidates is None:  # a context without sparse candidates: dense geometry
            sin_el, margin = chunk.geometry(np.array([t0, t0 + self.interval_s]), None)
            rows, cols = np.nonzero(margin[0] >= 0)
            cand = Candidates(rows, cols, sin_el[0][rows, cols], sin_el[1][rows, cols], margin[1][rows, cols],
                              np.zeros(len(rows)))
        else:
            cand = chunk.candidates(t0, t0 + self.interval_s)
        rows, cols = cand.rows, cand.cols
        score = np.fmin(cand.sin0, cand.sin1)
        stays = cand.margin1 >= 0
        # those that stay all interval, where a terminal has any
        keep = stays | ~_any_per_row(rows, stays, n_e)[rows]

        def pick(cost: np.ndarray | None) -> np.ndarray:
            k = keep
            if cost is not None:
                routed = keep & np.isfinite(cost)
                best = np.full(n_e, np.inf)
                np.minimum.at(best, rows[routed], cost[routed])
                near = routed & (cost <= best[rows] + self.slack_s)
                k = np.where(_any_per_row(rows, routed, n_e)[rows], near, keep)
            serving = np.full(n_e, -1, dtype=np.int64)
            idx = np.flatnonzero(k)
            if len(idx):
                order = idx[np.lexsort((cols[idx], -score[idx], rows[idx]))]  # per row: highest, ties lowest index
                first = np.ones(len(order), dtype=bool)
                first[1:] = rows[order][1:] != rows[order][:-1]
                serving[rows[order[first]]] = cols[order[first]]
            return serving

        if self.choose_by != "route" or chunk.route_cost is None:
            return pick(None)
        serving = pick(chunk.route_cost(t0, rows, cols, None))
        follow = chunk.followers
        if follow is not None and follow.any():
            # the far end of a pair of terminals: a short route to the satellite its
            # partner was just given, not to any satellite its partner sees
            fixed = np.where(follow, -1, serving)
            again = pick(chunk.route_cost(t0, rows, cols, fixed))
            serving = np.where(follow, again, serving)
        return serving

    def choose(self, state: dict, step: StepGeometry) -> tuple[np.ndarray, np.ndarray]:
        t0 = self.interval_start(step.t_unix_s)
        n_e = step.n_endpoints
        if state["interval"] != t0:
            state["interval"], state["serving"] = t0, self.schedule(state["chunk"], t0, n_e)
        serving = state["serving"].copy()
        e = np.arange(n_e)
        held = np.zeros(n_e, dtype=bool)
        held[step.rows[serving[step.rows] == step.cols]] = True
        lost = ~held
        if lost.any():
            # the scheduled satellite is gone: the highest one now stands in. Decided
            # afresh at every step (no memory of earlier stand-ins), so the answer at an
            # instant never depends on where a chunk of steps began
            rows, cols = step.best(step.sin_elevation, lost[step.rows])
            serving[lost] = -1
            serving[rows] = cols
        ok = serving >= 0
        return e[ok], serving[ok]


def _choose(text: str) -> str:
    value = text.strip().lower()
    if value not in ("route", "elevation"):
        raise ParameterError(f"{text!r} is neither 'route' nor 'elevation'")
    return value


def _offset_s(text: str) -> float:
    """Seconds from text: a duration (``12s``) or 0."""
    if text.strip() in ("0", "0s", "0.0"):
        return 0.0
    return parse_duration(text, what="offset")


#: The attachment policies by name, with their parameters (``scheduled:interval=15s,offset=12s``).
POLICIES = Registry("attachment policy")
POLICIES.register("free", Free, help="any visible satellite; the shortest path chooses (Hypatia's model)")
POLICIES.register("max-elevation", MaxElevation, help="the highest visible satellite, every step")
POLICIES.register(
    "longest-visible", lambda lookahead_step, horizon: LongestVisible(lookahead_step, horizon),
    (Param("lookahead_step", parse_duration, 5.0, "a duration such as 5s"),
     Param("horizon", parse_duration, 900.0, "a duration such as 15min")),
    help="the visible satellite that stays up longest, every step",
)
POLICIES.register(
    "scheduled", lambda interval, offset, choose, slack: Scheduled(interval, offset, choose, slack),
    (Param("interval", parse_duration, RECONFIGURATION_INTERVAL_S, "a duration such as 15s"),
     Param("offset", _offset_s, RECONFIGURATION_PHASE_S, "seconds past the minute of the first reconfiguration, such as 12s"),
     Param("choose", _choose, "route", "route (a satellite with a route to the terminal's destination) or elevation"),
     Param("slack", _offset_s, 1e-3, "how much longer than the shortest a chosen route may be, such as 1ms")),
    help="Starlink's global schedule: a serving satellite with a route, chosen at each reconfiguration and kept for the interval",
)


def policy(spec: str) -> AttachmentPolicy:
    """The attachment policy ``spec`` names: ``scheduled`` or ``scheduled:interval=15s,offset=12s``."""
    return POLICIES.make(spec)
