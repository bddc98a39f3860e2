"""The ``keycities`` command line (Typer + Rich).

Every command takes ``--store`` and ``--mirror`` (or reads KEYCITIES_STORE /
KEYCITIES_MIRROR); every command that prints results takes ``--format``.
Errors are printed as one message that says what to do, never a traceback.
"""

from __future__ import annotations

import sys

import typer

from keycities.cli import (
    claims,
    data,
    figures,
    indicators,
    network,
    pilot,
    places,
    server,
    testbed,
)
from keycities.cli.options import err
from keycities.cli.output import markup_safe
from keycities.errors import KeycitiesError

app = typer.Typer(
    name="keycities",
    help="Open evidence engine for networks of UK places (built first for the Key Cities).",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
app.command()(data.fetch)
app.command()(data.build)
app.command("sources")(data.sources_cmd)
app.command()(data.places)
app.command("headline")(figures.headline_cmd)
app.command("referendum")(figures.referendum_cmd)
app.command("productivity")(figures.productivity_cmd)
app.command("indicators")(indicators.indicators_cmd)
app.command("indicator")(indicators.indicator_cmd)
app.command("scorecard")(indicators.scorecard_cmd)
app.command("peers")(places.peers_cmd)
app.command("twin")(places.twin_cmd)
app.command("serve")(server.serve)
app.add_typer(network.app, name="network")
testbed.app.command("choose")(pilot.choose_cmd)
testbed.app.command("rollout")(pilot.rollout_cmd)
app.add_typer(testbed.app, name="testbed")
app.add_typer(server.user_app, name="user")
app.add_typer(server.export_app, name="export")
app.add_typer(claims.app, name="claims")


def main() -> None:
    """Entry point: run the app and turn known errors into one readable message."""
    try:
        app()
    except KeycitiesError as exc:
        # the message may quote user text (a file name, a place): never read as markup
        err.print(f"[bold red]Error:[/bold red] {markup_safe(exc)}", highlight=False)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - a bug: one readable line, not a traceback
        from keycities.settings import Settings  # deferred: pydantic, only on this path

        if Settings().debug:
            raise
        err.print(f"[bold red]Unexpected error[/bold red] ({exc.__class__.__name__}: "
                  f"{markup_safe(exc)}). "
                  "This is a bug in keycities: please report it with the command you ran; "
                  "KEYCITIES_DEBUG=1 shows the traceback.", highlight=False)
        sys.exit(1)


__all__ = ["app", "main"]
