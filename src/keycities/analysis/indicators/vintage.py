"""An indicator's district values on another boundary vintage.

Values are published on the districts of their period (the store records each
period's LAD vintage); a network's members are on the boundaries of its
membership date.  :func:`on_vintage` moves district values from their vintage
to a target one with :mod:`keycities.geography.mapping`:

* a district that is unchanged or only recoded keeps its value and its
  published interval (the same area, perhaps under a new code);
* a count (combination rule ``sum``) is summed over merged districts and
  shared across a split by the split weights (an estimate, said so);
* a rate with a numerator and a denominator (``ratio``, ``weighted_mean``) is
  recomputed across a merger or split from the mapped numerator and
  denominator (:func:`~keycities.geography.mapping.ratio_to_vintage`), with no
  interval;
* anything else (a median, an index, a score) is refused across a merger or
  split, with the reason (:func:`~keycities.geography.mapping.to_vintage`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from keycities.geography.mapping import ratio_to_vintage, to_vintage

Crosswalk = Callable[[int, int], pd.DataFrame]
"""``crosswalk(source, target)``: the crosswalk between two vintages
(:meth:`keycities.geography.tables.GeographyTables.crosswalk`)."""


@dataclass
class Boundaries:
    """Crosswalks between vintages, each with its whole-area renames, worked out once."""

    crosswalk: Crosswalk
    _renames: dict[tuple[int, int], dict[str, tuple[str, str]]] = field(
        default_factory=dict, repr=False)

    def renames(self, source: int, target: int) -> dict[str, tuple[str, str]]:
        """Source code -> (target code, method) for districts whose area is one target
        district, whole and alone (unchanged or recoded)."""
        key = (source, target)
        if key not in self._renames:
            xw = self.crosswalk(source, target)
            ok = xw[xw["from_code"].isin(simple_codes(xw))]
            self._renames[key] = dict(zip(ok["from_code"], zip(ok["to_code"], ok["method"],
                                                               strict=True), strict=True))
        return self._renames[key]


MapKind = Literal["count", "ratio", "other"]

MAPPED_COLUMNS: tuple[str, ...] = ("period", "area_code", "value", "lower", "upper",
                                   "method", "from_codes", "estimate", "reason")


def on_vintage(rows: pd.DataFrame, target: int, boundaries: Boundaries, *, kind: MapKind,
               parts: pd.DataFrame | None = None, scale: float = 1.0,
               ) -> tuple[pd.DataFrame, list[str]]:
    """District values of ``rows`` on the LADs of ``target``.

    Parameters
    ----------
    rows
        period, area_code, geography_vintage, value, lower, upper: district rows,
        each period on its own vintage.
    target
        The boundary vintage wanted.
    boundaries
        The crosswalks between vintages.
    kind
        'count' (summed across mergers), 'ratio' (recomputed from ``parts``) or
        'other' (refused across mergers and splits).
    parts
        For 'ratio': period, area_code, numerator, denominator on the rows'
        vintages, with ``value = scale * numerator / denominator``.  Without them a
        ratio is refused across a merger, like 'other'.
    scale
        See ``parts``.

    Returns
    -------
    (pandas.DataFrame, list of str)
        :data:`MAPPED_COLUMNS` (``method``: same, recode, merge or split;
        ``reason``: why a value is missing, else None), and notes on what was
        mapped or left out.
    """
    frames, notes = [], []
    for vintage, group in rows.groupby(rows["geography_vintage"].fillna(target), sort=True):
        if int(vintage) == target:
            frames.append(_as_is(group))
            continue
        out, note = _map_group(group, boundaries, int(vintage), target, kind=kind,
                               parts=parts, scale=scale)
        frames.append(out)
        if note:
            notes.append(f"Periods on {int(vintage)} boundaries mapped to {target}: {note}")
    if not frames:
        return pd.DataFrame(columns=list(MAPPED_COLUMNS)), notes
    return pd.concat(frames, ignore_index=True)[list(MAPPED_COLUMNS)], notes


def _as_is(group: pd.DataFrame) -> pd.DataFrame:
    return group.assign(method="same", from_codes=group["area_code"], estimate=False,
                        reason=None)


def _map_group(group: pd.DataFrame, boundaries: Boundaries, source: int, target: int, *,
               kind: MapKind, parts: pd.DataFrame | None, scale: float
               ) -> tuple[pd.DataFrame, str]:
    """One source vintage's rows mapped: whole-area renames directly, the rest by kind."""
    renames = boundaries.renames(source, target)
    easy = group["area_code"].isin(renames.keys())
    out = group[easy].assign(
        from_codes=group.loc[easy, "area_code"],
        area_code=group.loc[easy, "area_code"].map(lambda c: renames[c][0]),
        method=group.loc[easy, "area_code"].map(lambda c: renames[c][1]),
        estimate=False, reason=None)
    hard, dropped = group[~easy], []
    if len(hard):
        xw = boundaries.crosswalk(source, target)
        known = hard["area_code"].isin(set(xw["from_code"]))
        dropped = sorted(set(hard.loc[~known, "area_code"]))
        if known.any():
            # Only the rows of the targets these districts go to: the mapping works on the
            # whole crosswalk it is given, and most of a crosswalk is renames.
            targets = xw.loc[xw["from_code"].isin(hard["area_code"]), "to_code"]
            xw = xw[xw["to_code"].isin(targets)]
            changed = _map_changed(hard[known], xw, kind=kind, parts=parts, scale=scale)
            out = pd.concat([out, changed], ignore_index=True)
    moved = sorted(set(out.loc[out["method"].isin(["merge", "split"]), "area_code"]))
    said = [f"{len(moved)} district(s) made of others by mergers or splits ("
            f"{', '.join(moved)})"] if moved else []
    said += [f"{len(dropped)} code(s) not on those boundaries left out "
             f"({', '.join(dropped[:6])}{' …' if len(dropped) > 6 else ''})"] if dropped else []
    return out, "; ".join(said)


