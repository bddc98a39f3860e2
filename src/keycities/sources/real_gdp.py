"""Real GDP, per-head figures, deflators and growth by local authority district.

Tables 6 to 13 of ONS "Regional gross domestic product: local authorities"
(the workbooks of :data:`keycities.sources.gva.LA_RELEASES`; Tables 1 and 5
are read into the fact table by :mod:`keycities.sources.gva`).  Each table
is one indicator, one row per district (UK, 374 or 382 districts) and year:

========================  =====  ==============================================
indicator                 table  what
========================  =====  ==============================================
``regional-accounts-      6      resident population used for per-head figures
population``
``gdp-per-head-current-   7      GDP per head at current market prices (£)
prices``
``gva-implied-deflator``  8      whole-economy GVA implied deflator (index)
``real-gdp-index``        9      GDP chained volume measure (CVM) index
``real-gdp``              10     GDP CVM in reference-year money (£ million)
``real-gdp-per-head``     11     GDP CVM per head (£, reference-year money)
``real-gdp-growth``       12     annual growth of GDP CVM (%)
``real-gdp-per-head-      13     annual growth of GDP CVM per head (%)
growth``
========================  =====  ==============================================

The local-authority workbooks publish real (chained volume) figures for
**GDP only**: there is no real GVA by district, and Table 8's GVA deflator
is the one GVA table among them.  The reference year is 2016 in the
December 2019 edition and 2019 in the later ones; it is in each release's
units ("£ million (2019 prices)").  Editions revise every year, so each is
read as its own release and a series must be taken from one of them.

Quirks handled: the December 2019 workbook prints the latest year as
``20183`` (2018, footnote 3: provisional) and ``-`` for the first year's
growth (status ``z``); the April 2023 workbook prints ``u`` (low
reliability, status ``u``) for every district's 2021 per-head growth; the
May 2022 workbook's Table 7 title says "pounds million" although its
figures are pounds per head (units come from :data:`TABLES`, not titles).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from keycities.sources._indicator import IndicatorFrames, MirrorRead, tables_reader
from keycities.sources._indicator_frames import (
    IndicatorMeta,
    check_unique,
    meta_frame,
    read_mirror,
    wide_values,
)
from keycities.sources._sheets import (
    SheetFormatError,
    check_title,
    find_header_row,
    read_sheet,
)
from keycities.sources.base import Release, SimpleSource
from keycities.sources.gva import LA_CODE_LABELS, LA_RELEASES

READER_VERSION = "1"

RELEASES: tuple[Release, ...] = LA_RELEASES

#: The CVM reference year (and deflator base year) of each edition, checked
#: against the titles of Tables 8 to 10.
REFERENCE_YEAR: dict[str, int] = {
    "ons-gva-la-2019-12": 2016,
    "ons-gva-la-2022-05": 2019,
    "ons-gva-la-2023-04": 2019,
}

_CAVEAT_WORKPLACE = (
    "Workplace-based: output is counted where the work is done, so per-head figures are "
    "high where many people commute in (city centres) and low where they commute out. "
)
_CAVEAT_CVM = (
    "Chained volume measures remove inflation; districts' CVM figures are not additive, so "
    "a sum over districts is an approximation of the area's real GDP. "
)
_CAVEAT_PROVISIONAL = "The latest year of each edition is provisional. "
_CAVEAT_EDITION = (
    "Each edition revises every earlier year: take a series from one edition. Districts on "
    "{vintage} boundaries; no UK or regional rows (the districts sum to the UK less "
    "Extra-Regio)."
)


@dataclass(frozen=True)
class GdpTable:
    """One table of the local-authority workbook and the indicator it holds.

    ``unit`` may contain ``{year}``, the edition's reference year.  ``title``
    fragments must be in the sheet's title and ``not_title`` ones must not.
    """

    sheet: str
    indicator: str
    label: str
    subtitle: str
    unit: str
    measure: str
    decimals: int
    title: tuple[str, ...]
    not_title: tuple[str, ...] = ()
    caveats: str = ""
    reference: bool = False
    """True when the title states the reference year (``2019=100``, ``2019 money value``)."""
    provisional: bool = True
    """True when the latest year is provisional."""


TABLES: tuple[GdpTable, ...] = (
    GdpTable("Table 6", "regional-accounts-population", "Resident population (regional "
             "accounts)", "Total resident population used for the per-head figures of the "
             "regional accounts", "people", "Count", 0, ("Total resident population",),
             caveats="ONS mid-year population estimates as they stood when the edition was "
             "compiled; sum over districts for a network's per-head figure. ",
             provisional=False),
    GdpTable("Table 7", "gdp-per-head-current-prices", "GDP per head (current prices)",
             "Gross domestic product per resident at current market prices", "£", "Pounds",
             0, ("per head", "current market prices"), caveats=_CAVEAT_WORKPLACE),
    GdpTable("Table 8", "gva-implied-deflator", "GVA implied deflator", "Whole-economy "
             "GVA implied deflator: current-price GVA as an index of its chained volume",
             "index ({year} = 100)", "Index", 1, ("GVA implied deflators",), reference=True),
    GdpTable("Table 9", "real-gdp-index", "Real GDP index", "Gross domestic product in "
             "chained volume measures, as an index", "index ({year} = 100)", "Index", 1,
             ("chained volume measures", "index"), caveats=_CAVEAT_WORKPLACE, reference=True),
    GdpTable("Table 10", "real-gdp", "Real GDP", "Gross domestic product in chained volume "
             "measures (inflation removed)", "£ million ({year} prices)", "Pounds", 0,
             ("chained volume measures", "money value"), ("per head",),
             caveats=_CAVEAT_WORKPLACE + _CAVEAT_CVM, reference=True),
    GdpTable("Table 11", "real-gdp-per-head", "Real GDP per head", "Gross domestic product "
             "per resident in chained volume measures (inflation removed)",
             "£ ({year} prices)", "Pounds", 0, ("chained volume measures", "per head"),
             ("growth",), caveats=_CAVEAT_WORKPLACE),
    GdpTable("Table 12", "real-gdp-growth", "Real GDP growth", "Annual growth of gross "
             "domestic product in chained volume measures", "%", "Percentage", 1,
             ("chained volume measures", "growth"), ("per head",),
             caveats=_CAVEAT_WORKPLACE),
    GdpTable("Table 13", "real-gdp-per-head-growth", "Real GDP per head growth", "Annual "
             "growth of gross domestic product per resident in chained volume measures",
             "%", "Percentage", 1, ("chained volume measures", "per head", "growth"),
             caveats=_CAVEAT_WORKPLACE + "In the April 2023 edition growth in 2021 is "
             "suppressed ('u', low reliability): the population series breaks between 2020 "
             "and 2021 because censuses were taken at different times in the four nations. "),
)

_REFERENCE = re.compile(r"((?:19|20)\d{2})\s*(?:=|equals)\s*100|in ((?:19|20)\d{2}) money value",
                        re.IGNORECASE)


def check_table_title(raw: pd.DataFrame, table: GdpTable, reference_year: int) -> None:
    """Check that a raw sheet is the table ``table`` describes, in the right reference year.

    Raises
    ------
    SheetFormatError
        A title fragment is missing, an excluded one is there, or the title
        names another reference year.
    """
    check_title(raw, *table.title)
    text = " ".join(str(v) for v in raw.head(3).to_numpy().ravel() if isinstance(v, str))
    found = [f for f in table.not_title if f.casefold() in text.casefold()]
    if found:
        raise SheetFormatError(
            f"{table.sheet}'s title mentions {found}, so it is not the {table.label} table; "
            "ONS may have renumbered the tables. Check the workbook's contents."
        )
    years = {int(a or b) for a, b in _REFERENCE.findall(text)}
    if table.reference and years != {reference_year}:
        raise SheetFormatError(
            f"{table.sheet}'s title gives reference year {sorted(years) or 'none'}, but the "
            f"edition's is {reference_year}; update real_gdp.REFERENCE_YEAR."
        )


def parse_gdp_table(raw: pd.DataFrame, table: GdpTable, *, reference_year: int) -> pd.DataFrame:
    """Value rows of one raw local-authority table (header row with ``LA code``).

    Parameters
    ----------
    raw
        The sheet read with ``header=None``: title rows, a header row of
        ``LA code`` and years (``2018`` or a footnoted ``20183``), district
        rows and notes.
    table
        The table's description; its title fragments are checked.
    reference_year
        The edition's CVM reference year, checked against the title.

    Returns
    -------
    pandas.DataFrame
        :data:`~keycities.sources._indicator.VALUE_COLUMNS` rows, periods
        ``YYYY-01-01/P1Y``; the latest year's rows noted "provisional";
        ``-`` (no growth for the first year) and ``u`` (low reliability)
        cells kept as NaN with status ``z`` and ``u``.
    """
    check_table_title(raw, table, reference_year)
    row, col = find_header_row(raw, LA_CODE_LABELS)
    values = wide_values(raw.iloc[row], raw.iloc[row + 1:], col, table.indicator)
    if table.provisional and not values.empty:
        latest = values["period"] == values["period"].max()
        values.loc[latest, "note"] = "provisional"
    return check_unique(values, table.sheet)


def table_meta(table: GdpTable, release: Release, reference_year: int) -> IndicatorMeta:
    """The metadata row of one table's indicator as published in ``release``."""
    return IndicatorMeta(
        indicator=table.indicator, label=table.label, subtitle=table.subtitle,
        unit=table.unit.format(year=reference_year), measure=table.measure,
        decimals=table.decimals, source_org=release.publisher,
        source_date=release.published.isoformat(),
        source_url=release.landing_page or release.url,
        description=f"{table.subtitle}, by local authority district, from {table.sheet} of "
                    f"{release.title}.",
        caveats=(table.caveats + (_CAVEAT_PROVISIONAL if table.provisional else "")
                 + _CAVEAT_EDITION.format(vintage=release.geography_vintage)).strip(),
    )


