"""A network or a place across the work areas: every indicator against England.

One row per indicator (:func:`scorecard_row`, from its
:class:`~keycities.analysis.indicators.view.IndicatorView`):

* for a network: its value by the library's rule (or why there is none), England's
  value from the source, the network's position against England (a point
  comparison: the network's value has no interval), how many members are
  significantly better or worse than England, the network's trend against
  England, and each member's rank among all districts (:attr:`Scorecard.ranks`);
* for a place: its value with its interval, England's, the significance
  verdict, its trend and its rank.

Indicators with no district values (ITL regions, regions or other areas only)
have no row; :attr:`Scorecard.notes` counts them by work area.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pandas as pd

from keycities.analysis.indicators.compare import SIGNIFICANCE_RULE, TREND_RULE, judged
from keycities.analysis.indicators.params import WORK_AREA
from keycities.analysis.indicators.view import IndicatorView

SubjectKind = Literal["network", "place"]
NETWORK_RULE = ("The network's value is combined by each indicator's rule (`keycities indicator "
                "ID --network N` states it): a total is given as a share of England's; a rate "
                "has no interval, so it is above or below England by its value alone; an "
                "indicator that cannot be combined shows no value, and members better / worse "
                "count the members whose intervals do not overlap England's.")

ROW_COLUMNS = ("area", "indicator", "label", "unit", "decimals", "direction", "period",
               "period_label",
               "value", "lower", "upper", "estimate", "rule", "england", "vs_england",
               "judged", "better", "worse", "not_distinguishable", "no_interval", "no_value",
               "improving", "worsening",
               "trend", "trend_change", "rank", "of", "share_of_england", "low", "median", "high",
               "reason")
RANK_COLUMNS = ("indicator", "code", "name", "value", "rank", "of", "vs_england", "judged",
                "trend", "reason")


@dataclass(frozen=True)
class Subject:
    """What a scorecard is about: a network's members on a date, or one place."""

    kind: SubjectKind
    id: str
    name: str
    at: dt.date
    vintage: int
    members: pd.DataFrame
    """code, name (one row for a place)."""
    notes: tuple[str, ...] = ()


@dataclass
class Scorecard:
    """Every indicator of the chosen work areas for one subject."""

    subject: Subject
    rows: pd.DataFrame
    """:data:`ROW_COLUMNS`, by work area in the brochure's order."""
    ranks: pd.DataFrame
    """:data:`RANK_COLUMNS`: each member's rank among all districts, per indicator."""
    areas: list[str]
    notes: list[str] = field(default_factory=list)

    @property
    def rules(self) -> dict[str, str]:
        """The significance and trend rules (and, for a network, how its value is made)."""
        rules = {"significance": SIGNIFICANCE_RULE, "trend": TREND_RULE}
        if self.subject.kind == "network":
            rules["network"] = NETWORK_RULE
        return rules


def same_members(subject: Subject) -> tuple[Any, ...]:
    """What a scorecard's rows depend on in its subject: kind, id, boundary vintage and the
    members' codes and names (not the date, nor the notes on the membership)."""
    return (subject.kind, subject.id, subject.vintage, tuple(subject.members["code"]),
            tuple(subject.members["name"]))


def for_subject(card: Scorecard, subject: Subject) -> Scorecard:
    """``card`` told of ``subject``: another date with the same members on the same
    boundaries (:func:`same_members`), whose rows are the same; the notes on the
    membership are ``subject``'s.

    Raises
    ------
    ValueError
        If ``subject``'s members or boundaries differ from ``card``'s.
    """
    if same_members(card.subject) != same_members(subject):
        raise ValueError(f"{subject.name} on {subject.at} has other members or boundaries "
                         f"than on {card.subject.at}: its scorecard must be computed")
    own = len(card.subject.notes)
    return replace(card, subject=subject, notes=[*subject.notes, *card.notes[own:]])


