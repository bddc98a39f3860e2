"""The mixed-integer program behind :mod:`keycities.analysis.testbed.choose`, in HiGHS.

Variables: ``x_i`` in {0, 1} (candidate ``i`` is a testbed), ``d_g`` in {0, 1} (the
pooled test must detect the injected effect ``e_g``), ``t_f >= 0`` (the absolute
standardised mean difference of feature ``f``).  With ``z_ig`` the per-place
mean Stouffer scores, ``c = sqrt(k) (z_(1-alpha) + z_(1-beta))`` and ``s_if`` the
candidates' features standardised on the roll-out set:

    sum_i x_i = k
    sum_i z_ig x_i >= c - M_g (1 - d_g)            (detection at e_g when d_g = 1)
    d_g <= d_(g+1)                                 (detected from the MDE on)
    -t_f <= sum_i s_if x_i / k <= t_f              (imbalance)
    sum_f t_f / F <= cap                           (--max-imbalance)
    sum_(i in r) x_i <= max_per_region             (each region r)
    x_i + x_j <= 1                                 (i, j closer than min_km)
    sum_j L_ij x_j <= D_i - m + M_i (1 - x_i)      (i keeps m donors: L_ij of its D_i
                                                    donors lie within min_km of j)
    x_i = 1 (required), x_i = 0 (excluded or ineligible).

``MDE = e_(G+1) - sum_g d_g (e_(g+1) - e_g)`` (``e_(G+1)`` one step past the grid:
"not detected in the grid").  Stage 1 minimises the MDE; stage 2 adds
``MDE <= MDE*`` and minimises ``sum_f t_f / F``.  HiGHS's branch and bound proves each
optimum: its dual bound is a value no feasible set can beat.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np

INF = highspy.kHighsInf
FAMILIES = ("require", "max_per_region", "min_km", "min_donors", "max_imbalance")
"""Constraint families that can be relaxed one at a time to find the binding one."""


@dataclass(frozen=True)
class Model:
    """The inputs of the program (see the module docstring); arrays over candidates."""

    k: int
    z: np.ndarray  # (n, G) Stouffer scores
    effects: np.ndarray  # (G,) increasing
    critical: float  # sqrt(k) (z_(1-alpha) + z_(1-beta))
    s: np.ndarray  # (n, F) standardised features
    region: np.ndarray  # (n,) region labels
    close: list[tuple[int, int]]  # pairs closer than min_km
    lost: np.ndarray  # (n, n) L_ij
    donors: np.ndarray  # (n,) D_i
    min_donors: int
    max_per_region: int | None
    max_imbalance: float | None
    require: np.ndarray  # (n,) bool
    allowed: np.ndarray  # (n,) bool (not excluded, eligible)


@dataclass
class Solved:
    """One solve: the chosen indicator, its objective and HiGHS's proven bound."""

    status: str  # optimal | infeasible | limit
    x: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    objective: float = float("nan")
    bound: float = float("nan")
    gap: float = float("nan")
    nodes: int = 0


def steps(effects: np.ndarray) -> tuple[np.ndarray, float]:
    """``(e_(g+1) - e_g for g = 1..G, e_(G+1))``: the MDE's increments and its cap."""
    e = np.asarray(effects, dtype=float)
    top = e[-1] + (e[-1] - e[-2] if len(e) > 1 else e[-1])
    return np.diff(np.r_[e, top]), float(top)


