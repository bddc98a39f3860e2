"""Conformal prediction intervals for a synthetic control (Chernozhukov, Wüthrich & Zhu 2021).

Formulation
-----------
Chernozhukov, V., Wüthrich, K. & Zhu, Y. (2021), "An exact and robust conformal
inference method for counterfactual and synthetic controls", *JASA* 116(536),
1849-1864.  Treated place ``0``, donors ``1..J``, outcome ``Y_jt``, pre-period years
``1..T0``, post-period years ``T0+1..T``.  The effect in a post year is
``theta_t = Y_0t - Y_0t(0)``.  To test ``H0: theta_t = theta0``:

1. impose the null: ``Y~_0s = Y_0s`` before the start and ``Y_0t - theta0`` in the
   post year(s) tested;
2. fit the synthetic control on *every* year used, the tested post year(s)
   included: ``w = argmin ||Y~_0 - Y_J w||^2`` over the simplex (``w >= 0``,
   ``sum w = 1``; the constrained least squares of CWZ eq. 3, solved exactly by
   :func:`~keycities.analysis.testbed.synth_solver.simplex_lstsq`);
3. residuals ``u_s = Y~_0s - sum_j w_j Y_js``;
4. p-value: the share of permutations ``pi`` of the residuals whose statistic
   ``S(u_pi) >= S(u)``.

*One post year* ``t`` (the fit uses the pre-years and ``t``): ``S(u) = |u_t|``
with every permutation of the ``T0 + 1`` residuals (their ranks: CWZ sec. 2.2),
``p = #{s : |u_s| >= |u_t|} / (T0 + 1)``.

*The average over the post-period*, assuming a constant effect ``theta_t = theta0``
for every post year (the fit uses all ``T`` years):
``S(u) = T1^(-1/2) sum_{t > T0} |u_t|`` (``q = 1``) with the ``T`` cyclic
*moving-block* permutations ``pi_j(s) = s + j mod T`` (CWZ sec. 2.3), which keep
serial dependence inside the block.

The ``1 - alpha`` interval is the set ``{theta0 : p(theta0) > alpha}`` (its hull,
should it have holes), found on a grid around the synthetic-control estimate in
multiples of the pre-period residual RMS, widened until its ends are rejected, with
each edge then bisected (:func:`interval`).

Assumptions (stated with every result): without the policy, the treated place's
outcome is the synthetic control plus an error whose sequence is exchangeable
(one year) or stationary and weakly dependent (moving blocks, the average) and
the synthetic control is a consistent estimator (CWZ's conditions A1-A2); the
intervals are exact in finite samples when the errors are exchangeable, and
approximately valid otherwise.  The smallest attainable p-value is
``1 / (T0 + 1)`` (one year) or ``1 / T`` (the average): with fewer than
``1 / alpha`` pre-years no interval at that level can exclude anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.analysis.testbed.synth_solver import simplex_lstsq
from keycities.errors import KeycitiesError

ALPHA = 0.1
"""The default level: 90% intervals."""
BISECT_TOL = 1e-3
"""Bisection stops when the boundary is known to this fraction of the step (the
pre-period residual RMS): far finer than the data's own precision."""
STEP_OUT = 12
GRID_POINTS = 41
GRID_STEPS = 8.0
ASSUMPTIONS = (
    "Conformal intervals (Chernozhukov, Wüthrich & Zhu 2021): without the policy the "
    "place's outcome would be its synthetic control (weights fitted on every year with the "
    "tested effect removed) plus errors that are exchangeable across years (one year) or "
    "stationary and weakly dependent (the average, moving blocks); the average assumes the "
    "same effect in every post year.")


