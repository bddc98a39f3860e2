"""Transfer: where a policy piloted in testbeds would most plausibly work next.

Formulation
-----------
Places have standardised features ``z_if`` (:mod:`keycities.analysis.places.features`)
and the user weights them, ``w_f >= 0`` normalised to ``sum_f w_f = 1`` (a
preset of :mod:`keycities.analysis.places.peers` or one weight per feature).
For the testbeds ``T`` (the places the policy was piloted in):

* distance to a testbed ``d_it = sqrt(sum_f w_f (z_if - z_tf)^2)``
  (:func:`~keycities.analysis.places.peers.weighted_distances`);
* distance to the nearest testbed ``d_i = min_t d_it``, reached at ``t*(i)``;
* distance to the testbeds' centroid ``c_i = sqrt(sum_f w_f (z_if - zbar_f)^2)``,
  ``zbar_f = mean_t z_tf``.

Places are ranked by ``d_i`` (``by='nearest'``, the default) or by ``c_i``
(``by='centroid'``), ties by code.  The nearest testbed is the default because
a pilot's result travels to places that share the conditions under which it
worked in *some* testbed (Cartwright & Hardie, *Evidence-Based Policy*, OUP
2012); the centroid of two unlike testbeds may resemble neither.

Each place's squared distance to its reference (``t*`` or the centroid)
splits exactly into per-feature contributions ``w_f dz_f^2 / d^2``
(:func:`~keycities.analysis.places.peers.contributions`).  The reason names the
two features that contribute most (where the place differs) and the three
weighted features with the smallest ``|dz_f|`` among the rest (where it is
alike), each with both sides' raw values and units.

*Coverage* is the share of weighted features on which ``z_if`` lies within
the testbeds' range ``[min_t z_tf, max_t z_tf]``: outside it the pilot has
not been seen working in such conditions, so applying its result there is an
extrapolation (the concern of generalising trial results to a target
population: Stuart, Cole, Bradshaw & Leaf, *J. R. Stat. Soc. A* 174(2), 2011).

The core (:func:`transfer_ranking`) takes a
:class:`~keycities.analysis.places.features.FeatureTable`; :func:`transfer_from_store`
builds it from the store.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import Any, Literal

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities._util.units import feature_words
from keycities.analysis.places.features import FeatureTable
from keycities.analysis.places.peers import contributions, resolve_weights, weighted_distances
from keycities.errors import KeycitiesError, UnknownPlaceError

By = Literal["nearest", "centroid"]
#: Reference key of the testbeds' centroid in the contributions table.
CENTROID = "centroid"
ALIKE = 3
DIFFER = 2
RANK_COLUMNS = ("rank", "code", "name", "region", "country", "distance", "distance_nearest",
                "nearest_testbed", "nearest_testbed_name", "distance_centroid", "differ",
                "alike", "coverage", "outside", "extrapolation", "imputed_features", "reason")


@dataclass(frozen=True)
class TransferResult:
    """Places ranked by similarity to the testbeds, with reasons and coverage.

    Attributes
    ----------
    ranking
        One row per place (best first): rank, code, name, region, country,
        distance (the one ranked on), distance_nearest, nearest_testbed(_name),
        distance_centroid, differ / alike (feature keys), coverage (share of
        weighted features within the testbeds' range), outside (features
        outside it, with the side), extrapolation (coverage < 1),
        imputed_features, reason (a sentence with raw values and units).
    contributions
        One row per (place, feature): code, reference (testbed code or
        'centroid'), feature, label, unit, weight, z_place, z_reference,
        contribution (``w_f dz_f^2``), share (of ``d^2``), raw_place,
        raw_reference.
    testbed_profile
        One row per feature: label, unit, weight, each testbed's raw value,
        low and high z of the testbeds.
    excluded
        code, name, reason: places not ranked.
    """

    testbeds: tuple[str, ...]
    testbed_names: dict[str, str]
    by: str
    k: int
    weights: dict[str, float]
    preset: str | None
    ranking: pd.DataFrame
    contributions: pd.DataFrame
    testbed_profile: pd.DataFrame
    excluded: pd.DataFrame
    feature_meta: pd.DataFrame
    releases: tuple[str, ...]
    vintage: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        """One row per ranked place (see :attr:`ranking`)."""
        return self.ranking.copy()

    def payload(self) -> dict[str, Any]:
        """Plain data: inputs, ranked places with their contributions, profile, notes."""
        per = {c: g.drop(columns="code") for c, g in self.contributions.groupby("code")}
        rows = [{**r, "contributions": per.get(r["code"], pd.DataFrame())}
                for r in self.ranking.to_dict(orient="records")]
        return jsonable({
            "inputs": {"testbeds": [{"code": c, "name": self.testbed_names.get(c, c)}
                                    for c in self.testbeds],
                       "by": self.by, "k": self.k, "preset": self.preset,
                       "weights": self.weights, "vintage": self.vintage},
            "ranking": rows, "testbed_profile": self.testbed_profile.reset_index(),
            "excluded": self.excluded, "features": self.feature_meta,
            "notes": list(self.notes), "releases": list(self.releases)})


def transfer_ranking(table: FeatureTable, testbeds: Sequence[str], *,
                     features: Sequence[str] | None = None,
                     weights: Mapping[str, float] | str = "overall", k: int = 20,
                     exclude: Collection[str] = (), by: By = "nearest") -> TransferResult:
    """Rank places by how plausibly a policy piloted in ``testbeds`` would transfer to them.

    See the module docstring for the formulation.

    Parameters
    ----------
    table
        Standardised features (:func:`keycities.analysis.places.features.standardise`).
    testbeds
        Codes (or exact names) of the places the policy was piloted in.
    features
        Features to compare on (keys or fnmatch patterns such as ``'oac_*'``);
        default every feature of the table.
    weights
        A preset of :data:`keycities.analysis.places.peers.PRESETS` or a weight
        per feature (normalised to sum to 1).
    k
        Number of places returned.
    exclude
        Codes not to rank (e.g. places already running the policy).
    by
        'nearest' (distance to the nearest testbed) or 'centroid'.

    Returns
    -------
    TransferResult

    Raises
    ------
    KeycitiesError
        Unknown or excluded testbed (with the closest names), unknown feature,
        bad weights, ``k < 1``, an unknown ``by``, or no place left to rank.
    """
    if by not in ("nearest", "centroid"):
        raise KeycitiesError(f"Unknown ranking {by!r}: use 'nearest' or 'centroid'.")
    if k < 1:
        raise KeycitiesError(f"k must be at least 1 (got {k}).")
    tb = _resolve_testbeds(table, testbeds)
    z = table.z[select_features(table, features)]
    w, preset = resolve_weights(weights, list(z.columns))
    cands, excluded = _candidates(table, tb, exclude)
    dist = _distances(z, tb, cands, w)
    key = "distance_nearest" if by == "nearest" else "distance_centroid"
    order = np.lexsort((cands.to_numpy().astype(str), dist[key].to_numpy()))
    top = list(cands[order[:k]])
    refs = {c: str(dist.at[c, "nearest_testbed"]) if by == "nearest" else CENTROID
            for c in top}
    contrib = _contributions(table, z, tb, refs, w)
    cover = coverage(z, tb, w, top)
    ranking = _ranking(table, top, dist, key, contrib, cover, refs)
    return TransferResult(
        tuple(tb), {c: table.names.get(c, c) for c in tb}, by, k,
        {str(f): float(v) for f, v in w.items() if v > 0}, preset, ranking, contrib,
        _profile(table, z, tb, w), excluded, table.meta, tuple(table.release_ids),
        table.vintage, tuple(_notes(table, tb, w, preset, by, k, len(top))))


def select_features(table: FeatureTable, features: Sequence[str] | None) -> list[str]:
    """Feature keys of ``table`` matching ``features`` (keys or fnmatch patterns), in
    table order; every feature when None.

    Raises
    ------
    KeycitiesError
        A key or pattern that matches no feature (with the close ones).
    """
    have = table.features
    if features is None:
        return have
    for pat in features:
        if not any(fnmatch(f, pat) for f in have):
            close = difflib.get_close_matches(pat, have, n=3)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise KeycitiesError(f"Unknown feature {pat!r}.{hint} Features: {', '.join(have)}.")
    return [f for f in have if any(fnmatch(f, pat) for pat in features)]


def coverage(z: pd.DataFrame, testbeds: Sequence[str], weights: pd.Series,
             places: Sequence[str]) -> pd.DataFrame:
    """Share of weighted features on which each place lies within the testbeds' range.

    Returns
    -------
    pandas.DataFrame
        Index = place: coverage (0..1), outside (list of 'feature above' /
        'feature below').
    """
    used = [f for f in z.columns if weights.get(f, 0.0) > 0]
    lo, hi = z.loc[list(testbeds), used].min(), z.loc[list(testbeds), used].max()
    zp = z.loc[list(places), used]
    tol = 1e-9
    above, below = zp.gt(hi + tol), zp.lt(lo - tol)
    rows = {}
    for p in places:
        out = [f"{f} above" for f in used if above.at[p, f]]
        out += [f"{f} below" for f in used if below.at[p, f]]
        rows[p] = {"coverage": 1.0 - len(out) / len(used), "outside": out}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["coverage", "outside"])


def _resolve_testbeds(table: FeatureTable, testbeds: Sequence[str]) -> list[str]:
    if not testbeds:
        raise KeycitiesError("Give at least one testbed place.")
    by_name = {str(n).casefold(): c for c, n in table.names.items()}
    out = []
    for q in testbeds:
        code = q if q in table.z.index else by_name.get(str(q).casefold(), str(q).upper())
        if code not in table.z.index:
            if code in set(table.excluded["place"]):
                why = str(table.excluded.set_index("place").at[code, "reason"])
                raise KeycitiesError(f"Testbed {q} was left out of the feature table ({why}): "
                                     "build the table with impute='median' to keep it.")
            close = difflib.get_close_matches(str(q), list(table.names.values()), n=4)
            raise UnknownPlaceError(q, [f"{n} ({c})" for c, n in table.names.items()
                                        if n in close])
        out.append(code)
    return list(dict.fromkeys(out))


def _candidates(table: FeatureTable, testbeds: list[str], exclude: Collection[str]
                ) -> tuple[pd.Index, pd.DataFrame]:
    names = table.names
    reasons = dict.fromkeys(testbeds, "a testbed")
    for c in exclude:
        if c in table.z.index and c not in reasons:
            reasons[c] = "excluded by the caller"
    keep = table.z.index[~table.z.index.isin(list(reasons))]
    if len(keep) == 0:
        raise KeycitiesError("No place is left to rank after the testbeds and exclusions.")
    excluded = pd.DataFrame([{"code": c, "name": names.get(c, c), "reason": r}
                             for c, r in reasons.items()], columns=["code", "name", "reason"])
    return keep, excluded


def _with_centroid(z: pd.DataFrame, testbeds: list[str]) -> pd.DataFrame:
    centre = z.loc[testbeds].mean().to_frame(CENTROID).T
    return pd.concat([z, centre])


def _distances(z: pd.DataFrame, testbeds: list[str], cands: pd.Index, w: pd.Series
               ) -> pd.DataFrame:
    """distance_nearest, nearest_testbed, distance_centroid per candidate."""
    each = pd.DataFrame({t: weighted_distances(z, t, w).loc[cands] for t in testbeds})
    arr = each.to_numpy()
    nearest = arr.argmin(axis=1)  # first testbed wins a tie: testbeds keep the caller's order
    centre = weighted_distances(_with_centroid(z, testbeds), CENTROID, w).loc[cands]
    return pd.DataFrame({"distance_nearest": arr[np.arange(len(cands)), nearest],
                         "nearest_testbed": np.asarray(testbeds, dtype=object)[nearest],
                         "distance_centroid": centre.to_numpy()}, index=cands)


def _raw_reference(table: FeatureTable, testbeds: list[str]) -> pd.DataFrame:
    """Raw values of each testbed and of the centroid (columns), index = feature.

    The centroid's raw value is the back-transformed mean of the testbeds'
    transformed observed values: the geometric mean for log features.
    """
    raw = table.values.loc[testbeds].T
    logs = set(table.meta.loc[table.meta["transform"] == "log", "feature"])
    mean = pd.Series({f: float(np.exp(np.log(raw.loc[f]).mean())) if f in logs
                      else float(raw.loc[f].mean()) for f in raw.index})
    return raw.assign(**{CENTROID: mean})


def _contributions(table: FeatureTable, z: pd.DataFrame, testbeds: list[str],
                   refs: dict[str, str], w: pd.Series) -> pd.DataFrame:
    zc = _with_centroid(z, testbeds)
    parts = []
    for ref in dict.fromkeys(refs.values()):
        mine = [c for c, r in refs.items() if r == ref]
        c = contributions(zc, ref, mine, w).rename(columns={"z_place": "z_reference",
                                                           "z_peer": "z_place"})
        parts.append(c.assign(reference=ref))
    out = pd.concat(parts, ignore_index=True)
    raw: dict[Any, dict[Any, Any]] = table.values.to_dict(orient="index")
    raw_ref: dict[Any, dict[Any, Any]] = _raw_reference(table, testbeds).to_dict()
    out["raw_place"] = pd.Series([raw.get(c, {}).get(f, np.nan) for c, f in
                                  zip(out["code"], out["feature"], strict=True)], dtype=float)
    out["raw_reference"] = pd.Series([raw_ref.get(r, {}).get(f, np.nan) for r, f in
                                      zip(out["reference"], out["feature"], strict=True)],
                                     dtype=float)
    meta = table.meta.set_index("feature")
    out["label"] = out["feature"].map(meta["label"])
    out["unit"] = out["feature"].map(meta["unit"])
    order = {c: i for i, c in enumerate(refs)}
    out = out.sort_values(["code", "feature"], key=lambda s: s.map(order) if s.name == "code"
                          else s.map({f: i for i, f in enumerate(z.columns)}), kind="stable")
    return out[["code", "reference", "feature", "label", "unit", "weight", "z_place",
                "z_reference", "contribution", "share", "raw_place",
                "raw_reference"]].reset_index(drop=True)


def _explain(g: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(differ, alike) feature keys of one place's contribution rows."""
    g = g[g["weight"] > 0]
    differ = g[g["contribution"] > 0].nlargest(DIFFER, "contribution")["feature"].tolist()
    rest = g[~g["feature"].isin(differ)]
    gap = (rest["z_place"] - rest["z_reference"]).abs()
    alike = rest.assign(_gap=gap).sort_values(["_gap", "weight"], ascending=[True, False])
    return differ, alike["feature"].head(ALIKE).tolist()


