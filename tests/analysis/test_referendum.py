"""EU referendum 2016: the roll-up on tiny tables (votes, not percentages), and the
real result on the mirror."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from keycities.analysis.referendum.core import (
    GIBRALTAR,
    NORTHERN_IRELAND,
    ReferendumResult,
    referendum_rollup,
    votes_on_vintage,
)
from keycities.analysis.referendum.from_store import load_counts
from keycities.errors import KeycitiesError
from keycities.geography.areas import AREA_COLUMNS, lad_table
from keycities.network.register import Network, builtin_network

# Tiny world: A + B -> C in 2019 (a merger); F unchanged; one Welsh area W.
A, B, C, F, W = "E07000001", "E07000002", "E06000003", "E07000006", "W06000009"


def _votes(code: str, remain: int, leave: int, *, electorate: int | None = None,
           rejected: int = 0, **extra: object) -> dict[str, object]:
    valid = remain + leave
    return {"area_code": code, "remain": remain, "leave": leave, "valid_votes": valid,
            "votes_cast": valid + rejected, "rejected_ballots": rejected,
            "electorate": electorate if electorate is not None else 2 * valid, **extra}


# A is 90% Leave on 100 valid votes, B 10% Leave on 1,000: the mean of the two
# percentages is 50%, the share of the added votes 190 / 1,100 = 17.3%.
COUNTS = pd.DataFrame([
    _votes(A, 10, 90), _votes(B, 900, 100), _votes(F, 60, 40, rejected=5),
    _votes(W, 30, 70), _votes(NORTHERN_IRELAND, 55, 45), _votes(GIBRALTAR, 95, 5),
])


def _lads() -> pd.DataFrame:
    rows = [(A, 2016, 2018, "E12000009", "South West"), (B, 2016, 2018, "E12000009",
                                                          "South West"),
            (C, 2019, None, "E12000009", "South West"), (F, 2016, None, "E12000001",
                                                         "North East"),
            (W, 2016, None, None, None)]
    df = pd.DataFrame(rows, columns=["code", "vintage_start", "vintage_end", "region_code",
                                     "region_name"])
    df["name"] = df["code"].map({A: "Aton", B: "Beeford", C: "Ceeshire", F: "Effham",
                                 W: "Wyecastle"})
    return lad_table(df.reindex(columns=list(AREA_COLUMNS)))


def _changes() -> pd.DataFrame:
    df = pd.DataFrame([(A, C, "merger", 2019), (B, C, "merger", 2019)],
                      columns=["old_code", "new_code", "type", "year"])
    return df.assign(old_name=df["old_code"], new_name=df["new_code"])


def _members(*codes: str) -> pd.DataFrame:
    return pd.DataFrame({"code": list(codes), "name": [f"Member {c}" for c in codes]})


# ------------------------------------------------------------------ the roll-up


def test_network_adds_votes_instead_of_averaging_percentages() -> None:
    r = referendum_rollup(_members(A, B), COUNTS, network_name="Net")
    assert r.total is not None and r.unavailable is None
    assert (r.total.leave, r.total.remain, r.total.valid_votes) == (190, 910, 1100)
    assert r.total.leave_share == pytest.approx(190 / 1100)
    mean_of_shares = r.members["leave_share"].mean()
    assert mean_of_shares == pytest.approx(0.5)
    assert r.total.leave_share != pytest.approx(mean_of_shares)
    assert r.total.counting_areas == 2
    assert any("percentages are never averaged" in n for n in r.notes)


def test_per_member_rows_recompute_shares_from_counts() -> None:
    r = referendum_rollup(_members(F), COUNTS)
    row = r.members.iloc[0]
    assert (row["leave"], row["remain"], row["rejected_ballots"]) == (40, 60, 5)
    assert row["leave_share"] == pytest.approx(0.4)
    assert row["turnout"] == pytest.approx(105 / 200)
    assert row["mapping"] == "as given" and row["counting_areas"] == F


def test_a_merger_adds_the_votes_of_its_counting_areas() -> None:
    votes = votes_on_vintage(COUNTS, _lads(), _changes(), source=2016, target=2020)
    c = votes.set_index("area_code").loc[C]
    assert (c["leave"], c["remain"], c["valid_votes"], c["electorate"]) == (190, 910, 1100,
                                                                             2200)
    assert c["n_counting_areas"] == 2
    assert c["counting_areas"] == f"Aton ({A}), Beeford ({B})"
    assert c["mapping"].startswith("votes of 2 counting areas added")
    assert f"{A} merged into {C} in 2019" in c["mapping"]
    r = referendum_rollup(_members(C), votes)
    assert r.members.iloc[0]["leave_share"] == pytest.approx(190 / 1100)
    assert r.members.iloc[0]["region"] == "South West"
    assert any(f"Member {C} ({C}): votes of 2 counting areas added" in n for n in r.notes)


def test_before_the_merger_the_counting_areas_stay_apart() -> None:
    votes = votes_on_vintage(COUNTS, _lads(), _changes(), source=2016, target=2018)
    assert {A, B, F, W, NORTHERN_IRELAND, GIBRALTAR} == set(votes["area_code"])
    assert votes.set_index("area_code").at[A, "leave"] == 90


def test_comparators_follow_the_electoral_commission() -> None:
    votes = votes_on_vintage(COUNTS, _lads(), _changes(), source=2016, target=2020)
    r = referendum_rollup(_members(C), votes)
    uk, gb = r.comparison("K02000001"), r.comparison("Great Britain")
    assert (uk.leave, uk.remain, uk.counting_areas) == (90 + 100 + 40 + 70 + 45 + 5,
                                                         10 + 900 + 60 + 30 + 55 + 95, 6)
    assert (gb.leave, gb.counting_areas) == (90 + 100 + 40 + 70, 4)  # no NI, no Gibraltar
    england = r.comparison("England (as declared)")
    assert england.leave == 90 + 100 + 40 + 5  # Gibraltar counted in England's total
    sw = r.comparison("E12000009")
    assert sw.name == "South West (as declared)" and sw.leave == 90 + 100 + 5
    assert r.members.iloc[0]["region_leave_share"] == pytest.approx(sw.leave_share)
    assert r.comparison("Wales").leave == 70
    assert r.comparison(NORTHERN_IRELAND).leave == 45
    with pytest.raises(KeycitiesError, match="No comparator 'Mars'"):
        r.comparison("Mars")


def test_comparators_given_once_give_the_same_result() -> None:
    from keycities.analysis.referendum.core import comparison_totals

    votes = votes_on_vintage(COUNTS, _lads(), _changes(), source=2016, target=2020)
    fresh = referendum_rollup(_members(C, F), votes)
    given = referendum_rollup(_members(C, F), votes, comparators=comparison_totals(votes))
    assert given.payload() == fresh.payload()


def test_no_uk_total_without_northern_ireland() -> None:
    r = referendum_rollup(_members(F), COUNTS[COUNTS["area_code"] != NORTHERN_IRELAND])
    assert "United Kingdom (as declared)" not in [t.name for t in r.comparisons]
    assert any("No United Kingdom total" in n for n in r.notes)


def test_a_northern_ireland_council_has_no_result_and_no_network_total() -> None:
    r = referendum_rollup(_members(F, "N09000003"), COUNTS, network_name="Net")
    assert r.total is None
    assert r.unavailable is not None and "Member N09000003 (N09000003)" in r.unavailable
    row = r.members.set_index("code").loc["N09000003"]
    assert pd.isna(row["leave"]) and pd.isna(row["leave_share"])
    assert "counted as one area (N92000002)" in row["unavailable"]
    assert r.to_frame().query("kind == 'network'")["leave"].isna().all()


def test_a_member_without_votes_gives_its_reason() -> None:
    r = referendum_rollup(_members(F, A), COUNTS[COUNTS["area_code"] != A],
                          reasons={A: "abolished"})
    assert r.total is None
    assert r.members.set_index("code").at[A, "unavailable"] == "abolished"


def test_bad_inputs_are_explained() -> None:
    with pytest.raises(KeycitiesError, match=r"lack columns \['leave'\]"):
        referendum_rollup(_members(F), COUNTS.drop(columns="leave"))
    with pytest.raises(KeycitiesError, match="Members listed twice: E07000006"):
        referendum_rollup(_members(F, F), COUNTS)


def test_to_frame_and_payload() -> None:
    r = referendum_rollup(_members(A, B), COUNTS, network_name="Net")
    df = r.to_frame()
    assert list(df["kind"].unique()) == ["member", "network", "comparison"]
    assert df.query("kind == 'network'")["leave"].iloc[0] == 190
    p = json.loads(json.dumps(r.payload()))
    assert p["total"]["leave"] == 190 and p["release_id"] == "ec-eu-referendum-2016"
    assert [m["code"] for m in p["members"]] == [A, B]
    assert p["members"][0]["unavailable"] is None
    assert "Leave / valid votes" in p["formula"]


def test_empty_store_says_how_to_load_the_referendum() -> None:
    from keycities.store.store import Store

    with Store(":memory:") as store, pytest.raises(KeycitiesError,
                                                   match="keycities build referendum"):
        load_counts(store)


# ------------------------------------------------------------------ the mirror


def _official(mirror: Path) -> pd.DataFrame:
    """The Electoral Commission file read with pandas alone (outside keycities)."""
    path = mirror / "eu_referendum_2016" / "EU-referendum-result-data.csv"
    return pd.read_csv(path).set_index("Area_Code")


def _run(store_path: Path, at: dt.date, network: Network | None = None) -> ReferendumResult:
    from keycities.analysis.referendum.from_store import referendum_from_store
    from keycities.store.store import Store

    with Store(store_path, read_only=True) as store:
        return referendum_from_store(store, network or builtin_network("key-cities"), at=at)


@pytest.mark.mirror
def test_key_cities_2024(built_store: Path, mirror: Path) -> None:
    official = _official(mirror)
    r = _run(built_store, dt.date(2024, 6, 1))
    per = r.members.set_index("code")
    assert len(per) == 26 and r.total is not None
    sunderland = per.loc["E08000024"]
    assert (sunderland["leave"], sunderland["remain"]) == (82_394, 51_930)
    assert round(100 * sunderland["leave_share"], 2) == 61.34
    for code, parts in {"E06000058": ["E06000028", "E06000029", "E07000048"],
                        "E06000063": ["E07000026", "E07000028", "E07000029"]}.items():
        expect = official.loc[parts, ["Leave", "Remain", "Electorate", "Votes_Cast"]].sum()
        got = per.loc[code, ["leave", "remain", "electorate", "votes_cast"]]
        assert list(got) == list(expect), code
        assert per.loc[code, "n_counting_areas"] == 3
    assert "Carlisle (E07000028)" in per.loc["E06000063", "counting_areas"]
    # The network total: the members' counting areas summed by hand from the file.
    areas = [c for c in per.index if c not in ("E06000058", "E06000063")]
    areas += ["E06000028", "E06000029", "E07000048", "E07000026", "E07000028", "E07000029"]
    leave, remain = official.loc[areas, "Leave"].sum(), official.loc[areas, "Remain"].sum()
    assert (r.total.leave, r.total.remain) == (leave, remain) == (1_654_977, 1_265_880)
    assert r.total.leave_share == pytest.approx(0.566607, abs=1e-6)
    assert set(r.releases["id"]) >= {"ec-eu-referendum-2016"}


@pytest.mark.mirror
def test_key_cities_2021(built_store: Path) -> None:
    r = _run(built_store, dt.date(2021, 6, 1))
    per = r.members.set_index("code")
    assert len(per) == 25 and r.total is not None
    assert per.loc["E07000028", "mapping"].startswith("one counting area")  # Carlisle itself
    assert (r.total.leave, r.total.remain) == (1_584_796, 1_173_909)
    assert r.total.leave_share == pytest.approx(1_584_796 / 2_758_705)
    assert round(100 * r.total.leave_share, 2) == 57.45


@pytest.mark.mirror
def test_uk_and_gb_totals(built_store: Path, mirror: Path) -> None:
    official = _official(mirror)
    r = _run(built_store, dt.date(2024, 6, 1))
    uk = r.comparison("United Kingdom (as declared)")
    assert (uk.leave, uk.remain, uk.counting_areas) == (17_410_742, 16_141_241, 382)
    assert round(100 * uk.leave_share, 2) == 51.89
    assert (uk.electorate, uk.votes_cast, uk.rejected_ballots) == (46_500_001, 33_577_342,
                                                                   25_359)
    gb = r.comparison("Great Britain")
    gb_rows = official[official.index.str[0].isin(["E", "W", "S"])]
    assert (gb.leave, gb.remain) == (gb_rows["Leave"].sum(), gb_rows["Remain"].sum())
    assert (gb.leave, gb.remain, gb.counting_areas) == (17_060_477, 15_681_212, 380)
    assert round(100 * gb.leave_share, 2) == 52.11
    england = r.comparison("England (as declared)")
    assert (england.leave, england.remain) == (15_188_406, 13_266_996)
    sw = r.comparison("South West (as declared)")
    south_west = official[official["Region"] == "South West"]
    assert (sw.leave, sw.remain) == (south_west["Leave"].sum(), south_west["Remain"].sum())


@pytest.mark.mirror
def test_member_shares_match_the_commissions_percentages(built_store: Path,
                                                         mirror: Path) -> None:
    official = _official(mirror)
    per = _run(built_store, dt.date(2021, 6, 1)).members.set_index("code")
    single = per[per["n_counting_areas"] == 1]
    pct = official.loc[single.index]
    assert (100 * single["leave_share"]).round(2).tolist() == pct["Pct_Leave"].tolist()
    assert (100 * single["turnout"]).round(2).tolist() == pct["Pct_Turnout"].tolist()


@pytest.mark.mirror
def test_northern_ireland_and_abolished_members(built_store: Path) -> None:
    from keycities.network.register import Membership

    net = Network("t", "Test", (Membership("E08000024", "Sunderland", None, None),
                                Membership("N09000003", "Belfast", None, None),
                                Membership("E07000028", "Carlisle", None, None),
                                Membership("S12000047", "Fife", None, None)))
    r = _run(built_store, dt.date(2024, 6, 1), net)
    per = r.members.set_index("code")
    assert r.total is None and r.unavailable is not None
    assert "Belfast (N09000003)" in r.unavailable and "Carlisle (E07000028)" in r.unavailable
    assert "counted as one area" in per.loc["N09000003", "unavailable"]
    assert "part of Cumberland (E06000063)" in per.loc["E07000028", "unavailable"]
    assert per.loc["S12000047", "mapping"].startswith("one counting area, recoded")
    assert per.loc["S12000047", "leave"] == 75_466  # Fife, counted as S12000015


@pytest.mark.mirror
def test_votes_are_mapped_once_per_vintage_and_give_the_same_result(
        built_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The network page of each date rolls up the referendum: the counts are mapped to a
    vintage once per open store, and a date answered from them is answered as when alone."""
    from keycities.analysis.referendum import from_store
    from keycities.store.store import Store

    dates = [dt.date(2024, 1, 10), dt.date(2024, 3, 12), dt.date(2021, 6, 1)]
    alone = [_run(built_store, d).payload() for d in dates]
    calls: list[int] = []
    real = from_store.votes_on_vintage

    def counted(*args: object, **kwargs: int) -> pd.DataFrame:
        calls.append(kwargs["target"])
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(from_store, "votes_on_vintage", counted)
    net = builtin_network("key-cities")
    with Store(built_store, read_only=True) as store:
        shared = [from_store.referendum_from_store(store, net, at=d).payload() for d in dates]
    assert shared == alone
    assert sorted(calls) == sorted(set(calls)) and len(calls) == 2  # 2024 twice, 2021 once
