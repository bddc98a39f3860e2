"""Maximum-weight matching on a general graph, with an optimality certificate.

Problem
-------
Given ``n`` places and symmetric weights ``w_ij`` (NaN or ``-inf`` = pair not
allowed), find a matching ``M`` (each place in at most one pair; places may stay
unpaired) maximising ``w(M) = sum_{ij in M} w_ij``, subject to fixed pairs.

Certificate
-----------
Every result carries a *proven* upper bound.  By LP duality on Edmonds'
matching polytope (Edmonds 1965, "Maximum matching and a polyhedron with 0,1
vertices"; Schrijver, *Combinatorial Optimization*, 2003, Thm 25.1/ch. 26 and
the 2-matching / assignment relaxation of ch. 30), any ``y >= 0`` on nodes and
``z >= 0`` on odd node sets ``S`` with

    y_i + y_j + sum_{S contains i, j} z_S >= w_ij    for every allowed pair ij

gives ``w(M) <= sum_i y_i + sum_S z_S (|S| - 1) / 2`` for every matching ``M``.
The solver builds ``(y, z)`` from an LP solution, then *checks every allowed
pair* and raises ``y`` where the check fails (``y_i += max_j violation_ij``), so
the reported bound never depends on a solver tolerance: it is re-derived from
the weights.  Where Edmonds' algorithm finishes (step 3) the dual is its
blossom dual, checked exactly on integer-scaled weights.  ``gap = bound -
objective``; gap 0 proves optimality.

Method
------
1. **A dual start.**  Small dense problems (``n <= LSA_MAX``) solve the
   *assignment relaxation*: maximise ``sum_i c_{i, s(i)}`` over permutations
   ``s`` with ``c = w`` off the diagonal and ``c_ii = 0`` (a place left
   unpaired).  A matching ``M`` gives the permutation swapping its pairs, of
   value ``2 w(M)``, so ``max / 2 >= w(M)``.  Solved with
   :func:`scipy.optimize.linear_sum_assignment`; its potentials are recovered by
   Bellman-Ford on the residual graph, and ``y_i = (u_i + v_i)/2`` is an optimal
   dual of the *degree LP* ``max w.x, x(delta(i)) <= 1, x >= 0``.  Its 2-cycles
   are pairs, even cycles split into their better alternating half, odd cycles
   are the fractional (x = 1/2) part.  Larger dense problems estimate the
   degree-LP duals by *sampling*: solve the degree LP on a random half of the
   places (recursively, the same way), then extend its duals to every place by
   the c-transform ``y_i = max_{j in sample} (w_ij - y_j)^+`` (the smallest
   ``y_i`` covering the pairs to the sample; Villani, *Optimal Transport*, 2009,
   ch. 5, for the transform).  Either way the candidate pairs are the
   ``CAND_K`` (``CAND_K_LARGE`` above ``LARGE`` places) best per place by
   reduced weight ``w_ij - y_i - y_j``.
2. **Degree LP with odd-set cuts**, one HiGHS model modified in place
   (:mod:`keycities.analysis.twinning.lp`) on the candidate pairs (dense) or the
   given edges (sparse).  Fractional odd components ``S`` violating
   ``x(E(S)) <= (|S| - 1)/2`` are added as cuts (blossom inequalities; the
   assignment's odd cycles are the first ones; with sampled duals and an odd number
   of places, the set of all places is the first one) and the LP is re-solved from its
   previous basis until integral; dense mode then prices all pairs against the
   LP duals and adds violated ones (column generation) until none are left.
3. **Edmonds' finish.**  If the LP is still fractional after ``CUT_ROUNDS``
   rounds of cuts (bond and mixed weights close their last gap by cuts only
   after 100+ rounds), stalls or runs out of time, its repaired dual fixes
   every pair that cannot be in a matching better than the best known one
   (reduced-cost fixing), and Edmonds' blossom algorithm (rustworkx) solves
   the pairs left exactly; rustworkx checks its own blossom dual in integer
   arithmetic (:mod:`keycities.analysis.twinning.blossom`), and the bound is
   the matching's weight plus the integer rounding allowance (about 1e-13).
   The same finish is tried on the assignment relaxation's dual before any LP
   (``n <= LSA_MAX``, no ``max_gap``: it usually needs few pairs), and sparse
   candidate graphs up to ``SPARSE_BLOSSOM_MAX`` places go to Edmonds'
   algorithm straight away.  The finish gives up when more than
   ``EDMONDS_NODES`` places would remain (rustworkx grows as their cube).
4. **Certificate**: repaired duals, as above, or Edmonds' checked dual.  If
   neither closes the gap (too many places or pairs left after fixing), the
   primal is the better of the LP's integral part plus a greedy completion and
   Edmonds' matching of the candidate pairs, and the gap is reported;
   for ``n <= EXHAUSTIVE_MAX`` exhaustive search makes the result exact.  With
   ``max_gap > 0`` each LP round also rounds its primal and repairs its duals,
   and the loop stops once that verified relative gap is ``<= max_gap``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from keycities.analysis.twinning.blossom import BlossomError, edmonds
from keycities.analysis.twinning.finish import FIX_MAX_EDGES, edmonds_finish, lp_matching
from keycities.analysis.twinning.lp import (
    BLOCK,
    EXHAUSTIVE_MAX,
    DensePricer,
    Edges,
    Pricer,
    Result,
    complete,
    cut_loop,
    dual_bound,
    mate_weight,
    merge_edges,
    repaired,
)
from keycities.errors import KeycitiesError

LSA_MAX = 600
"""Largest dense problem started from the assignment relaxation (O(n^3)); larger
ones start from sampled duals."""
CAND_K = 5
"""Candidate pairs per place entering the LP: largest reduced weight under the
starting duals (more are priced in when violated)..."""
CAND_K_LARGE = 15
"""... and from ``LARGE`` places on, where each pricing round costs a pass over all pairs
and a large LP solve (12,018 postcode sectors: 43 s with 15, 93 s with 5)."""
LARGE = 2000


def _cand_k(n: int) -> int:
    return CAND_K_LARGE if n > LARGE else CAND_K
SPARSE_BLOSSOM_MAX = 5000
"""Largest candidate graph (places) given straight to Edmonds' algorithm, which beats the
LP's slow cutting-plane tail on sparse graphs (O(n^3) in the worst case)."""
SAMPLE = 0.5
ASSIGN_BASE = 64
"""Largest assignment relaxation solved without potentials from a random half of its places
(:func:`_assignment`)."""
"""Share of the places whose degree LP gives the sampled duals."""
SETTLE = 0.01
"""The sample's LP stops pricing once a round finds at most this share of its places in
new pairs: its duals only choose the candidates, and the last rounds (a handful of pairs
each) cost a pass over all pairs and a solve each."""
WHOLE_SET_CUT = True
"""With an odd number of places (above ``LSA_MAX``), the LP starts with the odd-set cut on
all of them, ``x(E(V)) <= (n - 1) / 2``: the degree LP covers every place with an odd cycle
of halves where a matching must leave one out, and with many near-equal weights it moves
that cycle around at no cost, cut after cut (2,997 postcode districts: 50 flat rounds and
a gap of 1.4e-4 without it; an integral optimum after 3 LP solves with it)."""