@dataclass(frozen=True)
class Conformal:
    """Conformal intervals for one treated place.

    Attributes
    ----------
    by_year
        One row per post year: year, estimate (outcome units), low, high (the
        ``1 - alpha`` interval), p_zero (the p-value of "no effect that year"),
        synthetic (the level the relative columns divide by), relative, relative_low,
        relative_high.
    average
        The constant post-period effect: estimate, low, high, p_zero, and the same
        relative to the mean synthetic level.
    """

    treated: str
    alpha: float
    by_year: pd.DataFrame
    average: dict[str, float]
    min_p_year: float
    min_p_average: float
    notes: tuple[str, ...] = field(default=())

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        average = {k: (v if np.isfinite(v) else None) for k, v in self.average.items()}
        return jsonable({"treated": self.treated, "alpha": self.alpha,
                         "level": 1 - self.alpha,
                         "by_year": self.by_year.replace([np.inf, -np.inf], np.nan),
                         "average": average, "min_p_year": self.min_p_year,
                         "min_p_average": self.min_p_average, "notes": list(self.notes)})


def _fit_residuals(y0: np.ndarray, yj: np.ndarray) -> np.ndarray:
    """Residuals of the simplex least-squares fit of ``y0`` (T) on the columns of ``yj``."""
    qp = simplex_lstsq(yj, y0)
    return y0 - yj[:, qp.support] @ qp.weights


def p_one_year(y0: np.ndarray, yj: np.ndarray, pre: np.ndarray, t: int, theta0: float
               ) -> float:
    """CWZ p-value of ``H0: theta_t = theta0`` for post year index ``t`` (iid permutations)."""
    rows = np.r_[np.flatnonzero(pre), t]
    target = y0[rows].copy()
    target[-1] -= theta0
    u = np.abs(_fit_residuals(target, yj[rows]))
    return float(np.mean(u >= u[-1] * (1 - 1e-12)))


def p_average(y0: np.ndarray, yj: np.ndarray, pre: np.ndarray, theta0: float) -> float:
    """CWZ p-value of a constant post-period effect ``theta0`` (moving-block permutations)."""
    post = ~pre
    target = y0 - np.where(post, theta0, 0.0)
    u = np.abs(_fit_residuals(target, yj))
    n, t1 = len(u), int(post.sum())
    stats = np.array([np.roll(u, -j)[post].sum() for j in range(n)]) / np.sqrt(t1)
    return float(np.mean(stats >= stats[0] * (1 - 1e-12)))


def _edge(p: Callable[[float], float], inside: float, outside: float, alpha: float,
          tol: float) -> float:
    """Bisect between an accepted and a rejected value to the set's edge."""
    while abs(outside - inside) > tol:
        mid = 0.5 * (inside + outside)
        if p(mid) > alpha:
            inside = mid
        else:
            outside = mid
    return 0.5 * (inside + outside)


def interval(p: Callable[[float], float], estimate: float, scale: float,
             alpha: float) -> tuple[float, float]:
    """The smallest interval holding ``{theta0 : p(theta0) > alpha}`` near ``estimate``.

    ``p`` is evaluated on ``GRID_POINTS`` values spanning ``+- GRID_STEPS`` steps (the
    pre-period residual RMS) around the estimate, and 0; the span doubles while its
    ends are accepted (up to ``STEP_OUT`` times); each outer edge is then bisected (to
    ``BISECT_TOL`` of a step).  The accepted set need not be an interval (a p-value that
    is not monotone): its hull is reported.  NaN when nothing is accepted; +-inf when
    the set does not end within the span.
    """
    step = max(scale, 1e-9 * max(1.0, abs(estimate)))
    half = GRID_STEPS
    for _ in range(STEP_OUT):
        theta = np.unique(np.r_[estimate + step * np.linspace(-half, half, GRID_POINTS), 0.0])
        ok = np.array([p(float(x)) > alpha for x in theta])
        if not ok.any():
            return float("nan"), float("nan")
        if not (ok[0] or ok[-1]):
            break
        half *= 2
    else:
        return (-np.inf if ok[0] else float(theta[ok][0]),
                np.inf if ok[-1] else float(theta[ok][-1]))
    i, j = int(np.flatnonzero(ok)[0]), int(np.flatnonzero(ok)[-1])
    tol = BISECT_TOL * step
    return (_edge(p, float(theta[i]), float(theta[i - 1]), alpha, tol),
            _edge(p, float(theta[j]), float(theta[j + 1]), alpha, tol))


