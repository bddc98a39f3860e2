"""Tests for the UK Business Counts (local units) reader."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from keycities.sources import business_counts as bc
from keycities.sources._sheets import SheetFormatError
from keycities.sources.base import sha256_file

LETTERS = list(bc.SECTIONS)
HEADER = "Area,mnemonic," + ",".join(
    f'"{letter} : {label}"' for letter, label in bc.SECTIONS.items()
)
BLANK = "," * 22


def _block(year: int, rows: list[str]) -> list[str]:
    return [
        "UK Business Counts - local units by industry and employment size band" + "," * 22,
        "ONS Crown Copyright Reserved [from Nomis on 8 November 2023]" + "," * 22,
        "Analysis   :,standard" + "," * 21,
        f"Date       :,{year}" + "," * 21,
        "Employment Sizeband:,Total" + "," * 21,
        "Legal Status:,Total" + "," * 21,
        BLANK,
        HEADER,
        BLANK,
        *rows,
        BLANK,
        ",All figures are rounded to avoid disclosure." + "," * 21,
    ]


def _row(area: str, code: str, values: list[str]) -> str:
    return f'"{area}",{code},' + ",".join(values)


def _csv(tmp_path: Path) -> Path:
    ones = ["5"] * 21
    lines = _block(2016, [
        _row("ladu:Sunderland", "E08000024", ["10", *["5"] * 20]),
        _row("ualad14:Fife", "S12000015", ones),
        _row("ualad19:Fife", "S12000047", ones),
    ]) + _block(2017, [
        _row("ladu:Sunderland", "E08000024", ["20", "", *["5"] * 19]),  # one blank cell
    ])
    path = tmp_path / "nomis.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_blocks_years_and_vintages(tmp_path: Path) -> None:
    rows = bc.read(bc.RELEASE, _csv(tmp_path))
    assert list(rows.columns) == ["area_code", "measure", "period", "value", "unit",
                                  "geography_vintage"]
    got = rows.drop_duplicates(["area_code", "period", "geography_vintage"])
    assert set(zip(got["area_code"], got["period"], got["geography_vintage"],
                   strict=True)) == {
        ("E08000024", 2016, 2021), ("S12000015", 2016, 2016),
        ("S12000047", 2016, 2019), ("E08000024", 2017, 2021),
    }
    assert (rows["unit"] == "local units").all()


def test_total_is_sum_of_sections(tmp_path: Path) -> None:
    rows = bc.read(bc.RELEASE, _csv(tmp_path)).set_index(["area_code", "period", "measure"])
    assert rows.loc[("E08000024", 2016, "business_local_units"), "value"] == 10 + 20 * 5
    assert rows.loc[("E08000024", 2016, "business_local_units_sic_a"), "value"] == 10
    assert rows.loc[("S12000015", 2016, "business_local_units_sic_u"), "value"] == 5


def test_blank_cell_dropped_and_no_partial_total(tmp_path: Path) -> None:
    rows = bc.read(bc.RELEASE, _csv(tmp_path))
    y17 = rows[(rows["area_code"] == "E08000024") & (rows["period"] == 2017)]
    assert "business_local_units_sic_b" not in set(y17["measure"])
    assert "business_local_units" not in set(y17["measure"])
    assert len(y17) == 20


def test_measures_declared() -> None:
    raw = pd.DataFrame([["Date :", "2020"], ["Area", "mnemonic"]])
    with pytest.raises(SheetFormatError, match="sections A-U"):
        bc.business_count_rows(raw)
    names = {m.name for m in bc.MEASURES}
    assert len(names) == 22
    assert {"business_local_units", "business_local_units_sic_a",
            "business_local_units_sic_u"} <= names


def test_unknown_geography_type_raises(tmp_path: Path) -> None:
    lines = _block(2016, [_row("ctry:England", "E92000001", ["5"] * 21)])
    path = tmp_path / "n.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(SheetFormatError, match="Unknown Nomis geography"):
        bc.read(bc.RELEASE, path)


def test_not_a_nomis_file_raises() -> None:
    raw = pd.DataFrame([["hello", "world"]])
    with pytest.raises(SheetFormatError, match="Area"):
        bc.business_count_rows(raw)


@pytest.mark.mirror
def test_official_file(mirror: Path) -> None:
    path = mirror / bc.RELEASE.mirror_path  # type: ignore[operator]
    assert sha256_file(path) == bc.RELEASE.sha256
    rows = bc.read(bc.RELEASE, path)
    areas = rows.groupby(["geography_vintage", "period"])["area_code"].nunique()
    assert sorted(rows["period"].unique()) == [2016, 2017, 2018, 2019, 2020, 2021]
    for year in range(2016, 2022):
        assert areas[(2021, year)] == 374
        assert areas[(2019, year)] == 382
        assert areas[(2016, year)] == 391
    # 6 years x (374 + 382 + 391) areas x (21 sections + total): the file has no gaps.
    assert len(rows) == 6 * (374 + 382 + 391) * 22
    v = rows.set_index(["area_code", "geography_vintage", "period", "measure"])["value"]
    # Values read by eye from the file (line 21, 2016 ladu block; line 6753, 2021 ualad14).
    assert v[("E08000024", 2021, 2016, "business_local_units_sic_g")] == 1555
    assert v[("E08000024", 2021, 2016, "business_local_units")] == 7410
    assert v[("E08000032", 2016, 2021, "business_local_units_sic_g")] == 4335
    # Pre-2018 Fife code only on the 2016 boundary set.
    fife = rows[rows["area_code"] == "S12000015"]
    assert set(fife["geography_vintage"]) == {2016}
