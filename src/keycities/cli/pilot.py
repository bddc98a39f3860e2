"""``keycities testbed choose`` and ``testbed rollout``: design a pilot, predict a roll-out.

Registered on the ``testbed`` group by :mod:`keycities.cli`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from keycities.cli.options import (
    AtOpt,
    ClusterOpt,
    FormatOpt,
    MirrorOpt,
    StoreOpt,
    WorkersOpt,
    context,
    engine,
)
from keycities.cli.output import Format, print_frame
from keycities.cli.testbed import MinKmOpt, OutcomeOpt, SimilarOpt, _placebo_progress
from keycities.errors import KeycitiesError

FeaturesOpt = Annotated[str | None, typer.Option(
    help="Place features, comma-separated (e.g. population,gva_per_job,earnings).")]


def _codes(ctx: Any, spec: str | None, at: str | None) -> list[str] | None:
    """Members of a network or file on ``at`` (None for 'all')."""
    # deferred: loaded per command (pandas, the register), keeping `--help` quick
    from keycities.context import parse_date

    if spec is None or spec.strip().lower() == "all":
        return None
    return [str(c) for c in ctx.network(spec).members_at(parse_date(at))["code"]]


def _features(text: str | None) -> list[str]:
    return [f.strip() for f in (text or "").split(",") if f.strip()]


def choose_cmd(
    outcome: OutcomeOpt = "gva_per_filled_job",
    k: Annotated[int, typer.Option(help="How many testbeds to choose.")] = 5,
    candidates: Annotated[str, typer.Option(
        help="The places that may pilot: a network id or file.")] = "key-cities",
    rollout: Annotated[str, typer.Option(
        help="Where the policy would go next, to be represented: a network id or file, "
             "or all (every place).")] = "all",
    at: AtOpt = None,
    start: Annotated[int | None, typer.Option(
        help="First policy year of the simulated pilot (default: the last 3 years are "
             "the post-period).")] = None,
    effect: Annotated[float, typer.Option(
        help="The effect the pilot should detect, as a share (0.03 = 3%).")] = 0.03,
    require: Annotated[list[str] | None, typer.Option(
        help="A place that must be a testbed (repeat for several).")] = None,
    exclude: Annotated[list[str] | None, typer.Option(
        help="A place that must not be a testbed (repeat for several).")] = None,
    max_per_region: Annotated[int | None, typer.Option(
        help="At most this many testbeds in one region.")] = None,
    min_km: MinKmOpt = None,
    min_donors: Annotated[int, typer.Option(
        help="Comparison places each testbed keeps outside the others' --min-km zones.")] = 10,
    max_imbalance: Annotated[float | None, typer.Option(
        help="At most this mean absolute standardised difference between the testbeds' "
             "and the roll-out's features (SD; 0.25, the default, is 'balanced').")] = 0.25,
    features: FeaturesOpt = None,
    similar: SimilarOpt = 50,
    alpha: Annotated[float, typer.Option(help="Significance level.")] = 0.05,
    grid: Annotated[int, typer.Option(help="Injected effects per place.")] = 200,
    cluster: ClusterOpt = None, workers: WorkersOpt = None,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Choose k testbeds that detect the effect, represent the roll-out, compare cleanly."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis.testbed._choose_sets import Constraints
    from keycities.analysis.testbed.from_store import choose_from_store
    from keycities.analysis.testbed.plan import ChooseSpec
    from keycities.present.testbed import choice_view

    ctx = context(store, mirror)
    address, n = engine(ctx, cluster, workers)
    cands = _codes(ctx, candidates, at) or []
    roll = _codes(ctx, rollout, at)
    spec = ChooseSpec(Constraints(k=k, require=tuple(require or ()), exclude=tuple(exclude or ()),
                                  max_per_region=max_per_region, min_km=min_km,
                                  min_donors=min_donors, max_imbalance=max_imbalance),
                      start=start, effect=effect, alpha=alpha, similar=similar or None,
                      grid=grid)
    bar, update = _placebo_progress()
    with bar:
        result = choose_from_store(ctx.store, outcome, cands, spec, rollout=roll,
                                   features=_features(features) or None, workers=n,
                                   cluster=address, progress=update)
    frame, notes = choice_view(result)
    print_frame(frame, fmt, title=f"Testbeds: {len(result.chosen)} of {len(cands)} "
                f"candidates ({candidates}) for {result.outcome_label or outcome}", notes=notes,
                payload=result.payload(), units={"mde_alone": "share"})


def _read_evaluation(path: Path) -> tuple[str, Any]:
    # deferred: loaded per command (pandas, the analysis), keeping `--help` quick
    from keycities.analysis.testbed.rollout import pilots_from_payload

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeycitiesError(f"{path}: cannot read it as JSON ({exc}); give the file "
                             "`keycities testbed evaluate --format json` wrote.") from None
    return pilots_from_payload(doc, str(path))


def _pilots(ctx: Any, evaluations: list[str], outcome: str | None, workers: int,
            cluster: str | None) -> tuple[str, Any]:
    """(outcome, pilots) from evaluation files and PLACE:YEAR pairs (evaluated here)."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    import pandas as pd

    from keycities.analysis.testbed.evaluate import parse_starts
    from keycities.analysis.testbed.from_store import evaluate_from_store

    files = [Path(e) for e in evaluations if e.lower().endswith(".json") or Path(e).is_file()]
    pairs = [e for e in evaluations if Path(e) not in files]
    found = [_read_evaluation(p) for p in files]
    keys = {o for o, _ in found} | ({outcome} if outcome and pairs else set())
    if len(keys) > 1:
        raise KeycitiesError(f"The evaluations are of different outcomes ({', '.join(sorted(keys))}"
                             "): predict a roll-out of one outcome at a time.")
    key = next(iter(keys)) if keys else (outcome or "gva_per_filled_job")
    frames = [f for _, f in found]
    if pairs:
        ev = evaluate_from_store(ctx.store, key, parse_starts(pairs), with_did=False,
                                 workers=workers, cluster=cluster)
        frames.append(ev.synth.pilots()[["code", "start", "effect", "se"]])
    pilots = pd.concat(frames, ignore_index=True)
    twice = sorted(set(pilots["code"][pilots["code"].duplicated()]))
    if twice:
        raise KeycitiesError(f"{', '.join(twice)} appears in more than one evaluation: give "
                             "each pilot place once.")
    return key, pilots