def _ranking(table: FeatureTable, top: list[str], dist: pd.DataFrame, key: str,
             contrib: pd.DataFrame, cover: pd.DataFrame, refs: dict[str, str]
             ) -> pd.DataFrame:
    imp = table.imputed.groupby("place")["feature"].agg(list).to_dict() \
        if len(table.imputed) else {}
    names, rows = table.names, []
    by_code = {str(c): g for c, g in contrib.groupby("code")}
    d: dict[Any, dict[Any, Any]] = dist.to_dict(orient="index")
    cov: dict[Any, dict[Any, Any]] = cover.to_dict(orient="index")
    for i, c in enumerate(top, start=1):
        differ, alike = _explain(by_code[c])
        t = str(d[c]["nearest_testbed"])
        row = {"rank": i, "code": c, "name": names.get(c, c),
               "region": table.regions.get(c, ""), "country": table.countries.get(c, ""),
               "distance": float(d[c][key]), "distance_nearest": float(d[c]["distance_nearest"]),
               "nearest_testbed": t, "nearest_testbed_name": names.get(t, t),
               "distance_centroid": float(d[c]["distance_centroid"]),
               "differ": ", ".join(differ), "alike": ", ".join(alike),
               "coverage": float(cov[c]["coverage"]), "outside": ", ".join(cov[c]["outside"]),
               "extrapolation": bool(cov[c]["coverage"] < 1.0),
               "imputed_features": ", ".join(imp.get(c, []))}
        row["reason"] = _reason(row, by_code[c], refs[c], names, differ, alike,
                                list(cov[c]["outside"]))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(RANK_COLUMNS))


