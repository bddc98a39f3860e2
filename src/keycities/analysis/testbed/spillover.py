"""Spillovers measured: effects on rings of neighbours, and the exclusion radius varied.

Formulation
-----------
A policy in testbed ``t`` may reach its neighbours (commuters, supply chains,
displacement).  Excluding neighbours from the donor pool (``--min-km``) protects the
comparison; this module *measures* what happened to them.

Rings.  For distance bands ``[a_b, b_b)`` (km between centroids), ring ``b`` holds
the untreated places whose nearest testbed lies in the band.  Each ring place ``r``
is treated as if the policy had reached it in its nearest testbed's start year, and
its synthetic control is fitted from *far* places only (beyond the outermost band
from every testbed: untouched by any spillover the bands could catch), the
``similar`` ones whose pre-period path is closest to ``r``'s.  The ring's spillover
is the mean relative post-period effect of its places.

Inference.  ``placebos`` far places (a seeded random sample) are fitted the same
way, each from the other far places; the p-value of ring ``b`` is the share of
``draws`` random sets of as many placebos as the ring has places whose mean
effect is at least as large in absolute value (Cavallo, Galiani, Noy & Pantano
2013, as for several testbeds), counting the ring itself.

Sensitivity.  Each testbed is refitted with donors beyond each radius of ``radii``
(and none closer than it to any testbed): if the effect moves with the radius,
spillovers (or the places they reach) are shaping the comparison.

Assumptions: the far places are untouched; ring places would have followed their
synthetic controls without the policy; bands are judged by centroid distance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.analysis._parallel import Progress, parallel_map
from keycities.analysis.testbed.synth import fit, similar_donors
from keycities.errors import KeycitiesError

BANDS = ((0.0, 25.0), (25.0, 50.0), (50.0, 100.0))
RADII = (0.0, 25.0, 50.0, 100.0)
SIMILAR = 30
PLACEBOS = 60
DRAWS = 2000


@dataclass(eq=False)
class Spillovers:
    """Ring effects with p-values, and each testbed's effect by exclusion radius."""

    rings: pd.DataFrame
    places: pd.DataFrame
    sensitivity: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """Plain data: rings, ring places, the sensitivity table, notes."""
        return jsonable({"rings": self.rings, "places": self.places,
                         "sensitivity": self.sensitivity, "notes": self.notes})


def _relative_effect(shared: Mapping[str, Any], item: tuple[str, int, tuple[str, ...]]
                     ) -> float:
    """Mean relative post-period effect of ``code`` from ``donors`` (one synthetic control)."""
    code, start, donors = item
    f = fit(shared["values"], code, start, donors=list(donors), v=shared["v"])
    return f.average_relative_effect


def _nearest(km: pd.DataFrame, starts: Mapping[str, int], codes: Sequence[str]
             ) -> tuple[np.ndarray, list[str]]:
    d = km.loc[list(codes), list(starts)].to_numpy(float)
    j = np.nanargmin(d, axis=1)
    return d[np.arange(len(codes)), j], [list(starts)[i] for i in j]


def _similar(values: pd.DataFrame, code: str, start: int, pool: Sequence[str], k: int
             ) -> tuple[str, ...]:
    pool = [p for p in pool if p != code]
    if len(pool) <= k:
        return tuple(pool)
    return tuple(similar_donors(values.loc[[code, *pool]], code, start, k))


