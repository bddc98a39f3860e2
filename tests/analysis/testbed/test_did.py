"""Difference-in-differences: recovery of a known effect, pyfixest checked against numpy by
hand (TWFE and its CRV1 sandwich; Gardner's two stages and their GMM sandwich), event
study, errors, properties, and a +5% injection into real productivity data."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keycities.analysis.testbed._did_sample import MIN_CLUSTERS
from keycities.analysis.testbed.did import did, event_study
from keycities.errors import KeycitiesError

EFFECT = 0.05
COHORTS = (2009, 2011, 2013, 2015)


def make_panel(seed: int, *, effect: float = EFFECT, places: int = 60, years: int = 16,
               treated: int = 12, cohorts: tuple[int, ...] = COHORTS, noise: float = 0.02
               ) -> tuple[pd.DataFrame, dict[str, int]]:
    """exp(place effect + year effect + effect * post + noise): known effect in log points."""
    rng = np.random.default_rng(seed)
    cols = list(range(2005, 2005 + years))
    codes = [f"E0{i:07d}" for i in range(places)]
    place = rng.normal(10.5, 0.3, places)
    year = np.cumsum(rng.normal(0.01, 0.02, years))
    y = place[:, None] + year[None, :] + rng.normal(0, noise, (places, years))
    starts = {codes[i]: cohorts[i % len(cohorts)] for i in range(treated)}
    for code, g in starts.items():
        y[codes.index(code), np.array(cols) >= g] += effect
    return pd.DataFrame(np.exp(y), index=codes, columns=cols), starts


def long_by_hand(panel: pd.DataFrame, starts: dict[str, int]) -> pd.DataFrame:
    """Observed cells as rows, log outcome, treatment indicator; written independently."""
    rows = [(p, int(t), math.log(v), int(p in starts and t >= starts[p]))
            for p in panel.index for t, v in panel.loc[p].items() if not np.isnan(v)]
    return pd.DataFrame(rows, columns=["place", "year", "y", "d"])


def dummies(long: pd.DataFrame) -> np.ndarray:
    """Every place dummy and every year dummy but the first (full column rank)."""
    places = pd.get_dummies(long["place"]).to_numpy(float)
    years = pd.get_dummies(long["year"]).to_numpy(float)[:, 1:]
    return np.column_stack([places, years])


def cluster_sum(scores: np.ndarray, groups: pd.Series) -> np.ndarray:
    """sum_g (sum_{i in g} s_i)(sum_{i in g} s_i)' over clusters g."""
    total = pd.DataFrame(scores).groupby(groups.to_numpy()).sum().to_numpy()
    return total.T @ total


