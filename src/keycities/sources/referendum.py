"""EU referendum 2016: the Electoral Commission's result by counting area.

One official CSV (CR-only line endings) with one row per counting area: the
380 GB local-authority districts on 2016 boundaries, Northern Ireland as a
single area (``N92000002``) and Gibraltar (``GI``, counted in the South West
region).  Only counts are stored; percentages are recomputed from them.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from keycities.sources._sheets import SheetFormatError, to_values
from keycities.sources.base import OGL, READER_COLUMNS, Release, SimpleSource
from keycities.sources.measures import Measure

READER_VERSION = "1"

#: Gibraltar's code in the file; not a GSS code, kept because its votes are
#: part of the South West and UK totals.
GIBRALTAR = "GI"

#: Official column -> (measure, unit).
COLUMNS: dict[str, tuple[str, str]] = {
    "Electorate": ("eu_ref_electorate", "electors"),
    "Votes_Cast": ("eu_ref_votes_cast", "votes"),
    "Valid_Votes": ("eu_ref_valid_votes", "votes"),
    "Remain": ("eu_ref_remain", "votes"),
    "Leave": ("eu_ref_leave", "votes"),
    "Rejected_Ballots": ("eu_ref_rejected_ballots", "votes"),
}

MEASURES: tuple[Measure, ...] = (
    Measure("eu_ref_electorate", "electors", "count",
            "EU referendum 2016: electorate (registered electors)"),
    Measure("eu_ref_votes_cast", "votes", "count",
            "EU referendum 2016: ballot papers cast (valid + rejected)"),
    Measure("eu_ref_valid_votes", "votes", "count", "EU referendum 2016: valid votes"),
    Measure("eu_ref_remain", "votes", "count", "EU referendum 2016: votes to Remain"),
    Measure("eu_ref_leave", "votes", "count", "EU referendum 2016: votes to Leave"),
    Measure("eu_ref_rejected_ballots", "votes", "count",
            "EU referendum 2016: rejected ballot papers"),
)

RELEASE = Release(
    id="ec-eu-referendum-2016",
    publisher="The Electoral Commission",
    title="EU referendum results by counting area (EU-referendum-result-data.csv)",
    url="http://www.electoralcommission.org.uk/__data/assets/file/0014/212135/"
        "EU-referendum-result-data.csv",
    landing_page="https://www.electoralcommission.org.uk/who-we-are-and-what-we-do/"
                 "elections-and-referendums/past-elections-and-referendums/eu-referendum/"
                 "electorate-and-count-information",
    published=dt.date(2016, 6, 25),
    reference_period="23 June 2016",
    geography_vintage=2016,
    licence=OGL,
    sha256="e43968960c80ba8084547afd916ce1f57d6ee0b0d13de94e5efd539f2953690f",
    mirror_path="eu_referendum_2016/EU-referendum-result-data.csv",
    notes=(
        "Counting areas are the 2016 local authority districts of Great Britain; Northern "
        "Ireland is a single counting area (N92000002, no district breakdown). Gibraltar "
        "(code GI) was counted within the South West region: exclude it for UK-only "
        "figures. Published date is the date the file was downloaded (25 June 2016, the "
        "mirror's record); the result was declared on 24 June 2016. Percentages are not "
        "stored; derive them from the counts (Leave / valid votes = 51.89% UK-wide)."
    ),
)

_GSS = re.compile(r"^[A-Z]\d{8}$")


def referendum_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Tidy fact rows from the result table as read from the CSV.

    Parameters
    ----------
    table
        The official CSV read with its header row (columns ``Area_Code``,
        ``Electorate``, ``Votes_Cast``, ``Valid_Votes``, ``Remain``,
        ``Leave``, ``Rejected_Ballots``; other columns are ignored).

    Returns
    -------
    pandas.DataFrame
        Columns area_code, measure, period (2016), value, unit; one row per
        counting area and measure, blanks dropped.

    Raises
    ------
    SheetFormatError
        A needed column is missing or an area is listed twice.
    """
    table = table.rename(columns=lambda c: str(c).strip())
    missing = [c for c in ("Area_Code", *COLUMNS) if c not in table.columns]
    if missing:
        raise SheetFormatError(
            f"The referendum CSV lacks columns {missing}; the Electoral Commission file "
            "layout differs from the one this reader knows. Check the file."
        )
    codes = table["Area_Code"].astype(str).str.strip()
    keep = codes.str.match(_GSS.pattern) | (codes == GIBRALTAR)
    body = table.loc[keep, list(COLUMNS)].assign(area_code=codes[keep])
    if body["area_code"].duplicated().any():
        dupes = sorted(body.loc[body["area_code"].duplicated(), "area_code"])
        raise SheetFormatError(f"Counting areas listed twice: {dupes[:5]}.")
    long = body.melt(id_vars="area_code", var_name="column", value_name="value")
    long["value"] = to_values(long["value"])
    long = long.dropna(subset=["value"])
    long["measure"] = long["column"].map(lambda c: COLUMNS[c][0])
    long["unit"] = long["column"].map(lambda c: COLUMNS[c][1])
    long["period"] = 2016
    return long[list(READER_COLUMNS["fact"])].reset_index(drop=True)


def read(release: Release, path: Path) -> pd.DataFrame:
    """Read the official CSV (any line endings) into fact rows."""
    # dtype=str keeps codes as printed; pandas' C parser copes with CR-only lines.
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return referendum_rows(table)


SOURCES: tuple[SimpleSource, ...] = (
    SimpleSource(
        name="referendum",
        table="fact",
        releases=(RELEASE,),
        reader=read,
        description="EU referendum 2016 result by counting area (Electoral Commission).",
    ),
)