class _Builder:
    """Columns: x (n), d (G), t (F); rows added as sparse lists."""

    def __init__(self, m: Model, relax: frozenset[str]) -> None:
        self.m, self.relax = m, relax
        self.n, self.g, self.f = m.z.shape[0], m.z.shape[1], m.s.shape[1]
        self.h = highspy.Highs()
        self.h.silent()
        self.h.setOptionValue("mip_rel_gap", 0.0)
        self.h.setOptionValue("mip_abs_gap", 1e-9)
        lo = np.where(m.require & ("require" not in relax), 1.0, 0.0)
        hi = np.where(m.allowed, 1.0, 0.0)
        lo = np.minimum(lo, hi)
        n, g, f = self.n, self.g, self.f
        self.h.addVars(n + g + f, np.r_[lo, np.zeros(g + f)],
                       np.r_[hi, np.ones(g), np.full(f, INF)])
        self.h.changeColsIntegrality(n + g, np.arange(n + g, dtype=np.int32),
                                     np.full(n + g, highspy.HighsVarType.kInteger))
        self.d0, self.t0 = n, n + g

    def row(self, lo: float, hi: float, idx: list[int] | np.ndarray,
            val: list[float] | np.ndarray) -> None:
        idx = np.asarray(idx, dtype=np.int32)
        self.h.addRow(lo, hi, len(idx), idx, np.asarray(val, dtype=float))

    def build(self) -> None:
        m, n = self.m, self.n
        self.row(m.k, m.k, np.arange(n), np.ones(n))
        self._detection()
        self._imbalance()
        if m.max_per_region is not None and "max_per_region" not in self.relax:
            for r in np.unique(m.region):
                members = np.flatnonzero(m.region == r)
                if len(members) > m.max_per_region:
                    self.row(-INF, m.max_per_region, members, np.ones(len(members)))
        if "min_km" not in self.relax:
            for i, j in m.close:
                self.row(-INF, 1.0, [i, j], [1.0, 1.0])
        if "min_donors" not in self.relax and "min_km" not in self.relax:
            self._donors()

    def _detection(self) -> None:
        m, n = self.m, self.n
        low_sum = np.sort(m.z, axis=0)[: m.k].sum(axis=0)  # the k smallest scores
        for g in range(self.g):
            big = max(0.0, m.critical - float(low_sum[g]))
            # sum_i z_ig x_i - big * d_g >= critical - big
            self.row(m.critical - big, INF, [*range(n), self.d0 + g],
                     [*m.z[:, g], -big])
        for g in range(self.g - 1):
            self.row(-INF, 0.0, [self.d0 + g, self.d0 + g + 1], [1.0, -1.0])


    def _imbalance(self) -> None:
        m, n = self.m, self.n
        for f in range(self.f):
            col = self.t0 + f
            self.row(-INF, 0.0, [*range(n), col], [*(m.s[:, f] / m.k), -1.0])
            self.row(0.0, INF, [*range(n), col], [*(m.s[:, f] / m.k), 1.0])
        if m.max_imbalance is not None and "max_imbalance" not in self.relax and self.f:
            self.row(-INF, m.max_imbalance, np.arange(self.t0, self.t0 + self.f),
                     np.full(self.f, 1.0 / self.f))

    def _donors(self) -> None:
        m = self.m
        for i in np.flatnonzero(m.allowed):  # x_i = 0 elsewhere: nothing to keep
            lost = m.lost[i].astype(float).copy()
            lost[i] = 0.0
            slack = float(m.donors[i] - m.min_donors)
            big = float(lost.sum())
            if big <= max(slack, 0.0):
                continue  # never binds
            # sum_j L_ij x_j + big x_i <= slack + big
            row = lost.copy()
            row[i] = big
            nz = np.flatnonzero(row)
            self.row(-INF, slack + big, nz, row[nz])

    def solve(self, cost: np.ndarray, time_limit: float) -> Solved:
        self.h.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32),
                              np.asarray(cost, dtype=float))
        self.h.setOptionValue("time_limit", float(time_limit))
        self.h.run()
        status = self.h.getModelStatus()
        info = self.h.getInfo()
        if status == highspy.HighsModelStatus.kInfeasible:
            return Solved("infeasible")
        if status != highspy.HighsModelStatus.kOptimal and info.primal_solution_status != 2:
            return Solved("limit")  # no feasible solution found in time
        col = np.asarray(self.h.getSolution().col_value)
        return Solved("optimal" if status == highspy.HighsModelStatus.kOptimal else "limit",
                      col[: self.n] > 0.5, float(info.objective_function_value),
                      float(info.mip_dual_bound), float(info.mip_gap),
                      int(info.mip_node_count))


def solve_lexicographic(m: Model, *, relax: frozenset[str] = frozenset(),
                        time_limit: float = 60.0) -> tuple[Solved, Solved]:
    """Stage 1 (least pooled MDE) and stage 2 (least imbalance at that MDE).

    Objectives are reported as the MDE (stage 1) and the mean absolute standardised
    difference (stage 2), each with HiGHS's dual bound on it."""
    b = _Builder(m, relax)
    b.build()
    w, top = steps(m.effects)
    n, g, f = b.n, b.g, b.f
    cost1 = np.r_[np.zeros(n), -w, np.zeros(f)]
    first = b.solve(cost1, time_limit)
    if first.status == "infeasible" or not len(first.x):
        return first, Solved(first.status)
    first.objective, first.bound = top + first.objective, top + first.bound
    # stage 2: keep the MDE (sum w d >= its optimum) and minimise the imbalance
    best = top - first.objective
    b.row(best - 1e-9, INF, np.arange(b.d0, b.d0 + g), w)
    cost2 = np.r_[np.zeros(n + g), np.full(f, 1.0 / max(f, 1))]
    second = b.solve(cost2, time_limit)
    return first, second


def solve_imbalance(m: Model, *, time_limit: float = 60.0) -> Solved:
    """The most representative set (least imbalance, power ignored)."""
    b = _Builder(m, frozenset({"max_imbalance"}))
    b.build()
    n, g, f = b.n, b.g, b.f
    return b.solve(np.r_[np.zeros(n + g), np.full(f, 1.0 / max(f, 1))], time_limit)


def binding(m: Model, *, time_limit: float = 20.0) -> list[str]:
    """The constraint families whose relaxation alone makes an infeasible model feasible."""
    out = []
    for fam in FAMILIES:
        b = _Builder(m, frozenset({fam}))
        b.build()
        if b.solve(np.zeros(b.n + b.g + b.f), time_limit).status != "infeasible":
            out.append(fam)
    return out
