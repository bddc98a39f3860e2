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


def test_a_merge_whose_parts_are_all_members_is_exact() -> None:
    """Issue 15, point 12: three former districts that make up BCP are not 3 estimates."""
    m = pd.DataFrame({"code": ["A", "B", "D"], "as_published": ["Aville", "Beetown", "Dee"]})
    v = pd.DataFrame({"area_code": ["A", "B", "D"], "value": [60.0, 40.0, 5.0],
                      "estimate": [True, True, True], "method": ["split"] * 3,
                      "basis": ["postcode count"] * 3, "from_codes": ["C", "C", "E"],
                      "exact_in_total": [True, True, False]})
    fig, per = summarise(POP, m, v, {"Great Britain": 1000.0}, unit="persons", period=2018,
                         release_id="r", geography_vintage=2018, names={"C": "Ceeshire"})
    assert (fig.value, fig.members_estimated) == (105.0, 1)
    assert any(n.startswith("Aville (A), Beetown (B): together they make up Ceeshire (C), "
                            "so their total is its published value (exact)") for n in fig.notes)
    assert per["estimate"].tolist() == [True, True, True]  # each one's own value still is


def test_shares_count_only_members_inside_their_territory() -> None:
    """Issue 15, point 13: Belfast is in the UK share, not in the GB share."""
    m = pd.DataFrame({"code": ["E08000024", "N09000003"],
                      "as_published": ["Sunderland", "Belfast"]})
    v = pd.DataFrame({"area_code": ["E08000024", "N09000003"], "value": [277_354.0, 348_005.0],
                      "estimate": False, "method": "same", "basis": "", "from_codes": ""})
    fig, _ = summarise(POP, m, v, {"Great Britain": 65_685_738.0, "United Kingdom": 67_596_281.0},
                       unit="persons", period=2022, release_id="r", geography_vintage=2023)
    assert fig.value == 625_359.0
    assert fig.shares["Great Britain"] == pytest.approx(277_354 / 65_685_738)
    assert fig.shares["United Kingdom"] == pytest.approx(625_359 / 67_596_281)
    assert fig.share_leaves_out == {"Great Britain": ("Belfast (N09000003)",)}
    assert ("Share of Great Britain: counts only the members inside Great Britain; leaves out "
            "Belfast (N09000003), outside it.") in fig.notes


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
    # Carlisle's jobs: Cumberland's (137,835 in 2019) times Carlisle's share of the GVA of
    # Allerdale, Carlisle and Copeland in 2019, April 2023 release (£2,989m of £6,211m).
    assert figs["filled_jobs"].value == pytest.approx(2_767_455 + 137_835 * 2_989 / 6_211,
                                                      abs=1)
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


def _headline(store_path: Path, at: dt.date, year: int | None, network: object = None):  # noqa: ANN202
    from keycities.analysis.headline.from_store import headline_from_store
    from keycities.network.register import builtin_network
    from keycities.store.store import Store

    with Store(store_path, read_only=True) as store:
        return headline_from_store(store, network or builtin_network("key-cities"), at=at,
                                   year=year)


def _csv(path: Path, code: str, column: str) -> pd.Series:
    df = pd.read_csv(path, dtype=str).set_index(code)
    return pd.to_numeric(df[column].str.replace(",", ""))


@pytest.mark.mirror
def test_carlisle_jobs_are_its_gva_share_of_cumberland_with_measured_error(
        built_store: Path, mirror: Path) -> None:
    """Issue 15, point 10: not Carlisle's share of postcodes (36.5%), which gives rural
    districts too much, but its share of a related official measure, with its error."""
    h = _headline(built_store, dt.date(2021, 6, 1), 2019)
    gva = _csv(mirror / "ons_regional_gdp_gva_local_authorities" /
               "release_2023-04-25_1998to2021" / "table_01.csv", "LA code", "2019")
    jobs = _csv(mirror / "ons_subregional_productivity" /
                "productivity_filled_jobs_2002_2022.csv", "LAD_Code", "Jobs_2019")
    share = gva["E07000028"] / gva[["E07000026", "E07000028", "E07000029"]].sum()
    per = h.member_values.set_index(["figure", "code"])
    assert per.at[("filled_jobs", "E07000028"), "value"] == pytest.approx(
        jobs["E06000063"] * share)
    assert 0.44 < share < 0.5
    note = next(n for f in h.figures if f.key == "filled_jobs" for n in f.notes
                if n.startswith("Carlisle"))
    assert "estimated by its share of gross value added (balanced) in 2019 " \
        "(ons-gva-la-2023-04: 48.1% of E06000063)" in note
    assert "; this method's back-test error: mean " in note
    assert note.endswith("there are no official figures of their filled jobs to test it on)")


@pytest.mark.mirror
def test_an_official_value_beats_an_estimate_from_a_newer_release(built_store: Path) -> None:
    """Issue 15, point 11: mid-2011 Carlisle is official in the mid-2021 release; the
    mid-2022 release only has Cumberland."""
    h = _headline(built_store, dt.date(2021, 6, 1), 2011)
    pop = next(f for f in h.figures if f.key == "population")
    per = h.member_values.set_index(["figure", "code"])
    assert per.at[("population", "E07000028"), "value"] == 107_475
    assert per.at[("population", "E07000028"), "release_id"] == "ons-mye-mid2021-lad2021"
    assert pop.release_id == "ons-mye-mid2022-lad2023" and pop.members_estimated == 0
    assert pop.other_release_ids == ("ons-mye-mid2021-lad2021",)
    assert "ons-mye-mid2021-lad2021" in set(h.releases["id"])
    assert any(n.startswith("Carlisle (E07000028): official value from ons-mye-mid2021-lad2021"
                            " (published 2022-12-21), not ons-mye-mid2022-lad2023: that release"
                            " has only Cumberland (E06000063) for 2011") for n in pop.notes)


@pytest.mark.mirror
def test_official_gva_of_former_districts_beats_a_newer_estimate(built_store: Path) -> None:
    """Issue 15, point 11: Aylesbury Vale + Wycombe 2018 GVA is official in Dec 2019."""
    from keycities.network.register import Membership, Network

    net = Network("aw", "AW", (Membership("E07000004", "Aylesbury Vale", None, None),
                               Membership("E07000007", "Wycombe", None, None)))
    h = _headline(built_store, dt.date(2019, 6, 1), 2018, net)
    gva = next(f for f in h.figures if f.key == "gva")
    assert (gva.value, gva.members_estimated) == (4_527 + 5_279, 0)
    assert gva.other_release_ids == ("ons-gva-la-2019-12",)


@pytest.mark.mirror
def test_former_districts_making_up_bcp_are_exact_together(built_store: Path) -> None:
    """Issue 15, point 12: "3 (3 est.)" for Bournemouth + Poole + Christchurch."""
    from keycities.network.register import Membership, Network

    net = Network("bcp", "BCP", tuple(Membership(c, n, None, None) for c, n in (
        ("E06000028", "Bournemouth"), ("E06000029", "Poole"), ("E07000048", "Christchurch"))))
    h = _headline(built_store, dt.date(2018, 6, 1), 2018, net)
    pop = next(f for f in h.figures if f.key == "population")
    assert (pop.value, pop.members_estimated) == (395_784, 0)  # BCP, mid-2018
    assert all(f.members_estimated == 0 for f in h.figures)
