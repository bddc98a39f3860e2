"""Domestic twinning: pair places across divides (bridge) or alike (bond), optimally.

Formulation
-----------
Places i have standardised features z_i (see :mod:`keycities.analysis.places.features`)
and centroids.  For two feature sets C (contrast) and S (similarity), with
d_F(i, j) = sqrt(mean over f in F of (z_if - z_jf)^2):

* **bridge** (the Demos proposal): w_ij = d_C(i, j) — maximise contrast;
* **bond** (the Carnegie UK Trust approach): w_ij = D_S - d_S(i, j), where D_S
  is the largest d_S over allowed pairs — maximise similarity (all weights
  stay non-negative, so every place that can be paired is);
* **mixed**: w_ij = d_C(i, j) + (D_S - d_S(i, j)) — contrasting on C while
  alike on S (e.g. similar size, different referendum vote and productivity).

Constraints remove edges (minimum/maximum distance in km, a different region
or nation, network members paired with non-members or only with each other,
forbidden pairs, places left out); fixed pairs are kept.  The pairing is a
maximum-weight matching on the remaining general graph
(:func:`keycities.analysis.twinning.matching.match`), reported with its certificate:
the objective Σ w over pairs and a proven upper bound; the gap says how far
from optimal it can be (zero when proven optimal).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities._util.units import feature_words, with_unit
from keycities.analysis.places.features import FeatureTable
from keycities.analysis.twinning.matching import match
from keycities.analysis.twinning.spec import TwinSpec
from keycities.errors import KeycitiesError
from keycities.geography.spatial import BLOCK, haversine_km, matrix_dtype


def feature_distance(z: np.ndarray) -> np.ndarray:
    """Root-mean-square difference of standardised features between all pairs."""
    n, f = z.shape
    out = np.zeros((n, n), dtype=matrix_dtype(n))
    if f == 0:
        return out
    sq = (z ** 2).sum(axis=1)
    for r0 in range(0, n, BLOCK):
        d2 = sq[r0:r0 + BLOCK, None] + sq[None, :] - 2.0 * (z[r0:r0 + BLOCK] @ z.T)
        out[r0:r0 + BLOCK] = np.sqrt(np.maximum(d2, 0.0) / f)
    np.fill_diagonal(out, 0.0)
    return out


def pair_weights(z: pd.DataFrame, spec: TwinSpec) -> np.ndarray:
    """The weight of every pair under ``spec.mode`` (see the module docstring)."""
    if spec.mode == "bridge":
        return feature_distance(z[list(spec.contrast)].to_numpy(float))
    d_s = feature_distance(z[list(spec.similar)].to_numpy(float))
    d_s *= -1
    d_s += np.nanmax(-d_s)  # D_S - d_S, in place (memory at many places)
    if spec.mode == "bond":
        return d_s
    d_s += feature_distance(z[list(spec.contrast)].to_numpy(float))
    return d_s


@dataclass
class Allowed:
    """Which pairs the constraints allow, and why the others are not."""
    mask: np.ndarray
    reasons: dict[str, int] = field(default_factory=dict)


def allowed_pairs(codes: Sequence[str], km: np.ndarray, groups: Mapping[str, np.ndarray],
                  spec: TwinSpec, z: pd.DataFrame | None = None) -> Allowed:
    """Boolean n x n mask of pairs the constraints allow (no self-pairs).

    ``groups`` holds per-place labels used by ``spec.different`` ("region",
    "nation"); ``z`` the standardised features the similarity band
    (``spec.band`` on ``spec.similar``) is measured on.  Each rule's count of
    removed pairs is kept for explanations.
    """
    n = len(codes)
    mask = ~np.eye(n, dtype=bool)
    out = Allowed(mask)

    def drop(name: str, bad: np.ndarray) -> None:
        bad = bad & out.mask
        out.reasons[name] = int(bad.sum() // 2)
        out.mask &= ~bad

    if spec.min_km is not None:
        drop(f"closer than {spec.min_km:g} km", km < spec.min_km)
    if spec.max_km is not None:
        drop(f"farther than {spec.max_km:g} km", km > spec.max_km)
    if spec.different is not None:
        g = groups[spec.different]
        drop(f"same {spec.different}", (g[:, None] == g[None, :]) & (g[:, None] != ""))
    if spec.network_rule is not None:
        member = np.isin(np.asarray(codes), list(spec.network))
        same = member[:, None] == member[None, :]
        if spec.network_rule == "cross":
            drop("both in or both outside the network", same)
        else:
            drop("not both in the network", ~(member[:, None] & member[None, :]))
    if spec.band is not None and spec.similar and z is not None:
        for f in spec.similar:
            col = z[f].to_numpy(float)
            drop(f"more than {spec.band:g} SD apart on {f}",
                 np.abs(col[:, None] - col[None, :]) > spec.band)
    index = {c: i for i, c in enumerate(codes)}
    for a, b in spec.forbidden:
        if a in index and b in index:
            out.mask[index[a], index[b]] = out.mask[index[b], index[a]] = False
    return out


@dataclass
class TwinResult:
    """Pairs with explanations, the unpaired with reasons, and the certificate."""
    pairs: pd.DataFrame
    unpaired: pd.DataFrame
    objective: float
    bound: float
    method: str
    seconds: float
    notes: list[str] = field(default_factory=list)
    geojson: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """Proven distance from optimal (bound - objective); 0 within floating-point
        noise (1e-9 of the bound)."""
        return certified_gap(self.objective, self.bound)

    def to_frame(self) -> pd.DataFrame:
        """One row per pair."""
        return self.pairs

    def payload(self) -> dict[str, Any]:
        """Everything as plain data."""

        return jsonable({
            "pairs": self.pairs, "unpaired": self.unpaired,
            "certificate": {"objective": self.objective, "bound": self.bound,
                            "gap": self.gap, "method": self.method,
                            "seconds": self.seconds},
            "notes": self.notes,
        })


def certified_gap(objective: float, bound: float) -> float:
    """bound - objective, with floating-point noise (within 1e-9 of the bound) as 0."""
    gap = bound - objective
    return 0.0 if gap <= 1e-9 * max(1.0, abs(bound)) else gap


def explain_pair(i: int, j: int, z: pd.DataFrame, raw: pd.DataFrame, spec: TwinSpec,
                 *, top: int = 3, words: Mapping[str, tuple[str, str]] | None = None) -> str:
    """The features that drive a pair's contrast (or similarity), with each side's values.

    ``words``: feature id -> (label, unit), so the reason reads "GVA per filled job
    (£46,974 vs £121,275)" rather than raw ids and bare numbers.
    """
    words = words or {}
    drivers = spec.contrast if spec.mode != "bond" else spec.similar
    gaps = (z.iloc[i][list(drivers)] - z.iloc[j][list(drivers)]).abs()
    order = gaps.sort_values(ascending=spec.mode == "bond").index[:top]
    word = "alike on" if spec.mode == "bond" else "differ most on"

    def said(f: Any) -> str:
        label, unit = words.get(str(f), (str(f), ""))
        return f"{label} ({_v(raw.iloc[i][f], unit)} vs {_v(raw.iloc[j][f], unit)})"

    text = f"{word} " + "; ".join(said(f) for f in order)
    if spec.mode != "bond" and spec.similar:
        alike = (z.iloc[i][list(spec.similar)] - z.iloc[j][list(spec.similar)]).abs()
        text += f"; alike on {said(alike.idxmin())}"
    return text


class _Explainer:
    """:func:`explain_pair` for many pairs of one table: the rows are read as arrays once
    (row-by-row ``.iloc`` took most of the time of explaining a matching)."""

    def __init__(self, z: pd.DataFrame, raw: pd.DataFrame, spec: TwinSpec,
                 words: Mapping[str, tuple[str, str]] | None = None) -> None:
        self.spec = spec
        self.words = words or {}
        self.drivers = list(spec.contrast if spec.mode != "bond" else spec.similar)
        self.similar = list(spec.similar)
        self.zd = z[self.drivers].to_numpy()
        self.zs = z[self.similar].to_numpy()
        self.raw = raw.to_numpy()  # the row dtype .iloc gives (values print alike)
        self.col = {c: k for k, c in enumerate(raw.columns)}

    def __call__(self, i: int, j: int, *, top: int = 3) -> str:
        spec, raw, col = self.spec, self.raw, self.col

        def said(f: Any) -> str:
            label, unit = self.words.get(str(f), (str(f), ""))
            return f"{label} ({_v(raw[i, col[f]], unit)} vs {_v(raw[j, col[f]], unit)})"

        gaps = pd.Series(np.abs(self.zd[i] - self.zd[j]), index=self.drivers)
        order = gaps.sort_values(ascending=spec.mode == "bond").index[:top]
        word = "alike on" if spec.mode == "bond" else "differ most on"
        text = f"{word} " + "; ".join(said(f) for f in order)
        if spec.mode != "bond" and self.similar:
            alike = pd.Series(np.abs(self.zs[i] - self.zs[j]), index=self.similar)
            text += f"; alike on {said(alike.idxmin())}"
        return text


def _v(x: Any, unit: str = "") -> str:
    if isinstance(x, float) and np.isnan(x):
        return "no published value: imputed"
    if unit:
        return with_unit(x, unit)
    if isinstance(x, float):
        return f"{x:.1%}" if 0 <= x <= 1 else f"{x:,.0f}" if abs(x) >= 100 else f"{x:.2f}"
    return str(x)


def pairs_geojson(pairs: pd.DataFrame, lon: Mapping[str, float],
                  lat: Mapping[str, float]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of lines between each pair's centroids."""
    feats = []
    for r in pairs.to_dict(orient="records"):
        a, b = r["code_a"], r["code_b"]
        feats.append({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [
                [round(lon[a], 5), round(lat[a], 5)], [round(lon[b], 5), round(lat[b], 5)]]},
            "properties": {k: v for k, v in r.items() if isinstance(v, str | int | float)},
        })
    return {"type": "FeatureCollection", "features": feats}


