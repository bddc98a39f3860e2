"""The network's value by each combination rule, never averaged silently."""

from __future__ import annotations

import pandas as pd
import pytest

from keycities.analysis.indicators.combine import match_period, network_value
from keycities.analysis.indicators.library import Library


def _members(values: list[float | None], **parts: list[float]) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame({"code": [f"E0600000{k}" for k in range(n)],
                         "name": [f"Place {k}" for k in range(n)],
                         "value": [float("nan") if v is None else v for v in values],
                         "reason": [None if v is not None else "not published for Wales"
                                    for v in values], **parts})


def test_counts_are_summed(library: Library) -> None:
    nv = network_value(_members([300.0, 100.0]), library.get("pop"))
    assert nv.value == 400.0 and nv.refused is None and not nv.estimate


def test_a_rate_is_the_ratio_of_the_summed_counts(library: Library) -> None:
    # 10% of 300 and 20% of 100: (30 + 20) / 400 = 12.5%, not the mean of 10 and 20.
    members = _members([10.0, 20.0], numerator=[10.0 * 300, 20.0 * 100],
                       denominator=[300.0, 100.0])
    nv = network_value(members, library.get("rate"))
    assert nv.value == pytest.approx(12.5)
    assert nv.rule == "ratio" and "sum(value x pop) / sum(pop)" in nv.rule_text


def test_a_weighted_mean_is_labelled_an_estimate(library: Library) -> None:
    members = _members([6.0, 8.0], numerator=[6.0 * 300, 8.0 * 100],
                       denominator=[300.0, 100.0])
    nv = network_value(members, library.get("mean"))
    assert nv.value == pytest.approx(6.5) and nv.estimate
    assert "weighted by pop" in nv.rule_text


def test_a_median_refuses_and_gives_range_and_median(library: Library) -> None:
    nv = network_value(_members([5.0, 7.0, 9.0]), library.get("score"))
    assert nv.value is None
    assert nv.refused is not None and "range and median" in nv.refused
    assert (nv.low, nv.median, nv.high) == (5.0, 7.0, 9.0)


def test_a_member_without_a_value_means_no_total(library: Library) -> None:
    nv = network_value(_members([300.0, None]), library.get("pop"))
    assert nv.value is None and nv.with_value == 1
    assert nv.missing == {"E06000001": "not published for Wales"}
    assert nv.refused is not None and "Place 1 (E06000001): not published for Wales" in nv.refused


def test_a_missing_denominator_means_no_rate(library: Library) -> None:
    members = _members([10.0, 20.0], numerator=[3000.0, float("nan")],
                       denominator=[300.0, float("nan")])
    nv = network_value(members, library.get("rate"))
    assert nv.value is None and nv.refused is not None and "no pop for Place 1" in nv.refused


def test_match_period() -> None:
    years = ("2020-06-30", "2021-06-30", "2022-06-30")
    assert match_period("2021-06-30", years) == ("2021-06-30", True)
    assert match_period("2021-01-01/P1Y", years) == ("2021-06-30", True)  # mid-year inside
    assert match_period("2025-01-01/P1Y", years) == ("2022-06-30", False)  # nearest
    assert match_period("2020-01-01/P3Y", years) == ("2022-06-30", True)  # latest inside
    assert match_period("2025-01-01/P1Y", ()) is None
