"""Indicator queries on the store built from the mirror: one release per period, coverage."""

from __future__ import annotations

from pathlib import Path

import pytest

from keycities.store.indicators import indicator_catalogue, indicator_series
from keycities.store.store import Store

pytestmark = pytest.mark.mirror


def test_each_period_comes_from_the_newest_release_that_has_it(built_store: Path) -> None:
    with Store(built_store, read_only=True) as store:
        rows = indicator_series(store, ["real-gdp", "population-all-ages"])
        cat = indicator_catalogue(store).set_index("indicator")
    per = rows.groupby(["indicator", "period"])["release_id"].nunique()
    assert (per == 1).all()
    gdp = rows[rows["indicator"] == "real-gdp"]
    assert set(gdp["release_id"]) == {"ons-gva-la-2023-04"}  # it revises 1998-2020 too
    pop = rows[rows["indicator"] == "population-all-ages"]
    assert pop.groupby("period")["release_id"].first().nunique() == 3  # one release a year
    assert cat.at["claimant-count", "districts"] == 361
    assert cat.at["claimant-count", "nations"] == "ENSW"
    assert cat.at["value-of-uk-exports", "districts"] == 0