@dataclass(frozen=True)
class PlaceInputs:
    """The places to pair: codes, names, coordinates, groups and features."""
    codes: list[str]
    names: list[str]
    lat: np.ndarray
    lon: np.ndarray
    groups: dict[str, np.ndarray]
    z: pd.DataFrame
    raw: pd.DataFrame
    meta: pd.DataFrame | None = None
    """The feature table's metadata (feature, transform, sd), for the notes."""


def twin(places: PlaceInputs, spec: TwinSpec) -> TwinResult:
    """Pair ``places`` optimally under ``spec``; see the module docstring.

    Raises
    ------
    KeycitiesError
        For an unusable spec (unknown features, a fixed pair naming an unknown
        or left-out place, or a fixed pair the constraints forbid).
    """

    spec.check(list(places.z.columns))
    lacking = {} if spec.keep_imputed else _imputed(places, spec)
    keep = [i for i, c in enumerate(places.codes)
            if c not in spec.leave_out and c not in lacking]
    p = _subset(places, keep)
    km = haversine_km(p.lat, p.lon)
    allowed = allowed_pairs(p.codes, km, p.groups, spec, p.z)
    w = pair_weights(p.z, spec)
    weights = np.where(allowed.mask, w, -np.inf).astype(w.dtype, copy=False)
    fixed = _fixed_indices(p.codes, spec, allowed.mask)
    m = match(weights, fixed=fixed)
    pairs = _pairs_frame(p, m.pairs, w, km, spec)
    unpaired = pd.concat([_unpaired_frame(p, m.unmatched, allowed),
                          _left_out_frame(places, lacking)], ignore_index=True)
    notes = _notes(spec, allowed, len(p.codes), m) + _band_notes(spec, places)
    if lacking:
        notes.append(f"{len(lacking)} place(s) left out: a contrast or similarity feature has no "
                     "published value there and would be imputed, so a pair could rest on a "
                     "guess (keep them, flagged, with keep_imputed): "
                     + ", ".join(places.names[places.codes.index(c)] for c in lacking) + ".")
    lon = dict(zip(p.codes, p.lon.tolist(), strict=True))
    lat = dict(zip(p.codes, p.lat.tolist(), strict=True))
    return TwinResult(pairs, unpaired, m.objective, m.bound, m.method, m.seconds, notes,
                      pairs_geojson(pairs, lon, lat))


