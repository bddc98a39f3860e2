"""The counts behind rates: which period to use, on which boundaries, as numerator and denominator.

A rate combines (across members, or across districts merged by a boundary
change) through its numerator and denominator.  The library names them
(:class:`~keycities.analysis.indicators.library.Entry`): two count indicators,
or the rate itself times a count (``rate x COUNT``), or a weight.  The counts
are published for their own periods (population: mid-2020 to mid-2022) on
their own boundaries; :class:`Counts` picks the period
(:func:`~keycities.analysis.indicators.combine.match_period`) and maps it onto
the boundaries wanted (summed: counts map exactly forward), keeping each
result for the next indicator that needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from keycities.analysis.indicators.combine import match_period
from keycities.analysis.indicators.library import Entry
from keycities.analysis.indicators.vintage import Boundaries, on_vintage
from keycities.sources._indicator import Period


@dataclass(frozen=True)
class CountUsed:
    """One count on one vintage for one period: its values and how it was chosen."""

    indicator: str
    period: str
    exact: bool
    values: pd.Series
    """Value by area code (NaN where the count could not be mapped)."""

    def note(self, for_period: str) -> str | None:
        """Says when the count is from another period than the value's (an estimate)."""
        if self.exact:
            return None
        return (f"{self.indicator} of {Period.parse(self.period).label} used for "
                f"{Period.parse(for_period).label} (the nearest period in the store): an "
                "estimate.")


@dataclass
class Counts:
    """Count indicators' district rows, mapped on demand and kept.

    Parameters
    ----------
    rows
        Indicator id -> period, area_code, geography_vintage, value (district rows).
    boundaries
        The crosswalks between vintages.
    """

    rows: Mapping[str, pd.DataFrame]
    boundaries: Boundaries
    _memo: dict[tuple[str, str, int], pd.Series] = field(default_factory=dict, repr=False)
    _vintages: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)

    def get(self, indicator: str, period: str, vintage: int) -> CountUsed | None:
        """``indicator`` for the period matching ``period``, on ``vintage``; None if absent.

        A period published on ``vintage`` itself is preferred when it matches
        ``period`` exactly (no mapping, so no estimate); otherwise the matching
        (or nearest) period of any vintage is mapped onto ``vintage``.
        """
        vintages = self._periods(indicator)
        same = tuple(sorted(p for p, v in vintages.items() if v == vintage))
        hit = match_period(period, same) if same else None
        if hit is None or not hit[1]:
            hit = match_period(period, tuple(sorted(vintages)))
        if hit is None:
            return None
        used, exact = hit
        return CountUsed(indicator, used, exact, self._mapped(indicator, used, vintage))

    def _periods(self, indicator: str) -> dict[str, int]:
        """Period -> the vintage it is published on, for one count."""
        if indicator not in self._vintages:
            rows = self.rows.get(indicator)
            self._vintages[indicator] = {} if rows is None else {
                str(p): int(v) for p, v in rows.groupby("period")["geography_vintage"].max(
                    ).items() if pd.notna(v)}
        return self._vintages[indicator]

    def _mapped(self, indicator: str, period: str, vintage: int) -> pd.Series:
        """One period of a count on ``vintage``, as value by area code (mapped once)."""
        key = (indicator, period, vintage)
        if key not in self._memo:
            rows = self.rows[indicator]
            mapped, _ = on_vintage(rows[rows["period"] == period], vintage, self.boundaries,
                                   kind="count")
            self._memo[key] = mapped.set_index("area_code")["value"]
        return self._memo[key]


def parts(entry: Entry, values: pd.DataFrame, period: str, vintage: int,
          counts: Counts) -> tuple[pd.DataFrame, list[str]]:
    """Numerator and denominator of each area's value of one period, on ``vintage``.

    Parameters
    ----------
    entry
        A ``ratio`` or ``weighted_mean`` entry.
    values
        area_code, value (the indicator's values on ``vintage``).
    period
        Their period (ISO).
    vintage
        Their boundaries.
    counts
        The count indicators.

    Returns
    -------
    (pandas.DataFrame, list of str)
        area_code, numerator, denominator (NaN where a count is missing), such
        that ``value = parts_scale(entry) * numerator / denominator``; and notes
        on counts taken from another period.
    """
    out = values[["area_code"]].copy()
    ids = _count_ids(entry)
    used = {role: counts.get(i, period, vintage) for role, i in ids.items()}
    notes = [n for u in used.values() if u is not None for n in [u.note(period)] if n]
    for role, u in used.items():
        out[role] = out["area_code"].map(u.values) if u is not None else float("nan")
    if "count" in used:
        out["numerator"] = values["value"].to_numpy() * out.pop("count")
        out["denominator"] = out["area_code"].map(used["count"].values) \
            if used["count"] is not None else float("nan")
    return out, notes


def _count_ids(entry: Entry) -> dict[str, str]:
    """Role -> count indicator id: 'count' (times the value) or numerator and denominator."""
    if entry.combine == "weighted_mean" and entry.weight:
        return {"count": entry.weight}
    if entry.rate_times:
        return {"count": entry.rate_times}
    return {"numerator": str(entry.numerator), "denominator": str(entry.denominator)}


def count_ids(entry: Entry) -> tuple[str, ...]:
    """The count indicators ``entry`` needs to combine (empty for sum and none)."""
    if entry.combine not in ("ratio", "weighted_mean"):
        return ()
    return tuple(_count_ids(entry).values())


__all__ = ["CountUsed", "Counts", "count_ids", "parts"]
