"""The ``keycities`` command line (Typer + Rich).

Every command takes ``--store`` and ``--mirror`` (or reads KEYCITIES_STORE /
KEYCITIES_MIRROR); every command that prints results takes ``--format``.
Errors are printed as one message that says what to do, never a traceback.
"""

from __future__ import annotations

import sys

from keycities.cli.commands import app, err
from keycities.errors import KeycitiesError
from keycities.settings import Settings


def main() -> None:
    """Entry point: run the app and turn known errors into one readable message."""
    try:
        app()
    except KeycitiesError as exc:
        err.print(f"[bold red]Error:[/bold red] {exc}", highlight=False)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - a bug: one readable line, not a traceback
        if Settings().debug:
            raise
        err.print(f"[bold red]Unexpected error[/bold red] ({exc.__class__.__name__}: {exc}). "
                  "This is a bug in keycities: please report it with the command you ran; "
                  "KEYCITIES_DEBUG=1 shows the traceback.", highlight=False)
        sys.exit(1)


__all__ = ["app", "main"]
