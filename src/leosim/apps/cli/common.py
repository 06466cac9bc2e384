"""What every ``leosim`` command shares: the consoles, the options that mean the same thing
in every command (constellation, time window, routing, attachment, link rules,
executors), and small helpers to load and to write.

Command modules import from here, never from the app that registers them, so there is
no import cycle; the option help for routing modes and attachment policies comes from
their registries.
"""

from __future__ import annotations

import csv
import io
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console

from leosim.core.time import TimeGrid, parse_time
from leosim.core.visibility import DEFAULT_MIN_ELEVATION_DEG
from leosim.errors import ParameterError
from leosim.network.attachment import POLICIES
from leosim.network.modes import MODES
from leosim.space.constellation import DEFAULT_PRESET, PRESET_NAMES

out = Console(soft_wrap=True)
if not out.is_terminal:  # piped or captured: wide enough for the tables, never wrapped
    out.width = 200
err = Console(stderr=True, soft_wrap=True)


class Fmt(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


_PRESETS_HELP = ", ".join(f"{n} (default)" if n == DEFAULT_PRESET else n for n in PRESET_NAMES)

ConstellationOpt = Annotated[
    str | None,
    typer.Option("--constellation", "-c", help=f"Built-in constellation: {_PRESETS_HELP}."),
]
TleOpt = Annotated[
    Path | None,
    typer.Option("--tle", help="Element-set file instead of a preset: TLE (2/3-line, .gz ok), CelesTrak OMM JSON/CSV, or Hypatia tles.txt."),
]
FormatOpt = Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")]
StartOpt = Annotated[str | None, typer.Option("--start", help="ISO 8601 UTC start; default: the element-set epoch.")]
DurationOpt = Annotated[str, typer.Option("--duration", help="How long: 100ms, 15s, 10min, 2h.")]
StepOpt = Annotated[str, typer.Option("--step", help="Time step: 100ms, 1s, 15s.")]
RoutingOpt = Annotated[str, typer.Option("--routing", help=f"How traffic crosses the network. {MODES.help()}.")]
AttachOpt = Annotated[str, typer.Option("--attach", help=f"Which visible satellite a terminal uses; NAME or NAME:key=value,... {POLICIES.help()}.")]
MinElOpt = Annotated[float | None, typer.Option("--min-elevation", help=f"Ground-satellite elevation mask, degrees (default {DEFAULT_MIN_ELEVATION_DEG:g}).")]
MaxGslOpt = Annotated[float | None, typer.Option("--max-gsl-length", help="Hypatia-style: a ground-satellite link exists when its slant range is at most this many metres (instead of the elevation mask).")]
MaxIslOpt = Annotated[float | None, typer.Option("--max-isl-length", help="Drop laser links longer than this many metres (they are always dropped when they dip below 80 km altitude).")]
PopOpt = Annotated[str, typer.Option("--pop", help="Where traffic to 'internet:' leaves Starlink: home (the PoP Starlink assigns to the terminal's country and region, its GeoIP feed of 2026-10-08), nearest (the PoP nearest the terminal) or best (the lowest delay, each step).")]
IslFileOpt = Annotated[Path | None, typer.Option("--isl-file", help="Laser links from a file (Hypatia isls.txt: one 'A B' satellite-index pair per line) instead of +Grid.")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", "-j", help="Processes or Dask workers to use (default: all cores).", min=1)]
ExecutorOpt = Annotated[str, typer.Option("--executor", help="Where chunks run: serial, processes (this machine's cores), dask (a LocalCluster, or --scheduler).")]
SchedulerOpt = Annotated[str | None, typer.Option("--scheduler", help="Address of an existing Dask scheduler, tcp://HOST:PORT (with --executor dask).")]
MaxSizeOpt = Annotated[str | None, typer.Option("--max-size", help="Allow a run this big (output or memory, e.g. 20GiB); default 8GiB. Memory beyond what this machine has available is refused whatever this says.", show_default=False)]

#: ``path`` and ``pairs`` default to Hypatia's model (any visible satellite; the shortest
#: path decides); scenarios default to Starlink's schedule.
DEFAULT_CLI_ATTACH = "free"
DEFAULT_ROUTING = "isl"


def load_constellation(name: str | None, tle: Path | None):
    """The constellation of ``--constellation NAME`` or ``--tle FILE`` (default preset otherwise)."""
    from leosim.space.constellation import Constellation

    if name and tle:
        raise ParameterError(f"both --constellation {name!r} and --tle {str(tle)!r} were given; expected one of them")
    if tle is not None:
        return Constellation.from_file(tle)
    return Constellation.preset(name or DEFAULT_PRESET)


def time_grid(c, start: str | None, duration: str, step: str) -> TimeGrid:
    return TimeGrid.from_duration(parse_time(start) if start else c.epoch, duration, step)


def grid_ends(grid: TimeGrid) -> np.ndarray:
    """A grid's first and last instants (datetime64[ns]), without building its times."""
    last = np.datetime64(grid.start, "ns") + np.timedelta64(int(round((grid.n_steps - 1) * grid.step_s * 1e9)), "ns")
    return np.array([np.datetime64(grid.start, "ns"), last], dtype="datetime64[ns]")


def warn_epochs(c, times) -> None:
    """Say once, on stderr, when ``times`` (a grid, or instants) are far from ``c``'s
    element-set epochs (:meth:`~leosim.space.constellation.Constellation.epoch_warning`)."""
    from rich.markup import escape

    warning = c.epoch_warning(grid_ends(times) if isinstance(times, TimeGrid) else times)
    if warning:
        err.print(escape(warning), highlight=False)


def check_durations(duration: str, step: str) -> TimeGrid:
    """Fail on a bad duration or step before anything slow is loaded; the grid's steps
    (from an arbitrary start: nothing is allocated) tell the run's size."""
    return TimeGrid.from_duration(np.datetime64("2000-01-01"), duration, step)


def max_bytes(max_size: str | None) -> float | None:
    """Bytes of ``--max-size`` (None: the default limit of :mod:`leosim.engine.size`)."""
    from leosim.engine.size import parse_size

    return None if max_size is None else parse_size(max_size)


_INTERRUPT_SAID = [False]


def interrupted(line: str):
    """Print the one line of an interrupted run and exit with status 130 (no traceback)."""
    from rich.markup import escape

    err.print(escape(line), highlight=False)
    _INTERRUPT_SAID[0] = True
    raise typer.Exit(130)


def interrupt_said() -> bool:
    return _INTERRUPT_SAID[0]


def elevation(min_elevation: float | None, max_gsl_length: float | None) -> float:
    if min_elevation is not None and max_gsl_length is not None:
        raise ParameterError("both --min-elevation and --max-gsl-length were given; expected one of them")
    return DEFAULT_MIN_ELEVATION_DEG if min_elevation is None else min_elevation


def link_options(min_elevation: float | None, max_gsl_length: float | None = None, max_isl_length: float | None = None):
    """The link rules of the shared options (one elevation for terminals and gateways)."""
    from leosim.network.links import LinkOptions

    el = elevation(min_elevation, max_gsl_length)
    return LinkOptions(min_elevation_deg=el, gateway_min_elevation_deg=el, max_gsl_length_m=max_gsl_length,
                       max_isl_length_m=max_isl_length)


def network_from_options(c, endpoints, routing: str, attach: str, min_elevation, max_gsl_length, max_isl_length,
                         isl_file: Path | None, pop_selection: str = "home"):
    """The network of ``path``, ``pairs`` and ``emulate``: the shared builder with the shared options."""
    from leosim.formats.isl import read_isl_file
    from leosim.network.builder import build_network

    isl_pairs = read_isl_file(isl_file, c.n_sats) if isl_file is not None else None
    return build_network(c, endpoints, routing=routing, attach=attach,
                         links=link_options(min_elevation, max_gsl_length, max_isl_length),
                         isl_pairs=isl_pairs, pop_selection=pop_selection)


def check_choices(routing: str | None = None, attach: str | None = None, pop: str | None = None) -> None:
    """Refuse an unknown routing mode, attachment policy (or bad parameters) or PoP choice before any work."""
    if pop is not None:
        from leosim.network.routing import POP_SELECTIONS

        if pop not in POP_SELECTIONS:
            raise ParameterError(f"--pop {pop!r}; expected one of: {', '.join(POP_SELECTIONS)}")
    if routing is not None:
        MODES.check(routing)
    if attach is not None:
        POLICIES.check(attach)


def country_option(text: str, option: str) -> str:
    """The ISO code of a country option's value (code or name); the error names the option."""
    from leosim.errors import PlaceError
    from leosim.ground.countries import country_code

    try:
        return country_code(text)
    except PlaceError as exc:
        raise PlaceError(f"{option} {text!r}: {exc}") from None


def emit(text: str, output: Path | None) -> None:
    """Write ``text`` to ``output`` (saying so on stderr) or to standard output."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text)
    except OSError as exc:
        raise ParameterError(f"cannot write output file {str(output)!r}: {exc.strerror}; expected a writable path") from None
    err.print(f"wrote {output}")


def csv_text(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


class LineProgress:
    """Progress as plain lines, for a stderr that is not a terminal (a log file, CI, a
    pipe): a line each time another tenth is done and at least every ``every_s`` seconds,
    with the time left estimated from the rate so far. The part of rich's Progress the
    commands use (add_task, advance, update, stop)."""

    def __init__(self, label: str, unit: str = "steps", every_s: float = 30.0, clock=None, write=None):
        import time

        self.label, self.unit, self.every_s = label, unit, every_s
        self.clock = clock or time.monotonic
        self.write = write or (lambda line: err.print(line, markup=False, highlight=False))
        self.total, self.done = None, 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def add_task(self, _name: str, total: float | None = None, **_kw) -> int:
        self.total, self.done = total, 0
        self.t0 = self.last_t = self.clock()
        self.last_tenth = 0
        return 0

    def advance(self, task: int, n: float) -> None:
        self.update(task, completed=self.done + n)

    def update(self, _task: int, completed: float | None = None, total: float | None = None, **_kw) -> None:
        if total is not None:
            self.total = total
        if completed is not None:
            self.done = completed
        now = self.clock()
        tenth = int(10 * self.done / self.total) if self.total else 0
        if tenth > self.last_tenth or now - self.last_t >= self.every_s:
            self.last_tenth, self.last_t = max(tenth, self.last_tenth), now
            self.write(self.line(now))

    def line(self, now: float) -> str:
        spent = now - self.t0
        if not self.total:
            return f"{self.label}: {self.done:g} {self.unit}, {spent:.0f} s"
        text = f"{self.label}: {self.done:g}/{self.total:g} {self.unit} ({self.done / self.total:.0%}), {spent:.0f} s"
        if 0 < self.done < self.total:
            text += f", about {spent * (self.total - self.done) / self.done:.0f} s left"
        return text

    def stop(self) -> None:
        pass


def progress(label: str, unit: str = "steps"):
    """A rich progress bar on stderr; plain progress lines when stderr is not a terminal
    (:class:`LineProgress`)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if not err.is_terminal:
        return LineProgress(label, unit)
    return Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn(unit), TimeRemainingColumn(),
        console=err, transient=True,
    )


class executor_from_options:
    """An executor as a context manager that says where its dashboard is."""

    def __init__(self, name: str, workers: int | None, scheduler: str | None):
        from leosim.engine.executors import make_executor

        self.ex = make_executor(name, workers, scheduler)

    def __enter__(self):
        if self.ex.dashboard_link:
            err.print(f"Dask dashboard: {self.ex.dashboard_link}")
        return self.ex

    def __exit__(self, *exc):
        self.ex.close()


__all__ = [
    "AttachOpt", "ConstellationOpt", "DEFAULT_CLI_ATTACH", "DEFAULT_ROUTING", "DurationOpt", "ExecutorOpt", "Fmt",
    "FormatOpt", "IslFileOpt", "LineProgress", "MaxGslOpt", "MaxIslOpt", "MaxSizeOpt", "MinElOpt", "interrupt_said", "interrupted",
    "max_bytes", "RoutingOpt", "SchedulerOpt", "StartOpt",
    "StepOpt", "TleOpt", "WorkersOpt", "check_choices", "grid_ends", "warn_epochs", "check_durations", "country_option", "csv_text", "elevation", "emit", "err",
    "executor_from_options", "link_options", "load_constellation", "network_from_options", "out", "progress",
    "time_grid",
]
