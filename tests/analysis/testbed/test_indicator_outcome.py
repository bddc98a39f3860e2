"""Any library indicator as a testbed outcome or a peer / twinning feature (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from keycities.analysis.places.from_store import lad_features_from_store
from keycities.analysis.testbed.from_store import outcome_panel
from keycities.analysis.testbed.outcomes import OUTCOMES, get_outcome
from keycities.analysis.twinning.from_store import twin_from_store
from keycities.analysis.twinning.spec import TwinSpec
from keycities.cli import app as cli
from keycities.errors import KeycitiesError
from keycities.store.store import Store


def test_a_library_id_is_an_outcome_and_a_typo_names_the_closest() -> None:
    spec = get_outcome("claimant-count")
    assert spec.library and spec.key == "claimant-count" and spec.kind == "ratio"
    assert not get_outcome("gva_per_filled_job").library
    with pytest.raises(KeycitiesError, match="Did you mean: claimant-count"):
        get_outcome("claimant-cont")
    assert "claimant-count" not in OUTCOMES


def _indicator(store: Path, *args: str) -> dict:
    r = CliRunner().invoke(cli, ["indicator", *args, "--store", str(store), "--format",
                                 "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.mark.mirror
def test_an_indicator_panel_holds_the_values_keycities_indicator_ranks(
        built_store: Path) -> None:
    shown = _indicator(built_store, "claimant-count")
    with Store(built_store, read_only=True) as store:
        panel = outcome_panel(store, "claimant-count")
        features = lad_features_from_store(store, vintage=shown["vintage"],
                                           features=["population", "claimant-count"])
    year = int(shown["period"][:4])
    assert panel.vintage == shown["vintage"] and max(panel.years) == year
    assert panel.label == shown["meta"]["label"]
    expected = {r["code"]: r["value"] for r in shown["ranking"]}
    got = panel.values[year].dropna().to_dict()
    assert got.keys() == expected.keys()
    assert np.allclose([got[c] for c in expected], list(expected.values()))
    assert panel.release_of(year) == [shown["meta"]["release_id"]]
    feature = features.values["claimant-count"].dropna().to_dict()
    assert np.allclose([feature[c] for c in expected], list(expected.values()))
    assert list(features.values.columns) == ["population", "claimant-count"]


@pytest.mark.mirror
def test_twinning_contrasts_a_library_indicator(built_store: Path) -> None:
    spec = TwinSpec(mode="bridge", contrast=("claimant-count",), min_km=150)
    with Store(built_store, read_only=True) as store:
        result = twin_from_store(store, spec)
    assert len(result.pairs) > 0
    # the reason names the indicator in words (its label), not by its id
    assert result.pairs["why"].str.contains("Claimant Count").all()
    assert not result.pairs["why"].str.contains("claimant-count").any()


@pytest.mark.mirror
def test_an_unknown_feature_says_library_ids_are_accepted(built_store: Path) -> None:
    with Store(built_store, read_only=True) as store, pytest.raises(
            KeycitiesError, match="any indicator id of the library"):
        lad_features_from_store(store, features=["no-such-indicator"])
