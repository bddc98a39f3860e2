"""The significance rule (intervals must not overlap) and the trend rule."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from keycities.analysis.indicators.compare import (
    Reference,
    judged,
    significance,
    trend,
)

ENGLAND = Reference("E92000001", "England", 9.0, 8.5, 9.5)


def test_significance_needs_intervals_that_do_not_overlap() -> None:
    places = pd.DataFrame({"value": [20.0, 5.0, 9.8, 12.0, float("nan")],
                           "lower": [18.0, 4.0, 9.4, float("nan"), float("nan")],
                           "upper": [22.0, 6.0, 10.2, float("nan"), float("nan")]})
    assert list(significance(places, ENGLAND)) == [
        "above", "below", "not distinguishable", "no interval published", "no value"]


def test_no_england_interval_means_no_claim() -> None:
    places = pd.DataFrame({"value": [20.0], "lower": [18.0], "upper": [22.0]})
    assert list(significance(places, Reference("E92000001", "England", 9.0))) == [
        "no interval published"]
    assert list(significance(places, None)) == ["no interval published"]


def test_better_or_worse_by_direction() -> None:
    assert judged("above", "higher_better") == "better"
    assert judged("above", "lower_better") == "worse"
    assert judged("below", "lower_better") == "better"
    assert judged("above", "neither") is None
    assert judged("not distinguishable", "higher_better") is None


def _series(values: list[float], start: int = 2016) -> pd.DataFrame:
    years = range(start, start + len(values))
    return pd.DataFrame({"period": [f"{y}-01-01/P1Y" for y in years],
                         "period_start": [dt.date(y, 1, 1) for y in years], "value": values})


@pytest.mark.parametrize(("place", "direction", "word"), [
    ([14, 13, 12, 11, 10], "lower_better", "improving"),  # gap to England 5 -> 1
    ([14, 13, 12, 11, 10], "higher_better", "worsening"),
    ([1, 2, 3, 4, 5], "lower_better", "worsening"),
    ([20, 20.02, 20, 20.02, 20], "lower_better", "flat"),  # within 1% of England's value
    ([1, 2, 3, 4, 5], "neither", "rising"),
])
def test_trend_against_england(place: list[float], direction: str, word: str) -> None:
    tr = trend(_series(place), _series([9.0] * 5), direction=direction,
               decimals=1)
    assert tr.word == word
    assert len(tr.periods) == 5


def test_trend_uses_the_last_five_periods_and_needs_three() -> None:
    tr = trend(_series([30, 30, 14, 13, 12, 11, 10]), _series([9.0] * 7),
               direction="lower_better", decimals=1)
    assert tr.periods[0] == "2018-01-01/P1Y" and tr.change == pytest.approx(-4.0, abs=0.01)
    short = trend(_series([5, 6]), _series([9.0, 9.0]), direction="lower_better", decimals=1)
    assert short.word == "not assessed" and short.change is None


def test_a_count_follows_its_share_of_england() -> None:
    # The place grows as fast as England: its share is flat although the gap widens.
    tr = trend(_series([100, 110, 121]), _series([1000, 1100, 1210]), direction="neither",
               decimals=0, share=True)
    assert tr.word == "flat"
