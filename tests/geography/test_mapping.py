"""Tests of keycities.geography.mapping: values across boundary vintages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keycities.errors import KeycitiesError
from keycities.geography.areas import (
    AREA_COLUMNS,
    areas_from_package,
    lad_table,
    package_changes,
)
from keycities.geography.mapping import (
    XWALK_COLUMNS,
    crosswalk,
    predecessors,
    ratio_to_vintage,
    reweight,
    successors,
    to_vintage,
    whole_splits,
)

# Tiny world: A + B -> C in 2019 (merger), D -> E in 2018 (recode), F unchanged.
A, B, C, D, E, F = "E07000001", "E07000002", "E06000003", "E07000004", "E07000005", "E07000006"


def _lads(rows: list[tuple[str, int | None, int | None]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["code", "vintage_start", "vintage_end"])
    df["name"] = df["code"]
    return lad_table(df.reindex(columns=list(AREA_COLUMNS)))


def _changes(rows: list[tuple[str, str, str, int]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["old_code", "new_code", "type", "year"])
    return df.assign(old_name=df["old_code"], new_name=df["new_code"])


LADS = _lads([(A, 2016, 2018), (B, 2016, 2018), (C, 2019, None), (D, 2016, 2017),
              (E, 2018, None), (F, 2016, None)])
CHANGES = _changes([(A, C, "merger", 2019), (B, C, "merger", 2019), (D, E, "new_code", 2018)])
WEIGHTS = pd.DataFrame({"code": [A, B], "geography_vintage": [2016, 2016],
                        "weight": [300.0, 100.0], "basis": ["postcode count, test"] * 2})


def _rows(xw: pd.DataFrame) -> dict[tuple[str, str], tuple[float, str, bool]]:
    return {(r.from_code, r.to_code): (r.weight, r.method, r.estimate)
            for r in xw.itertuples()}


# ------------------------------------------------------------------ crosswalk


def test_forward_merge_and_recode() -> None:
    xw = crosswalk(LADS, CHANGES, source=2016, target=2020)
    assert list(xw.columns) == list(XWALK_COLUMNS)
    assert _rows(xw) == {(A, C): (1.0, "merge", False), (B, C): (1.0, "merge", False),
                         (D, E): (1.0, "recode", False), (F, F): (1.0, "same", False)}
    assert xw.set_index("from_code").at[A, "basis"] == f"{A} merged into {C} in 2019"


def test_forward_stops_at_target_year() -> None:
    xw = crosswalk(LADS, CHANGES, source=2016, target=2018)
    assert _rows(xw)[(A, A)] == (1.0, "same", False)
    assert _rows(xw)[(D, E)] == (1.0, "recode", False)


def test_same_vintage_is_identity() -> None:
    xw = crosswalk(LADS, CHANGES, source=2020, target=2020)
    assert set(xw["method"]) == {"same"}
    assert sorted(xw["from_code"]) == sorted(xw["to_code"]) == [C, E, F]


def test_backward_split_by_weights() -> None:
    xw = crosswalk(LADS, CHANGES, source=2020, target=2016, weights=WEIGHTS)
    rows = _rows(xw)
    assert rows[(C, A)] == (0.75, "split", True)
    assert rows[(C, B)] == (0.25, "split", True)
    assert rows[(E, D)] == (1.0, "recode", False)
    assert rows[(F, F)] == (1.0, "same", False)
    basis = xw.set_index("to_code").at[A, "basis"]
    assert "postcode count, test" in basis and C in basis


def test_backward_split_without_weights_is_unavailable() -> None:
    xw = crosswalk(LADS, CHANGES, source=2020, target=2016)
    split = xw[xw["from_code"] == C]
    assert split["weight"].isna().all()
    assert split["basis"].str.contains("no split weight for E07000001, E07000002").all()
    partial = WEIGHTS.iloc[:1]  # a weight for A only: still unavailable, says which is missing
    xw = crosswalk(LADS, CHANGES, source=2020, target=2016, weights=partial)
    assert xw.loc[xw["from_code"] == C, "weight"].isna().all()
    assert xw.loc[xw["from_code"] == C, "basis"].str.contains(f"no split weight for {B},").all()


def test_recode_then_merge_chain() -> None:
    g = "E06000007"
    lads = _lads([(D, 2016, 2017), (E, 2018, 2019), (F, 2016, 2019), (g, 2020, None)])
    ch = _changes([(D, E, "new_code", 2018), (E, g, "merger", 2020), (F, g, "merger", 2020)])
    xw = crosswalk(lads, ch, source=2016, target=2021)
    assert _rows(xw) == {(D, g): (1.0, "merge", False), (F, g): (1.0, "merge", False)}
    assert xw.set_index("from_code").at[D, "basis"] == \
        f"{D} recoded {E} in 2018; {E} merged into {g} in 2020"
    back = crosswalk(lads, ch, source=2021, target=2016,
                     weights=pd.DataFrame({"code": [D, F], "geography_vintage": [2016, 2016],
                                           "weight": [1.0, 3.0], "basis": ["w", "w"]}))
    assert _rows(back)[(g, D)] == (0.25, "split", True)


def test_nested_merger_weights_sum_their_parts() -> None:
    """Somerset West and Taunton (2019) = Taunton Deane + West Somerset: weight = sum."""
    td, ws, swt, mendip, som = "E07000190", "E07000191", "E07000246", "E07000187", "E06000066"
    lads = _lads([(td, 2016, 2018), (ws, 2016, 2018), (swt, 2019, 2022), (mendip, 2016, 2022),
                  (som, 2023, None)])
    ch = _changes([(td, swt, "merger", 2019), (ws, swt, "merger", 2019),
                   (swt, som, "merger", 2023), (mendip, som, "merger", 2023)])
    w = pd.DataFrame({"code": [td, ws, mendip], "geography_vintage": 2016,
                      "weight": [2.0, 1.0, 1.0], "basis": "pc"})
    rows = _rows(crosswalk(lads, ch, source=2023, target=2019, weights=w))
    assert rows[(som, swt)][0] == pytest.approx(0.75)
    assert rows[(som, mendip)][0] == pytest.approx(0.25)
    rows16 = _rows(crosswalk(lads, ch, source=2023, target=2016, weights=w))
    assert rows16[(som, td)][0] == pytest.approx(0.5)


def test_reweight_replaces_a_merged_areas_split_and_says_by_what() -> None:
    xw = crosswalk(LADS, CHANGES, source=2020, target=2016, weights=WEIGHTS)
    shares = pd.DataFrame({"code": [A, B], "weight": [1.0, 3.0],
                           "basis": ["its share of gva in 2017", "its share of gva in 2017"]})
    out = reweight(xw, shares)
    rows = _rows(out)
    assert rows[(C, A)] == (0.25, "split", True) and rows[(C, B)] == (0.75, "split", True)
    assert rows[(F, F)] == (1.0, "same", False)
    basis = out.set_index("to_code").at[A, "basis"]
    assert basis.startswith(f"{C} shared among {A}, {B} (reverse of:")
    assert basis.endswith(f"; share of {A} estimated by its share of gva in 2017")
    assert "postcode" not in basis
    assert _rows(reweight(xw, shares.iloc[:1])) == _rows(xw)  # a part without: unchanged
    unweighted = crosswalk(LADS, CHANGES, source=2020, target=2016)
    assert _rows(reweight(unweighted, shares))[(C, B)] == (0.75, "split", True)


def test_parts_all_in_the_network_make_the_whole() -> None:
    """Issue 15, point 12: all former parts together are the merged area, exactly."""
    xw = crosswalk(LADS, CHANGES, source=2020, target=2016, weights=WEIGHTS)
    assert whole_splits(xw, [A, B, F]) == {A, B}
    assert whole_splits(xw, [A, F]) == set()


def test_forward_split_change_uses_weights_of_new_parts() -> None:
    old, n1, n2 = "E07000010", "E07000011", "E07000012"
    lads = _lads([(old, 2016, 2019), (n1, 2020, None), (n2, 2020, None)])
    ch = _changes([(old, n1, "split", 2020), (old, n2, "split", 2020)])
    w = pd.DataFrame({"code": [n1, n2], "geography_vintage": 2020, "weight": [1.0, 4.0],
                      "basis": "pc"})
    rows = _rows(crosswalk(lads, ch, source=2019, target=2021, weights=w))
    assert rows[(old, n1)] == (pytest.approx(0.2), "split", True)
    assert np.isnan(_rows(crosswalk(lads, ch, source=2019, target=2021))[(old, n2)][0])
    back = _rows(crosswalk(lads, ch, source=2021, target=2019))
    assert back[(n1, old)] == (1.0, "merge", False)  # each new part lies within the old area


def test_prepared_inputs_are_not_shared_between_weight_tables() -> None:
    """Crosswalks share their prepared inputs only when every table is the same object:
    another weight table gets its own weights, then the first is used again."""
    old, n1, n2 = "E07000010", "E07000011", "E07000012"
    lads = _lads([(old, 2016, 2019), (n1, 2020, None), (n2, 2020, None)])
    ch = _changes([(old, n1, "split", 2020), (old, n2, "split", 2020)])
    w = pd.DataFrame({"code": [n1, n2, n1], "geography_vintage": [2020, 2020, 2024],
                      "weight": [1.0, 4.0, 3.0], "basis": "pc"})
    other = w.assign(weight=[1.0, 1.0, 1.0])
    assert _rows(crosswalk(lads, ch, source=2019, target=2021, weights=w))[(old, n1)][0] \
        == pytest.approx(0.2)
    assert _rows(crosswalk(lads, ch, source=2019, target=2021, weights=other))[(old, n1)][0] \
        == pytest.approx(0.5)
    assert _rows(crosswalk(lads, ch, source=2019, target=2021, weights=w))[(old, n1)][0] \
        == pytest.approx(0.2)


def test_split_shares_of_three_parts_add_up_and_name_their_basis() -> None:
    old, parts = "E07000010", ["E07000011", "E07000012", "E07000013"]
    lads = _lads([(old, 2016, 2019), *[(p, 2020, None) for p in parts]])
    ch = _changes([(old, p, "split", 2020) for p in parts])
    w = pd.DataFrame({"code": parts, "geography_vintage": 2020, "weight": [0.1, 0.2, 0.7],
                      "basis": "postcode count"})
    xw = crosswalk(lads, ch, source=2019, target=2021, weights=w)
    assert xw["weight"].tolist() == [0.1 / 1.0, 0.2 / 1.0, 0.7 / 1.0]
    assert xw["basis"].iloc[0] == f"{old} split in 2020; share to {parts[0]} by postcode count"
    no_weight = crosswalk(lads, ch, source=2019, target=2021, weights=w.iloc[:2])
    assert no_weight["weight"].isna().all()
    assert "no split weight for every part" in no_weight["basis"].iloc[2]


def test_change_list_ignores_combined_authority_rows() -> None:
    ch = pd.concat([CHANGES, _changes([(F, "E47000011", "new_geo", 2018),
                                       ("E10000009", "", "termination", 2019)])])
    xw = crosswalk(LADS, ch, source=2016, target=2020)
    assert _rows(xw)[(F, F)] == (1.0, "same", False)


def test_first_listed_vintage_is_not_a_creation_date() -> None:
    """The package list starts in 2021; only the change list says when a code began."""
    lads = lad_table(areas_from_package())
    xw = crosswalk(lads, package_changes(), source=2018, target=2023)
    rows = _rows(xw)
    assert rows[("E06000010", "E06000010")] == (1.0, "same", False)  # Hull
    assert rows[("E07000028", "E06000063")] == (1.0, "merge", False)  # Carlisle
    assert rows[("E06000028", "E06000058")] == (1.0, "merge", False)  # Bournemouth -> BCP
    assert "E06000058" not in set(xw["from_code"])  # BCP did not exist in 2018
    assert "E06000062" not in set(xw["from_code"])  # West Northamptonshire (2021)


def test_successors_and_predecessors() -> None:
    assert successors(A, CHANGES, vintage=2020) == [C]
    assert successors(A, CHANGES, vintage=2018) == [A]
    assert predecessors(C, CHANGES, vintage=2016) == [A, B]
    assert predecessors(E, CHANGES, vintage=2017) == [D]


# ------------------------------------------------------------------ mapping values


def _values(pairs: dict[str, float | None], **keys: object) -> pd.DataFrame:
    return pd.DataFrame({"area_code": list(pairs), "value": list(pairs.values()), **keys})


def test_counts_forward() -> None:
    xw = crosswalk(LADS, CHANGES, source=2016, target=2020)
    out = to_vintage(_values({A: 10, B: 5, D: 7, F: 1}, measure="pop"), xw, kind="count")
    got = out.set_index("area_code")
    assert got.at[C, "value"] == 15
    assert got.at[C, "method"] == "merge" and got.at[C, "from_codes"] == f"{A},{B}"
    assert got.at[E, "value"] == 7 and got.at[E, "method"] == "recode"
    assert got.at[F, "method"] == "same"
    assert set(out["measure"]) == {"pop"}
    assert out["reason"].isna().all()


def test_counts_missing_part_is_unavailable_not_partial() -> None:
    xw = crosswalk(LADS, CHANGES, source=2016, target=2020)
    out = to_vintage(_values({A: 10, D: 7}), xw, kind="count").set_index("area_code")
    assert np.isnan(out.at[C, "value"])
    assert out.at[C, "reason"] == f"no value for {B} (part of {C})"
    out = to_vintage(_values({A: 10, B: None}), xw, kind="count").set_index("area_code")
    assert np.isnan(out.at[C, "value"])
    assert out.at[C, "reason"] == f"no value for {B}"


def test_counts_grouped_by_keys() -> None:
    xw = crosswalk(LADS, CHANGES, source=2016, target=2020)
    values = pd.concat([_values({A: 1, B: 2}, period=2016), _values({A: 10}, period=2017)])
    out = to_vintage(values, xw, kind="count").set_index("period")
    assert out.at[2016, "value"] == 3
    assert np.isnan(out.at[2017, "value"])
    assert "no value for E07000002" in out.at[2017, "reason"]


def test_counts_backward_apportioned_and_flagged() -> None:
    xw = crosswalk(LADS, CHANGES, source=2020, target=2016, weights=WEIGHTS)
    out = to_vintage(_values({C: 100, E: 3, F: 4}), xw, kind="count").set_index("area_code")
    assert out.at[A, "value"] == 75 and out.at[B, "value"] == 25
    assert bool(out.at[A, "estimate"]) and not bool(out.at[F, "estimate"])
    assert "postcode count, test" in out.at[A, "basis"]


def test_counts_backward_without_weights_say_why() -> None:
    xw = crosswalk(LADS, CHANGES, source=2020, target=2016)
    out = to_vintage(_values({C: 100, F: 4}), xw, kind="count").set_index("area_code")
    assert np.isnan(out.at[A, "value"])
    assert "no split weight" in out.at[A, "reason"]
    assert out.at[F, "value"] == 4


@pytest.mark.parametrize("kind", ["score", "rank", "median", "index"])
def test_non_additive_only_map_unchanged_or_recoded(kind: str) -> None:
    xw = crosswalk(LADS, CHANGES, source=2016, target=2020)
    out = to_vintage(_values({A: 1, B: 2, D: 3, F: 4}), xw, kind=kind).set_index("area_code")
    assert out.at[E, "value"] == 3 and out.at[F, "value"] == 4
    assert np.isnan(out.at[C, "value"])
    assert out.at[C, "reason"].startswith(f"a {kind} cannot be combined across a merge")
    back = crosswalk(LADS, CHANGES, source=2020, target=2016, weights=WEIGHTS)
    out = to_vintage(_values({C: 5}), back, kind=kind)
    assert out["value"].isna().all()


def test_ratio_kind_is_refused() -> None:
    xw = crosswalk(LADS, CHANGES, source=2016, target=2020)
    with pytest.raises(KeycitiesError, match="ratio_to_vintage"):
        to_vintage(_values({F: 1}), xw, kind="ratio")


def test_unknown_area_codes_are_an_error() -> None:
    xw = crosswalk(LADS, CHANGES, source=2016, target=2020)
    with pytest.raises(KeycitiesError, match="not LADs of the crosswalk's source vintage: E0"):
        to_vintage(_values({C: 1}), xw, kind="count")


def test_ratio_recomputed_not_averaged() -> None:
    xw = crosswalk(LADS, CHANGES, source=2016, target=2020)
    num = _values({A: 10, B: 90, F: 5}, measure="gva")
    den = _values({A: 100, B: 300, F: 0}, measure="jobs")
    out = ratio_to_vintage(num, den, xw, scale=1000).set_index("area_code")
    assert out.at[C, "value"] == pytest.approx(250.0)  # mean of ratios would be 200
    assert out.at[C, "numerator"] == 100 and out.at[C, "denominator"] == 400
    assert np.isnan(out.at[F, "value"]) and out.at[F, "reason"] == "denominator is zero"


# ------------------------------------------------------------------ properties

values_st = st.floats(min_value=0.01, max_value=1e6, allow_nan=False, allow_infinity=False)


def _merge_world(n: int, groups: list[int]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """n parts in 2016; parts sharing a group of 2+ merge into one code in 2019."""
    parts = [f"E07{i:06d}" for i in range(n)]
    rows: list[tuple[str, str, str, int]] = []
    for g in sorted(set(groups)):
        members = [p for p, gg in zip(parts, groups, strict=True) if gg == g]
        if len(members) > 1:
            rows += [(p, f"E06{g:06d}", "merger", 2019) for p in members]
    lads = _lads([(p, 2016, None) for p in parts])
    return lads, _changes(rows), parts


world_st = st.integers(min_value=2, max_value=8).flatmap(lambda n: st.tuples(
    st.lists(values_st, min_size=n, max_size=n),
    st.lists(st.integers(min_value=0, max_value=3), min_size=n, max_size=n)))


@settings(max_examples=25, deadline=None)
@given(world_st)
def test_totals_conserved_under_merges(world: tuple[list[float], list[int]]) -> None:
    values, groups = world
    lads, ch, parts = _merge_world(len(values), groups)
    xw = crosswalk(lads, ch, source=2016, target=2020)
    out = to_vintage(_values(dict(zip(parts, values, strict=True))), xw, kind="count")
    assert out["value"].notna().all()
    assert out["value"].sum() == pytest.approx(sum(values), rel=1e-9)
    assert len(out) == len(set(groups))  # one area per group (a single part stays as it is)


@settings(max_examples=25, deadline=None)
@given(world_st, st.data())
def test_totals_conserved_under_apportioned_splits(world: tuple[list[float], list[int]],
                                                   data: st.DataObject) -> None:
    values, groups = world
    lads, ch, parts = _merge_world(len(values), groups)
    raw = data.draw(st.lists(values_st, min_size=len(parts), max_size=len(parts)))
    # weights normalised to sum to one within each split
    share = pd.Series(raw).groupby(groups).transform(lambda s: s / s.sum()).tolist()
    w = pd.DataFrame({"code": parts, "geography_vintage": 2016, "weight": share, "basis": "t"})
    xw = crosswalk(lads, ch, source=2020, target=2016, weights=w)
    assert xw.groupby("from_code")["weight"].sum().to_numpy() == pytest.approx(1.0)
    new_values = {code: float(i + 1) * 10 for i, code in enumerate(sorted(set(xw["from_code"])))}
    out = to_vintage(_values(new_values), xw, kind="count")
    assert out["value"].sum() == pytest.approx(sum(new_values.values()), rel=1e-9)
    for part, s in zip(parts, share, strict=True):
        src = xw.loc[xw["to_code"] == part, "from_code"].iloc[0]
        got = out.set_index("area_code").at[part, "value"]
        assert got == pytest.approx(new_values[src] * (s if src != part else 1.0), rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(world_st, st.data())
def test_forward_then_back_reproduces_proportional_split(
        world: tuple[list[float], list[int]], data: st.DataObject) -> None:
    values, groups = world
    lads, ch, parts = _merge_world(len(values), groups)
    fw = crosswalk(lads, ch, source=2016, target=2020)
    merged = to_vintage(_values(dict(zip(parts, values, strict=True))), fw, kind="count")
    # weights consistent with the values: the split reproduces the values exactly
    w = pd.DataFrame({"code": parts, "geography_vintage": 2016, "weight": values, "basis": "t"})
    bw = crosswalk(lads, ch, source=2020, target=2016, weights=w)
    back = to_vintage(merged[["area_code", "value"]], bw, kind="count").set_index("area_code")
    assert back.loc[parts, "value"].to_numpy() == pytest.approx(values, rel=1e-9)
    # arbitrary weights: each part gets the merged total in proportion to its weight
    raw = data.draw(st.lists(values_st, min_size=len(parts), max_size=len(parts)))
    w2 = w.assign(weight=raw)
    back2 = to_vintage(merged[["area_code", "value"]],
                       crosswalk(lads, ch, source=2020, target=2016, weights=w2),
                       kind="count").set_index("area_code")
    g = pd.Series(groups, index=parts)
    totals = pd.Series(values, index=parts).groupby(g).transform("sum")
    wsum = pd.Series(raw, index=parts).groupby(g).transform("sum")
    expected = totals * pd.Series(raw, index=parts) / wsum
    assert back2.loc[parts, "value"].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(values_st, st.booleans()), min_size=1, max_size=10))
def test_recode_round_trip_is_identity(items: list[tuple[float, bool]]) -> None:
    old = [f"E07{i:06d}" for i in range(len(items))]
    new = [f"E08{i:06d}" if recode else o for i, (o, (_, recode)) in
           enumerate(zip(old, items, strict=True))]
    ch = _changes([(o, n, "new_code", 2018) for o, n in zip(old, new, strict=True) if o != n])
    lads = _lads([(o, 2016, None) for o in old])
    values = _values({o: v for o, (v, _) in zip(old, items, strict=True)})
    there = to_vintage(values, crosswalk(lads, ch, source=2016, target=2019), kind="count")
    back = to_vintage(there[["area_code", "value"]],
                      crosswalk(lads, ch, source=2019, target=2016), kind="rank")
    merged = values.merge(back, on="area_code", suffixes=("", "_back"))
    assert len(merged) == len(values)
    assert (merged["value"] == merged["value_back"]).all()
    assert set(back["method"]) <= {"same", "recode"}
    assert not back["estimate"].any()


# ------------------------------------------------------------------ mirror integration


def _mirror_tables(mirror: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    ons = mirror / "lad_lookups/ons_official"
    frames = []
    for year, label in [(2016, "December_2016"), (2018, "December_2018"),
                        (2019, "April_2019")]:
        name = f"Local_Authority_District_to_Country_({label})_Lookup_in_the_United_Kingdom.csv"
        df = pd.read_csv(ons / name, encoding="utf-8-sig")
        yy = str(year)[2:]
        frames.append(pd.DataFrame({"code": df[f"LAD{yy}CD"], "name": df[f"LAD{yy}NM"],
                                    "vintage_start": year, "vintage_end": year}))
    lad23 = pd.read_csv(ons / "LAD23_to_RGN23_Lookup_in_England.csv", encoding="utf-8-sig")
    frames.append(pd.DataFrame({"code": lad23["LAD23CD"], "name": lad23["LAD23NM"],
                                "vintage_start": 2023, "vintage_end": 2023}))
    lads = lad_table(pd.concat(frames).reindex(columns=list(AREA_COLUMNS)))
    ch = pd.read_csv(mirror / "lad_lookups/compiled/ONSvisual_lad_changes_2018_2025.csv",
                     encoding="utf-8-sig").rename(columns={
        "oldcd": "old_code", "oldnm": "old_name", "newcd": "new_code", "newnm": "new_name",
        "start": "year"})
    prefixes = ["E06", "E07", "E08", "E09", "W06", "S12", "N09"]
    lad_rows = (ch["old_code"].str[:3].isin(prefixes)
                & ch["new_code"].fillna("").str[:3].isin(prefixes))
    return lads, ch[lad_rows]


@pytest.mark.mirror
def test_referendum_counting_areas_map_to_2023_lads(mirror: Path) -> None:
    lads, ch = _mirror_tables(mirror)
    name = ("Local_Authority_District_to_Country_(December_2016)_Lookup_in_the_United_"
            "Kingdom.csv")
    lad16 = pd.read_csv(mirror / "lad_lookups/ons_official" / name, encoding="utf-8-sig")
    gb = lad16[lad16["CTRY16NM"].isin(["England", "Wales", "Scotland"])]["LAD16CD"]
    assert len(gb) == 380
    xw = crosswalk(lads, ch, source=2016, target=2023)
    assert set(gb) <= set(xw["from_code"])
    geo = json.loads((mirror / "lad_boundaries/LAD_Dec2023_UK_BUC_wgs84.geojson").read_text())
    lad23 = {f["properties"]["LAD23CD"] for f in geo["features"]}
    mapped = xw[xw["from_code"].isin(gb)]
    assert mapped.groupby("from_code").size().max() == 1  # no splits going forward
    assert set(mapped["to_code"]) <= lad23
    assert (mapped["weight"] == 1.0).all() and not mapped["estimate"].any()
    to = mapped.set_index("from_code")["to_code"]
    for code in ("E06000028", "E06000029", "E07000048"):  # Bournemouth, Poole, Christchurch
        assert to[code] == "E06000058"
    for code in ("E07000026", "E07000028", "E07000029"):  # Allerdale, Carlisle, Copeland
        assert to[code] == "E06000063"
    assert to["E07000190"] == "E06000066"  # Taunton Deane -> SW&T (2019) -> Somerset (2023)
    assert to["S12000015"] == "S12000047"  # Fife recoded 2018
    # Counts conserved: 1 per counting area gives the number of areas per 2023 LAD
    out = to_vintage(pd.DataFrame({"area_code": list(gb), "value": 1.0}), xw, kind="count")
    assert out["value"].sum() == len(gb)
    assert out.set_index("area_code").at["E06000065", "value"] == 7  # North Yorkshire
