"""Transfer ranking: distances and reasons by hand, coverage, errors, properties, mirror."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keycities.analysis.places.features import FeatureTable
from keycities.analysis.testbed.transfer import (
    CENTROID,
    coverage,
    fmt_value,
    select_features,
    transfer_ranking,
)
from keycities.errors import KeycitiesError, UnknownPlaceError

# Testbeds A(0, 0) and B(4, 0); C sits on their centroid (2, 0); D(0, 1) is next to A;
# E(9, 9) is far from both.  Equal weights (1/2 each):
#   D: to A sqrt(0.5 × 1) = 0.7071, to the centroid sqrt(0.5 × (4 + 1)) = 1.5811;
#   C: to A or B sqrt(0.5 × 4) = 1.4142, to the centroid 0.
HAND = {"f1": [0.0, 4.0, 2.0, 0.0, 9.0], "f2": [0.0, 0.0, 0.0, 1.0, 9.0]}
CODES = ["A", "B", "C", "D", "E"]
# Raw values: f1 is in £ per job, f2 a share; the log feature pop has raw 100 and 10,000
# at the testbeds, so the centroid's raw value is their geometric mean, 1,000.
RAW = {"f1": [40_000.0, 60_000.0, 50_000.0, 40_500.0, 90_000.0],
       "f2": [0.30, 0.30, 0.30, 0.35, 0.90],
       "pop": [100.0, 10_000.0, 1_000.0, 150.0, 5.0]}


def make_table(z: dict[str, list[float]], codes: list[str], *,
               raw: dict[str, list[float]] | None = None,
               units: dict[str, str] | None = None, logs: tuple[str, ...] = (),
               imputed: pd.DataFrame | None = None) -> FeatureTable:
    """A FeatureTable whose z-scores are exactly ``z`` (raw values ``raw`` or ``z``)."""
    idx = pd.Index(codes, name="code")
    zdf = pd.DataFrame(z, index=idx, dtype=float)
    values = pd.DataFrame(raw, index=idx, dtype=float) if raw is not None else zdf.copy()
    units = units or {}
    places = pd.DataFrame({"name": [f"{c}-town" for c in codes], "region": "R",
                           "country": "England", "region_code": "R",
                           "country_code": "E92000001", "lon": np.nan, "lat": np.nan},
                          index=idx)
    meta = pd.DataFrame({"feature": list(values.columns),
                         "label": [f"Label {f}" for f in values.columns],
                         "unit": [units.get(f, "") for f in values.columns],
                         "transform": ["log" if f in logs else "none" for f in values.columns],
                         "release_ids": [["r"]] * len(values.columns)})
    imp = imputed if imputed is not None else pd.DataFrame(
        columns=["place", "feature", "rule", "value", "reason"])
    return FeatureTable(values, zdf, meta, imp, pd.DataFrame(columns=["place", "reason"]),
                        places, 2023)


def hand_table() -> FeatureTable:
    z = {**HAND, "pop": [0.0, 0.0, 0.0, 0.0, 0.0]}
    return make_table(z, CODES, raw=RAW, units={"f1": "£ per filled job", "f2": "share"},
                      logs=("pop",))


def test_nearest_testbed_ranking_by_hand() -> None:
    r = transfer_ranking(hand_table(), ["A", "B"], features=["f1", "f2"], k=3)
    rows = r.ranking.set_index("code")
    assert list(r.ranking["code"]) == ["D", "C", "E"]
    assert rows.at["D", "distance"] == pytest.approx(math.sqrt(0.5))
    assert rows.at["D", "nearest_testbed"] == "A"
    assert rows.at["D", "distance_centroid"] == pytest.approx(math.sqrt(2.5))
    assert rows.at["C", "distance_nearest"] == pytest.approx(math.sqrt(2.0))
    assert rows.at["C", "nearest_testbed"] == "A"  # a tie: the first testbed given
    assert rows.at["C", "distance_centroid"] == pytest.approx(0.0)
    assert r.weights == {"f1": 0.5, "f2": 0.5} and r.by == "nearest"
    assert set(r.excluded["code"]) == {"A", "B"}
    assert not {"A", "B"} & set(r.ranking["code"])


def test_centroid_ranking_by_hand() -> None:
    r = transfer_ranking(hand_table(), ["A", "B"], features=["f1", "f2"], by="centroid")
    assert list(r.ranking["code"]) == ["C", "D", "E"]
    assert r.ranking["distance"].tolist()[:2] == pytest.approx([0.0, math.sqrt(2.5)])
    c = r.contributions
    assert set(c["reference"]) == {CENTROID}
    # The centroid's raw value is the mean of the testbeds' (geometric for log features).
    d = c[c["code"] == "D"].set_index("feature")
    assert d.at["f1", "raw_reference"] == pytest.approx(50_000.0)
    assert "Closest to the testbeds' centroid (d = 0.00" in r.ranking.at[0, "reason"]


def test_contributions_reasons_and_raw_values() -> None:
    table = hand_table()
    r = transfer_ranking(table, ["A", "B"], k=2)
    c = r.contributions
    d = c[c["code"] == "D"].set_index("feature")
    # D differs from A only on f2: all of d² comes from it.
    assert d.at["f2", "share"] == pytest.approx(1.0) and d.at["f1", "share"] == 0.0
    assert d.at["f2", "contribution"] == pytest.approx(1 / 3)
    assert (d.at["f2", "z_place"], d.at["f2", "z_reference"]) == (1.0, 0.0)
    assert (d.at["f1", "raw_place"], d.at["f1", "raw_reference"]) == (40_500.0, 40_000.0)
    assert d.at["f1", "unit"] == "£ per filled job"
    row = r.ranking.set_index("code").loc["D"]
    assert row["differ"] == "f2" and row["alike"].split(", ")[:2] == ["f1", "pop"]
    assert row["reason"].startswith("Closest to A-town (d = 0.58; 1.29 to the testbeds' "
                                    "centroid).")
    assert "Alike on Label f1 (£40,500 vs £40,000)" in row["reason"]
    assert "Differs most on Label f2 (35.0% vs 30.0%, 100% of d²)" in row["reason"]
    assert c.groupby("code")["share"].sum().to_numpy() == pytest.approx([1.0, 1.0])
    profile = r.testbed_profile
    assert profile.at["f1", "A"] == 40_000.0 and profile.at["f1", "B"] == 60_000.0
    assert (profile.at["f1", "z_low"], profile.at["f1", "z_high"]) == (0.0, 4.0)
    body = r.payload()
    json.dumps(body)
    assert body["ranking"][0]["contributions"][0]["feature"] == "f1"


def test_coverage_names_the_features_outside_the_range() -> None:
    r = transfer_ranking(hand_table(), ["A", "B"], features=["f1", "f2"])
    rows = r.ranking.set_index("code")
    assert rows.at["C", "coverage"] == 1.0 and not rows.at["C", "extrapolation"]
    assert "Within the testbeds' range on every weighted feature" in rows.at["C", "reason"]
    assert rows.at["D", "coverage"] == 0.5 and rows.at["D", "outside"] == "f2 above"
    assert rows.at["E", "outside"] == "f1 above, f2 above"
    assert "Outside the testbeds' range on 2 of 2 features (f1 above, f2 above): " \
           "transferring the result there is an extrapolation." in rows.at["E", "reason"]
    z = hand_table().z
    w = pd.Series({"f1": 1.0, "f2": 0.0, "pop": 0.0})
    # Only weighted features count: on f1 alone D lies inside [0, 4].
    assert coverage(z, ["A", "B"], w, ["D"]).at["D", "coverage"] == 1.0


def test_weights_presets_exclusions_and_imputed_values() -> None:
    imp = pd.DataFrame({"place": ["A"], "feature": ["f2"], "rule": ["median"],
                        "value": [0.0], "reason": ["not published"]})
    raw = {**RAW, "f2": [np.nan, 0.30, 0.30, 0.35, 0.90]}
    table = make_table({**HAND, "pop": [0.0] * 5}, CODES, raw=raw, imputed=imp)
    r = transfer_ranking(table, ["A", "B"], weights={"f1": 3.0, "f2": 1.0}, exclude=["D"])
    assert r.weights == {"f1": 0.75, "f2": 0.25}
    assert "D" not in set(r.ranking["code"])
    assert r.excluded.set_index("code").at["D", "reason"] == "excluded by the caller"
    assert any("Testbed A-town's f2 is imputed (median): not published" in n for n in r.notes)
    c = r.contributions.set_index(["code", "feature"])
    assert math.isnan(c.at[("C", "f2"), "raw_reference"])
    assert fmt_value(np.nan, "share") == "n/a (imputed)"
    one = transfer_ranking(table, ["A"], k=10)
    assert any("With one testbed" in n for n in one.notes)
    assert any("Only 4 places were left to rank (asked 10)" in n for n in one.notes)


def test_feature_selection_and_errors() -> None:
    table = hand_table()
    assert select_features(table, ["f*"]) == ["f1", "f2"]
    assert select_features(table, None) == ["f1", "f2", "pop"]
    with pytest.raises(KeycitiesError, match="Unknown feature 'f11'. Did you mean: f1"):
        transfer_ranking(table, ["A"], features=["f11"])
    with pytest.raises(UnknownPlaceError, match="Unknown place 'A-twn'. Did you mean: "
                                                "A-town \\(A\\)"):
        transfer_ranking(table, ["A-twn"])
    assert transfer_ranking(table, ["a-town"]).testbeds == ("A",)
    with pytest.raises(KeycitiesError, match="at least one testbed"):
        transfer_ranking(table, [])
    with pytest.raises(KeycitiesError, match="k must be at least 1"):
        transfer_ranking(table, ["A"], k=0)
    with pytest.raises(KeycitiesError, match="Unknown ranking 'median'"):
        transfer_ranking(table, ["A"], by="median")  # type: ignore[arg-type]
    with pytest.raises(KeycitiesError, match="No place is left"):
        transfer_ranking(table, ["A"], exclude=["B", "C", "D", "E"])
    with pytest.raises(KeycitiesError, match="Unknown weight preset"):
        transfer_ranking(table, ["A"], weights="everything")


def test_fmt_value_by_unit() -> None:
    assert fmt_value(48_536.9, "£ per filled job") == "£48,537"
    assert fmt_value(39.7, "£ per hour") == "£39.70"
    assert fmt_value(0.5423, "share of valid votes") == "54.2%"
    assert fmt_value(552_644.0, "persons") == "552,644"
    assert fmt_value(34.666, "score") == "34.7"


@st.composite
def tables(draw: st.DrawFn) -> tuple[FeatureTable, list[str]]:
    n = draw(st.integers(3, 9))
    f = draw(st.integers(1, 4))
    cell = st.floats(-3, 3, allow_nan=False).map(lambda x: round(x, 3))
    z = {f"f{j}": draw(st.lists(cell, min_size=n, max_size=n)) for j in range(f)}
    codes = [f"P{i}" for i in range(n)]
    testbeds = draw(st.lists(st.sampled_from(codes), min_size=1, max_size=n - 1, unique=True))
    return make_table(z, codes), testbeds


@settings(max_examples=40, deadline=None)
@given(tables(), st.sampled_from(["nearest", "centroid"]))
def test_properties_ranking(data: tuple[FeatureTable, list[str]], by: str) -> None:
    table, testbeds = data
    r = transfer_ranking(table, testbeds, k=50, by=by)  # type: ignore[arg-type]
    z = table.z.to_numpy()
    w = np.full(z.shape[1], 1 / z.shape[1])
    ranked = r.ranking
    assert not set(testbeds) & set(ranked["code"])
    assert len(ranked) == len(table.z) - len(testbeds)
    assert (np.diff(ranked["distance"].to_numpy()) >= -1e-12).all()
    tb = table.z.loc[testbeds].to_numpy()
    for row in ranked.itertuples():
        x = table.z.loc[row.code].to_numpy()
        brute = np.sqrt((x - tb) ** 2 @ w)
        assert row.distance_nearest == pytest.approx(brute.min(), abs=1e-9)
        centre = np.sqrt(((x - tb.mean(axis=0)) ** 2) @ w)
        assert row.distance_centroid == pytest.approx(centre, abs=1e-9)
        assert 0.0 <= row.coverage <= 1.0
        inside = (x >= tb.min(axis=0) - 1e-9) & (x <= tb.max(axis=0) + 1e-9)
        assert row.coverage == pytest.approx(inside.mean())
    shares = r.contributions.groupby("code")["share"].sum(min_count=1).dropna()
    assert shares.to_numpy() == pytest.approx(np.ones(len(shares)))


# ------------------------------------------------------------------ mirror


@pytest.mark.mirror
def test_transfer_from_two_key_cities(built_store: Path) -> None:
    from keycities.analysis.testbed.from_store import transfer_from_store
    from keycities.store.store import Store

    with Store(built_store, read_only=True) as store:
        r = transfer_from_store(store, ["Bradford", "Hull"], k=15)
    assert r.testbeds == ("E08000032", "E06000010") and r.vintage == 2023
    assert len(r.ranking) == 15
    assert not {"E08000032", "E06000010"} & set(r.ranking["code"])
    assert r.ranking["reason"].str.startswith("Closest to ").all()
    assert r.ranking["reason"].str.contains("Differs most on").all()
    assert (np.diff(r.ranking["distance"].to_numpy()) >= 0).all()
    assert set(r.ranking["nearest_testbed"]) <= {"E08000032", "E06000010"}
    assert "ons-productivity-la-2024-06" in r.releases
    assert r.ranking["coverage"].between(0, 1).all()
    json.dumps(r.payload())
