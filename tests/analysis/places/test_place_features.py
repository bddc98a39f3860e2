"""Feature tables of every place set: a user's CSV, postcode districts and sectors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from keycities.analysis.places.from_store import lad_features_from_store, place_features
from keycities.analysis.places.params import default_contrast
from keycities.analysis.places.place_sets import csv_features
from keycities.analysis.places.postcodes import PlaceSet
from keycities.analysis.twinning.spec import TwinSpec
from keycities.analysis.twinning.twinning import inputs_from_features, twin
from keycities.cli import app
from keycities.errors import KeycitiesError
from keycities.store.store import Store

CSV = """code,name,lat,lon,income,green
A,Alpha,51.5,-0.1,10,0.2
B,Beta,53.4,-2.2,30,0.5
C,Gamma,55.9,-3.2,20,
D,Delta,50.4,-4.1,50,0.9
E,Eps,52.6,1.3,15,0.1
"""


@pytest.fixture
def places_csv(tmp_path: Path) -> Path:
    path = tmp_path / "places.csv"
    path.write_text(CSV)
    return path


def test_csv_places_are_standardised_with_the_gap_imputed_and_recorded(
        places_csv: Path) -> None:
    table = csv_features(PlaceSet.from_csv(places_csv))
    assert table.features == ["income", "green"]
    assert not table.z.isna().any().any()
    # Mean 0 over the observed values (the imputed one does not count).
    assert np.allclose(table.z.drop(index="C").mean()["green"], 0.0)
    gap = table.imputed[["place", "feature"]].to_records(index=False).tolist()
    assert gap == [("C", "green")]
    assert table.values.loc["C", "green"] != table.values.loc["C", "green"]  # still NaN
    assert table.centroids.loc["D", "lat"] == 50.4


def test_csv_places_twin_optimally_and_leave_one_out_of_an_odd_count(places_csv: Path) -> None:
    table = csv_features(PlaceSet.from_csv(places_csv))
    result = twin(inputs_from_features(table), TwinSpec(contrast=("income", "green")))
    assert len(result.pairs) == 2 and len(result.unpaired) == 1
    assert result.gap <= 1e-9
    # The pair with the biggest contrast is the lowest and highest on both features.
    assert {result.pairs.loc[0, "code_a"], result.pairs.loc[0, "code_b"]} == {"A", "D"}


def test_unknown_place_set_is_a_clear_error() -> None:
    with pytest.raises(KeycitiesError, match="lad, district, sector"):
        place_features(None, "wards")  # type: ignore[arg-type]
    assert default_contrast("sector")[0] == "oac_1"


def test_twin_and_peers_cli_on_a_csv(places_csv: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    store = str(tmp_path / "none.duckdb")
    r = runner.invoke(app, ["twin", "--places", str(places_csv), "--contrast", "income,green",
                            "--store", store, "--format", "json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert len(body["pairs"]) == 2 and body["certificate"]["gap"] <= 1e-9
    r = runner.invoke(app, ["peers", "Alpha", "--places", str(places_csv), "--k", "2",
                            "--store", store, "--format", "json"])
    assert r.exit_code == 0, r.output
    assert [p["code"] for p in json.loads(r.output)["peers"]] == ["E", "C"]


def test_postcode_districts_carry_their_lads_values(built_store: Path) -> None:
    with Store(built_store, read_only=True) as store:
        table = place_features(store, "district")
        lad = lad_features_from_store(store, vintage=2025, features=["gva_per_job"])
    assert 2800 < len(table.z) < 3200
    assert [f"oac_{k}" for k in range(1, 9)] == table.features[:8]
    assert {"postcodes", "leave_share", "gva_per_job", "earnings"} <= set(table.features)
    # SR1 lies in Sunderland: its lent values are Sunderland's own.
    assert table.values.loc["SR1", "gva_per_job"] == lad.values.loc["E08000024", "gva_per_job"]
    assert table.places.loc["SR1", "region"] == "North East"
    shares = table.values[[f"oac_{k}" for k in range(1, 9)]].dropna().sum(axis=1)
    assert np.allclose(shares, 1.0)
