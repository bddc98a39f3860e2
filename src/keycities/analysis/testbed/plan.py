"""Testbed design from frames: the inputs of ``choose`` built from a panel, places and
features, and the whole choice in one call.

The store adapter (:func:`keycities.analysis.testbed.from_store.choose_from_store`)
loads the outcome panel, the places (names, regions, centroids) and the place
features and hands them here; this module builds each candidate's donor pool, the
donors each would lose to another candidate's spillover zone, the features on the
roll-out scale, and runs the power grid and the optimisation.

Donor pool of candidate ``i``: every place with the outcome in every year used,
less every candidate (any of them may be treated), less the places within
``min_km`` of ``i`` (its spillover zone); then its ``similar`` places whose
pre-period path is closest to ``i``'s (:func:`~keycities.analysis.testbed.synth.
similar_donors`; Abadie 2021, sec. 7).  ``L_ij`` counts the donors of ``i`` within
``min_km`` of candidate ``j``: they would be lost if ``j`` were a testbed too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from keycities.analysis._parallel import Progress
from keycities.analysis.testbed._choose_sets import MIN_DONORS, Candidates, Constraints
from keycities.analysis.testbed.choose import TestbedChoice, choose
from keycities.analysis.testbed.power import (
    GRID,
    MAX_EFFECT,
    check_pre_years,
    effect_grid,
    power_table,
)
from keycities.analysis.testbed.synth import similar_donors
from keycities.errors import KeycitiesError
from keycities.geography.spatial import haversine_km

DEFAULT_FEATURES = ("population", "gva_per_job", "earnings", "leave_share",
                    "postcode_density")
"""Features the testbeds should represent the roll-out on, by default."""
POST_YEARS = 3
"""Default post-period: the last three years of the outcome."""


@dataclass(frozen=True)
class ChooseSpec:
    """What ``testbed choose`` was asked (see :class:`~keycities.analysis.testbed.
    _choose_sets.Constraints` for the constraints)."""

    constraints: Constraints
    start: int | None = None
    effect: float | None = 0.03
    alpha: float = 0.05
    similar: int | None = 50
    grid: int = GRID
    max_effect: float = MAX_EFFECT


def default_start(years: Sequence[int]) -> int:
    """The pretended start when none is given: :data:`POST_YEARS` post-period years."""
    ys = sorted(int(y) for y in years)
    return ys[max(0, len(ys) - POST_YEARS)]


def _complete(values: pd.DataFrame, start: int) -> pd.DataFrame:
    out = values.dropna()
    if start not in {int(c) for c in out.columns}:
        raise KeycitiesError(f"start {start} is not a year of the outcome "
                             f"({min(map(int, out.columns))}-{max(map(int, out.columns))}).")
    return out


def donor_pools(values: pd.DataFrame, km: pd.DataFrame, candidates: Sequence[str], start: int,
                *, min_km: float | None, similar: int | None) -> dict[str, list[str]]:
    """Each candidate's donor pool (see the module docstring)."""
    others = [c for c in values.index if c not in set(candidates)]
    out = {}
    for c in candidates:
        dist = km.loc[c, others].to_numpy(float)
        pool = [d for d, x in zip(others, dist, strict=True) if min_km is None or not x < min_km]
        if similar and len(pool) > similar:
            rows = values.loc[[c, *pool]]
            pool = similar_donors(rows, c, start, similar)
        out[c] = pool
    return out


def rollout_scale(z: pd.DataFrame, rollout: Sequence[str], candidates: Sequence[str]
                  ) -> pd.DataFrame:
    """The candidates' features standardised on the roll-out set (its mean 0, sd 1)."""
    r = z.loc[[c for c in rollout if c in z.index]]
    if len(r) < 2:
        raise KeycitiesError("The roll-out set has fewer than two places with features: "
                             "give a larger one.")
    sd = r.std(ddof=0).replace(0.0, 1.0)
    return (z.loc[list(candidates)] - r.mean()) / sd


def candidate_inputs(values: pd.DataFrame, places: pd.DataFrame, z: pd.DataFrame,
                     candidates: Sequence[str], rollout: Sequence[str], start: int, *,
                     min_km: float | None, similar: int | None,
                     labels: dict[str, str] | None = None
                     ) -> tuple[Candidates, dict[str, list[str]], pd.DataFrame]:
    """(Candidates, donor pools, the complete panel rows) for :func:`choose`."""
    check_pre_years([int(c) for c in values.columns], start)
    data = _complete(values, start)
    lacking = [c for c in candidates if c not in data.index]
    if lacking:
        raise KeycitiesError(f"No complete outcome series for candidate(s) "
                             f"{', '.join(lacking)}: leave them out (--exclude does not "
                             "help: give candidates with data).")
    geo = places.reindex(data.index)
    km = pd.DataFrame(haversine_km(geo["lat"].to_numpy(float), geo["lon"].to_numpy(float)),
                      index=data.index, columns=data.index)
    pools = donor_pools(data, km, candidates, start, min_km=min_km, similar=similar)
    lost = np.zeros((len(candidates), len(candidates)), dtype=int)
    if min_km is not None:
        for i, c in enumerate(candidates):
            near = km.loc[pools[c], list(candidates)].to_numpy() < min_km
            lost[i] = near.sum(axis=0)
    missing = [c for c in candidates if c not in z.index]
    if missing:
        raise KeycitiesError(f"No features for candidate(s) {', '.join(missing)}.")
    cands = Candidates(tuple(candidates),
                       {c: str(places.at[c, "name"]) for c in candidates},
                       places.reindex(list(candidates))["region"].fillna("").to_numpy(str),
                       rollout_scale(z, rollout, candidates),
                       km.loc[list(candidates), list(candidates)].to_numpy(float), lost,
                       len([r for r in rollout if r in z.index]), labels or {})
    return cands, pools, data


def choose_testbeds(values: pd.DataFrame, places: pd.DataFrame, z: pd.DataFrame,
                    candidates: Sequence[str], rollout: Sequence[str], spec: ChooseSpec, *,
                    labels: dict[str, str] | None = None, workers: int = 1,
                    cluster: str | None = None,
                    progress: Progress | None = None) -> TestbedChoice:
    """Power grid, then the exact choice (:mod:`keycities.analysis.testbed.choose`).

    Parameters
    ----------
    values
        Places x years of the outcome.
    places
        Index = code: name, region, lon, lat.
    z
        Standardised features (places x features).
    candidates, rollout
        Codes of the candidate testbeds and of the roll-out set.
    spec
        The constraints and the power grid's settings.
    workers, cluster, progress
        The parallel map's engine (:func:`~keycities.analysis._parallel.parallel_map`).
    """
    con = spec.constraints
    start = spec.start or default_start([int(c) for c in values.columns])
    cands, pools, data = candidate_inputs(values, places, z, candidates, rollout, start,
                                          min_km=con.min_km, similar=spec.similar,
                                          labels=labels)
    grid = effect_grid(spec.grid, spec.max_effect,
                       also=[spec.effect] if spec.effect else [])
    power = power_table(data, list(candidates), start, donors=pools, effects=grid,
                        alpha=spec.alpha, workers=workers, cluster=cluster, progress=progress)
    return choose(cands, power, con, effect=spec.effect)


__all__ = ["DEFAULT_FEATURES", "MIN_DONORS", "ChooseSpec", "candidate_inputs",
           "choose_testbeds", "default_start", "donor_pools", "rollout_scale"]
