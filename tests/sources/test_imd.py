"""Tests for the IoD 2019 district summaries reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from keycities.sources import imd
from keycities.sources._sheets import SheetFormatError
from keycities.sources.base import sha256_file

IMD_HEADER = [
    "Local Authority District code (2019)", "Local Authority District name (2019)",
    "IMD - Average rank ", "IMD - Rank of average rank ", "IMD - Average score ",
    "IMD - Rank of average score ",
    "IMD - Proportion of LSOAs in most deprived 10% nationally ",
    "IMD - Rank of proportion of LSOAs in most deprived 10% nationally ",
    "IMD 2019 - Extent ", "IMD 2019 - Rank of extent ",
    "IMD 2019 - Local concentration ", "IMD 2019 - Rank of local concentration ",
]


def _imd_raw() -> pd.DataFrame:
    return pd.DataFrame([
        ["Title row", *[np.nan] * 11],
        IMD_HEADER,
        ["E06000009", "Blackpool", 26765.29, 1, 45.039, 1, 0.4149, 2, 0.5766, 2, 32838.16, 1],
        ["E08000032", "Bradford", 23086.82, 13, 34.666, 13, ":", 10, 0.4981, 9, 32399.09, 5],
        ["Source: MHCLG", *[np.nan] * 11],
    ])


def test_imd_sheet_measures_and_units() -> None:
    rows = imd.imd_sheet_rows(_imd_raw(), imd.IMD_COLUMNS)
    v = rows.set_index(["area_code", "measure"])["value"]
    assert v[("E06000009", "imd_average_score")] == 45.039
    assert v[("E06000009", "imd_rank_of_average_score")] == 1
    assert v[("E08000032", "imd_average_rank")] == 23086.82
    assert v[("E06000009", "imd_local_concentration")] == 32838.16
    units = dict(zip(rows["measure"], rows["unit"], strict=True))
    assert units["imd_rank_of_average_score"] == "rank (1 = most deprived)"
    assert units["imd_proportion_lsoas_most_deprived_10pct"] == "proportion"
    assert (rows["period"] == 2019).all()
    # Suppressed cell dropped, notes row dropped, unwanted rank columns not read.
    assert ("E08000032", "imd_proportion_lsoas_most_deprived_10pct") not in v.index
    assert len(rows) == 6 + 5
    assert set(rows["measure"]) <= {m.name for m in imd.MEASURES}


def test_domain_sheet_takes_average_score_only() -> None:
    raw = pd.DataFrame([
        ["Local Authority District code (2019)", "name", "Income - Average rank ",
         "Income - Average score ", "Income scale", "Rank of Income Scale"],
        ["E06000009", "Blackpool", 25000.0, 0.247, 35000, 50],
    ])
    wanted = {"average score": ("imd_income_average_score", "proportion")}
    rows = imd.imd_sheet_rows(raw, wanted)
    assert rows.to_dict("records") == [{
        "area_code": "E06000009", "measure": "imd_income_average_score", "period": 2019,
        "value": 0.247, "unit": "proportion",
    }]


def test_missing_column_raises() -> None:
    raw = _imd_raw().drop(columns=[8])
    with pytest.raises(SheetFormatError, match="extent"):
        imd.imd_sheet_rows(raw, imd.IMD_COLUMNS)


def test_no_header_raises() -> None:
    raw = pd.DataFrame([["nothing", "here"]])
    with pytest.raises(SheetFormatError, match="header"):
        imd.imd_sheet_rows(raw, imd.IMD_COLUMNS)


def test_every_domain_has_a_measure() -> None:
    names = {m.name for m in imd.MEASURES}
    for sheet in imd.DOMAINS:
        assert f"imd_{sheet.lower()}_average_score" in names


@pytest.mark.mirror
def test_official_file(mirror: Path) -> None:
    path = mirror / imd.RELEASE.mirror_path  # type: ignore[operator]
    assert sha256_file(path) == imd.RELEASE.sha256
    rows = imd.read(imd.RELEASE, path)
    assert rows["area_code"].nunique() == 317
    assert len(rows) == 317 * 15
    v = rows.set_index(["area_code", "measure"])["value"]
    assert v[("E06000009", "imd_average_score")] == pytest.approx(45.039)
    assert v[("E06000009", "imd_rank_of_average_score")] == 1
    assert v[("E08000032", "imd_average_score")] == pytest.approx(34.666)
    # April 2019 boundaries: BCP present, Bournemouth and Aylesbury Vale as they were.
    assert "E06000058" in v.index.get_level_values(0)
    assert "E06000028" not in v.index.get_level_values(0)
    assert "E07000004" in v.index.get_level_values(0)
