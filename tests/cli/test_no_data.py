"""With no mirror and no network, every command says what data it lacks and how to
get it (issue 16.3): a store built offline from the package's data alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keycities.cli import app

HOW = "keycities build --mirror DIR"
"""Every message says how to get the data (a mirror, or where the URLs are reachable)."""


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str | None]:
    """Environment of a store built with no mirror and no network (package data only)."""
    from keycities.settings import Settings
    from keycities.store.build import build_store
    from keycities.store.store import Store

    root = tmp_path_factory.mktemp("offline")
    settings = Settings(store=root / "k.duckdb", mirror=None, cache=root / "cache",
                        offline=True)
    with Store(settings.store) as store:
        build_store(store, settings)
    return {"KEYCITIES_STORE": str(settings.store), "KEYCITIES_MIRROR": None,
            "KEYCITIES_CACHE": str(root / "cache"), "KEYCITIES_OFFLINE": "1"}


def run(env: dict[str, str | None], *args: str) -> tuple[int, str, str]:
    """(exit code, stdout, the error's message) of ``keycities ARGS``."""
    r = CliRunner().invoke(app, list(args), env=env)
    return r.exit_code, r.stdout, "" if r.exception is None else str(r.exception)


@pytest.mark.parametrize("args", [["peers", "Sunderland"], ["twin"]])
def test_peers_and_twin_name_the_missing_lists_and_how_to_get_them(
        offline: dict[str, str | None], args: list[str]) -> None:
    code, out, message = run(offline, *args)
    assert code != 0 and out == ""
    assert "official LAD lists" in message and HOW in message
    assert "crosswalk" not in message  # not the mapping's internal complaint


@pytest.mark.parametrize("args", [["productivity"],
                                  ["testbed", "evaluate", "Hull:2016", "--no-did"]])
def test_figures_name_the_releases_they_need(offline: dict[str, str | None],
                                             args: list[str]) -> None:
    code, _, message = run(offline, *args)
    assert code != 0
    assert "It comes from ons-productivity-la-2024-06" in message and HOW in message


def test_claims_audit_says_cannot_be_checked_per_claim(offline: dict[str, str | None]) -> None:
    code, out, message = run(offline, "claims", "audit", "--format", "json")
    assert code == 0, message
    claims = {c["id"]: c for c in json.loads(out)["claims"]}
    assert len(claims) >= 17
    leave = claims["d002-leave-share"]
    assert leave["verdict"] == "cannot be checked"
    assert any("ec-eu-referendum-2016" in r and "--mirror DIR" in r for r in leave["reasons"])
    jobs = claims["d004-jobs"]
    assert jobs["verdict"] == "cannot be checked"
    assert any("ons-productivity-la-2024-06" in r for r in jobs["reasons"])


def test_fetch_fails_when_no_file_can_be_got(offline: dict[str, str | None],
                                             tmp_path: Path) -> None:
    env = {**offline, "KEYCITIES_CACHE": str(tmp_path / "cache")}
    r = CliRunner().invoke(app, ["fetch", "--format", "csv"], env=env)
    assert r.exit_code == 1
    assert "could not be got" in r.stderr and "KEYCITIES_MIRROR" in r.stderr
    named = CliRunner().invoke(app, ["fetch", "population", "--format", "csv"], env=env)
    assert named.exit_code == 1
