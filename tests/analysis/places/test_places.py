"""Postcode districts and sectors as places, and a user's own places from CSV.

Unit tests use tiny postcode and OAC frames; the integration tests at the end
read the real installed packages (no mirror needed).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from keycities.analysis.places.postcodes import PlaceFileError, PlaceSet, postcode_places
from keycities.errors import KeycitiesError
from keycities.sources import postcodes as pcs
from keycities.sources.postcode_places import OAC_COLUMNS, PLACE_COLUMNS

NAN = float("nan")

#: (pcd7, LAD, easting, northing)
POSTCODES = [
    ("B1  1AA", "E08000025", 406000.0, 286000.0),
    ("B1  1AB", "E08000025", 406200.0, 286400.0),
    ("B1  2AA", "E08000025", 406400.0, NAN),       # no grid reference
    ("B1  2AB", "E08000030", 406600.0, 286600.0),
    ("B10 0AA", "E08000025", 410000.0, 285000.0),  # "B10" must not fold into "B1"
    ("SW1A1AA", "E09000033", 529090.0, 179645.0),  # four-character outward code
    ("SW1A2AA", "E09000033", 530000.0, 180000.0),
    ("BT1 1AA", "N09000003", 333633.0, 373653.0),  # Irish Grid
    ("BT1 1AB", "N09000003", 333833.0, 373853.0),
    ("XX1 1AA", None, NAN, NAN),                   # no LAD: left out
    ("GY1 1AA", "L99999999", NAN, NAN),            # Channel Islands: left out
]

OAC = [("B1  1AA", "1A1"), ("B1  1AB", "2B1"), ("B1  2AB", "1A2"), ("B10 0AA", "1A1"),
       ("SW1A1AA", "2B1"), ("SW1A2AA", "2B1"), ("GY1 1AA", "1A1"), ("ZZ9 9ZZ", "8A1")]

NAMES = pd.DataFrame(
    [("group", "1A", "Farming communities"), ("group", "2B", "Students"),
     ("group", "8A", "Industrious"), ("supergroup", "1", "Rural residents"),
     ("supergroup", "2", "Cosmopolitans"), ("supergroup", "8", "Hard-pressed living")],
    columns=["level", "oac_code", "oac_name"])


def postcodes(rows: list[tuple[str, str | None, float, float]] = POSTCODES) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["pcd", "lad", "easting", "northing"])


def oac(rows: list[tuple[str, str]] = OAC) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["pcd", "oac"])


def build(level: Any, rows: list[tuple[str, str | None, float, float]] = POSTCODES) -> PlaceSet:
    return postcode_places(level, postcodes=postcodes(rows), oac=oac(), names=NAMES)


@pytest.fixture
def districts() -> PlaceSet:
    return build("district")


@pytest.fixture
def sectors() -> PlaceSet:
    return build("sector")


# --------------------------------------------------------------------------- places


def test_districts_and_sectors_split_pcd7_postcodes(districts: PlaceSet,
                                                    sectors: PlaceSet) -> None:
    assert districts.places["code"].tolist() == ["B1", "B10", "BT1", "SW1A"]
    assert sectors.places["code"].tolist() == ["B1 1", "B1 2", "B10 0", "BT1 1",
                                               "SW1A 1", "SW1A 2"]
    assert (sectors.places["name"] == sectors.places["code"]).all()
    assert list(districts.places.columns) == PLACE_COLUMNS
    assert list(districts.oac.columns) == OAC_COLUMNS


def test_counts_include_every_postcode_and_leave_out_no_lad_and_pseudo_areas(
        districts: PlaceSet, sectors: PlaceSet) -> None:
    got = dict(zip(districts.places["code"], districts.places["postcodes"], strict=True))
    assert got == {"B1": 4, "B10": 1, "BT1": 2, "SW1A": 2}
    by_sector = dict(zip(sectors.places["code"], sectors.places["postcodes"], strict=True))
    assert by_sector["B1 1"] == 2 and by_sector["B1 2"] == 2
    assert any("1 postcodes with no LAD" in n and "1 in the Channel Islands" in n
               for n in districts.notes)
    assert any("terminated postcodes" in n for n in districts.notes)


def test_centroid_is_the_mean_of_the_grid_references_it_has(districts: PlaceSet) -> None:
    b1 = districts.places.set_index("code").loc["B1"]
    assert b1["postcodes_with_grid"] == 3
    assert b1["easting"] == pytest.approx((406000 + 406200 + 406600) / 3)
    assert b1["northing"] == pytest.approx((286000 + 286400 + 286600) / 3)
    assert b1["grid"] == pcs.BRITISH_GRID
    assert (b1["lon"], b1["lat"]) == pytest.approx((-1.91, 52.48), abs=0.02)


def test_northern_ireland_centroid_is_converted_from_the_irish_grid(
        districts: PlaceSet) -> None:
    bt1 = districts.places.set_index("code").loc["BT1"]
    assert bt1["grid"] == pcs.IRISH_GRID
    assert bt1["easting"] == pytest.approx(333733.0)
    # Belfast; read as British National Grid it would land near Liverpool.
    assert (bt1["lon"], bt1["lat"]) == pytest.approx((-5.93, 54.60), abs=0.02)


def test_a_place_on_both_grids_has_no_centroid() -> None:
    rows = [("AB1 1AA", "N09000003", 333633.0, 373653.0),
            ("AB1 1AB", "S12000033", 385000.0, 801000.0)]
    place = build("district", rows)
    row = place.places.iloc[0]
    assert row["grid"] == "mixed" and np.isnan(row["easting"]) and np.isnan(row["lat"])
    assert any("both grids" in n for n in place.notes)


def test_main_lad_is_the_one_with_most_postcodes(districts: PlaceSet,
                                                 sectors: PlaceSet) -> None:
    b1 = districts.places.set_index("code").loc["B1"]
    assert (b1["main_lad"], b1["main_lad_share"], b1["lads"]) == ("E08000025", 0.75, 2)
    # A 1-1 tie goes to the smaller code.
    b12 = sectors.places.set_index("code").loc["B1 2"]
    assert (b12["main_lad"], b12["main_lad_share"], b12["lads"]) == ("E08000025", 0.5, 2)


def test_oac_shares_are_among_unit_matched_postcodes(districts: PlaceSet) -> None:
    shares = districts.oac.set_index(["code", "level", "oac_code"])["share"]
    # B1: 3 of 4 postcodes matched: 1A1, 2B1, 1A2.
    assert shares[("B1", "supergroup", "1")] == pytest.approx(2 / 3)
    assert shares[("B1", "supergroup", "2")] == pytest.approx(1 / 3)
    assert shares[("B1", "group", "1A")] == pytest.approx(2 / 3)
    places = districts.places.set_index("code")
    assert places.loc["B1", "oac_matched"] == 3
    assert places.loc["B1", "oac_coverage"] == pytest.approx(0.75)
    sums = districts.oac.groupby(["code", "level"])["share"].sum()
    assert np.allclose(sums, 1.0)
    assert set(districts.oac["release_id"]) == {pcs.OAC_RELEASE.id}


def test_place_without_oac_matches_has_missing_not_zero_features(districts: PlaceSet) -> None:
    feats = districts.features()
    assert list(feats.columns) == ["oac_1", "oac_2", "log_postcodes"]
    assert feats.loc["BT1", ["oac_1", "oac_2"]].isna().all()
    assert feats.loc["SW1A", "oac_1"] == 0.0 and feats.loc["SW1A", "oac_2"] == 1.0
    assert feats.loc["B1", "log_postcodes"] == pytest.approx(np.log(4))
    assert any("no postcode in the OAC lookup" in n for n in districts.notes)


def test_features_by_group_and_minimum_matches(districts: PlaceSet) -> None:
    feats = districts.features(oac_levels=("group",), log_postcodes=False, min_matched=2)
    assert list(feats.columns) == ["oac_1A", "oac_2B"]
    assert feats.loc["B10"].isna().all()  # one match only
    assert feats.loc["B1", "oac_1A"] == pytest.approx(2 / 3)
    with pytest.raises(KeycitiesError, match="Unknown OAC level.*'supergroup'"):
        districts.features(oac_levels=("subgroup",))


def test_sector_counts_add_up_to_their_district(districts: PlaceSet, sectors: PlaceSet) -> None:
    per_district = sectors.places.groupby(sectors.places["code"].str.split().str[0])[
        "postcodes"].sum()
    assert per_district.to_dict() == dict(zip(districts.places["code"],
                                              districts.places["postcodes"], strict=True))


def test_payload_is_plain_json_naming_the_releases(districts: PlaceSet) -> None:
    payload = districts.payload()
    text = json.dumps(payload, allow_nan=False)
    assert payload["releases"] == [pcs.ONSPD_RELEASE.id, pcs.OAC_RELEASE.id]
    assert payload["totals"] == {"places": 4, "postcodes": 9}
    assert '"lat": null' not in text  # every toy place has a centroid
    assert len(districts.to_frame()) == 4


def test_bad_inputs_say_what_to_do() -> None:
    with pytest.raises(KeycitiesError, match="Unknown place level 'ward'"):
        build("ward")
    with pytest.raises(KeycitiesError, match=r"pcd7 layout.*\['B1 1AA'\]"):
        build("district", [("B1 1AA", "E08000025", 1.0, 2.0)])
    with pytest.raises(KeycitiesError, match=r"lacks column\(s\) \['lad'\]"):
        postcode_places("district", postcodes=postcodes().drop(columns="lad"), oac=oac(),
                        names=NAMES)
    with pytest.raises(KeycitiesError, match="more than once"):
        postcode_places("district", postcodes=postcodes(), oac=oac(OAC + [OAC[0]]),
                        names=NAMES)


# --------------------------------------------------------------------------- CSV


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mine.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_places_and_features_load(tmp_path: Path) -> None:
    path = write(tmp_path, "Name,Code,Lon,Lat,score,density\n"
                           "Sunderland,SUN,-1.38,54.91,1.5,\n"
                           "Camden,CAM,-0.15,51.55,-2,3e3\n")
    places = PlaceSet.from_csv(path)
    assert places.level == "csv" and places.releases == ()
    assert places.places.to_dict("records")[0] == {"code": "SUN", "name": "Sunderland",
                                                   "level": "csv", "lat": 54.91, "lon": -1.38}
    feats = places.features()
    assert list(feats.columns) == ["score", "density"]
    assert feats.loc["CAM", "density"] == 3000.0
    assert np.isnan(feats.loc["SUN", "density"])  # empty cell: missing, not zero
    assert any("1 feature value(s) are missing" in n for n in places.notes)
    json.dumps(places.payload())


def test_csv_every_bad_row_is_reported_and_nothing_loaded(tmp_path: Path) -> None:
    path = write(tmp_path, "code,name,lat,lon,score\n"
                           "A,Aville,54.9,-1.4,1\n"
                           "A,Again,54.9,-1.4,2\n"
                           ",Nocode,91,-1.4,x\n"
                           "C,,54.9,east,nan\n"
                           "D,Dtown,54.9,-1.4\n")
    with pytest.raises(PlaceFileError) as info:
        PlaceSet.from_csv(path)
    problems = info.value.problems
    assert "line 3: code 'A' already given on line 2" in problems
    assert "line 4: 'code' is empty" in problems
    assert any(p.startswith("line 4: lat '91'") for p in problems)
    assert any(p.startswith("line 4: score 'x' is not a number") for p in problems)
    assert "line 5: 'name' is empty" in problems
    assert any(p.startswith("line 5: lon 'east'") for p in problems)
    assert "line 5: score 'nan' is not a number: leave the cell empty for a missing value" \
        in problems
    assert "line 6: 4 cells, the header has 5" in problems
    assert "nothing was loaded" in str(info.value)


@pytest.mark.parametrize(("text", "message"), [
    ("code,name,lat,score\nA,B,1,2\n", r"line 1: header lacks lon"),
    ("code,name,lat,lon\nA,B,1,2\n", r"line 1: no feature columns"),
    ("code,name,lat,lon,x,X\nA,B,1,2,3,4\n", r"line 1: column\(s\) x appear more than once"),
    ("code,name,lat,lon,x\n", r"lists no places"),
])
def test_csv_header_problems(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PlaceFileError, match=message):
        PlaceSet.from_csv(write(tmp_path, text))


def test_csv_problem_names_the_line_a_multiline_row_starts_on(tmp_path: Path) -> None:
    # Row 2 spans lines 2-4 (a quoted name with two line breaks), so row 3 starts on line 5.
    path = write(tmp_path, 'code,name,lat,lon,score\n'
                           'A,"Three\nline\nname",91,-1.4,1_000\n'
                           'B,Bville,54.9,-1.4,x\n'
                           'C,"Two\nlines",54.9,-1.4\n')
    with pytest.raises(PlaceFileError) as info:
        PlaceSet.from_csv(path)
    heads = [p.split(":", 1)[0] for p in info.value.problems]
    assert heads == ["line 2", "line 2", "line 5", "line 6"], info.value.problems
    assert info.value.problems[3] == "line 6: 4 cells, the header has 5"


@pytest.mark.parametrize(("cell", "why"), [
    ("1_000", "'_' is not allowed"),
    ("-1_0.5", "'_' is not allowed"),
    ("nan", "leave the cell empty"),
    ("NaN", "leave the cell empty"),
    ("-inf", "leave the cell empty"),
    ("Infinity", "leave the cell empty"),
    ("n/a", "leave the cell empty"),
    ("1e400", "too large"),
    ("-1E309", "too large"),
    ("\u0661\u0662", "digits as 0-9"),          # Arabic-Indic digits, float() reads 12
    ("\uff11\uff12", "digits as 0-9"),          # full-width digits
    ("#DIV/0!", "spreadsheet's error value"),
    ("1,5", "no thousands separator"),
    ("1 000", "no thousands separator"),
    ("0x10", "digits 0-9"),
])
def test_csv_number_float_would_misread_is_named_with_line_column_value(
        tmp_path: Path, cell: str, why: str) -> None:
    path = write(tmp_path, f'code,name,lat,lon,score\nA,"Two\nlines",1,2,3\nB,Bee,1,2,"{cell}"\n')
    with pytest.raises(PlaceFileError) as info:
        PlaceSet.from_csv(path)
    assert len(info.value.problems) == 1, info.value.problems
    problem = info.value.problems[0]
    assert problem.startswith(f"line 4: score {cell!r} ") and why in problem, problem


@pytest.mark.parametrize("col", ["lat", "lon"])
@pytest.mark.parametrize("cell", ["5_0", "nan", "inf", "1e400", "\u0665"])
def test_csv_coordinate_float_would_misread_is_named(tmp_path: Path, col: str,
                                                     cell: str) -> None:
    cells = {"lat": "1", "lon": "2", col: cell}
    path = write(tmp_path, f"code,name,lat,lon,score\nA,Ay,{cells['lat']},{cells['lon']},3\n")
    with pytest.raises(PlaceFileError) as info:
        PlaceSet.from_csv(path)
    [problem] = info.value.problems
    assert problem.startswith(f"line 2: {col} {cell!r} is ") and "between" in problem, problem


def test_csv_numbers_as_spreadsheets_write_them_load(tmp_path: Path) -> None:
    path = write(tmp_path, "code,name,lat,lon,a,b,c,d,e\n"
                           "A,Ay, 54.5 ,-.5,1e5,1E+06,+.5,5.,-0\n"
                           "B,Bee,-90,180,2.5E-3,007,,1e-400,1234567890123\n")
    feats = PlaceSet.from_csv(path).features()
    assert feats.loc["A"].tolist() == [1e5, 1e6, 0.5, 5.0, 0.0]
    assert feats.loc["B"].tolist()[:2] == [0.0025, 7.0]
    assert np.isnan(feats.loc["B", "c"]) and feats.loc["B", "e"] == 1234567890123.0


def test_csv_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeycitiesError, match="does not exist"):
        PlaceSet.from_csv(tmp_path / "absent.csv")


# --------------------------------------------------------------------------- real packages


@pytest.fixture(scope="module")
def timed() -> tuple[dict[str, PlaceSet], float]:
    post, classes, names = pcs.load_postcodes(), pcs.load_oac(), pcs.load_oac_names()
    start = time.perf_counter()
    out = {level: postcode_places(level, postcodes=post, oac=classes, names=names)
           for level in ("district", "sector")}
    return out, time.perf_counter() - start


@pytest.fixture(scope="module")
def real(timed: tuple[dict[str, PlaceSet], float]) -> dict[str, PlaceSet]:
    return timed[0]


def test_real_counts(real: dict[str, PlaceSet]) -> None:
    districts, sectors = real["district"].places, real["sector"].places
    # Terminated postcodes are included, so more than the ~2,900 / ~11,000 live ones.
    assert len(districts) == 3_078
    assert len(sectors) == 12_272
    kept = 2_720_556 - pcs.POSTCODES_WITHOUT_LAD - pcs.POSTCODES_IN_PSEUDO_AREAS
    assert districts["postcodes"].sum() == sectors["postcodes"].sum() == kept
    assert districts["code"].is_unique and sectors["code"].is_unique
    assert not districts["code"].str.match(r"^(GY|JE|IM)\d").any()


def test_real_sunderland_and_belfast(real: dict[str, PlaceSet]) -> None:
    districts = real["district"].places.set_index("code")
    sr1 = districts.loc["SR1"]
    assert sr1["main_lad"] == "E08000024" and sr1["main_lad_share"] == 1.0
    assert (sr1["lon"], sr1["lat"]) == pytest.approx((-1.38, 54.91), abs=0.02)
    assert districts.loc["BT1", "main_lad"] == "N09000003"
    assert (districts.loc["BT1", "lon"], districts.loc["BT1", "lat"]) == pytest.approx(
        (-5.93, 54.60), abs=0.02)
    sectors = real["sector"].places.set_index("code")
    assert sectors.loc["SR1 1", "main_lad"] == "E08000024"


def test_real_shares_and_grids(real: dict[str, PlaceSet]) -> None:
    for level in ("district", "sector"):
        ps = real[level]
        sums = ps.oac.groupby(["code", "level"])["share"].sum()
        assert np.allclose(sums, 1.0)
        assert not (ps.places["grid"] == "mixed").any()
        feats = ps.features()
        assert [c for c in feats.columns if c.startswith("oac_")] == [
            f"oac_{i}" for i in range(1, 9)]
        unmatched = ps.places["oac_matched"] == 0
        assert feats.loc[unmatched.to_numpy(), "oac_1"].isna().all()


def test_real_build_is_fast(timed: tuple[dict[str, PlaceSet], float]) -> None:
    # Both levels after loading: about 1.5 s here; a generous bound against regressions.
    assert timed[1] < 15
