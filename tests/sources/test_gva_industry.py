"""Balanced GVA by industry (SIC sections) for ITL regions, from CSV exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from keycities.sources import gva_industry
from keycities.sources._sheets import SheetFormatError

RELEASE = {r.id: r for r in gva_industry.RELEASES}
ITL3_2024 = RELEASE["ons-gva-industry-2024-04-table3c-csv"]


def test_sic_lines_read_and_divisions_skipped() -> None:
    assert gva_industry.sic_line("Total") == "Total"
    assert gva_industry.sic_line("G-T") == "G-T"
    assert gva_industry.sic_line("C (10-33)") == "C"
    assert gva_industry.sic_line(" AB (1-9) ") == "AB"
    assert [gva_industry.sic_line(c) for c in ("CA (10-12)", "CD-CG (19-23)", "41", "68IMP")] \
        == [None] * 4
    assert gva_industry.indicator_id("AB", "cvm") == "gva-industry-section-ab-cvm"
    assert gva_industry.indicator_id("A-E", "current-prices") == (
        "gva-industry-production-current-prices")


def test_read_csv_with_bom_separators_and_itl_codes(data_dir: Path) -> None:
    frames = gva_industry.read_gva_industry(ITL3_2024, data_dir / "gva_industry/table_3c.csv")
    v = frames.values
    assert sorted(v["indicator"].unique()) == [
        "gva-industry-all-industries-current-prices", "gva-industry-section-ab-current-prices",
        "gva-industry-section-c-current-prices", "gva-industry-section-t-current-prices"]
    total = v[v["indicator"] == "gva-industry-all-industries-current-prices"]
    got = total.set_index(["area_code", "period"])["value"]
    assert got[("K02000001", "2022-01-01/P1Y")] == 2_246_047  # 'UK' recoded, '2,246,047'
    assert got[("TLC11", "2020-01-01/P1Y")] == 6_569  # ITL3 code kept
    ab = v[v["indicator"] == "gva-industry-section-ab-current-prices"]
    assert ab["status"].tolist() == [None, "c", None]
    labels = frames.meta.set_index("indicator")["label"]
    assert labels["gva-industry-section-t-current-prices"] == "GVA: Activities of households"
    assert set(frames.meta["unit"]) == {"£ million"}
    assert "ITL regions, not local authority districts" in frames.meta["caveats"].iloc[0]


def test_a_line_twice_for_one_area_is_refused(raw_sheet) -> None:
    raw = raw_sheet("gva_industry/table_3c")
    raw.iat[3, 2] = "C (10-33)"  # AB row now a second Manufacturing row for TLC11
    with pytest.raises(SheetFormatError, match="appear twice"):
        gva_industry.parse_industry_table(raw, "cvm")


def test_missing_sic_column_is_refused(raw_sheet) -> None:
    raw = raw_sheet("gva_industry/table_3c")
    raw.iat[0, 2] = "Industry"
    with pytest.raises(SheetFormatError, match="'SIC07 code'"):
        gva_industry.parse_industry_table(raw, "cvm")


def test_releases_are_mirror_only_exports_with_units_by_basis() -> None:
    assert len(gva_industry.RELEASES) == 8
    for release in gva_industry.RELEASES:
        assert not release.downloadable and release.url.endswith(".xlsx")
        assert "different hash" in release.notes
        assert str(release.mirror_path).startswith("ons_regional_gva_by_industry_itl/")
    cvm = RELEASE["ons-gva-industry-2023-04-table1b-csv"]
    meta = gva_industry.line_meta("gva-industry-all-industries-cvm", "All industries", cvm)
    assert meta.unit == "£ million (2019 prices)" and "not additive" in meta.caveats


def test_an_unknown_release_is_refused(data_dir: Path) -> None:
    other = ITL3_2024.model_copy(update={"id": "ons-gva-industry-2025-04-table3c-csv"})
    with pytest.raises(SheetFormatError, match="not a GVA-by-industry table"):
        gva_industry.read_gva_industry(other, data_dir / "gva_industry/table_3c.csv")


# ------------------------------------------------------------------ mirror


@pytest.mark.mirror
def test_mirror_official_values_and_coverage(industry_read, one_value) -> None:
    read = industry_read
    uk = "ons-gva-industry-2023-04-table1c-csv"
    # ITL1 'Total' for the UK equals Table 1 of the ITL GDP workbook (SOURCE.md).
    assert one_value(read, uk, "gva-industry-all-industries-current-prices", "K02000001",
                     "2021-01-01/P1Y")["value"] == 2_040_499
    assert one_value(read, uk, "gva-industry-all-industries-current-prices", "UKX",
                     "2021-01-01/P1Y")["value"] == 2_025_600
    assert one_value(read, "ons-gva-industry-2023-04-table1b-csv",
                     "gva-industry-all-industries-cvm", "K02000001",
                     "2019-01-01/P1Y")["value"] == 2_000_157  # reference year
    assert one_value(read, "ons-gva-industry-2023-04-table3c-csv",
                     "gva-industry-all-industries-current-prices", "TLC11",
                     "1998-01-01/P1Y")["value"] == 3_345
    per = read.values.groupby("release_id").agg(areas=("area_code", "nunique"),
                                                lines=("indicator", "nunique"))
    assert per["areas"].to_dict() == dict(zip(
        sorted(RELEASE), [16, 16, 41, 41, 179, 179, 41, 179], strict=True))
    assert per["lines"].to_dict() == dict(zip(
        sorted(RELEASE), [23, 23, 23, 23, 21, 21, 23, 21], strict=True))
    assert read.values["value"].notna().all()
