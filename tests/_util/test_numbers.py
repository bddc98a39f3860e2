"""The one parser of numbers in users' CSV cells (:mod:`keycities._util.numbers`)."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keycities._util.numbers import NumberError, iso_date, parse_number, parse_percent

PROPERTY = settings(max_examples=50, deadline=None, derandomize=True, database=None)


@PROPERTY
@given(x=st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_as_spreadsheets_write_it_reads_back(x: float) -> None:
    for text in (repr(x), str(x), f"{x:e}", f"{x:.17E}", f" {x!r}\t"):
        assert parse_number(text) == float(text)
    assert parse_number(repr(x)) == x


@PROPERTY
@given(n=st.integers(-10**30, 10**30))
def test_integers_read_back(n: int) -> None:
    assert parse_number(str(n)) == float(n)


@PROPERTY
@given(text=st.text(max_size=20) | st.text("0123456789.eE+-_ ", max_size=12))
def test_only_a_subset_of_what_float_reads_is_read(text: str) -> None:
    """Whatever is read, float() reads the same; it is finite, ASCII and has no '_'."""
    try:
        value = parse_number(text)
    except NumberError as exc:
        assert str(exc).startswith(("is not a number: ", "is too large"))
        return
    assert value == float(text) and math.isfinite(value)
    assert text.strip().isascii() and "_" not in text


@PROPERTY
@given(n=st.integers(1000, 10**12))
def test_digit_groups_with_underscores_are_refused(n: int) -> None:
    text = f"{n:_}"
    assert float(text) == n  # what float() alone would have accepted
    with pytest.raises(NumberError, match="'_' is not allowed"):
        parse_number(text)


@pytest.mark.parametrize(("text", "why"), [
    ("nan", "empty for a missing value"), ("-NaN", "empty for a missing value"),
    ("inf", "empty for a missing value"), ("+Infinity", "empty for a missing value"),
    ("1e309", "too large"), ("-9e999", "too large"),
    ("\u0661\u0662\u0663", "digits as 0-9"), ("\uff11.5", "digits as 0-9"),
    ("#N/A", "error value"), ("", "empty"), ("1,000", "thousands separator"),
    ("1.2.3", "digits 0-9"), ("e5", "digits 0-9"), (".", "digits 0-9"), ("--1", "digits 0-9"),
])
def test_what_float_reads_or_a_person_slips_into_is_refused(text: str, why: str) -> None:
    with pytest.raises(NumberError, match=why):
        parse_number(text)


@pytest.mark.parametrize("text", ["20200101", "2020-W01-1", "2020-1-5", "2020/01/05",
                                  "05-01-2020", "2020-01-05T00:00", "", "２０２０-01-05"])
def test_dates_must_be_written_yyyy_mm_dd(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        iso_date(text)


def test_iso_dates_are_read_and_impossible_ones_refused() -> None:
    assert iso_date(" 2020-01-05 ") == dt.date(2020, 1, 5)
    with pytest.raises(ValueError):
        iso_date("2021-02-30")


def test_every_front_end_refuses_a_compact_date(tmp_path: Path) -> None:
    from keycities.context import parse_date
    from keycities.errors import KeycitiesError, RegisterError
    from keycities.network.loader import load_network

    with pytest.raises(KeycitiesError, match="YYYY-MM-DD"):
        parse_date("20200101")
    path = tmp_path / "mine.csv"
    path.write_text("place,joined\nHull,2020-W01-1\n")
    with pytest.raises(RegisterError) as info:
        load_network(path, resolver=None)  # type: ignore[arg-type]
    assert any(p.startswith("line 2:") and "'2020-W01-1' is not a date" in p
               for p in info.value.problems), info.value.problems


@pytest.mark.parametrize(("text", "fraction"), [
    ("2", 0.02), ("2%", 0.02), (" -0.5% ", -0.005), ("0", 0.0), ("10", 0.1), ("0.02%", 0.0002)])
def test_percent_as_people_write_it(text: str, fraction: float) -> None:
    assert parse_percent(text, low=-10, high=10) == pytest.approx(fraction)


@pytest.mark.parametrize(("text", "says"), [
    ("0.02", "looks like a fraction: write 2 (or 2%) for 2% a year"),
    ("-40", "is outside -10% to 10%"), ("40%", "is outside"), ("two", "is not a number")])
def test_percent_refuses_what_is_likely_a_slip(text: str, says: str) -> None:
    with pytest.raises(NumberError, match=re.escape(says)):
        parse_percent(text, low=-10, high=10)
