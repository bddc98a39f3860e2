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

The core (:func:`standardise`) takes DataFrames;
:func:`keycities.analysis.places.from_store.lad_features_from_store` builds the
local-authority features from the evidence store (see its docstring for each
feature's source, period and mapping to the target vintage).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.errors import KeycitiesError

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
    def families(self) -> dict[str, frozenset[str]]:
        """Place code -> its parent/child geography (:func:`family`), filled on use."""
        return {}

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



