"""``leosim view``: the data behind the 3D globe viewer, and the local web server for it.

An adapter over a scenario's :class:`~leosim.scenario.plan.Plan`. :class:`ViewerData` answers
three questions, each as a small JSON document:

- the scene (``/api/scene``): the time window, the ground sites (terminals, servers,
  gateways, PoPs) and the laser-link pairs;
- a window of time (``/api/window?k=K``): satellite positions at knots every
  :data:`KNOT_S` seconds over :data:`WINDOW_S` seconds (plus one knot either side), which
  the page interpolates with Catmull-Rom splines (33 m worst case for Starlink at 60 s
  knots, under the 250 m the int16 coordinates are rounded to), and at each knot the
  laser links that are up and the ground-satellite links above the elevation mask;
- a path (``/api/path?src=I&dst=J&t=T``): the route and round-trip time between two
  endpoints at the run's step nearest ``T``, from :meth:`Network.solve` exactly as a run
  (or ``leosim path`` with the same options and step) computes it;
- the scenario's layers (``/api/layers``), where it has them: per-cell capacity
  (``capacity_cells.csv``, with H3 hexagon outlines), admission codes per terminal
  (``admission.csv``), jammers (``[jamming]``: position, EIRP, the radius where one alone
  denies GPS, and ``jamming.csv``'s denied share per step) and exposure (``[exposure]``:
  sensor positions and ``exposure.csv``'s time to locate per terminal and duty cycle).

:class:`ViewerServer` serves that JSON, the page (``viewer_static/``, with CesiumJS
vendored from npm by ``make assets``) and, when the viewer was opened on a results
directory, that directory's files. It serves nothing else: every file request is
resolved inside its root and refused otherwise (``..``, encoded or not, absolute paths,
symbolic links out). It binds to 127.0.0.1 unless a host is given explicitly, and answers
only requests addressed to that address (:class:`HostGuard`: a foreign ``Host`` is 421, a
foreign ``Origin`` 403, a path over 2,048 characters 414).
"""

from __future__ import annotations

import base64
import errno
import ipaddress
import json
import socket
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from leosim.core.geodesy import (
    EARTH_RADIUS_M,
    chord_min_radius_m,
    destination_point,
    geodetic_to_ecef,
    up_vectors,
)
from leosim.core.time import format_time
from leosim.errors import (
    PortInUseError,
    RequestError,
    ResultsDirError,
    ViewerAssetsError,
    ViewerError,
    require,
)
from leosim.ground.sites import SiteKind

STATIC_DIR = Path(__file__).resolve().parents[1] / "viewer_static"
CESIUM_JS = STATIC_DIR / "vendor" / "cesium" / "Cesium.js"
# Positions are sent at knots this far apart and interpolated by the page (Catmull-Rom:
# 33 m worst case over Starlink Gen1, measured against SGP4 at every second; 264 m at
# 120 s knots, 3.8 km for straight lines at 60 s).
KNOT_S = 60.0
# One request covers this much time: 13 knots of 10,361 satellites are about 800 kB.
WINDOW_S = 600.0
_INT16_MAX = 32767
_INVALID = -32768  # int16 marker of a satellite SGP4 could not propagate
RESULTS_MARKERS = ("summary.json", "scenario.toml")







def _finite(x):
    """``x`` with every NaN or infinity (at any depth) replaced by None."""
    if isinstance(x, float):
        return x if np.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode("ascii")


