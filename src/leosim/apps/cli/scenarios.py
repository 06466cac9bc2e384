"""``leosim scenarios``, ``validate``, ``run``, ``sweep`` and ``demo``: the main job."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from leosim.apps.cli.common import (
    ExecutorOpt,
    MaxSizeOpt,
    SchedulerOpt,
    WorkersOpt,
    err,
    executor_from_options,
    interrupted,
    max_bytes,
    out,
    progress,
)

# ---------------------------------------------------------------------- scenarios
scenarios_app = typer.Typer(help="The built-in scenarios: list them, or print one to copy and edit.", invoke_without_command=True)


@scenarios_app.callback()
def scenarios_list(ctx: typer.Context) -> None:
    """List the built-in scenarios."""
    if ctx.invoked_subcommand is not None:
        return
    from leosim.scenario.load import builtin_scenarios

    tab = Table("name", "description", title="built-in scenarios (leosim scenarios show NAME prints one)")
    for name, desc in builtin_scenarios().items():
        tab.add_row(name, desc)
    out.print(tab)


@scenarios_app.command("show")
def scenarios_show(name: Annotated[str, typer.Argument(help="A built-in scenario name.")]) -> None:
    """Print a built-in scenario's TOML, to copy and edit."""
    from leosim.scenario.load import builtin_text

    sys.stdout.write(builtin_text(name))


def validate_cmd(
    scenario: Annotated[str, typer.Argument(help="Scenario file (.toml) or built-in name.")],
    max_size: MaxSizeOpt = None,
) -> None:
    """Check a scenario file without running it: schema, names, places, files and size."""
    from leosim.engine.size import DEFAULT_MAX_BYTES, format_bytes
    from leosim.scenario.load import load_scenario
    from leosim.scenario.plan import build_plan

    scn, _, path = load_scenario(scenario)
    limit = max_bytes(max_size)
    p = build_plan(scn, path, max_bytes=limit)  # refuses a run too big to be meant, with its estimate
    out.print(f"[green]ok[/green]: {escape(scn.name)}: {p.constellation.n_sats:,} satellites, "
              f"{len(p.endpoints)} endpoints, {len(p.pairs)} pairs, {p.grid.n_steps} steps; "
              f"sections: {', '.join(p.sections) or 'none'}")
    out.print(f"size: {p.size.describe()} (limit {format_bytes(limit or DEFAULT_MAX_BYTES)})", highlight=False)


def _plain_log(text: str) -> None:
    """A line of the run's log, printed as it is (a scenario named 'a[/x]' is not markup)."""
    err.print(text, markup=False, highlight=False)


def _resume_hint(scenario: str, output: Path, seed: int | None, max_size: str | None) -> str:
    words = ["leosim", "run", scenario, "-o", str(output), "--resume"]
    if seed is not None:
        words += ["--seed", str(seed)]
    if max_size is not None:
        words += ["--max-size", max_size]
    return " ".join(shlex.quote(w) for w in words)


def _run_scenario(scenario: str, output: Path, overwrite: bool, seed: int | None, workers: int | None,
                  executor: str = "processes", scheduler: str | None = None, resume: bool = False,
                  max_size: str | None = None) -> dict:
    from leosim.pipeline.output import Interrupted, check_output
    from leosim.pipeline.run import run
    from leosim.present.headline import headline_rows
    from leosim.scenario.load import load_scenario
    from leosim.scenario.plan import scenario_size, size_fix

    scn, text, path = load_scenario(scenario)
    limit = max_bytes(max_size)
    # before any work: a run too big to be meant (from the scenario's text alone), a non-empty directory
    scenario_size(scn if seed is None else scn.model_copy(update={"seed": seed}), workers=workers).check(
        limit, fix=size_fix(scn))
    if not resume:
        check_output(output, overwrite)
    with executor_from_options(executor, workers, scheduler) as ex, progress("routing") as prog:
        task = prog.add_task("routing", total=None)
        next_line = [0.1]

        def report(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total)
            if not err.is_terminal and done >= next_line[0] * total:  # a log line every 10%
                err.print(f"  {done}/{total} steps")
                next_line[0] += 0.1

        try:
            summary = run(scn, text, output, source=path, overwrite=overwrite, resume=resume, seed=seed,
                          workers=workers, executor=ex, progress=report, log=_plain_log, max_bytes=limit,
                          resume_hint=_resume_hint(scenario, output, seed, max_size), estimate=True)
        except Interrupted as exc:
            prog.stop()
            interrupted(str(exc))
        except KeyboardInterrupt:  # before the run had marked its directory: nothing was written
            prog.stop()
            interrupted(f"interrupted while planning; nothing was written to {output}")
    tab = Table("", "", title=f"leosim {escape(scn.name)}", show_header=False)
    for k, v in headline_rows(summary):
        tab.add_row(escape(k), escape(v))
    out.print(tab)
    written = sorted(f.name for f in output.iterdir() if f.name != "scenario.toml")
    out.print(f"wrote {output}/: {', '.join(written)} ({summary['run_time_s']:.0f} s)", markup=False, highlight=False)
    return summary


