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
the weights.  ``gap = bound - objective``; gap 0 proves optimality.

Method
------
1. **Assignment relaxation** (dense, ``n <= LSA_MAX``): maximise
   ``sum_i c_{i, s(i)}`` over permutations ``s`` with ``c = w`` off the diagonal
   and ``c_ii = 0`` (a place left unpaired).  A matching ``M`` gives the
   permutation swapping its pairs, of value ``2 w(M)``, so ``max / 2 >= w(M)``.
   Solved with :func:`scipy.optimize.linear_sum_assignment`; its potentials are
   recovered by Bellman-Ford on the residual graph, and ``y_i = (u_i + v_i)/2``
   is an optimal dual of the *degree LP* ``max w.x, x(delta(i)) <= 1, x >= 0``.
   Its 2-cycles are pairs, even cycles split into their better alternating half,
   odd cycles are the fractional (x = 1/2) part.
2. **Degree LP with odd-set cuts** (HiGHS via :func:`scipy.optimize.linprog`)
   on candidate edges: the ``CAND_K`` best pairs per place by reduced weight
   under ``y`` (dense) or the given edges (sparse).  The assignment's odd cycles
   are the first cuts (the degree-LP optimum is ``x = 1/2`` on them, so they
   are violated); further fractional odd components ``S`` violating
   ``x(E(S)) <= (|S| - 1)/2`` are added as cuts (blossom inequalities); the LP is
   re-solved until integral.  Dense mode prices all pairs against the LP duals
   and adds violated ones (column generation) until none are left.
3. **Certificate**: repaired duals, as above.  If the LP stays fractional, the
   primal is its integral part plus a greedy completion and the gap is reported;
   for ``n <= EXHAUSTIVE_MAX`` exhaustive search makes the result exact.  With
   ``max_gap > 0`` each LP round also rounds its primal and repairs its duals,
   and the loop stops once that verified relative gap is ``<= max_gap``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment, linprog
from scipy.sparse import coo_matrix, csc_matrix
from scipy.sparse.csgraph import connected_components

from keycities.errors import KeycitiesError

LSA_MAX = 2500
"""Largest dense problem solved through the assignment relaxation (O(n^3))."""
EXHAUSTIVE_MAX = 14
"""Largest residual problem solved by exhaustive search when the LP is fractional."""
CAND_K = 5
"""Candidate pairs per place entering the LP: largest reduced weight under the
assignment duals (more are priced in when violated)."""
_TOL = 1e-9
_BLOCK = 1024

