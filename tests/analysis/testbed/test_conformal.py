"""Conformal intervals (Chernozhukov, Wüthrich & Zhu 2021): coverage and edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from keycities.analysis.testbed.conformal import conformal, conformal_arrays
from keycities.errors import KeycitiesError


def simulated(rng: np.random.Generator, t0: int = 19, donors: int = 8, effect: float = 2.0
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two common factors, the treated place a convex mix of donors plus iid noise."""
    f = rng.normal(size=(t0 + 1, 2)).cumsum(axis=0) * 0.3
    load = rng.dirichlet(np.ones(2), size=donors)
    yj = 10 + f @ load.T + rng.normal(size=(t0 + 1, donors)) * 0.5
    y0 = yj @ rng.dirichlet(np.ones(donors)) + rng.normal(size=t0 + 1) * 0.5
    y0[-1] += effect
    return y0, yj, np.arange(t0 + 1) < t0


def test_the_90_percent_interval_covers_the_true_effect_about_90_percent_of_the_time() -> None:
    rng = np.random.default_rng(20210)
    reps, covered = 200, 0
    for _ in range(reps):
        y0, yj, pre = simulated(rng)
        by_year, _ = conformal_arrays(y0, yj, pre, alpha=0.1, average=False)
        covered += bool(by_year["low"].iloc[0] <= 2.0 <= by_year["high"].iloc[0])
    assert 0.85 <= covered / reps <= 0.95


def test_average_interval_and_relative_columns() -> None:
    rng = np.random.default_rng(1)
    years = list(range(2001, 2021))
    f = rng.normal(size=len(years)).cumsum()
    panel = pd.DataFrame(100 + rng.uniform(0.5, 1.5, (12, 1)) * f
                         + rng.normal(0, 0.2, (12, len(years))),
                         index=[f"P{i:02d}" for i in range(12)], columns=years)
    panel.loc["P00", 2016:] += 5.0
    cf = conformal(panel, "P00", 2016, alpha=0.1)
    assert list(cf.by_year["year"]) == [2016, 2017, 2018, 2019, 2020]
    assert cf.average["low"] <= 5.0 <= cf.average["high"]
    assert cf.average["p_zero"] <= 0.1  # a clear effect: "no effect" is rejected
    assert {"relative", "relative_low", "relative_high"} <= set(cf.by_year.columns)
    assert cf.payload()["level"] == pytest.approx(0.9)
    with pytest.raises(KeycitiesError, match="pre- and post-period"):
        conformal(panel, "P00", 2001)