def spillovers(values: pd.DataFrame, starts: Mapping[str, int], km: pd.DataFrame, *,
               bands: Sequence[tuple[float, float]] = BANDS,
               radii: Sequence[float] = RADII, similar: int = SIMILAR,
               placebos: int = PLACEBOS, draws: int = DRAWS, v: str = "equal",
               rng: np.random.Generator | None = None, workers: int = 1,
               cluster: str | None = None, progress: Progress | None = None,
               names: Mapping[str, str] | None = None) -> Spillovers:
    """Measure spillovers on rings of neighbours (see the module docstring).

    Parameters
    ----------
    values
        Places x years of the outcome (complete rows are used).
    starts
        Testbed code -> first policy year.
    km
        Distances between places (km; places x places, covering ``values``' index).
    bands, radii
        Ring bands (km) and the exclusion radii of the sensitivity table.
    similar, placebos, draws
        Donors per fit, far placebo places fitted, random placebo sets.
    v
        The rule for the predictor weights (``"equal"``: one fit per place is cheap).
    names
        Place names for the notes (default the codes).
    """
    rng = rng or np.random.default_rng(0)
    data = values.dropna()
    others = [c for c in data.index if c not in starts]
    dist, near = _nearest(km, starts, others)
    far = [c for c, d in zip(others, dist, strict=True) if d >= max(b for _, b in bands)]
    if len(far) < similar + 2:
        raise KeycitiesError(f"Only {len(far)} places lie beyond {max(b for _, b in bands):g} "
                             "km of every testbed: too few to fit the rings from.")
    ring_of = {c: i for c, d in zip(others, dist, strict=True)
               for i, (a, b) in enumerate(bands) if a <= d < b}
    first = {c: starts[n] for c, n in zip(others, near, strict=True)}
    sample = [str(c) for c in rng.choice(far, size=min(placebos, len(far)), replace=False)]
    items = [(c, first[c], _similar(data, c, first[c], far, similar)) for c in ring_of]
    items += [(c, min(starts.values()), _similar(data, c, min(starts.values()), far, similar))
              for c in sample]
    items += [(t, s, _similar(data, t, s, [c for c, d in zip(others, dist, strict=True)
                                           if d >= r], similar))
              for t, s in starts.items() for r in radii]
    effects = parallel_map(_relative_effect, items, shared={"values": data, "v": v},
                           workers=workers, cluster=cluster, progress=progress)
    n_ring = len(ring_of)
    ring_eff = dict(zip(ring_of, effects[:n_ring], strict=True))
    null = np.array(effects[n_ring:n_ring + len(sample)])
    places = pd.DataFrame({"code": list(ring_of), "band": [ring_of[c] for c in ring_of],
                           "nearest_testbed": [near[others.index(c)] for c in ring_of],
                           "km": [float(dist[others.index(c)]) for c in ring_of],
                           "relative_effect": [ring_eff[c] for c in ring_of]})
    rings = _rings(places, bands, null, draws, rng)
    sens = pd.DataFrame([{"testbed": t, "radius_km": r, "relative_effect": e}
                         for (t, _, _), r, e in zip(items[n_ring + len(sample):],
                                                    [r for _ in starts for r in radii],
                                                    effects[n_ring + len(sample):],
                                                    strict=True)])
    return Spillovers(rings, places, sens, _notes(rings, sens, len(far), similar, names or {}))


def _rings(places: pd.DataFrame, bands: Sequence[tuple[float, float]], null: np.ndarray,
           draws: int, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for b, (a, c) in enumerate(bands):
        eff = places.loc[places["band"] == b, "relative_effect"].to_numpy(float)
        if not len(eff) or len(null) < len(eff):
            rows.append({"band": f"{a:g}-{c:g} km", "places": len(eff), "mean_effect": None,
                         "p_value": None})
            continue
        sets = np.array([rng.choice(null, size=len(eff), replace=False).mean()
                         for _ in range(draws)])
        m = float(eff.mean())
        p = (1 + float(np.sum(np.abs(sets) >= abs(m)))) / (1 + draws)
        rows.append({"band": f"{a:g}-{c:g} km", "places": len(eff), "mean_effect": m,
                     "p_value": p})
    return pd.DataFrame(rows)


def _notes(rings: pd.DataFrame, sens: pd.DataFrame, far: int, similar: int,
           names: Mapping[str, str]) -> list[str]:
    notes = [f"Spillovers: each neighbour's synthetic control uses its {similar} most similar "
             f"of the {far} places beyond the outer band (assumed untouched); p-values compare "
             "each ring's mean effect with random sets of far placebo places."]
    for r in rings.to_dict(orient="records"):
        if r["mean_effect"] is not None:
            notes.append(f"Neighbours {r['band']!s}: {r['places']} places, mean effect "
                         f"{r['mean_effect']:+.1%} (p {r['p_value']:.3g}).")
    for t, g in sens.groupby("testbed"):
        lo, hi = g["relative_effect"].min(), g["relative_effect"].max()
        radii = ", ".join(f"{x:g}" for x in g["radius_km"])
        notes.append(f"{names.get(str(t), str(t))}: with donors beyond {radii} km the effect "
                     f"ranges from {lo:+.1%} to {hi:+.1%}.")
    return notes
