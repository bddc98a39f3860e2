"""Productivity gap: the formula on a hand-checkable fixture, and the real figures on the mirror."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from keycities.analysis.productivity.core import (
    MEASURES,
    MeasureInputs,
    Scenario,
    benchmark_from_rows,
    implied_weeks,
    member_inputs,
    path_shares,
    sensitivity,
    uplift,
    uplift_from_inputs,
)
from keycities.analysis.productivity.from_store import productivity_from_inputs
from keycities.errors import KeycitiesError

# Three places, benchmark £60,000 per job.  Gaps: A 20,000, B 10,000, C -10,000.
# U = 20,000 × 100,000 + 10,000 × 200,000 = £4.0bn (C counts zero);
# with negative gaps U = 4.0bn - 10,000 × 50,000 = £3.5bn.
B = 60_000.0


def three_places() -> pd.DataFrame:
    return pd.DataFrame({"code": ["A", "B", "C"], "name": ["Aville", "Beetown", "Ceeford"],
                         "productivity": [40_000.0, 50_000.0, 70_000.0],
                         "jobs": [100_000.0, 200_000.0, 50_000.0]})


def test_annual_uplift_counts_members_above_benchmark_as_zero() -> None:
    res = uplift(three_places(), B)
    assert res.annual_uplift == pytest.approx(4.0e9)
    assert list(res.members["gap"]) == [20_000.0, 10_000.0, -10_000.0]
    assert list(res.members["annual_uplift"]) == [2.0e9, 2.0e9, 0.0]


def test_negative_option_subtracts_members_above_benchmark() -> None:
    res = uplift(three_places(), B, negative=True)
    assert res.annual_uplift == pytest.approx(3.5e9)
    assert res.cumulative_uplift == pytest.approx(35e9)


def test_immediate_path_cumulative_is_annual_times_horizon() -> None:
    res = uplift(three_places(), B, horizon=10, path="immediate")
    assert res.cumulative_uplift == pytest.approx(40e9)
    assert res.scenario.n is None


def test_linear_path_by_hand() -> None:
    # N = 4, H = 10: shares 1/4, 2/4, 3/4, then 1 for seven years -> 1.5 + 7 = 8.5.
    res = uplift(three_places(), B, horizon=10, path="linear", years_to_converge=4)
    assert res.cumulative_uplift == pytest.approx(4e9 * 8.5)
    assert list(res.years["share_closed"][:5]) == [0.25, 0.5, 0.75, 1.0, 1.0]
    # N defaults to the horizon: shares t/10, sum 5.5.
    assert uplift(three_places(), B, path="linear").cumulative_uplift == pytest.approx(22e9)


def test_exponential_path_by_hand() -> None:
    # N = 2: (1 - r)^2 = 0.05, so s(1) = 1 - sqrt(0.05) = 0.7763932,
    # s(2) = 0.95, s(3) = 1 - 0.05^1.5 = 0.9888197; sum 2.7152129.
    res = uplift(three_places(), B, horizon=3, path="exponential", years_to_converge=2)
    shares = list(res.years["share_closed"])
    assert shares == pytest.approx([0.7763932, 0.95, 0.9888197], abs=1e-7)
    assert res.cumulative_uplift == pytest.approx(4e9 * 2.7152129, rel=1e-7)
    # The share closed each year is a fixed fraction r of what remained.
    remaining = [1 - s for s in shares]
    assert remaining[1] / remaining[0] == pytest.approx(remaining[2] / remaining[1])


def test_growth_raises_benchmark_and_cash_gap() -> None:
    # Immediate, g = 10%, H = 2: 4bn × (1.1 + 1.21) = 9.24bn.
    res = uplift(three_places(), B, horizon=2, growth=0.1)
    assert res.cumulative_uplift == pytest.approx(9.24e9)
    assert res.annual_uplift == pytest.approx(4e9)  # base-year prices
    # Linear over 2 years with growth: 4bn × (0.5 × 1.1 + 1 × 1.21) = 7.04bn.
    lin = uplift(three_places(), B, horizon=2, path="linear", growth=0.1)
    assert lin.cumulative_uplift == pytest.approx(7.04e9)


def test_member_cumulative_sums_to_total() -> None:
    res = uplift(three_places(), B, horizon=7, path="exponential", growth=0.02)
    assert res.members["cumulative_uplift"].sum() == pytest.approx(res.cumulative_uplift)
    assert res.years["uplift"].sum() == pytest.approx(res.cumulative_uplift)


def test_missing_member_makes_total_unavailable_not_partial() -> None:
    df = three_places()
    df.loc[1, "productivity"] = float("nan")
    df["reason"] = ["", "no value for X (part of Y)", ""]
    res = uplift(df, B)
    assert res.annual_uplift is None and res.cumulative_uplift is None
    assert res.unavailable is not None and "Beetown (B): no value for X" in res.unavailable
    assert math.isnan(res.years["uplift"].iloc[0])


def test_to_frame_and_payload() -> None:
    res = uplift(three_places(), B, horizon=5)
    df = res.to_frame()
    assert list(df["name"]) == ["Aville", "Beetown", "Ceeford", "Total"]
    assert list(df["kind"]) == ["member"] * 3 + ["total"]
    assert "gva_per_job" in df.columns and "gap_per_job" in df.columns
    total = df.iloc[-1]
    assert total["annual_uplift"] == 4_000_000_000
    assert total["filled_jobs"] == 350_000
    # Network productivity = (4 + 10 + 3.5) bn / 350,000 jobs.
    assert total["gva_per_job"] == pytest.approx(17.5e9 / 350_000)
    # The Total row's gap is U / total jobs (11,428.57), not B - network average (10,000).
    assert total["gap_per_job"] == 11_428.6
    assert res.average_gap == pytest.approx(4e9 / 350_000)
    body = res.payload()
    json.dumps(body)  # plain data only
    assert body["totals"]["cumulative_uplift_bn"] == pytest.approx(20.0)
    assert body["totals"]["average_gap"] == pytest.approx(4e9 / 350_000)
    assert len(body["members"]) == 3 and len(body["years"]) == 5


def test_to_frame_rounds_but_payload_keeps_precision() -> None:
    df = three_places()
    df.loc[0, "productivity"] = 42_844.09999999999
    df.loc[0, "jobs"] = 50_288.8
    res = uplift(df, B)
    row = res.to_frame().iloc[0]
    assert row["gva_per_job"] == 42_844.1 and row["gap_per_job"] == 17_155.9
    assert row["filled_jobs"] == 50_289
    assert row["annual_uplift"] == round(17_155.90000000001 * 50_288.8)
    assert "42844.1," in res.to_frame().to_csv(index=False)
    assert res.payload()["members"][0]["productivity"] == 42_844.09999999999


def test_path_shares_options_are_checked() -> None:
    with pytest.raises(KeycitiesError, match="Unknown convergence path 'sudden'"):
        path_shares(Scenario(path="sudden"))
    with pytest.raises(KeycitiesError, match="horizon must be a whole number"):
        path_shares(Scenario(horizon=0))
    with pytest.raises(KeycitiesError, match="years to converge must be"):
        path_shares(Scenario(path="linear", converge_years=0))
    with pytest.raises(KeycitiesError, match="Growth is a yearly rate above -1"):
        path_shares(Scenario(growth=-1.0))
    with pytest.raises(KeycitiesError, match="benchmark must be a positive"):
        uplift(three_places(), 0.0)
    with pytest.raises(KeycitiesError, match="lacks column.*productivity"):
        uplift(three_places().drop(columns="productivity"), B)


# ------------------------------------------------------------------ benchmarks

# Published rows: smoothed productivity, labour and (totals basis) total GVA in £.
# Totals-basis benchmarks: England 62,000; ex-London 44m / 800 = 55,000; UK 59,000;
# North West 51,000.  Smoothed basis: 60,000; 52,500; 58,000; 50,000.
NATIONAL = pd.DataFrame({"area_code": ["UKX", "E92000001", "E12000007", "E12000002"],
                         "productivity": [58_000.0, 60_000.0, 90_000.0, 50_000.0],
                         "labour": [1_200.0, 1_000.0, 200.0, 150.0],
                         "gva": [70.8e6, 62e6, 18e6, 7.65e6]})


def test_default_benchmarks_are_total_gva_over_total_labour() -> None:
    eng = benchmark_from_rows(NATIONAL)
    assert (eng.value, eng.basis) == (62_000.0, "totals")
    assert eng.formula == "England GVA £62m / England 1,000 filled jobs"
    ex = benchmark_from_rows(NATIONAL, benchmark="england-ex-london")
    assert ex.value == pytest.approx(55_000.0)
    assert ex.codes == ("E92000001", "E12000007")
    assert ex.formula == ("(England GVA £62m − London GVA £18m) / (England 1,000 filled jobs "
                          "− London 200 filled jobs) = £44m / 800 filled jobs")
    assert benchmark_from_rows(NATIONAL, benchmark="uk").value == pytest.approx(59_000.0)
    nw = benchmark_from_rows(NATIONAL, benchmark="region", region="north west")
    assert (nw.value, nw.label) == (pytest.approx(51_000.0), "North West")
    hour = benchmark_from_rows(NATIONAL, measure=MEASURES["hour"])
    assert hour.formula == "England GVA £62m / England 1,000 hours a year"


def test_smoothed_benchmarks_aggregate_the_published_ratios() -> None:
    def smoothed(**kw: str) -> float:
        return benchmark_from_rows(NATIONAL, basis="smoothed", **kw).value

    assert smoothed() == 60_000.0
    # (60,000 × 1,000 - 90,000 × 200) / (1,000 - 200) = 42,000,000 / 800.
    assert smoothed(benchmark="england-ex-london") == pytest.approx(52_500.0)
    assert smoothed(benchmark="uk") == 58_000.0
    assert smoothed(benchmark="region", region="E12000007") == 90_000
    # Total GVA is not needed on this basis.
    assert benchmark_from_rows(NATIONAL.drop(columns="gva"), basis="smoothed").value == 60_000
    assert "published smoothed" in benchmark_from_rows(NATIONAL, basis="smoothed").formula


def test_benchmark_errors_say_what_to_do() -> None:
    with pytest.raises(KeycitiesError, match="Unknown benchmark 'wales'"):
        benchmark_from_rows(NATIONAL, benchmark="wales")
    with pytest.raises(KeycitiesError, match="needs a region.*North East"):
        benchmark_from_rows(NATIONAL, benchmark="region")
    with pytest.raises(KeycitiesError, match="needs a region: got 'Narnia'"):
        benchmark_from_rows(NATIONAL, benchmark="region", region="Narnia")
    with pytest.raises(KeycitiesError, match="only used with the 'region' benchmark"):
        benchmark_from_rows(NATIONAL, benchmark="england", region="London")
    with pytest.raises(KeycitiesError, match="No total GVA for South West.*productivity_itl"):
        benchmark_from_rows(NATIONAL, benchmark="region", region="South West")
    with pytest.raises(KeycitiesError, match="No South West productivity.*productivity_itl"):
        benchmark_from_rows(NATIONAL, benchmark="region", region="South West", basis="smoothed")
    with pytest.raises(KeycitiesError, match="No total GVA for England.*--benchmark-basis "
                                             "smoothed"):
        benchmark_from_rows(NATIONAL.drop(columns="gva"))
    with pytest.raises(KeycitiesError, match="Unknown benchmark basis 'raw'.*'totals'"):
        benchmark_from_rows(NATIONAL, basis="raw")


def test_implied_weeks() -> None:
    # GVA 52 × 10 × 2 = 1,040 both ways.
    assert implied_weeks(pd.Series([104.0]), pd.Series([10.0]), pd.Series([2.0]),
                         pd.Series([10.0])) == pytest.approx(52.0)


# ------------------------------------------------------------------ mapping and sensitivity


def mapped() -> pd.DataFrame:
    return pd.DataFrame({
        "area_code": ["A", "P"], "value": [40_000.0, 50_000.0],
        "numerator": [4e9, 1e9], "denominator": [100_000.0, 20_000.0],
        "estimate": [False, True], "method": ["same", "split"], "from_codes": ["A", "M"],
        "basis": ["code unchanged", "share by postcode count"], "reason": [None, None]})


def test_member_inputs_flags_split_members_and_explains_absent_ones() -> None:
    members = pd.DataFrame({"code": ["A", "P", "Z"], "as_published": ["Aville", "Part", "Gone"]})
    per = member_inputs(members, mapped(), vintage=2021, names={"M": "Merged"})
    assert list(per["estimate"]) == [False, True, False]
    assert per.loc[1, "basis"].startswith("estimate: the productivity of Merged (M)")
    assert per.loc[0, "basis"] == ""
    assert per.loc[2, "reason"] == "not a district on 2021 boundaries"
    res = uplift(per, B)
    assert res.unavailable is not None and "Gone (Z): not a district" in res.unavailable


def inputs(measure: str = "job", weeks: float | None = None) -> MeasureInputs:
    per = three_places().rename(columns={"jobs": "labour"})
    return MeasureInputs(MEASURES[measure], 2019, per, NATIONAL, ("r-la", "r-itl"), 2023,
                         implied_weeks=weeks, gva_basis="as given")


def test_sensitivity_crosses_the_main_choices() -> None:
    rows = sensitivity({"job": inputs(), "hour": "no hours data for 2003"},
                       benchmarks=("england", "uk"), horizons=(5, 10))
    assert len(rows) == 2 * 2 * 2 * 3 * 2
    job = rows[rows["measure"] == "job"].set_index(["benchmark", "basis", "path", "horizon"])
    # Smoothed England 60,000: U = 4bn.  Totals England 62,000: 2.2bn + 2.4bn = 4.6bn.
    assert job.loc[("england", "smoothed", "immediate", 10), "cumulative_uplift"] == \
        pytest.approx(40e9)
    assert job.loc[("england", "totals", "immediate", 10), "cumulative_uplift"] == \
        pytest.approx(46e9)
    assert job.loc[("england", "totals", "immediate", 10), "cumulative_bn"] == \
        pytest.approx(46.0)
    assert job.loc[("england", "smoothed", "linear", 5), "cumulative_uplift"] == \
        pytest.approx(4e9 * 3)
    assert job.loc[("england", "smoothed", "linear", 5), "converge_years"] == 5
    # UK: smoothed 58,000 -> 1.8bn + 1.6bn; totals 59,000 -> 1.9bn + 1.8bn.
    assert job.loc[("uk", "smoothed", "immediate", 5), "annual_uplift"] == pytest.approx(3.4e9)
    assert job.loc[("uk", "totals", "immediate", 5), "annual_bn"] == pytest.approx(3.7)
    hour = rows[rows["measure"] == "hour"]
    assert hour["annual_uplift"].isna().all()
    assert (hour["unavailable"] == "no hours data for 2003").all()


def test_sensitivity_marks_missing_benchmark_unavailable() -> None:
    rows = sensitivity({"job": inputs()}, benchmarks=("region",), paths=("immediate",),
                       horizons=(10,), region="South West")
    assert list(rows["basis"]) == ["totals", "smoothed"]
    assert rows["annual_uplift"].isna().all()
    assert "No South West productivity" in rows.loc[1, "unavailable"]


def test_notes_state_the_benchmark_division_and_the_other_basis() -> None:
    res = productivity_from_inputs(inputs())
    assert res.benchmark.value == 62_000.0 and res.annual_uplift == pytest.approx(4.6e9)
    assert res.alternative["basis"] == "smoothed"
    assert res.alternative["annual_uplift"] == pytest.approx(4e9)
    text = "\n".join(res.notes)
    assert ("Benchmark B (England, 2019, totals basis) = England GVA £62m / England 1,000 "
            "filled jobs = £62,000.0 per job; GVA: as given") in text
    assert "GVA_E92000001" not in text
    assert "unsmoothed" in text and "member figures are ONS's smoothed series" in text
    # The smoothed-basis totals sit in the same note as the default's.
    assert ("on the smoothed basis the annual uplift is £4.00bn and the cumulative £40.00bn "
            "over 10 years (against £4.60bn and £46.00bn here)") in text
    assert "Total row: gap = annual uplift / total filled jobs = £13,142.9 per job" in text
    smoothed = productivity_from_inputs(inputs(), basis="smoothed")
    assert smoothed.benchmark.value == 60_000.0 and smoothed.alternative["basis"] == "totals"
    assert "on the totals basis the annual uplift is £4.60bn" in "\n".join(smoothed.notes)
    with pytest.raises(KeycitiesError, match="Unknown benchmark basis"):
        uplift_from_inputs(inputs(), basis="raw")


def test_hours_note_reports_the_implied_weeks() -> None:
    text = "\n".join(productivity_from_inputs(inputs("hour", weeks=51.996)).notes)
    assert "WEEKS_PER_YEAR (52)" in text and "= 52.00 weeks" in text
    assert "implied weeks 52.00" not in text
    unchecked = "\n".join(productivity_from_inputs(inputs("hour")).notes)
    assert "not checked for 2019" in unchecked


# ------------------------------------------------------------------ the mirror


def _wide(path: Path, code_col: str, prefix: str, year: int) -> pd.Series:
    df = pd.read_csv(path)
    return df.set_index(code_col)[f"{prefix}_{year}"].astype(float)


def _store_value(store: Any, release: str, measure: str, code: str, year: int) -> float:
    """One fact straight from the store's table (not through the code under test)."""
    df = store.query("SELECT value FROM fact WHERE release_id = ? AND measure = ? AND "
                     "area_code = ? AND period = ?", [release, measure, code, year])
    assert len(df) == 1, (release, measure, code, year)
    return float(df["value"].iloc[0])


