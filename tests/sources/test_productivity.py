"""ONS subregional productivity readers (local authorities and ITL regions)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from keycities.sources import productivity
from keycities.sources._sheets import SheetFormatError
from keycities.sources.base import READER_COLUMNS, Release, sha256_file

NaN = math.nan
B3 = next(s for s in productivity.SMOOTHED_TABLES if s.sheet == "B3")
B4 = next(s for s in productivity.UNSMOOTHED_TABLES if s.sheet == "B4")
JOBS = next(s for s in productivity.SMOOTHED_TABLES if s.sheet == "Productivity Jobs")


def la_sheet(title: str, prefix: str) -> pd.DataFrame:
    return pd.DataFrame([
        [title, NaN, NaN, NaN],
        ["Including UK figures for comparison purposes", NaN, NaN, NaN],
        [NaN] * 4,
        [NaN] * 4,
        ["LAD_Code", "LAD_Name", f"{prefix}_2021", f"{prefix}_2022"],
        ["UKX", "UK less Extra-Regio", 60427.6, 61729.3],
        ["E08000032", "Bradford", 48000.5, 49000.25],
        ["E06000063", "Cumberland", "[x]", 70000.0],
        [NaN] * 4,
        ["Note 2: Data are smoothed using a weighted 5-year moving average", NaN, NaN, NaN],
        ["Source: Office for National Statistics", NaN, NaN, NaN],
    ])


def itl_sheet(title: str) -> pd.DataFrame:
    return pd.DataFrame([
        [title, NaN, NaN, NaN, NaN],
        [NaN] * 5,
        ["ITL_level", "ITL_code", "Region_name", "Pounds_2021", "Pounds_2022"],
        ["UK", "UKX", "United Kingdom less Extra-Regio", 60000.0, 61000.0],
        ["Other", "TLB", "England", 62000.0, 63000.0],
        ["ITL1", "TLE", "Yorkshire and The Humber", 50000.0, 51000.0],
        ["ITL3", "TLE41", "Bradford", 47000.0, 48000.0],
        ["Note 1: Data are current price", NaN, NaN, NaN, NaN],
    ])


SMOOTHED_B3 = "Table B3: Current Price (smoothed) GVA (B) per filled job (£); Local Authority"
UNSMOOTHED_B4 = ("Table B4: Current Price (unsmoothed) GVA (B) per filled job (£); ITL2 and "
                 "ITL3 subregions, 2002 - 2022")


def test_la_sheet_rows() -> None:
    rows = productivity.parse_la_sheet(la_sheet(SMOOTHED_B3, "Pounds"), B3)
    assert list(rows.columns) == list(READER_COLUMNS["fact"])
    got = rows.set_index(["area_code", "period"])["value"].to_dict()
    assert got == {("UKX", 2021): 60427.6, ("UKX", 2022): 61729.3,
                   ("E08000032", 2021): 48000.5, ("E08000032", 2022): 49000.25,
                   ("E06000063", 2022): 70000.0}
    assert set(rows["unit"]) == {"£ per filled job"}


def test_jobs_sheet_rows() -> None:
    title = "Productivity Jobs by Local Authority District (constrained to ITL1), 2002 - 2022"
    rows = productivity.parse_la_sheet(la_sheet(title, "Jobs"), JOBS)
    assert set(rows["measure"]) == {"filled_jobs"} and set(rows["unit"]) == {"filled jobs"}


def test_smoothed_spec_refuses_unsmoothed_sheet() -> None:
    with pytest.raises(SheetFormatError, match="smoothed"):
        productivity.parse_itl_sheet(itl_sheet(UNSMOOTHED_B4), B3)


def test_itl_sheet_recodes_england_and_regions() -> None:
    rows = productivity.parse_itl_sheet(itl_sheet(UNSMOOTHED_B4), B4)
    assert sorted(set(rows["area_code"])) == ["E12000003", "E92000001", "TLE41", "UKX"]
    assert set(rows["measure"]) == {"gva_per_filled_job_unsmoothed"}


def test_measures_cover_every_sheet_and_are_typed() -> None:
    declared = {m.name: m for m in productivity.MEASURES}
    read = {s.measure for s in productivity.ITL_TABLES}
    assert read == set(declared)
    assert {s.measure for s in productivity.LA_TABLES} < read
    assert declared["gva_per_filled_job"].kind == "ratio"
    assert declared["gva_per_filled_job"].numerator is None
    assert declared["gva_per_hour_worked"].unit == "£ per hour"
    assert declared["gva_per_filled_job_index"].unit == "index, UK=100"
    assert declared["gva_per_hour_worked_index_unsmoothed"].kind == "index"
    assert declared["filled_jobs"].additive and declared["hours_worked_weekly"].additive
    for spec in productivity.ITL_TABLES:
        assert declared[spec.measure].unit == spec.unit


def test_releases_are_declared() -> None:
    (la, itl) = productivity.SOURCES
    assert (la.name, itl.name) == ("productivity_la", "productivity_itl")
    assert [r.id for r in la.releases] == ["ons-productivity-la-2024-06"]
    assert [r.id for r in itl.releases] == ["ons-productivity-itl-2024-06"]
    assert la.releases[0].geography_vintage == 2023
    assert "smoothed" in la.releases[0].notes


# ------------------------------------------------------------------ mirror

ALL = [r for s in productivity.SOURCES for r in s.releases]


def read(mirror: Path, index: int) -> pd.DataFrame:
    source = productivity.SOURCES[index]
    rel = source.releases[0]
    return source.read(rel, mirror / str(rel.mirror_path))


def value(rows: pd.DataFrame, code: str, measure: str, period: int) -> float:
    hit = rows[(rows["area_code"] == code) & (rows["measure"] == measure)
               & (rows["period"] == period)]["value"]
    assert len(hit) == 1, (code, measure, period)
    return float(hit.iloc[0])


@pytest.mark.mirror
@pytest.mark.parametrize("rel", ALL, ids=lambda r: r.id)
def test_mirror_file_has_release_hash(mirror: Path, rel: Release) -> None:
    assert sha256_file(mirror / str(rel.mirror_path)) == rel.sha256


@pytest.mark.mirror
def test_mirror_la_values(mirror: Path) -> None:
    rows = read(mirror, 0)
    assert rows["area_code"].nunique() == 362  # UKX + 361 districts
    assert len(rows) == 362 * (3 * 21 + 3 * 19)  # per-job sheets 2002-22, per-hour 2004-22
    assert value(rows, "UKX", "gva_per_hour_worked", 2022) == pytest.approx(39.7)
    jobs = {"E08000032": 219_948, "E08000026": 167_691, "E06000010": 131_247,
            "E06000063": 135_839, "W06000006": 63_474}
    for code, expected in jobs.items():
        assert value(rows, code, "filled_jobs", 2022) == expected, code


@pytest.mark.mirror
def test_mirror_itl_values(mirror: Path) -> None:
    rows = read(mirror, 1)
    assert rows["area_code"].nunique() == 234
    assert len(rows) == 234 * (5 * 21 + 5 * 19)
    assert value(rows, "E92000001", "filled_jobs", 2022) > 24_000_000
    assert value(rows, "E92000001", "gva_per_filled_job", 2022) > 0
    assert value(rows, "UKX", "gva_per_hour_worked", 2022) == pytest.approx(39.7)
    assert value(rows, "UKX", "gva_per_hour_worked_index", 2022) == pytest.approx(100)
    smoothed = rows[rows["measure"] == "gva_per_hour_worked"].set_index(["area_code", "period"])
    raw = rows[rows["measure"] == "gva_per_hour_worked_unsmoothed"].set_index(
        ["area_code", "period"])
    assert (smoothed["value"] != raw["value"].reindex(smoothed.index)).any()