def rollout_cmd(
    evaluations: Annotated[list[str], typer.Argument(
        help="Evaluated pilots: files written by `keycities testbed evaluate --format json`, "
             "or PLACE:YEAR pairs (evaluated now, together).")],
    outcome: Annotated[str | None, typer.Option(
        help="Outcome of PLACE:YEAR pairs (files carry their own).")] = None,
    to: Annotated[str, typer.Option(
        help="Where the policy would go: a network id or file, or all.")] = "all",
    at: AtOpt = None,
    features: FeaturesOpt = None,
    level: Annotated[float, typer.Option(help="Level of the prediction intervals.")] = 0.9,
    cluster: ClusterOpt = None, workers: WorkersOpt = None,
    store: StoreOpt = None, mirror: MirrorOpt = None, fmt: FormatOpt = Format.table,
) -> None:
    """Predict what rolling a piloted policy out would do everywhere else, with intervals."""
    # deferred: loaded per command (pandas, DuckDB, the analysis), keeping `--help` quick
    from keycities.analysis.testbed.from_store import rollout_from_store
    from keycities.present.testbed import rollout_view

    if not 0 < level < 1:
        raise KeycitiesError(f"--level {level}: give a level between 0 and 1, e.g. 0.9.")
    ctx = context(store, mirror)
    address, n = engine(ctx, cluster, workers)
    key, pilots = _pilots(ctx, evaluations, outcome, n, address)
    result = rollout_from_store(ctx.store, key, pilots, to=_codes(ctx, to, at),
                                features=_features(features), alpha=1 - level)
    frame, notes = rollout_view(result)
    print_frame(frame, fmt, title=f"Roll-out of a policy piloted in {len(pilots)} place(s): "
                f"predicted effect on {result.outcome['label']}", notes=notes,
                payload=result.payload(),
                units={"predicted": "share", "low": "share", "high": "share"})
