"""Which slice of the fact table a figure uses."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import pytest

from keycities.sources.base import Release
from keycities.store.queries import NoDataError, choose_slice
from keycities.store.store import Store


def rel(rid: str, published: dt.date) -> Release:
    return Release(id=rid, publisher="ONS", title=rid, url="https://example.org/x",
                   published=published, reference_period="x", geography_vintage=2021,
                   sha256=hashlib.sha256(rid.encode()).hexdigest(), mirror_path=rid)


def facts(vintages: list[int], period: int = 2019, code: str = "E08000024") -> pd.DataFrame:
    return pd.DataFrame({"area_code": code, "measure": "m", "period": period, "value": 1.0,
                         "unit": "u", "geography_vintage": vintages})


@pytest.fixture
def store() -> Store:
    s = Store(":memory:")
    s.load_release(rel("old", dt.date(2020, 1, 1)), source="t", table="fact",
                   rows=facts([2019]), reader_version="1")
    s.load_release(rel("new", dt.date(2022, 1, 1)), source="t", table="fact",
                   rows=facts([2016, 2019, 2021]), reader_version="1")
    s.load_release(rel("regions", dt.date(2024, 1, 1)), source="t", table="fact",
                   rows=facts([2021], code="E12000001"), reader_version="1")
    return s


def test_newest_release_with_local_authorities_wins(store: Store) -> None:
    s = choose_slice(store, "m", period=2019, prefer_vintage=2019)
    assert (s.release_id, s.geography_vintage) == ("new", 2019)


@pytest.mark.parametrize(("prefer", "expected"), [(2021, 2021), (2020, 2019), (2018, 2016),
                                                  (2025, 2021), (2015, 2016)])
def test_vintage_preference(store: Store, prefer: int, expected: int) -> None:
    # the preferred vintage; else the latest before it (exact forward mapping);
    # else the earliest after it
    assert choose_slice(store, "m", period=2019, prefer_vintage=prefer).geography_vintage \
        == expected


def test_no_data_names_the_years_there_are(store: Store) -> None:
    with pytest.raises(NoDataError, match="Years with local-authority values in the store: "
                                          "2019–2019") as info:
        choose_slice(store, "m", period=2022, prefer_vintage=2021)
    assert info.value.measure_loaded
