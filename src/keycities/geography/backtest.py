"""Back-test of apportionment: how far estimates for former districts are from official figures.

For every district ``d`` merged into ``W`` between :data:`FIRST_YEAR` and
:data:`LAST_YEAR` (the change list) and every case (measure, year ``t``) of
:data:`CASES` for which an official figure of ``d`` exists:

* ``W``'s figure is taken as the tool would take it: from the newest release
  that has ``W`` for ``t``; where none has (``W`` is newer than every release
  of year ``t``), the sum of its parts' official figures;
* every figure of ``W``'s parts for year ``t`` is withheld (any measure), as
  when the tool has to estimate a year that was never published for them;
* each method (:data:`METHODS`: each tier of :mod:`keycities.geography.shares`
  alone, and ``as used``, the tiers in order) weights the parts from what is
  left, with releases published no later than ``W``'s figure;
* the error is ``estimate / official - 1``.

:func:`summary` gives, per measure, year and method, the number of districts
and the mean and worst absolute error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from keycities.geography.areas import lad_changes
from keycities.geography.shares import TIERS, split_weights

CASES: tuple[tuple[str, int], ...] = (("population", 2011), ("population", 2018),
                                      ("gva_current_prices", 2018))
"""(measure, year) pairs tested: mid-2011 and mid-2018 population, 2018 GVA."""

FIRST_YEAR, LAST_YEAR = 2019, 2023
"""Changes tested: mergers taking effect in these years (inclusive)."""

#: Measures that count the same thing: an official figure of either is the truth
#: (the regional accounts' population is ONS's mid-year estimate).
SAME_QUANTITY: dict[str, tuple[str, ...]] = {
    "population": ("population", "population_regional_accounts"),
}

AS_USED = "as used"
METHODS: tuple[str, ...] = (*TIERS, AS_USED)
"""Each tier alone, and the tiers in order (what the tool does)."""

DETAIL_COLUMNS: tuple[str, ...] = ("measure", "period", "whole", "code", "method", "tier",
                                   "estimate", "official", "error", "whole_release")


def merged_groups(changes: pd.DataFrame, *, first: int = FIRST_YEAR,
                  last: int = LAST_YEAR) -> dict[str, list[str]]:
    """Each LAD formed by a merger in ``first..last`` and the districts merged into it."""
    ch = lad_changes(changes)
    m = ch[(ch["type"] == "merger") & ch["year"].between(first, last)]
    return {str(w): sorted(set(g)) for w, g in m.groupby("new_code")["old_code"]}


def _officials(values: pd.DataFrame, codes: list[str], measure: str,
               period: int) -> pd.Series:
    """Each district's official figure of the year: own measure first, then the newest
    release (indexed by code)."""
    same = SAME_QUANTITY.get(measure, (measure,))
    rows = values[values["measure"].isin(list(same)) & (values["period"] == period)
                  & values["area_code"].isin(codes)]
    rows = rows.assign(_rank=rows["measure"].map({m: i for i, m in enumerate(same)}))
    rows = rows.sort_values(["_rank", "published"], ascending=[True, False])
    return rows.drop_duplicates("area_code").set_index("area_code")["value"].astype(float)


def _wholes(values: pd.DataFrame, groups: dict[str, list[str]], official: pd.Series,
            measure: str, period: int) -> pd.DataFrame:
    """whole, value, release_id, published of each group that can be tested: the newest
    release's figure of the whole, else (published None) the sum of its parts'."""
    rows = values[values["area_code"].isin(list(groups)) & (values["measure"] == measure)
                  & (values["period"] == period)]
    newest = rows.sort_values("published").drop_duplicates("area_code", keep="last")
    value = dict(zip(newest["area_code"], newest["value"].astype(float), strict=True))
    release = dict(zip(newest["area_code"], newest["release_id"], strict=True))
    published = dict(zip(newest["area_code"], newest["published"], strict=True))
    out: list[tuple[str, float, str, str | None]] = []
    for whole, parts in groups.items():
        if not official.index.isin(parts).any():
            continue
        if whole in value:
            out.append((whole, value[whole], str(release[whole]), str(published[whole])))
        elif all(p in official.index for p in parts):
            out.append((whole, float(official[parts].sum()), "sum of the parts", None))
    return pd.DataFrame(out, columns=["whole", "value", "release_id", "published"])


def backtest(changes: pd.DataFrame, values: pd.DataFrame, *,
             postcodes: pd.DataFrame | None = None,
             cases: Sequence[tuple[str, int]] = CASES,
             label: Callable[[str], str] | None = None) -> pd.DataFrame:
    """Estimate each former district's official figures from its successor's.

    Parameters
    ----------
    changes
        Change rows (store ``change`` table).
    values
        Figures of districts (:data:`keycities.geography.shares.VALUE_COLUMNS`):
        the successors', the parts' and their related measures'.
    postcodes
        code, weight (number of postcodes) of the former districts.
    cases
        (measure, year) pairs to test.
    label
        Measure name -> words (for the basis of weights).

    Returns
    -------
    pandas.DataFrame
        :data:`DETAIL_COLUMNS`, one row per district, case and method that
        gave an estimate; ``tier`` is the tier that weighted it.
    """
    groups = merged_groups(changes)
    frames = [_case(groups, values, postcodes, measure, period, label)
              for measure, period in cases]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=list(DETAIL_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(DETAIL_COLUMNS)]


def _case(groups: dict[str, list[str]], values: pd.DataFrame,
          postcodes: pd.DataFrame | None, measure: str, period: int,
          label: Callable[[str], str] | None) -> pd.DataFrame:
    """Every method's estimates of one (measure, year) for every testable district."""
    parts = sorted({p for ps in groups.values() for p in ps})
    official = _officials(values, parts, measure, period)
    wholes = _wholes(values, groups, official, measure, period)
    # The parts' figures of the year are withheld, as when the tool must estimate it.
    seen = values[~(values["area_code"].isin(parts) & (values["period"] == period))]
    out = []
    for cutoff, some in wholes.groupby(wholes["published"].fillna(""), sort=False):
        mine = {w: groups[w] for w in some["whole"]}
        each = [split_weights(mine, seen, measure=measure, period=period,
                              published_by=str(cutoff) or None, postcodes=postcodes,
                              label=label, tiers=(tier,)).assign(method=tier)
                for tier in TIERS]
        tiers = pd.concat(each, ignore_index=True)
        # As used: for each whole, the first tier (in order) that weights it.
        chosen = tiers.drop_duplicates("whole").set_index("whole")["method"]
        used = tiers[tiers["method"] == tiers["whole"].map(chosen)].assign(method=AS_USED)
        out += [tiers, used]
    if not out:
        return pd.DataFrame(columns=list(DETAIL_COLUMNS))
    est = pd.concat(out, ignore_index=True).merge(
        wholes.rename(columns={"value": "_whole", "release_id": "whole_release"}), on="whole")
    est = est[est["code"].isin(official.index)]
    est = est.assign(measure=measure, period=period,
                     estimate=est["_whole"] * est["share"].astype(float),
                     official=est["code"].map(official))
    return est.assign(error=est["estimate"] / est["official"] - 1)


