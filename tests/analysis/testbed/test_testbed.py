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


CANDIDATES = "place\nSunderland\nPlymouth\nHull\nNorwich\nPreston\nExeter\nCoventry\n"


def test_testbed_cli_choose_and_rollout(built_store: Path, tmp_path: Path) -> None:
    store = str(built_store)
    cands = tmp_path / "candidates.csv"
    cands.write_text(CANDIDATES)
    r = runner.invoke(app, ["testbed", "choose", "--k", "2", "--candidates", str(cands),
                            "--grid", "20", "--similar", "12", "--min-donors", "5",
                            "--min-km", "50", "--workers", "1", "--max-imbalance", "2",
                            "--store", store, "--format", "json"])
    assert r.exit_code == 0, r.output
    body = json.loads(r.stdout)
    assert len(body["chosen"]) == 2
    assert body["objective"]["mde_bound"] <= (body["objective"]["mde"] or 1.0)
    assert {p["status"] for p in body["places"]} == {"testbed", "out"}
    assert all(p["reason"] for p in body["places"]) and body["frontier"]
    r = runner.invoke(app, ["testbed", "evaluate", "Plymouth:2016", "Norwich:2017", "--no-did",
                            "--similar", "15", "--workers", "1", "--store", store,
                            "--format", "json"])
    assert r.exit_code == 0, r.output
    evaluation = tmp_path / "ev.json"
    evaluation.write_text(r.stdout)
    pilots = json.loads(r.stdout)["synthetic_control"]["pilots"]
    assert all(p["se"] > 0 and p["conformal_p_zero"] is not None for p in pilots)
    r = runner.invoke(app, ["testbed", "rollout", str(evaluation), "--to", str(cands),
                            "--store", store, "--format", "json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert {p["code"] for p in out["places"]}.isdisjoint({"E06000026", "E07000148"})
    assert out["national"]["unit"] == "£ a year" and out["model"]["tau2"] >= 0
    r = runner.invoke(app, ["testbed", "choose", "--k", "9", "--candidates", str(cands),
                            "--store", store])
    assert r.exit_code != 0 and "only 7 candidates" in str(r.exception)
    r = runner.invoke(app, ["testbed", "choose", "--k", "2", "--candidates", str(cands),
                            "--grid", "20", "--similar", "12", "--min-donors", "5",
                            "--max-imbalance", "0.01", "--store", store])
    assert r.exit_code != 0 and "--max-imbalance" in str(r.exception)
