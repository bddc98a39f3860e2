"""``keycities testbed``: evaluate a pilot, design one, rank where it goes next."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from keycities.analysis.places.params import PRESET
from keycities.analysis.testbed.outcomes import OUTCOME_HELP
from keycities.cli.options import (
    FormatOpt,
    MirrorOpt,
    StoreOpt,
    context,
    err,
)
from keycities.cli.output import Format, print_frame

app = typer.Typer(help="Testbeds: evaluate a pilot, design one, rank where it goes next.",
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


def _rules(min_km: float | None, same_region: bool, peers: int | None,
           similar: int | None) -> Any:
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
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
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Evaluate a pilot: synthetic control with placebo inference, DiD and event study."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis.testbed.evaluate import parse_starts
    from keycities.analysis.testbed.from_store import evaluate_from_store
    from keycities.present.testbed import evaluation_charts, save_charts

    ctx = context(store, mirror)
    starts = parse_starts(treated)
    bar, update = _placebo_progress()
    with bar:
        result = evaluate_from_store(ctx.store, outcome, starts,
                                     rules=_rules(min_km, same_region, peers, similar),
                                     with_did=did, progress=update)
    if charts is not None:
        paths = save_charts(evaluation_charts(result), charts, ("svg", "json"))
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


@app.command("design")
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
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis.testbed.from_store import design_from_store

    ctx = context(store, mirror)
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
