"""Getting the data: fetch the official files, build the store, list the catalog, resolve places."""

from __future__ import annotations

from typing import Annotated

import typer

from keycities.cli.figures import headline_cmd
from keycities.cli.options import (
    FormatOpt,
    MirrorOpt,
    StoreOpt,
    context,
    err,
)
from keycities.cli.output import Format, print_frame
from keycities.errors import KeycitiesError


def fetch(
    sources: Annotated[list[str] | None, typer.Argument(
        help="Source names (default: all). See `keycities sources`.")] = None,
    force: Annotated[bool, typer.Option(help="Fetch again even if cached.")] = False,
    offline: Annotated[bool, typer.Option(help="Never try the official URLs.")] = False,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Download the official files (or copy them from a mirror), verifying each hash."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.cli.fetching import fetch_all

    ctx = context(store, mirror, offline=offline)
    df = fetch_all(ctx.settings, sources, force=force, console=err)
    print_frame(df, fmt, title="Official files")
    missing = df["status"] == "missing"
    # Named sources must all arrive; without names, getting none of them is a failure.
    lacking = bool(missing.any() and (sources or missing.all()))
    if lacking:
        err.print(f"{int(missing.sum())} of {len(df)} official files could not be got. Point "
                  "--mirror / KEYCITIES_MIRROR at a copy of the official files, or run "
                  "`keycities fetch` where the official URLs are reachable (without "
                  "--offline or KEYCITIES_OFFLINE=1).", highlight=False)
    if lacking or (df["status"] == "failed").any():
        raise typer.Exit(1)


def build(
    sources: Annotated[list[str] | None, typer.Argument(
        help="Rebuild only these sources (default: all).")] = None,
    force: Annotated[bool, typer.Option(help="Reload even unchanged releases.")] = False,
    offline: Annotated[bool, typer.Option(help="Never try the official URLs.")] = False,
    headline: Annotated[bool, typer.Option(
        "--headline", help="Then print the Key Cities headline figures.")] = False,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Build or update the evidence store from every available release."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.cli.building import run_build

    ctx = context(store, mirror, write=True, offline=offline)
    # With --headline and a machine-readable format, the headline alone goes to
    # stdout (one document); the build summary goes to stderr.
    ok = run_build(ctx, sources, force=force, fmt=Format.table if headline else fmt,
                   console=err)
    ctx.close()
    if headline:
        headline_cmd(network="key-cities", at=None, year=None, store=ctx.settings.store,
                     mirror=mirror, fmt=fmt)
    if not ok:
        raise typer.Exit(1)


def sources_cmd(store: StoreOpt = None, mirror: MirrorOpt = None,
                fmt: FormatOpt = Format.table) -> None:
    """List the catalog: every release, where it comes from, and whether it is loaded."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.cli.fetching import catalog_frame

    ctx = context(store, mirror)
    print_frame(catalog_frame(ctx), fmt, title="Catalog of releases")


def places(
    query: Annotated[str | None, typer.Argument(
        help="A place name or GSS code to resolve (default: list all).")] = None,
    vintage: Annotated[int | None, typer.Option(help="Boundary vintage (year).")] = None,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Resolve a place name, or list the local authority districts of a vintage."""
    # deferred: the LAD tables load pandas; `keycities --help` needs neither
    from keycities.geography.areas import PACKAGE_VINTAGE, areas_in_vintage
    from keycities.geography.vintage import check_vintage

    ctx = context(store, mirror)
    if vintage is not None:
        check_vintage(vintage)
    if query is not None:
        import pandas as pd  # deferred: only this branch builds a frame here

        place = ctx.resolver.resolve(query, vintage=vintage)
        df = pd.DataFrame([vars(place)])
        print_frame(df, fmt, title=f"{query!r}")
        return
    lads = ctx.geography[0]
    if not ctx.has_official_areas():
        if vintage is not None and vintage < PACKAGE_VINTAGE:
            raise KeycitiesError(
                f"Without the official lookups only the {PACKAGE_VINTAGE} list (England and "
                "Wales) and later changes are known. Run `keycities build --mirror DIR` (or "
                "online) for the 2016-2025 lists of the whole UK."
            )
        err.print("[dim]Package data only: England and Wales, 2021 list and later changes. "
                  "Build the store for the whole UK.[/dim]")
    df = areas_in_vintage(lads, vintage) if vintage is not None else lads
    cols = [c for c in ("code", "name", "vintage_start", "vintage_end", "country_name",
                        "region_name") if c in df.columns]
    title = f"Local authority districts ({vintage if vintage else 'all vintages'}): {len(df)}"
    print_frame(df[cols].reset_index(drop=True), fmt, title=title)
