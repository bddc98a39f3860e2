"""The tiny world of ``tests/data/indicators``: districts A and B merge into C in 2019,
D is recoded E in 2018, F is unchanged and W is Welsh; a rate with intervals, a
population count and a median score over five years, and a library with one entry
per combination rule."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from keycities.analysis.indicators.counts import Counts
from keycities.analysis.indicators.library import Library, read_library
from keycities.analysis.indicators.vintage import Boundaries
from keycities.geography.areas import AREA_COLUMNS, lad_table
from keycities.geography.mapping import crosswalk

HERE = Path(__file__).parents[2] / "data" / "indicators"
A, B, C, D, E, F, W = ("E07000001", "E07000002", "E06000003", "E07000004", "E07000005",
                       "E07000006", "W06000001")
ENGLAND = "E92000001"


@pytest.fixture(scope="session")
def library() -> Library:
    return read_library(HERE / "library.yaml")


@pytest.fixture(scope="session")
def values() -> pd.DataFrame:
    """Every row of values.csv, as the store's series query returns them."""
    df = pd.read_csv(HERE / "values.csv", comment="#", dtype={"area_code": str})
    return df.assign(geography_vintage=df["geography_vintage"].astype("Int32"),
                     status=None, note=None)


@pytest.fixture(scope="session")
def boundaries() -> Boundaries:
    lads = pd.read_csv(HERE / "lads.csv", comment="#", dtype={"code": str})
    lads = lad_table(lads.assign(name=lads["code"]).reindex(columns=list(AREA_COLUMNS)))
    changes = pd.read_csv(HERE / "changes.csv")
    changes = changes.assign(old_name=changes["old_code"], new_name=changes["new_code"])
    return Boundaries(lambda s, t: crosswalk(lads, changes, source=s, target=t))


def rows_of(values: pd.DataFrame, indicator: str) -> pd.DataFrame:
    return values[values["indicator"] == indicator].reset_index(drop=True)


@pytest.fixture
def counts(values: pd.DataFrame, boundaries: Boundaries) -> Counts:
    """The population count behind the rate and the mean."""
    lads = rows_of(values, "pop")
    return Counts({"pop": lads[lads["area_code"] != ENGLAND]}, boundaries)


@pytest.fixture(scope="session")
def lads2020() -> pd.DataFrame:
    """The districts of 2020 with names and regions, as the view takes them."""
    return pd.DataFrame({"code": [C, E, F, W], "name": ["Cee", "Ee", "Eff", "Wye"],
                         "region_code": ["E12000001"] * 3 + [None],
                         "region_name": ["North East"] * 3 + [None]})
