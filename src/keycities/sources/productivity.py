"""ONS subregional labour productivity (June 2024 release).

Two sources, one workbook each:

``productivity_la``
    by local authority district (2023 boundaries) plus ``UKX`` (UK less
    Extra-Regio): smoothed GVA per filled job and per hour worked (£ and
    index UK=100), filled jobs and weekly hours worked.
``productivity_itl``
    the same for UKX, England, ITL1, ITL2 and ITL3, plus the unsmoothed
    current-price series (sheets A2, A4, B2, B4), loaded as measures with the
    suffix ``_unsmoothed``.  National and English-region ITL codes are stored
    as their GSS codes.  The chained-volume indices (A5, B5; 2019=100, not
    comparable across areas) are not loaded.

The ratios are published directly; numerators and denominators are not
declared because the published GVA(B) used is not in these files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from keycities.sources._sheets import ITL_TO_GSS, TableSpec, parse_table, read_tables
from keycities.sources.base import Release, SimpleSource
from keycities.sources.measures import Measure

READER_VERSION = "1"

LA_CODE_LABELS = ("LAD_Code",)
ITL_CODE_LABELS = ("ITL_code",)

_JOB = "£ per filled job"
_HOUR = "£ per hour"
_INDEX = "index, UK=100"

MEASURES: tuple[Measure, ...] = (
    Measure("gva_per_filled_job", _JOB, "ratio",
            "GVA(B) per filled job, current prices, smoothed"),
    Measure("gva_per_hour_worked", _HOUR, "ratio",
            "GVA(B) per hour worked, current prices, smoothed"),
    Measure("gva_per_filled_job_index", _INDEX, "index",
            "GVA(B) per filled job, current prices, smoothed, index UK less Extra-Regio=100"),
    Measure("gva_per_hour_worked_index", _INDEX, "index",
            "GVA(B) per hour worked, current prices, smoothed, index UK less Extra-Regio=100"),
    Measure("filled_jobs", "filled jobs", "count",
            "Filled jobs (workplace), constrained to ITL1, used for productivity"),
    Measure("hours_worked_weekly", "hours per week", "count",
            "Total average weekly hours worked, constrained to ITL1, used for productivity"),
    Measure("gva_per_filled_job_unsmoothed", _JOB, "ratio",
            "GVA(B) per filled job, current prices, unsmoothed"),
    Measure("gva_per_hour_worked_unsmoothed", _HOUR, "ratio",
            "GVA(B) per hour worked, current prices, unsmoothed"),
    Measure("gva_per_filled_job_index_unsmoothed", _INDEX, "index",
            "GVA(B) per filled job, current prices, unsmoothed, index UK less Extra-Regio=100"),
    Measure("gva_per_hour_worked_index_unsmoothed", _INDEX, "index",
            "GVA(B) per hour worked, current prices, unsmoothed, index UK less Extra-Regio=100"),
)

# Title fragments guard against ONS relettering sheets: "(smoothed)" does not
# occur in "(unsmoothed)" titles, so the two cannot be swapped silently.
SMOOTHED_TABLES: tuple[TableSpec, ...] = (
    TableSpec("B3", "gva_per_filled_job", _JOB, ("(smoothed)", "per filled job (£)")),
    TableSpec("A3", "gva_per_hour_worked", _HOUR, ("(smoothed)", "per hour worked (£)")),
    TableSpec("B1", "gva_per_filled_job_index", _INDEX,
              ("(smoothed)", "per filled job indices")),
    TableSpec("A1", "gva_per_hour_worked_index", _INDEX,
              ("(smoothed)", "per hour worked indices")),
    TableSpec("Productivity Jobs", "filled_jobs", "filled jobs", ("Productivity Jobs",)),
    TableSpec("Productivity Hours", "hours_worked_weekly", "hours per week",
              ("Hours Worked per Week",)),
)
UNSMOOTHED_TABLES: tuple[TableSpec, ...] = (
    TableSpec("B4", "gva_per_filled_job_unsmoothed", _JOB,
              ("(unsmoothed)", "per filled job (£)")),
    TableSpec("A4", "gva_per_hour_worked_unsmoothed", _HOUR,
              ("(unsmoothed)", "per hour worked (£)")),
    TableSpec("B2", "gva_per_filled_job_index_unsmoothed", _INDEX,
              ("(unsmoothed)", "per filled job indices")),
    TableSpec("A2", "gva_per_hour_worked_index_unsmoothed", _INDEX,
              ("(unsmoothed)", "per hour worked indices")),
)
LA_TABLES = SMOOTHED_TABLES
ITL_TABLES = SMOOTHED_TABLES + UNSMOOTHED_TABLES

_PUBLISHER = "Office for National Statistics"
_BASE = "/employmentandlabourmarket/peopleinwork/labourproductivity/datasets/"
_LA_DATASET = _BASE + "subregionalproductivitylabourproductivityindicesbylocalauthoritydistrict"
_ITL_DATASET = _BASE + (
    "subregionalproductivitylabourproductivitygvaperhourworkedandgvaperfilledjobindices"
    "byuknuts2andnuts3subregions"
)
_NOTES = (
    "Official Statistics in Development, based on GVA(B) at current prices. '£' and index "
    "series without '_unsmoothed' are smoothed (5-year weighted moving average) and differ "
    "from unsmoothed figures. Jobs and hours are constrained to ITL1 totals; 'filled jobs' "
    "is not the Nomis total jobs / jobs density series. One vintage only (June 2024 "
    "release, data to 2022); earlier vintages are not loaded. File URL inferred: the "
    "dataset's 'current' link, which ONS repoints at each new edition, so a download may "
    "fail the hash check; use the mirror or the dataset page's previous versions. "
)


def _release(id_: str, scope: str, dataset: str, filename: str, vintage: int,
             sha256: str, notes: str) -> Release:
    return Release(
        id=id_,
        publisher=_PUBLISHER,
        title=f"Subregional productivity: labour productivity indices by {scope}, June 2024",
        url=f"https://www.ons.gov.uk/file?uri={dataset}/current/{filename}",
        landing_page="https://www.ons.gov.uk" + dataset,
        published=dt.date(2024, 6, 17),
        reference_period="2002 to 2022 (per filled job, jobs); 2004 to 2022 (per hour, hours)",
        geography_vintage=vintage,
        sha256=sha256,
        mirror_path=f"ons_subregional_productivity/{filename}",
        notes=_NOTES + notes,
        downloadable=False,  # "current" moves to each new edition
    )


LA_RELEASES: tuple[Release, ...] = (
    _release(
        "ons-productivity-la-2024-06", "local authority district", _LA_DATASET,
        "labourproductivitylocalauthorities.xls", 2023,
        "1fa104417c674450509477aba9f9cc277ee23f8509cf8c9472d39c8547b27895",
        "361 districts on April-2023 boundaries (Cumberland E06000063 etc.; Barnsley and "
        "Sheffield under their pre-2024 codes E08000016, E08000019) plus UKX (UK less "
        "Extra-Regio), the base of the indices.",
    ),
)
ITL_RELEASES: tuple[Release, ...] = (
    _release(
        "ons-productivity-itl-2024-06", "ITL2 and ITL3 subregions", _ITL_DATASET,
        "labourproductivityitls.xls", 2021,
        "cd9c872e5100ff0bd6bf6f0a3d8fd2869ec44aa1962a9621f04746e23b3323ef",
        "Areas: UKX (UK less Extra-Regio), England (stored as E92000001), Wales, Scotland, "
        "Northern Ireland (W92000004, S92000003, N92000002), English ITL1 regions "
        "(E12000001-E12000009), ITL2/ITL3 as printed (ITL 2021). Northern Ireland ITL1/ITL2 "
        "hours exceed the sum of its ITL3 areas (hours not allocated to ITL3). Unsmoothed "
        "current-price series carry the suffix '_unsmoothed'; chained-volume indices (A5, B5) "
        "are not loaded.",
    ),
)


def parse_la_sheet(raw: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Fact rows of one raw district sheet (header row with ``LAD_Code``).

    Parameters
    ----------
    raw
        The sheet read with ``header=None``.
    spec
        Which measure the sheet holds; its title fragments are checked.
    """
    return parse_table(raw, spec, code_labels=LA_CODE_LABELS)


