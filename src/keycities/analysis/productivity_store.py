"""Productivity-gap calculator: the store adapter.

Loads members' productivity and labour (mapped onto the members' boundaries)
and the national benchmark rows from the evidence store, and hands them to the
pure core in :mod:`keycities.analysis.productivity`, where the formula lives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pandas as pd

from keycities.analysis.productivity import (
    ENGLAND,
    LAD_PREFIXES,
    MEASURES,
    PATHS,
    REGIONS,
    UKX,
    MeasureInputs,
    MeasureSpec,
    ProductivityResult,
    Scenario,
    Sensitivity,
    benchmark_codes,
    member_inputs,
    path_shares,
    productivity_from_inputs,
    sensitivity,
    total_note,
)
from keycities.errors import KeycitiesError
from keycities.network.register import Network
from keycities.store.store import Store


def productivity_from_store(store: Store, network: Network, *, at: dt.date,
                            year: int | None = None, measure: str = "job",
                            benchmark: str = "england", region: str | None = None,
                            horizon: int = 10, path: str = "immediate",
                            converge_years: int | None = None, growth: float = 0.0,
                            negative: bool = False) -> ProductivityResult:
    """Productivity-gap uplift of ``network``'s members on ``at`` from the evidence store.

    ``year`` is the data's base year (default the latest); ``measure`` 'job'
    (GVA per filled job) or 'hour' (GVA per hour worked); the other options as
    in :func:`benchmark_from_rows` and :func:`uplift`.  Members are those on
    ``at``, on that date's boundaries.
    """
    spec = _spec(measure)
    benchmark_codes(benchmark, region)
    sc = Scenario(horizon, path, converge_years, growth, negative)
    path_shares(sc)
    members, vm, geo = _network_inputs(store, network, at)
    inputs = load_inputs(store, spec, members, year=year, vintage=vm, geo=geo)
    res = productivity_from_inputs(inputs, benchmark=benchmark, region=region, scenario=sc)
    res.context, res.releases, notes = _about(store, network, at, vm, [inputs])
    res.notes += [*notes, total_note(res)]
    return res


def sensitivity_from_store(store: Store, network: Network, *, at: dt.date,
                           year: int | None = None, measures: Sequence[str] = ("job", "hour"),
                           benchmarks: Sequence[str] = ("england", "england-ex-london", "uk"),
                           paths: Sequence[str] = PATHS, horizons: Sequence[int] = (5, 10),
                           converge_years: int | None = None, growth: float = 0.0,
                           negative: bool = False, region: str | None = None) -> Sensitivity:
    """:func:`sensitivity` for ``network`` on ``at`` from the evidence store.

    A measure the store lacks for ``year`` gives rows marked unavailable.
    """
    from keycities.store.queries import NoDataError

    members, vm, geo = _network_inputs(store, network, at)
    inputs: dict[str, MeasureInputs | str] = {}
    for key in measures:
        try:
            inputs[key] = load_inputs(store, _spec(key), members, year=year, vintage=vm,
                                      geo=geo)
        except NoDataError as exc:
            inputs[key] = str(exc)
    sc = Scenario(converge_years=converge_years, growth=growth, negative=negative)
    rows = sensitivity(inputs, benchmarks=benchmarks, paths=paths, horizons=horizons,
                       scenario=sc, region=region)
    context, releases, notes = _about(
        store, network, at, vm, [i for i in inputs.values() if not isinstance(i, str)])
    notes.insert(0, "Each row: annual uplift U = Σ max(0, B − p_i) × L_i (B − p_i with "
                 "negative) and cumulative = Σ over t = 1..horizon of U × s(t) × (1 + g)^t; "
                 "linear and exponential paths converge over the horizon unless "
                 "converge_years is given (exponential: 95% closed at year N).")
    return Sensitivity(rows, context, releases, notes)


def _spec(measure: str) -> MeasureSpec:
    if measure not in MEASURES:
        raise KeycitiesError(f"Unknown productivity measure {measure!r}: use 'job' (GVA per "
                             "filled job) or 'hour' (GVA per hour worked).")
    return MEASURES[measure]


def _network_inputs(store: Store, network: Network, at: dt.date) -> tuple[
        pd.DataFrame, int, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    from keycities.analysis.headline import check_members, member_vintage
    from keycities.geography.areas import lad_table, with_changes
    from keycities.store.queries import geography_tables

    members = network.members_at(at)
    check_members(members, network.name, at)
    area_rows, changes, _aliases, weights = geography_tables(store)
    return members, member_vintage(at), (with_changes(lad_table(area_rows), changes),
                                         changes, weights)


def load_inputs(store: Store, spec: MeasureSpec, members: pd.DataFrame, *, year: int | None,
                vintage: int, geo: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]
                ) -> MeasureInputs:
    """Members' productivity and labour on ``vintage`` boundaries, and the national rows.

    Raises
    ------
    keycities.store.queries.NoDataError
        When the store lacks the measure (for ``year``).
    """
    from keycities.geography.mapping import crosswalk, ratio_to_vintage
    from keycities.store.queries import choose_slice

    s = choose_slice(store, spec.productivity, period=year, prefer_vintage=vintage)
    values = _paired_values(store, spec, s)
    lad = values[values["area_code"].str[:3].isin(LAD_PREFIXES)]
    lads, changes, weights = geo
    xw = crosswalk(lads, changes, source=s.geography_vintage, target=vintage, weights=weights)
    gva = pd.DataFrame({"area_code": lad["area_code"],
                        "value": lad["productivity"] * lad["labour"]})
    mapped = ratio_to_vintage(gva, lad[["area_code", "labour"]].rename(
        columns={"labour": "value"}), xw)
    per = member_inputs(members, mapped, vintage=vintage,
                        names=dict(zip(lads["code"], lads["name"], strict=False)))
    national, nat_id = _national_rows(store, spec, s.period)
    eng = lad[lad["area_code"].str[:3].isin(LAD_PREFIXES[:4])]
    check = float((eng["productivity"] * eng["labour"]).sum() / eng["labour"].sum()) \
        if eng["labour"].sum() else None
    ids = tuple(dict.fromkeys([s.release_id, *([nat_id] if nat_id else [])]))
    return MeasureInputs(spec, s.period, per, national, ids, s.geography_vintage, check)


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


def _national_rows(store: Store, spec: MeasureSpec, period: int) -> tuple[pd.DataFrame,
                                                                           str | None]:
    """UKX, England and region rows from the newest release that has England."""
    from keycities.store.queries import NoDataError, slices

    for s in slices(store, spec.productivity, period=period, lad_only=False):
        try:
            rows = _paired_values(store, spec, s)
        except NoDataError:
            continue
        rows = rows[rows["area_code"].isin({UKX, ENGLAND, *REGIONS})]
        if ENGLAND in set(rows["area_code"]):
            return rows.reset_index(drop=True), s.release_id
    return pd.DataFrame(columns=["area_code", "productivity", "labour"]), None


def _about(store: Store, network: Network, at: dt.date, vm: int,
           inputs: Sequence[MeasureInputs]) -> tuple[dict[str, Any], pd.DataFrame, list[str]]:
    """Context, provenance rows of the releases used, and membership notes."""
    from keycities.analysis.headline import departures
    from keycities.store.queries import release_info

    context = {"network": network.id, "name": network.name, "at": at.isoformat(),
               "member_vintage": vm,
               "data_geography_vintage": inputs[0].geography_vintage if inputs else None}
    releases = release_info(store, sorted({r for i in inputs for r in i.release_ids}))
    snap = network.snapshot_at(at)
    notes = [] if snap is None else [
        f"Members: the list in document {snap.document} ({snap.title}), in force from "
        f"{snap.in_force}.", *departures(network, since=snap.in_force, at=at)]
    return context, releases, notes
