"""Numerical core of the synthetic control: the simplex QP and the choice of V.

Inner problem (weights)
-----------------------
For standardised predictors of the donors ``X0`` (k x J), of the treated
place ``x1`` (k) and a diagonal ``V = diag(v)``, ``v >= 0``,

    W(v) = argmin_w (x1 - X0 w)' V (x1 - X0 w)   s.t.  w >= 0,  sum w = 1

(Abadie, Diamond & Hainmueller 2010, eq. 5-6).  With ``p_j = V^(1/2) (X0_j - x1)``
this is the *minimum-norm point* of the polytope ``conv{p_1, ..., p_J}``: the
objective is ``||sum_j w_j p_j||^2``.  :func:`simplex_lstsq` solves it with
Wolfe's algorithm (Wolfe 1976, "Finding the nearest point in a polytope",
Math. Programming 11, 128-149), an exact active-set method: it keeps a
*corral* ``S`` of affinely independent points (so ``|S| <= k + 1``) and the
minimiser of ``||P_S mu||^2`` on their affine hull,

    mu = u / (1'u),   (P_S'P_S + 1 1') u = 1,

adds the point most negatively aligned with the current ``x`` (``argmin_j x'p_j``)
until ``||x||^2 - min_j x'p_j <= TOL_OPT * max_j ||p_j||^2`` (Wolfe's stopping
rule, which is the KKT condition ``P'x >= ||x||^2`` with equality on ``S``),
and leaves the hull with a ratio test when an affine weight turns negative.
It is finite, needs ``O(kJ)`` work per step, and its weights are the solution of
a small linear system on the final support, so they are as accurate as that
system (no interior-point tolerance).  The optimal point ``x`` is unique; the
weights are unique when the optimal face is a simplex (always so for data in
general position with ``x != 0``).  A warm start (the previous support and
weights) makes the repeated solves of the outer problem cheap.

Exact fits (ties).  When ``x = 0`` (the treated place lies in the donors' hull
on the weighted predictors) the inner solutions form the polytope
``{w : P w = 0}`` and the weights a solver returns depend on its path.  We
break the tie optimistically: among the exact fits, the one with the smallest
pre-period MSPE of the outcome (:func:`refine_exact`).  So ``W(v)`` has a
well-defined loss and a fixed-``V`` refit reproduces a nested fit.

Outer problem (V)
-----------------
The nested choice (ADH 2010; Abadie & Gardeazabal 2003; R ``Synth``) picks
``v`` minimising the pre-period mean squared prediction error of the outcome

    L(v) = ||z1 - Z0 W(v)||^2 / T0,     v >= 0,  sum v = 1.

``L`` is piecewise smooth.  On a fixed support ``S`` the weights solve the
bordered system ``[G 1; 1' 0][w_S; -theta] = [0; 1]`` with
``G = sum_i v_i d_i d_i'`` (``d_i`` row ``i`` of ``X0_S - x1``), so by implicit
differentiation ``[G 1; 1' 0][dw_S / dv_i; .] = [-d_i e_i; 0]`` with the
predictor residual ``e = X0_S w_S - x1``: :func:`choose_v` runs a bounded
truncated-Newton search (scipy's TNC; L-BFGS-B gave the same losses but its
threaded BLAS calls made it 4-10x slower on a busy 2-core machine) with this
exact gradient on ``u >= 0``, ``v = u / sum u``, from several starting points:
equal weights, the regression-based start of R ``Synth``
(``v_m`` proportional to the sum over pre-years of the squared coefficient of
predictor ``m`` in an OLS of the outcome on the predictors across units), and
random Dirichlet(1) draws.

Certificate: any ``W`` on the simplex has ``L >= L* = min_w ||z1 - Z0 w||^2 / T0``
(one QP of the same kind), so ``L(v) - L*`` bounds how far a choice of ``V``
can be from optimal.  When the predictors include every pre-year outcome
used in the loss, ``v`` proportional to those predictors' squared scales
(zero elsewhere) makes the inner objective a multiple of ``L``: it attains
``L*`` and is globally optimal; it is tried first and the search stops at
once when a start reaches ``L*`` (to ``TOL_BOUND``).  This is the case made by
Kaul, Kloessner, Pfeifer & Schieler (2022, "Standard synthetic control
methods: the case of using all preintervention outcomes together with
covariates", JBES 40(3)): with all pre-period outcomes as predictors the
covariates get no weight.  More generally an LP (:func:`certify`) tells
whether the weights attaining ``L*`` solve the inner problem for some ``v``.
When the treated place lies in the donors' hull on the predictors, every
``v > 0`` fits them exactly, ``L(v)`` is the same for all of them (with the
tie-breaking above) and ``v`` is not identified: equal ``v`` is reported and
no search is run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg.lapack import dposv
from scipy.optimize import linprog, minimize

TOL_OPT = 1e-13
"""Wolfe's stopping rule, relative to the largest squared point norm."""
TOL_POS = 1e-12
"""Affine weights at or below this are treated as leaving the corral."""
TOL_BOUND = 1e-9
"""Relative distance to the lower bound at which the V search stops."""
MAX_STEPS = 10_000
REFINE_STEPS = 200
"""Multiplier updates allowed when choosing among exact fits."""
OUTER_METHOD = "TNC"
"""Local optimiser of the V search (scipy; bounded truncated Newton with our gradient)."""
MAX_OUTER_EVALS = 200