def summary(detail: pd.DataFrame, *, by: Sequence[str] = ("measure", "period", "method")
            ) -> pd.DataFrame:
    """Districts, mean and worst absolute error (fractions) per group of ``by``.

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, districts, mean_abs_error, worst_abs_error, worst_code.
    """
    keys = list(by)
    if detail.empty:
        return pd.DataFrame(columns=[*keys, "districts", "mean_abs_error", "worst_abs_error",
                                     "worst_code"])
    d = detail.assign(_abs=detail["error"].abs())
    g = d.groupby(keys, sort=False)
    worst = d.loc[g["_abs"].idxmax(), [*keys, "code"]].set_index(keys)["code"]
    out = g.agg(districts=("code", "size"), mean_abs_error=("_abs", "mean"),
                worst_abs_error=("_abs", "max"))
    out["worst_code"] = worst
    return out.reset_index()


def error_text(errors: pd.DataFrame, tier: str, measure: str, *,
               label: Callable[[str], str] | None = None) -> str:
    """How wrong a tier has been: words for an estimate's note.

    Parameters
    ----------
    errors
        :func:`summary` by ("method", "measure") of a back-test.
    tier, measure
        The tier that weighted an estimate, and the measure estimated.
    label
        Measure name -> words (default: the name).

    Returns
    -------
    str
        "this method's back-test error: mean x%, worst y% (...)"; measured on
        other measures when ``measure`` has no official figures of former
        districts to test it on (and it says so), or why there is none.
    """
    name = label or (lambda m: m.replace("_", " "))
    mine = errors[errors["method"] == tier]
    if mine.empty:
        return "this method has no back-test in this store (no official figures to test it on)"
    row = mine[mine["measure"] == measure]
    if len(row):
        r = row.iloc[0]
        return (f"this method's back-test error: mean {r['mean_abs_error']:.1%}, worst "
                f"{r['worst_abs_error']:.1%} ({int(r['districts'])} estimates of former "
                "districts' official figures)")
    n = int(mine["districts"].sum())
    mean = float(np.average(mine["mean_abs_error"], weights=mine["districts"]))
    tested = " and ".join(name(str(m)).split(" (")[0] for m in mine["measure"])
    return (f"this method's back-test error: mean {mean:.1%}, worst "
            f"{float(mine['worst_abs_error'].max()):.1%} ({n} estimates of former districts' "
            f"{tested}; there are no official figures of their "
            f"{name(measure).split(' (')[0]} to test it on)")
