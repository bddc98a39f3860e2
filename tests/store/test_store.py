"""The store: transactional loads, provenance, idempotent reloads."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import pytest

from keycities.errors import KeycitiesError, StoreNotBuiltError
from keycities.sources._base import Release
from keycities.store.store import Store


def rel(rid: str = "r1", vintage: int | None = 2021) -> Release:
    return Release(id=rid, publisher="ONS", title="T", url="https://example.org/x",
                   published=dt.date(2023, 4, 25), reference_period="2021",
                   geography_vintage=vintage, sha256=hashlib.sha256(rid.encode()).hexdigest(),
                   mirror_path=f"{rid}.csv")


def facts(n: int = 2) -> pd.DataFrame:
    return pd.DataFrame({"area_code": [f"E0800002{i}" for i in range(n)],
                         "measure": "population", "period": 2021,
                         "value": [float(i) for i in range(n)], "unit": "persons"})


def test_load_release_adds_release_id_and_vintage() -> None:
    with Store(":memory:") as s:
        assert s.load_release(rel(), source="t", table="fact", rows=facts(),
                              reader_version="1") == 2
        df = s.table("fact")
        assert set(df["release_id"]) == {"r1"} and set(df["geography_vintage"]) == {2021}
        prov = s.loaded_releases()
        assert prov.loc[0, "id"] == "r1" and prov.loc[0, "row_count"] == 2


def test_reload_replaces_not_duplicates() -> None:
    with Store(":memory:") as s:
        s.load_release(rel(), source="t", table="fact", rows=facts(3), reader_version="1")
        s.load_release(rel(), source="t", table="fact", rows=facts(2), reader_version="1")
        assert len(s.table("fact")) == 2
        assert len(s.loaded_releases()) == 1


def test_failed_load_leaves_store_unchanged() -> None:
    with Store(":memory:") as s:
        s.load_release(rel(), source="t", table="fact", rows=facts(3), reader_version="1")
        bad = facts(2).assign(value=["x", "y"])
        with pytest.raises(ValueError):
            s.load_release(rel(), source="t", table="fact", rows=bad, reader_version="1")
        assert len(s.table("fact")) == 3


def test_reader_columns_are_checked() -> None:
    with Store(":memory:") as s, pytest.raises(KeycitiesError, match="lacks columns"):
        s.load_release(rel(), source="t", table="fact", rows=facts().drop(columns="unit"),
                       reader_version="1")


def test_per_row_vintage_wins_over_release() -> None:
    with Store(":memory:") as s:
        rows = facts(2).assign(geography_vintage=[2016, 2019])
        s.load_release(rel(vintage=2021), source="t", table="fact", rows=rows,
                       reader_version="1")
        assert sorted(s.table("fact")["geography_vintage"]) == [2016, 2019]


def test_read_only_store_that_does_not_exist(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StoreNotBuiltError, match="keycities build"):
        Store(tmp_path / "none.duckdb", read_only=True).connect()


def test_store_survives_reopen(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "k.duckdb"
    with Store(path) as s:
        s.load_release(rel(), source="t", table="fact", rows=facts(), reader_version="1")
    with Store(path, read_only=True) as s:
        assert len(s.table("fact")) == 2


def test_store_path_problems_are_readable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KeycitiesError, match="is a directory"):
        Store(tmp_path).connect()
    bad = tmp_path / "not.duckdb"
    bad.write_text("not a database")
    with pytest.raises(KeycitiesError, match="Is it a keycities store"):
        Store(bad).connect()
