"""UK Business Counts: local units by SIC 2007 section (ONS IDBR via Nomis).

The official file is a Nomis CSV download with one block per year (2016-2021).
Each block has a few metadata lines (``Date :`` gives the year), a header
line (``Area, mnemonic, A : Agriculture…, …, U : …``), data rows and
footnotes.  Rows carry the Nomis geography type as a prefix of the area name:

``ladu:``
    local authority districts on the latest boundaries Nomis held (2021:
    374 areas, pre-2023 Cumbria / North Yorkshire / Somerset districts);
``ualad19:``
    districts as of April 2019 (382 areas);
``ualad14:``
    the pre-2019 district set (391 areas).

The same year therefore appears on three boundary vintages; every row carries
its own ``geography_vintage``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from keycities.sources._sheets import SheetFormatError, to_values
from keycities.sources.base import OGL, Release, SimpleSource
from keycities.sources.measures import Measure

READER_VERSION = "1"

#: SIC 2007 sections as Nomis labels them (letter -> description).
SECTIONS: dict[str, str] = {
    "A": "Agriculture, forestry and fishing",
    "B": "Mining and quarrying",
    "C": "Manufacturing",
    "D": "Electricity, gas, steam and air conditioning supply",
    "E": "Water supply; sewerage, waste management and remediation activities",
    "F": "Construction",
    "G": "Wholesale and retail trade; repair of motor vehicles and motorcycles",
    "H": "Transportation and storage",
    "I": "Accommodation and food service activities",
    "J": "Information and communication",
    "K": "Financial and insurance activities",
    "L": "Real estate activities",
    "M": "Professional, scientific and technical activities",
    "N": "Administrative and support service activities",
    "O": "Public administration and defence; compulsory social security",
    "P": "Education",
    "Q": "Human health and social work activities",
    "R": "Arts, entertainment and recreation",
    "S": "Other service activities",
    "T": "Activities of households as employers",
    "U": "Activities of extraterritorial organisations and bodies",
}

#: Nomis geography type -> LAD boundary vintage.  ``ualad14`` rows use Fife
#: S12000015, Perth and Kinross S12000024, Glasgow S12000046 and North
#: Lanarkshire S12000044 (all recoded in 2018/2019) alongside Bournemouth,
#: Poole and the other pre-2019 districts: exactly the 391 codes of the
#: December 2016 LAD lookup.  That code set was in force on 1 April 2016 and
#: 2017 alike; 2016 is used because the project's 2016 lookups and
#: boundaries describe it.
GEOGRAPHY_VINTAGES: dict[str, int] = {"ladu": 2021, "ualad19": 2019, "ualad14": 2016}

TOTAL = "business_local_units"
UNIT = "local units"

MEASURES: tuple[Measure, ...] = (
    Measure(TOTAL, UNIT, "count",
            "Business local units (sites), all industries (sum of SIC 2007 sections A-U)"),
    *(
        Measure(f"{TOTAL}_sic_{letter.lower()}", UNIT, "count",
                f"Business local units (sites) in SIC 2007 section {letter}: {label}")
        for letter, label in SECTIONS.items()
    ),
)

RELEASE = Release(
    id="ons-idbr-business-counts-lu-2016-2021",
    publisher="Office for National Statistics (Inter-Departmental Business Register), "
              "via Nomis",
    title="UK Business Counts - local units by industry and employment size band "
          "(NM_141_1), SIC 2007 sections, 2016-2021",
    url="https://www.nomisweb.co.uk/datasets/idbrlu",
    downloadable=False,  # a Nomis query download: only the mirror has these bytes
    landing_page="https://www.nomisweb.co.uk/datasets/idbrlu",
    published=dt.date(2023, 11, 8),
    reference_period="March 2016 to March 2021 (counts as at March of each year)",
    geography_vintage=2021,
    licence=OGL,
    sha256="7b7d799a81dedc78cc5d37a0f9165464a469454d833af5e01568730d124910cf",
    mirror_path="uk_business_counts_local_units/"
                "nomis_uk_business_counts_local_units_by_industry_2016_2021.csv",
    notes=(
        "Local units (sites where a business operates), not enterprises: a firm with "
        "several sites counts several times; enterprise counts are a different Nomis "
        "dataset (NM_142_1). Counts are as at March of each year. Values are rounded to "
        "the nearest 5 for disclosure control, so zeros may not be true zeros and the "
        "all-industry total (the sum of the 21 rounded sections) can differ from Nomis's "
        "own rounded total. Each year is given on three boundary sets (2021, 2019 and "
        "2016 districts; see each row's geography vintage). The file is a Nomis query "
        "download ('from Nomis on 8 November 2023', used as the published date): the URL "
        "is the dataset page, which does not serve these exact bytes; use a mirror."
    ),
)

_PREFIX = re.compile(r"^(?P<geo>[a-z0-9]+):")
_SECTION = re.compile(r"^(?P<letter>[A-U]) :")
_GSS = re.compile(r"^[A-Z]\d{8}$")


def _text(raw: pd.DataFrame, col: int) -> pd.Series:
    return raw[col].fillna("").astype(str).str.strip()


def _section_columns(raw: pd.DataFrame, first: pd.Series) -> dict[int, str]:
    """Column position -> section letter, from the block headers (which must all agree)."""
    headers = raw[first == "Area"]
    if headers.empty:
        raise SheetFormatError(
            "No 'Area' header line was found: this is not a Nomis UK Business Counts "
            "download, or Nomis changed its layout."
        )
    texts = headers.fillna("").astype(str).drop_duplicates()
    if len(texts) > 1:
        raise SheetFormatError("The year blocks have different column headers; "
                               "download the blocks with the same industry selection.")
    header = texts.iloc[0]
    columns = {int(pos): m["letter"] for pos, v in enumerate(header.to_list())
               if (m := _SECTION.match(str(v).strip()))}
    if sorted(columns.values()) != sorted(SECTIONS):
        raise SheetFormatError(
            f"Expected SIC 2007 sections A-U as columns, found {sorted(columns.values())}. "
            "Download the table with all 21 broad industry sections."
        )
    return columns


def business_count_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """Tidy fact rows from the raw multi-block Nomis CSV.

    Parameters
    ----------
    raw
        The CSV read with ``header=None`` and all cells as text.

    Returns
    -------
    pandas.DataFrame
        Columns area_code, measure, period, value, unit, geography_vintage:
        one row per area, geography type, year and section, plus the
        all-section total where every section has a figure.

    Raises
    ------
    SheetFormatError
        No header or ``Date`` line, missing sections, an unknown geography
        type, or an area listed twice in one block.
    """
    first = _text(raw, 0)
    sections = _section_columns(raw, first)
    # The year of a row is that of the last 'Date :' line above it.
    year = _text(raw, 1).str.extract(r"((?:19|20)\d{2})")[0]
    year = year.where(first.str.startswith("Date")).ffill()
    geo = first.str.extract(_PREFIX)["geo"]
    codes = _text(raw, 1)
    is_data = geo.notna() & codes.str.match(_GSS.pattern)
    unknown = set(geo[is_data]) - set(GEOGRAPHY_VINTAGES)
    if unknown:
        raise SheetFormatError(f"Unknown Nomis geography types {sorted(unknown)}; add their "
                               "boundary vintage to GEOGRAPHY_VINTAGES.")
    if year[is_data].isna().any():
        raise SheetFormatError("Data rows come before any 'Date :' line; the year is unknown.")
    body = raw.loc[is_data].iloc[:, list(sections)].set_axis(list(sections.values()), axis=1)
    body = body.assign(area_code=codes[is_data], period=year[is_data].astype(int),
                       geo=geo[is_data])
    keys = ["area_code", "period", "geo"]
    if body.duplicated(keys).any():
        raise SheetFormatError("An area is listed twice in one year block and geography.")
    long = body.melt(id_vars=keys, var_name="letter", value_name="value")
    long["value"] = to_values(long["value"])
    return _with_totals(long.dropna(subset=["value"]), keys)


def _with_totals(long: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Section rows plus a total per area, only where all 21 sections have figures."""
    grouped = long.groupby(keys)["value"]
    totals = pd.concat([grouped.sum(), grouped.count()], axis=1, keys=["value", "n"])
    totals = totals[totals["n"] == len(SECTIONS)].reset_index()
    totals["measure"] = TOTAL
    long = long.assign(measure=TOTAL + "_sic_" + long["letter"].str.lower())
    out = pd.concat([long, totals], ignore_index=True)
    out["unit"] = UNIT
    out["geography_vintage"] = out["geo"].map(GEOGRAPHY_VINTAGES).astype(int)
    cols = ["area_code", "measure", "period", "value", "unit", "geography_vintage"]
    return out[cols].sort_values([*cols[:3], cols[5]]).reset_index(drop=True)


def read(release: Release, path: Path) -> pd.DataFrame:
    """Read the Nomis multi-block CSV into fact rows (with per-row vintages)."""
    raw = pd.read_csv(path, header=None, dtype=str, keep_default_na=False,
                      encoding="utf-8-sig")
    return business_count_rows(raw)


SOURCES: tuple[SimpleSource, ...] = (
    SimpleSource(
        name="business_counts",
        table="fact",
        releases=(RELEASE,),
        reader=read,
        description="UK Business Counts local units by SIC 2007 section, 2016-2021 (Nomis).",
    ),
)
