"""The LP machinery behind :mod:`keycities.analysis.twinning.matching` (internal).

The degree LP with odd-set (blossom) cuts is kept in one HiGHS model that is
modified in place: priced pairs are added as columns, odd sets as rows, and
each re-solve starts from the previous basis (primal simplex after new columns,
HiGHS's choice, dual simplex, after new rows; the interior-point method with crossover for
a large first solve); a fractional end is finished by Edmonds'
algorithm after reduced-cost fixing (:mod:`keycities.analysis.twinning.finish`).
See the docstring of
:mod:`keycities.analysis.twinning.matching` for the formulation and the certificate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import highspy
import numpy as np

from keycities.analysis.twinning.separation import blossom_separation as blossom_separation
from keycities.analysis.twinning.separation import odd_cuts

EXHAUSTIVE_MAX = 14
"""Largest residual problem solved by exhaustive search when the LP is fractional."""
BLOCK = 1024
"""Rows of the dense weight matrix handled at once (memory: BLOCK x n float64)."""
IPM_COLUMNS = 10_000
"""A first solve of more columns than this uses the interior-point method; later solves
start from the last basis (primal simplex took half the time of interior point after
29,000 new columns on 6,000 sectors)."""
SIMPLEX_CHOOSE, SIMPLEX_PRIMAL = 0, 4
"""HiGHS ``simplex_strategy`` values: its own choice (dual simplex after new rows), primal."""
LP_TOL = 1e-9
"""HiGHS primal and dual feasibility tolerances."""
PRICE_PER_ROW = 5
"""Violated pairs priced in per place and round (the most violated)."""
SELECT_NOISE = 1e-6
"""Noise (relative to the weights' scale) that breaks ties when candidate pairs are chosen."""
NOISE_SHIFT = 1000
"""Columns by which the float32 selection noise is shifted from one block of rows to the
next (so that rows of different blocks break their ties differently)."""
MAX_ROUNDS = 500
"""Most LP solves in one cutting-plane loop."""
STALL = 50
"""With more than ``STALL_MIN_N`` places, the loop also stops after this many rounds of cuts
in which the LP value has not fallen (degenerate problems: places with identical features
leave many fractional optima; the rest of the gap is then reported, not closed)."""
STALL_MIN_N = 200

Edges = tuple[np.ndarray, np.ndarray, np.ndarray]
Weight = Callable[[int, int], float]
Check = Callable[["DegreeLP", tuple[np.ndarray, np.ndarray, np.ndarray]], bool]


@dataclass
class Result:
    """A solved (sub)problem: partner of each node (-1 = unpaired), objective, bound."""

    mate: np.ndarray
    objective: float
    bound: float
    method: str
    notes: list[str]


class Pricer:
    """Reduced weights ``w_ij - y_i - y_j - sum_{S ni i,j} z_S`` over the allowed pairs.

    The base class knows no pairs beyond the candidate graph (sparse problems);
    :class:`DensePricer` scans a dense weight matrix.
    """

    def __init__(self, n: int, edges: Edges) -> None:
        self.n = n
        self.edges = edges

    def price(self, y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray) -> Edges:
        """Pairs with positive reduced weight not worth listing here: none outside the graph."""
        return empty_edges()

    def violation(self, y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray) -> np.ndarray:
        """Per node, the largest positive reduced weight of an allowed pair at it (else 0)."""
        a, b, w = self.edges
        red = w - y[a] - y[b] - cut_sum(self.n, a, b, cuts, z)
        out = np.zeros(self.n)
        np.maximum.at(out, a, red)
        np.maximum.at(out, b, red)
        return out

    def top(self, y: np.ndarray, k: int, cuts: list[np.ndarray] | None = None,
            z: np.ndarray | None = None) -> Edges:
        """The graph's pairs (a sparse graph is its own short list)."""
        return self.edges

    def among(self, nodes: np.ndarray) -> Edges:
        """The allowed pairs between ``nodes``."""
        a, b, w = self.edges
        inside = np.zeros(self.n, dtype=bool)
        inside[nodes] = True
        keep = inside[a] & inside[b]
        return a[keep], b[keep], w[keep]

    def smallest_slack(self, y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray,
                       count: int) -> float:
        """About the ``count``-th smallest slack over the allowed pairs."""
        a, b, w = self.edges
        slack = y[a] + y[b] + cut_sum(self.n, a, b, cuts, z) - w
        return float(np.partition(slack, count)[count]) if count < len(slack) else np.inf

    def within(self, y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray,
               slack: float) -> Edges:
        """The allowed pairs whose slack ``y_i + y_j + z-sum - w_ij`` is at most ``slack``."""
        a, b, w = self.edges
        keep = w - y[a] - y[b] - cut_sum(self.n, a, b, cuts, z) >= -slack
        return a[keep], b[keep], w[keep]


class DensePricer(Pricer):
    """Pricing over every pair of a dense weight matrix, one block of rows at a time."""

    def __init__(self, w: np.ndarray) -> None:
        super().__init__(w.shape[0], empty_edges())
        self.w = w
        self.rng = np.random.default_rng(0)
        finite = np.asarray(w[:BLOCK])[np.isfinite(w[:BLOCK])]
        self.scale = float(np.abs(finite).max(initial=1.0))

    def price(self, y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray) -> Edges:
        """Violated pairs: up to 5 per node, the most violated first.

        A float32 matrix is screened in float32 (half the memory traffic) with a
        margin well above its rounding error; rows that may hold a violated pair
        are then priced exactly in float64.
        """
        ymax = float(np.abs(y).max(initial=0.0))
        tol = LP_TOL * max(1.0, ymax)
        found_a, found_b = [], []
        for r0, red in self._screened(y, cuts, z, tol):
            rows = np.flatnonzero(red.max(axis=1) > tol)
            if not len(rows):
                continue
            m = min(PRICE_PER_ROW, red.shape[1] - 1)
            top = np.argpartition(-self._jitter(red[rows]), m, axis=1)[:, :m]
            rr = np.repeat(rows, m)
            ok = red[rr, top.ravel()] > tol
            found_a.append(rr[ok] + r0)
            found_b.append(top.ravel()[ok])
        if not found_a:
            return empty_edges()
        return self._pairs(np.concatenate(found_a), np.concatenate(found_b))

    def _screened(self, y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray,
                  tol: float) -> Iterator[tuple[int, np.ndarray]]:
        """Exact reduced weights of the blocks of rows that may hold a pair above ``tol``."""
        if self.w.dtype != np.float32:
            yield from reduced_blocks(self.w, y, cuts, z)
            return
        zsum = float(np.sum(z[z > 0])) if len(z) else 0.0
        margin = 1e-6 * (self.scale + 2.0 * float(np.abs(y).max(initial=0.0)) + zsum)
        y32 = y.astype(np.float32)
        n = self.n
        for r0 in range(0, n, BLOCK):
            r1 = min(n, r0 + BLOCK)
            rough = self.w[r0:r1] - y32[r0:r1, None]
            rough -= y32[None, :]
            rough[np.arange(r1 - r0), np.arange(r0, r1)] = -np.inf
            # Cuts only lower reduced weights, so leaving them out keeps every candidate row.
            if (rough.max(axis=1) > tol - margin).any():
                yield from ((r0 + q, red) for q, red in
                            reduced_blocks(self.w[r0:r1], y, cuts, z, offset=r0))

    def violation(self, y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray) -> np.ndarray:
        """Per node, the largest positive reduced weight over all pairs at it."""
        out = np.zeros(len(y))
        for r0, red in reduced_blocks(self.w, y, cuts, z):
            out[r0:r0 + red.shape[0]] = np.maximum(red.max(axis=1), 0.0)
        return out

    def among(self, nodes: np.ndarray) -> Edges:
        """The allowed pairs between ``nodes``."""
        nodes = np.sort(nodes)
        sub = np.asarray(self.w[np.ix_(nodes, nodes)], dtype=np.float64)
        r, c = np.nonzero(np.isfinite(sub))
        upper = r < c
        return nodes[r[upper]], nodes[c[upper]], sub[r[upper], c[upper]]

    def smallest_slack(self, y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray,
                       count: int) -> float:
        """About the ``count``-th smallest slack over all pairs (each counted from both ends)."""
        k = min(2 * count // self.n + 1, self.n - 1)
        parts = [np.partition(-red, k, axis=1)[:, :k].ravel()
                 for _, red in reduced_blocks(self.w, y, cuts, z)]
        slack = np.concatenate(parts)
        return float(np.partition(slack, 2 * count)[2 * count]) if 2 * count < len(slack) \
            else np.inf

    def within(self, y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray,
               slack: float) -> Edges:
        """Every pair whose slack ``y_i + y_j + z-sum - w_ij`` is at most ``slack``."""
        a_parts, b_parts = [], []
        for r0, red in reduced_blocks(self.w, y, cuts, z):
            r, c = np.nonzero(red >= -slack)
            upper = c > r + r0
            a_parts.append(r[upper] + r0)
            b_parts.append(c[upper])
        return self._pairs(np.concatenate(a_parts), np.concatenate(b_parts))

    def top(self, y: np.ndarray, k: int, cuts: list[np.ndarray] | None = None,
            z: np.ndarray | None = None) -> Edges:
        """Per node, the ``k`` allowed pairs with the largest reduced weight under ``y``."""
        k = min(k, self.n - 1)
        a_parts, b_parts = [], []
        for r0, red in self._select_blocks(y, cuts or [], np.zeros(0) if z is None else z):
            top = np.argpartition(-red, k - 1, axis=1)[:, :k]
            rows = np.repeat(np.arange(r0, r0 + red.shape[0]), k)
            ok = np.isfinite(red[rows - r0, top.ravel()])
            a_parts.append(rows[ok])
            b_parts.append(top.ravel()[ok])
        return self._pairs(np.concatenate(a_parts), np.concatenate(b_parts))

    def _select_blocks(self, y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray
                       ) -> Iterator[tuple[int, np.ndarray]]:
        """Jittered reduced weights for choosing pairs, block by block.

        A float32 matrix without cuts is handled in float32 with noise from one reused
        buffer, shifted per block (2-3.5 times faster than float64 with fresh noise on
        6,000 postcode sectors); the pairs chosen are then weighed exactly.
        """
        if self.w.dtype != np.float32 or any(zs > 0 for zs in z):
            for r0, red in reduced_blocks(self.w, y, cuts, z):
                yield r0, self._jitter(red)
            return
        y32 = y.astype(np.float32)
        noise = self.rng.random((BLOCK, self.n + NOISE_SHIFT), dtype=np.float32)
        noise *= np.float32(SELECT_NOISE * self.scale)
        for r0 in range(0, self.n, BLOCK):
            r1 = min(self.n, r0 + BLOCK)
            red = self.w[r0:r1] - y32[r0:r1, None]
            red -= y32[None, :]
            shift = (r0 // BLOCK * 101) % NOISE_SHIFT
            red += noise[:r1 - r0, shift:shift + self.n]
            red[np.arange(r1 - r0), np.arange(r0, r1)] = -np.inf
            yield r0, red

    def _jitter(self, red: np.ndarray) -> np.ndarray:
        """Reduced weights plus noise below ``SELECT_NOISE`` x scale, for choosing pairs only.

        Places with equal features tie on every pair; without noise every place would
        pick the same few partners among the tied ones (the first in index order).
        """
        return red + self.rng.random(red.shape) * (SELECT_NOISE * self.scale)

    def _pairs(self, a: np.ndarray, b: np.ndarray) -> Edges:
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        return lo, hi, np.asarray(self.w[lo, hi], dtype=np.float64)


def reduced_blocks(w: np.ndarray, y: np.ndarray, cuts: list[np.ndarray],
                   z: np.ndarray, *, offset: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(r0, red)``: the reduced weights of rows ``r0 .. r0 + BLOCK`` (diagonal -inf).

    ``w`` may be the rows ``offset ..`` of the matrix only (``r0`` counts from ``offset``).
    """
    n = w.shape[0]
    members = [(np.sort(subset), zs) for subset, zs in zip(cuts, z, strict=True) if zs > 0]
    for r0 in range(0, n, BLOCK):
        r1 = min(n, r0 + BLOCK)
        g0, g1 = r0 + offset, r1 + offset
        red = np.asarray(w[r0:r1], dtype=np.float64) - y[g0:g1, None] - y[None, :]
        for subset, zs in members:
            if len(subset) == len(y):  # the set of all places: one subtraction
                red -= zs
                continue
            rows = subset[(g0 <= subset) & (g1 > subset)]
            if len(rows):
                red[np.ix_(rows - g0, subset)] -= zs
        red[np.arange(r1 - r0), np.arange(g0, g1)] = -np.inf
        yield r0, red


def empty_edges() -> Edges:
    """No pairs."""
    return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)


def merge_edges(n: int, *parts: Edges) -> Edges:
    """Union of edge lists as ``(lo, hi, w)`` with ``lo < hi``, each pair once."""
    a = np.concatenate([p[0] for p in parts]).astype(np.int64)
    b = np.concatenate([p[1] for p in parts]).astype(np.int64)
    x = np.concatenate([p[2] for p in parts]).astype(np.float64)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = (lo != hi) & np.isfinite(x)
    _, first = np.unique(lo[keep] * n + hi[keep], return_index=True)
    return lo[keep][first], hi[keep][first], x[keep][first]


def cut_sum(n: int, a: np.ndarray, b: np.ndarray, cuts: list[np.ndarray],
            z: np.ndarray) -> np.ndarray:
    """Per edge ``(a, b)``, the sum of ``z_S`` over the odd sets containing both ends."""
    total = np.zeros(len(a))
    for subset, zs in zip(cuts, z, strict=True):
        if zs > 0:
            inside = np.zeros(n, dtype=bool)
            inside[subset] = True
            total += zs * (inside[a] & inside[b])
    return total


# ---------------------------------------------------------------- the HiGHS model
class DegreeLP:
    """``max w.x`` s.t. ``x(delta(i)) <= 1``, ``x(E(S)) <= (|S| - 1) / 2``, ``x >= 0``.

    Columns (pairs) and rows (odd sets) are added in place; HiGHS keeps its basis
    between solves.  There is no ``x <= 1`` bound, so the row duals are exactly
    the ``(y, z)`` of the certificate.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.h = highspy.Highs()
        self.h.silent()
        for name in ("primal_feasibility_tolerance", "dual_feasibility_tolerance"):
            self.h.setOptionValue(name, LP_TOL)
        self.h.addRows(n, np.full(n, -highspy.kHighsInf), np.ones(n), 0,
                       np.zeros(1, np.int32), np.zeros(0, np.int32), np.zeros(0))
        self.a, self.b, self.w = empty_edges()
        self.keys = np.zeros(0, np.int64)
        self.cuts: list[np.ndarray] = []
        self._inside: list[np.ndarray] = []
        self._added = 0
        self._new_rows = self._solved = False

    @property
    def edges(self) -> Edges:
        """The pairs in the model."""
        return self.a, self.b, self.w

    def add_edges(self, edges: Edges) -> int:
        """Add the pairs not yet in the model; return how many were new."""
        a, b, w = merge_edges(self.n, edges)
        keys = a * self.n + b
        new = ~np.isin(keys, self.keys, assume_unique=True)
        a, b, w, keys = a[new], b[new], w[new], keys[new]
        m = len(a)
        if not m:
            return 0
        rows = [a, b]
        cols = [np.arange(m), np.arange(m)]
        for k, inside in enumerate(self._inside):
            e = np.flatnonzero(inside[a] & inside[b])
            rows.append(np.full(len(e), self.n + k))
            cols.append(e)
        r, c = np.concatenate(rows), np.concatenate(cols)
        order = np.lexsort((r, c))
        r, c = r[order], c[order]
        starts = np.searchsorted(c, np.arange(m)).astype(np.int32)
        self.h.addCols(m, -w, np.zeros(m), np.full(m, highspy.kHighsInf),
                       len(r), starts, r.astype(np.int32), np.ones(len(r)))
        self.a, self.b = np.r_[self.a, a], np.r_[self.b, b]
        self.w, self.keys = np.r_[self.w, w], np.r_[self.keys, keys]
        self._added += m
        return m

    def add_cuts(self, subsets: list[np.ndarray]) -> None:
        """Add ``x(E(S)) <= (|S| - 1) / 2`` for each odd set ``S``."""
        for subset in subsets:
            inside = np.zeros(self.n, dtype=bool)
            inside[subset] = True
            e = np.flatnonzero(inside[self.a] & inside[self.b]).astype(np.int32)
            self.h.addRow(-highspy.kHighsInf, (len(subset) - 1) // 2, len(e), e,
                          np.ones(len(e)))
            self.cuts.append(np.sort(np.asarray(subset, dtype=np.int64)))
            self._inside.append(inside)
            self._new_rows = True

    def solve(self, deadline: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(x, y, z)`` at an optimal basic solution, or None (time limit, failure)."""
        left = deadline - time.perf_counter()
        if left <= 0:
            return None
        self.h.setOptionValue("time_limit", float(min(left, 1e9)))
        # Many new columns: the interior-point method (with crossover, for a vertex) beats
        # warm-started simplex; a few: simplex from the previous basis.
        first = self._added > IPM_COLUMNS and not self._solved
        self.h.setOptionValue("solver", "ipm" if first else "simplex")
        # New columns only: the last basis is still primal feasible, and primal simplex
        # from it was 2-4.5x faster than HiGHS's default choice (dual) on 6,000 sectors.
        self.h.setOptionValue("simplex_strategy",
                              SIMPLEX_CHOOSE if self._new_rows else SIMPLEX_PRIMAL)
        self._added, self._new_rows, self._solved = 0, False, True
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        sol = self.h.getSolution()
        duals = np.maximum(-np.asarray(sol.row_dual), 0.0)
        return np.asarray(sol.col_value), duals[:self.n], duals[self.n:]


# ---------------------------------------------------------------- the cutting-plane loop
@dataclass
class Loop:
    """Where the loop stopped: the model, its last solution and why it stopped."""

    lp: DegreeLP
    x: np.ndarray | None
    y: np.ndarray
    z: np.ndarray
    stop: str
    rounds: int


def cut_loop(n: int, edges: Edges, pricer: Pricer, *, deadline: float,
             cuts: list[np.ndarray] | None = None, with_cuts: bool = True,
             gap_check: Check | None = None, finish_check: Check | None = None,
             check_every: int = 4, settle: int = 0) -> Loop:
    """Re-solve the LP, adding priced pairs, then odd-set cuts, until neither is found.

    With ``with_cuts=False`` only the degree LP is solved (used for dual estimates).
    ``gap_check`` may stop the loop early once the rounded primal is good enough;
    ``finish_check``, asked after ``check_every``, 2 x, 4 x ... rounds of cuts (the LP
    priced out, still fractional), once another method can take over.  With ``settle``,
    pricing stops once a round finds at most that many pairs (for dual estimates only:
    the duals are then not optimal over all pairs).
    """
    lp = DegreeLP(n)
    lp.add_edges(edges)
    lp.add_cuts(list(cuts or []))
    y, z = np.zeros(n), np.zeros(len(lp.cuts))
    x: np.ndarray | None = None
    stop = "LP optimal over all pairs"
    rounds, best, flat, cut_round = 0, np.inf, 0, 0
    for rounds in range(1, MAX_ROUNDS + 1):  # noqa: B007 - the count is reported
        sol = lp.solve(deadline)
        if sol is None:
            stop = "time limit or LP failure; last valid duals used"
            break
        x, y, z = sol
        if gap_check is not None and gap_check(lp, sol):
            stop = "verified gap within max_gap"
            break
        if lp.add_edges(pricer.price(y, lp.cuts, z)) > settle:
            x = None
            continue
        if settle:
            stop = "pricing settled"
            break
        new_cuts = odd_cuts(n, lp.a, lp.b, x, lp.cuts) if with_cuts else []
        if not new_cuts:
            if with_cuts and not is_integral(x):
                stop = "LP fractional and no violated odd set left"
            break
        value = -float(lp.h.getInfo().objective_function_value)
        flat = flat + 1 if value > best - 1e-9 * max(1.0, abs(best)) else 0
        best = min(best, value)
        if flat >= STALL and n > STALL_MIN_N:
            stop = (f"the LP value did not fall over {STALL} rounds of odd-set cuts (many "
                    "fractional optima)")
            break
        cut_round += 1
        if (finish_check is not None and cut_round % check_every == 0
                and (cut_round // check_every) & (cut_round // check_every - 1) == 0
                and finish_check(lp, sol)):
            stop = f"LP still fractional after {cut_round - 1} rounds of odd-set cuts"
            break
        lp.add_cuts(new_cuts)
        x = None
        if time.perf_counter() > deadline:
            stop = "time limit; last valid duals used"
            break
    else:
        stop = f"stopped after {MAX_ROUNDS} LP solves; last valid duals used"
    z = np.r_[z, np.zeros(len(lp.cuts) - len(z))]  # cuts added after the last LP have z = 0
    return Loop(lp, x, y, z, stop, rounds)


def mate_edges(mate: np.ndarray, weight: Weight) -> Edges:
    """The pairs of ``mate`` as an edge list."""
    a = np.flatnonzero(mate > np.arange(len(mate)))
    b = mate[a]
    return a, b, np.array([weight(int(i), int(j)) for i, j in zip(a, b, strict=True)])


def is_integral(x: np.ndarray | None) -> bool:
    """Whether an LP solution is 0/1 (within 1e-6)."""
    return x is not None and bool(np.all((x < 1e-6) | (x > 1 - 1e-6)))


def dual_bound(y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray, pricer: Pricer) -> float:
    """The value of the repaired dual (:func:`repaired`): a proven upper bound."""
    return repaired(y, cuts, z, pricer)[1]


def repaired(y: np.ndarray, cuts: list[np.ndarray], z: np.ndarray,
             pricer: Pricer) -> tuple[np.ndarray, float]:
    """A feasible dual and its value: ``y_i += max_j max(red_ij, 0) / 2``.

    The repair makes ``y_i + y_j + z-sum >= w_ij`` hold for every allowed pair
    (each endpoint covers half of any violation), so the value
    ``sum y + sum z_S (|S|-1)/2`` is a proven bound.
    """
    y = y + pricer.violation(y, cuts, z) / 2.0
    odd = sum(float(zs) * ((len(subset) - 1) // 2) for subset, zs in zip(cuts, z, strict=True))
    return y, float(np.sum(y) + odd)


def primal(n: int, edges: Edges, x: np.ndarray | None) -> tuple[np.ndarray, str]:
    """Integral part of the LP solution, completed greedily on the candidate pairs."""
    a, b, we = edges
    mate = np.full(n, -1)
    chosen = np.zeros(len(a), dtype=bool) if x is None else x > 1 - 1e-6
    for i, j in zip(a[chosen].tolist(), b[chosen].tolist(), strict=True):
        mate[i], mate[j] = j, i
    if is_integral(x):
        return mate, "integral LP optimum"
    return complete(mate, edges), "LP rounding + greedy"


def complete(mate: np.ndarray, edges: Edges) -> np.ndarray:
    """``mate`` with unpaired places paired greedily, heaviest positive pair first."""
    a, b, we = edges
    mate = mate.copy()
    for e in np.argsort(-we, kind="stable"):
        i, j = int(a[e]), int(b[e])
        if we[e] > 0 and mate[i] < 0 and mate[j] < 0:
            mate[i], mate[j] = j, i
    return mate


def mate_weight(mate: np.ndarray, weight: Weight) -> float:
    """Total weight of the pairs in ``mate``."""
    return float(sum(weight(k, int(m)) for k, m in enumerate(mate) if m > k))


def exhaustive(n: int, weight: Weight) -> np.ndarray:
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
