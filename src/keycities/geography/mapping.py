"""Map values between LAD boundary vintages.

Formulation
-----------
A *crosswalk* from vintage ``s`` to vintage ``t`` is a table of rows
``(from_code, to_code, weight)``: the share of ``from_code``'s content that
lies in ``to_code``.  For an additive count ``x``,

    x_t(j) = sum_i x_s(i) * w(i, j)

and the weights of each ``from_code`` sum to one, so totals are conserved.

*Forward* (``s < t``): the change rows with ``s < year <= t`` are applied in
year order.  A merger (``A, B -> C``) and a recode (``D -> E``) both send the
whole of the old code to the new one (``w = 1``); a code may be recoded and
later merged.  A split (one old code, several new ones) needs weights of the
new parts.

*Backward* (``s > t``): the forward crosswalk ``t -> s`` is inverted.  An area
``S`` of vintage ``s`` formed from target areas ``T_1..T_n`` is shared among
them in proportion to ``w(T_k, S) * m(T_k)`` where ``m`` is a *split weight* of
each part (its number of postcodes, :mod:`keycities.geography.weights`, or, via
:func:`reweight`, its share of an official figure,
:mod:`keycities.geography.shares`).
Such rows are estimates and say their basis; without a weight for every part
the weight is NaN and the basis says why, so a caller reports the figure as
unavailable rather than guessing.

Counts map by the sum above (:func:`to_vintage`).  Ratios are recomputed from
mapped numerator and denominator (:func:`ratio_to_vintage`), never summed or
averaged.  Scores, ranks, medians and indices only map through unchanged or
recoded areas; across a merger or split they come back NaN with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, Literal, TypeVar

import numpy as np
import pandas as pd

from keycities.errors import KeycitiesError
from keycities.geography._forward import METHOD_RANK, XWALK_COLUMNS, forward
from keycities.geography._forward import RANK_METHOD as _RANK_METHOD
from keycities.geography.areas import areas_in_vintage, lad_changes, with_changes

Method = Literal["same", "recode", "merge", "split"]
Kind = Literal["count", "ratio", "score", "rank", "median", "index"]

SHARE_OF = "; share of "
NO_WEIGHT = "; no split weight for "


# ------------------------------------------------------------------ change chains


class _Steps:
    """A change list as dictionaries per year (old code -> new codes, and back), so that
    following a chain is a few set operations rather than a pandas filter per year."""

    def __init__(self, changes: pd.DataFrame) -> None:
        ch = lad_changes(changes)
        self.forward: dict[int, dict[str, set[str]]] = {}
        self.back: dict[int, dict[str, set[str]]] = {}
        for year, old, new in zip(ch["year"].astype(int), ch["old_code"], ch["new_code"],
                                  strict=True):
            self.forward.setdefault(year, {}).setdefault(str(old), set()).add(str(new))
            self.back.setdefault(year, {}).setdefault(str(new), set()).add(str(old))
        self.years = sorted(self.forward)


V = TypeVar("V")


class _ByIdentity(Generic[V]):
    """Values made from some objects, the last ``size`` kept and found by the objects'
    identity (the objects are held here, so an id is never reused).  A store's tables are
    read once and passed around unchanged
    (:class:`keycities.geography.tables.GeographyTables`), so identity finds them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: list[tuple[tuple[object, ...], V]] = []

    def get(self, key: tuple[object, ...], make: Callable[[], V]) -> V:
        """The value kept for ``key``'s objects, else ``make()`` (then kept)."""
        for seen, value in self.items:
            if len(seen) == len(key) and all(a is b for a, b in zip(seen, key, strict=True)):
                return value
        value = make()
        self.items.insert(0, (key, value))
        del self.items[self.size:]
        return value


_STEPS: _ByIdentity[_Steps] = _ByIdentity(4)


def _steps(changes: pd.DataFrame) -> _Steps:
    """:class:`_Steps` of ``changes``, kept for the last few change tables seen."""
    return _STEPS.get((changes,), lambda: _Steps(changes))


def _follow(code: str, years: Iterable[int], step: dict[int, dict[str, set[str]]]) -> list[str]:
    current = {code.upper()}
    for year in years:
        moves = step[year]
        hit = current & moves.keys()
        if hit:
            current = (current - hit).union(*(moves[c] for c in hit))
    return sorted(current)


