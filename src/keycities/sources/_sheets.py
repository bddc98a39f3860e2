"""Helpers for reading ONS-style wide tables into tidy fact rows.

Most ONS workbooks print one row per area and one column per year under a
few title/notes rows, with notes and footnotes below the table.  Readers here
take such a sheet *raw* (read with ``header=None``), so unit tests can feed a
hand-made frame, and turn it into the ``fact`` columns of
:mod:`keycities.store.schema` in one call::

    raw = read_sheet(path, "Table 1")
    rows = wide_to_facts(raw, code_labels=("LA code",),
                         measure="gva_current_prices", unit="£ million")

A reader that takes several measures from several sheets of one workbook
describes each with a :class:`TableSpec` and calls :func:`read_tables`.

The steps are also exposed on their own: :func:`find_header_row`,
:func:`year_of`, :func:`year_columns`, :func:`to_values`, :func:`is_area_code`,
:func:`normalise_area_code` and :func:`check_title`.

Cells holding a suppression marker (:data:`SUPPRESSED_MARKERS`) or nothing are
dropped, never zero-filled.  Any other text in a year column raises
:class:`SheetFormatError`, because it means the publisher changed the layout
and silently dropping it could hide real figures.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from python_calamine import CalamineWorkbook

from keycities.errors import KeycitiesError
from keycities.sources.base import READER_COLUMNS

#: Cell texts that mean "no figure" in ONS and devolved-administration tables
#: (compared after stripping whitespace, case-insensitively).  ``[u]`` is
#: ONS's "low reliability" flag: where it stands *instead of* a number (as in
#: the April 2024 regional accounts), there is no figure to use.
SUPPRESSED_MARKERS: frozenset[str] = frozenset(
    {"", ":", "x", "[x]", "..", "[c]", "[z]", "[u]", "[low]"}
)

#: National and English-region ITL codes and their GSS equivalents.  UKX (UK
#: less Extra-Regio), TLZ (Extra-Regio) and ITL2/ITL3 codes have no GSS code
#: and are kept as printed.
ITL_TO_GSS: Mapping[str, str] = {
    "UK": "K02000001",
    "TLB": "E92000001",
    "TLC": "E12000001",
    "TLD": "E12000002",
    "TLE": "E12000003",
    "TLF": "E12000004",
    "TLG": "E12000005",
    "TLH": "E12000006",
    "TLI": "E12000007",
    "TLJ": "E12000008",
    "TLK": "E12000009",
    "TLL": "W92000004",
    "TLM": "S92000003",
    "TLN": "N92000002",
}

_GSS = re.compile(r"^[A-Z]\d{8}$")
_ITL = re.compile(r"^TL[A-Z](?:[0-9A-Z]{1,2})?$")
# A year at the end of a header, after a non-digit or at the start, possibly
# followed by a one- or two-digit footnote marker ("20183" = 2018, note 3).
_YEAR = re.compile(r"(?:^|\D)((?:19|20)\d{2})\d{0,2}$")


class SheetFormatError(KeycitiesError):
    """A sheet whose layout differs from what its reader expects."""


def read_sheet(path: Path, sheet: str) -> pd.DataFrame:
    """Read one sheet of a workbook raw (``header=None``), matching names loosely.

    Parameters
    ----------
    path
        The workbook (.xls or .xlsx).
    sheet
        Sheet name; compared with the workbook's names after stripping spaces
        and ignoring case, since ONS names sometimes carry trailing spaces.

    Returns
    -------
    pandas.DataFrame
        Every cell of the sheet, columns numbered from 0.

    Raises
    ------
    SheetFormatError
        No sheet of that name; the message lists the sheets there are.
    """
    # python-calamine directly: pandas' ExcelFile.parse route is deprecated in pandas 3.
    book = CalamineWorkbook.from_path(str(path))
    names = [str(n) for n in book.sheet_names]
    wanted = sheet.strip().casefold()
    for name in names:
        if name.strip().casefold() == wanted:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            # Empty cells come back as ""; pandas' Excel reader (and our parsers) use NaN.
            return pd.DataFrame(rows).replace("", np.nan)
    raise SheetFormatError(
        f"{Path(path).name} has no sheet {sheet!r} (sheets: {', '.join(names)}). "
        "The publisher may have renamed it; update the reader's sheet list."
    )


def _cell_text(value: object) -> str:
    """A cell as stripped text; blanks are '', whole floats lose '.0' (1998.0 -> '1998')."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    return str(value).strip()


