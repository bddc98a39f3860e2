"""Testbeds from the evidence store: outcome panels, places, donor pools, evaluations.

The one place where the testbed capability meets the store: every function
here loads its inputs and hands them to a core that takes DataFrames
(:mod:`~keycities.analysis.testbed.panel`, :mod:`~keycities.analysis.testbed.evaluate`,
:mod:`~keycities.analysis.testbed.transfer`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from keycities.analysis._parallel import Progress
from keycities.analysis.places.features import Impute
from keycities.analysis.places.from_store import lad_features_from_store, peers_from_store
from keycities.analysis.productivity.core import Scenario, path_shares
from keycities.analysis.testbed._indicator_store import indicator_panel_parts
from keycities.analysis.testbed._panel_store import build_parts
from keycities.analysis.testbed.choose import TestbedChoice
from keycities.analysis.testbed.evaluate import (
    DEFAULT_RULES,
    DonorRules,
    TestbedDesign,
    TestbedEvaluation,
    design_panel,
    evaluate_panel,
)
from keycities.analysis.testbed.outcomes import get_outcome
from keycities.analysis.testbed.panel import (
    DEFAULT_VINTAGE,
    DonorPool,
    Panel,
    donor_pool,
    place_finder,
)
from keycities.analysis.testbed.plan import (
    DEFAULT_FEATURES,
    ChooseSpec,
    choose_testbeds,
    rollout_scale,
)
from keycities.analysis.testbed.rollout import ALPHA as ROLLOUT_ALPHA
from keycities.analysis.testbed.rollout import Rollout, predict_rollout
from keycities.analysis.testbed.spillover import spillovers
from keycities.analysis.testbed.synth import similar_donors
from keycities.analysis.testbed.transfer import By, TransferResult, transfer_ranking
from keycities.errors import Param, ParameterError
from keycities.geography.names import Place, PlaceResolver
from keycities.geography.spatial import haversine_km
from keycities.geography.tables import GeographyTables
from keycities.geography.vintage import check_vintage
from keycities.store.queries import geography_tables, slices
from keycities.store.store import Store


def outcome_panel(store: Store, outcome: str, *, vintage: int | None = None,
                  years: Iterable[int] | None = None, release: str | None = None) -> Panel:
    """The annual panel of ``outcome`` for every LAD of ``vintage``, from the store.

    See the module docstring for the formulation.

    Parameters
    ----------
    store
        A built evidence store.
    outcome
        A key of :data:`OUTCOMES`.
    vintage
        LAD boundary vintage of the panel; default the vintage of the newest
        year's release.  Medians stay on the publisher's vintage.
    years
        Years wanted; default every year the store has.
    release
        Use only this release of the outcome's measure (one consistent
        vintage of the series; for ``gva_per_head`` the GVA release).

    Returns
    -------
    Panel

    Raises
    ------
    KeycitiesError
        Unknown outcome or release, a vintage outside the covered range, or no
        data for the years asked.
    """
    spec = get_outcome(outcome)
    if vintage is not None:
        check_vintage(vintage)
    want = None if years is None else sorted({int(y) for y in years})
    if spec.library:
        return Panel(**indicator_panel_parts(store, spec, vintage=vintage, want=want))
    return Panel(**build_parts(store, spec, vintage=vintage, want=want, release=release))


def place_resolver(store: Store) -> PlaceResolver:
    """A :class:`~keycities.geography.names.PlaceResolver` over the store's LADs and aliases.

    Built once per open store (:meth:`~keycities.store.store.Store.memo`): an evaluation
    resolves its testbeds and its donors' places with it, and building it maps the
    change list (it is read-only once built).
    """
    def build() -> PlaceResolver:
        area, changes, aliases, weights = geography_tables(store)
        geo = GeographyTables.from_rows(area, changes, weights)
        return PlaceResolver(geo.lads, aliases, changes=geo.changes)

    return store.memo("testbed place resolver", build)


def resolve_places(store: Store, names: Sequence[str], vintage: int | None) -> list[Place]:
    """Places (codes, names or aliases: "Hull", "E08000032") as LADs of ``vintage``.

    Raises
    ------
    keycities.errors.UnknownPlaceError, keycities.errors.AmbiguousPlaceError
        With the closest names or the candidates.
    keycities.geography.names.PlaceNotInVintageError
        A place that is not a district of ``vintage`` (says what it became).
    """
    return place_resolver(store).resolve_many(list(names), vintage=vintage)


def _store_places(store: Store, vintage: int) -> tuple[pd.DataFrame, Callable[[str], str]]:
    """The LADs of ``vintage`` with centroids and regions (as the feature table has them),
    and a resolver of any name, alias or code to one of them."""
    # Once per store and vintage (read-only): the donor pool is drawn twice when donors
    # are chosen by their outcome path, and each draw built the feature table.
    places = store.memo(("testbed places", vintage), lambda: lad_features_from_store(
        store, vintage=vintage, features=["population"]).places)
    resolver = place_resolver(store)
    in_table = place_finder(places)

    def find(query: str) -> str:
        return in_table(resolver.resolve(query, vintage=vintage).code)

    return places, find



def donor_pool_from_store(store: Store, treated: Sequence[str], *, vintage: int | None = None,
                          panel: Panel | pd.DataFrame | None = None, **rules: Any) -> DonorPool:
    """:func:`~keycities.analysis.testbed.panel.donor_pool` over the LADs of ``vintage``.

    The places are the LADs of ``vintage`` (default the panel's, else
    :data:`~keycities.analysis.testbed.panel.DEFAULT_VINTAGE`) with centroids
    and regions as the feature table has them; treated places and the rules'
    places may be any name, alias or code.  ``rules`` are donor_pool's keywords.
    """
    v = vintage or (panel.vintage if isinstance(panel, Panel) else None) or DEFAULT_VINTAGE
    places, find = _store_places(store, v)
    return donor_pool(places, treated, panel=panel, vintage=v, find=find, **rules)


def _resolve(store: Store, places: Sequence[str], vintage: int) -> list[str]:

    return [p.code for p in resolve_places(store, places, vintage)]


def _peer_codes(store: Store, treated: Sequence[str], k: int, vintage: int) -> list[str]:

    out: set[str] = set()
    for code in treated:
        res = peers_from_store(store, code, vintage=vintage, k=k, perturbations=20)
        out |= set(res.peers["code"])
    return sorted(out - set(treated))


def _inputs(store: Store, panel: Panel, starts: Mapping[str, int], rules: DonorRules
            ) -> tuple[DonorPool, pd.DataFrame, dict[str, list[str]] | None]:
    """The donor pool (every place a testbed may be compared with), the panel's rows of
    the testbeds and donors, and each testbed's own pool (None: all share the pool)."""
    treated = list(starts)
    only = _peer_codes(store, treated, rules.peers, panel.vintage) if rules.peers else None
    pool = donor_pool_from_store(store, treated, min_km=rules.min_km,
                                 same_region=rules.same_region, only=only,
                                 leave_out=rules.leave_out, panel=panel, vintage=panel.vintage)
    own: dict[str, list[str]] | None = None
    if rules.similar and len(pool.donors) > rules.similar:
        rows = panel.values.loc[[*treated, *pool.donors]]
        own = {t: similar_donors(rows, t, y, rules.similar, exclude=treated)
               for t, y in starts.items()}
        keep = sorted({d for ds in own.values() for d in ds})
        only = sorted(set(only or pool.donors) & set(keep))
        pool = donor_pool_from_store(store, treated, min_km=rules.min_km,
                                     same_region=rules.same_region, only=only,
                                     leave_out=rules.leave_out, panel=panel,
                                     vintage=panel.vintage)
        pool = replace(pool, notes=(*pool.notes, _similar_note(rules, len(treated))))
        if rules.pools == "shared" or len(treated) == 1:
            own = None
    _check_enough(pool, rules)
    values = panel.values.loc[[*treated, *pool.donors]]
    return pool, values, own


