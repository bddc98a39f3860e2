"""The ``keycities`` command line (Typer + Rich).

Every command takes ``--store`` and ``--mirror`` (or reads KEYCITIES_STORE /
KEYCITIES_MIRROR); every command that prints results takes ``--format``.
Errors are printed as one message that says what to do, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console

from keycities.cli.output import Format, print_frame
from keycities.context import Context, parse_date
from keycities.errors import KeycitiesError
from keycities.geography.areas import PACKAGE_VINTAGE
from keycities.geography.vintage import check_vintage
from keycities.settings import Settings

app = typer.Typer(
    name="keycities",
    help="Open evidence engine for networks of UK places (built first for the Key Cities).",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
network_app = typer.Typer(help="Network membership: who belonged, and when.",
                          no_args_is_help=True)
app.add_typer(network_app, name="network")

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
    "--places", help="Place set: lad (local authority districts, 2023), district or sector "
    "(postcode districts or sectors), or the path of a CSV of your own places (code, name, "
    "lat, lon and numeric features).")]


@contextmanager
def progress(what: str) -> Iterator[None]:
    """A spinner on stderr while ``what`` runs (only on a terminal)."""
    if not err.is_terminal:
        yield
        return
    with err.status(f"{what}…"):
        yield


def _context(store: Path | None, mirror: Path | None, *, write: bool = False,
             offline: bool | None = None) -> Context:
    updates: dict[str, Any] = {}
    if store is not None:
        updates["store"] = store
    if mirror is not None:
        updates["mirror"] = mirror
    if offline is not None and offline:
        updates["offline"] = True
    return Context(Settings().model_copy(update=updates), write=write)


@app.command()
def fetch(
    sources: Annotated[list[str] | None, typer.Argument(
        help="Source names (default: all). See `keycities sources`.")] = None,
    force: Annotated[bool, typer.Option(help="Fetch again even if cached.")] = False,
    offline: Annotated[bool, typer.Option(help="Never try the official URLs.")] = False,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Download the official files (or copy them from a mirror), verifying each hash."""
    from keycities.cli.fetching import fetch_all

    ctx = _context(store, mirror, offline=offline)
    df = fetch_all(ctx.settings, sources, force=force, console=err)
    print_frame(df, fmt, title="Official files")
    if (df["status"] == "failed").any():
        raise typer.Exit(1)


@app.command()
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
    from keycities.cli.building import run_build

    ctx = _context(store, mirror, write=True, offline=offline)
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


@app.command("sources")
def sources_cmd(store: StoreOpt = None, mirror: MirrorOpt = None,
                fmt: FormatOpt = Format.table) -> None:
    """List the catalog: every release, where it comes from, and whether it is loaded."""
    from keycities.cli.fetching import catalog_frame

    ctx = _context(store, mirror)
    print_frame(catalog_frame(ctx), fmt, title="Catalog of releases")