@pytest.mark.mirror
def test_england_benchmark_on_both_bases_and_the_default_is_like_for_like(built_store: Path,
                                                               mirror: Path) -> None:
    from keycities.analysis.productivity.from_store import productivity_from_store
    from keycities.network.register import builtin_network
    from keycities.store.store import Store

    itl = mirror / "ons_subregional_productivity" / "itl_sheets_csv"
    published_smoothed = _wide(itl / "itl_b3.csv", "ITL_code", "Pounds", 2019)["TLB"]
    net, at = builtin_network("key-cities"), dt.date(2024, 6, 1)
    with Store(built_store, read_only=True) as store:
        # The definition: England total GVA / England total filled jobs, 2019.
        gva_m = _store_value(store, "ons-gva-itl-2024-04-table1-csv", "gva_current_prices",
                             "E92000001", 2019)
        jobs = _store_value(store, "ons-productivity-itl-2024-06", "filled_jobs",
                            "E92000001", 2019)
        res = productivity_from_store(store, net, at=at, year=2019, benchmark_basis="totals")
        # The headline compares like with like (issue 15, point 6): smoothed by default.
        smoothed = productivity_from_store(store, net, at=at, year=2019)
    assert gva_m == 1_716_439.0 and round(jobs) == 29_014_719
    assert res.benchmark.basis == "totals" and smoothed.benchmark.basis == "smoothed"
    assert smoothed.alternative["basis"] == "totals"
    assert smoothed.alternative["annual_uplift"] == pytest.approx(res.annual_uplift)
    assert res.benchmark.value == pytest.approx(gva_m * 1e6 / jobs, rel=1e-6)  # £59,157.5
    assert smoothed.benchmark.value == pytest.approx(published_smoothed, abs=0.01)
    assert set(res.releases["id"]) == {"ons-productivity-la-2024-06",
                                       "ons-productivity-itl-2024-06"}
    text = "\n".join(res.notes)
    assert ("England GVA £1,716,438m / England 29,014,719 filled jobs = £59,157.5 per job"
            in text)
    assert res.alternative["annual_uplift"] == pytest.approx(smoothed.annual_uplift)
    assert f"£{smoothed.annual_uplift / 1e9:,.2f}bn" in text  # the smoothed total, in view