def find_header_row(raw: pd.DataFrame, labels: Iterable[str]) -> tuple[int, int]:
    """Locate the header row by a label such as 'Code' or 'LA code'.

    Parameters
    ----------
    raw
        A sheet read with ``header=None``.
    labels
        Texts that head the area-code column; the first row with a cell equal
        to any of them (stripped, case-insensitive) is the header row.

    Returns
    -------
    tuple of int
        (row position, column position) of the matching cell.

    Raises
    ------
    SheetFormatError
        No cell matches.
    """
    wanted = {label.strip().casefold() for label in labels}
    for row in range(len(raw)):
        for col in range(raw.shape[1]):
            if _cell_text(raw.iat[row, col]).casefold() in wanted:
                return row, col
    raise SheetFormatError(
        f"No header cell named any of {sorted(wanted)} was found. "
        "The table layout has changed; check the sheet and the reader's header labels."
    )


def check_title(raw: pd.DataFrame, *fragments: str) -> None:
    """Check that the text above the table mentions every one of ``fragments``.

    ONS reorders and reletters tables between editions; checking the title
    stops a reader from loading, say, a smoothed series under an unsmoothed
    measure name.

    Raises
    ------
    SheetFormatError
        A fragment (case-insensitive) is in no cell of the first ten rows.
    """
    top = raw.head(10)
    text = " ".join(_cell_text(v) for v in top.to_numpy().ravel()).casefold()
    missing = [f for f in fragments if f.casefold() not in text]
    if missing:
        raise SheetFormatError(
            f"The sheet's title does not mention {missing}; it may be a different table in "
            "this edition. Check the workbook's contents and update the reader."
        )


def year_of(label: object) -> int | None:
    """The year a column header stands for, or None for non-year columns.

    Handles ``1998``, ``1998.0``, ``'Mid-2020'``, ``'Pounds_2002'`` and
    footnoted years such as ``'20183'`` (2018, note 3).
    """
    match = _YEAR.search(_cell_text(label))
    return int(match.group(1)) if match else None


def cell_values(cells: pd.Series, markers: Mapping[str, str], *,
                where: str = "keycities.sources._sheets.SUPPRESSED_MARKERS") -> pd.DataFrame:
    """Cells as numbers and status flags: the one parser of figure cells.

    Parameters
    ----------
    cells
        Raw cells of figure columns (numbers, text, blanks).
    markers
        Cell text (stripped, case-folded) that stands for "no figure" -> its status code.
    where
        The constant to extend, named in the error for an unknown marker.

    Returns
    -------
    pandas.DataFrame
        Columns ``value`` (float; NaN for markers and blanks), ``status`` (the marker's
        code or None) and ``blank`` (bool), on the index of ``cells``.  Thousands
        separators (``"58,474,943"``) are removed.

    Raises
    ------
    SheetFormatError
        A cell holds text that is neither a number nor a known marker.
    """
    text = cells.map(_cell_text)
    numbers = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
    status = text.str.casefold().map(markers)
    blank = text == ""
    bad = text[numbers.isna() & status.isna() & ~blank]
    if not bad.empty:
        examples = ", ".join(repr(v) for v in bad.unique()[:5])
        raise SheetFormatError(
            f"Unexpected text in figure cells: {examples}. If these mean 'no figure', "
            f"add them to {where}."
        )
    status = status.astype(object).where(status.notna(), None)
    return pd.DataFrame({"value": numbers.astype(float), "status": status, "blank": blank})


def to_values(cells: pd.Series) -> pd.Series:
    """Cells as floats; blanks and :data:`SUPPRESSED_MARKERS` become NaN
    (:func:`cell_values` without the status flags).

    Raises
    ------
    SheetFormatError
        A cell holds text that is neither a number nor a known marker.
    """
    return cell_values(cells, dict.fromkeys(SUPPRESSED_MARKERS, "x"))["value"]


def is_area_code(code: str) -> bool:
    """True for a GSS code (``^[A-Z]\\d{8}$``), an ITL code or ``UKX``."""
    return bool(_GSS.match(code) or _ITL.match(code) or code == "UKX")