@app.command()
def places(
    query: Annotated[str | None, typer.Argument(
        help="A place name or GSS code to resolve (default: list all).")] = None,
    vintage: Annotated[int | None, typer.Option(help="Boundary vintage (year).")] = None,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Resolve a place name, or list the local authority districts of a vintage."""
    ctx = _context(store, mirror)
    if vintage is not None:
        check_vintage(vintage)
    if query is not None:
        place = ctx.resolver.resolve(query, vintage=vintage)
        df = pd.DataFrame([vars(place)])
        print_frame(df, fmt, title=f"{query!r}")
        return
    from keycities.geography.areas import areas_in_vintage

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


@network_app.command("show")
def network_show(
    network: NetworkArg = "key-cities",
    at: AtOpt = None, store: StoreOpt = None, mirror: MirrorOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Members of a network on a date, with when and why they count as members."""
    from keycities.present.payloads import members_payload

    ctx = _context(store, mirror)
    net = ctx.network(network)
    when = parse_date(at)
    lads = ctx.geography[0].set_index("code")["name"].to_dict()
    members, payload = members_payload(net, when, lads)
    print_frame(members[["code", "name", "as_published", "joined", "left"]], fmt,
                title=f"{net.name} on {when}: {len(members)} members", notes=payload["notes"],
                payload=payload)


@network_app.command("history")
def network_history(
    network: Annotated[str, typer.Argument(help="Network id or file.")] = "key-cities",
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Every membership with its join and leave dates and their bases."""
    ctx = _context(store, mirror)
    df = ctx.network(network).memberships_frame().sort_values(["joined", "as_published"])
    print_frame(df.reset_index(drop=True), fmt, title="Membership history")


@app.command("headline")
def headline_cmd(
    network: NetworkArg = "key-cities",
    at: AtOpt = None,
    year: Annotated[int | None, typer.Option(
        help="Data year (default: the latest each figure has).")] = None,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Network totals and shares of GB/UK: population, jobs, GVA, businesses."""
    from keycities.cli.reporting import print_headline

    ctx = _context(store, mirror)
    from keycities.analysis.headline import headline_from_store

    result = headline_from_store(ctx.store, ctx.network(network), at=parse_date(at),
                                 year=year)
    print_headline(result, fmt)


@app.command("referendum")
def referendum_cmd(
    network: NetworkArg = "key-cities",
    at: AtOpt = None, store: StoreOpt = None, mirror: MirrorOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """EU referendum 2016 results of a network's members, votes added up, against GB and UK."""
    from keycities.analysis.referendum import referendum_from_store
    from keycities.cli.reporting import print_referendum

    ctx = _context(store, mirror)
    result = referendum_from_store(ctx.store, ctx.network(network), at=parse_date(at))
    print_referendum(result, fmt)


@app.command("productivity")
def productivity_cmd(
    network: NetworkArg = "key-cities",
    at: AtOpt = None,
    year: Annotated[int | None, typer.Option(help="Base year (default: the latest).")] = None,
    measure: Annotated[str, typer.Option(
        help="'job' (GVA per filled job) or 'hour' (GVA per hour worked).")] = "job",
    benchmark: Annotated[str, typer.Option(
        help="england, england-ex-london, uk or region.")] = "england",
    benchmark_basis: Annotated[str, typer.Option(
        help="totals: total GVA / total filled jobs (or hours), unsmoothed, as the issue "
             "defines it; smoothed: from ONS's smoothed ratios, like for like with the "
             "members' figures.")] = "totals",
    region: Annotated[str | None, typer.Option(
        help="The region, with --benchmark region (e.g. 'North West').")] = None,
    horizon: Annotated[int, typer.Option(help="Years to add up.")] = 10,
    path: Annotated[str, typer.Option(
        help="Convergence: immediate, linear or exponential.")] = "immediate",
    converge_years: Annotated[int | None, typer.Option(
        help="Years to close the gap (linear/exponential; default the horizon).")] = None,
    growth: Annotated[float, typer.Option(
        help="Yearly growth g, e.g. 0.02: the benchmark and the cash value of every gap grow "
             "at g a year, so year t's uplift is multiplied by (1 + g)^t; the annual uplift "
             "stays in base-year prices.")] = 0.0,
    negative: Annotated[bool, typer.Option(
        help="Members above the benchmark count negative (default: zero).")] = False,
    sensitivity: Annotated[bool, typer.Option(
        help="Show totals across measure × benchmark × basis × path × horizon instead "
             "(--measure, --benchmark, --benchmark-basis, --horizon and --path are then "
             "not used).")] = False,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """What raising members' productivity to a benchmark would add: per member and in total."""
    from keycities.analysis.productivity.from_store import (
        productivity_from_store,
        sensitivity_from_store,
    )
    from keycities.cli.reporting import print_productivity, print_sensitivity

    ctx = _context(store, mirror)
    net, when = ctx.network(network), parse_date(at)
    if sensitivity:
        result = sensitivity_from_store(
            ctx.store, net, at=when, year=year, converge_years=converge_years, growth=growth,
            negative=negative, region=region,
            benchmarks=("england", "england-ex-london", "uk", *(("region",) if region else ())))
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
        converge_years=converge_years, growth=growth, negative=negative), fmt)


@app.command("peers")
def peers_cmd(
    place: Annotated[str, typer.Argument(help="A place name or GSS code (2023 boundaries).")],
    k: Annotated[int, typer.Option(help="How many peers.")] = 15,
    preset: Annotated[str, typer.Option(
        help="Feature weights: overall, economic or demographic.")] = "overall",
    exclude_network: Annotated[str | None, typer.Option(
        help="Leave out the members of this network (id or file) on --at.")] = None,
    at: AtOpt = None,
    exclude_same_region: Annotated[bool, typer.Option(
        help="Leave out places in the same region.")] = False,
    seed: Annotated[int, typer.Option(help="Seed of the stability perturbations.")] = 0,
    places: PlacesOpt = "lad",
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Nearest-neighbour peer group of a place, with each feature's part and its stability."""
    import numpy as np

    from keycities.analysis.places.peers import peers
    from keycities.analysis.places.place_sets import is_csv, place_features
    from keycities.cli.reporting import print_peers

    ctx = _context(store, mirror)
    code = ctx.resolver.resolve(place, vintage=2023).code if places == "lad" else place
    exclude: frozenset[str] = frozenset()
    if exclude_network:
        members = ctx.network(exclude_network).members_at(parse_date(at))
        exclude = frozenset(members["code"])
    with progress(f"Building the features of the {places} places"):
        table = place_features(None if is_csv(places) else ctx.store, places)
    result = peers(table, code, weights=preset, k=k, exclude=exclude,
                   exclude_same_region=exclude_same_region, rng=np.random.default_rng(seed))
    print_peers(result, fmt)


def _pairs(values: list[str] | None, what: str) -> tuple[tuple[str, str], ...]:
    out = []
    for v in values or []:
        a, sep, b = v.partition(":")
        if not sep or not a or not b:
            raise KeycitiesError(f"{what} {v!r}: write two places as A:B (names or codes).")
        out.append((a, b))
    return tuple(out)


@app.command("twin")
def twin_cmd(
    mode: Annotated[str, typer.Option(help="bridge (contrast), bond (alike) or mixed.")
                    ] = "bridge",
    contrast: Annotated[str | None, typer.Option(
        help="Features to contrast, comma-separated (default: leave_share,gva_per_job,"
             "earnings for lad; the eight OAC supergroup shares oac_1..oac_8 for postcode "
             "places).")] = None,
    similar: Annotated[str, typer.Option(help="Features to keep alike, comma-separated.")
                       ] = "population",
    min_km: Annotated[float | None, typer.Option(help="Pairs at least this far apart.")] = None,
    max_km: Annotated[float | None, typer.Option(help="Pairs at most this far apart.")] = None,
    different: Annotated[str | None, typer.Option(
        help="Pair only across 'region' or 'nation'.")] = None,
    network: Annotated[str | None, typer.Option(
        help="A network (id or file) whose members on --at are paired.")] = None,
    at: AtOpt = None,
    within: Annotated[bool, typer.Option(
        help="With --network: pair members with each other (default: with non-members).")
                      ] = False,
    fixed: Annotated[list[str] | None, typer.Option(help="A pair to keep, A:B.")] = None,
    forbid: Annotated[list[str] | None, typer.Option(help="A pair to forbid, A:B.")] = None,
    leave_out: Annotated[list[str] | None, typer.Option(help="A place to leave out.")] = None,
    uk: Annotated[bool, typer.Option(help="Include Northern Ireland (default GB).")] = False,
    places: PlacesOpt = "lad",
    geojson: Annotated[Path | None, typer.Option(help="Also write the pairs as GeoJSON.")
                       ] = None,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Pair councils across divides (bridge) or alike (bond), optimally, with a certificate."""
    from keycities.analysis.places.place_sets import default_contrast, is_csv
    from keycities.analysis.twinning.twinning import GB, TwinSpec, twin_from_store
    from keycities.cli.reporting import print_twins, write_json_atomic

    ctx = _context(store, mirror)

    def code(q: str) -> str:
        return ctx.resolver.resolve(q, vintage=2023).code if places == "lad" else q

    if contrast is None:
        contrast = ",".join(default_contrast(places))

    members: frozenset[str] = frozenset()
    if network:
        members = frozenset(ctx.network(network).members_at(parse_date(at))["code"])
    spec = TwinSpec(
        mode=mode,  # type: ignore[arg-type]
        contrast=tuple(f for f in contrast.split(",") if f and mode != "bond"),
        similar=tuple(f for f in similar.split(",") if f and mode != "bridge"),
        min_km=min_km, max_km=max_km, different=different,  # type: ignore[arg-type]
        network=members, network_rule=("within" if within else "cross") if network else None,
        fixed=tuple((code(a), code(b)) for a, b in _pairs(fixed, "--fixed")),
        forbidden=tuple((code(a), code(b)) for a, b in _pairs(forbid, "--forbid")),
        leave_out=frozenset(code(q) for q in leave_out or []))
    with progress(f"Pairing the {places} places"):
        result = twin_from_store(None if is_csv(places) else ctx.store, spec, places=places,
                                 countries=None if uk else GB)
    if geojson is not None:
        write_json_atomic(geojson, result.geojson)
    print_twins(result, fmt, members=members)


testbed_app = typer.Typer(help="Testbeds: evaluate a pilot, design one, rank where it goes next.",
                          no_args_is_help=True)
app.add_typer(testbed_app, name="testbed")

OutcomeOpt = Annotated[str, typer.Option(
    help="Annual outcome: gva_per_filled_job, gva_per_hour_worked, filled_jobs, "
         "gva_current_prices, gva_per_head, population, "
         "earnings_median_annual_residence_ft, house_price_median.")]
MinKmOpt = Annotated[float | None, typer.Option(
    help="Leave out comparison places within this many km of a testbed (spillovers).")]
SameRegionOpt = Annotated[bool, typer.Option(
    help="Leave out comparison places in a testbed's region.")]
PeersOpt = Annotated[int | None, typer.Option(
    help="Compare only with each testbed's N nearest peers (keycities peers).")]
SimilarOpt = Annotated[int | None, typer.Option(
    help="Keep the N comparison places whose pre-policy outcome path is closest to each "
         "testbed's (0 = all).")]


def _rules(min_km: float | None, same_region: bool, peers: int | None,
           similar: int | None) -> Any:
    from keycities.analysis.testbed.evaluate import DonorRules

    return DonorRules(min_km=min_km, same_region=same_region, peers=peers,
                      similar=similar or None)


def _placebo_progress() -> Any:
    from rich.progress import Progress

    bar = Progress(console=err, transient=True, disable=not err.is_terminal)
    task = bar.add_task("Placebo fits", total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, update


@testbed_app.command("evaluate")
def testbed_evaluate(
    treated: Annotated[list[str], typer.Argument(
        help="Treated places with the first year of the policy, PLACE:YEAR (several allowed, "
             "staggered starts).")],
    outcome: OutcomeOpt = "gva_per_filled_job",
    min_km: MinKmOpt = None, same_region: SameRegionOpt = False, peers: PeersOpt = None,
    similar: SimilarOpt = 50,
    charts: Annotated[Path | None, typer.Option(
        help="Write the charts (SVG and Vega-Lite JSON) into this folder.")] = None,
    did: Annotated[bool, typer.Option(help="Also difference-in-differences.")] = True,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Evaluate a pilot: synthetic control with placebo inference, DiD and event study."""
    from keycities.analysis.testbed.evaluate import evaluate_from_store, parse_starts, save_charts

    ctx = _context(store, mirror)
    starts = parse_starts(treated)
    bar, update = _placebo_progress()
    with bar:
        result = evaluate_from_store(ctx.store, outcome, starts,
                                     rules=_rules(min_km, same_region, peers, similar),
                                     with_did=did, progress=update)
    if charts is not None:
        paths = save_charts(result.charts(), charts, ("svg", "json"))
        err.print(f"[dim]{len(paths)} chart files written to {charts}[/dim]")
    summary = result.summary()
    def p(x: float) -> str:
        return f"{x:.3g}" if x == x else "undefined (an exact pre-period fit, see below)"

    notes = [f"Synthetic control: placebo p-value {p(result.synth.p_value)} (RMSPE ratio), "
             f"{p(result.synth.p_value_effect)} (effect size)."]
    if result.did is not None:
        row = result.did.to_frame().iloc[-1]
        notes.append(f"Difference-in-differences ({row['method']}): {row['estimate']:+.4f} "
                     f"(95% CI {row['ci_low']:+.4f} to {row['ci_high']:+.4f}, "
                     f"p {row['p_value']:.3g})"
                     + (" on the log outcome." if result.panel.positive else "."))
    notes += result.notes
    print_frame(summary, fmt, title=f"Testbed evaluation: {result.panel.label} "
                f"({result.panel.unit})", notes=notes, payload=result.payload())


@testbed_app.command("design")
def testbed_design(
    place: Annotated[str, typer.Argument(help="The candidate testbed (name or code).")],
    start: Annotated[int, typer.Option(help="First policy year (inside the data's years).")],
    outcome: OutcomeOpt = "gva_per_filled_job",
    alpha: Annotated[float, typer.Option(help="Significance level.")] = 0.05,
    min_km: MinKmOpt = None, same_region: SameRegionOpt = False, peers: PeersOpt = None,
    similar: SimilarOpt = 50,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Minimum detectable effect of a testbed, by injecting effects into the real data."""
    from keycities.analysis.testbed.evaluate import design_from_store

    ctx = _context(store, mirror)
    bar, update = _placebo_progress()
    with bar:
        result = design_from_store(ctx.store, outcome, place, start, alpha=alpha,
                                   rules=_rules(min_km, same_region, peers, similar),
                                   progress=update)
    d = result.detect
    mde = "none in the grid" if d.mde is None else f"{d.mde:.0%}"
    notes = [f"Minimum detectable effect at alpha {alpha:g}: {mde} (smallest attainable "
             f"p-value {d.min_p:.3g} with {d.placebos} placebos).", *d.notes]
    print_frame(d.curve, fmt, title=f"Design: {place} from {start}, {result.panel.label}",
                notes=notes, payload=result.payload())


@testbed_app.command("transfer")
def testbed_transfer(
    testbeds: Annotated[list[str], typer.Argument(help="The testbed places (names or codes).")],
    k: Annotated[int, typer.Option(help="How many places to rank.")] = 20,
    preset: Annotated[str, typer.Option(
        help="Feature weights: overall, economic or demographic.")] = "overall",
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Where a policy piloted in the testbeds would most plausibly work next, with reasons."""
    from keycities.analysis.testbed.transfer import transfer_from_store

    ctx = _context(store, mirror)
    codes = [ctx.resolver.resolve(q, vintage=2023).code for q in testbeds]
    result = transfer_from_store(ctx.store, codes, k=k, weights=preset)
    print_frame(result.to_frame(), fmt, title="Where next: places most like the testbeds",
                notes=list(result.notes), payload=result.payload())


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (local only by default).")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
    store: StoreOpt = None, mirror: MirrorOpt = None,
) -> None:
    """Serve the web app (pages, maps, charts) and its JSON API from the store, read-only."""
    import uvicorn

    from keycities.web import create_app

    ctx = _context(store, mirror)
    err.print(f"keycities on http://{host}:{port}/ (JSON API under /api, documented at "
              "/docs); Ctrl+C stops it.")
    uvicorn.run(create_app(ctx.settings), host=host, port=port, log_level="warning")


user_app = typer.Typer(help="Accounts of the web app (until one exists, it is read-only).",
                       no_args_is_help=True)
app.add_typer(user_app, name="user")


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
    from keycities.workspace.accounts import add_user, check_password
    from keycities.workspace.db import Workspace

    ctx = _context(store, mirror)
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
    typer.echo(f"Added {role} {name} to {ws.path}.")


@user_app.command("list")
def user_list(store: StoreOpt = None, mirror: MirrorOpt = None) -> None:
    """The web app's accounts and their roles."""
    from keycities.workspace.accounts import users
    from keycities.workspace.db import Workspace

    ctx = _context(store, mirror)
    ws = Workspace(ctx.settings.workspace_path)
    rows = users(ws)
    ws.close()
    if not rows:
        typer.echo("No accounts: the web app is read-only. Add one with "
                   "`keycities user add NAME --role admin`.")
    for r in rows:
        typer.echo(f"{r['name']}\t{r['role']}" + ("\tdisabled" if r["disabled"] else ""))


export_app = typer.Typer(help="Publish: the static evidence pack.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("site")
def export_site_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder to write the pack to.")],
    network: Annotated[str, typer.Option(help="Network of the home page (built-in id).")
                       ] = "key-cities",
    places: Annotated[str, typer.Option(
        help="Place pages for 'all' districts, or only the network's 'members'.")] = "all",
    force: Annotated[bool, typer.Option(help="Replace the folder if it exists.")] = False,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Pin the pack 'as published on' YYYY-MM-DD: the member register "
        "as it stood then, with a manifest of the register and data releases.")] = None,
    store: StoreOpt = None, mirror: MirrorOpt = None,
) -> None:
    """Write the web pages as a static site with CSV/XLSX/Parquet downloads beside them."""
    from rich.progress import Progress

    from keycities.export.site import export_site

    if places not in ("all", "members"):
        raise KeycitiesError(f"--places must be all or members, not {places!r}.")
    ctx = _context(store, mirror)
    with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("Writing pages", total=None)

        def update(done: int, total: int, path: str) -> None:
            bar.update(task, completed=done, total=total, description=f"Writing {path}")

        report = export_site(ctx.settings, folder, network=network,
                             places=places,  # type: ignore[arg-type]
                             force=force, progress=update,
                             as_of=None if as_of is None else parse_date(as_of))
    for s in report.skipped:
        err.print(f"[yellow]skipped[/] {s}")
    typer.echo(f"Wrote {report.pages} pages ({report.files:,} files, "
               f"{report.bytes / 1e6:,.1f} MB) to {report.folder}; open "
               f"{report.folder / 'index.html'}.")


claims_app = typer.Typer(help="Published claims: the registry and its audit.",
                         no_args_is_help=True)
app.add_typer(claims_app, name="claims")


class ReportFormat(StrEnum):
    """Formats of the claims audit (a Markdown report as well)."""

    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


@claims_app.command("audit")
def claims_audit(
    store: StoreOpt = None, mirror: MirrorOpt = None,
    fmt: Annotated[ReportFormat, typer.Option(
        "--format", "-f", help="Output format; markdown gives a report.")] = ReportFormat.table,
) -> None:
    """Recompute every published claim and give it a verdict with reasons."""
    from keycities.analysis.claims.audit import audit_from_store
    from keycities.cli.reporting import print_audit

    ctx = _context(store, mirror)
    print_audit(audit_from_store(ctx.store), fmt.value)


@claims_app.command("list")
def claims_list(store: StoreOpt = None, mirror: MirrorOpt = None,
                fmt: FormatOpt = Format.table) -> None:
    """The claims registry: each claim's wording, document, network and value."""
    from keycities.analysis.claims.registry import load_claims

    docs, claims = load_claims()
    df = pd.DataFrame([{
        "claim": c.id, "document": c.document, "date": docs[c.document].date,
        "wording": c.wording, "metric": c.metric, "value": c.value, "unit": c.unit,
        "network": (f"{c.network.get('id', 'UK')} at {c.network.get('at', '')}".strip()
                    if c.network else f"unknown list of {c.members_unknown} members"),
    } for c in claims])
    print_frame(df, fmt, title="Claims in the Key Cities' documents")


__all__ = ["app"]