@pytest.mark.mirror
def test_key_cities_2024_total_recomputed_from_the_files(built_store: Path,
                                                          mirror: Path) -> None:
    from keycities.analysis.productivity.from_store import productivity_from_store
    from keycities.network.register import builtin_network
    from keycities.store.store import Store

    net = builtin_network("key-cities")
    with Store(built_store, read_only=True) as store:
        res = productivity_from_store(store, net, at=dt.date(2024, 6, 1), year=2019)
    assert len(res.members) == 26
    assert res.annual_uplift is not None and res.annual_uplift > 0
    assert res.cumulative_uplift == pytest.approx(10 * res.annual_uplift)
    assert not res.members["estimate"].any()
    # Recomputed outside keycities from the mirror's CSVs (pandas only).
    root = mirror / "ons_subregional_productivity"
    pj = _wide(root / "B3_gva_per_filled_job_gbp_2002_2022.csv", "LAD_Code", "Pounds", 2019)
    jobs = _wide(root / "productivity_filled_jobs_2002_2022.csv", "LAD_Code", "Jobs", 2019)
    codes = list(net.members_at(dt.date(2024, 6, 1))["code"])
    gaps = (res.benchmark.value - pj[codes]).clip(lower=0)
    assert res.annual_uplift == pytest.approx(float((gaps * jobs[codes]).sum()), rel=1e-9)
    assert "£" in res.notes[-1] and "bn" in res.notes[-1]