def successors(code: str, changes: pd.DataFrame, *, vintage: int) -> list[str]:
    """The codes a LAD's area belongs to in ``vintage``, following later changes.

    Parameters
    ----------
    code
        A LAD code.
    changes
        Change rows (store ``change`` table).
    vintage
        The vintage to follow changes up to (inclusive).

    Returns
    -------
    list of str
        Sorted codes; ``[code]`` when nothing changed.
    """
    steps = _steps(changes)
    return _follow(code, [y for y in steps.years if y <= vintage], steps.forward)


def predecessors(code: str, changes: pd.DataFrame, *, vintage: int) -> list[str]:
    """The codes of ``vintage`` a LAD was made from, following changes backwards.

    Parameters
    ----------
    code
        A LAD code.
    changes
        Change rows (store ``change`` table).
    vintage
        The earlier vintage; changes with ``year > vintage`` are undone.

    Returns
    -------
    list of str
        Sorted codes; ``[code]`` when nothing changed.
    """
    steps = _steps(changes)
    return _follow(code, [y for y in reversed(steps.years) if y > vintage], steps.back)


# ------------------------------------------------------------------ split weights


def _weight_lookup(weights: pd.DataFrame | None, changes: pd.DataFrame,
                   vintage: int) -> pd.DataFrame:
    """Split weight and basis per code (index), nearest geography vintage first.

    A merged code with no weight of its own gets the sum of its parts' weights
    (Somerset West and Taunton = Taunton Deane + West Somerset).
    """
    if weights is None or len(weights) == 0:
        return pd.DataFrame({"weight": pd.Series(dtype=float),
                             "basis": pd.Series(dtype=object)})
    w = weights.assign(code=weights["code"].astype("str").str.upper(),
                       _d=(weights["geography_vintage"] - vintage).abs(),
                       _later=-weights["geography_vintage"])
    w = w.sort_values(["code", "_d", "_later"]).drop_duplicates("code")
    weight = dict(zip(w["code"], w["weight"].astype(float), strict=True))
    basis = dict(zip(w["code"], w["basis"], strict=True))
    mergers = changes[changes["type"] == "merger"]
    parts_of: dict[str, list[str]] = {}
    for old, new in zip(mergers["old_code"], mergers["new_code"], strict=True):
        parts_of.setdefault(new, []).append(old)
    for new, parts in parts_of.items():
        if new not in weight and all(p in weight for p in parts):
            weight[new] = float(np.nansum([weight[p] for p in parts]))  # as pandas sums
            words = "; ".join(dict.fromkeys(basis[p] for p in parts))
            basis[new] = f"sum of its parts ({words})"
    return pd.DataFrame({"weight": pd.Series(weight, dtype=float),
                         "basis": pd.Series(basis, dtype=object)}).rename_axis("code")


def _weight_of(codes: pd.Series, wt: pd.DataFrame) -> pd.Series:
    d = wt["weight"].to_dict()
    return pd.Series([d.get(c, np.nan) for c in codes], index=codes.index, dtype=float)


def _basis_of(codes: pd.Series, wt: pd.DataFrame) -> pd.Series:
    d = wt["basis"].to_dict()
    return pd.Series([str(d.get(c, "")) for c in codes], index=codes.index, dtype="str")


# ------------------------------------------------------------------ crosswalk


class _Prepared:
    """A crosswalk's inputs made ready once: LAD changes, the LAD table tightened by
    them, and the split weights per vintage (every crosswalk of an analysis shares them;
    preparing them was most of a crosswalk's cost)."""

    def __init__(self, lads: pd.DataFrame, changes: pd.DataFrame,
                 weights: pd.DataFrame | None) -> None:
        self.changes = lad_changes(changes)
        self.lads = with_changes(lads, self.changes)
        self._weights = weights
        self._by_vintage: dict[int, pd.DataFrame] = {}

    def weights(self, vintage: int) -> pd.DataFrame:
        """:func:`_weight_lookup` for ``vintage`` (cached)."""
        if vintage not in self._by_vintage:
            self._by_vintage[vintage] = _weight_lookup(self._weights, self.changes, vintage)
        return self._by_vintage[vintage]


_PREPARED: _ByIdentity[_Prepared] = _ByIdentity(4)


