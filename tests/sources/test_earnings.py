"""Tests for the earnings readers (affordability workbook, subnational indicators)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from keycities.sources import earnings as earn
from keycities.sources._sheets import SheetFormatError
from keycities.sources.base import sha256_file

NAN = np.nan


def _table_5b() -> pd.DataFrame:
    return pd.DataFrame([
        ["Table 5b - Median gross annual (where available) residence-based earnings by "
         "local authority district, England and Wales, 2002 to 2022 (£)", NAN, NAN, NAN,
         NAN, NAN],
        ["Region code", "Region name", "Local authority code", "Local authority name",
         2002, 2022],
        ["E12000001", "North East", "E06000001", "Hartlepool", 18535, 31553],
        ["E12000001", "North East", "E06000047", "County Durham", ":", 30190],
    ])


def _table_5a() -> pd.DataFrame:
    return pd.DataFrame([
        ["Table 5a - Median house price by local authority district, England and Wales, "
         "year ending September 2002 to year ending September 2022 (£)", NAN, NAN, NAN, NAN],
        ["Region code", "Region name", "Local authority code", "Local authority name",
         "Year ending Sep 2022"],
        ["E12000001", "North East", "E06000001", "Hartlepool", 125000],
    ])


def test_5b_annual_earnings_drops_colon() -> None:
    rows = earn.affordability_rows(_table_5b(), "5b")
    assert set(rows["measure"]) == {"earnings_median_annual_residence_ft"}
    assert (rows["unit"] == "£ per year").all()
    v = rows.set_index(["area_code", "period"])["value"]
    assert v[("E06000001", 2002)] == 18535
    assert v[("E06000047", 2022)] == 30190
    assert ("E06000047", 2002) not in v.index
    # Region codes are not read as areas of this table.
    assert "E12000001" not in set(rows["area_code"])


def test_5a_period_is_year_ending_september() -> None:
    rows = earn.affordability_rows(_table_5a(), "5a")
    assert rows.to_dict("records") == [{
        "area_code": "E06000001", "measure": "house_price_median", "period": 2022,
        "value": 125000.0, "unit": "£",
    }]


def test_wrong_table_title_raises() -> None:
    with pytest.raises(SheetFormatError, match="title"):
        earn.affordability_rows(_table_5a(), "5b")


def _weekly_pay() -> pd.DataFrame:
    header = ["Area Code", "Country", "Nation", "Region", "County or Unitary Authority",
              "Local Authority District", "Gross median weekly pay (£)",
              "Lower 95% Confidence Interval", "Upper 95% Confidence Interval", "Notes"]
    blank = [NAN] * 8
    return pd.DataFrame([
        ["Metric:", "Gross median weekly pay", *blank],
        ["Date:", 2023, *blank],
        ["Geography:", "Local Authority Districts and Unitary Authorities, 2023", *blank],
        header,
        ["K02000001", "United Kingdom", NAN, NAN, NAN, NAN, 574.9, 573.77, 576.03, NAN],
        ["E09000001", NAN, NAN, NAN, NAN, "City of London", "na", "na", "na", NAN],
        ["E10000002", NAN, NAN, NAN, "Buckinghamshire", NAN, 640.5, 602.8, 678.2,
         "Obsolete code since 2020 (replaced by E06000060 Buckinghamshire)"],
        ["N09000003", NAN, NAN, NAN, NAN, "Belfast", 560.1, "na", "na", NAN],
        ["Source: ONS", *[NAN] * 9],
    ])


def test_weekly_pay_measures() -> None:
    rows = earn.weekly_pay_rows(_weekly_pay())
    v = rows.set_index(["area_code", "measure"])["value"]
    assert v[("K02000001", "earnings_median_weekly_residence")] == 574.9
    assert v[("K02000001", "earnings_median_weekly_residence_ci_lower")] == 573.77
    assert v[("K02000001", "earnings_median_weekly_residence_ci_upper")] == 576.03
    # Northern Ireland districts are workplace-based (NISRA table 7).
    assert v[("N09000003", "earnings_median_weekly_workplace")] == 560.1
    assert ("N09000003", "earnings_median_weekly_residence") not in v.index
    # 'na' dropped, obsolete code dropped, notes row dropped.
    assert "E09000001" not in set(rows["area_code"])
    assert "E10000002" not in set(rows["area_code"])
    assert len(rows) == 4
    assert (rows["period"] == 2023).all()
    assert (rows["unit"] == "£ per week").all()
    assert set(rows["measure"]) <= {m.name for m in earn.MEASURES}


def test_weekly_pay_vintage_checked() -> None:
    raw = _weekly_pay()
    assert earn.weekly_pay_vintage(raw) == 2023
    earn.check_weekly_pay_vintage(raw, earn.SUBNATIONAL_RELEASE)
    raw.iat[2, 1] = "Local Authority Districts and Unitary Authorities, 2021"
    with pytest.raises(SheetFormatError, match="2021 boundaries"):
        earn.check_weekly_pay_vintage(raw, earn.SUBNATIONAL_RELEASE)


def test_weekly_pay_without_value_column_raises() -> None:
    raw = _weekly_pay()
    raw.iat[3, 6] = "Something else"
    with pytest.raises(SheetFormatError, match="median weekly pay"):
        earn.weekly_pay_rows(raw)


def test_unknown_text_raises() -> None:
    raw = _weekly_pay()
    raw.iat[4, 6] = "see note"
    with pytest.raises(SheetFormatError, match="Unexpected text"):
        earn.weekly_pay_rows(raw)


@pytest.mark.mirror
def test_affordability_official_file(mirror: Path) -> None:
    rel = earn.AFFORDABILITY_RELEASE
    path = mirror / rel.mirror_path  # type: ignore[operator]
    assert sha256_file(path) == rel.sha256
    rows = earn.read_affordability(rel, path)
    codes = set(rows["area_code"])
    assert len(codes) == 331
    # 2021 boundaries: North Northamptonshire and Allerdale, not Cumberland or Corby.
    assert {"E06000061", "E06000062", "E07000026"} <= codes
    assert not {"E06000063", "E07000150"} & codes
    assert (rows["measure"] == "house_price_median").sum() == 331 * 21
    v = rows.set_index(["area_code", "measure", "period"])["value"]
    assert v[("E06000001", "earnings_median_annual_residence_ft", 2002)] == 18535
    assert v[("E06000001", "earnings_median_annual_residence_ft", 2022)] == 31553
    assert v[("E06000001", "house_price_median", 2002)] == 53000
    assert ("E06000047", "earnings_median_annual_residence_ft", 2002) not in v.index


@pytest.mark.mirror
def test_subnational_official_file(mirror: Path) -> None:
    rel = earn.SUBNATIONAL_RELEASE
    path = mirror / rel.mirror_path  # type: ignore[operator]
    assert sha256_file(path) == rel.sha256
    rows = earn.read_subnational(rel, path)
    v = rows.set_index(["area_code", "measure"])["value"]
    assert v[("K02000001", "earnings_median_weekly_residence")] == pytest.approx(574.9)
    assert v[("E12000001", "earnings_median_weekly_residence")] == pytest.approx(528.2)
    assert v[("K02000001", "earnings_median_weekly_residence_ci_lower")] == pytest.approx(
        573.773196)
    codes = set(rows.loc[rows["measure"].str.startswith("earnings"), "area_code"])
    # 2023 districts: Cumberland present; suppressed and obsolete rows gone.
    assert "E06000063" in codes
    assert not {"E09000001", "E06000053", "E10000002", "E11000004"} & codes
    assert (rows["measure"] == "earnings_median_weekly_workplace").sum() == 11
    assert len(codes) == 403


def test_active_enterprise_rows_from_a_tiny_sheet() -> None:
    import numpy as np

    from keycities.sources.earnings import active_enterprise_rows

    nan = np.nan
    raw = pd.DataFrame([
        ["Metric:", "Active enterprises", nan],
        ["Date:", 2022, nan],
        ["Geography:", "Local Authority Districts and Unitary Authorities, 2022", nan],
        ["Area Code", "Country", "Count of active enterprises (control rounded to base 5)"],
        ["K02000001", "United Kingdom", 2924685],
        ["E08000024", nan, 7010],
        ["E06000053", nan, "[x]"],
        ["Notes", nan, nan],
    ])
    rows = active_enterprise_rows(raw)
    assert list(rows["area_code"]) == ["K02000001", "E08000024"]
    assert set(rows["period"]) == {2022} and set(rows["geography_vintage"]) == {2022}
    assert rows["value"].tolist() == [2924685.0, 7010.0]


@pytest.mark.mirror
def test_active_enterprises_on_the_mirror(mirror: Path) -> None:
    from keycities.sources.earnings import SUBNATIONAL_RELEASE, read_subnational

    rows = read_subnational(SUBNATIONAL_RELEASE, mirror / str(SUBNATIONAL_RELEASE.mirror_path))
    firms = rows[rows["measure"] == "business_active_enterprises"].set_index("area_code")
    assert firms.loc["K02000001", "value"] == 2_924_685
    assert firms.loc["E92000001", "value"] == 2_581_080
