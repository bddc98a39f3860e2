"""The cutting-plane LP with Edmonds' finish: how one dense or sparse problem is solved.

:func:`lp_matching` runs the LP of :mod:`keycities.analysis.twinning.lp` and, when it
stays fractional, :func:`edmonds_finish` (reduced-cost fixing, then Edmonds'
algorithm, :mod:`keycities.analysis.twinning.blossom`).  See the docstring of
:mod:`keycities.analysis.twinning.matching` for the formulation and the certificate.
"""

from __future__ import annotations

import time

import numpy as np

from keycities.analysis.twinning.blossom import BlossomError, edmonds
from keycities.analysis.twinning.lp import (
    EXHAUSTIVE_MAX,
    DegreeLP,
    Edges,
    Pricer,
    Result,
    Weight,
    cut_loop,
    dual_bound,
    exhaustive,
    mate_edges,
    mate_weight,
    merge_edges,
    primal,
    repaired,
)

CUT_ROUNDS = 4
"""Rounds of odd-set cuts before a fractional LP hands over to Edmonds' algorithm on the
pairs its dual cannot rule out (:mod:`keycities.analysis.twinning.blossom`): bond and mixed
weights need 100+ rounds to close the last gap by cuts alone."""
FIX_MAX_EDGES = 60
"""The cutting-plane loop hands over to Edmonds' algorithm once reduced-cost fixing leaves
at most this many pairs per place; at its end, at most this many per place or..."""
FIX_ANY_EDGES = 200_000
"""... this many in all (Edmonds' algorithm on the whole allowed graph of 350 councils);
otherwise the LP gap is reported."""
START_PAIRS = 1.25
"""Edmonds' finish starts from the pairs of least slack, about this many per place, ..."""
GROW = 4.0
"""... and widens that slack this many times over ..."""
FINISH_RUNS = 5
"""... in at most this many runs of Edmonds' algorithm."""
BLOSSOM_MAX = 5000
"""Largest problem that tries Edmonds' finish (each try prices every pair), and whose
unfinished LP still gets Edmonds' matching of its candidate pairs as the primal (no
proof; 7-15 s on 3,000 postcode districts)."""
EDMONDS_NODES = 1200
"""Most places (outside single-pair components) the finish hands to Edmonds' algorithm, and
most places it leaves unpaired that it pairs among themselves (rustworkx took 15 s of CPU
on 3,000 postcode districts)."""


def lp_matching(n: int, edges: Edges, pricer: Pricer, weight: Weight, *, max_gap: float,
                deadline: float, notes: list[str],
                cuts: list[np.ndarray] | None = None) -> Result:
    """Degree LP + odd-set cuts, priced over all pairs; primal, repaired dual bound.

    Separation: :func:`odd_cuts`.  If the LP is still fractional after
    ``CUT_ROUNDS`` rounds of cuts (or stalls, or runs out of time), its repaired
    dual fixes every pair that cannot be in a matching better than the LP's
    rounding, and Edmonds' algorithm solves the rest exactly
    (:func:`keycities.analysis.twinning.blossom.edmonds`); the gap says what
    remains unproven when that is not possible.
    """
    def within(lp: DegreeLP, sol: tuple[np.ndarray, np.ndarray, np.ndarray]) -> bool:
        x, y, z = sol
        objective = mate_weight(primal(n, lp.edges, x)[0], weight)
        bound = dual_bound(y, lp.cuts, z, pricer)
        return bound - objective <= max_gap * max(1.0, abs(bound))

    finished: list[tuple[np.ndarray, float, float, int]] = []

    def finishable(lp: DegreeLP, sol: tuple[np.ndarray, np.ndarray, np.ndarray]) -> bool:
        x, y, z = sol
        done = edmonds_finish(n, primal(n, lp.edges, x)[0], pricer, weight,
                              *repaired(y, lp.cuts, z, pricer), lp.cuts, z,
                              most=FIX_MAX_EDGES * n)
        finished.extend([done] if done is not None else [])
        return done is not None

    loop = cut_loop(n, edges, pricer, deadline=deadline, cuts=cuts,
                    gap_check=within if max_gap > 0 else None,
                    finish_check=finishable if EXHAUSTIVE_MAX < n <= BLOSSOM_MAX and max_gap == 0
                    else None,
                    check_every=CUT_ROUNDS)
    mate, how = primal(n, loop.lp.edges, loop.x)
    objective = mate_weight(mate, weight)
    y, bound = repaired(loop.y, loop.lp.cuts, loop.z, pricer)
    notes.append(f"{len(loop.lp.cuts)} odd-set cut(s), {len(loop.lp.a)} candidate pair(s), "
                 f"{loop.rounds} LP solve(s); {loop.stop}")
    if (not finished and bound - objective > max(max_gap, 1e-12) * max(1.0, abs(bound))
            and EXHAUSTIVE_MAX < n <= BLOSSOM_MAX and time.perf_counter() < deadline):
        done = edmonds_finish(n, mate, pricer, weight, y, bound, loop.lp.cuts, loop.z,
                              most=max(FIX_MAX_EDGES * n, FIX_ANY_EDGES))
        finished.extend([done] if done is not None else [])
        if done is None:
            notes.append("too many places or pairs left by reduced-cost fixing for Edmonds' "
                         "algorithm; the remaining gap is reported")
            if n <= BLOSSOM_MAX and time.perf_counter() < deadline:
                mate, how = _better_primal(n, loop.lp.edges, mate, weight)
                objective = mate_weight(mate, weight)
    if finished:
        mate, objective, bound, used = finished[-1]
        how = "Edmonds' blossom algorithm (rustworkx, dual checked)"
        notes.append(f"reduced-cost fixing left {used} pair(s) that could be in a better "
                     "matching; Edmonds' algorithm solved them exactly")
    # Small instances are solved exactly unless the gap is float noise (a gap of 1e-9 on
    # a weight of 1e-9 is a real difference).
    if bound - objective > max(max_gap, 1e-12) * max(1.0, abs(bound)) and n <= EXHAUSTIVE_MAX:
        mate = exhaustive(n, weight)
        objective = bound = mate_weight(mate, weight)
        how = "exhaustive search"
    return Result(mate, objective, max(bound, objective), f"degree LP + blossom cuts ({how})",
                  notes)