__all__ = ["EXHAUSTIVE_MAX", "LSA_MAX", "Matching", "match", "match_sparse"]


@dataclass(frozen=True)
class Matching:
    """A matching with its certificate.

    ``objective`` is the total weight of ``pairs``; ``bound`` is a proven upper
    bound on the total weight of any matching that honours the constraints;
    ``gap = bound - objective`` (0 proves optimality).
    """

    pairs: list[tuple[int, int]]
    unmatched: list[int]
    objective: float
    bound: float
    method: str
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def gap(self) -> float:
        """Bound minus objective (absolute)."""
        return self.bound - self.objective

    @property
    def relative_gap(self) -> float:
        """Gap divided by ``max(1, |bound|)``."""
        return self.gap / max(1.0, abs(self.bound))

    def to_frame(self) -> pd.DataFrame:
        """One row per pair (``i``, ``j``); unmatched places have ``j`` missing."""
        rows: list[dict[str, int | None]] = [{"i": i, "j": j} for i, j in self.pairs]
        rows += [{"i": i, "j": None} for i in self.unmatched]
        return pd.DataFrame(rows, columns=["i", "j"]).astype({"j": "Int64"})

    def payload(self) -> dict[str, object]:
        """Plain data for JSON output."""
        return {"pairs": [list(p) for p in self.pairs], "unmatched": list(self.unmatched),
                "objective": self.objective, "bound": self.bound, "gap": self.gap,
                "relative_gap": self.relative_gap, "method": self.method,
                "seconds": self.seconds, "notes": list(self.notes)}


