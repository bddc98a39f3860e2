"""Tests for the EU referendum reader."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest

from keycities.sources import referendum as ref
from keycities.sources._sheets import SheetFormatError
from keycities.sources.base import sha256_file

HEADER = (
    "id,Region_Code,Region,Area_Code,Area,Electorate,ExpectedBallots,VerifiedBallotPapers,"
    "Pct_Turnout,Votes_Cast,Valid_Votes,Remain,Leave,Rejected_Ballots,No_official_mark,"
    "Voting_for_both_answers,Writing_or_mark,Unmarked_or_void,Pct_Remain,Pct_Leave,Pct_Rejected"
)
ROWS = [
    "57,E12000001,North East,E08000024,Sunderland,207221,134404,134400,64.86,134400,134324,"
    "51930,82394,76,0,13,2,61,38.66,61.34,0.06",
    "382,E12000009,South West,GI,Gibraltar,24119,20172,20172,83.64,20172,20145,19322,823,"
    "27,0,8,0,19,95.91,4.09,0.13",
    "381,N92000002,Northern Ireland,N92000002,Northern Ireland,1260955,790647,790523,62.69,"
    "790523,790149,440707,349442,374,18,148,1,207,55.78,44.22,0.05",
]


def _write_cr_csv(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "EU-referendum-result-data.csv"
    path.write_bytes("\r".join(lines).encode("ascii"))
    return path


def test_reads_cr_only_csv_and_keeps_ni_and_gibraltar(tmp_path: Path) -> None:
    path = _write_cr_csv(tmp_path, [HEADER, *ROWS])
    rows = ref.read(ref.RELEASE, path)
    assert list(rows.columns) == ["area_code", "measure", "period", "value", "unit"]
    assert set(rows["area_code"]) == {"E08000024", "GI", "N92000002"}
    assert len(rows) == 3 * 6
    by = rows.set_index(["area_code", "measure"])["value"]
    assert by[("E08000024", "eu_ref_leave")] == 82394
    assert by[("E08000024", "eu_ref_remain")] == 51930
    assert by[("GI", "eu_ref_electorate")] == 24119
    assert (rows["period"] == 2016).all()


def test_no_percentages_and_units() -> None:
    table = pd.read_csv(io.StringIO("\n".join([HEADER, ROWS[0]])), dtype=str)
    rows = ref.referendum_rows(table)
    assert not rows["measure"].str.contains("pct").any()
    units = dict(zip(rows["measure"], rows["unit"], strict=True))
    assert units["eu_ref_electorate"] == "electors"
    assert units["eu_ref_leave"] == "votes"
    assert set(rows["measure"]) == {m.name for m in ref.MEASURES}


def test_blank_cell_is_dropped_not_zero() -> None:
    row = ROWS[0].replace(",51930,", ",,")
    table = pd.read_csv(io.StringIO("\n".join([HEADER, row])), dtype=str,
                        keep_default_na=False)
    rows = ref.referendum_rows(table)
    assert "eu_ref_remain" not in set(rows["measure"])
    assert len(rows) == 5


def test_missing_column_raises() -> None:
    table = pd.DataFrame({"Area_Code": ["E08000024"], "Leave": ["1"]})
    with pytest.raises(SheetFormatError, match="lacks columns"):
        ref.referendum_rows(table)


def test_duplicate_area_raises() -> None:
    table = pd.read_csv(io.StringIO("\n".join([HEADER, ROWS[0], ROWS[0]])),
                        dtype=str)
    with pytest.raises(SheetFormatError, match="twice"):
        ref.referendum_rows(table)


@pytest.mark.mirror
def test_official_file(mirror: Path) -> None:
    path = mirror / ref.RELEASE.mirror_path  # type: ignore[operator]
    assert sha256_file(path) == ref.RELEASE.sha256
    rows = ref.read(ref.RELEASE, path)
    assert rows["area_code"].nunique() == 382
    assert len(rows) == 382 * 6
    totals = rows.groupby("measure")["value"].sum()
    assert totals["eu_ref_remain"] == 16_141_241
    assert totals["eu_ref_leave"] == 17_410_742
    assert totals["eu_ref_electorate"] == 46_500_001
    assert totals["eu_ref_votes_cast"] == 33_577_342
    assert totals["eu_ref_rejected_ballots"] == 25_359
    by = rows.set_index(["area_code", "measure"])["value"]
    assert by[("E08000024", "eu_ref_leave")] == 82_394
    assert by[("E08000024", "eu_ref_remain")] == 51_930
    assert ("GI", "eu_ref_leave") in by.index
    assert ("N92000002", "eu_ref_leave") in by.index
