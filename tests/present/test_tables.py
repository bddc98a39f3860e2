"""Downloads that describe themselves, in plain words, with no live formulas (issue 15
points 7-8, issue 16 point 6)."""

from __future__ import annotations

import io
import re
import zipfile

import pandas as pd
import pyarrow.parquet as pq
import pytest

from keycities.present.labels import COLUMNS, cell, certificate_words, frame_for_people, label
from keycities.present.tables import (
    About,
    Source,
    csv_metadata,
    neutralise,
    table_bytes,
)

EVIL = '=HYPERLINK("http://x","y")'
ABOUT = About(title="Members on 2024-06-01", subject="Kingston upon Hull, City of",
              code="E06000010", as_of="2024-06-01", generated="2026-12-06",
              sources=(Source("ons-mye-mid2022-lad2023", "Mid-Year Population Estimates",
                              "Office for National Statistics", "2024-03-26",
                              "https://www.ons.gov.uk/x", "Open Government Licence v3.0"),))


def members() -> pd.DataFrame:
    return pd.DataFrame({"code": ["E06000010", "E08000024"], "name": [EVIL, "Sunderland"],
                         "as_published": ["+cmd|' /C calc'!A0", "@SUM(1+1)"],
                         "year": [2015.0, 2016.0], "leave_share": [0.6712345678901234, 0.61],
                         "gap": [-1234.5678, 17081.123456789], "note": ["-3.5%", "\tx"]})


def xlsx_sheets(data: bytes) -> dict[str, str]:
    """Sheet name -> its XML, with the shared strings inlined as text."""
    z = zipfile.ZipFile(io.BytesIO(data))
    book = z.read("xl/workbook.xml").decode()
    names = re.findall(r'<sheet name="([^"]+)"', book)
    shared = z.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in z.namelist() \
        else ""
    return {n: z.read(f"xl/worksheets/sheet{i}.xml").decode() + shared
            for i, n in enumerate(names, 1)}


def test_neutralise_prefixes_formula_text_and_keeps_numbers() -> None:
    for bad in ("=1+1", "+1+1", "-1+A1", "@SUM(A1)", "\t=1", "\r=1", EVIL):
        assert neutralise(bad) == "'" + bad
    for fine in ("Hull", "-3.5%", "+2", "-1,234.5", -5, -0.5, 3.0, None):
        assert neutralise(fine) == fine


def test_csv_has_no_live_formula_a_bom_labels_and_sensible_precision() -> None:
    raw = table_bytes(members(), "csv", about=ABOUT)
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: "£" opens right in Excel
    text = raw.decode("utf-8-sig")
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    for col in df.columns:
        assert not re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", col), col
        for v in df[col]:
            assert not v.startswith(("=", "+", "@", "\t", "\r")), (col, v)
    assert df["Name"].iloc[0] == "'" + EVIL
    assert df["Name as the network published it"].tolist()[1] == "'@SUM(1+1)"
    assert df["Year"].tolist() == ["2015", "2016"]  # not 2015.0
    assert df["Leave share (%)"].iloc[0] == "67.12"  # a percentage, 2 decimals
    assert df["Gap to the benchmark (£ per filled job)"].tolist() == ["-1234.57", "17081.1"]
    assert df["Note"].tolist() == ["-3.5%", "'\tx"]
    assert not any(len(v) > 12 for v in df.to_numpy().ravel() if re.fullmatch(r"[\d.-]+", v))


def test_xlsx_has_about_and_sources_sheets_and_no_formula() -> None:
    sheets = xlsx_sheets(table_bytes(members(), "xlsx", sheet="members", about=ABOUT))
    assert list(sheets) == ["members", "About", "Sources"]
    assert "<f>" not in "".join(sheets.values())  # no cell is a formula
    assert "'=HYPERLINK" in sheets["members"]
    about = sheets["About"]
    for want in ("Kingston upon Hull, City of", "E06000010", "2024-06-01", "2026-12-06",
                 "Open Government Licence v3.0"):
        assert want in about, want
    assert "Mid-Year Population Estimates" in sheets["Sources"]
    assert "Office for National Statistics" in sheets["Sources"]
    # A negative number is still a number, not text.
    assert re.search(r'<c r="F2"[^>]*><v>-1234.57</v>', sheets["members"])


def test_parquet_keeps_ids_and_carries_the_description() -> None:
    t = pq.read_table(io.BytesIO(table_bytes(members(), "parquet", about=ABOUT)))
    assert "as_published" in t.column_names
    assert b"Open Government Licence v3.0" in t.schema.metadata[b"keycities"]


def test_a_one_place_table_names_the_place_in_every_row() -> None:
    """Issue 15 point 8: profile.csv had neither the place name nor its code."""
    profile = pd.DataFrame({"feature": ["Population"], "value": [268852.0]})
    df = pd.read_csv(io.BytesIO(table_bytes(profile, "csv", about=ABOUT)), encoding="utf-8-sig")
    assert list(df.columns[:2]) == ["Place", "ONS code"]
    assert df.iloc[0, :2].tolist() == ["Kingston upon Hull, City of", "E06000010"]
    meta = csv_metadata(profile, ABOUT, "profile.csv")
    assert [c["titles"] for c in meta["tableSchema"]["columns"]] == list(df.columns)


def test_file_name_says_what_it_is() -> None:
    assert ABOUT.filename("profile", "csv") == (
        "keycities-kingston-upon-hull-city-of-E06000010-profile-2024-06-01.csv")


def test_csv_metadata_maps_headings_to_ids_and_names_sources() -> None:
    meta = csv_metadata(members(), ABOUT, "profile.csv")
    assert meta["dc:license"] == "Open Government Licence v3.0"
    assert meta["dc:spatial"] == "Kingston upon Hull, City of E06000010"
    assert meta["dc:source"][0]["dc:identifier"] == "ons-mye-mid2022-lad2023"
    cols = {c["name"]: c["titles"] for c in meta["tableSchema"]["columns"]}
    assert cols["joined_basis" if "joined_basis" in cols else "as_published"] \
        == "Name as the network published it"


@pytest.mark.parametrize("col", ["as_published", "joined_basis", "annual_uplift", "pre_rmspe",
                                 "top_features", "member_by", "release"])
def test_reported_raw_column_ids_have_plain_labels(col: str) -> None:
    assert col in COLUMNS and "_" not in label(col) and label(col)[0].isupper()


def test_cells_for_people() -> None:
    assert cell(2015.0, "year") == "2015" and cell(2015, "year") == "2015"
    assert cell(0.009166, "share") == "0.9%"
    assert cell(1773547020.4, "gbp") == "£1,773,547,020"
    assert cell("ons-x", "release", releases={"ons-x": "Title, ONS, published 2024-01-01"}) \
        == "Title, ONS, published 2024-01-01 (ons-x)"


def test_people_frame_turns_shares_into_percentages() -> None:
    out = frame_for_people(pd.DataFrame({"share": [0.009166], "year": [2015.0]}))
    assert list(out.columns) == ["Share (%)", "Year"]
    assert out.iloc[0, 0] == pytest.approx(0.92) and out.iloc[0, 1] == 2015


def test_certificate_headline_is_words_and_the_gap_is_detail() -> None:
    head, detail = certificate_words(3.8149999999999, 3.815, "degree LP with blossom cuts")
    assert head == "Proven optimal"
    assert "relative gap" in detail and "blossom" in detail
    head, _ = certificate_words(90.0, 100.0)
    assert head.startswith("Within 10% of the best possible")