def read_real_gdp(release: Release, path: Path) -> IndicatorFrames:
    """Read Tables 6 to 13 of one local-authority workbook.

    Raises
    ------
    SheetFormatError
        The release has no declared reference year, or a table's layout or
        title is not the expected one.
    """
    if release.id not in REFERENCE_YEAR:
        raise SheetFormatError(
            f"{release.id} has no CVM reference year in real_gdp.REFERENCE_YEAR; add it "
            "(it is in the titles of Tables 8 to 10)."
        )
    year = REFERENCE_YEAR[release.id]
    values = [parse_gdp_table(read_sheet(path, t.sheet), t, reference_year=year)
              for t in TABLES]
    meta = meta_frame(table_meta(t, release, year) for t in TABLES)
    return IndicatorFrames(pd.concat(values, ignore_index=True), meta)


def read_real_gdp_mirror(mirror: Path) -> MirrorRead:
    """Read Tables 6 to 13 of every edition in a mirror directory.

    Returns
    -------
    MirrorRead
        Values and metadata with each row's ``release_id`` (editions are not
        merged), and (file, reason) for each workbook that could not be read.
    """
    return read_mirror(mirror, RELEASES, read_real_gdp)


__all__ = ["REFERENCE_YEAR", "RELEASES", "TABLES", "GdpTable", "check_table_title",
           "parse_gdp_table", "read_real_gdp", "read_real_gdp_mirror", "table_meta"]


SOURCES: tuple[SimpleSource, ...] = ()
#: Read with the regional accounts' LA releases (source ``gva_la``), into the indicator tables.
EXTRA_READERS = {r.id: tables_reader(read_real_gdp) for r in LA_RELEASES}