def run_cmd(
    scenario: Annotated[str, typer.Argument(help="Scenario file (.toml) or built-in name (leosim scenarios lists them).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output directory (new or empty).")] = Path("leosim-out"),
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (overrides the scenario's).")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace the outputs of an earlier run in OUTPUT.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted run in OUTPUT: only missing chunks are computed (an OUTPUT that does not exist yet is started).")] = False,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = "processes",
    scheduler: SchedulerOpt = None,
    max_size: MaxSizeOpt = None,
) -> None:
    """Run a scenario: data, summary.json and a self-contained report.html in OUTPUT."""
    _run_scenario(scenario, output, overwrite, seed, workers, executor, scheduler, resume, max_size)


def sweep_cmd(
    scenario: Annotated[str, typer.Argument(help="Scenario file (.toml) or built-in name.")],
    sets: Annotated[list[str], typer.Option("--set", help="KEY=V1,V2,... (repeatable): e.g. --set routing.attach=free,scheduled --set constellation.shells[0].planes=60,72,84. Every combination runs.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory: one variant-NNN/ per combination and sweep.csv.")] = Path("leosim-sweep"),
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed for every variant.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an earlier sweep's outputs in OUTPUT.")] = False,
    workers: WorkersOpt = None,
    executor: ExecutorOpt = "processes",
    scheduler: SchedulerOpt = None,
    max_size: MaxSizeOpt = None,
) -> None:
    """Run a grid of scenario variants; one summary table (sweep.csv) plus each variant's results."""
    from leosim.pipeline.output import Interrupted
    from leosim.pipeline.sweep import check_sweep, run_sweep

    limit = max_bytes(max_size)
    check_sweep(scenario, sets, output, overwrite=overwrite, workers=workers, max_bytes=limit)  # before any executor starts
    with executor_from_options(executor, workers, scheduler) as ex:
        try:
            rows = run_sweep(scenario, sets, output, overwrite=overwrite, workers=workers, executor=ex, seed=seed,
                             log=err.print, max_bytes=limit)
        except Interrupted as exc:
            interrupted(str(exc))
    tab = Table("variant", *[k for k in rows[0] if k.startswith("set:")], "median RTT to PoP ms", "reachable", "run s",
                title=f"sweep of {scenario}: {len(rows)} variants")
    for r in rows:
        tab.add_row(r["variant"], *[str(r[k]) for k in r if k.startswith("set:")],
                    "-" if r.get("rtt_to_pop_median_ms") is None else f"{r['rtt_to_pop_median_ms']:.2f}",
                    f"{r.get('reachable', 0):.1%}", f"{r.get('run_time_s', 0):.0f}")
    out.print(tab)
    out.print(f"wrote {output}/sweep.csv")


def demo_cmd(
    output: Annotated[Path, typer.Option("--output", "-o", help="Output directory.")] = Path("leosim-demo"),
    workers: WorkersOpt = None,
) -> None:
    """Run the default scenario (global) into ./leosim-demo and print the headline table."""
    _run_scenario("global", output, overwrite=True, seed=None, workers=workers)



def register(app: typer.Typer) -> None:
    """Add ``scenarios``, ``validate``, ``run``, ``sweep`` and ``demo`` to the ``leosim`` app."""
    app.add_typer(scenarios_app, name="scenarios")
    app.command("validate")(validate_cmd)
    app.command("run")(run_cmd)
    app.command("sweep")(sweep_cmd)
    app.command("demo")(demo_cmd)


__all__ = ["register"]
