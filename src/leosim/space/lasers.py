"""Laser links between shells: which satellites of different shells link, at one instant.

Within a shell leosim links satellites in the +Grid pattern (:func:`~leosim.space.structure.plus_grid_pairs`),
the field's convention (Hypatia, StarPerf). Real Starlink routes between its shells too
(a terminal under a 43 deg satellite reaches a gateway seen only by 53 deg ones), but
nobody outside SpaceX knows its cross-shell topology. The model here, an assumption
stated in ``docs/lasers.md``:

* every satellite carries ``terminals`` laser terminals (4 by default, what +Grid needs;
  Starlink says each V2 Mini carries three space lasers, so this is generous where a
  satellite's +Grid links are all up and leaves it few spares);
* a terminal +Grid does not use (a satellite at the edge of its recovered grid, or in a
  shell of a few planes) is free for a link to a satellite of another shell;
* cross-shell links are chosen at each 15 s reconfiguration, shortest first, each
  satellite up to its free terminals, between satellites of different shells that are
  at most ``max_range_m`` apart (SpaceX reports links longer than 5,000 km) with the
  chord above ``min_altitude_m`` (clear of the atmosphere, as every laser link); they
  are kept for the interval while they stay in range;
* satellites outside every recovered shell (raising or lowering their orbits) take no
  cross-shell link.

The choice depends only on the positions at the reconfiguration instant, so it does not
depend on how a run is cut into chunks.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from leosim.core.geodesy import EARTH_RADIUS_M, ISL_MIN_ALTITUDE_M, chord_min_radius_m
from leosim.errors import ParameterError

#: Laser terminals per satellite: what +Grid (2 in-plane, 2 cross-plane) needs.
DEFAULT_LASER_TERMINALS = 4
#: Longest cross-shell link, m: SpaceX reports laser links of more than 5,000 km.
DEFAULT_CROSS_SHELL_RANGE_M = 5_000e3
# candidates looked at per satellite (the nearest ones of other shells)
_NEIGHBOURS = 12


def cross_shell_pairs(
    positions_m: np.ndarray,
    shell: np.ndarray,
    intra_pairs: np.ndarray,
    *,
    terminals: int = DEFAULT_LASER_TERMINALS,
    max_range_m: float = DEFAULT_CROSS_SHELL_RANGE_M,
    min_altitude_m: float = ISL_MIN_ALTITUDE_M,
    usable: np.ndarray | None = None,
) -> np.ndarray:
    """Cross-shell laser links ``(n, 2)`` (``a < b``) at one instant.

    ``positions_m``: ``(n_sats, 3)`` Earth-fixed metres (NaN for a satellite that failed);
    ``shell``: recovered shell per satellite (-1: none); ``intra_pairs``: the +Grid links
    that hold terminals already; ``usable``: satellites that may link at all (default:
    every satellite with a finite position and a shell).

    >>> pos = np.array([[7e6, 0, 0], [7e6, 1e5, 0], [7e6, 2e5, 0]])
    >>> cross_shell_pairs(pos, np.array([0, 1, 1]), np.zeros((0, 2), int), terminals=1).tolist()
    [[0, 1]]
    """
    if isinstance(terminals, bool) or not isinstance(terminals, int | np.integer) or terminals < 0:
        raise ParameterError(f"laser terminals {terminals!r} per satellite; expected a whole number >= 0")
    if not (np.isfinite(max_range_m) and max_range_m > 0):
        raise ParameterError(f"cross-shell range {max_range_m!r} m; expected metres > 0")
    pos = np.asarray(positions_m, dtype=np.float64)
    shell = np.asarray(shell)
    n = len(pos)
    degree = np.bincount(np.asarray(intra_pairs, dtype=np.int64).ravel(), minlength=n)[:n]
    free = np.maximum(terminals - degree, 0)
    ok = np.isfinite(pos).all(axis=1) & (shell >= 0) & (free > 0)
    if usable is not None:
        ok &= np.asarray(usable, dtype=bool)
    idx = np.flatnonzero(ok)
    if len(idx) < 2 or len(np.unique(shell[idx])) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    k = min(_NEIGHBOURS + 1, len(idx))
    dist, nb = cKDTree(pos[idx]).query(pos[idx], k=k, distance_upper_bound=max_range_m)
    a = np.repeat(np.arange(len(idx)), k)
    d, b = dist.ravel(), nb.ravel()
    keep = np.isfinite(d) & (b < len(idx))
    a, b, d = a[keep], b[keep], d[keep]
    keep = (shell[idx[a]] != shell[idx[b]]) & (a < b)
    a, b, d = idx[a[keep]], idx[b[keep]], d[keep]
    # a pair found from both ends appears once (a < b); clear of the atmosphere
    clear = chord_min_radius_m(pos[a], pos[b]) >= EARTH_RADIUS_M + min_altitude_m
    a, b, d = a[clear], b[clear], d[clear]
    order = np.lexsort((b, a, d))  # shortest first; ties by index, so the choice is deterministic
    left = free.copy()
    chosen = []
    for i in order.tolist():
        x, y = int(a[i]), int(b[i])
        if left[x] > 0 and left[y] > 0:
            left[x] -= 1
            left[y] -= 1
            chosen.append((x, y))
    if not chosen:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.array(chosen, dtype=np.int64), axis=0)


__all__ = ["DEFAULT_CROSS_SHELL_RANGE_M", "DEFAULT_LASER_TERMINALS", "cross_shell_pairs"]