# ---------------------------------------------------------------- public API
def match(weights: np.ndarray, *, fixed: Sequence[tuple[int, int]] = (),
          max_gap: float = 0.0, time_limit: float | None = None) -> Matching:
    """Maximum-weight matching on a dense symmetric weight matrix.

    Parameters
    ----------
    weights : (n, n) array
        Symmetric; NaN or ``-inf`` marks a pair that is not allowed.  The
        diagonal is ignored.  float32 is kept as is (memory for large ``n``).
    fixed : pairs that must be in the result.  Their nodes are removed, the rest
        is solved, and their weight is added to both objective and bound.
    max_gap : stop improving once the verified ``gap <= max_gap * max(1, |bound|)``
        (checked after each LP round, at the cost of one pass over all pairs).
    time_limit : seconds after which the LP loop stops and the current
        (valid) bound is reported.

    Returns
    -------
    Matching
        See the module docstring for the formulation and certificate.
    """
    start = time.perf_counter()
    w = _check_dense(weights)
    n = w.shape[0]
    fixed_list, fixed_weight, rest = _check_fixed(fixed, n, lambda i, j: float(w[i, j]))
    sub = w[np.ix_(rest, rest)] if fixed_list else w
    res = _solve_dense(sub, max_gap, _deadline(start, time_limit))
    return _assemble(res, rest, fixed_list, fixed_weight, n, start)


def match_sparse(n: int, rows: np.ndarray, cols: np.ndarray, w: np.ndarray, *,
                 fixed: Sequence[tuple[int, int]] = (), max_gap: float = 0.0,
                 time_limit: float | None = None) -> Matching:
    """Maximum-weight matching on a candidate graph given as edge lists.

    Only the listed pairs are allowed (a pair listed in both orders is one
    edge; if its two weights differ the larger is used); the bound is proven for
    matchings on this candidate graph.  Parameters as :func:`match`.
    """
    start = time.perf_counter()
    a, b, we = _edge_arrays(n, rows, cols, w)
    lookup = {(int(i), int(j)): float(x) for i, j, x in zip(a, b, we, strict=True)} \
        if fixed else {}
    fixed_list, fixed_weight, rest = _check_fixed(
        fixed, n, lambda i, j: lookup.get((min(i, j), max(i, j)), -np.inf))
    if fixed_list:
        newid = np.full(n, -1)
        newid[rest] = np.arange(len(rest))
        keep = (newid[a] >= 0) & (newid[b] >= 0)
        a, b, we = newid[a[keep]], newid[b[keep]], we[keep]
    res = _solve_sparse(len(rest), a, b, we, max_gap, _deadline(start, time_limit))
    return _assemble(res, rest, fixed_list, fixed_weight, n, start)


