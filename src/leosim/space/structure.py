"""Recover shells, orbital planes and slots from real element sets.

Real constellations do not label which plane a satellite flies in, but the elements
say it: satellites of one shell share inclination and altitude, satellites of one plane
share the right ascension of the ascending node (RAAN), and their order along the plane
is the argument of latitude. All satellites are first propagated to one common instant
(their epochs differ by hours, and RAAN drifts ~5 deg/day at Starlink altitudes), then
clustered in 1-D by gaps: inclination, then mean altitude, then RAAN (on the circle).

Satellites in clusters too small to be a shell or a plane (orbit raising, deorbiting,
spares) get ``-1`` and no +Grid links.
"""

from __future__ import annotations

import numpy as np
from sgp4.api import SatrecArray

_MU_KM3_S2 = 398600.8
_RE_SGP4_KM = 6378.135


def _gap_clusters(values: np.ndarray, gap: float) -> np.ndarray:
    """Labels 0.. for sorted-gap clusters of a 1-D array (split where neighbours differ by > gap)."""
    order = np.argsort(values, kind="stable")
    breaks = np.diff(values[order]) > gap
    labels_sorted = np.concatenate([[0], np.cumsum(breaks)])
    labels = np.empty(len(values), dtype=np.int64)
    labels[order] = labels_sorted
    return labels


def _circular_gap_clusters(angles_deg: np.ndarray, gap_deg: float) -> np.ndarray:
    """Like :func:`_gap_clusters` on the circle: the cut starts at the widest gap."""
    a = np.mod(angles_deg, 360.0)
    order = np.argsort(a, kind="stable")
    s = a[order]
    gaps = np.diff(np.concatenate([s, [s[0] + 360.0]]))
    start = (int(np.argmax(gaps)) + 1) % len(s)  # first element after the widest gap
    rolled = np.roll(s, -start)
    unwrapped = np.where(np.arange(len(s)) >= len(s) - start, rolled + 360.0, rolled) if start else rolled
    breaks = np.diff(unwrapped) > gap_deg
    labels_rolled = np.concatenate([[0], np.cumsum(breaks)])
    labels = np.empty(len(a), dtype=np.int64)
    labels[np.roll(order, -start)] = labels_rolled
    return labels


