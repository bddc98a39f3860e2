"""Earnings from the Annual Survey of Hours and Earnings (ASHE), two ways.

``earnings_affordability``
    ONS "House price to residence-based earnings ratio" workbook: Table 5b,
    median gross annual earnings of full-time employees by district of
    residence, 2002-2022, and Table 5a, median house price (year ending
    September), England and Wales districts on 2021 boundaries.
``subnational_indicators``
    ONS Subnational indicators (ninth release, March 2024), sheet "Weekly
    pay": gross median weekly pay of all employees (full- and part-time) in
    2023 by place of residence, with 95% confidence intervals, UK districts
    on 2023 boundaries.  Northern Ireland's districts come from NISRA's
    *workplace* table and are stored under a workplace measure.  The same
    workbook's "Active enterprises" sheet (ONS Business Demography 2022, UK
    districts on 2022 boundaries) gives ``business_active_enterprises``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from keycities.sources._sheets import (
    SheetFormatError,
    check_title,
    find_header_row,
    is_area_code,
    read_sheet,
    to_values,
    wide_to_facts,
    year_of,
)
from keycities.sources.base import OGL, READER_COLUMNS, Release, SimpleSource
from keycities.sources.measures import Measure

READER_VERSION = "2"

# --------------------------------------------------------------- affordability

ANNUAL = "earnings_median_annual_residence_ft"
HOUSE_PRICE = "house_price_median"

#: Sheet -> (title fragment that must be above the table, measure, unit).
AFFORDABILITY_SHEETS: dict[str, tuple[str, str, str]] = {
    "5a": ("Median house price by local authority district", HOUSE_PRICE, "£"),
    "5b": ("Median gross annual (where available) residence-based earnings by local "
           "authority district", ANNUAL, "£ per year"),
}

AFFORDABILITY_RELEASE = Release(
    id="ons-affordability-ratio-2023-03",
    publisher="Office for National Statistics",
    title="House price to residence-based earnings ratio (Tables 5a and 5b: median house "
          "price and median residence-based earnings by local authority district)",
    url="https://www.ons.gov.uk/file?uri=/peoplepopulationandcommunity/housing/datasets/"
        "ratioofhousepricetoresidencebasedearningslowerquartileandmedian/current/"
        "ratioofhousepricetoresidencebasedearnings.xlsx",
    landing_page="https://www.ons.gov.uk/peoplepopulationandcommunity/housing/datasets/"
                 "ratioofhousepricetoresidencebasedearningslowerquartileandmedian",
    published=dt.date(2023, 3, 22),
    reference_period="2002 to 2022 (earnings: April; house prices: year ending September)",
    downloadable=False,  # "current" now serves a later, renamed edition
    geography_vintage=2021,
    licence=OGL,
    sha256="4eaf7024e8109671c9faeac24fea96da59ae8fc07f3e47ea41b745d7cb4b2c39",
    mirror_path="ons_house_price_to_residence_earnings_ratio/"
                "ratioofhousepricetoresidencebasedearnings.xlsx",
    notes=(
        "England and Wales districts only (2021 boundaries: Buckinghamshire and North/West "
        "Northamptonshire present, pre-2023 Cumbria, North Yorkshire and Somerset "
        "districts). Earnings: ASHE median gross annual pay of full-time employees on "
        "adult rates in the same job for over a year, by place of residence, at April; "
        "where annual earnings were not available ONS used annualised weekly earnings "
        "(italic in the workbook; not distinguishable here), which are not directly "
        "comparable. The latest year is provisional and revised the next year. House "
        "prices: median price paid for all residential sales (HPSSA, Land Registry), "
        "year ending September of the period year. ':' cells (no data) are dropped. "
        "The file URL is inferred in ONS's usual pattern; the 'current' edition now "
        "serves a later release (renamed aff2…), so the hash will not match a fresh "
        "download. Publication date is that of the March 2023 release (2002-2022 data)."
    ),
)


def affordability_rows(raw: pd.DataFrame, sheet: str) -> pd.DataFrame:
    """Fact rows from raw Table 5a or 5b (districts x years).

    Parameters
    ----------
    raw
        The sheet read with ``header=None``.
    sheet
        ``"5a"`` or ``"5b"`` (a key of :data:`AFFORDABILITY_SHEETS`).

    Returns
    -------
    pandas.DataFrame
        Columns area_code, measure, period, value, unit; ':' cells dropped.

    Raises
    ------
    SheetFormatError
        The title does not name the expected table, or the layout changed.
    """
    fragment, measure, unit = AFFORDABILITY_SHEETS[sheet]
    check_title(raw, fragment)
    return wide_to_facts(raw, code_labels=("Local authority code",), measure=measure,
                         unit=unit)


def read_affordability(release: Release, path: Path) -> pd.DataFrame:
    """Read Tables 5a and 5b of the affordability workbook into fact rows."""
    return pd.concat([affordability_rows(read_sheet(path, sheet), sheet)
                      for sheet in AFFORDABILITY_SHEETS], ignore_index=True)


# ----------------------------------------------------------------- weekly pay

WEEKLY_RESIDENCE = "earnings_median_weekly_residence"
WEEKLY_WORKPLACE = "earnings_median_weekly_workplace"
WEEKLY_UNIT = "£ per week"
#: NISRA's district table used for Northern Ireland is workplace-based.
WORKPLACE_PREFIXES = ("N09",)
#: ONS writes 'na' (not available) where a figure or interval is missing.
NOT_AVAILABLE = frozenset({"na", "n/a"})

SUBNATIONAL_RELEASE = Release(
    id="ons-subnational-indicators-2024-03",
    publisher="Office for National Statistics",
    title="Subnational indicators explorer: underlying publicly available datasets and "
          "metadata, ninth release",
    url="https://www.ons.gov.uk/file?uri=/peoplepopulationandcommunity/wellbeing/datasets/"
        "subnationalindicatorsexplorerunderlyingpubliclyavailabledatasetsandmetadata/"
        "current/subnatindicators.xlsx",
    landing_page="https://www.ons.gov.uk/peoplepopulationandcommunity/wellbeing/articles/"
                 "subnationalindicatorsexplorer/2022-01-06",
    published=dt.date(2024, 3, 21),
    reference_period="April 2023",
    geography_vintage=2023,
    licence=OGL,
    sha256="175c5cc1a71e12be375f49e2dc74a346587d8fa6120a9ee7ac06f803c37746c4",
    mirror_path="ons_subnational_indicators/subnatindicators_release9_2024-03-21.xlsx",
    notes=(
        "ASHE 2023 (provisional) gross median weekly pay of all employees, full- and "
        "part-time together, so areas with more part-time work show lower pay; residence "
        "analysis (where people live) for the UK, Great Britain, nations, regions, counties "
        "and GB districts. Northern Ireland districts come from NISRA's workplace table "
        "(NI Table 7) and are stored as earnings_median_weekly_workplace; they have no "
        "confidence intervals. ASHE is a 1% sample of HMRC PAYE jobs at April: district "
        "figures have wide 95% confidence intervals (stored as *_ci_lower/*_ci_upper) and "
        "ONS suppresses unreliable ones ('na': City of London, Isles of Scilly), which are "
        "dropped. Rows the sheet flags as obsolete codes (Buckinghamshire county "
        "E10000002, Tyne and Wear E11000004) are dropped. Districts on 2023 boundaries "
        "(the sheet's geography note). The file URL is inferred from the dataset title in "
        "ONS's usual pattern; the landing page is the explorer article."
    ),
)


def _header_columns(raw: pd.DataFrame, row: int) -> dict[str, int]:
    """Positions of the value, interval and notes columns in the header row."""
    found: dict[str, int] = {}
    for col, cell in enumerate(raw.iloc[row].to_list()):
        text = str(cell).strip().casefold()
        if "median weekly pay" in text:
            found["value"] = col
        elif text.startswith("lower") and "confidence" in text:
            found["ci_lower"] = col
        elif text.startswith("upper") and "confidence" in text:
            found["ci_upper"] = col
        elif text == "notes":
            found["notes"] = col
    if "value" not in found:
        raise SheetFormatError(
            "The 'Weekly pay' sheet has no 'Gross median weekly pay' column; ONS changed "
            "the layout. Check the sheet and update the reader."
        )
    return found


def _labelled_year(raw: pd.DataFrame, label: str) -> int:
    """The year in the cell to the right of a metadata label such as 'Date:'."""
    row, col = find_header_row(raw, (label,))
    year = year_of(raw.iat[row, col + 1]) if col + 1 < raw.shape[1] else None
    if year is None:
        raise SheetFormatError(f"No year next to {label!r} in the sheet's metadata rows.")
    return year


def weekly_pay_vintage(raw: pd.DataFrame) -> int:
    """LAD boundary year from the sheet's 'Geography:' line ('…Authorities, 2023')."""
    return _labelled_year(raw, "Geography:")


