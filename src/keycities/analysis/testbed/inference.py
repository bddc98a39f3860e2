"""Inference and design for synthetic controls: placebos, robustness, detectable effects.

Several places with staggered starts: :mod:`keycities.analysis.testbed.staggered`.

Placebo in space (ADH 2010, sec. 4; Abadie 2021, sec. 6.1)
    Each donor in turn is treated as if it had the policy: it is fitted from
    the other donors (the treated place is never a donor of a placebo) with
    the same rule for ``V``.  The statistic is ``r = post RMSPE / pre RMSPE``;
    the p-value is the share of units, the treated place included, with
    ``r >= r_treated``: ``p = #{u: r_u >= r_1} / (J + 1)`` (so never below
    ``1 / (J + 1)``).  ``max_pre_ratio = m`` keeps only placebos whose pre-period
    RMSPE is at most ``m`` times the treated place's (ADH 2010 use MSPE cut-offs
    of 20, 5 and 2 times; here the multiple is on the RMSPE).
Placebo in time
    The policy is pretended to start at an earlier year inside the pre-period;
    the panel is cut at the real start, so only pre-policy data are used.
Leave one out (Abadie, Diamond & Hainmueller 2015, sec. 4)
    Each donor with positive weight is removed in turn and the fit is redone.
Minimum detectable effect (:func:`detectable_effect`)
    A multiplicative effect ``(1 + e)`` is injected into the treated place's
    post-period outcome for each ``e`` of a grid; the treated fit and its
    placebo p-value are recomputed (the placebo runs do not involve the
    treated place, so they are computed once).  The MDE is the smallest ``e``
    of the grid from which on every larger ``e`` is detected (``p <= alpha``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.analysis._parallel import parallel_map
from keycities.analysis.testbed.synth import (
    SynthFit,
    _Design,
    _prepare,
    _ratio,
    _result,
    _rmspe,
    _solve,
    finite_frame,
)
from keycities.errors import KeycitiesError

Progress = Callable[[int, int], None]
DEFAULT_EFFECTS: tuple[float, ...] = tuple(round(0.01 * i, 2) for i in range(1, 21))
DRAWS = 5000
_CHUNK = 8


# ------------------------------------------------------------------ placebo in space
@dataclass(frozen=True, eq=False)
class Placebos:
    """Placebo-in-space test for one treated place.

    ``units`` has one row per unit (treated first): code, treated, pre_rmspe,
    post_rmspe, ratio, average_effect, relative_effect, kept (used in the
    p-value).  ``gaps`` holds every unit's gap path (years x codes).
    """

    fit: SynthFit
    units: pd.DataFrame
    gaps: pd.DataFrame
    p_value: float
    max_pre_ratio: float | None
    seconds: float

    @property
    def placebos(self) -> int:
        """Placebo runs used in the p-value (treated excluded)."""
        return int(self.units["kept"].sum()) - 1

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        units = finite_frame(self.units)
        return jsonable({"treated": self.fit.treated, "start": self.fit.start,
                         "p_value": self.p_value, "placebos": self.placebos,
                         "max_pre_ratio": self.max_pre_ratio, "seconds": self.seconds,
                         "units": units, "fit": self.fit.payload()})


def _unit_stats(d: _Design, col: int, synthetic: np.ndarray) -> dict[str, float]:
    obs = d.y[:, col]
    gap = obs - synthetic
    pre, post = _rmspe(gap, d.pre), _rmspe(gap, d.post)
    level = float(np.sqrt(np.mean(obs[d.pre] ** 2)))
    return {"pre_rmspe": pre, "post_rmspe": post, "ratio": _ratio(pre, post, level),
            "average_effect": float(gap[d.post].mean()),
            "relative_effect": float((gap[d.post] / synthetic[d.post]).mean())}


def _placebo_fit(d: _Design, j: int) -> tuple[int, np.ndarray]:
    """Synthetic path of placebo unit ``j`` (donors = the other donors; col 0 is out)."""
    pool = np.arange(1, len(d.codes))
    return j, _solve(d, j, pool[pool != j], pool).synthetic


def _run_placebos(d: _Design, workers: int, progress: Progress | None,
                  cluster: str | None = None) -> dict[int, np.ndarray]:
    """Every donor's placebo fit, through the one parallel map (local processes or Dask)."""
    cols = list(range(1, len(d.codes)))
    return dict(parallel_map(_placebo_fit, cols, shared=d, workers=workers, cluster=cluster,
                             chunk=_CHUNK, progress=progress))


