"""Split weights from official figures: each former district's share of its successor.

When a figure published for a merged area ``W`` (Cumberland, 2023) is needed for
one of its former parts ``P_1..P_n`` (Allerdale, Carlisle, Copeland), it is
shared among them (:mod:`keycities.geography.mapping`)::

    x_t(P_k) = x_t(W) * m(P_k) / sum_j m(P_j)

The weight ``m`` is the first of these that the store can give:

1. ``own`` -- the parts' own figures of the same measure in the year ``t'``
   nearest to ``t``, from the release of ``W``'s figure or an older one, in
   which one release has every part (the whole is their sum).  This carries
   the parts' shares forward or back from the nearest year they were
   published: districts' relative sizes change slowly, so their last
   published shares are a close guide (the back-test measures how close).
2. ``related`` -- the same, with the parts' figures of a related official
   measure (:data:`RELATED`: population for residents; for jobs and hours,
   GVA, which like them is counted at the workplace).
3. ``postcodes`` -- the parts' numbers of postcodes
   (:mod:`keycities.geography.weights`): a proxy for addresses, not people,
   that gives rural districts too much; the last resort.

Ties in distance go to the newer release, then to the later year.  Every
weight names its measure, year and release, so an estimate can say what it
rests on; :mod:`keycities.geography.backtest` measures each method's error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import pandas as pd

Tier = Literal["own", "related", "postcodes"]
TIERS: tuple[Tier, ...] = ("own", "related", "postcodes")
"""The weights in the order they are tried (module docstring)."""

#: Measures whose shares stand in for a measure the parts have no figures of,
#: in order of preference.  Filled jobs and hours are counted at the workplace, as
#: GVA is: among districts of one county, GVA shares are nearer their shares of
#: filled jobs than population shares are (benchmarks/apportionment.py).
RELATED: dict[str, tuple[str, ...]] = {
    "population": ("population_regional_accounts",),
    "population_regional_accounts": ("population",),
    "filled_jobs": ("gva_current_prices", "population", "population_regional_accounts"),
    "hours_worked_weekly": ("gva_current_prices", "population",
                            "population_regional_accounts"),
}
DEFAULT_RELATED: tuple[str, ...] = ("population", "population_regional_accounts")
"""Related measures of any other count: the residents of each part."""

VALUE_COLUMNS: tuple[str, ...] = ("measure", "area_code", "period", "value", "release_id",
                                  "published")
"""Columns of the part values the functions here take."""

WEIGHT_COLUMNS: tuple[str, ...] = ("whole", "code", "weight", "share", "tier", "measure",
                                   "period", "release_id", "basis")


def related_measures(measure: str) -> tuple[str, ...]:
    """The measures whose shares may stand in for ``measure`` (tier 2), best first."""
    return tuple(m for m in RELATED.get(measure, DEFAULT_RELATED) if m != measure)


def nearest_shares(groups: Mapping[str, Sequence[str]], values: pd.DataFrame, *,
                   period: int, measures: Sequence[str]) -> pd.DataFrame:
    """Each group's parts' figures in the release and year nearest ``period``.

    Parameters
    ----------
    groups
        Whole (merged code) -> its parts.
    values
        Candidate figures of the parts (:data:`VALUE_COLUMNS`); ``published``
        orders releases (newer wins a tie).
    period
        The year wanted.
    measures
        The measures to use, best first: a later one only for a group that
        the earlier ones cannot weight.

    Returns
    -------
    pandas.DataFrame
        :data:`WEIGHT_COLUMNS` without ``tier`` and ``basis``: one row per
        part of each group that could be weighted; ``share`` is the part's
        value over the sum of the parts (the whole) in that release and year.
    """
    cols = [c for c in WEIGHT_COLUMNS if c not in ("tier", "basis")]
    order = {m: i for i, m in enumerate(measures)}
    owner = {p: w for w, parts in groups.items() for p in parts}
    v = values[values["measure"].isin(list(order)) & values["area_code"].isin(list(owner))
               & values["value"].notna()]
    # A few thousand rows: plain dicts are much quicker here than grouped frames.
    sets: dict[tuple[str, str, str, int], dict[str, float]] = {}
    published: dict[str, str] = {}
    for m, code, rel, pub, year, value in zip(
            v["measure"], v["area_code"], v["release_id"], v["published"], v["period"],
            v["value"], strict=True):
        sets.setdefault((owner[code], m, str(rel), int(year)), {})[code] = float(value)
        published[str(rel)] = str(pub)
    complete = [k for k, got in sets.items()
                if len(got) == len(groups[k[0]]) and sum(got.values()) > 0]
    # Best first: measure order, nearest year; ties to the newer release, then the later
    # year (stable sorts, least important key first).
    complete.sort(key=lambda k: k[3], reverse=True)
    complete.sort(key=lambda k: published[k[2]], reverse=True)
    complete.sort(key=lambda k: (order[k[1]], abs(k[3] - period)))
    rows, done = [], set()
    for key in complete:
        whole, m, rel, year = key
        if whole in done:
            continue
        done.add(whole)
        total = sum(sets[key].values())
        rows += [(whole, code, x, x / total, m, year, rel) for code, x in sorted(sets[key].items())]
    return pd.DataFrame(rows, columns=cols).sort_values(["whole", "code"], ignore_index=True)


def split_weights(groups: Mapping[str, Sequence[str]], values: pd.DataFrame, *,
                  measure: str, period: int, published_by: str | None = None,
                  postcodes: pd.DataFrame | None = None,
                  label: Callable[[str], str] | None = None,
                  tiers: Sequence[Tier] = TIERS) -> pd.DataFrame:
    """The weight of every part of every group, by the first tier that gives one.

    Parameters
    ----------
    groups
        Whole (merged code) -> its parts.
    values
        The parts' figures (:data:`VALUE_COLUMNS`).
    measure
        The measure being split.
    period
        Its year.
    published_by
        The publication date (ISO) of the whole's figure: only releases published
        then or before are used (default: all).
    postcodes
        code, weight (number of postcodes) of the parts, for the last tier.
    label
        Measure name -> words for the basis (default: the name).
    tiers
        The tiers to try, in order (the back-test runs each alone).

    Returns
    -------
    pandas.DataFrame
        :data:`WEIGHT_COLUMNS`; a group no tier can weight has no rows.
    """
    name = label or (lambda m: m.replace("_", " "))
    if published_by is not None:
        values = values[values["published"] <= published_by]
    left = dict(groups)
    out = []
    for tier in tiers:
        if not left:
            break
        got = _tier_weights(tier, left, values, measure=measure, period=period,
                            postcodes=postcodes)
        if got.empty:
            continue
        got = got.assign(tier=tier)
        got["basis"] = [_basis(tier, w, s, name(str(m)), p, r) for w, s, m, p, r in zip(
            got["whole"], got["share"], got["measure"], got["period"], got["release_id"],
            strict=True)]
        out.append(got)
        left = {w: p for w, p in left.items() if w not in set(got["whole"])}
    if not out:
        return pd.DataFrame(columns=list(WEIGHT_COLUMNS))
    return pd.concat(out, ignore_index=True)[list(WEIGHT_COLUMNS)]


def _tier_weights(tier: Tier, groups: Mapping[str, Sequence[str]], values: pd.DataFrame, *,
                  measure: str, period: int, postcodes: pd.DataFrame | None) -> pd.DataFrame:
    if tier == "own":
        return nearest_shares(groups, values, period=period, measures=[measure])
    if tier == "related":
        return nearest_shares(groups, values, period=period,
                              measures=related_measures(measure))
    return postcode_shares(groups, postcodes)


def postcode_shares(groups: Mapping[str, Sequence[str]],
                    postcodes: pd.DataFrame | None) -> pd.DataFrame:
    """Each group's parts' postcode counts and shares (groups with a count for every part)."""
    cols = [c for c in WEIGHT_COLUMNS if c not in ("tier", "basis")]
    if postcodes is None or postcodes.empty:
        return pd.DataFrame(columns=cols)
    count = dict(zip(postcodes["code"], postcodes["weight"], strict=False))
    rows = []
    for whole, parts in groups.items():
        if all(p in count for p in parts) and sum(count[p] for p in parts) > 0:
            total = float(sum(count[p] for p in parts))
            rows += [(whole, p, float(count[p]), count[p] / total, "postcodes", -1, "")
                     for p in parts]
    return pd.DataFrame(rows, columns=cols)


def _basis(tier: Tier, whole: str, share: float, measure: str, period: int,
           release_id: str) -> str:
    """Words for one part's weight: what it is a share of, when, and from which release."""
    if tier == "postcodes":
        return f"its share of the postcodes of {whole} ({share:.1%})"
    return f"its share of {measure} in {period} ({release_id}: {share:.1%} of {whole})"


def postcode_counts(weights: pd.DataFrame) -> pd.DataFrame:
    """code, weight: each part's number of postcodes on the newest boundaries holding it.

    Parameters
    ----------
    weights
        The store's ``split_weight`` rows (code, geography_vintage, weight, basis).
    """
    if weights is None or weights.empty:
        return pd.DataFrame({"code": pd.Series(dtype=str), "weight": pd.Series(dtype=float)})
    newest = weights.sort_values("geography_vintage").drop_duplicates("code", keep="last")
    return newest[["code", "weight"]].reset_index(drop=True)