def _similar_note(rules: DonorRules, treated: int) -> str:
    if rules.pools == "each" and treated > 1:
        return (f"Donors: each testbed's own {rules.similar} places whose pre-policy outcome "
                "path is closest to its own, among those the other rules allow (the pool "
                "listed is their union).")
    return (f"Donors: the {rules.similar} places whose pre-policy outcome path is closest to "
            "each testbed's (their union), among those the other rules allow.")


def _check_enough(pool: DonorPool, rules: DonorRules) -> None:
    if len(pool.donors) >= 5:
        return
    set_rules = [Param(name) for name in ("min_km", "same_region", "peers", "similar")
                 if getattr(rules, name)]
    relax: list[str | Param] = []
    for i, rule in enumerate(set_rules):
        relax += [", " if 0 < i < len(set_rules) - 1 else " or " if i else "", rule]
    raise ParameterError(f"Only {len(pool.donors)} comparison places are left after the "
                         "donor rules", *([": relax ", *relax] if relax else []), ".")


def evaluate_from_store(store: Store, outcome: str, starts: Mapping[str, int], *,
                        rules: DonorRules = DEFAULT_RULES, vintage: int | None = None,
                        with_did: bool = True, workers: int = 2,
                        progress: Progress | None = None,
                        cluster: str | None = None, spill: bool = False) -> TestbedEvaluation:
    """Evaluate a pilot in ``starts`` (place name or code -> first policy year).

    Parameters
    ----------
    store
        A built evidence store.
    outcome
        An outcome key of :data:`keycities.analysis.testbed.panel.OUTCOMES`.
    starts
        Treated places and the first year of the policy in each (staggered allowed).
    rules
        Donor-pool rules (spillover exclusions, peers only).
    vintage
        LAD boundary vintage (default: the outcome's newest release's).
    with_did
        Also estimate difference-in-differences and the event study.
    workers
        Processes for the placebo loop.
    progress
        Called with (done, total) as placebo fits finish.
    cluster
        A Dask scheduler's address for the placebo runs (None: local processes).
    spill
        Also measure spillovers on rings of neighbours and vary the exclusion radius
        (:mod:`keycities.analysis.testbed.spillover`).

    Returns
    -------
    TestbedEvaluation
    """
    panel = outcome_panel(store, outcome, vintage=vintage)
    codes = _resolve(store, list(starts), panel.vintage)
    by_code = {c: int(y) for c, y in zip(codes, starts.values(), strict=True)}
    pool, values, own = _inputs(store, panel, by_code, rules)
    result = evaluate_panel(panel, pool, values, by_code, with_did=with_did, workers=workers,
                            progress=progress, cluster=cluster, donors=own)
    if spill:
        places, _ = _store_places(store, panel.vintage)
        geo = places.reindex(panel.values.index)
        km = pd.DataFrame(haversine_km(geo["lat"].to_numpy(float), geo["lon"].to_numpy(float)),
                          index=geo.index, columns=geo.index)
        result.spillovers = spillovers(panel.values, by_code, km, workers=workers,
                                       cluster=cluster, names=panel.names)
        result.notes += [*result.spillovers.notes, SPILL_ASSUMPTIONS]
    return result


