"""The indicator library as every front end shows it: one payload per page, tables for people.

``*_payload`` functions return plain data with ids and full-precision values
(the CLI's ``--format json``, the JSON API and the web pages alike);
``*_table`` functions return frames with plain-English headings, units and
the published precision, for the CLI's tables and the pages' tables.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from keycities._util.plain import jsonable
from keycities.analysis.indicators.combine import NetworkValue
from keycities.analysis.indicators.compare import Trend
from keycities.analysis.indicators.params import (
    LEAD_NOTE,
    WORK_AREA,
    WORK_AREA_AIMS,
    WORK_AREA_LEADS,
)
from keycities.analysis.indicators.scorecard import Scorecard
from keycities.analysis.indicators.view import IndicatorView

META_KEYS = ("label", "subtitle", "unit", "measure", "decimals", "source_org", "source_date",
             "source_url", "description", "caveats", "experimental", "release_id", "publisher",
             "published", "licence")


# ------------------------------------------------------------------ numbers for people


def number(value: Any, decimals: int | None = 1) -> str:
    """``value`` with thousands separators and the published decimal places ("—" if none)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—"
    d = 1 if decimals is None else int(decimals)
    return f"{float(value):,.{d}f}"


def with_unit(value: Any, unit: str | None, decimals: int | None = 1) -> str:
    """``value`` as a person reads it: "3.9%", "£648", "56.3 years", "—"."""
    text = number(value, decimals)
    if text == "—" or not unit:
        return text
    if unit == "%":
        return f"{text}%"
    if unit.startswith("£"):  # "£ million (2024 prices)" -> "£8.3 million (2024 prices)"
        sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
        return f"{sign}£{digits}{unit[1:]}"
    return f"{text} {unit}"


def interval(lower: Any, upper: Any, decimals: int | None = 1) -> str:
    """"53.0 to 59.7", or "" when no interval is published."""
    if any(v is None or pd.isna(v) for v in (lower, upper)):
        return ""
    return f"{number(lower, decimals)} to {number(upper, decimals)}"


def verdict(word: Any, judged: Any) -> str:
    """"above (better)", "not distinguishable", "no interval published"."""
    if not isinstance(word, str):
        return ""
    return f"{word} ({judged})" if isinstance(judged, str) and judged else word


def _decimals(meta: dict[str, Any]) -> int | None:
    return _dec(meta.get("decimals"))


def _dec(d: Any) -> int | None:
    return None if d is None or pd.isna(d) else int(d)


# ------------------------------------------------------------------ work areas and catalogue


def work_areas() -> list[dict[str, Any]]:
    """The nine work areas: id, label, aim (the brochure's words), lead city (or None)."""
    return [{"id": a, "label": WORK_AREA.label(a), "aim": WORK_AREA_AIMS[a],
             "lead": WORK_AREA_LEADS[a]} for a in WORK_AREA.values]


def catalogue_payload(frame: pd.DataFrame, *, area: str | None = None,
                      search: str | None = None) -> dict[str, Any]:
    """The catalogue (``catalogue_from_store``'s frame) as plain data, with the work areas."""
    return jsonable({"query": {"area": area, "search": search}, "count": len(frame),
                     "data": frame, "areas": work_areas(), "notes": [LEAD_NOTE]})


NATION_GROUPS = {"England, Northern Ireland, Scotland, Wales": "UK",
                 "England, Scotland, Wales": "GB", "England, Wales": "England and Wales"}


def catalogue_table(frame: pd.DataFrame, *, with_area: bool = True) -> pd.DataFrame:
    """The catalogue for people: one row per indicator, plain headings."""
    out = pd.DataFrame({
        "Indicator": frame["indicator"], "Label": frame["label"], "Unit": frame["unit"],
        "Work area": frame["area_label"],
        "Direction": frame["direction"].map(_direction_words),
        "Latest": frame["latest_label"],
        "Coverage": [f"{NATION_GROUPS.get(n, n)}, {d} places" if d else
                     f"{c}: no district values" for n, d, c in zip(
                         frame["nations"], frame["districts"], frame["coverage"], strict=True)],
        "Source": frame["source"]})
    return out if with_area else out.drop(columns="Work area")


def _direction_words(direction: Any) -> str:
    return {"higher_better": "higher is better", "lower_better": "lower is better",
            "neither": "neither"}.get(direction, "")


# ------------------------------------------------------------------ one indicator


def network_payload(nv: NetworkValue | None) -> dict[str, Any] | None:
    """A network value as plain data."""
    if nv is None:
        return None
    return jsonable(vars(nv))


def trend_payload(tr: Trend | None) -> dict[str, Any] | None:
    """A trend as plain data."""
    return None if tr is None else {"word": tr.word, "change": tr.change,
                                    "periods": list(tr.periods)}


