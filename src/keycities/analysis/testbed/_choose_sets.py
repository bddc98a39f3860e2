"""Sets of candidate testbeds: their inputs, constraints, and how a set scores.

See :mod:`keycities.analysis.testbed.choose` for the formulation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from keycities.analysis.testbed.power import PowerTable, first_detected

MIN_DONORS = 10
"""Donors each testbed keeps outside the other testbeds' spillover zones, by default."""


@dataclass(frozen=True)
class Constraints:
    """What a testbed set must satisfy (see the module docstring)."""

    k: int
    require: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_per_region: int | None = None
    min_km: float | None = None
    min_donors: int = MIN_DONORS
    max_imbalance: float | None = None


@dataclass(frozen=True, eq=False)
class Candidates:
    """The candidates' inputs besides their power: features on the roll-out scale,
    region, names, and the donors each would lose to another candidate's zone."""

    codes: tuple[str, ...]
    names: Mapping[str, str]
    region: np.ndarray
    s: pd.DataFrame  # codes x features, standardised on the roll-out set
    km: np.ndarray  # candidate x candidate distances
    lost: np.ndarray  # L_ij: donors of i within min_km of j
    rollout_size: int
    labels: Mapping[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------ evaluation of a set
def pooled_mde(power: PowerTable, rows: Sequence[int]) -> float:
    """``MDE(S)`` of the candidates at ``rows`` (NaN: not detected in the grid)."""
    z = power.z[list(rows)].sum(axis=0) / np.sqrt(len(rows))
    return first_detected(power.effects, z >= power.critical)


def imbalance(s: np.ndarray, rows: Sequence[int]) -> float:
    """``A(S)``: mean over features of |the testbeds' mean standardised value|."""
    if not s.shape[1]:
        return 0.0
    return float(np.abs(s[list(rows)].mean(axis=0)).mean())


def violations(c: Candidates, power: PowerTable, rows: Sequence[int], con: Constraints
               ) -> list[str]:
    """The constraints the set ``rows`` breaks, in words (empty: feasible)."""
    out = []
    chosen = set(rows)
    if con.max_imbalance is not None and len(rows):
        imb = imbalance(c.s.to_numpy(float), rows)
        if imb > con.max_imbalance + 1e-12:
            out.append(f"imbalance {imb:.2f} SD, above {con.max_imbalance:g}")
    names = [c.names.get(code, code) for code in c.codes]
    for code in con.require:
        if c.codes.index(code) not in chosen:
            out.append(f"{c.names.get(code, code)} is required")
    regions: dict[str, list[int]] = {}
    for i in rows:
        regions.setdefault(str(c.region[i]), []).append(i)
    if con.max_per_region is not None:
        out += [f"{len(v)} testbeds in {r} (at most {con.max_per_region})"
                for r, v in regions.items() if len(v) > con.max_per_region]
    if con.min_km is not None:
        out += [f"{names[i]} is {c.km[i, j]:.0f} km from {names[j]} (at least "
                f"{con.min_km:g} km)" for i in rows for j in rows
                if i < j and c.km[i, j] < con.min_km]
        for i in rows:
            left = len(power.donors[c.codes[i]]) - sum(int(c.lost[i, j]) for j in rows
                                                       if j != i)
            if left < con.min_donors:
                out.append(f"{names[i]} keeps {left} donors (at least {con.min_donors})")
    return out
