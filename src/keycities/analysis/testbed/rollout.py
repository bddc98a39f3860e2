"""Predict a roll-out: what a policy piloted in some places would do everywhere else.

Formulation
-----------
Pilot ``i`` (``i = 1..k``) has an estimated relative effect ``y_i`` with standard
error ``s_i`` (the spread of its placebos' effects: what the estimate looks like
without a policy) and features ``x_i`` (an intercept and ``p - 1`` place features,
standardised on the roll-out set).  The random-effects meta-regression

    y_i = x_i' beta + u_i + e_i,   u_i ~ N(0, tau^2),   e_i ~ N(0, s_i^2)

(Raudenbush 2009, "Analyzing effect sizes: random-effects models", in *The Handbook
of Research Synthesis and Meta-Analysis*; Thompson & Sharp 1999) pools the pilots
partially: ``tau^2`` (between-place variation of the true effect) is estimated by
REML with Fisher scoring (Viechtbauer 2005, "Bias and efficiency of meta-analytic
variance estimators in the random-effects model", *J. Educ. Behav. Stat.* 30(3))
from the DerSimonian & Laird (1986) / Raudenbush method-of-moments start
``tau^2_DL = max(0, (Q - (k - p)) / tr(P_0))``; then ``W = diag(1 / (s_i^2 + tau^2))``,
``beta = (X'WX)^-1 X'W y``, ``V = (X'WX)^-1``.

A place ``j`` outside the pilots gets the predicted effect ``x_j' beta`` and the
prediction interval ``x_j' beta +- t_(df, 1 - alpha/2) sqrt(x_j' V x_j + tau^2)`` with
``df = k - p - 1`` (Higgins, Thompson & Spiegelhalter 2009, "A re-evaluation of
random-effects meta-analysis", *JRSS A* 172(1): the interval for a *new* place's
true effect, which includes ``tau^2``).  Each pilot's own effect is shrunk toward
its prediction: ``x_i' beta + tau^2 / (tau^2 + s_i^2) (y_i - x_i' beta)`` (empirical
Bayes).  A place whose features lie outside the pilots' range on any feature is an
extrapolation and is flagged.

The national value adds up ``a_j x_j' beta`` over the roll-out places, with ``a_j`` a
place's level (counts: the outcome itself; productivity: its GVA, so that the sum is
£ a year, as the productivity calculator adds up ``gain per job x jobs``).  Its
interval is ``+- t sqrt(a' X V X' a + tau^2 sum a_j^2)``: the shared uncertainty of
``beta`` plus each place's own deviation.

Assumptions: the pilots' effects are exchangeable given the features (no
selection of pilots on their expected effect), their errors are independent and
approximately normal with known ``s_i``, and the effect is linear in the features
within their range.  With one pilot ``tau^2`` cannot be estimated and is taken as 0
(an interval that ignores place-to-place variation; the notes say so).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm, t

from keycities._util.plain import jsonable
from keycities.errors import KeycitiesError

ALPHA = 0.1
"""Default: 90% prediction intervals."""
REML_STEPS = 100


@dataclass(frozen=True)
class MetaFit:
    """A random-effects meta-regression: ``beta`` (by column), its covariance, ``tau2``."""

    columns: tuple[str, ...]
    beta: np.ndarray
    cov: np.ndarray
    tau2: float
    tau2_dl: float
    q: float
    df: int
    method: str

    def predict(self, x: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        """Predicted effects and the half-widths of their prediction intervals."""
        mean = x @ self.beta
        var = np.einsum("ij,jk,ik->i", x, self.cov, x) + self.tau2
        q = t.ppf(1 - alpha / 2, self.df) if self.df >= 1 else norm.ppf(1 - alpha / 2)
        return mean, q * np.sqrt(var)


def _p_matrix(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``P = W - W X (X'WX)^-1 X' W`` for weights ``w``."""
    wx = x * w[:, None]
    return np.diag(w) - wx @ np.linalg.solve(x.T @ wx, wx.T)


