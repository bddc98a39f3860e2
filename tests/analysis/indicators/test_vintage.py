"""An indicator on another boundary vintage: counts summed, rates recomputed, medians refused."""

from __future__ import annotations

import pandas as pd
import pytest

from keycities.analysis.indicators.counts import Counts, parts
from keycities.analysis.indicators.library import Library
from keycities.analysis.indicators.network import lads_on
from keycities.analysis.indicators.vintage import Boundaries, on_vintage

from .conftest import ENGLAND, A, B, C, E, W, rows_of


def _lads(values: pd.DataFrame, indicator: str, period: str) -> pd.DataFrame:
    rows = rows_of(values, indicator)
    return rows[(rows["area_code"] != ENGLAND) & (rows["period"] == period)]


def test_counts_of_merged_districts_are_summed(values: pd.DataFrame,
                                               boundaries: Boundaries) -> None:
    out, notes = on_vintage(_lads(values, "pop", "2020-06-30"), 2020, boundaries, kind="count")
    got = out.set_index("area_code")
    assert got.at[C, "value"] == 400.0 and got.at[C, "method"] == "merge"
    assert got.at[E, "value"] == 200.0 and got.at[E, "method"] == "recode"
    assert any("made of others by mergers" in n for n in notes)


def test_a_recoded_district_keeps_its_interval(values: pd.DataFrame,
                                              boundaries: Boundaries) -> None:
    out, _ = on_vintage(_lads(values, "rate", "2020-01-01/P1Y"), 2020, boundaries,
                        kind="other")
    got = out.set_index("area_code")
    assert (got.at[E, "value"], got.at[E, "lower"], got.at[E, "upper"]) == (5.0, 4.0, 6.0)
    assert got.at[W, "method"] == "same"


def test_a_median_is_refused_across_a_merger(values: pd.DataFrame,
                                             boundaries: Boundaries) -> None:
    out, _ = on_vintage(_lads(values, "score", "2020-01-01/P1Y"), 2020, boundaries,
                        kind="other")
    c = out.set_index("area_code").loc[C]
    assert pd.isna(c["value"])
    assert "cannot be combined across a merge" in c["reason"]


def test_a_rate_is_recomputed_from_its_counts(values: pd.DataFrame, library: Library,
                                              counts: Counts) -> None:
    # A: 10% of 300, B: 20% of 100 -> C: 50 / 400 = 12.5%, with no interval.
    rows = _lads(values, "rate", "2020-01-01/P1Y")
    out, _ = lads_on(library.get("rate"), rows, 2020, counts)
    c = out.set_index("area_code").loc[C]
    assert c["value"] == pytest.approx(12.5) and pd.isna(c["lower"])


def test_without_counts_a_rate_is_refused(values: pd.DataFrame, boundaries: Boundaries) -> None:
    out, _ = on_vintage(_lads(values, "rate", "2020-01-01/P1Y"), 2020, boundaries,
                        kind="ratio")
    assert "no numerator and denominator" in out.set_index("area_code").at[C, "reason"]


def test_codes_not_on_the_boundaries_are_left_out_and_said(values: pd.DataFrame,
                                                           boundaries: Boundaries) -> None:
    rows = _lads(values, "pop", "2020-06-30")
    stray = rows.iloc[:1].assign(area_code="E07000999")
    _, notes = on_vintage(pd.concat([rows, stray]), 2020, boundaries, kind="count")
    assert any("not on those boundaries left out (E07000999)" in n for n in notes)


def test_counts_for_another_period_are_an_estimate(values: pd.DataFrame, library: Library,
                                                   counts: Counts) -> None:
    frame = pd.DataFrame({"area_code": [C, W], "value": [12.5, 15.0]})
    p, notes = parts(library.get("rate"), frame, "2018-01-01/P1Y", 2020, counts)
    assert list(p["denominator"]) == [400.0, 100.0]
    assert list(p["numerator"]) == [12.5 * 400, 15.0 * 100]
    assert notes and "an estimate" in notes[0]
    exact, none = parts(library.get("rate"), frame, "2020-01-01/P1Y", 2020, counts)
    assert not none
    assert counts.get("pop", "2016-01-01/P1Y", 2016).values.to_dict()[A] == 300.0
    assert counts.get("pop", "2016-01-01/P1Y", 2020).values.to_dict()[C] == 400.0
    assert B not in exact["area_code"].tolist()