def _imputed(places: PlaceInputs, spec: TwinSpec) -> dict[str, list[str]]:
    """Places lacking a published value of a contrast or similarity feature."""
    used = [f for f in (*spec.contrast, *spec.similar) if f in places.raw.columns]
    gaps = places.raw[used].isna().to_numpy()
    return {places.codes[int(i)]: [f for k, f in enumerate(used) if gaps[i, k]]
            for i in np.flatnonzero(gaps.any(axis=1))}


def _left_out_frame(places: PlaceInputs, lacking: Mapping[str, list[str]]) -> pd.DataFrame:
    rows = [{"code": c, "name": places.names[places.codes.index(c)],
             "why": f"no published value of {', '.join(fs)} (it would be imputed); keep it, "
                    "flagged, with keep_imputed"} for c, fs in lacking.items()]
    return pd.DataFrame(rows, columns=["code", "name", "why"])


def _band_notes(spec: TwinSpec, places: PlaceInputs) -> list[str]:
    if spec.band is None or not spec.similar:
        return []
    out = []
    for f in spec.similar:
        sd = _log_sd(places, f)
        factor = (f" (logged, so at most a factor of {np.exp(spec.band * sd):.1f} apart)"
                  if sd is not None else "")
        out.append(f"Pairs alike on {f}: standardised values at most {spec.band:g} SD "
                   f"apart{factor}.")
    return out


def _log_sd(places: PlaceInputs, feature: str) -> float | None:
    """The standard deviation of ln(feature) when the feature was logged, else None."""
    meta = places.meta
    if meta is None or "feature" not in meta or feature not in set(meta["feature"]):
        return None
    rows = meta[meta["feature"] == feature]
    if rows.empty or str(rows["transform"].iloc[0]) != "log":
        return None
    return float(rows["sd"].iloc[0])