Edges = tuple[np.ndarray, np.ndarray, np.ndarray]
Pricer = Callable[[np.ndarray, list[np.ndarray], np.ndarray], Edges]


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
    w = np.where(np.isnan(w), -np.inf, w) if np.isnan(w).any() else w
    if np.isposinf(w).any():
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
    order = np.lexsort((-x, b, a))
    a, b, x = a[order], b[order], x[order]
    first = np.ones(len(a), dtype=bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
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
@dataclass
class _Result:
    mate: np.ndarray
    objective: float
    bound: float
    method: str
    notes: list[str]


@dataclass
class _Assignment:
    """Assignment relaxation: its pairs, degree-LP duals, odd cycles and support."""

    mate: np.ndarray
    y: np.ndarray
    residual: list[np.ndarray]
    support: Edges


def _assemble(res: _Result, rest: np.ndarray, fixed: list[tuple[int, int]],
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


# ---------------------------------------------------------------- dense solver
def _solve_dense(w: np.ndarray, max_gap: float, deadline: float) -> _Result:
    """Assignment relaxation (n <= LSA_MAX) or column generation, then LP + cuts."""
    n = w.shape[0]
    if n < 2:
        return _Result(np.full(n, -1), 0.0, 0.0, "trivial", [])
    pricer = _dense_pricer(w)
    def weight(i: int, j: int) -> float:
        return float(w[i, j])

    if n > LSA_MAX:
        return _lp_matching(n, _top_reduced(w, np.zeros(n), 12), pricer, weight, max_gap,
                            deadline, ["n above the assignment-relaxation limit: degree LP by "
                                       "column generation"])
    asg = _assignment_start(w)
    objective = _mate_weight(asg.mate, weight)
    if not asg.residual:
        bound = _bound(asg.y, [], np.zeros(0), pricer)
        return _Result(asg.mate, objective, bound, "assignment relaxation (all 2-cycles)", [])
    notes = [f"assignment relaxation left {len(asg.residual)} odd cycle(s) on "
             f"{sum(map(len, asg.residual))} places; closed with blossom cuts"]
    edges = _merge_edges(n, asg.support, _top_reduced(w, asg.y, CAND_K))
    return _lp_matching(n, edges, pricer, weight, max_gap, deadline, notes,
                        list(asg.residual))


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
    _, s = linear_sum_assignment(c, maximize=True)
    y = _assignment_duals(c, s)
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


def _assignment_duals(c: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Degree-LP duals ``y_i = (u_i + v_i) / 2`` from an optimal assignment ``s``.

    Potentials with ``u_i + v_j >= c_ij`` and equality on ``j = s(i)`` are
    shortest-path distances ``v`` in the residual graph with arcs
    ``j -> s(i)`` of length ``c_{i s(i)} - c_ij`` (no negative cycle, as ``s`` is
    optimal), computed by vectorised Bellman-Ford; ``u_i = c_{i s(i)} - v_{s(i)}``.
    Symmetry of ``c`` makes ``y`` feasible for ``y_i + y_j >= w_ij``, and
    ``c_ii = 0`` gives ``y >= 0``.  Any float residue is repaired later.
    """
    n = c.shape[0]
    cis = c[np.arange(n), s]
    d = np.zeros(n)
    scale = 1e-12 * max(1.0, float(np.abs(cis).max(initial=0.0)))
    for _ in range(n + 1):
        cand = cis + (d[None, :] - c).min(axis=1)
        new = d.copy()
        new[s] = np.minimum(d[s], cand)
        if not (new < d - scale).any():
            break
        d = new
    u = cis - d[s]
    return np.maximum((u + d) / 2.0, 0.0)


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


def _reduced_blocks(w: np.ndarray, y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray):
    """Yield ``(r0, red)``: ``red_ij = w_ij - y_i - y_j - sum_{S ni i,j} z_S`` by row block."""
    n = w.shape[0]
    members = [(np.sort(subset), zs) for subset, zs in zip(cuts, z, strict=True) if zs > 0]
    for r0 in range(0, n, _BLOCK):
        r1 = min(n, r0 + _BLOCK)
        red = np.asarray(w[r0:r1], dtype=np.float64) - y[r0:r1, None] - y[None, :]
        for subset, zs in members:
            rows = subset[(r0 <= subset) & (r1 > subset)]
            if len(rows):
                red[np.ix_(rows - r0, subset)] -= zs
        red[np.arange(r1 - r0), np.arange(r0, r1)] = -np.inf
        yield r0, red


def _dense_pricer(w: np.ndarray) -> Pricer:
    """Pricing over every pair: violated pairs (top 5 per row) and per-node max violation."""
    def price(y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray) -> Edges:
        tol = 1e-9 * max(1.0, float(np.abs(y).max(initial=0.0)))
        found_a, found_b = [], []
        for r0, red in _reduced_blocks(w, y, cuts, z):
            rmax = red.max(axis=1)
            rows = np.flatnonzero(rmax > tol)
            if not len(rows):
                continue
            m = min(5, red.shape[1] - 1)
            top = np.argpartition(-red[rows], m, axis=1)[:, :m]
            rr = np.repeat(rows, m)
            ok = red[rr, top.ravel()] > tol
            found_a.append(rr[ok] + r0)
            found_b.append(top.ravel()[ok])
        if not found_a:
            return _empty_edges()
        a, b = np.concatenate(found_a), np.concatenate(found_b)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        return lo, hi, np.asarray(w[lo, hi], dtype=np.float64)

    def violation(y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray) -> np.ndarray:
        out = np.zeros(len(y))
        for r0, red in _reduced_blocks(w, y, cuts, z):
            out[r0:r0 + red.shape[0]] = np.maximum(red.max(axis=1), 0.0)
        return out

    price.violation = violation  # type: ignore[attr-defined]
    return price


def _top_reduced(w: np.ndarray, y: np.ndarray, k: int) -> Edges:
    """Per node, the ``k`` pairs with the largest reduced weight ``w_ij - y_i - y_j``."""
    n = w.shape[0]
    k = min(k, n - 1)
    a_parts, b_parts = [], []
    for r0, red in _reduced_blocks(w, y, [], np.zeros(0)):
        top = np.argpartition(-red, k - 1, axis=1)[:, :k]
        rows = np.repeat(np.arange(r0, r0 + red.shape[0]), k)
        ok = np.isfinite(red[rows - r0, top.ravel()])
        a_parts.append(rows[ok])
        b_parts.append(top.ravel()[ok])
    a, b = np.concatenate(a_parts), np.concatenate(b_parts)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    return lo, hi, np.asarray(w[lo, hi], dtype=np.float64)


def _empty_edges() -> Edges:
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)


def _merge_edges(n: int, *parts: Edges) -> Edges:
    a = np.concatenate([p[0] for p in parts]).astype(np.int64)
    b = np.concatenate([p[1] for p in parts]).astype(np.int64)
    x = np.concatenate([p[2] for p in parts]).astype(np.float64)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = (lo != hi) & np.isfinite(x)
    _, first = np.unique(lo[keep] * n + hi[keep], return_index=True)
    return lo[keep][first], hi[keep][first], x[keep][first]


# ---------------------------------------------------------------- sparse solver
def _solve_sparse(n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray, max_gap: float,
                  deadline: float) -> _Result:
    """The candidate graph is small enough to go whole into the LP: no pricing."""
    if n < 2 or not len(a):
        return _Result(np.full(n, -1), 0.0, 0.0, "trivial", [])

    def price(y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray) -> Edges:
        return _empty_edges()

    def violation(y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray) -> np.ndarray:
        red = w - y[a] - y[b] - _cut_sum(n, a, b, cuts, z)
        out = np.zeros(n)
        np.maximum.at(out, a, red)
        np.maximum.at(out, b, red)
        return out

    price.violation = violation  # type: ignore[attr-defined]
    lookup = dict(zip(zip(a.tolist(), b.tolist(), strict=True), w.tolist(), strict=True))

    def weight(i: int, j: int) -> float:
        # A pair outside the candidate graph is not allowed (the exhaustive
        # fallback asks for every pair).
        return lookup.get((min(i, j), max(i, j)), -np.inf)

    return _lp_matching(n, (a, b, w), price, weight, max_gap, deadline, [])


def _cut_sum(n: int, a: np.ndarray, b: np.ndarray, cuts: list[np.ndarray],
             z: np.ndarray) -> np.ndarray:
    total = np.zeros(len(a))
    for subset, zs in zip(cuts, z, strict=True):
        if zs > 0:
            inside = np.zeros(n, dtype=bool)
            inside[subset] = True
            total += zs * (inside[a] & inside[b])
    return total


# ---------------------------------------------------------------- LP with blossom cuts
def _lp_matching(n: int, edges: Edges, pricer: Pricer, weight: Callable[[int, int], float],
                 max_gap: float, deadline: float, notes: list[str],
                 cuts: list[np.ndarray] | None = None) -> _Result:
    """Degree LP + odd-set cuts, priced over all pairs; primal, repaired dual bound.

    LP: ``max sum_e w_e x_e`` s.t. ``x(delta(i)) <= 1``,
    ``x(E(S)) <= (|S| - 1) / 2`` for the odd sets ``S`` known so far (``cuts``,
    e.g. the assignment's odd cycles, then those found), ``x >= 0`` (no
    ``x <= 1`` bound, so the duals are exactly ``(y, z)`` of the module
    docstring).  Separation: odd components of the fractional support.
    """
    loop = _cut_loop(n, edges, pricer, weight, max_gap, deadline, list(cuts or []))
    a, b, we = loop.edges
    mate, how = _primal(n, a, b, we, loop.x, weight)
    objective = _mate_weight(mate, weight)
    bound = _bound(loop.y, loop.cuts, loop.z, pricer)
    # Small instances are solved exactly unless the gap is float noise (a gap of 1e-9 on
    # a weight of 1e-9 is a real difference).
    if bound - objective > max(max_gap, 1e-12) * max(1.0, abs(bound)) and n <= EXHAUSTIVE_MAX:
        mate = _exhaustive(n, weight)
        objective, bound, how = _mate_weight(mate, weight), _mate_weight(mate, weight), \
            "exhaustive search"
    notes.append(f"{len(loop.cuts)} odd-set cut(s), {len(a)} candidate pair(s); {loop.stop}")
    return _Result(mate, objective, max(bound, objective), f"degree LP + blossom cuts ({how})",
                   notes)


@dataclass
class _Loop:
    edges: Edges
    x: np.ndarray | None
    y: np.ndarray
    cuts: list[np.ndarray]
    z: np.ndarray
    stop: str


def _cut_loop(n: int, edges: Edges, pricer: Pricer, weight: Callable[[int, int], float],
              max_gap: float, deadline: float, cuts: list[np.ndarray]) -> _Loop:
    """Re-solve the LP, adding odd-set cuts, then priced pairs, until neither is found."""
    a, b, we = edges
    y, z = np.zeros(n), np.zeros(0)
    x: np.ndarray | None = None
    stop = "LP optimal over all pairs"
    for _ in range(500):
        sol = _solve_lp(n, a, b, we, cuts, deadline)
        if sol is None:
            stop = "time limit or LP failure; last valid duals used"
            break
        x, y, z = sol
        if max_gap > 0 and _within_gap(n, (a, b, we), sol, cuts, pricer, weight, max_gap):
            stop = f"verified relative gap <= max_gap {max_gap:g}"
            break
        new_cuts = _odd_cuts(n, a, b, x, cuts)
        new_edges = _empty_edges() if new_cuts else pricer(y, cuts, z)
        if new_cuts:
            cuts = cuts + new_cuts
        elif len(new_edges[0]):
            a, b, we = _merge_edges(n, (a, b, we), new_edges)
            x = None
        else:
            if not _is_integral(x):
                stop = "LP fractional and no violated odd component found"
            break
        if time.perf_counter() > deadline:
            stop = "time limit; last valid duals used"
            break
    z = np.r_[z, np.zeros(len(cuts) - len(z))]  # cuts added after the last LP have z = 0
    return _Loop((a, b, we), x, y, cuts, z, stop)


def _within_gap(n: int, edges: Edges, sol: tuple[np.ndarray, np.ndarray, np.ndarray],
                cuts: list[np.ndarray], pricer: Pricer, weight: Callable[[int, int], float],
                max_gap: float) -> bool:
    """Whether the LP's rounded primal and repaired dual bound are within ``max_gap``."""
    x, y, z = sol
    mate, _ = _primal(n, *edges, x, weight)
    objective = _mate_weight(mate, weight)
    bound = _bound(y, cuts, z, pricer)
    return bound - objective <= max_gap * max(1.0, abs(bound))


def _solve_lp(n: int, a: np.ndarray, b: np.ndarray, we: np.ndarray, cuts: list[np.ndarray],
              deadline: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    m = len(a)
    rows, cols = [a, b], [np.arange(m), np.arange(m)]
    for k, subset in enumerate(cuts):
        inside = np.zeros(n, dtype=bool)
        inside[subset] = True
        e = np.flatnonzero(inside[a] & inside[b])
        rows.append(np.full(len(e), n + k))
        cols.append(e)
    r, c = np.concatenate(rows), np.concatenate(cols)
    mat = csc_matrix(coo_matrix((np.ones(len(r)), (r, c)), shape=(n + len(cuts), m)))
    rhs = np.r_[np.ones(n), [(len(subset) - 1) // 2 for subset in cuts]]
    left = deadline - time.perf_counter()
    if left <= 0:
        return None
    opts = {} if not np.isfinite(left) else {"time_limit": left}
    res = linprog(-we, A_ub=mat, b_ub=rhs, bounds=(0, None), method="highs-ipm", options=opts)
    if res.status != 0:
        return None
    duals = np.maximum(-res.ineqlin.marginals, 0.0)
    return res.x, duals[:n], duals[n:]


def _is_integral(x: np.ndarray | None) -> bool:
    return x is not None and bool(np.all((x < 1e-6) | (x > 1 - 1e-6)))


def _odd_cuts(n: int, a: np.ndarray, b: np.ndarray, x: np.ndarray,
              cuts: list[np.ndarray]) -> list[np.ndarray]:
    """Odd components ``S`` of the fractional support with ``x(E(S)) > (|S| - 1) / 2``.

    For a half-integral degree-LP vertex these are exactly its odd cycles.
    """
    frac = (x > 1e-6) & (x < 1 - 1e-6)
    if not frac.any():
        return []
    known = {tuple(subset.tolist()) for subset in cuts}
    g = coo_matrix((np.ones(frac.sum()), (a[frac], b[frac])), shape=(n, n))
    _, label = connected_components(g, directed=False)
    touched = np.zeros(n, dtype=bool)
    touched[a[frac]] = touched[b[frac]] = True
    out = []
    for lab in np.unique(label[touched]):
        subset = np.flatnonzero((label == lab) & touched)
        if len(subset) % 2 == 0 or tuple(subset.tolist()) in known:
            continue
        inside = np.zeros(n, dtype=bool)
        inside[subset] = True
        if x[inside[a] & inside[b]].sum() > (len(subset) - 1) / 2 + 1e-6:
            out.append(subset)
    return out


def _bound(y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray, pricer: Pricer) -> float:
    """``sum y + sum z_S (|S|-1)/2`` after repair: ``y_i += max_j max(red_ij, 0) / 2``.

    The repair makes ``y_i + y_j + z-sum >= w_ij`` hold for every allowed pair
    (each endpoint covers half of any violation), so the value is a proven bound.
    """
    delta = pricer.violation(y, cuts, z) / 2.0  # type: ignore[attr-defined]
    odd = sum(float(zs) * ((len(subset) - 1) // 2) for subset, zs in zip(cuts, z, strict=True))
    return float(np.sum(y) + np.sum(delta) + odd)


def _primal(n: int, a: np.ndarray, b: np.ndarray, we: np.ndarray, x: np.ndarray | None,
            weight: Callable[[int, int], float]) -> tuple[np.ndarray, str]:
    """Integral part of the LP solution, completed greedily on the candidate pairs."""
    mate = np.full(n, -1)
    chosen = np.zeros(len(a), dtype=bool) if x is None else x > 1 - 1e-6
    for i, j in zip(a[chosen].tolist(), b[chosen].tolist(), strict=True):
        mate[i], mate[j] = j, i
    if _is_integral(x):
        return mate, "integral LP optimum"
    for e in np.argsort(-we, kind="stable"):
        i, j = int(a[e]), int(b[e])
        if we[e] > 0 and mate[i] < 0 and mate[j] < 0:
            mate[i], mate[j] = j, i
    return mate, "LP rounding + greedy"


def _mate_weight(mate: np.ndarray, weight: Callable[[int, int], float]) -> float:
    return float(sum(weight(k, int(m)) for k, m in enumerate(mate) if m > k))


def _exhaustive(n: int, weight: Callable[[int, int], float]) -> np.ndarray:
    """Exact optimum by recursion over subsets (first free node: unpaired or paired)."""
    w = [[weight(i, j) if i != j else -np.inf for j in range(n)] for i in range(n)]

    @cache
    def best(mask: int) -> tuple[float, tuple[tuple[int, int], ...]]:
        if mask == 0:
            return 0.0, ()
        i = (mask & -mask).bit_length() - 1
        rest = mask & ~(1 << i)
        value, pairs = best(rest)
        for j in range(i + 1, n):
            if rest >> j & 1 and w[i][j] > 0:
                v, p = best(rest & ~(1 << j))
                if v + w[i][j] > value:
                    value, pairs = v + w[i][j], ((i, j), *p)
        return value, pairs

    mate = np.full(n, -1)
    for i, j in best((1 << n) - 1)[1]:
        mate[i], mate[j] = j, i
    return mate