# --------------------------------------------------------------------------- the data
@dataclass(eq=False)
class ViewerData:
    """What the viewer shows: a planned scenario, and the results directory if any.

    Build it with :meth:`from_results` or :meth:`from_scenario`; nothing is solved until
    a window or a path is asked for.
    """

    plan: object  # leosim.scenario.plan.Plan
    title: str
    source: str
    results_dir: Path | None = None
    summary: dict | None = None

    def __post_init__(self) -> None:
        # SGP4 records are not safe to propagate from two threads at once, and the server
        # answers requests on a thread pool: one computation at a time
        self._lock = threading.Lock()
        self._windows: OrderedDict[tuple[int, bool], dict] = OrderedDict()
        self._paths: OrderedDict[tuple[int, int, int], dict] = OrderedDict()

    # ------------------------------------------------------------- constructors
    @classmethod
    def from_scenario(cls, name_or_path: str | Path) -> ViewerData:
        """A built-in scenario name or a scenario file, planned but not run."""
        from leosim.scenario.load import load_scenario
        from leosim.scenario.plan import build_plan as plan

        scn, _, path = load_scenario(name_or_path)
        # the viewer solves one step or one window at a time: a long run costs it nothing
        return cls(plan(scn, path, check_size=False), scn.name, f"scenario {path.name if path else name_or_path}")

    @classmethod
    def from_results(cls, directory: str | Path) -> ViewerData:
        """The output directory of ``leosim run``: its scenario, planned again, and summary."""
        from leosim.scenario.load import parse_scenario
        from leosim.scenario.plan import build_plan as plan

        d = Path(directory)
        expected = "expected the output directory of `leosim run SCENARIO -o DIR` (with summary.json and scenario.toml)"
        if not d.exists():
            raise ResultsDirError(f"results directory {str(d)!r} does not exist; {expected}")
        if not d.is_dir():
            raise ResultsDirError(f"{str(d)!r} is a file, not a results directory; {expected}")
        if (d / "INCOMPLETE").exists():
            raise ResultsDirError(
                f"{str(d)!r} holds an unfinished run (its INCOMPLETE file says the run was interrupted); "
                "expected a finished run: run the scenario again with `leosim run SCENARIO -o DIR --overwrite`"
            )
        missing = [name for name in RESULTS_MARKERS if not (d / name).is_file()]
        if missing:
            raise ResultsDirError(f"{str(d)!r} is not a leosim results directory: it has no {' or '.join(missing)}; {expected}")
        try:
            summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ResultsDirError(
                f"{str(d / 'summary.json')!r} cannot be read: {exc}; expected the JSON summary `leosim run` writes"
            ) from None
        summary = _finite(summary)  # json writes NaN (a region with no reachable step); JSON has no NaN
        if not isinstance(summary, dict):
            raise ResultsDirError(
                f"{str(d / 'summary.json')!r} holds a {type(summary).__name__}, not an object; "
                "expected the JSON summary `leosim run` writes"
            )
        toml = d / "scenario.toml"
        try:
            text = toml.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ResultsDirError(f"{str(toml)!r} cannot be read: {exc}; expected the scenario `leosim run` copies there") from None
        scn = parse_scenario(text, str(toml))
        return cls(plan(scn, toml, check_size=False), scn.name, f"results {d.resolve()}", d.resolve(), summary)

    # -------------------------------------------------------------------- views
    @property
    def network(self):
        return self.plan.network

    @property
    def constellation(self):
        return self.plan.constellation

    @property
    def grid(self):
        return self.plan.grid

    @cached_property
    def n_windows(self) -> int:
        return max(1, int(np.ceil(self.grid.duration_s / WINDOW_S - 1e-9)))

    @cached_property
    def quantum_m(self) -> float:
        """Metres per int16 unit: the farthest apogee, with 3 % to spare, over 32767."""
        c = self.constellation
        ecc = np.array([s.ecco for s in c.satrecs])
        a = c.mean_altitude_m + 6378135.0
        r = a * (1.0 + ecc)
        r_max = float(np.nanmax(r[np.isfinite(r)])) if np.isfinite(r).any() else 2.0 * EARTH_RADIUS_M
        return float(np.ceil(r_max * 1.03 / _INT16_MAX))

    @cached_property
    def sites(self) -> dict:
        """Ground sites as the page draws them, and which ones have ground-satellite links."""
        net = self.network
        rows = []

        def add(seg, kind_of, extra):
            xyz = geodetic_to_ecef(seg.latitude_deg, seg.longitude_deg, seg.altitude_m).reshape(-1, 3)
            for i, s in enumerate(seg):
                rows.append({
                    "name": s.name, "kind": kind_of(s), "lat": round(float(s.latitude_deg), 5),
                    "lon": round(float(s.longitude_deg), 5), "xyz": [round(float(v), 1) for v in xyz[i]], **extra(i),
                })

        add(net.endpoints, lambda s: "server" if s.kind is SiteKind.SERVER else "terminal", lambda i: {"endpoint": i})
        n_ep = len(rows)
        terminals = [i for i in range(n_ep) if rows[i]["kind"] == "terminal"]
        add(net.gateways, lambda s: "gateway", lambda i: {})
        gateways = list(range(n_ep, len(rows)))
        add(net.pops, lambda s: "pop", lambda i: {})
        return {"rows": rows, "terminals": terminals, "gateways": gateways if net.uses_gateways else []}

    def scene(self) -> dict:
        """Everything fixed over the run, for ``/api/scene``."""
        p, net, grid = self.plan, self.network, self.grid
        pairs = [
            {"src": int(i), "dst": int(j), "label": p.labels[k] if k < len(p.labels) else "", "kind": p.pair_kind[k]}
            for k, (i, j) in enumerate(p.pairs)
        ]
        explicit = [q for q in pairs if q["kind"] == "pair"]
        default = (explicit or pairs)[0]
        isl = np.asarray(net.isl, dtype="<u4").reshape(-1, 2)
        return {
            "title": self.title,
            "description": p.scenario.description,
            "source": self.source,
            "constellation": self.constellation.description,
            "n_sats": self.constellation.n_sats,
            "routing": net.routing.name,
            "attachment": net.attachment.name,
            "start_utc": format_time(grid.start),
            "start_unix_ms": float(grid.start.astype("datetime64[ns]").astype(np.int64) / 1e6),
            "step_s": grid.step_s,
            "n_steps": grid.n_steps,
            "duration_s": grid.duration_s,
            "window_s": WINDOW_S,
            "knot_s": KNOT_S,
            "n_windows": self.n_windows,
            "quantum_m": self.quantum_m,
            "bounding_radius_m": self.quantum_m * _INT16_MAX,
            "sites": self.sites["rows"],
            "endpoints": [{"index": i, "name": s.name, "kind": str(s.kind)} for i, s in enumerate(net.endpoints)],
            "pairs": pairs,
            "default_pair": [default["src"], default["dst"]],
            "isl": _b64(isl),
            "n_isl": int(len(isl)),
            "summary": self.summary,
            "results": self.results_dir is not None,
            "layers": self.layer_names(),
        }

    # ------------------------------------------------------------------- layers
    def _csv(self, name: str) -> list[dict] | None:
        """The rows of ``name`` in the results directory; None when there is none."""
        import csv

        if self.results_dir is None or not (self.results_dir / name).is_file():
            return None
        try:
            with (self.results_dir / name).open(newline="", encoding="utf-8") as f:
                return list(csv.DictReader(f))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise ViewerError(f"{str(self.results_dir / name)!r} cannot be read: {exc}; expected the table `leosim run` writes") from None

    def layer_names(self) -> list[str]:
        """The layers this scenario (and its results, if any) has."""
        def has(name: str) -> bool:
            return self.results_dir is not None and (self.results_dir / name).is_file()

        out = []
        if has("capacity_cells.csv"):
            out.append("capacity")
        if has("admission.csv"):
            out.append("admission")
        if "jamming" in self.plan.sections:
            out.append("jamming")
        if "exposure" in self.plan.sections:
            out.append("exposure")
        return out

    @cached_property
    def layers(self) -> dict:
        """Everything ``/api/layers`` serves: one entry per layer the scenario has (see
        :meth:`layer_names`), and ``errors``: a message per layer whose table could not be read."""
        out: dict = {"layers": self.layer_names(), "errors": {}}
        for name, fn in (("capacity", self._capacity_layer), ("admission", self._admission_layer),
                         ("jamming", self._jamming_layer), ("exposure", self._exposure_layer)):
            if name not in out["layers"]:
                continue
            try:
                out[name] = _finite(fn())
            except (ViewerError, KeyError, ValueError, TypeError) as exc:
                msg = str(exc) if isinstance(exc, ViewerError) else f"{type(exc).__name__}: {exc}"
                out["errors"][name] = f"the {name} layer cannot be shown: {msg}"
        out["layers"] = [n for n in out["layers"] if n in out]
        return out

    def _offset_s(self, iso: str) -> float:
        t = np.datetime64(iso.rstrip("Z"), "ns")
        return float((t - self.grid.start.astype("datetime64[ns]")) / np.timedelta64(1, "s"))

    def _capacity_layer(self) -> dict:
        """Cells (id, centre, H3 outline) once; per interval, speed, terminals and bottleneck per cell."""
        rows = self._csv("capacity_cells.csv")
        starts = list(dict.fromkeys(r["interval_start"] for r in rows))
        cells = list(dict.fromkeys(r["cell"] for r in rows))
        index = {c: i for i, c in enumerate(cells)}
        first = {}
        for r in rows:
            first.setdefault(r["cell"], r)
        n = len(cells)
        speed = [[None] * n for _ in starts]
        terminals = [[0] * n for _ in starts]
        bottleneck = [[""] * n for _ in starts]
        k_of = {t: k for k, t in enumerate(starts)}
        for r in rows:
            k, c = k_of[r["interval_start"]], index[r["cell"]]
            speed[k][c] = float(r["per_terminal_mbps"])
            terminals[k][c] = int(r["terminals"])
            bottleneck[k][c] = r["bottleneck"]
        boundary = None
        try:
            import h3

            boundary = [[round(float(v), 4) for ll in h3.cell_to_boundary(c) for v in ll] for c in cells]
        except (ImportError, ValueError, TypeError):  # no h3, or ids that are not H3 cells: points
            boundary = None
        speeds = [v for row in speed for v in row if v is not None and np.isfinite(v)]
        return {
            "intervals": [{"start_utc": t, "t_s": self._offset_s(t)} for t in starts],
            "cells": cells,
            "lat": [float(first[c]["latitude_deg"]) for c in cells],
            "lon": [float(first[c]["longitude_deg"]) for c in cells],
            "boundary": boundary,
            "per_terminal_mbps": speed,
            "terminals": terminals,
            "bottleneck": bottleneck,
            "max_mbps": max(speeds) if speeds else 0.0,
        }

    def _admission_layer(self) -> dict:
        """Per terminal in ``admission.csv``: its site in the scene, code at start, later denial."""
        rows = self._csv("admission.csv")
        site_of = {self.sites["rows"][i]["name"]: i for i in self.sites["terminals"]}
        out = []
        for r in rows:
            denied = r.get("first_denied_s", "")
            out.append({
                "terminal": r["terminal"], "site": site_of.get(r["terminal"]),
                "lat": float(r["latitude_deg"]), "lon": float(r["longitude_deg"]), "country": r.get("country", ""),
                "code": r["code_at_start"], "admitted_share": float(r["admitted_share"]),
                "first_denied_s": float(denied) if denied not in ("", None) else None,
                "first_denied_code": r.get("first_denied_code") or None, "reason": r.get("reason", ""),
            })
        return {"terminals": out, "codes": sorted({t["code"] for t in out} | {t["first_denied_code"] for t in out if t["first_denied_code"]})}

    def _jamming_layer(self) -> dict:
        """The jammers (where, EIRP, when on, the radius where one alone denies GPS) and, from
        ``jamming.csv``, the denied share per step."""
        from leosim.models.jamming import j_to_s_db

        spec = self.plan.scenario.jamming
        t0 = self.grid.start.astype("datetime64[ns]")
        dist = np.geomspace(10.0, 2e6, 400)
        jammers = []
        for j in self.plan.sections["jamming"].jammers:
            la, lo = destination_point(j.latitude_deg, j.longitude_deg, 90.0, dist)
            js = j_to_s_db([j], la, lo, clutter_loss_db=spec.clutter_loss_db if spec else 0.0)
            over = np.flatnonzero(np.asarray(js) > (spec.tolerance_db if spec else 30.0))
            active = [[float((np.datetime64(a, "ns") - t0) / np.timedelta64(1, "s")),
                       float((np.datetime64(b, "ns") - t0) / np.timedelta64(1, "s"))] for a, b in j.active]
            jammers.append({
                "name": j.name, "lat": float(j.latitude_deg), "lon": float(j.longitude_deg), "eirp_dbw": float(j.eirp_dbw),
                "height_m": float(j.height_m), "active_s": active,
                "denial_radius_m": round(float(dist[over[-1]]), 1) if len(over) else 0.0,
            })
        rows = self._csv("jamming.csv")
        steps = None
        if rows:
            area = next((k for k in rows[0] if k.startswith("denied_share_area_")), None)
            steps = {
                "t_s": [float(r["t_s"]) for r in rows],
                "jammers_on": [int(r["jammers_on"]) for r in rows],
                "denied_share_terminals": [float(r["denied_share_terminals"]) for r in rows],
                "area": area.removeprefix("denied_share_area_") if area else None,
                "denied_share_area": [float(r[area]) for r in rows] if area else None,
            }
        return {"jammers": jammers, "tolerance_db": spec.tolerance_db if spec else None, "steps": steps}

    def _exposure_layer(self) -> dict:
        """Sensor positions (each once) and, from ``exposure.csv``, per terminal and duty cycle
        the median time to locate."""
        x = self.plan.sections["exposure"]
        seen, sensors = set(), []
        for group in x.sensors:
            for s in group:
                key = (s.name, round(s.latitude_deg, 5), round(s.longitude_deg, 5))
                if key in seen:
                    continue
                seen.add(key)
                sensors.append({"name": s.name, "kind": s.kind, "lat": float(s.latitude_deg),
                                "lon": float(s.longitude_deg), "height_m": float(s.height_m)})
        site_of = {self.sites["rows"][i]["name"]: i for i in self.sites["terminals"]}
        by: dict[str, dict] = {}
        for name in x.names:
            by[name] = {"terminal": name, "site": site_of.get(name), "duty_cycles": []}
        for r in self._csv("exposure.csv") or []:
            t = by.setdefault(r["terminal"], {"terminal": r["terminal"], "site": site_of.get(r["terminal"]), "duty_cycles": []})
            med = r["median_s"]
            t["duty_cycles"].append({
                "duty_cycle": float(r["duty_cycle"]),
                "median_s": None if med == "not located" else float(med),
                "located_share": float(r["located_share"]),
                "detecting_sensors": int(r["detecting_sensors"]),
            })
        return {"sensors": sensors, "terminals": list(by.values())}

    def window_times(self, k: int) -> np.ndarray:
        """The knots of window ``k``: one before it, every :data:`KNOT_S` s over it, two after."""
        n = int(round(WINDOW_S / KNOT_S))
        offsets = k * WINDOW_S + KNOT_S * (np.arange(n + 3) - 1)
        return self.grid.start + (offsets * 1e9).round().astype("timedelta64[ns]")

    def window(self, k: int, gateways: bool = False) -> dict:
        """Positions, laser links up and ground-satellite links at the knots of window ``k``.

        Ground-satellite links are the terminals' (and, with ``gateways``, the gateways':
        ten times as many for the real constellation) to every satellite above the mask.
        """
        if not (0 <= k < self.n_windows):
            raise RequestError(f"window {k} is outside the run; expected 0 to {self.n_windows - 1}")
        key = (k, bool(gateways))
        with self._lock:
            if key in self._windows:
                self._windows.move_to_end(key)
                return self._windows[key]
            out = self._compute_window(k, bool(gateways))
            self._windows[key] = out
            while len(self._windows) > 4:
                self._windows.popitem(last=False)
            return out

    def _compute_window(self, k: int, gateways: bool) -> dict:
        net, c = self.network, self.constellation
        times = self.window_times(k)
        pos = c.positions(times)  # (n_knots, n_sats, 3) ITRF m
        ok = np.isfinite(pos).all(axis=-1)
        q = np.clip(np.round(np.nan_to_num(pos / self.quantum_m)), -_INT16_MAX, _INT16_MAX).astype("<i2")
        q[~ok] = _INVALID
        # laser links up: the routing's own rule (length, and chord clear of the atmosphere)
        isl = np.asarray(net.isl, dtype=np.int64).reshape(-1, 2)
        if len(isl):
            pa, pb = pos[:, isl[:, 0]], pos[:, isl[:, 1]]
            with np.errstate(invalid="ignore"):
                d = np.linalg.norm(pb - pa, axis=-1)
                up = (d <= (net.links.max_isl_length_m or np.inf)) & (
                    chord_min_radius_m(pa, pb) >= EARTH_RADIUS_M + net.links.isl_min_altitude_m
                )
        else:
            up = np.zeros((len(times), 0), dtype=bool)
        isl_bits = np.packbits(up, axis=1, bitorder="little")
        gsl = [self._ground_links(pos[j], gateways) for j in range(len(times))]
        dtype = "<u2" if max(c.n_sats, len(self.sites["rows"])) <= 65535 else "<u4"
        return {
            "k": k,
            "t0_s": float(k * WINDOW_S - KNOT_S),
            "knot_s": KNOT_S,
            "n_knots": len(times),
            "n_sats": c.n_sats,
            "quantum_m": self.quantum_m,
            "positions": _b64(q),
            "isl_up": [_b64(row) for row in isl_bits],
            "gateways": gateways,
            "gsl_dtype": "uint16" if dtype == "<u2" else "uint32",
            "gsl": [_b64(g.astype(dtype)) for g in gsl],
        }

    @cached_property
    def _gsl_geometry(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, float, bool]]:
        """Per group of sites with one mask: site ids (in ``sites``), xyz, up, mask, terminal?"""
        rows, net = self.sites["rows"], self.network
        groups = []
        for ids, mask, is_terminal in (
            (self.sites["terminals"], net.links.min_elevation_deg, True),
            (self.sites["gateways"], net.links.gateway_min_elevation_deg, False),
        ):
            if not ids:
                continue
            lat = np.array([rows[i]["lat"] for i in ids])
            lon = np.array([rows[i]["lon"] for i in ids])
            seg_xyz = np.array([rows[i]["xyz"] for i in ids])
            groups.append((np.array(ids), seg_xyz, up_vectors(lat, lon).reshape(-1, 3), mask, is_terminal))
        return groups

    def _ground_links(self, sat_xyz: np.ndarray, gateways: bool) -> np.ndarray:
        """(site id, satellite) pairs that can link: the network's own rule (elevation mask or
        max GSL length; direct-to-cell satellites never serve a terminal)."""
        from leosim.network.links import gateway_links, user_links

        net = self.network
        out = [np.zeros((0, 2), dtype=np.int64)]
        for ids, xyz, up, _, is_terminal in self._gsl_geometry:
            if not (is_terminal or gateways):
                continue
            if is_terminal:
                pairs = user_links(net.links, self.constellation, xyz, up, sat_xyz)
            else:
                pairs = gateway_links(net.links, xyz, up, sat_xyz)
            out.append(np.stack([ids[pairs.rows], pairs.cols], axis=1))
        return np.concatenate(out)

    def step_index(self, t_s: float) -> int:
        """The run's step nearest ``t_s`` seconds after its start."""
        if not np.isfinite(t_s):
            raise RequestError(f"time {t_s!r} is not a number; expected seconds since the start of the run")
        return int(np.clip(np.round(t_s / self.grid.step_s), 0, self.grid.n_steps - 1))

    def path(self, src: int, dst: int, t_s: float) -> dict:
        """Route and RTT between endpoints ``src`` and ``dst`` at the step nearest ``t_s``."""
        n = len(self.network.endpoints)
        for name, v in (("src", src), ("dst", dst)):
            if not (0 <= v < n):
                raise RequestError(f"{name} = {v} is not an endpoint; expected 0 to {n - 1}")
        if src == dst:
            raise RequestError(f"src and dst are both endpoint {src}; expected two different endpoints")
        k = self.step_index(t_s)
        key = (src, dst, k)
        with self._lock:
            if key in self._paths:
                return self._paths[key]
            out = self._compute_path(src, dst, k)
            self._paths[key] = out
            while len(self._paths) > 256:
                self._paths.popitem(last=False)
            return out

    def _compute_path(self, src: int, dst: int, k: int) -> dict:
        net, grid = self.network, self.grid
        # step k of grid.times, computed alone (the whole grid of a long run is not allocated)
        t_s = np.arange(k, k + 1, dtype=np.float64) * grid.step_s
        t = grid.start + (t_s * 1_000_000_000).round().astype("timedelta64[ns]")
        # the run's own step: positions come from the same SGP4 knots as in `leosim run`
        res = net.solve(t, np.array([[src, dst]]), want_paths=True, step_s=grid.step_s)
        rtt_ms = float(res.rtt_s[0, 0]) * 1e3
        nodes = [int(n) for n in res.paths[0][0]] if res.paths else []  # numpy ints for servers
        sat_ids = [n for n in nodes if 0 <= n < self.constellation.n_sats]
        sat_pos = {}
        if sat_ids:
            p = self.constellation.positions(t, sat_index=np.array(sat_ids))[0]
            sat_pos = {s: p[i] for i, s in enumerate(sat_ids)}
        rows = self.sites["rows"]
        offsets = {"endpoint": 0, "gateway": len(net.endpoints), "pop": len(net.endpoints) + len(net.gateways)}
        out_nodes = []
        for node in nodes:
            kind, idx = node_site(net, node)
            if kind == "satellite":
                xyz, site = sat_pos[node], None
            else:
                site = offsets[kind] + idx
                xyz = rows[site]["xyz"]
            out_nodes.append({
                "name": net.node_name(node), "kind": "server" if node < 0 else kind,
                "sat": node if kind == "satellite" else None, "site": site,
                "xyz": [round(float(v), 1) for v in xyz],
            })
        ok = np.isfinite(rtt_ms)
        ep = net.endpoints
        return {
            "src": src, "dst": dst, "src_name": ep.names[src], "dst_name": ep.names[dst],
            "step": k, "t_s": float(t_s[0]), "time_utc": format_time(t[0]),
            "rtt_ms": rtt_ms if ok else None,
            "length_km": float(res.length_m[0, 0]) / 1e3 if ok else None,
            "hops": int(res.hops[0, 0]) if ok else 0,
            "nodes": out_nodes,
        }