def design_from_store(store: Store, outcome: str, place: str, start: int, *,
                      rules: DonorRules = DEFAULT_RULES, alpha: float = 0.05,
                      effects: Sequence[float] | None = None, vintage: int | None = None,
                      workers: int = 2, progress: Progress | None = None,
                      cluster: str | None = None) -> TestbedDesign:
    """Minimum detectable effect for a testbed ``place`` starting in ``start``.

    Effects are injected into the real outcome from ``start`` on; ``start`` must
    lie inside the years the store holds (choose a past year to see what would
    have been detectable: the power of the design on real data).
    """
    panel = outcome_panel(store, outcome, vintage=vintage)
    code = _resolve(store, [place], panel.vintage)[0]
    pool, values, _ = _inputs(store, panel, {code: start}, rules)
    return design_panel(panel, pool, values, code, start, alpha=alpha, effects=effects,
                        workers=workers, progress=progress, cluster=cluster)


SPILL_ASSUMPTIONS = ("Spillover assumptions: places beyond the outer band are untouched; "
                     "ring places would have followed their synthetic controls (equal "
                     "predictor weights) without the policy.")


def choose_from_store(store: Store, outcome: str, candidates: Sequence[str],
                      spec: ChooseSpec, *, rollout: Sequence[str] | None = None,
                      features: Sequence[str] | None = None, vintage: int | None = None,
                      workers: int = 2, cluster: str | None = None,
                      progress: Progress | None = None) -> TestbedChoice:
    """Choose ``spec.constraints.k`` testbeds among ``candidates`` (names or codes) for
    ``outcome`` (see :mod:`keycities.analysis.testbed.choose`).

    ``rollout``: the places the policy would go to next (default every place with
    features); ``features``: what the testbeds should represent (default
    :data:`~keycities.analysis.testbed.plan.DEFAULT_FEATURES`).  ``require`` and
    ``exclude`` in ``spec`` may be names too.
    """
    panel = outcome_panel(store, outcome, vintage=vintage)
    places, find = _store_places(store, panel.vintage)
    codes = list(dict.fromkeys(find(c) for c in candidates))
    con = replace(spec.constraints, require=tuple(find(c) for c in spec.constraints.require),
                  exclude=tuple(find(c) for c in spec.constraints.exclude))
    table = lad_features_from_store(store, vintage=panel.vintage,
                                    features=list(features or DEFAULT_FEATURES))
    roll = list(table.z.index) if rollout is None else [find(c) for c in rollout]
    labels = dict(zip(table.meta["feature"], table.meta["label"], strict=True))
    result = choose_testbeds(panel.values, places, table.z, codes, roll,
                             replace(spec, constraints=con), labels=labels, workers=workers,
                             cluster=cluster, progress=progress)
    result.outcome_label = panel.label
    result.notes += [f"Outcome: {panel.label} ({panel.unit}), {panel.vintage} boundaries; "
                     f"{len(table.z.columns)} features: "
                     f"{', '.join(labels.get(c, c) for c in table.z.columns)}."]
    return result


