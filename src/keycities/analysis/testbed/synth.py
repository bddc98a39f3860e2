"""Synthetic control for a pilot in one place (Abadie, Diamond & Hainmueller 2010).

Formulation
-----------
``panel`` holds one annual outcome ``Y_it`` (places x years).  A policy starts
in place ``1`` in year ``start``; the other places (the donor pool) are not
treated.  For ``k`` predictors (pre-period outcome values or averages, and
covariates supplied by the caller), measured for every unit and divided by
their standard deviation across the treated place and the donors (as R
``Synth`` does), the synthetic control is a convex combination of donors

    W(V) = argmin_w (X1 - X0 w)' V (X1 - X0 w),  w >= 0,  sum w = 1,

with ``V = diag(v)``, ``v >= 0``, ``sum v = 1``.  ``v`` is given (``"equal"`` or a
vector) or chosen by the nested rule of ADH 2010 / Abadie & Gardeazabal 2003:
minimise the mean squared prediction error of the outcome over the pre-period
years ``pre_years``.  The numerical methods (Wolfe's exact active-set QP, the
gradient-based multistart search for ``v`` with a lower-bound certificate) are
in :mod:`keycities.analysis.testbed.synth_solver`.

The effect path is the gap ``Y_1t - sum_j w_j Y_jt``; fit quality is the
pre-period RMSPE, and ``ratio = post RMSPE / pre RMSPE`` is the statistic of
the placebo tests (ADH 2010, sec. 4; Abadie, Diamond & Hainmueller 2015,
"Comparative politics and the synthetic control method", AJPS 59(2)) in
:mod:`keycities.analysis.testbed.inference`.

Predictors
----------
``outcome_predictors`` says which outcome values enter ``X``: ``"each"``
(every pre-year, the default when no covariates are given), ``"mean"`` (the
pre-period mean, the default with covariates: with every pre-year outcome as a
predictor the covariates get no weight, Kaul et al. 2022), ``"none"``, a list
of years, or ``{label: years}`` (each label the mean over its years).
``predictors`` are caller-supplied covariates, one row per place, already
averaged over the pre-period.

Caveat (interpolation).  With many donors and few predictors the treated place
may lie inside the donors' convex hull: the fit is then exact and the weights
are not unique (Abadie & L'Hour 2021, "A penalized synthetic control estimator
for disaggregated data", JASA 116).  We then take, among the exact fits, the
one with the smallest pre-period MSPE.  If the pre-period RMSPE itself is zero
(at most ``PERFECT_FIT`` of the outcome's level) the RMSPE ratio is infinite
and the placebo p-value is undefined (NaN).  :class:`SynthFit` says so
(``interpolates``, ``notes``); restricting the donor pool to similar places
(:func:`similar_donors`; Abadie 2021, "Using synthetic controls", JEL 59(2),
sec. 7) is the usual remedy.  On GVA per filled job for the ~300 English LADs
with 13 pre-years, 11% of places fit exactly from all the others.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.analysis.testbed.synth_solver import QPResult, choose_v, fixed_v, regression_start
from keycities.errors import KeycitiesError, UnknownPlaceError

MIN_DONORS = 2
MIN_PRE_YEARS = 2
RANDOM_STARTS = 2
"""Random Dirichlet starting points of the nested ``v`` search (after equal and regression)."""
PERFECT_FIT = 1e-9
"""Pre-period RMSPE at or below this fraction of the treated's RMS outcome counts as zero."""

OutcomePredictors = str | Sequence[int] | Mapping[str, Sequence[int]] | None
VRule = str | Sequence[float] | Mapping[str, float] | np.ndarray