def node_site(net, node: int) -> tuple[str, int]:
    """(kind, index) of a routing node: ``satellite`` i, ``endpoint`` i, ``gateway`` i, ``pop`` i.

    The inverse of the node layout :meth:`Network.node_name` reads; a negative node
    ``-1 - e`` is server endpoint ``e``.
    """
    o = net._layout
    if node < 0:
        return "endpoint", -1 - node
    if node < o["src"]:
        return "satellite", node
    if node < o["dst"]:
        return "endpoint", node - o["src"]
    if node < o["gw_in"]:
        return "endpoint", node - o["dst"]
    if node < o["gw_in"] + o["G"]:
        return "gateway", node - o["gw_in"]
    if node < o["gw_out"] + o["G"]:
        return "gateway", node - o["gw_out"]
    return "pop", node - o["pop"]


# ------------------------------------------------------------------------ the server
def assets_ready() -> bool:
    """Whether ``make assets`` has put CesiumJS into the package's static files."""
    return CESIUM_JS.is_file()


def check_assets() -> None:
    if not assets_ready():
        raise ViewerAssetsError(
            f"the viewer's CesiumJS files are missing ({CESIUM_JS.relative_to(STATIC_DIR.parent)}); "
            "expected them from the npm registry: run `make assets` in a leosim checkout (needs Node.js and npm)"
        )


