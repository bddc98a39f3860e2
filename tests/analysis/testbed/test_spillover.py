"""Spillovers measured on rings of neighbours, with the exclusion radius varied."""

from __future__ import annotations

import numpy as np
import pandas as pd

from keycities.analysis.testbed.spillover import spillovers


def test_a_spillover_onto_near_neighbours_is_measured_and_far_ones_are_not() -> None:
    rng = np.random.default_rng(5)
    n, years = 60, list(range(2001, 2016))
    f = rng.normal(size=len(years)).cumsum()
    values = pd.DataFrame(100 + rng.uniform(0.5, 1.5, (n, 1)) * f
                          + rng.normal(0, 0.1, (n, len(years))),
                          index=[f"P{i:02d}" for i in range(n)], columns=years)
    x = np.r_[0.0, rng.uniform(5, 20, 5), rng.uniform(120, 600, n - 6)]  # km from P00
    km = pd.DataFrame(np.abs(x[:, None] - x[None, :]), index=values.index,
                      columns=values.index)
    values.loc[["P01", "P02", "P03", "P04", "P05"], 2012:] *= 1.08  # spilled over
    res = spillovers(values, {"P00": 2012}, km, similar=10, placebos=30, draws=500)
    ring = res.rings.set_index("band")
    assert ring.loc["0-25 km", "places"] == 5
    assert ring.loc["0-25 km", "mean_effect"] > 0.05 and ring.loc["0-25 km", "p_value"] < 0.05
    assert set(res.sensitivity["radius_km"]) == {0.0, 25.0, 50.0, 100.0}
    assert any("Neighbours 0-25 km" in n for n in res.notes)