def _p_value(ratio: float, placebo_ratios: np.ndarray) -> float:
    """Share of units (treated included) whose statistic is at least the treated's.

    NaN when the treated statistic is infinite (an exact pre-period fit): the
    rank then says how many placebos also fit exactly, not how large the effect is.
    """
    if not np.isfinite(ratio):
        return float("nan")
    return float((1 + np.sum(placebo_ratios >= ratio)) / (1 + len(placebo_ratios)))


def _kept(units: pd.DataFrame, treated_pre: float, max_pre_ratio: float | None) -> pd.Series:
    if max_pre_ratio is None:
        return pd.Series(True, index=units.index)
    if max_pre_ratio <= 0:
        raise KeycitiesError("max_pre_ratio must be positive (e.g. 2, 5 or 20).")
    return units["pre_rmspe"] <= max_pre_ratio * treated_pre


def _placebo_table(d: _Design, runs: Mapping[int, np.ndarray]) -> pd.DataFrame:
    rows = [{"code": d.codes[j], "treated": False, **_unit_stats(d, j, runs[j])}
            for j in sorted(runs)]
    return pd.DataFrame(rows)


def _assemble(d: _Design, fit: SynthFit, placebo_rows: pd.DataFrame,
              runs: Mapping[int, np.ndarray], max_pre_ratio: float | None,
              seconds: float) -> Placebos:
    own = {"code": fit.treated, "treated": True, "pre_rmspe": fit.pre_rmspe,
           "post_rmspe": fit.post_rmspe, "ratio": fit.ratio,
           "average_effect": fit.average_effect,
           "relative_effect": fit.average_relative_effect}
    units = pd.concat([pd.DataFrame([own]), placebo_rows], ignore_index=True)
    units["kept"] = _kept(units, fit.pre_rmspe, max_pre_ratio)
    units.loc[0, "kept"] = True
    placebo = units[~units["treated"] & units["kept"]]
    p = _p_value(fit.ratio, placebo["ratio"].to_numpy())
    gaps = pd.DataFrame({fit.treated: fit.gap.to_numpy(),
                         **{d.codes[j]: d.y[:, j] - runs[j] for j in sorted(runs)}},
                        index=pd.Index(list(d.years), name="year"))
    return Placebos(fit, units, gaps, p, max_pre_ratio, seconds)


def placebo_space(panel: pd.DataFrame, treated: str, start: int, *,
                  max_pre_ratio: float | None = None, workers: int = 1,
                  progress: Progress | None = None, cluster: str | None = None,
                  **options: Any) -> Placebos:
    """Placebo-in-space test (see the module docstring).

    Parameters
    ----------
    panel, treated, start : as :func:`keycities.analysis.testbed.synth.fit`.
    max_pre_ratio : keep only placebos with pre-RMSPE at most this multiple of
        the treated place's (None keeps all).
    workers : processes for the placebo runs (1 = in this process).
    progress : called as ``progress(done, total)`` after each batch of placebos.
    cluster : a Dask scheduler's address for the placebo runs
        (:func:`keycities.analysis._parallel.parallel_map`); None: local processes.
    **options : further keywords of :func:`~keycities.analysis.testbed.synth.fit`
        (donors, predictors, pre_years, outcome_predictors, v, v_starts, rng, exclude).

    Returns
    -------
    Placebos
    """
    t0 = time.perf_counter()
    d = _prepare(panel, treated, start, **options)
    fit = _result(d, _solve(d, 0, np.arange(1, len(d.codes)), np.arange(len(d.codes))))
    runs = _run_placebos(d, workers, progress, cluster)
    return _assemble(d, fit, _placebo_table(d, runs), runs, max_pre_ratio,
                     time.perf_counter() - t0)