def simple_codes(xw: pd.DataFrame) -> set[str]:
    """Source codes whose area is one target area, whole and alone (same or recoded)."""
    per_to = xw.groupby("to_code")["from_code"].transform("size")
    per_from = xw.groupby("from_code")["to_code"].transform("size")
    ok = (per_to == 1) & (per_from == 1) & (xw["weight"] == 1) & xw["method"].isin(
        ["same", "recode"])
    return set(xw.loc[ok, "from_code"])


def _map_changed(hard: pd.DataFrame, xw: pd.DataFrame, *, kind: MapKind,
                 parts: pd.DataFrame | None, scale: float) -> pd.DataFrame:
    """Rows of districts merged or split on the way: by the rules of the module docstring."""
    values = hard[["period", "area_code", "value"]]
    if kind == "count":
        out = to_vintage(values, xw, kind="count")
    elif kind == "ratio" and parts is not None:
        p = parts.merge(hard[["period", "area_code"]], on=["period", "area_code"])
        out = ratio_to_vintage(
            p[["period", "area_code", "numerator"]].rename(columns={"numerator": "value"}),
            p[["period", "area_code", "denominator"]].rename(columns={"denominator": "value"}),
            xw, scale=scale)
        out = _refuse_missing_parts(out, values, xw)
    else:
        out = to_vintage(values, xw, kind="median")
        what = ("no numerator and denominator to recompute this rate across" if kind == "ratio"
                else "this indicator cannot be combined across")
        out["reason"] = out["reason"].str.replace("a median cannot be combined across", what,
                                                  regex=False)
    return out.assign(lower=np.nan, upper=np.nan)


def _refuse_missing_parts(out: pd.DataFrame, values: pd.DataFrame,
                          xw: pd.DataFrame) -> pd.DataFrame:
    """Targets with a published value but no numerator or denominator say so."""
    targets = values.merge(xw[["from_code", "to_code"]], left_on="area_code",
                           right_on="from_code")[["period", "to_code"]].drop_duplicates()
    targets = targets.rename(columns={"to_code": "area_code"})
    out = targets.merge(out, on=["period", "area_code"], how="left")
    lacking = out["value"].isna() & out["reason"].isna()
    out.loc[lacking, "reason"] = ("no numerator and denominator to recompute the rate across "
                                  "the boundary change")
    out["method"] = out["method"].fillna("merge")
    out["estimate"] = out["estimate"].fillna(False).astype(bool)
    return out


__all__ = ["MAPPED_COLUMNS", "Boundaries", "Crosswalk", "MapKind", "on_vintage", "simple_codes"]
