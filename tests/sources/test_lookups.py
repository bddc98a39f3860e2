"""Tests for the LAD lookup, change, successor and alias readers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from keycities.sources import lookups as lk
from keycities.sources._sheets import SheetFormatError
from keycities.sources.base import sha256_file


def _csv(tmp_path: Path, name: str, text: str, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def test_region_lookup_with_bom(tmp_path: Path) -> None:
    path = _csv(tmp_path, "rgn.csv",
                "FID,LAD19CD,LAD19NM,RGN19CD,RGN19NM\n"
                "1,E06000058,\"Bournemouth, Christchurch and Poole\",E12000009,South West\n",
                bom=True)
    rel = next(r for r in lk.ONS_RELEASES if r.id == "ons-lad19-rgn19-en-lu")
    rows = lk.read_ons_lookup(rel, path)
    assert list(rows.columns) == ["code", "name", "vintage_start", "vintage_end",
                                  "country_code", "country_name", "region_code",
                                  "region_name"]
    assert rows.iloc[0].to_dict() == {
        "code": "E06000058", "name": "Bournemouth, Christchurch and Poole",
        "vintage_start": 2019, "vintage_end": 2019, "country_code": "E92000001",
        "country_name": "England", "region_code": "E12000009", "region_name": "South West",
    }


def test_country_lookup_leaves_region_null() -> None:
    table = pd.DataFrame({"LAD16CD": ["S12000015"], "LAD16NM": ["Fife"],
                          "CTRY16CD": ["S92000003"], "CTRY16NM": ["Scotland"], "FID": ["1"]})
    rows = lk.ons_lookup_rows(table, 2016)
    assert rows.loc[0, "country_code"] == "S92000003"
    assert rows.loc[0, "vintage_end"] == 2016
    assert rows[["region_code", "region_name"]].isna().all().all()


def test_lookup_year_must_match_vintage() -> None:
    table = pd.DataFrame({"LAD18CD": ["E06000001"], "LAD18NM": ["Hartlepool"],
                          "RGN18CD": ["E12000001"], "RGN18NM": ["North East"]})
    with pytest.raises(SheetFormatError, match="not for 2019"):
        lk.ons_lookup_rows(table, 2019)


def test_region_lookup_rejects_non_english() -> None:
    table = pd.DataFrame({"LAD20CD": ["W06000015"], "LAD20NM": ["Cardiff"],
                          "RGN20CD": ["W92000004"], "RGN20NM": ["Wales"]})
    with pytest.raises(SheetFormatError, match="non-English"):
        lk.ons_lookup_rows(table, 2020)


CHANGES = (
    "oldcd,oldnm,newcd,newnm,type,start\n"
    "E06000057,Northumberland,E47000011,North of Tyne,new_geo,2018\n"
    "S12000015,Fife,S12000047,Fife,new_code,2018\n"
    "E06000028,Bournemouth,E06000058,\"Bournemouth, Christchurch and Poole\",merger,2019\n"
    "E10000009,Dorset,,,termination,2019\n"
    "S12000046,Glasgow City,S12000049,Glasgow City,new_geo,2019\n"
    "E47000010,North East,E47000014,North East,merger,2024\n"
)


def test_change_rows_keep_districts_only(tmp_path: Path) -> None:
    rows = lk.read_changes(lk.CHANGES_RELEASE, _csv(tmp_path, "c.csv", CHANGES, bom=True))
    assert list(rows.columns) == ["old_code", "old_name", "new_code", "new_name", "type",
                                  "year"]
    assert rows["old_code"].tolist() == ["S12000015", "E06000028", "S12000046"]
    by = rows.set_index("old_code")
    assert by.loc["E06000028", "type"] == "merger"
    assert by.loc["E06000028", "year"] == 2019
    assert by.loc["S12000046", "type"] == "new_code"  # district-to-district new_geo


def test_unknown_change_type_raises() -> None:
    table = pd.DataFrame({"oldcd": ["E07000001"], "oldnm": ["a"], "newcd": ["E06000099"],
                          "newnm": ["b"], "type": ["absorbed"], "start": ["2030"]})
    with pytest.raises(SheetFormatError, match="absorbed"):
        lk.change_rows(table)


def test_successor_area_rows() -> None:
    table = pd.DataFrame({
        "LADCD": ["E06000028", "S12000046"], "LADNM": ["Bournemouth", "Glasgow City"],
        "LADCD_ACTIVE": ["E06000058", "S12000049"], "CTRYCD": ["E92000001", "S92000003"],
        "CTRYNM": ["England", "Scotland"], "RGNCD": ["E12000009", ""],
        "RGNNM": ["South West", ""],
    })
    rows = lk.successor_area_rows(table).set_index("code")
    assert rows.loc["E06000028", "region_name"] == "South West"
    assert pd.isna(rows.loc["S12000046", "region_code"])
    assert rows[["vintage_start", "vintage_end"]].isna().all().all()


def test_alias_rows_split_and_dedupe() -> None:
    table = pd.DataFrame({
        "gss-code": ["E06000023", "E10000002", "N09000010"],
        "official-name": ["Bristol City Council", "Buckinghamshire County Council",
                          "Newry, Mourne and Down District Council"],
        "nice-name": ["Bristol", "Buckinghamshire", "Newry, Mourne and Down"],
        "alt-names": ["City of Bristol,Bristol, City of,bristol,BRISTOL CITY COUNCIL", "",
                      "Newry, Mourne and Down ,newry, mourne and down"],
    })
    rows = lk.alias_rows(table)
    bristol = rows[rows["code"] == "E06000023"]["alias"].tolist()
    assert bristol == ["Bristol City Council", "Bristol", "City of Bristol",
                       "Bristol, City of"]
    assert "E10000002" not in set(rows["code"])  # a county, not a district
    assert rows[rows["code"] == "N09000010"]["alias"].tolist() == [
        "Newry, Mourne and Down District Council", "Newry, Mourne and Down"]


def test_alias_missing_column_raises() -> None:
    with pytest.raises(SheetFormatError, match="alt-names"):
        lk.alias_rows(pd.DataFrame({"gss-code": [], "official-name": [], "nice-name": []}))


# ------------------------------------------------------------------ mirror


@pytest.mark.mirror
def test_official_lookups(mirror: Path) -> None:
    counts = {"ons-lad16-rgn16-en-lu": 326, "ons-lad18-rgn18-en-lu": 326,
              "ons-lad19-rgn19-en-lu": 317, "ons-lad20-rgn20-en-lu": 314,
              "ons-lad23-rgn23-en-lu": 296, "ons-lad16-ctry16-uk-lu": 391,
              "ons-lad18-ctry18-uk-lu": 391, "ons-lad19-ctry19-uk-lu": 382}
    for rel in lk.ONS_RELEASES:
        path = mirror / rel.mirror_path  # type: ignore[operator]
        assert sha256_file(path) == rel.sha256, rel.id
        rows = lk.read_ons_lookup(rel, path)
        assert len(rows) == counts[rel.id], rel.id
        assert rows["code"].is_unique
        assert not rows["code"].str.startswith("\ufeff").any()


def _ons_codes_since_2016(mirror: Path) -> set[str]:
    return {code for rel in lk.ONS_RELEASES
            for code in lk.read_ons_lookup(rel, mirror / rel.mirror_path)["code"]}  # type: ignore[operator]


@pytest.mark.mirror
def test_change_list_agrees_with_drkane_successors(mirror: Path) -> None:
    for rel in (lk.CHANGES_RELEASE, lk.SUCCESSORS_RELEASE):
        assert sha256_file(mirror / rel.mirror_path) == rel.sha256  # type: ignore[operator]
    changes = lk.read_changes(lk.CHANGES_RELEASE,
                              mirror / lk.CHANGES_RELEASE.mirror_path)  # type: ignore[operator]
    assert len(changes) == 48
    assert changes["old_code"].is_unique  # no splits: each old code has one successor
    step = dict(zip(changes["old_code"], changes["new_code"], strict=True))
    drkane = pd.read_csv(mirror / lk.SUCCESSORS_RELEASE.mirror_path,  # type: ignore[operator]
                         dtype=str, keep_default_na=False)
    since_2016 = _ons_codes_since_2016(mirror)
    retired = drkane[(drkane["Current"] == "FALSE") & drkane["LADCD"].isin(since_2016)]
    assert len(retired) >= 40
    for old, expected in zip(retired["LADCD"], retired["LADCD_ACTIVE"], strict=True):
        code, hops = old, 0
        while code in step and hops < 5:
            code, hops = step[code], hops + 1
        assert code == expected, f"{old}: change list gives {code}, drkane {expected}"
    current = set(drkane.loc[drkane["Current"] == "TRUE", "LADCD"])
    assert not current & set(step)


@pytest.mark.mirror
def test_official_successors_and_aliases(mirror: Path) -> None:
    rows = lk.read_successors(lk.SUCCESSORS_RELEASE,
                              mirror / lk.SUCCESSORS_RELEASE.mirror_path)  # type: ignore[operator]
    assert len(rows) == 415
    by = rows.set_index("code")
    assert by.loc["E06000028", "region_name"] == "South West"
    assert by.loc["N09000001", "country_name"] == "Northern Ireland"
    path = mirror / lk.ALIASES_RELEASE.mirror_path  # type: ignore[operator]
    assert sha256_file(path) == lk.ALIASES_RELEASE.sha256
    aliases = lk.read_aliases(lk.ALIASES_RELEASE, path)
    assert aliases["code"].str[:3].isin(lk.LAD_PREFIXES).all()
    pairs = set(zip(aliases["alias"], aliases["code"], strict=True))
    assert ("Bradford", "E08000032") in pairs
    assert ("City of Bradford Metropolitan District Council", "E08000032") in pairs
    assert ("Bristol, City of", "E06000023") in pairs
    assert ("Kingston upon Hull, City of", "E06000010") in pairs
    assert not aliases.assign(k=aliases["alias"].str.casefold()).duplicated(["k", "code"]).any()
