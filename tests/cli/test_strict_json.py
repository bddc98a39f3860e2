"""`--format json` is one strict JSON document (RFC 8259) and nothing else (issue 16.1)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from keycities._util.plain import jsonable, strict_json
from keycities.cli import app
from keycities.cli.output import Format, print_frame

PLACES = """code,name,lat,lon,income,green
A,Alpha,51.5,-0.1,10,0.2
B,Beta,53.4,-2.2,30,0.5
C,Gamma,55.9,-3.2,20,0.4
D,Delta,50.4,-4.1,50,0.9
"""


def strict_loads(text: str) -> Any:
    """json.loads that refuses NaN, Infinity and -Infinity (as JSON.parse does)."""
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_jsonable_turns_infinities_into_null() -> None:
    assert jsonable([np.inf, -math.inf, np.float64("nan"), 1.5]) == [None, None, None, 1.5]


def test_strict_json_nulls_non_finite_values_and_says_why() -> None:
    text = strict_json({"ratio": np.float64(np.inf), "rows": [1.0, -math.inf], "ok": 2})
    body = strict_loads(text)
    assert body["ratio"] is None and body["rows"] == [1.0, None] and body["ok"] == 2
    where = {n["path"]: n for n in body["null_values"]}
    assert set(where) == {"$.ratio", "$.rows[1]"}
    assert where["$.ratio"]["was"] == "inf" and "not a finite number" in where["$.ratio"]["reason"]


def test_print_frame_json_is_strict(capsys: pytest.CaptureFixture[str]) -> None:
    df = pd.DataFrame({"place": ["a", "b"], "ratio": [np.inf, 1.0]})
    print_frame(df, Format.json)
    assert strict_loads(capsys.readouterr().out)["data"][0]["ratio"] is None
    print_frame(df, Format.json, payload={"fits": [{"ratio": float("inf")}]})
    assert strict_loads(capsys.readouterr().out)["fits"][0]["ratio"] is None


def test_twin_json_on_the_real_stdout_is_only_json(tmp_path: Path) -> None:
    # A subprocess, so that anything the solver writes to file descriptor 1 (the
    # HiGHS banner) would land in stdout and break the document.
    places = tmp_path / "places.csv"
    places.write_text(PLACES)
    env = {**os.environ, "KEYCITIES_STORE": str(tmp_path / "none.duckdb")}
    run = subprocess.run([sys.executable, "-m", "keycities.cli", "twin", "--places", str(places),
                          "--contrast", "income,green", "--format", "json"],
                         capture_output=True, text=True, env=env, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert len(strict_loads(run.stdout)["pairs"]) == 2


def test_every_highs_solver_the_package_makes_is_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    import highspy

    from keycities.analysis.testbed import _choose_mip
    from keycities.analysis.twinning import lp

    made: list[Any] = []
    real = highspy.Highs

    def recording() -> Any:
        made.append(real())
        return made[-1]

    monkeypatch.setattr(highspy, "Highs", recording)
    lp.DegreeLP(4)
    n = 3
    model = _choose_mip.Model(
        k=1, z=np.ones((n, 2)), effects=np.array([0.01, 0.02]), critical=1.0,
        s=np.zeros((n, 1)), region=np.array(["a", "b", "c"]), close=[],
        lost=np.zeros((n, n)), donors=np.full(n, 5), min_donors=1, max_per_region=None,
        max_imbalance=None, require=np.zeros(n, bool), allowed=np.ones(n, bool))
    _choose_mip.solve_lexicographic(model, time_limit=5.0)
    assert len(made) >= 2
    assert all(h.getOptions().output_flag is False for h in made)


@pytest.mark.mirror
def test_testbed_evaluate_json_is_strict_with_an_exact_pre_fit(built_store: Path) -> None:
    # Bradford's pre-period fit is exact: its RMSPE ratio is infinite.
    r = CliRunner().invoke(app, ["testbed", "evaluate", "Bradford:2015", "Hull:2016",
                                 "--min-km", "50", "--no-did", "--store", str(built_store),
                                 "--format", "json"])
    assert r.exit_code == 0, r.output
    body = strict_loads(r.stdout)
    assert any("ratio is infinite" in n for n in body["notes"])


def test_twin_geojson_is_written_with_the_umask_mode(tmp_path: Path) -> None:
    places = tmp_path / "places.csv"
    places.write_text(PLACES)
    out = tmp_path / "pairs.geojson"
    mask = os.umask(0o022)
    try:
        r = CliRunner().invoke(app, ["twin", "--places", str(places), "--contrast",
                                     "income,green", "--geojson", str(out), "--store",
                                     str(tmp_path / "none.duckdb")])
    finally:
        os.umask(mask)
    assert r.exit_code == 0, r.output
    assert out.stat().st_mode & 0o777 == 0o644
    assert len(strict_loads(out.read_text())["features"]) == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.mirror
@pytest.mark.parametrize("args", [["twin", "--network", "key-cities", "--min-km", "150"],
                                  ["testbed", "choose", "--k", "2", "--grid", "40"],
                                  ["testbed", "evaluate", "Bradford:2015", "Hull:2016",
                                   "--min-km", "50"],
                                  ["headline"], ["peers", "Sunderland", "--k", "5"]])
def test_json_of_the_solver_commands_is_strict_on_the_real_stdout(
        built_store: Path, args: list[str]) -> None:
    # HiGHS solves in-process (twinning's LP, the testbed MIP, the synthetic control's
    # linprog), pyfixest fits the DiD: anything written to file descriptor 1 would
    # come before the document.
    env = {**os.environ, "KEYCITIES_STORE": str(built_store)}
    run = subprocess.run([sys.executable, "-m", "keycities.cli", *args, "--format", "json"],
                         capture_output=True, text=True, env=env, timeout=900, check=False)
    assert run.returncode == 0, run.stderr
    assert isinstance(strict_loads(run.stdout), dict)