def weekly_pay_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """Fact rows from the raw 'Weekly pay' sheet.

    Parameters
    ----------
    raw
        The sheet read with ``header=None``.

    Returns
    -------
    pandas.DataFrame
        Columns area_code, measure, period, value, unit: the median and, where
        given, its 95% interval bounds (measures suffixed ``_ci_lower`` /
        ``_ci_upper``) for every area row; 'na' cells and rows flagged as
        obsolete codes dropped.

    Raises
    ------
    SheetFormatError
        No 'Date:' line or 'Area Code' header, or unexpected cell text.
    """
    raw = raw.set_axis(range(raw.shape[1]), axis=1)
    period = _labelled_year(raw, "Date:")
    row, code_col = find_header_row(raw, ("Area Code",))
    cols = _header_columns(raw, row)
    body = raw.iloc[row + 1:]
    codes = body[code_col].astype(str).str.strip()
    keep = codes.map(is_area_code)
    if "notes" in cols:
        # Obsolete codes are areas that no longer exist on the sheet's boundaries.
        notes = body[cols.pop("notes")].fillna("").astype(str)
        keep &= ~notes.str.contains("obsolete code", case=False)
    body, codes = body[keep], codes[keep]
    base = codes.map(lambda c: WEEKLY_WORKPLACE if c.startswith(WORKPLACE_PREFIXES)
                     else WEEKLY_RESIDENCE)
    parts = [
        pd.DataFrame({"area_code": codes,
                      "measure": base + ("" if kind == "value" else f"_{kind}"),
                      "value": to_values(_without_na(body[col]))})
        for kind, col in cols.items()
    ]
    long = pd.concat(parts).dropna(subset=["value"])
    long["period"] = period
    long["unit"] = WEEKLY_UNIT
    return long[list(READER_COLUMNS["fact"])].reset_index(drop=True)