def _reason(row: dict[str, Any], g: pd.DataFrame, ref: str, names: dict[str, str],
            differ: list[str], alike: list[str], outside: list[str]) -> str:
    r: dict[Any, dict[Any, Any]] = g.set_index("feature").to_dict(orient="index")
    who = "the testbeds' centroid" if ref == CENTROID else names.get(ref, ref)
    other = (f"{row['distance_centroid']:.2f} to the testbeds' centroid" if ref != CENTROID
             else f"{row['distance_nearest']:.2f} to the nearest testbed, "
                  f"{row['nearest_testbed_name']}")
    text = f"Closest to {who} (d = {row['distance']:.2f}; {other})."

    def side(f: str, extra: str = "") -> str:
        unit, label = str(r[f]["unit"] or ""), r[f]["label"]
        name = str(label).split(": ", 1)[-1] if isinstance(label, str) and label else f
        return (f"{name} ({fmt_value(r[f]['raw_place'], unit)} vs "
                f"{fmt_value(r[f]['raw_reference'], unit)}{extra})")

    if alike:
        text += " Alike on " + "; ".join(side(f) for f in alike) + "."
    if differ:
        text += " Differs most on " + "; ".join(
            side(f, f", {float(r[f]['share']):.0%} of d²") for f in differ) + "."
    weighted = int((g["weight"] > 0).sum())
    if outside:
        shown = ", ".join(outside[:4]) + (", …" if len(outside) > 4 else "")
        text += (f" Outside the testbeds' range on {len(outside)} of {weighted} features "
                 f"({shown}): transferring the result there is an extrapolation.")
    else:
        text += " Within the testbeds' range on every weighted feature."
    return text


