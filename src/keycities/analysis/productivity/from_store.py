"""Productivity-gap calculator: the store adapter.

Loads members' productivity and labour (mapped onto the members' boundaries)
and the national benchmark rows from the evidence store and hands them to the
pure core in :mod:`keycities.analysis.productivity.core`, where the formula lives;
:mod:`keycities.analysis.productivity.notes` words the result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from keycities.analysis._members import check_members, member_vintage, membership_notes
from keycities.analysis._store import geography_from_store, split_crosswalk
from keycities.analysis.productivity.core import (
    ENGLAND,
    MEASURES,
    REGIONS,
    UKX,
    MeasureInputs,
    MeasureSpec,
    ProductivityResult,
    Scenario,
    Sensitivity,
    benchmark_codes,
    check_basis,
    check_growth,
    implied_weeks,
    member_inputs,
    path_shares,
    sensitivity,
)
from keycities.analysis.productivity.notes import (
    productivity_from_inputs,
    sensitivity_notes,
    total_note,
)
from keycities.analysis.productivity.params import (
    BASIS,
    DEFAULT_BASIS,
    MEASURE,
    PATH,
    SENSITIVITY_BENCHMARKS,
)
from keycities.geography.areas import LAD_PREFIXES
from keycities.geography.mapping import ratio_to_vintage
from keycities.geography.tables import GeographyTables
from keycities.network.register import Network
from keycities.store.queries import (
    NoDataError,
    choose_slice,
    release_info,
    slice_values,
    slices,
)
from keycities.store.store import Store

#: The unsmoothed series whose product is an area's total GVA (£).
GVA_PARTS = ("gva_per_filled_job_unsmoothed", "filled_jobs")


def productivity_from_store(store: Store, network: Network, *, at: dt.date,
                            year: int | None = None, measure: str = "job",
                            benchmark: str = "england", region: str | None = None,
                            benchmark_basis: str = DEFAULT_BASIS, horizon: int = 10,
                            path: str = "immediate", converge_years: int | None = None,
                            growth: float = 0.0, negative: bool = False
                            ) -> ProductivityResult:
    """Productivity-gap uplift of ``network``'s members on ``at`` from the evidence store.

    ``year`` is the data's base year (default the latest); ``measure`` 'job'
    (GVA per filled job) or 'hour' (GVA per hour worked); ``benchmark_basis``
    'smoothed' (default: from the published smoothed ratios, like for like with
    the members' smoothed figures) or 'totals' (total GVA / total labour,
    unsmoothed); ``growth`` a yearly fraction within
    :data:`~.params.GROWTH_PERCENT`; the other options as in
    :func:`~keycities.analysis.productivity.core.benchmark_from_rows` and
    :func:`~keycities.analysis.productivity.core.uplift`.  Members are those on
    ``at``, on that date's boundaries.
    """
    spec = _spec(measure)
    benchmark_codes(benchmark, region)
    check_basis(benchmark_basis)
    check_growth(growth)
    sc = Scenario(horizon, PATH.check(path), converge_years, growth, negative)
    path_shares(sc)
    members, vm, geo = _network_inputs(store, network, at)
    inputs = load_inputs(store, spec, members, year=year, vintage=vm, geo=geo)
    res = productivity_from_inputs(inputs, benchmark=benchmark, region=region,
                                   basis=benchmark_basis, scenario=sc)
    res.context, res.releases, notes = _about(store, network, at, vm, [inputs])
    res.notes += [*notes, total_note(res)]
    return res


def sensitivity_from_store(store: Store, network: Network, *, at: dt.date,
                           year: int | None = None,
                           measures: Sequence[str] = MEASURE.values,
                           benchmarks: Sequence[str] = SENSITIVITY_BENCHMARKS,
                           bases: Sequence[str] = BASIS.values,
                           paths: Sequence[str] = PATH.values,
                           horizons: Sequence[int] = (5, 10),
                           converge_years: int | None = None, growth: float = 0.0,
                           negative: bool = False, region: str | None = None) -> Sensitivity:
    """:func:`~keycities.analysis.productivity.core.sensitivity` for ``network`` on ``at``
    from the evidence store: measure × benchmark × basis × path × horizon.

    A measure the store lacks for ``year`` gives rows marked unavailable.
    """
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
    notes[:0] = sensitivity_notes(measures=measures, benchmarks=benchmarks, bases=bases,
                                  paths=paths, horizons=horizons, growth=growth,
                                  negative=negative, converge_years=converge_years)
    return Sensitivity(rows, context, releases, notes)


def _spec(measure: str) -> MeasureSpec:
    return MEASURES[MEASURE.check(measure, f"Unknown productivity measure {measure!r}: use "
                                  "'job' (GVA per filled job) or 'hour' (GVA per hour worked).")]


def _network_inputs(store: Store, network: Network, at: dt.date) -> tuple[
        pd.DataFrame, int, GeographyTables]:

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

    s = choose_slice(store, spec.productivity, period=year, prefer_vintage=vintage)
    values = _paired_values(store, spec, s)
    lad = values[values["area_code"].str[:3].isin(LAD_PREFIXES)]
    # Both GVA and labour are split by the labour's weights, so a former district takes
    # its merged successor's productivity (nothing better is published for it).
    xw = split_crosswalk(store, geo, s, vintage, measure=spec.labour, codes=members["code"])
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
    context = {"network": network.id, "name": network.name, "at": at.isoformat(),
               "member_vintage": vm,
               "data_geography_vintage": inputs[0].geography_vintage if inputs else None}
    releases = release_info(store, sorted({r for i in inputs for r in i.release_ids}))
    return context, releases, membership_notes(network, at)