def meta_regression(y: np.ndarray, se: np.ndarray, x: np.ndarray,
                    columns: Sequence[str]) -> MetaFit:
    """REML random-effects meta-regression (see the module docstring)."""
    y, v = np.asarray(y, float), np.asarray(se, float) ** 2
    k, p = x.shape
    if k < p or (p > 1 and k <= p):
        raise KeycitiesError(f"{k} pilot(s) cannot fit {p - 1} feature(s) and an intercept "
                             "and still say how far places differ: give fewer features or "
                             "more pilots (at least one more pilot than coefficients).")
    if not (np.isfinite(v).all() and (v > 0).all()):
        raise KeycitiesError("Every pilot needs a positive, finite standard error (its "
                             "placebos' spread): re-run the evaluation with more donors.")
    p0 = _p_matrix(x, 1 / v)
    q_stat = float(y @ p0 @ y)
    dl = max(0.0, (q_stat - (k - p)) / float(np.trace(p0))) if k > p else 0.0
    tau2, method = dl, "DerSimonian-Laird (method of moments)"
    if k > p:
        tau2, method = _reml(y, v, x, dl), "REML (Fisher scoring)"
    w = 1 / (v + tau2)
    cov = np.linalg.inv(x.T @ (x * w[:, None]))
    beta = cov @ (x.T @ (w * y))
    return MetaFit(tuple(columns), beta, cov, tau2, dl, q_stat, k - p - 1, method)


def _reml(y: np.ndarray, v: np.ndarray, x: np.ndarray, start: float) -> float:
    tau2 = start
    for _ in range(REML_STEPS):
        pm = _p_matrix(x, 1 / (v + tau2))
        py = pm @ y
        step = (float(py @ py) - float(np.trace(pm))) / float(np.trace(pm @ pm))
        new = max(0.0, tau2 + step)
        if abs(new - tau2) <= 1e-12 + 1e-8 * tau2:
            return new
        tau2 = new
    return tau2


@dataclass(eq=False)
class Rollout:
    """Predicted effects of a roll-out, the pilots' pooled effects, the national value."""

    model: MetaFit
    alpha: float
    pilots: pd.DataFrame
    places: pd.DataFrame
    national: dict[str, Any]
    outcome: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def payload(self) -> dict[str, Any]:
        """Plain data: model, pilots, predictions per place, national value, notes."""
        m = self.model
        model = {"formula": "y_i = x_i' beta + u_i + e_i, u_i ~ N(0, tau^2), e_i ~ N(0, s_i^2)",
                 "tau2_method": m.method, "columns": list(m.columns), "beta": m.beta.tolist(),
                 "se": np.sqrt(np.diag(m.cov)).tolist(), "tau2": m.tau2,
                 "tau2_dersimonian_laird": m.tau2_dl, "q": m.q, "df": m.df,
                 "level": 1 - self.alpha}
        return jsonable({"outcome": self.outcome, "model": model, "pilots": self.pilots,
                         "places": self.places, "national": self.national,
                         "notes": self.notes})


def pilots_from_payload(doc: Mapping[str, Any], source: str = "the file"
                        ) -> tuple[str, pd.DataFrame]:
    """(outcome key, pilots: code, start, effect, se) from ``evaluate --format json``."""
    try:
        outcome = str(doc["outcome"]["key"])
        rows = doc["synthetic_control"]["pilots"]
    except (KeyError, TypeError):
        raise KeycitiesError(f"{source} is not the JSON of `keycities testbed evaluate "
                             "--format json` (no outcome or synthetic_control.pilots): write "
                             "one with that command, or give PLACE:YEAR.") from None
    frame = pd.DataFrame(rows)
    need = {"code", "start", "effect", "se"}
    if frame.empty or not need <= set(frame.columns):
        raise KeycitiesError(f"{source} has no pilot effects with standard errors: re-run "
                             "`keycities testbed evaluate --format json` with this version.")
    return outcome, frame[["code", "start", "effect", "se"]]


def _design(z: pd.DataFrame, codes: Sequence[str], features: Sequence[str]) -> np.ndarray:
    return np.column_stack([np.ones(len(codes)), z.loc[list(codes), list(features)]
                            .to_numpy(float)]) if features else np.ones((len(codes), 1))


def _outside(z: pd.DataFrame, pilots: Sequence[str], targets: Sequence[str],
             features: Sequence[str],
             labels: Mapping[str, str] | None = None) -> tuple[list[bool], list[str]]:
    lo, hi = z.loc[list(pilots), list(features)].min(), z.loc[list(pilots), list(features)].max()
    said = labels or {}
    flags, words = [], []
    for c in targets:
        row = z.loc[c, list(features)]
        out = [f"{said.get(f, f)} {'above' if row[f] > hi[f] else 'below'}" for f in features
               if row[f] > hi[f] + 1e-12 or row[f] < lo[f] - 1e-12]
        flags.append(bool(out))
        words.append(", ".join(out))
    return flags, words