def conformal_arrays(y0: np.ndarray, yj: np.ndarray, pre: np.ndarray, *,
                     alpha: float = ALPHA, average: bool = True
                     ) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-year and average intervals from arrays (see the module docstring).

    Parameters
    ----------
    y0 : (T,) the treated place's outcome.
    yj : (T, J) the donors' outcomes.
    pre : (T,) boolean, True for pre-period years (they come first).
    alpha : 1 - the interval's level.
    average : also the interval of a constant post-period effect (else ``{}``).

    Returns
    -------
    (by_year, average)
        ``by_year`` indexed by position in the years: estimate, low, high, p_zero,
        synthetic; ``average``: estimate, low, high, p_zero, synthetic.
    """
    pre = np.asarray(pre, dtype=bool)
    if not 0 < alpha < 1:
        raise KeycitiesError(f"alpha={alpha} must be between 0 and 1 (0.1 for 90% intervals).")
    qp = simplex_lstsq(yj[pre], y0[pre])
    synth = yj[:, qp.support] @ qp.weights
    gap = y0 - synth
    scale = float(np.sqrt(np.mean(gap[pre] ** 2)))
    rows = []
    for t in np.flatnonzero(~pre):
        def p(theta: float, t: int = int(t)) -> float:
            return p_one_year(y0, yj, pre, t, theta)
        low, high = interval(p, float(gap[t]), scale, alpha)
        rows.append({"estimate": float(gap[t]), "low": low, "high": high, "p_zero": p(0.0),
                     "synthetic": float(synth[t])})

    if not average:
        return pd.DataFrame(rows), {}

    def pa(theta: float) -> float:
        return p_average(y0, yj, pre, theta)

    est = float(gap[~pre].mean())
    low, high = interval(pa, est, scale / np.sqrt(max(1, int((~pre).sum()))), alpha)
    return pd.DataFrame(rows), {"estimate": est, "low": low, "high": high,
                                "p_zero": pa(0.0), "synthetic": float(synth[~pre].mean())}


def _relative(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col, src in (("relative", "estimate"), ("relative_low", "low"),
                     ("relative_high", "high")):
        out[col] = out[src] / out["synthetic"]
    return out


def conformal(panel: pd.DataFrame, treated: str, start: int, *,
              donors: Sequence[str] | None = None, alpha: float = ALPHA) -> Conformal:
    """Conformal intervals for ``treated``'s effect from ``start`` (see the module docstring).

    Parameters
    ----------
    panel
        Places (codes) x years (int columns) of one outcome; the treated place and
        its donors must have every year.
    treated, start
        The treated place and the first policy year.
    donors
        The donor pool (default every other complete row).
    alpha
        1 - the level (0.1: 90% intervals).
    """
    years = [int(c) for c in panel.columns]
    frame = panel.set_axis(years, axis=1)
    pool = [c for c in (donors if donors is not None else frame.index) if c != treated]
    rows = frame.loc[[treated, *pool]].dropna()
    if treated not in rows.index:
        raise KeycitiesError(f"{treated} lacks a value in some year: no conformal interval.")
    pre = np.array([y < start for y in years])
    if pre.sum() < 2 or pre.all():
        raise KeycitiesError(f"start {start}: conformal intervals need pre- and post-period "
                             "years.")
    y = rows.to_numpy(dtype=float).T
    by_pos, avg = conformal_arrays(y[:, 0], y[:, 1:], pre, alpha=alpha)
    by_pos.insert(0, "year", [y_ for y_, p_ in zip(years, pre, strict=True) if not p_])
    t0 = int(pre.sum())
    avg_rel = {f"relative{s}": avg[k] / avg["synthetic"]
               for s, k in (("", "estimate"), ("_low", "low"), ("_high", "high"))}
    notes = [ASSUMPTIONS]
    if 1.0 / (t0 + 1) > alpha:
        notes.append(f"Only {t0} pre-period years: the smallest p-value for one year is "
                     f"{1 / (t0 + 1):.2f} > {alpha:g}, so a year's interval cannot exclude "
                     "any effect.")
    return Conformal(treated, alpha, _relative(by_pos), {**avg, **avg_rel}, 1.0 / (t0 + 1),
                     1.0 / len(years), tuple(notes))