@pytest.mark.mirror
def test_key_cities_2021_flags_carlisle_as_estimated(built_store: Path, mirror: Path) -> None:
    from keycities.analysis.productivity.from_store import productivity_from_store
    from keycities.network.register import builtin_network
    from keycities.store.store import Store

    with Store(built_store, read_only=True) as store:
        res = productivity_from_store(store, builtin_network("key-cities"),
                                      at=dt.date(2021, 6, 1), year=2019)
    assert len(res.members) == 25 and res.annual_uplift is not None
    per = res.members.set_index("code")
    carlisle = per.loc["E07000028"]
    assert bool(carlisle["estimate"]) and "Cumberland (E06000063)" in carlisle["basis"]
    assert int(per["estimate"].sum()) == 1
    root = mirror / "ons_subregional_productivity"
    pj = _wide(root / "B3_gva_per_filled_job_gbp_2002_2022.csv", "LAD_Code", "Pounds", 2019)
    # The merged area's productivity, and an apportioned share of its jobs: Carlisle's share
    # of the 2019 GVA of Allerdale, Carlisle and Copeland (April 2023 release), not its share
    # of postcodes (issue 15, point 10).
    jobs = _wide(root / "productivity_filled_jobs_2002_2022.csv", "LAD_Code", "Jobs", 2019)
    gva = pd.read_csv(mirror / "ons_regional_gdp_gva_local_authorities" /
                      "release_2023-04-25_1998to2021" / "table_01.csv").set_index("LA code")
    parts = gva.loc[["E07000026", "E07000028", "E07000029"], "2019"].astype(float)
    assert carlisle["productivity"] == pytest.approx(pj["E06000063"])
    assert carlisle["labour"] == pytest.approx(jobs["E06000063"] * parts["E07000028"]
                                               / parts.sum())
    assert any(n.startswith("Carlisle (E07000028): estimate") for n in res.notes)


