"""One indicator for every place: periods, ranking, comparators, members and network."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from keycities.analysis.indicators.core import (
    choose_period,
    comparators,
    period_table,
    rank_places,
    series_breaks,
)
from keycities.analysis.indicators.counts import Counts
from keycities.analysis.indicators.library import Library
from keycities.analysis.indicators.view import indicator_view
from keycities.errors import KeycitiesError

from .conftest import ENGLAND, C, D, E, W, rows_of

MEMBERS = pd.DataFrame({"code": [C, E, W], "name": ["Cee", "Ee", "Wye"]})


def test_periods_by_iso_label_or_year(values: pd.DataFrame) -> None:
    periods = period_table(rows_of(values, "rate"))
    assert choose_period(periods, None) == "2020-01-01/P1Y"
    assert choose_period(periods, "2018") == "2018-01-01/P1Y"
    assert choose_period(periods, "2017-01-01/P1Y") == "2017-01-01/P1Y"
    with pytest.raises(KeycitiesError, match="no period '2030'. Periods it has: 2016, 2017"):
        choose_period(periods, "2030")


def test_ranks_put_the_best_first_and_share_ties() -> None:
    df = pd.DataFrame({"area_code": ["a", "b", "c", "d"], "value": [3.0, 1.0, 1.0, None]})
    low = rank_places(df, direction="lower_better")
    assert list(low["area_code"]) == ["b", "c", "a", "d"]
    assert low["rank"].tolist()[:3] == [1, 1, 3] and pd.isna(low["rank"].iloc[3])
    assert low["of"].iloc[0] == 3
    assert list(rank_places(df, direction="higher_better")["area_code"])[0] == "a"


def test_comparators_are_the_sources_own_rows(values: pd.DataFrame) -> None:
    rows = rows_of(values, "rate")
    comp = comparators(rows[rows["period"] == "2020-01-01/P1Y"], {})
    assert list(comp["code"]) == [ENGLAND] and comp["value"].iloc[0] == 9.0


def test_a_series_that_joins_releases_says_so(values: pd.DataFrame) -> None:
    periods = period_table(rows_of(values, "pop"))
    notes = series_breaks(periods, list(periods["period"]))
    assert notes == ["Series break: 30 June 2016 is from release r-2017, 30 June 2020 from "
                     "r-2021 (each period is taken from the newest release that has it)."]


def _view(library: Library, values: pd.DataFrame, counts: Counts, lads: pd.DataFrame,
          indicator: str):
    return indicator_view(library.get(indicator), {"label": indicator, "decimals": 1},
                          rows_of(values, indicator), target=2020, lads=lambda _: lads,
                          counts=counts, members=MEMBERS)


def test_view_of_a_rate_for_a_network(library: Library, values: pd.DataFrame, counts: Counts,
                                      lads2020: pd.DataFrame) -> None:
    view = _view(library, values, counts, lads2020, "rate")
    ranked = view.ranking.set_index("code")
    assert ranked.at[E, "rank"] == 1 and ranked.at[C, "value"] == pytest.approx(12.5)
    assert ranked.at[E, "vs_england"] == "below" and ranked.at[E, "judged"] == "better"
    assert ranked.at[C, "vs_england"] == "no interval published"  # recomputed: no interval
    assert D not in ranked.index and list(ranked["member"]) == [True, False, True, True]
    # (50 + 5% of 200 + 15% of 100) / (400 + 200 + 100)
    assert view.network is not None
    assert view.network.value == pytest.approx((50 + 10 + 15) / 700 * 100)
    members = view.members.set_index("code")
    assert members.at[C, "trend"] == "improving" and members.at[E, "trend"] == "worsening"


def test_a_network_the_indicator_does_not_cover_gets_no_total(
        library: Library, values: pd.DataFrame, counts: Counts, lads2020: pd.DataFrame) -> None:
    view = _view(library, values, counts, lads2020, "score")
    assert view.network is not None and view.network.value is None
    assert view.network.missing[W] == ("not published for Wales: the source covers England "
                                       "only")
    assert "cannot be combined across a merge" in view.network.missing[C]


def test_an_indicator_with_no_district_values_says_so_for_each_member(
        library: Library, values: pd.DataFrame, counts: Counts, lads2020: pd.DataFrame) -> None:
    entry = replace(library.get("pop"), coverage="itl")
    rows = rows_of(values, "pop")
    view = indicator_view(entry, {"label": "pop"}, rows[rows["area_code"] == ENGLAND],
                          target=2020, lads=lambda _: lads2020, counts=counts, members=MEMBERS)
    assert view.ranking.empty and view.network is not None and view.network.value is None
    assert set(view.network.missing.values()) == {
        "not published for districts: ITL regions only"}