def parse_itl_sheet(raw: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Fact rows of one raw ITL sheet (header row with ``ITL_code``), GSS-recoded."""
    return parse_table(raw, spec, code_labels=ITL_CODE_LABELS, recode=ITL_TO_GSS)


def read_productivity_la(release: Release, path: Path) -> pd.DataFrame:
    """Read every district sheet of the workbook (``Source.read``)."""
    return read_tables(path, LA_TABLES, code_labels=LA_CODE_LABELS)


def read_productivity_itl(release: Release, path: Path) -> pd.DataFrame:
    """Read the smoothed and unsmoothed ITL sheets of the workbook (``Source.read``)."""
    return read_tables(path, ITL_TABLES, code_labels=ITL_CODE_LABELS, recode=ITL_TO_GSS)


SOURCES: tuple[SimpleSource, ...] = (
    SimpleSource(
        name="productivity_la",
        table="fact",
        releases=LA_RELEASES,
        reader=read_productivity_la,
        description="ONS subregional productivity and filled jobs by local authority district.",
    ),
    SimpleSource(
        name="productivity_itl",
        table="fact",
        releases=ITL_RELEASES,
        reader=read_productivity_itl,
        description="ONS subregional productivity and filled jobs for the UK, England and ITL "
        "regions.",
    ),
)