# ------------------------------------------------------------------ result
@dataclass(frozen=True, eq=False)
class SynthFit:
    """A synthetic control fit for one treated place.

    Attributes
    ----------
    weights
        Donor weights (every usable donor; zeros included; sum 1).
    v
        Predictor weights (the diagonal of ``V``, sum 1), on standardised predictors.
    balance
        One row per predictor: treated, synthetic, donor_mean (original units), v.
    observed, synthetic, gap
        By year (``years``): the treated place's outcome, its synthetic control
        and the difference.
    pre_rmspe, post_rmspe, ratio
        Root mean squared gap over ``pre_years`` and over the years from
        ``start``; ``ratio = post / pre`` (``inf`` when the pre-fit is exact).
    loss, lower_bound, v_optimal
        Pre-period MSPE of the fit; the smallest MSPE any donor weights could
        reach; whether ``loss`` attains it (the chosen ``v`` is then optimal).
    interpolates
        The predictors are matched exactly (treated inside the donors' hull):
        the weights are one of many exact solutions.
    dropped
        Donors left out: code, reason.
    """

    treated: str
    start: int
    donors: tuple[str, ...]
    weights: pd.Series
    v: pd.Series
    balance: pd.DataFrame
    years: tuple[int, ...]
    pre_years: tuple[int, ...]
    observed: pd.Series
    synthetic: pd.Series
    gap: pd.Series
    pre_rmspe: float
    post_rmspe: float
    ratio: float
    loss: float
    lower_bound: float
    v_optimal: bool
    v_method: str
    interpolates: bool
    dropped: pd.DataFrame
    notes: tuple[str, ...] = ()

    @property
    def post_years(self) -> tuple[int, ...]:
        """Years from ``start`` on."""
        return tuple(y for y in self.years if y >= self.start)

    @property
    def average_effect(self) -> float:
        """Mean gap over the post-period (outcome units)."""
        return float(self.gap[list(self.post_years)].mean())

    @property
    def average_relative_effect(self) -> float:
        """Mean of ``gap / synthetic`` over the post-period (0.05 = +5%)."""
        post = list(self.post_years)
        return float((self.gap[post] / self.synthetic[post]).mean())

    def effects(self) -> pd.DataFrame:
        """One row per year: year, observed, synthetic, gap, relative (gap / synthetic), post."""
        years = list(self.years)
        return pd.DataFrame({
            "year": years, "observed": self.observed.to_numpy(),
            "synthetic": self.synthetic.to_numpy(), "gap": self.gap.to_numpy(),
            "relative": (self.gap / self.synthetic).to_numpy(),
            "post": [y >= self.start for y in years]})

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        weights = self.weights[self.weights > 0].sort_values(ascending=False)
        return jsonable({
            "treated": self.treated, "start": self.start, "pre_years": list(self.pre_years),
            "donors": len(self.donors),
            "weights": [{"code": c, "weight": w} for c, w in weights.items()],
            "v": [{"predictor": p, "v": x} for p, x in self.v.items()],
            "balance": self.balance.reset_index(names="predictor"),
            "effects": finite_frame(self.effects()), "pre_rmspe": self.pre_rmspe,
            "post_rmspe": self.post_rmspe, "ratio": _finite(self.ratio),
            "average_effect": self.average_effect,
            "average_relative_effect": self.average_relative_effect,
            "loss": self.loss, "lower_bound": self.lower_bound, "v_optimal": self.v_optimal,
            "v_method": self.v_method, "interpolates": self.interpolates,
            "dropped": self.dropped, "notes": list(self.notes)})


def _finite(x: float) -> float | None:
    """JSON has no infinity: an infinite ratio (exact pre-fit) is written as null."""
    return x if np.isfinite(x) else None


