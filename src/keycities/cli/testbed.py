"""``keycities testbed``: evaluate a pilot, design one, rank where it goes next."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from keycities.analysis.places.params import PRESET
from keycities.analysis.testbed.outcomes import OUTCOME_HELP
from keycities.analysis.testbed.params import POOLS, PoolMode
from keycities.cli.options import (
    ClusterOpt,
    FormatOpt,
    MirrorOpt,
    StoreOpt,
    WorkersOpt,
    context,
    engine,
    err,
)
from keycities.cli.output import Format, markup_safe, print_frame

app = typer.Typer(help="Testbeds: evaluate a pilot, design or choose testbeds, predict a "
                       "roll-out, rank where it goes next.",
                  no_args_is_help=True)


OutcomeOpt = Annotated[str, typer.Option(help=OUTCOME_HELP)]


MinKmOpt = Annotated[float | None, typer.Option(
    help="Leave out comparison places within this many km of a testbed (spillovers).")]


SameRegionOpt = Annotated[bool, typer.Option(
    help="Leave out comparison places in a testbed's region.")]


PeersOpt = Annotated[int | None, typer.Option(
    help="Compare only with each testbed's N nearest peers (keycities peers).")]


SimilarOpt = Annotated[int | None, typer.Option(
    help="Keep the N comparison places whose pre-policy outcome path is closest to each "
         "testbed's (0 = all).")]


PoolsOpt = Annotated[str, typer.Option(help=POOLS.help)]


def _rules(min_km: float | None, same_region: bool, peers: int | None,
           similar: int | None, pools: str = "each") -> Any:
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis.testbed.evaluate import DonorRules

    mode: PoolMode = POOLS.check(pools)
    return DonorRules(min_km=min_km, same_region=same_region, peers=peers,
                      similar=similar or None, pools=mode)


def _placebo_progress() -> Any:
    from rich.progress import Progress

    bar = Progress(console=err, transient=True, disable=not err.is_terminal)
    task = bar.add_task("Placebo fits", total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, update


@app.command("evaluate")
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
    pools: PoolsOpt = "each",
    spillovers: Annotated[bool, typer.Option(
        help="Also measure spillovers on neighbours (0-25, 25-50, 50-100 km) and vary the "
             "exclusion radius.")] = False,
    cluster: ClusterOpt = None, workers: WorkersOpt = None,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Evaluate a pilot: synthetic control, placebo tests, conformal intervals, DiD, event study."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis.testbed.evaluate import parse_starts
    from keycities.analysis.testbed.from_store import evaluate_from_store

    ctx = context(store, mirror)
    address, n = engine(ctx, cluster, workers)
    starts = parse_starts(treated)
    rules = _rules(min_km, same_region, peers, similar, pools)
    bar, update = _placebo_progress()
    with bar:
        result = evaluate_from_store(ctx.store, outcome, starts, rules=rules, with_did=did,
                                     progress=update, workers=n, cluster=address,
                                     spill=spillovers)
    if charts is not None:
        # deferred: the charts load Altair and vl-convert, which only --charts needs
        from keycities.present.testbed import evaluation_charts, save_charts

        paths = save_charts(evaluation_charts(result), charts, ("svg", "json"))
        err.print(f"[dim]{len(paths)} chart files written to {markup_safe(charts)}[/dim]")
    summary = result.summary()
    def p(x: float) -> str:
        return f"{x:.3g}" if x == x else "undefined (an exact pre-period fit, see below)"

    notes = [f"Synthetic control: placebo p-value {p(result.synth.p_value)} (RMSPE ratio), "
             f"{p(result.synth.p_value_effect)} (effect size).", *_interval_notes(result)]
    if result.did is not None:
        row = result.did.to_frame().iloc[-1]
        notes.append(f"Difference-in-differences ({row['method']}): {row['estimate']:+.4f} "
                     f"(95% CI {row['ci_low']:+.4f} to {row['ci_high']:+.4f}, "
                     f"p {row['p_value']:.3g})"
                     + (" on the log outcome." if result.panel.positive else "."))
    notes += result.notes
    print_frame(summary, fmt, title=f"Testbed evaluation: {result.panel.label} "
                f"({result.panel.unit})", notes=notes, payload=result.payload())


def _interval_notes(result: Any) -> list[str]:
    """The conformal intervals and the average's interval in words."""
    ev = result.synth
    level = f"{1 - ev.alpha:.0%}"
    out = []
    for code, cf in ev.conformal.items():
        a = cf.average
        lo, hi = a.get("relative_low"), a.get("relative_high")
        span = ("cannot be bounded (too few pre-period years or an exact fit)"
                if lo is None or hi is None or lo != lo or hi != hi
                else f"{lo:+.1%} to {hi:+.1%}")
        out.append(f"{result.panel.names.get(code, code)}: conformal {level} interval of the "
                   f"average effect {span} (p {a['p_zero']:.3g} for no effect).")
    lo, hi = ev.average_interval
    if len(ev.fits) > 1 and lo == lo:
        out.append(f"Average over the testbeds: {ev.average_effect:+.1%} ({level} interval "
                   f"{lo:+.1%} to {hi:+.1%}, the placebo test inverted under a constant "
                   "effect).")
    return out


@app.command("design")
def testbed_design(
    place: Annotated[str, typer.Argument(help="The candidate testbed (name or code).")],
    start: Annotated[int, typer.Option(help="First policy year (inside the data's years).")],
    outcome: OutcomeOpt = "gva_per_filled_job",
    alpha: Annotated[float, typer.Option(help="Significance level.")] = 0.05,
    min_km: MinKmOpt = None, same_region: SameRegionOpt = False, peers: PeersOpt = None,
    similar: SimilarOpt = 50,
    cluster: ClusterOpt = None, workers: WorkersOpt = None,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Minimum detectable effect of a testbed, by injecting effects into the real data."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis.testbed.from_store import design_from_store

    ctx = context(store, mirror)
    address, n = engine(ctx, cluster, workers)
    bar, update = _placebo_progress()
    with bar:
        result = design_from_store(ctx.store, outcome, place, start, alpha=alpha,
                                   rules=_rules(min_km, same_region, peers, similar),
                                   progress=update, workers=n, cluster=address)
    d = result.detect
    mde = "none in the grid" if d.mde is None else f"{d.mde:.0%}"
    notes = [f"Minimum detectable effect at alpha {alpha:g}: {mde} (smallest attainable "
             f"p-value {d.min_p:.3g} with {d.placebos} placebos).", *d.notes]
    print_frame(d.curve, fmt, title=f"Design: {place} from {start}, {result.panel.label}",
                notes=notes, payload=result.payload())


@app.command("transfer")
def testbed_transfer(
    testbeds: Annotated[list[str], typer.Argument(help="The testbed places (names or codes).")],
    k: Annotated[int, typer.Option(help="How many places to rank.")] = 20,
    preset: Annotated[str, typer.Option(
        help=PRESET.help)] = "overall",
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Where a policy piloted in the testbeds would most plausibly work next, with reasons."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis.testbed.from_store import transfer_from_store

    ctx = context(store, mirror)
    codes = [ctx.resolver.resolve(q, vintage=2023).code for q in testbeds]
    result = transfer_from_store(ctx.store, codes, k=k, weights=preset)
    print_frame(result.to_frame(), fmt, title="Where next: places most like the testbeds",
                notes=list(result.notes), payload=result.payload())
