"""English Indices of Deprivation 2019: local authority district summaries.

MHCLG's File 10 has one sheet per index: ``IMD`` (the overall Index of
Multiple Deprivation) and one per domain.  Each row is an English LAD on
April 2019 boundaries.  Rank 1 is the most deprived district.

From the IMD sheet six summary measures are kept; from each domain sheet its
average score.  Summary ranks other than the rank of average score are not
stored: they are derivable orderings of the stored scores.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from keycities.sources._sheets import (
    SheetFormatError,
    find_header_row,
    is_area_code,
    read_sheet,
    to_values,
)
from keycities.sources.base import OGL, READER_COLUMNS, Release, SimpleSource
from keycities.sources.measures import Measure

READER_VERSION = "1"

CODE_LABELS = ("Local Authority District code (2019)", "Local Authority District code")

#: IMD sheet: header text after "<index> - " -> (measure, unit).
IMD_COLUMNS: dict[str, tuple[str, str]] = {
    "average score": ("imd_average_score", "score"),
    "rank of average score": ("imd_rank_of_average_score", "rank (1 = most deprived)"),
    "average rank": ("imd_average_rank", "average LSOA rank"),
    "proportion of lsoas in most deprived 10% nationally":
        ("imd_proportion_lsoas_most_deprived_10pct", "proportion"),
    "extent": ("imd_extent", "proportion"),
    "local concentration": ("imd_local_concentration", "average LSOA rank"),
}

#: Domain sheet -> (label, unit of its average score).  The income,
#: employment, IDACI and IDAOPI scores are shares of people deprived; the
#: other domain scores are unitless composite scores.
DOMAINS: dict[str, tuple[str, str]] = {
    "Income": ("Income deprivation", "proportion"),
    "Employment": ("Employment deprivation", "proportion"),
    "Education": ("Education, skills and training deprivation", "score"),
    "Health": ("Health deprivation and disability", "score"),
    "Crime": ("Crime", "score"),
    "Barriers": ("Barriers to housing and services", "score"),
    "Living": ("Living environment deprivation", "score"),
    "IDACI": ("Income deprivation affecting children (IDACI)", "proportion"),
    "IDAOPI": ("Income deprivation affecting older people (IDAOPI)", "proportion"),
}

MEASURES: tuple[Measure, ...] = (
    Measure("imd_average_score", "score", "score",
            "IMD 2019: population-weighted average of LSOA IMD scores"),
    Measure("imd_rank_of_average_score", "rank (1 = most deprived)", "rank",
            "IMD 2019: rank of average score among English districts"),
    Measure("imd_average_rank", "average LSOA rank", "score",
            "IMD 2019: population-weighted average of LSOA ranks"),
    Measure("imd_proportion_lsoas_most_deprived_10pct", "proportion", "score",
            "IMD 2019: proportion of LSOAs in the most deprived 10% nationally"),
    Measure("imd_extent", "proportion", "score",
            "IMD 2019: extent (share of population in the most deprived LSOAs)"),
    Measure("imd_local_concentration", "average LSOA rank", "score",
            "IMD 2019: local concentration (population-weighted average rank of the "
            "district's most deprived LSOAs)"),
    *(
        Measure(f"imd_{sheet.lower()}_average_score", unit, "score",
                f"IoD 2019 {label} domain: average score")
        for sheet, (label, unit) in DOMAINS.items()
    ),
)

RELEASE = Release(
    id="mhclg-iod2019-lad-summaries",
    publisher="Ministry of Housing, Communities & Local Government",
    title="English Indices of Deprivation 2019: File 10 - Local Authority District "
          "Summaries (lower-tier)",
    url="https://assets.publishing.service.gov.uk/government/uploads/system/uploads/"
        "attachment_data/file/833995/"
        "File_10_-_IoD2019_Local_Authority_District_Summaries__lower-tier__.xlsx",
    landing_page="https://www.gov.uk/government/statistics/"
                 "english-indices-of-deprivation-2019",
    published=dt.date(2019, 9, 26),
    reference_period="2019 (indicators mostly 2015/16-2017)",
    geography_vintage=2019,
    licence=OGL,
    sha256="ff6afe1558feef5d49d06541ae42ee68405f6436efb2692a95c00121134be3e3",
    mirror_path="imd2019_la_summaries/"
                "File_10_-_IoD2019_Local_Authority_District_Summaries__lower-tier__.xlsx",
    notes=(
        "England only: Wales, Scotland and Northern Ireland publish separate indices that "
        "are not comparable. Districts on April 2019 boundaries (317). Rank 1 = most "
        "deprived. Summary measures describe the distribution of LSOA deprivation within "
        "a district; they are relative, not absolute, and cannot be added or averaged "
        "across districts. The 2019 indices are not comparable over time with earlier "
        "editions except as rankings."
    ),
)


def _columns(raw: pd.DataFrame, row: int, wanted: dict[str, tuple[str, str]]) -> dict[int, str]:
    """Column -> key of ``wanted``, matching the text after the last ' - '."""
    found: dict[int, str] = {}
    for col, cell in enumerate(raw.iloc[row].to_list()):
        text = str(cell).strip()
        if " - " in text:
            key = text.rsplit(" - ", 1)[1].strip().casefold()
            if key in wanted:
                if key in found.values():
                    raise SheetFormatError(f"Two header columns end in {key!r}.")
                found[col] = key
    missing = set(wanted) - set(found.values())
    if missing:
        raise SheetFormatError(
            f"Columns {sorted(missing)} were not found in the header row; MHCLG's layout "
            "differs from the one this reader knows."
        )
    return found


def imd_sheet_rows(raw: pd.DataFrame, wanted: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """Fact rows from one raw sheet of File 10.

    Parameters
    ----------
    raw
        The sheet read with ``header=None``.
    wanted
        Header text after ``"<index> - "`` (lower case) -> (measure, unit),
        e.g. :data:`IMD_COLUMNS`.

    Returns
    -------
    pandas.DataFrame
        Columns area_code, measure, period (2019), value, unit.

    Raises
    ------
    SheetFormatError
        No code header, a wanted column missing, or unexpected cell text.
    """
    raw = raw.set_axis(range(raw.shape[1]), axis=1)  # label = position from here on
    row, code_col = find_header_row(raw, CODE_LABELS)
    columns = _columns(raw, row, wanted)
    body = raw.iloc[row + 1:]
    codes = body[code_col].astype(str).str.strip()
    body = body[codes.map(is_area_code)]
    long = (body[list(columns)].rename(columns=columns)
            .assign(area_code=codes[body.index])
            .melt(id_vars="area_code", var_name="key", value_name="value"))
    long["value"] = to_values(long["value"])
    long = long.dropna(subset=["value"])
    long["measure"] = long["key"].map(lambda k: wanted[k][0])
    long["unit"] = long["key"].map(lambda k: wanted[k][1])
    long["period"] = 2019
    return long[list(READER_COLUMNS["fact"])].reset_index(drop=True)


def read(release: Release, path: Path) -> pd.DataFrame:
    """Read the IMD sheet and every domain sheet of File 10 into fact rows."""
    parts = [imd_sheet_rows(read_sheet(path, "IMD"), IMD_COLUMNS)]
    for sheet, (_, unit) in DOMAINS.items():
        wanted = {"average score": (f"imd_{sheet.lower()}_average_score", unit)}
        parts.append(imd_sheet_rows(read_sheet(path, sheet), wanted))
    return pd.concat(parts, ignore_index=True)


SOURCES: tuple[SimpleSource, ...] = (
    SimpleSource(
        name="imd",
        table="fact",
        releases=(RELEASE,),
        reader=read,
        description="English Indices of Deprivation 2019, district summaries (MHCLG).",
    ),
)
