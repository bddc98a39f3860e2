"""ONS regional gross domestic product and balanced GVA.

Two sources:

``gva_la``
    "Regional gross domestic product: local authorities", three editions.
    Table 1 (GVA(B) at current basic prices) and Table 5 (GDP at current
    market prices), one row per district; no national totals.
``gva_itl``
    "Regional gross domestic product: all ITL regions": UK, England, UK less
    Extra-Regio (UKX), Extra-Regio (TLZ), ITL1/2/3.  The April 2023 workbook
    (Tables 1, 5 and 6) and hand-exported CSVs of Tables 1 and 6 of the April
    2024 edition.  National and English-region ITL codes are stored as their
    GSS codes (see :data:`keycities.sources._sheets.ITL_TO_GSS`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pandas as pd

from keycities.sources._sheets import (
    ITL_TO_GSS,
    TableSpec,
    parse_table,
    read_sheet,
    read_tables,
)
from keycities.sources.base import Release, SimpleSource
from keycities.sources.measures import Measure

READER_VERSION = "1"

LA_CODE_LABELS = ("LA code",)
ITL_CODE_LABELS = ("ITL code",)
#: Extra-Regio: activity not attributable to any region (offshore, embassies).
EXTRA_REGIO = "TLZ"

MEASURES: tuple[Measure, ...] = (
    Measure("gva_current_prices", "£ million", "count",
            "Gross value added (balanced), current basic prices, workplace-based"),
    Measure("gdp_current_prices", "£ million", "count",
            "Gross domestic product, current market prices, workplace-based"),
    Measure("population_regional_accounts", "persons", "count",
            "Total resident population used for regional accounts per-head figures"),
)

GVA_TABLE = TableSpec("Table 1", "gva_current_prices", "£ million",
                      title=("Gross Value Added (Balanced)", "current basic prices"))
GDP_TABLE = TableSpec("Table 5", "gdp_current_prices", "£ million",
                      title=("Gross Domestic Product (GDP)", "current market prices"))
POPULATION_TABLE = TableSpec("Table 6", "population_regional_accounts", "persons",
                             title=("Total resident population",))
LA_TABLES: tuple[TableSpec, ...] = (GVA_TABLE, GDP_TABLE)
ITL_TABLES: tuple[TableSpec, ...] = (GVA_TABLE, GDP_TABLE, POPULATION_TABLE)

_PUBLISHER = "Office for National Statistics"
_LA_DATASET = (
    "/economy/grossdomesticproductgdp/datasets/regionalgrossdomesticproductlocalauthorities"
)
_ITL_DATASET = (
    "/economy/grossdomesticproductgdp/datasets/regionalgrossdomesticproductallnutslevelregions"
)
_LA_NOTES = (
    "Workplace-based. GDP = GVA + taxes on products - subsidies. Each edition revises earlier "
    "years (new methods, population rebasing): use the edition that matches the claim being "
    "checked. District tables carry no UK or regional totals; the sum of districts equals UK "
    "less Extra-Regio (UKX in gva_itl), not the UK total. "
)
_INFERRED = "File URL inferred from ONS's usual pattern (SOURCE.md gives the dataset page). "


def _la_release(id_: str, edition: str, published: dt.date, vintage: int,
                folder: str, filename: str, sha256: str, notes: str) -> Release:
    first, last = edition.split("to")
    return Release(
        id=id_,
        publisher=_PUBLISHER,
        title=f"Regional gross domestic product: local authorities, {first} to {last}",
        url=f"https://www.ons.gov.uk/file?uri={_LA_DATASET}/{edition}/"
        "regionalgrossdomesticproductgdplocalauthorities.xlsx",
        landing_page="https://www.ons.gov.uk" + _LA_DATASET,
        published=published,
        reference_period=f"{first} to {last}",
        geography_vintage=vintage,
        sha256=sha256,
        mirror_path=f"ons_regional_gdp_gva_local_authorities/{folder}/{filename}",
        notes=_LA_NOTES + notes,
    )


LA_RELEASES: tuple[Release, ...] = (
    _la_release(
        "ons-gva-la-2019-12", "1998to2018", dt.date(2019, 12, 19), 2019,
        "release_2019-12-19_1998to2018", "regionalgrossdomesticproductgdplocalauthorities.xlsx",
        "f015856ef8394f0fddec0068db486bc225319bf130fe6a34a700002a4c2453cb",
        "382 districts on April-2019 codes (before the Buckinghamshire and Northamptonshire "
        "mergers), grouped by NUTS1 region. 2018 is provisional.",
    ),
    _la_release(
        "ons-gva-la-2022-05", "1998to2020", dt.date(2022, 5, 30), 2021,
        "release_2022-05-30_1998to2020", "regionalgrossdomesticproductgdplocalauthorities.xlsx",
        "a3b4e2ed8e2b69a7ed48c2c7dfc82c488b3f4078b9616c3dd0e6e420190f1b67",
        "374 districts on 2021 codes. " + _INFERRED,
    ),
    _la_release(
        "ons-gva-la-2023-04", "1998to2021", dt.date(2023, 4, 25), 2021,
        "release_2023-04-25_1998to2021",
        "regionalgrossdomesticproductgdplocalauthorities1998to2021edition.xlsx",
        "61343303bdd54eb5839ddbea533a6ed009c6b22701639c2efedb6bfdb5c96301",
        "374 districts on 2021 codes. " + _INFERRED + "The mirror copy's name carries a "
        "'1998to2021edition' suffix added by the repository it came from; the ONS file name "
        "is assumed to be the standard one.",
    ),
)

_ITL_NOTES = (
    "Rows: UK (stored as K02000001), England (E92000001), Wales, Scotland, Northern Ireland "
    "(W92000004, S92000003, N92000002), English ITL1 regions (E12000001-E12000009), other "
    "ITL2/ITL3 codes as printed (ITL 2021), UKX = UK less Extra-Regio, TLZ = Extra-Regio "
    "(GVA not attributable to a region). The Extra-Regio population row (0 by definition) "
    "is not loaded. "
)
_ITL_2024_URL = (
    f"https://www.ons.gov.uk/file?uri={_ITL_DATASET}/1998to2022/"
    "regionalgrossdomesticproductgdpbyallitlregions.xlsx"
)
_ITL_2024_NOTES = (
    _ITL_NOTES + "mirror-only copy; the official download is an xlsx with a different hash. "
    "This CSV is a third-party hand export of one table of the official April 2024 workbook "
    "(1998 to 2022 edition); the URL is that workbook's (inferred). Publication day inferred "
    "(April 2024 edition). "
)


def _itl_2024_release(id_: str, table: str, filename: str, sha256: str, extra: str) -> Release:
    return Release(
        id=id_,
        publisher=_PUBLISHER,
        title=f"Regional gross domestic product: all ITL regions, 1998 to 2022, {table} "
        "(CSV export)",
        url=_ITL_2024_URL,
        landing_page="https://www.ons.gov.uk" + _ITL_DATASET,
        published=dt.date(2024, 4, 24),
        reference_period="1998 to 2022",
        geography_vintage=2021,
        sha256=sha256,
        mirror_path="ons_regional_gdp_gva_itl/release_2024-04_1998to2022_csv_by_repo_owner/"
        + filename,
        notes=_ITL_2024_NOTES + extra,
        downloadable=False,  # the official download is the xlsx, not this CSV export
    )


ITL_RELEASES: tuple[Release, ...] = (
    Release(
        id="ons-gva-itl-2023-04",
        publisher=_PUBLISHER,
        title="Regional gross domestic product: all ITL regions, 1998 to 2021",
        url=f"https://www.ons.gov.uk/file?uri={_ITL_DATASET}/1998to2021/"
        "regionalgrossdomesticproductgdpallitlregions.xlsx",
        landing_page="https://www.ons.gov.uk" + _ITL_DATASET,
        published=dt.date(2023, 4, 25),
        reference_period="1998 to 2021",
        geography_vintage=2021,
        sha256="3f6916ca98bfc535cd5684684ded85bec6f6a21772d1db3db136b3a053c914f4",
        mirror_path="ons_regional_gdp_gva_itl/release_2023-04-25_1998to2021/"
        "regionalgrossdomesticproductgdpallitlregions.xlsx",
        notes=_ITL_NOTES + _INFERRED,
    ),
    _itl_2024_release(
        "ons-gva-itl-2024-04-table1-csv", "Table 1 (GVA)",
        "Table_1_GVA_balanced_at_current_basic_prices_millions_Apr2024.csv",
        "d47c209ed0e3daa398060fb86a9198b2e0047be74e5ec62d91e3d9727846a49f", "",
    ),
    _itl_2024_release(
        "ons-gva-itl-2024-04-table6-csv", "Table 6 (population)",
        "Table_6_Total_resident_population_numbers_persons_Apr2024.csv",
        "621e5e805d5f6c71ec15c6df08b58a2a7924a26249d53f99b74f64bcc4bd032f",
        "2022 population of eight Scottish ITL2/ITL3 areas is published as '[u]' (low "
        "reliability) without a figure and is not loaded.",
    ),
)

#: The one table each CSV export holds (exports have no title row to check).
CSV_TABLES: dict[str, TableSpec] = {
    "ons-gva-itl-2024-04-table1-csv": replace(GVA_TABLE, title=()),
    "ons-gva-itl-2024-04-table6-csv": replace(POPULATION_TABLE, title=()),
}


def parse_la_table(raw: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Fact rows of one raw local-authority table (header row with ``LA code``).

    Parameters
    ----------
    raw
        The sheet read with ``header=None``.
    spec
        Which measure the sheet holds; its title fragments are checked.
    """
    return parse_table(raw, spec, code_labels=LA_CODE_LABELS)


