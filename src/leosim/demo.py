"""The built-in demo: RTT between well-known places over the real Starlink constellation.

An adapter (prints, plots, writes files). It routes a handful of city pairs and two
"terminal to a server on the internet" questions over laser links for the next ten
minutes with Starlink's 15 s scheduled attachment, and compares each RTT with what
terrestrial fibre along the great circle would give.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._geo import C_FIBRE_M_S, great_circle_m
from ._time import TimeGrid, format_time
from .attachment import Scheduled
from .ground import GroundSegment, SiteKind, resolve_place
from .routing import DEFAULT_FIBRE_STRETCH, ISL, Network

DEMO_PAIRS = (
    ("London", "New York"),
    ("Seattle", "New York"),
    ("Kyiv", "Frankfurt am Main"),
    ("Sydney", "Los Angeles"),
    ("Tehran", "internet:Frankfurt am Main"),
    ("Augusta, Maine", "internet:Ashburn, Virginia"),
)


def _site(text: str):
    if text.startswith("internet:"):
        s = resolve_place(text.split(":", 1)[1], kind=SiteKind.SERVER)
        return s
    return resolve_place(text)


def run_demo(constellation, output: Path, duration: str, step: str, workers, out, err) -> dict:
    from rich.table import Table

    from .engine import default_workers, run_pairs

    sites, index = [], {}
    pairs = []
    for a, b in DEMO_PAIRS:
        for text in (a, b):
            if text not in index:
                index[text] = len(sites)
                sites.append(_site(text))
        pairs.append((index[a], index[b]))
    ground = GroundSegment.from_sites(sites)
    net = Network(
        constellation, ground,
        gateways=GroundSegment.starlink_gateways(), pops=GroundSegment.starlink_pops(),
        routing=ISL, attachment=Scheduled(),
    )
    grid = TimeGrid.from_duration(constellation.epoch, duration, step)
    pairs_arr = np.array(pairs)
    rtt = np.full((grid.n_steps, len(pairs)), np.nan, dtype=np.float32)
    hashes = np.zeros((grid.n_steps, len(pairs)), dtype=np.uint64)

    def sink(ch):
        rtt[ch.i0:ch.i1] = ch.rtt_ms
        hashes[ch.i0:ch.i1] = ch.path_hash

    err.print(f"routing {len(pairs)} pairs over {constellation.description} "
              f"for {grid.duration_s:g} s in {grid.step_s:g} s steps from {format_time(grid.start)} ...")
    run_pairs(net, grid, pairs_arr, sink, workers=workers or default_workers())

    output.mkdir(parents=True, exist_ok=True)
    labels = [f"{ground[i].name} -> {'internet:' if ground[j].kind is SiteKind.SERVER else ''}{ground[j].name}" for i, j in pairs]
    # CSV: one column per pair
    header = "t_s,time_utc," + ",".join(f'"{lab}"' for lab in labels)
    lines = [header]
    for k in range(grid.n_steps):
        vals = ",".join("" if not np.isfinite(v) else f"{v:.3f}" for v in rtt[k])
        lines.append(f"{grid.offsets_s[k]:g},{format_time(grid.times[k])},{vals}")
    (output / "rtt.csv").write_text("\n".join(lines) + "\n")

    table = Table("pair", "great circle km", "fibre RTT ms", "RTT min", "median", "p95", "max", "path changes",
                  title=f"Round-trip propagation time over {constellation.description}, laser links, scheduled attachment")
    summary = []
    for p, (i, j) in enumerate(pairs):
        gc = float(great_circle_m(ground[i].latitude_deg, ground[i].longitude_deg, ground[j].latitude_deg, ground[j].longitude_deg))
        fibre_rtt = 2e3 * gc * DEFAULT_FIBRE_STRETCH / C_FIBRE_M_S
        r = rtt[:, p]
        ok = np.isfinite(r)
        changes = int(np.count_nonzero(hashes[1:, p] != hashes[:-1, p]))
        stats = [np.nanmin(r), np.nanmedian(r), np.nanpercentile(r, 95), np.nanmax(r)] if ok.any() else [np.nan] * 4
        summary.append({"pair": labels[p], "great_circle_km": gc / 1e3, "fibre_rtt_ms": fibre_rtt,
                        "rtt_min_ms": stats[0], "rtt_median_ms": stats[1], "rtt_p95_ms": stats[2], "rtt_max_ms": stats[3],
                        "path_changes": changes, "reachable": float(ok.mean())})
        table.add_row(labels[p], f"{gc / 1e3:,.0f}", f"{fibre_rtt:.1f}", *(f"{v:.1f}" for v in stats), str(changes))
    out.print(table)
    out.print(f"fibre RTT: great circle x {DEFAULT_FIBRE_STRETCH} route stretch at c/1.47. "
              "RTTs are propagation only (add ~10-15 ms of processing for what a ping shows).")
    _plot(grid, rtt, labels, output / "rtt.png", constellation.description)
    out.print(f"wrote {output / 'rtt.csv'} and {output / 'rtt.png'}")
    return {"pairs": summary}


def _plot(grid, rtt, labels, path: Path, title: str) -> None:
    from ._errors import require

    matplotlib = require("matplotlib", "plot")

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 6), dpi=110)
    for p, lab in enumerate(labels):
        ax.plot(grid.offsets_s, rtt[:, p], lw=1.2, label=lab, drawstyle="steps-post")
    ax.set_xlabel(f"seconds after {format_time(grid.start)}")
    ax.set_ylabel("RTT (ms, propagation)")
    ax.set_title(f"RTT over time, {title}\n(steps every 15 s: Starlink's scheduled reconfiguration)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