def indicator_payload(view: IndicatorView) -> dict[str, Any]:
    """Everything about one indicator in one period, as plain data (the page and the API)."""
    e = view.entry
    return jsonable({
        "indicator": view.id, "meta": {k: view.meta.get(k) for k in META_KEYS},
        "library": {"area": e.area, "area_label": WORK_AREA.label(e.area),
                    "direction": e.direction, "combine": e.combine, "coverage": e.coverage,
                    "numerator": e.numerator, "denominator": e.denominator, "scale": e.scale,
                    "weight": e.weight, "why": e.why, "judgement": e.judgement,
                    "derived": e.derived is not None},
        "period": view.period, "period_label": view.period_label,
        "periods": view.periods[["period", "label", "districts", "release_id"]],
        "vintage": view.vintage, "ranking": view.ranking, "comparators": view.comparators,
        "england_series": view.england_series.drop(columns="period_start"),
        "network": None if view.network_id is None else {
            "id": view.network_id, "name": view.network_name, "at": view.at,
            "value": network_payload(view.network),
            "trend": trend_payload(view.network_trend),
            "series": None if view.network_series is None
            else view.network_series.drop(columns="period_start")},
        "members": view.members, "member_series": view.member_series,
        "rules": view.rules, "releases": view.releases, "notes": view.notes})


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Without the columns of words (intervals, verdicts, notes) in which every cell is empty."""
    optional = ("95% interval", "Rank", "Against England", "Note", "Trend")
    empty = [c for c in optional if c in frame and not frame[c].astype(bool).any()]
    return frame.drop(columns=empty)


def ranking_table(view: IndicatorView) -> pd.DataFrame:
    """Every district ranked, for people (members marked with "●")."""
    r, d = view.ranking, _decimals(view.meta)
    unit = view.meta.get("unit") or ""
    return _tidy(pd.DataFrame({
        "Rank": r["rank"], "Place": r["name"], "Code": r["code"], "Region": r["region"],
        f"Value ({unit})" if unit else "Value": [number(v, d) for v in r["value"]],
        "95% interval": [interval(lo, hi, d) for lo, hi in zip(r["lower"], r["upper"],
                                                               strict=True)],
        "Against England": [verdict(w, j) for w, j in zip(r["vs_england"], r["judged"],
                                                          strict=True)],
        "Member": r["member"].map({True: "●", False: ""})}))


def comparator_table(view: IndicatorView) -> pd.DataFrame:
    """England, GB, UK, the nations and the regions, as the source publishes them."""
    c, d = view.comparators, _decimals(view.meta)
    return _tidy(pd.DataFrame({
        "Area": c["name"], "Code": c["code"],
        "Value": [with_unit(v, view.meta.get("unit"), d) for v in c["value"]],
        "95% interval": [interval(lo, hi, d) for lo, hi in zip(c["lower"], c["upper"],
                                                               strict=True)]}))


def members_table(view: IndicatorView) -> pd.DataFrame:
    """The network's members: value, interval, rank, against England, trend, or why not."""
    m, d = view.members, _decimals(view.meta)
    if m is None:
        return pd.DataFrame()
    unit = view.meta.get("unit") or ""
    return _tidy(pd.DataFrame({
        "Member": m["name"],
        f"Value ({unit})" if unit else "Value": [number(v, d) for v in m["value"]],
        "95% interval": [interval(lo, hi, d) for lo, hi in zip(m["lower"], m["upper"],
                                                               strict=True)],
        "Rank": [f"{r} of {n}" if pd.notna(r) else "" for r, n in zip(m["rank"], m["of"],
                                                                      strict=True)],
        "Against England": [verdict(w, j) if pd.notna(v) else "" for w, j, v in zip(
            m["vs_england"], m["judged"], m["value"], strict=True)],
        "Trend": [t if pd.notna(v) else "" for t, v in zip(m["trend"], m["value"],
                                                          strict=True)],
        "Note": [_member_note(v, est, meth, why) for v, est, meth, why in zip(
            m["value"], m["estimate"], m["method"], m["reason"], strict=True)]}))


def _member_note(value: Any, estimate: Any, method: Any, reason: Any) -> str:
    if pd.isna(value):
        return str(reason or "no value")
    if method in ("merge", "split"):
        return "recomputed across a boundary change" + (" (estimate)" if estimate else "")
    return ""


def network_line(view: IndicatorView) -> str | None:
    """The network's value in one sentence, with its rule, or why there is none."""
    nv = view.network
    if nv is None:
        return None
    unit, d = view.meta.get("unit"), _decimals(view.meta)
    if nv.value is None:
        spread = (f" Members: {with_unit(nv.low, unit, d)} to {with_unit(nv.high, unit, d)}, "
                  f"median {with_unit(nv.median, unit, d)} ({nv.with_value} of {nv.members} "
                  "with a value)." if nv.low is not None else "")
        return f"{view.network_name}: {nv.refused}{spread}"
    est = " (an estimate)" if nv.estimate else ""
    return (f"{view.network_name}: {with_unit(nv.value, unit, d)}{est}. Rule: {nv.rule_text}")