def normalise_area_code(code: str) -> str:
    """Replace national and English-region ITL codes by their GSS codes."""
    return ITL_TO_GSS.get(code, code)


def year_columns(header: pd.Series) -> dict[int, int]:
    """Positions of the year columns in a header row, mapped to their years.

    Raises
    ------
    SheetFormatError
        No year column, or two columns naming the same year.
    """
    years = {pos: y for pos, label in enumerate(header) if (y := year_of(label)) is not None}
    if not years:
        raise SheetFormatError(
            "The header row has no year columns; the table layout has changed."
        )
    if len(set(years.values())) != len(years):
        raise SheetFormatError("Two columns of the header row name the same year.")
    return years


def wide_to_facts(
    raw: pd.DataFrame,
    *,
    code_labels: Iterable[str],
    measure: str,
    unit: str,
    recode: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Turn a raw wide sheet (areas x years) into tidy fact rows.

    Parameters
    ----------
    raw
        The sheet read with ``header=None`` (workbook or CSV).
    code_labels
        Possible headers of the area-code column; see :func:`find_header_row`.
    measure, unit
        Written on every row.
    recode
        Optional code replacements applied before filtering, e.g.
        :data:`ITL_TO_GSS`.

    Returns
    -------
    pandas.DataFrame
        Columns area_code, measure, period, value, unit: one row per area
        row (codes per :func:`is_area_code`; notes rows dropped) and year
        column, without blank or suppressed cells.

    Raises
    ------
    SheetFormatError
        No header, no year columns, unknown cell text, or an area and year
        that appear twice.
    """
    row, col = find_header_row(raw, code_labels)
    years = year_columns(raw.iloc[row])
    body = raw.iloc[row + 1 :]
    codes = body.iloc[:, col].map(_cell_text)
    if recode:
        codes = codes.map(lambda c: recode.get(c, c))
    keep = codes.map(is_area_code).to_numpy()
    long = (
        body.iloc[keep, list(years)]
        .set_axis(list(years.values()), axis=1)
        .assign(area_code=codes[keep].to_numpy())
        .melt(id_vars="area_code", var_name="period", value_name="value")
    )
    long["value"] = to_values(long["value"])
    long = long.dropna(subset=["value"])
    dupes = long[long.duplicated(["area_code", "period"])]
    if not dupes.empty:
        raise SheetFormatError(
            f"Areas listed twice in one table: {sorted(dupes['area_code'].unique())[:5]}."
        )
    long["period"] = long["period"].astype(int)
    long["measure"] = measure
    long["unit"] = unit
    return long[list(READER_COLUMNS["fact"])].reset_index(drop=True)


@dataclass(frozen=True)
class TableSpec:
    """Where one measure lives in a workbook.

    Parameters
    ----------
    sheet
        Sheet name (matched as in :func:`read_sheet`).
    measure, unit
        Written on every row read from it.
    title
        Fragments the sheet's title must contain (see :func:`check_title`);
        empty for files without a title, such as CSV exports.
    """

    sheet: str
    measure: str
    unit: str
    title: tuple[str, ...] = ()


def parse_table(
    raw: pd.DataFrame,
    spec: TableSpec,
    *,
    code_labels: Iterable[str],
    recode: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Check a raw sheet's title against ``spec`` and return its fact rows.

    See :func:`check_title` and :func:`wide_to_facts` for the parameters.
    """
    check_title(raw, *spec.title)
    return wide_to_facts(
        raw, code_labels=code_labels, measure=spec.measure, unit=spec.unit, recode=recode
    )


def read_tables(
    path: Path,
    specs: Iterable[TableSpec],
    *,
    code_labels: Iterable[str],
    recode: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Fact rows of several sheets of one workbook, stacked.

    Parameters
    ----------
    path
        The workbook.
    specs
        One :class:`TableSpec` per sheet to read.
    code_labels, recode
        As for :func:`wide_to_facts`, shared by all the sheets.
    """
    labels = tuple(code_labels)
    frames = [
        parse_table(read_sheet(path, spec.sheet), spec, code_labels=labels, recode=recode)
        for spec in specs
    ]
    return pd.concat(frames, ignore_index=True)