@pytest.mark.mirror
def test_fifty_two_weeks_reconciles_the_unsmoothed_series(mirror: Path) -> None:
    itl = mirror / "ons_subregional_productivity" / "itl_sheets_csv"
    weeks = []
    for year in (2010, 2019, 2022):
        pj = _wide(itl / "itl_b4.csv", "ITL_code", "Pounds", year)
        ph = _wide(itl / "itl_a4.csv", "ITL_code", "Pounds", year)
        jobs = _wide(itl / "itl_productivity_jobs.csv", "ITL_code", "Jobs", year)
        hours = _wide(itl / "itl_productivity_hours.csv", "ITL_code", "Hours", year)
        weeks.append(implied_weeks(pj, jobs[pj.index], ph[pj.index], hours[pj.index]))
    assert weeks == pytest.approx([52.0] * 3, abs=0.03)
    assert all(abs(w - 52.14) > 0.1 for w in weeks)


@pytest.mark.mirror
def test_sensitivity_and_missing_years_on_the_store(built_store: Path) -> None:
    from keycities.analysis.productivity.from_store import (
        productivity_from_store,
        sensitivity_from_store,
    )
    from keycities.network.register import builtin_network
    from keycities.store.store import Store

    net = builtin_network("key-cities")
    with Store(built_store, read_only=True) as store:
        sens = sensitivity_from_store(store, net, at=dt.date(2024, 6, 1), year=2019)
        early = sensitivity_from_store(store, net, at=dt.date(2024, 6, 1), year=2003,
                                       paths=("immediate",), horizons=(10,))
        with pytest.raises(KeycitiesError, match="No local-authority gva_per_hour_worked "
                                                 "data for 2003.*2004"):
            productivity_from_store(store, net, at=dt.date(2024, 6, 1), year=2003,
                                    measure="hour")
    rows = sens.to_frame()
    assert len(rows) == 2 * 3 * 2 * 3 * 2 and rows["unavailable"].isna().all()
    assert set(rows["basis"]) == {"totals", "smoothed"}
    assert (rows["cumulative_uplift"] > 0).all()
    json.dumps(sens.payload())
    by = early.to_frame().set_index(["measure", "benchmark", "basis"])
    assert by.loc[("job", "england", "totals"), "annual_uplift"] > 0
    assert by.loc[("job", "england", "smoothed"), "annual_uplift"] > 0
    assert "2004" in by.loc[("hour", "england", "totals"), "unavailable"]


