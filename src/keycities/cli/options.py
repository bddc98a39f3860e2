"""What every command shares: the error console, the common options, the store context."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from keycities.analysis.places.params import PLACE_SET
from keycities.cli.output import Format

if TYPE_CHECKING:
    from keycities.context import Context

err = Console(stderr=True)


StoreOpt = Annotated[Path | None, typer.Option(
    "--store", help="Evidence store file [env: KEYCITIES_STORE].", show_default=False)]


MirrorOpt = Annotated[Path | None, typer.Option(
    "--mirror", help="Local mirror of the official files [env: KEYCITIES_MIRROR].",
    show_default=False)]


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


NetworkArg = Annotated[str, typer.Argument(
    help="'key-cities' or the path of a CSV/YAML network file.")]


AtOpt = Annotated[str | None, typer.Option(
    "--at", help="Membership date, YYYY-MM-DD (default today).", show_default=False)]


PlacesOpt = Annotated[str, typer.Option(
    "--places", help=f"{PLACE_SET.help}, or the path of a CSV of your own places (code, name, "
    "lat, lon and numeric features).")]


ClusterOpt = Annotated[str | None, typer.Option(
    help="Address of a Dask scheduler (tcp://HOST:8786) to run the grid of fits on; "
         "default KEYCITIES_CLUSTER, else local processes.")]
WorkersOpt = Annotated[int | None, typer.Option(
    help="Local processes for the grid of fits (default KEYCITIES_WORKERS, 2).")]


def engine(ctx: Context, cluster: str | None, workers: int | None) -> tuple[str | None, int]:
    """The cluster address and local workers in force (options, else settings); an
    unreachable cluster fails now, before any work or output."""
    # deferred: loaded per command (the analysis), keeping `--help` quick
    from keycities.analysis._parallel import check_cluster

    address = cluster or ctx.settings.cluster
    check_cluster(address)
    return address, int(workers or ctx.settings.workers)


@contextmanager
def progress(what: str) -> Iterator[None]:
    """A spinner on stderr while ``what`` runs (only on a terminal)."""
    if not err.is_terminal:
        yield
        return
    with err.status(f"{what}…"):
        yield


def parse_date(value: str | dt.date | None) -> dt.date:
    """A date from ISO text (today when None): :func:`keycities.context.parse_date`."""
    # deferred: the context module loads pandas, DuckDB and pydantic; `--help` needs none
    from keycities.context import parse_date as parse

    return parse(value)


def context(store: Path | None, mirror: Path | None, *, write: bool = False,
             offline: bool | None = None) -> Context:
    """The command's store, geography and networks, from the settings and its options."""
    # deferred: pandas, DuckDB and pydantic load when a command runs, not for `--help`
    from keycities.context import Context
    from keycities.settings import Settings

    updates: dict[str, Any] = {}
    if store is not None:
        updates["store"] = store
    if mirror is not None:
        updates["mirror"] = mirror
    if offline is not None and offline:
        updates["offline"] = True
    return Context(Settings().model_copy(update=updates), write=write)
