"""Start-up stays light: heavy modules load only in the commands that need them (issue 16.9).

Times are measured by ``benchmarks/startup.py``; these tests check what is imported.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pandas", "numpy", "scipy", "highspy", "altair", "duckdb", "pyarrow", "shapely",
         "pydantic_settings", "sklearn", "pyfixest")

RUN = """
import json, sys
sys.argv = ["keycities", *json.loads(sys.argv[1])]
from keycities.cli import main
try:
    main()
except SystemExit:
    pass
sys.stderr.write("\\nLOADED " + json.dumps(sorted(m for m in json.loads(sys.argv_heavy)
                                                  if m in sys.modules)) + "\\n")
"""


def loaded(args: list[str], env: dict[str, str] | None = None) -> list[str]:
    """The heavy modules loaded by ``keycities ARGS`` run in a fresh interpreter."""
    code = RUN.replace("sys.argv_heavy", repr(json.dumps(HEAVY)))
    run = subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True,
                         text=True, env={**os.environ, **(env or {})}, timeout=300,
                         check=False)
    line = [x for x in run.stderr.splitlines() if x.startswith("LOADED ")]
    assert line, run.stderr
    return list(json.loads(line[-1].removeprefix("LOADED ")))


@pytest.mark.parametrize("args", [["--help"], ["twin", "--help"], ["testbed", "evaluate",
                                                                    "--help"],
                                  ["claims", "--help"]])
def test_help_loads_no_heavy_module(args: list[str]) -> None:
    assert loaded(args) == []


@pytest.mark.mirror
def test_headline_loads_no_solver_chart_or_geometry_module(built_store: Path) -> None:
    got = loaded(["headline"], env={"KEYCITIES_STORE": str(built_store)})
    assert "pandas" in got  # it ran
    assert not {"scipy", "highspy", "altair", "shapely", "sklearn", "pyfixest"} & set(got)


@pytest.mark.mirror
def test_testbed_evaluate_loads_charts_and_did_only_when_asked(built_store: Path) -> None:
    got = loaded(["testbed", "evaluate", "Hull:2016", "--no-did", "--workers", "1"],
                 env={"KEYCITIES_STORE": str(built_store)})
    assert "pandas" in got  # it ran
    assert not {"altair", "pyfixest"} & set(got)


def test_a_built_in_network_needs_no_place_resolver(tmp_path: Path) -> None:
    # The resolver's fuzzy name index is built only when a network file names places.
    from keycities.context import Context
    from keycities.settings import Settings

    ctx = Context(Settings(store=tmp_path / "none.duckdb"))
    today = dt.date.today()
    assert len(ctx.network("key-cities").members_at(today)) > 20
    assert "resolver" not in ctx.__dict__
    net = tmp_path / "n.csv"
    net.write_text("place\nSunderland\n")
    assert list(ctx.network(str(net)).members_at(today)["code"]) == ["E08000024"]
    assert "resolver" in ctx.__dict__
