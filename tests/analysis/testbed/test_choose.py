"""Choosing testbeds: the exact program against brute force, constraints, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keycities.analysis.testbed._choose_sets import (
    Candidates,
    Constraints,
    imbalance,
    pooled_mde,
    violations,
)
from keycities.analysis.testbed.choose import choose
from keycities.analysis.testbed.power import PowerTable, effect_grid, power_table
from keycities.errors import KeycitiesError, ParameterError

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True, database=None)


def fake_inputs(seed: int, n: int, *, grid: int = 12, features: int = 2
                ) -> tuple[Candidates, PowerTable]:
    """Random but coherent inputs: scores rising with the effect, features, places."""
    rng = np.random.default_rng(seed)
    effects = np.linspace(0.01, 0.12, grid)
    slope = rng.uniform(5, 40, n)
    z = rng.normal(0, 0.6, (n, grid)) - 1.0 + slope[:, None] * effects[None, :]
    p = 1 - pd.DataFrame(z).map(lambda v: float(np.clip(0.5 + v / 8, 0, 1))).to_numpy()
    codes = tuple(f"P{i:02d}" for i in range(n))
    donors = {c: tuple(f"D{j}" for j in range(int(rng.integers(8, 20)))) for c in codes}
    z0 = rng.normal(-0.5, 1.0, n)
    power = PowerTable(codes, 2015, effects, p, z, np.full(n, 20), rng.uniform(1, 2, n),
                       np.zeros(n, bool), donors, 0.05, None, z0)
    xy = rng.uniform(0, 300, (n, 2))
    km = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    lost = rng.integers(0, 4, (n, n))
    s = pd.DataFrame(rng.normal(0, 1, (n, features)), index=list(codes),
                     columns=[f"f{i}" for i in range(features)])
    cands = Candidates(codes, {c: f"Place {c}" for c in codes},
                       rng.choice(np.array(["North", "South", "West"]), n), s, km, lost, 100)
    return cands, power


def brute(c: Candidates, power: PowerTable, con: Constraints) -> tuple[float, float] | None:
    s = c.s.to_numpy(float)
    best = None
    ok = [i for i, code in enumerate(c.codes) if code not in con.exclude
          and len(power.donors[code]) >= con.min_donors]
    for rows in itertools.combinations(ok, con.k):
        if violations(c, power, rows, con):
            continue
        imb = imbalance(s, rows)
        mde = pooled_mde(power, rows)
        key = (mde if np.isfinite(mde) else np.inf, imb)
        best = key if best is None or key < best else best
    return best


@PROPERTY
@given(seed=st.integers(0, 10_000), n=st.integers(4, 10), k=st.integers(1, 3),
       min_km=st.sampled_from([None, 60.0]), per_region=st.sampled_from([None, 1, 2]),
       cap=st.sampled_from([None, 0.5]))
def test_the_chosen_set_is_the_brute_force_optimum(seed: int, n: int, k: int,
                                                   min_km: float | None,
                                                   per_region: int | None,
                                                   cap: float | None) -> None:
    c, power = fake_inputs(seed, n)
    con = Constraints(k=k, min_km=min_km, max_per_region=per_region, max_imbalance=cap,
                      min_donors=10)
    best = brute(c, power, con)
    if best is None:
        with pytest.raises(ParameterError):
            choose(c, power, con)
        return
    got = choose(c, power, con)
    mde = got.mde if np.isfinite(got.mde) else np.inf
    assert mde == pytest.approx(best[0]) and got.imbalance == pytest.approx(best[1], abs=1e-7)
    # the bounds prove optimality: never above the true optimum
    assert got.mde_bound <= best[0] + 1e-9 and got.imbalance_bound <= best[1] + 1e-7
    assert not violations(c, power, [c.codes.index(x) for x in got.chosen], con)


def test_reasons_frontier_and_required_places() -> None:
    c, power = fake_inputs(3, 9)
    got = choose(c, power, Constraints(k=3, require=("P04",), exclude=("P01",)), effect=0.05)
    assert "P04" in got.chosen and "P01" not in got.chosen
    reasons = got.places.set_index("code")["reason"]
    assert reasons["P01"] == "Out: excluded (as asked)."
    assert reasons["P04"].startswith("Testbed (required).")
    assert all(r.startswith(("Testbed", "Out")) for r in reasons)
    assert {"cap", "mde", "imbalance", "testbeds"} <= set(got.frontier.columns)
    assert got.frontier["imbalance"].dropna().is_monotonic_decreasing or len(got.frontier) > 1
    assert got.payload()["objective"]["optimal"] is True
    assert any("alpha" in n for n in got.notes)


def test_bad_input_says_what_to_change() -> None:
    c, power = fake_inputs(1, 5)
    with pytest.raises(ParameterError, match="only 5 candidates.*--k"):
        choose(c, power, Constraints(k=6))
    with pytest.raises(ParameterError, match="--max-per-region"):
        choose(c, power, Constraints(k=4, max_per_region=1))
    with pytest.raises(KeycitiesError, match="both required and excluded"):
        choose(c, power, Constraints(k=2, require=("P00",), exclude=("P00",)))
    with pytest.raises(KeycitiesError, match="Not among the candidates"):
        choose(c, power, Constraints(k=2, require=("Q99",)))


def test_power_table_injects_effects_into_real_paths() -> None:
    rng = np.random.default_rng(0)
    years = list(range(2001, 2016))
    f = np.cumsum(rng.normal(0, 1, len(years)))
    panel = pd.DataFrame(100 + rng.uniform(0.5, 1.5, (30, 1)) * f
                         + rng.normal(0, 0.3, (30, len(years))),
                         index=[f"P{i:02d}" for i in range(30)], columns=years)
    cands = ["P00", "P01"]
    donors = {c: [x for x in panel.index if x not in cands] for c in cands}
    power = power_table(panel, cands, 2012, donors=donors, effects=effect_grid(20, 0.2),
                        v="equal")
    assert power.p.shape == (2, 20) and (power.placebos == 28).all()
    # a large injected effect is detected whatever the no-policy realisation; power rises
    assert power.p[:, -1] == pytest.approx(1.0)
    assert (np.diff(power.z, axis=1) >= -1e-9).all()
    assert np.isfinite(power.mde_alone()).all()
    # no effect: each realisation is a placebo's own rank, so the size is about alpha
    zero = power_table(panel, cands, 2012, donors=donors, effects=np.array([1e-12, 1e-11]),
                       v="equal")
    assert zero.p[:, 0] == pytest.approx(1 / 28, abs=0.05)
    with pytest.raises(KeycitiesError, match="at least 5 pre-period years"):
        power_table(panel, cands, 2004, donors=donors)
