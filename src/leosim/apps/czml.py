"""CZML export: a run's satellites, ground segment and paths, for any Cesium application.

`CZML 1.0 <https://github.com/AnalyticalGraphicsInc/czml-writer/wiki/CZML-Guide>`_ as
plain JSON, one packet per line:

- ``document``: the clock over the exported window (looping, 60x);
- ``sat/I``: satellite ``I`` (its name as ``name``), Earth-fixed positions (``FIXED``,
  ITRF metres) sampled every ``step_s`` seconds, which the reader interpolates with
  Lagrange polynomials of degree 5 (under 1 m between 60 s samples for Starlink);
- ``endpoint/I``, ``gateway/I``, ``pop/I``: the ground sites, as cartographic degrees;
- ``path/K``: the route of each of the scenario's explicit pairs (``traffic.pairs``),
  a polyline through references to the nodes' positions, one interval per sample with
  the path found at its start (``Network.solve``, as in a run), hidden where there is
  none; its round-trip time is the custom property ``rtt_ms`` and the ``description``;
- ``isl/A-B`` (only with ``laser_links``): every laser link, between two satellites.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from leosim.apps.viewer import ViewerData, node_site
from leosim.core.time import format_time, parse_duration
from leosim.errors import ParameterError

LAGRANGE_DEGREE = 5
COLORS = {
    "satellite": [242, 246, 255, 255],
    "terminal": [54, 214, 255, 255],
    "server": [199, 125, 255, 255],
    "gateway": [255, 160, 64, 255],
    "pop": [199, 125, 255, 255],
    "isl": [90, 150, 255, 115],
    "path": [255, 213, 74, 255],
}


def _iso(t: np.datetime64) -> str:
    return str(np.datetime_as_string(np.datetime64(t, "us"), unit="us")) + "Z"


def _solid(rgba: list[int]) -> dict:
    return {"solidColor": {"color": {"rgba": rgba}}}


#: Measured on a 192-satellite shell over 2 days (2,881 and 17,281 samples): the packets
#: hold about 230 bytes per satellite and sample while they are built (positions, integer
#: copies and the Python lists of samples), and the CZML text takes about 36.
MEMORY_BYTES_PER_SAT_SAMPLE = 240
TEXT_BYTES_PER_SAT_SAMPLE = 36


def czml_size(n_samples: float, n_sats: int):
    """What exporting ``n_samples`` instants of ``n_sats`` satellites writes and holds
    (:class:`~leosim.engine.size.SizeEstimate`)."""
    from leosim.engine.size import SizeEstimate, format_count

    cells = float(n_samples) * n_sats
    return SizeEstimate("leosim export --czml", float(n_samples), 0, cells * TEXT_BYTES_PER_SAT_SAMPLE,
                        cells * MEMORY_BYTES_PER_SAT_SAMPLE + 16.0 * n_samples,
                        counted=f"{format_count(n_samples)} samples x {n_sats:,} satellites")


def czml_packets(
    data: ViewerData,
    *,
    duration_s: float | str | None = None,
    step_s: float | str = 60.0,
    laser_links: bool = False,
    max_bytes: float | None = None,
) -> list[dict]:
    """The CZML packets of ``data`` over ``duration_s`` (default: the whole run) from its start.

    An export over ``max_bytes`` (default 8 GiB, :mod:`leosim.engine.size`) of text or of
    memory is refused with its estimate before anything is sampled."""
    grid, c, net = data.grid, data.constellation, data.network
    duration = grid.duration_s if duration_s is None else parse_duration(duration_s, what="duration")
    step = parse_duration(step_s, what="step")
    if step > duration:
        raise ParameterError(f"step {step:g} s is longer than the duration {duration:g} s; expected a shorter step")
    czml_size(np.floor(duration / step + 1e-9) + 2, c.n_sats).check(max_bytes)
    offsets = np.arange(0.0, duration + 1e-9, step)
    if offsets[-1] < duration - 1e-9:
        offsets = np.append(offsets, duration)  # the last sample at the very end
    start = grid.start
    times = start + (offsets * 1e9).round().astype("timedelta64[ns]")
    t_end = times[-1]
    interval = f"{_iso(start)}/{_iso(t_end)}"

    packets: list[dict] = [{
        "id": "document",
        "name": f"leosim {data.title}",
        "version": "1.0",
        "description": f"{data.title}: {c.description}; {net.routing.name} routing, {net.attachment.name} attachment",
        "clock": {
            "interval": interval, "currentTime": _iso(start), "multiplier": 60,
            "range": "LOOP_STOP", "step": "SYSTEM_CLOCK_MULTIPLIER",
        },
    }]

    pos = c.positions(times)  # (n_times, n_sats, 3) ITRF m
    ok = np.isfinite(pos).all(axis=-1)
    # whole metres and (where they are) whole seconds: a fifth less text than floats
    t_col = [int(t) if float(t).is_integer() else t for t in np.round(offsets, 3).tolist()]
    xyz = np.round(np.nan_to_num(pos)).astype(np.int64)
    for i in range(c.n_sats):
        good = ok[:, i]
        if good.sum() < 2:
            continue  # SGP4 failed over the whole window: nothing to draw
        samples = [v for j in np.flatnonzero(good).tolist() for v in (t_col[j], *xyz[j, i].tolist())]
        packets.append({
            "id": f"sat/{i}",
            "name": c.names[i],
            "availability": interval,
            "position": {
                "epoch": _iso(start),
                "referenceFrame": "FIXED",
                "interpolationAlgorithm": "LAGRANGE",
                "interpolationDegree": int(min(LAGRANGE_DEGREE, good.sum() - 1)),
                "cartesian": samples,
            },
            "point": {"pixelSize": 3, "color": {"rgba": COLORS["satellite"]}},
        })

    for kind, seg in (("endpoint", net.endpoints), ("gateway", net.gateways), ("pop", net.pops)):
        for i, s in enumerate(seg):
            style = "server" if kind == "endpoint" and str(s.kind) == "server" else ("terminal" if kind == "endpoint" else kind)
            packet = {
                "id": f"{kind}/{i}",
                "name": s.name,
                "position": {"cartographicDegrees": [float(s.longitude_deg), float(s.latitude_deg), float(s.altitude_m)]},
                "point": {"pixelSize": {"terminal": 8, "server": 7, "gateway": 5, "pop": 7}[style],
                          "color": {"rgba": COLORS[style]}, "outlineColor": {"rgba": [0, 0, 0, 255]}, "outlineWidth": 1},
            }
            if style == "terminal":
                packet["label"] = {"text": s.name, "font": "12px sans-serif", "pixelOffset": {"cartesian2": [8, -8]},
                                   "horizontalOrigin": "LEFT", "fillColor": {"rgba": [255, 255, 255, 255]}}
            packets.append(packet)

    packets += _path_packets(data, times)

    if laser_links:
        for a, b in np.asarray(net.isl, dtype=np.int64).reshape(-1, 2).tolist():
            packets.append({
                "id": f"isl/{a}-{b}",
                "availability": interval,
                "polyline": {
                    "positions": {"references": [f"sat/{a}#position", f"sat/{b}#position"]},
                    "width": 1, "arcType": "NONE", "material": _solid(COLORS["isl"]),
                },
            })
    return packets


def _path_packets(data: ViewerData, times: np.ndarray) -> list[dict]:
    """One polyline per explicit pair, its nodes and RTT per sample interval."""
    p, net = data.plan, data.network
    which = [k for k, kind in enumerate(p.pair_kind) if kind == "pair"]
    if not which:
        return []
    pairs = p.pairs[which]
    res = net.solve(times, pairs, want_paths=True, step_s=data.grid.step_s)
    out = []
    bounds = [_iso(t) for t in times] + [_iso(times[-1])]
    for col, k in enumerate(which):
        positions, show, rtt, desc = [], [], [], []
        for j in range(len(times)):
            iv = f"{bounds[j]}/{bounds[j + 1]}"
            nodes = list(res.paths[j][col])
            r = float(res.rtt_s[j, col]) * 1e3
            reach = bool(nodes) and bool(np.isfinite(r))
            show.append({"interval": iv, "boolean": reach})
            if not reach:
                desc.append({"interval": iv, "string": "no path"})
                continue
            refs = []
            for n in nodes:
                kind, idx = node_site(net, n)
                ref = f"{'sat' if kind == 'satellite' else kind}/{idx}#position"
                if not refs or refs[-1] != ref:  # a gateway's in and out nodes are one place
                    refs.append(ref)
            positions.append({"interval": iv, "references": refs})
            rtt.append({"interval": iv, "number": round(r, 4)})
            desc.append({"interval": iv, "string": f"RTT {r:.3f} ms: " + " &gt; ".join(
                _html(net.node_name(n)) for n in nodes)})
        label = p.labels[k] if k < len(p.labels) else f"pair {k}"
        packet = {
            "id": f"path/{k}",
            "name": f"path {label}",
            "description": desc,
            "properties": {"rtt_ms": rtt} if rtt else {},
            "polyline": {
                "show": show, "width": 3, "arcType": "NONE", "material": _solid(COLORS["path"]),
            },
        }
        if positions:
            packet["polyline"]["positions"] = positions
        out.append(packet)
    return out


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_czml(path: str | Path, packets: list[dict]) -> int:
    """Write packets as a CZML file (a JSON array, one packet per line); returns bytes written."""
    p = Path(path)
    text = "[\n" + ",\n".join(json.dumps(pk, separators=(",", ":"), allow_nan=False) for pk in packets) + "\n]\n"
    try:
        p.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ParameterError(f"cannot write CZML file {str(p)!r}: {exc.strerror}; expected a writable path") from None
    return len(text.encode("utf-8"))


def describe(packets: list[dict]) -> str:
    """One line: what a list of packets holds."""
    kinds: dict[str, int] = {}
    for pk in packets[1:]:
        kinds[pk["id"].split("/")[0]] = kinds.get(pk["id"].split("/")[0], 0) + 1
    names = {"sat": "satellites", "endpoint": "endpoints", "gateway": "gateways", "pop": "PoPs", "path": "paths", "isl": "laser links"}
    clock = packets[0]["clock"]["interval"].split("/")
    span = f"{format_time(np.datetime64(clock[0][:-1]))} to {format_time(np.datetime64(clock[1][:-1]))}"
    return ", ".join(f"{n:,} {names.get(k, k)}" for k, n in kinds.items()) + f"; {span}"


__all__ = ["czml_packets", "describe", "write_czml"]
