"""Subnational indicators explorer sheets that ONS Explore Local Statistics lacks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from keycities.sources import subnational
from keycities.sources._sheets import SheetFormatError

SPEC = {s.sheet: s for s in subnational.SHEETS}
RELEASE = subnational.RELEASES[0]


@pytest.mark.parametrize(("text", "period"), [
    ("2022", "2022-01-01/P1Y"),
    ("2022/23", "2022-09-01/P1Y"),
    ("Financial year ending 2023", "2022-04-01/P1Y"),
    ("2020 - 2022", "2020-01-01/P3Y"),
    ("10/2022 - 09/2023", "2022-10-01/P1Y"),
    ("04/2020 - 03/2023", "2020-04-01/P3Y"),
    ("16/11/2021 - 15/11/2022", "2021-11-16/P1Y"),
    ("09/2023", "2023-09-01/P1M"),
    ("As at 31 January 2024", "2024-01-31"),
    ("As of  13 January 2023 ", "2023-01-13"),
    ("2019 revised", "2019-01-01/P1Y"),
])
def test_period_texts(text: str, period: str) -> None:
    assert subnational.parse_period(text) == period


def test_unknown_period_text_is_quoted() -> None:
    with pytest.raises(ValueError, match="'Spring 2023'"):
        subnational.parse_period("Spring 2023")


def test_ofsted_na_kept_as_not_available_and_codes_stripped(raw_sheet) -> None:
    rows = subnational.parse_metric_sheet(raw_sheet("subnational/ofsted"), SPEC["Ofsted"])
    got = rows.set_index("area_code")
    assert list(got.index) == ["E92000001", "E06000010", "E09000001", "E06000066"]
    assert got.loc["E06000010", "value"] == pytest.approx(93.81443298969072)
    assert pd.isna(got.loc["E09000001", "value"]) and got.loc["E09000001", "status"] == "x"
    assert set(rows["period"]) == {"2024-01-31"}
    assert rows["lower"].isna().all() and rows["note"].isna().all()


def test_confidence_intervals_and_observation_status(raw_sheet) -> None:
    rows = subnational.parse_metric_sheet(raw_sheet("subnational/reception_obesity"),
                                          SPEC["Reception obesity"])
    hull = rows.set_index("area_code").loc["E06000010"]
    assert (hull["value"], hull["lower"], hull["upper"]) == (11.54472, 10.52166, 12.78608)
    assert hull["period"] == "2022-09-01/P1Y"
    hackney = rows.set_index("area_code").loc["E09000012"]
    assert hackney["status"] == "Value for Hackney and City of London combined"
    devon = rows.set_index("area_code").loc["E07000047"]
    assert devon["status"] == "x" and pd.isna(devon["lower"]) and pd.isna(devon["value"])


def test_notes_kept_and_blank_figures_dropped(raw_sheet) -> None:
    rows = subnational.parse_metric_sheet(raw_sheet("subnational/high_growth"),
                                          SPEC["High growth enterprises"])
    assert rows["area_code"].tolist() == ["K02000001", "E06000010", "E07000026"]  # no Belfast
    assert rows["note"].tolist()[-1].startswith("Obsolete code since 2023")
    assert set(rows["period"]) == {"2022-01-01/P1Y"}


def test_another_metric_or_layout_is_refused(raw_sheet) -> None:
    with pytest.raises(SheetFormatError, match="does not mention"):
        subnational.parse_metric_sheet(raw_sheet("subnational/ofsted"),
                                       SPEC["Reception obesity"])
    raw = raw_sheet("subnational/ofsted")
    raw.iat[7, 5] = "Share of schools (%)"
    with pytest.raises(SheetFormatError, match="no column headed like 'rated good"):
        subnational.parse_metric_sheet(raw, SPEC["Ofsted"])
    raw = raw_sheet("subnational/high_growth")
    raw.iat[2, 1] = "Spring 2022"
    with pytest.raises(SheetFormatError, match="'High growth enterprises'.*'Spring 2022'"):
        subnational.parse_metric_sheet(raw, SPEC["High growth enterprises"])


def test_labels_join_the_geography_lines(raw_sheet) -> None:
    labels = subnational.sheet_labels(raw_sheet("subnational/ofsted"))
    assert labels["Geography"] == ("Counties and Unitary Authorities, 2023; Regions; "
                                   "Nation (England)")
    assert labels["Metric"] == "State-funded schools rated good or outstanding"


def test_meta_from_the_data_dictionary(raw_sheet) -> None:
    dictionary = subnational.data_dictionary(raw_sheet("subnational/data_dictionary"))
    entry = dictionary["high growth enterprises"]
    labels = subnational.sheet_labels(raw_sheet("subnational/high_growth"))
    meta = subnational.sheet_meta(SPEC["High growth enterprises"], entry, labels, RELEASE)
    assert (meta.label, meta.unit, meta.measure) == (
        "High growth enterprises", "enterprises", "Number of enterprises")
    assert meta.source_org == "Office for National Statistics"
    assert meta.source_date == "2024-03-21" and not meta.experimental
    assert "employment growth over 20%" in meta.caveats and "2022" in meta.caveats
    ofsted = subnational.sheet_meta(SPEC["Ofsted"], dictionary[SPEC["Ofsted"].metric.casefold()],
                                    subnational.sheet_labels(raw_sheet("subnational/ofsted")),
                                    RELEASE)
    assert ofsted.source_org == "Ofsted" and ofsted.decimals == 1


def test_read_from_a_workbook(raw_sheet, workbook, monkeypatch) -> None:
    sheets = {"Data dictionary": raw_sheet("subnational/data_dictionary"),
              "Ofsted": raw_sheet("subnational/ofsted"),
              "High growth enterprises": raw_sheet("subnational/high_growth")}
    path = workbook(sheets)
    monkeypatch.setattr(subnational, "SHEETS", (SPEC["Ofsted"], SPEC["High growth enterprises"]))
    frames = subnational.read_subnational(RELEASE, path)
    assert frames.meta["indicator"].tolist() == ["schools-good-or-outstanding",
                                                 "high-growth-enterprises-count"]
    assert len(frames.values) == 4 + 3
    monkeypatch.setattr(subnational, "SHEETS", (SPEC["Reception obesity"],))
    with pytest.raises(SheetFormatError, match="no sheet 'Reception obesity'"):
        subnational.read_subnational(RELEASE, path)


def test_every_read_sheet_is_named_once() -> None:
    read = [s.sheet for s in subnational.SHEETS]
    assert len(set(read)) == len(read) and not set(read) & set(subnational.SKIPPED)
    ids = [s.indicator for s in subnational.SHEETS]
    assert len(set(ids)) == len(ids)


# ------------------------------------------------------------------ mirror


@pytest.mark.mirror
def test_mirror_every_sheet_is_read_or_skipped_with_a_reason(mirror: Path) -> None:
    names = CalamineWorkbook.from_path(str(mirror / str(RELEASE.mirror_path))).sheet_names
    read = {s.sheet for s in subnational.SHEETS}
    assert set(names) == read | set(subnational.SKIPPED)
    assert len(names) == 54  # 50 metric sheets and 4 of notes


@pytest.mark.mirror
def test_mirror_official_values(subnational_read, one_value) -> None:
    rid = RELEASE.id
    # Hull (E06000010), sheet 'Reception obesity', 2022/23: 11.54472 (10.52166 to 12.78608).
    hull = one_value(subnational_read, rid, "reception-obesity-prevalence", "E06000010",
                     "2022-09-01/P1Y")
    assert (hull["value"], hull["lower"], hull["upper"]) == (11.54472, 10.52166, 12.78608)
    plymouth = one_value(subnational_read, rid, "year-6-obesity-prevalence", "E06000026",
                         "2022-09-01/P1Y")
    assert plymouth["value"] == 20.0
    ofsted = one_value(subnational_read, rid, "schools-good-or-outstanding", "E06000010",
                       "2024-01-31")
    assert ofsted["value"] == pytest.approx(93.814433, abs=1e-6)
    assert one_value(subnational_read, rid, "high-growth-enterprises-count", "E06000010",
                     "2022-01-01/P1Y")["value"] == 40
    assert one_value(subnational_read, rid, "population-under-mayoral-devolution",
                     "E12000003", "2023-01-13")["value"] == pytest.approx(67.9415466508654)
    v = subnational_read.values
    assert v.groupby("indicator").size().to_dict() == {
        "high-growth-enterprises-count": 422, "population-under-mayoral-devolution": 10,
        "reception-obesity-prevalence": 335, "schools-good-or-outstanding": 163,
        "year-6-obesity-prevalence": 335}
    assert v["status"].value_counts().to_dict() == {
        "x": 2, "Value for Hackney and City of London combined": 2,
        "Value for Cornwall and Isles of Scilly combined": 2}
