"""One indicator for every place: the period asked for, the ranking, the comparators.

Pure functions on the rows of one indicator (``indicator_value`` rows of one
series: each period from one release).  Districts are ranked among all
districts with a value, 1 the best (highest when higher is better, lowest
when lower is better, highest when neither); ties share the better rank.
England, Great Britain, the United Kingdom, the nations and the English
regions are the source's own rows, never recomputed from districts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from keycities.analysis.indicators.compare import Reference
from keycities.analysis.indicators.params import Direction
from keycities.errors import KeycitiesError
from keycities.geography.areas import LAD_PREFIXES
from keycities.sources._indicator import Period

ENGLAND = "E92000001"
COMPARATORS: dict[str, str] = {
    "E92000001": "England", "K03000001": "Great Britain", "K02000001": "United Kingdom",
    "K04000001": "England and Wales", "W92000004": "Wales", "S92000003": "Scotland",
    "N92000002": "Northern Ireland"}
"""Comparator areas the source may publish, by GSS code (regions: E12 codes)."""
REGION_PREFIX = "E12"

RANK_RULE = {
    "higher_better": "Rank 1 is the best: the highest value.",
    "lower_better": "Rank 1 is the best: the lowest value.",
    "neither": "Rank 1 is the highest value (neither direction is better).",
}


def is_lad(codes: pd.Series) -> pd.Series:
    """True for district codes (LAD prefixes)."""
    return codes.astype(str).str[:3].isin(LAD_PREFIXES)


def is_comparator(codes: pd.Series) -> pd.Series:
    """True for the codes of England, GB, UK, the nations and English regions."""
    codes = codes.astype(str)
    return codes.isin(list(COMPARATORS)) | codes.str.startswith(REGION_PREFIX)


def period_table(rows: pd.DataFrame) -> pd.DataFrame:
    """period, label, start, districts (count with a value), release_id: one row per period,
    oldest first."""
    lad = is_lad(rows["area_code"]) & rows["value"].notna()
    g = rows.assign(_lad=lad).groupby("period", sort=False)
    out = pd.DataFrame({"districts": g["_lad"].sum(),
                        "release_id": g["release_id"].first()}).reset_index()
    parsed = {p: Period.parse(p) for p in out["period"]}
    out["label"] = out["period"].map(lambda p: parsed[p].label)
    out["start"] = out["period"].map(lambda p: parsed[p].start)
    return out.sort_values("start", ignore_index=True)[
        ["period", "label", "start", "districts", "release_id"]]


def choose_period(periods: pd.DataFrame, asked: str | None) -> str:
    """The period a person asked for, or the latest with district values (else the latest).

    ``asked`` may be the ISO period (``2025-01-01/P1Y``), its label (``2025``,
    ``2022 to 2024``, ``2023/24``, ``30 April 2025``) or a year in which exactly
    one period starts.

    Raises
    ------
    KeycitiesError
        When the indicator lacks the period; the message lists the periods it has.
    """
    if periods.empty:
        raise KeycitiesError("The indicator has no values in the store.")
    if asked is None:
        with_lads = periods[periods["districts"] > 0]
        return str((with_lads if len(with_lads) else periods)["period"].iloc[-1])
    text = asked.strip()
    hits = periods[(periods["period"] == text) | (periods["label"].str.lower() == text.lower())]
    if hits.empty and text.isdigit():
        hits = periods[periods["start"].map(lambda d: str(d.year)) == text]
    if len(hits) == 1:
        return str(hits["period"].iloc[0])
    listed = ", ".join(periods["label"])
    if len(hits) > 1:
        raise KeycitiesError(f"Several periods match {asked!r}: "
                             + ", ".join(hits["label"]) + ". Give one of them.")
    raise KeycitiesError(f"The indicator has no period {asked!r}. Periods it has: {listed} "
                         "(give one as written, or as an ISO period such as 2023-01-01/P1Y).")


def rank_places(values: pd.DataFrame, *, direction: Direction) -> pd.DataFrame:
    """``values`` (area_code, value, ...) with ``rank`` (1 = best) and ``of``, best first.

    Rows without a value get no rank and come last.
    """
    ascending = direction == "lower_better"
    ranked = values["value"].rank(method="min", ascending=ascending)
    out = values.assign(rank=ranked.astype("Int64"), of=int(values["value"].notna().sum()))
    return out.sort_values(["rank", "area_code"], na_position="last", ignore_index=True)


def comparators(rows: pd.DataFrame, regions: dict[str, str]) -> pd.DataFrame:
    """The source's own England, GB, UK, nation and region rows of one period.

    Parameters
    ----------
    rows
        The indicator's rows of one period.
    regions
        Region code -> name.

    Returns
    -------
    pandas.DataFrame
        code, name, kind ('country' or 'region'), value, lower, upper, release_id,
        in the order of :data:`COMPARATORS` then regions by name.
    """
    sub = rows[is_comparator(rows["area_code"])].rename(columns={"area_code": "code"})
    names = {**COMPARATORS, **regions}
    sub = sub.assign(name=sub["code"].map(lambda c: names.get(c, c)),
                     kind=sub["code"].map(lambda c: "region" if c.startswith(REGION_PREFIX)
                                          else "country"))
    order = {c: i for i, c in enumerate(COMPARATORS)}
    sub = sub.assign(_o=sub["code"].map(lambda c: order.get(c, len(order))))
    sub = sub.sort_values(["_o", "name"], ignore_index=True)
    return sub[["code", "name", "kind", "value", "lower", "upper", "release_id"]]


def england_reference(comparator_rows: pd.DataFrame) -> Reference | None:
    """England's value and interval from :func:`comparators`' rows, if published."""
    hit = comparator_rows[comparator_rows["code"] == ENGLAND]
    if hit.empty or pd.isna(hit["value"].iloc[0]):
        return None
    row = hit.iloc[0]
    return Reference(ENGLAND, "England", float(row["value"]), _num(row["lower"]),
                     _num(row["upper"]))


def _num(x: Any) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def window(periods: pd.DataFrame, period: str, size: int) -> list[str]:
    """The ``size`` periods up to and including ``period``, oldest first."""
    order = list(periods["period"])
    k = order.index(period)
    return order[max(0, k - size + 1):k + 1]


def series_breaks(periods: pd.DataFrame, shown: Sequence[str]) -> list[str]:
    """Where a series joins releases: one note per change of release along ``shown``."""
    sub = periods[periods["period"].isin(list(shown))]
    notes = []
    prev = None
    for label, rid in zip(sub["label"], sub["release_id"], strict=True):
        if prev is not None and rid != prev[1]:
            notes.append(f"Series break: {prev[0]} is from release {prev[1]}, {label} from "
                         f"{rid} (each period is taken from the newest release that has it).")
        prev = (label, rid)
    return notes


__all__ = ["COMPARATORS", "ENGLAND", "RANK_RULE", "REGION_PREFIX", "choose_period",
           "comparators", "england_reference", "is_comparator", "is_lad", "period_table",
           "rank_places", "series_breaks", "window"]