def network_notes(view: IndicatorView) -> list[str]:
    """The network's value, how it was made, and its trend, in sentences."""
    if view.network is None:
        return []
    notes = [n for n in [network_line(view)] if n] + view.network.notes
    if view.network_trend is not None:
        notes.append(f"{view.network_name} against England: {view.network_trend.word}.")
    return notes


def indicator_notes(view: IndicatorView) -> list[str]:
    """What the CLI prints under the ranking: rules, source, caveats, notes."""
    meta = view.meta
    notes = list(view.rules.values())[:3]
    if view.entry.judgement:
        notes.append(f"Classification (a judgement): {view.entry.judgement}")
    notes.append(f"Source: {meta.get('source_org')}, {meta.get('label')}; release "
                 f"{meta.get('release_id')}. {meta.get('source_url') or ''}".strip())
    if meta.get("caveats"):
        notes.append(f"Caveats: {' '.join(str(meta['caveats']).split())}")
    return notes + view.notes


# ------------------------------------------------------------------ scorecards


def scorecard_payload(card: Scorecard) -> dict[str, Any]:
    """A scorecard as plain data: subject, rows, each member's ranks, rules and notes."""
    s = card.subject
    return jsonable({
        "subject": {"kind": s.kind, "id": s.id, "name": s.name, "at": s.at,
                    "vintage": s.vintage, "members": s.members},
        "areas": [a for a in work_areas() if a["id"] in card.areas],
        "rows": card.rows, "ranks": card.ranks, "rules": card.rules, "notes": card.notes})


def scorecard_table(card: Scorecard, area: str) -> pd.DataFrame:
    """One work area's rows for people, numbered (the rank table refers to the numbers)."""
    rows = card.rows[card.rows["area"] == area].reset_index(drop=True)
    place = card.subject.kind == "place"
    return _tidy(pd.DataFrame({
        "#": range(1, len(rows) + 1), "Indicator": rows["label"],
        "Period": rows["period_label"], "Unit": rows["unit"],
        card.subject.name: [_score_value(r) for r in rows.itertuples()],
        "England": [number(v, _dec(d)) for v, d in zip(rows["england"], rows["decimals"],
                                                       strict=True)],
        "Against England": [verdict(w, j) for w, j in zip(rows["vs_england"], rows["judged"],
                                                          strict=True)],
        **({"Rank": [f"{r} of {n}" if pd.notna(r) else "" for r, n in zip(
            rows["rank"], rows["of"], strict=True)]} if place else {
            "Members better / worse": [f"{b} / {w}" if b + w + n else "no intervals"
                                       for b, w, n in zip(rows["better"], rows["worse"],
                                                          rows["not_distinguishable"],
                                                          strict=True)]}),
        "Trend": [_score_trend(r) for r in rows.itertuples()]}))


def _score_trend(r: Any) -> str:
    """The subject's trend; for a network whose value cannot be combined, its members'."""
    if isinstance(r.trend, str) and r.trend != "not assessed":
        return r.trend
    if r.improving or r.worsening:
        return f"members: {r.improving} improving, {r.worsening} worsening"
    return r.trend if isinstance(r.trend, str) else ""


def _score_value(r: Any) -> str:
    d = _dec(r.decimals)
    if r.rule == "none" and r.median is not None and pd.notna(r.median):
        return (f"not combined; median {number(r.median, d)} "
                f"({number(r.low, d)} to {number(r.high, d)})")
    if r.value is None or pd.isna(r.value):
        return "no value"
    text = number(r.value, d)
    share = (f" ({r.share_of_england:.1f}% of England)" if r.share_of_england is not None
             and pd.notna(r.share_of_england) else "")
    return text + share + (" (est.)" if r.estimate else "")


def rank_table(card: Scorecard, area: str) -> pd.DataFrame:
    """Each member's rank among all districts, one column per indicator (#, as numbered)."""
    ids = list(card.rows.loc[card.rows["area"] == area, "indicator"])
    ranks = card.ranks[card.ranks["indicator"].isin(ids)]
    if ranks.empty:
        return pd.DataFrame()
    wide = ranks.pivot_table(index="name", columns="indicator", values="rank",
                             aggfunc="first", sort=False)
    wide = wide.reindex(columns=ids)
    wide.columns = [f"#{k}" for k in range(1, len(ids) + 1)]
    names = list(card.subject.members["name"])
    out = wide.reindex(names).astype("Int64").astype("string").fillna("—")
    return out.reset_index().rename(columns={"name": "Member"})


__all__ = ["catalogue_payload", "catalogue_table", "comparator_table", "indicator_notes",
           "indicator_payload", "interval", "members_table", "network_line", "network_notes",
           "number",
           "rank_table", "ranking_table", "scorecard_payload", "scorecard_table", "verdict",
           "with_unit", "work_areas"]
