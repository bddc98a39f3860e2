"""Productivity-gap calculator: the store adapter and the notes.

Loads members' productivity and labour (mapped onto the members' boundaries)
and the national benchmark rows from the evidence store, hands them to the
pure core in :mod:`keycities.analysis.productivity.core`, where the formula lives,
and words the result's notes (formula, benchmark with its values, basis,
data caveats).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from keycities.analysis.productivity.core import (
    BASES,
    ENGLAND,
    MEASURES,
    PATHS,
    REGIONS,
    UKX,
    WEEKS_PER_YEAR,
    MeasureInputs,
    MeasureSpec,
    ProductivityResult,
    Scenario,
    Sensitivity,
    benchmark_codes,
    check_basis,
    implied_weeks,
    member_inputs,
    path_shares,
    pounds,
    sensitivity,
    uplift_from_inputs,
)
from keycities.errors import KeycitiesError
from keycities.geography.areas import LAD_PREFIXES
from keycities.geography.tables import GeographyTables
from keycities.network.register import Network
from keycities.store.store import Store

#: The unsmoothed series whose product is an area's total GVA (£).
GVA_PARTS = ("gva_per_filled_job_unsmoothed", "filled_jobs")


def productivity_from_store(store: Store, network: Network, *, at: dt.date,
                            year: int | None = None, measure: str = "job",
                            benchmark: str = "england", region: str | None = None,
                            benchmark_basis: str = "totals", horizon: int = 10,
                            path: str = "immediate", converge_years: int | None = None,
                            growth: float = 0.0, negative: bool = False
                            ) -> ProductivityResult:
    """Productivity-gap uplift of ``network``'s members on ``at`` from the evidence store.

    ``year`` is the data's base year (default the latest); ``measure`` 'job'
    (GVA per filled job) or 'hour' (GVA per hour worked); ``benchmark_basis``
    'totals' (default: total GVA / total labour, unsmoothed, as the issue
    defines it) or 'smoothed' (from the published smoothed ratios, like for
    like with the members); the other options as in
    :func:`~keycities.analysis.productivity.core.benchmark_from_rows` and
    :func:`~keycities.analysis.productivity.core.uplift`.  Members are those on
    ``at``, on that date's boundaries.
    """
    spec = _spec(measure)
    benchmark_codes(benchmark, region)
    check_basis(benchmark_basis)
    sc = Scenario(horizon, path, converge_years, growth, negative)
    path_shares(sc)
    members, vm, geo = _network_inputs(store, network, at)
    inputs = load_inputs(store, spec, members, year=year, vintage=vm, geo=geo)
    res = productivity_from_inputs(inputs, benchmark=benchmark, region=region,
                                   basis=benchmark_basis, scenario=sc)
    res.context, res.releases, notes = _about(store, network, at, vm, [inputs])
    res.notes += [*notes, total_note(res)]
    return res


def sensitivity_from_store(store: Store, network: Network, *, at: dt.date,
                           year: int | None = None, measures: Sequence[str] = ("job", "hour"),
                           benchmarks: Sequence[str] = ("england", "england-ex-london", "uk"),
                           bases: Sequence[str] = BASES, paths: Sequence[str] = PATHS,
                           horizons: Sequence[int] = (5, 10),
                           converge_years: int | None = None, growth: float = 0.0,
                           negative: bool = False, region: str | None = None) -> Sensitivity:
    """:func:`~keycities.analysis.productivity.core.sensitivity` for ``network`` on ``at``
    from the evidence store: measure × benchmark × basis × path × horizon.

    A measure the store lacks for ``year`` gives rows marked unavailable.
    """
    from keycities.store.queries import NoDataError

    for b in bases:
        check_basis(b)
    members, vm, geo = _network_inputs(store, network, at)
    inputs: dict[str, MeasureInputs | str] = {}
    for key in measures:
        try:
            inputs[key] = load_inputs(store, _spec(key), members, year=year, vintage=vm,
                                      geo=geo)
        except NoDataError as exc:
            inputs[key] = str(exc)
    sc = Scenario(converge_years=converge_years, growth=growth, negative=negative)
    rows = sensitivity(inputs, benchmarks=benchmarks, bases=bases, paths=paths,
                       horizons=horizons, scenario=sc, region=region)
    context, releases, notes = _about(
        store, network, at, vm, [i for i in inputs.values() if not isinstance(i, str)])
    notes[:0] = [
        "Each row: annual uplift U = Σ max(0, B − p_i) × L_i (B − p_i with negative) and "
        "cumulative = Σ over t = 1..horizon of U × s(t) × (1 + g)^t; linear and exponential "
        "paths converge over the horizon unless converge_years is given (exponential: 95% "
        "closed at year N).",
        "Basis 'totals': B = total GVA / total labour (unsmoothed, the default); 'smoothed': "
        "B from the published smoothed ratios, like for like with the members' smoothed "
        "figures.",
        f"The table varies measure ({', '.join(measures)}) × benchmark "
        f"({', '.join(benchmarks)}) × basis ({', '.join(bases)}) × path "
        f"({', '.join(paths)}) × horizon ({', '.join(map(str, horizons))} years); growth "
        f"g = {growth:g}, negative = {negative}"
        + (f", N = {converge_years}" if converge_years else "") + " in every row."]
    return Sensitivity(rows, context, releases, notes)


def _spec(measure: str) -> MeasureSpec:
    if measure not in MEASURES:
        raise KeycitiesError(f"Unknown productivity measure {measure!r}: use 'job' (GVA per "
                             "filled job) or 'hour' (GVA per hour worked).")
    return MEASURES[measure]


def _network_inputs(store: Store, network: Network, at: dt.date) -> tuple[
        pd.DataFrame, int, GeographyTables]:
    from keycities.analysis.headline import check_members, geography_from_store, member_vintage

    members = network.members_at(at)
    check_members(members, network.name, at)
    return members, member_vintage(at), geography_from_store(store)


def load_inputs(store: Store, spec: MeasureSpec, members: pd.DataFrame, *, year: int | None,
                vintage: int, geo: GeographyTables
                ) -> MeasureInputs:
    """Members' productivity and labour on ``vintage`` boundaries, and the national rows.

    Raises
    ------
    keycities.store.queries.NoDataError
        When the store lacks the measure (for ``year``).
    """
    return store.memo(("productivity inputs", spec, members.to_json(), year, vintage),
                      lambda: _load_inputs(store, spec, members, year=year, vintage=vintage,
                                           geo=geo))


def _load_inputs(store: Store, spec: MeasureSpec, members: pd.DataFrame, *, year: int | None,
                 vintage: int, geo: GeographyTables) -> MeasureInputs:
    from keycities.geography.mapping import ratio_to_vintage
    from keycities.store.queries import choose_slice

    s = choose_slice(store, spec.productivity, period=year, prefer_vintage=vintage)
    values = _paired_values(store, spec, s)
    lad = values[values["area_code"].str[:3].isin(LAD_PREFIXES)]
    xw = geo.crosswalk(s.geography_vintage, vintage)
    gva = pd.DataFrame({"area_code": lad["area_code"],
                        "value": lad["productivity"] * lad["labour"]})
    mapped = ratio_to_vintage(gva, lad[["area_code", "labour"]].rename(
        columns={"labour": "value"}), xw)
    per = member_inputs(members, mapped, vintage=vintage, names=geo.names)
    national, nat_id, weeks = _national_rows(store, spec, s.period)
    eng = lad[lad["area_code"].str[:3].isin(LAD_PREFIXES[:4])]
    check = float((eng["productivity"] * eng["labour"]).sum() / eng["labour"].sum()) \
        if eng["labour"].sum() else None
    ids = tuple(dict.fromkeys([s.release_id, *([nat_id] if nat_id else [])]))
    about = (f"unsmoothed GVA per filled job × filled jobs of {nat_id}, which gives back "
             "ONS's total GVA(B)" if nat_id else "")
    return MeasureInputs(spec, s.period, per, national, ids, s.geography_vintage, check,
                         weeks, about)


def _paired_values(store: Store, spec: MeasureSpec, s: Any) -> pd.DataFrame:
    """area_code, productivity, labour (× the measure's factor) of one release's slice."""
    from keycities.store.queries import NoDataError, slice_values

    p = slice_values(store, s)
    lab = slice_values(store, replace(s, measure=spec.labour))
    if lab.empty:
        raise NoDataError(f"{s.release_id} has no {spec.labour} for {s.period} to pair with "
                          f"{spec.productivity}.", measure_loaded=True)
    out = p[["area_code", "value"]].rename(columns={"value": "productivity"}).merge(
        lab[["area_code", "value"]].rename(columns={"value": "labour"}), on="area_code")
    out["labour"] = out["labour"] * spec.labour_factor
    return out


def _national_rows(store: Store, spec: MeasureSpec, period: int
                   ) -> tuple[pd.DataFrame, str | None, float | None]:
    """UKX, England and region rows (area_code, productivity, labour, gva) from the
    newest release that has England, its id, and (hour measure) the implied weeks.

    ``gva`` is the area's total GVA in £: unsmoothed GVA per filled job × filled
    jobs of the same release (NaN where the release lacks the unsmoothed series).
    """
    from keycities.store.queries import NoDataError, slices

    for s in slices(store, spec.productivity, period=period, lad_only=False):
        try:
            rows = _paired_values(store, spec, s)
        except NoDataError:
            continue
        rows = rows[rows["area_code"].isin({UKX, ENGLAND, *REGIONS})]
        if ENGLAND in set(rows["area_code"]):
            gva = _product(store, s, *GVA_PARTS)
            rows = rows.assign(gva=rows["area_code"].map(gva))
            weeks = _weeks(store, s) if spec.key == "hour" else None
            return rows.reset_index(drop=True), s.release_id, weeks
    return pd.DataFrame(columns=["area_code", "productivity", "labour", "gva"]), None, None


def _series(store: Store, s: Any, measure: str) -> pd.Series:
    from keycities.store.queries import slice_values

    return slice_values(store, replace(s, measure=measure)).set_index("area_code")["value"]


def _product(store: Store, s: Any, ratio: str, labour: str) -> pd.Series:
    """``ratio × labour`` by area code, in the release, period and vintage of ``s``."""
    return (_series(store, s, ratio) * _series(store, s, labour)).dropna()


def _weeks(store: Store, s: Any) -> float | None:
    """:func:`implied_weeks` over the ITL1 rows (which partition UKX) of ``s``'s release."""
    parts = [_series(store, s, m) for m in (*GVA_PARTS, "gva_per_hour_worked_unsmoothed",
                                            "hours_worked_weekly")]
    codes = [c for c in REGIONS if all(c in p.index for p in parts)]
    if not codes:
        return None
    return implied_weeks(*(p[codes] for p in parts))


def _about(store: Store, network: Network, at: dt.date, vm: int,
           inputs: Sequence[MeasureInputs]) -> tuple[dict[str, Any], pd.DataFrame, list[str]]:
    """Context, provenance rows of the releases used, and membership notes."""
    from keycities.analysis.headline import membership_notes
    from keycities.store.queries import release_info

    context = {"network": network.id, "name": network.name, "at": at.isoformat(),
               "member_vintage": vm,
               "data_geography_vintage": inputs[0].geography_vintage if inputs else None}
    releases = release_info(store, sorted({r for i in inputs for r in i.release_ids}))
    return context, releases, membership_notes(network, at)


# ------------------------------------------------------------------ notes


def productivity_from_inputs(inputs: MeasureInputs, *, benchmark: str = "england",
                             region: str | None = None, basis: str = "totals",
                             scenario: Scenario | None = None) -> ProductivityResult:
    """:func:`~keycities.analysis.productivity.core.uplift_from_inputs` on ``basis``, with
    notes and, in ``alternative``, the totals on the other basis."""
    scenario = scenario or Scenario()
    res = uplift_from_inputs(inputs, benchmark=benchmark, region=region, basis=basis,
                             scenario=scenario)
    other = BASES[1 - BASES.index(basis)]
    try:
        alt = uplift_from_inputs(inputs, benchmark=benchmark, region=region, basis=other,
                                 scenario=scenario)
    except KeycitiesError as exc:
        res.alternative = {"basis": other, "unavailable": str(exc)}
    else:
        res.alternative = {"basis": other, "benchmark": alt.benchmark.value,
                           "annual_uplift": alt.annual_uplift,
                           "cumulative_uplift": alt.cumulative_uplift,
                           "unavailable": alt.unavailable}
    res.notes = method_notes(res, inputs)
    return res


def method_notes(res: ProductivityResult, inputs: MeasureInputs) -> list[str]:
    """Human sentences: formula, benchmark and its basis, data caveats, members."""
    return [formula_note(res), benchmark_note(res, inputs), basis_note(res),
            *_data_notes(res, inputs), *_member_notes(res)]


def benchmark_note(res: ProductivityResult, inputs: MeasureInputs) -> str:
    """B: what was divided by what, with the values, and the rows used."""
    b, spec = res.benchmark, res.measure
    gva = f"; GVA: {inputs.gva_basis}" if b.basis == "totals" and inputs.gva_basis else ""
    return (f"Benchmark B ({b.label}, {inputs.period}, {b.basis} basis) = {b.formula} = "
            f"{pounds(b.value, spec)} per {spec.key}{gva} (rows {', '.join(b.codes)} of "
            f"{inputs.release_ids[-1]}).")


def basis_note(res: ProductivityResult) -> str:
    """The benchmark's basis against the members' smoothed figures, and the totals on
    the other basis, so the size of that choice is in view."""
    b, alt, spec = res.benchmark, res.alternative, res.measure
    smoothed = ("ONS's smoothed series (a 5-year weighted moving average, the only one "
                "published for districts)")
    if b.basis == "totals":
        text = (f"Basis: the benchmark is unsmoothed (total GVA / total {spec.labour_short}, "
                f"as the issue defines it) while member figures are {smoothed}; a smoothed "
                "series lags a rising trend, so an unsmoothed benchmark widens the gaps when "
                "productivity is rising.")
    else:
        text = (f"Basis: the benchmark is formed from smoothed ratios, like for like with "
                f"the member figures ({smoothed}); the default is unsmoothed total GVA / "
                f"total {spec.labour_short}.")
    if alt.get("benchmark") is None:
        return text + f" The {alt.get('basis')} basis is unavailable: {alt.get('unavailable')}"
    diff = b.value / alt["benchmark"] - 1
    text += (f" Here B is {abs(diff):.2%} {'above' if diff >= 0 else 'below'} the "
             f"{alt['basis']}-basis B ({pounds(alt['benchmark'], spec)})")
    if alt.get("annual_uplift") is None or res.annual_uplift is None:
        return text + "."
    return text + (f"; on the {alt['basis']} basis the annual uplift is "
                   f"£{alt['annual_uplift'] / 1e9:,.2f}bn and the cumulative "
                   f"£{alt['cumulative_uplift'] / 1e9:,.2f}bn over {res.scenario.horizon} "
                   f"years (against £{res.annual_uplift / 1e9:,.2f}bn and "
                   f"£{(res.cumulative_uplift or 0) / 1e9:,.2f}bn here).")


def _data_notes(res: ProductivityResult, inputs: MeasureInputs) -> list[str]:
    spec, y, notes = res.measure, inputs.period, []
    eng = inputs.national.set_index("area_code")["productivity"].get(ENGLAND)
    if res.benchmark.key == "england" and inputs.lad_check is not None and eng:
        notes.append(f"Check: English districts' smoothed {spec.label} aggregated "
                     f"(Σ p L / Σ L) gives {pounds(inputs.lad_check, spec)}, "
                     f"{inputs.lad_check / eng - 1:+.2%} against England's published "
                     f"smoothed row ({pounds(eng, spec)}): each published ratio is smoothed "
                     "separately, so smoothed ratios do not add up exactly.")
    if spec.key == "hour":
        w = inputs.implied_weeks
        seen = (f"in {y} the unsmoothed ITL1 rows give Σ GVA per job × jobs / Σ GVA per "
                f"hour × weekly hours = {w:.2f} weeks" if w is not None
                else f"not checked for {y}: no unsmoothed rows")
        notes.append(f"Annual hours = weekly hours × WEEKS_PER_YEAR ({WEEKS_PER_YEAR:g}), the "
                     f"factor that reconciles ONS's unsmoothed per-hour and per-job series "
                     f"({seen}); 365.25/7 = 52.18 weeks would overstate hours by "
                     f"{365.25 / 7 / WEEKS_PER_YEAR - 1:.2%}.")
    notes.append(f"Member productivity is ONS smoothed current-price GVA(B) ({spec.unit}), "
                 f"{y}, Official Statistics in Development; labour ({spec.labour_label}) is "
                 f"held at {y} levels; £ are {y} current prices.")
    return notes


def _member_notes(res: ProductivityResult) -> list[str]:
    per, b, spec = res.members, res.benchmark, res.measure
    notes = [f"{n} ({c}): {t}." for n, c, t in zip(per["name"], per["code"], per["basis"],
                                                   strict=True) if t]
    above = per[per["gap"] < 0]
    if len(above):
        how = "subtract (negative option)" if res.scenario.negative else "count zero"
        notes.append(f"{len(above)} member(s) above the benchmark {how}: "
                     + ", ".join(above["name"]) + ".")
    outside = per[~per["code"].str.startswith("E")]
    if len(outside) and b.key in ("england", "england-ex-london"):
        notes.append("Members outside England (" + ", ".join(outside["name"])
                     + f") are compared with the same {b.label} benchmark.")
    avg, net = res.average_gap, res.network_productivity
    if avg is not None and net is not None:
        notes.append(f"Total row: gap = annual uplift / total {spec.labour_short} = "
                     f"{pounds(avg, spec)} per {spec.key}, the average counted gap; B less "
                     f"the members' average productivity ({pounds(net, spec)}) is "
                     f"{pounds(b.value - net, spec)}.")
    return notes


def formula_note(res: ProductivityResult) -> str:
    """The formula with this result's options, in one sentence."""
    sc, n = res.scenario, res.scenario.n
    path = {"immediate": "s(t) = 1 (gap closed at once)",
            "linear": f"s(t) = min(t/{n}, 1) (equal steps, closed at year {n})",
            "exponential": f"s(t) = 1 − 0.05^(t/{n}) (a fixed share of the remaining gap "
                           f"closes each year; 95% closed at year {n})"}[sc.path]
    clamp = "B − p_i" if sc.negative else "max(0, B − p_i)"
    return (f"Annual uplift U = Σ_i {clamp} × L_i, where p_i is member i's "
            f"{res.measure.label}, L_i its {res.measure.labour_label} and B the benchmark; "
            f"year-t uplift = U × s(t) × (1 + g)^t with {path} and g = {sc.growth:g} "
            "(benchmark and cash gap grow at g); cumulative = Σ over t = 1.."
            f"{sc.horizon} of the year-t uplift.")


def total_note(res: ProductivityResult) -> str:
    """The closing sentence: the totals in £bn, or why they are unavailable."""
    if res.annual_uplift is None or res.cumulative_uplift is None:
        return f"Total unavailable: {res.unavailable}."
    return (f"Total: annual uplift £{res.annual_uplift / 1e9:,.2f}bn a year at full closure "
            f"({res.base_year} prices, {res.measure.label}, {res.benchmark.label} "
            f"benchmark, {res.benchmark.basis} basis); cumulative over "
            f"{res.scenario.horizon} years ({res.scenario.describe()}): "
            f"£{res.cumulative_uplift / 1e9:,.2f}bn.")


