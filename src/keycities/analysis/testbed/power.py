"""Each candidate testbed's power, from effects injected into its real data.

Formulation
-----------
For a candidate ``i`` starting the policy in year ``s`` with its own donor pool
``D_i`` (``J_i`` places), the synthetic control of ``i`` and of every donor (the
placebos, each fitted from the other donors) are fitted once on the years before
``s`` (:mod:`keycities.analysis.testbed.synth`).  The placebo test (ADH 2010) ranks
``r = post-period RMSPE / pre-period RMSPE`` among the placebos':
``p = (1 + #{j : r_j >= r}) / (J_i + 1)``.

An effect ``e`` is injected by multiplying ``i``'s outcome from ``s`` on by ``1 + e``.
The fit sees only pre-period data, so one fit serves every ``e``; what the test then
sees is the effect plus whatever happened to ``i`` after ``s`` without a policy.  Using
``i``'s own post-period data for that (as ``testbed design`` does) lets one realised
gap decide the answer, and an optimiser would pick places whose gaps happen to look
like effects.  Power is therefore measured over *realisations*: each placebo ``j``'s
standardised post-period gap ``u_jt = gap_jt / pre-RMSPE_j`` stands in for ``i``'s
no-policy gap, so that

    r_i^(j)(e) = RMS_t( e S_it / pre-RMSPE_i + u_jt ),

(``S_it`` ``i``'s synthetic level), ranked against the other ``J_i - 1`` placebos'
ratios: ``p_i^(j)(e)``.  With ``e = 0`` this is placebo ``j``'s own rank, uniform by
construction: the test has its nominal size.  Each candidate gets

* ``power_i(e)``: the share of realisations with ``p_i^(j)(e) <= alpha``;
* a Stouffer score ``zeta_i(e)``: the mean over realisations of
  ``Phi^-1(1 - p_i^(j)(e) + 1 / (2 J_i))`` (mid-p, so ``p = 1`` stays finite).

The pooled test of ``k`` testbeds combines their p-values by Stouffer's method
(Stouffer et al. 1949; Whitlock 2005, equal weights): it rejects when
``sum_i z_i / sqrt(k) >= z_(1-alpha)``.  Its power is at least ``1 - beta`` when the
expected pooled score reaches ``z_(1-alpha) + z_(1-beta)`` (the minimum detectable
effect of Bloom 1995, "Minimum detectable effects", *Evaluation Review* 19(5); unit
variance of the pooled score assumed), so the *pooled minimum detectable effect*
of a set ``S`` is the smallest ``e`` of the grid from which on
``sum_(i in S) zeta_i(e) >= sqrt(k) (z_(1-alpha) + z_(1-beta))``; ``beta = 0.2``
(80% power).  The scores are additive over testbeds, which is what lets
:mod:`keycities.analysis.testbed.choose` optimise over sets exactly.

Assumptions: the testbeds' tests are independent (their donor pools may overlap,
which makes the pooled test somewhat liberal); a placebo's standardised gap is a
realisation of what any candidate's could be (the premise of the RMSPE-ratio test);
the same relative effect in every testbed.  A candidate whose pre-period fit is exact
has an infinite ratio whatever happens: its test is undefined and it is not eligible.
``p_zero`` keeps what the test says of the candidate's *real* post-period data.

The fits are independent: they run through the one parallel map
(:func:`keycities.analysis._parallel.parallel_map`), on local processes or a Dask
cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from keycities._util.plain import jsonable
from keycities.analysis._parallel import Progress, parallel_map
from keycities.analysis.testbed.synth import PERFECT_FIT, _Design, _prepare, _solve
from keycities.errors import KeycitiesError

GRID = 200
"""Injected effects per place (from 0.1% to 20% by default)."""
MAX_EFFECT = 0.20
POWER = 0.8
"""Power of the pooled test at the minimum detectable effect (1 - beta)."""
MIN_PRE_YEARS = 5
"""Pre-period years a power estimate needs (a synthetic control on fewer is a guess)."""


@dataclass(frozen=True, eq=False)
class PowerTable:
    """Per-candidate placebo p-values and Stouffer scores over an effect grid.

    Attributes
    ----------
    codes
        The candidates (rows of ``p`` and ``z``).
    effects
        The injected relative effects (increasing).
    p, z
        (candidates x effects) power (share of realisations detected at ``alpha``)
        and mean Stouffer scores (NaN for a candidate whose pre-period fit is exact).
    p_zero, z_zero
        The placebo p-value of the candidate's real post-period data with no effect
        injected, and its score (a small ``p_zero``: a gap already there).
    placebos
        Placebo runs per candidate (``J_i``).
    pre_rmspe
        Each candidate's pre-period RMSPE (outcome units).
    exact
        The pre-period fit is exact (the test is undefined).
    donors
        Each candidate's donor pool.
    """

    codes: tuple[str, ...]
    start: int
    effects: np.ndarray
    p: np.ndarray
    z: np.ndarray
    placebos: np.ndarray
    pre_rmspe: np.ndarray
    exact: np.ndarray
    donors: Mapping[str, tuple[str, ...]]
    alpha: float
    p_zero: np.ndarray | None = None
    z_zero: np.ndarray | None = None

    @property
    def critical(self) -> float:
        """The mean score one testbed needs: ``z_(1-alpha) + z_(power)``."""
        return float(norm.ppf(1 - self.alpha) + norm.ppf(POWER))

    def mde_alone(self) -> np.ndarray:
        """Each candidate's own minimum detectable effect (power :data:`POWER` at
        ``alpha``; NaN: none in the grid)."""
        return np.array([first_detected(self.effects, row >= POWER) for row in self.p])

    def frame(self) -> pd.DataFrame:
        """One row per candidate: code, placebos, pre_rmspe, exact, mde_alone, p_zero."""
        return pd.DataFrame({"code": list(self.codes), "placebos": self.placebos,
                             "pre_rmspe": self.pre_rmspe, "exact": self.exact,
                             "mde_alone": self.mde_alone(), "p_zero": self.p_zero})

    def payload(self) -> dict[str, Any]:
        """Plain data: per-candidate summaries and the grid (power per effect)."""
        return jsonable({"start": self.start, "alpha": self.alpha, "power_target": POWER,
                         "effects": self.effects.tolist(), "candidates": self.frame(),
                         "power": {c: row.tolist() for c, row in zip(self.codes, self.p,
                                                                      strict=True)}})


def first_detected(effects: np.ndarray, detected: np.ndarray) -> float:
    """The smallest effect from which on every larger one is detected (NaN if none)."""
    det = np.asarray(detected, dtype=bool)
    if not len(det) or not det[-1]:
        return float("nan")
    missed = np.flatnonzero(~det)
    return float(effects[0] if not len(missed) else effects[missed[-1] + 1])


def effect_grid(n: int = GRID, top: float = MAX_EFFECT, also: Sequence[float] = ()
                ) -> np.ndarray:
    """``n`` effects evenly spaced on ``(0, top]``, with ``also`` added."""
    if n < 2 or not 0 < top < 10:
        raise KeycitiesError(f"The effect grid needs at least 2 effects up to a positive top "
                             f"below 10 (got {n} up to {top}).")
    return np.unique(np.r_[np.linspace(top / n, top, n), [float(a) for a in also if a > 0]])


def check_pre_years(years: Sequence[int], start: int) -> None:
    """A clear error when fewer than :data:`MIN_PRE_YEARS` years precede ``start``."""
    pre_years = sorted(y for y in years if y < start)
    if len(pre_years) < MIN_PRE_YEARS:
        span = f"{pre_years[0]}-{pre_years[-1]}" if pre_years else "none"
        raise KeycitiesError(
            f"Only {len(pre_years)} year(s) of the outcome before {start} ({span}): choosing "
            f"testbeds needs at least {MIN_PRE_YEARS} pre-period years to judge each place's "
            "fit; choose a later start or an outcome with a longer series.")


def _fit_path(designs: Mapping[str, _Design], item: tuple[str, int]) -> np.ndarray:
    """The synthetic path of unit ``j`` of candidate ``code``'s design (0: the candidate
    from its donors; ``j >= 1``: a placebo from the other donors)."""
    code, j = item
    d = designs[code]
    every = np.arange(len(d.codes))
    if j == 0:
        return _solve(d, 0, every[1:], every).synthetic
    pool = every[1:]
    return _solve(d, j, pool[pool != j], pool).synthetic


def _rms(x: np.ndarray, axis: int | None = None) -> np.ndarray:
    return np.sqrt(np.mean(np.asarray(x) ** 2, axis=axis))


def _placebo_gaps(d: _Design, paths: Mapping[int, np.ndarray]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Placebos' standardised post-period gaps ``u`` (J x T1) and their ratios (J)."""
    u, ratio = [], []
    for j in range(1, len(d.codes)):
        gap = d.y[:, j] - paths[j]
        pre = float(_rms(gap[d.pre]))
        exact = pre <= PERFECT_FIT * float(_rms(d.y[d.pre, j]))
        u.append(gap[d.post] / pre if not exact else np.full(int(d.post.sum()), np.inf))
        ratio.append(np.inf if exact else float(_rms(gap[d.post])) / pre)
    return np.array(u), np.array(ratio)