def rollout_from_store(store: Store, outcome: str, pilots: pd.DataFrame, *,
                       to: Sequence[str] | None = None, features: Sequence[str] = (),
                       range_features: Sequence[str] | None = None,
                       vintage: int | None = None, alpha: float = ROLLOUT_ALPHA) -> Rollout:
    """:func:`~keycities.analysis.testbed.rollout.predict_rollout` for ``outcome`` from the
    store: features standardised on the roll-out set ``to`` (names or codes; default
    every place with features), the pilots' range checked on ``range_features``
    (default ``features``, else :data:`~keycities.analysis.testbed.plan.DEFAULT_FEATURES`),
    and the national value weighted by each place's latest level (a count: the outcome
    itself; productivity: its GVA, £ a year, over the productivity calculator's horizon)."""
    spec = get_outcome(outcome)
    panel = outcome_panel(store, outcome, vintage=vintage)
    _, find = _store_places(store, panel.vintage)
    ranged = list(range_features or features or DEFAULT_FEATURES)
    table = lad_features_from_store(store, vintage=panel.vintage,
                                    features=list(dict.fromkeys([*features, *ranged])))
    codes = [find(c) for c in pilots["code"]]
    targets = list(table.z.index) if to is None else [find(c) for c in to]
    z = rollout_scale(table.z, targets, list(table.z.index))
    weights, unit, extra = _rollout_weights(store, spec.key, spec.kind, panel)
    res = predict_rollout(pilots.assign(code=codes), z, targets, features=list(features),
                          range_features=ranged, names=panel.names, weights=weights,
                          weight_unit=unit, alpha=alpha,
                          labels=dict(zip(table.meta["feature"], table.meta["label"],
                                          strict=True)))
    res.outcome = {"key": spec.key, "label": spec.label, "unit": spec.unit,
                   "vintage": panel.vintage, "level_year": max(panel.years)}
    if res.national:
        res.national.update(extra)
        f = extra.get("decade_factor")
        if f:
            res.national.update({k: res.national[v] * f for k, v in
                                 (("decade", "total"), ("decade_low", "low"),
                                  ("decade_high", "high"))})
    else:
        res.notes.append(f"No national total: {spec.label} is a {spec.kind}, which does not "
                         "add up across places; the predictions are relative effects.")
    return res