def _without_na(cells: pd.Series) -> pd.Series:
    """Cells with ONS's 'na' (not available) blanked, so they are dropped."""
    return cells.where(~cells.astype(str).str.strip().str.casefold().isin(NOT_AVAILABLE))


def check_weekly_pay_vintage(raw: pd.DataFrame, release: Release) -> None:
    """Raise unless the sheet's boundary year is the release's geography vintage.

    Raises
    ------
    SheetFormatError
        The 'Geography:' line names another year.
    """
    vintage = weekly_pay_vintage(raw)
    if vintage != release.geography_vintage:
        raise SheetFormatError(
            f"The 'Weekly pay' sheet is on {vintage} boundaries but release {release.id} "
            f"says {release.geography_vintage}; correct the release's geography_vintage."
        )


def active_enterprise_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """Fact rows of the 'Active enterprises' sheet (ONS Business Demography).

    The period is the sheet's 'Date:' year and the boundary vintage its
    'Geography:' year, carried per row (they differ from the workbook's pay sheet).
    """
    row, col = find_header_row(raw, ("Area Code",))
    header = [str(v) for v in raw.iloc[row]]
    value_col = next((i for i, h in enumerate(header) if "active enterprises" in h.lower()),
                     None)
    if value_col is None:
        raise SheetFormatError("No 'active enterprises' column in the sheet's header row.")
    body = raw.iloc[row + 1:]
    codes = body.iloc[:, col].astype("string").str.strip()
    out = pd.DataFrame({"area_code": codes, "value": to_values(body.iloc[:, value_col])})
    out = out[out["area_code"].map(lambda c: isinstance(c, str) and is_area_code(c))]
    out = out.dropna(subset=["value"])
    return out.assign(measure=ACTIVE_ENTERPRISES, period=_labelled_year(raw, "Date:"),
                      unit="enterprises", geography_vintage=_labelled_year(raw, "Geography:"))


def read_subnational(release: Release, path: Path) -> pd.DataFrame:
    """Read the 'Weekly pay' sheet (boundary year checked against the release) and the
    'Active enterprises' sheet."""
    raw = read_sheet(path, "Weekly pay")
    check_weekly_pay_vintage(raw, release)
    pay = weekly_pay_rows(raw).assign(geography_vintage=release.geography_vintage)
    firms = active_enterprise_rows(read_sheet(path, "Active enterprises"))
    return pd.concat([pay, firms], ignore_index=True)


# ------------------------------------------------------------------- catalog

ACTIVE_ENTERPRISES = "business_active_enterprises"

MEASURES: tuple[Measure, ...] = (
    Measure(ACTIVE_ENTERPRISES, "enterprises", "count",
            "Active enterprises (ONS Business Demography; counts rounded to 5)"),
    Measure(ANNUAL, "£ per year", "median",
            "Median gross annual earnings of full-time employees, by place of residence "
            "(ASHE)"),
    Measure(HOUSE_PRICE, "£", "median",
            "Median price paid for residential property, year ending September (HPSSA)"),
    *(
        Measure(f"{base}{suffix}", WEEKLY_UNIT, "median", f"{label}{what}")
        for base, label in (
            (WEEKLY_RESIDENCE, "Gross median weekly pay, all employees, by place of "
                               "residence (ASHE)"),
            (WEEKLY_WORKPLACE, "Gross median weekly pay, all employees, by place of "
                               "work (ASHE)"),
        )
        for suffix, what in (("", ""), ("_ci_lower", ": lower bound of 95% CI"),
                             ("_ci_upper", ": upper bound of 95% CI"))
    ),
)

SOURCES: tuple[SimpleSource, ...] = (
    SimpleSource(
        name="earnings_affordability",
        table="fact",
        releases=(AFFORDABILITY_RELEASE,),
        reader=read_affordability,
        description="ASHE median full-time residence earnings and median house prices by "
                    "district, England and Wales, 2002-2022 (ONS affordability workbook).",
    ),
    SimpleSource(
        name="subnational_indicators",
        table="fact",
        releases=(SUBNATIONAL_RELEASE,),
        reader=read_subnational,
        description="ASHE 2023 gross median weekly pay and 2022 active enterprises by "
                    "district (ONS subnational indicators, March 2024).",
    ),
)
