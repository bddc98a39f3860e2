"""Peer groups: CIPFA-style statistical nearest neighbours of a place.

Formulation
-----------
Given standardised features ``z_if`` (:mod:`keycities.analysis.places.features`) and
non-negative weights ``w_f`` normalised to ``sum_f w_f = 1``, the distance
between places ``i`` and ``j`` is the weighted Euclidean distance

    d_ij = sqrt( sum_f w_f (z_if - z_jf)^2 ),

symmetric, non-negative and zero only for identical profiles.  The peers of
``i`` are the ``k`` candidates with the smallest ``d_ij`` (ties broken by
code); candidates are every other place of the table less the exclusions
asked for (a network's members, the same region, the place's own
parent/child geography under the change list).  Each peer's squared distance
splits exactly into per-feature contributions

    c_ijf = w_f (z_if - z_jf)^2 / d_ij^2,     sum_f c_ijf = 1

(NaN when ``d_ij = 0``: an identical profile has nothing to split).

Stability says how much a peer depends on the exact weights: the fraction of
``R`` runs with weights ``w_f * exp(e_f)``, ``e_f ~ N(0, 0.25^2)`` independent
(renormalised), in which the peer is still in the top ``k``; and separately the
fraction of runs dropping one weighted feature at a time (``w_f = 0``,
renormalised) in which it stays.

This is the method of CIPFA's Nearest Neighbours Model (indicators
standardised to mean 0 and sd 1, weighted Euclidean distance between every
pair of authorities, the closest 15 as the comparator group;
https://www.cipfa.org/services/cipfastats/nearest-neighbour-model), here with
open data, open weights and the contributions shown.  CIPFA rebases distances
so the farthest authority is 1; we report ``d`` unscaled (z units).

The core (:func:`peers`) takes a :class:`~keycities.analysis.places.features.FeatureTable`;
:func:`peers_from_store` builds that table from the store.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from typing import Any

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities._util.units import feature_words
from keycities.analysis.places.features import FeatureTable
from keycities.analysis.places.params import Preset
from keycities.errors import KeycitiesError
from keycities.geography.mapping import predecessors, successors

#: Weight presets: feature patterns given equal weight (fnmatch patterns on feature keys).
PRESETS: dict[Preset, tuple[str, ...]] = {
    "overall": ("*",),
    "economic": ("gva_per_job", "gva_per_head", "earnings", "imd_score"),
    "demographic": ("oac_*", "population", "postcode_density", "leave_share"),
}
NOISE_SD = 0.25
TOP_FEATURES = 3


@dataclass
class PeerResult:
    """A place's peer group, with distances, contributions and stability.

    Attributes
    ----------
    peers
        One row per peer: rank, code, name, region, country, distance,
        stability_weights, stability_drop, top_features (the largest
        contributions in words, 'GVA per filled job 45%'),
        imputed_features (the peer's features
        that were imputed: their contributions rest on the imputation rule).
    contributions
        One row per (peer, feature): code, feature, z_place, z_peer, weight,
        contribution (``w_f (z_if - z_jf)^2``), share (of ``d^2``).
    excluded
        Candidates left out by an option: code, name, reason.
    """

    place: str
    name: str
    k: int
    weights: dict[str, float]
    preset: str | None
    peers: pd.DataFrame
    contributions: pd.DataFrame
    excluded: pd.DataFrame
    feature_meta: pd.DataFrame
    imputed: pd.DataFrame
    releases: list[str]
    perturbations: int
    vintage: int | None = None
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One row per peer (see :attr:`peers`)."""
        return self.peers.copy()

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON: inputs, peers with contributions, exclusions, notes, releases."""
        # Contributions made plain at once, then split by peer (a frame per peer made
        # plain one by one cost a place page tens of milliseconds).
        per: dict[str, list[dict[str, Any]]] = {}
        for rec in jsonable(self.contributions):
            per.setdefault(rec.pop("code"), []).append(rec)
        rows = [{**r, "contributions": per.get(r["code"], [])}
                for r in self.peers.to_dict(orient="records")]
        return jsonable({
            "inputs": {"place": self.place, "name": self.name, "k": self.k,
                       "preset": self.preset, "weights": self.weights,
                       "perturbations": self.perturbations, "noise_sd": NOISE_SD,
                       "vintage": self.vintage},
            "peers": rows, "excluded": self.excluded, "features": self.feature_meta,
            "imputed": self.imputed, "notes": list(self.notes), "releases": self.releases,
        })


def resolve_weights(weights: Mapping[str, float] | str, features: list[str]
                    ) -> tuple[pd.Series, str | None]:
    """Weights over ``features``, normalised to sum to 1, and the preset's name.

    Raises
    ------
    KeycitiesError
        Unknown preset or feature, a negative weight, or no positive weight.
    """
    preset = weights if isinstance(weights, str) else None
    if isinstance(weights, str):
        if weights not in PRESETS:
            raise KeycitiesError(f"Unknown weight preset {weights!r}: use one of "
                                 f"{', '.join(PRESETS)} or give weights per feature.")
        raw = pd.Series({f: 1.0 for f in features
                         if any(fnmatch(f, pat) for pat in PRESETS[weights])}, dtype=float)
    else:
        unknown = [f for f in weights if f not in features]
        if unknown:
            close = difflib.get_close_matches(unknown[0], features, n=3)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise KeycitiesError(f"Unknown feature(s) {unknown} in the weights.{hint} "
                                 f"Features: {', '.join(features)}.")
        raw = pd.Series(dict(weights), dtype=float)
        if (raw < 0).any() or raw.isna().any():
            raise KeycitiesError("Weights must be non-negative numbers.")
    raw = raw.reindex(features).fillna(0.0)
    if raw.sum() <= 0:
        raise KeycitiesError("No feature of the table has a positive weight: give at least "
                             f"one of {', '.join(features)} a weight above 0.")
    return raw / raw.sum(), preset


def weighted_distances(z: pd.DataFrame, place: str, weights: pd.Series) -> pd.Series:
    """``d_ij = sqrt(sum_f w_f (z_if - z_jf)^2)`` from ``place`` to every row of ``z``.

    ``weights`` are used as given (normalise them first, :func:`resolve_weights`).
    """
    sq = ((z - z.loc[place]) ** 2).to_numpy()
    d2 = sq @ weights.reindex(z.columns).fillna(0.0).to_numpy()
    return pd.Series(np.sqrt(np.maximum(d2, 0.0)), index=z.index, name="distance")


def contributions(z: pd.DataFrame, place: str, others: Collection[str],
                  weights: pd.Series) -> pd.DataFrame:
    """Per-feature split of each squared distance: ``w_f (z_if - z_jf)^2 / d_ij^2``.

    Returns
    -------
    pandas.DataFrame
        code, feature, z_place, z_peer, weight, contribution, share (NaN when d = 0).
    """
    others = list(others)
    w = weights.reindex(z.columns).fillna(0.0).to_numpy()
    zp = z.loc[place].to_numpy()
    zo = z.loc[others].to_numpy()
    c = w * (zp - zo) ** 2  # (peers, features)
    total = c.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, c / total, np.nan)
    n, f = c.shape
    return pd.DataFrame({
        "code": np.repeat(np.asarray(others, dtype=object), f),
        "feature": np.tile(np.asarray(z.columns, dtype=object), n),
        "z_place": np.tile(zp, n), "z_peer": zo.ravel(), "weight": np.tile(w, n),
        "contribution": c.ravel(), "share": share.ravel()})


def family(place: str, changes: pd.DataFrame | None) -> set[str]:
    """Codes in the place's own parent/child geography under the change list.

    Its predecessors (the districts it was made from), its successors (the
    districts it became part of) and their other parts (districts merged
    with it), all following changes through every year; the place excluded.
    """

    if changes is None or len(changes) == 0:
        return set()
    after = successors(place, changes, vintage=9999)
    out = set(predecessors(place, changes, vintage=0)) | set(after)
    for code in after:
        out |= set(predecessors(code, changes, vintage=0))
    return out - {place}


def _candidates(table: FeatureTable, place: str, *, exclude: Collection[str],
                exclude_same_region: bool, exclude_family: bool) -> tuple[pd.Index,
                                                                            pd.DataFrame]:
    """Candidate codes and the excluded ones with reasons."""
    codes = table.z.index
    reasons: dict[str, str] = {}
    for c in exclude:
        if c in codes and c != place:
            reasons[c] = "excluded by the caller (e.g. a member of the same network)"
    if exclude_same_region:
        region = table.regions.get(place)
        for c in codes[(table.places["region"].reindex(codes) == region).to_numpy()]:
            if c != place:
                reasons.setdefault(c, f"in the same region ({region})")
    if exclude_family:
        if place not in table.families:
            table.families[place] = frozenset(family(place, table.changes))
        for c in sorted(table.families[place] & set(codes)):
            reasons.setdefault(c, f"part of {place}'s own parent/child geography "
                                  "(predecessor, successor or merged with it)")
    keep = codes[~codes.isin([place, *reasons])]
    names = table.names
    excluded = pd.DataFrame([{"code": c, "name": names.get(c, c), "reason": r}
                             for c, r in reasons.items()], columns=["code", "name", "reason"])
    return keep, excluded


def _top_k(d: np.ndarray, codes: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` smallest distances, ties broken by code."""
    order = np.lexsort((codes, d))
    return order[:k]