def fmt_value(x: Any, unit: str) -> str:
    """A raw value with its unit, for reasons: £48,537; 54.2%; 552,644; 34.7."""
    if x is None or (isinstance(x, float | np.floating) and np.isnan(x)):
        return "n/a (imputed)"
    v = float(x)
    if unit.startswith("£"):
        return f"£{v:,.0f}" if abs(v) >= 100 else f"£{v:,.2f}"
    if "share" in unit:
        return f"{v:.1%}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:,.1f}" if abs(v) >= 10 else f"{v:.2f}"


def _profile(table: FeatureTable, z: pd.DataFrame, testbeds: list[str], w: pd.Series
             ) -> pd.DataFrame:
    meta = table.meta.set_index("feature")
    out = pd.DataFrame({"label": meta["label"].reindex(z.columns),
                        "unit": meta["unit"].reindex(z.columns),
                        "weight": w.reindex(z.columns).fillna(0.0)}, index=z.columns)
    for t in testbeds:
        out[t] = table.values.loc[t].reindex(z.columns)
    out["z_low"] = z.loc[testbeds].min()
    out["z_high"] = z.loc[testbeds].max()
    out.index.name = "feature"
    return out


def _notes(table: FeatureTable, testbeds: list[str], w: pd.Series, preset: str | None,
           by: str, k: int, found: int) -> list[str]:
    words = feature_words(table.meta)
    used = ", ".join(f"{words.get(str(f), (f, ''))[0]} {v:.1%}" for f, v in w.items() if v > 0)
    rank = ("the distance to the nearest testbed (a pilot's result travels to places like "
            "one it ran in)" if by == "nearest" else "the distance to the testbeds' centroid")
    notes = [
        "d = sqrt(sum_f w_f (z_place,f - z_reference,f)^2) on standardised features, weights "
        f"normalised to sum to 1; places ranked by {rank}; contribution of a feature = "
        "w_f dz_f^2 / d^2.",
        f"Weights ({preset or 'user'}): {used}.",
        "Coverage: the share of weighted features on which a place lies within the "
        "testbeds' range of z-scores; outside it the pilot has not been seen working in "
        "such conditions, so a transfer there is an extrapolation.",
    ]
    if len(testbeds) == 1:
        notes.append("With one testbed its range is a single point: coverage is 0 except on "
                     "identical values, so read the distances.")
    if found < k:
        notes.append(f"Only {found} places were left to rank (asked {k}).")
    gaps = table.imputed[table.imputed["place"].isin(testbeds)]
    for r in gaps.itertuples():
        notes.append(f"Testbed {table.names.get(str(r.place), r.place)}'s {r.feature} is "
                     f"imputed ({r.rule}): {r.reason}; its raw value shows as n/a.")
    return [*notes, *table.notes]