def twfe_by_hand(long: pd.DataFrame, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS on [x, place and year dummies]; CRV1 by place with fixest's small-sample factor
    (N-1)/(N-K) * G/(G-1), K = slopes + number of years (place effects nested in clusters)."""
    full = np.column_stack([x, dummies(long)])
    beta, *_ = np.linalg.lstsq(full, long["y"].to_numpy(), rcond=None)
    u = long["y"].to_numpy() - full @ beta
    bread = np.linalg.inv(full.T @ full)
    vcov = bread @ cluster_sum(full * u[:, None], long["place"]) @ bread
    n, g, k = len(long), long["place"].nunique(), x.shape[1] + long["year"].nunique()
    vcov *= (n - 1) / (n - k) * g / (g - 1)
    m = x.shape[1]
    return beta[:m], vcov[:m, :m]


def did2s_by_hand(long: pd.DataFrame, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gardner's two stages and the Butts-Gardner GMM sandwich, clustered by place:
    V = S (sum_g w_g w_g') S, S = (X2'X2)^-1, w_g = X2g'u2g - (X2'X1)(X10'X10)^-1 X10g'u1g."""
    x1 = dummies(long)
    untreated = long["d"].to_numpy() == 0
    x10 = x1 * untreated[:, None]
    first, *_ = np.linalg.lstsq(x1[untreated], long["y"].to_numpy()[untreated], rcond=None)
    u1 = long["y"].to_numpy() - x1 @ first
    beta, *_ = np.linalg.lstsq(x, u1, rcond=None)
    u2 = u1 - x @ beta
    proj = (x.T @ x1) @ np.linalg.pinv(x10.T @ x10)
    w = x * u2[:, None] - (x10 * u1[:, None]) @ proj.T
    s = np.linalg.inv(x.T @ x)
    return beta, s @ cluster_sum(w, long["place"]) @ s


# ---------------------------------------------------------------- pyfixest checked by hand

def test_twfe_equals_numpy_dummies_and_crv1_by_hand() -> None:
    panel, starts = make_panel(7)
    panel.iloc[3, 2] = np.nan  # a hole in a treated place: left out, never filled
    panel.iloc[40, 9] = np.nan
    r = did(panel, starts)
    long = long_by_hand(panel, starts)
    beta, vcov = twfe_by_hand(long, long[["d"]].to_numpy(float))
    assert r.twfe.estimate == pytest.approx(beta[0], abs=1e-8)
    assert r.twfe.se == pytest.approx(math.sqrt(vcov[0, 0]), rel=1e-6)
    assert r.sample.n_obs == len(long) == panel.notna().sum().sum()
    assert r.twfe.df == r.sample.n_clusters - 1 == 59


def test_did2s_equals_two_stages_and_gmm_sandwich_by_hand() -> None:
    panel, starts = make_panel(8)
    panel.iloc[5, 12] = np.nan
    r = did(panel, starts)
    long = long_by_hand(panel, starts)
    beta, vcov = did2s_by_hand(long, long[["d"]].to_numpy(float))
    assert r.robust.estimate == pytest.approx(beta[0], abs=1e-8)
    assert r.robust.se == pytest.approx(math.sqrt(vcov[0, 0]), rel=1e-6)
    # the two-stage estimate is the mean imputed effect over treated place-years
    assert r.robust.estimate != pytest.approx(r.twfe.estimate, abs=1e-6)


def event_x(long: pd.DataFrame, starts: dict[str, int], times: list[int],
            window: tuple[int, int]) -> np.ndarray:
    g = long["place"].map(starts)
    rel = (long["year"] - g).clip(*window)
    return np.column_stack([(rel == k).to_numpy(float) for k in times])


@pytest.mark.parametrize("estimator", ["twfe", "did2s"])
def test_event_study_equals_numpy_by_hand(estimator: str) -> None:
    panel, starts = make_panel(9)
    es = event_study(panel, starts, window=(-3, 4), estimator=estimator)  # type: ignore[arg-type]
    coefs = es.coefs[~es.coefs["reference"]]
    times = coefs["event_time"].tolist()
    assert times == [-3, -2, 0, 1, 2, 3, 4]
    long = long_by_hand(panel, starts)
    by_hand = twfe_by_hand if estimator == "twfe" else did2s_by_hand
    beta, vcov = by_hand(long, event_x(long, starts, times, (-3, 4)))
    np.testing.assert_allclose(coefs["estimate"], beta, atol=1e-8)
    np.testing.assert_allclose(coefs["se"], np.sqrt(np.diag(vcov)), rtol=1e-6)
    # pre-trend F on the leads, from the same covariance
    lead = [0, 1]
    f = beta[lead] @ np.linalg.inv(vcov[np.ix_(lead, lead)]) @ beta[lead] / 2
    assert es.pretrend is not None and es.pretrend.leads == (-3, -2)
    assert es.pretrend.statistic == pytest.approx(f, rel=1e-6)
    assert es.pretrend.df2 == 59


# ------------------------------------------------------------------------ known effects

def test_recovers_a_known_staggered_effect() -> None:
    # Estimates' spread over 200 seeds of this design: sd 0.0036 (TWFE), 0.0038 (did2s);
    # 0.012 is over 3 sd.
    r = did(*make_panel(0))
    for e in (r.twfe, r.robust):
        assert e.estimate == pytest.approx(EFFECT, abs=0.012)
        assert e.ci_low < EFFECT < e.ci_high
        assert e.p_value < 1e-6
    assert r.preferred == "did2s" and r.effect is r.robust
    assert r.sample.staggered and not r.sample.fragile and r.sample.log
    frame = r.to_frame().set_index("method")
    assert frame.loc["did2s", "percent"] == pytest.approx(100 * math.expm1(r.robust.estimate))


def test_no_effect_is_not_significant() -> None:
    r = did(*make_panel(1, effect=0.0))
    assert r.twfe.p_value > 0.05 and r.robust.p_value > 0.05
    assert r.twfe.ci_low < 0 < r.twfe.ci_high


@pytest.mark.parametrize("estimator", ["twfe", "did2s"])
def test_event_study_leads_near_zero_lags_near_effect(estimator: str) -> None:
    es = event_study(*make_panel(2), estimator=estimator)  # type: ignore[arg-type]
    c = es.coefs.set_index("event_time")
    assert c.loc[-1, "estimate"] == 0.0 and bool(c.loc[-1, "reference"])
    assert np.isnan(c.loc[-1, "se"])
    leads, lags = c.loc[[-5, -4, -3, -2]], c.loc[0:5]
    assert (leads["estimate"].abs() < 0.02).all()
    assert ((lags["estimate"] - EFFECT).abs() < 0.02).all()
    assert ((lags["ci_low"] < EFFECT) & (lags["ci_high"] > EFFECT)).mean() >= 0.8
    assert es.pretrend is not None and es.pretrend.p_value > 0.05
    assert es.pretrend.df1 == 4


def test_common_start_twfe_equals_two_stage() -> None:
    # One cohort, balanced panel: TWFE is the 2x2 DiD, as is the imputation estimator.
    panel, starts = make_panel(3, cohorts=(2012,))
    r = did(panel, starts)
    assert not r.sample.staggered and r.preferred == "twfe"
    assert r.twfe.estimate == pytest.approx(r.robust.estimate, abs=1e-10)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_estimates_close_to_truth_for_any_seed(seed: int) -> None:
    # 0.02 is over 5 sd of the estimates (see test_recovers_a_known_staggered_effect).
    r = did(*make_panel(seed))
    assert abs(r.twfe.estimate - EFFECT) < 0.02
    assert abs(r.robust.estimate - EFFECT) < 0.02


@settings(max_examples=15, deadline=None)
@given(shift=st.floats(-0.5, 0.5), place_scale=st.floats(-2, 2), year_scale=st.floats(-1, 1))
def test_fixed_effects_absorbed_and_effect_shifts_exactly(shift: float, place_scale: float,
                                                        year_scale: float) -> None:
    panel, starts = make_panel(4, places=20, treated=6, years=10, cohorts=(2008, 2010))
    base = did(panel, starts)
    rng = np.random.default_rng(0)
    a = place_scale * rng.normal(size=len(panel))
    b = year_scale * rng.normal(size=panel.shape[1])
    post = np.array([[p in starts and t >= starts[p] for t in panel.columns]
                     for p in panel.index])
    moved = panel * np.exp(a[:, None] + b[None, :] + shift * post)
    r = did(moved, starts)
    for old, new in ((base.twfe, r.twfe), (base.robust, r.robust)):
        assert new.estimate == pytest.approx(old.estimate + shift, abs=1e-9)
        assert new.se == pytest.approx(old.se, rel=1e-6)


# ---------------------------------------------------------------------- options and notes

def test_controls_subset_and_levels() -> None:
    panel, starts = make_panel(5)
    controls = [c for c in panel.index if c not in starts][:30]
    r = did(panel, starts, controls=controls)
    assert r.sample.controls == tuple(controls) and r.sample.n_clusters == 42
    levels = did(np.log(panel), starts)  # values around 10: positive, so logged by default
    assert levels.sample.log
    neg = np.log(panel) - 10.5  # some values <= 0: estimated in levels
    r = did(neg, starts)
    assert not r.sample.log and "levels" in r.sample.notes[0]
    assert r.twfe.estimate == pytest.approx(EFFECT, abs=0.012)
    assert "percent" not in r.to_frame().columns


def test_few_clusters_are_flagged_fragile() -> None:
    r = did(*make_panel(6, places=20, treated=3))
    assert r.sample.fragile and r.sample.n_clusters < MIN_CLUSTERS
    assert any("fragile" in n for n in r.sample.notes)


def test_thin_comparisons_and_years_are_left_out_with_a_note() -> None:
    panel, starts = make_panel(10, places=20, treated=4, cohorts=(2010,))
    panel.iloc[10] = np.nan
    panel.iloc[11, 1:] = np.nan  # one observed year only
    r = did(panel, starts)
    assert panel.index[10] not in r.sample.controls
    assert panel.index[11] not in r.sample.controls
    assert any("fewer than 2 observed years" in n for n in r.sample.notes)


def test_payloads_are_plain_json() -> None:
    panel, starts = make_panel(11, places=30, treated=6)
    r = did(panel, starts)
    back = json.loads(json.dumps(r.payload()))
    assert back["preferred"] == "did2s" and back["outcome"] == "log"
    assert back["sample"]["n_clusters"] == 30 and len(back["estimates"]) == 2
    es = event_study(panel, starts, window=(-2, 2))
    back = json.loads(json.dumps(es.payload()))
    assert [c["event_time"] for c in back["coefs"]] == [-2, -1, 0, 1, 2]
    assert back["coefs"][1]["se"] is None and back["pretrend"]["leads"] == [-2]
    assert list(es.to_frame().columns) == ["event_time", "estimate", "se", "ci_low", "ci_high",
                                           "p_value", "n_obs", "n_places", "reference"]


def test_event_study_bins_endpoints_and_notes_empty_times() -> None:
    panel, starts = make_panel(12, years=8, cohorts=(2009, 2010))  # 2005-2012
    es = event_study(panel, starts, window=(-2, 5))
    c = es.coefs.set_index("event_time")
    # leads -4..-2 are binned into -2: 6 places x 3 + 6 x 4 place-years
    assert c.loc[-2, "n_obs"] == 6 * 3 + 6 * 4
    assert c.loc[5, "n_obs"] == 0 and np.isnan(c.loc[5, "estimate"])
    assert any("event time(s) [4, 5]" in n for n in es.sample.notes)
    none = event_study(panel, starts, window=(-1, 2))
    assert none.pretrend is None and any("pre-trends" in n for n in none.sample.notes)


# ------------------------------------------------------------------------------- errors

@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, dict[str, int]]:
    return make_panel(13, places=10, treated=2, years=8, cohorts=(2008,))


