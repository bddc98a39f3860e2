"""Difference-in-differences and event studies for a policy piloted in some places.

Formulation
-----------
Place ``i`` is observed in year ``t`` with outcome ``y_it`` (its logarithm by
default, so that effects read as proportional changes: ``100 (exp(b) - 1)`` %).
A treated place starts at year ``g_i`` (starts may differ: *staggered*
adoption) and ``D_it = 1[t >= g_i]``; comparison places are never treated.
Missing values are left out, never filled.

*Two-way fixed effects* (TWFE)::

    y_it = a_i + l_t + b D_it + e_it,

estimated by OLS (pyfixest ``feols("y ~ treat | place + year")``).  With
staggered starts ``b`` is a weighted average of every 2x2 comparison, some of
which use already-treated places as controls and can carry negative weights, so
``b`` is biased when effects change over time (Goodman-Bacon 2021, J.
Econometrics 225(2); de Chaisemartin & D'Haultfoeuille 2020, AER 110(9)).

*Heterogeneity-robust*: Gardner's two-stage DiD (Gardner 2021, "Two-stage
differences in differences", arXiv:2207.05943), pyfixest ``did2s``: fit
``a_i + l_t`` on untreated observations only (never treated, not yet treated),
subtract them from every observation and regress the residual on ``D_it``.  The
estimate is the average effect over treated place-years, the same number as the
imputation estimator of Borusyak, Jaravel & Spiess (2024, REStud 91(6)).  Its
standard error is the two-stage GMM sandwich clustered by place (Butts &
Gardner 2022, R Journal 14(3), "did2s").

*Event study*: ``y_it = a_i + l_t + sum_{k != -1} b_k 1[t - g_i = k] + e_it``
with the endpoints of the window binned (``k <= lo`` counts as ``lo``, ``k >=
hi`` as ``hi``; Schmidheiny & Siegloch 2023, J. Applied Econometrics 38(5)),
``k = -1`` the reference.  The leads ``b_k, k < -1`` test parallel pre-trends:
``F = b_L' V_L^+ b_L / q`` against ``F(q, G - 1)``.

Inference
---------
Standard errors are clustered by place (CRV1).  For TWFE they are pyfixest's,
which follow fixest: ``V = (N-1)/(N-K) * G/(G-1) * (X'X)^-1 (sum_g X_g'u_g u_g'X_g)
(X'X)^-1`` on the within-transformed data, ``K`` = slopes + number of years
(place effects, nested in the clusters, are not counted).  Every p-value
and interval here uses Student's t with ``G - 1`` degrees of freedom (``G`` =
places), for the two-stage estimate too (pyfixest would use ``N - K`` there).
With few clusters, and above all few treated ones, cluster-robust tests
over-reject (Cameron, Gelbach & Miller 2008, REStat 90(3); MacKinnon & Webb
2017, J. Applied Econometrics 32(2); Conley & Taber 2011, REStat 93(1)), so the
result says when inference is fragile (fewer than 30 clusters or 5 treated).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from keycities._util.plain import jsonable
from keycities.analysis.testbed._did_sample import (
    Sample,
    prepare,
    with_note,
)
from keycities.errors import KeycitiesError

Estimator = Literal["twfe", "did2s"]
_LABELS = {"twfe": "two-way fixed effects (TWFE)",
           "did2s": "Gardner two-stage DiD (did2s), robust to staggered starts"}


@dataclass(frozen=True)
class Estimate:
    """One estimate of the average effect on the treated, with clustered inference.

    ``df`` is the t distribution's degrees of freedom (clusters - 1); when the
    outcome is in logs, ``percent*`` are ``100 (exp(x) - 1)``.
    """

    method: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    df: int
    log: bool

    def row(self) -> dict[str, Any]:
        """Plain fields, with the percent reading when the outcome is in logs."""
        out: dict[str, Any] = {"method": self.method, "label": _LABELS[self.method],
                               "estimate": self.estimate, "se": self.se,
                               "ci_low": self.ci_low, "ci_high": self.ci_high,
                               "p_value": self.p_value, "df": self.df}
        if self.log:
            out |= {f"percent{s}": 100.0 * float(np.expm1(out[k]))
                    for s, k in (("", "estimate"), ("_low", "ci_low"), ("_high", "ci_high"))}
        return out


@dataclass(frozen=True)
class DidResult:
    """Average effect of the policy on the treated places, by TWFE and by a robust method.

    ``preferred`` names the estimate to quote: ``"did2s"`` when starts are
    staggered (TWFE is then biased by already-treated comparisons), otherwise
    ``"twfe"``.
    """

    twfe: Estimate
    robust: Estimate
    sample: Sample
    level: float

    @property
    def preferred(self) -> str:
        """The method to quote (see the class docstring)."""
        return "did2s" if self.sample.staggered else "twfe"

    @property
    def effect(self) -> Estimate:
        """The preferred estimate."""
        return self.robust if self.preferred == "did2s" else self.twfe

    def to_frame(self) -> pd.DataFrame:
        """One row per method: estimate, se, ci_low, ci_high, p_value, df (+ percent)."""
        return pd.DataFrame([self.twfe.row(), self.robust.row()])

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON: both estimates, the preferred one, the sample and notes."""
        return jsonable({"estimates": self.to_frame(), "preferred": self.preferred,
                         "effect": self.effect.row(), "level": self.level,
                         "outcome": "log" if self.sample.log else "level",
                         "cluster": "place", "sample": self.sample.payload()})