# ---------------------------------------------------------------- validation
def _check_dense(weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise KeycitiesError(f"Weights must be a square matrix, got shape {w.shape}.")
    if w.dtype not in (np.float32, np.float64):
        w = w.astype(np.float64)
    top = w.max(initial=-np.inf)  # one pass: NaN if any NaN, +inf if any +inf
    if np.isnan(top):
        w = np.where(np.isnan(w), -np.inf, w)
        top = w.max(initial=-np.inf)
    if top == np.inf:
        raise KeycitiesError("Weights contain +inf; use finite weights (NaN/-inf = not allowed).")
    if w.shape[0] <= 4000 and not np.array_equal(w, w.T) and \
            not np.allclose(w, w.T, equal_nan=True):
        raise KeycitiesError("Weights must be symmetric (w[i, j] == w[j, i]); symmetrise "
                             "them, e.g. (w + w.T) / 2.")
    return w


def _edge_arrays(n: int, rows: np.ndarray, cols: np.ndarray, w: np.ndarray) -> Edges:
    r, c = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    x = np.asarray(w, dtype=np.float64)
    if not (len(r) == len(c) == len(x)):
        raise KeycitiesError("rows, cols and w must have the same length.")
    if len(r) and (min(r.min(), c.min()) < 0 or max(r.max(), c.max()) >= n):
        raise KeycitiesError(f"Edge endpoints must be in 0..{n - 1}.")
    keep = (r != c) & np.isfinite(x)
    a, b, x = np.minimum(r, c)[keep], np.maximum(r, c)[keep], x[keep]
    key = a * n + b
    if np.all(key[1:] > key[:-1]):  # already sorted, each pair once: nothing to sort out
        return a, b, x
    order = np.lexsort((-x, key))
    a, b, x, key = a[order], b[order], x[order], key[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    return a[first], b[first], x[first]


def _check_fixed(fixed: Sequence[tuple[int, int]], n: int,
                 weight: Callable[[int, int], float]) -> tuple[list[tuple[int, int]], float,
                                                               np.ndarray]:
    seen: set[int] = set()
    out, total = [], 0.0
    for i, j in fixed:
        i, j = int(i), int(j)
        if i == j or not (0 <= i < n and 0 <= j < n):
            raise KeycitiesError(f"Fixed pair ({i}, {j}) is not a pair of two places 0..{n - 1}.")
        if i in seen or j in seen:
            raise KeycitiesError(f"Fixed pair ({i}, {j}) reuses a place already in another "
                                 "fixed pair; each place can be in one pair only.")
        wij = weight(i, j)
        if not np.isfinite(wij):
            raise KeycitiesError(f"Fixed pair ({i}, {j}) is not an allowed pair; allow it or "
                                 "remove it from the fixed pairs.")
        seen |= {i, j}
        out.append((min(i, j), max(i, j)))
        total += wij
    rest = np.array([k for k in range(n) if k not in seen], dtype=np.int64)
    return out, total, rest


def _deadline(start: float, time_limit: float | None) -> float:
    return np.inf if time_limit is None else start + time_limit


# ---------------------------------------------------------------- result
def _assemble(res: Result, rest: np.ndarray, fixed: list[tuple[int, int]],
              fixed_weight: float, n: int, start: float) -> Matching:
    pairs = list(fixed)
    for k, m in enumerate(res.mate):
        if m > k:
            pairs.append((int(rest[k]), int(rest[m])))
    pairs.sort()
    used = {v for p in pairs for v in p}
    notes = list(res.notes)
    if fixed:
        notes.append(f"{len(fixed)} fixed pair(s) kept; their weight {fixed_weight:.6g} is "
                     "added to objective and bound.")
    return Matching(pairs=pairs, unmatched=[k for k in range(n) if k not in used],
                    objective=res.objective + fixed_weight, bound=res.bound + fixed_weight,
                    method=res.method, seconds=time.perf_counter() - start, notes=notes)




# ---------------------------------------------------------------- solvers
def _solve_dense(w: np.ndarray, max_gap: float, deadline: float) -> Result:
    """Assignment relaxation or sampled duals, then the LP with cuts, priced over all pairs."""
    n = w.shape[0]
    if n < 2:
        return Result(np.full(n, -1), 0.0, 0.0, "trivial", [])
    pricer = DensePricer(w)

    def weight(i: int, j: int) -> float:
        return float(w[i, j])

    if n > LSA_MAX:
        y0 = _sampled_duals(w, deadline)
        return lp_matching(n, pricer.top(y0, _cand_k(n)), pricer, weight, max_gap=max_gap,
                           deadline=deadline,
                           notes=["candidate pairs from sampled degree-LP duals"],
                           cuts=[np.arange(n)] if n % 2 and WHOLE_SET_CUT else None)
    asg = _assignment_start(w)
    objective = mate_weight(asg.mate, weight)
    if not asg.residual:
        bound = dual_bound(asg.y, [], np.zeros(0), pricer)
        return Result(asg.mate, objective, bound, "assignment relaxation (all 2-cycles)", [])
    notes = [f"assignment relaxation left {len(asg.residual)} odd cycle(s) on "
             f"{sum(map(len, asg.residual))} places"]
    edges = merge_edges(n, asg.support, pricer.top(asg.y, CAND_K))
    # With max_gap the LP stops as soon as its rounding is good enough, often sooner.
    done = _assignment_finish(n, asg, edges, pricer, weight, notes) if max_gap == 0 else None
    if done is not None:
        return done
    notes[0] += "; closed with blossom cuts"
    return lp_matching(n, edges, pricer, weight, max_gap=max_gap, deadline=deadline,
                       notes=notes, cuts=list(asg.residual))


def _assignment_finish(n: int, asg: _Assignment, edges: Edges, pricer: DensePricer,
                       weight: Callable[[int, int], float], notes: list[str]) -> Result | None:
    """Edmonds' finish straight from the assignment relaxation's dual, if it leaves few pairs.

    The degree-LP dual proves all but the odd cycles; reduced-cost fixing against
    it usually leaves a small graph, and no LP is needed
    (:func:`keycities.analysis.twinning.lp.edmonds_finish`).
    """
    y, bound = repaired(asg.y, [], np.zeros(0), pricer)
    done = edmonds_finish(n, complete(asg.mate, edges), pricer, weight, y, bound, [],
                          np.zeros(0), most=FIX_MAX_EDGES * n, runs=2)
    if done is None:
        return None
    mate, objective, bound, used = done
    notes.append(f"reduced-cost fixing left {used} pair(s) that could be in a better "
                 "matching; Edmonds' algorithm solved them exactly")
    return Result(mate, objective, max(bound, objective),
                  "assignment relaxation + Edmonds' blossom algorithm (rustworkx, dual checked)",
                  notes)


def _solve_sparse(n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray, max_gap: float,
                  deadline: float) -> Result:
    """Edmonds' algorithm on the candidate graph up to ``SPARSE_BLOSSOM_MAX`` places, else the
    LP (no pricing: the graph goes whole into it)."""
    if n < 2 or not len(a):
        return Result(np.full(n, -1), 0.0, 0.0, "trivial", [])
    # The pairs come sorted by (a, b), each once (_edge_arrays): a pair's weight is found
    # by binary search on a * n + b, without a dictionary of every pair.
    key = a * n + b

    def weight(i: int, j: int) -> float:
        # A pair outside the candidate graph is not allowed (the exhaustive
        # fallback asks for every pair).
        k = min(i, j) * n + max(i, j)
        at = int(np.searchsorted(key, k))
        return float(w[at]) if at < len(key) and key[at] == k else -np.inf

    if n <= SPARSE_BLOSSOM_MAX:
        try:
            mate, allowance = edmonds(n, (a, b, w))
        except BlossomError as err:
            notes = [f"Edmonds' algorithm skipped: {err}"]
        else:
            lo = np.flatnonzero(mate > np.arange(n))
            objective = float(w[np.searchsorted(key, lo * n + mate[lo])].sum())
            return Result(mate, objective, objective + allowance,
                          "Edmonds' blossom algorithm (rustworkx, dual checked)", [])
    else:
        notes = []
    return lp_matching(n, (a, b, w), Pricer(n, (a, b, w)), weight, max_gap=max_gap,
                       deadline=deadline, notes=notes)


def _sampled_duals(w: np.ndarray, deadline: float, seed: int = 0) -> np.ndarray:
    """Degree-LP duals estimated from a random sample of places (module docstring, step 1).

    The sample's degree LP is solved by the assignment relaxation when it has
    at most ``LSA_MAX`` places, otherwise the same way, from a smaller sample; the
    samples are seeded, so results are repeatable.
    """
    n = w.shape[0]
    sub = np.sort(np.random.default_rng(seed).choice(n, max(2, int(n * SAMPLE)),
                                                      replace=False))
    ws = np.asarray(w[np.ix_(sub, sub)])
    if len(sub) <= LSA_MAX:
        ys = _assignment_start(ws).y
    else:
        pricer = DensePricer(ws)
        start = pricer.top(_sampled_duals(ws, deadline, seed + 1), _cand_k(len(sub)))
        ys = cut_loop(len(sub), start, pricer, deadline=deadline, with_cuts=False,
                      settle=int(SETTLE * len(sub))).y
    y = np.zeros(n)
    for r0 in range(0, n, BLOCK):
        rows = np.arange(r0, min(n, r0 + BLOCK))
        red = np.asarray(w[np.ix_(rows, sub)], dtype=np.float64) - ys[None, :]
        red[rows[:, None] == sub[None, :]] = -np.inf
        y[rows] = np.maximum(red.max(axis=1), 0.0)
    y[sub] = ys
    return y


@dataclass
class _Assignment:
    """Assignment relaxation: its pairs, degree-LP duals, odd cycles and support."""

    mate: np.ndarray
    y: np.ndarray
    residual: list[np.ndarray]
    support: Edges


def _assignment_start(w: np.ndarray) -> _Assignment:
    """Solve the assignment relaxation: pairs, degree-LP duals, odd cycles, support.

    Formulation: ``max sum_i c_{i s(i)}`` over permutations ``s``, ``c = w`` off
    the diagonal, ``c_ii = 0``.  Cycles of ``s`` of length 2 are pairs; an even
    cycle is the union of two perfect matchings of equal weight (LP optimality)
    and the better one is taken; odd cycles are returned as residual.
    """
    n = w.shape[0]
    c = np.array(w, dtype=np.float64)
    np.fill_diagonal(c, 0.0)
    s, y = _assignment(c, np.random.default_rng(0))
    y = np.maximum(y, 0.0)  # c_ii = 0 makes y >= 0 up to float residue (repaired later)
    mate = np.full(n, -1)
    residual: list[np.ndarray] = []
    for cyc in _cycles(s):
        if len(cyc) % 2 == 1:
            if len(cyc) > 1:
                residual.append(np.sort(np.array(cyc, dtype=np.int64)))
            continue
        halves = [[(cyc[k], cyc[(k + 1) % len(cyc)]) for k in range(o, len(cyc), 2)]
                  for o in (0, 1)]
        best = max(halves, key=lambda h: sum(c[i, j] for i, j in h))
        for i, j in best:
            mate[i], mate[j] = j, i
    moved = np.flatnonzero(s != np.arange(n))
    support = (moved, s[moved], c[moved, s[moved]])
    return _Assignment(mate, y, residual, support)


def _assignment(c: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """An optimal assignment ``s`` of ``c`` and its duals ``y_i = (u_i + v_i) / 2``.

    Potentials ``p`` change ``c_ij`` to ``c_ij - p_i - p_j`` and every permutation's
    value by the same ``-2 sum p``, so the optimal ``s`` stays optimal, and duals of
    the changed problem plus ``p`` are duals of ``c``.  With good potentials scipy's
    shortest augmenting paths are short: above ``ASSIGN_BASE`` places they come from
    the duals of a random half of the places (solved the same way), extended to the
    others by the c-transform ``p_i = max_{j in half} (c_ij - y_j)`` as in
    :func:`_sampled_duals` (bridge weights on 348 councils: the solve took 26 ms of CPU
    directly, 15 ms so; exact duals as potentials make it 100 times faster).
    """
    n = c.shape[0]
    if n <= ASSIGN_BASE:
        _, s = linear_sum_assignment(c, maximize=True)
        return s, _assignment_duals(c, s)
    half = np.sort(rng.choice(n, n // 2, replace=False))
    _, yh = _assignment(c[np.ix_(half, half)], rng)
    red = c[:, half] - yh[None, :]
    red[half, np.arange(len(half))] = -np.inf
    p = red.max(axis=1)
    p[half] = yh
    p[~np.isfinite(p)] = 0.0  # a place with no allowed pair into the half
    reduced = c - p[:, None] - p[None, :]
    _, s = linear_sum_assignment(reduced, maximize=True)
    return s, _assignment_duals(reduced, s) + p


def _assignment_duals(c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Degree-LP duals ``y_i = (u_i + v_i) / 2`` from an optimal assignment ``s``.

    Potentials with ``u_i + v_j >= c_ij`` and equality on ``j = s(i)`` are
    shortest-path distances ``v`` in the residual graph with arcs
    ``j -> s(i)`` of length ``c_{i s(i)} - c_ij`` (no negative cycle, as ``s`` is
    optimal), computed by vectorised Bellman-Ford; ``u_i = c_{i s(i)} - v_{s(i)}``.
    Symmetry of ``c`` makes ``y`` feasible for ``y_i + y_j >= w_ij``, and
    ``c_ii = 0`` gives ``y >= 0`` (on a matrix with potentials taken off, see
    :func:`_assignment`, ``y`` is not clamped).  Any float residue is repaired later.
    """
    n = c.shape[0]
    cis = c[np.arange(n), s]
    d = np.zeros(n)
    scale = 1e-12 * max(1.0, float(np.abs(cis).max(initial=0.0)))
    # cand_i = cis_i + min_j (d_j - c_ij); as d only falls, each round needs only the
    # columns whose d fell in the round before.
    cand = cis + (-c).min(axis=1)
    for _ in range(n + 1):
        new = d.copy()
        new[s] = np.minimum(d[s], cand)
        fell = np.flatnonzero(new < d - scale)
        d = new
        if not len(fell):
            break
        cand = np.minimum(cand, cis + (d[fell][None, :] - c[:, fell]).min(axis=1))
    u = cis - d[s]
    return (u + d) / 2.0


def _cycles(s: np.ndarray) -> list[list[int]]:
    seen = np.zeros(len(s), dtype=bool)
    out = []
    for i in range(len(s)):
        cyc = []
        j = i
        while not seen[j]:
            seen[j] = True
            cyc.append(j)
            j = int(s[j])
        if cyc:
            out.append(cyc)
    return out
