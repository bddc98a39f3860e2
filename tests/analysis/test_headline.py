"""Headline figures: the pure core on tiny tables, and the real figures on the mirror."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from keycities.analysis.headline.core import FIGURES, denominators, summarise

POP = FIGURES[0]


def members() -> pd.DataFrame:
    return pd.DataFrame({"code": ["A", "B"], "as_published": ["Aville", "Beetown"]})


def mapped(values: list[float | None], methods: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"area_code": ["A", "B"], "value": values,
                         "estimate": [m == "split" for m in methods], "method": methods,
                         "basis": ["", "postcode count"], "from_codes": ["A", "C"]})


def test_total_and_shares() -> None:
    fig, per = summarise(POP, members(), mapped([100.0, 50.0], ["same", "split"]),
                         {"Great Britain": 1000.0, "United Kingdom": 1500.0}, unit="persons",
                         period=2019, release_id="r", geography_vintage=2021)
    assert fig.value == 150.0
    assert fig.shares == {"Great Britain": 0.15, "United Kingdom": 0.1}
    assert fig.members_estimated == 1
    assert fig.period_label == "mid-2019"
    assert any("Beetown (B): estimated share of C" in n for n in fig.notes)
    assert list(per["code"]) == ["A", "B"]


def test_missing_member_makes_total_unavailable_not_partial() -> None:
    fig, _ = summarise(POP, members(), mapped([100.0, None], ["same", "same"]),
                       {"Great Britain": 1000.0}, unit="persons", period=2019,
                       release_id="r", geography_vintage=2021)
    assert fig.value is None
    assert fig.unavailable is not None and "Beetown (B)" in fig.unavailable


def test_denominators_from_the_same_slice() -> None:
    values = pd.DataFrame({"area_code": ["K03000001", "K02000001", "E08000024", "W06000006"],
                           "value": [10.0, 12.0, 1.0, 2.0]})
    assert denominators(POP, values) == {"Great Britain": 10.0, "United Kingdom": 12.0}
    gva = next(f for f in FIGURES if f.key == "gva")
    assert denominators(gva, values) == {"UK less Extra-Regio": 3.0}


@pytest.mark.mirror
def test_key_cities_2021_at_mid_2019(built_store: Path) -> None:
    from keycities.analysis.headline.from_store import headline_from_store
    from keycities.network.register import builtin_network
    from keycities.store.store import Store

    with Store(built_store, read_only=True) as store:
        h = headline_from_store(store, builtin_network("key-cities"),
                                at=dt.date(2021, 6, 1), year=2019)
    figs = {f.key: f for f in h.figures}
    assert len(h.members) == 25
    assert all(f.value is not None for f in figs.values()), [f.unavailable for f in h.figures]
    pop = figs["population"]
    # Totals recomputed by hand from the mirror files (pandas, outside keycities).
    assert pop.period == 2019 and pop.value == 5_830_802
    assert pop.shares["Great Britain"] == pytest.approx(5_830_802 / 64_903_140)
    assert figs["gva"].value == pytest.approx(140_231)
    assert figs["gva"].shares["UK less Extra-Regio"] == pytest.approx(140_231 / 1_980_678)
    assert figs["business_local_units"].value == 220_780
    assert figs["filled_jobs"].value == pytest.approx(2_767_455 + 50_288.8, abs=1)
    # Carlisle's jobs come from Cumberland (2023 boundaries): an estimate, and said so.
    jobs = figs["filled_jobs"]
    assert jobs.members_estimated == 1
    assert any("Carlisle" in n and "E06000063" in n for n in jobs.notes)
    assert figs["gva"].geography_vintage == 2021 and figs["gva"].members_estimated == 0


@pytest.mark.mirror
def test_key_cities_2024_latest_years(built_store: Path) -> None:
    from keycities.analysis.headline.from_store import headline_from_store
    from keycities.network.register import builtin_network
    from keycities.store.store import Store

    with Store(built_store, read_only=True) as store:
        h = headline_from_store(store, builtin_network("key-cities"), at=dt.date(2024, 6, 1))
    figs = {f.key: f for f in h.figures}
    assert (figs["population"].period, figs["population"].value) == (2022, 6_239_890)
    assert (figs["filled_jobs"].period, figs["filled_jobs"].value) == (2022, 3_051_334)
    assert (figs["gva"].period, figs["gva"].value) == (2021, pytest.approx(156_456))
    assert figs["business_local_units"].value == 244_800
    assert all(f.members_estimated == 0 for f in h.figures)
    assert any("Cumberland (E06000063): sum of Allerdale" in n for n in figs["gva"].notes)


@pytest.mark.mirror
def test_a_member_who_left_is_named(built_store: Path) -> None:
    from keycities.analysis.headline.from_store import headline_from_store
    from keycities.network.register import builtin_network
    from keycities.store.store import Store

    with Store(built_store, read_only=True) as store:
        h = headline_from_store(store, builtin_network("key-cities"), at=dt.date(2023, 6, 1))
    assert len(h.members) == 24
    assert any(n.startswith("Carlisle (E07000028) is not counted: left on 2023-04-01")
               for n in h.notes)


@pytest.mark.mirror
def test_carlisle_estimate_is_its_postcode_share_of_cumberland(built_store: Path) -> None:
    from keycities.analysis.headline.from_store import headline_from_store
    from keycities.network.register import builtin_network
    from keycities.store.store import Store

    with Store(built_store, read_only=True) as store:
        h = headline_from_store(store, builtin_network("key-cities"),
                                at=dt.date(2021, 6, 1), year=2019)
        weights = store.query("SELECT code, weight FROM split_weight WHERE geography_vintage = "
                              "2021 AND code IN ('E07000026', 'E07000028', 'E07000029')")
        cumberland = store.query(
            "SELECT value FROM fact WHERE area_code = 'E06000063' AND period = 2019 AND "
            "measure = 'filled_jobs' AND release_id = 'ons-productivity-la-2024-06'")["value"]
    assert len(weights) == 3, "one weight per former district"
    w = weights.set_index("code")["weight"]
    per = h.member_values
    carlisle = per[(per["figure"] == "filled_jobs") & (per["code"] == "E07000028")]
    expected = float(cumberland.iloc[0]) * w["E07000028"] / w.sum()
    assert carlisle["value"].iloc[0] == pytest.approx(expected)
    assert 0.3 < w["E07000028"] / w.sum() < 0.45  # Carlisle: about a third of Cumberland