def _prepare(lads: pd.DataFrame, changes: pd.DataFrame,
             weights: pd.DataFrame | None) -> _Prepared:
    """:class:`_Prepared` of these tables, kept for the last few seen (by identity)."""
    return _PREPARED.get((lads, changes, weights), lambda: _Prepared(lads, changes, weights))



def crosswalk(lads: pd.DataFrame, changes: pd.DataFrame, *, source: int, target: int,
              weights: pd.DataFrame | None = None) -> pd.DataFrame:
    """Crosswalk from the LADs of vintage ``source`` to those of ``target``.

    Parameters
    ----------
    lads
        A LAD table (:func:`keycities.geography.areas.lad_table`).
    changes
        Change rows (store ``change`` table); non-LAD rows are ignored.
    source, target
        Boundary vintages.
    weights
        Split weights (store ``split_weight`` table: code, geography_vintage,
        weight, basis): the weight of each part of a split.

    Returns
    -------
    pandas.DataFrame
        from_code, to_code, weight, method ('same' | 'recode' | 'merge' |
        'split'), estimate (bool), basis (str).  See the module docstring for
        the formulation.
    """
    prepared = _prepare(lads, changes, weights)
    ch, lads = prepared.changes, prepared.lads
    wt = prepared.weights(min(source, target))
    if source <= target:
        out = forward(_codes_in(lads, ch, source), ch, source, target, wt)
    else:
        fw = forward(_codes_in(lads, ch, target), ch, target, source, wt)
        out = _invert(fw, wt, source=source, target=target)
    return out.sort_values(["from_code", "to_code"]).reset_index(drop=True)


def _codes_in(lads: pd.DataFrame, ch: pd.DataFrame, vintage: int) -> list[str]:
    # A table's first vintage is only a creation date when the change list says
    # so: the package list starts in 2021 but Hull existed in 2019.
    created = lads["code"].isin(set(ch["new_code"]))
    lads = lads.assign(vintage_start=lads["vintage_start"].where(created))
    codes = set(areas_in_vintage(lads, vintage)["code"])
    # A code that changes after ``vintage`` existed in it unless it was itself created later.
    created_later = set(ch.loc[ch["year"] > vintage, "new_code"])
    codes |= set(ch.loc[ch["year"] > vintage, "old_code"]) - created_later
    return sorted(codes)


def _invert(fw: pd.DataFrame, wt: pd.DataFrame, *, source: int, target: int) -> pd.DataFrame:
    """Invert a forward crosswalk target -> source into source -> target."""
    b = fw.rename(columns={"from_code": "to_code", "to_code": "from_code"})
    n = b.groupby("from_code")["to_code"].transform("size")
    part = b["weight"] * _weight_of(b["to_code"], wt)
    total = part.groupby(b["from_code"]).transform("sum", min_count=1)
    any_missing = part.isna().groupby(b["from_code"]).transform("any")
    shared = (part / total).where(~any_missing)
    merged_in = (n == 1) & (b["method"] == "merge")
    weight = np.where(n > 1, shared, np.where(merged_in, np.nan, 1.0))
    method = np.select([n > 1, (b["weight"] != 1) | b["weight"].isna()],
                       ["split", "merge"], b["method"])
    out = pd.DataFrame({"from_code": b["from_code"], "to_code": b["to_code"],
                        "weight": weight.astype(float), "method": method,
                        "estimate": n > 1})
    out["basis"] = _invert_basis(b, n, any_missing, merged_in, wt, source, target)
    return out[list(XWALK_COLUMNS)]


