"""The web app and what it publishes: ``serve``, ``user``, ``export site``."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from keycities.cli.options import (
    MirrorOpt,
    StoreOpt,
    context,
    err,
    parse_date,
)
from keycities.cli.output import markup_safe, safe_text
from keycities.export.params import PACK_PLACES

user_app = typer.Typer(help="Accounts of the web app (until one exists, it is read-only).",
                       no_args_is_help=True)
export_app = typer.Typer(help="Publish: the static evidence pack.", no_args_is_help=True)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (local only by default).")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
    store: StoreOpt = None, mirror: MirrorOpt = None,
) -> None:
    """Serve the web app (pages, maps, charts) and its JSON API from the store, read-only."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    import uvicorn

    from keycities.web import create_app

    ctx = context(store, mirror)
    err.print(f"keycities on http://{markup_safe(host)}:{port}/ (JSON API under /api, "
              "documented at /docs); Ctrl+C stops it.")
    # The app itself decides whose X-Forwarded-For to believe (KEYCITIES_TRUSTED_PROXIES);
    # uvicorn's own proxy handling would believe any local peer's.
    uvicorn.run(create_app(ctx.settings, warm_up=ctx.settings.warm), host=host, port=port,
                log_level="warning", proxy_headers=False)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Account name (letters, digits, . _ @ -).")],
    role: Annotated[str, typer.Option(help="viewer, editor or admin.")] = "editor",
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input (for scripts).")
    ] = False,
    store: StoreOpt = None, mirror: MirrorOpt = None,
) -> None:
    """Create an account of the web app (the first admin, or any other)."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.workspace.accounts import add_user, check_password
    from keycities.workspace.db import Workspace

    ctx = context(store, mirror)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    check_password(password)
    ws = Workspace(ctx.settings.workspace_path)
    try:
        add_user(ws, name, password, role, by="command line")
    finally:
        ws.close()
    typer.echo(safe_text(f"Added {role} {name} to {ws.path}."))


@user_app.command("list")
def user_list(store: StoreOpt = None, mirror: MirrorOpt = None) -> None:
    """The web app's accounts and their roles."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.workspace.accounts import users
    from keycities.workspace.db import Workspace

    ctx = context(store, mirror)
    ws = Workspace(ctx.settings.workspace_path)
    rows = users(ws)
    ws.close()
    if not rows:
        typer.echo("No accounts: the web app is read-only. Add one with "
                   "`keycities user add NAME --role admin`.")
    for r in rows:
        typer.echo(safe_text(f"{r['name']}\t{r['role']}")
                   + ("\tdisabled" if r["disabled"] else ""))


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt meanwhile, so that an export that is stopped
    removes its half-written folder (the default action would end the process at once)."""
    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@export_app.command("site")
def export_site_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder to write the pack to.")],
    network: Annotated[str, typer.Option(help="Network of the home page (built-in id).")
                       ] = "key-cities",
    places: Annotated[str, typer.Option(
        help=PACK_PLACES.help)] = "all",
    force: Annotated[bool, typer.Option(
        help="Replace the folder if it holds a previous pack (any other folder is refused)."
    )] = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Pin the pack 'as published on' YYYY-MM-DD: the member register "
        "as it stood then, with a manifest of the register and data releases.")] = None,
    store: StoreOpt = None, mirror: MirrorOpt = None,
) -> None:
    """Write the web pages as a static site with CSV/XLSX/Parquet downloads beside them."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from rich.progress import Progress

    from keycities.export.site import export_site

    pages = PACK_PLACES.check(places, f"--places must be all or members, not {places!r}.")
    ctx = context(store, mirror)
    with _sigterm_interrupts(), \
            Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("Writing pages", total=None)

        def update(done: int, total: int, path: str) -> None:
            bar.update(task, completed=done, total=total, description=f"Writing {path}")

        report = export_site(ctx.settings, folder, network=network,
                             places=pages,
                             force=force, progress=update,
                             as_of=None if as_of is None else parse_date(as_of))
    for s in report.skipped:
        err.print(f"[yellow]skipped[/] {markup_safe(s)}")
    typer.echo(f"Wrote {report.pages} pages ({report.files:,} files, "
               f"{report.bytes / 1e6:,.1f} MB) to {report.folder}; open "
               f"{report.folder / 'index.html'}.")
