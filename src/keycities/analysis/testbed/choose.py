"""Choose the testbeds: k places that together detect an effect, represent the roll-out
and keep clean comparisons, by an exact optimisation with a proven bound.

Formulation
-----------
Candidates ``i`` (say the network's members), each with its Stouffer scores
``z_i(e)`` over an injected-effect grid (:mod:`keycities.analysis.testbed.power`), its
donor pool ``D_i`` and features ``x_if``.  Features are standardised on the roll-out
set ``R`` (the places the policy would go to next): ``s_if = (x_if - mean_R x_f) /
sd_R x_f``, so the roll-out's mean is 0 on every feature.

* **Power**: the pooled minimum detectable effect of the set ``S`` (``|S| = k``),
  ``MDE(S) = min{e_g : sum_(i in S) zeta_i(e_h) >= sqrt(k) (z_(1-alpha) + z_(1-beta))
  for every h >= g}``: the smallest injected effect the pooled test detects with
  80% power (:mod:`keycities.analysis.testbed.power`).
* **Representativeness**: the mean absolute standardised difference between the
  testbeds' and the roll-out's feature means,
  ``A(S) = (1/F) sum_f |(1/k) sum_(i in S) s_if|`` (in roll-out standard deviations;
  below 0.25 is the usual "balanced", Stuart 2010, "Matching methods for causal
  inference", *Statistical Science* 25(1); Tipton 2014, "How does it generalize?",
  *J. Educ. Behav. Stat.* 39(6), chooses sites for generalisation the same way).
* **Clean comparisons**: no two testbeds closer than ``min_km`` (neither lies in the
  other's spillover zone); each testbed keeps at least ``min_donors`` of its donors
  outside every other testbed's zone; at most ``max_per_region`` per region;
  ``require`` and ``exclude`` as given.

The chosen set is lexicographically optimal: the least ``MDE(S)`` among the sets
with ``A(S) <= max_imbalance`` that satisfy the constraints, then, among those, the
least ``A(S)``.  Both stages are mixed-integer programs solved to proven optimality
by HiGHS (:mod:`keycities.analysis.testbed._choose_mip`); the bounds it proves are
reported: no feasible set has a smaller MDE than ``mde_bound`` or, at that MDE, a
smaller imbalance than ``imbalance_bound``.  The *frontier* solves the same
program for several imbalance caps (and the most representative set, power
ignored): the trade-off between power and representativeness.  Each place's
reason compares the chosen set with the best single swap that brings it in or
takes it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.analysis.testbed._choose_mip import (
    Model,
    Solved,
    binding,
    solve_imbalance,
    solve_lexicographic,
)
from keycities.analysis.testbed._choose_reasons import choice_notes, place_reasons
from keycities.analysis.testbed._choose_sets import (
    Candidates,
    Constraints,
    imbalance,
    pooled_mde,
)
from keycities.analysis.testbed.power import PowerTable
from keycities.errors import KeycitiesError, Param, ParameterError

CAPS = (None, 1.0, 0.5, 0.25, 0.1)
"""Imbalance caps of the frontier (None: power only)."""
FAMILY_PARAM = {"require": "require", "max_per_region": "max_per_region", "min_km": "min_km",
                "min_donors": "min_donors", "max_imbalance": "max_imbalance"}


@dataclass(eq=False)
class TestbedChoice:
    """The chosen testbeds, the proof of optimality, the frontier and the reasons."""

    chosen: tuple[str, ...]
    mde: float
    mde_bound: float
    imbalance: float
    imbalance_bound: float
    effect: float | None
    pooled_z: float | None
    places: pd.DataFrame
    frontier: pd.DataFrame
    balance: pd.DataFrame
    power: PowerTable
    constraints: Constraints
    notes: list[str] = field(default_factory=list)
    nodes: int = 0
    outcome_label: str = ""
    """The outcome in words (set by the store adapter), for titles."""

    def payload(self) -> dict[str, Any]:
        """Plain data: the set, objective and bounds, frontier, reasons, balance, power."""
        return jsonable({
            "chosen": list(self.chosen),
            "objective": {"mde": self.mde, "mde_bound": self.mde_bound,
                          "imbalance": self.imbalance, "imbalance_bound": self.imbalance_bound,
                          "optimal": True, "nodes": self.nodes},
            "effect": self.effect, "pooled_z_at_effect": self.pooled_z,
            "critical_z": self.power.critical,
            "constraints": vars(self.constraints), "places": self.places,
            "frontier": self.frontier, "balance": self.balance,
            "power": self.power.payload(), "notes": self.notes})


# ------------------------------------------------------------------ the program
def _model(c: Candidates, power: PowerTable, con: Constraints, cap: float | None,
           eligible: np.ndarray) -> Model:
    n = len(c.codes)
    close = ([(i, j) for i in range(n) for j in range(i + 1, n) if c.km[i, j] < con.min_km]
             if con.min_km is not None else [])
    require = np.array([code in con.require for code in c.codes])
    allowed = eligible & np.array([code not in con.exclude for code in c.codes])
    z = np.nan_to_num(power.z, nan=-10.0)
    lost = c.lost if con.min_km is not None else np.zeros_like(c.lost)  # no zones, no loss
    return Model(con.k, z, power.effects, float(np.sqrt(con.k) * power.critical),
                 c.s.to_numpy(float), c.region, close, lost,
                 np.array([len(power.donors[code]) for code in c.codes]), con.min_donors,
                 con.max_per_region, cap, require, allowed)


def _check(c: Candidates, power: PowerTable, con: Constraints) -> np.ndarray:
    """Eligible candidates (a usable test and enough donors); errors a person can act on."""
    n = len(c.codes)
    if con.k < 1:
        raise ParameterError("Choose at least one testbed (", Param("k"), " 1 or more).")
    if con.k > n:
        raise ParameterError(f"{con.k} testbeds were asked for but there are only {n} "
                             "candidates: lower ", Param("k"), " or give more candidates.")
    unknown = [x for x in (*con.require, *con.exclude) if x not in c.codes]
    if unknown:
        raise KeycitiesError(f"Not among the candidates: {', '.join(unknown)}; require and "
                             "exclude only candidates.")
    both = set(con.require) & set(con.exclude)
    if both:
        raise KeycitiesError(f"{', '.join(sorted(both))} is both required and excluded.")
    if len(con.require) > con.k:
        raise ParameterError(f"{len(con.require)} places are required but only {con.k} "
                             "testbeds are chosen: raise ", Param("k"), " or require fewer.")
    donors = np.array([len(power.donors[code]) for code in c.codes])
    eligible = ~power.exact & (donors >= con.min_donors)
    lost = [c.names.get(code, code) for code, e in zip(c.codes, eligible, strict=True)
            if not e and code in con.require]
    if lost:
        raise KeycitiesError(f"Required {', '.join(lost)} cannot be a testbed: its pre-period "
                             "fit is exact or it has too few donors (see the reasons).")
    if eligible.sum() - len(set(con.exclude) & set(np.array(c.codes)[eligible])) < con.k:
        raise ParameterError(f"Only {int(eligible.sum())} candidates have a usable test and "
                             f"{con.min_donors} donors, fewer than {con.k}: lower ",
                             Param("k"), " or ", Param("min_donors"), ", or add candidates.")
    return eligible


def _infeasible(m: Model) -> ParameterError:
    fams = binding(m)
    if fams:
        parts: list[str | Param] = ["No set of testbeds satisfies every constraint; "
                                    "relaxing any one of these alone makes it possible: "]
        for i, f in enumerate(fams):
            parts += [", " if i else "", Param(FAMILY_PARAM[f])]
        return ParameterError(*parts, ".")
    return ParameterError("No set of testbeds satisfies every constraint, and no single "
                          "constraint is to blame: relax several of ", Param("require"), ", ",
                          Param("max_per_region"), ", ", Param("min_km"), ", ",
                          Param("min_donors"), " and ", Param("max_imbalance"), ".")


def choose(c: Candidates, power: PowerTable, con: Constraints, *,
           effect: float | None = None, time_limit: float = 60.0) -> TestbedChoice:
    """The chosen testbeds (see the module docstring).

    Raises
    ------
    ParameterError
        ``k`` larger than the candidates, more places required than ``k``, or
        constraints no set satisfies (naming the constraints whose relaxation alone
        would make a set possible).
    """
    eligible = _check(c, power, con)
    first, second = solve_lexicographic(_model(c, power, con, con.max_imbalance, eligible),
                                        time_limit=time_limit)
    if first.status == "infeasible":
        raise _infeasible(_model(c, power, con, con.max_imbalance, eligible))
    if second.status != "optimal" or first.status != "optimal":
        raise KeycitiesError(f"The solver stopped at its time limit ({time_limit:g} s) "
                             "without proving the best set: give fewer candidates or a "
                             "coarser effect grid.")
    rows = [int(i) for i in np.flatnonzero(second.x)]
    frontier = _frontier(c, power, con, eligible, time_limit)
    result = TestbedChoice(
        tuple(c.codes[i] for i in rows), pooled_mde(power, rows),
        _mde_bound(first, power), imbalance(c.s.to_numpy(float), rows),
        max(0.0, second.bound), effect, _z_at(power, rows, effect),
        place_reasons(c, power, con, rows, eligible, effect), frontier, _balance(c, rows),
        power, con, nodes=first.nodes + second.nodes)
    result.notes = choice_notes(c, power, con, result.chosen, result.mde, result.imbalance,
                                effect, result.pooled_z)
    return result


def _mde_bound(first: Solved, power: PowerTable) -> float:
    """The dual bound on the MDE, clipped to the grid (no set detects below its first)."""
    return float(max(first.bound, power.effects[0]) if np.isfinite(first.bound) else np.nan)


def _z_at(power: PowerTable, rows: Sequence[int], effect: float | None) -> float | None:
    if effect is None:
        return None
    g = int(np.argmin(np.abs(power.effects - effect)))
    return float(power.z[list(rows), g].sum() / np.sqrt(len(rows)))


def _frontier(c: Candidates, power: PowerTable, con: Constraints, eligible: np.ndarray,
              time_limit: float) -> pd.DataFrame:
    rows_out: list[dict[str, Any]] = []
    seen: set[tuple[str, ...]] = set()
    s = c.s.to_numpy(float)
    for cap in CAPS:
        first, second = solve_lexicographic(_model(c, power, con, cap, eligible),
                                            time_limit=time_limit)
        if second.status != "optimal":
            rows_out.append({"cap": cap, "mde": None, "imbalance": None, "testbeds": "",
                             "codes": [], "note": "no set within this cap"})
            continue
        rows_out.append(_point(c, power, s, second.x, cap, seen))
    most = solve_imbalance(_model(c, power, con, None, eligible), time_limit=time_limit)
    if most.status == "optimal":
        rows_out.append(_point(c, power, s, most.x, "most representative", seen))
    return pd.DataFrame(rows_out, columns=["cap", "mde", "imbalance", "testbeds", "codes",
                                           "note"])


def _point(c: Candidates, power: PowerTable, s: np.ndarray, x: np.ndarray, cap: Any,
           seen: set[tuple[str, ...]]) -> dict[str, Any]:
    rows = [int(i) for i in np.flatnonzero(x)]
    codes = tuple(c.codes[i] for i in rows)
    note = "same set as above" if codes in seen else ""
    seen.add(codes)
    return {"cap": cap, "mde": pooled_mde(power, rows), "imbalance": imbalance(s, rows),
            "testbeds": ", ".join(c.names.get(code, code) for code in codes),
            "codes": list(codes), "note": note}


def _balance(c: Candidates, rows: Sequence[int]) -> pd.DataFrame:
    s = c.s.iloc[list(rows)]
    return pd.DataFrame({"feature": list(c.s.columns),
                         "label": [c.labels.get(f, f) for f in c.s.columns],
                         "testbeds_mean_sd": s.mean(axis=0).to_numpy(),
                         "candidates_mean_sd": c.s.mean(axis=0).to_numpy()})

