"""Several treated places with staggered starts: per-place fits, pooled inference, intervals.

Pooled inference
    One fit per treated place; the other treated places are never donors.
    Effects are averaged by event time (years since the place's start) and
    overall (each place's mean post-period effect, places weighted equally).
    Inference for the average follows Cavallo, Galiani, Noy & Pantano (2013,
    "Catastrophic natural disasters and economic growth", REStat 95(5)): the
    statistic of the treated set is compared with the same statistic of
    ``draws`` random placebo sets of the same size, one placebo per treated
    place drawn from that place's placebo runs (its own pool), without
    repetition within a set (seeded ``rng``).  ``p_value`` uses the mean RMSPE
    ratio (as for one place; ``p = (1 + #{placebo sets >= treated}) / (1 +
    draws)``), ``p_value_effect`` the absolute mean relative post-period effect.
    With one treated place both are exact (every placebo is enumerated).
Per-place donor pools
    ``donors`` may map each treated place to its own pool (its most similar
    places, say); places with the same start and the same pool share their
    placebo runs.
Intervals
    Each place gets conformal intervals (:mod:`keycities.analysis.testbed.conformal`,
    Chernozhukov, Wüthrich & Zhu 2021).  The average relative effect gets the
    interval that inverts the placebo-set test of the effect-size statistic under a
    constant effect: ``[m - q_(1-alpha/2), m - q_(alpha/2)]`` with ``m`` the average
    and ``q`` the quantiles of the placebo sets' averages (Firpo & Possebom 2018,
    "Synthetic control method: inference, sensitivity analysis and confidence sets",
    *J. Causal Inference* 6(2), invert placebo tests the same way).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from keycities._util.plain import jsonable
from keycities.analysis._parallel import parallel_map
from keycities.analysis.testbed.conformal import ALPHA as CONFORMAL_ALPHA
from keycities.analysis.testbed.conformal import Conformal, conformal
from keycities.analysis.testbed.inference import (
    _CHUNK,
    DRAWS,
    Progress,
    _kept,
    _p_value,
    _placebo_fit,
    _placebo_table,
)
from keycities.analysis.testbed.synth import (
    SynthFit,
    _Design,
    _prepare,
    _result,
    _solve,
    finite_frame,
)
from keycities.errors import KeycitiesError


# ------------------------------------------------------------------ several places
@dataclass(frozen=True, eq=False)
class Evaluation:
    """Synthetic controls for several treated places with (possibly) staggered starts.

    ``effects``: one row per place and year (code, start, year, event_time,
    observed, synthetic, gap, relative, post).  ``by_event_time``: mean gap and
    relative gap by years since start (places = how many places contribute).
    ``average_effect``: mean over places of each place's mean relative
    post-period effect; ``average_gap`` the same in outcome units.
    ``placebo_units``: every placebo run (start, code, pre_rmspe, post_rmspe,
    ratio, relative_effect).  ``placebo_gaps``: for each treated place, the gap
    paths of the placebo runs of its start (years x placebo codes).
    """

    starts: dict[str, int]
    fits: dict[str, SynthFit]
    effects: pd.DataFrame
    by_event_time: pd.DataFrame
    average_effect: float
    average_gap: float
    mean_ratio: float
    p_value: float
    p_value_effect: float
    draws: int
    placebo_units: pd.DataFrame
    placebo_gaps: dict[str, pd.DataFrame]
    notes: tuple[str, ...] = ()
    conformal: dict[str, Conformal] = field(default_factory=dict)
    average_interval: tuple[float, float] = (float("nan"), float("nan"))
    alpha: float = CONFORMAL_ALPHA

    def pilots(self) -> pd.DataFrame:
        """One row per treated place: code, start, effect (mean relative post-period
        effect), se (standard deviation of its placebos' relative effects, the spread of
        the estimate without a policy), p_value (its own placebo test), placebos, and the
        conformal interval of its constant effect (relative: low, high; p_zero)."""
        rows = []
        for code, f in self.fits.items():
            pool = self.placebo_units[self.placebo_units["pool"] == code]
            cf = self.conformal.get(code)
            avg = cf.average if cf is not None else {}
            rows.append({
                "code": code, "start": f.start, "effect": f.average_relative_effect,
                "effect_units": f.average_effect,
                "se": float(pool["relative_effect"].std(ddof=1)) if len(pool) > 1 else None,
                "p_value": _p_value(f.ratio, pool["ratio"].to_numpy()),
                "placebos": len(pool), "pre_rmspe": f.pre_rmspe,
                "conformal_low": avg.get("relative_low"),
                "conformal_high": avg.get("relative_high"),
                "conformal_p_zero": avg.get("p_zero")})
        return pd.DataFrame(rows)

    def payload(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return jsonable({
            "starts": self.starts, "average_effect": self.average_effect,
            "average_interval": [_plain(x) for x in self.average_interval],
            "alpha": self.alpha,
            "average_gap": self.average_gap, "mean_ratio": _plain(self.mean_ratio),
            "p_value": self.p_value, "p_value_effect": self.p_value_effect,
            "draws": self.draws, "by_event_time": finite_frame(self.by_event_time),
            "pilots": finite_frame(self.pilots()),
            "conformal": {c: cf.payload() for c, cf in self.conformal.items()},
            "effects": self.effects, "notes": list(self.notes),
            "fits": {c: f.payload() for c, f in self.fits.items()}})


def _plain(x: float) -> float | None:
    return x if np.isfinite(x) else None


def _check_starts(starts: Mapping[str, int]) -> dict[str, int]:
    if not starts:
        raise KeycitiesError("starts is empty: give {place code: first policy year}.")
    return {str(c): int(s) for c, s in starts.items()}


def _donor_options(options: dict[str, Any], code: str, starts: Mapping[str, int]
                   ) -> dict[str, Any]:
    """``fit`` options of treated ``code``: the other treated places are never donors; a
    ``donors`` list is shared, a ``{code: list}`` mapping gives each place its own pool."""
    others = [c for c in starts if c != code]
    opts = {**options, "exclude": [*options.get("exclude", ()), *others]}
    donors = options.get("donors")
    if isinstance(donors, Mapping):
        opts["donors"] = [c for c in donors[code] if c not in starts]
    elif donors is not None:
        opts["donors"] = [c for c in donors if c not in starts]
    return opts


def _design_placebo(designs: Mapping[str, _Design], item: tuple[str, int]
                    ) -> tuple[int, np.ndarray]:
    return _placebo_fit(designs[item[0]], item[1])


def _fits_and_placebos(panel: pd.DataFrame, starts: dict[str, int], workers: int,
                       progress: Progress | None, options: dict[str, Any],
                       cluster: str | None = None
                       ) -> tuple[dict[str, SynthFit], dict[str, _Design], pd.DataFrame,
                                  dict[str, pd.DataFrame]]:
    """Each treated place's fit and its pool's placebo runs (one parallel map over all).

    Places with the same start and the same pool share their placebo runs."""
    fits: dict[str, SynthFit] = {}
    own: dict[str, _Design] = {}
    designs: dict[str, _Design] = {}
    key_of: dict[str, str] = {}
    seen: dict[tuple[int, tuple[str, ...]], str] = {}
    for code, start in starts.items():
        d = own[code] = _prepare(panel, code, start, **_donor_options(options, code, starts))
        fits[code] = _result(d, _solve(d, 0, np.arange(1, len(d.codes)),
                                       np.arange(len(d.codes))))
        key_of[code] = seen.setdefault((start, tuple(sorted(d.codes[1:]))), code)
        designs.setdefault(key_of[code], d)
    items = [(k, j) for k, d in designs.items() for j in range(1, len(d.codes))]
    found = parallel_map(_design_placebo, items, shared=designs, workers=workers,
                         cluster=cluster, chunk=_CHUNK, progress=progress)
    runs: dict[str, dict[int, np.ndarray]] = {k: {} for k in designs}
    for (k, _), (j, path) in zip(items, found, strict=True):
        runs[k][j] = path
    tables, gaps = [], {}
    for code in starts:
        d, r = designs[key_of[code]], runs[key_of[code]]
        tables.append(_placebo_table(d, r).assign(start=starts[code], pool=code))
        gaps[code] = pd.DataFrame({d.codes[j]: d.y[:, j] - r[j] for j in sorted(r)},
                                  index=pd.Index(list(d.years), name="year"))
    return fits, own, pd.concat(tables, ignore_index=True), gaps


def _draw_sets(pools: list[pd.DataFrame], draws: int, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray]:
    """Mean ratio and mean relative effect of random placebo sets (one per treated place,
    distinct places within a set)."""
    codes = {c: i for i, c in enumerate(sorted({c for p in pools for c in p["code"]}))}
    idx = np.column_stack([rng.integers(0, len(p), size=draws) for p in pools])
    ids = np.column_stack([p["code"].map(codes).to_numpy()[idx[:, g]]
                           for g, p in enumerate(pools)])
    srt = np.sort(ids, axis=1)
    distinct = (np.diff(srt, axis=1) != 0).all(axis=1) if ids.shape[1] > 1 else \
        np.ones(draws, dtype=bool)
    ratios = np.column_stack([p["ratio"].to_numpy()[idx[:, g]] for g, p in enumerate(pools)])
    effects = np.column_stack([p["relative_effect"].to_numpy()[idx[:, g]]
                               for g, p in enumerate(pools)])
    return ratios[distinct].mean(axis=1), effects[distinct].mean(axis=1)


def evaluate(panel: pd.DataFrame, starts: Mapping[str, int], *, draws: int = DRAWS,
             rng: np.random.Generator | None = None, max_pre_ratio: float | None = None,
             workers: int = 1, progress: Progress | None = None,
             cluster: str | None = None, alpha: float = CONFORMAL_ALPHA,
             **options: Any) -> Evaluation:
    """Evaluate a policy in several places with staggered starts (see the module docstring).

    Parameters
    ----------
    panel : as :func:`keycities.analysis.testbed.synth.fit`.
    starts : ``{place code: first policy year}``.
    draws : random placebo sets for the p-values (ignored with one place: exact).
    rng : source of the placebo sets (default: seeded, reproducible); the fits keep
        their own seeded starting points for V.
    max_pre_ratio : keep only placebos whose pre-RMSPE is at most this multiple
        of the matching treated place's.
    workers, progress, cluster : as :func:`placebo_space`.
    alpha : 1 - the level of the conformal intervals (0.1: 90%).
    **options : further keywords of :func:`~keycities.analysis.testbed.synth.fit`; a
        ``donors`` list is shared by every place, less the treated places; a
        ``{code: list}`` mapping gives each treated place its own pool.
    """
    starts = _check_starts(starts)
    fits, designs, table, gaps = _fits_and_placebos(panel, starts, workers, progress,
                                                    options, cluster)
    pools = []
    for code, f in fits.items():
        pool = table[table["pool"] == code]
        pool = pool[_kept(pool, f.pre_rmspe, max_pre_ratio)]
        if pool.empty:
            raise KeycitiesError(f"No placebo is left for {code} after max_pre_ratio="
                                 f"{max_pre_ratio}; raise it or leave it out.")
        pools.append(pool)
    ratios = np.array([f.ratio for f in fits.values()])
    rel = np.array([f.average_relative_effect for f in fits.values()])
    mean_ratio, mean_rel = float(ratios.mean()), float(rel.mean())
    if len(fits) == 1:
        sample_r, sample_e = pools[0]["ratio"].to_numpy(), pools[0]["relative_effect"].to_numpy()
    else:
        sample_r, sample_e = _draw_sets(pools, draws, rng or np.random.default_rng(0))
    effects = _effects_table(fits, starts)
    by_event = (effects.groupby("event_time")
                .agg(places=("code", "nunique"), gap=("gap", "mean"),
                     relative=("relative", "mean")).reset_index())
    notes = [f"{c}: {n}" for c, f in fits.items() for n in f.notes]
    cfs = {c: _conformal(d, fits[c], alpha) for c, d in designs.items()}
    return Evaluation(
        starts=starts, fits=fits, effects=effects, by_event_time=by_event,
        average_effect=mean_rel, average_gap=float(np.mean([f.average_effect
                                                            for f in fits.values()])),
        mean_ratio=mean_ratio, p_value=_p_value(mean_ratio, sample_r),
        p_value_effect=_p_value(abs(mean_rel), np.abs(sample_e)), draws=len(sample_r),
        placebo_units=table, placebo_gaps=gaps, notes=tuple(notes), conformal=cfs,
        average_interval=_shift_interval(mean_rel, sample_e, alpha), alpha=alpha)


def _conformal(d: _Design, fit: SynthFit, alpha: float) -> Conformal:
    """CWZ intervals of one treated place: on the donors its synthetic control uses
    (positive weight; at most half as many as pre-years, the heaviest), since with more
    donors than years the least-squares fit is exact and every residual zero."""
    frame = pd.DataFrame(d.y.T, index=list(d.codes), columns=list(d.years))
    used = fit.weights[fit.weights > 0].sort_values(ascending=False)
    cap = max(2, len(fit.pre_years) // 2)
    donors = list(used.index[:cap]) if len(used) >= 2 else list(fit.weights.index)
    out = conformal(frame, fit.treated, d.start, donors=donors, alpha=alpha)
    note = (f"Conformal intervals on the {len(donors)} donor(s) of its synthetic control"
            + (f" (the {cap} heaviest of {len(used)})" if len(used) > cap else "") + ".")
    return replace(out, notes=(*out.notes, note))


def _shift_interval(estimate: float, placebo_means: np.ndarray, alpha: float
                    ) -> tuple[float, float]:
    """Interval for the average relative effect by inverting the placebo test of the
    effect-size statistic under a constant (additive) effect: ``{theta : estimate - theta``
    is not in the outer ``alpha`` tails of the placebo sets' means}``."""
    m = np.asarray(placebo_means, dtype=float)
    m = m[np.isfinite(m)]
    if len(m) < 2 or not np.isfinite(estimate):
        return float("nan"), float("nan")
    lo, hi = np.quantile(m, [alpha / 2, 1 - alpha / 2])
    return float(estimate - hi), float(estimate - lo)


def _effects_table(fits: Mapping[str, SynthFit], starts: Mapping[str, int]) -> pd.DataFrame:
    frames = []
    for c, f in fits.items():
        e = f.effects()
        frames.append(e.assign(code=c, start=starts[c], event_time=e["year"] - starts[c]))
    cols = ["code", "start", "year", "event_time", "observed", "synthetic", "gap",
            "relative", "post"]
    return pd.concat(frames, ignore_index=True)[cols]
