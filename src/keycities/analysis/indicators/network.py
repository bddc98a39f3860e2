"""Members' values on the membership's boundaries, the network's value per period, trends.

Pure functions over the frames :mod:`~keycities.analysis.indicators.from_store`
loads: district rows of an indicator (each period on its own vintage), the
counts behind its rates (:class:`~keycities.analysis.indicators.counts.Counts`)
and a network's members on one vintage.
"""

from __future__ import annotations

import pandas as pd

from keycities.analysis.indicators.combine import NetworkValue, network_value, parts_scale
from keycities.analysis.indicators.compare import Trend, trend, trends
from keycities.analysis.indicators.counts import Counts, parts
from keycities.analysis.indicators.library import Entry
from keycities.analysis.indicators.params import COVERAGE
from keycities.analysis.indicators.vintage import MapKind, on_vintage
from keycities.sources._indicator import Period

NATIONS = {"E": "England", "W": "Wales", "S": "Scotland", "N": "Northern Ireland"}
Covered = dict[str, list[str]]
"""Period -> the nations with district values in it."""


def map_kind(entry: Entry) -> MapKind:
    """How ``entry``'s district values cross a merger or split (see :mod:`.vintage`)."""
    if entry.combine == "sum":
        return "count"
    return "ratio" if entry.combine in ("ratio", "weighted_mean") else "other"


def lads_on(entry: Entry, rows: pd.DataFrame, target: int,
            counts: Counts) -> tuple[pd.DataFrame, list[str]]:
    """District rows of any periods mapped onto ``target`` by ``entry``'s rule.

    Returns
    -------
    (pandas.DataFrame, list of str)
        :data:`~keycities.analysis.indicators.vintage.MAPPED_COLUMNS` plus the
        source's status and note; notes on the mapping.
    """
    kind = map_kind(entry)
    pieces, notes = _mapping_parts(entry, rows, target, counts) if kind == "ratio" else (None, [])
    mapped, said = on_vintage(rows, target, counts.boundaries, kind=kind, parts=pieces,
                              scale=parts_scale(entry))
    flags = rows[["period", "area_code", "status", "note"]].rename(
        columns={"area_code": "from_codes"})
    return mapped.merge(flags, on=["period", "from_codes"], how="left"), [*notes, *said]


def _mapping_parts(entry: Entry, rows: pd.DataFrame, target: int, counts: Counts
                   ) -> tuple[pd.DataFrame | None, list[str]]:
    """Numerator and denominator of the districts a boundary change merges or splits."""
    frames, notes = [], []
    for (p_key, v_key), g in rows.groupby(["period", "geography_vintage"]):
        period, vintage = str(p_key), int(str(v_key))
        if vintage == target:
            continue
        if g["area_code"].isin(counts.boundaries.renames(vintage, target).keys()).all():
            continue  # every district keeps its area: no rate to recompute
        p, said = parts(entry, g, period, vintage, counts)
        frames.append(p.assign(period=period))
        notes += said
    return (pd.concat(frames, ignore_index=True) if frames else None), notes


def nations_of(codes: pd.Series) -> list[str]:
    """The nations of a set of district codes, in the usual order."""
    have = set(codes.astype(str).str[0])
    return [name for letter, name in NATIONS.items() if letter in have]


def absent_reason(code: str, *, entry: Entry, covered: list[str], period: str) -> str:
    """Why a member has no row for a period: nation, tier or simply not published."""
    if entry.coverage in ("itl", "region", "other"):
        return f"not published for districts: {COVERAGE.label(entry.coverage)}"
    nation = NATIONS.get(code[:1], code[:1])
    if nation not in covered:
        return (f"not published for {nation}: the source covers "
                f"{' and '.join(covered) or 'no district'} only")
    if entry.coverage == "upper_tier" and code.startswith("E07"):
        return "published for counties, not for the districts inside them"
    return f"no value published for {Period.parse(period).label}"


