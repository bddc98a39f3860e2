"""Population by broad age band from sheet "MYE2 - Persons" of the mid-year estimates."""

from __future__ import annotations

import pandas as pd
import pytest

from keycities.sources import age_structure
from keycities.sources._sheets import SheetFormatError

# The fixture's Hull row holds 10 + age people at each age 0..89 and 5 aged 90+.
HULL = {
    "population-all-ages": 4910,
    "population-aged-0-15": sum(10 + a for a in range(16)),
    "population-aged-16-24": sum(10 + a for a in range(16, 25)),
    "population-aged-16-64": sum(10 + a for a in range(16, 65)),
    "population-aged-16-plus": sum(10 + a for a in range(16, 90)) + 5,
    "population-aged-18-plus": sum(10 + a for a in range(18, 90)) + 5,
    "population-aged-19-plus": sum(10 + a for a in range(19, 90)) + 5,
    "population-aged-65-plus": sum(10 + a for a in range(65, 90)) + 5,
}


def test_bands_are_sums_of_single_years(raw_sheet) -> None:
    rows = age_structure.parse_mye2(raw_sheet("age_structure/mye2_persons"))
    hull = rows[rows["area_code"] == "E06000010"]  # printed ' E06000010'
    assert hull.set_index("indicator")["value"].to_dict() == HULL
    assert HULL["population-aged-16-64"] == 2450
    assert set(rows["period"]) == {"2022-06-30"}
    region = rows[(rows["area_code"] == "E12000003")].set_index("indicator")["value"]
    assert region["population-aged-65-plus"] == 26 * 100  # 65..89 and 90+
    assert set(rows["area_code"]) == {"E06000010", "E12000003"}  # notes row skipped
    assert rows["status"].isna().all() and rows["lower"].isna().all()


def test_ages_that_do_not_add_up_are_refused(raw_sheet) -> None:
    raw = raw_sheet("age_structure/mye2_persons")
    raw.iat[3, 3] = "4911"
    with pytest.raises(SheetFormatError, match="1 areas \\(first: E06000010\\) do not add up"):
        age_structure.parse_mye2(raw)


def test_a_missing_age_column_is_refused(raw_sheet) -> None:
    raw = raw_sheet("age_structure/mye2_persons")
    raw.iat[2, 50] = "forty-six"
    with pytest.raises(SheetFormatError, match="one column per age 0 to 89"):
        age_structure.parse_mye2(raw)


def test_the_title_must_be_the_persons_table_with_a_mid_year(raw_sheet) -> None:
    raw = raw_sheet("age_structure/mye2_persons")
    raw.iat[0, 0] = "MYE2: Persons by single year of age and sex for local authorities in the UK"
    with pytest.raises(SheetFormatError, match="no mid-year"):
        age_structure.parse_mye2(raw)
    raw.iat[0, 0] = "MYE2: Males by single year of age, mid-2022"
    with pytest.raises(SheetFormatError, match="does not mention"):
        age_structure.parse_mye2(raw)


def test_band_words_and_meta() -> None:
    words = {b.indicator: b.words for b in age_structure.BANDS}
    assert words["population-aged-16-64"] == "aged 16 to 64"
    assert words["population-aged-65-plus"] == "aged 65 and over"
    meta = age_structure.band_meta(age_structure.BANDS[0], age_structure.RELEASES[2])
    assert (meta.label, meta.unit, meta.measure) == ("Population", "people", "Count")
    assert "2023 boundaries" in meta.caveats and "sum of its members" in meta.caveats


def test_read_from_a_workbook(raw_sheet, workbook) -> None:
    path = workbook({"MYE1": pd.DataFrame([["x"]]),
                     "MYE2 - Persons": raw_sheet("age_structure/mye2_persons")})
    frames = age_structure.read_age_structure(age_structure.RELEASES[2], path)
    assert len(frames.values) == 2 * len(age_structure.BANDS)
    assert frames.meta["indicator"].tolist() == [b.indicator for b in age_structure.BANDS]


# ------------------------------------------------------------------ mirror


@pytest.mark.mirror
def test_mirror_hull_aged_16_to_64(age_read, one_value) -> None:
    # Hull, MYE2 - Persons, mid-2022: the single years 16..64 sum to 173,312.
    hull = one_value(age_read, "ons-mye-mid2022-lad2023", "population-aged-16-64",
                     "E06000010", "2022-06-30")
    assert hull["value"] == 173_312
    assert one_value(age_read, "ons-mye-mid2022-lad2023", "population-all-ages", "E06000010",
                     "2022-06-30")["value"] == 268_852  # = MYE4 mid-2022
    assert one_value(age_read, "ons-mye-mid2020-lad2021", "population-all-ages", "K02000001",
                     "2020-06-30")["value"] == 67_081_234


@pytest.mark.mirror
def test_mirror_one_period_per_release_and_bands_consistent(age_read) -> None:
    v = age_read.values
    assert v.groupby("release_id")["period"].unique().map(list).to_dict() == {
        "ons-mye-mid2020-lad2021": ["2020-06-30"], "ons-mye-mid2021-lad2021": ["2021-06-30"],
        "ons-mye-mid2022-lad2023": ["2022-06-30"]}
    wide = v.pivot_table(index=["release_id", "area_code"], columns="indicator",
                         values="value")
    parts = wide[["population-aged-0-15", "population-aged-16-64", "population-aged-65-plus"]]
    assert (parts.sum(axis=1) == wide["population-all-ages"]).all()
    assert v.groupby("release_id")["area_code"].nunique().to_dict() == {
        "ons-mye-mid2020-lad2021": 420, "ons-mye-mid2021-lad2021": 420,
        "ons-mye-mid2022-lad2023": 404}