def safe_file(root: Path, relative: str) -> Path | None:
    """``root / relative`` if that is a regular file inside ``root``, else None.

    ``relative`` is the URL path after the mount point, already percent-decoded once by
    the server; it is refused when any part of it is ``..``, when it is absolute, holds a
    backslash or NUL, or when it resolves (symbolic links followed) outside ``root``.

    >>> safe_file(STATIC_DIR, "viewer.js").name
    'viewer.js'
    >>> safe_file(STATIC_DIR, "../viewer.py") is None  # the module beside the static files
    True
    """
    if not relative or "\x00" in relative or "\\" in relative or relative.startswith("/"):
        return None
    parts = relative.split("/")
    if any(p in ("..", ".") for p in parts) or ":" in parts[0]:
        return None
    try:
        root = root.resolve()
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return None
    except (OSError, RuntimeError, ValueError):  # a name too long for the filesystem, a loop of links
        return None
    return target


#: Requests whose path (with its query) is longer than this get 414: nothing the viewer
#: serves has a longer name, and the filesystem refuses names past a few hundred bytes.
MAX_TARGET_CHARS = 2048
_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})


def _split_host(value: str) -> tuple[str, int | None]:
    """``("127.0.0.1", 8000)`` from a Host header ``127.0.0.1:8000``; ``[::1]:80`` too."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        name, port = value.split(":")
    else:
        name, port = value, ""
    if port and not port.isdigit():
        return name, -1
    return name.rstrip("."), int(port) if port else None


class HostGuard:
    """ASGI middleware in front of the viewer: it answers only requests addressed to it.

    - ``Host`` must name the address it listens on, with its port: ``127.0.0.1:PORT``,
      ``localhost:PORT`` (``[::1]:PORT``), or the ``--host`` it was given; listening on
      every address (``0.0.0.0``, ``::``), an IP address or this machine's name. A web page
      on another site that rebinds its own name to 127.0.0.1 (DNS rebinding) sends its own
      name as Host and gets 421, so it cannot read the viewer.
    - ``Origin``, when a browser sends one, must be the viewer's own (``http://`` one of
      those hosts and the port), else 403: another site's script gets nothing. Nothing the
      viewer serves changes state (every route is GET or HEAD; any other method is 405),
      so this is the only check a state change would need.
    - A path (and query) over :data:`MAX_TARGET_CHARS` characters is 414.
    """

    def __init__(self, app, host: str, port: int):
        self.app = app
        self.port = int(port)
        self.any_ip = host in ("0.0.0.0", "::", "")
        names = set(_LOOPBACK_NAMES) | {host.strip("[]").lower().rstrip(".")}
        if self.any_ip:
            for name in (socket.gethostname(), socket.getfqdn()):
                names.add(name.lower().rstrip("."))
        self.names = frozenset(n for n in names if n)

    def host_ok(self, value: str | None) -> bool:
        if not value:
            return False
        name, port = _split_host(value)
        if (port if port is not None else 80) != self.port:
            return False
        if name in self.names:
            return True
        if self.any_ip:
            try:
                ipaddress.ip_address(name)
                return True
            except ValueError:
                return False
        return False

    def origin_ok(self, value: str) -> bool:
        scheme, sep, rest = value.partition("://")
        return scheme.lower() == "http" and bool(sep) and "/" not in rest and self.host_ok(rest)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        target = len(scope.get("raw_path") or scope.get("path", "").encode()) + len(scope.get("query_string", b""))
        headers = {}
        for k, v in scope.get("headers", []):
            headers.setdefault(k.decode("latin-1").lower(), v.decode("latin-1"))
        if target > MAX_TARGET_CHARS:
            return await _plain(send, 414, f"request target too long ({target} characters); expected at most "
                                           f"{MAX_TARGET_CHARS}\n")
        if not self.host_ok(headers.get("host")):
            return await _plain(send, 421, f"this viewer answers only requests addressed to it (Host 127.0.0.1:{self.port}, "
                                           f"localhost:{self.port} or the address it was started on)\n")
        if "origin" in headers and not self.origin_ok(headers["origin"]):
            return await _plain(send, 403, "requests from other sites are refused (Origin is not this viewer)\n")
        if scope.get("method", "GET") not in ("GET", "HEAD"):
            return await _plain(send, 405, "the viewer only answers GET and HEAD\n", [(b"allow", b"GET, HEAD")])
        return await self.app(scope, receive, send)


async def _plain(send, status: int, text: str, extra: list | None = None) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
               *[(k.lower().encode(), v.encode()) for k, v in _SECURITY_HEADERS.items()], *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_SECURITY_HEADERS = {
    # the page may load nothing from anywhere but this server (Cesium.js evaluates code
    # built from strings, hence unsafe-eval, and its workers start from blob: URLs that
    # import scripts from here; it is still only code from this server)
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' blob: 'unsafe-eval' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self' data: blob:; worker-src 'self' blob:; "
        "font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def create_app(data: ViewerData):
    """The Starlette application: the page, static files, results files and the JSON API."""
    import mimetypes

    require("starlette", "viewer")
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.gzip import GZipMiddleware
    from starlette.responses import FileResponse, JSONResponse, PlainTextResponse
    from starlette.routing import Mount, Route

    for ext, kind in ((".wasm", "application/wasm"), (".json", "application/json"), (".js", "text/javascript"),
                      (".mjs", "text/javascript"), (".toml", "text/plain"), (".czml", "application/json"),
                      (".glb", "model/gltf-binary"), (".ktx2", "image/ktx2")):
        mimetypes.add_type(kind, ext)

    def not_found():
        return PlainTextResponse("not found\n", status_code=404, headers=_SECURITY_HEADERS)

    def serve_from(root: Path | None, relative: str):
        f = None if root is None else safe_file(root, relative)
        if f is None:
            return not_found()
        return FileResponse(f, headers=_SECURITY_HEADERS)

    def index(request):
        return FileResponse(STATIC_DIR / "index.html", headers={**_SECURITY_HEADERS, "Cache-Control": "no-cache"})

    def static(request):
        return serve_from(STATIC_DIR, request.path_params["path"])

    def results(request):
        return serve_from(data.results_dir, request.path_params["path"])

    def api(fn):
        def endpoint(request):
            try:
                return JSONResponse(fn(request.query_params), headers={"Cache-Control": "no-store"})
            except RequestError as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)

        return endpoint

    def _int(q, name: str) -> int:
        v = q.get(name)
        try:
            return int(v)
        except (TypeError, ValueError):
            raise RequestError(f"{name} = {v!r} is not an integer; expected ?{name}=N") from None

    def _float(q, name: str) -> float:
        v = q.get(name)
        try:
            return float(v)
        except (TypeError, ValueError):
            raise RequestError(f"{name} = {v!r} is not a number; expected ?{name}=SECONDS") from None

    scene_json = {}

    def scene(q):
        if not scene_json:
            scene_json.update(data.scene())
        return scene_json

    api_app = Starlette(
        routes=[
            Route("/scene", api(scene)),
            Route("/window", api(lambda q: data.window(_int(q, "k"), q.get("gateways") == "1"))),
            Route("/path", api(lambda q: data.path(_int(q, "src"), _int(q, "dst"), _float(q, "t")))),
            Route("/layers", api(lambda q: data.layers)),
        ],
        middleware=[Middleware(GZipMiddleware, minimum_size=2048)],
    )
    return Starlette(routes=[
        Route("/", index),
        Route("/static/{path:path}", static),
        Route("/results/{path:path}", results),
        Mount("/api", app=api_app),
    ])


def _bind(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET  # a host name: IPv4
    if not (0 <= port <= 65535):
        raise PortInUseError(f"port {port} is not a TCP port; expected 0 to 65535 (0 or no --port: a free one)")
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"port {port} on {host} is already in use; expected a free port (leave out --port and one is picked)"
            ) from None
        if exc.errno == errno.EACCES:
            raise PortInUseError(f"port {port} on {host} needs privileges to bind; expected a port above 1023") from None
        if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
            raise PortInUseError(f"cannot bind to host {host!r}: {exc.strerror}; expected an address of this machine") from None
        raise PortInUseError(f"cannot listen on {host}:{port}: {exc.strerror}; expected a free port on a local address") from None
    return sock


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class ViewerServer:
    """uvicorn serving :func:`create_app` on a socket bound before it starts, so a taken
    port is an error here and not in uvicorn's log.

    ``port=0`` takes a free port; ``sock`` is an already bound and listening socket. :meth:`serve_forever` blocks (the CLI);
    :meth:`start` / :meth:`stop` run it on a thread (tests).
    """

    def __init__(self, data: ViewerData, *, host: str = "127.0.0.1", port: int = 0, sock: socket.socket | None = None):
        require("starlette", "viewer")
        uvicorn = require("uvicorn", "viewer")
        check_assets()
        self.data = data
        self.host = host
        self._sock = sock if sock is not None else _bind(host, port)
        self.port = self._sock.getsockname()[1]
        app = HostGuard(create_app(data), host, self.port)  # answers only requests addressed to it
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.host in ("0.0.0.0", "::"):
            host = "127.0.0.1" if self.host == "0.0.0.0" else "[::1]"
        return f"http://{host}:{self.port}/"

    def serve_forever(self) -> None:
        """Serve until interrupted (Ctrl+C)."""
        try:
            self._server.run(sockets=[self._sock])
        except KeyboardInterrupt:
            pass  # uvicorn shut down cleanly, then raised the Ctrl+C it had caught again
        finally:
            self._sock.close()

    def start(self, timeout_s: float = 30.0) -> ViewerServer:
        """Serve on a background thread; returns once the server accepts connections."""
        import time

        self._thread = threading.Thread(target=self.serve_forever, name="leosim-viewer", daemon=True)
        self._thread.start()
        t_end = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > t_end:
                raise ViewerError(f"the viewer server did not start on {self.url}; expected it within {timeout_s:g} s")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> ViewerServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def open_browser(url: str) -> str | None:
    """Open ``url`` in the default browser; a reason when that failed, else None."""
    import webbrowser

    try:
        opened = webbrowser.open(url, new=2)
    except Exception as exc:  # any browser trouble is a warning, never fatal
        return f"{type(exc).__name__}: {exc}"
    return None if opened else "no browser could be started"


__all__ = [
    "KNOT_S", "MAX_TARGET_CHARS", "WINDOW_S", "HostGuard", "PortInUseError", "RequestError", "ResultsDirError", "ViewerAssetsError", "ViewerData",
    "ViewerError", "ViewerServer", "assets_ready", "create_app", "node_site", "open_browser", "safe_file",
]