# ------------------------------------------------------------------ placebo in time
@dataclass(frozen=True, eq=False)
class TimePlacebos:
    """Fits with a pretended earlier start; ``summary`` has one row per fake start."""

    start: int
    fits: dict[int, SynthFit]
    summary: pd.DataFrame

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return jsonable({"start": self.start, "summary": finite_frame(self.summary),
                         "fits": {str(k): f.payload() for k, f in self.fits.items()}})


def placebo_time(panel: pd.DataFrame, treated: str, start: int, *,
                 fake_starts: Sequence[int] | None = None, **options: Any) -> TimePlacebos:
    """Pretend the policy started at each of ``fake_starts`` (default: every year
    that leaves at least two pre-years) using only years before ``start``.

    ``pre_years`` is not used (each fake start uses the years before it);
    outcome predictors given as years must lie before every fake start.  The
    summary's ``average_relative_effect`` is the fake effect: near zero when the
    synthetic control tracks the place without a policy.
    """
    years = [int(c) for c in panel.columns]
    before = [c for c, y in zip(panel.columns, years, strict=True) if y < int(start)]
    if not before:
        raise KeycitiesError(f"No panel years before the start {start}.")
    cut = panel[before]
    pre_years = sorted(int(c) for c in before)
    fakes = list(fake_starts) if fake_starts is not None else pre_years[2:]
    if not fakes:
        raise KeycitiesError(f"Too few years before {start} for a placebo in time: at least "
                             "three are needed.")
    options = {k: v for k, v in options.items() if k != "pre_years"}
    fits, rows = {}, []
    for fake in fakes:
        if not pre_years[0] < int(fake) < int(start):
            raise KeycitiesError(f"Fake start {fake} must lie strictly between "
                                 f"{pre_years[0]} and the real start {start}.")
        f = _fit_cut(cut, treated, int(fake), options)
        fits[int(fake)] = f
        rows.append({"fake_start": int(fake), "pre_rmspe": f.pre_rmspe,
                     "post_rmspe": f.post_rmspe, "ratio": f.ratio,
                     "average_effect": f.average_effect,
                     "average_relative_effect": f.average_relative_effect})
    return TimePlacebos(int(start), fits, pd.DataFrame(rows))


def _fit_cut(panel: pd.DataFrame, treated: str, start: int, options: dict[str, Any]
             ) -> SynthFit:
    d = _prepare(panel, treated, start, **options)
    return _result(d, _solve(d, 0, np.arange(1, len(d.codes)), np.arange(len(d.codes))))


# ------------------------------------------------------------------ leave one out
@dataclass(frozen=True, eq=False)
class LeaveOneOut:
    """Re-fits without each positive-weight donor; ``summary`` one row per dropped donor,
    ``gaps`` the gap paths (years x dropped donor, plus ``"all donors"``)."""

    fit: SynthFit
    fits: dict[str, SynthFit]
    summary: pd.DataFrame
    gaps: pd.DataFrame

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return jsonable({"fit": self.fit.payload(),
                         "summary": finite_frame(self.summary)})


def leave_one_out(panel: pd.DataFrame, treated: str, start: int, **options: Any
                  ) -> LeaveOneOut:
    """Drop each donor with positive weight in turn and re-fit (same options as ``fit``)."""
    d = _prepare(panel, treated, start, **options)
    donors = np.arange(1, len(d.codes))
    base = _result(d, _solve(d, 0, donors, np.arange(len(d.codes))))
    fits, rows = {}, []
    for code, weight in base.weights[base.weights > 0].sort_values(ascending=False).items():
        j = d.codes.index(str(code))
        rest = donors[donors != j]
        if len(rest) < 2:
            continue
        f = _result(d, _solve(d, 0, rest, np.r_[0, rest]))
        fits[str(code)] = f
        rows.append({"dropped": code, "weight": float(weight), "pre_rmspe": f.pre_rmspe,
                     "post_rmspe": f.post_rmspe, "ratio": f.ratio,
                     "average_effect": f.average_effect,
                     "average_relative_effect": f.average_relative_effect})
    gaps = pd.DataFrame({"all donors": base.gap, **{c: f.gap for c, f in fits.items()}})
    return LeaveOneOut(base, fits, pd.DataFrame(rows), gaps)


