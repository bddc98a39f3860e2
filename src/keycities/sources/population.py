"""ONS mid-year population estimates (sheet MYE4 of the UK workbooks).

MYE4 is the all-ages summary: one row per area at every geography level
(UK, GB, England and Wales, countries, English regions, counties and local
authority districts), one column per mid-year.  All levels are kept because
the national and regional rows are the denominators of shares.

Each workbook is one release.  They overlap (mid-2001 and mid-2011 appear in
several); the store picks the latest release for a period.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from keycities.sources._sheets import TableSpec, parse_table, read_sheet
from keycities.sources.base import Release, SimpleSource
from keycities.sources.measures import Measure

READER_VERSION = "1"

CODE_LABELS = ("Code",)
TABLE = TableSpec("MYE4", "population", "persons", title=("Population estimates", "Summary"))

MEASURES: tuple[Measure, ...] = (
    Measure("population", "persons", "count", "Usual resident population, all ages (mid-year)"),
)

_DATASET = (
    "/peoplepopulationandcommunity/populationandmigration/populationestimates/datasets/"
    "populationestimatesforukenglandandwalesscotlandandnorthernireland"
)
_LANDING = "https://www.ons.gov.uk" + _DATASET
_FILE = "https://www.ons.gov.uk/file?uri=" + _DATASET
_PUBLISHER = "Office for National Statistics"
_SCOPE = (
    "Scotland figures from National Records of Scotland and Northern Ireland figures from "
    "NISRA, compiled by ONS. "
)
_PRE_CENSUS = (
    "Mid-2002 to mid-2020 are the pre-Census-2021 series rolled forward from 2011; ONS later "
    "revised England and Wales mid-2012 to mid-2020 (Nov 2023), and that revision is not "
    "loaded. Mid-2021 onwards are Census-2021-based, so there is a break between mid-2020 "
    "and mid-2021 (e.g. Coventry 379,387 -> 343,320). "
)

RELEASES: tuple[Release, ...] = (
    Release(
        id="ons-mye-mid2020-lad2021",
        publisher=_PUBLISHER,
        title="Population estimates for the UK, England and Wales, Scotland and Northern "
        "Ireland: mid-2020 (2021 geography), table MYE4",
        url=f"{_FILE}/mid2020/ukpopestimatesmid2020on2021geography.xls",
        landing_page=_LANDING,
        published=dt.date(2021, 6, 25),
        reference_period="mid-2001 to mid-2020",
        geography_vintage=2021,
        sha256="2827a9fe5a90040896f9a3cc814aa4b25f9444a1205912c645d78dc32beba61b",
        mirror_path="ons_mid_year_population_estimates/ukpopestimatesmid2020on2021geography.xls",
        notes=_SCOPE + _PRE_CENSUS + "All years are re-cast onto April-2021 LAD boundaries "
        "(BCP, Buckinghamshire, North/West Northamptonshire appear for every year). This copy "
        "is the February 2022 republication with uncertainty measures added; first published "
        "25 June 2021.",
    ),
    Release(
        id="ons-mye-mid2021-lad2021",
        publisher=_PUBLISHER,
        title="Population estimates for the UK, England and Wales, Scotland and Northern "
        "Ireland: mid-2021 (2021 geography), table MYE4",
        url=f"{_FILE}/mid2021/ukpopestimatesmid2021on2021geographyfinal.xls",
        landing_page=_LANDING,
        published=dt.date(2022, 12, 21),
        reference_period="mid-2001, mid-2011 and mid-2021",
        geography_vintage=2021,
        sha256="649d1d0a97fea3674347cc0adcbff5d2bd4c7337cf986e7490e41bf2d466866d",
        mirror_path=(
            "ons_mid_year_population_estimates/ukpopestimatesmid2021on2021geographyfinal.xls"
        ),
        notes=_SCOPE + "Mid-2021 is Census-2021-based and breaks with the pre-Census "
        "mid-2020 series of ons-mye-mid2020-lad2021 (e.g. Coventry 379,387 -> 343,320). File "
        "URL inferred from the dataset page's usual pattern (the mirror's SOURCE.md gives "
        "only the dataset page).",
    ),
    Release(
        id="ons-mye-mid2022-lad2023",
        publisher=_PUBLISHER,
        title="Mid-Year Population Estimates, UK, June 2022 (2023 geography), table MYE4",
        url=f"{_FILE}/mid2022/mye22final.xlsx",
        landing_page=_LANDING,
        published=dt.date(2024, 3, 26),
        reference_period="mid-2011 and mid-2022",
        geography_vintage=2023,
        sha256="408981f1aadd9d53f7cab738b0d67c896be33333e7e824a0f5e355a163d7ac64",
        mirror_path="ons_mid_year_population_estimates/mye22final.xlsx",
        notes=_SCOPE + "On April-2023 LAD boundaries (361 districts, incl. Cumberland "
        "E06000063, North Yorkshire E06000065, Somerset E06000066); mid-2011 is re-cast onto "
        "them. Census-2021-based; not comparable with the pre-Census mid-2020 series. File URL "
        "inferred from the dataset page's usual pattern.",
    ),
)


def parse_mye4(raw: pd.DataFrame) -> pd.DataFrame:
    """Tidy fact rows from a raw MYE4 sheet.

    Parameters
    ----------
    raw
        The sheet read with ``header=None``: title rows, a header row whose
        first cell is ``Code`` (then ``Name``, ``Geography`` and ``Mid-YYYY``
        columns), area rows and notes.

    Returns
    -------
    pandas.DataFrame
        area_code, measure (``population``), period (the mid-year), value
        (persons), unit; rows of every geography level with a GSS code.
    """
    return parse_table(raw, TABLE, code_labels=CODE_LABELS)


def read_population(release: Release, path: Path) -> pd.DataFrame:
    """Read sheet MYE4 of a mid-year estimates workbook (``Source.read``)."""
    return parse_mye4(read_sheet(path, TABLE.sheet))


SOURCES: tuple[SimpleSource, ...] = (
    SimpleSource(
        name="population",
        table="fact",
        releases=RELEASES,
        reader=read_population,
        description="ONS mid-year population estimates, all ages, every UK geography level.",
    ),
)