def edmonds_finish(n: int, mate: np.ndarray, pricer: Pricer, weight: Weight, y: np.ndarray,
                   bound: float, cuts: list[np.ndarray], z: np.ndarray, *,
                   most: int, runs: int = FINISH_RUNS
                   ) -> tuple[np.ndarray, float, float, int] | None:
    """The optimum by Edmonds' algorithm on the pairs a feasible dual cannot rule out.

    ``(y, z)`` (with ``cuts``) is a feasible dual of value ``bound``.  Edmonds'
    algorithm on the pairs of slack at most ``d`` (first ``d`` keeps about
    ``START_PAIRS`` pairs per place) gives ``M``; if ``bound - w(M) <= d``, every
    better matching would lie among those pairs (reduced-cost fixing,
    :mod:`keycities.analysis.twinning.blossom`), so ``M`` is optimal; otherwise
    ``d`` grows ``GROW``-fold (at most to ``bound - w(M)``, where the next run is
    sure to be optimal, as the last run always is), up to ``runs`` runs.
    Returns ``(mate, objective, bound, pairs used)``, or None when more than
    ``most`` pairs would be needed or rustworkx's check fails.
    """
    tol = 1e-9 * max(1.0, abs(bound))
    given = mate_edges(mate, weight)
    d = min(pricer.smallest_slack(y, cuts, z, int(START_PAIRS * n)),
            bound - mate_weight(mate, weight))
    for run in range(runs):
        listed = merge_edges(n, pricer.within(y, cuts, z, d + 2 * tol), given)
        if len(listed[0]) > most:
            return None
        try:
            cand, allowance = edmonds(n, listed, max_nodes=EDMONDS_NODES)
            # Places the cheap pairs leave unpaired are paired among themselves over every
            # allowed pair (one place fewer in a pair costs a whole pair's weight).
            left = np.flatnonzero(cand < 0)
            if 1 < len(left) <= EDMONDS_NODES:
                more, _ = edmonds(n, pricer.among(left), max_nodes=EDMONDS_NODES)
                cand[left] = np.maximum(cand[left], more[left])
        except BlossomError:
            return None
        objective = mate_weight(cand, weight)
        if bound - objective <= d + tol:
            return cand, objective, min(bound, objective + allowance), len(listed[0])
        gap = bound - objective
        d = gap if run == runs - 2 else min(gap, max(GROW * d, gap / GROW ** 2))
        given = merge_edges(n, given, mate_edges(cand, weight))
    return None


def _better_primal(n: int, edges: Edges, mate: np.ndarray, weight: Weight
                   ) -> tuple[np.ndarray, str]:
    """The better of ``mate`` and Edmonds' matching of the LP's candidate pairs (no proof)."""
    try:
        other, _ = edmonds(n, edges)
    except BlossomError:
        return mate, "LP rounding + greedy"
    if mate_weight(other, weight) > mate_weight(mate, weight):
        return other, "Edmonds' blossom algorithm (rustworkx) on the candidate pairs"
    return mate, "LP rounding + greedy"
