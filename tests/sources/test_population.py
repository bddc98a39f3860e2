"""ONS mid-year population estimates reader, and the shared sheet helpers."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from keycities.sources import population
from keycities.sources._sheets import (
    SheetFormatError,
    find_header_row,
    read_sheet,
    to_values,
    year_of,
)
from keycities.sources.base import READER_COLUMNS, sha256_file

NaN = math.nan


def mye4_sheet(rows: list[list[object]]) -> pd.DataFrame:
    """A raw MYE4-like sheet: title and notes rows around a 'Code' header."""
    top = [
        ["MYE4: Population estimates: Summary for the UK, mid-2019 to mid-2020", NaN, NaN,
         NaN, NaN],
        ["This worksheet contains one table.", NaN, NaN, NaN, NaN],
        [NaN, NaN, NaN, NaN, NaN],
        ["Code", "Name", "Geography", "Mid-2020", "Mid-2019"],
    ]
    bottom = [[NaN] * 5, ["Source: Office for National Statistics", NaN, NaN, NaN, NaN]]
    return pd.DataFrame(top + rows + bottom)


AREAS = [
    ["K02000001", "UNITED KINGDOM", "Country", 67081234, 66796807],
    ["E12000003", "YORKSHIRE AND THE HUMBER", "Region", 5526350, 5502967],
    ["E11000006", "West Yorkshire (Met County)", "Metropolitan County", 2345235, 2332469],
    [" E06000061", "North Northamptonshire", "Unitary Authority", 359522, 357034],
    ["E08000032", "Bradford", "Metropolitan District", 542128, ":"],
]


def test_parse_mye4_keeps_every_level_and_melts_years() -> None:
    rows = population.parse_mye4(mye4_sheet(AREAS))
    assert list(rows.columns) == list(READER_COLUMNS["fact"])
    assert set(rows["area_code"]) == {
        "K02000001", "E12000003", "E11000006", "E06000061", "E08000032"
    }
    got = rows.set_index(["area_code", "period"])["value"]
    assert got[("E08000032", 2020)] == 542128.0
    assert got[("K02000001", 2019)] == 66796807.0
    # The leading space in " E06000061" is stripped, not a reason to drop the row.
    assert got[("E06000061", 2020)] == 359522.0
    assert set(rows["measure"]) == {"population"} and set(rows["unit"]) == {"persons"}
    assert rows["period"].dtype.kind == "i" and rows["value"].dtype == float


def test_suppressed_cells_are_dropped_not_zero_filled() -> None:
    rows = population.parse_mye4(mye4_sheet(AREAS))
    bradford = rows[rows["area_code"] == "E08000032"]
    assert bradford["period"].tolist() == [2020]
    assert len(rows) == 2 * len(AREAS) - 1
    assert (rows["value"] > 0).all()


def test_header_row_is_found_wherever_it_is() -> None:
    raw = mye4_sheet(AREAS)
    shifted = pd.concat([pd.DataFrame([[NaN] * 5] * 3), raw], ignore_index=True)
    assert find_header_row(shifted, ["code"]) == (6, 0)
    assert len(population.parse_mye4(shifted)) == len(population.parse_mye4(raw))


def test_missing_header_raises_actionable_error() -> None:
    raw = mye4_sheet(AREAS).replace({"Code": "Area"})
    with pytest.raises(SheetFormatError, match="No header cell named any of"):
        population.parse_mye4(raw)


def test_other_table_is_refused_by_title() -> None:
    raw = mye4_sheet(AREAS)
    raw.iat[0, 0] = "MYE2: Population estimates by single year of age"
    with pytest.raises(SheetFormatError, match="does not mention"):
        population.parse_mye4(raw)


def test_unknown_text_in_figures_raises() -> None:
    raw = mye4_sheet([["E08000032", "Bradford", "Metropolitan District", "542,128", "n/a"]])
    with pytest.raises(SheetFormatError, match="'n/a'"):
        population.parse_mye4(raw)


@pytest.mark.parametrize(
    ("label", "year"),
    [(1998.0, 1998), (2021, 2021), ("Mid-2020", 2020), ("Pounds_2002", 2002),
     ("Jobs_2022", 2022), ("20183", 2018), ("Code", None), ("LA name", None), (NaN, None)],
)
def test_year_of(label: object, year: int | None) -> None:
    assert year_of(label) == year


def test_to_values_markers_and_separators() -> None:
    got = to_values(pd.Series(["58,474,943", 12.5, ":", "[x]", " x ", "..", "", NaN, "[u]"]))
    assert got.iloc[0] == 58474943.0 and got.iloc[1] == 12.5
    assert got.iloc[2:].isna().all()


def test_releases_and_measures_are_declared() -> None:
    ids = [r.id for r in population.RELEASES]
    assert ids == ["ons-mye-mid2020-lad2021", "ons-mye-mid2021-lad2021",
                   "ons-mye-mid2022-lad2023"]
    assert [r.geography_vintage for r in population.RELEASES] == [2021, 2021, 2023]
    assert [s.name for s in population.SOURCES] == ["population"]
    assert {m.name: (m.unit, m.kind) for m in population.MEASURES} == {
        "population": ("persons", "count")
    }
    assert population.READER_VERSION == "1"


# ------------------------------------------------------------------ mirror


def _read(mirror: Path, release_id: str) -> pd.DataFrame:
    (release,) = [r for r in population.RELEASES if r.id == release_id]
    return population.SOURCES[0].read(release, mirror / str(release.mirror_path))


def _value(rows: pd.DataFrame, code: str, period: int) -> float:
    hit = rows[(rows["area_code"] == code) & (rows["period"] == period)]["value"]
    assert len(hit) == 1, (code, period)
    return float(hit.iloc[0])


@pytest.mark.mirror
@pytest.mark.parametrize("release", population.RELEASES, ids=lambda r: r.id)
def test_mirror_file_has_release_hash(mirror: Path, release: population.Release) -> None:
    assert sha256_file(mirror / str(release.mirror_path)) == release.sha256


@pytest.mark.mirror
@pytest.mark.parametrize(
    ("release_id", "areas", "years"),
    [("ons-mye-mid2020-lad2021", 420, 20), ("ons-mye-mid2021-lad2021", 420, 3),
     ("ons-mye-mid2022-lad2023", 404, 2)],
)
def test_mirror_row_counts(mirror: Path, release_id: str, areas: int, years: int) -> None:
    rows = _read(mirror, release_id)
    assert rows["area_code"].nunique() == areas
    assert len(rows) == areas * years
    assert not rows.duplicated(["area_code", "period"]).any()


@pytest.mark.mirror
def test_mirror_official_values(mirror: Path) -> None:
    mid2020 = _read(mirror, "ons-mye-mid2020-lad2021")
    assert _value(mid2020, "E08000032", 2020) == 542128
    assert _value(mid2020, "E08000032", 2016) == 532539
    assert _value(mid2020, "K02000001", 2020) == 67081234
    assert _value(mid2020, "K03000001", 2020) == 65185724
    assert _value(mid2020, "K03000001", 2018) == 64553909
    assert _value(_read(mirror, "ons-mye-mid2021-lad2021"), "E08000032", 2021) == 546976
    mid2022 = _read(mirror, "ons-mye-mid2022-lad2023")
    assert _value(mid2022, "E08000032", 2022) == 552644
    assert _value(mid2022, "E06000063", 2022) > 0  # Cumberland exists on 2023 boundaries
    for code in ("K02000001", "K03000001", "K04000001", "E92000001", "W92000004",
                 "E12000003", "E11000006"):
        assert code in set(mid2022["area_code"])


@pytest.mark.mirror
def test_mirror_sheet_names_match_loosely(mirror: Path) -> None:
    path = mirror / str(population.RELEASES[2].mirror_path)
    assert read_sheet(path, " mye4 ").shape == read_sheet(path, "MYE4").shape
    with pytest.raises(SheetFormatError, match="has no sheet 'MYE9'.*MYE4"):
        read_sheet(path, "MYE9")