@dataclass(frozen=True)
class QPResult:
    """Solution of the simplex least-squares problem.

    ``support`` are the donor indices with positive weight (the final corral),
    ``weights`` their weights (sum 1), ``loss`` the objective
    ``||sum_j w_j p_j||^2``, ``kkt`` the largest violation of optimality
    ``max(0, ||x||^2 - min_j x'p_j)`` relative to ``scale = max_j ||p_j||^2``,
    ``steps`` the number of corral changes.
    """

    support: np.ndarray
    weights: np.ndarray
    loss: float
    kkt: float
    steps: int
    scale: float = 1.0

    @property
    def exact(self) -> bool:
        """The target is matched exactly (it lies in the hull): loss <= 1e-16 * scale."""
        return self.loss <= 1e-16 * self.scale

    def dense(self, n: int) -> np.ndarray:
        """Weights as a length-``n`` vector (zeros off the support)."""
        out = np.zeros(n)
        out[self.support] = self.weights
        return out


def simplex_lstsq(a: np.ndarray, b: np.ndarray, *, v: np.ndarray | None = None,
                  warm: QPResult | None = None) -> QPResult:
    """Minimise ``sum_i v_i (b_i - (a w)_i)^2`` over the unit simplex.

    Parameters
    ----------
    a : (k, J) array
        One column per donor.
    b : (k,) array
        The target.
    v : (k,) array, optional
        Non-negative row weights (the diagonal of ``V``); default all ones.
    warm : QPResult, optional
        A previous solution on the same columns, used as the starting corral.

    Returns
    -------
    QPResult
        See the module docstring (Wolfe's minimum-norm-point algorithm).
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)[:, None]
    if v is not None:
        d = np.sqrt(np.asarray(v, dtype=float))[:, None] * d
    return min_norm_point(d, warm=warm)


def min_norm_point(p: np.ndarray, *, warm: QPResult | None = None) -> QPResult:
    """Minimum-norm point of the convex hull of the columns of ``p`` (Wolfe 1976)."""
    n2 = np.einsum("ij,ij->j", p, p)
    scale = float(n2.max(initial=0.0))
    if not scale > 0.0:
        return QPResult(np.array([0]), np.array([1.0]), 0.0, 0.0, 0)
    q = p / np.sqrt(scale)
    corral, lam = _start(q, n2 / scale, warm)
    steps = 0
    corral, lam = _minor(q, corral, lam)
    x = q[:, corral] @ lam
    while steps < MAX_STEPS:
        g = x @ q
        j = int(np.argmin(g))
        xx = float(x @ x)
        if xx - g[j] <= TOL_OPT or j in corral:
            break
        steps += 1
        new_corral, new_lam = _minor(q, [*corral, j], np.append(lam, 0.0))
        if j not in new_corral and np.array_equal(new_lam, lam):
            break  # the new point was dropped at once: no progress is possible in floats
        corral, lam = new_corral, new_lam
        x = q[:, corral] @ lam
    g = x @ q
    kkt = max(0.0, float(x @ x - g.min()))
    order = np.argsort(corral)
    return QPResult(np.asarray(corral, dtype=np.int64)[order], lam[order],
                    float(x @ x) * scale, kkt, steps, scale)


def _start(q: np.ndarray, n2: np.ndarray, warm: QPResult | None
           ) -> tuple[list[int], np.ndarray]:
    if warm is not None and len(warm.support) and warm.support.max() < q.shape[1]:
        keep = warm.weights > 0
        if keep.any():
            lam = warm.weights[keep] / warm.weights[keep].sum()
            return [int(i) for i in warm.support[keep]], lam
    return [int(np.argmin(n2))], np.array([1.0])


def _affine(qs: np.ndarray) -> np.ndarray | None:
    """Affine minimiser ``mu`` of ``||qs mu||^2``, ``sum mu = 1``; None if degenerate."""
    s = qs.shape[1]
    if s == 1:
        return np.array([1.0])
    if s > qs.shape[0] + 1:
        return None  # more than k + 1 points in R^k are affinely dependent
    g = qs.T @ qs + 1.0
    c, u, info = dposv(g, np.ones(s))
    if info != 0:
        return None
    diag = np.abs(np.diag(c))
    if not diag.min() >= 1e-9 * diag.max():
        return None  # (nearly) affinely dependent points: the corral would be singular
    return u / u.sum()


def _minor(q: np.ndarray, corral: list[int], lam: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Wolfe's minor cycle: move to the affine minimiser, dropping points that leave."""
    while True:
        mu = _affine(q[:, corral])
        if mu is None:
            # Degenerate corral (floating point, or a warm start that lost rank): drop the
            # point of least weight (a newly added point has weight 0) and retry.
            i = int(np.argmin(lam))
            corral = corral[:i] + corral[i + 1:]
            lam = np.delete(lam, i)
            lam = lam / lam.sum()
            continue
        if (mu > TOL_POS).all():
            return corral, mu
        out = mu <= TOL_POS
        den = lam[out] - mu[out]
        ratio = np.where(den > 0, lam[out] / np.where(den > 0, den, 1.0), 0.0)
        theta = float(min(1.0, ratio.min()))
        lam = (1.0 - theta) * lam + theta * mu
        keep = lam > TOL_POS
        if keep.all():
            keep[int(np.argmin(lam))] = False
        corral = [c for c, k in zip(corral, keep, strict=True) if k]
        lam = lam[keep] / lam[keep].sum()


