"""Fixtures of the indicator reader tests: raw sheets from tiny CSVs, workbooks
built from them, and each family read once per session from the mirror."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from keycities.sources import age_structure, gva_industry, real_gdp, subnational
from keycities.sources._indicator import MirrorRead

RawSheet = Callable[[str], pd.DataFrame]
Workbook = Callable[[dict[str, pd.DataFrame]], Path]


@pytest.fixture
def raw_sheet(data_dir: Path) -> RawSheet:
    """A raw sheet (``header=None``, all text, blanks as '') from ``tests/data/<name>.csv``."""

    def load(name: str) -> pd.DataFrame:
        return pd.read_csv(data_dir / f"{name}.csv", header=None, dtype=str,
                           keep_default_na=False, encoding="utf-8-sig")

    return load


def _cell(text: str) -> str | float:
    """A CSV cell as a workbook would hold it: numbers as numbers."""
    try:
        return float(text)
    except ValueError:
        return text


@pytest.fixture
def workbook(tmp_path: Path) -> Workbook:
    """Writes raw sheets to ``book.xlsx`` (cells that read as numbers become numbers)."""

    def write(sheets: dict[str, pd.DataFrame]) -> Path:
        path = tmp_path / "book.xlsx"
        book = xlsxwriter.Workbook(str(path))
        for name, raw in sheets.items():
            sheet = book.add_worksheet(name)
            for r, row in enumerate(raw.itertuples(index=False)):
                for c, text in enumerate(row):
                    if text != "":
                        sheet.write(r, c, _cell(str(text)))
        book.close()
        return path

    return write


@pytest.fixture(scope="session")
def real_gdp_read(mirror: Path) -> MirrorRead:
    return real_gdp.read_real_gdp_mirror(mirror)


@pytest.fixture(scope="session")
def age_read(mirror: Path) -> MirrorRead:
    return age_structure.read_age_structure_mirror(mirror)


@pytest.fixture(scope="session")
def subnational_read(mirror: Path) -> MirrorRead:
    return subnational.read_subnational_mirror(mirror)


@pytest.fixture(scope="session")
def industry_read(mirror: Path) -> MirrorRead:
    return gva_industry.read_gva_industry_mirror(mirror)


OneValue = Callable[[MirrorRead, str, str, str, str], pd.Series]


@pytest.fixture(scope="session")
def one_value() -> OneValue:
    """Finds the one row of a mirror read for a release, indicator, area and period."""

    def find(read: MirrorRead, release_id: str, indicator: str, area: str,
             period: str) -> pd.Series:
        v = read.values
        hit = v[(v["release_id"] == release_id) & (v["indicator"] == indicator)
                & (v["area_code"] == area) & (v["period"] == period)]
        assert len(hit) == 1, (release_id, indicator, area, period, len(hit))
        return hit.iloc[0]

    return find
