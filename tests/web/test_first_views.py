"""First views (issue 18 point 3): a page nobody asked for builds only what it shows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from keycities.analysis.testbed.outcomes import get_outcome
from keycities.present.indicators import number
from keycities.settings import Settings
from keycities.web import create_app
from keycities.web.indicator_pages import place_scorecard


@pytest.fixture(scope="module")
def client(built_store: Path) -> Any:
    with TestClient(create_app(Settings(store=built_store, offline=True))) as c:
        yield c


@pytest.mark.mirror
def test_compare_builds_no_outcome_panel_of_every_release(client: TestClient) -> None:
    """Compare used to build each outcome's panel of every release (seconds) for its unit
    alone; the unit is the one of the newest release's panel its rows come from."""
    res = client.app.state.resources  # type: ignore[attr-defined]
    r = client.get("/compare?places=Sunderland&places=Plymouth&format=json")
    assert r.status_code == 200, r.text[:500]
    assert res.panel.values == {}
    tables = r.json()["tables"]
    for outcome in ("population", "gva_current_prices", "gva_per_filled_job"):
        assert f"by year ({get_outcome(outcome).unit})" in tables[outcome]["caption"]


def _scorecard_alone(card: Any, code: str) -> dict[str, pd.DataFrame]:
    """A place's scorecard tables made from its own rows only (as before they were made
    once for every district)."""
    mine = card.ranks[card.ranks["code"] == code]
    rows = card.rows.merge(mine.drop(columns=["name"]), on="indicator", how="inner",
                           suffixes=("_net", ""))
    rows = rows[~rows["reason"].fillna("").str.startswith("not published for")]
    out = {}
    for area in card.areas:
        part = rows[rows["area"] == area]
        if part.empty:
            continue
        out[area] = pd.DataFrame({
            "Indicator": part["label"], "Period": part["period_label"], "Unit": part["unit"],
            "Value": [number(v, None if pd.isna(d) else int(d))
                      for v, d in zip(part["value"], part["decimals"], strict=True)],
            "England": [number(v, None if pd.isna(d) else int(d))
                        for v, d in zip(part["england"], part["decimals"], strict=True)],
            "Against England": [(f"{w} ({j})" if isinstance(j, str) and j else w)
                                if isinstance(w, str) else ""
                                for w, j in zip(part["vs_england"], part["judged"],
                                                strict=True)],
            "Rank": [f"{r} of {n}" if pd.notna(r) else "" for r, n in zip(
                part["rank"], part["of"], strict=True)],
            "Trend": part["trend"].fillna(""), "Id": part["indicator"]}).reset_index(drop=True)
    return out


@pytest.mark.mirror
def test_place_scorecards_made_once_equal_each_made_alone(client: TestClient) -> None:
    res = client.app.state.resources  # type: ignore[attr-defined]
    card = res.scorecard("districts", dt.date.today())
    for code in ("E08000024", "E06000026", "W06000022", "S12000036"):
        tables, _ = place_scorecard(res, code)
        alone = _scorecard_alone(card, code)
        assert list(tables) == list(alone) and tables, code
        for area, frame in alone.items():
            pd.testing.assert_frame_equal(tables[area], frame)

