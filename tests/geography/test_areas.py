"""Tests of keycities.geography.areas: one LAD table from many area sources."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from keycities.geography.areas import (
    AREA_COLUMNS,
    areas_from_package,
    areas_in_vintage,
    lad_changes,
    lad_table,
    package_changes,
    with_changes,
)


def _rows(*rows: tuple) -> pd.DataFrame:
    """Area rows: (code, name, start, end, region_code) with other columns empty."""
    df = pd.DataFrame(rows, columns=["code", "name", "vintage_start", "vintage_end",
                                     "region_code"])
    df["region_name"] = df["region_code"]
    df["country_code"] = None
    df["country_name"] = None
    return df[list(AREA_COLUMNS)]


@pytest.fixture
def mixed_rows() -> pd.DataFrame:
    return _rows(
        # ONS lookups, one year each
        ("E06000010", "Kingston upon Hull", 2016, 2016, "E12000003"),
        ("E06000010", "Kingston upon Hull, City of", 2023, 2023, "E12000003"),
        ("E06000028", "Bournemouth", 2016, 2016, "E12000009"),
        ("E06000028", "Bournemouth", 2018, 2018, "E12000009"),
        ("W06000022", "Newport", 2016, 2016, None),
        ("W06000022", "Newport", 2019, 2019, "bogus"),
        # successor table: no years
        ("E06000028", "Bournemouth (old)", None, None, "E12000009"),
        ("E08000038", "Barnsley", None, None, "E12000003"),
        # LAD-history row: current since 2019
        ("E06000058", "Bournemouth, Christchurch and Poole", 2019, None, "E12000009"),
        # not a LAD: a county
        ("E10000009", "Dorset", 2016, 2016, "E12000009"),
    )


def _by_code(lads: pd.DataFrame) -> pd.DataFrame:
    return lads.set_index("code")


def test_lad_table_one_row_per_lad_code(mixed_rows: pd.DataFrame) -> None:
    lads = lad_table(mixed_rows)
    assert list(lads.columns) == list(AREA_COLUMNS)
    assert sorted(lads["code"]) == ["E06000010", "E06000028", "E06000058", "E08000038",
                                    "W06000022"]


def test_lad_table_takes_most_recent_name(mixed_rows: pd.DataFrame) -> None:
    lads = _by_code(lad_table(mixed_rows))
    assert lads.at["E06000010", "name"] == "Kingston upon Hull, City of"
    # an undated row never outranks a dated one
    assert lads.at["E06000028", "name"] == "Bournemouth"


def test_lad_table_years(mixed_rows: pd.DataFrame) -> None:
    lads = _by_code(lad_table(mixed_rows))
    assert lads.at["E06000010", "vintage_start"] == 2016
    assert pd.isna(lads.at["E06000010", "vintage_end"])  # in England's newest snapshot
    assert lads.at["E06000028", "vintage_end"] == 2018  # missing from the 2023 snapshot
    assert pd.isna(lads.at["E06000058", "vintage_end"])  # history row says current
    assert lads.at["E06000058", "vintage_start"] == 2019


def test_lad_table_newest_snapshot_is_per_country(mixed_rows: pd.DataFrame) -> None:
    """England-only 2023 lookups must not end Welsh codes last seen in 2019."""
    lads = _by_code(lad_table(mixed_rows))
    assert pd.isna(lads.at["W06000022", "vintage_end"])


def test_lad_table_undated_codes_keep_null_years(mixed_rows: pd.DataFrame) -> None:
    lads = _by_code(lad_table(mixed_rows))
    assert pd.isna(lads.at["E08000038", "vintage_start"])
    assert pd.isna(lads.at["E08000038", "vintage_end"])


def test_lad_table_geography(mixed_rows: pd.DataFrame) -> None:
    lads = _by_code(lad_table(mixed_rows))
    assert lads.at["W06000022", "country_name"] == "Wales"
    assert lads.at["W06000022", "country_code"] == "W92000004"
    assert pd.isna(lads.at["W06000022", "region_code"])  # regions are English only
    assert lads.at["E06000010", "country_name"] == "England"
    assert lads.at["E06000010", "region_code"] == "E12000003"


def test_lad_table_rejects_rows_without_contract_columns() -> None:
    with pytest.raises(ValueError, match="lack columns"):
        lad_table(pd.DataFrame({"code": ["E06000001"], "name": ["Hartlepool"]}))


def test_areas_in_vintage(mixed_rows: pd.DataFrame) -> None:
    lads = lad_table(mixed_rows)
    in_2018 = set(areas_in_vintage(lads, 2018)["code"])
    in_2020 = set(areas_in_vintage(lads, 2020)["code"])
    assert "E06000028" in in_2018 and "E06000028" not in in_2020
    assert "E06000058" in in_2020 and "E06000058" not in in_2018
    assert "E08000038" in in_2018  # unknown years: not excluded


CHANGES = pd.DataFrame({
    "old_code": ["E06000028", "E07000048", "E06000057", "E10000009", "E08000016"],
    "old_name": ["Bournemouth", "Christchurch", "Northumberland", "Dorset", "Barnsley"],
    "new_code": ["E06000058", "E06000058", "E47000011", None, "E08000038"],
    "new_name": ["BCP", "BCP", "North of Tyne", None, "Barnsley"],
    "type": ["merger", "merger", "new_geo", "termination", "new_code"],
    "year": [2019, 2019, 2018, 2019, 2025],
})


def test_lad_changes_keeps_only_lad_to_lad_rows() -> None:
    ch = lad_changes(CHANGES)
    assert set(ch["old_code"]) == {"E06000028", "E07000048", "E08000016"}
    assert list(ch["year"]) == sorted(ch["year"])


def test_with_changes_fixes_years_and_adds_codes(mixed_rows: pd.DataFrame) -> None:
    lads = _by_code(with_changes(lad_table(mixed_rows), CHANGES))
    assert lads.at["E06000028", "vintage_end"] == 2018
    assert lads.at["E07000048", "vintage_end"] == 2018  # added from the change list
    assert lads.at["E07000048", "name"] == "Christchurch"
    assert lads.at["E08000038", "vintage_start"] == 2025
    assert "E47000011" not in lads.index


def test_areas_from_package_covers_england_and_wales() -> None:
    rows = areas_from_package()
    assert list(rows.columns) == list(AREA_COLUMNS)
    assert set(rows["code"].str[0]) == {"E", "W"}
    assert set(rows["country_name"]) == {"England", "Wales"}
    lads = _by_code(lad_table(rows))
    # package LTLA21 codes + 6 LADs created since 2021 + 25 districts abolished 2019-2021
    assert len(lads) == 331 + 6 + 25
    assert lads.at["E06000010", "vintage_start"] == 2021  # first vintage the package knows
    assert pd.isna(lads.at["E06000010", "vintage_end"])
    assert lads.at["E06000063", "name"] == "Cumberland"
    assert lads.at["E06000063", "vintage_start"] == 2023
    assert lads.at["E06000058", "vintage_start"] == 2019  # BCP: created 2019
    assert lads.at["E07000028", "vintage_end"] == 2022
    assert lads.at["E08000016", "vintage_end"] == 2024
    assert lads.at["E06000028", "vintage_end"] == 2018  # Bournemouth, from the change list
    assert pd.isna(lads.at["E06000028", "vintage_start"])


@pytest.mark.mirror
def test_package_changes_match_the_ons_change_list(mirror: Path) -> None:
    path = mirror / "lad_lookups/compiled/ONSvisual_lad_changes_2018_2025.csv"
    ons = pd.read_csv(path, encoding="utf-8-sig").rename(columns={
        "oldcd": "old_code", "oldnm": "old_name", "newcd": "new_code", "newnm": "new_name",
        "start": "year"})
    ons = lad_changes(ons)
    ons = ons[ons["old_code"].str[0].isin(["E", "W"])]  # the package has no Scotland
    mine = lad_changes(package_changes())
    key = ["old_code", "new_code", "type", "year"]
    assert sorted(map(tuple, ons[key].to_numpy().tolist())) == \
        sorted(map(tuple, mine[key].to_numpy().tolist()))
