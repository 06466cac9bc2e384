"""The ``leosim`` command line (typer + rich): an adapter over the package's API.

Each command group lives in its own module and registers itself here. Errors the user
can fix (bad files, unknown places, impossible parameters) are the package's own
exceptions; they are printed as one line, without a traceback, and the command exits
with status 1.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from leosim import __version__
from leosim.apps.cli import adversary, capacity, emulate, latency, network, scenarios, viewer
from leosim.apps.cli.common import err, interrupt_said, out
from leosim.errors import LeosimError

app = typer.Typer(
    name="leosim",
    help="Simulate a Starlink-like satellite internet system: orbits, links, routes, latency.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        out.print(f"leosim {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version)
    ] = False,
) -> None:
    """Simulate a Starlink-like satellite internet system."""


for _module in (network, scenarios, capacity, latency, adversary, viewer, emulate):
    _module.register(app)


def _click_classes() -> tuple[tuple[type, ...], tuple[type, ...]]:
    """Exit and usage-error classes: typer 0.2x vendors click, older typer uses click."""
    exits: list[type] = [typer.Exit]
    errors: list[type] = []
    try:
        from typer._click import exceptions as vendored

        errors.append(vendored.ClickException)
    except ImportError:
        pass
    try:
        import click

        exits.append(click.exceptions.Exit)
        errors.append(click.exceptions.ClickException)
    except ImportError:
        pass
    return tuple(exits), tuple(errors)


_EXITS, _CLICK_ERRORS = _click_classes()


def main() -> None:
    """Entry point: run the app, turning the package's errors into one-line messages."""
    try:
        # without standalone mode, click returns the code of a typer.Exit (or of Ctrl-C
        # caught inside a command) instead of exiting: pass it on
        code = app(standalone_mode=False, prog_name="leosim")
    except LeosimError as exc:
        # escaped: messages carry brackets (key paths such as terminals[2], extras such as
        # 'leosim[io]') that rich would otherwise take for markup and drop
        err.print(f"[bold red]error:[/bold red] {escape(str(exc))}", highlight=False)
        sys.exit(1)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt as exc:  # Interrupted carries its one line (how far, how to resume)
        err.print(escape(str(exc) or "interrupted"), highlight=False)
        sys.exit(130)
    except _EXITS as exc:
        sys.exit(exc.exit_code)
    except _CLICK_ERRORS as exc:  # usage errors: click's own short message, exit 2
        exc.show()
        sys.exit(exc.exit_code)
    if code == 130 and not interrupt_said():  # Ctrl-C outside a run (typer turns it into exit 130)
        err.print("interrupted")
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