@pytest.mark.mirror
def test_hours_weeks_note_is_measured_on_the_store(built_store: Path) -> None:
    from keycities.analysis.productivity.from_store import productivity_from_store
    from keycities.network.register import builtin_network
    from keycities.store.store import Store

    with Store(built_store, read_only=True) as store:
        res = productivity_from_store(store, builtin_network("key-cities"),
                                      at=dt.date(2024, 6, 1), year=2019, measure="hour")
    assert any("unsmoothed ITL1 rows give" in n and "= 52.00 weeks" in n for n in res.notes)


# ------------------------------------------------------------------ the command line


def _cli(store: Path, *args: str) -> str:
    from typer.testing import CliRunner

    from keycities.cli import app

    r = CliRunner().invoke(app, ["productivity", "key-cities", "--at", "2024-06-01", "--year",
                                 "2019", "--store", str(store), *args])
    assert r.exit_code == 0, r.output
    return r.output


@pytest.mark.mirror
def test_cli_table_has_a_total_row_and_no_codes(built_store: Path) -> None:
    out = _cli(built_store, "--benchmark-basis", "totals")
    table = out.split("•")[0]
    total = next(line for line in table.splitlines() if "Total" in line)
    assert "£30.13bn" in total and "£301.34bn" in total and "3,041,782" in total
    assert "£42,844" in table and "E06000022" not in table and "estimate" not in table
    assert "£27.69bn" in out  # the smoothed-basis total, in the notes