def _subset(p: PlaceInputs, keep: list[int]) -> PlaceInputs:
    return PlaceInputs([p.codes[i] for i in keep], [p.names[i] for i in keep], p.lat[keep],
                       p.lon[keep], {k: v[keep] for k, v in p.groups.items()},
                       p.z.iloc[keep].reset_index(drop=True),
                       p.raw.iloc[keep].reset_index(drop=True), p.meta)


def _fixed_indices(codes: list[str], spec: TwinSpec,
                   mask: np.ndarray) -> list[tuple[int, int]]:
    index = {c: i for i, c in enumerate(codes)}
    out = []
    for a, b in spec.fixed:
        missing = [c for c in (a, b) if c not in index]
        if missing:
            raise KeycitiesError(f"Fixed pair {a}-{b}: {', '.join(missing)} is not among the "
                                 "places (unknown, or left out).")
        if not mask[index[a], index[b]]:
            raise KeycitiesError(f"Fixed pair {a}-{b} breaks the other constraints; relax them "
                                 "or drop the pair.")
        out.append((index[a], index[b]))
    return out


def _pairs_frame(p: PlaceInputs, pairs: Sequence[tuple[int, int]], w: np.ndarray,
                 km: np.ndarray, spec: TwinSpec) -> pd.DataFrame:
    rows = []
    explain = _Explainer(p.z, p.raw, spec, feature_words(p.meta))
    for i, j in pairs:
        if spec.network and p.codes[j] in spec.network and p.codes[i] not in spec.network:
            i, j = j, i  # the network's member first
        rows.append({
            "code_a": p.codes[i], "name_a": p.names[i], "code_b": p.codes[j],
            "name_b": p.names[j], "km": round(float(km[i, j]), 1),
            "weight": float(w[i, j]), "why": explain(i, j),
        })
    cols = ["code_a", "name_a", "code_b", "name_b", "km", "weight", "why"]
    return pd.DataFrame(rows, columns=cols).sort_values("weight", ascending=False,
                                                        ignore_index=True)


def _unpaired_frame(p: PlaceInputs, unmatched: Sequence[int], allowed: Allowed) -> pd.DataFrame:
    rows = []
    for i in unmatched:
        if not allowed.mask[i].any():
            rules = ", ".join(k for k, v in allowed.reasons.items() if v)
            why = f"no place it may be paired with under the constraints ({rules})"
        else:
            why = ("its possible partners are all better used in other pairs, or the number "
                   "of places that can be paired is odd")
        rows.append({"code": p.codes[i], "name": p.names[i], "why": why})
    return pd.DataFrame(rows, columns=["code", "name", "why"])


def _notes(spec: TwinSpec, allowed: Allowed, n: int, m: Any) -> list[str]:
    formula = {"bridge": "w = d_C (root-mean-square difference of the standardised contrast "
                         "features)",
               "bond": "w = D_S − d_S (similarity on the standardised features)",
               "mixed": "w = d_C + (D_S − d_S)"}[spec.mode]
    notes = [f"{spec.mode}: maximum-weight matching of {n} places with {formula}.",
             f"Certificate: objective {m.objective:.6f}, upper bound {m.bound:.6f}, gap "
             f"{certified_gap(m.objective, m.bound):.2e} ({m.method}, "
             f"{m.seconds * 1000:.0f} ms)"
             + (": proven optimal." if certified_gap(m.objective, m.bound) == 0 else ".")]
    removed = [f"{v:,} pairs {k}" for k, v in allowed.reasons.items() if v]
    if removed:
        notes.append("Constraints removed " + "; ".join(removed) + ".")
    return notes


def inputs_from_features(table: FeatureTable, *, countries: Collection[str] | None = None
                         ) -> PlaceInputs:
    """Places to pair from a feature table, optionally restricted to some countries.

    Places without a centroid cannot be measured apart and are left out.
    """
    z = table.z.copy()
    cent = table.centroids.reindex(z.index)
    keep = cent["lat"].notna() & cent["lon"].notna()
    if countries is not None:
        keep &= pd.Series(table.countries).reindex(z.index).isin(list(countries))
    z = z[keep.to_numpy()]
    codes = [str(c) for c in z.index]
    regions = pd.Series(table.regions).reindex(codes).fillna("")
    nations = pd.Series(table.countries).reindex(codes).fillna("")
    return PlaceInputs(
        codes, [table.names.get(c, c) for c in codes],
        cent.loc[codes, "lat"].to_numpy(float), cent.loc[codes, "lon"].to_numpy(float),
        {"region": regions.to_numpy(str), "nation": nations.to_numpy(str)},
        z.reset_index(drop=True), table.values.reindex(codes).reset_index(drop=True),
        table.meta)


