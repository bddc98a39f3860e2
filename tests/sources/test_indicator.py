"""Tests for the indicator frames' reference periods (ISO 8601 dates and intervals)."""

from __future__ import annotations

import datetime as dt

import pytest

from keycities.sources._indicator import Period, year_period


@pytest.mark.parametrize(("text", "end", "label"), [
    ("2023-01-01/P1Y", dt.date(2023, 12, 31), "2023"),
    ("2021-01-01/P3Y", dt.date(2023, 12, 31), "2021 to 2023"),
    ("2019-01-01/P5Y", dt.date(2023, 12, 31), "2019 to 2023"),
    ("2023-04-01/P1Y", dt.date(2024, 3, 31), "2023/24"),
    ("2019-08-01/P1Y", dt.date(2020, 7, 31), "2019/20"),
    ("2024-09-01/P1Y", dt.date(2025, 8, 31), "2024/25"),
    ("2099-04-01/P1Y", dt.date(2100, 3, 31), "2099/00"),
    ("2021-04-01/P3Y", dt.date(2024, 3, 31), "April 2021 to March 2024"),
    ("2012-02-01/P1Y", dt.date(2013, 1, 31), "February 2012 to January 2013"),
    ("2012-05-15/P1Y", dt.date(2013, 5, 14), "15 May 2012 to 14 May 2013"),
    ("2015-11-16/P2Y", dt.date(2017, 11, 15), "16 November 2015 to 15 November 2017"),
    ("2008-04-16/P1Y", dt.date(2009, 4, 15), "16 April 2008 to 15 April 2009"),
    ("2023-07-01/P1M", dt.date(2023, 7, 31), "July 2023"),
    ("2024-02-01/P1M", dt.date(2024, 2, 29), "February 2024"),
    ("2023-01-01/P3M", dt.date(2023, 3, 31), "January 2023 to March 2023"),
    ("2023-01-01/P1M10D", dt.date(2023, 2, 10), "1 January 2023 to 10 February 2023"),
    ("2021-09-30", dt.date(2021, 9, 30), "30 September 2021"),
    ("2025-04-30", dt.date(2025, 4, 30), "30 April 2025"),
])
def test_period_forms(text: str, end: dt.date, label: str) -> None:
    p = Period.parse(text)
    assert p.iso == text
    assert p.end == end
    assert p.label == label


def test_month_end_clipped() -> None:
    assert Period.parse("2024-01-31/P1M").end == dt.date(2024, 2, 28)


def test_year_period() -> None:
    assert year_period(2023) == "2023-01-01/P1Y"
    assert year_period(2023, start_month=4) == "2023-04-01/P1Y"


@pytest.mark.parametrize("text", ["2023", "2023-01-01/P", "2023-01-01/1Y", "23-01-01", ""])
def test_not_a_period(text: str) -> None:
    with pytest.raises(ValueError, match="is not a period"):
        Period.parse(text)


def test_periods_order_by_start() -> None:
    assert sorted([Period.parse("2023-01-01/P1Y"), Period.parse("2021-01-01/P3Y")])[0] == \
        Period.parse("2021-01-01/P3Y")