def member_values(entry: Entry, mapped: pd.DataFrame, members: pd.DataFrame, *,
                  covered: Covered) -> pd.DataFrame:
    """Each member's row for each period of ``mapped``, with the reason of any gap.

    Parameters
    ----------
    mapped
        :func:`lads_on` output (several periods).
    members
        code, name.
    covered
        Each period shown -> the nations with district values in it.

    Returns
    -------
    pandas.DataFrame
        period, code, name, value, lower, upper, method, estimate, reason.
    """
    periods, codes = sorted(covered), list(members["code"])
    grid = pd.DataFrame({"period": [p for p in periods for _ in codes],
                         "code": codes * len(periods),
                         "name": list(members["name"]) * len(periods)})
    mine = mapped[mapped["area_code"].isin(codes)].rename(columns={"area_code": "code"})
    out = grid.merge(mine, on=["period", "code"], how="left")
    gone = out["value"].isna() & out["reason"].isna()
    out.loc[gone, "reason"] = [
        _source_flag(s, n) or absent_reason(c, entry=entry, covered=covered[p], period=p)
        for c, p, s, n in zip(out.loc[gone, "code"], out.loc[gone, "period"],
                              out.loc[gone, "status"], out.loc[gone, "note"], strict=True)]
    out["estimate"] = out["estimate"].fillna(False).astype(bool)
    return out[["period", "code", "name", "value", "lower", "upper", "method", "estimate",
                "reason"]]


def _source_flag(status: object, note: object) -> str | None:
    """The source's own word for a missing value, if it gives one."""
    said = [str(x) for x in (status, note) if isinstance(x, str) and x.strip()]
    return f"not published by the source ({'; '.join(said)})" if said else None


def network_at(entry: Entry, period: str, members: pd.DataFrame, vintage: int,
               counts: Counts) -> NetworkValue:
    """The network's value in one period from its members' rows of that period."""
    frame = members[["code", "name", "value", "reason", "estimate"]].reset_index(drop=True)
    notes: list[str] = []
    if entry.combine in ("ratio", "weighted_mean"):
        p, notes = parts(entry, frame.rename(columns={"code": "area_code"}), period, vintage,
                         counts)
        frame["numerator"], frame["denominator"] = p["numerator"], p["denominator"]
    out = network_value(frame, entry)
    out.notes.extend(notes)
    out.estimate = out.estimate or bool(notes)
    return out


def network_series(entry: Entry, members: pd.DataFrame, vintage: int,
                   counts: Counts) -> pd.DataFrame:
    """The network's value in each period of ``members`` (empty when it cannot be combined).

    Returns
    -------
    pandas.DataFrame
        period, period_start, value (None where the rule gives none), estimate, refused.
    """
    columns = ["period", "period_start", "value", "estimate", "refused"]
    if entry.combine == "none":
        return pd.DataFrame(columns=columns)
    rows = []
    for period, g in members.groupby("period"):
        nv = network_at(entry, str(period), g, vintage, counts)
        rows.append({"period": period, "period_start": Period.parse(str(period)).start,
                     "value": nv.value, "estimate": nv.estimate, "refused": nv.refused})
    return pd.DataFrame(rows, columns=columns)


def network_trend(entry: Entry, series: pd.DataFrame, england: pd.DataFrame, *,
                  decimals: int | None) -> Trend | None:
    """The network's trend against England (:func:`network_series` against England's)."""
    if entry.combine == "none":
        return None
    return trend(series, england, direction=entry.direction, decimals=decimals,
                 share=entry.combine == "sum")


def member_trends(entry: Entry, members: pd.DataFrame, england: pd.DataFrame, *,
                  decimals: int | None) -> dict[str, Trend]:
    """Each member's trend against England over its periods."""
    return trends(members[["period", "code", "value"]], england, direction=entry.direction,
                  decimals=decimals, share=entry.combine == "sum")


__all__ = ["NATIONS", "absent_reason", "lads_on", "map_kind", "member_trends",
           "member_values", "nations_of", "network_at", "network_series", "network_trend"]