def stability(z: pd.DataFrame, place: str, candidates: pd.Index, weights: pd.Series, k: int,
              *, rng: np.random.Generator, perturbations: int) -> pd.DataFrame:
    """How often each candidate is in the top ``k`` under perturbed or dropped weights.

    Returns
    -------
    pandas.DataFrame
        Index = candidate code: stability_weights (fraction of ``perturbations``
        lognormal-noise runs), stability_drop (fraction of drop-one-feature runs;
        NaN when fewer than two features carry weight).
    """
    sq = ((z.loc[candidates] - z.loc[place]) ** 2).to_numpy()
    codes = candidates.to_numpy().astype(str)
    w = weights.reindex(z.columns).to_numpy()
    noisy = w * np.exp(rng.normal(0.0, NOISE_SD, size=(perturbations, len(w))))
    active = np.flatnonzero(w > 0)
    if len(active) < 2:
        active = active[:0]  # dropping the only weighted feature leaves no distance
    drops = np.repeat(w[None, :], len(active), axis=0)
    drops[np.arange(len(active)), active] = 0.0
    out = pd.DataFrame(index=candidates)
    for name, runs in (("stability_weights", noisy), ("stability_drop", drops)):
        counts = np.zeros(len(codes))
        for run in runs:
            counts[_top_k(sq @ (run / run.sum()), codes, k)] += 1
        out[name] = counts / len(runs) if len(runs) else np.nan
    return out


