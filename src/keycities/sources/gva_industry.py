"""Balanced GVA by industry (SIC 2007 sections) for ITL regions.

ONS "Regional gross value added (balanced) by industry: all ITL regions",
Tables 1b/1c, 2b/2c and 3b/3c (``b`` chained volume measures in 2019 money,
``c`` current prices, £ million) for ITL1, ITL2 and ITL3, as CSV exports of
the April 2023 edition (1998-2021) and of the ITL2 and ITL3 current-price
tables of the April 2024 edition (1998-2022).

**These are about ITL regions, not local authority districts.**  ITL1 rows
use GSS codes where there is one (UK K02000001, England E92000001, the nine
English regions E12, Wales, Scotland and Northern Ireland; see
:data:`keycities.sources._sheets.ITL_TO_GSS`); UK less Extra-Regio (``UKX``),
Extra-Regio (``TLZ``) and ITL2/ITL3 areas keep their ITL codes (``TLC1``,
``TLC11``), which no district lookup in the project maps yet.  An ITL3 area
is one district or a group of them (TLC11 is Hartlepool and
Stockton-on-Tees).

One indicator per industry line and price basis, named
``gva-industry-<line>-<basis>``: ``<line>`` is ``all-industries`` (Total),
``production`` (A-E), ``services`` (G-T) or ``section-<letter>`` for a SIC
section (ITL3 tables merge A with B as ``section-ab`` and D with E as
``section-de``); ``<basis>`` is ``current-prices`` or ``cvm``.  Divisions
and manufacturing sub-sections are not read.  Each CSV file is one release:
the two editions overlap and are never merged.
"""

from __future__ import annotations

import datetime as dt
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
from keycities.sources._sheets import ITL_TO_GSS, SheetFormatError, _cell_text, find_header_row
from keycities.sources.base import Release, SimpleSource

READER_VERSION = "1"

CODE_LABELS = ("ITL region code", "ITL code")
SIC_LABEL = "SIC07 code"
DESCRIPTION_LABEL = "SIC07 description"
#: Industry lines read: SIC codes (as printed, before any bracket) and their id part.
LINES: dict[str, str] = {
    "Total": "all-industries", "A-E": "production", "G-T": "services",
    **{letter: f"section-{letter.lower()}" for letter in "ABCDEFGHIJKLMNOPQRST"},
    "AB": "section-ab", "DE": "section-de",
}
BASES: dict[str, tuple[str, str]] = {
    "c": ("current-prices", "£ million"),
    "b": ("cvm", "£ million (2019 prices)"),
}

_DATASET = ("/economy/grossvalueaddedgva/datasets/"
            "nominalandrealregionalgrossvalueaddedbalancedbyindustry")
_PUBLISHER = "Office for National Statistics"
_NOTES = (
    "mirror-only copy; the official download is an xlsx with a different hash. This CSV is a "
    "third-party export of one table of the official workbook, edited by hand into a plain "
    "table (title and notes rows removed, thousands separators kept); the values are ONS's. "
    "The workbook URL is inferred in ONS's usual pattern. "
)

_CAVEAT_EXPORT = (
    "Read from a hand-made CSV export of one table of the official workbook (the values are "
    "ONS's); each edition revises earlier years, so take a series from one edition."
)


@dataclass(frozen=True)
class IndustryTable:
    """One CSV export: its edition, table letter and ITL level."""

    edition: str
    """``2023-04`` or ``2024-04``."""
    table: str
    """``1b``, ``2c``, ...: the digit is the ITL level, the letter the price basis."""
    filename: str
    sha256: str

    @property
    def level(self) -> int:
        """The ITL level (1, 2 or 3)."""
        return int(self.table[0])

    @property
    def basis(self) -> str:
        """``current-prices`` or ``cvm``."""
        return BASES[self.table[1]][0]