def parse_itl_table(raw: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Fact rows of one raw all-ITL table (header row with ``ITL code``).

    National and English-region ITL codes become GSS codes.  The Extra-Regio
    population row is dropped: it is 0 by definition and would only feed
    divisions by zero.
    """
    rows = parse_table(raw, spec, code_labels=ITL_CODE_LABELS, recode=ITL_TO_GSS)
    if spec.measure == POPULATION_TABLE.measure:
        rows = rows[rows["area_code"] != EXTRA_REGIO].reset_index(drop=True)
    return rows


def read_gva_la(release: Release, path: Path) -> pd.DataFrame:
    """Read Tables 1 and 5 of a local-authority workbook (``Source.read``)."""
    return read_tables(path, LA_TABLES, code_labels=LA_CODE_LABELS)


def read_gva_itl(release: Release, path: Path) -> pd.DataFrame:
    """Read the all-ITL workbook, or one of its CSV exports (``Source.read``)."""
    if release.id in CSV_TABLES:
        # Everything as text so thousands separators and '[u]' reach the parser intact.
        raw = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)
        return parse_itl_table(raw, CSV_TABLES[release.id])
    frames = [parse_itl_table(read_sheet(path, spec.sheet), spec) for spec in ITL_TABLES]
    return pd.concat(frames, ignore_index=True)


SOURCES: tuple[SimpleSource, ...] = (
    SimpleSource(
        name="gva_la",
        table="fact",
        releases=LA_RELEASES,
        reader=read_gva_la,
        description="ONS regional GVA(B) and GDP by local authority district.",
    ),
    SimpleSource(
        name="gva_itl",
        table="fact",
        releases=ITL_RELEASES,
        reader=read_gva_itl,
        description="ONS regional GVA(B), GDP and population for the UK, countries and ITL "
        "regions.",
    ),
)