# ------------------------------------------------------------------ detectable effect
@dataclass(frozen=True, eq=False)
class Detectability:
    """Power check by injecting effects into the treated place's real post-period data.

    ``curve``: one row per injected effect: effect, estimate (mean relative
    post-period effect recovered), ratio, p_value, detected.  ``mde``: the
    smallest effect from which on every larger one in the grid is detected
    (None if not even the largest is).  ``min_p``: the smallest attainable
    p-value, ``1 / (placebos + 1)``.
    """

    fit: SynthFit
    alpha: float
    curve: pd.DataFrame
    mde: float | None
    placebos: int
    min_p: float
    notes: tuple[str, ...] = ()

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return jsonable({"treated": self.fit.treated, "start": self.fit.start,
                         "alpha": self.alpha, "mde": self.mde, "placebos": self.placebos,
                         "min_p": self.min_p, "curve": finite_frame(self.curve),
                         "notes": list(self.notes)})


def detectable_effect(panel: pd.DataFrame, treated: str, start: int, *, alpha: float = 0.05,
                      effects: Sequence[float] = DEFAULT_EFFECTS,
                      max_pre_ratio: float | None = None, workers: int = 1,
                      progress: Progress | None = None, cluster: str | None = None,
                      **options: Any) -> Detectability:
    """Minimum detectable effect of the placebo-in-space test (see the module docstring).

    Parameters
    ----------
    alpha : significance level.
    effects : injected multiplicative effects (0.05 = outcome x 1.05 from ``start``).
    Other parameters as :func:`placebo_space`.
    """
    if not 0 < alpha < 1:
        raise KeycitiesError(f"alpha={alpha} must be between 0 and 1.")
    grid = sorted({float(e) for e in effects})
    if not grid or min(grid) <= -1:
        raise KeycitiesError("effects must be a non-empty list of values above -1.")
    d = _prepare(panel, treated, start, **options)
    donors, every = np.arange(1, len(d.codes)), np.arange(len(d.codes))
    base = _result(d, _solve(d, 0, donors, every))
    table = _placebo_table(d, _run_placebos(d, workers, progress, cluster))
    rows = []
    for e in grid:
        y = d.y.copy()
        y[d.post, 0] *= 1.0 + e
        injected = replace(d, y=y)
        f = _result(injected, _solve(injected, 0, donors, every))
        kept = table[_kept(table, f.pre_rmspe, max_pre_ratio)]
        p = _p_value(f.ratio, kept["ratio"].to_numpy())
        rows.append({"effect": e, "estimate": f.average_relative_effect, "ratio": f.ratio,
                     "p_value": p, "detected": p <= alpha, "placebos": len(kept)})
    curve = pd.DataFrame(rows)
    placebos = int(curve["placebos"].min())
    return Detectability(base, alpha, curve, _mde(curve), placebos, 1.0 / (placebos + 1),
                         tuple(_detect_notes(base, alpha, placebos)))


def _mde(curve: pd.DataFrame) -> float | None:
    positive = curve[curve["effect"] > 0].sort_values("effect")
    if positive.empty or not positive["detected"].iloc[-1]:
        return None
    missed = positive.index[~positive["detected"].to_numpy()]
    after = positive.loc[positive.index > missed.max()] if len(missed) else positive
    return float(after["effect"].iloc[0])


def _detect_notes(fit: SynthFit, alpha: float, placebos: int) -> list[str]:
    notes = []
    if 1.0 / (placebos + 1) > alpha:
        notes.append(f"With {placebos} placebos the smallest possible p-value is "
                     f"{1 / (placebos + 1):.3f} > alpha = {alpha}: nothing can be detected.")
    if not np.isfinite(fit.ratio):
        notes.append("The treated place's pre-period fit is exact: its ratio is infinite "
                     "whatever the effect, so the p-value says nothing about the effect; "
                     "restrict the donor pool.")
    return notes
