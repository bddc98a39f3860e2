"""Testbed orchestration: parsing, evaluation, design and transfer from the store and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keycities.analysis.testbed.evaluate import DonorRules, parse_starts
from keycities.analysis.testbed.from_store import evaluate_from_store
from keycities.cli import app
from keycities.errors import KeycitiesError
from keycities.present.testbed import evaluation_charts
from keycities.store.store import Store

runner = CliRunner()


def test_parse_starts_reads_place_and_year_and_explains_mistakes() -> None:
    assert parse_starts(["Bradford:2015", "Kingston upon Hull:2016"]) == {
        "Bradford": 2015, "Kingston upon Hull": 2016}
    for bad in (["Bradford"], ["Bradford:"], [":2015"], ["Bradford:next"]):
        with pytest.raises(KeycitiesError, match="PLACE:YEAR"):
            parse_starts(bad)


def test_evaluation_uses_the_donor_rules_and_reports_provenance(built_store: Path) -> None:
    with Store(built_store, read_only=True) as store:
        result = evaluate_from_store(store, "gva_per_filled_job", {"Hull": 2016},
                                     rules=DonorRules(min_km=50, similar=30), with_did=True)
    pool = result.pool
    assert "E06000010" in pool.treated and len(pool.donors) == 30
    # East Riding of Yorkshire is next to Hull: never a donor with min_km=50.
    assert "E06000011" not in pool.donors and "km" in (pool.reason("E06000011") or "")
    body = result.payload()
    assert body["releases"][0]["id"] == "ons-productivity-la-2024-06"
    fit = result.synth.fits["E06000010"]
    assert set(fit.weights.index) <= set(pool.donors)
    assert result.did is not None and result.event_study is not None
    checks = result.robustness["E06000010"]
    assert set(checks) == {"placebo_time", "leave_one_out"}
    assert (checks["placebo_time"]["fake_start"] < 2016).all()
    assert set(checks["leave_one_out"]["dropped"]) <= set(fit.weights[fit.weights > 0].index)
    summary = result.summary()
    assert list(summary["code"]) == ["E06000010", ""]
    assert set(evaluation_charts(result)) >= {"observed_vs_synthetic_E06000010", "gap_E06000010",
                                    "event_study"}


def test_too_strict_donor_rules_are_a_clear_error(built_store: Path) -> None:
    from keycities.errors import ParameterError

    with Store(built_store, read_only=True) as store, \
            pytest.raises(ParameterError, match="comparison places") as caught:
        evaluate_from_store(store, "gva_per_filled_job", {"Hull": 2016},
                            rules=DonorRules(min_km=2000), with_did=False)
    # The rules in force, as the CLI spells them (str) and as the web does (its fields).
    assert str(caught.value).endswith("relax --min-km or --similar.")
    assert caught.value.worded(lambda name: name).endswith("relax min_km or similar.")


def test_testbed_cli_evaluate_design_transfer(built_store: Path, tmp_path: Path) -> None:
    store = str(built_store)
    r = runner.invoke(app, ["testbed", "evaluate", "Hull:2016", "--similar", "25", "--no-did",
                            "--charts", str(tmp_path / "charts"), "--store", store,
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert body["summary"][0]["code"] == "E06000010"
    assert (tmp_path / "charts" / "gap_E06000010.svg").read_text().startswith("<svg")
    r = runner.invoke(app, ["testbed", "design", "Hull", "--start", "2016", "--similar", "20",
                            "--store", store, "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["design"]["placebos"] == 20
    r = runner.invoke(app, ["testbed", "transfer", "Bradford", "Hull", "--k", "5",
                            "--store", store, "--format", "json"])
    assert r.exit_code == 0, r.output
    ranked = [row["code"] for row in json.loads(r.stdout)["ranking"]]
    assert len(ranked) == 5 and not {"E08000032", "E06000010"} & set(ranked)
    r = runner.invoke(app, ["testbed", "evaluate", "Nowhereville:2016", "--store", store])
    assert r.exit_code != 0 and "Nowhereville" in str(r.exception)
