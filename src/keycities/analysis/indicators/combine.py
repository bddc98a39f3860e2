"""A network's value of an indicator, by the library's combination rule; never averaged silently.

Rules (:data:`~keycities.analysis.indicators.params.COMBINE`), over the
members' values on the membership's boundaries:

sum
    ``sum(value)``: counts and money amounts.
ratio
    ``scale * sum(numerator) / sum(denominator)``, the network's own rate.  A
    numerator given as ``rate x COUNT`` is each member's rate times its count
    (the rate's own denominator), so the result is
    ``sum(value * count) / sum(count)``.
weighted_mean
    ``sum(weight * value) / sum(weight)``, only where the definition allows
    it (the library says why); labelled an estimate.
none
    Refused: a median, an index or a score of several places is not any
    place's value.  The members' range and median are given instead.

A network value needs every member: if one has no value (not published for
its nation or tier, suppressed, or not mappable onto the membership's
boundaries) there is no total, and the members without a value are listed
with the reason.  The counts a ratio or weight needs come from the period of
the value when the store has it, else from the nearest period it has (said
so, and an estimate): :func:`match_period`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from keycities.analysis.indicators.library import Entry
from keycities.analysis.indicators.params import Combine
from keycities.sources._indicator import Period


@dataclass
class NetworkValue:
    """A network's value of one indicator in one period, and how it was made."""

    rule: Combine
    rule_text: str
    value: float | None
    estimate: bool
    members: int
    with_value: int
    low: float | None
    high: float | None
    median: float | None
    missing: dict[str, str] = field(default_factory=dict)
    """Member code -> why it has no value."""
    refused: str | None = None
    """Why there is no network value (None when there is one)."""
    notes: list[str] = field(default_factory=list)


@lru_cache(maxsize=4096)
def match_period(period: str, available: tuple[str, ...]) -> tuple[str, bool] | None:
    """The period of a count to use with a value of ``period``, and whether it is exact.

    Exact: the same period, or a period (or point in time) inside it, the
    latest such.  Otherwise the available period whose middle is nearest.
    None when nothing is available.
    """
    if not available:
        return None
    want = Period.parse(period)
    parsed = {p: Period.parse(p) for p in available}
    inside = [p for p, q in parsed.items() if want.start <= q.start and q.end <= want.end]
    if period in parsed:
        return period, True
    if inside:
        return max(inside, key=lambda p: parsed[p].start), True
    mid = want.start + (want.end - want.start) / 2
    nearest = min(parsed, key=lambda p: abs(parsed[p].start + (parsed[p].end - parsed[p].start)
                                            / 2 - mid))
    return nearest, False


def parts_scale(entry: Entry) -> float:
    """The multiplier of ``sum(numerator) / sum(denominator)`` for ``entry``'s parts.

    A ``rate x COUNT`` numerator or a weight is built as ``value * count`` (the
    rate's scale cancels), so its scale is 1; an explicit numerator keeps the
    library's scale.
    """
    return entry.scale if entry.combine == "ratio" and not entry.rate_times else 1.0


def network_value(members: pd.DataFrame, entry: Entry) -> NetworkValue:
    """Combine the members' values by ``entry``'s rule.

    Parameters
    ----------
    members
        code, name, value, reason (why a value is missing, or None); for
        ``ratio`` and ``weighted_mean`` also numerator and denominator (see
        :func:`parts_scale`), and optionally estimate (bool: a mapped estimate).
    entry
        The indicator's library entry.

    Returns
    -------
    NetworkValue
    """
    have = members[members["value"].notna()]
    missing = {str(c): str(r) if isinstance(r, str) and r else "no value published"
               for c, r in zip(members.loc[members["value"].isna(), "code"],
                               members.loc[members["value"].isna(), "reason"], strict=True)}
    vals = have["value"].astype(float)
    out = NetworkValue(
        rule=entry.combine, rule_text=entry.rule, value=None,
        estimate=entry.combine == "weighted_mean" or bool(
            have.get("estimate", pd.Series(False, index=have.index)).any()),
        members=len(members), with_value=len(have),
        low=float(vals.min()) if len(vals) else None,
        high=float(vals.max()) if len(vals) else None,
        median=float(vals.median()) if len(vals) else None, missing=missing)
    out.refused = _refusal(members, entry, missing)
    if out.refused is None:
        out.value = _combined(have, entry)
    return out


def _refusal(members: pd.DataFrame, entry: Entry, missing: dict[str, str]) -> str | None:
    """Why no network value can be given, or None."""
    if entry.combine == "none":
        return ("Not combined: a median, an index, a score or a rate without its counts cannot "
                "be added up or averaged into the network's value; the members' range and "
                "median are given instead.")
    if missing:
        names = dict(zip(members["code"], members["name"], strict=False))
        listed = "; ".join(f"{names.get(c) or c} ({c}): {r}" for c, r in missing.items())
        return (f"No network value: {len(missing)} of {len(members)} members have no value, "
                f"and a total of the others would not be the network's. {listed}.")
    if entry.combine in ("ratio", "weighted_mean"):
        lacking = members[members["numerator"].isna() | members["denominator"].isna()]
        if len(lacking):
            what = entry.weight or entry.denominator
            who = ", ".join(f"{n} ({c})" for c, n in zip(lacking["code"], lacking["name"],
                                                          strict=True))
            return f"No network value: no {what} for {who}, so the rule cannot be applied."
    return None


def _combined(have: pd.DataFrame, entry: Entry) -> float | None:
    if entry.combine == "sum":
        return float(have["value"].sum())
    den = float(have["denominator"].sum())
    if den == 0:
        return None
    return parts_scale(entry) * float(have["numerator"].sum()) / den


__all__ = ["NetworkValue", "match_period", "network_value", "parts_scale"]