def refine_exact(p: np.ndarray, r: np.ndarray, warm: QPResult) -> QPResult:
    """Among ``w`` on the simplex with ``p w = 0``, the one minimising ``||r w||^2``.

    Used when the inner problem has an exact solution (the treated place lies
    in the donors' hull on the weighted predictors): its solutions then form
    the polytope ``{w : p w = 0}`` and the pre-period fit ``||r w||^2`` picks
    one (optimistic tie-breaking, so the result does not depend on the path of
    the solver).  Method of multipliers (Hestenes 1969; Powell 1969) whose
    subproblems ``min ||r w||^2 + rho ||p w + y / (2 rho)||^2`` are again
    minimum-norm-point problems (``sum w = 1`` turns the shift into a point
    shift), solved warm by :func:`min_norm_point`; ``y += 2 rho p w`` until
    ``||p w|| <= 1e-12`` (relative).
    """
    ps = p / max(float(np.sqrt(np.einsum("ij,ij->j", p, p).max(initial=0.0))), 1e-300)
    rn = float(np.sqrt(np.einsum("ij,ij->j", r, r).max(initial=0.0)))
    if not rn > 0:
        return warm
    rs = r / rn
    rho, y, qp = 1e3, np.zeros(len(ps)), warm
    for _ in range(REFINE_STEPS):
        shift = ps + (y / (2 * rho))[:, None]
        qp = min_norm_point(np.vstack([rs, np.sqrt(rho) * shift]), warm=qp)
        c = ps[:, qp.support] @ qp.weights
        if float(np.sqrt(c @ c)) <= 1e-12:
            break
        y = y + 2 * rho * c
    return qp