def test_error_unknown_treated_place_suggests_close(small) -> None:
    panel, _ = small
    with pytest.raises(KeycitiesError, match=r"Unknown treated.*Did you mean: E00000001"):
        did(panel, {"E00000001x": 2008})


def test_error_unknown_control_and_overlap(small) -> None:
    panel, starts = small
    with pytest.raises(KeycitiesError, match="Unknown control"):
        did(panel, starts, controls=["nowhere"])
    with pytest.raises(KeycitiesError, match="both treated and controls"):
        did(panel, starts, controls=[*starts, panel.index[5]])


@pytest.mark.parametrize("start, message", [(2001, "outside the panel's years 2005-2012"),
                                            (2013, "outside the panel's years"),
                                            (2005, "no pre-period")])
def test_error_start_years(small, start: int, message: str) -> None:
    panel, _ = small
    with pytest.raises(KeycitiesError, match=message):
        did(panel, {panel.index[0]: start})


def test_error_no_observed_pre_period(small) -> None:
    panel, _ = small
    holes = panel.copy()
    holes.iloc[0, :3] = np.nan
    with pytest.raises(KeycitiesError, match="no observed year before its start 2008"):
        did(holes, {holes.index[0]: 2008})
    holes.iloc[0, 1] = 1.0
    with pytest.raises(KeycitiesError, match="only 1 observed year before"):
        did(holes, {holes.index[0]: 2008})


