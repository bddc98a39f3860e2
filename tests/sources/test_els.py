"""Tests for the ONS Explore Local Statistics reader on tiny hand-made fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from keycities.errors import HashMismatchError, KeycitiesError, SourceUnavailableError
from keycities.sources import els
from keycities.sources._els_read import (
    ElsFormatError,
    display_unit,
    indicator_id,
    read_csv,
    read_files,
    source_date,
    values_frame,
)
from keycities.sources._indicator import META_COLUMNS, VALUE_COLUMNS, Period

ELS = Path(__file__).parents[1] / "data" / "els"


def read(folder: str, name: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Values, metadata and notices of fixture ``folder/name.csv``."""
    notices: list[str] = []
    csv = ELS / folder / f"{name or folder}.csv"
    values, meta = read_files(csv, csv.with_suffix(".json"), notice=notices.append)
    return values, meta, notices


def cell(values: pd.DataFrame, indicator: str, area: str, period: str) -> pd.Series:
    rows = values[(values["indicator"] == indicator) & (values["area_code"] == area)
                  & (values["period"] == period)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_ids_are_slugs_of_the_indicator_text() -> None:
    assert indicator_id("Employment rate (Northern Ireland)") == "employment-rate-northern-ireland"
    assert indicator_id("Claimant Count") == "claimant-count"
    assert indicator_id("  4G coverage ") == "4g-coverage"
    assert indicator_id("Pupils meeting the expected standard in reading, writing and maths") == \
        "pupils-meeting-the-expected-standard-in-reading-writing-and-maths"
    with pytest.raises(ElsFormatError, match="no letters or digits"):
        indicator_id(" -- ")


def test_bom_file_with_every_area_level() -> None:
    values, meta, notices = read("claimant-count")
    assert list(values.columns) == [*VALUE_COLUMNS, "geography"]
    assert list(meta.columns) == [*META_COLUMNS, "standardised"]
    assert set(values["indicator"]) == {"claimant-count"}
    assert set(values["geography"]) == {"Country", "Nation", "Region", "Local Authority District"}
    assert cell(values, "claimant-count", "E08000024", "2025-01-01/P1Y")["value"] == 4.6
    assert values["value"].dtype == float and values["lower"].isna().all()
    assert notices == []


def test_suppressed_value_is_nan_with_status_kept() -> None:
    values, _, _ = read("claimant-count")
    row = cell(values, "claimant-count", "N09000001", "2012-01-01/P1Y")
    assert np.isnan(row["value"]) and row["status"] == "x" and row["note"] is None
    old = cell(values, "claimant-count", "E08000016", "2023-01-01/P1Y")
    assert old["status"] is None and old["note"].startswith("Obsolete code since 2025")


def test_single_indicator_metadata() -> None:
    _, meta, _ = read("claimant-count")
    row = meta.iloc[0].to_dict()
    assert row["label"] == "Claimant Count" and row["unit"] == "%"
    assert row["measure"] == "Percentage" and row["decimals"] == 1
    assert row["source_date"] == "2026-01-20" and row["experimental"] is True
    assert row["source_org"] == "Office for National Statistics"


def test_multi_indicator_file_with_intervals() -> None:
    values, meta, notices = read("employment-rate")
    assert list(meta["indicator"]) == ["employment-rate", "economically-inactive",
                                       "unemployment-rate"]
    labels = dict(zip(meta["indicator"], meta["label"], strict=True))
    assert labels["economically-inactive"] == "Economic inactivity rate (Great Britain)"
    # No block for it in the JSON: the CSV's name, the rest from "shared".
    assert labels["unemployment-rate"] == "Unemployment rate"
    assert meta.set_index("indicator").at["unemployment-rate", "unit"] == "%"
    assert any("no metadata block for indicator 'Unemployment rate'" in n for n in notices)
    hull = cell(values, "employment-rate", "E06000010", "2023-01-01/P1Y")
    assert (hull["value"], hull["lower"], hull["upper"]) == (68.2, 64.1, 72.3)
    small = cell(values, "economically-inactive", "E07000166", "2023-01-01/P1Y")
    assert np.isnan(small["value"]) and np.isnan(small["lower"]) and small["status"] == "u"
    assert "sample size is small" in small["note"]


def test_columns_found_by_name_when_reordered() -> None:
    values, meta, _ = read("personal-wellbeing-estimates")
    assert cell(values, "anxiety", "W06000015", "2022-04-01/P1Y")["value"] == 3.1
    assert meta.set_index("indicator").at["happiness", "measure"].startswith("Mean (Where 0")
    assert set(meta["unit"]) == {"score out of 10"}


def test_repeated_notes_column_and_bracketed_flags() -> None:
    values, _, _ = read("persistent-absences-for-pupils-eligible-for-free-school-meals")
    ind = "persistent-absences-for-pupils-eligible-for-free-school-meals"
    both = cell(values, ind, "E06000045", "2023-08-01/P1Y")
    assert both["status"] == "c" and both["note"] == "First note; Second note"
    second = cell(values, ind, "E06000046", "2023-08-01/P1Y")
    assert second["status"] == "z" and second["note"] == "Only in the second notes column"


def test_file_covering_one_nation() -> None:
    values, meta, _ = read("apprenticeships-ni")
    assert {c[0] for c in values["area_code"]} == {"N"}
    assert set(values["geography"]) == {"Nation", "Local Authority District"}
    row = meta.iloc[0]
    assert row["indicator"] == "apprenticeship-starts-northern-ireland"
    assert row["unit"] == "per 100,000 population" and row["decimals"] == 0
    # Several sources: organisations joined, the latest date, space-separated URLs.
    assert row["source_org"].count("; ") == 2 and row["source_date"] == "2026-04-01"
    assert len(row["source_url"].split(" ")) == 3
    assert Period.parse(values["period"].iloc[0]).label == "2023/24"


def test_every_period_form() -> None:
    values, meta, _ = read("period-forms")
    # A one-block JSON over a file of several indicators: labels from the CSV.
    assert "Gas year" in set(meta["label"])
    labels = {ind: Period.parse(p).label for ind, p in zip(values["indicator"],
                                                            values["period"], strict=True)}
    assert labels == {
        "calendar-year": "2023", "financial-year": "2023/24",
        "academic-year-from-august": "2023/24", "academic-year-from-september": "2023/24",
        "year-from-february": "February 2023 to January 2024",
        "gas-year": "15 May 2023 to 14 May 2024",
        "survey-year": "16 November 2023 to 15 November 2024",
        "three-calendar-years": "2021 to 2023",
        "three-financial-years": "April 2021 to March 2024",
        "five-calendar-years": "2019 to 2023", "month": "July 2023",
        "point-in-time": "30 April 2025",
    }


def test_intervals_and_prose_status() -> None:
    values, meta, _ = read("healthy-life-expectancy")
    f = cell(values, "female-healthy-life-expectancy", "E08000024", "2020-01-01/P3Y")
    assert (f["value"], f["lower"], f["upper"]) == (57.0, 54.1, 59.9)
    assert set(meta["unit"]) == {"years"}
    combined = cell(values, "male-healthy-life-expectancy", "E67000001", "2020-01-01/P3Y")
    assert combined["status"] is None
    assert combined["note"] == "Value for Hackney and City of London combined"


def test_scientific_notation_and_text_in_number_cells() -> None:
    values, meta, notices = read("environment-regulating")
    assert cell(values, "air-pollution-regulating", "E06000044",
                "2024-01-01/P1Y")["value"] == pytest.approx(3.6e-05)
    assert np.isnan(cell(values, "air-pollution-regulating", "E06000046",
                         "2024-01-01/P1Y")["value"])
    assert any("not numbers (e.g. 'n/a')" in n for n in notices)
    assert meta.iloc[0]["unit"] == "£ million (2024 prices)"
    assert not meta.iloc[0]["standardised"]


def test_uncoded_rows_and_repeats_under_two_levels() -> None:
    values, meta, notices = read("foreign-direct-investment")
    ind = "inward-foreign-direct-investment"
    assert "na" not in set(values["area_code"])
    gm = values[values["area_code"] == "E47000001"]
    assert len(gm) == 1 and gm.iloc[0]["geography"] == "Combined Authority or City Region"
    assert "E47000004" not in set(values["area_code"])  # repeats that disagree
    assert cell(values, ind, "E47000002", "2024-01-01/P1Y")["status"] == "c"
    assert any("no area code" in n and "Glasgow City Region" in n for n in notices)
    assert any("kept once" in n and "differing" in n for n in notices)
    assert meta.iloc[0]["unit"] == "£ million"


def test_affordability_measure_corrected() -> None:
    values, meta, _ = read("housing-affordability-ratio")
    row = meta.iloc[0]
    assert row["measure"] == "Ratio" and row["unit"] == "affordability ratio"
    assert "corrected to 'Ratio'" in row["caveats"]
    assert Period.parse(values.iloc[0]["period"]).label == "1 April 2025"


def test_pounds_prefix_unit() -> None:
    values, meta, _ = read("gross-median-weekly-pay")
    assert meta.iloc[0]["unit"] == "£"
    eng = cell(values, "gross-median-weekly-pay", "E92000001", "2025-04-30")
    assert (eng["value"], eng["lower"], eng["upper"]) == (650.0, 647.5, 652.5)


def test_small_area_layout() -> None:
    values, meta, _ = read("uk-small-area-gross-value-added-estimates",
                           "2011-northern-ireland-super-output-areas")
    ind = "gross-value-added-2011-northern-ireland-super-output-areas"
    assert cell(values, ind, "95AA01S1", "2020-01-01/P1Y")["value"] == 120.25
    assert set(values["geography"]) == {"Super Output Area (2011)"}
    row = meta.iloc[0]
    assert row["unit"] == "£ million" and row["measure"] == "Gross value added"
    assert row["source_org"] == "Office for National Statistics"
    assert row["source_date"] == "2023-07-26" and row["experimental"]
    assert row["source_url"] == "https://www.ons.gov.uk/example/small-area-gva"


def test_unknown_layout_says_what_is_missing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("areacd,period,value\nE06000001,2023-01-01/P1Y,1\n", encoding="utf-8")
    with pytest.raises(ElsFormatError, match="no column.*geography, indicator, observation"):
        values_frame(read_csv(bad), name="bad.csv")


def test_bad_period_names_the_file(tmp_path: Path) -> None:
    text = (ELS / "claimant-count" / "claimant-count.csv").read_text(encoding="utf-8-sig")
    bad = tmp_path / "claimant-count.csv"
    bad.write_text(text.replace("2024-01-01/P1Y", "2024/25"), encoding="utf-8")
    with pytest.raises(ElsFormatError, match="claimant-count.csv: '2024/25' is not a period"):
        values_frame(read_csv(bad), name=bad.name)


def test_display_unit_and_source_date_rules() -> None:
    assert display_unit({"suffix": "%"}, "Percentage") == "%"
    assert display_unit({"prefix": "GBPSign"}, "£") == "£"
    assert display_unit({"subText": "kWh"}, "kWh per meter point") == "kWh per meter point"
    assert display_unit({"subText": "tCO2e per capita"}, "Tonnes of CO2 equivalent") == \
        "tCO2e per capita"
    assert display_unit({}, "mins") == "mins"
    assert source_date("01/04/2026|15/01/2026") == "2026-04-01"
    assert source_date("81/12/2025") is None and source_date(None) is None


# ----------------------------------------------------------------- catalog


def test_catalog_one_release_per_file() -> None:
    ids = [r.id for r in els.all_releases()]
    assert len(ids) == len(set(ids)) == 2 * len(els.RELEASES)
    claimant = els.find_release("ons-els-claimant-count-2026-06-26")
    assert claimant.mirror_path == "ons_explore_local_statistics/claimant-count/claimant-count.csv"
    assert claimant.url == (
        "https://raw.githubusercontent.com/ONSdigital/explore-local-statistics-data/"
        "4972c588d0c192839afc8fa54ae82cb3dc7721ed/claimant-count/claimant-count.csv")
    assert claimant.sha256.startswith("8e4b5d94") and claimant.licence.startswith("Open Gov")
    meta = els.metadata_release(claimant)
    assert meta.id == claimant.id + "-metadata" and meta.mirror_path.endswith(".json")
    assert meta.url.endswith("/claimant-count/claimant-count.json")


def test_unknown_release_suggests_close_ids() -> None:
    with pytest.raises(KeycitiesError, match="Did you mean: ons-els-claimant-count-2026-06-26"):
        els.find_release("ons-els-claimant-count")
    with pytest.raises(KeycitiesError, match="not an Explore Local Statistics data release"):
        els.metadata_release(els.METADATA_RELEASES[0])


def test_read_release_checks_the_metadata_hash(tmp_path: Path) -> None:
    release = els.find_release("ons-els-claimant-count-2026-06-26")
    csv = tmp_path / "claimant-count.csv"
    shutil.copy(ELS / "claimant-count" / "claimant-count.csv", csv)
    with pytest.raises(SourceUnavailableError, match="claimant-count.json is missing"):
        els.read_release(release, csv)
    shutil.copy(ELS / "claimant-count" / "claimant-count.json", tmp_path)
    with pytest.raises(HashMismatchError, match="catalog expects .* replace it with https://"):
        els.read_release(release, csv)


def test_read_mirror_reports_what_it_cannot_read(tmp_path: Path) -> None:
    folder = tmp_path / els.FOLDER / "claimant-count"
    folder.mkdir(parents=True)
    shutil.copy(ELS / "claimant-count" / "claimant-count.csv", folder)
    (tmp_path / els.FOLDER / "new-indicator").mkdir()
    (tmp_path / els.FOLDER / "new-indicator" / "new-indicator.csv").write_text("a\n")
    got = els.read_mirror(tmp_path)
    assert got.values.empty and list(got.values.columns)[:2] == ["release_id", "indicator"]
    reasons = dict(got.unread)
    assert "catalog expects" in reasons[f"{els.FOLDER}/claimant-count/claimant-count.csv"]
    assert "is missing" in reasons[f"{els.FOLDER}/museums/museums.csv"]
    assert "absent" in reasons[f"{els.FOLDER}/child-weight/child-weight.csv"]
    assert "not in the catalog" in reasons[f"{els.FOLDER}/new-indicator/new-indicator.csv"]
    assert len(got.unread) == len(els.RELEASES) + len(els.ABSENT) + 1