def finite_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with +-inf replaced by NaN (null in JSON)."""
    return frame.replace([np.inf, -np.inf], np.nan)


# ------------------------------------------------------------------ design
@dataclass(frozen=True, eq=False)
class _Design:
    """Validated arrays for one study: the treated place is column 0 of ``y`` and ``x``."""

    codes: tuple[str, ...]
    start: int
    years: tuple[int, ...]
    pre: np.ndarray
    post: np.ndarray
    y: np.ndarray
    x: np.ndarray
    names: tuple[str, ...]
    outcome_row: np.ndarray
    starts: tuple[np.ndarray, ...]
    v_rule: str | np.ndarray
    dropped: tuple[tuple[str, str], ...]

    @property
    def pre_years(self) -> tuple[int, ...]:
        return tuple(y for y, p in zip(self.years, self.pre, strict=True) if p)


@dataclass(frozen=True, eq=False)
class _Core:
    """Arrays of one fit: dense donor weights, v (by kept predictor), synthetic path."""

    donor_cols: np.ndarray
    weights: np.ndarray
    v: np.ndarray
    kept: np.ndarray
    synthetic: np.ndarray
    loss: float
    lower_bound: float
    v_optimal: bool
    v_method: str
    inner: QPResult


def _years(panel: pd.DataFrame) -> list[int]:
    if not isinstance(panel, pd.DataFrame) or panel.empty:
        raise KeycitiesError("panel must be a non-empty DataFrame: places as rows, years as "
                             "columns.")
    try:
        years = [int(c) for c in panel.columns]
    except (TypeError, ValueError):
        raise KeycitiesError("panel columns must be years (integers), e.g. 2002 ... 2022; "
                             f"got {list(panel.columns)[:5]}.") from None
    if len(set(years)) != len(years) or years != sorted(years):
        raise KeycitiesError("panel columns must be distinct years in increasing order.")
    if panel.index.has_duplicates:
        dup = panel.index[panel.index.duplicated()].unique()[:5].tolist()
        raise KeycitiesError(f"panel has repeated places {dup}; give one row per place.")
    return years


def _check_treated(codes: Sequence[str], treated: str) -> None:
    if treated not in codes:
        raise UnknownPlaceError(treated, difflib.get_close_matches(str(treated),
                                                                   [str(c) for c in codes], 3))


def _pre_years(years: list[int], start: int, pre_years: Sequence[int] | None) -> list[int]:
    if not years[0] < start <= years[-1]:
        raise KeycitiesError(
            f"start {start} is outside the panel's years {years[0]}-{years[-1]}: the policy "
            "must start after the first year and no later than the last, so that there are "
            "pre- and post-period years.")
    pre = [y for y in years if y < start] if pre_years is None else sorted({int(y) for y in
                                                                             pre_years})
    bad = [y for y in pre if y >= start or y not in years]
    if bad:
        raise KeycitiesError(f"pre_years {bad} are not panel years before the start {start}.")
    if len(pre) < MIN_PRE_YEARS:
        raise KeycitiesError(f"Only {len(pre)} pre-period year(s); a synthetic control needs "
                             f"at least {MIN_PRE_YEARS}: choose a later start or more pre_years.")
    return pre


def _outcome_spec(spec: OutcomePredictors, pre: list[int], years: list[int], start: int,
                  covariates: bool) -> dict[str, list[int]]:
    """Outcome predictors as {name: years averaged}."""
    if spec is None:
        spec = "mean" if covariates else "each"
    if isinstance(spec, str):
        if spec not in ("each", "mean", "none"):
            raise KeycitiesError(f"outcome_predictors={spec!r}: use 'each', 'mean', 'none', a "
                                 "list of years or a {label: years} mapping.")
        return ({f"outcome {y}": [y] for y in pre} if spec == "each" else
                {f"outcome mean {pre[0]}-{pre[-1]}": pre} if spec == "mean" else {})
    out = ({str(k): [int(y) for y in ys] for k, ys in spec.items()} if isinstance(spec, Mapping)
           else {f"outcome {int(y)}": [int(y)] for y in spec})
    for name, ys in out.items():
        bad = [y for y in ys if y >= start or y not in years]
        if bad or not ys:
            raise KeycitiesError(f"Outcome predictor {name!r}: years {bad or ys} are not panel "
                                 f"years before the start {start}.")
    return out


def _covariates(predictors: pd.DataFrame | None, treated: str, names: set[str]
                ) -> pd.DataFrame | None:
    if predictors is None:
        return None
    if not isinstance(predictors, pd.DataFrame) or predictors.index.has_duplicates:
        raise KeycitiesError("predictors must be a DataFrame with one row per place.")
    clash = names & {str(c) for c in predictors.columns}
    if clash:
        raise KeycitiesError(f"Predictor name(s) {sorted(clash)} clash with outcome predictors; "
                             "rename them.")
    try:
        cov = predictors.astype(float)
    except (TypeError, ValueError):
        raise KeycitiesError("predictors must be numeric.") from None
    cov.columns = [str(c) for c in cov.columns]
    if treated not in cov.index or cov.loc[treated].isna().any():
        raise KeycitiesError(f"predictors have no complete row for the treated place {treated}; "
                             "supply every predictor for it.")
    return cov


def _donor_pool(codes: Sequence[str], treated: str, donors: Sequence[str] | None,
                exclude: Sequence[str]) -> list[str]:
    if donors is None:
        skip = {treated, *exclude}
        return [c for c in codes if c not in skip]
    pool = list(dict.fromkeys(donors))
    unknown = [c for c in pool if c not in set(codes)]
    if unknown:
        raise KeycitiesError(f"Donor(s) {unknown[:5]} are not in the panel.")
    if treated in pool:
        raise KeycitiesError(f"The treated place {treated} is in its own donor pool; remove it.")
    return [c for c in pool if c not in set(exclude)]


def _missing(row: pd.Series | pd.DataFrame) -> str:
    miss = [str(y) for y in row.index[np.asarray(row.isna()).ravel()]]
    return ", ".join(miss[:6]) + (" ..." if len(miss) > 6 else "")


def _prepare(panel: pd.DataFrame, treated: str, start: int, *,
             donors: Sequence[str] | None = None, predictors: pd.DataFrame | None = None,
             pre_years: Sequence[int] | None = None,
             outcome_predictors: OutcomePredictors = None, v: VRule = "nested",
             v_starts: int = RANDOM_STARTS, rng: np.random.Generator | None = None,
             exclude: Sequence[str] = ()) -> _Design:
    """Validate the inputs and build the arrays of one study (see :func:`fit`)."""
    years = _years(panel)
    panel = panel.set_axis(years, axis=1)
    codes = [str(c) for c in panel.index]
    panel = panel.set_axis(codes, axis=0)
    _check_treated(codes, treated)
    start = int(start)
    pre = _pre_years(years, start, pre_years)
    spec = _outcome_spec(outcome_predictors, pre, years, start, predictors is not None)
    cov = _covariates(predictors, treated, set(spec))
    post = [y for y in years if y >= start]
    used = sorted(set(pre) | set(post) | {y for ys in spec.values() for y in ys})
    values = panel[used].astype(float)
    if values.loc[treated].isna().any():
        raise KeycitiesError(f"The treated place {treated} has no outcome for "
                             f"{_missing(values.loc[treated])}; choose pre_years and a start "
                             "that avoid those years, or supply the data.")
    candidates = _donor_pool(codes, treated, donors, exclude)
    bad_y = values.loc[candidates].isna().any(axis=1)
    bad_x = (cov.reindex(candidates).isna().any(axis=1) if cov is not None
             else pd.Series(False, index=candidates))
    pool = [c for c in candidates if not (bad_y[c] or bad_x[c])]
    dropped = [(c, f"no outcome for {_missing(values.loc[c])}") if bad_y[c] else
               (c, "missing predictor(s): " + ("no row" if cov is None or c not in cov.index
                                               else _missing(cov.loc[c])))
               for c in candidates if bad_y[c] or bad_x[c]]
    if len(pool) < MIN_DONORS:
        raise KeycitiesError(f"Only {len(pool)} usable donor(s) for {treated}; at least "
                             f"{MIN_DONORS} are needed. {len(dropped)} were dropped for missing "
                             "data; widen the donor pool or fill the data.")
    units = [treated, *pool]
    y = values.loc[units].to_numpy().T
    rows = [values.loc[units, ys].to_numpy().mean(axis=1) for ys in spec.values()]
    names = list(spec)
    if cov is not None:
        rows += [cov.loc[units, c].to_numpy() for c in cov.columns]
        names += list(cov.columns)
    if not rows:
        raise KeycitiesError("No predictors: give covariates or outcome_predictors.")
    x = np.vstack(rows)
    row_of = {spec[n][0]: i for i, n in enumerate(names) if n in spec and len(spec[n]) == 1}
    pre_mask = np.array([yy in set(pre) for yy in used])
    outcome_row = np.array([row_of.get(yy, -1) for yy in used if yy in set(pre)])
    rng = rng if rng is not None else np.random.default_rng(0)
    random_starts = tuple(rng.dirichlet(np.ones(len(names)), size=v_starts)) if v_starts else ()
    return _Design(tuple(units), start, tuple(used), pre_mask,
                   np.array([yy >= start for yy in used]), y, x, tuple(names), outcome_row,
                   random_starts, _v_rule(v, names), tuple(dropped))


def _v_rule(v: VRule, names: Sequence[str]) -> str | np.ndarray:
    if isinstance(v, str):
        if v not in ("nested", "equal"):
            raise KeycitiesError(f"v={v!r}: use 'nested', 'equal' or one weight per predictor.")
        return v
    if isinstance(v, Mapping):
        unknown = sorted(set(map(str, v)) - set(names))
        if unknown:
            raise KeycitiesError(f"v names unknown predictor(s) {unknown}; predictors: "
                                 f"{', '.join(names)}.")
        arr = np.array([float(v.get(n, 0.0)) for n in names])
    else:
        arr = np.asarray(v, dtype=float).ravel()
    if len(arr) != len(names):
        raise KeycitiesError(f"v has {len(arr)} value(s) but there are {len(names)} "
                             f"predictors ({', '.join(names)}).")
    if not np.isfinite(arr).all() or (arr < 0).any() or not arr.sum() > 0:
        raise KeycitiesError("v must be non-negative, finite and not all zero.")
    return arr / arr.sum()


# ------------------------------------------------------------------ core solve
def _solve(d: _Design, treated_col: int, donor_cols: np.ndarray, scale_cols: np.ndarray
           ) -> _Core:
    """Fit unit ``treated_col`` from ``donor_cols``; predictors scaled over ``scale_cols``."""
    rule = d.v_rule
    sd = d.x[:, scale_cols].std(axis=1, ddof=1)
    kept = np.flatnonzero(sd > 1e-12 * np.maximum(1.0, np.abs(d.x[:, scale_cols]).max(axis=1)))
    if not len(kept):
        raise KeycitiesError("Every predictor is constant across the places; nothing to match.")
    xs = d.x[kept] / sd[kept, None]
    x0, x1 = xs[:, donor_cols], xs[:, treated_col]
    z = d.y[d.pre]
    z0, z1 = z[:, donor_cols], z[:, treated_col]
    if isinstance(rule, str) and rule == "nested":
        choice = choose_v(x0, x1, z0, z1, starts=_starts(d, kept, xs, z, treated_col,
                                                         donor_cols),
                          exact=_exact_v(d, kept, sd))
        v, qp, loss, lb, opt, method = (choice.v, choice.qp, choice.loss, choice.lower_bound,
                                        choice.optimal, choice.method)
    else:
        v = np.full(len(kept), 1.0 / len(kept)) if isinstance(rule, str) else rule[kept]
        v = v / v.sum() if v.sum() > 0 else np.full(len(kept), 1.0 / len(kept))
        qp, loss = fixed_v(x0, x1, z0, z1, v)
        lb, opt = float("nan"), False
        method = "equal" if isinstance(rule, str) else "given"
    w = qp.dense(len(donor_cols))
    return _Core(donor_cols, w, v, kept, d.y[:, donor_cols] @ w, loss, lb, opt, method, qp)


def _starts(d: _Design, kept: np.ndarray, xs: np.ndarray, z: np.ndarray, treated_col: int,
            donor_cols: np.ndarray) -> list[np.ndarray]:
    k = len(kept)
    out = [np.full(k, 1.0 / k)]
    cols = np.r_[treated_col, donor_cols]
    reg = regression_start(xs[:, cols], z[:, cols])
    if reg is not None:
        out.append(reg)
    out += [s[kept] / s[kept].sum() for s in d.starts if s[kept].sum() > 0]
    return out


def _exact_v(d: _Design, kept: np.ndarray, sd: np.ndarray) -> np.ndarray | None:
    """``v`` making the inner objective proportional to the pre-period MSPE, if it exists."""
    rows = d.outcome_row
    if (rows < 0).any() or not np.isin(rows, kept).all():
        return None
    v = np.zeros(len(d.x))
    v[rows] = sd[rows] ** 2
    v = v[kept]
    return v / v.sum()


# ------------------------------------------------------------------ public API
def similar_donors(panel: pd.DataFrame, treated: str, start: int, k: int, *,
                   pre_years: Sequence[int] | None = None,
                   exclude: Sequence[str] = ()) -> list[str]:
    """The ``k`` places whose pre-period outcome path is closest to ``treated``'s.

    Distance: root mean squared difference of the outcome over ``pre_years``
    (default: every year before ``start``); places with a missing value there
    are skipped; ties broken by code.  A donor pool of similar places limits
    interpolation bias and exact fits (Abadie 2021, sec. 7).
    """
    years = _years(panel)
    frame = panel.set_axis(years, axis=1).set_axis([str(c) for c in panel.index], axis=0)
    _check_treated(list(frame.index), treated)
    pre = _pre_years(years, int(start), pre_years)
    if k < MIN_DONORS:
        raise KeycitiesError(f"k={k}: a donor pool needs at least {MIN_DONORS} places.")
    values = frame[pre].astype(float)
    if values.loc[treated].isna().any():
        raise KeycitiesError(f"The treated place {treated} has no outcome for "
                             f"{_missing(values.loc[treated])}.")
    others = values.drop(index=[treated, *[c for c in exclude if c in values.index]]).dropna()
    dist = np.sqrt(((others - values.loc[treated]) ** 2).mean(axis=1))
    order = sorted(zip(dist.to_numpy(), dist.index, strict=True))
    return [str(c) for _, c in order[:k]]


def fit(panel: pd.DataFrame, treated: str, start: int, *,
        donors: Sequence[str] | None = None, predictors: pd.DataFrame | None = None,
        pre_years: Sequence[int] | None = None, outcome_predictors: OutcomePredictors = None,
        v: VRule = "nested", v_starts: int = RANDOM_STARTS,
        rng: np.random.Generator | None = None, exclude: Sequence[str] = ()) -> SynthFit:
    """Synthetic control for ``treated`` with the policy starting in ``start``.

    Parameters
    ----------
    panel : DataFrame
        Places (codes) x years (int columns) of one annual outcome; NaN allowed.
    treated : the treated place's code.
    start : first year of the policy (post-period: years ``>= start``).
    donors : candidate donors (default: every other place).  A donor with any
        missing value in the years used is dropped, with the reason.
    predictors : covariates, one row per place (already pre-period averages).
    pre_years : years whose outcome MSPE the fit minimises (default: all before
        ``start``).
    outcome_predictors : outcome values used as predictors (see module docstring).
    v : ``"nested"`` (ADH), ``"equal"``, or one weight per predictor (array or
        ``{name: weight}``); normalised to sum 1.
    v_starts : random starting points of the nested search (besides equal and regression).
    rng : source of those starting points (default: seeded, reproducible).
    exclude : places never used as donors (e.g. other treated places).

    Returns
    -------
    SynthFit
    """
    d = _prepare(panel, treated, start, donors=donors, predictors=predictors,
                 pre_years=pre_years, outcome_predictors=outcome_predictors, v=v,
                 v_starts=v_starts, rng=rng, exclude=exclude)
    donor_cols = np.arange(1, len(d.codes))
    core = _solve(d, 0, donor_cols, np.arange(len(d.codes)))
    return _result(d, core)


def _rmspe(gap: np.ndarray, mask: np.ndarray) -> float:
    return float(np.sqrt(np.mean(gap[mask] ** 2))) if mask.any() else float("nan")


def _ratio(pre_rmspe: float, post_rmspe: float, level: float) -> float:
    if pre_rmspe <= PERFECT_FIT * level:
        return float("inf")
    return post_rmspe / pre_rmspe


def _result(d: _Design, core: _Core, observed: np.ndarray | None = None) -> SynthFit:
    obs = d.y[:, 0] if observed is None else observed
    gap = obs - core.synthetic
    level = float(np.sqrt(np.mean(obs[d.pre] ** 2)))
    pre_r, post_r = _rmspe(gap, d.pre), _rmspe(gap, d.post)
    donors = tuple(d.codes[i] for i in core.donor_cols)
    names = [d.names[i] for i in core.kept]
    v_all = pd.Series(0.0, index=list(d.names), name="v")
    v_all[names] = core.v
    x0 = d.x[:, core.donor_cols]
    balance = pd.DataFrame({"treated": d.x[:, 0], "synthetic": x0 @ core.weights,
                            "donor_mean": x0.mean(axis=1), "v": v_all.to_numpy()},
                           index=pd.Index(list(d.names), name="predictor"))
    interpolates = core.inner.exact or pre_r <= PERFECT_FIT * level
    notes = _notes(d, core, interpolates, pre_r <= PERFECT_FIT * level)
    years = list(d.years)
    return SynthFit(
        treated=d.codes[0], start=d.start, donors=donors,
        weights=pd.Series(core.weights, index=list(donors), name="weight"), v=v_all,
        balance=balance, years=tuple(years), pre_years=d.pre_years,
        observed=pd.Series(obs, index=years, name="observed"),
        synthetic=pd.Series(core.synthetic, index=years, name="synthetic"),
        gap=pd.Series(gap, index=years, name="gap"), pre_rmspe=pre_r, post_rmspe=post_r,
        ratio=_ratio(pre_r, post_r, level), loss=core.loss, lower_bound=core.lower_bound,
        v_optimal=core.v_optimal, v_method=core.v_method, interpolates=bool(interpolates),
        dropped=pd.DataFrame(list(d.dropped), columns=["code", "reason"]), notes=tuple(notes))


def _notes(d: _Design, core: _Core, interpolates: bool, exact_fit: bool) -> list[str]:
    notes = []
    constant = [d.names[i] for i in range(len(d.names)) if i not in set(core.kept)]
    if constant:
        notes.append(f"Constant predictor(s) {constant} carry no information and get v = 0.")
    if interpolates:
        notes.append("The treated place lies inside the donors' convex hull on the weighted "
                     "predictors: the fit is exact and the weights are one of many exact "
                     "solutions (Abadie & L'Hour 2021). Consider a smaller donor pool of "
                     "similar places.")
    if exact_fit:
        notes.append("The pre-period fit is exact, so the post/pre RMSPE ratio is infinite and "
                     "the placebo p-value is undefined (NaN).")
    if core.v_method.startswith("gradient") and not core.v_optimal:
        notes.append(f"Nested V: pre-period MSPE {core.loss:.6g} vs lower bound "
                     f"{core.lower_bound:.6g} (no V can do better than the bound).")
    if d.dropped:
        notes.append(f"{len(d.dropped)} donor(s) dropped for missing data (see dropped).")
    return notes