def predict_rollout(pilots: pd.DataFrame, z: pd.DataFrame, targets: Sequence[str], *,
                    features: Sequence[str] = (), range_features: Sequence[str] = (),
                    names: Mapping[str, str] | None = None,
                    weights: pd.Series | None = None, weight_unit: str = "",
                    alpha: float = ALPHA, labels: Mapping[str, str] | None = None) -> Rollout:
    """Predict every target place's effect from the pilots (see the module docstring).

    Parameters
    ----------
    pilots
        code, effect (relative), se.
    z
        Place features (places x features), standardised on the roll-out set.
    targets
        Places to predict for (pilots are left out of them).
    features
        Moderators of the meta-regression (none: the same effect everywhere, pooled).
    range_features
        Features on which a place outside the pilots' range is flagged (default
        ``features``).
    weights
        ``a_j`` per place for the national value (e.g. GVA in £ a year, jobs).
    alpha
        1 - the level of the intervals.
    labels
        Feature id -> its name in words, for the ``outside`` column (default: the ids).
    """
    names = names or {}
    codes = [str(c) for c in pilots["code"]]
    missing = [c for c in [*codes, *targets] if c not in z.index]
    if missing:
        raise KeycitiesError(f"No features for {', '.join(missing[:5])}: they cannot be "
                             "predicted (or used as pilots).")
    targets = [c for c in targets if c not in set(codes)]
    fit = meta_regression(pilots["effect"].to_numpy(float), pilots["se"].to_numpy(float),
                          _design(z, codes, features), ["intercept", *features])
    x_new = _design(z, targets, features)
    mean, half = fit.predict(x_new, alpha)
    flags, words = _outside(z, codes, targets, list(range_features or features), labels)
    places = pd.DataFrame({"code": targets, "name": [names.get(c, c) for c in targets],
                           "predicted": mean, "low": mean - half, "high": mean + half,
                           "extrapolation": flags, "outside": words})
    own = _design(z, codes, features) @ fit.beta
    shrink = fit.tau2 / (fit.tau2 + pilots["se"].to_numpy(float) ** 2)
    pooled = pilots.assign(name=[names.get(c, c) for c in codes], predicted=own,
                           pooled=own + shrink * (pilots["effect"].to_numpy(float) - own))
    national = _national(fit, x_new, targets, weights, weight_unit, alpha)
    return Rollout(fit, alpha, pooled, places, national,
                   notes=_notes(fit, len(codes), features, places, alpha))


def _national(fit: MetaFit, x: np.ndarray, targets: Sequence[str], weights: pd.Series | None,
              unit: str, alpha: float) -> dict[str, Any]:
    if weights is None:
        return {}
    a = weights.reindex(list(targets)).to_numpy(float)
    have = np.isfinite(a)
    a, xs = a[have], x[have]
    total = float(a @ (xs @ fit.beta))
    var = float(a @ xs @ fit.cov @ xs.T @ a + fit.tau2 * (a @ a))
    q = t.ppf(1 - alpha / 2, fit.df) if fit.df >= 1 else norm.ppf(1 - alpha / 2)
    return {"total": total, "low": total - q * np.sqrt(var), "high": total + q * np.sqrt(var),
            "unit": unit, "places": int(have.sum()),
            "left_out": [c for c, h in zip(targets, have, strict=True) if not h]}


def _notes(fit: MetaFit, k: int, features: Sequence[str], places: pd.DataFrame,
           alpha: float) -> list[str]:
    notes = [f"Random-effects meta-regression of {k} pilot effect(s) on "
             + (", ".join(features) if features else "an intercept only (the same expected "
                "effect everywhere)")
             + f"; tau² by {fit.method}: {fit.tau2:.3g} (between-place SD of the true effect "
             f"{np.sqrt(fit.tau2):.1%}); {1 - alpha:.0%} prediction intervals with "
             f"t on {max(fit.df, 0)} degree(s) of freedom (Higgins, Thompson & "
             "Spiegelhalter 2009)."]
    if k == 1:
        notes.append("One pilot: place-to-place variation cannot be estimated and is taken "
                     "as none, so the intervals are too narrow; pilot in more places.")
    elif fit.df < 1:
        notes.append(f"{k} pilots for {len(fit.columns)} coefficients: too few to estimate "
                     "the interval's degrees of freedom; it uses the normal quantile and is "
                     "too narrow.")
    n_out = int(places["extrapolation"].sum())
    if n_out:
        notes.append(f"{n_out} of {len(places)} places lie outside the pilots' range on at "
                     "least one feature: their predictions are extrapolations.")
    notes.append("Assumes the pilots' effects are exchangeable given the features (pilots "
                 "not chosen for their expected effect) and linear in them within range.")
    return notes
