"""The indicator library: ``keycities indicators``, ``indicator`` and ``scorecard``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from keycities.analysis.indicators.params import COVERAGE, WORK_AREA
from keycities.cli.options import (
    AtOpt,
    FormatOpt,
    MirrorOpt,
    StoreOpt,
    context,
    parse_date,
)
from keycities.cli.output import Format, print_frame, print_notes
from keycities.errors import KeycitiesError, UnknownPlaceError

if TYPE_CHECKING:
    from keycities.context import Context

AreaOpt = Annotated[str | None, typer.Option("--area", help=WORK_AREA.help,
                                             show_default=False)]


def indicators_cmd(
    area: AreaOpt = None,
    search: Annotated[str | None, typer.Option(
        "--search", help="Only indicators whose id, label or subtitle contains this text.",
        show_default=False)] = None,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """The indicator library: every indicator by work area, its latest period and coverage."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis.indicators.from_store import catalogue_from_store
    from keycities.analysis.indicators.params import work_area
    from keycities.present.indicators import catalogue_payload, catalogue_table

    ctx = context(store, mirror)
    wanted = work_area(area) if area else None
    frame = catalogue_from_store(ctx.store, area=wanted, search=search)
    shown = catalogue_table(frame, with_area=not wanted) if fmt is Format.table else frame
    what = f" in {WORK_AREA.label(wanted)}" if wanted else ""
    found = f" matching {search!r}" if search else ""
    print_frame(shown, fmt, title=f"{len(frame)} indicators{what}{found}",
                payload=catalogue_payload(frame, area=wanted, search=search),
                notes=["`keycities indicator ID` shows one indicator for every place."])


def indicator_cmd(
    indicator: Annotated[str, typer.Argument(help="Indicator id (see `keycities indicators`).")],
    network: Annotated[str | None, typer.Option(
        "--network", help="Mark this network's members and give its value: 'key-cities' or "
        "the path of a CSV/YAML network file.", show_default=False)] = None,
    at: AtOpt = None,
    period: Annotated[str | None, typer.Option(
        "--period", help="Period: ISO (2023-01-01/P1Y), as labelled (2023, 2022 to 2024, "
        "2023/24) or a year (default the latest with district values).",
        show_default=False)] = None,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """One indicator for every place: ranked, members marked, against England, with its source."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis.indicators.from_store import indicator_from_store
    from keycities.present.indicators import indicator_payload

    ctx = context(store, mirror)
    net = ctx.network(network) if network else None
    view = indicator_from_store(ctx.store, indicator, network=net, at=parse_date(at),
                                period=period)
    if fmt is Format.table:
        _print_indicator(view)
        return
    print_frame(view.ranking, fmt, payload=indicator_payload(view))


def _print_indicator(view: Any) -> None:
    """The tables of one indicator: members (with a network), comparators, every district."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from rich.console import Console

    from keycities.present.indicators import (
        comparator_table,
        indicator_notes,
        members_table,
        network_notes,
        ranking_table,
    )

    console = Console()
    title = f"{view.meta.get('label')}, {view.period_label} ({view.meta.get('unit')})"
    if view.members is not None:
        print_frame(members_table(view), Format.table, console=console,
                    title=f"{title}: {view.network_name} on {view.at}",
                    notes=network_notes(view))
    print_frame(comparator_table(view), Format.table, console=console,
                title="England, Great Britain, the UK, nations and regions (the source's own)")
    if view.ranking.empty:
        print_notes([f"{view.meta.get('label')} has no district values to rank: it is "
                     f"published for {COVERAGE.label(view.entry.coverage)}.",
                     *indicator_notes(view)], console)
        return
    print_frame(ranking_table(view), Format.table, console=console,
                title=f"{title}: every district ranked ({view.vintage} boundaries)",
                notes=indicator_notes(view))


def scorecard_cmd(
    subject: Annotated[str, typer.Argument(
        help="A network ('key-cities' or a CSV/YAML network file) or a place name or code.")],
    at: AtOpt = None,
    area: AreaOpt = None,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """A network or a place across the work areas: every indicator against England."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis.indicators.from_store import scorecard_from_store
    from keycities.analysis.indicators.params import work_area
    from keycities.present.indicators import scorecard_payload

    ctx = context(store, mirror)
    wanted = work_area(area) if area else None
    card = scorecard_from_store(ctx.store, _subject(ctx, subject, parse_date(at)), area=wanted)
    if fmt is Format.table:
        _print_scorecard(card)
        return
    print_frame(card.rows, fmt, payload=scorecard_payload(card))


def _subject(ctx: Context, spec: str, at: Any) -> Any:
    """A network when ``spec`` names one (built-in id or file), else a place."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis._members import member_vintage
    from keycities.analysis.indicators.from_store import network_subject, place_subject
    from keycities.network.register import BUILTIN

    path = Path(spec)
    if spec in BUILTIN or path.suffix.lower() in {".csv", ".yaml", ".yml"} or path.exists():
        return network_subject(ctx.network(spec), at)
    try:
        place = ctx.resolver.resolve(spec, vintage=member_vintage(at))
    except UnknownPlaceError as exc:
        raise KeycitiesError(f"{exc} Networks: {', '.join(BUILTIN)}, or the path of a CSV or "
                             "YAML network file.") from exc
    return place_subject(place.code, place.name, at)


def _print_scorecard(card: Any) -> None:
    """One table per work area (and, for a network, its members' ranks), then the notes."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from rich.console import Console

    from keycities.present.indicators import rank_table, scorecard_table

    console, s = Console(), card.subject
    for area in card.areas:
        table = scorecard_table(card, area)
        if table.empty:
            continue
        print_frame(table, Format.table, console=console,
                    title=f"{WORK_AREA.label(area)}: {s.name} on {s.at} against England")
        if s.kind == "network":
            print_frame(rank_table(card, area), Format.table, console=console,
                        title=f"{WORK_AREA.label(area)}: each member's rank among all "
                              "districts (1 = best; # as above)")
    print_notes([*card.rules.values(), *card.notes], console)
