"""``keycities indicators``, ``indicator`` and ``scorecard`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from keycities.cli import app
from keycities.errors import KeycitiesError

pytestmark = pytest.mark.mirror
runner = CliRunner()
WIDE = {"COLUMNS": "200"}


def _run(store: Path, *args: str) -> Result:
    return runner.invoke(app, [*args, "--store", str(store)], env=WIDE)


def test_indicator_json_is_strict_and_complete(built_store: Path) -> None:
    r = _run(built_store, "indicator", "claimant-count", "--network", "key-cities",
             "--at", "2024-06-01", "--format", "json")
    assert r.exit_code == 0, r.output
    body = json.loads(r.output, parse_constant=pytest.fail)
    assert body["period"] == "2025-01-01/P1Y" and body["network"]["id"] == "key-cities"
    assert body["network"]["value"]["rule"] == "ratio"
    assert {"significance", "trend", "combine", "rank"} <= set(body["rules"])
    sunderland = next(m for m in body["members"] if m["code"] == "E08000024")
    assert sunderland["value"] == 3.9 and sunderland["of"] == len(body["ranking"])


def test_catalogue_by_work_area_as_csv(built_store: Path) -> None:
    r = _run(built_store, "indicators", "--area", "health", "--format", "csv")
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].startswith("indicator,label,unit,area,")
    assert all(",health-and-social-care," in line for line in lines[1:])


@pytest.mark.parametrize(("args", "says"), [
    (["indicator", "claimant-cont"], "Unknown indicator 'claimant-cont'. Closest: claimant-count"),
    (["indicator", "claimant-count", "--period", "2030"], "Periods it has: 2001, 2002"),
    (["scorecard", "Sunderlnd", "--at", "2024-06-01"], "Networks: key-cities"),
    (["indicators", "--area", "sport"], "'sport' is not a work area"),
])
def test_bad_input_is_one_readable_error(built_store: Path, args: list[str], says: str) -> None:
    r = _run(built_store, *args)
    assert r.exit_code != 0
    exc = r.exception
    assert isinstance(exc, KeycitiesError) and says in str(exc), str(exc)


def test_scorecard_table_names_the_rules(built_store: Path) -> None:
    r = _run(built_store, "scorecard", "key-cities", "--at", "2024-06-01", "--area", "housing")
    assert r.exit_code == 0, r.output
    out = r.output
    assert "Housing: Key Cities on 2024-06-01 against England" in out
    assert "each member's rank among all districts" in out and "Significance:" in out
