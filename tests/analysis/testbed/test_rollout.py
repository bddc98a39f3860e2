"""Roll-out prediction: REML meta-regression, prediction intervals, extrapolation flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from keycities.analysis.testbed.rollout import meta_regression, pilots_from_payload, predict_rollout
from keycities.errors import KeycitiesError


def _one_rollout(rng: np.random.Generator, n: int = 60, k: int = 10
                 ) -> tuple[float, np.ndarray, np.ndarray, pd.DataFrame]:
    z = pd.DataFrame({"x": rng.normal(0, 1, n)}, index=[f"P{i:02d}" for i in range(n)])
    truth = 0.02 + 0.03 * z["x"] + rng.normal(0, 0.005, n)  # tau = 0.5 pp
    pilots = list(z.index[:k])
    se = np.full(k, 0.004)
    pilot = pd.DataFrame({"code": pilots, "effect": truth[pilots] + rng.normal(0, se)})
    res = predict_rollout(pilot.assign(se=se), z, list(z.index), features=["x"], alpha=0.1)
    pred = res.places.set_index("code")
    inside = (pred["low"] <= truth[pred.index]) & (truth[pred.index] <= pred["high"])
    assert not set(pilots) & set(pred.index)
    return float(inside.mean()), res.model.beta, np.sqrt(np.diag(res.model.cov)), pred


def test_a_known_heterogeneous_effect_is_recovered_within_its_intervals() -> None:
    rng = np.random.default_rng(7)
    runs = [_one_rollout(rng) for _ in range(30)]
    assert 0.85 <= np.mean([r[0] for r in runs]) <= 0.97  # 90% prediction intervals
    hits = [bool((np.abs(b - [0.02, 0.03]) <= 1.645 * s).all()) for _, b, s, _ in runs]
    assert np.mean(hits) >= 0.7  # both coefficients within their 90% intervals, mostly
    assert runs[0][3]["extrapolation"].any()  # places beyond the pilots' range of x


def test_places_outside_the_pilots_range_name_the_features_in_words() -> None:
    # Issue 15 point 7: the roll-out table said 'leave_share below, postcode_density below'.
    z = pd.DataFrame({"leave_share": [0.0, 1.0, 3.0], "earnings": [0.0, 1.0, -2.0]},
                     index=list("ABC"))
    pilots = pd.DataFrame({"code": ["A", "B"], "effect": [0.02, 0.02], "se": [0.01, 0.01]})
    res = predict_rollout(pilots, z, ["C"], range_features=["leave_share", "earnings"],
                          labels={"leave_share": "Leave share, 2016",
                                  "earnings": "Median weekly earnings"})
    assert res.places["outside"].iloc[0] == ("Leave share, 2016 above, "
                                             "Median weekly earnings below")


def test_reml_matches_dersimonian_laird_without_heterogeneity_and_national_value() -> None:
    y, se = np.array([0.02, 0.021, 0.019]), np.array([0.01, 0.01, 0.01])
    fit = meta_regression(y, se, np.ones((3, 1)), ["intercept"])
    assert fit.tau2 == 0.0 and fit.tau2_dl == 0.0 and fit.beta[0] == pytest.approx(0.02)
    z = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]}, index=list("ABCD"))
    pilots = pd.DataFrame({"code": ["A", "B"], "effect": [0.02, 0.02], "se": [0.01, 0.01]})
    res = predict_rollout(pilots, z, list("ABCD"), range_features=["x"],
                          weights=pd.Series({"C": 100.0, "D": 300.0}), weight_unit="jobs")
    assert res.national["total"] == pytest.approx(0.02 * 400)
    assert res.national["low"] < res.national["total"] < res.national["high"]
    assert list(res.places["extrapolation"]) == [True, True]
    with pytest.raises(KeycitiesError, match="positive, finite standard error"):
        predict_rollout(pilots.assign(se=0.0), z, list("CD"))


def test_evaluation_json_is_read_or_refused_with_advice() -> None:
    doc = {"outcome": {"key": "filled_jobs"}, "synthetic_control": {"pilots": [
        {"code": "E1", "start": 2016, "effect": 0.01, "se": 0.02}]}}
    outcome, pilots = pilots_from_payload(doc)
    assert outcome == "filled_jobs" and list(pilots["code"]) == ["E1"]
    with pytest.raises(KeycitiesError, match="testbed evaluate --format json"):
        pilots_from_payload({"rows": []}, "x.json")