def _invert_basis(b: pd.DataFrame, n: pd.Series, any_missing: pd.Series,
                  merged_in: pd.Series, wt: pd.DataFrame, source: int,
                  target: int) -> pd.Series:
    ordered = b.sort_values("to_code")
    parts = b["from_code"].map(ordered.groupby("from_code")["to_code"].agg(", ".join))
    unweighted = ordered[~ordered["to_code"].isin(wt.index)]
    lacking = unweighted.groupby("from_code")["to_code"].agg(", ".join).to_dict()
    missing = pd.Series([lacking.get(c, "") for c in b["from_code"]], index=b.index,
                        dtype="str")
    shared = b["from_code"] + " shared among " + parts + " (reverse of: " + b["basis"] + ")"
    split_ok = shared + SHARE_OF + b["to_code"] + " estimated by " + _basis_of(b["to_code"], wt)
    split_na = (shared + NO_WEIGHT + missing.where(missing != "", "every part")
                + ", so its value cannot be apportioned: unavailable")
    partial = (b["from_code"] + " was formed from " + b["to_code"] + " and areas missing "
               "from the " + str(target) + " LAD table; cannot apportion: unavailable")
    same = pd.Series(f"code unchanged between {target} and {source}", index=b.index)
    return pd.Series(np.select(
        [(n > 1) & ~any_missing, n > 1, merged_in,
         b["basis"].str.startswith("code unchanged")],
        [split_ok, split_na, partial, same], "reverse of: " + b["basis"]), index=b.index)


def split_groups(xwalk: pd.DataFrame) -> dict[str, list[str]]:
    """Each area a crosswalk shares among several target areas, and those areas.

    Parameters
    ----------
    xwalk
        A crosswalk (:func:`crosswalk`).

    Returns
    -------
    dict
        from_code (the merged area) -> sorted to_codes (its former parts), for
        its 'split' rows.
    """
    split = xwalk[xwalk["method"] == "split"]
    return {str(w): sorted(g) for w, g in split.groupby("from_code")["to_code"]}


def whole_splits(xwalk: pd.DataFrame, codes: Iterable[str]) -> set[str]:
    """The target areas of ``codes`` that, with the others of ``codes``, make up the
    whole of a split area: their values add up to its value exactly.

    Parameters
    ----------
    xwalk
        A crosswalk (:func:`crosswalk`).
    codes
        Target areas taken together (a network's members).

    Returns
    -------
    set of str
        Each to_code of a split whose every part is in ``codes`` (and takes all
        of its value from that split area).
    """
    have = set(codes)
    out: set[str] = set()
    rows = xwalk.groupby("to_code")["from_code"].nunique()
    for parts in split_groups(xwalk).values():
        if set(parts) <= have and all(rows.get(p, 0) == 1 for p in parts):
            out |= set(parts)
    return out