def _realised(d: _Design, paths: Mapping[int, np.ndarray], effects: np.ndarray,
              alpha: float) -> tuple[np.ndarray, np.ndarray, float, float, bool]:
    """(power, mean score) over ``effects``, the real data's p-value, pre RMSPE, exact."""
    u, ratios = _placebo_gaps(d, paths)
    y0, s0 = d.y[:, 0], paths[0]
    pre0 = float(_rms((y0 - s0)[d.pre]))
    exact = bool(pre0 <= PERFECT_FIT * float(_rms(y0[d.pre])))
    n_j = len(ratios)
    real = float(_rms((y0 - s0)[d.post])) / max(pre0, 1e-300)
    p_real = (1 + float(np.sum(ratios >= real))) / (n_j + 1)
    if exact:
        return np.full(len(effects), np.nan), np.full(len(effects), np.nan), p_real, pre0, True
    signal = effects[:, None] * s0[d.post][None, :] / pre0  # (G, T1)
    # r[g, j]: the candidate's ratio under effect g with placebo j's gap as its noise
    r = _rms(signal[:, None, :] + u[None, :, :], axis=2)
    # its rank among the other placebos' ratios (placebo j itself left out)
    above = (ratios[None, None, :] >= r[:, :, None]).sum(axis=2) - (ratios[None, :] >= r)
    p = (1 + above) / n_j
    z = norm.ppf(np.clip(1 - p + 0.5 / n_j, 1e-12, 1 - 1e-12))
    return (p <= alpha).mean(axis=1), z.mean(axis=1), p_real, pre0, False