def peers(table: FeatureTable, place: str, *, weights: Mapping[str, float] | str = "overall",
          k: int = 15, exclude: Collection[str] = frozenset(),
          exclude_same_region: bool = False, exclude_family: bool = True,
          rng: np.random.Generator | None = None, perturbations: int = 200) -> PeerResult:
    """The ``k`` nearest statistical neighbours of ``place``.

    See the module docstring for the formulation (weighted Euclidean distance
    on z-scores, CIPFA's Nearest Neighbours Model as the analogue).

    Parameters
    ----------
    table
        Standardised features (:func:`keycities.analysis.places.features.standardise`).
    place
        A place code (or exact name) of the table.
    weights
        A preset name (:data:`PRESETS`) or weights per feature (normalised to sum 1).
    k
        Number of peers.
    exclude
        Codes never to return (e.g. the members of the place's network).
    exclude_same_region
        Leave out places of the same region (the country outside England).
    exclude_family
        Leave out the place's predecessors, successors and merged siblings.
    rng
        Random generator for the stability runs (default: seeded with 0).
    perturbations
        Number of lognormal weight-noise runs.

    Returns
    -------
    PeerResult

    Raises
    ------
    KeycitiesError
        Unknown or excluded place, bad weights, ``k < 1``, or no candidate left.
    """
    place = _resolve_place(table, place)
    if k < 1:
        raise KeycitiesError(f"k must be at least 1 (got {k}).")
    w, preset = resolve_weights(weights, table.features)
    cands, excluded = _candidates(table, place, exclude=exclude,
                                  exclude_same_region=exclude_same_region,
                                  exclude_family=exclude_family)
    if len(cands) == 0:
        raise KeycitiesError("No candidate peers are left after the exclusions: relax them.")
    d = weighted_distances(table.z.loc[[place, *cands]], place, w).loc[cands]
    top = cands[_top_k(d.to_numpy(), cands.to_numpy().astype(str), min(k, len(cands)))]
    stab = stability(table.z, place, cands, w, min(k, len(cands)),
                     rng=rng if rng is not None else np.random.default_rng(0),
                     perturbations=perturbations)
    contrib = contributions(table.z, place, list(top), w)
    peers_df = _peer_rows(table, top, d, stab, contrib)
    notes = _notes(table, place, w, preset, k, len(top), perturbations, rng is None)
    touched = table.imputed[table.imputed["place"].isin([place, *top])]
    return PeerResult(place, table.names.get(place, place), k,
                      {str(f): float(v) for f, v in w.items() if v > 0}, preset, peers_df, contrib,
                      excluded, table.meta, touched.reset_index(drop=True), table.release_ids,
                      perturbations, table.vintage, notes)