_EDITIONS = {
    "2023-04": ("release_2023-04_1998to2021", "1998to2021", dt.date(2023, 4, 25), "1998 to 2021"),
    "2024-04": ("release_2024-04_1998to2022", "1998to2022", dt.date(2024, 4, 24), "1998 to 2022"),
}
_2023_CVM = "chained_volume_measures_in_2019_money_value_pounds_million"
TABLES: tuple[IndustryTable, ...] = (
    IndustryTable("2023-04", "1b", f"Table_1b_ITL1_UK_{_2023_CVM}.csv",
                  "c1a7e19aa1394db81c1f516925f644b8d62267a5f4f78a983435b3eb3eedddca"),
    IndustryTable("2023-04", "1c", "Table_1c_ITL1_UK_current_price_estimates_pounds_million.csv",
                  "2db7157b35e4970a567decd3f41f0c3cbf258320ca2507b99fab44ebeb5f850f"),
    IndustryTable("2023-04", "2b", f"Table_2b_ITL2_UK_{_2023_CVM}.csv",
                  "e5aa8890453873a69ed9ebc6f5526311e1d0010d4b9f8bae38fedeed32249d31"),
    IndustryTable("2023-04", "2c", "Table_2c_ITL2_UK_current_price_estimates_pounds_million.csv",
                  "7cac3b52bad8fc780d2315b06ebb6b55039e2dbdfb114ee755c517b8b65e266e"),
    IndustryTable("2023-04", "3b", f"Table_3b_ITL3_UK_{_2023_CVM}.csv",
                  "746fb4fd45c00df1fcbf2d80e65480c8d6f8346ba2e00aa2ed9a630b81e670d0"),
    IndustryTable("2023-04", "3c", "Table_3c_ITL3_UK_current_price_estimates_pounds_million.csv",
                  "bcbea8c235c9628facab256cea3aeb8d1e64e0e95ebc099bfde215209a5c0bc5"),
    IndustryTable("2024-04", "2c",
                  "Table_2c_ITL2_current_price_estimates_pounds_million_2024.csv",
                  "6905f1d1cee8b9224437d5cdd31933b5533eb86241999176c535ff121ae6c735"),
    IndustryTable("2024-04", "3c",
                  "Table_3c_ITL3_current_price_estimates_pounds_million_2024.csv",
                  "216e324dc6b07a867cddbf1e3266bc2426b98839dc3a66f0a986a8c4365ec70b"),
)


def _release(table: IndustryTable) -> Release:
    folder, uri_edition, published, years = _EDITIONS[table.edition]
    kind = "chained volume measures" if table.basis == "cvm" else "current prices"
    return Release(
        id=f"ons-gva-industry-{table.edition}-table{table.table}-csv",
        publisher=_PUBLISHER,
        title=f"Regional gross value added (balanced) by industry: all ITL regions, {years}, "
              f"Table {table.table} (ITL{table.level}, {kind}; CSV export)",
        url=f"https://www.ons.gov.uk/file?uri={_DATASET}/{uri_edition}/"
            "regionalgrossvalueaddedbalancedbyindustryandallitlregions.xlsx",
        landing_page="https://www.ons.gov.uk" + _DATASET,
        published=published, reference_period=years, geography_vintage=2021,
        sha256=table.sha256,
        mirror_path=f"ons_regional_gva_by_industry_itl/{folder}/{table.filename}",
        notes=_NOTES + ("Publication day inferred (April 2024 edition). "
                        if table.edition == "2024-04" else ""),
        downloadable=False,  # the official download is the workbook, not this export
    )


RELEASES: tuple[Release, ...] = tuple(_release(t) for t in TABLES)
_TABLE_OF = {r.id: t for r, t in zip(RELEASES, TABLES, strict=True)}


def indicator_id(line: str, basis: str) -> str:
    """``gva-industry-<line>-<basis>`` for a SIC code of :data:`LINES`."""
    return f"gva-industry-{LINES[line]}-{basis}"


def sic_line(code: object) -> str | None:
    """The key of :data:`LINES` a SIC07 code cell stands for, or None (a division)."""
    head = re.split(r"\s*\(", _cell_text(code), maxsplit=1)[0]
    return head if head in LINES else None


