"""Real GDP and per-head tables (6 to 13) of the ONS local-authority GDP workbooks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from keycities.sources import real_gdp
from keycities.sources._indicator import META_COLUMNS, VALUE_COLUMNS
from keycities.sources._sheets import SheetFormatError

TABLE = {t.sheet: t for t in real_gdp.TABLES}
APR23, DEC19 = real_gdp.RELEASES[2], real_gdp.RELEASES[0]


def test_footnoted_year_spaced_codes_and_provisional_latest_year(raw_sheet) -> None:
    rows = real_gdp.parse_gdp_table(raw_sheet("real_gdp/table_10_2019"), TABLE["Table 10"],
                                    reference_year=2016)
    assert list(rows.columns) == list(VALUE_COLUMNS)
    got = rows.set_index(["area_code", "period"])
    assert got.loc[("E08000026", "2018-01-01/P1Y"), "value"] == 9200  # header '20183'
    assert set(got.index.get_level_values(0)) == {"E06000010", "E08000026"}
    assert set(rows.loc[rows["period"] == "2018-01-01/P1Y", "note"]) == {"provisional"}
    assert rows.loc[rows["period"] != "2018-01-01/P1Y", "note"].isna().all()
    assert set(rows["indicator"]) == {"real-gdp"}


def test_first_year_growth_dash_is_not_applicable(raw_sheet) -> None:
    rows = real_gdp.parse_gdp_table(raw_sheet("real_gdp/table_12_2019"), TABLE["Table 12"],
                                    reference_year=2016)
    first = rows[rows["period"] == "1998-01-01/P1Y"]
    assert first["value"].isna().all() and set(first["status"]) == {"z"}
    # A blank cell (Coventry, 2000) gives no row at all.
    assert len(rows) == 5
    assert rows.set_index(["area_code", "period"]).loc[
        ("E06000010", "2000-01-01/P1Y"), "value"] == -0.7


def test_unreliable_growth_is_kept_as_status_u(raw_sheet) -> None:
    rows = real_gdp.parse_gdp_table(raw_sheet("real_gdp/table_13_2023"), TABLE["Table 13"],
                                    reference_year=2019)
    latest = rows[rows["period"] == "2021-01-01/P1Y"]
    assert latest["value"].isna().all() and set(latest["status"]) == {"u"}
    assert set(latest["note"]) == {"provisional"}


def test_reference_year_in_the_title_must_match_the_edition(raw_sheet) -> None:
    raw = raw_sheet("real_gdp/table_10_2019")
    with pytest.raises(SheetFormatError, match=r"reference year \[2016\].*edition's is 2019"):
        real_gdp.parse_gdp_table(raw, TABLE["Table 10"], reference_year=2019)
    rows = real_gdp.parse_gdp_table(raw_sheet("real_gdp/table_08_2023"), TABLE["Table 8"],
                                    reference_year=2019)
    assert rows["value"].max() == 108.2


def test_a_renumbered_table_is_refused(raw_sheet) -> None:
    per_head_growth = raw_sheet("real_gdp/table_13_2023")
    with pytest.raises(SheetFormatError, match="mentions \\['growth'\\].*Real GDP per head"):
        real_gdp.parse_gdp_table(per_head_growth, TABLE["Table 11"], reference_year=2019)
    with pytest.raises(SheetFormatError, match="does not mention"):
        real_gdp.parse_gdp_table(per_head_growth, TABLE["Table 6"], reference_year=2019)


def test_meta_units_carry_the_edition_reference_year() -> None:
    meta = real_gdp.table_meta(TABLE["Table 10"], DEC19, 2016)
    assert meta.unit == "£ million (2016 prices)" and meta.measure == "Pounds"
    assert "not additive" in meta.caveats and "2019 boundaries" in meta.caveats
    assert real_gdp.table_meta(TABLE["Table 9"], APR23, 2019).unit == "index (2019 = 100)"


def test_read_whole_workbook_and_unknown_edition(raw_sheet, workbook) -> None:
    eight = raw_sheet("real_gdp/table_08_2023")
    sheets = {t.sheet: _retitled(eight, t) for t in real_gdp.TABLES}
    frames = real_gdp.read_real_gdp(APR23, workbook(sheets))
    assert list(frames.meta.columns) == list(META_COLUMNS)
    assert frames.meta["indicator"].tolist() == [t.indicator for t in real_gdp.TABLES]
    assert len(frames.values) == 8 * 4
    other = APR23.model_copy(update={"id": "ons-gva-la-2025-04"})
    with pytest.raises(SheetFormatError, match="REFERENCE_YEAR"):
        real_gdp.read_real_gdp(other, Path("unused.xlsx"))


def _retitled(raw: pd.DataFrame, table: real_gdp.GdpTable) -> pd.DataFrame:
    """Table 8's fixture under a title that passes ``table``'s checks."""
    out = raw.copy()
    out.iat[0, 0] = f"{table.sheet}: " + " ".join(table.title) + " 2019 equals 100"
    return out


# ------------------------------------------------------------------ mirror


@pytest.mark.mirror
def test_mirror_row_counts_and_statuses(real_gdp_read) -> None:
    v = real_gdp_read.values
    per = v.groupby(["release_id", "indicator"]).size()
    assert per[("ons-gva-la-2023-04", "real-gdp")] == 374 * 24
    assert per[("ons-gva-la-2023-04", "real-gdp-growth")] == 374 * 23  # from 1999
    assert per[("ons-gva-la-2019-12", "real-gdp-growth")] == 382 * 21  # 1998 is '-'
    assert (v["status"] == "u").sum() == 374  # 2021 per-head growth, April 2023 edition
    assert (v["status"] == "z").sum() == 2 * 382


@pytest.mark.mirror
def test_mirror_official_values(real_gdp_read, one_value) -> None:
    read = real_gdp_read
    # Coventry (E08000026), Table 11 of the April 2023 edition: £30,146 in 2021 (2019 money).
    coventry = one_value(read, "ons-gva-la-2023-04", "real-gdp-per-head", "E08000026",
                         "2021-01-01/P1Y")
    assert coventry["value"] == 30146 and coventry["note"] == "provisional"
    assert one_value(read, "ons-gva-la-2023-04", "real-gdp-per-head", "E06000010",
                     "2019-01-01/P1Y")["value"] == 26313
    assert one_value(read, "ons-gva-la-2023-04", "real-gdp-growth", "E08000026",
                     "2021-01-01/P1Y")["value"] == 5.5
    assert one_value(read, "ons-gva-la-2023-04", "gva-implied-deflator", "E08000026",
                     "2020-01-01/P1Y")["value"] == 108.2
    hull = one_value(read, "ons-gva-la-2023-04", "real-gdp-per-head-growth", "E06000010",
                     "2021-01-01/P1Y")
    assert pd.isna(hull["value"]) and hull["status"] == "u"
    units = read.meta.set_index(["release_id", "indicator"])["unit"]
    assert units[("ons-gva-la-2019-12", "real-gdp")] == "£ million (2016 prices)"
    assert units[("ons-gva-la-2023-04", "real-gdp")] == "£ million (2019 prices)"