def _resolve_place(table: FeatureTable, place: str) -> str:
    if place in table.z.index:
        return place
    by_name = {str(n).lower(): c for c, n in table.names.items()}
    code = by_name.get(place.lower(), place.upper())
    if code in table.z.index:
        return code
    if code in set(table.excluded["place"]):
        why = str(table.excluded.set_index("place").at[code, "reason"])
        raise KeycitiesError(f"{place} was left out of the feature table ({why}): use "
                             "impute='median' to keep it.")
    close = difflib.get_close_matches(place, [*table.names.values(), *table.names], n=4)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    vintage = f" of the {table.vintage} vintage" if table.vintage else ""
    raise KeycitiesError(f"{place!r} is not a place{vintage} in the feature table.{hint}")


def _peer_rows(table: FeatureTable, top: pd.Index, d: pd.Series, stab: pd.DataFrame,
               contrib: pd.DataFrame) -> pd.DataFrame:
    imp = table.imputed.groupby("place")["feature"].agg(list).to_dict() \
        if len(table.imputed) else {}
    tops, words = {}, feature_words(table.meta)
    for code, g in contrib.groupby("code"):
        best = g.sort_values("share", ascending=False).head(TOP_FEATURES)
        tops[code] = ", ".join(f"{words.get(str(f), (f, ''))[0]} {s:.0%}"
                               for f, s in zip(best["feature"], best["share"], strict=True)
                               if s == s)
    return pd.DataFrame({
        "rank": range(1, len(top) + 1), "code": list(top),
        "name": [table.names.get(c, c) for c in top],
        "region": [table.regions.get(c, "") for c in top],
        "country": [table.countries.get(c, "") for c in top],
        "distance": d.loc[top].to_numpy(),
        "stability_weights": stab.loc[top, "stability_weights"].to_numpy(),
        "stability_drop": stab.loc[top, "stability_drop"].to_numpy(),
        "top_features": [tops.get(c, "") for c in top],
        "imputed_features": [", ".join(words.get(str(f), (f, ""))[0] for f in imp.get(c, []))
                             for c in top]})


def _notes(table: FeatureTable, place: str, w: pd.Series, preset: str | None, k: int,
           found: int, perturbations: int, default_rng: bool) -> list[str]:
    words = feature_words(table.meta)
    used = ", ".join(f"{words.get(str(f), (f, ''))[0]} {v:.1%}" for f, v in w.items() if v > 0)
    notes = [
        "Distance d = sqrt(sum_f w_f (z_place,f - z_peer,f)^2) on standardised features, "
        "weights normalised to sum to 1 (CIPFA Nearest Neighbours Model's method, open "
        "weights); contribution of a feature = w_f (dz_f)^2 / d^2.",
        f"Weights ({preset or 'user'}): {used}.",
        f"Stability: share of {perturbations} runs with weights × exp(N(0, {NOISE_SD}²)) "
        "(\"kept when the weights change\"), and of runs dropping one weighted feature at a "
        f"time (\"kept when a measure is dropped\"), in which the peer stays in the top {k}"
        + (" (random generator seeded with 0)." if default_rng else "."),
    ]
    if found < k:
        notes.append(f"Only {found} candidates were left after the exclusions (asked {k}).")
    gaps = table.imputed[table.imputed["place"] == place]
    for r in gaps.itertuples():
        notes.append(f"{place}'s {r.feature} is imputed ({r.rule}): {r.reason}.")
    return [*notes, *table.notes]


