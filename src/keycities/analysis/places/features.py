"""Place features for peer groups and twinning: raw values, z-scores, missing values.

Formulation
-----------
For a table of raw values ``x_if`` (place ``i``, feature ``f``):

* a stated transform first: ``t_if = ln(x_if)`` for heavily skewed positive
  quantities (population, postcode density, GVA per head: a few places are
  many times the median; the City of London's GVA per head is over 400 times
  it) and ``t_if = x_if`` otherwise;
* missing values are never zero-filled.  ``impute='median'`` puts the median of
  the observed ``t_.f`` in each gap and records (place, feature, rule, reason);
  ``impute='exclude'`` drops every place with a gap in any feature and records
  (place, reason);
* ``z_if = (t_if - m_f) / s_f`` with ``m_f`` and ``s_f`` the mean and the
  population standard deviation (ddof = 0) of the *observed* ``t_.f`` of the
  places kept (imputed values do not shrink the spread).  ``m_f`` and ``s_f``
  are recorded in ``meta``; a feature with ``s_f = 0`` gets ``z = 0`` and a note.

This is the standardisation of CIPFA's Nearest Neighbours Model (indicators
standardised to mean 0 and standard deviation 1 before distances are taken;
https://www.cipfa.org/services/cipfastats/nearest-neighbour-model).

The core (:func:`standardise`) takes DataFrames; :func:`lad_features_from_store`
builds the local-authority features from the evidence store (see its docstring
for each feature's source, period and mapping to the target vintage).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.errors import KeycitiesError
from keycities.geography.areas import LAD_PREFIXES
from keycities.store.store import Store

Impute = Literal["median", "exclude"]
META_COLUMNS = ("feature", "label", "unit", "period", "release_ids", "transform", "mean", "sd",
                "observed", "imputed", "note")
PLACE_COLUMNS = ("name", "region_code", "region", "country_code", "country", "lon", "lat")


@dataclass
class FeatureTable:
    """Features of a set of places: raw, standardised, and what was done about gaps.

    Treat it as immutable once made: ``names``, ``regions`` and ``countries``
    are computed once from ``places``.

    Attributes
    ----------
    values
        Raw values, index = place code, one column per feature; NaN = missing.
        Every place of the set, including excluded ones.
    z
        Standardised values of the places kept (no NaN), same columns.
    meta
        One row per feature: feature, label, unit, period, release_ids,
        transform ('none' | 'log'), mean, sd (of the transformed observed
        values), observed, imputed (counts), note.
    imputed
        place, feature, rule, value (the transformed value put in), reason.
    excluded
        place, reason.
    places
        Index = place code: name, region_code, region, country_code, country,
        lon, lat (region is the country outside England).
    """

    values: pd.DataFrame
    z: pd.DataFrame
    meta: pd.DataFrame
    imputed: pd.DataFrame
    excluded: pd.DataFrame
    places: pd.DataFrame
    vintage: int | None = None
    changes: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def features(self) -> list[str]:
        """Feature keys, in column order."""
        return list(self.z.columns)

    @cached_property
    def names(self) -> dict[str, str]:
        """Place code -> name."""
        return {str(k): str(v) for k, v in self.places["name"].items()}

    @cached_property
    def regions(self) -> dict[str, str]:
        """Place code -> region (England) or country (elsewhere)."""
        return {str(k): str(v) for k, v in self.places["region"].items()}

    @cached_property
    def countries(self) -> dict[str, str]:
        """Place code -> country name."""
        return {str(k): str(v) for k, v in self.places["country"].items()}

    @property
    def centroids(self) -> pd.DataFrame:
        """lon, lat per place (postcode-weighted mean position; NaN when unknown)."""
        return self.places[["lon", "lat"]]

    @property
    def release_ids(self) -> list[str]:
        """Every release the features rest on."""
        ids = {r for v in self.meta["release_ids"] for r in v}
        return sorted(ids)

    def to_frame(self) -> pd.DataFrame:
        """One row per place: code, name, region, country, kept, raw values, z-scores."""
        df = self.places[["name", "region", "country"]].copy()
        df["kept"] = df.index.isin(self.z.index)
        raw = self.values.add_prefix("raw_")
        z = self.z.add_prefix("z_")
        out = df.join(raw).join(z)
        out.index.name = "code"
        return out.reset_index()

    def payload(self) -> dict[str, Any]:
        """Plain data: places, features (meta), imputations, exclusions, notes, releases."""
        return jsonable({
            "vintage": self.vintage, "features": self.meta, "places": self.to_frame(),
            "imputed": self.imputed, "excluded": self.excluded, "notes": list(self.notes),
            "releases": self.release_ids,
        })


def standardise(values: pd.DataFrame, *, meta: pd.DataFrame | None = None,
                log: Collection[str] = (), impute: Impute = "median",
                reasons: pd.DataFrame | None = None, places: pd.DataFrame | None = None,
                vintage: int | None = None, changes: pd.DataFrame | None = None,
                notes: Sequence[str] = ()) -> FeatureTable:
    """Standardise a feature table, handling missing values by a stated rule.

    See the module docstring for the formulation.

    Parameters
    ----------
    values
        Raw values: index = place code, one numeric column per feature.
    meta
        Optional per-feature description (feature, label, unit, period,
        release_ids, note); missing fields are filled with blanks.
    log
        Features to log-transform (all observed values must be positive).
    impute
        'median' (fill each gap with the feature's median, recorded) or
        'exclude' (drop places with any gap, recorded).
    reasons
        Why values are missing: columns place, feature, reason.  Gaps without
        a stated reason get "no value in the source".
    places
        Place attributes (index = code; columns of ``PLACE_COLUMNS``).

    Returns
    -------
    FeatureTable

    Raises
    ------
    KeycitiesError
        On an unknown rule, a log of a non-positive value, or no place left.
    """
    if impute not in ("median", "exclude"):
        raise KeycitiesError(f"Unknown missing-value rule {impute!r}: use 'median' or 'exclude'.")
    values = values.astype(float)
    unknown = sorted(set(log) - set(values.columns))
    if unknown:
        raise KeycitiesError(f"Cannot log-transform {unknown}: not features of the table.")
    notes = list(notes)
    values, dropped = _drop_empty(values)
    notes.extend(dropped)
    t = _transform(values, log)
    why = _reason_lookup(reasons)
    gaps = [(p, f, why.get((p, f), "no value in the source"))
            for f in t.columns for p in t.index[t[f].isna()]]
    if impute == "exclude":
        excluded = _exclusions(gaps)
        t = t.drop(index=list(excluded["place"]))
        imputed = pd.DataFrame(columns=["place", "feature", "rule", "value", "reason"])
    else:
        excluded = pd.DataFrame(columns=["place", "reason"])
        t, imputed = _impute_median(t, gaps)
    if t.empty:
        raise KeycitiesError("No place is left after excluding those with missing values: "
                             "use impute='median' or choose fewer features.")
    observed = t.mask(_imputed_mask(t, imputed))
    mean, sd = observed.mean(), observed.std(ddof=0)
    for f in sd.index[(sd == 0) | sd.isna()]:
        notes.append(f"{f} does not vary across the places kept: its z-score is 0 everywhere.")
    z = ((t - mean) / sd.replace(0.0, np.nan)).fillna(0.0)
    full_meta = _meta(values, meta, log, mean, sd, observed, imputed)
    return FeatureTable(values, z, full_meta, imputed, excluded,
                        _places(places, values.index), vintage, changes, notes)


def _drop_empty(values: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    empty = [c for c in values.columns if values[c].isna().all()]
    notes = [f"{c} has no value for any place: left out of the table." for c in empty]
    return values.drop(columns=empty), notes


def _transform(values: pd.DataFrame, log: Collection[str]) -> pd.DataFrame:
    t = values.copy()
    for f in log:
        if f not in t.columns:
            continue
        bad = t.index[t[f] <= 0]
        if len(bad):
            raise KeycitiesError(f"{f} has non-positive values ({', '.join(map(str, bad[:5]))})"
                                 ": it cannot be log-transformed; leave it out of `log`.")
        t[f] = np.log(t[f])
    return t


def _reason_lookup(reasons: pd.DataFrame | None) -> dict[tuple[str, str], str]:
    if reasons is None or reasons.empty:
        return {}
    return {(str(p), str(f)): str(r) for p, f, r in
            zip(reasons["place"], reasons["feature"], reasons["reason"], strict=True)}


def _exclusions(gaps: list[tuple[str, str, str]]) -> pd.DataFrame:
    by_place: dict[str, list[str]] = {}
    for p, f, r in gaps:
        by_place.setdefault(p, []).append(f"{f}: {r}")
    return pd.DataFrame({"place": list(by_place),
                         "reason": ["missing " + "; ".join(v) for v in by_place.values()]})


def _impute_median(t: pd.DataFrame, gaps: list[tuple[str, str, str]]
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    med = t.median()
    t = t.fillna(med)
    rows = [{"place": p, "feature": f, "rule": "median", "value": float(med[f]),
             "reason": r} for p, f, r in gaps]
    return t, pd.DataFrame(rows, columns=["place", "feature", "rule", "value", "reason"])


def _imputed_mask(t: pd.DataFrame, imputed: pd.DataFrame) -> pd.DataFrame:
    mask = pd.DataFrame(False, index=t.index, columns=t.columns)
    for p, f in zip(imputed["place"], imputed["feature"], strict=True):
        mask.loc[p, f] = True
    return mask


def _meta(values: pd.DataFrame, meta: pd.DataFrame | None, log: Collection[str],
          mean: pd.Series, sd: pd.Series, observed: pd.DataFrame,
          imputed: pd.DataFrame) -> pd.DataFrame:
    given = meta.set_index("feature") if meta is not None and len(meta) else pd.DataFrame()
    n_imp = imputed["feature"].value_counts() if len(imputed) else pd.Series(dtype=int)
    rows = []
    for f in values.columns:
        g = given.loc[f] if f in given.index else pd.Series(dtype=object)
        rows.append({
            "feature": f, "label": g.get("label", f), "unit": g.get("unit", ""),
            "period": g.get("period", ""), "release_ids": list(g.get("release_ids", []) or []),
            "transform": "log" if f in log else "none", "mean": float(mean[f]),
            "sd": float(sd[f]), "observed": int(observed[f].notna().sum()),
            "imputed": int(n_imp.get(f, 0)), "note": g.get("note", "")})
    return pd.DataFrame(rows, columns=list(META_COLUMNS))


def _places(places: pd.DataFrame | None, index: pd.Index) -> pd.DataFrame:
    base = pd.DataFrame(index=index, columns=list(PLACE_COLUMNS))
    base.index.name = "code"
    if places is not None:
        base.update(places.reindex(index)[[c for c in PLACE_COLUMNS if c in places.columns]])
    base["name"] = base["name"].fillna(pd.Series(index, index=index))
    return base


# ------------------------------------------------------------------ store adapter

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
                            impute: Impute = "median") -> FeatureTable:
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

    Returns
    -------
    FeatureTable
    """
    from keycities.analysis.headline import geography_from_store
    from keycities.geography.areas import areas_in_vintage

    geo = geography_from_store(store)
    lads = areas_in_vintage(geo.lads, vintage)
    codes = pd.Index(sorted(lads["code"]), name="code")
    wanted = _wanted(features)
    parts = [b(store, geo, vintage) for key, b in _BUILDERS.items() if key in wanted]
    values = pd.concat([p.values for p in parts], axis=1).reindex(codes)
    if features is not None:
        values = values[[c for c in values.columns if _selected(c, wanted, features)]]
    reasons = _missing_reasons(values, pd.concat([p.reasons for p in parts]), lads)
    meta = pd.DataFrame([m for p in parts for m in p.meta])
    places = _lad_places(store, geo, lads, vintage)
    notes = _store_notes(vintage)
    return standardise(values, meta=meta, log=[f for f in LOG_FEATURES if f in values],
                       impute=impute, reasons=reasons, places=places, vintage=vintage,
                       changes=geo.changes, notes=notes)


def _wanted(features: Sequence[str] | None) -> set[str]:
    if features is None:
        return set(_BUILDERS)
    out = set()
    for f in features:
        key = "oac" if f == "oac" or f.startswith("oac_") else f
        if key not in _BUILDERS:
            known = ", ".join(["oac", "oac_1..oac_8", *LAD_FEATURES])
            raise KeycitiesError(f"Unknown feature {f!r}. Known features: {known}.")
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
    prof = store.query("SELECT code, postcodes_with_grid AS n, lon, lat FROM postcode_profile "
                       "WHERE geography_vintage = ?", [POSTCODE_VINTAGE])
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
    from keycities.store.queries import choose_slice, slice_values

    s = choose_slice(store, measure, period=period, prefer_vintage=vintage)
    v = slice_values(store, s)
    v = v[v["area_code"].str[:3].isin(LAD_PREFIXES)].copy()
    v["area_code"] = geo.recode_stale(v["area_code"], s.geography_vintage)
    return s, v[["area_code", "value"]], geo.crosswalk(s.geography_vintage, vintage)


def _simple(feature: str, measure: str, kind: Any, note: str = "") -> Any:
    def build(store: Store, geo: Any, vintage: int) -> _Built:
        from keycities.geography.mapping import to_vintage

        s, v, xw = _lad_slice(store, geo, measure, vintage)
        mapped = to_vintage(v, xw, kind=kind)
        return _one(feature, mapped, str(s.period), [s.release_id],
                    f"{measure}, {s.period}, release {s.release_id} on {s.geography_vintage} "
                    f"boundaries. {note}".strip())
    return build


def _gva_per_head(store: Store, geo: Any, vintage: int) -> _Built:
    from keycities.geography.mapping import to_vintage

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
    from keycities.geography.mapping import ratio_to_vintage

    s_l, leave, xw = _lad_slice(store, geo, "eu_ref_leave", vintage)
    _s_v, valid, _ = _lad_slice(store, geo, "eu_ref_valid_votes", vintage)
    mapped = ratio_to_vintage(leave, valid, xw)
    note = ("Leave / valid votes (the Electoral Commission's Pct_Leave); votes of the 2016 "
            "counting areas mapped forward and added, the share recomputed from votes.")
    return _one("leave_share", mapped, "2016", [s_l.release_id], note)


def _oac_shares(store: Store, geo: Any, vintage: int) -> _Built:
    from keycities.geography.mapping import to_vintage

    rows = store.query("SELECT code AS area_code, oac_code, oac_name, postcodes AS value, "
                       "release_id FROM oac_share WHERE level = 'supergroup'")
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
    from keycities.geography.mapping import to_vintage

    prof = store.query("SELECT code AS area_code, postcodes AS value, release_id FROM "
                       "postcode_profile WHERE geography_vintage = ?", [POSTCODE_VINTAGE])
    bnd = store.query("SELECT code, geojson, release_id FROM boundary WHERE "
                      "geography_vintage = ?", [vintage])
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


def area_km2(codes: Sequence[str], geojson: Sequence[str]) -> list[float]:
    """Area in km² of lon/lat GeoJSON geometries, projected with pyproj.

    Great Britain in the British National Grid (EPSG:27700), Northern Ireland
    (codes starting 'N') in Irish Transverse Mercator (EPSG:2157): both are
    transverse Mercator grids whose scale error over their territory is
    below about 0.1 %, small against the error of generalised boundaries.
    """
    import shapely
    from pyproj import Transformer

    out = []
    grids = {"GB": Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True),
             "NI": Transformer.from_crs("EPSG:4326", "EPSG:2157", always_xy=True)}
    for code, text in zip(codes, geojson, strict=True):
        tr = grids["NI" if code.startswith("N") else "GB"]
        geom = shapely.from_geojson(text if isinstance(text, str) else json.dumps(text))
        proj = shapely.transform(geom, lambda xy, tr=tr: np.column_stack(
            tr.transform(xy[:, 0], xy[:, 1])))
        out.append(float(shapely.area(proj)) / 1e6)
    return out


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