def orbital_angles(satrecs, at_jd: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Osculating inclination, RAAN and argument of latitude (deg) at one instant."""
    e, r, v = SatrecArray(list(satrecs)).sgp4(np.array([at_jd[0]]), np.array([at_jd[1]]))
    r, v = r[:, 0, :], v[:, 0, :]
    h = np.cross(r, v)
    hn = np.linalg.norm(h, axis=1)
    inc = np.degrees(np.arccos(np.clip(h[:, 2] / hn, -1, 1)))
    raan = np.degrees(np.arctan2(h[:, 0], -h[:, 1])) % 360.0
    node = np.stack([np.cos(np.radians(raan)), np.sin(np.radians(raan)), np.zeros(len(raan))], axis=1)
    h_hat = h / hn[:, None]
    y_axis = np.cross(h_hat, node)
    u = np.degrees(np.arctan2(np.einsum("ij,ij->i", r, y_axis), np.einsum("ij,ij->i", r, node))) % 360.0
    bad = e[:, 0] != 0
    inc[bad] = raan[bad] = u[bad] = np.nan
    return inc, raan, u


def recover_structure(
    satrecs,
    *,
    inclination_gap_deg: float = 0.3,
    altitude_gap_m: float = 5e3,
    raan_gap_deg: float = 0.25,
    min_shell_size: int = 40,
    min_plane_size: int = 4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shell, plane and slot index of each satellite (``-1`` where not recovered).

    Shells are numbered by decreasing size, planes by RAAN within a shell, slots by
    argument of latitude within a plane; plane numbers are unique across shells.
    """
    n = len(satrecs)
    epochs = np.array([s.jdsatepoch + s.jdsatepochF for s in satrecs])
    t_ref = float(np.median(epochs))
    jd, fr = float(np.floor(t_ref - 0.5) + 0.5), float(t_ref - (np.floor(t_ref - 0.5) + 0.5))
    inc, raan, u = orbital_angles(satrecs, (jd, fr))
    no = np.array([s.no_kozai for s in satrecs]) / 60.0
    with np.errstate(divide="ignore", invalid="ignore"):
        alt_m = ((_MU_KM3_S2 / no**2) ** (1 / 3) - _RE_SGP4_KM) * 1e3

    shell = np.full(n, -1, dtype=np.int32)
    plane = np.full(n, -1, dtype=np.int32)
    slot = np.full(n, -1, dtype=np.int32)
    ok = np.isfinite(inc) & np.isfinite(alt_m)
    idx_ok = np.flatnonzero(ok)
    groups: list[np.ndarray] = []
    for inc_label in np.unique(_gap_clusters(inc[idx_ok], inclination_gap_deg)):
        members = idx_ok[_gap_clusters(inc[idx_ok], inclination_gap_deg) == inc_label]
        alt_labels = _gap_clusters(alt_m[members], altitude_gap_m)
        for a in np.unique(alt_labels):
            g = members[alt_labels == a]
            if len(g) >= min_shell_size:
                groups.append(g)
    groups.sort(key=lambda g: (-len(g), float(np.median(alt_m[g]))))
    next_plane = 0
    for k, g in enumerate(groups):
        labels = _circular_gap_clusters(raan[g], raan_gap_deg)
        # order planes by their mean RAAN so that neighbouring planes get neighbouring ids
        uniq = np.unique(labels)
        centres = np.array([np.degrees(np.angle(np.exp(1j * np.radians(raan[g][labels == q])).mean())) % 360 for q in uniq])
        for q in uniq[np.argsort(centres)]:
            members = g[labels == q]
            if len(members) < min_plane_size:
                continue
            shell[members] = k
            plane[members] = next_plane
            slot[members[np.argsort(u[members], kind="stable")]] = np.arange(len(members))
            next_plane += 1
    return shell, plane, slot


def _walker_plus_grid(shell: np.ndarray, plane: np.ndarray, slot: np.ndarray, shells) -> np.ndarray:
    """+Grid pairs for Walker shells, by formula (exact, including the seam)."""
    pairs = []
    index = {}
    for i, key in enumerate(zip(shell.tolist(), plane.tolist(), slot.tolist())):
        index[key] = i
    for k, sh in enumerate(shells):
        P, S, F = sh.planes, sh.sats_per_plane, sh.phasing
        for p in range(P):
            for s in range(S):
                a = index[(k, p, s)]
                if S > 1:
                    pairs.append((a, index[(k, p, (s + 1) % S)]))
                if P > 1:
                    # Across the seam, plane P-1 meets plane 0 shifted by F slots
                    # (plane "P" is plane 0 advanced by F slots in a Walker delta).
                    q, s2 = (p + 1, s) if p + 1 < P else (0, (s + F) % S)
                    pairs.append((a, index[(k, q, s2)]))
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


def _match_planes(ia: np.ndarray, ua: np.ndarray, ib: np.ndarray, ub: np.ndarray, max_du: float) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of two planes' satellites by argument of latitude."""
    d = np.abs(((ua[:, None] - ub[None, :]) + 180.0) % 360.0 - 180.0)
    order = np.argsort(d, axis=None, kind="stable")
    used_a = np.zeros(len(ia), bool)
    used_b = np.zeros(len(ib), bool)
    out = []
    for flat in order:
        x, y = divmod(int(flat), len(ib))
        if d[x, y] > max_du:
            break
        if not used_a[x] and not used_b[y]:
            used_a[x] = used_b[y] = True
            out.append((int(ia[x]), int(ib[y])))
    return out


def plus_grid_pairs(constellation) -> np.ndarray:
    """Laser-link pairs ``(n_isl, 2)`` of the +Grid pattern (each satellite: 2 intra-plane
    and up to 2 inter-plane neighbours), ``a < b``, no duplicates.

    Walker shells use the exact formula. Real element sets use the geometry at the
    reference instant instead of plane labels, which real data gets wrong often enough
    to matter (a plane split in two by a small altitude difference, a plane with gaps):
    within its recovered shell, each satellite looks for its nearest neighbour ahead,
    behind, to the left and to the right (along-track or cross-track, whichever
    dominates the offset), and a link is made where two satellites choose each other.
    """
    c = constellation
    if c.is_walker:
        pairs = _walker_plus_grid(c.shell, c.plane, c.slot, c.shells)
    else:
        pairs = _quadrant_grid(c)
    pairs = np.sort(pairs, axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return np.unique(pairs, axis=0)


def _quadrant_grid(c, n_neighbours: int = 24, plane_angle_deg: float = 1.5, co_moving_deg: float = 20.0) -> np.ndarray:
    from scipy.spatial import cKDTree

    from leosim.core.geodesy import max_isl_length_m

    epochs = np.array([s.jdsatepoch + s.jdsatepochF for s in c.satrecs])
    t_ref = float(np.median(epochs))
    jd0 = float(np.floor(t_ref - 0.5) + 0.5)
    e, r, v = SatrecArray(list(c.satrecs)).sgp4(np.array([jd0]), np.array([t_ref - jd0]))
    r, v = r[:, 0, :], v[:, 0, :]
    out = []
    for k in np.unique(c.shell[c.shell >= 0]):
        idx = np.flatnonzero((c.shell == k) & (e[:, 0] == 0))
        if len(idx) < 2:
            continue
        rk, vk = r[idx], v[idx]
        alt_m = float(np.median(np.linalg.norm(rk, axis=1))) * 1e3 - 6371e3
        reach_km = max_isl_length_m(max(alt_m, 100e3)) / 1e3
        kq = min(n_neighbours + 1, len(idx))
        dist, nb = cKDTree(rk).query(rk, k=kq, distance_upper_bound=reach_km)
        dist, nb = dist[:, 1:], nb[:, 1:]
        nb_safe = np.where(np.isfinite(dist), nb, 0)
        v_hat = vk / np.linalg.norm(vk, axis=1)[:, None]
        # only co-moving neighbours: a satellite crossing on the other half of its orbit
        # (ascending meets descending near the turning latitudes) is close for a moment
        valid = np.isfinite(dist) & (np.einsum("ijk,ik->ij", v_hat[nb_safe], v_hat) >= np.cos(np.radians(co_moving_deg)))
        d = rk[nb_safe] - rk[:, None, :]
        h = np.cross(rk, vk)
        h_hat = h / np.linalg.norm(h, axis=1)[:, None]
        along = np.einsum("ijk,ik->ij", d, v_hat)
        cross = np.einsum("ijk,ik->ij", d, h_hat)
        # same plane when the orbit normals are within plane_angle_deg; quadrant 0 ahead
        # and 1 behind in the same plane, 2 left (+normal side) and 3 right otherwise
        same_plane = np.einsum("ijk,ik->ij", h_hat[nb_safe], h_hat) >= np.cos(np.radians(plane_angle_deg))
        quad = np.where(same_plane, np.where(along >= 0, 0, 1), np.where(cross >= 0, 2, 3))
        choice = np.full((len(idx), 4), -1, dtype=np.int64)
        for q in range(4):
            dq = np.where(valid & (quad == q), dist, np.inf)
            j = np.argmin(dq, axis=1)
            has = np.isfinite(dq[np.arange(len(idx)), j])
            choice[has, q] = nb[has, j[has]]
        # ahead and behind come from the recovered plane's slot ring: in a shell of many
        # planes the nearest satellites are all in other planes, so the neighbour search
        # above often finds no in-plane satellite at all
        local = np.full(len(c.satrecs), -1, dtype=np.int64)
        local[idx] = np.arange(len(idx))
        choice[:, :2] = -1
        for plane_id in np.unique(c.plane[idx]):
            ring = idx[c.plane[idx] == plane_id]
            ring = local[ring[np.argsort(c.slot[ring], kind="stable")]]
            if len(ring) < 2:
                continue
            ahead = np.roll(ring, -1)
            near = np.linalg.norm(rk[ahead] - rk[ring], axis=1) <= reach_km
            choice[ring[near], 0] = ahead[near]
            choice[ahead[near], 1] = ring[near]
        opposite = np.array([1, 0, 3, 2])
        degree = np.zeros(len(idx), dtype=np.int64)
        for q in (0, 2):  # each mutual pair once: ahead<->behind, left<->right
            a = np.flatnonzero(choice[:, q] >= 0)
            b = choice[a, q]
            mutual = choice[b, opposite[q]] == a
            out.append(np.stack([idx[a[mutual]], idx[b[mutual]]], axis=1))
            np.add.at(degree, a[mutual], 1)
            np.add.at(degree, b[mutual], 1)
        # then the one-sided choices, shortest first, while both ends have a free laser
        a_all = np.repeat(np.arange(len(idx)), 4)
        b_all = choice.ravel()
        keep = b_all >= 0
        a_all, b_all = a_all[keep], b_all[keep]
        length = np.linalg.norm(rk[a_all] - rk[b_all], axis=1)
        linked = {(int(x), int(y)) for arr in out[-2:] for x, y in zip(*np.sort(arr, axis=1).T)}
        extra = []
        for i in np.argsort(length, kind="stable"):
            x, y = int(a_all[i]), int(b_all[i])
            key = (int(idx[min(x, y)]), int(idx[max(x, y)]))
            if key in linked or degree[x] >= 4 or degree[y] >= 4:
                continue
            linked.add(key)
            degree[x] += 1
            degree[y] += 1
            extra.append(key)
        if extra:
            out.append(np.array(extra, dtype=np.int64))
    if not out:
        return np.zeros((0, 2), dtype=np.int64)
    return np.concatenate(out).astype(np.int64)