def test_error_no_controls(small) -> None:
    panel, _ = small
    with pytest.raises(KeycitiesError, match="No controls"):
        did(panel, dict.fromkeys(panel.index, 2008))
    with pytest.raises(KeycitiesError, match="No controls"):
        did(panel, {panel.index[0]: 2008}, controls=[])
    empty = panel.copy()
    empty.iloc[1:] = np.nan
    with pytest.raises(KeycitiesError, match="No controls"):
        did(empty, {panel.index[0]: 2008})


def test_error_all_missing_and_non_positive(small) -> None:
    panel, starts = small
    with pytest.raises(KeycitiesError, match="missing .NaN. for every place"):
        did(panel * np.nan, starts)
    bad = panel.copy()
    bad.iloc[4, 2] = 0.0
    with pytest.raises(KeycitiesError, match=r"log=True needs positive.*log=False"):
        did(bad, starts, log=True)


def test_error_bad_columns_window_estimator(small) -> None:
    panel, starts = small
    with pytest.raises(KeycitiesError, match="columns must be years"):
        did(panel.set_axis([f"y{c}" for c in panel.columns], axis=1), starts)
    with pytest.raises(KeycitiesError, match="must contain -1"):
        event_study(panel, starts, window=(0, 3))
    with pytest.raises(KeycitiesError, match="Unknown estimator"):
        event_study(panel, starts, estimator="ols")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- real data

