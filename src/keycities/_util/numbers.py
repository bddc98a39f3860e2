"""Numbers and dates as a person writes them (one parser each for every user input).

Python's ``float()`` accepts far more than a spreadsheet user means by a
number: ``1_000`` (read as 1000), ``nan``, ``inf`` and ``infinity`` in any
case, ``1e400`` (read as infinity) and digits of other scripts (``١٢٣``,
full-width ``１２３``).  A cell holding one of those is almost always a slip, a
marker of a missing value or a spreadsheet's error value, and is reported
rather than read.

Accepted, after surrounding whitespace is dropped: an optional sign, ASCII
digits with at most one ``.`` (``12``, ``-0.5``, ``.5``, ``5.``) and an
optional exponent (``1e5``, ``2.5E-3``, ``1E+06``, as spreadsheets export),
whose value is finite as a 64-bit float.  Nothing else: no ``_``, no thousands
separator, no decimal comma, no ``nan`` or ``inf``.

Dates (:func:`iso_date`) are YYYY-MM-DD only: Python 3.11's
``date.fromisoformat`` also reads ``20200101`` and week dates such as
``2020-W01-1`` (30 December 2019), which nobody writing a join date means.
"""

from __future__ import annotations

import datetime as dt
import math
import re

_PLAIN = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_MISSING_MARKS = {"nan", "inf", "infinity", "na", "n/a", "null", "none", "-", "..", ":", "x"}
"""Cells that stand for no value: float()'s own words and the usual publishers' marks."""


class NumberError(ValueError):
    """A cell that is not a number as written.

    Its message is a predicate to follow the quoted cell, saying what to
    write instead: ``f"x {cell!r} {exc}"`` reads ``"x '1_000' is not a
    number: '_' is not allowed ..."``.
    """


def parse_number(text: str) -> float:
    """The number a CSV cell holds, by the rules in the module docstring.

    Parameters
    ----------
    text
        The cell; surrounding whitespace is ignored.  An empty cell is not a
        number: callers that allow missing values test for it first.

    Returns
    -------
    float
        A finite value.

    Raises
    ------
    NumberError
        Saying why the cell is not a number and what to write.
    """
    cell = text.strip()
    if _PLAIN.fullmatch(cell):
        value = float(cell)
        if math.isfinite(value):
            return value
        raise NumberError("is too large to be a number (beyond about 1.8e308)")
    raise NumberError(f"is not a number: {_why_not(cell)}")


def _why_not(cell: str) -> str:
    if not cell:
        return "the cell is empty"
    if cell.lstrip("+-").lower() in _MISSING_MARKS:
        return "leave the cell empty for a missing value"
    if cell.startswith("#"):
        return ("it looks like a spreadsheet's error value; fix the formula, or leave the cell "
                "empty for a missing value")
    if "_" in cell:
        return "'_' is not allowed in a number (write 1000, not 1_000)"
    if any(c.isdigit() and not c.isascii() for c in cell):
        return "write its digits as 0-9"
    return ("write digits 0-9 with '.' for the decimal point and no thousands separator, "
            "e.g. 1234.5 or 1.2e-3")


def parse_percent(text: str, *, low: float, high: float) -> float:
    """A percentage as a person writes it (``2``, ``2%``, ``-0.5%``), as a fraction.

    A bare number is read as a percentage (``2`` is 2%).  A bare number
    between -1 and 1 other than 0 (``0.02``) is refused, since it is most
    likely a fraction meant as a percentage: write ``2`` for 2%, or ``0.02%``
    if that is meant.

    Parameters
    ----------
    text
        What was typed.
    low, high
        The accepted range, in percent.

    Raises
    ------
    NumberError
        Saying why and what to write.
    """
    cell = text.strip()
    marked = cell.endswith("%")
    value = parse_number(cell[:-1] if marked else cell)
    if not marked and value != 0 and abs(value) < 1:
        raise NumberError(f"looks like a fraction: write {value * 100:g} (or {value * 100:g}%) "
                          f"for {value * 100:g}% a year, or {cell}% if you mean {cell}%")
    if not low <= value <= high:
        raise NumberError(f"is outside {low:g}% to {high:g}%")
    return value / 100


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_date(text: str) -> dt.date:
    """The date ``text`` writes as YYYY-MM-DD (surrounding whitespace dropped).

    Raises
    ------
    ValueError
        For any other form, or an impossible date (``2021-02-30``).
    """
    text = text.strip()
    if not _DATE.fullmatch(text):
        raise ValueError(f"{text!r} is not written YYYY-MM-DD")
    return dt.date.fromisoformat(text)
