"""The frames an indicator reader returns, and the periods they are about.

Indicator sources (ONS Explore Local Statistics, the subnational indicators,
real GVA, ...) publish values for reference periods that are not calendar
years: a financial year, three pooled years, a month, a day.  Their readers
return two tidy frames with the columns below, so every indicator is stored
and shown the same way whatever its publisher.

``VALUE_COLUMNS`` (one row per indicator, area and period)
    indicator      the indicator's id (lower-case slug, e.g. ``claimant-count``)
    area_code      GSS code of the area (LAD, region, country, ...)
    period         the reference period as an ISO 8601 interval or date, as
                   ONS writes it: ``2023-01-01/P1Y``, ``2021-04-01/P3Y``,
                   ``2023-07-01/P1M`` or ``2021-09-30`` (a point in time)
    value          the published value (NaN where suppressed or missing)
    lower, upper   the published 95% confidence interval (NaN where none)
    status, note   the publisher's flags and notes for the value (or None)

``META_COLUMNS`` (one row per indicator)
    indicator, label, subtitle, unit (as a person reads it: "%", "£",
    "years", "people"), measure (the publisher's word: "Percentage",
    "Median", "Count", ...), decimals, source_org, source_date (ISO date or
    None), source_url, description, caveats, experimental (bool)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

VALUE_COLUMNS: tuple[str, ...] = ("indicator", "area_code", "period", "value", "lower",
                                  "upper", "status", "note")
META_COLUMNS: tuple[str, ...] = ("indicator", "label", "subtitle", "unit", "measure",
                                 "decimals", "source_org", "source_date", "source_url",
                                 "description", "caveats", "experimental")

_INTERVAL = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:/P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?)?")
#: Months a year-long period may start in and be written ``2023/24``: April
#: (financial years) and August or September (academic years).  A year from
#: any other month is written out ("February 2012 to January 2013"), because
#: ``2012/13`` would be read as a financial year.
_SPLIT_YEAR_MONTHS = (4, 8, 9)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


class IndicatorFrames(NamedTuple):
    """What an indicator reader returns for one release's file."""

    values: pd.DataFrame
    """Columns :data:`VALUE_COLUMNS` (a reader may add more, which it documents)."""
    meta: pd.DataFrame
    """Columns :data:`META_COLUMNS` (likewise)."""


class MirrorRead(NamedTuple):
    """Every release of a family read from a mirror.

    Both frames carry a ``release_id`` column, so that a series can be taken
    from one release: editions overlap and are never merged here.
    """

    values: pd.DataFrame
    meta: pd.DataFrame
    unread: list[tuple[str, str]]
    """(file path in the mirror, reason) for each file that could not be read."""


def tables_reader(read: Callable[[Any, Path], IndicatorFrames]
                  ) -> Callable[[Any, Path], dict[str, pd.DataFrame]]:
    """A reader of the store's two indicator tables from a reader of the two frames."""

    def reader(release: Any, path: Path) -> dict[str, pd.DataFrame]:
        frames = read(release, path)
        return {"indicator_value": frames.values, "indicator": frames.meta}

    return reader


@dataclass(frozen=True, order=True)
class Period:
    """A reference period: a start date and a length in years, months and days.

    A point in time (``2021-09-30``) has length zero.  ``end`` is the last
    day inside the period (the start itself for a point in time).
    """

    start: dt.date
    years: int = 0
    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read ``YYYY-MM-DD`` or ``YYYY-MM-DD/PnYnMnD`` (any of Y, M, D).

        Raises
        ------
        ValueError
            When ``text`` is neither, saying what was expected.
        """
        m = _INTERVAL.fullmatch(text.strip())
        if m is None or ("/" in text and not any(m.group(i) for i in (4, 5, 6))):
            raise ValueError(f"{text!r} is not a period: expected YYYY-MM-DD or "
                             "YYYY-MM-DD/PnYnMnD (an ISO 8601 start and duration)")
        y, mo, d, py, pm, pd_ = m.groups()
        return cls(dt.date(int(y), int(mo), int(d)), int(py or 0), int(pm or 0), int(pd_ or 0))

    @property
    def iso(self) -> str:
        """The period as ONS writes it."""
        if not (self.years or self.months or self.days):
            return self.start.isoformat()
        length = "".join(f"{n}{u}" for n, u in ((self.years, "Y"), (self.months, "M"),
                                                (self.days, "D")) if n)
        return f"{self.start.isoformat()}/P{length}"

    @property
    def end(self) -> dt.date:
        """The last day of the period."""
        if not (self.years or self.months or self.days):
            return self.start
        month = self.start.month - 1 + self.months + 12 * self.years
        year, month = self.start.year + month // 12, month % 12 + 1
        # The day after the period: the same day of the month, clipped to the month's end.
        day = min(self.start.day, _month_days(year, month))
        after = dt.date(year, month, day) + dt.timedelta(days=self.days)
        return after - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        """Plain English, as a person reads the period.

        ``2023``, ``2021 to 2023`` (calendar years); ``2023/24`` (a year
        starting in April, August or September: financial and academic
        years); ``July 2023`` (a month); ``30 September 2021`` (a point in
        time); ``April 2021 to March 2024`` and ``February 2012 to January
        2013`` (other spans of whole months); ``15 May 2012 to 14 May 2013``
        (spans that start mid-month or count days, such as the gas year).
        """
        s, e = self.start, self.end
        if s == e:
            return _day(s)
        if s.day != 1 or self.days:
            return f"{_day(s)} to {_day(e)}"
        if (self.years, self.months, self.days) == (0, 1, 0):
            return _month(s)
        if s.month == 1 and self.months == self.days == 0:
            return str(s.year) if self.years == 1 else f"{s.year} to {e.year}"
        if s.month in _SPLIT_YEAR_MONTHS and (self.years, self.months, self.days) == (1, 0, 0):
            return f"{s.year}/{str(e.year)[2:]}"
        return f"{_month(s)} to {_month(e)}"


def _day(d: dt.date) -> str:
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def _month(d: dt.date) -> str:
    return f"{_MONTHS[d.month - 1]} {d.year}"


def _month_days(year: int, month: int) -> int:
    nxt = dt.date(year + month // 12, month % 12 + 1, 1)
    return (nxt - dt.timedelta(days=1)).day


def year_period(year: int, *, start_month: int = 1) -> str:
    """The ISO interval of a calendar year (or a year starting in ``start_month``,
    e.g. 4 for a financial year): ``year_period(2023) == "2023-01-01/P1Y"``."""
    return Period(dt.date(year, start_month, 1), years=1).iso


__all__ = ["META_COLUMNS", "VALUE_COLUMNS", "IndicatorFrames", "MirrorRead", "Period",
           "tables_reader", "year_period"]