def _rollout_weights(store: Store, key: str, kind: str, panel: Panel
                     ) -> tuple[pd.Series | None, str, dict[str, Any]]:
    """Each place's level for the national value: (weights, unit, extras)."""
    year = max(panel.years)
    if kind == "count":
        return panel.values[year], panel.unit, {"year": year}
    if key != "gva_per_filled_job":
        return None, "", {}
    jobs = outcome_panel(store, "filled_jobs", vintage=panel.vintage)
    y = max(set(panel.years) & set(jobs.years))
    gva = panel.values[y] * jobs.values[y].reindex(panel.values.index)
    sc = Scenario()
    return gva, "£ a year", {
        "year": y, "decade_factor": float(path_shares(sc).factor.sum()),
        "basis": f"GVA = GVA per filled job x filled jobs ({y}), the productivity "
                 f"calculator's U = sum of gain per job x jobs; over {sc.horizon} years on its "
                 "immediate path with no growth"}


def transfer_from_store(store: Store, testbeds: Sequence[str], *, vintage: int = 2023,
                        features: Sequence[str] | None = None,
                        weights: Mapping[str, float] | str = "overall", k: int = 20,
                        exclude: Sequence[str] = (), by: By = "nearest",
                        impute: Impute = "median") -> TransferResult:
    """:func:`transfer_ranking` over the LADs of ``vintage`` from the evidence store.

    ``testbeds`` and ``exclude`` may be names, aliases or codes (resolved with
    the store's place names).  See :func:`transfer_ranking` for the rest.
    """
    codes = [p.code for p in resolve_places(store, testbeds, vintage)]
    left = [p.code for p in resolve_places(store, exclude, vintage)]
    table = lad_features_from_store(store, vintage=vintage, impute=impute)
    return transfer_ranking(table, codes, features=features, weights=weights, k=k,
                            exclude=left, by=by)


def release_panels(store: Store, outcome: str, *, vintage: int | None = None) -> list[Panel]:
    """An outcome's series without mixing releases: the newest release that has the latest
    year, then, for the years before its first, the newest release that has those; newest
    first.

    Each panel comes from one release (a derived outcome, from one release of its
    numerator), so a series drawn from them changes release only at a visible break:
    where one panel ends and the next begins.
    """
    spec = get_outcome(outcome)
    found = slices(store, spec.measure)
    if not found:
        return [outcome_panel(store, outcome, vintage=vintage)]  # raises the usual error
    out: list[Panel] = []
    before: int | None = None
    while True:
        have = [s for s in found if before is None or s.period < before]
        if not have:
            return out
        release = have[0].release_id  # newest release of the latest year left
        years = sorted({s.period for s in have if s.release_id == release})
        panel = outcome_panel(store, outcome, vintage=vintage, years=years, release=release)
        out.append(panel)
        before = min(panel.years)