def parse_industry_table(raw: pd.DataFrame, basis: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """Value rows of the industry lines of one raw table, and each line's description.

    Parameters
    ----------
    raw
        The CSV read as text with ``header=None``: a header row of ITL code,
        region name, SIC07 code, SIC07 description and years, then one row
        per area and industry line.
    basis
        ``current-prices`` or ``cvm``, for the indicator ids.

    Returns
    -------
    tuple
        :data:`~keycities.sources._indicator.VALUE_COLUMNS` rows (ITL1 codes
        as GSS codes where there is one), and ``{indicator: description}``.

    Raises
    ------
    SheetFormatError
        No header, no industry lines, or an area with a line twice.
    """
    row, code_col = find_header_row(raw, CODE_LABELS)
    header = [_cell_text(v) for v in raw.iloc[row]]
    if SIC_LABEL not in header or DESCRIPTION_LABEL not in header:
        raise SheetFormatError(f"No {SIC_LABEL!r} and {DESCRIPTION_LABEL!r} columns in {header}.")
    body = raw.iloc[row + 1:]
    lines = body.iloc[:, header.index(SIC_LABEL)].map(sic_line)
    described = body.iloc[:, header.index(DESCRIPTION_LABEL)].map(_cell_text)
    parts, descriptions = [], {}
    for line in [k for k in LINES if (lines == k).any()]:
        indicator = indicator_id(line, basis)
        rows = body[(lines == line).to_numpy()]
        parts.append(wide_values(raw.iloc[row], rows, code_col, indicator, recode=ITL_TO_GSS))
        descriptions[indicator] = described[(lines == line).to_numpy()].iloc[0]
    if not parts:
        raise SheetFormatError("No industry line (Total, A-E, sections) in the table.")
    return check_unique(pd.concat(parts, ignore_index=True), "GVA by industry"), descriptions


def line_meta(indicator: str, description: str, release: Release) -> IndicatorMeta:
    """The metadata row of one industry line's indicator as published in ``release``."""
    table = _TABLE_OF[release.id]
    cvm = table.basis == "cvm"
    return IndicatorMeta(
        indicator=indicator, label=f"GVA: {description}",
        subtitle=f"Balanced gross value added of {description.lower()}"
                 + (", chained volume measures (inflation removed)" if cvm
                    else ", current basic prices"),
        unit=BASES[table.table[1]][1], measure="Pounds", decimals=0, source_org=_PUBLISHER,
        source_date=release.published.isoformat(),
        source_url=release.landing_page or release.url,
        description=f"Workplace-based balanced GVA of {description.lower()} by ITL region, "
                    f"from {release.title}.",
        caveats="ITL regions, not local authority districts: ITL1 areas have GSS codes, "
                "ITL2 and ITL3 areas keep their ITL codes. "
                + ("Chained volume measures are not additive across industries or areas. "
                   if cvm else "") + "The latest year is provisional. " + _CAVEAT_EXPORT,
    )


def read_gva_industry(release: Release, path: Path) -> IndicatorFrames:
    """Read the industry lines of one CSV export of the GVA-by-industry workbook.

    Raises
    ------
    SheetFormatError
        The release is not one of :data:`RELEASES`, or the layout is unexpected.
    """
    if release.id not in _TABLE_OF:
        raise SheetFormatError(f"{release.id} is not a GVA-by-industry table this reader knows.")
    # As text, so thousands separators reach the parser; utf-8-sig drops the 2024 files' BOM.
    raw = pd.read_csv(path, header=None, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    values, descriptions = parse_industry_table(raw, _TABLE_OF[release.id].basis)
    meta = meta_frame(line_meta(i, d, release) for i, d in descriptions.items())
    return IndicatorFrames(values, meta)


def read_gva_industry_mirror(mirror: Path) -> MirrorRead:
    """Read every GVA-by-industry CSV export in a mirror directory.

    Returns
    -------
    MirrorRead
        Values and metadata with each row's ``release_id`` (one per file and
        edition), and (file, reason) for each file that could not be read.
    """
    return read_mirror(mirror, RELEASES, read_gva_industry)


__all__ = ["BASES", "LINES", "RELEASES", "TABLES", "IndustryTable", "indicator_id",
           "line_meta", "parse_industry_table", "read_gva_industry", "read_gva_industry_mirror",
           "sic_line"]


SOURCES: tuple[SimpleSource, ...] = (
    SimpleSource(
        name="gva_industry",
        table="indicator_value",
        releases=RELEASES,
        reader=tables_reader(read_gva_industry),
        description="ONS regional GVA(B) by industry (SIC sections), ITL1-3 regions.",
    ),
)