def inner_solve(d: np.ndarray, v: np.ndarray, r: np.ndarray | None = None,
                warm: QPResult | None = None) -> QPResult:
    """Inner weights for predictor points ``d = X0 - x1`` and weights ``v``.

    When the fit is exact and ``r`` (outcome points ``Z0 - z1``) is given, the
    exact fit with the smallest ``||r w||^2`` is returned (:func:`refine_exact`).
    """
    p = np.sqrt(v)[:, None] * d
    qp = min_norm_point(p, warm=warm)
    if r is not None and qp.exact and len(qp.support) > 1:
        refined = refine_exact(p, r, qp)
        loss = float(np.sum((p[:, refined.support] @ refined.weights) ** 2))
        qp = QPResult(refined.support, refined.weights, loss, refined.kkt, qp.steps +
                      refined.steps, qp.scale)
    return qp


# ------------------------------------------------------------------ outer problem
@dataclass(frozen=True)
class VChoice:
    """The chosen ``v`` (sum 1), its inner solution and pre-period loss.

    ``lower_bound`` is ``L*`` (see the module docstring); ``optimal`` says the
    loss reached it (a proof of global optimality of this ``v``); ``starts``
    the number of starting points tried; ``evaluations`` inner solves.
    """

    v: np.ndarray
    qp: QPResult
    loss: float
    lower_bound: float
    optimal: bool
    starts: int
    evaluations: int
    method: str


class _Outer:
    """The outer objective ``L(u)`` with its gradient; keeps the last inner solution warm."""

    def __init__(self, d: np.ndarray, z0: np.ndarray, z1: np.ndarray) -> None:
        self.d, self.z0, self.z1 = d, z0, z1
        self.t0 = len(z1)
        self.warm: QPResult | None = None
        self.evaluations = 0

    def solve(self, v: np.ndarray) -> tuple[QPResult, float]:
        qp = min_norm_point(np.sqrt(v)[:, None] * self.d, warm=self.warm)
        self.warm = qp
        self.evaluations += 1
        r = self.z1 - self.z0[:, qp.support] @ qp.weights
        return qp, float(r @ r) / self.t0

    def value_grad(self, u: np.ndarray) -> tuple[float, np.ndarray]:
        u = np.maximum(u, 0.0)
        total = float(u.sum())
        if not total > 0:
            return float("inf"), np.zeros_like(u)
        v = u / total
        qp, loss = self.solve(v)
        g = self._grad_v(v, qp)
        return loss, (g - float(v @ g)) / total

    def _grad_v(self, v: np.ndarray, qp: QPResult) -> np.ndarray:
        s = qp.support
        if len(s) < 2:
            return np.zeros(len(v))
        ds = self.d[:, s]
        e = ds @ qp.weights
        g = (ds * v[:, None]).T @ ds
        m = len(s)
        border = np.zeros((m + 1, m + 1))
        border[:m, :m], border[:m, m], border[m, :m] = g, 1.0, 1.0
        rhs = np.zeros((m + 1, len(v)))
        rhs[:m] = -(ds.T * e[None, :])
        try:
            dw = np.linalg.solve(border, rhs)[:m]
        except np.linalg.LinAlgError:
            return np.zeros(len(v))
        zs = self.z0[:, s]
        dldw = -2.0 / self.t0 * zs.T @ (self.z1 - zs @ qp.weights)
        return dw.T @ dldw