TREATED = {"E08000026": 2012, "E06000026": 2016}  # Coventry from 2012, Plymouth from 2016


@pytest.mark.mirror
def test_injected_five_percent_in_real_productivity(built_store) -> None:
    from keycities.store.store import Store

    with Store(built_store) as store:
        facts = store.query(
            "SELECT area_code, period, value FROM fact WHERE measure = ? "
            "AND geography_vintage = 2023 AND regexp_matches(area_code, "
            "'^(E0[6-9]|W06|S12|N09)')", ["gva_per_filled_job"])
    panel = facts.assign(year=facts["period"].astype(int)).pivot(
        index="area_code", columns="year", values="value")
    assert panel.shape[0] > 300 and set(TREATED) <= set(panel.index)
    base = did(panel, TREATED)
    injected = panel.copy()
    for code, g in TREATED.items():
        injected.loc[code, [t for t in injected.columns if t >= g]] *= 1.05
    r = did(injected, TREATED)
    truth = math.log(1.05)
    # The injection adds exactly log(1.05) to both estimators (they are linear in y).
    assert r.twfe.estimate - base.twfe.estimate == pytest.approx(truth, abs=1e-9)
    assert r.robust.estimate - base.robust.estimate == pytest.approx(truth, abs=1e-9)
    # What is left is these two cities' own divergence from the other districts: measured
    # +0.021 (TWFE) and +0.020 (did2s); over 40 random pairs of districts treated from 2010
    # and 2015 it ranged -0.09..+0.06 (5-95%).  Tolerance 0.03 for this pair.
    assert r.effect.estimate == pytest.approx(truth, abs=0.03)
    assert r.twfe.estimate == pytest.approx(truth, abs=0.03)
    assert r.sample.fragile  # two treated places: the note must say so
    es = event_study(injected, TREATED, estimator="did2s")
    lags = es.coefs[es.coefs["event_time"] >= 0]
    assert lags["estimate"].notna().all()
