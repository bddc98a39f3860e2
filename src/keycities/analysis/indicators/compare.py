"""A place against England: the significance rule and the trend rule.

Significance
    A place is *above* or *below* England only when the published 95%
    confidence intervals of the two do not overlap (``lower > England's upper``
    or ``upper < England's lower``); when they overlap it is *not
    distinguishable*.  Where the place or England has no published interval, no
    difference is claimed (*no interval published*).  Non-overlap of two 95%
    intervals is a conservative test: it implies a difference significant at
    well below the 5% level, while overlapping intervals do not show that there
    is no difference, hence "not distinguishable" rather than "the same".

Trend
    The gap to England (place minus England) in the last five periods in which
    both have a value, fitted by a least-squares line against time; the fitted
    change over those periods is *improving* when it moves in the better
    direction by more than a threshold (1% of England's latest value, or one
    unit of the published precision if larger), *worsening* when it moves the
    other way by as much, else *flat*.  For an indicator with no better
    direction the words are *rising* and *falling* against England.  With fewer
    than three periods the trend is *not assessed*.  For a count (a population,
    a number of businesses), whose gap to England's total says nothing, the
    place's share of England's total (per cent) is followed instead, with a
    threshold of 1% of its latest share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from keycities.analysis.indicators.params import Direction

Significance = Literal["above", "below", "not distinguishable", "no interval published",
                       "no value"]
TrendWord = Literal["improving", "worsening", "flat", "rising", "falling", "not assessed"]

SIGNIFICANCE_RULE = (
    "Significance: a place is above or below England only when the published 95% confidence "
    "intervals of the two do not overlap; when they overlap it is 'not distinguishable'. "
    "Where no interval is published, for the place or for England, no difference is claimed.")
TREND_RULE = (
    "Trend: the gap to England (value minus England) over the last five periods with both "
    "values, fitted by a least-squares line; 'improving' when the fitted gap moved in the "
    "better direction by more than 1% of England's latest value (or one unit of the published "
    "precision, if larger), 'worsening' the other way, else 'flat' ('rising'/'falling' where "
    "neither direction is better); fewer than three periods: 'not assessed'. For counts, the "
    "share of England's total is followed instead of the gap.")
WINDOW = 5
MIN_PERIODS = 3


@dataclass(frozen=True)
class Reference:
    """The value a place is compared with (England), with its interval if published."""

    code: str
    name: str
    value: float | None
    lower: float | None = None
    upper: float | None = None

    @property
    def has_interval(self) -> bool:
        """True when both ends of the interval are published."""
        return _finite(self.lower) and _finite(self.upper)


def _finite(x: float | None) -> bool:
    return x is not None and bool(np.isfinite(x))


def significance(values: pd.DataFrame, ref: Reference | None) -> pd.Series:
    """Each row's place against ``ref`` by the rule of the module docstring.

    Parameters
    ----------
    values
        value, lower, upper.
    ref
        England (or None when the source publishes no England value).

    Returns
    -------
    pandas.Series
        One :data:`Significance` word per row.
    """
    out = pd.Series("no interval published", index=values.index, dtype="object")
    out[values["value"].isna()] = "no value"
    if ref is None or not ref.has_interval:
        return out
    has = values["value"].notna() & values["lower"].notna() & values["upper"].notna()
    above = has & (values["lower"] > float(ref.upper))  # type: ignore[arg-type]
    below = has & (values["upper"] < float(ref.lower))  # type: ignore[arg-type]
    out[has] = "not distinguishable"
    out[above] = "above"
    out[below] = "below"
    return out


def judged(word: str, direction: Direction) -> str | None:
    """'better' or 'worse' for an above/below word, by the indicator's direction."""
    if word not in ("above", "below") or direction == "neither":
        return None
    return "better" if (word == "above") == (direction == "higher_better") else "worse"


@dataclass(frozen=True)
class Trend:
    """A place's trend against England (see the module docstring)."""

    word: TrendWord
    change: float | None
    """Fitted change of the gap to England over the periods (in the indicator's unit)."""
    periods: tuple[str, ...]
    """The periods used, oldest first (ISO)."""


def trend(place: pd.DataFrame, england: pd.DataFrame, *, direction: Direction,
          decimals: int | None, window: int = WINDOW, share: bool = False) -> Trend:
    """The trend of a place against England by the rule of the module docstring.

    Parameters
    ----------
    place, england
        period, period_start, value (one row per period).
    direction
        Whether higher is better.
    decimals
        The published precision (decimal places), for the threshold.
    window
        How many of the latest shared periods to fit.
    share
        Follow the place's share of England (for counts) instead of the gap.
    """
    wide = place.assign(code="place")
    return trends(wide, england, direction=direction, decimals=decimals,
                  window=window, share=share)["place"]


def trends(places: pd.DataFrame, england: pd.DataFrame, *, direction: Direction,
           decimals: int | None, window: int = WINDOW, share: bool = False
           ) -> dict[str, Trend]:
    """:func:`trend` of several places at once.

    Parameters
    ----------
    places
        period, code, value (one row per place and period).
    england
        period, period_start, value.
    """
    ref = england.dropna(subset=["value"]).sort_values("period_start")
    wide = places.drop_duplicates(["period", "code"]).pivot(
        index="period", columns="code", values="value").reindex(ref["period"])
    years = (pd.to_datetime(ref["period_start"]) - pd.to_datetime(ref["period_start"]).min()
             ).dt.days.to_numpy(dtype=float) / 365.25
    refs = ref["value"].to_numpy(dtype=float)
    periods = ref["period"].to_numpy()
    step = 10.0 ** -decimals if decimals is not None and not share else 0.0
    out = {}
    for code in places["code"].unique():
        vals = (wide[code].to_numpy(dtype=float) if code in wide.columns
                else np.full(len(refs), np.nan))
        ok = np.flatnonzero(~np.isnan(vals))[-window:]
        gap = 100 * vals[ok] / refs[ok] if share else vals[ok] - refs[ok]
        out[str(code)] = _fit(years[ok], gap, gap if share else refs[ok], tuple(periods[ok]),
                              direction=direction, step=step)
    return out


def _fit(years: np.ndarray, gap: np.ndarray, refs: np.ndarray, periods: tuple[str, ...], *,
         direction: Direction, step: float) -> Trend:
    if len(gap) < MIN_PERIODS:
        return Trend("not assessed", None, periods)
    slope = float(np.polyfit(years, gap, 1)[0])
    change = slope * float(years[-1] - years[0])
    threshold = max(0.01 * abs(float(refs[-1])), step)
    return Trend(_trend_word(change, threshold, direction), change, periods)


def _trend_word(change: float, threshold: float, direction: Direction) -> TrendWord:
    if abs(change) <= threshold:
        return "flat"
    if direction == "neither":
        return "rising" if change > 0 else "falling"
    return "improving" if (change > 0) == (direction == "higher_better") else "worsening"


__all__ = ["MIN_PERIODS", "SIGNIFICANCE_RULE", "TREND_RULE", "WINDOW", "Reference",
           "Significance", "Trend", "TrendWord", "judged", "significance", "trend", "trends"]