def lower_bound(z0: np.ndarray, z1: np.ndarray) -> tuple[QPResult, float]:
    """``L* = min_w ||z1 - Z0 w||^2 / T0`` over the simplex, with its solution."""
    qp = simplex_lstsq(z0, z1)
    r = z1 - z0[:, qp.support] @ qp.weights
    return qp, float(r @ r) / len(z1)


def regression_start(x: np.ndarray, z: np.ndarray) -> np.ndarray | None:
    """R ``Synth``'s regression-based start: ``v_m ~ sum_t beta_mt^2`` (all units).

    ``x`` (k, n) standardised predictors and ``z`` (T0, n) pre-period outcomes
    of every unit (treated and donors).
    """
    design = np.column_stack([np.ones(x.shape[1]), x.T])
    beta = np.linalg.lstsq(design, z.T, rcond=None)[0][1:]
    v = (beta ** 2).sum(axis=1)
    return v / v.sum() if np.isfinite(v).all() and v.sum() > 0 else None


def certify(x0: np.ndarray, x1: np.ndarray, qp: QPResult) -> np.ndarray | None:
    """A ``v`` for which the weights ``qp`` solve the inner problem, or None (one LP).

    ``w`` is inner-optimal for ``v`` iff (KKT, the problem being convex) the
    gradient ``h_j = sum_i v_i (X0_ij - x1_i) e_i`` (``e = X0 w - x1``) equals a
    common ``mu`` on the support of ``w`` and is ``>= mu`` elsewhere: linear in
    ``(v, mu)``, so an LP feasibility problem (HiGHS).  This is the check of
    Becker & Kloessner (2018, "Fast and reliable computation of generalized
    synthetic controls", Econometrics and Statistics 5) that the unrestricted
    optimum of the outer problem is attainable.
    """
    d = np.asarray(x0, dtype=float) - np.asarray(x1, dtype=float)[:, None]
    w = qp.dense(d.shape[1])
    e = d @ w
    if float(e @ e) <= 1e-16 * float(np.einsum("ij,ij->j", d, d).max(initial=0.0)):
        return np.full(len(e), 1.0 / len(e))  # w matches every predictor: optimal for any v
    scale = float(np.abs(d).max() * np.abs(e).max())
    m = (d * e[:, None]).T / scale
    k = len(e)
    on = np.zeros(d.shape[1], dtype=bool)
    on[qp.support] = True
    slack = 1e-9
    a_ub = np.vstack([np.column_stack([-m[~on], np.ones((~on).sum())]),
                      np.column_stack([m[on], -np.ones(on.sum())]),
                      np.column_stack([-m[on], np.ones(on.sum())])])
    b_ub = np.full(len(a_ub), slack)
    res = linprog(np.zeros(k + 1), A_ub=a_ub, b_ub=b_ub,
                  A_eq=np.r_[np.ones(k), 0.0][None, :], b_eq=[1.0],
                  bounds=[(0.0, None)] * k + [(None, None)], method="highs")
    if res.status != 0:
        return None
    v = np.maximum(res.x[:k], 0.0)
    return v / v.sum()