def reweight(xwalk: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """A crosswalk whose splits of merged areas use other weights.

    A merged area ``S`` made wholly of ``T_1..T_n`` is shared among them as
    ``m(T_k) / sum_j m(T_j)`` (module docstring) with ``m`` from ``weights``,
    for every ``S`` whose parts all have one and each lie wholly in ``S``;
    other rows are returned as they were.

    Parameters
    ----------
    xwalk
        A crosswalk (:func:`crosswalk`).
    weights
        code (a part), weight (any positive measure of it), basis (words
        for the weight, quoted in the row's basis).

    Returns
    -------
    pandas.DataFrame
        The crosswalk, re-weighted where it could be.
    """
    m = dict(zip(weights["code"], weights["weight"], strict=False))
    why = dict(zip(weights["code"], weights["basis"], strict=False))
    split = xwalk["method"] == "split"
    whole_part = xwalk["to_code"].map(xwalk["to_code"].value_counts()) == 1
    ok = split & whole_part & xwalk["to_code"].isin(list(m))
    ok = ok.groupby(xwalk["from_code"]).transform("all") & split
    if not ok.any():
        return xwalk
    out = xwalk.copy()
    part = out.loc[ok, "to_code"].map(m).astype(float)
    out.loc[ok, "weight"] = part / part.groupby(out.loc[ok, "from_code"]).transform("sum")
    head = out.loc[ok, "basis"].str.split(SHARE_OF, n=1).str[0].str.split(NO_WEIGHT, n=1).str[0]
    out.loc[ok, "basis"] = (head + SHARE_OF + out.loc[ok, "to_code"] + " estimated by "
                            + out.loc[ok, "to_code"].map(why).astype(str))
    return out


# ------------------------------------------------------------------ mapping values


def _keys(values: pd.DataFrame) -> list[str]:
    return [c for c in values.columns if c not in ("area_code", "value")]


def _join(values: pd.DataFrame, xwalk: pd.DataFrame) -> pd.DataFrame:
    known = values["area_code"].isin(xwalk["from_code"])
    if not known.all():
        unknown = sorted(set(values.loc[~known, "area_code"]))
        shown = ", ".join(unknown[:8]) + (" …" if len(unknown) > 8 else "")
        raise KeycitiesError(
            f"{len(unknown)} area code(s) are not LADs of the crosswalk's source vintage: "
            f"{shown}. Keep only LAD codes of that vintage, or check the release's "
            "geography vintage.")
    return values.merge(xwalk, left_on="area_code", right_on="from_code", how="inner")


def to_vintage(values: pd.DataFrame, xwalk: pd.DataFrame, *, kind: Kind) -> pd.DataFrame:
    """Map values from a crosswalk's source vintage to its target vintage.

    Parameters
    ----------
    values
        area_code, value, plus any key columns (measure, period, unit, …) that
        are kept as group keys.
    xwalk
        A crosswalk (:func:`crosswalk`).
    kind
        'count' (additive: ``sum(value * weight)`` per to_code) or a
        non-additive kind ('score', 'rank', 'median', 'index': only unchanged
        or recoded areas map).  Ratios go through :func:`ratio_to_vintage`.

    Returns
    -------
    pandas.DataFrame
        Key columns, area_code (target vintage), value, estimate (any
        contributing row estimated), method (the strongest change involved),
        from_codes (comma-joined), basis, reason (why value is NaN, else None).
        A to_code is NaN when any of its parts lacks a value or a weight
        (never a partial sum).
    """
    if kind == "ratio":
        raise KeycitiesError("Ratios are not mapped directly: map numerator and denominator "
                             "with ratio_to_vintage(numerator, denominator, xwalk).")
    keys = _keys(values)
    m = _join(values, xwalk)
    m["part"] = m["value"] * m["weight"]
    m["_nan"] = m["part"].isna()
    g = m.groupby([*keys, "to_code"], dropna=False, sort=True)
    # One reduction per column: a named ``agg`` of the three took several times as long.
    out = pd.DataFrame({"value": g["part"].sum(), "_nan": g["_nan"].any(), "_rows": g.size()})
    out = out.reset_index().join(_target_summary(xwalk), on="to_code")
    out["reason"] = _reasons(out, m, keys)
    out.loc[out["reason"].notna(), "value"] = np.nan
    if kind != "count":
        bad = (out["_rows"] > 1) | ~out["method"].isin(["same", "recode"])
        out.loc[bad & out["reason"].isna(), "reason"] = (
            f"a {kind} cannot be combined across a " + out["method"] + " of "
            + out["from_codes"] + "; only unchanged or recoded areas map")
        out.loc[bad, "value"] = np.nan
    out = out.rename(columns={"to_code": "area_code"})
    cols = [*keys, "area_code", "value", "estimate", "method", "from_codes", "basis", "reason"]
    return out[cols].reset_index(drop=True)


_SUMMARIES: _ByIdentity[pd.DataFrame] = _ByIdentity(8)


def _target_summary(xwalk: pd.DataFrame) -> pd.DataFrame:
    """Per to_code: from_codes, method, estimate, basis, number of parts.

    Kept for the last few crosswalks seen (by identity: a crosswalk is cached and
    shared, :class:`keycities.geography.tables.GeographyTables`, and a panel maps
    every year's release through the same one)."""
    return _SUMMARIES.get((xwalk,), lambda: _summarise_targets(xwalk))


def _summarise_targets(xwalk: pd.DataFrame) -> pd.DataFrame:
    x = xwalk.assign(_rank=xwalk["method"].map(METHOD_RANK)).sort_values("from_code")
    parts = x.groupby("to_code")["from_code"].transform("size")
    # Most targets have one part: take its row as it is; join strings only for the rest
    # (a Python join per group was most of the cost of mapping a release).
    one = x[parts == 1].set_index("to_code")
    g = x[parts > 1].groupby("to_code")
    out = pd.concat([
        pd.DataFrame({"from_codes": one["from_code"], "method": one["_rank"].map(_RANK_METHOD),
                      "estimate": one["estimate"].astype(bool), "basis": one["basis"],
                      "_expected": 1}),
        pd.DataFrame({
            "from_codes": g["from_code"].agg(",".join),
            "method": g["_rank"].max().map(_RANK_METHOD),
            "estimate": g["estimate"].any(),
            "basis": g["basis"].agg(lambda s: "; ".join(dict.fromkeys(s))),
            "_expected": g["from_code"].size(),
        })])
    return out.astype({"from_codes": "str", "basis": "str"}).sort_index()


def _reasons(out: pd.DataFrame, m: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Why each target value is unavailable (None when it is fine)."""
    reason = pd.Series(None, index=out.index, dtype="object")
    short = out["_rows"] < out["_expected"]
    if short.any():
        group = [*keys, "to_code"]
        sub = m[m["to_code"].isin(out.loc[short, "to_code"])]
        have = sub.groupby(group, dropna=False)["from_code"].agg(set).rename("_have")
        left = out.loc[short, [*group, "from_codes"]]
        merged = left.merge(have.reset_index(), on=group, how="left")
        reason.loc[short] = [
            f"no value for {', '.join(sorted(set(fc.split(',')) - h))} (part of {tc})"
            for fc, h, tc in zip(merged["from_codes"], merged["_have"], merged["to_code"],
                                 strict=True)]
    nan_rows = m[m["_nan"]]
    if len(nan_rows):
        why = pd.Series(np.where(nan_rows["weight"].isna(), nan_rows["basis"],
                                 "no value for " + nan_rows["from_code"]), index=nan_rows.index)
        per = why.groupby([nan_rows[k] for k in [*keys, "to_code"]], dropna=False).agg(
            lambda s: "; ".join(dict.fromkeys(s))).rename("_why").reset_index()
        merged = out[[*keys, "to_code"]].merge(per, on=[*keys, "to_code"], how="left")
        reason = reason.fillna(pd.Series(merged["_why"].to_numpy(), index=out.index))
    return reason.where(reason.notna(), None)


def ratio_to_vintage(numerator: pd.DataFrame, denominator: pd.DataFrame, xwalk: pd.DataFrame,
                     *, scale: float = 1.0) -> pd.DataFrame:
    """Map a ratio by mapping its numerator and denominator counts.

    ``r_t(j) = scale * N_t(j) / D_t(j)`` with ``N_t`` and ``D_t`` mapped as
    counts (:func:`to_vintage`); ratios themselves are never summed or
    averaged (an average of ratios is not the ratio of the merged area).

    Parameters
    ----------
    numerator, denominator
        area_code, value, plus key columns; they are matched on area_code and
        the key columns they share other than ``measure`` and ``unit``.
    xwalk
        A crosswalk (:func:`crosswalk`).
    scale
        Multiplier (e.g. 1000 for "per 1,000").

    Returns
    -------
    pandas.DataFrame
        Shared keys, area_code, value, numerator, denominator, estimate,
        method, from_codes, basis, reason.
    """
    num = to_vintage(numerator, xwalk, kind="count")
    den = to_vintage(denominator, xwalk, kind="count")
    shared = [k for k in _keys(numerator) if k in _keys(denominator)
              and k not in ("measure", "unit")]
    drop = ["measure", "unit"]
    num = num.drop(columns=[c for c in drop if c in num.columns])
    den = den.drop(columns=[c for c in drop if c in den.columns])
    j = num.merge(den, on=[*shared, "area_code"], how="outer", suffixes=("_num", "_den"))
    out = j[[*shared, "area_code"]].copy()
    out["numerator"], out["denominator"] = j["value_num"], j["value_den"]
    zero = out["denominator"] == 0
    out["value"] = (scale * out["numerator"] / out["denominator"]).where(~zero)
    out["estimate"] = j["estimate_num"].fillna(False).astype(bool) | \
        j["estimate_den"].fillna(False).astype(bool)
    rank = pd.concat([j["method_num"].map(METHOD_RANK), j["method_den"].map(METHOD_RANK)],
                     axis=1).max(axis=1).fillna(0)
    out["method"] = rank.astype(int).map(_RANK_METHOD)
    out["from_codes"] = j["from_codes_num"].fillna(j["from_codes_den"])
    out["basis"] = j["basis_num"].fillna(j["basis_den"])
    reason = j["reason_num"].fillna(j["reason_den"])
    reason = reason.where(j["value_num"].notna() | reason.notna(), "no numerator value")
    reason = reason.where(j["value_den"].notna() | reason.notna(), "no denominator value")
    out["reason"] = reason.where(~zero | reason.notna(), "denominator is zero")
    return out.reset_index(drop=True)
