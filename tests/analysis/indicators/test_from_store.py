"""The indicator library on the store built from the mirror: official values, the rules at work.

Values asserted are those of the ONS Explore Local Statistics files in the mirror.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from keycities.analysis.indicators.from_store import (
    catalogue_from_store,
    indicator_from_store,
    network_subject,
    place_subject,
    scorecard_from_store,
)
from keycities.analysis.indicators.library import load_library
from keycities.network.register import builtin_network
from keycities.store.indicators import indicator_ids, indicator_series
from keycities.store.store import Store

pytestmark = pytest.mark.mirror
AT = dt.date(2024, 6, 1)
SUNDERLAND, ENGLAND = "E08000024", "E92000001"
KEY_CITIES = builtin_network("key-cities")


@pytest.fixture(scope="module")
def store(built_store: Path) -> Iterator[Store]:
    with Store(built_store, read_only=True) as s:
        yield s


def test_every_stored_indicator_is_classified(store: Store) -> None:
    lib, stored = load_library(), indicator_ids(store)
    assert lib.missing(stored) == []
    assert {r for e in lib for r in e.references} <= set(stored)
    assert len(catalogue_from_store(store)) == len(lib)


def test_official_values_of_a_member_and_of_england(store: Store) -> None:
    claimant = indicator_from_store(store, "claimant-count", period="2025")
    assert claimant.ranking.set_index("code").at[SUNDERLAND, "value"] == 3.9
    hle = indicator_from_store(store, "female-healthy-life-expectancy", period="2022 to 2024")
    row = hle.ranking.set_index("code").loc[SUNDERLAND]
    assert (row["value"], row["lower"], row["upper"]) == (56.3, 53.0, 59.7)
    assert row["vs_england"] == "below" and row["judged"] == "worse"  # 59.7 < 61.0
    pay = indicator_from_store(store, "gross-median-weekly-pay", period="2025")
    eng = pay.comparators.set_index("code").loc[ENGLAND]
    assert eng["value"] == 648.4
    assert (round(eng["lower"], 2), round(eng["upper"], 2)) == (645.86, 650.94)


def test_a_share_is_the_ratio_of_the_members_counts(store: Store) -> None:
    view = indicator_from_store(store, "share-aged-65-plus", network=KEY_CITIES, at=AT)
    assert view.network is not None and view.network.value is not None
    rows = indicator_series(store, ["population-aged-65-plus", "population-all-ages"],
                            lads_only=True)
    latest = rows[rows["period"] == view.period].pivot_table(
        index="area_code", columns="indicator", values="value")
    codes = list(view.members["code"])
    assert latest.index.isin(codes).sum() == len(codes)  # every member on the same codes
    old, every = latest.loc[codes].sum()[["population-aged-65-plus", "population-all-ages"]]
    assert view.network.value == pytest.approx(100 * old / every)
    assert view.network.rule == "ratio" and not view.network.estimate


def test_a_median_refuses_to_combine(store: Store) -> None:
    view = indicator_from_store(store, "gross-median-weekly-pay", network=KEY_CITIES, at=AT)
    nv = view.network
    assert nv is not None and nv.value is None and nv.refused and "Not combined" in nv.refused
    assert nv.low is not None and nv.low <= (nv.median or 0) <= (nv.high or 0)


def test_an_england_only_indicator_names_the_welsh_members(store: Store) -> None:
    view = indicator_from_store(store, "adult-obesity-prevalence", network=KEY_CITIES, at=AT)
    nv = view.network
    assert nv is not None and nv.value is None
    assert set(nv.missing) == {"W06000022", "W06000006"}
    assert all("not published for Wales" in r for r in nv.missing.values())


def test_a_rate_published_before_a_merger_is_recomputed(store: Store) -> None:
    # Real GDP per head for 2021 is on 2021 boundaries: Cumberland (2023) is Allerdale,
    # Carlisle and Copeland, recomputed from their real GDP and population.
    view = indicator_from_store(store, "real-gdp-per-head", network=KEY_CITIES, at=AT)
    rows = indicator_series(store, ["real-gdp", "regional-accounts-population"], lads_only=True)
    parts = rows[(rows["period"] == view.period)
                 & rows["area_code"].isin(["E07000026", "E07000028", "E07000029"])]
    sums = parts.groupby("indicator")["value"].sum()
    cumberland = view.members.set_index("code").loc["E06000063"]
    assert cumberland["method"] == "merge"
    assert cumberland["value"] == pytest.approx(
        1e6 * sums["real-gdp"] / sums["regional-accounts-population"])


def test_scorecards_of_a_network_and_of_a_place(store: Store) -> None:
    card = scorecard_from_store(store, network_subject(KEY_CITIES, AT), area="housing")
    assert set(card.rows["area"]) == {"housing"} and len(card.ranks) == 26 * len(card.rows)
    affordability = card.rows.set_index("indicator").loc[
        "housing-affordability-ratio-residence-based"]
    assert affordability["value"] is None and affordability["rule"] == "none"
    assert "net-additions-to-the-housing-stock-wales" in set(card.rows["indicator"])
    assert any("net-additions-to-the-housing-stock-northern-ireland" in n for n in card.notes)
    place = scorecard_from_store(store, place_subject(SUNDERLAND, "Sunderland", AT),
                                 area="health-and-social-care")
    hle = place.rows.set_index("indicator").loc["female-healthy-life-expectancy"]
    assert (hle["value"], hle["vs_england"], hle["judged"]) == (56.3, "below", "worse")
