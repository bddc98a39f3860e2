"""A network's figures: headline totals and shares, the referendum, the productivity gap."""

from __future__ import annotations

from typing import Annotated

import typer

from keycities._util.numbers import NumberError, parse_percent
from keycities.analysis.productivity.params import (
    BASIS,
    BENCHMARK,
    DEFAULT_BASIS,
    GROWTH_HELP,
    GROWTH_PERCENT,
    MEASURE,
    PATH,
    SENSITIVITY_BENCHMARKS,
)
from keycities.cli.options import (
    AtOpt,
    FormatOpt,
    MirrorOpt,
    NetworkArg,
    StoreOpt,
    context,
    parse_date,
)
from keycities.cli.output import Format
from keycities.errors import KeycitiesError


def headline_cmd(
    network: NetworkArg = "key-cities",
    at: AtOpt = None,
    year: Annotated[int | None, typer.Option(
        help="Data year (default: the latest each figure has).")] = None,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Network totals and shares of GB/UK: population, jobs, GVA, businesses."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.cli.reporting import print_headline

    ctx = context(store, mirror)
    from keycities.analysis.headline.from_store import headline_from_store

    result = headline_from_store(ctx.store, ctx.network(network), at=parse_date(at),
                                 year=year)
    print_headline(result, fmt)


def referendum_cmd(
    network: NetworkArg = "key-cities",
    at: AtOpt = None, store: StoreOpt = None, mirror: MirrorOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """EU referendum 2016 results of a network's members, votes added up, against GB and UK."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis.referendum.from_store import referendum_from_store
    from keycities.cli.reporting import print_referendum

    ctx = context(store, mirror)
    result = referendum_from_store(ctx.store, ctx.network(network), at=parse_date(at))
    print_referendum(result, fmt)


def productivity_cmd(
    network: NetworkArg = "key-cities",
    at: AtOpt = None,
    year: Annotated[int | None, typer.Option(help="Base year (default: the latest).")] = None,
    measure: Annotated[str, typer.Option(
        help=MEASURE.help)] = "job",
    benchmark: Annotated[str, typer.Option(
        help=BENCHMARK.help)] = "england",
    benchmark_basis: Annotated[str, typer.Option(
        help=BASIS.help)] = DEFAULT_BASIS,
    region: Annotated[str | None, typer.Option(
        help="The region, with --benchmark region (e.g. 'North West').")] = None,
    horizon: Annotated[int, typer.Option(help="Years to add up.")] = 10,
    path: Annotated[str, typer.Option(
        help=PATH.help)] = "immediate",
    converge_years: Annotated[int | None, typer.Option(
        help="Years to close the gap (linear/exponential; default the horizon).")] = None,
    growth: Annotated[str, typer.Option(help=GROWTH_HELP)] = "0",
    negative: Annotated[bool, typer.Option(
        help="Members above the benchmark count negative (default: zero).")] = False,
    sensitivity: Annotated[bool, typer.Option(
        help="Show totals across measure × benchmark × basis × path × horizon instead "
             "(--measure, --benchmark, --benchmark-basis, --horizon and --path are then "
             "not used).")] = False,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """What raising members' productivity to a benchmark would add: per member and in total."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis.productivity.from_store import (
        productivity_from_store,
        sensitivity_from_store,
    )
    from keycities.cli.reporting import print_productivity, print_sensitivity

    try:
        g = parse_percent(growth, low=GROWTH_PERCENT[0], high=GROWTH_PERCENT[1])
    except NumberError as exc:
        raise KeycitiesError(f"--growth {growth!r} {exc}.") from exc
    ctx = context(store, mirror)
    net, when = ctx.network(network), parse_date(at)
    if sensitivity:
        result = sensitivity_from_store(
            ctx.store, net, at=when, year=year, converge_years=converge_years, growth=g,
            negative=negative, region=region,
            benchmarks=(*SENSITIVITY_BENCHMARKS, *(("region",) if region else ())))
        result.notes.insert(0, "With --sensitivity the single-scenario options --measure, "
                               "--benchmark, --benchmark-basis, --horizon and --path are not "
                               "used (the table varies them, as below); --year, "
                               "--converge-years, --growth, --negative and --region (which "
                               "adds the region benchmark) apply to every row.")
        print_sensitivity(result, fmt)
        return
    print_productivity(productivity_from_store(
        ctx.store, net, at=when, year=year, measure=measure, benchmark=benchmark,
        region=region, benchmark_basis=benchmark_basis, horizon=horizon, path=path,
        converge_years=converge_years, growth=g, negative=negative), fmt)
