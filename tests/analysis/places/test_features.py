"""Place features: standardising and missing-value rules on tiny tables; LADs on the mirror."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from keycities.analysis.places.features import standardise
from keycities.errors import KeycitiesError
from keycities.geography.spatial import area_km2


def table(**cols: list[float | None]) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    return pd.DataFrame(cols, index=pd.Index([f"P{i}" for i in range(n)], name="code"),
                        dtype=float)


def test_z_scores_by_hand_with_mean_and_sd_recorded() -> None:
    ft = standardise(table(a=[1.0, 2.0, 3.0], b=[10.0, 10.0, 40.0]))
    sd_a = math.sqrt(2 / 3)  # population sd (ddof=0) of 1, 2, 3
    assert ft.z["a"].tolist() == pytest.approx([-1 / sd_a, 0.0, 1 / sd_a])
    assert ft.z["b"].tolist() == pytest.approx([-1 / math.sqrt(2), -1 / math.sqrt(2),
                                                math.sqrt(2)])
    meta = ft.meta.set_index("feature")
    assert meta.at["a", "mean"] == 2.0 and meta.at["a", "sd"] == pytest.approx(sd_a)
    assert meta.at["a", "transform"] == "none" and meta.at["a", "observed"] == 3
    assert ft.imputed.empty and ft.excluded.empty


def test_log_transform_is_stated_and_applied_before_standardising() -> None:
    ft = standardise(table(pop=[1.0, math.e, math.e ** 2]), log=["pop"])
    meta = ft.meta.set_index("feature")
    assert meta.at["pop", "transform"] == "log"
    assert meta.at["pop", "mean"] == pytest.approx(1.0)
    assert ft.values["pop"].iloc[1] == pytest.approx(math.e), "raw values stay raw"
    assert ft.z["pop"].iloc[1] == pytest.approx(0.0)


def test_log_of_a_non_positive_value_is_refused() -> None:
    with pytest.raises(KeycitiesError, match="cannot be log-transformed"):
        standardise(table(pop=[0.0, 1.0]), log=["pop"])
    with pytest.raises(KeycitiesError, match="not features of the table"):
        standardise(table(pop=[1.0, 2.0]), log=["density"])


def test_median_imputation_is_recorded_with_its_reason() -> None:
    values = table(a=[1.0, None, 3.0, 5.0], b=[1.0, 2.0, None, 4.0])
    reasons = pd.DataFrame({"place": ["P1"], "feature": ["a"], "reason": ["suppressed"]})
    ft = standardise(values, reasons=reasons)
    imp = ft.imputed.set_index(["place", "feature"])
    assert imp.at[("P1", "a"), "value"] == 3.0 and imp.at[("P1", "a"), "rule"] == "median"
    assert imp.at[("P1", "a"), "reason"] == "suppressed"
    assert imp.at[("P2", "b"), "reason"] == "no value in the source"
    # mean and sd from the observed values only (1, 3, 5): the imputed 3 does not shrink sd
    meta = ft.meta.set_index("feature")
    assert meta.at["a", "sd"] == pytest.approx(np.std([1.0, 3.0, 5.0]))
    assert meta.at["a", "imputed"] == 1
    assert ft.z.loc["P1", "a"] == pytest.approx(0.0)
    assert np.isnan(ft.values.loc["P1", "a"]), "raw values keep the gap"


def test_exclude_rule_drops_places_and_says_why() -> None:
    values = table(a=[1.0, None, 3.0, 5.0], b=[1.0, 2.0, None, 4.0])
    reasons = pd.DataFrame({"place": ["P1"], "feature": ["a"], "reason": ["suppressed"]})
    ft = standardise(values, impute="exclude", reasons=reasons)
    assert list(ft.z.index) == ["P0", "P3"]
    why = ft.excluded.set_index("place")["reason"]
    assert why["P1"] == "missing a: suppressed"
    assert why["P2"] == "missing b: no value in the source"
    assert ft.imputed.empty
    assert ft.to_frame().set_index("code")["kept"].tolist() == [True, False, False, True]


def test_bad_rule_and_nothing_left_are_errors() -> None:
    with pytest.raises(KeycitiesError, match="Unknown missing-value rule"):
        standardise(table(a=[1.0, 2.0]), impute="mean")  # type: ignore[arg-type]
    with pytest.raises(KeycitiesError, match="No place is left"):
        standardise(table(a=[1.0, None], b=[None, 2.0]), impute="exclude")


def test_constant_and_empty_features_are_noted() -> None:
    ft = standardise(table(a=[1.0, 2.0], c=[5.0, 5.0], e=[None, None]))
    assert "e" not in ft.z.columns
    assert ft.z["c"].tolist() == [0.0, 0.0]
    assert any("c does not vary" in n for n in ft.notes)
    assert any("e has no value" in n for n in ft.notes)


def test_payload_is_plain_json() -> None:
    meta = pd.DataFrame({"feature": ["a"], "label": ["A"], "unit": ["u"], "period": ["2020"],
                         "release_ids": [["r1"]]})
    ft = standardise(table(a=[1.0, None, 3.0]), meta=meta)
    out = json.loads(json.dumps(ft.payload()))
    assert out["releases"] == ["r1"]
    assert out["imputed"][0]["place"] == "P1"
    assert out["features"][0]["label"] == "A"


def test_area_of_a_one_km_square() -> None:
    from pyproj import Transformer

    to_ll = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    x0, y0 = 430_000.0, 560_000.0  # near Sunderland
    ring = [to_ll.transform(x, y) for x, y in
            [(x0, y0), (x0 + 1000, y0), (x0 + 1000, y0 + 1000), (x0, y0 + 1000), (x0, y0)]]
    geom = json.dumps({"type": "Polygon", "coordinates": [ring]})
    assert area_km2(["E08000024"], [geom])[0] == pytest.approx(1.0, rel=1e-6)


# ------------------------------------------------------------------ mirror


@pytest.fixture(scope="module")
def lad_table(built_store: Path):  # type: ignore[no-untyped-def]
    from keycities.analysis.places.from_store import lad_features_from_store
    from keycities.store.store import Store

    with Store(built_store, read_only=True) as store:
        return lad_features_from_store(store, vintage=2023)


@pytest.mark.mirror
def test_lad_features_2023(lad_table) -> None:  # type: ignore[no-untyped-def]
    ft = lad_table
    assert ft.z.shape == (361, 15) and not ft.z.isna().any().any()
    assert {f"oac_{i}" for i in range(1, 9)} <= set(ft.features)
    assert "E08000016" in ft.z.index and "E08000038" not in ft.z.index, "2023 Barnsley code"
    shares = ft.values[[f"oac_{i}" for i in range(1, 9)]].sum(axis=1)
    assert shares.to_numpy() == pytest.approx(np.ones(361))
    sunderland = ft.values.loc["E08000024"]
    # Electoral Commission: Sunderland Leave 82,394 of 134,324 valid votes.
    assert sunderland["leave_share"] == pytest.approx(82_394 / 134_324)
    assert ft.names["E08000024"] == "Sunderland" and ft.regions["E08000024"] == "North East"
    assert ft.regions["W06000015"] == "Wales"
    lon, lat = ft.centroids.loc["E08000024"]
    assert -1.6 < lon < -1.3 and 54.8 < lat < 55.0


@pytest.mark.mirror
def test_lad_imputations_are_documented(lad_table) -> None:  # type: ignore[no-untyped-def]
    imp = lad_table.imputed
    imd = imp[imp["feature"] == "imd_score"].set_index("place")["reason"]
    assert len(imd) == 22 + 32 + 11 + 7  # Wales, Scotland, NI, and 7 merged English LADs
    assert "England only (Scotland" in imd["S12000036"]
    assert "merge of E07000026,E07000028,E07000029" in imd["E06000063"]  # Cumberland
    leave = imp[imp["feature"] == "leave_share"].set_index("place")["reason"]
    assert sorted(leave.index) == sorted(c for c in lad_table.z.index if c.startswith("N09"))
    assert leave.str.contains("Northern Ireland as a whole").all()
    assert (imp["rule"] == "median").all()


@pytest.mark.mirror
def test_lad_feature_provenance(lad_table) -> None:  # type: ignore[no-untyped-def]
    meta = lad_table.meta.set_index("feature")
    assert meta.at["gva_per_head", "period"] == "2021"
    assert meta.at["gva_per_head", "release_ids"] == ["ons-gva-la-2023-04",
                                                      "ons-mye-mid2021-lad2021"]
    assert meta.at["gva_per_job", "release_ids"] == ["ons-productivity-la-2024-06"]
    assert meta.at["leave_share", "release_ids"] == ["ec-eu-referendum-2016"]
    assert set(meta.loc[meta["transform"] == "log"].index) == {
        "population", "gva_per_head", "postcode_density"}
    assert all(len(r) for r in meta["release_ids"])


@pytest.mark.mirror
def test_exclude_rule_on_the_mirror(built_store: Path) -> None:
    from keycities.analysis.places.from_store import lad_features_from_store
    from keycities.store.store import Store

    with Store(built_store, read_only=True) as store:
        ft = lad_features_from_store(store, features=["imd_score", "population"],
                                     impute="exclude")
        with pytest.raises(KeycitiesError, match="Unknown feature 'gdp'"):
            lad_features_from_store(store, features=["gdp"])
    assert list(ft.z.columns) == ["imd_score", "population"]
    assert len(ft.z) == 289 and len(ft.excluded) == 72
    assert not ft.z.index.str.startswith(("S", "W", "N")).any()