def power_table(values: pd.DataFrame, candidates: Sequence[str], start: int, *,
                donors: Mapping[str, Sequence[str]], effects: np.ndarray | None = None,
                alpha: float = 0.05, workers: int = 1, cluster: str | None = None,
                progress: Progress | None = None, **options: Any) -> PowerTable:
    """Placebo p-values of every candidate over an injected-effect grid (module docstring).

    Parameters
    ----------
    values
        Places x years of the outcome (every candidate and donor).
    candidates
        Candidate testbeds (codes).
    start
        First policy year; the years before it are the pre-period.
    donors
        Each candidate's donor pool (codes; candidates are never donors).
    effects
        The injected relative effects (default :func:`effect_grid`).
    alpha
        Significance level of each test.
    workers, cluster, progress
        The parallel map's engine and progress (see :func:`~keycities.analysis._parallel.
        parallel_map`).
    **options
        Further keywords of :func:`keycities.analysis.testbed.synth.fit` (``v``, ...).
    """
    grid = effect_grid() if effects is None else np.asarray(effects, dtype=float)
    check_pre_years([int(c) for c in values.columns], start)
    codes = list(dict.fromkeys(candidates))
    designs = {c: _prepare(values, c, start, donors=[d for d in donors[c] if d not in codes],
                           **options) for c in codes}
    items = [(c, j) for c in codes for j in range(len(designs[c].codes))]
    paths = parallel_map(_fit_path, items, shared=designs, workers=workers, cluster=cluster,
                         chunk=8, progress=progress)
    by: dict[str, dict[int, np.ndarray]] = {c: {} for c in codes}
    for (c, j), path in zip(items, paths, strict=True):
        by[c][j] = path
    return _assemble(codes, start, grid, designs, by, alpha)


def _assemble(codes: list[str], start: int, grid: np.ndarray, designs: Mapping[str, _Design],
              by: Mapping[str, Mapping[int, np.ndarray]], alpha: float) -> PowerTable:
    n, g = len(codes), len(grid)
    power, score = np.full((n, g), np.nan), np.full((n, g), np.nan)
    placebos, pre, exact = np.zeros(n, int), np.zeros(n), np.zeros(n, bool)
    p_zero = np.full(n, np.nan)
    for i, c in enumerate(codes):
        power[i], score[i], p_zero[i], pre[i], exact[i] = _realised(designs[c], by[c], grid,
                                                                    alpha)
        placebos[i] = len(designs[c].codes) - 1
    pools = {c: tuple(designs[c].codes[1:]) for c in codes}
    z_zero = norm.ppf(np.clip(1 - p_zero + 0.5 / (placebos + 1), 1e-12, 1 - 1e-12))
    return PowerTable(tuple(codes), int(start), grid, power, score, placebos, pre, exact,
                      pools, alpha, p_zero, z_zero)
