"""ONS regional GDP / balanced GVA readers (local authorities and ITL regions)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from keycities.sources import gva
from keycities.sources._sheets import SheetFormatError
from keycities.sources.base import READER_COLUMNS, Release, sha256_file

NaN = math.nan
CSV_GVA, CSV_POP = "ons-gva-itl-2024-04-table1-csv", "ons-gva-itl-2024-04-table6-csv"


def release(release_id: str) -> Release:
    (hit,) = [r for s in gva.SOURCES for r in s.releases if r.id == release_id]
    return hit


def la_sheet(title: str) -> pd.DataFrame:
    """A Dec-2019-style LA table: footnoted last year header, notes below."""
    return pd.DataFrame([
        [title, NaN, NaN, NaN, NaN, "£ million"],
        ["NUTS1 Region", "LA code", "LA name", 2016.0, 2017.0, "20183"],
        ["Yorkshire and The Humber", "E08000032", "Bradford", 9100.0, 9300.0, 9482],
        ["Yorkshire and The Humber", "E08000033", "Calderdale", 4000.0, "[c]", 4200],
        [NaN] * 6,
        ["Notes", NaN, NaN, NaN, NaN, NaN],
        ["3 Provisional.", NaN, NaN, NaN, NaN, NaN],
    ])


def itl_sheet(title: str, codes: list[str]) -> pd.DataFrame:
    rows = [[title, NaN, NaN, NaN, NaN], ["ITL", "ITL code", "Region name", 2020.0, 2021.0]]
    rows += [["ITL1", code, f"name of {code}", 10.0 + i, 20.0 + i] for i, code in
             enumerate(codes)]
    rows += [[NaN] * 5, ["Source: Office for National Statistics", NaN, NaN, NaN, NaN]]
    return pd.DataFrame(rows)


GVA_TITLE = "Table 1: Gross Value Added (Balanced) at current basic prices, pounds million"
POP_TITLE = "Table 6: Total resident population numbers, persons [note 4]"


def test_la_table_footnoted_year_and_suppression() -> None:
    rows = gva.parse_la_table(la_sheet("Table 1: Local Authority: Gross Value Added "
                                       "(Balanced)1,2 at current basic prices"), gva.GVA_TABLE)
    assert list(rows.columns) == list(READER_COLUMNS["fact"])
    got = rows.set_index(["area_code", "period"])["value"].to_dict()
    assert got == {("E08000032", 2016): 9100.0, ("E08000032", 2017): 9300.0,
                   ("E08000032", 2018): 9482.0, ("E08000033", 2016): 4000.0,
                   ("E08000033", 2018): 4200.0}
    assert set(rows["measure"]) == {"gva_current_prices"}
    assert set(rows["unit"]) == {"£ million"}


def test_la_table_with_wrong_title_is_refused() -> None:
    raw = la_sheet("Table 10: Local Authority: Gross Domestic Product (GDP) chained volume")
    with pytest.raises(SheetFormatError, match="current market prices"):
        gva.parse_la_table(raw, gva.GDP_TABLE)


def test_itl_codes_are_normalised_to_gss() -> None:
    codes = ["UK", "UKX", "TLB", "TLC", "TLD", "TLE", "TLF", "TLG", "TLH", "TLI", "TLJ",
             "TLK", "TLL", "TLM", "TLN", "TLZ", "TLC1", "TLC11", "TLN0A"]
    rows = gva.parse_itl_table(itl_sheet(GVA_TITLE, codes), gva.GVA_TABLE)
    expected = ["K02000001", "UKX", "E92000001", "E12000001", "E12000002", "E12000003",
                "E12000004", "E12000005", "E12000006", "E12000007", "E12000008", "E12000009",
                "W92000004", "S92000003", "N92000002", "TLZ", "TLC1", "TLC11", "TLN0A"]
    assert rows[rows["period"] == 2021]["area_code"].tolist() == expected
    by_code = rows.set_index(["area_code", "period"])["value"]
    assert by_code[("E12000003", 2021)] == 25.0  # TLE is Yorkshire and The Humber


def test_itl_population_drops_extra_regio_only() -> None:
    rows = gva.parse_itl_table(itl_sheet(POP_TITLE, ["UK", "TLZ", "UKX"]),
                               gva.POPULATION_TABLE)
    assert sorted(set(rows["area_code"])) == ["K02000001", "UKX"]
    gva_rows = gva.parse_itl_table(itl_sheet(GVA_TITLE, ["UK", "TLZ"]), gva.GVA_TABLE)
    assert "TLZ" in set(gva_rows["area_code"])


def test_csv_export_with_separators_and_unreliable_cells(tmp_path: Path) -> None:
    path = tmp_path / "table6.csv"
    path.write_text(
        "ITL,ITL code,Region name,2021,2022\n"
        'UK,UK,United Kingdom,"67,044,988","67,596,279"\n'
        'ITL2,TLM6,Highlands and Islands,"468,396",[u]\n'
        "Other,TLZ,Extra-Regio,0,0\n",
        encoding="utf-8",
    )
    rows = gva.read_gva_itl(release(CSV_POP), path)
    got = rows.set_index(["area_code", "period"])["value"].to_dict()
    assert got == {("K02000001", 2021): 67044988.0, ("K02000001", 2022): 67596279.0,
                   ("TLM6", 2021): 468396.0}
    assert set(rows["measure"]) == {"population_regional_accounts"}


def test_releases_are_declared_as_briefed() -> None:
    (la, itl) = gva.SOURCES
    assert (la.name, itl.name) == ("gva_la", "gva_itl")
    assert [r.id for r in la.releases] == ["ons-gva-la-2019-12", "ons-gva-la-2022-05",
                                           "ons-gva-la-2023-04"]
    assert [r.geography_vintage for r in la.releases] == [2019, 2021, 2021]
    assert {r.geography_vintage for r in itl.releases} == {2021}
    for rid in (CSV_GVA, CSV_POP):
        r = release(rid)
        assert "mirror-only copy; the official download is an xlsx with a different hash" \
            in r.notes
        assert r.url.endswith(".xlsx") and "1998to2022" in r.url
        assert str(r.mirror_path).endswith(".csv")
    declared = {m.name: (m.unit, m.kind) for m in gva.MEASURES}
    assert declared == {"gva_current_prices": ("£ million", "count"),
                        "gdp_current_prices": ("£ million", "count"),
                        "population_regional_accounts": ("persons", "count")}


# ------------------------------------------------------------------ mirror


def read(mirror: Path, release_id: str) -> pd.DataFrame:
    r = release(release_id)
    source = next(s for s in gva.SOURCES if r in s.releases)
    return source.read(r, mirror / str(r.mirror_path))


def value(rows: pd.DataFrame, code: str, measure: str, period: int) -> float:
    hit = rows[(rows["area_code"] == code) & (rows["measure"] == measure)
               & (rows["period"] == period)]["value"]
    assert len(hit) == 1, (code, measure, period)
    return float(hit.iloc[0])


ALL = [r for s in gva.SOURCES for r in s.releases]


@pytest.mark.mirror
@pytest.mark.parametrize("rel", ALL, ids=lambda r: r.id)
def test_mirror_file_has_release_hash(mirror: Path, rel: Release) -> None:
    assert sha256_file(mirror / str(rel.mirror_path)) == rel.sha256


@pytest.mark.mirror
@pytest.mark.parametrize(
    ("release_id", "areas", "years"),
    [("ons-gva-la-2019-12", 382, 21), ("ons-gva-la-2022-05", 374, 23),
     ("ons-gva-la-2023-04", 374, 24)],
)
def test_mirror_la_row_counts(mirror: Path, release_id: str, areas: int, years: int) -> None:
    rows = read(mirror, release_id)
    assert rows["area_code"].nunique() == areas
    assert len(rows) == 2 * areas * years
    assert set(rows["measure"]) == {"gva_current_prices", "gdp_current_prices"}


@pytest.mark.mirror
def test_mirror_la_official_values(mirror: Path) -> None:
    assert value(read(mirror, "ons-gva-la-2019-12"), "E08000032", "gva_current_prices",
                 2018) == 9482
    assert value(read(mirror, "ons-gva-la-2022-05"), "E08000032", "gva_current_prices",
                 2019) == 9983
    apr23 = read(mirror, "ons-gva-la-2023-04")
    assert value(apr23, "E08000032", "gva_current_prices", 2021) == 10300
    total = apr23[(apr23["measure"] == "gva_current_prices") & (apr23["period"] == 2021)]
    assert abs(total["value"].sum() - 2_025_600) <= 10


@pytest.mark.mirror
def test_mirror_itl_official_values(mirror: Path) -> None:
    rows = read(mirror, "ons-gva-itl-2023-04")
    assert len(rows) == 3 * 236 * 24 - 24  # Extra-Regio population dropped
    assert value(rows, "K02000001", "gva_current_prices", 2019) == 2_000_157
    assert value(rows, "K02000001", "gva_current_prices", 2021) == 2_040_499
    assert value(rows, "UKX", "gva_current_prices", 2021) == 2_025_600
    assert value(rows, "E92000001", "gdp_current_prices", 2021) > 0
    assert value(rows, "E12000003", "population_regional_accounts", 2021) > 5_000_000
    assert not {"UK", "TLB", "TLC", "TLN"} & set(rows["area_code"])


@pytest.mark.mirror
def test_mirror_2024_csv_exports(mirror: Path) -> None:
    gva_rows = read(mirror, CSV_GVA)
    assert len(gva_rows) == 236 * 25
    assert value(gva_rows, "K02000001", "gva_current_prices", 2022) == 2_246_047
    pop = read(mirror, CSV_POP)
    assert len(pop) == 236 * 25 - 25 - 8  # Extra-Regio and eight '[u]' cells
    assert value(pop, "K02000001", "population_regional_accounts", 2022) == 67_596_279
    assert pop[(pop["area_code"] == "TLM6") & (pop["period"] == 2022)].empty