def scorecard_row(view: IndicatorView, kind: SubjectKind) -> dict[str, Any]:
    """One indicator's row of a scorecard (see the module docstring)."""
    eng = view.comparators[view.comparators["code"] == "E92000001"]
    england = float(eng["value"].iloc[0]) if len(eng) and pd.notna(eng["value"].iloc[0]) \
        else None
    members = view.members if view.members is not None else pd.DataFrame()
    row: dict[str, Any] = {
        "area": view.entry.area, "indicator": view.id, "label": view.meta.get("label"),
        "unit": view.meta.get("unit"), "decimals": view.meta.get("decimals"),
        "direction": view.entry.direction,
        "period": view.period, "period_label": view.period_label, "england": england,
        "lower": None, "upper": None}
    row |= _counts(members)
    if kind == "place":
        row |= _place(members)
    else:
        row |= _network(view, england)
    return row


def _counts(members: pd.DataFrame) -> dict[str, int]:
    """How many members are significantly better or worse than England (and the rest), and
    how many are improving or worsening against it."""
    words = members["vs_england"] if len(members) else pd.Series(dtype=object)
    verdicts = members["judged"].tolist() if len(members) else []
    trends = members["trend"].tolist() if len(members) else []
    return {"better": verdicts.count("better"), "worse": verdicts.count("worse"),
            "improving": trends.count("improving"), "worsening": trends.count("worsening"),
            "not_distinguishable": int((words == "not distinguishable").sum()),
            "no_interval": int((words == "no interval published").sum()),
            "no_value": int((words == "no value").sum())}


def _place(members: pd.DataFrame) -> dict[str, Any]:
    m = members.iloc[0]
    return {"value": m["value"], "lower": m["lower"], "upper": m["upper"],
            "estimate": bool(m["estimate"]), "rule": "the place's own value",
            "vs_england": m["vs_england"], "judged": m["judged"], "trend": m["trend"],
            "trend_change": m["trend_change"], "rank": m["rank"], "of": m["of"],
            "share_of_england": None, "low": None, "median": None, "high": None,
            "reason": m["reason"] if pd.isna(m["value"]) else None}


def _network(view: IndicatorView, england: float | None) -> dict[str, Any]:
    nv, tr = view.network, view.network_trend
    if nv is None:
        raise ValueError("a network scorecard row needs the view of a network")
    word, share = None, None
    if nv.value is not None and england:
        if nv.rule == "sum":  # a total is a share of England's, not above or below it
            share = 100 * nv.value / england
        elif nv.value != england:
            word = "above" if nv.value > england else "below"
    return {"value": nv.value, "estimate": nv.estimate, "rule": nv.rule,
            "share_of_england": share, "low": nv.low, "median": nv.median, "high": nv.high,
            "vs_england": word, "judged": judged(word, view.entry.direction) if word else None,
            "trend": tr.word if tr is not None else None,
            "trend_change": tr.change if tr is not None else None,
            "rank": None, "of": len(view.ranking), "reason": nv.refused}


def member_ranks(view: IndicatorView) -> pd.DataFrame:
    """Each member's rank, value and verdicts for one indicator (:data:`RANK_COLUMNS`)."""
    m = view.members if view.members is not None else pd.DataFrame(columns=RANK_COLUMNS)
    return m.assign(indicator=view.id)[list(RANK_COLUMNS)]


def no_district_note(skipped: dict[str, list[str]]) -> str | None:
    """Counts the indicators left out for want of district values, by work area."""
    if not skipped:
        return None
    parts = [f"{WORK_AREA.label(a)} {len(ids)}" for a, ids in skipped.items()]
    return ("Not in the scorecard: indicators published for no district (ITL regions, regions "
            "or other areas only) — " + ", ".join(parts) + ". `keycities indicators` lists "
            "them.")


__all__ = ["RANK_COLUMNS", "ROW_COLUMNS", "Scorecard", "Subject", "SubjectKind",
           "for_subject", "member_ranks", "no_district_note", "same_members", "scorecard_row"]
