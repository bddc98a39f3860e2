"""One indicator, one period, every district: what ``keycities indicator`` and its page show.

:func:`indicator_view` puts together the ranking of every district on the
target boundaries (members marked), the comparators from the source, each
district's significance against England, and, for a network, its members'
values, ranks and trends and the network's value by the library's rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from keycities.analysis.indicators.combine import NetworkValue
from keycities.analysis.indicators.compare import (
    SIGNIFICANCE_RULE,
    TREND_RULE,
    WINDOW,
    Trend,
    judged,
    significance,
)
from keycities.analysis.indicators.core import (
    ENGLAND,
    RANK_RULE,
    choose_period,
    comparators,
    england_reference,
    is_lad,
    period_table,
    rank_places,
    series_breaks,
    window,
)
from keycities.analysis.indicators.counts import Counts
from keycities.analysis.indicators.library import Entry
from keycities.analysis.indicators.network import (
    lads_on,
    member_trends,
    member_values,
    nations_of,
    network_at,
    network_series,
    network_trend,
)
from keycities.geography.vintage import LAST_VINTAGE
from keycities.sources._indicator import Period

RANKING_COLUMNS = ("rank", "of", "code", "name", "region", "value", "lower", "upper",
                   "vs_england", "judged", "member", "method", "estimate")


@dataclass
class IndicatorView:
    """Everything ``keycities indicator`` shows (see :func:`indicator_view`)."""

    id: str
    entry: Entry
    meta: dict[str, Any]
    period: str
    periods: pd.DataFrame
    """period, label, start, districts, release_id: every period of the series."""
    vintage: int
    ranking: pd.DataFrame
    """:data:`RANKING_COLUMNS`, best first."""
    comparators: pd.DataFrame
    england_series: pd.DataFrame
    """period, label, value, lower, upper over the trend window."""
    members: pd.DataFrame | None = None
    """code, name, value, lower, upper, rank, of, vs_england, judged, trend, trend_change,
    method, estimate, reason (members only)."""
    member_series: pd.DataFrame | None = None
    """period, label, code, name, value, lower, upper over the trend window."""
    network: NetworkValue | None = None
    network_series: pd.DataFrame | None = None
    """period, label, value, estimate, refused: the network's value over the trend window
    (empty when the indicator cannot be combined)."""
    network_trend: Trend | None = None
    network_id: str | None = None
    network_name: str | None = None
    at: Any = None
    notes: list[str] = field(default_factory=list)

    @property
    def period_label(self) -> str:
        """The period in plain English."""
        return Period.parse(self.period).label

    @property
    def rules(self) -> dict[str, str]:
        """Every rule the output applies, stated."""
        return {"rank": RANK_RULE[self.entry.direction], "significance": SIGNIFICANCE_RULE,
                "trend": TREND_RULE, "combine": self.entry.rule}

    @property
    def releases(self) -> list[str]:
        """The releases of the periods shown (newest first, no repeats)."""
        return list(dict.fromkeys(self.periods["release_id"][::-1]))


def indicator_view(entry: Entry, meta: dict[str, Any], rows: pd.DataFrame, *,
                   target: int | None, lads: Callable[[int], pd.DataFrame], counts: Counts,
                   period: str | None = None,
                   members: pd.DataFrame | None = None) -> IndicatorView:
    """The view of one indicator in one period.

    Parameters
    ----------
    entry, meta
        The library entry and the store's metadata (label, unit, decimals, source, ...).
    rows
        The series: ``indicator_value`` rows (each period from one release) of districts
        and comparator areas.
    target
        The boundary vintage to rank on (the membership's); None: the boundaries the
        period shown is published on.
    lads
        Gives code, name, region_code, region_name of the districts of a vintage.
    counts
        The counts behind the indicator's rates.
    period
        What the person asked for (see
        :func:`~keycities.analysis.indicators.core.choose_period`); default the latest.
    members
        code, name of the network's members (on ``target``), if any.
    """
    periods = period_table(rows)
    chosen = choose_period(periods, period)
    shown = window(periods, chosen, WINDOW)
    lad_rows = rows[is_lad(rows["area_code"]) & rows["period"].isin(shown)]
    target = target or _vintage_of(lad_rows[lad_rows["period"] == chosen])
    mapped, notes = lads_on(entry, _needed(lad_rows, chosen, members, counts, target), target,
                            counts)
    districts = lads(target)
    named = districts.dropna(subset=["region_code"])
    regions = dict(zip(named["region_code"], named["region_name"], strict=True))
    comp = comparators(rows[rows["period"] == chosen], regions)
    ref = england_reference(comp)
    now = mapped[(mapped["period"] == chosen) & mapped["value"].notna()]
    ranking = _ranking(now, districts, entry, ref,
                       set() if members is None else set(members["code"]))
    view = IndicatorView(
        id=entry.id, entry=entry, meta=meta, period=chosen, periods=periods, vintage=target,
        ranking=ranking, comparators=comp, england_series=_england(rows, periods, shown),
        notes=[*notes, *series_breaks(periods, shown)])
    if members is not None:
        covered = {str(p): nations_of(g["area_code"]) for p, g in lad_rows.groupby("period")}
        covered |= {p: [] for p in shown if p not in covered}
        _add_members(view, mapped, members, covered, counts)
    return view


def _vintage_of(lad_rows: pd.DataFrame) -> int:
    """The boundaries a period's districts are published on (the latest covered if none)."""
    vintages = lad_rows["geography_vintage"].dropna()
    return int(vintages.max()) if len(vintages) else LAST_VINTAGE


def _needed(lad_rows: pd.DataFrame, chosen: str, members: pd.DataFrame | None,
            counts: Counts, target: int) -> pd.DataFrame:
    """The rows to map: every district of the period shown (the ranking) and, of the
    earlier periods (the members' trends), the districts that are or become members."""
    now = lad_rows["period"] == chosen
    if members is None:
        return lad_rows[now]
    codes, keep = set(members["code"]), now.copy()
    earlier = lad_rows[~now]
    for vintage, g in earlier.groupby(earlier["geography_vintage"].fillna(target)):
        renames = counts.boundaries.renames(int(str(vintage)), target)
        keep[g.index] = pd.Series([c not in renames or renames[c][0] in codes
                                   for c in g["area_code"]], index=g.index)
    return lad_rows[keep]


def _ranking(now: pd.DataFrame, lads: pd.DataFrame, entry: Entry, ref: Any,
             members: set[str]) -> pd.DataFrame:
    named = now.merge(lads[["code", "name", "region_name"]], left_on="area_code",
                      right_on="code", how="left")
    named["name"] = named["name"].fillna(named["area_code"])
    ranked = rank_places(named.drop(columns="code"), direction=entry.direction)
    ranked = ranked.rename(columns={"area_code": "code", "region_name": "region"})
    ranked["vs_england"] = significance(ranked, ref)
    ranked["judged"] = [judged(w, entry.direction) for w in ranked["vs_england"]]
    ranked["member"] = ranked["code"].isin(members)
    return ranked[list(RANKING_COLUMNS)]


def _england(rows: pd.DataFrame, periods: pd.DataFrame, shown: list[str]) -> pd.DataFrame:
    eng = rows[(rows["area_code"] == ENGLAND) & rows["period"].isin(shown)]
    labels = dict(zip(periods["period"], periods["label"], strict=True))
    starts = dict(zip(periods["period"], periods["start"], strict=True))
    out = eng[["period", "value", "lower", "upper"]].assign(
        label=eng["period"].map(labels), period_start=eng["period"].map(starts))
    return out.sort_values("period_start", ignore_index=True)[
        ["period", "label", "period_start", "value", "lower", "upper"]]


def _add_members(view: IndicatorView, mapped: pd.DataFrame, members: pd.DataFrame,
                 covered: dict[str, list[str]], counts: Counts) -> None:
    """Members' rows, ranks, significance and trends; the network's value and trend."""
    entry, decimals = view.entry, _decimals(view.meta)
    series = member_values(entry, mapped, members, covered=covered)
    labels = dict(zip(view.periods["period"], view.periods["label"], strict=True))
    view.member_series = series.assign(label=series["period"].map(labels))
    now = series[series["period"] == view.period].drop(columns="period")
    ranks = view.ranking.set_index("code")
    words = dict(ranks["vs_england"])
    now = now.assign(rank=now["code"].map(ranks["rank"]), of=len(view.ranking),
                     vs_england=[words.get(c, "no value") for c in now["code"]],
                     judged=now["code"].map(ranks["judged"]))
    trends = member_trends(entry, series, view.england_series, decimals=decimals)
    now["trend"] = now["code"].map(lambda c: trends[c].word)
    now["trend_change"] = now["code"].map(lambda c: trends[c].change)
    view.members = now.reset_index(drop=True)
    view.network = network_at(entry, view.period, series[series["period"] == view.period],
                              view.vintage, counts)
    over_time = network_series(entry, series, view.vintage, counts)
    view.network_series = over_time.assign(label=over_time["period"].map(labels))
    view.network_trend = network_trend(entry, over_time, view.england_series,
                                       decimals=decimals)


def _decimals(meta: dict[str, Any]) -> int | None:
    d = meta.get("decimals")
    return None if d is None or pd.isna(d) else int(d)


__all__ = ["RANKING_COLUMNS", "IndicatorView", "indicator_view"]
