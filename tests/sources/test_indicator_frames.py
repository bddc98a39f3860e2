"""The shared mechanics of the indicator readers, and what the four families
read from the mirror together (hashes, districts covered)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from keycities.sources import age_structure, gva_industry, real_gdp, subnational
from keycities.sources._indicator import META_COLUMNS, VALUE_COLUMNS, IndicatorFrames, MirrorRead
from keycities.sources._indicator_frames import (
    IndicatorMeta,
    cell_values,
    check_unique,
    lad_coverage,
    meta_frame,
    read_mirror,
    values_frame,
    wide_values,
)
from keycities.sources._sheets import SheetFormatError
from keycities.sources.base import Release, sha256_file


def test_cells_give_values_markers_and_blanks() -> None:
    cells = pd.Series([12.5, "1,234", " [x] ", "na", "-", "u", "", None, "[c]"])
    got = cell_values(cells)
    assert got["value"].iloc[:2].tolist() == [12.5, 1234.0]
    assert got["value"].iloc[2:].isna().all()
    assert got["status"].tolist() == [None, None, "x", "x", "z", "u", None, None, "c"]
    assert got["blank"].tolist() == [False] * 6 + [True, True, False]


def test_unknown_cell_text_is_refused_with_a_remedy() -> None:
    with pytest.raises(SheetFormatError, match=r"'see note'.*STATUS_OF_MARKER"):
        cell_values(pd.Series([1.0, "see note"]))


def test_values_frame_has_the_contract_columns_and_types() -> None:
    frame = values_frame("x-count", ["E06000010", "E08000026"], "2022-01-01/P1Y",
                         [1, 2], status=[None, "x"])
    assert list(frame.columns) == list(VALUE_COLUMNS)
    assert frame["value"].dtype == float and frame["lower"].isna().all()
    assert frame["status"].tolist() == [None, "x"] and frame["note"].tolist() == [None, None]


def test_duplicate_area_and_period_is_refused() -> None:
    frame = values_frame("a", ["E06000010", "E06000010"], "2022-01-01/P1Y", [1, 2])
    with pytest.raises(SheetFormatError, match="Table 9: 1 area and period pairs appear twice"):
        check_unique(frame, "Table 9")


def test_wide_values_skip_notes_rows_and_blank_cells() -> None:
    raw = pd.DataFrame([["LA code", "2020", "20213"], ["E06000010", 5, ""],
                        ["Notes", "", ""], ["E08000026", "[x]", 7]])
    got = wide_values(raw.iloc[0], raw.iloc[1:], 0, "ind")
    assert got[["area_code", "period", "status"]].to_dict("records") == [
        {"area_code": "E06000010", "period": "2020-01-01/P1Y", "status": None},
        {"area_code": "E08000026", "period": "2020-01-01/P1Y", "status": "x"},
        {"area_code": "E08000026", "period": "2021-01-01/P1Y", "status": None},
    ]
    assert got["value"].fillna(-1).tolist() == [5.0, -1, 7.0]


def test_lad_coverage_counts_districts_with_figures_per_best_release() -> None:
    v = values_frame("a", ["E06000010", "E07000026", "E12000003", "N09000003"], "2022",
                     [1.0, 2.0, 3.0, math.nan]).assign(release_id="r1")
    w = values_frame("a", ["E06000010"], "2021", [1.0]).assign(release_id="r2")
    b = values_frame("b", ["E12000003"], "2022", [1.0]).assign(release_id="r1")
    assert lad_coverage(pd.concat([v, w, b])).to_dict() == {"a": 2, "b": 0}


def _release(tmp: Path, name: str, sha: str) -> Release:
    return Release(id=name, publisher="ONS", title=name, url=f"https://example.org/{name}",
                   published="2024-01-01", reference_period="2022", geography_vintage=2023,
                   sha256=sha, mirror_path=f"folder/{name}.csv")


def _reader(release: Release, path: Path) -> IndicatorFrames:
    if "bad" in release.id:
        raise SheetFormatError("no 'LA code' header")
    meta = meta_frame([IndicatorMeta("a", "A", "", "%", "Percentage", 1, "ONS", None, "", "",
                                     "")])
    return IndicatorFrames(values_frame("a", ["E06000010"], "2022", [1.0]), meta)


def test_read_mirror_reports_missing_damaged_and_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    for name in ("good", "bad", "damaged"):
        (tmp_path / "folder" / f"{name}.csv").write_text(name)
    sha = {n: sha256_file(tmp_path / "folder" / f"{n}.csv") for n in ("good", "bad")}
    releases = [_release(tmp_path, "good", sha["good"]), _release(tmp_path, "bad", sha["bad"]),
                _release(tmp_path, "damaged", "0" * 64), _release(tmp_path, "absent", "0" * 64)]
    got = read_mirror(tmp_path, releases, _reader)
    assert got.values["release_id"].tolist() == ["good"]
    assert list(got.meta.columns) == [*META_COLUMNS, "release_id"]
    reasons = dict(got.unread)
    assert set(reasons) == {str(tmp_path / "folder" / f"{n}.csv")
                            for n in ("bad", "damaged", "absent")}
    assert "no 'LA code' header" in reasons[str(tmp_path / "folder" / "bad.csv")]
    assert "another edition or damaged" in reasons[str(tmp_path / "folder" / "damaged.csv")]
    assert "not in the mirror" in reasons[str(tmp_path / "folder" / "absent.csv")]


# ------------------------------------------------------------------ mirror

ALL_RELEASES = {r.id: r for m in (real_gdp, age_structure, subnational, gva_industry)
                for r in m.RELEASES}


@pytest.mark.mirror
@pytest.mark.parametrize("rel", ALL_RELEASES.values(), ids=lambda r: r.id)
def test_mirror_file_has_release_hash(mirror: Path, rel: Release) -> None:
    assert sha256_file(mirror / str(rel.mirror_path)) == rel.sha256


@pytest.mark.mirror
def test_mirror_indicators_covering_300_districts(
        real_gdp_read: MirrorRead, age_read: MirrorRead, subnational_read: MirrorRead,
        industry_read: MirrorRead) -> None:
    reads = (real_gdp_read, age_read, subnational_read, industry_read)
    assert [r.unread for r in reads] == [[], [], [], []]
    coverage = pd.concat([lad_coverage(r.values) for r in reads])
    wide = sorted(coverage[coverage >= 300].index)
    assert wide == sorted([t.indicator for t in real_gdp.TABLES]
                          + [b.indicator for b in age_structure.BANDS]
                          + ["high-growth-enterprises-count"])
    assert len(wide) == 17
    assert coverage["reception-obesity-prevalence"] == 292  # England only, 2 areas merged
    assert coverage.filter(like="gva-industry-").eq(0).all()  # ITL regions only


@pytest.mark.mirror
def test_mirror_ids_are_unique_slugs_and_each_has_metadata(
        real_gdp_read: MirrorRead, age_read: MirrorRead, subnational_read: MirrorRead,
        industry_read: MirrorRead) -> None:
    reads = (real_gdp_read, age_read, subnational_read, industry_read)
    ids = [set(r.values["indicator"]) for r in reads]
    assert sum(map(len, ids)) == len(set().union(*ids))  # no id shared by two families
    for read in reads:
        keys = ["indicator", "release_id"]
        assert set(map(tuple, read.values[keys].drop_duplicates().to_numpy())) == set(
            map(tuple, read.meta[keys].to_numpy()))
        assert read.values["indicator"].str.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*").all()
        assert not read.meta.duplicated(keys).any()