@dataclass(frozen=True)
class PretrendTest:
    """Joint Wald test that every lead (event time < -1) is zero: ``F(df1, df2)``."""

    statistic: float
    df1: int
    df2: int
    p_value: float
    leads: tuple[int, ...]


@dataclass(frozen=True)
class EventStudy:
    """Effects by event time (years since start), the reference year -1 fixed at 0.

    ``coefs`` has one row per event time in the window: event_time, estimate,
    se, ci_low, ci_high, p_value, n_obs (treated place-years in that bin),
    n_places, reference (bool; its estimate is 0 by construction, the rest NaN).
    """

    coefs: pd.DataFrame
    window: tuple[int, int]
    estimator: str
    pretrend: PretrendTest | None
    sample: Sample
    level: float
    reference: int = -1

    def to_frame(self) -> pd.DataFrame:
        """The coefficients (see :attr:`coefs`)."""
        return self.coefs.copy()

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON: coefficients, pre-trend test, sample and notes."""
        pre = None if self.pretrend is None else asdict(self.pretrend)
        return jsonable({"coefs": self.coefs, "window": list(self.window),
                         "estimator": self.estimator, "label": _LABELS[self.estimator],
                         "reference": self.reference, "binned_endpoints": True,
                         "pretrend": pre, "level": self.level, "cluster": "place",
                         "outcome": "log" if self.sample.log else "level",
                         "sample": self.sample.payload()})



def _inference(beta: np.ndarray, se: np.ndarray, df: int, level: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interval bounds and two-sided p-values from Student's t with ``df`` d.o.f."""
    q = stats.t.ppf(0.5 + level / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.t.sf(np.abs(beta / se), df)
    return beta - q * se, beta + q * se, p


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise KeycitiesError(f"level={level} must be between 0 and 1, e.g. 0.95.")


def _estimate(method: str, beta: float, se: float, df: int, level: float,
              log: bool) -> Estimate:
    lo, hi, p = _inference(np.array([beta]), np.array([se]), df, level)
    return Estimate(method=method, estimate=float(beta), se=float(se), ci_low=float(lo[0]),
                    ci_high=float(hi[0]), p_value=float(p[0]), df=df, log=log)


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence pyfixest's own use of deprecated pandas API (not the user's concern)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _fit(long: pd.DataFrame, regressors: Sequence[str], estimator: Estimator
         ) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and their covariance clustered by place, via pyfixest: TWFE
    (``feols``, CRV1) or Gardner's two stages (``did2s``, GMM sandwich).

    pyfixest has no public accessor for the covariance matrix: ``_vcov`` is the
    attribute its own summaries read.
    """
    import pyfixest as pf  # slow to import: only when estimating

    rhs = " + ".join(regressors)
    with _quiet():
        if estimator == "twfe":
            fit = pf.feols(f"y ~ {rhs} | place + year", data=long, vcov={"CRV1": "place"},
                           fixef_rm="none")
        else:
            fit = pf.did2s(long, yname="y", first_stage="~ 0 | place + year",
                           second_stage=f"~ {rhs}", treatment="post", cluster="place")
    coef = fit.coef()
    missing = [r for r in regressors if r not in coef.index]
    if missing:
        raise KeycitiesError(f"The effect is not identified ({missing} collinear with the "
                             "place and year effects): the treated and comparison places "
                             "need overlapping years before and after the starts.")
    return coef.loc[list(regressors)].to_numpy(float), np.asarray(fit._vcov, dtype=float)


def did(panel: pd.DataFrame, starts: Mapping[str, int], *,
        controls: Sequence[str] | None = None, log: bool | None = None,
        level: float = 0.95) -> DidResult:
    """Difference-in-differences: the policy's average effect on the treated places.

    Parameters
    ----------
    panel
        Outcome by place (index: place codes) and year (columns: int years);
        NaN = not observed (left out, never filled).
    starts
        Treated place -> first treated year (starts may differ).
    controls
        Comparison places (never treated); default every untreated row of ``panel``.
    log
        Estimate on ``log(y)`` so effects read as proportional changes; default
        ``True`` when every value is positive (the result says which).
    level
        Confidence level of the intervals.

    Returns
    -------
    DidResult
        The TWFE estimate (``feols("y ~ treat | place + year")``, CRV1 by
        place), Gardner's two-stage estimate (pyfixest ``did2s``), the one to
        quote, sample sizes and notes (including when inference is fragile).

    Raises
    ------
    KeycitiesError
        Unknown treated or control place, a start outside the panel's years or
        with no pre-period (fewer than ``MIN_PRE`` observed years before it), no
        controls, an all-missing outcome, values <= 0 with ``log=True``.
    """
    _check_level(level)
    long, sample = prepare(panel, starts, controls, log)
    df = sample.n_clusters - 1
    est = {}
    methods: tuple[Estimator, ...] = ("twfe", "did2s")
    for method in methods:
        b, v = _fit(long, ["treat"], method)
        est[method] = _estimate(method, b[0], float(np.sqrt(v[0, 0])), df, level, sample.log)
    return DidResult(twfe=est["twfe"], robust=est["did2s"], sample=sample, level=level)


def _event_name(k: int) -> str:
    return f"lead{-k}" if k < 0 else f"lag{k}"


def _event_dummies(long: pd.DataFrame, window: tuple[int, int], reference: int
                   ) -> tuple[pd.DataFrame, list[int], pd.DataFrame]:
    """Binned event-time dummies (0 for comparison places), the event times kept, counts."""
    lo, hi = window
    rel = long["rel"].clip(lower=lo, upper=hi)
    long = long.copy()
    kept: list[int] = []
    counts = []
    for k in range(lo, hi + 1):
        hit = (rel == k).to_numpy()
        counts.append({"event_time": k, "n_obs": int(hit.sum()),
                       "n_places": int(long.loc[hit, "place"].nunique())})
        if k != reference and hit.any():
            long[_event_name(k)] = hit.astype(float)
            kept.append(k)
    return long, kept, pd.DataFrame(counts)


def _pretrend(beta: np.ndarray, vcov: np.ndarray, kept: list[int], df2: int
              ) -> PretrendTest | None:
    idx = [i for i, k in enumerate(kept) if k < -1]
    if not idx:
        return None
    b, v = beta[idx], vcov[np.ix_(idx, idx)]
    q = int(np.linalg.matrix_rank(v))
    if q == 0:
        return None
    f = float(b @ np.linalg.pinv(v) @ b) / q
    return PretrendTest(statistic=f, df1=q, df2=df2, p_value=float(stats.f.sf(f, q, df2)),
                        leads=tuple(kept[i] for i in idx))


def event_study(panel: pd.DataFrame, starts: Mapping[str, int], *,
                window: tuple[int, int] = (-5, 5), controls: Sequence[str] | None = None,
                log: bool | None = None, estimator: Estimator = "twfe",
                level: float = 0.95) -> EventStudy:
    """Effects by years since the start, with a joint test of the pre-trends.

    Parameters
    ----------
    panel, starts, controls, log, level
        As in :func:`did`.
    window
        ``(lo, hi)`` event times with ``lo <= -1`` and ``hi >= 0`` (``lo < -1``
        for a pre-trend test); years before ``lo`` / after ``hi`` are binned
        into the endpoints.  Event time -1 is the reference (0 by construction).
    estimator
        ``"twfe"``: relative-time dummies with place and year effects (pyfixest
        ``feols``, CRV1 by place); ``"did2s"``: the same dummies in Gardner's
        second stage (robust to staggered starts).  Its leads are the treated
        places' mean first-stage residuals in their own pre-period, which also
        fitted their place effects: they show the shape of a pre-trend, not
        its level, and sum to about zero over the pre-period.

    Returns
    -------
    EventStudy
        Coefficients per event time, the pre-trend F test on the leads, the
        sample and notes.  Event times with no treated observation are left out
        (NaN) and named in the notes.

    Raises
    ------
    KeycitiesError
        As :func:`did`, and for a window that does not contain -1 and 0 or an
        unknown estimator.
    """
    lo, hi = (int(w) for w in window)
    if not lo <= -1 < 0 <= hi:
        raise KeycitiesError(f"window={window} must contain -1 (the reference) and 0 (the "
                             "start year), e.g. (-5, 5).")
    if estimator not in _LABELS:
        raise KeycitiesError(f"Unknown estimator {estimator!r}: use 'twfe' or 'did2s'.")
    _check_level(level)
    long, sample = prepare(panel, starts, controls, log)
    long, kept, counts = _event_dummies(long, (lo, hi), -1)
    if not any(k >= 0 for k in kept):
        raise KeycitiesError("No treated observation in the event window: widen the window.")
    names = [_event_name(k) for k in kept]
    beta, vcov = _fit(long, names, estimator)
    df = sample.n_clusters - 1
    se = np.sqrt(np.diag(vcov))
    ci_low, ci_high, p = _inference(beta, se, df, level)
    est = pd.DataFrame({"event_time": kept, "estimate": beta, "se": se, "ci_low": ci_low,
                        "ci_high": ci_high, "p_value": p})
    coefs = counts.merge(est, on="event_time", how="left")
    ref = coefs["event_time"] == -1
    coefs.loc[ref, "estimate"] = 0.0
    coefs["reference"] = ref
    coefs = coefs[["event_time", "estimate", "se", "ci_low", "ci_high", "p_value", "n_obs",
                   "n_places", "reference"]]
    empty = [int(k) for k in coefs.loc[(coefs["n_obs"] == 0) & ~ref, "event_time"]]
    if empty:
        sample = with_note(sample, f"No treated observation at event time(s) {empty}: "
                                    "no estimate there.")
    pretrend = _pretrend(beta, vcov, kept, df)
    if pretrend is None:
        sample = with_note(sample, "No lead before event time -1 to test pre-trends: widen "
                                    "the window or add earlier years.")
    return EventStudy(coefs=coefs, window=(lo, hi), estimator=estimator, pretrend=pretrend,
                      sample=sample, level=level)