@pytest.mark.mirror
def test_cli_csv_ends_with_the_total_row(built_store: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(_cli(built_store, "--format", "csv",
                                                 "--benchmark-basis", "totals"))))
    assert len(rows) == 27 and [r["kind"] for r in rows].count("total") == 1
    assert rows[-1]["kind"] == "total" and rows[-1]["name"] == "Total"
    assert rows[-1]["annual_uplift"] == "30133663953"
    assert rows[0]["gva_per_job"] == "42844.1"
    smoothed = list(csv.DictReader(io.StringIO(_cli(
        built_store, "--format", "csv", "--benchmark-basis", "smoothed"))))
    assert smoothed[-1]["annual_uplift"] == "27688598727"


@pytest.mark.mirror
def test_cli_sensitivity_says_what_it_varies(built_store: Path) -> None:
    out = _cli(built_store, "--sensitivity", "--measure", "hour")
    assert "--measure" in out and "not" in out and "used" in out
    assert re.search(r"england\s+totals\s+59,158\s+immediate\s+10\s+30\.13\s+301\.34", out)
    assert "27688598726" not in out and "301.337" not in out
    body = json.loads(_cli(built_store, "--sensitivity", "--format", "json"))
    row = next(r for r in body["rows"] if (r["measure"], r["benchmark"], r["basis"], r["path"],
                                           r["horizon"]) == ("job", "england", "smoothed",
                                                             "immediate", 10))
    assert row["cumulative_bn"] == pytest.approx(276.885987268)  # full precision in JSON


@pytest.mark.mirror
def test_the_headline_compares_like_with_like_and_every_input_counts(built_store: Path) -> None:
    """Issue 15, point 6: smoothed members against a smoothed benchmark by default, the
    unsmoothed figure beside it with its reason; growth as people write it, bounded, and
    an input that changes no figure says so."""
    import json as _json

    body = _json.loads(_cli(built_store, "--format", "json", "--growth", "2"))
    assert body["benchmark"]["basis"] == "smoothed"
    assert body["totals"]["annual_uplift_bn"] == pytest.approx(27.69, abs=0.01)
    assert body["other_basis"]["basis"] == "totals"
    assert body["other_basis"]["annual_uplift"] / 1e9 == pytest.approx(30.13, abs=0.01)
    assert body["options"]["growth"] == pytest.approx(0.02)
    assert any("Growth of 2% a year changes" in n for n in body["notes"])
    assert any("unsmoothed total GVA" in n for n in body["notes"])  # the other basis' reason
    from typer.testing import CliRunner

    from keycities.cli import app

    for typed, says in (("0.02", "looks like a fraction"), ("-40", "outside -10% to 10%")):
        r = CliRunner().invoke(app, ["productivity", "--store", str(built_store), "--growth",
                                     typed])
        assert r.exit_code != 0 and says in str(r.exception)
