"""Place features and peer groups from the evidence store.

The one place where the places capability meets the store:

* :func:`lad_features_from_store`: the feature table of every local authority
  district of a boundary vintage (each feature's source, period and mapping in
  its docstring);
* :func:`place_features`: the table of any place set (districts, postcode
  districts or sectors, a user's CSV);
* :func:`peers_from_store`: :func:`~keycities.analysis.places.peers.peers` over
  the districts.

The cores (:mod:`~keycities.analysis.places.features`,
:mod:`~keycities.analysis.places.place_sets`, :mod:`~keycities.analysis.places.peers`)
take DataFrames.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from keycities.analysis._store import geography_from_store
from keycities.analysis.indicators.from_store import annual_from_store
from keycities.analysis.indicators.library import load_library
from keycities.analysis.places.features import FeatureTable, Impute, standardise
from keycities.analysis.places.params import PLACE_SETS, is_csv
from keycities.analysis.places.peers import PeerResult, peers
from keycities.analysis.places.place_sets import (
    LENT_FEATURES,
    csv_features,
    load_places_csv,
    postcode_features,
)
from keycities.analysis.places.postcodes import PlaceSet
from keycities.errors import KeycitiesError
from keycities.geography.areas import LAD_PREFIXES, areas_in_vintage
from keycities.geography.mapping import ratio_to_vintage, to_vintage
from keycities.geography.spatial import area_km2
from keycities.sources import catalog
from keycities.sources.authorities import RELEASE as AUTHORITIES
from keycities.sources.postcode_places import Level
from keycities.sources.postcodes import OAC_RELEASE, ONSPD_RELEASE
from keycities.store import queries
from keycities.store.queries import (
    boundaries,
    choose_slice,
    oac_shares,
    postcode_profile,
    slice_values,
)
from keycities.store.store import Store

#: The postcode profile and OAC shares are made on this boundary vintage (ONSPD Nov 2025).
POSTCODE_VINTAGE = 2025


#: Feature key -> (label, unit).  OAC supergroup columns are added as ``oac_1`` .. ``oac_8``.
LAD_FEATURES: dict[str, tuple[str, str]] = {
    "leave_share": ("EU referendum Leave share", "share of valid votes"),
    "gva_per_job": ("GVA per filled job", "£ per filled job"),
    "gva_per_head": ("GVA per head", "£ per person"),
    "imd_score": ("IMD 2019 average score (England)", "score"),
    "earnings": ("Median gross weekly earnings (residence)", "£ per week"),
    "population": ("Population", "persons"),
    "postcode_density": ("Postcode density", "postcodes per km²"),
}


LOG_FEATURES = ("population", "gva_per_head", "postcode_density")


@dataclass
class _Built:
    """One feature (or the OAC block) on the target vintage, with its provenance."""
    values: pd.DataFrame  # index code, columns features
    reasons: pd.DataFrame  # place, feature, reason
    meta: list[dict[str, Any]]


def lad_features_from_store(store: Store, *, vintage: int = 2023,
                            features: Sequence[str] | None = None,
                            impute: Impute = "median",
                            extra: Sequence[str] = ()) -> FeatureTable:
    """Features of every LAD of ``vintage`` from the evidence store.

    * ``oac_1`` .. ``oac_8``: share of the LAD's postcodes in each 2011 OAC
      supergroup (store table ``oac_share``, on 2025 codes: postcode counts
      mapped to ``vintage`` with the crosswalk, shares recomputed);
    * ``leave_share``: EU referendum 2016 Leave / valid votes, votes mapped
      forward from the 2016 counting areas (Northern Ireland was counted as one
      area, so its districts have none);
    * ``gva_per_job``: GVA per filled job, latest year (subregional productivity);
    * ``gva_per_head``: GVA (current prices, latest year with LA values) / mid-year
      population of the same year, both mapped as counts (log-transformed);
    * ``imd_score``: IMD 2019 average score (England only; a score cannot be
      combined across a merger, so merged districts have none);
    * ``earnings``: median gross weekly earnings, residence-based;
    * ``population``: latest mid-year estimate (log-transformed);
    * ``postcode_density``: postcodes per km², area of the generalised boundary
      of ``vintage`` in an equal-area-enough grid (log-transformed).

    Parameters
    ----------
    store
        A built evidence store.
    vintage
        LAD boundary vintage of the places.
    features
        Feature keys to keep ('oac' or 'oac_*' for the eight shares); default all.
    impute
        Missing-value rule (see :func:`standardise`).
    extra
        Indicator ids of the library to add as features (each district's value in the
        indicator's latest year; ``features`` may name them too).

    Returns
    -------
    FeatureTable
    """
    _need_official_areas(store)
    geo = geography_from_store(store)
    lads = areas_in_vintage(geo.lads, vintage)
    codes = pd.Index(sorted(lads["code"]), name="code")
    wanted = _wanted(features) | _wanted(extra)
    parts, lacking = [], []
    for key, build in _BUILDERS.items():
        if key not in wanted:
            continue
        try:
            parts.append(build(store, geo, vintage))
        except queries.NoDataError as exc:
            lacking.append(f"{key}: {exc}")
    if lacking:
        raise KeycitiesError("The store lacks data these place features need. "
                             + " ".join(lacking))
    parts += [_library_feature(store, key, vintage) for key in sorted(wanted - set(_BUILDERS))]
    values = pd.concat([p.values for p in parts], axis=1).reindex(codes)
    if features is not None:
        values = values[[c for c in values.columns
                         if _selected(c, wanted, [*features, *extra])]]
    reasons = _missing_reasons(values, pd.concat([p.reasons for p in parts]), lads)
    meta = pd.DataFrame([m for p in parts for m in p.meta])
    places = _lad_places(store, geo, lads, vintage)
    notes = _store_notes(vintage)
    return standardise(values, meta=meta, log=[f for f in LOG_FEATURES if f in values],
                       impute=impute, reasons=reasons, places=places, vintage=vintage,
                       changes=geo.changes, notes=notes)


def _need_official_areas(store: Store) -> None:
    """Refuse, saying how to get them, when the store has only the package's LAD names."""
    if queries.official_area_count(store, besides=AUTHORITIES.id):
        return
    names = sorted(s.name for s in catalog.sources() if getattr(s, "table", "") == "area")
    raise KeycitiesError(
        "Place features need the official LAD lists of every UK vintage and the official "
        "statistics (population, GVA, earnings, the referendum, IMD), which are not in the "
        f"store: it holds only the package's names. The lists come from {', '.join(names)}. "
        "Run `keycities build --mirror DIR` with a copy of the official files, or "
        "`keycities build` where the official URLs are reachable.")


def _wanted(features: Sequence[str] | None) -> set[str]:
    """The builders and library indicators that ``features`` names (None: every builder)."""
    if features is None:
        return set(_BUILDERS)
    out = set()
    for f in features:
        key = "oac" if f == "oac" or f.startswith("oac_") else f
        if key not in _BUILDERS and key not in load_library():
            known = ", ".join(["oac", "oac_1..oac_8", *LAD_FEATURES])
            raise KeycitiesError(f"Unknown feature {f!r}. Known features: {known}, or any "
                                 "indicator id of the library (`keycities indicators`).")
        out.add(key)
    return out


def _selected(column: str, wanted: set[str], features: Sequence[str]) -> bool:
    if column.startswith("oac_"):
        return "oac" in features or column in features or "oac_*" in features
    return column in wanted


def _store_notes(vintage: int) -> list[str]:
    return [
        f"Places: the local authority districts of the {vintage} boundary vintage.",
        "Population, GVA per head and postcode density are log-transformed before "
        "standardising (all are strongly right-skewed).",
        "z = (value - mean) / sd, mean and sd (ddof=0) over the observed values.",
        "Postcode counts come from the ONS Postcode Directory and include terminated "
        "postcodes; OAC shares are shares of postcodes, not residents.",
        "Areas for postcode density come from generalised (clipped) boundaries, so "
        "densities are approximate.",
    ]


def _lad_places(store: Store, geo: Any, lads: pd.DataFrame, vintage: int) -> pd.DataFrame:
    p = lads.set_index("code")
    out = pd.DataFrame({"name": p["name"], "region_code": p["region_code"],
                        "region": p["region_name"], "country_code": p["country_code"],
                        "country": p["country_name"]}, index=p.index)
    outside = out["region"].isna() | (out["region"].astype(str) == "None")
    out.loc[outside, "region"] = out.loc[outside, "country"]
    out.loc[outside, "region_code"] = out.loc[outside, "country_code"]
    return out.join(_centroids(store, geo, vintage))


def _centroids(store: Store, geo: Any, vintage: int) -> pd.DataFrame:
    """Postcode-weighted mean lon/lat of each LAD, mapped from the postcode vintage."""
    prof = postcode_profile(store, POSTCODE_VINTAGE).rename(columns={"postcodes_with_grid": "n"})
    xw = geo.crosswalk(POSTCODE_VINTAGE, vintage)
    m = prof.merge(xw, left_on="code", right_on="from_code")
    m["w"] = m["n"] * m["weight"].fillna(0.0)
    g = m.assign(wlon=m["w"] * m["lon"], wlat=m["w"] * m["lat"]).groupby("to_code")
    s = g[["wlon", "wlat", "w"]].sum()
    return pd.DataFrame({"lon": s["wlon"] / s["w"], "lat": s["wlat"] / s["w"]})


def _missing_reasons(values: pd.DataFrame, reasons: pd.DataFrame,
                     lads: pd.DataFrame) -> pd.DataFrame:
    """Reasons for every gap: the mapping's reason, else one by country, else generic."""
    country = dict(zip(lads["code"], lads["country_name"], strict=False))
    given = {(p, f): r for p, f, r in zip(reasons["place"], reasons["feature"],
                                          reasons["reason"], strict=True) if r}
    rows = []
    for f in values.columns:
        for p in values.index[values[f].isna()]:
            rows.append({"place": p, "feature": f,
                         "reason": given.get((p, f)) or _country_reason(f, country.get(p))})
    return pd.DataFrame(rows, columns=["place", "feature", "reason"])


def _country_reason(feature: str, country: str | None) -> str:
    if feature == "imd_score" and country != "England":
        return (f"IMD 2019 covers England only ({country} has its own index, measured "
                "differently)")
    if feature == "leave_share" and country == "Northern Ireland":
        return "the 2016 referendum was counted for Northern Ireland as a whole"
    return "no value in the release (not published or suppressed for this area)"


def _mapped_reasons(mapped: pd.DataFrame, feature: str) -> pd.DataFrame:
    bad = mapped[mapped["value"].isna() & mapped["reason"].notna()]
    return pd.DataFrame({"place": bad["area_code"], "feature": feature,
                         "reason": bad["reason"].astype(str)})


def _one(feature: str, mapped: pd.DataFrame, period: str, release_ids: Sequence[str],
         note: str = "") -> _Built:
    label, unit = LAD_FEATURES[feature]
    vals = mapped.set_index("area_code")[["value"]].rename(columns={"value": feature})
    meta = {"feature": feature, "label": label, "unit": unit, "period": period,
            "release_ids": list(dict.fromkeys(release_ids)), "note": note}
    return _Built(vals, _mapped_reasons(mapped, feature), [meta])


def _lad_slice(store: Store, geo: Any, measure: str, vintage: int, *,
               period: int | None = None) -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    """(slice, LAD values recoded to the slice vintage, crosswalk to ``vintage``)."""
    s = choose_slice(store, measure, period=period, prefer_vintage=vintage)
    v = slice_values(store, s)
    v = v[v["area_code"].str[:3].isin(LAD_PREFIXES)].copy()
    v["area_code"] = geo.recode_stale(v["area_code"], s.geography_vintage)
    return s, v[["area_code", "value"]], geo.crosswalk(s.geography_vintage, vintage)


def _simple(feature: str, measure: str, kind: Any, note: str = "") -> Any:
    def build(store: Store, geo: Any, vintage: int) -> _Built:

        s, v, xw = _lad_slice(store, geo, measure, vintage)
        mapped = to_vintage(v, xw, kind=kind)
        return _one(feature, mapped, str(s.period), [s.release_id],
                    f"{measure}, {s.period}, release {s.release_id} on {s.geography_vintage} "
                    f"boundaries. {note}".strip())
    return build


def _gva_per_head(store: Store, geo: Any, vintage: int) -> _Built:
    s_g, gva, xw_g = _lad_slice(store, geo, "gva_current_prices", vintage)
    s_p, pop, xw_p = _lad_slice(store, geo, "population", vintage, period=s_g.period)
    num = to_vintage(gva, xw_g, kind="count")
    den = to_vintage(pop, xw_p, kind="count")
    j = num.merge(den, on="area_code", how="outer", suffixes=("_g", "_p")).set_index("area_code")
    value = 1e6 * j["value_g"] / j["value_p"].where(j["value_p"] > 0)
    reason = j["reason_g"].fillna(j["reason_p"])
    mapped = pd.DataFrame({"area_code": j.index, "value": value.to_numpy(),
                           "reason": reason.to_numpy()})
    note = (f"GVA {s_g.period} (£ million, {s_g.release_id}) × 1e6 / mid-{s_p.period} "
            f"population ({s_p.release_id}): the latest year with local-authority GVA, and "
            "the population estimate of the same year; both mapped to the target vintage "
            "as counts before dividing.")
    return _one("gva_per_head", mapped, str(s_g.period), [s_g.release_id, s_p.release_id],
                note)


def _leave_share(store: Store, geo: Any, vintage: int) -> _Built:
    s_l, leave, xw = _lad_slice(store, geo, "eu_ref_leave", vintage)
    _s_v, valid, _ = _lad_slice(store, geo, "eu_ref_valid_votes", vintage)
    mapped = ratio_to_vintage(leave, valid, xw)
    note = ("Leave / valid votes (the Electoral Commission's Pct_Leave); votes of the 2016 "
            "counting areas mapped forward and added, the share recomputed from votes.")
    return _one("leave_share", mapped, "2016", [s_l.release_id], note)


def _oac_shares(store: Store, geo: Any, vintage: int) -> _Built:
    rows = oac_shares(store, "supergroup").rename(columns={"code": "area_code",
                                                             "postcodes": "value"})
    xw = geo.crosswalk(POSTCODE_VINTAGE, vintage)
    num = to_vintage(rows[["area_code", "oac_code", "value"]], xw, kind="count")
    counts = num.pivot(index="area_code", columns="oac_code", values="value").fillna(0.0)
    # Shares recomputed from mapped counts: a merged area's share is not a mean of shares.
    wide = counts.div(counts.sum(axis=1).replace(0.0, np.nan), axis=0)
    wide.columns = [f"oac_{c}" for c in wide.columns]
    names = dict(zip(rows["oac_code"], rows["oac_name"], strict=False))
    ids = sorted(set(rows["release_id"]))
    meta = [{"feature": f"oac_{c}", "label": f"OAC supergroup {c}: {names[c]}",
             "unit": "share of postcodes", "period": "2011 OAC; postcodes Nov 2025",
             "release_ids": ids,
             "note": "Share of the LAD's OAC-classified postcodes in the supergroup; counts "
                     f"on {POSTCODE_VINTAGE} codes mapped to the target vintage."}
            for c in sorted(names)]
    return _Built(wide, pd.DataFrame(columns=["place", "feature", "reason"]), meta)


def _density(store: Store, geo: Any, vintage: int) -> _Built:
    prof = postcode_profile(store, POSTCODE_VINTAGE).rename(columns={"code": "area_code",
                                                                      "postcodes": "value"})
    bnd = boundaries(store, vintage)
    if bnd.empty:
        raise KeycitiesError(f"The store has no {vintage} boundaries for postcode density: "
                             "leave out 'postcode_density' or build the boundary release.")
    xw = geo.crosswalk(POSTCODE_VINTAGE, vintage)
    counts = to_vintage(prof[["area_code", "value"]], xw, kind="count").set_index("area_code")
    km2 = pd.Series(area_km2(bnd["code"].tolist(), bnd["geojson"].tolist()),
                    index=bnd["code"])
    value = counts["value"] / km2.reindex(counts.index)
    mapped = pd.DataFrame({"area_code": counts.index, "value": value.to_numpy(),
                           "reason": counts["reason"].to_numpy()})
    ids = [*sorted(set(prof["release_id"])), *sorted(set(bnd["release_id"]))]
    note = (f"Postcodes (ONSPD, {POSTCODE_VINTAGE} codes mapped to {vintage}) / land area of "
            f"the generalised {vintage} boundary in km² (EPSG:27700 in Great Britain, "
            "EPSG:2157 in Northern Ireland); generalisation makes areas approximate.")
    return _one("postcode_density", mapped, f"postcodes Nov 2025; {vintage} boundaries", ids,
                note)


def _library_feature(store: Store, indicator: str, vintage: int) -> _Built:
    """A library indicator as a feature: each district's value in the latest year with
    district values, mapped onto ``vintage`` by the indicator's own rule."""
    a = annual_from_store(store, indicator, vintage=vintage)
    year = int(a.values.columns.max())
    mapped = pd.DataFrame({"area_code": a.values.index, "value": a.values[year].to_numpy(),
                           "reason": [None if pd.notna(v) else f"no {year} value published "
                                      "or mappable" for v in a.values[year]]})
    label = str(a.meta.get("label") or indicator)
    meta = {"feature": indicator, "label": f"{label}, {year}", "unit": a.meta.get("unit"),
            "period": str(year), "release_ids": [a.releases[year]],
            "note": f"Library indicator {indicator}, on {vintage} boundaries by its own rule."}
    vals = mapped.set_index("area_code")[["value"]].rename(columns={"value": indicator})
    return _Built(vals, _mapped_reasons(mapped, indicator), [meta])


_BUILDERS: dict[str, Any] = {
    "oac": _oac_shares,
    "leave_share": _leave_share,
    "gva_per_job": _simple("gva_per_job", "gva_per_filled_job", "index",
                           "A ratio as published; not recomputed across mergers."),
    "gva_per_head": _gva_per_head,
    "imd_score": _simple("imd_score", "imd_average_score", "score",
                         "England only; an average score cannot be combined across a merger."),
    "earnings": _simple("earnings", "earnings_median_weekly_residence", "median",
                        "Residence-based (where people live), ASHE."),
    "population": _simple("population", "population", "count"),
    "postcode_density": _density,
}



def place_features(store: Store | None, places: str | Path = "lad", *, vintage: int = 2023,
                   impute: Impute = "median", extra: Sequence[str] = ()) -> FeatureTable:
    """The feature table of a place set.

    Parameters
    ----------
    store
        A built evidence store (for the LAD features, which postcode places
        borrow); not needed (None) for a CSV.
    places
        ``"lad"``, ``"district"``, ``"sector"`` or the path of a CSV of places
        (columns ``code``, ``name``, ``lat``, ``lon`` and numeric features).
    vintage
        LAD boundary vintage of ``"lad"`` places.
    impute
        Missing-value rule (see :func:`keycities.analysis.places.features.standardise`).
    extra
        Library indicator ids to add as features of ``"lad"`` places.

    Returns
    -------
    FeatureTable

    Raises
    ------
    KeycitiesError
        For an unknown place set or a CSV with problems (each with its line).
    """
    if is_csv(places):
        return csv_features(load_places_csv(Path(places)), impute=impute)
    if places not in PLACE_SETS:
        raise KeycitiesError(f"Unknown place set {places!r}: use lad, district, sector or the "
                             "path of a CSV file of places.")
    if store is None:
        raise KeycitiesError(f"Place set {places!r} needs the evidence store: run "
                             "`keycities build` first.")
    if places == "lad":
        return lad_features_from_store(store, vintage=vintage, impute=impute, extra=extra)
    lad = lad_features_from_store(store, vintage=POSTCODE_VINTAGE,
                                  features=[*LENT_FEATURES, "oac"], impute=impute)
    level: Level = "district" if places == "district" else "sector"
    return postcode_features(lad, postcode_place_set(store, level), impute=impute)


def postcode_place_set(store: Store, level: Level) -> PlaceSet:
    """The postcode districts or sectors the store holds (built from the package data)."""
    places, oac, notes = queries.postcode_place_set(store, level)
    releases = (ONSPD_RELEASE.id, OAC_RELEASE.id)
    return PlaceSet(level, places, oac, releases, notes)



def peers_from_store(store: Store, place_code: str, *, vintage: int = 2023,
                     weights: Mapping[str, float] | str = "overall", k: int = 15,
                     exclude: Collection[str] = frozenset(), exclude_same_region: bool = False,
                     exclude_family: bool = True, impute: Impute = "median",
                     rng: np.random.Generator | None = None,
                     perturbations: int = 200) -> PeerResult:
    """Peers of a LAD of ``vintage`` from the evidence store.

    Builds the LAD feature table
    (:func:`keycities.analysis.places.features.lad_features_from_store`; library
    indicator ids among the ``weights`` are added as features) and calls :func:`peers`;
    see there for the parameters.
    """
    extra = [] if isinstance(weights, str) else [f for f in weights if f in load_library()]
    table = lad_features_from_store(store, vintage=vintage, impute=impute, extra=extra)
    return peers(table, place_code, weights=weights, k=k, exclude=exclude,
                 exclude_same_region=exclude_same_region, exclude_family=exclude_family,
                 rng=rng, perturbations=perturbations)
