"""``leosim view`` (the 3D globe in a browser) and ``leosim export --czml``.

An adapter: it finds what to show (a results directory or a scenario), binds the port
before anything slow is loaded (so a taken port is reported at once), and hands over to
:mod:`leosim.apps.viewer` and :mod:`leosim.apps.czml`. Errors are the package's own exceptions;
``leosim.apps.cli.app.main`` prints them as one line and exits 1. A browser that cannot be opened
is a warning: the server keeps running and its address is printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from leosim.apps.cli.common import MaxSizeOpt
from leosim.errors import ParameterError

out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)
DEFAULT_SCENARIO = "global"

ResultsArg = Annotated[
    Path | None,
    typer.Argument(help="Output directory of `leosim run` (summary.json, scenario.toml); or use --scenario.", show_default=False),
]
ScenarioOpt = Annotated[
    str | None,
    typer.Option("--scenario", "-s", help=f"Built-in scenario name or .toml file, shown without running it (default: {DEFAULT_SCENARIO}).", show_default=False),
]


def _data(results_dir: Path | None, scenario: str | None):
    from leosim.apps.viewer import ViewerData

    if results_dir is not None and scenario is not None:
        raise ParameterError(
            f"both a results directory {str(results_dir)!r} and --scenario {scenario!r} were given; expected one of them"
        )
    if results_dir is not None:
        return ViewerData.from_results(results_dir)
    return ViewerData.from_scenario(scenario or DEFAULT_SCENARIO)


def view(
    results_dir: ResultsArg = None,
    scenario: ScenarioOpt = None,
    host: Annotated[
        str | None,
        typer.Option("--host", help="Address to listen on. Default 127.0.0.1: this machine only; any other address lets the network in.", show_default=False),
    ] = None,
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port (default: a free one).", show_default=False)] = 0,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Print the address only; do not open a browser.")] = False,
) -> None:
    """A 3D globe in the browser: satellites, links, ground sites, and the path and RTT between two endpoints.

    Served on this machine only (127.0.0.1) unless --host is given; works offline.
    """
    from leosim.apps.viewer import ViewerServer, _bind, check_assets, is_loopback, open_browser
    from leosim.errors import require

    require("starlette", "viewer")
    require("uvicorn", "viewer")
    if results_dir is not None and scenario is not None:
        _data(results_dir, scenario)  # the error message
    listen = host if host is not None else "127.0.0.1"
    sock = _bind(listen, port)  # a taken port fails now, before seconds of loading
    try:
        data = _data(results_dir, scenario)
        check_assets()
        server = ViewerServer(data, host=listen, sock=sock)
    except BaseException:
        sock.close()
        raise
    if not is_loopback(listen):
        err.print(f"[yellow]warning:[/yellow] listening on {listen}: anyone who can reach this machine on port "
                  f"{server.port} can open the viewer")
    c = data.constellation
    out.print(f"leosim viewer: {server.url}  ({data.title}: {c.n_sats:,} satellites, "
              f"{data.grid.n_steps:,} steps of {data.grid.step_s:g} s; Ctrl+C stops it)")
    if not no_browser:
        reason = open_browser(server.url)
        if reason is not None:
            err.print(f"[yellow]warning:[/yellow] could not open a browser ({reason}); open {server.url} yourself")
    server.serve_forever()
    err.print("viewer stopped")


def export(
    results_dir: ResultsArg = None,
    czml: Annotated[Path | None, typer.Option("--czml", help="Write CZML (for any Cesium app) to this file.", show_default=False)] = None,
    scenario: ScenarioOpt = None,
    duration: Annotated[str | None, typer.Option("--duration", help="How much of the run from its start: 10min, 1h (default: all of it).", show_default=False)] = None,
    step: Annotated[str, typer.Option("--step", help="Sample step of positions and paths; Cesium interpolates between samples.")] = "60s",
    laser_links: Annotated[bool, typer.Option("--laser-links", help="Also every laser link as a polyline (thousands of entities).")] = False,
    max_size: MaxSizeOpt = None,
) -> None:
    """Export a results directory or a scenario for other tools: CZML (--czml OUT.czml)."""
    from leosim.apps.cli.common import max_bytes
    from leosim.apps.czml import czml_packets, describe, write_czml

    if czml is None:
        raise ParameterError("nothing to export: expected --czml OUT.czml")
    if czml.suffix.lower() != ".czml":
        raise ParameterError(f"--czml {str(czml)!r} has suffix {czml.suffix or 'none'!r}; expected OUT.czml")
    data = _data(results_dir, scenario)
    packets = czml_packets(data, duration_s=duration, step_s=step, laser_links=laser_links, max_bytes=max_bytes(max_size))
    size = write_czml(czml, packets)
    err.print(f"wrote {czml} ({size / 1e6:.1f} MB): {describe(packets)}")


def register(app: typer.Typer) -> None:
    """Add ``view`` and ``export`` to the ``leosim`` app."""
    app.command("view")(view)
    app.command("export")(export)


__all__ = ["register"]