def _points(x0: np.ndarray, x1: np.ndarray, z0: np.ndarray, z1: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    """Predictor points ``X0 - x1`` and outcome points ``(Z0 - z1) / sqrt(T0)``."""
    d = np.asarray(x0, dtype=float) - np.asarray(x1, dtype=float)[:, None]
    r = (np.asarray(z0, dtype=float) - np.asarray(z1, dtype=float)[:, None]) / np.sqrt(len(z1))
    return d, r


def _mspe(r: np.ndarray, qp: QPResult) -> float:
    e = r[:, qp.support] @ qp.weights
    return float(e @ e)


def fixed_v(x0: np.ndarray, x1: np.ndarray, z0: np.ndarray, z1: np.ndarray,
            v: np.ndarray) -> tuple[QPResult, float]:
    """Inner weights for a given ``v`` and their pre-period MSPE (exact fits: the best one)."""
    d, r = _points(x0, x1, z0, z1)
    qp = inner_solve(d, v, r)
    return qp, _mspe(r, qp)


def choose_v(x0: np.ndarray, x1: np.ndarray, z0: np.ndarray, z1: np.ndarray, *,
             starts: Sequence[np.ndarray], exact: np.ndarray | None = None,
             ) -> VChoice:
    """Nested choice of ``v`` (see the module docstring).

    Order: the closed form ``exact`` (if given and it attains ``L*``); the LP
    certificate (:func:`certify`); if the treated place lies inside the
    donors' hull on the predictors, every ``v > 0`` fits them exactly, ``v`` is
    not identified and the exact fit with the smallest MSPE is returned with
    equal ``v``; otherwise the gradient search from each of ``starts``.  Every
    reported ``(v, weights)`` is what :func:`fixed_v` gives for that ``v``.

    Parameters
    ----------
    x0, x1 : standardised predictors of the donors (k, J) and the treated place (k).
    z0, z1 : pre-period outcomes of the donors (T0, J) and the treated place (T0).
    starts : starting values of ``v`` for the local search, tried in order.
    exact : a ``v`` known to attain the lower bound (the pre-year outcome
        predictors with their squared scales); tried first.
    """
    lb_qp, lb = lower_bound(z0, z1)
    d, r = _points(x0, x1, z0, z1)
    outer = _Outer(d, np.asarray(z0, dtype=float), np.asarray(z1, dtype=float))
    tol = TOL_BOUND * max(lb, 1e-12 * float(np.mean(np.asarray(z1) ** 2)))
    k = len(d)

    def done(v: np.ndarray, qp: QPResult, loss: float, tried: int, method: str) -> VChoice:
        return VChoice(v, qp, loss, lb, bool(loss - lb <= tol), tried, outer.evaluations,
                       method)

    if exact is not None:
        qp = inner_solve(d, exact, r)
        if _mspe(r, qp) - lb <= tol:
            return done(exact, qp, _mspe(r, qp), 1, "pre-year outcomes (closed form)")
    v_lp = certify(x0, x1, lb_qp)
    if v_lp is not None:
        p = np.sqrt(v_lp)[:, None] * d
        e = p[:, lb_qp.support] @ lb_qp.weights
        qp = QPResult(lb_qp.support, lb_qp.weights, float(e @ e), 0.0, lb_qp.steps,
                      float(np.einsum("ij,ij->j", p, p).max(initial=0.0)))
        return done(v_lp, qp, lb, 1, "LP certificate (outer optimum attainable)")
    equal = np.full(k, 1.0 / k)
    if min_norm_point(d).exact:
        qp = inner_solve(d, equal, r)
        return done(equal, qp, _mspe(r, qp), 1, "exact fit for every V > 0: V not "
                    "identified; the exact fit with the smallest MSPE")
    best: tuple[float, np.ndarray, QPResult] | None = None
    tried = 0
    for start in starts:
        tried += 1
        u0 = np.asarray(start, dtype=float)
        res = minimize(outer.value_grad, u0 / u0.sum(), jac=True, method=OUTER_METHOD,
                       bounds=[(0.0, None)] * len(u0), options={"maxfun": MAX_OUTER_EVALS})
        u = np.maximum(res.x, 0.0)
        v = u / u.sum() if u.sum() > 0 else u0 / u0.sum()
        qp = inner_solve(d, v, r)
        loss = _mspe(r, qp)
        if best is None or loss < best[0]:
            best = (loss, v, qp)
        if loss - lb <= tol:
            break
    if best is None:
        raise ValueError("choose_v needs at least one start")
    return done(best[1], best[2], best[0], tried, "gradient search (TNC), multistart")
